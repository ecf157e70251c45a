"""A conversation with the model: its lines, who plays whom, and its saved history. No UI.

The CLI (``wachat chat``, ``wachat simulate``) and the Chat pane both hold a
:class:`Conversation` and only show it: sending a line, streaming the model's turn, swapping
sides, regenerating the last reply and starting over all happen here, with the history in
the project's :class:`~wachat_tui.chat.store.ChatStore` kept in step (every completed line
is committed at once).

:meth:`Conversation.stream_turn` is the one streaming helper: it serves a reply (the model
answers as the persona it plays) and a simulation turn (it plays whoever is next) alike.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Iterator, Sequence

from ..core.names import resolve_name
from ..errors import ProjectError
from .lines import ChatLine, lines_from_reply, now

if TYPE_CHECKING:
    from .engine import ChatEngine, Sampling
    from .store import ChatStore


class Conversation:
    """One conversation of a project: the lines so far and the two sides.

    ``you`` is the participant the user writes as, ``model_plays`` the one the model answers
    as; in a simulation the model plays both, ``you`` then being the one who started.
    ``store`` (optional) receives every line as soon as it is complete; the conversation row
    is created with the first line, so an empty conversation is never saved.
    """

    def __init__(self, participants: Sequence[str], you: str, model_plays: str, *,
                 store: "ChatStore | None" = None, chat_name: str | None = None, kind: str = "chat",
                 model_name: str = "", lines: Sequence[ChatLine] = (),
                 conversation_id: int | None = None, platform: str = "whatsapp"):
        if you == model_plays:
            raise ProjectError(f"you and the model cannot both be {you}", hint="pick another side")
        self.participants = list(dict.fromkeys([*participants, you, model_plays]))
        self.you = you
        self.model_plays = model_plays
        self.store = store
        self.chat_name = chat_name
        """The group's title (None in a 1:1 chat): the prompt names it."""
        self.platform = platform
        """The messenger the conversation happens on (the prompt names it)."""
        self.kind = kind
        self.model_name = model_name
        """The GGUF's file name, saved with the conversation."""
        self.lines: list[ChatLine] = list(lines)
        self.conversation_id = conversation_id

    @classmethod
    def resume(cls, store: "ChatStore", participants: Sequence[str], you: str, model_plays: str,
               **options) -> "Conversation":
        """The store's latest conversation of this kind, going on from where it stopped
        (a fresh one when there is none)."""
        conv = cls(participants, you, model_plays, store=store, **options)
        conv.conversation_id = store.latest(kind=conv.kind)
        if conv.conversation_id is not None:
            conv.lines = store.history(conv.conversation_id)
        return conv

    # -- sides ----------------------------------------------------------------------------
    def other(self, name: str) -> str:
        """The first participant who is not ``name``."""
        return next((p for p in self.participants if p != name), name)

    def partners_of(self, persona: str) -> list[str]:
        """Everybody ``persona`` is texting with."""
        return [p for p in self.participants if p != persona]

    def swap(self, name: str | None = None) -> str:
        """The model plays ``name`` from now on (default: the user's side), the user the side
        the model played when ``name`` was the user. The history stays as it is."""
        target = resolve_name(name, self.participants, "the participant") if name else self.you
        if target == self.you:
            self.you = self.model_plays
        self.model_plays = target
        return target

    def follow_last_side(self) -> None:
        """Go on as the participant the user wrote as last (a resumed conversation)."""
        last = next((l.author for l in reversed(self.lines) if not l.by_model), None)
        if last in self.participants and last != self.you:
            self.you = last
            if self.model_plays == last:
                self.model_plays = self.other(last)

    # -- lines ----------------------------------------------------------------------------
    def record(self, lines: Sequence[ChatLine], played: str | None = None) -> None:
        """Append completed lines and save them (``played``: who the model was playing)."""
        lines = list(lines)
        if not lines:
            return
        self.lines.extend(lines)
        if self.store is None:
            return
        if self.conversation_id is None:
            personas = [self.model_plays] if self.kind == "chat" else [self.you, self.model_plays]
            self.conversation_id = self.store.new_conversation(
                f"{self.you} & {self.model_plays}", kind=self.kind, personas=personas,
                model=self.model_name)
        self.store.add_many(self.conversation_id, lines, played)

    def say(self, text: str, author: str | None = None) -> list[ChatLine]:
        """A human's turn (``author``: default the user's side), one line per non-empty line."""
        lines = lines_from_reply(author or self.you, text, by_model=False)
        self.record(lines, self.model_plays if self.kind == "chat" else None)
        return lines

    def stream_turn(self, engine: "ChatEngine", persona: str | None = None,
                    stop: threading.Event | None = None, *, sampling: "Sampling | None" = None,
                    max_bubbles: int | None = None) -> Iterator[str]:
        """Stream ``persona``'s next turn (default: the side the model plays) as text pieces.

        A ``"\\n"`` inside a piece starts a new bubble; ``max_bubbles`` ends the turn after that
        many (a simulation draws it from the persona's real bursts). When the stream ends —
        done, stopped through ``stop``, abandoned by the caller or broken by an error — what
        was streamed is recorded as the persona's lines (``by_model``), exactly as it was shown.
        """
        persona = persona or self.model_plays
        started = now()
        shown: list[str] = []
        stream = engine.stream_reply(self.lines, persona, self.partners_of(persona), stop,
                                     chat_name=self.chat_name, sampling=sampling, platform=self.platform)
        try:
            for piece in stream:
                full = False
                if max_bubbles:
                    piece, full = cap_bubbles("".join(shown), piece, max_bubbles)
                if piece:
                    shown.append(piece)
                    yield piece
                if full:
                    break
        finally:
            stream.close()
            self.record(lines_from_reply(persona, "".join(shown), by_model=True, time=started),
                        played=persona)

    def last_reply_start(self) -> int | None:
        """Where the trailing model-written lines of one author begin (None: the last line is
        not the model's)."""
        end = len(self.lines)
        if not end or not self.lines[-1].by_model:
            return None
        author, start = self.lines[-1].author, end
        while start > 0 and self.lines[start - 1].by_model and self.lines[start - 1].author == author:
            start -= 1
        return start

    def drop_last_reply(self) -> str | None:
        """Take the model's last reply back (to write it again); returns who wrote it, or None
        when the conversation does not end with a model reply."""
        start = self.last_reply_start()
        if start is None:
            return None
        author = self.lines[start].author
        self.truncate(start)
        return author

    def truncate(self, keep: int) -> None:
        """Keep only the first ``keep`` lines, here and in the store."""
        self.lines = self.lines[:max(0, keep)]
        if self.store is not None and self.conversation_id is not None:
            self.store.truncate(self.conversation_id, len(self.lines))

    def start_new(self) -> None:
        """Begin a new conversation (the current one stays saved)."""
        self.lines = []
        self.conversation_id = None


def cap_bubbles(before: str, piece: str, limit: int) -> tuple[str, bool]:
    """``piece`` cut where the turn ``before + piece`` would start bubble ``limit + 1``:
    ``(piece, full)``, ``full`` once ``limit`` bubbles are complete."""
    text = before + piece
    done = 0
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            return piece, False
        if text[start:end].strip():
            done += 1
            if done >= limit:
                return (text[len(before):end] if end > len(before) else ""), True
        start = end + 1
