"""`wachat chats P [--remove CHAT]`: the chats a project holds; take one out again."""
from __future__ import annotations

from ..display import safe

HELP = "list a project's chats, or --remove one (with its messages, pairs and stats)"


def add_arguments(parser) -> None:
    parser.add_argument("project", help="project name (see `wachat projects`)")
    parser.add_argument("--remove", metavar="CHAT",
                        help="take the chat (its id or title) out of the project with everything made from it: "
                             "its messages, dataset rows, review exclusions, stats and the names only it used")
    parser.add_argument("--json", action="store_true", help="one JSON object per chat")


def run(args) -> int:
    import json

    from ..core.importing import remove_chat
    from ..core.project import Project, set_last_project

    project = Project.open(args.project)
    set_last_project(project.name)
    if args.remove:
        removed = remove_chat(project, args.remove)
        print(safe(f"Removed chat {removed.label()} [{removed.id}] from project {project.name!r}."))
        project = Project.open(project.name)
    people = project.people
    if args.json:
        for chat in project.chats:
            row = chat.to_json()
            row["people"] = [people.resolve(n) for n in chat.participants]
            print(json.dumps(row, ensure_ascii=False))
        return 0
    for chat in project.chats:
        c = chat.counts
        names = ", ".join(dict.fromkeys(people.resolve(n) for n in chat.participants))
        print(safe(f"{chat.id:<20} {chat.label()}"))
        print(safe(f"{'':<20} {names} · {c.get('messages', 0):,} messages · "
                   f"{c.get('pairs_train', 0):,}/{c.get('pairs_validation', 0):,} pairs train/val"))
    return 0
