"""The wachat Textual app: one mode per pane (1 Import … 5 Chat, 6 Eval) plus a welcome screen.

Importing this module stays light (no torch, transformers, trl, peft or llama_cpp): the
heavy libraries are imported by the workers that need them, or live in the training and
export processes. A test checks it in a fresh interpreter.
"""
from __future__ import annotations

import json
import os
from importlib import import_module
from pathlib import Path
from typing import Any, Callable

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from ..display import safe
from ..errors import WachatError
from .commands import ActionsProvider
from .screens.base import PANES, ConfirmScreen
from .themes import ANSI_DARK, ANSI_LIGHT, DEFAULT_VARIABLES, THEMES

PANE_GROUP = Binding.Group("Panes", compact=True)


def _pane(module: str, cls: str) -> Callable[[], Screen]:
    """A mode's screen factory that imports its module on first visit, so starting the app
    pays only for the pane it opens on."""
    def make() -> Screen:
        return getattr(import_module(f"{__package__}.screens.{module}"), cls)()
    make.__name__ = cls
    return make


class WachatApp(App[int]):
    """`wachat`: import → review → train → export → chat → eval, keyboard first."""

    CSS_PATH = "wachat.tcss"
    TITLE = "wachat"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (96, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    MODES = {
        "welcome": _pane("welcome", "WelcomeScreen"),
        "import": _pane("import_", "ImportScreen"),
        "review": _pane("review", "ReviewScreen"),
        "train": _pane("train", "TrainScreen"),
        "export": _pane("export", "ExportScreen"),
        "chat": _pane("chat", "ChatScreen"),
        "eval": _pane("eval", "EvalScreen"),
    }
    BINDINGS = [
        *(Binding(key, f"pane('{mode}')", label, group=PANE_GROUP, tooltip=f"Show the {label} pane")
          for key, mode, label in PANES),
        Binding("0", "pane('welcome')", "Projects", show=False,
                tooltip="Open another project, an export or the demo"),
        Binding("f2", "toggle_theme", "Theme", show=False, tooltip="Switch dark / light theme"),
        Binding("f1", "show_keys", "Keys", show=False, tooltip="Show every key of this pane"),
    ]

    def __init__(self, project: Any = None, open_file: str | Path | None = None,
                 start_mode: str | None = None, theme: str | None = None) -> None:
        super().__init__()
        for t in THEMES:
            self.register_theme(t)
        self.ansi_theme_dark = ANSI_DARK
        self.ansi_theme_light = ANSI_LIGHT
        self.project = project
        self.project_version = 0
        self.open_file = Path(open_file) if open_file else None
        self._start_mode = start_mode
        self.theme = theme or self._saved_theme() or "whatsapp-dark"
        # processes and engines the panes started; the app stops them cleanly on quit
        self._closers: dict[str, Any] = {}

    # -- notifications -------------------------------------------------------------------
    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification is shown literally: messages carry names, file names and errors
        that quote them, so neither markup nor control characters in them are interpreted."""
        super().notify(safe(message), title=safe(title), severity=severity, timeout=timeout,
                       markup=False)

    # -- theme ---------------------------------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(DEFAULT_VARIABLES)

    def _settings_path(self) -> Path:
        from ..paths import data_home

        return data_home() / "tui.json"

    def _saved_theme(self) -> str | None:
        if os.environ.get("WACHAT_TUI_NO_SETTINGS"):
            return None
        try:
            theme = json.loads(self._settings_path().read_text()).get("theme")
        except (OSError, ValueError, AttributeError):
            return None
        return theme if theme in {t.name for t in THEMES} or theme in self.available_themes else None

    def action_toggle_theme(self) -> None:
        self.theme = "whatsapp-light" if self.theme == "whatsapp-dark" else "whatsapp-dark"
        if os.environ.get("WACHAT_TUI_NO_SETTINGS"):
            return
        try:
            from ..core.atomic import write_json
            from ..paths import ensure_private_dir

            ensure_private_dir(self._settings_path().parent)
            write_json(self._settings_path(), {"theme": self.theme})
        except (OSError, WachatError):  # a settings file is never worth an error
            pass

    def action_show_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    # -- startup -------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.project is not None:
            self.project_version += 1
        self.switch_mode(self._first_mode())

    def _first_mode(self) -> str:
        if self._start_mode:
            return self._start_mode
        if self.open_file is not None:
            return "import"
        if self.project is None:
            return "welcome"
        from ..core.layout import list_exports
        from ..errors import WachatError

        try:
            if list_exports(self.project.dir):  # exports written anywhere (--out) count too
                return "chat"
        except WachatError:  # a damaged exports.json: the Chat and Export panes say so
            pass
        return "review"

    # -- projects ------------------------------------------------------------------------
    def open_project(self, project: Any, mode: str | None = None) -> None:
        """Make ``project`` the app's project; every pane reloads when it is next shown."""
        self.project = project
        self.project_version += 1
        try:
            from ..core.project import set_last_project

            set_last_project(project.name)
        except (OSError, WachatError):  # remembering the last project is a convenience only
            pass
        try:
            self.screen.sync_project()  # type: ignore[attr-defined]
        except AttributeError:
            pass
        if mode:
            self.switch_mode(mode)

    def action_pane(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    # -- background work the app must stop cleanly ----------------------------------------
    def register_closer(self, name: str, closer: Any) -> None:
        self._closers[name] = closer

    def unregister_closer(self, name: str) -> None:
        self._closers.pop(name, None)

    def running_jobs(self) -> list[str]:
        return [name for name, c in self._closers.items() if getattr(c, "active", lambda: True)()]

    async def action_quit(self) -> None:
        jobs = [j for j in self.running_jobs() if j in ("training", "export")]
        if not jobs:
            self._stop_jobs()
            self.exit(0)
            return

        def answered(stop: bool | None) -> None:
            if stop:
                self.notify("Stopping… the run saves a checkpoint; resume it later with R.",
                            timeout=10)
                self.run_worker(self._stop_and_exit, thread=True, exclusive=True, group="quit")

        what = " and ".join(jobs)
        self.push_screen(
            ConfirmScreen(f"A {what} is running. Stop it cleanly (a training run saves a "
                          f"checkpoint you can resume) and quit?", yes="Stop and quit",
                          no="Keep working"),
            answered,
        )

    def _stop_and_exit(self) -> None:
        self._stop_jobs()
        self.call_from_thread(self.exit, 0)

    def _stop_jobs(self) -> None:
        for name, closer in list(self._closers.items()):
            try:
                closer.close()
            except Exception:  # quitting: one job failing to close must not keep the others (or the app) open
                pass
        self._closers.clear()


def _resolve_project(project: Any) -> Any:
    if project is None or not isinstance(project, (str, os.PathLike)):
        return project
    from ..core.project import Project

    return Project.open(str(project))


def run_app(project: Any = None, open_file: str | Path | None = None,
            start_mode: str | None = None) -> int:
    """Run the app on ``project`` (a Project or a name), the last project, or the welcome."""
    if project is None and open_file is None:
        try:
            from ..core.project import last_project

            project = last_project()
        except (WachatError, OSError):  # an unreadable state file: start on the welcome screen
            project = None
    project = _resolve_project(project)
    app = WachatApp(project=project, open_file=open_file, start_mode=start_mode)
    result = app.run()
    return int(result or 0)
