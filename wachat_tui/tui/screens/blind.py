""""Which one is real?" — the blind test, played over the Eval pane, keyboard only.

The screen draws a :class:`~wachat_tui.eval.blind.BlindGame` and forwards keys to it: a
held-out context as a WhatsApp conversation, then the persona's two candidate replies, the
real one and the model's, in the order the game drew. ``1``/``2`` (or ``←``/``→`` and Enter)
pick; the pick is revealed at once (the model's bubble gets its 🤖 tag); Enter goes on.
The score is saved to the run's ``blind.json`` when the last pick is made; ``Esc`` before
that leaves without saving anything.
"""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...core.layout import RunFiles
from ...errors import WachatError
from ...eval.blind import BlindGame, BlindSession, read_sessions, save_session
from ..util import one_line
from ..widgets.blind import Candidate, fooled_line, history_text, meaning
from ..widgets.fidelity import context_turns


class BlindTestScreen(Screen[BlindSession | None]):
    """Dismissed with the saved session, or None when the player left before the end."""

    BINDINGS = [
        # priority: the conversation scrolls with ↑ ↓ pgup pgdn, but ← → Enter belong to the game
        Binding("1", "pick(1)", "Bubble 1", priority=True, tooltip="Bubble 1 is the real one"),
        Binding("2", "pick(2)", "Bubble 2", priority=True, tooltip="Bubble 2 is the real one"),
        Binding("left", "select(1)", "← 1", show=False, priority=True, tooltip="Point at bubble 1"),
        Binding("right", "select(2)", "2 →", show=False, priority=True, tooltip="Point at bubble 2"),
        Binding("enter", "confirm", "Pick / next", priority=True,
                tooltip="Pick the bubble pointed at; then the next round"),
        Binding("escape", "leave", "Leave", tooltip="Leave the game (a game not finished is not saved)"),
        # the other panes' keys wait until the game is over or left
        Binding("3,4,5,6,0", "stay", show=False),
    ]

    def __init__(self, game: BlindGame, run: RunFiles, *, model: str = "") -> None:
        super().__init__(classes="blind-screen")
        self.game = game
        self.run = run
        self.model = model
        self.selected: int | None = None
        self.revealed = False
        self.saved: BlindSession | None = None

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="blind-header"):
            yield Static("?", id="blind-avatar")
            with Vertical(id="blind-who"):
                yield Static(Text("Which one is real?", style="bold"), id="blind-title")
                yield Static("", id="blind-round")
            yield Static("", id="blind-score")
        yield Static("", id="blind-banner")
        yield VerticalScroll(id="blind-chat")
        yield Static("", id="blind-verdict")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        await self._show_round()

    @property
    def persona(self) -> str:
        round_ = self.game.current
        return round_.example.persona if round_ else ""

    async def _show_round(self) -> None:
        round_ = self.game.current
        if round_ is None:
            await self._show_score()
            return
        self.selected = None
        self.revealed = False
        ex = round_.example
        total = len(self.game.rounds)
        self.query_one("#blind-round", Static).update(
            Text(f"round {self.game.index + 1} of {total} · {ex.persona}'s reply", style="dim"))
        self._update_score()
        self.query_one("#blind-banner", Static).update(Text.assemble(
            ("🤖 One of the two replies below was written by the model", "bold"),
            f", the other is {ex.persona}'s real message. Which one is real?  ",
            ("1", "bold reverse"), " / ", ("2", "bold reverse"), ", or ← → and Enter", style=None))
        chat = self.query_one("#blind-chat", VerticalScroll)
        await chat.remove_children()
        first, second = round_.replies
        row = Horizontal(Candidate(1, ex.persona, first), Candidate(2, ex.persona, second),
                         classes="blind-candidates")
        await chat.mount_all([*context_turns(ex.persona, ex.context), row])
        self.call_after_refresh(self._show_candidates, row)
        self.query_one("#blind-verdict", Static).update(Text("Pick the real one.", style="dim italic"))
        self.refresh_bindings()

    def _show_candidates(self, row: Horizontal) -> None:
        """Scroll so both candidates show from their numbers down, with as much context above
        them as fits (on a small terminal the context is a scroll up)."""
        chat = self.query_one("#blind-chat", VerticalScroll)
        top = row.virtual_region.y - max(0, chat.scrollable_content_region.height - row.outer_size.height)
        chat.scroll_to(y=max(0, top), animate=False)

    def _update_score(self) -> None:
        done = len(self.game.picks)
        self.query_one("#blind-score", Static).update(
            Text(f"fooled {self.game.fooled} of {done}" if done else "", style="bold"))

    def _candidates(self) -> list[Candidate]:
        return list(self.query(Candidate))

    # -- keys -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("pick", "select"):
            if self.game.done:
                return False  # hidden once the game is over
            return None if self.revealed else True  # shown dimmed while a pick is revealed
        return True

    def action_select(self, number: int) -> None:
        if self.revealed or self.game.done:
            return
        self.selected = number
        for c in self._candidates():
            c.select(c.number == number)

    async def action_pick(self, number: int) -> None:
        if self.revealed or self.game.done:
            return
        real, persona = self.game.current.real_choice, self.persona
        fooled = self.game.pick(number)
        self.revealed = True
        for c in self._candidates():
            c.select(c.number == number)
            await c.reveal(is_real=c.number == real, picked=c.number == number)
        verdict = Text()
        if fooled:
            verdict.append("🤖 Fooled! ", style="bold red")
            verdict.append(f"Bubble {number} was written by the model; {persona} wrote bubble {real}.")
        else:
            verdict.append("✓ Right! ", style="bold green")
            verdict.append(f"{persona} wrote bubble {real}; the other one was the model.")
        verdict.append("   Enter: " + ("see the score" if self.game.done else "next round"), style="dim")
        self.query_one("#blind-verdict", Static).update(verdict)
        self._update_score()
        if self.game.done:
            self._save()
        self.refresh_bindings()

    async def action_confirm(self) -> None:
        if self.game.done and not self.revealed:
            self.dismiss(self.saved)
        elif self.revealed:
            self.revealed = False
            await self._show_round()
        elif self.selected is not None:
            await self.action_pick(self.selected)
        else:
            self.notify("Point at a bubble with ← →, or press 1 or 2.", severity="warning")

    def action_leave(self) -> None:
        if not self.game.done and self.game.picks:
            self.notify("Left the game — an unfinished game is not saved.")
        self.dismiss(self.saved)

    def action_stay(self) -> None:
        self.notify("Finish the game, or leave it with Esc, to switch panes.")

    # -- the end --------------------------------------------------------------------------
    def _save(self) -> None:
        session = self.game.session(self.model)
        try:
            save_session(self.run, session)
            self.saved = session
        except (WachatError, OSError) as exc:  # the score is shown anyway; only keeping it failed
            self.notify(one_line(exc), title="Could not save the score", severity="error")

    async def _show_score(self) -> None:
        rounds, fooled = len(self.game.rounds), self.game.fooled
        self.query_one("#blind-round", Static).update(Text("game over", style="dim"))
        self.query_one("#blind-banner", Static).update(fooled_line(fooled, rounds))
        chat = self.query_one("#blind-chat", VerticalScroll)
        await chat.remove_children()
        summary = Text()
        summary.append(meaning(fooled, rounds) + ".\n", style="italic")
        summary.append("A coin toss would be fooled half the time.\n\n", style="dim")
        summary.append("Games on this run\n", style="bold")
        try:
            summary.append_text(history_text(read_sessions(self.run)))
        except WachatError as exc:
            summary.append(one_line(exc), style="red")
        await chat.mount(Static(summary, id="blind-summary"))
        self.query_one("#blind-verdict", Static).update(
            Text("saved · Enter or Esc: back to the Eval pane" if self.saved else "Enter or Esc: back",
                 style="dim"))
        self._update_score()
        self.refresh_bindings()
