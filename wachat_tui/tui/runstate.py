"""Fold a stream of training/export events into one immutable view of a run.

The worker thread that reads a run's events keeps a :class:`RunView` and posts a new
snapshot after each event. Because each snapshot holds *everything* seen so far, the
messages carrying them may replace each other in the queue (see ``messages.py``) without
losing a single loss point — the screen always draws from the latest snapshot.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

from ..events import (
    Checkpointed,
    Evaluated,
    Event,
    Failed,
    Finished,
    Log,
    Sampled,
    Stage,
    Started,
    Step,
    Verified,
)


@dataclass(frozen=True)
class SampleView:
    step: int
    persona: str
    context: tuple[tuple[str, str], ...]
    real: str
    generated: str


@dataclass(frozen=True)
class StageView:
    stage: str
    done: int
    total: int
    detail: str


@dataclass(frozen=True)
class CheckView:
    check: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class RunView:
    """Everything the Train and Export panes draw about one run."""

    status: str = "idle"  # idle | starting | running | finished | failed | cancelled
    run_dir: str = ""
    device: str = ""
    config: dict = field(default_factory=dict)
    trainable_params: int = 0
    total_params: int = 0
    train_samples: int = 0
    validation_samples: int = 0
    step: int = 0
    max_steps: int = 0
    epoch: float = 0.0
    loss: float | None = None
    lr: float | None = None
    tokens_per_s: float | None = None
    eta_s: float | None = None
    train_curve: tuple[tuple[int, float], ...] = ()
    eval_curve: tuple[tuple[int, float], ...] = ()
    best_eval_loss: float | None = None
    fidelity_curve: tuple[tuple[int, float], ...] = ()
    """The fidelity estimate at each evaluation that has one."""
    best_step: int | None = None
    """The evaluation the run keeps as its adapter (by the best-checkpoint rule)."""
    best_fidelity: float | None = None
    samples: tuple[SampleView, ...] = ()
    checkpoints: tuple[str, ...] = ()
    stages: tuple[StageView, ...] = ()
    checks: tuple[CheckView, ...] = ()
    result_path: str = ""
    metrics: dict = field(default_factory=dict)
    error: str = ""
    hint: str = ""
    last_log: str = ""
    started_at: float | None = None
    updated_at: float | None = None

    @property
    def ended(self) -> bool:
        return self.status in ("finished", "failed", "cancelled")

    @property
    def fraction(self) -> float:
        if self.max_steps:
            return min(1.0, self.step / self.max_steps)
        return 1.0 if self.status == "finished" else 0.0


def fold(view: RunView, event: Event) -> RunView:
    """Return ``view`` updated by one event (pure)."""
    t = getattr(event, "time", None)
    base = {"updated_at": t}
    if isinstance(event, Started):
        return replace(
            view, status="running", device=event.device, config=dict(event.config),
            trainable_params=event.trainable_params, total_params=event.total_params,
            train_samples=event.train_samples, validation_samples=event.validation_samples,
            max_steps=event.max_steps or view.max_steps, run_dir=event.run_dir or view.run_dir,
            started_at=t, **base,
        )
    if isinstance(event, Step):
        curve = view.train_curve
        if event.loss is not None:
            # a resumed run replays steps after its checkpoint: the new points replace the old
            curve = tuple(p for p in curve if p[0] < event.step) + ((event.step, float(event.loss)),)
        return replace(
            view, status="running", step=event.step, max_steps=event.max_steps or view.max_steps,
            epoch=event.epoch, loss=event.loss if event.loss is not None else view.loss,
            lr=event.lr, tokens_per_s=event.tokens_per_s, eta_s=event.eta_s,
            train_curve=curve, **base,
        )
    if isinstance(event, Evaluated):
        best = view.best_eval_loss
        if best is None or event.eval_loss < best:
            best = event.eval_loss
        evals = tuple(p for p in view.eval_curve if p[0] < event.step)
        fidelity = tuple(p for p in view.fidelity_curve if p[0] < event.step)
        if event.fidelity is not None:
            fidelity += ((event.step, float(event.fidelity)),)
        chosen = {"best_step": event.step, "best_fidelity": event.fidelity} if event.best else {}
        return replace(view, eval_curve=evals + ((event.step, float(event.eval_loss)),),
                       best_eval_loss=best, fidelity_curve=fidelity, **chosen, **base)
    if isinstance(event, Sampled):
        ctx = tuple((str(c.get("author", "")), str(c.get("text", ""))) for c in event.context
                    if isinstance(c, dict))
        sample = SampleView(event.step, event.persona, ctx, event.real, event.generated)
        return replace(view, samples=view.samples + (sample,), **base)
    if isinstance(event, Checkpointed):
        return replace(view, checkpoints=view.checkpoints + (event.path,), **base)
    if isinstance(event, Stage):
        stages = [s for s in view.stages if s.stage != event.stage]
        stages.append(StageView(event.stage, event.done, event.total, event.detail))
        # keep first-seen order
        order = [s.stage for s in view.stages]
        stages.sort(key=lambda s: order.index(s.stage) if s.stage in order else len(order))
        return replace(view, status="running", stages=tuple(stages), **base)
    if isinstance(event, Verified):
        return replace(view, checks=view.checks + (CheckView(event.check, event.passed, event.detail),),
                       **base)
    if isinstance(event, Finished):
        return replace(view, status="finished", result_path=event.path,
                       metrics=dict(event.metrics), eta_s=0.0, **base)
    if isinstance(event, Failed):
        status = "cancelled" if event.error.strip().lower() in ("cancelled", "canceled") else "failed"
        return replace(view, status=status, error=event.error, hint=event.hint, **base)
    if isinstance(event, Log):
        return replace(view, last_log=event.message, **base)
    return view


def fold_all(events: Iterable[Event], view: RunView | None = None) -> RunView:
    view = view or RunView()
    for event in events:
        view = fold(view, event)
    return view
