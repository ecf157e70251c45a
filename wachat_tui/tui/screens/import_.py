"""Import pane: pick an export (WhatsApp or Telegram), see what was detected, pick "me", set
options, create a project — or add the chat to the open project, see its chats and people, and
map a name to a person (aliases)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button, Checkbox, DirectoryTree, Input, Label, LoadingIndicator, OptionList, Select, Static,
)
from textual.widgets.option_list import Option

from ...core.names import slugify
from ...display import safe, safe_text
from ...errors import WachatError
from ..messages import DatasetPreviewed, ExportParsed, ExportParseFailed, ProjectImported, TaskFailed
from ..util import one_line, plural, short_path
from ..widgets.charts import hbar
from ..widgets.project_people import ProjectPeople
from .base import ConfirmScreen, PaneScreen

EXPORT_SUFFIXES = (".txt", ".zip", ".json")


class ExportTree(DirectoryTree):
    """A directory tree showing folders and export candidates (WhatsApp .txt/.zip, Telegram .json) only."""

    def process_label(self, label) -> Text:
        # file names are untrusted (an export is named after the chat): never raw to the terminal
        return super().process_label(safe(label) if isinstance(label, str) else label)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                if path.is_dir() or path.suffix.lower() in EXPORT_SUFFIXES:
                    yield path
            except OSError:
                continue


class ImportScreen(PaneScreen):
    MODE = "import"
    MAIN_FOCUS = "#export-tree"
    BINDINGS = [
        Binding("ctrl+l", "focus_path", "Path", tooltip="Type or paste the path of an export"),
        Binding("ctrl+s", "create_project", "Create project",
                tooltip="Create (or refresh) the project from this export"),
        Binding("ctrl+a", "add_chat", "Add to project",
                tooltip="Add this chat to the open project (the same chat twice changes nothing)"),
        Binding("m", "focus_me", "Pick me", tooltip="Choose which participant you are"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.path: Path | None = None
        self.parsed = None
        """The (first) chat of the export picked: a :class:`~wachat_tui.core.sources.ChatSource`."""
        self.sources: list = []
        """Every chat of the export (a full Telegram export has several)."""
        self.me: str | None = None
        self._preview_token = 0

    def compose_pane(self) -> ComposeResult:
        with Horizontal(id="import-body"):
            with Vertical(id="import-left", classes="panel") as left:
                left.border_title = "Chat export"
                yield Input(placeholder="paste a path to a .txt, .zip or result.json, Enter", id="path",
                            compact=True)
                open_file = getattr(self.app, "open_file", None)
                root = Path(open_file).parent if open_file is not None else Path.cwd()
                yield ExportTree(root if str(root) else Path("."), id="export-tree")
            with VerticalScroll(id="import-right", classes="panel") as right:
                right.border_title = "What was detected"
                yield Static(Text("Pick an export on the left (or paste its path) to see what "
                                  "was detected.", style="italic"), id="detect")
                yield LoadingIndicator(id="import-busy")
                yield Static("", id="unparsed")
                yield Label("Who are you?", classes="section-title", id="me-title")
                yield OptionList(id="participants")
                yield Label("Dataset options", classes="section-title")
                with Horizontal(classes="form-row"):
                    yield Label("Session gap", classes="form-label")
                    yield Input("60", id="gap", type="integer", classes="short-input", compact=True)
                    yield Label(" minutes", classes="form-unit")
                with Horizontal(classes="form-row"):
                    yield Label("Media", classes="form-label")
                    yield Select([("tag as <photo>, <voice note>…", "tag"), ("drop", "drop")],
                                 value="tag", allow_blank=False, id="media", classes="short-select",
                                 compact=True)
                with Horizontal(classes="form-row"):
                    yield Label("Redaction", classes="form-label")
                    yield Checkbox("phone numbers, e-mails, URLs, cards", False, id="redact",
                                   compact=True)
                with Horizontal(classes="form-row"):
                    yield Label("Project name", classes="form-label")
                    yield Input("", id="project-name", placeholder="chat", classes="name-input",
                                compact=True)
                yield Static("", id="dataset-preview")
                yield Button("Create project  ctrl+s", id="create", variant="primary", disabled=True,
                             compact=True)
                yield Button("Add to this project  ctrl+a", id="add-chat", disabled=True, compact=True)
                yield ProjectPeople(id="project-people-panel")

    def on_mount(self) -> None:
        self.query_one("#import-busy").display = False
        tree = self.query_one(ExportTree)
        tree.root.set_label(safe_text(short_path(tree.path) if Path(tree.path).is_absolute()
                                      else str(tree.path), "bold"))
        open_file = getattr(self.app, "open_file", None)
        if open_file is not None:
            self.query_one("#path", Input).value = safe(open_file)
            self.load_file(open_file)

    def project_changed(self, project) -> None:
        self.query_one(ProjectPeople).show(project)
        self._update_add_button()
        self.refresh_bindings()

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "add_chat":
            return self.project is not None      # nothing to add to: the key is not offered
        return True

    def _update_add_button(self) -> None:
        button = self.query_one("#add-chat", Button)
        button.display = self.project is not None
        button.disabled = self.parsed is None or self.project is None
        if self.project is not None:
            button.label = f"Add to “{self.project.name}”  ctrl+a"

    # -- picking a file ------------------------------------------------------------------
    def action_focus_path(self) -> None:
        self.query_one("#path", Input).focus()

    def action_focus_me(self) -> None:
        self.query_one("#participants", OptionList).focus()

    @on(Input.Submitted, "#path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        raw = event.value.strip().strip("'\"")
        if not raw:
            return
        # the field shows a picked path made displayable: Enter on it means that same file
        path = self.path if self.path is not None and raw == safe(self.path) else Path(raw).expanduser()
        if path.is_dir():
            tree = self.query_one(ExportTree)
            tree.path = path
            tree.focus()
            return
        self.load_file(path)

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#path", Input).value = safe(event.path)
        self.load_file(event.path)

    def load_file(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.parsed = None
        self.sources = []
        self.me = None
        self.query_one("#create", Button).disabled = True
        self._update_add_button()
        self.query_one("#import-busy").display = True
        self.query_one("#detect", Static).update(Text(f"Reading {safe(self.path.name)}…", style="italic"))
        self._parse(self.path)

    @work(thread=True, exclusive=True, group="parse")
    def _parse(self, path: Path) -> None:
        try:
            from ...core.language import detect_language
            from ...core.sources import read_chats

            sources = read_chats(path)
            language = detect_language(m for s in sources for m in s.messages)
        except Exception as exc:  # worker boundary: any failure is shown, never kills the app
            self.post_message(ExportParseFailed(str(path), one_line(exc)))
            return
        self.post_message(ExportParsed(str(path), sources, language))

    def on_export_parse_failed(self, message: ExportParseFailed) -> None:
        self.query_one("#import-busy").display = False
        self.query_one("#detect", Static).update(Text(f"✗ {safe(message.error)}", style="bold red"))
        self.query_one("#participants", OptionList).clear_options()
        self.query_one("#unparsed", Static).update("")
        self.notify(message.error, title="Not a readable export", severity="error")

    def on_export_parsed(self, message: ExportParsed) -> None:
        if self.path is None or str(self.path) != message.path:
            return
        self.query_one("#import-busy").display = False
        self.sources = list(message.parsed)
        self.parsed = self.sources[0]
        info = self.parsed.info
        self.query_one("#detect", Static).update(self._detection_table(info, self.parsed.messages, message.language))
        self._update_add_button()
        unparsed = list(getattr(info, "unparsed", []) or [])
        un = self.query_one("#unparsed", Static)
        if unparsed:
            text = Text(f"{plural(len(unparsed), 'line')} did not parse:\n", style="bold")
            for lineno, line in unparsed[:3]:
                text.append(f"  {lineno}: ", style="dim")
                text.append(safe(line[:70]) + "\n")
            un.update(text)
        else:
            un.update(Text("✓ every line parsed", style="green"))
        counts = dict(getattr(info, "counts_by_author", {}) or {})
        options = self.query_one("#participants", OptionList)
        options.clear_options()
        top = max(counts.values(), default=1)
        for name in info.participants:
            n = counts.get(name, 0)
            label = Text.assemble((f"{safe(name):<18.18}", "bold"), " ",
                                  (f"{hbar(n, top, 12):<12}", "green"), f" {n:,} msgs")
            options.add_option(Option(label, id=name))
        # default project name: the chat's name or the file's stem
        name_input = self.query_one("#project-name", Input)
        existing = self._existing_project_for(message.path)
        name_input.value = existing or slugify(self.parsed.title or Path(message.path).stem)
        guess = self._guess_me(info.participants)
        if guess is not None:
            options.highlighted = info.participants.index(guess)
            self._choose_me(guess)
        else:
            options.highlighted = 0
            self.query_one("#dataset-preview", Static).update(
                Text("Pick who you are (m, then Enter) to preview the dataset.", style="italic"))
        options.focus()

    def _existing_project_for(self, path: str) -> str | None:
        try:
            from ...core.project import Project

            for p in Project.list():
                for chat in p.chats:
                    src = chat.source.get("file")
                    if src and Path(src).resolve() == Path(path).resolve():
                        return p.name
        except (WachatError, OSError):
            return None
        return None

    def _guess_me(self, participants: list[str]) -> str | None:
        """You, when the open project knows you under one of these names, or the export says."""
        project = self.project
        if project is not None:
            mine = [n for n in participants if project.people.person_of(n) == project.me]
            if len(mine) == 1:
                return mine[0]
        source_me = getattr(self.parsed, "me", None)
        return source_me if source_me in participants else None

    def _detection_table(self, info, messages, language=None) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        kinds = dict(getattr(info, "counts_by_kind", {}) or {})
        fmt = f"{info.date_order} · {info.time_format}"
        name = Path(self.path).name
        if info.chat_file and info.chat_file != name:
            name = f"{name} › {info.chat_file}"
        span = "—"
        if messages:
            span = f"{messages[0].time:%Y-%m-%d} → {messages[-1].time:%Y-%m-%d}"
        locale = getattr(info, "locale", None)
        table.add_row("File", safe_text(name, "bold"), "Platform",
                      str(info.platform).capitalize() + (f" · {locale}" if locale else ""))
        table.add_row("Chat", safe_text(self._chat_title()), "Dates", fmt)
        table.add_row("Span", span, "Encoding", str(info.encoding))
        table.add_row("Records", Text(f"{len(messages):,}", style="bold"), "", "")
        if language is not None:
            from ...train.config import default_base, describe_base

            table.add_row("Language", safe_text(language.summary, "bold"), "Base",
                          describe_base(default_base(language.primary), short=True))
        top = max(kinds.values(), default=1)
        items = sorted(kinds.items(), key=lambda kv: -kv[1])
        for i in range(0, len(items), 2):
            row = []
            for kind, n in items[i:i + 2]:
                row += [kind, Text.assemble((f"{n:>6,} ", ""), (hbar(n, top, 8), "green"))]
            while len(row) < 4:
                row.append("")
            table.add_row(*row)
        return table

    def _chat_title(self) -> str:
        if len(self.sources) > 1:
            return f"{len(self.sources)} chats: " + ", ".join(s.title or "?" for s in self.sources[:4])
        source = self.parsed
        if source is None or not source.title:
            return "—"
        return source.title + (" (group)" if source.is_group else "")

    # -- picking "me" and the options → live preview --------------------------------------
    @on(OptionList.OptionSelected, "#participants")
    def _me_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose_me(event.option.id)

    def _choose_me(self, name: str | None) -> None:
        self.me = name
        self.query_one("#me-title", Label).update(
            Text.assemble("Who are you?  ", (f"✓ {safe(name)}" if name else "", "bold green")))
        self.query_one("#create", Button).disabled = name is None
        self.preview()

    @on(Input.Changed, "#gap")
    @on(Select.Changed, "#media")
    @on(Checkbox.Changed, "#redact")
    def _options_changed(self) -> None:
        self.preview()

    def options(self):
        from ...core.dataset import DatasetOptions

        gap_text = self.query_one("#gap", Input).value.strip()
        gap = int(gap_text) if gap_text.isdigit() else 60
        media = self.query_one("#media", Select).value
        redact = self.query_one("#redact", Checkbox).value
        kwargs = {"session_gap_minutes": gap, "media": media if isinstance(media, str) else "tag",
                  "redact": bool(redact)}
        base = getattr(self.project, "options", None) if self.project is not None else None
        if base is not None and self.me and self.project.me == self.me:
            from dataclasses import replace

            return replace(base, **kwargs)
        return DatasetOptions(**kwargs)

    def preview(self) -> None:
        if self.parsed is None or not self.me:
            return
        self._preview_token += 1
        try:
            options = self.options()
            options.validate()
        except WachatError as exc:
            self.query_one("#dataset-preview", Static).update(Text(f"✗ {safe(one_line(exc))}", style="red"))
            return
        self.query_one("#dataset-preview", Static).update(Text("Building the dataset…", style="italic"))
        self._build_preview(self._preview_token, self.parsed.messages, self.me, options)

    @work(thread=True, exclusive=True, group="preview")
    def _build_preview(self, token: int, messages, me: str, options) -> None:
        try:
            from ...core.dataset import build_dataset

            result = build_dataset(messages, me, options)
        except Exception as exc:  # worker boundary: any failure is shown, never kills the app
            self.post_message(DatasetPreviewed(token, {"error": one_line(exc)}))
            return
        self.post_message(DatasetPreviewed(token, dict(getattr(result, "report", {}) or {})))

    def on_dataset_previewed(self, message: DatasetPreviewed) -> None:
        if message.token != self._preview_token:
            return
        self.query_one("#dataset-preview", Static).update(report_line(message.report))

    # -- create ---------------------------------------------------------------------------
    @on(Button.Pressed, "#create")
    def _create_pressed(self) -> None:
        self.action_create_project()

    def action_create_project(self) -> None:
        if self.path is None or self.parsed is None:
            self.notify("Pick an export first.", severity="warning")
            return
        if not self.me:
            self.notify("Pick who you are first (m).", severity="warning")
            self.action_focus_me()
            return
        try:
            options = self.options()
            options.validate()
        except WachatError as exc:
            self.notify(one_line(exc), severity="error")
            return
        name = slugify(self.query_one("#project-name", Input).value or "chat")
        try:
            from ...core.project import Project

            exists = Project.exists(name)
        except WachatError as exc:
            self.notify(one_line(exc), severity="error")
            return
        if exists and self._existing_project_for(str(self.path)) != name:
            def answered(replace: bool | None) -> None:
                if replace:
                    self._start_import(name, options)

            self.app.push_screen(ConfirmScreen(
                f"A project named “{name}” already exists for another export. Replace its "
                "messages with this file? (Its runs and models stay.)", yes="Replace",
                no="Cancel"), answered)
            return
        self._start_import(name, options)

    def _start_import(self, name: str, options) -> None:
        self.query_one("#import-busy").display = True
        self.query_one("#create", Button).disabled = True
        self._import(self.path, self.me, name, options)

    @work(thread=True, exclusive=True, group="import")
    def _import(self, path: Path, me: str, name: str, options) -> None:
        try:
            from ...core.project import Project, import_export

            # the same file again: refresh (new options or "me"), keeping review exclusions
            refresh = Project.exists(name)
            project = import_export(path, me, name=name, options=options, refresh=refresh)
        except Exception as exc:  # worker boundary: any failure is shown, never kills the app
            self.post_message(TaskFailed("import", one_line(exc)))
            return
        self.post_message(ProjectImported(project.name))
        self.app.call_from_thread(self._imported, project)

    def _imported(self, project) -> None:
        self.query_one("#import-busy").display = False
        self.query_one("#create", Button).disabled = False
        self.notify(f"Project “{project.name}” ready — you are {project.me}.", title="Imported")
        self.app.open_project(project, mode="review")

    # -- adding to the open project, people -----------------------------------------------
    @on(Button.Pressed, "#add-chat")
    def _add_pressed(self) -> None:
        self.action_add_chat()

    def action_add_chat(self) -> None:
        if self.project is None:
            self.notify("Open a project first (0), or create one with ctrl+s.", severity="warning")
            return
        if self.path is None or self.parsed is None:
            self.notify("Pick an export first.", severity="warning")
            return
        self.query_one("#import-busy").display = True
        self.query_one("#add-chat", Button).disabled = True
        self._add(self.path, self.me, self.project.name)

    @work(thread=True, exclusive=True, group="import")
    def _add(self, path: Path, me: str | None, name: str) -> None:
        try:
            from ...core.project import import_export

            project = import_export(path, me, name=name, add=True)
        except Exception as exc:  # worker boundary: any failure is shown, never kills the app
            self.post_message(TaskFailed("adding the chat", one_line(exc)))
            return
        self.app.call_from_thread(self._added, project)

    def _added(self, project) -> None:
        self.query_one("#import-busy").display = False
        if project.unchanged:
            self.notify(f"“{project.name}” already holds this chat; nothing changed.")
        else:
            titles = ", ".join(c.title or c.id for c in project.added)
            self.notify(f"Added {titles} to “{project.name}”. Same person under another name? "
                        "Map it below (NAME=PERSON).", title="Chat added")
        self.app.open_project(project)

    @on(ProjectPeople.AliasEntered)
    def _alias_entered(self, message: ProjectPeople.AliasEntered) -> None:
        if self.project is not None:
            self._set_alias(self.project, message.name, message.person)

    @work(thread=True, exclusive=True, group="alias")
    def _set_alias(self, project, name: str, person: str) -> None:
        try:
            from ...core.project import Project

            project.set_alias(name, person)
            fresh = Project.open(project.name)
        except Exception as exc:  # worker boundary: any failure is shown, never kills the app
            self.post_message(TaskFailed("mapping the name", one_line(exc)))
            return
        self.app.call_from_thread(self._aliased, fresh, name, person)

    def _aliased(self, project, name: str, person: str) -> None:
        self.notify(f"{name} is {project.people.resolve(name)} now; the dataset was rebuilt.")
        self.app.open_project(project)

    def on_task_failed(self, message: TaskFailed) -> None:
        self.query_one("#import-busy").display = False
        self.query_one("#create", Button).disabled = self.me is None
        self._update_add_button()
        self.notify(message.error, title=f"{message.what.capitalize()} failed", severity="error")


def report_line(report: dict) -> Text:
    """The dataset report (``build_dataset(...).report``) as one line of counts."""
    if "error" in report:
        return Text(f"✗ {safe(report['error'])}", style="red")
    pairs = report.get("pairs") if isinstance(report.get("pairs"), dict) else {}
    samples = report.get("samples") if isinstance(report.get("samples"), dict) else {}
    items: list[tuple[int, str, str]] = []
    if pairs:
        items.append((pairs.get("total", 0), "pairs", "bold"))
        items.append((pairs.get("train", 0), "train", ""))
        items.append((pairs.get("validation", 0), "validation", ""))
        if pairs.get("excluded"):
            items.append((pairs["excluded"], "excluded", "red"))
    if samples:
        items.append((samples.get("train", 0) + samples.get("validation", 0), "samples", ""))
    if isinstance(report.get("sessions"), int):
        items.append((report["sessions"], "sessions", ""))
    redactions = report.get("redactions")
    if isinstance(redactions, dict) and sum(v for v in redactions.values() if isinstance(v, int)):
        items.append((sum(v for v in redactions.values() if isinstance(v, int)), "redacted", "yellow"))
    text = Text()
    for i, (n, label, style) in enumerate(items):
        if i:
            text.append(" · ", style="dim")
        text.append(f"{int(n):,}", style=f"bold {style}".strip())
        text.append(f" {label}")
    return text
