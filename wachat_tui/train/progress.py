"""What a training run has done so far, and the files that keep it.

``run.json`` is a :class:`~wachat_tui.core.layout.RunRecord` (what the run is, how far it got);
``metrics.json`` holds the loss history and speed (:class:`RunMetrics`); ``samples.jsonl`` the
replies generated at each evaluation. :class:`RunProgress` updates the three and owns the
rules that depend on the history: which evaluation is the best, when to stop early, and what
a resumed run forgets because it redoes it.
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
    peak_memory_mb: float | None = None

    @classmethod
    def from_json(cls, row: dict) -> "RunMetrics":
        history = row.get("history") or {}
        return cls(train_history=list(history.get("train") or []), eval_history=list(history.get("eval") or []),
                   dataset=dict(row.get("dataset") or {}), tokens_per_s=row.get("tokens_per_s"),
                   train_seconds=float(row.get("train_seconds") or 0.0), peak_memory_mb=row.get("peak_memory_mb"))


class RunProgress:
    """A run's record, metrics and samples, and the writes that keep them on disk.

    ``writer`` is False in the non-main processes of a distributed run: they follow the
    same history (they need it for early stopping) but never write.
    """

    def __init__(self, files: RunFiles, record: RunRecord, metrics: RunMetrics | None = None,
                 samples: list[dict] | None = None, writer: bool = True):
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
            "train_seconds": round(m.train_seconds, 2), "peak_memory_mb": m.peak_memory_mb, "dataset": m.dataset,
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

    def record_eval(self, step: int, loss: float, perplexity: float) -> bool:
        """Add one evaluation; True when it is the best so far (step 0, the base model, never is)."""
        rec = self.record
        best = False
        if step == 0:
            rec.base_eval_loss = loss
        elif rec.best_eval_loss is None or loss < rec.best_eval_loss - 1e-6:
            best = True
            rec.best_eval_loss, rec.best_step = loss, step
        history = [h for h in self.metrics.eval_history if h["step"] != step]
        history.append({"step": step, "eval_loss": round(loss, 5), "perplexity": round(perplexity, 4),
                        "best": best, "time": round(time.time(), 1)})
        self.metrics.eval_history = history
        rec.step = max(rec.step, step)
        return best

    def record_sample(self, row: dict) -> None:
        self.samples.append(row)

    def evals_since_best(self) -> int:
        """Evaluations after the best one (how long the validation loss has not improved)."""
        best = self.record.best_step
        if best is None:
            return 0
        return sum(1 for h in self.metrics.eval_history if h["step"] > best)

    def forget_after(self, step: int) -> None:
        """On resume, history past the checkpoint is redone, so it is dropped (and the best recomputed).

        ``step`` -1 means the run starts over, base-model evaluation included."""
        m, rec = self.metrics, self.record
        m.train_history = [h for h in m.train_history if h["step"] <= step]
        m.eval_history = [h for h in m.eval_history if h["step"] <= step]
        self.samples = [h for h in self.samples if h.get("step", 0) <= step]
        if step < 0:
            rec.base_eval_loss = None
        trained = [h for h in m.eval_history if h["step"] > 0]
        best = min(trained, key=lambda h: h["eval_loss"], default=None)
        rec.best_eval_loss = best["eval_loss"] if best else None
        rec.best_step = best["step"] if best else None
        rec.step = max(step, 0)
