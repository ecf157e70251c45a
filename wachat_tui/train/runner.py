"""Front-end API for training: start the worker process, list runs, replay a run's events.

Light imports only (no torch): the TUI and the CLI call this directly.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import WachatError
from ..process import EventProcess
from .config import TrainConfig
from ..events import Event, parse_event

MODULE = "wachat_tui.train"


def new_run_id(runs_dir: Path) -> str:
    """A fresh run id: the local time, with a suffix if that second is taken."""
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_id, n = stamp, 2
    while (Path(runs_dir) / run_id).exists():
        run_id, n = f"{stamp}-{n}", n + 1
    return run_id


def pid_alive(pid: int) -> bool:
    import os

    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RunInfo:
    """One training run of a project, as listed in the app and by ``wachat train P --list``."""

    run_id: str
    status: str                 # running | finished | failed | cancelled
    created: str
    best_eval_loss: float | None
    path: Path                  # the run directory
    base_model: str = ""
    mode: str = ""
    step: int = 0
    max_steps: int = 0
    base_eval_loss: float | None = None

    @property
    def adapter(self) -> Path:
        return self.path / "adapter"

    @property
    def has_checkpoint(self) -> bool:
        ck = self.path / "checkpoints"
        return ck.is_dir() and any((p / "trainer_state.json").exists() for p in ck.glob("checkpoint-*"))


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def list_runs(project_dir: Path) -> list[RunInfo]:
    """The project's runs, oldest first (run ids are timestamps)."""
    runs_dir = Path(project_dir) / "runs"
    if not runs_dir.is_dir():
        return []
    out = []
    for d in sorted(runs_dir.iterdir()):
        if not d.is_dir() or d.name.startswith("."):
            continue
        rec = _read_json(d / "run.json")
        if rec is None:
            continue
        out.append(RunInfo(
            run_id=rec.get("run_id", d.name), status=rec.get("status", "unknown"),
            created=rec.get("created", ""), best_eval_loss=rec.get("best_eval_loss"), path=d,
            base_model=rec.get("base_model", ""), mode=rec.get("mode", ""), step=rec.get("step") or 0,
            max_steps=rec.get("max_steps") or 0, base_eval_loss=rec.get("base_eval_loss"),
        ))
    out.sort(key=lambda r: (r.created, r.run_id))
    return out


def find_run(project_dir: Path, run_id: str | None = None, *, need_adapter: bool = False) -> RunInfo:
    """A run by id (or unique prefix); None = the latest one (with an adapter when asked)."""
    runs = list_runs(project_dir)
    if need_adapter:
        runs = [r for r in runs if r.adapter.exists()]
    if not runs:
        what = "trained adapter" if need_adapter else "training run"
        raise WachatError(f"this project has no {what} yet", "train one with `wachat train PROJECT`")
    if run_id is None:
        return runs[-1]
    exact = [r for r in runs if r.run_id == run_id]
    if exact:
        return exact[0]
    prefixed = [r for r in runs if r.run_id.startswith(run_id)]
    if len(prefixed) == 1:
        return prefixed[0]
    names = ", ".join(r.run_id for r in runs[-5:])
    raise WachatError(f"no run {run_id!r} in this project", f"known runs: {names}")


def load_run_events(run_dir: Path) -> list[Event]:
    """All events a run recorded in events.jsonl (resumed runs included), skipping torn lines."""
    path = Path(run_dir) / "events.jsonl"
    if not path.exists():
        return []
    events = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            ev = parse_event(line)
            if ev is not None:
                events.append(ev)
    return events


def start_training(project_dir: Path, config: TrainConfig, resume: bool | str = False,
                   run_id: str | None = None) -> EventProcess:
    """Start ``python -m wachat_tui.train`` for the project; iterate ``.events()``; ``.cancel()`` stops it.

    ``resume`` = True continues the latest run, a string continues that run; the run's own
    stored configuration is used then (only the device follows ``config``).
    """
    config.validate()
    project_dir = Path(project_dir)
    args = ["--project-dir", str(project_dir), "--config-json", json.dumps(config.to_dict())]
    if resume:
        args += ["--resume"] + ([resume] if isinstance(resume, str) else [])
    else:
        # chosen here so the caller knows the run folder before the first event arrives
        args += ["--run-id", run_id or new_run_id(project_dir / "runs")]
    log = project_dir / "runs" / "train.log"
    return EventProcess(MODULE, args, log_path=log)
