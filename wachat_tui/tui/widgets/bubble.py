"""WhatsApp-style chat bubbles, day separators and the chat header."""
from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Static

from ...chat.lines import media_bubble
from ...display import safe

MODEL_TAG = "🤖 model"


def day_label(when: datetime) -> str:
    # An absolute date (never "Today"), so screenshots and snapshots do not depend on the clock.
    return when.strftime("%a %-d %b %Y")


class DaySeparator(Static):
    """A centred date pill between the bubbles of two days."""

    def __init__(self, when: datetime) -> None:
        super().__init__(day_label(when), classes="day-separator")
        self.day = when.date()


class ChatTurn(Vertical):
    """One turn of one person: a bubble per line, the first one headed with name and time.

    Bubbles written by the model always carry the model tag, whoever's side they are on.
    """

    text: reactive[str] = reactive("", init=False)

    def __init__(self, author: str, text: str, when: datetime | None, *, by_model: bool, mine: bool,
                 streaming: bool = False, turn_id: int | None = None) -> None:
        classes = "chat-turn " + ("-mine" if mine else "-theirs") + (" -model" if by_model else "")
        super().__init__(classes=classes)
        self.author = author
        self.when = when
        self.by_model = by_model
        self.mine = mine
        self.streaming = streaming
        self.turn_id = turn_id
        self.set_reactive(ChatTurn.text, text)

    def compose(self) -> ComposeResult:
        for i, line in enumerate(self._lines()):
            yield self._bubble(i, line)

    def _lines(self) -> list[str]:
        lines = self.text.split("\n") if self.text else [""]
        if self.streaming:
            lines[-1] = lines[-1] + "▍"
        return lines

    def _header(self) -> Text:
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(safe(self.author), style="bold")
        if self.when is not None:
            head.append(f" · {self.when:%H:%M}", style="dim")
        if self.by_model:
            head.append("  ")
            head.append(MODEL_TAG, style="bold italic")
        return head

    @staticmethod
    def _body(line: str) -> Text:
        """The bubble's text; a media tag (``<photo>``) shows as a grey "📷 photo" note, caption after it."""
        media = media_bubble(line)
        if media is None:
            return Text(safe(line) or " ")
        label, caption = media
        body = Text(label, style="italic dim")
        if caption:
            body.append("\n" + safe(caption))
        return body

    def _bubble(self, index: int, line: str) -> Horizontal:
        body = self._body(line)
        if index == 0:
            content = Text.assemble(self._header(), "\n", body)
        else:
            content = body
        bubble = Static(content, classes="bubble" + (" -first" if index == 0 else ""))
        if index == 0 and self.by_model:
            bubble.add_class("-model")
        row = Horizontal(bubble, classes="bubble-row")
        # the bubble is the row's child only once the row is mounted (a later event): a refresh
        # that comes first (the next streamed piece) must update it without querying for it
        row.bubble = bubble  # type: ignore[attr-defined]
        return row

    def watch_text(self) -> None:
        self._refresh_bubbles()

    def set_streaming(self, streaming: bool) -> None:
        self.streaming = streaming
        self._refresh_bubbles()

    def _refresh_bubbles(self) -> None:
        if not self.is_mounted:
            return
        lines = self._lines()
        rows = list(self.query_children(".bubble-row"))
        for i, line in enumerate(lines):
            if i < len(rows):
                bubble = rows[i].bubble  # type: ignore[attr-defined]
                body = self._body(line)
                bubble.update(Text.assemble(self._header(), "\n", body) if i == 0 else body)
            else:
                self.mount(self._bubble(i, line))
        for row in rows[len(lines):]:
            row.remove()


class ChatHeader(Horizontal):
    """Contact avatar, name and presence ("typing…" while the model streams)."""

    contact: reactive[str] = reactive("")
    status: reactive[str] = reactive("")
    detail: reactive[str] = reactive("")

    def compose(self) -> ComposeResult:
        yield Static("", id="avatar")
        with Vertical(id="who"):
            yield Static("", id="contact-name")
            yield Static("", id="contact-status")
        yield Static("", id="chat-detail")

    def _update(self) -> None:
        if not self.is_mounted:
            return
        initial = safe(self.contact[:1] or "?").upper()
        self.query_one("#avatar", Static).update(Text(initial))
        self.query_one("#contact-name", Static).update(Text(safe(self.contact) or "—", style="bold"))
        self.query_one("#contact-status", Static).update(Text(safe(self.status)))
        self.query_one("#chat-detail", Static).update(self.detail)
        self.set_class(self.status.startswith("typing"), "-typing")

    def on_mount(self) -> None:
        self._update()

    def watch_contact(self) -> None:
        self._update()

    def watch_status(self) -> None:
        self._update()

    def watch_detail(self) -> None:
        self._update()
