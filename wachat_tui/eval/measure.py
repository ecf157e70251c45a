"""Take the measure: generate replies for held-out cases and score them against the real ones.

:func:`measure` is the whole of ``wachat eval``'s work, with no UI in it: it asks a candidate
backend (the fine-tuned model) and optionally a base backend for each case's reply, and
returns a :class:`~wachat_tui.eval.report.FidelityReport`. The yardsticks it scores with
(attribution classifier, copy index, leak detector, habit phrases) are fitted once on the
project's real train turns by :func:`build_yardsticks` and may be passed in again (the
estimate during training reuses them).

Per chat (a project with several): the same overall numbers over each chat's cases alone.
How persona numbers become overall numbers: accuracy, floor and ceiling are averaged over
personas (each persona counts the same, as the cases are balanced); fidelity is then
computed from those means; style distance is the mean of the personas' distances (style is
a property of one person, so it is never measured on a mix); rates (copy, media-only,
degeneration) are shares of all replies.

What a style distance is worth: even the person's own messages are not at distance 0 from
a few dozen of their held-out replies (a habit seen in 2 of 40 replies may show in 0 of the
next 40). ``own_style_distance`` measures that noise — the mean distance of
:data:`OWN_DRAWS` random samples of the same size from the person's own *train* turns to
the held-out replies — so a model's distance reads against it: at the own distance the
model is as close as another sample of the person would be.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from ..errors import WachatError
from .attribution import Attributor, fidelity, fit_attributor
from .backends import Backend, RealBackend, last_ran_on
from .cases import DEFAULT_CAP, Case, EvalData, select_cases
from .degeneration import Degeneration, bigram_vocabulary, degeneration
from .memorisation import CopyIndex, Leak, LeakDetector
from .replies import is_media_only
from .report import BASE, CANDIDATE, REAL, Example, FidelityReport, Scores, SourceMetrics
from .style import FEATURES, StyleDistance, habit_phrases, style_distance, style_profile

EXAMPLES = 6
OWN_DRAWS = 20
"""Samples of the person's own train turns that ``own_style_distance`` averages over."""
BATCH_SIZE = 8
"""Cases per batch for backends that generate in batches (memory grows with it)."""


@dataclass(frozen=True)
class Progress:
    """One reply generated: ``done`` of ``total`` for ``source`` (base / fine_tuned)."""

    source: str
    done: int
    total: int


@dataclass
class Yardsticks:
    """What replies are scored with, all fitted on the real train turns only."""

    attributor: Attributor
    copies: CopyIndex
    leaks: LeakDetector
    habits: dict[str, frozenset[str]]
    bigram_vocabulary: int
    own: dict[str, list[str]]
    """Each persona's real train turns (the reference sample for ``own_style_distance``)."""


def build_yardsticks(data: EvalData, *, seed: int = 0) -> Yardsticks:
    texts = [t.text for t in data.train_turns]
    by_author = data.turns_by_author()
    return Yardsticks(
        attributor=fit_attributor(data, seed=seed),
        copies=CopyIndex(texts),
        leaks=LeakDetector(texts),
        habits={p: habit_phrases(by_author.get(p, ())) for p in data.personas},
        bigram_vocabulary=bigram_vocabulary(texts),
        own={p: by_author.get(p, []) for p in data.personas},
    )


def choose_cases(data: EvalData, yard: Yardsticks, cap: int | None = DEFAULT_CAP, *, seed: int = 0) -> list[Case]:
    """Balanced held-out cases of the personas the classifier knows."""
    personas = [p for p in data.personas if p in yard.attributor.classes]
    cases = select_cases(data.held_out, cap, seed=seed, personas=personas)
    if not cases:
        raise WachatError("the validation split has no graded persona turns to measure on",
                          "re-import the chat with a validation fraction above 0, or with more messages")
    return cases


def generate_replies(backend: Backend, cases: Sequence[Case], source: str,
                     progress: Callable[[Progress], None] | None = None,
                     batch_size: int = BATCH_SIZE) -> tuple[list[str], list[bool]]:
    """Each case's reply from ``backend``, and whether the backend cut it at another speaker.

    A backend with ``generate_batch`` (the HF model) gets ``batch_size`` cases at a time."""
    texts: list[str] = []
    cut: list[bool] = []
    batched = getattr(backend, "generate_batch", None)
    step = max(1, batch_size) if batched is not None else 1
    for start in range(0, len(cases), step):
        chunk = cases[start:start + step]
        if batched is not None:
            got, ran_on = batched(chunk)
            texts += got
            cut += ran_on
        else:
            texts.append(backend.generate(chunk[0]))
            cut.append(last_ran_on(backend))
        if progress is not None:
            progress(Progress(source, len(texts), len(cases)))
    return texts, cut


# --------------------------------------------------------------------------- scoring
@dataclass
class _Replies:
    """One source's replies for a subset of cases."""

    cases: list[Case]
    texts: list[str]
    ran_on: list[bool]

    def subset(self, persona: str) -> "_Replies":
        keep = [i for i, c in enumerate(self.cases) if c.persona == persona]
        return _Replies([self.cases[i] for i in keep], [self.texts[i] for i in keep], [self.ran_on[i] for i in keep])


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _degeneration(r: _Replies, yard: Yardsticks) -> Degeneration:
    return degeneration(r.texts, [c.partners for c in r.cases], vocabulary=yard.bigram_vocabulary, ran_on=r.ran_on)


def _leaks(r: _Replies, yard: Yardsticks, source: str) -> list[Leak]:
    return [Leak(kind, value, case.id, case.persona, source)
            for case, text in zip(r.cases, r.texts) for kind, value in yard.leaks.find(text)]


def _persona_source(r: _Replies, real: _Replies, persona: str, yard: Yardsticks, source: str) -> SourceMetrics:
    acc = yard.attributor.accuracy_by_persona(r.texts, [persona] * len(r.texts)).get(persona)
    habits = yard.habits.get(persona, frozenset())
    profile = style_profile(r.texts, habits)
    return SourceMetrics(
        n=len(r.texts), accuracy=acc, style=profile,
        style_distance=style_distance(profile, style_profile(real.texts, habits)),
        copy_rate=yard.copies.copy_rate(r.texts),
        media_only_rate=_rate([is_media_only(t) for t in r.texts]),
        leaks=len(_leaks(r, yard, source)), degeneration=_degeneration(r, yard))


def own_style_distance(own: Sequence[str], real: Sequence[str], habits: frozenset[str] = frozenset(),
                       *, draws: int = OWN_DRAWS, seed: int = 0) -> float | None:
    """How far the person's own messages are from their ``real`` held-out replies: the mean
    style distance of ``draws`` random samples of ``len(real)`` of ``own`` (their train turns).
    None when there are fewer own turns than held-out replies (no fair sample)."""
    if not real or len(own) < len(real):
        return None
    target = style_profile(list(real), habits)
    pool = list(own)
    rng = random.Random(seed)
    got = [style_distance(style_profile(rng.sample(pool, len(real)), habits), target).summary
           for _ in range(draws)]
    return _mean(got)


def _overall_source(r: _Replies, per_persona: list[SourceMetrics], yard: Yardsticks, source: str) -> SourceMetrics:
    distances = [m.style_distance for m in per_persona if m.style_distance is not None]
    features = {k: _mean([d.features.get(k) for d in distances]) for k in FEATURES}
    return SourceMetrics(
        n=len(r.texts), accuracy=_mean([m.accuracy for m in per_persona]), style=None,
        style_distance=StyleDistance(features, _mean([d.summary for d in distances])) if distances else None,
        copy_rate=yard.copies.copy_rate(r.texts),
        media_only_rate=_rate([is_media_only(t) for t in r.texts]),
        leaks=len(_leaks(r, yard, source)), degeneration=_degeneration(r, yard))


def _scores(sources: dict[str, SourceMetrics], chance: float, own_style: float | None = None) -> Scores:
    cand, real, base = sources[CANDIDATE], sources[REAL], sources.get(BASE)
    fid = fidelity(cand.accuracy, real.accuracy, chance)
    floor = base.accuracy if base else None
    return Scores(
        n=cand.n, chance=chance, ceiling=real.accuracy, floor=floor, accuracy=cand.accuracy,
        fidelity=fid.value, base_fidelity=fidelity(floor, real.accuracy, chance).value if base else None,
        fidelity_note=fid.note,
        style_distance=cand.style_distance.summary if cand.style_distance else None,
        base_style_distance=base.style_distance.summary if base and base.style_distance else None,
        copy_rate=cand.copy_rate, real_copy_rate=real.copy_rate,
        media_only_rate=cand.media_only_rate, real_media_only_rate=real.media_only_rate,
        leaks=cand.leaks, degeneration=cand.degeneration, sources=sources, own_style_distance=own_style)


def score(cases: Sequence[Case], replies: dict[str, tuple[list[str], list[bool]]], yard: Yardsticks
          ) -> tuple[Scores, dict[str, Scores], list[Leak]]:
    """Score generated replies (``replies[source] = (texts, ran_on)``; ``fine_tuned`` required,
    ``base`` optional; the real replies come from the cases)."""
    cases = list(cases)
    all_replies = {name: _Replies(cases, list(texts), list(cut)) for name, (texts, cut) in replies.items()}
    all_replies[REAL] = _Replies(cases, [c.reply for c in cases], [False] * len(cases))
    chance = yard.attributor.chance
    personas = list(dict.fromkeys(c.persona for c in cases))
    per_persona: dict[str, Scores] = {}
    for persona in personas:
        real = all_replies[REAL].subset(persona)
        sources = {name: _persona_source(r.subset(persona), real, persona, yard, name)
                   for name, r in all_replies.items()}
        own = own_style_distance(yard.own.get(persona, ()), real.texts, yard.habits.get(persona, frozenset()))
        per_persona[persona] = _scores(sources, chance, own)
    overall_sources = {name: _overall_source(r, [s.sources[name] for s in per_persona.values()], yard, name)
                       for name, r in all_replies.items()}
    leaks = [leak for name, r in all_replies.items() if name != REAL for leak in _leaks(r, yard, name)]
    owns = [s.own_style_distance for s in per_persona.values()]
    overall_own = _mean(owns) if None not in owns else None
    return _scores(overall_sources, chance, overall_own), per_persona, leaks


def score_by_chat(cases: Sequence[Case], replies: dict[str, tuple[list[str], list[bool]]], yard: Yardsticks
                  ) -> dict[str, Scores]:
    """The overall scores of each chat's cases (a project with several chats; else empty):
    how well the model keeps each relationship's register (my sister vs. the group)."""
    cases = list(cases)
    chat_ids = list(dict.fromkeys(c.chat_id for c in cases if c.chat_id))
    if len(chat_ids) < 2:
        return {}
    out = {}
    for chat_id in chat_ids:
        keep = [i for i, c in enumerate(cases) if c.chat_id == chat_id]
        subset = {name: ([texts[i] for i in keep], [cut[i] for i in keep]) for name, (texts, cut) in replies.items()}
        out[chat_id] = score([cases[i] for i in keep], subset, yard)[0]
    return out


# --------------------------------------------------------------------------- the whole measure
def measure(data: EvalData, candidate: Backend, *, base: Backend | None = None, cap: int | None = DEFAULT_CAP,
            seed: int = 0, cases: Sequence[Case] | None = None, yardsticks: Yardsticks | None = None,
            progress: Callable[[Progress], None] | None = None, n_examples: int = EXAMPLES) -> FidelityReport:
    """Measure ``candidate`` (and ``base``, for the floor) on the project's held-out cases."""
    started = time.perf_counter()
    yard = yardsticks or build_yardsticks(data, seed=seed)
    chosen = list(cases) if cases is not None else choose_cases(data, yard, cap, seed=seed)
    if not chosen:
        raise WachatError("there are no held-out cases to measure on")
    seconds: dict[str, float] = {}
    replies: dict[str, tuple[list[str], list[bool]]] = {}
    for name, backend in ((BASE, base), (CANDIDATE, candidate)):
        if backend is None:
            continue
        t0 = time.perf_counter()
        replies[name] = generate_replies(backend, chosen, name, progress)
        seconds[name] = round(time.perf_counter() - t0, 1)
    overall, personas, leaks = score(chosen, replies, yard)
    chats = score_by_chat(chosen, replies, yard)
    examples = [Example(c.id, c.persona, c.context[-3:], c.reply,
                        replies[BASE][0][i] if BASE in replies else None, replies[CANDIDATE][0][i])
                for i, c in enumerate(chosen[:n_examples])]
    notes = []
    if overall.fidelity_note:
        notes.append(overall.fidelity_note)
    if set(yard.attributor.classes) - set(data.personas):
        notes.append("only one persona is trained: the other participants' real turns are the other classes")
    settings = {
        "cases": len(chosen), "cap": cap, "seed": seed, "personas": list(personas),
        "candidate": getattr(candidate, "name", "candidate"), "base": getattr(base, "name", None) if base else None,
        "generation_seconds": seconds, "seconds": round(time.perf_counter() - started, 1),
        "real_only": isinstance(candidate, RealBackend),
    }
    return FidelityReport(overall, personas, examples, leaks, yard.attributor.describe(), settings, notes,
                          chats=chats)
