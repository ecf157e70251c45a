"""Widgets of the blind test: a candidate reply (number, bubble, and after the pick what it was)
and the score lines."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ...eval.blind import BlindSession
from .bubble import ChatTurn


class Candidate(Vertical):
    """One of the two replies of a round.

    During the round neither bubble carries the model tag — that is the test; the screen's
    banner says that one of them was written by the model. :meth:`reveal` then says which was
    which and tags the model's bubble 🤖 like every model bubble in the app.
    """

    def __init__(self, number: int, persona: str, text: str) -> None:
        super().__init__(classes="candidate")
        self.number = number
        self.persona = persona
        self.text = text
        self.revealed: bool | None = None  # after the pick: True = this was the real reply

    def compose(self) -> ComposeResult:
        yield Static(self._label(), classes="candidate-label")
        yield ChatTurn(self.persona, self.text, None, by_model=False, mine=False)

    def _label(self) -> Text:
        label = Text.assemble((f" {self.number} ", "reverse bold"), " ")
        if self.revealed is True:
            label.append(f"✓ real — {self.persona} wrote this", style="bold green")
        elif self.revealed is False:
            label.append("🤖 written by the model", style="bold")
        return label

    def select(self, selected: bool) -> None:
        self.set_class(selected, "-selected")

    async def reveal(self, is_real: bool, picked: bool) -> None:
        self.revealed = is_real
        self.set_class(is_real, "-real")
        self.set_class(not is_real, "-model")
        self.set_class(picked, "-picked")
        self.query_one(".candidate-label", Static).update(self._label())
        if not is_real:
            await self.query_one(ChatTurn).remove()
            await self.mount(ChatTurn(self.persona, self.text, None, by_model=True, mine=False))


def fooled_line(fooled: int, rounds: int) -> Text:
    rate = fooled / rounds if rounds else 0.0
    return Text.assemble(("The model fooled you ", "bold"), (f"{fooled} of {rounds}", "bold"),
                         (" times" if rounds != 1 else " time", "bold"), f" ({rate * 100:.0f}%)")


def meaning(fooled: int, rounds: int) -> str:
    """What a score means: 50% is what guessing gives."""
    rate = fooled / rounds if rounds else 0.0
    if rate > 0.6:
        return "more often than a coin toss: the model seemed more real to you than the person"
    if rate >= 0.4:
        return "about as often as a coin toss: you could not tell the model from the real person"
    if rate >= 0.2:
        return "now and then: the model passes for the real person some of the time"
    return "rarely: you can tell the model from the real person"


def history_text(sessions: list[BlindSession], limit: int = 5) -> Text:
    """The games played on a run, newest first, and the total."""
    out = Text()
    if not sessions:
        out.append("not played yet", style="dim italic")
        return out
    for s in reversed(sessions[-limit:]):
        out.append(f"{s.date[:10]}  ", style="dim")
        out.append(f"fooled {s.fooled}/{s.rounds}")
        out.append(f"  {s.fooled_rate * 100:.0f}%\n", style="dim")
    rounds = sum(s.rounds for s in sessions)
    fooled = sum(s.fooled for s in sessions)
    out.append(f"{len(sessions)} game{'s' if len(sessions) != 1 else ''}: fooled {fooled}/{rounds}",
               style="bold")
    out.append(f" ({fooled / rounds * 100:.0f}%)" if rounds else "", style="bold")
    return out
