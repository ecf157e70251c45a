"""A cheap fidelity estimate for use during training.

:class:`FidelityEstimator` fits the yardsticks (classifier, copy index …) and picks a few
dozen balanced held-out cases ONCE; each :meth:`~FidelityEstimator.estimate` call then only
generates those replies with the model as it is at that step (an
:class:`~wachat_tui.eval.backends.HFBackend` around the training model, all cases in one batch)
and scores them. The numbers are the full measure's, on fewer cases — noisier, so a trend, not
a verdict — except the ceiling, which needs no generation and is measured once on every
held-out real reply.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .attribution import fidelity
from .backends import Backend
from .cases import EvalData, load_eval_data
from .measure import Yardsticks, build_yardsticks, choose_cases, generate_replies, score
from .report import CANDIDATE

ESTIMATE_CASES = 36


@dataclass(frozen=True)
class Estimate:
    """Headline numbers of one estimate (see :class:`~wachat_tui.eval.report.Scores`)."""

    fidelity: float | None
    accuracy: float | None
    ceiling: float | None
    chance: float
    style_distance: float | None
    copy_rate: float | None
    media_only_rate: float | None
    real_media_only_rate: float | None
    n: int
    seconds: float
    personas: dict[str, float | None]
    """Fidelity per persona."""
    persona_accuracy: dict[str, float | None] = field(default_factory=dict)
    """Share of each persona's generated replies attributed to them."""
    replies: tuple[str, ...] = field(default=(), compare=False)
    """The generated replies, in the order of the estimator's cases (not in ``to_json``)."""

    def to_json(self) -> dict:
        out: dict = {}
        for key in ("fidelity", "accuracy", "ceiling", "chance", "style_distance", "copy_rate",
                    "media_only_rate", "real_media_only_rate", "n", "seconds"):
            value = getattr(self, key)
            out[key] = round(value, 4) if isinstance(value, float) else value
        out["personas"] = {k: None if v is None else round(v, 4) for k, v in self.personas.items()}
        out["persona_accuracy"] = {k: None if v is None else round(v, 4) for k, v in self.persona_accuracy.items()}
        return out

    @classmethod
    def from_json(cls, row: dict) -> "Estimate":
        return cls(fidelity=row.get("fidelity"), accuracy=row.get("accuracy"), ceiling=row.get("ceiling"),
                   chance=float(row.get("chance") or 0.0), style_distance=row.get("style_distance"),
                   copy_rate=row.get("copy_rate"), media_only_rate=row.get("media_only_rate"),
                   real_media_only_rate=row.get("real_media_only_rate"), n=int(row.get("n") or 0),
                   seconds=float(row.get("seconds") or 0.0), personas=dict(row.get("personas") or {}),
                   persona_accuracy=dict(row.get("persona_accuracy") or {}))


class FidelityEstimator:
    """Fitted once; :meth:`estimate` measures a backend on the same few cases every time."""

    def __init__(self, data: EvalData, *, n_cases: int = ESTIMATE_CASES, seed: int = 0,
                 yardsticks: Yardsticks | None = None):
        self.data = data
        self.yardsticks = yardsticks or build_yardsticks(data, seed=seed)
        self.cases = choose_cases(data, self.yardsticks, n_cases, seed=seed)
        # The ceiling needs no generation, so it is measured once on EVERY held-out real reply:
        # on the few estimate cases alone it would add its own noise to each estimate's.
        everything = choose_cases(data, self.yardsticks, None, seed=seed)
        self.ceilings = self.yardsticks.attributor.accuracy_by_persona([c.reply for c in everything],
                                                                       [c.persona for c in everything])
        self.ceiling_cases = len(everything)

    @classmethod
    def for_project(cls, project_dir: Path, **kwargs) -> "FidelityEstimator":
        return cls(load_eval_data(project_dir), **kwargs)

    def estimate(self, backend: Backend) -> Estimate:
        """Generate the cases' replies with ``backend`` (all in one batch when it can) and score them."""
        started = time.perf_counter()
        texts, ran_on = self.generate(backend)
        return self.score(texts, ran_on, time.perf_counter() - started)

    def generate(self, backend: Backend) -> tuple[list[str], list[bool]]:
        """The cases' replies (and whether each ran on), all in one batch when the backend can."""
        return generate_replies(backend, self.cases, CANDIDATE, batch_size=len(self.cases))

    def score(self, texts: list[str], ran_on: list[bool], seconds: float) -> Estimate:
        """The estimate of replies generated before (``seconds``: what generating them took)."""
        overall, personas, _ = score(self.cases, {CANDIDATE: (texts, ran_on)}, self.yardsticks)
        chance = overall.chance
        accuracy = {name: s.accuracy for name, s in personas.items()}
        ceilings = [self.ceilings.get(name) for name in personas]
        ceiling = None if None in ceilings or not ceilings else sum(ceilings) / len(ceilings)
        return Estimate(
            fidelity=fidelity(overall.accuracy, ceiling, chance).value, accuracy=overall.accuracy, ceiling=ceiling,
            chance=chance, style_distance=overall.style_distance, copy_rate=overall.copy_rate,
            media_only_rate=overall.media_only_rate, real_media_only_rate=overall.real_media_only_rate,
            n=overall.n, seconds=round(seconds, 1),
            personas={name: fidelity(acc, self.ceilings.get(name), chance).value for name, acc in accuracy.items()},
            persona_accuracy=accuracy, replies=tuple(texts))
