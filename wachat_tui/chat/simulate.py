"""Simulation: the model plays several personas in turn — two people, or a group.

Each persona gets its own prompt and sees the shared history from its own side (its lines as
``assistant``, the others' as ``user``): every turn is one
:meth:`~wachat_tui.chat.session.Conversation.stream_turn` for whoever is next, so nothing is
copied or rewritten between turns, and each completed turn is saved like a chat reply.

Who is next follows the real chats' turn-taking when it is given
(:mod:`~wachat_tui.core.turntaking`): in a group, drawn from who answered whom there; each
turn's number of bubbles drawn from the speaker's real bursts. Without it (or for two people)
the personas alternate. With a :class:`~wachat_tui.core.turntaking.Tempo` the simulation plays
at the personas' pace (a pause — "typing…" — before each turn and between bubbles, scaled from
the real reply times); every pause ends at once when the simulation is stopped.
"""
from __future__ import annotations

import random
import threading
import time
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from ..core.turntaking import Tempo, TurnTaking, burst_size, next_speaker
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

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking as soon as one of the events is set; True if set."""
        end = time.monotonic() + seconds
        while not self.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(0.02, left))
        return True


class Simulation:
    """Two or more personas talking in ``conversation``, all played by one engine.

    ``personas`` default to the conversation's two sides, the user's side first.
    ``turns(n)`` streams ``(author, piece)`` tuples: ``piece`` is text as it is generated
    (a ``"\\n"`` inside it starts a new bubble) and an empty ``piece`` marks the end of that
    author's turn. Completed turns land in the conversation (and its store) as model-written
    lines. ``stop()`` — from any thread — ends the running ``turns()`` between two tokens (or
    in the middle of a pause): nothing more is yielded (no end marker either) and the part
    already streamed is kept as it was shown. A later ``turns()`` call goes on from there, so
    pause/step is ``turns(1)``.

    ``turn_taking`` (the setting's numbers, see :func:`~wachat_tui.core.turntaking.for_setting`)
    chooses the next speaker and each turn's bubbles; ``seed`` makes those draws repeatable;
    ``tempo`` plays at the personas' pace, telling ``on_typing(author, seconds)`` before each
    turn's pause.
    """

    def __init__(self, engine: "ChatEngine", conversation: Conversation,
                 personas: Sequence[str] | None = None, *, opening: str | None = None,
                 sampling: "Sampling | None" = None, turn_taking: TurnTaking | None = None,
                 seed: int | None = None, tempo: Tempo | None = None,
                 on_typing: Callable[[str, float], None] | None = None):
        personas = list(dict.fromkeys(personas or (conversation.you, conversation.model_plays)))
        if len(personas) < 2:
            raise ProjectError("a simulation needs two different personas")
        self.engine = engine
        self.conversation = conversation
        self.personas = personas
        self.sampling = sampling
        self.turn_taking = turn_taking
        self.tempo = tempo
        self.on_typing = on_typing
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._next: str | None = None
        self._last: str | None = next((l.author for l in reversed(conversation.lines)
                                       if l.author in self.personas), None)
        if opening and opening.strip():
            speaker = self.next_speaker
            conversation.say(opening, author=speaker)
            self._spoke(speaker)

    @property
    def history(self) -> list[ChatLine]:
        return self.conversation.lines

    @property
    def next_speaker(self) -> str:
        """Who talks next (the same answer until that turn is played): drawn from the turn-taking
        when there is one, else the persona after the last one who spoke (the first to start)."""
        if self._next is None:
            if self.turn_taking is not None:
                self._next = next_speaker(self.turn_taking, self._last, self.personas, self._rng)
            elif self._last is None:
                self._next = self.personas[0]
            else:
                self._next = self.personas[(self.personas.index(self._last) + 1) % len(self.personas)]
        return self._next

    def _spoke(self, speaker: str) -> None:
        self._last, self._next = speaker, None

    def stop(self) -> None:
        """End the running ``turns()`` now (checked between tokens and during pauses)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def turns(self, n: int, stop: threading.Event | None = None) -> Iterator[tuple[str, str]]:
        """Play ``n`` turns; see the class docstring for the stream."""
        self._stop.clear()
        halt = _EitherEvent(self._stop, stop)
        tt, tempo = self.turn_taking, self.tempo
        for _ in range(max(0, n)):
            if halt.is_set():
                return
            speaker = self.next_speaker
            bubbles = burst_size(tt, speaker, self._rng) if tt is not None else None
            if tempo is not None and tt is not None:
                pause = tempo.before_turn(tt, speaker)
                if self.on_typing is not None:
                    self.on_typing(speaker, pause)
                if halt.wait(pause):
                    return
            gap = tempo.between_bubbles(tt, speaker) if tempo is not None and tt is not None else 0.0
            stream = self.conversation.stream_turn(self.engine, speaker, halt, sampling=self.sampling,
                                                   max_bubbles=bubbles)
            try:
                for piece in stream:  # the engine yields nothing once ``halt`` is set
                    for part in _bubble_parts(piece) if gap else (piece,):
                        yield speaker, part
                        if part == "\n" and halt.wait(gap):
                            break
                    if halt.is_set():
                        break
            finally:
                stream.close()  # records what was shown, also when our caller stops listening
                self._spoke(speaker)
            if halt.is_set():
                return
            yield speaker, ""


def _bubble_parts(piece: str) -> list[str]:
    """``"a\\nb"`` → ``["a", "\\n", "b"]``: the newlines on their own, to pause after each."""
    parts: list[str] = []
    for i, chunk in enumerate(piece.split("\n")):
        if i:
            parts.append("\n")
        if chunk:
            parts.append(chunk)
    return parts


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
