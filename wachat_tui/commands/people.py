"""`wachat people P [--alias "NAME=PERSON"] [--unalias NAME]`: who is who across a project's chats."""
from __future__ import annotations

from ..display import safe

HELP = "list the people of a project and the names they appear under; map a name to a person"


def add_arguments(parser) -> None:
    parser.add_argument("project", help="project name (see `wachat projects`)")
    parser.add_argument("--alias", action="append", metavar="NAME=PERSON", default=[],
                        help='NAME (as an export spells it, or a person) is PERSON: e.g. --alias "Lisa M=Lisa"; '
                             "repeatable; the dataset and stats are made again")
    parser.add_argument("--unalias", action="append", metavar="NAME", default=[],
                        help="NAME is a person of their own again")
    parser.add_argument("--json", action="store_true", help="the people table as JSON")


def run(args) -> int:
    import json

    from ..core.project import Project, set_last_project
    from ..errors import ProjectError

    project = Project.open(args.project)
    set_last_project(project.name)
    for pair in args.alias:
        name, sep, person = pair.partition("=")
        if not sep or not name.strip() or not person.strip():
            raise ProjectError(f"--alias {pair!r} is not NAME=PERSON", 'e.g. --alias "Lisa M=Lisa"')
        was, now = project.set_alias(name.strip(), person.strip())
        print(safe(f"{name.strip()} → {now}" + (f" (merged {was} into {now})" if was not in (now, name.strip()) else "")))
    for name in args.unalias:
        print(safe(f"{project.unalias(name)} is a person of their own again"))
    if args.json:
        print(json.dumps({"me": project.me, "people": project.people.to_json()}, ensure_ascii=False, indent=2))
        return 0
    people = project.people
    personas = set(project.personas)
    chats = project.chats
    for person in project.participants or people.names:
        where = [c.title or c.id for c in chats if person in {people.resolve(n) for n in c.participants}]
        marks = [m for m, on in (("you", person == project.me), ("persona", person in personas)) if on]
        aliases = [a for a in people.aliases(person) if a != person]
        print(safe(f"{person}" + (f" ({', '.join(marks)})" if marks else "")
                   + (f" — also {', '.join(aliases)}" if aliases else "")
                   + (f" — in {', '.join(where)}" if where else "")))
    return 0
