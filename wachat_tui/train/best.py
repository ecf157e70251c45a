"""Which evaluation of a run is "the best" — the adapter a user gets — decided with fidelity.

The rule (:class:`BestRule`)::

    Among the evaluations whose validation loss is within LOSS_MARGIN (5 %) of the lowest
    validation loss so far, the best is the one with the highest fidelity estimate;
    estimates within FIDELITY_TIE (0.25) of each other are a tie, and a tie goes to the
    lower validation loss. Without estimates (turned off, or a chat whose people the
    classifier cannot tell apart) the best is the lowest validation loss, as before.

It runs online, one evaluation at a time, because only the current best adapter is kept: a
new evaluation becomes the best when it is in the band and beats the best so far — or when the
best so far has fallen out of the band (which happens only when the new evaluation is the new
lowest loss: then it takes over, even if an older evaluation still in the band had a higher
estimate, since that one's weights are gone).

Why this rule — measured on two chats with the default settings (embedded SmolLM2-135M, CPU;
the step × loss × fidelity tables are in the README's Benchmarks table, fidelity_training_bench.py):

* Validation loss and fidelity mostly rise together early on, then part: on the demo chat the
  loss goes on falling to the last step while the estimate is flat within its noise. On the
  overlapping-personas chat (``en_sam_noor``) the same happens, and neither the lowest-loss nor the
  most faithful evaluation is stable from one run of the estimate to the next.
* The estimate is noisy (24 replies: ± ~0.15), so choosing by fidelity alone picks an early
  evaluation whose higher estimate is partly luck, with a loss far from the best. The loss band
  keeps the choice among evaluations that have learnt about as much; the tie margin keeps
  noise from overruling the loss when the estimates do not really differ.
* 0.25 for a tie: the estimate scores 24 replies, 12 per persona, so one reply attributed the
  other way moves it by about 0.12 (1/12 of a persona's accuracy over ceiling − chance ≈ 0.35,
  averaged over two personas), and its standard error is about 0.2. The former 0.1 was less
  than one reply: on a default en_sam_noor run (training seed 1) it kept step 88 of 174 for an
  estimate of 0.485 against 0.364 — one reply — and that adapter measured 0.38 on the 102
  held-out cases where the last checkpoint measured 0.58 (same backend, same cases). With 0.25
  the rule keeps step 132 there; replayed on the other eight recorded default-sized runs it
  changes two choices (154 → 174 and 261 → 231).
* 5 %: the loss of the last few evaluations of a default run lies within it (the cosine
  schedule flattens the curve), so the rule chooses among the late evaluations, never an
  under-trained early one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

LOSS_MARGIN = 0.05
"""An evaluation competes on fidelity when its validation loss is at most this fraction above the lowest."""
FIDELITY_TIE = 0.25
"""Fidelity estimates closer than this are a tie (about two replies of the estimate's 24: its noise)."""


@dataclass(frozen=True)
class Evaluation:
    """What the rule looks at: one evaluation of a run."""

    step: int
    loss: float
    fidelity: float | None = None


@dataclass(frozen=True)
class BestRule:
    """The best-checkpoint rule (see the module docstring)."""

    loss_margin: float = LOSS_MARGIN
    fidelity_tie: float = FIDELITY_TIE

    def in_band(self, loss: float, lowest: float) -> bool:
        return loss <= lowest + self.loss_margin * abs(lowest) + 1e-9

    def replaces(self, new: Evaluation, best: Evaluation | None, lowest: float) -> bool:
        """Whether ``new`` becomes the best; ``lowest`` is the lowest loss so far, ``new`` included."""
        if best is None or not self.in_band(best.loss, lowest):
            return True if best is None else new.loss <= lowest
        if not self.in_band(new.loss, lowest):
            return False
        if new.fidelity is None or best.fidelity is None:
            return new.loss < best.loss - 1e-6
        if new.fidelity > best.fidelity + self.fidelity_tie:
            return True
        if new.fidelity < best.fidelity - self.fidelity_tie:
            return False
        return new.loss < best.loss - 1e-6

    def replay(self, history: Iterable[Evaluation]) -> Evaluation | None:
        """The best of a whole history, taken in order as training did (step 0, the base model, never counts)."""
        best: Evaluation | None = None
        lowest: float | None = None
        for ev in history:
            if ev.step <= 0:
                continue
            lowest = ev.loss if lowest is None else min(lowest, ev.loss)
            if self.replaces(ev, best, lowest):
                best = ev
        return best


def evaluation_from_row(row: Mapping) -> Evaluation:
    """An evaluation from a ``metrics.json`` history row (``{"step", "eval_loss", "fidelity"?}``)."""
    fid = row.get("fidelity")
    return Evaluation(int(row["step"]), float(row["eval_loss"]), None if fid is None else float(fid))
