"""What a training run has done so far, and the files that keep it.

``run.json`` is a :class:`~wachat_tui.core.layout.RunRecord` (what the run is, how far it got);
``metrics.json`` holds the loss history and speed (:class:`RunMetrics`); ``samples.jsonl`` the
replies generated at each evaluation. :class:`RunProgress` updates the three and owns the
rules that depend on the history: which evaluation is the best (:mod:`.best`), when to stop
early, and what a resumed run forgets because it redoes it.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..core.atomic import read_jsonl, write_json, write_jsonl
from ..core.layout import DamagedFile, RunFiles, RunRecord, read_json_object
from ..events import Step
from .best import BestRule, Evaluation, evaluation_from_row


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


@dataclass
class RunMetrics:
    """``metrics.json``: the run's loss history, its data and its speed."""

    train_history: list[dict] = field(default_factory=list)
    eval_history: list[dict] = field(default_factory=list)
    dataset: dict = field(default_factory=dict)
    tokens_per_s: float | None = None
    train_seconds: float = 0.0
    fidelity_seconds: float = 0.0
    """Seconds spent in fidelity estimates (their share of the run is what they cost)."""
    peak_memory_mb: float | None = None

    @classmethod
    def from_json(cls, row: dict) -> "RunMetrics":
        history = row.get("history") or {}
        return cls(train_history=list(history.get("train") or []), eval_history=list(history.get("eval") or []),
                   dataset=dict(row.get("dataset") or {}), tokens_per_s=row.get("tokens_per_s"),
                   train_seconds=float(row.get("train_seconds") or 0.0),
                   fidelity_seconds=float(row.get("fidelity_seconds") or 0.0), peak_memory_mb=row.get("peak_memory_mb"))


class RunProgress:
    """A run's record, metrics and samples, and the writes that keep them on disk.

    ``writer`` is False in the non-main processes of a distributed run: they follow the
    same history (they need it for early stopping) but never write.
    """

    def __init__(self, files: RunFiles, record: RunRecord, metrics: RunMetrics | None = None,
                 samples: list[dict] | None = None, writer: bool = True, rule: BestRule | None = None):
        self.rule = rule or BestRule()
        """How the best evaluation is chosen (the job sets the run's own margin)."""
        self.files = files
        self.record = record
        self.metrics = metrics or RunMetrics()
        self.samples = samples or []
        self.writer = writer

    @classmethod
    def read(cls, files: RunFiles, writer: bool = True) -> "RunProgress":
        """The progress of an existing run (to resume it)."""
        record = RunRecord.read(files)
        metrics = RunMetrics.from_json(read_json_object(files.metrics, missing={}))
        try:
            samples = list(read_jsonl(files.samples)) if files.samples.exists() else []
        except ValueError:
            raise DamagedFile(f"cannot read {files.samples}", "delete the file; the samples will be made again") from None
        return cls(files, record, metrics, samples, writer)

    # ------------------------------------------------------------------ writing
    def save(self) -> None:
        """run.json and metrics.json, each replaced atomically."""
        if not self.writer:
            return
        self.record.updated = now_iso()
        self.record.pid = os.getpid()
        write_json(self.files.run_json, self.record.to_json())
        write_json(self.files.metrics, self.metrics_json())

    def save_samples(self) -> None:
        if self.writer:
            write_jsonl(self.files.samples, self.samples)

    def metrics_json(self, with_history: bool = True) -> dict:
        rec, m = self.record, self.metrics
        row = {
            "best_eval_loss": rec.best_eval_loss, "best_step": rec.best_step, "base_eval_loss": rec.base_eval_loss,
            "final_eval_loss": m.eval_history[-1]["eval_loss"] if m.eval_history else None,
            "best_perplexity": math.exp(rec.best_eval_loss) if rec.best_eval_loss is not None else None,
            "steps": rec.step, "max_steps": rec.max_steps, "tokens_per_s": m.tokens_per_s,
            "train_seconds": round(m.train_seconds, 2), "fidelity_seconds": round(m.fidelity_seconds, 2),
            "best_fidelity": rec.best_fidelity, "peak_memory_mb": m.peak_memory_mb, "dataset": m.dataset,
        }
        if with_history:
            row["history"] = {"train": m.train_history, "eval": m.eval_history}
        return row

    # ------------------------------------------------------------------ recording
    def record_step(self, event: Step) -> None:
        m = self.metrics
        m.tokens_per_s = event.tokens_per_s
        m.train_history = [h for h in m.train_history if h["step"] < event.step]
        m.train_history.append({"step": event.step, "epoch": event.epoch, "loss": event.loss, "lr": event.lr,
                                "grad_norm": event.grad_norm, "tokens_per_s": event.tokens_per_s})
        self.record.step = event.step

    def record_eval(self, step: int, loss: float, perplexity: float, estimate: dict | None = None) -> bool:
        """Add one evaluation (with its fidelity estimate, if one ran); True when it becomes the best
        by :attr:`rule` (step 0, the base model, never does)."""
        rec = self.record
        best = False
        fid = estimate.get("fidelity") if estimate else None
        if step == 0:
            rec.base_eval_loss = loss
        else:
            trained = [evaluation_from_row(h) for h in self.metrics.eval_history if 0 < h["step"] < step]
            lowest = min([e.loss for e in trained] + [loss])
            incumbent = next((e for e in trained if e.step == rec.best_step), None)
            if self.rule.replaces(Evaluation(step, loss, fid), incumbent, lowest):
                best = True
                rec.best_eval_loss, rec.best_step, rec.best_fidelity = loss, step, fid
        history = [h for h in self.metrics.eval_history if h["step"] != step]
        row = {"step": step, "eval_loss": round(loss, 5), "perplexity": round(perplexity, 4),
               "best": best, "time": round(time.time(), 1)}
        if estimate:
            row["fidelity"] = fid
            row["estimate"] = estimate
        history.append(row)
        self.metrics.eval_history = history
        rec.step = max(rec.step, step)
        return best

    def record_sample(self, row: dict) -> None:
        self.samples.append(row)

    def evals_since_lowest_loss(self) -> int:
        """Evaluations after the one with the lowest validation loss (how long the loss has not
        improved). Early stopping counts this, not the best by :attr:`rule`: every process of a
        distributed run sees the same losses, while only the main one estimates fidelity."""
        trained = [h for h in self.metrics.eval_history if h["step"] > 0]
        if not trained:
            return 0
        lowest = min(trained, key=lambda h: (h["eval_loss"], h["step"]))
        return sum(1 for h in trained if h["step"] > lowest["step"])

    def forget_after(self, step: int) -> None:
        """On resume, history past the checkpoint is redone, so it is dropped (and the best recomputed).

        ``step`` -1 means the run starts over, base-model evaluation included."""
        m, rec = self.metrics, self.record
        m.train_history = [h for h in m.train_history if h["step"] <= step]
        m.eval_history = [h for h in m.eval_history if h["step"] <= step]
        self.samples = [h for h in self.samples if h.get("step", 0) <= step]
        if step < 0:
            rec.base_eval_loss = None
        best = self.rule.replay(evaluation_from_row(h) for h in m.eval_history)
        for h in m.eval_history:
            h["best"] = best is not None and h["step"] == best.step
        rec.best_eval_loss = best.loss if best else None
        rec.best_step = best.step if best else None
        rec.best_fidelity = best.fidelity if best else None
        rec.step = max(step, 0)
