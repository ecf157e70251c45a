"""The training process: ``python -m wachat_tui.train --project-dir DIR [options]``.

stdout carries JSON-lines events only (see ``events.py``); everything else — library
warnings, progress bars, tracebacks — goes to stderr. Every event is also appended to
``<project>/runs/<run_id>/events.jsonl``. SIGINT/SIGTERM stop at the end of the current step,
write a checkpoint and the adapter, emit ``failed`` with error "cancelled" and exit 130.

Exit codes: 0 finished, 1 failed, 2 invalid options, 130 cancelled.

Multi-GPU: the same entry point runs under accelerate, e.g.
``accelerate launch --num_processes 4 -m wachat_tui.train --project-dir DIR --lora``
(DDP; FSDP/DeepSpeed through ``accelerate config``). Only rank 0 prints events and writes
run files; QLoRA places each rank's 4-bit model on its own GPU (LOCAL_RANK).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import traceback

QUIET_ENV = {
    "TQDM_DISABLE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "warning",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONWARNINGS": "ignore",
    # Idle OpenMP threads sleep instead of spinning: on a busy machine (or a laptop doing other
    # things) spinning threads slow training down several times.
    "OMP_WAIT_POLICY": "PASSIVE",
}


def build_parser() -> argparse.ArgumentParser:
    from .flags import add_config_arguments

    p = argparse.ArgumentParser(prog="python -m wachat_tui.train",
                                description="Fine-tune a LoRA adapter on a wachat project (JSON events on stdout).")
    p.add_argument("--project-dir", required=True, help="the project folder (with project.json and dataset/)")
    p.add_argument("--run-id", help="name of the new run (default: a timestamp)")
    p.add_argument("--resume", nargs="?", const="latest", default=None, metavar="RUN",
                   help="continue RUN (default: the latest run) from its last checkpoint")
    p.add_argument("--config-json", help="a full TrainConfig as JSON (used by the app and `wachat train`); "
                                         "options given as well override it")
    add_config_arguments(p)
    return p


def main(argv: list[str] | None = None) -> int:
    from ..privacy import disable_telemetry

    for k, v in QUIET_ENV.items():
        os.environ.setdefault(k, v)
    disable_telemetry()  # also when started directly (accelerate launch), not through wachat
    # Events get the real stdout; fd 1 is pointed at stderr so that nothing a library prints
    # (even from C) can corrupt the event stream.
    event_stream = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        return _main(argv, event_stream)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        from ..events import Failed, emit

        emit(Failed(error="cancelled", hint=""), event_stream)
        return 130
    except BaseException as exc:  # the worker boundary: whatever went wrong, the reader gets a `failed` event
        traceback.print_exc(file=sys.stderr)
        from ..events import Failed, emit

        emit(Failed(error=f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
                    hint="see the training log (stderr) for the traceback"), event_stream)
        return 1


def _main(argv, event_stream) -> int:
    args = build_parser().parse_args(argv)

    cancel = threading.Event()
    state = {"interruptible": True}

    def on_signal(signum, frame):
        already = cancel.is_set()
        cancel.set()
        print(f"wachat-train: received signal {signum}; saving and stopping", file=sys.stderr, flush=True)
        if already or state["interruptible"]:
            # before training starts (or on a second signal) stop right away
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    from pathlib import Path

    from ..core.layout import ProjectFiles
    from ..errors import WachatError
    from ..events import Failed, emit
    from .config import ConfigError, TrainConfig, detect_device
    from .flags import config_overrides

    def fail(error: str, hint: str = "", code: int = 1) -> int:
        emit(Failed(error=error, hint=hint), event_stream)
        return code

    project = ProjectFiles(Path(args.project_dir).expanduser())
    if not project.is_project():
        return fail(f"{project.dir} is not a wachat project (no project.json)",
                    "create one with `wachat import EXPORT --me NAME`", 2)
    overrides = config_overrides(args)
    try:
        if args.config_json:
            config = TrainConfig.from_dict(json.loads(args.config_json)).with_overrides(**overrides)
        else:
            config = TrainConfig.for_device(overrides.pop("device", None), **overrides)
        if config.device is None:
            config.device = detect_device()
        config.validate()
    except ConfigError as exc:
        return fail(exc.message, exc.hint or "", 2)
    except (TypeError, ValueError) as exc:
        return fail(f"invalid training configuration: {exc}", "", 2)

    run_id = args.run_id
    resume = args.resume is not None
    if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1 and not (run_id or resume):
        return fail("a distributed run needs --run-id NAME (every process must use the same run folder)",
                    "add --run-id, e.g. --run-id multi-gpu-1", 2)
    if run_id and not resume:
        import re

        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", run_id):
            return fail(f"invalid run id {run_id!r}", "use letters, digits, '.', '_' or '-'", 2)
    if resume:
        from ..core.layout import find_run

        try:
            run_id = find_run(project, None if args.resume == "latest" else args.resume).run_id
        except WachatError as exc:
            return fail(exc.message, exc.hint or "", 2)

    import logging

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_warning()
    hf_logging.disable_progress_bar()

    from ..core.layout import new_run_id
    from ..core.lock import ProjectBusy, project_lock
    from ..events import Emitter
    from .job import TrainingJob, is_main_process

    run_id = run_id or new_run_id(project)
    emitter = Emitter(event_stream, enabled=is_main_process())
    job = TrainingJob(project.dir, config, emitter, cancel, run_id=run_id, resume=resume)

    def track(event):
        # from `started` on, the training loop polls the flag and stops at a step boundary
        if event.name == "started":
            state["interruptible"] = False

    emitter.listeners.append(track)
    with contextlib.ExitStack() as held:
        if is_main_process():  # one run of a project at a time; the OS frees the lock however we end
            try:
                held.enter_context(project_lock(project, f"training run {run_id}", kind="training",
                                                run_id=run_id))
            except ProjectBusy as exc:
                return fail(exc.message, exc.hint or "", exc.exit_code)
        try:
            return job.run()
        except KeyboardInterrupt:
            return job.cancelled() if job.progress is not None else fail("cancelled", "", 130)
        except WachatError as exc:
            return job.failed(exc.message, exc.hint or "")
        except Exception as exc:  # the worker boundary: a bug still ends as a `failed` event (and in run.json),
            traceback.print_exc(file=sys.stderr)  # with its traceback in the training log
            msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
            return job.failed(msg, "see the training log (stderr) for the traceback")


if __name__ == "__main__":
    from ..paths import use_private_umask

    use_private_umask()
    code = main()
    sys.stderr.flush()
    sys.exit(code)
