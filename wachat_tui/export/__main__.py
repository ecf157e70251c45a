"""The export worker: ``python -m wachat_tui.export --project-dir DIR [--run R] [--quant Q] [--out FILE]``.

stdout carries only JSON-lines events (stage/verified/log/finished/failed); library chatter
goes to stderr. SIGINT/SIGTERM stop it cleanly: temp files are removed, a ``failed`` event
with error ``cancelled`` is printed, and nothing is left at the output path.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from ..errors import WachatError
from ..events import Failed, Finished, emit
from .config import QUANTS, ExportConfig


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m wachat_tui.export", description=__doc__.splitlines()[0])
    p.add_argument("--project-dir", required=True, type=Path)
    p.add_argument("--run", dest="run_id", default=None)
    p.add_argument("--quant", default="q8_0", choices=QUANTS)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--lora-gguf", action="store_true")
    p.add_argument("--threads", type=int, default=None)
    return p


def _sigterm(signum, frame):  # treat like Ctrl-C so the same cleanup runs
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from ..privacy import disable_telemetry

    disable_telemetry()  # also when started directly, not through wachat
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    # Keep stdout for events only: some libraries print progress there.
    events_out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    sys.stdout = sys.stderr
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    def send(event) -> None:
        emit(event, events_out)

    t0 = time.perf_counter()
    try:
        from ..core.lock import project_lock
        from .pipeline import export_model

        config = ExportConfig(quant=args.quant, run_id=args.run_id, out=args.out,
                              lora_gguf=args.lora_gguf, threads=args.threads)
        # one export of a project at a time (a second one is refused with who runs it)
        with project_lock(args.project_dir, f"exporting run {args.run_id or '(newest finished)'}",
                          kind="export"):
            path, metrics = export_model(args.project_dir, config, emit=send)
        send(Finished(path=str(path), metrics=metrics))
        return 0
    except WachatError as exc:
        send(Failed(error=exc.message, hint=exc.hint or ""))
        return 2
    except KeyboardInterrupt:
        send(Failed(error="cancelled", hint="export stopped; nothing was written"))
        return 130
    except MemoryError:
        send(Failed(error="out of memory while exporting", hint="close other programs and try again"))
        return 1
    except Exception as exc:  # worker boundary: any other failure must still end in a `failed` event
        # (one line for the user; the traceback goes to stderr, i.e. the export log)
        traceback.print_exc(file=sys.stderr)
        send(Failed(error=f"internal error: {type(exc).__name__}: {exc}".splitlines()[0][:300],
                    hint=f"after {time.perf_counter() - t0:.0f} s; see the export log"))
        return 1
    finally:
        try:
            events_out.flush()
        except OSError:
            pass


if __name__ == "__main__":
    from ..paths import use_private_umask

    use_private_umask()
    sys.exit(main())
