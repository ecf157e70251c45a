"""The welcome screen: open an export, load the bundled demo, or reopen a project."""
from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.widgets import LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from ..util import one_line as _one_line
from ...display import safe
from ...errors import WachatError
from .base import PaneScreen

LOGO = r"""
 __      ____ _  ___| |__   __ _| |_
 \ \ /\ / / _` |/ __| '_ \ / _` | __|
  \ V  V / (_| | (__| | | | (_| | |_
   \_/\_/ \__,_|\___|_| |_|\__,_|\__|
"""


class WelcomeScreen(PaneScreen):
    MODE = "welcome"
    MAIN_FOCUS = "#welcome-options"
    BINDINGS = [
        Binding("d", "load_demo", "Load demo", tooltip="Import the bundled demo chat (Maya ⇄ Leo)"),
        Binding("o", "open_export", "Open export", tooltip="Pick a WhatsApp export (.txt or .zip)"),
    ]

    def compose_pane(self) -> ComposeResult:
        with Center(id="welcome-center"):
            with Vertical(id="welcome-box"):
                yield Static(LOGO.strip("\n"), id="logo")
                yield Static(
                    "Turn a WhatsApp chat into a small local model that texts like you — "
                    "then chat with it, as either side, or let it play both.",
                    id="tagline")
                yield OptionList(id="welcome-options")
                yield LoadingIndicator(id="welcome-busy")
                yield Static("", id="welcome-hint")

    def on_mount(self) -> None:
        self.query_one("#welcome-busy").display = False

    def project_changed(self, project) -> None:
        self._fill_options()

    def _fill_options(self) -> None:
        options = self.query_one("#welcome-options", OptionList)
        options.clear_options()
        options.add_option(Option(Text.assemble(("d  ", "bold"), "Load the demo chat ",
                                                ("Maya ⇄ Leo, bundled", "dim")), id="demo"))
        options.add_option(Option(Text.assemble(("o  ", "bold"), "Open a WhatsApp export… ",
                                                (".txt or .zip", "dim")), id="open"))
        projects = []
        try:
            from ...core.project import Project

            projects = list(Project.list())
        except (WachatError, OSError):  # an unreadable projects folder: offer import and the demo
            projects = []
        if projects:
            options.add_option(None)
            for p in projects:
                name = getattr(p, "name", str(p))
                people = " ⇄ ".join(safe(x) for x in getattr(p, "personas", None) or [])
                current = self.project is not None and self.project.name == name
                label = Text.assemble(("▸  " if current else "   ", "bold"), (safe(name), "bold"),
                                      (f"  {people}" if people else "", "dim"))
                options.add_option(Option(label, id=f"project:{name}"))
        hint = self.query_one("#welcome-hint", Static)
        hint.update(Text("↑↓ Enter · 1–5 panes · ctrl+p all actions · ctrl+q quit",
                         style="dim"))
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        oid = event.option.id or ""
        if oid == "demo":
            self.action_load_demo()
        elif oid == "open":
            self.action_open_export()
        elif oid.startswith("project:"):
            self._open_project(oid.split(":", 1)[1])

    def _open_project(self, name: str) -> None:
        try:
            from ...core.project import Project

            project = Project.open(name)
        except (WachatError, OSError) as exc:  # ProjectError has a user sentence
            self.notify(_one_line(exc), severity="error")
            return
        self.app.open_project(project, mode="review")

    def action_open_export(self) -> None:
        self.app.switch_mode("import")

    def action_load_demo(self) -> None:
        self.query_one("#welcome-busy").display = True
        self.query_one("#welcome-hint", Static).update("Importing the demo chat…")
        self._load_demo()

    @work(thread=True, exclusive=True, group="demo")
    def _load_demo(self) -> None:
        try:
            from ...core.project import ensure_demo_project

            project = ensure_demo_project()
        except Exception as exc:  # worker boundary: any failure is shown on the welcome screen, never kills the app
            self.app.call_from_thread(self._demo_failed, _one_line(exc))
            return
        self.app.call_from_thread(self._demo_loaded, project)

    def _demo_loaded(self, project) -> None:
        self.query_one("#welcome-busy").display = False
        self.notify(f"Demo project “{project.name}” ready: you are {project.me}.")
        self.app.open_project(project, mode="review")

    def _demo_failed(self, message: str) -> None:
        self.query_one("#welcome-busy").display = False
        self.query_one("#welcome-hint", Static).update("")
        self.notify(message, title="Could not load the demo", severity="error")

