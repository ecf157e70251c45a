"""`wachat projects`: the imported chats."""
from __future__ import annotations

HELP = "list your projects (their chats and people: --json)"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per project, one per line")


def run(args) -> int:
    import json

    from ..core.project import Project, last_project

    projects = Project.list()
    if args.json:
        for p in projects:
            people = p.people
            chats = [{"id": c.id, "title": c.title, "platform": c.platform, "is_group": c.is_group,
                      "people": list(dict.fromkeys(people.resolve(n) for n in c.participants)),
                      "messages": c.counts.get("messages", 0)} for c in p.chats]
            print(json.dumps({"name": p.name, "dir": str(p.dir), "me": p.config.get("me"),
                              "participants": p.participants, "personas": p.personas,
                              "people": people.to_json(), "chats": chats,
                              "updated": p.config.get("updated"), "counts": p.counts,
                              "language": p.language.to_dict() if p.language else None}, ensure_ascii=False))
        return 0
    if not projects:
        print("No projects yet. Create one with: wachat import FILE --me NAME")
        return 0
    from rich.console import Console
    from rich.table import Table

    from ..display import safe_text

    last = last_project()
    table = Table(box=None, header_style="bold")
    for col, justify in (("project", "left"), ("me", "left"), ("with", "left"), ("chats", "right"),
                         ("messages", "right"), ("pairs train/val", "right"), ("language", "left"),
                         ("updated", "left")):
        table.add_column(col, justify=justify)
    for p in projects:
        c = p.counts
        others = [x for x in p.participants if x != p.config.get("me")]
        with_ = ", ".join(others[:3]) + (f" +{len(others) - 3}" if len(others) > 3 else "")
        name = p.name + (" *" if p.name == last else "")
        table.add_row(safe_text(name), safe_text(p.config.get("me", "?")), safe_text(with_), str(len(p.chats)),
                      f"{c.get('messages', 0):,}",
                      f"{c.get('pairs_train', 0):,}/{c.get('pairs_validation', 0):,}",
                      p.language.summary if p.language else "–",
                      str(p.config.get("updated", ""))[:16].replace("T", " "))
    Console().print(table)
    return 0
