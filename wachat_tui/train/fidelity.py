"""The fidelity estimate of a training run: the model as it is at each evaluation, measured cheaply.

The yardsticks (attribution classifier, copy index …) are fitted and the held-out cases chosen
ONCE, when the run starts (:class:`~wachat_tui.eval.estimate.FidelityEstimator`, on the run's own
snapshot of the review pairs); each evaluation then generates those cases' replies with the
training model in one batch (:class:`~wachat_tui.eval.backends.HFBackend`: the chat's prompt and
sampling, shorter replies) and scores them. The first replies double as the evaluation's
sample replies, so nothing is generated twice.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..core.layout import ProjectFiles
from ..errors import WachatError
from .config import TrainConfig


class FidelityProbe:
    """A fitted estimator and the sampling its replies use."""

    def __init__(self, estimator, sampling, seed: int, cards: dict[str, str] | None = None):
        self.estimator = estimator
        self.sampling = sampling
        self.seed = seed
        self.cards = dict(cards or {})

    @property
    def cases(self):
        """The held-out cases every estimate generates, in order."""
        return self.estimator.cases

    @classmethod
    def build(cls, project: ProjectFiles, pairs: Path, config: TrainConfig,
              log: Callable[..., None], cards: dict[str, str] | None = None) -> "FidelityProbe | None":
        """The run's probe, or None (with a warning saying why) when no estimate can run."""
        if not config.fidelity_cases:
            return None
        from ..chat.engine import Sampling
        from ..eval.cases import load_eval_data
        from ..eval.estimate import FidelityEstimator

        try:
            data = load_eval_data(project, pairs if pairs.exists() else None)
            estimator = FidelityEstimator(data, n_cases=config.fidelity_cases, seed=config.seed)
        except ModuleNotFoundError as exc:
            if exc.name != "sklearn":
                raise
            log("no fidelity estimate: scikit-learn is not installed (pip install 'wachat-tui[eval]')", "warning")
            return None
        except WachatError as exc:
            log(f"no fidelity estimate: {exc.message}", "warning")
            return None
        classes = estimator.yardsticks.attributor.classes
        log(f"fidelity estimate at each evaluation: {len(estimator.cases)} held-out replies of up to "
            f"{config.fidelity_tokens} tokens, classifier over {len(classes)} people")
        return cls(estimator, Sampling(max_tokens=config.fidelity_tokens), config.seed, cards)

    def estimate(self, model, tokenizer):
        """Measure ``model`` (the training model, adapter on) now; returns an ``Estimate``."""
        from ..eval.backends import HFBackend

        backend = HFBackend(model, tokenizer, name="training", seed=self.seed, sampling=self.sampling,
                            cards=self.cards)
        return self.estimator.estimate(backend)

    def sample_rows(self, step: int, estimate, n: int) -> list[dict]:
        """The first ``n`` replies of ``estimate`` as sample rows (``samples.jsonl`` / ``Sampled`` fields)."""
        return [{"step": step, "persona": case.persona, "context": [{"author": a, "text": t} for a, t in case.context],
                 "real": case.reply, "generated": text}
                for case, text in list(zip(self.cases, estimate.replies))[:n]]
