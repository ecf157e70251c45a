"""The open project's chats and people on the Import pane, with the alias editor ("Lisa M=Lisa")."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static


class ProjectPeople(Vertical):
    """What the project holds: its chats (platform, 1:1 or group) and its people with the names
    they appear under. Enter in the alias field posts :class:`AliasEntered`."""

    class AliasEntered(Message):
        """The user mapped ``name`` (as an export spells it, or a person) to ``person``."""

        def __init__(self, name: str, person: str) -> None:
            super().__init__()
            self.name = name
            self.person = person

    def compose(self) -> ComposeResult:
        yield Label("This project", classes="section-title", id="project-title")
        yield Static("", id="project-chats")
        yield Static("", id="project-people")
        yield Input(placeholder="same person, other name? NAME=PERSON, Enter (e.g. Lisa M=Lisa)",
                    id="alias", compact=True)

    def show(self, project) -> None:
        """Draw ``project``'s chats and people (None: nothing to show)."""
        self.display = project is not None
        if project is None:
            return
        self.query_one("#project-title", Label).update(
            Text.assemble("This project  ", (project.name, "bold")))
        chats = Text()
        for chat in project.chats:
            people = project.people_in(chat)
            chats.append("● ", style="green")
            chats.append(chat.label(), style="bold")
            chats.append(f"  {', '.join(people[:6])}" + (f" +{len(people) - 6}" if len(people) > 6 else ""),
                         style="dim")
            chats.append("\n")
        self.query_one("#project-chats", Static).update(chats)
        table = project.people
        personas = set(project.personas)
        people = Text()
        for person in project.participants:
            people.append(person, style="bold")
            marks = [m for m, on in (("you", person == project.me), ("persona", person in personas)) if on]
            if marks:
                people.append(f" ({', '.join(marks)})", style="dim")
            aliases = [a for a in table.aliases(person) if a != person]
            if aliases:
                people.append(f" = {', '.join(aliases)}", style="cyan")
            people.append("\n")
        self.query_one("#project-people", Static).update(people)

    @on(Input.Submitted, "#alias")
    def _alias_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name, sep, person = event.value.partition("=")
        if not sep or not name.strip() or not person.strip():
            self.app.notify('Write NAME=PERSON, e.g. "Lisa M=Lisa".', severity="warning")
            return
        event.input.value = ""
        self.post_message(self.AliasEntered(name.strip(), person.strip()))
