"""Simulation: the model plays both participants in turn.

Each side gets its own persona prompt and sees the shared history from its own side (its
lines as ``assistant``, the other's as ``user``): every turn is one
:meth:`~wachat_tui.chat.session.Conversation.stream_turn` for whoever is next, so nothing is
copied or rewritten between turns, and each completed turn is saved like a chat reply.
"""
from __future__ import annotations

import random
import threading
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from ..errors import ProjectError
from .lines import ChatLine
from .session import Conversation

if TYPE_CHECKING:
    from .engine import ChatEngine, Sampling


class _EitherEvent:
    """Looks like a ``threading.Event`` to the engine: set when any of its events is set."""

    def __init__(self, *events: threading.Event | None):
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


class Simulation:
    """Two (or more) personas talking in ``conversation``, all played by one engine.

    ``personas`` default to the conversation's two sides, the user's side first.
    ``turns(n)`` streams ``(author, piece)`` tuples: ``piece`` is text as it is generated
    (a ``"\\n"`` inside it starts a new bubble) and an empty ``piece`` marks the end of that
    author's turn. Completed turns land in the conversation (and its store) as model-written
    lines. ``stop()`` — from any thread — ends the running ``turns()`` between two tokens:
    nothing more is yielded (no end marker either) and the part already streamed is kept as it
    was shown. A later ``turns()`` call goes on from there, so pause/step is ``turns(1)``.
    """

    def __init__(self, engine: "ChatEngine", conversation: Conversation,
                 personas: Sequence[str] | None = None, *, opening: str | None = None,
                 sampling: "Sampling | None" = None):
        personas = list(dict.fromkeys(personas or (conversation.you, conversation.model_plays)))
        if len(personas) < 2:
            raise ProjectError("a simulation needs two different personas")
        self.engine = engine
        self.conversation = conversation
        self.personas = personas
        self.sampling = sampling
        self._stop = threading.Event()
        self._last: str | None = next((l.author for l in reversed(conversation.lines)
                                       if l.author in self.personas), None)
        if opening and opening.strip():
            speaker = self.next_speaker
            conversation.say(opening, author=speaker)
            self._last = speaker

    @property
    def history(self) -> list[ChatLine]:
        return self.conversation.lines

    @property
    def next_speaker(self) -> str:
        """Who talks next: the persona after the last one who spoke (the first one to start)."""
        if self._last is None:
            return self.personas[0]
        return self.personas[(self.personas.index(self._last) + 1) % len(self.personas)]

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
            stream = self.conversation.stream_turn(self.engine, speaker, halt, sampling=self.sampling)
            try:
                for piece in stream:  # the engine yields nothing once ``halt`` is set
                    yield speaker, piece
                    if halt.is_set():
                        break
            finally:
                stream.close()  # records what was shown, also when our caller stops listening
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
