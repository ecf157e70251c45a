"""Simulation: the model plays both participants in turn.

Each side gets its own persona prompt and sees the shared history from its own side
(its lines as ``assistant``, the other's as ``user``) — the engine computes the roles from
the persona at prompt time, so nothing is copied or rewritten between turns.
"""
from __future__ import annotations

import random
import threading
from datetime import datetime
from typing import Callable, Iterable, Iterator, Sequence

from ..errors import ProjectError
from .engine import ChatEngine, ChatLine, Sampling, lines_from_reply


class _EitherEvent:
    """Looks like a ``threading.Event`` to the engine: set when any of its events is set."""

    def __init__(self, *events: threading.Event | None):
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


class Simulation:
    """Two (or more) personas talking, all played by one engine.

    ``turns(n)`` streams ``(author, piece)`` tuples: ``piece`` is text as it is generated
    (a ``"\\n"`` inside it starts a new bubble) and an empty ``piece`` marks the end of that
    author's turn. Completed turns are appended to ``history`` (``by_model=True``) and passed
    to ``on_line`` one ``ChatLine`` per bubble (e.g. to save them). ``stop()`` — from any
    thread — ends the running ``turns()`` between two tokens: nothing more is yielded (no
    end marker either) and the part already streamed is kept in ``history`` as it was shown.
    A later ``turns()`` call goes on from there, so pause/step is ``turns(1)`` at a time.
    """

    def __init__(self, engine: ChatEngine, personas: tuple[str, str] | Sequence[str],
                 history: Iterable[ChatLine] = (), opening: str | None = None, *,
                 chat_name: str | None = None, participants: Sequence[str] | None = None,
                 sampling: Sampling | None = None,
                 on_line: Callable[[ChatLine], None] | None = None):
        personas = list(dict.fromkeys(personas))
        if len(personas) < 2:
            raise ProjectError("a simulation needs two different personas")
        self.engine = engine
        self.personas = personas
        self.participants = list(dict.fromkeys([*(participants or ()), *personas]))
        self.chat_name = chat_name
        self.sampling = sampling
        self.on_line = on_line
        self.history: list[ChatLine] = list(history)
        self._stop = threading.Event()
        self._last: str | None = next((l.author for l in reversed(self.history)
                                       if l.author in self.personas), None)
        if opening and opening.strip():
            speaker = self.next_speaker
            for line in lines_from_reply(speaker, opening, by_model=False):
                self._record(line)
            self._last = speaker

    @property
    def next_speaker(self) -> str:
        """Who talks next: the persona after the last one who spoke (the first one to start)."""
        if self._last is None:
            return self.personas[0]
        return self.personas[(self.personas.index(self._last) + 1) % len(self.personas)]

    def _record(self, line: ChatLine) -> None:
        self.history.append(line)
        if self.on_line is not None:
            self.on_line(line)

    def stop(self) -> None:
        """End the running ``turns()`` now (checked between tokens)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def turns(self, n: int, stop: threading.Event | None = None) -> Iterator[tuple[str, str]]:
        """Play ``n`` turns, alternating speakers; see the class docstring for the stream."""
        self._stop.clear()
        halt = _EitherEvent(self._stop, stop)
        for _ in range(max(0, n)):
            if halt.is_set():
                return
            speaker = self.next_speaker
            partners = [p for p in self.participants if p != speaker]
            shown: list[str] = []
            for piece in self.engine.stream_reply(self.history, speaker, partners, halt,
                                                  chat_name=self.chat_name, sampling=self.sampling):
                if halt.is_set():
                    break
                shown.append(piece)
                yield speaker, piece
                if halt.is_set():
                    break
            now = datetime.now().replace(microsecond=0)
            for line in lines_from_reply(speaker, "".join(shown), by_model=True, time=now):
                self._record(line)
            self._last = speaker
            if halt.is_set():
                return
            yield speaker, ""


# --------------------------------------------------------------------------- real sessions

def real_sessions(messages: Iterable, personas: Sequence[str], *, gap_minutes: float = 60,
                  media: str = "tag", min_lines: int = 4) -> list[list[ChatLine]]:
    """The chat's sessions as ``ChatLine`` lists, cleaned exactly as for training
    (core.dataset.split_sessions: system events dropped, media tagged, bubbles kept).

    A session counts when it has at least ``min_lines`` lines and the first two
    ``personas`` both speak in it.
    """
    from ..core.dataset import split_sessions

    need = set(list(personas)[:2])
    out: list[list[ChatLine]] = []
    for session in split_sessions(messages, gap_minutes=gap_minutes, media=media):
        lines = [ChatLine(turn.author, part.strip(), False, turn.start)
                 for turn in session.turns for part in turn.text.split("\n") if part.strip()]
        if len(lines) >= min_lines and need <= {line.author for line in lines}:
            out.append(lines)
    return out


def pick_session(messages: Iterable, personas: Sequence[str], *, index: int | None = None,
                 seed: int | None = None, lines: int = 6, gap_minutes: float = 60,
                 media: str = "tag") -> list[ChatLine]:
    """The first ``lines`` lines (rounded up to a whole turn) of one real session:
    ``index`` (negative counts from the end) or a random one (``seed``).
    ProjectError when the chat has no usable session."""
    sessions = real_sessions(messages, personas, gap_minutes=gap_minutes, media=media)
    if not sessions:
        raise ProjectError("the chat has no session where both personas talk",
                           hint="start from a line of your own with --opening TEXT")
    if index is None:
        chosen = random.Random(seed).choice(sessions)
    else:
        if not -len(sessions) <= index < len(sessions):
            raise ProjectError(f"session {index} does not exist (the chat has {len(sessions)} usable ones)")
        chosen = sessions[index]
    cut = min(max(lines, 1), len(chosen))
    while cut < len(chosen) and chosen[cut].author == chosen[cut - 1].author:
        cut += 1
    return chosen[:cut]
