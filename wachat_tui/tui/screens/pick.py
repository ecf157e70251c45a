"""Who talks, and where: the Chat pane's pick of the model's persona, your side, the setting (a
chat of the project or a new one) and who a simulation is between — from all the project's people."""
from __future__ import annotations

from dataclasses import dataclass, field

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Select, SelectionList

AUTO = "__auto__"
NEW = "new"


@dataclass
class ChatPick:
    """What the user picked."""

    model_plays: str
    you: str
    setting: str | None = None
    """A chat id, ``"new"``, or None (the chat the two share, else a new one)."""
    between: list[str] = field(default_factory=list)
    """Who a simulation is between (at least two)."""
    tempo: bool = False
    """Simulations play at the personas' own pace."""


class PickScreen(ModalScreen[ChatPick | None]):
    """Pick the people and the setting; Enter on OK (or ctrl+s) applies, Escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
    ]

    def __init__(self, people: list[str], chats: list[tuple[str, str]], current: ChatPick) -> None:
        super().__init__()
        self.people = people
        self.chats = chats
        self.current = current

    def compose(self) -> ComposeResult:
        people = [(p, p) for p in self.people]
        current = self.current
        with Vertical(id="pick-box"):
            yield Label("Who talks, and where", classes="section-title first")
            with Horizontal(classes="form-row"):
                yield Label("Model plays", classes="form-label")
                yield Select(people, value=current.model_plays, allow_blank=False, id="pick-model", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("You are", classes="form-label")
                yield Select(people, value=current.you, allow_blank=False, id="pick-you", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Setting", classes="form-label")
                settings = [("the chat they share (or a new one)", AUTO)] + list(self.chats) + [("a new chat", NEW)]
                yield Select(settings, value=current.setting or AUTO, allow_blank=False, id="pick-setting",
                             compact=True)
            yield Label("Simulate between (ctrl+g)", classes="section-title")
            between = set(current.between or [current.you, current.model_plays])
            yield SelectionList(*[(p, p, p in between) for p in self.people], id="pick-between", compact=True)
            yield Checkbox("play simulations at their real pace (typing…, pauses)", current.tempo,
                           id="pick-tempo", compact=True)
            with Horizontal(id="pick-buttons"):
                yield Button("OK  ctrl+s", variant="primary", id="pick-ok", compact=True)
                yield Button("Cancel  esc", id="pick-cancel", compact=True)

    def picked(self) -> ChatPick:
        setting = self.query_one("#pick-setting", Select).value
        return ChatPick(
            model_plays=str(self.query_one("#pick-model", Select).value),
            you=str(self.query_one("#pick-you", Select).value),
            setting=None if setting in (AUTO, Select.BLANK) else str(setting),
            between=[str(p) for p in self.query_one("#pick-between", SelectionList).selected],
            tempo=bool(self.query_one("#pick-tempo", Checkbox).value),
        )

    @on(Button.Pressed, "#pick-ok")
    def action_apply(self) -> None:
        pick = self.picked()
        if pick.you == pick.model_plays:
            self.notify("You and the model need to be two different people.", severity="warning")
            return
        if len(pick.between) < 2:
            self.notify("A simulation needs at least two people.", severity="warning")
            return
        self.dismiss(pick)

    @on(Button.Pressed, "#pick-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
