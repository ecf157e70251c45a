"""Trainer callbacks, each handing one kind of moment to one plain callable.

The trainer calls these at its hooks; none of them knows the training job. The job passes in
what should happen: report a step, judge an evaluation, note a checkpoint, say whether the
user asked to stop.
"""
from __future__ import annotations

import time
from typing import Callable

import torch
from transformers import TrainerCallback

from ..events import Step


def _float(x) -> float | None:
    try:
        return None if x is None else float(x)
    except (TypeError, ValueError):
        return None


class ProgressCallback(TrainerCallback):
    """Each logged training loss → a :class:`Step` event with speed and an ETA.

    Only optimizer steps count as training time; time spent between steps (evaluation,
    samples, checkpoints) is measured apart and enters the ETA per evaluation left.
    """

    def __init__(self, total_steps: int, eval_steps: int, tokens_seen: Callable[[], int],
                 report: Callable[[Step], None]):
        self.total_steps = total_steps
        self.eval_steps = eval_steps
        self.tokens_seen = tokens_seen
        self.report = report
        self.train_seconds = 0.0
        """Seconds spent in optimizer steps during this process's training session."""
        self._steps = 0
        self._tokens_at_begin = 0
        self._step_started: float | None = None
        self._pause_started: float | None = None
        self._pause_seconds = 0.0
        self._pauses = 0

    def on_train_begin(self, args, state, control, **kw):
        self.train_seconds, self._steps = 0.0, 0
        self._tokens_at_begin = self.tokens_seen()

    def on_step_begin(self, args, state, control, **kw):
        now = time.perf_counter()
        self._close_pause(now)
        self._step_started = now

    def on_step_end(self, args, state, control, **kw):
        if self._step_started is not None:
            self.train_seconds += time.perf_counter() - self._step_started
            self._steps += 1
            self._step_started = None

    def on_evaluate(self, args, state, control, metrics=None, **kw):
        if state.global_step > 0:  # the base model's evaluation happens once, before training
            runtime = float((metrics or {}).get("eval_runtime", 0.0))
            self._pause_started = time.perf_counter() - runtime

    def on_train_end(self, args, state, control, **kw):
        self._close_pause(time.perf_counter())

    def _close_pause(self, now: float) -> None:
        if self._pause_started is not None:
            self._pause_seconds += now - self._pause_started
            self._pauses += 1
            self._pause_started = None

    def tokens_per_s(self) -> float | None:
        tokens = self.tokens_seen() - self._tokens_at_begin
        if self.train_seconds <= 0 or tokens <= 0:
            return None
        return round(tokens / self.train_seconds, 2)

    def eta_s(self, step: int) -> float | None:
        if not self._steps:
            return None
        remaining = max(0, self.total_steps - step)
        per_pause = self._pause_seconds / self._pauses if self._pauses else 0.0
        return round(remaining * self.train_seconds / self._steps + remaining // max(1, self.eval_steps) * per_pause, 1)

    def on_log(self, args, state, control, logs=None, **kw):
        logs = logs or {}
        if "loss" not in logs:
            return
        step = state.global_step
        self.report(Step(step=step, max_steps=self.total_steps, epoch=round(float(state.epoch or 0), 4),
                         loss=float(logs["loss"]), lr=_float(logs.get("learning_rate")),
                         grad_norm=_float(logs.get("grad_norm")), tokens_per_s=self.tokens_per_s(),
                         eta_s=self.eta_s(step)))


class CancelCallback(TrainerCallback):
    """Stops training at the end of a step once ``requested()`` says so, saving a checkpoint there.

    In a distributed run every process must stop at the same step, so the flag is shared
    (any process asked → all stop)."""

    def __init__(self, requested: Callable[[], bool]):
        self.requested = requested
        self.cancelled = False

    def on_step_end(self, args, state, control, **kw):
        flag = self.requested()
        if args.world_size > 1 and torch.distributed.is_initialized():
            shared = torch.tensor([1.0 if flag else 0.0], device=args.device)
            torch.distributed.all_reduce(shared, op=torch.distributed.ReduceOp.MAX)
            flag = bool(shared.item())
        if flag:
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = True
            control.should_evaluate = False
        return control


class EvaluationCallback(TrainerCallback):
    """Each evaluation's metrics → ``evaluated(step, metrics, model)``, which returns whether to stop."""

    def __init__(self, evaluated: Callable[[int, dict, object], bool]):
        self.evaluated = evaluated

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kw):
        if self.evaluated(state.global_step, metrics or {}, model):
            control.should_training_stop = True
        return control


class CheckpointCallback(TrainerCallback):
    """Each checkpoint written → ``saved(step)``."""

    def __init__(self, saved: Callable[[int], None]):
        self.saved = saved

    def on_save(self, args, state, control, **kw):
        self.saved(state.global_step)
