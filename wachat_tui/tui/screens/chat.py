"""Chat pane: talk with the model as one side, swap sides, or let it play both (simulation) —
any people of the project, in any of its chats' settings or a new one (ctrl+o picks).

The pane only draws a :class:`~wachat_tui.chat.session.Conversation` and forwards keys to it:
the conversation holds the lines, the sides and the saved history. Generation runs in a
thread worker; the worker coalesces tokens and posts the bubble's text at most every 50 ms
(older updates still queued are replaced), so typing never lags however fast the model streams.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Iterable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from ...errors import WachatError
from ...display import safe
from ..messages import GenerationEnded, ModelLoaded, ReplyCompleted, ReplyStreamed
from ..util import one_line
from ..widgets.bubble import ChatHeader, ChatTurn, DaySeparator
from .base import PaneScreen
from .chat_people import ChatPeople

STREAM_INTERVAL_S = 0.05
SIMULATION_MAX_TURNS = 40
_ids = count(1)
# What saving a line can raise: the store's own errors, and SQLite's on a damaged file.
STORE_ERRORS = (WachatError, sqlite3.Error)


class _ChatCloser:
    """Lets the app stop generation and free the model on quit."""

    def __init__(self, screen: "ChatScreen") -> None:
        self.screen = screen

    def active(self) -> bool:
        return self.screen.busy

    def close(self) -> None:
        self.screen.shutdown()


class ChatScreen(ChatPeople, PaneScreen):
    MODE = "chat"
    #: sampling settings for the engine (None: the engine's defaults)
    sampling = None
    MAIN_FOCUS = "#conversation"
    BINDINGS = [
        Binding("ctrl+o", "pick", "People", priority=True,
                tooltip="Pick who the model plays, who you are, the setting, and who a simulation is between"),
        Binding("ctrl+t", "swap", "Swap sides", priority=True,
                tooltip="Play the other person; the model takes your side (history kept)"),
        Binding("ctrl+g", "simulate", "Simulate", priority=True,
                tooltip="The model plays both sides; again to pause/resume"),
        Binding("ctrl+n", "step", "Step", priority=True,
                tooltip="While a simulation is paused: one more turn"),
        Binding("ctrl+r", "regenerate", "Regenerate", priority=True,
                tooltip="Write the last model reply again"),
        Binding("escape", "stop", "Stop", priority=True,
                tooltip="Stop the reply or the simulation now (else leave the composer)"),
        Binding("ctrl+l", "new_chat", "New chat", show=False, priority=True,
                tooltip="Start a new conversation (the old one stays saved)"),
        Binding("i", "focus_composer", "Write", show=False, tooltip="Back to the composer"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.conversation = None
        self.store = None
        self.chat_model = None
        self.model_problem: str | None = None
        self.engine = None
        self.busy = False
        self.simulating = False
        self.sim_paused = False
        self._stop = threading.Event()
        self._gate = threading.Event()
        self._step_once = False
        self._engine_lock = threading.Lock()
        self._streaming: dict[int, ChatTurn] = {}
        self.pick = None
        """The people and setting picked (:class:`~wachat_tui.tui.screens.pick.ChatPick`)."""
        self.setting = None
        """Where the conversation takes place (:class:`~wachat_tui.core.setting.Setting`)."""
        self._turn_taking: dict = {}

    # -- what the conversation and the model lookup hold ----------------------------------
    @property
    def you(self) -> str:
        return self.conversation.you if self.conversation else ""

    @property
    def model_plays(self) -> str:
        return self.conversation.model_plays if self.conversation else ""

    @property
    def lines(self) -> list:
        return self.conversation.lines if self.conversation else []

    @property
    def model_path(self) -> Path | None:
        return self.chat_model.path if self.chat_model else None

    @property
    def model_is_base(self) -> bool:
        return bool(self.chat_model and self.chat_model.is_base)

    def compose_pane(self) -> ComposeResult:
        yield ChatHeader(id="chat-header")
        yield VerticalScroll(id="conversation", can_focus=True)
        yield Input(placeholder="Type a message", id="composer")
        yield Static(Text("No project yet — press 0 to open one.", style="italic"),
                     id="chat-empty", classes="empty-state")

    def on_mount(self) -> None:
        self.app.register_closer("chat", _ChatCloser(self))

    def on_unmount(self) -> None:
        self.shutdown()

    # -- project / history ----------------------------------------------------------------
    def project_changed(self, project) -> None:
        self.shutdown()
        self.query_one("#chat-empty").display = project is None
        for wid in ("#chat-header", "#conversation", "#composer"):
            self.query_one(wid).display = project is not None
        self.conversation = None
        if project is None:
            return
        from ...chat.session import Conversation
        from ...chat.store import ChatStore
        from .pick import ChatPick

        people = [p for p in (project.personas or []) if p]
        me = project.me or (people[0] if people else "me")
        others = [p for p in people if p != me] or [p for p in (project.participants or []) if p != me]
        model_plays = others[0] if others else "them"
        self.pick = ChatPick(model_plays, me, None, [me, model_plays])
        self._turn_taking = {}
        participants = self._settle(project, [me, model_plays], None)
        self._find_model(project)
        options = self._conversation_options()
        try:
            self.store = ChatStore(project.dir)
            self.conversation = Conversation.resume(self.store, participants, me, model_plays, **options)
            self.conversation.follow_last_side()  # go on as the side the user wrote from last time
        except STORE_ERRORS as exc:
            self.store = None
            self.conversation = Conversation(participants, me, model_plays, **options)
            self.notify(one_line(exc), title="Chat history unavailable", severity="error")
        self._render_history()
        self._update_header()
        self.query_one("#composer", Input).focus()

    def _find_model(self, project) -> None:
        """The project's newest export, else the base model; a lookup that fails says why
        (a damaged exports.json is not a reason to switch models silently)."""
        from ...chat.models import find_chat_model

        self.chat_model, self.model_problem = None, None
        try:
            self.chat_model = find_chat_model(project.dir)
        except WachatError as exc:
            self.model_problem = one_line(exc)
            self.notify(self.model_problem, title="No model to chat with", severity="warning")

    # -- rendering ------------------------------------------------------------------------
    def _render_history(self) -> None:
        conv = self.query_one("#conversation", VerticalScroll)
        conv.remove_children()
        widgets = []
        last_day = None
        group: list = []

        def flush() -> None:
            if group:
                first = group[0]
                widgets.append(ChatTurn(first.author, "\n".join(l.text for l in group), first.time,
                                        by_model=first.by_model, mine=first.author == self.you))
                group.clear()

        for line in self.lines:
            day = line.time.date()
            if day != last_day:
                flush()
                widgets.append(DaySeparator(line.time))
                last_day = day
            if group and (group[-1].author != line.author or group[-1].by_model != line.by_model):
                flush()
            group.append(line)
        flush()
        if not widgets:
            widgets.append(Static(self._empty_hint(), classes="chat-hint"))
        conv.mount_all(widgets)
        conv.scroll_end(animate=False)

    def _empty_hint(self) -> Text:
        return Text.assemble(
            ("No messages yet. ", "bold"),
            f"You are {safe(self.you)}; the model plays {safe(self.model_plays)}.\n",
            "Type below and press Enter — or ctrl+g to let the model play both sides.",
        )

    def _append_turn(self, author: str, text: str, when: datetime, *, by_model: bool,
                     streaming: bool = False, after=...) -> ChatTurn:
        """Mount a turn's bubble below the line ``after`` (default: the conversation's last)."""
        conv = self.query_one("#conversation", VerticalScroll)
        for hint in conv.query(".chat-hint"):
            hint.remove()
        last_line = (self.lines[-1] if self.lines else None) if after is ... else after
        if last_line is None or last_line.time.date() != when.date():
            conv.mount(DaySeparator(when))
        turn = ChatTurn(author, text, when, by_model=by_model, mine=author == self.you,
                        streaming=streaming)
        conv.mount(turn)
        conv.scroll_end(animate=False)
        return turn

    def _update_header(self, status: str | None = None) -> None:
        header = self.query_one(ChatHeader)
        header.contact = self.model_plays
        if status is None:
            if self.chat_model is None:
                status = f"no model — {self.model_problem or 'export one on the Export pane (4)'}"
            elif self.model_is_base:  # chat before any export: the embedded, untuned model
                status = "base model, not trained yet (pane 3)"
            else:
                status = f"model · {self.chat_model.name}"
        header.status = status
        mode = Text()
        if self.simulating:
            mode.append("⏸ simulation paused" if self.sim_paused else "▶ simulating",
                        style="bold")
            mode.append("\n")
        else:
            mode.append("\n")
        mode.append("you are ", style="dim")
        mode.append(safe(self.you), style="bold")
        if self.setting is not None:
            mode.append(f" · {safe(self.setting.label())}", style="dim")
        header.detail = mode
        self.refresh_bindings()
        composer = self.query_one("#composer", Input)
        composer.placeholder = (f"Message {safe(self.model_plays)} as {safe(self.you)} · Enter send · "
                                "Esc leave/stop")

    # -- sending --------------------------------------------------------------------------
    @on(Input.Submitted, "#composer")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text or self.conversation is None:
            return
        if self.busy:
            self.notify("Wait for the reply, or press Esc to stop it.", severity="warning")
            return
        event.input.value = ""
        before = len(self.lines)
        try:
            self.conversation.say(text)
        except STORE_ERRORS as exc:  # the line is kept on screen; only saving it failed
            self.notify(one_line(exc), title="Could not save the chat", severity="error")
        for i in range(before, len(self.lines)):
            self._show_user_line(i)
        self.start_reply(self.model_plays)

    def _show_user_line(self, index: int) -> None:
        """Show line ``index`` (the user's), in the bubble of the turn it continues if any."""
        conv = self.query_one("#conversation", VerticalScroll)
        line = self.lines[index]
        prev = self.lines[index - 1] if index else None
        last_turn = next(iter(reversed(conv.query(ChatTurn))), None) if conv.children else None
        if (last_turn is not None and prev is not None and prev.author == line.author
                and not prev.by_model and prev.time.date() == line.time.date()):
            last_turn.text = last_turn.text + "\n" + line.text
            conv.scroll_end(animate=False)
        else:
            self._append_turn(line.author, line.text, line.time, by_model=False, after=prev)

    def start_reply(self, persona: str) -> None:
        if self.chat_model is None:
            self.notify("No model to chat with yet: export one on pane 4.", severity="warning")
            return
        self.busy = True
        self._stop.clear()
        bubble_id = next(_ids)
        turn = self._append_turn(persona, "", datetime.now().replace(microsecond=0), by_model=True,
                                 streaming=True)
        self._streaming[bubble_id] = turn
        self._update_header("typing…")
        self._reply_worker(bubble_id, persona)

    def _engine(self):
        """Load the model once (in a worker thread)."""
        with self._engine_lock:
            if self.engine is None:
                from ...chat.engine import ChatEngine

                self.engine = ChatEngine(self.chat_model.ready_path(), lora_path=self.chat_model.lora_path,
                                         sampling=self.sampling, cards=self.chat_model.cards)
                self.post_message(ModelLoaded(str(self.chat_model.path)))
            return self.engine

    def _stream_bubble(self, bubble_id: int, author: str, pieces: Iterable[str]) -> None:
        """Show a streamed turn in its bubble: the text so far at most every
        ``STREAM_INTERVAL_S``, then the whole of it (also when the stream broke off)."""
        text, last = "", 0.0
        try:
            for piece in pieces:
                text += piece
                now = time.monotonic()
                if now - last >= STREAM_INTERVAL_S:
                    self.post_message(ReplyStreamed(bubble_id, author, text))
                    last = now
        finally:
            self.post_message(ReplyCompleted(bubble_id, author, text))

    @work(thread=True, exclusive=True, group="generate")
    def _reply_worker(self, bubble_id: int, persona: str) -> None:
        try:
            engine = self._engine()
            self._stream_bubble(bubble_id, persona, self.conversation.stream_turn(engine, persona, self._stop))
        except Exception as exc:  # worker boundary: whatever broke, the pane must leave "typing…"
            self.post_message(GenerationEnded("failed", one_line(exc)))
            return
        self.post_message(GenerationEnded("stopped" if self._stop.is_set() else "done"))

    def on_model_loaded(self, message: ModelLoaded) -> None:
        if self.busy and not self.simulating:
            self._update_header("typing…")

    def on_reply_streamed(self, message: ReplyStreamed) -> None:
        turn = self._streaming.get(message.bubble_id)
        if turn is None:
            return
        turn.text = message.text.strip("\n")
        conv = self.query_one("#conversation", VerticalScroll)
        if conv.max_scroll_y - conv.scroll_y <= 3:
            conv.scroll_end(animate=False)

    def on_reply_completed(self, message: ReplyCompleted) -> None:
        """The turn is complete (and already saved by the conversation): show it as saved."""
        from ...chat.lines import split_bubbles

        turn = self._streaming.pop(message.bubble_id, None)
        bubbles = split_bubbles(message.text)
        if turn is not None:
            if bubbles:
                turn.streaming = False
                turn.text = "\n".join(bubbles)
                turn.set_streaming(False)
            else:
                turn.remove()
        self.query_one("#conversation", VerticalScroll).scroll_end(animate=False)

    def on_generation_ended(self, message: GenerationEnded) -> None:
        self.busy = False
        self.simulating = False
        self.sim_paused = False
        self._stop.clear()
        status = None
        if message.reason == "failed":
            self.notify(message.error, title="The model failed", severity="error")
        elif self.engine is not None and not self.model_is_base:
            tps = self.engine.last_stats.tokens_per_s
            if tps:
                status = f"model · {self.chat_model.name} · {tps:.0f} tok/s"
        self._update_header(status)

    # -- keys -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if action == "stop":
            return self.busy
        if action == "step":
            return True if (self.simulating and self.sim_paused) or not self.busy else None
        if action in ("swap", "regenerate"):
            return None if self.busy else True
        return True

    def action_stop(self) -> None:
        if self.busy:
            self._stop.set()
            self._gate.set()
            self._update_header("stopping…")
            return
        focused = self.focused
        if isinstance(focused, Input):
            self.query_one("#conversation").focus()
        else:
            self.query_one("#composer", Input).focus()

    def action_focus_composer(self) -> None:
        self.query_one("#composer", Input).focus()

    def action_swap(self) -> None:
        if self.conversation is None:
            return
        if self.busy:
            self.notify("Stop the reply first (Esc).", severity="warning")
            return
        self.conversation.swap()
        self._render_history()
        self._update_header()
        self.notify(f"You are now {self.you}; the model plays {self.model_plays}.")

    def action_regenerate(self) -> None:
        if self.conversation is None or self.busy:
            return
        try:
            author = self.conversation.drop_last_reply()
        except STORE_ERRORS as exc:
            self.notify(one_line(exc), title="Could not save the chat", severity="error")
            return
        if author is None:
            self.notify("No model reply to regenerate.", severity="warning")
            return
        self._render_history()
        self.start_reply(author)

    def action_new_chat(self) -> None:
        if self.busy or self.conversation is None:
            return
        self.conversation.start_new()
        self._render_history()

    def action_simulate(self) -> None:
        if self.conversation is None:
            return
        if self.simulating:
            self.sim_paused = not self.sim_paused
            if self.sim_paused:
                self._gate.clear()
            else:
                self._gate.set()
            self._update_header(None if self.sim_paused else "typing…")
            return
        if self.busy:
            return
        if self.chat_model is None:
            self.notify("No model yet: export one on pane 4.", severity="warning")
            return
        between = list(self.pick.between) if self.pick and len(self.pick.between) >= 2 else []
        if between and not set(between) <= set(self.conversation.participants):
            # people who are not in this conversation: a new one, in their setting
            from dataclasses import replace

            self._start_conversation(replace(self.pick, you=between[0], model_plays=between[1]), between)
        self.busy = True
        self.simulating = True
        self.sim_paused = False
        self._stop.clear()
        self._gate.set()
        self._step_once = False
        self._update_header("typing…")
        self._simulate_worker()

    def action_step(self) -> None:
        if self.simulating and self.sim_paused:
            self._step_once = True
            self._gate.set()
            self._update_header("typing…")
        elif not self.busy:
            self.action_simulate()
            self.action_simulate()  # start paused
            self._step_once = True
            self._gate.set()

    @work(thread=True, exclusive=True, group="generate")
    def _simulate_worker(self) -> None:
        try:
            from ...chat.simulate import Simulation
            from ...core.turntaking import Tempo

            pick = self.pick
            between = [p for p in (pick.between if pick else []) if p in self.conversation.participants]
            personas = between if len(between) >= 2 else None
            sim = Simulation(self._engine(), self.conversation, personas,
                             turn_taking=self._setting_turn_taking(personas or [self.you, self.model_plays]),
                             tempo=Tempo() if pick and pick.tempo else None,
                             on_typing=lambda who, seconds: self.app.call_from_thread(
                                 self._update_header, f"{who} is typing…"))
            turns = 0
            while not self._stop.is_set() and turns < SIMULATION_MAX_TURNS:
                while not self._gate.wait(0.1):
                    if self._stop.is_set():
                        break
                if self._stop.is_set():
                    break
                if self._step_once:
                    self._step_once = False
                    self._gate.clear()
                speaker = sim.next_speaker
                bubble_id = next(_ids)
                self.app.call_from_thread(self._begin_sim_turn, bubble_id, speaker)
                self._stream_bubble(bubble_id, speaker,
                                    (piece for _, piece in sim.turns(1, self._stop) if piece))
                turns += 1
        except Exception as exc:  # worker boundary: whatever broke, the simulation must end visibly
            self.post_message(GenerationEnded("failed", one_line(exc)))
            return
        self.post_message(GenerationEnded("stopped" if self._stop.is_set() else "done"))

    def _begin_sim_turn(self, bubble_id: int, speaker: str) -> None:
        turn = self._append_turn(speaker, "", datetime.now().replace(microsecond=0), by_model=True,
                                 streaming=True)
        self._streaming[bubble_id] = turn
        self._update_header("typing…" if speaker == self.model_plays else f"{speaker} is typing…")

    # -- teardown -------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop generation at once and free the model (safe from any thread, idempotent)."""
        self._stop.set()
        self._gate.set()
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.wait_idle(timeout=10)  # a reply in progress sees the stop between two tokens
            engine.close()
        store, self.store = self.store, None
        if store is not None:
            store.close()
        self.busy = False
        self.simulating = False
