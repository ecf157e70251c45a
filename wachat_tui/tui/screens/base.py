"""What every pane shares: the mode bar on top, the footer below, project syncing."""
from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea
from textual.containers import Vertical
from textual.css.query import NoMatches

from ...display import safe, safe_text

PANES: tuple[tuple[str, str, str], ...] = (
    ("1", "import", "Import"),
    ("2", "review", "Review"),
    ("3", "train", "Train"),
    ("4", "export", "Export"),
    ("5", "chat", "Chat"),
    ("6", "eval", "Eval"),
)


class ModeTab(Static):
    def __init__(self, key: str, mode: str, label: str, active: bool) -> None:
        super().__init__(Text.assemble((f"{key} ", "bold"), label), classes="mode-tab")
        self.mode = mode
        self.set_class(active, "-active")

    def on_click(self) -> None:
        self.app.run_action(f"pane('{self.mode}')")


class ModeBar(Horizontal):
    """`wachat ▸ project` on the left, the panes (active one highlighted) on the right."""

    def __init__(self, mode: str) -> None:
        super().__init__(id="mode-bar")
        self.mode = mode

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("wachat", "bold"), " "), id="brand")
        yield Static("", id="project-label")
        for key, mode, label in PANES:
            yield ModeTab(key, mode, label, mode == self.mode)

    def set_project(self, text: str) -> None:
        self.query_one("#project-label", Static).update(text)


class PaneScreen(Screen):
    """Base for the five panes and the welcome screen.

    Subclasses implement ``compose_pane`` and ``project_changed``; the latter runs whenever
    the pane becomes visible after the app opened another project (and on first show).
    """

    MODE: ClassVar[str] = ""
    MAIN_FOCUS: ClassVar[str] = ""  # selector focused by Escape (leaves text fields)

    BINDINGS = [
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._seen_version = -1

    def compose(self) -> ComposeResult:
        yield ModeBar(self.MODE)
        yield from self.compose_pane()
        yield Footer(compact=True)

    def compose_pane(self) -> ComposeResult:  # pragma: no cover - overridden
        yield from ()

    @property
    def project(self):
        return getattr(self.app, "project", None)

    def on_screen_resume(self) -> None:
        self.sync_project()

    def sync_project(self, force: bool = False) -> None:
        version = getattr(self.app, "project_version", 0)
        if force or version != self._seen_version:
            self._seen_version = version
            self._update_mode_bar()
            self.project_changed(self.project)

    def _update_mode_bar(self) -> None:
        project = self.project
        try:
            bar = self.query_one(ModeBar)
        except NoMatches:  # called before the pane is composed
            return
        if project is None:
            bar.set_project(Text("no project", style="dim italic"))
            return
        label = Text.assemble(("▸ ", "dim"), (safe(project.name), "bold"))
        people = [p for p in (project.personas or []) if p]
        if people:
            label.append(f"  {' ⇄ '.join(safe(p) for p in people[:3])}", style="dim")
        bar.set_project(label)

    def project_changed(self, project) -> None:
        """Reload what the pane shows for ``project`` (None: no project open)."""

    def action_leave_field(self) -> None:
        focused = self.focused
        if isinstance(focused, (Input, TextArea, Select)) and self.MAIN_FOCUS:
            try:
                self.query_one(self.MAIN_FOCUS).focus()
                return
            except NoMatches:  # the pane's main widget is not shown (e.g. no project open)
                pass
        if isinstance(focused, (Input, TextArea)):
            self.set_focus(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; Enter/y confirms, Escape/n declines."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Label(safe_text(self.question), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes} (y)", variant="primary", id="yes")
                yield Button(f"{self.no} (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
