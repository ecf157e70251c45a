"""Front-end API for training: start the training process, replay a run's events.

Light imports only (no torch): the TUI and the CLI call this directly. Runs themselves are
listed and picked with ``core.layout`` (``list_runs``, ``find_run``, ``RunRecord``).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..core.layout import ProjectFiles, RunFiles, new_run_id
from ..events import Event, parse_event
from ..process import EventProcess
from .config import TrainConfig

MODULE = "wachat_tui.train"


def load_run_events(run: RunFiles | Path) -> list[Event]:
    """All events a run recorded in events.jsonl (resumed runs included), skipping torn lines."""
    files = run if isinstance(run, RunFiles) else RunFiles(run)
    if not files.events.exists():
        return []
    events = []
    with open(files.events, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            event = parse_event(line)
            if event is not None:
                events.append(event)
    return events


def start_training(project_dir: Path, config: TrainConfig, resume: bool | str = False,
                   run_id: str | None = None) -> EventProcess:
    """Start ``python -m wachat_tui.train`` for the project; iterate ``.events()``; ``.cancel()`` stops it.

    ``resume`` = True continues the latest run, a string continues that run; the run's own
    stored configuration is used then (only the device follows ``config``).
    """
    config.validate()
    project = ProjectFiles(Path(project_dir))
    args = ["--project-dir", str(project.dir), "--config-json", json.dumps(config.to_dict())]
    if resume:
        args += ["--resume"] + ([resume] if isinstance(resume, str) else [])
    else:
        # chosen here so the caller knows the run folder before the first event arrives
        args += ["--run-id", run_id or new_run_id(project)]
    return EventProcess(MODULE, args, log_path=project.train_log)
