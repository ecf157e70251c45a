"""The one event vocabulary of training and export: dataclasses ↔ JSON lines. No torch here.

The training process (and export) print one JSON object per line on stdout:
``{"event": "<name>", "time": <unix seconds>, ...fields}``. The CLI progress bar, the
``--events`` output and the TUI all read the same stream through :func:`parse_event`.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, ClassVar, TextIO


@dataclass
class Event:
    name: ClassVar[str] = "event"
    time: float = field(default_factory=time.time, kw_only=True)

    def to_json(self) -> str:
        row = {"event": self.name}
        row.update(asdict(self))
        return json.dumps(row, ensure_ascii=False, default=str)


@dataclass
class Started(Event):
    name: ClassVar[str] = "started"
    config: dict = field(default_factory=dict)
    device: str = "cpu"
    trainable_params: int = 0
    total_params: int = 0
    train_samples: int = 0
    validation_samples: int = 0
    max_steps: int = 0
    run_dir: str = ""


@dataclass
class Step(Event):
    name: ClassVar[str] = "step"
    step: int = 0
    max_steps: int = 0
    epoch: float = 0.0
    loss: float | None = None
    lr: float | None = None
    grad_norm: float | None = None
    tokens_per_s: float | None = None
    eta_s: float | None = None


@dataclass
class Evaluated(Event):
    name: ClassVar[str] = "evaluated"
    step: int = 0
    eval_loss: float = 0.0
    perplexity: float = 0.0
    best: bool = False
    fidelity: float | None = None
    """The cheap fidelity estimate at this step (None: no estimate ran, or it is undefined)."""
    estimate: dict | None = None
    """The whole estimate (``wachat_tui.eval.estimate.Estimate.to_json``): style distance, copy rate …"""


@dataclass
class Sampled(Event):
    name: ClassVar[str] = "sampled"
    step: int = 0
    persona: str = ""
    context: list = field(default_factory=list)  # [{"author": str, "text": str}, ...]
    real: str = ""
    generated: str = ""


@dataclass
class Checkpointed(Event):
    name: ClassVar[str] = "checkpointed"
    step: int = 0
    path: str = ""


@dataclass
class Stage(Event):
    """Export progress: merging, writing (n/N tensors), quantizing, verifying."""

    name: ClassVar[str] = "stage"
    stage: str = ""
    done: int = 0
    total: int = 0
    detail: str = ""


@dataclass
class Verified(Event):
    """One export verification check (tokens, logits, end-of-turn)."""

    name: ClassVar[str] = "verified"
    check: str = ""
    passed: bool = False
    detail: str = ""


@dataclass
class Finished(Event):
    name: ClassVar[str] = "finished"
    path: str = ""          # adapter dir (training) or GGUF file (export)
    metrics: dict = field(default_factory=dict)


@dataclass
class Failed(Event):
    name: ClassVar[str] = "failed"
    error: str = ""
    hint: str = ""


@dataclass
class Log(Event):
    name: ClassVar[str] = "log"
    message: str = ""
    level: str = "info"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (Started, Step, Evaluated, Sampled, Checkpointed, Stage, Verified, Finished, Failed, Log)
}


def parse_event(line: str) -> Event | None:
    """One JSON line → an Event; None for blank or non-event lines (never raises)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        row: dict[str, Any] = json.loads(line)
    except json.JSONDecodeError:
        return None
    cls = EVENT_TYPES.get(row.pop("event", None))
    if cls is None:
        return None
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in row.items() if k in known})


def emit(event: Event, stream: TextIO | None = None) -> None:
    """Write one event as a JSON line and flush, so readers see it at once."""
    stream = stream or sys.stdout
    stream.write(event.to_json() + "\n")
    stream.flush()


class Emitter:
    """Writes each event as a JSON line on the event stream and appends it to a run's events file.

    ``enabled`` is False in the non-main processes of a distributed (``accelerate launch``)
    run: one event stream, one events file, however many processes train. ``listeners`` are
    called with every event (the worker uses one to know when training has started).
    """

    def __init__(self, stream: TextIO, events_path: Path | None = None, enabled: bool = True):
        self.stream = stream
        self.events_path = events_path
        self.enabled = enabled
        self._lock = threading.Lock()
        self.listeners: list[Callable[[Event], None]] = []

    def __call__(self, event: Event) -> None:
        if not self.enabled:
            return
        line = event.to_json()
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # a reader that went away must not kill the run; events.jsonl still gets it
            if self.events_path is not None:
                from .paths import ensure_private_dir

                ensure_private_dir(self.events_path.parent)
                fd = os.open(self.events_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
        for listener in self.listeners:
            listener(event)

    def log(self, message: str, level: str = "info") -> None:
        self(Log(message=message, level=level))
