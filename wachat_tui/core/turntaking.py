"""Who texts after whom, in how many bubbles, and how fast: the turn-taking of real chats.

A simulation draws from these numbers instead of going round-robin: the next speaker of a
group from the observed transitions (after Lisa, Pete answers 60 % of the time, Dani 30 %,
Alex 10 %), each turn's number of bubbles from the speaker's own bursts, and — when it plays
at the persona's pace — the pause before a turn and between bubbles from the real reply times.
People who never shared a chat fall back to their own bursts and pace, and alternate.

Pure functions over :class:`~wachat_tui.core.records.Session` records; no disk, no clock.
"""
from __future__ import annotations

import random
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .records import Session

#: a burst drawn for a simulated turn is at most this many bubbles
MAX_BURST = 8


@dataclass
class TurnTaking:
    """The turn-taking of one chat (or several, merged)."""

    transitions: dict[str, Counter] = field(default_factory=dict)
    """``transitions[a][b]``: how often ``b``'s turn came right after ``a``'s (same session)."""
    openers: Counter = field(default_factory=Counter)
    """Who wrote the first turn of a session, how often."""
    bursts: dict[str, Counter] = field(default_factory=dict)
    """``bursts[a][n]``: how many of ``a``'s turns had ``n`` bubbles."""
    reply_seconds: dict[str, list[float]] = field(default_factory=dict)
    """Seconds from the previous turn's last bubble to the person's first one (same session)."""
    bubble_seconds: dict[str, list[float]] = field(default_factory=dict)
    """Seconds between two bubbles of one turn (each turn's mean gap)."""

    @property
    def people(self) -> list[str]:
        return list(self.bursts)

    def turns(self, person: str) -> int:
        return sum(self.bursts.get(person, Counter()).values())

    def to_json(self) -> dict:
        return {
            "transitions": {a: dict(row) for a, row in self.transitions.items()},
            "openers": dict(self.openers),
            "bursts": {a: {str(n): k for n, k in sorted(row.items())} for a, row in self.bursts.items()},
            "reply_median_s": {a: _median(v) for a, v in self.reply_seconds.items()},
            "bubble_gap_median_s": {a: _median(v) for a, v in self.bubble_seconds.items()},
        }


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def turn_taking(sessions: Iterable[Session]) -> TurnTaking:
    """The turn-taking observed in ``sessions`` (one chat's)."""
    tt = TurnTaking()
    for session in sessions:
        turns = session.turns
        if not turns:
            continue
        tt.openers[turns[0].author] += 1
        prev = None
        for turn in turns:
            who = turn.author
            tt.bursts.setdefault(who, Counter())[max(1, turn.n_messages)] += 1
            if turn.n_messages > 1:
                gap = (turn.end - turn.start).total_seconds() / (turn.n_messages - 1)
                tt.bubble_seconds.setdefault(who, []).append(gap)
            if prev is not None and prev.author != who:
                tt.transitions.setdefault(prev.author, Counter())[who] += 1
                tt.reply_seconds.setdefault(who, []).append(max(0.0, (turn.start - prev.end).total_seconds()))
            prev = turn
    return tt


def merge(tables: Iterable[TurnTaking]) -> TurnTaking:
    """Several chats' numbers added up (transitions stay within each chat's sessions)."""
    out = TurnTaking()
    for tt in tables:
        for a, row in tt.transitions.items():
            out.transitions.setdefault(a, Counter()).update(row)
        out.openers.update(tt.openers)
        for a, row in tt.bursts.items():
            out.bursts.setdefault(a, Counter()).update(row)
        for a, v in tt.reply_seconds.items():
            out.reply_seconds.setdefault(a, []).extend(v)
        for a, v in tt.bubble_seconds.items():
            out.bubble_seconds.setdefault(a, []).extend(v)
    return out


def for_setting(chat: TurnTaking | None, overall: TurnTaking, people: Sequence[str],
                min_turns: int = 5) -> TurnTaking:
    """The numbers a simulation of ``people`` uses: who answers whom from ``chat`` (the setting's
    real chat; None for a new setting), and each person's bursts and pace from that chat when
    they took at least ``min_turns`` turns there, else from all their chats (``overall``)."""
    out = TurnTaking()
    if chat is not None:
        for a in people:
            row = Counter({b: n for b, n in chat.transitions.get(a, Counter()).items() if b in people})
            if row:
                out.transitions[a] = row
        out.openers = Counter({a: n for a, n in chat.openers.items() if a in people})
    for person in people:
        source = chat if chat is not None and chat.turns(person) >= min_turns else overall
        if person in source.bursts:
            out.bursts[person] = Counter(source.bursts[person])
        out.reply_seconds[person] = list(source.reply_seconds.get(person, []))
        out.bubble_seconds[person] = list(source.bubble_seconds.get(person, []))
    return out


# --------------------------------------------------------------------------- drawing
def next_speaker(tt: TurnTaking, last: str | None, people: Sequence[str], rng: random.Random) -> str:
    """Who writes the next turn among ``people`` after ``last`` (None: the first turn).

    From the observed transitions out of ``last`` (its row, limited to ``people``); when that
    row is empty — people who never shared a chat, or ``last`` never spoke there — each of the
    others is as likely as the turns they took (at least one each); the first turn goes to the
    first of ``people`` when none of them ever opened a session. Never ``last`` again: a turn
    already holds all of a person's consecutive bubbles.
    """
    people = list(dict.fromkeys(people))
    if not people:
        raise ValueError("no people to choose from")
    if len(people) == 1:
        return people[0]
    others = [p for p in people if p != last]
    if last is None:
        weights = [tt.openers.get(p, 0) for p in others]
        if not any(weights):
            return people[0]        # nobody of them ever opened a chat: the first one named starts
    else:
        row = tt.transitions.get(last, Counter())
        weights = [row.get(p, 0) for p in others]
    if not any(weights):
        weights = [1 + tt.turns(p) for p in others]
    return rng.choices(others, weights=weights, k=1)[0]


def burst_size(tt: TurnTaking, person: str, rng: random.Random, cap: int = MAX_BURST) -> int:
    """How many bubbles ``person``'s next turn has, drawn from their own bursts (1 without data)."""
    row = tt.bursts.get(person)
    if not row:
        return 1
    sizes = sorted(row)
    return min(cap, rng.choices(sizes, weights=[row[n] for n in sizes], k=1)[0])


@dataclass(frozen=True)
class Tempo:
    """Playing a simulation at the personas' pace: real seconds divided by ``speed`` (60: a
    real minute lasts a second), each pause at most ``cap`` seconds."""

    speed: float = 60.0
    cap: float = 4.0

    def __post_init__(self) -> None:
        if not self.speed > 0 or not self.cap >= 0:
            raise ValueError("the speed must be above 0 and the cap at least 0")

    def _scaled(self, seconds: float | None) -> float:
        if seconds is None:
            return 0.0
        return min(self.cap, max(0.0, seconds) / self.speed)

    def before_turn(self, tt: TurnTaking, person: str) -> float:
        """The pause ("typing…") before ``person``'s turn: their median reply time, scaled."""
        return self._scaled(_raw_median(tt.reply_seconds.get(person)))

    def between_bubbles(self, tt: TurnTaking, person: str) -> float:
        """The pause between two of ``person``'s bubbles: their median gap, scaled."""
        return self._scaled(_raw_median(tt.bubble_seconds.get(person)))


def _raw_median(values: Sequence[float] | None) -> float | None:
    return statistics.median(values) if values else None
