"""Widgets of the Eval pane: one persona's fidelity (gauge, warnings, style bars, examples)."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from ...eval.report import Example, Scores
from .bubble import ChatTurn
from .gauge import degeneration_table, gauge, headline, style_bars, style_summary, warnings

EXAMPLES_SHOWN = 3


class FidelityGauge(Widget):
    """The floor → ceiling gauge, drawn to the width it gets."""

    DEFAULT_CSS = "FidelityGauge { height: 2; }"

    def __init__(self, scores: Scores, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scores = scores

    def render(self) -> Text:
        return gauge(self.scores, self.content_size.width or 60)


def context_turns(persona: str, context) -> list[ChatTurn]:
    """The context as bubbles: the persona on the left, the people they answer on the right."""
    return [ChatTurn(author, text, None, by_model=False, mine=author != persona) for author, text in context]


class ExamplePair(Vertical):
    """A held-out context, then the real reply and the model's side by side."""

    def __init__(self, example: Example) -> None:
        super().__init__(classes="example")
        self.example = example

    def compose(self) -> ComposeResult:
        ex = self.example
        yield from context_turns(ex.persona, ex.context)
        with Horizontal(classes="example-pair"):
            with Vertical(classes="example-side -real"):
                yield Static(Text("real reply", style="bold"), classes="example-label")
                yield ChatTurn(ex.persona, ex.real, None, by_model=False, mine=False)
            with Vertical(classes="example-side -model"):
                yield Static(Text("fine-tuned model", style="bold"), classes="example-label")
                yield ChatTurn(ex.persona, ex.fine_tuned, None, by_model=True, mine=False)
        if ex.base is not None:
            base = Text("🤖 base model: ", style="dim bold")
            base.append(" / ".join(part for part in ex.base.split("\n") if part.strip()) or "(empty)", style="dim")
            yield Static(base, classes="example-base")


class PersonaFidelity(Vertical):
    """Everything the report says about one persona."""

    def __init__(self, persona: str, scores: Scores, examples: list[Example], leaks: list) -> None:
        super().__init__(classes="persona-fidelity")
        self.persona = persona
        self.scores = scores
        self.examples = examples
        self.leaks = leaks

    def compose(self) -> ComposeResult:
        s = self.scores
        yield Static(headline(self.persona, s), classes="persona-head")
        yield FidelityGauge(s, classes="gauge")
        flags = warnings(self.persona, s, self.leaks)
        if flags:
            yield Static(Text("\n").join(flags), classes="persona-flags")
        yield Static(Text("Style, real vs model", style="bold"), classes="eval-section")
        yield Static(style_bars(s), classes="style-bars")
        yield Static(style_summary(s), classes="style-summary")
        yield Static(Text("Degeneration", style="bold"), classes="eval-section")
        yield Static(degeneration_table(s), classes="degeneration")
        shown = self.examples[:EXAMPLES_SHOWN]
        if shown:
            yield Static(Text.assemble(("Examples", "bold"), (f"  {len(shown)} of {len(self.examples)} · "
                                                              "b: tell them apart yourself", "dim")),
                         classes="eval-section")
            for example in shown:
                yield ExamplePair(example)
