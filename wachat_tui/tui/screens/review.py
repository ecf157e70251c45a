"""Review pane: the context → reply pairs (search, filter by persona and chat, jump, exclude) and
style cards (the whole project, or one chat)."""
from __future__ import annotations

import threading
from dataclasses import replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalScroll, Vertical, VerticalScroll
from textual.widgets import Checkbox, ContentSwitcher, Input, Label, Select, Static

from ...errors import WachatError
from ...display import safe, safe_text
from ..messages import DatasetPreviewed, TaskFailed
from ..util import one_line
from ..widgets.pair_table import PairRow, PairTable
from ..widgets.stats_cards import PersonCard, chat_summary, lengths_by_person
from .import_ import report_line
from .base import PaneScreen

ALL = "__all__"


class ReviewScreen(PaneScreen):
    MODE = "review"
    MAIN_FOCUS = "#pairs"
    BINDINGS = [
        Binding("x", "toggle_exclude", "Exclude",
                tooltip="Exclude the highlighted pair from training (or include it again)"),
        Binding("slash", "search", "Search", tooltip="Search contexts and replies"),
        Binding("f", "cycle_persona", "Persona", tooltip="Show the pairs of one persona, or all"),
        Binding("c", "cycle_chat", "Chat", show=False, tooltip="Show the pairs (and style) of one chat, or all"),
        Binding("g", "goto_session", "Session", show=False, tooltip="Jump to a session number"),
        Binding("s", "toggle_stats", "Stats", tooltip="Switch between the pairs and the style cards"),
        Binding("o", "edit_options", "Options", show=False,
                tooltip="Edit the dataset options (live pair count)"),
        Binding("ctrl+s", "apply_options", "Apply options",
                tooltip="Rebuild the project's dataset with the options shown"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[PairRow] = []
        self._preview_token = 0
        self._chats_cache = None
        self._stats = None
        self._lengths: dict = {}
        self._exclusion_lock = threading.Lock()

    def compose_pane(self) -> ComposeResult:
        with ContentSwitcher(initial="pairs-view", id="review-switcher"):
            with Vertical(id="pairs-view"):
                with Horizontal(id="review-toolbar", classes="toolbar"):
                    yield Label("🔍", classes="toolbar-icon")
                    yield Input(placeholder="search contexts and replies  (/)", id="search", compact=True)
                    yield Select([("all people", ALL)], value=ALL, allow_blank=False, id="persona",
                                 compact=True)
                    yield Select([("all chats", ALL)], value=ALL, allow_blank=False, id="chat-filter",
                                 compact=True)
                    yield Input(placeholder="session # (g)", id="session", type="integer", compact=True)
                with Horizontal(id="review-options", classes="toolbar"):
                    yield Label("options (o)", classes="toolbar-title")
                    yield Label("gap", classes="toolbar-label")
                    yield Input("60", id="r-gap", type="integer", classes="tiny-input", compact=True)
                    yield Label("min reply", classes="toolbar-label")
                    yield Input("", id="r-min", type="integer", classes="tiny-input", compact=True)
                    yield Label("media", classes="toolbar-label")
                    yield Select([("tag", "tag"), ("drop", "drop")], value="tag", allow_blank=False,
                                 id="r-media", classes="tiny-select", compact=True)
                    yield Checkbox("redact", False, id="r-redact", compact=True)
                yield Static("", id="pair-count")
                yield PairTable(id="pairs")
                yield Static("", id="pair-detail")
            with VerticalScroll(id="stats-view"):
                yield Static("", id="chat-summary")
                yield HorizontalScroll(id="cards")
        yield Static(Text("No project yet — press 0 to open one, or 1 to import an export.",
                          style="italic"), id="review-empty", classes="empty-state")

    # -- loading --------------------------------------------------------------------------
    def project_changed(self, project) -> None:
        self.query_one("#review-empty").display = project is None
        self.query_one("#review-switcher").display = project is not None
        self._chats_cache = None
        if project is None:
            return
        opts = project.options
        self._set_option_widgets(opts)
        persona = self.query_one("#persona", Select)
        persona.set_options([("all people", ALL)] + [(safe_text(p), p) for p in project.personas or []])
        persona.value = ALL
        chats = project.chats
        chat = self.query_one("#chat-filter", Select)
        with self.prevent(Select.Changed):
            chat.set_options([("all chats", ALL)] + [(c.title or c.id, c.id) for c in chats])
            chat.value = ALL
        chat.display = len(chats) > 1
        self.query_one("#pair-count", Static).update(Text("Loading pairs…", style="italic"))
        self._load(project)

    def _set_option_widgets(self, opts) -> None:
        with self.prevent(Input.Changed, Select.Changed, Checkbox.Changed):
            self.query_one("#r-gap", Input).value = str(getattr(opts, "session_gap_minutes", 60))
            min_chars = getattr(opts, "min_reply_chars", None)
            self.query_one("#r-min", Input).value = "" if min_chars is None else str(min_chars)
            self.query_one("#r-media", Select).value = getattr(opts, "media", "tag")
            self.query_one("#r-redact", Checkbox).value = bool(getattr(opts, "redact", False))

    @work(thread=True, exclusive=True, group="review-load")
    def _load(self, project) -> None:
        try:
            rows = [PairRow.from_pair(p) for p in project.pairs()]
        except Exception as exc:  # worker boundary: any failure is shown, never kills the app
            self.post_message(TaskFailed("loading pairs", one_line(exc)))
            return
        rows.sort(key=lambda r: (r.session, r.time, r.persona))
        stats, lengths = None, {}
        try:
            stats = project.stats()
            lengths = lengths_by_person(project.messages())
        except (WachatError, OSError):
            stats = None          # the cards say "No stats yet"; the pairs still show
        self.app.call_from_thread(self._loaded, project, rows, stats, lengths)

    def _loaded(self, project, rows: list[PairRow], stats, lengths: dict) -> None:
        if project is not self.project:
            return
        self.rows = rows
        self._stats, self._lengths = stats, lengths
        self.apply_filter()
        self._show_stats()
        self.query_one(PairTable).focus()

    def on_task_failed(self, message: TaskFailed) -> None:
        self.notify(message.error, title=f"{message.what.capitalize()} failed", severity="error")

    # -- table ----------------------------------------------------------------------------
    def apply_filter(self) -> None:
        needle = self.query_one("#search", Input).value.strip()
        persona = self.query_one("#persona", Select).value
        chat = self.chat_filter
        rows = [r for r in self.rows
                if (persona in (ALL, Select.BLANK) or r.persona == persona)
                and (chat is None or r.chat_id == chat) and r.matches(needle)]
        self.query_one(PairTable).show(rows)
        self._update_count(len(rows))
        self._show_detail()

    def _update_count(self, shown: int) -> None:
        total = len(self.rows)
        excluded = sum(r.excluded for r in self.rows)
        val = sum(r.split.startswith("val") for r in self.rows)
        text = Text()
        text.append(f"{total:,}", style="bold")
        text.append(" pairs · ")
        text.append(f"{total - val:,}", style="bold")
        text.append(" train · ")
        text.append(f"{val:,}", style="bold")
        text.append(" validation · ")
        text.append(f"{excluded:,}", style="bold red" if excluded else "bold")
        text.append(" excluded")
        if shown != total:
            text.append(f"   showing {shown:,}", style="dim")
        self.query_one("#pair-count", Static).update(text)

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.apply_filter()

    @property
    def chat_filter(self) -> str | None:
        """The chat whose pairs and style are shown (None: all)."""
        value = self.query_one("#chat-filter", Select).value
        return None if value in (ALL, Select.BLANK) else str(value)

    @on(Select.Changed, "#persona")
    def _persona_changed(self) -> None:
        if self.rows:
            self.apply_filter()

    @on(Select.Changed, "#chat-filter")
    def _chat_changed(self) -> None:
        if self.rows:
            self.apply_filter()
        self._show_stats()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one(PairTable).focus()

    @on(Input.Submitted, "#session")
    def _session_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value.isdigit():
            return
        target = int(value)
        table = self.query_one(PairTable)
        for index, pid in enumerate(table.rows):
            row = table.rows_by_id.get(pid.value)
            if row is not None and row.session >= target:
                table.move_cursor(row=index)
                break
        else:
            self.notify(f"No session {target} in the pairs shown.", severity="warning")
        table.focus()

    @on(PairTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        row = self.query_one(PairTable).current
        detail = self.query_one("#pair-detail", Static)
        if row is None:
            detail.update(Text("No pair matches.", style="italic") if self.rows else "")
            return
        text = Text()
        text.append(f"session {row.session} · {row.time[:16].replace('T', ' ')} · {row.split}",
                    style="dim")
        if row.excluded:
            text.append("  ✗ excluded from training", style="bold red")
        text.append("\n")
        for author, said in row.context[-3:]:
            text.append(f"{safe(author)}: ", style="bold")
            text.append(safe(said).replace("\n", " ⏎ ") + "\n")
        text.append(f"→ {safe(row.persona)}: ", style="bold green")
        text.append(safe(row.reply).replace("\n", " ⏎ "))
        detail.update(text)

    # -- actions --------------------------------------------------------------------------
    def action_toggle_exclude(self) -> None:
        table = self.query_one(PairTable)
        row = table.current
        if row is None or self.project is None:
            return
        excluded = not row.excluded
        table.mark(row.id, excluded)
        for r in self.rows:
            if r.id == row.id:
                r.excluded = excluded
        self._update_count(table.row_count)
        self._show_detail()
        self._save_exclusion(self.project, row.id, excluded)

    @work(thread=True, group="exclude")
    def _save_exclusion(self, project, pair_id: str, excluded: bool) -> None:
        try:
            with self._exclusion_lock:  # one read-modify-write of exclusions.json at a time
                project.set_excluded([pair_id], excluded=excluded)
        except Exception as exc:  # worker boundary: any failure is shown, never kills the app
            self.post_message(TaskFailed("saving the exclusion", one_line(exc)))

    def action_search(self) -> None:
        self.query_one(ContentSwitcher).current = "pairs-view"
        self.query_one("#search", Input).focus()

    def action_goto_session(self) -> None:
        self.query_one(ContentSwitcher).current = "pairs-view"
        self.query_one("#session", Input).focus()

    def action_cycle_persona(self) -> None:
        select = self.query_one("#persona", Select)
        values = [ALL] + list(self.project.personas if self.project else [])
        try:
            i = values.index(select.value)
        except ValueError:
            i = 0
        select.value = values[(i + 1) % len(values)]

    def action_cycle_chat(self) -> None:
        select = self.query_one("#chat-filter", Select)
        values = [ALL] + [c.id for c in (self.project.chats if self.project else [])]
        try:
            i = values.index(select.value)
        except ValueError:
            i = 0
        select.value = values[(i + 1) % len(values)]

    def action_toggle_stats(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "stats-view" if switcher.current == "pairs-view" else "pairs-view"
        if switcher.current == "pairs-view":
            self.query_one(PairTable).focus()
        else:
            self.query_one("#stats-view").focus()

    def action_edit_options(self) -> None:
        self.query_one(ContentSwitcher).current = "pairs-view"
        self.query_one("#r-gap", Input).focus()

    # -- stats ----------------------------------------------------------------------------
    def _show_stats(self) -> None:
        cards = self.query_one("#cards", HorizontalScroll)
        cards.remove_children()
        stats, lengths = self._stats, self._lengths
        chat = self.chat_filter
        if isinstance(stats, dict) and chat is not None:
            stats = (stats.get("chats") or {}).get(chat)
            lengths = {}      # the length charts are the whole project's
        if not isinstance(stats, dict):
            self.query_one("#chat-summary", Static).update(Text("No stats yet.", style="italic"))
            return
        self.query_one("#chat-summary", Static).update(chat_summary(stats.get("chat") or {}))
        people = stats.get("people") or {}
        me = self.project.me if self.project else None
        order = sorted(people, key=lambda n: (n != me, -(people[n].get("messages") or 0)))
        cards.mount_all(PersonCard(name, people[name], me=name == me, lengths=lengths.get(name, ()))
                        for name in order)

    # -- options → live count -------------------------------------------------------------
    def _options_from_widgets(self):
        opts = self.project.options
        gap = self.query_one("#r-gap", Input).value.strip()
        min_chars = self.query_one("#r-min", Input).value.strip()
        media = self.query_one("#r-media", Select).value
        changes = {
            "session_gap_minutes": int(gap) if gap.isdigit() else opts.session_gap_minutes,
            "media": media if isinstance(media, str) else opts.media,
            "redact": bool(self.query_one("#r-redact", Checkbox).value),
        }
        if hasattr(opts, "min_reply_chars") and min_chars.isdigit():
            changes["min_reply_chars"] = int(min_chars)
        return replace(opts, **changes)

    @on(Input.Changed, "#r-gap")
    @on(Input.Changed, "#r-min")
    @on(Select.Changed, "#r-media")
    @on(Checkbox.Changed, "#r-redact")
    def _option_changed(self) -> None:
        if self.project is None:
            return
        try:
            options = self._options_from_widgets()
            options.validate()
        except WachatError as exc:
            self.query_one("#pair-count", Static).update(Text(f"✗ {safe(one_line(exc))}", style="red"))
            return
        self._preview_token += 1
        if options == self.project.options:
            self._update_count(self.query_one(PairTable).row_count)
            return
        self.query_one("#pair-count", Static).update(Text("Counting pairs…", style="italic"))
        self._preview(self._preview_token, self.project, options)

    @work(thread=True, exclusive=True, group="review-preview")
    def _preview(self, token: int, project, options) -> None:
        try:
            from ...core.chats import build_chats_dataset

            if self._chats_cache is None:
                self._chats_cache = project.chat_data()
            exclusions = [r.id for r in self.rows if r.excluded]
            result = build_chats_dataset(self._chats_cache, project.me, project.chosen_personas(options),
                                         options, exclusions)
            report = dict(getattr(result, "report", {}) or {})
        except Exception as exc:  # worker boundary: any failure is shown, never kills the app
            report = {"error": one_line(exc)}
        self.post_message(DatasetPreviewed(token, report))

    def on_dataset_previewed(self, message: DatasetPreviewed) -> None:
        if message.token != self._preview_token:
            return
        line = Text("With these options: ", style="dim")
        line.append_text(report_line(message.report))
        line.append("   ctrl+s apply", style="dim")
        self.query_one("#pair-count", Static).update(line)

    def action_apply_options(self) -> None:
        if self.project is None:
            return
        try:
            options = self._options_from_widgets()
            options.validate()
        except WachatError as exc:
            self.notify(one_line(exc), severity="error")
            return
        self.query_one("#pair-count", Static).update(Text("Rebuilding the dataset…", style="italic"))
        self._rebuild(self.project, options)

    @work(thread=True, exclusive=True, group="review-rebuild")
    def _rebuild(self, project, options) -> None:
        try:
            project.rebuild(options=options)
        except Exception as exc:  # worker boundary: any failure is shown, never kills the app
            self.post_message(TaskFailed("rebuilding the dataset", one_line(exc)))
            return
        self.app.call_from_thread(self._rebuilt, project)

    def _rebuilt(self, project) -> None:
        self.notify("Dataset rebuilt with the new options.")
        self.sync_project(force=True)
