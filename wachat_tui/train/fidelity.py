"""The fidelity estimate of a training run: the model as it is at each evaluation, measured cheaply.

The yardsticks (attribution classifier, copy index …) are fitted and the held-out cases chosen
ONCE, when the run starts (:class:`~wachat_tui.eval.estimate.FidelityEstimator`, on the run's own
snapshot of the review pairs); each evaluation then generates those cases' replies with the
training model in one batch (:class:`~wachat_tui.eval.backends.HFBackend`: the chat's prompt and
sampling without persona guidance, shorter replies) and scores them. The first replies double as the evaluation's
sample replies, so nothing is generated twice.

The estimate at step 0 is the base model's, and it is the same for every run of a project that
trains the same base the same way on the same cases, cards and sampling: its replies are kept in
``<project>/eval-cache/`` (the base-reply cache of ``wachat eval``, keyed by all of that), so only
a project's first run pays for them (about 4 optimizer steps' time on 2 cores).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from ..core.layout import ProjectFiles
from ..errors import WachatError
from .config import TrainConfig

ESTIMATE_GUIDANCE = 1.0
"""The estimate samples without persona guidance (the chat's default is 1.3): guidance generates
every reply twice (with and without the card), doubling the estimate's cost — ~45 s of each
~4-minute evaluation interval on a default en_sam_noor run on 2 cores, and 24 guided Gemma replies
per evaluation on the CPU — while it only has to rank the run's own evaluations. Guided estimates
also saturate (1.21 at the last four evaluations of a default en_sam_noor run: more replies
attributed right than the real ones are), where the unguided ones still move. So the estimate
reads lower than ``wachat eval`` of the same adapter (0.74 unguided vs 1.17 guided on one
en_sam_noor adapter through transformers); the Train pane says so."""


class FidelityProbe:
    """A fitted estimator and the sampling its replies use."""

    def __init__(self, estimator, sampling, seed: int, cards: dict[str, str] | None = None,
                 project: ProjectFiles | None = None):
        self.estimator = estimator
        self.sampling = sampling
        self.seed = seed
        self.cards = dict(cards or {})
        self.project = project
        self.baseline_cached = False
        """Whether the last :meth:`estimate` with a ``baseline`` identity came from the cache."""

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
        return cls(estimator, Sampling(max_tokens=config.fidelity_tokens, guidance=ESTIMATE_GUIDANCE),
                   config.seed, cards, project)

    def estimate(self, model, tokenizer, baseline: dict | None = None):
        """Measure ``model`` (the training model, adapter on) now; returns an ``Estimate``.

        ``baseline``: what identifies the untrained model (base weights, how they are loaded) when
        ``model`` is still the base model (step 0): its replies come from, or go to, the cache."""
        from dataclasses import asdict

        from ..eval.backends import HFBackend
        from ..eval.runs import BaseReplyCache, _base_identity

        backend = HFBackend(model, tokenizer, name="training", seed=self.seed, sampling=self.sampling,
                            cards=self.cards)
        self.baseline_cached = False
        if baseline is None or self.project is None:
            return self.estimator.estimate(backend)
        cache = BaseReplyCache(self.project, _base_identity(self.cards, backend="training", **baseline),
                               asdict(self.sampling), self.seed, self.cases)
        cached = cache.load()
        if cached is not None:
            texts, ran_on, _ = cached
            self.baseline_cached = True
            return self.estimator.score(texts, ran_on, 0.0)
        started = time.perf_counter()
        texts, ran_on = self.estimator.generate(backend)
        seconds = time.perf_counter() - started
        cache.save(texts, ran_on, seconds)
        return self.estimator.score(texts, ran_on, seconds)

    def sample_rows(self, step: int, estimate, n: int) -> list[dict]:
        """The first ``n`` replies of ``estimate`` as sample rows (``samples.jsonl`` / ``Sampled`` fields)."""
        return [{"step": step, "persona": case.persona, "context": [{"author": a, "text": t} for a, t in case.context],
                 "real": case.reply, "generated": text}
                for case, text in list(zip(self.cases, estimate.replies))[:n]]
