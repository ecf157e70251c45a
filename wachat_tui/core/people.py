"""The people of a project: one person may appear under several names across its chats.

``project.json``'s ``people`` maps each person's name to the names they appear under in the
exports (their *aliases*): ``{"Lisa": ["Lisa", "Lisa M"], "Peter": ["Peter", "Pete"]}``. A
chat's participant is found by name with the one matcher of :mod:`~wachat_tui.core.names`
(exact spelling first, else ignoring case and surrounding spaces) among the aliases, then among
the people's own names; a name that matches nobody becomes a new person. The user edits the
table (``wachat people P --alias "Lisa M=Lisa"``, the Import pane); everything built from the
messages — dataset, stats, personas — uses the resolved people.

Pure data: no disk; :class:`~wachat_tui.core.project.Project` stores it.
"""
from __future__ import annotations

from typing import Iterable

from ..errors import ProjectError
from .names import find_name, matching_names


class People:
    """Person name → the names they appear under (their aliases), in a stable order."""

    def __init__(self, table: dict[str, list[str]] | None = None):
        self.table: dict[str, list[str]] = {}
        for person, aliases in (table or {}).items():
            self.table[person] = list(dict.fromkeys(aliases))

    # -- JSON -----------------------------------------------------------------------------
    @classmethod
    def from_json(cls, data) -> "People":
        if data is None:
            return cls()
        if not isinstance(data, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(a, str) for a in v)
                for k, v in data.items()):
            raise ProjectError("project.json: 'people' is not a table of names",
                               "fix it by hand or re-create the project")
        return cls(data)

    def to_json(self) -> dict[str, list[str]]:
        return {person: list(aliases) for person, aliases in self.table.items()}

    # -- looking up -----------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return list(self.table)

    def aliases(self, person: str) -> list[str]:
        return list(self.table.get(person, ()))

    def person_of(self, name: str) -> str | None:
        """Who ``name`` (as spelled in an export) is: by alias, then by a person's own name."""
        for person, aliases in self.table.items():
            if name in aliases:
                return person
        owners = {person for person, aliases in self.table.items() if matching_names(name, aliases)}
        if len(owners) == 1:
            return owners.pop()
        return find_name(name, self.names)

    def resolve(self, name: str) -> str:
        """The person ``name`` stands for (itself when it is nobody's alias yet)."""
        return self.person_of(name) or name

    def find_person(self, name: str, what: str = "person") -> str:
        """A person by their name or any alias; ProjectError naming the people otherwise."""
        person = self.person_of(name)
        if person is None:
            shown = ", ".join(self.names[:20]) or "nobody yet"
            raise ProjectError(f"{name!r} is not a {what} of this project", f"the people are: {shown}")
        return person

    # -- changing ---------------------------------------------------------------------------
    def add(self, name: str, person: str | None = None) -> str:
        """Record ``name`` (a participant of a chat being added) as an alias of ``person``
        (default: whoever it matches, else a new person of that name); returns the person."""
        person = person or self.person_of(name) or name
        aliases = self.table.setdefault(person, [])
        if name not in aliases:
            for other, theirs in self.table.items():
                if other != person and name in theirs:
                    theirs.remove(name)
            aliases.append(name)
        return person

    def alias(self, name: str, person: str) -> tuple[str, str]:
        """``name`` is ``person`` from now on: ``(moved_from, person)``.

        ``name`` is a person's own name (then every alias of theirs moves: the two people are
        merged) or one alias (only it moves). ``person`` is found by name or alias; an unknown
        one is a new person (a rename).
        """
        target = self.person_of(person) or person.strip()
        if not target:
            raise ProjectError("an alias needs a person's name after '='", 'e.g. --alias "Lisa M=Lisa"')
        source = find_name(name, self.names)
        if source is None:
            owner = self.person_of(name)
            if owner is None:
                raise ProjectError(f"nobody in this project appears as {name!r}",
                                   f"the people are: {', '.join(self.names[:20]) or 'nobody yet'}")
            spelled = next(a for a in self.table[owner] if matching_names(name, [a]))
            if owner == target:
                return owner, target
            self.table[owner].remove(spelled)
            if not self.table[owner]:
                del self.table[owner]
            self.table.setdefault(target, []).append(spelled)
            return owner, target
        if source == target:
            return source, target
        moved = self.table.pop(source)
        into = self.table.setdefault(target, [])
        into.extend(a for a in moved if a not in into)
        return source, target

    def unalias(self, name: str) -> str:
        """``name`` is a person of its own again (undoes :meth:`alias` for one name)."""
        owner = self.person_of(name)
        if owner is None:
            raise ProjectError(f"nobody in this project appears as {name!r}")
        spelled = next((a for a in self.table[owner] if matching_names(name, [a])), name)
        if spelled == owner:
            others = [a for a in self.table[owner] if a != owner]
            if not others:
                return owner
            raise ProjectError(f"{owner!r} is that person's own name",
                               f"unalias one of their other names: {', '.join(others)}")
        self.table[owner].remove(spelled)
        if spelled in self.table:
            self.table[spelled].append(spelled)
        else:
            self.table[spelled] = [spelled]
        return spelled

    def keep_only(self, names_in_use: Iterable[str], keep_people: Iterable[str] = ()) -> None:
        """Forget aliases no chat uses any more, and people left with none (except ``keep_people``)."""
        used = set(names_in_use)
        keep = set(keep_people)
        for person in list(self.table):
            self.table[person] = [a for a in self.table[person] if a in used]
            if not self.table[person] and person not in keep:
                del self.table[person]
