"""`wachat pairs P`: the context → reply pairs the model trains on (the Review view)."""
from __future__ import annotations

from ..display import safe

HELP = "show a project's training pairs (context → reply); exclude or include pairs by id"


def add_arguments(parser) -> None:
    parser.add_argument("project", help="project name (see `wachat projects`)")
    parser.add_argument("--persona", metavar="NAME", help="only replies by this persona")
    parser.add_argument("--chat", metavar="CHAT", help="only pairs of this chat (its id or title)")
    parser.add_argument("--split", choices=("train", "validation"), help="only this split")
    parser.add_argument("--limit", type=int, metavar="N", help="show at most N pairs")
    parser.add_argument("--context", type=int, metavar="N", default=3,
                        help="context turns to show before each reply (default 3, the most a pair keeps)")
    parser.add_argument("--excluded", action="store_true", help="only pairs excluded in review")
    parser.add_argument("--json", action="store_true", help="one JSON object per pair, one per line")
    parser.add_argument("--exclude", nargs="+", metavar="ID", help="exclude these pairs from training, rebuild")
    parser.add_argument("--include", nargs="+", metavar="ID", help="take these pairs back into training, rebuild")


def _indent(text: str, prefix: str, pad: str) -> str:
    lines = text.split("\n") or [""]
    return "\n".join((prefix if i == 0 else pad) + line for i, line in enumerate(lines))


def run(args) -> int:
    import json
    import sys

    from ..core.names import resolve_name
    from ..core.project import Project, set_last_project
    from ..errors import ProjectError

    project = Project.open(args.project)
    set_last_project(project.name)
    if args.limit is not None and args.limit < 0:
        raise ProjectError("--limit must be 0 or more")
    if args.exclude or args.include:
        known = {p.id for p in project.pairs()}
        ids = (args.exclude or []) + (args.include or [])
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ProjectError(f"no pair with id {unknown[0]!r} in project {project.name!r}",
                               "ids are the first column of `wachat pairs`")
        if args.exclude:
            project.set_excluded(args.exclude, True)
        if args.include:
            project.set_excluded(args.include, False)
        c = project.counts
        print(f"Excluded {c['excluded']} pair(s) in total; training on {c['pairs_train']:,} "
              f"(validation {c['pairs_validation']:,}).")
        return 0

    pairs = project.pairs()
    if args.persona:
        person = project.people.person_of(args.persona) or args.persona
        persona = resolve_name(person, project.participants, "--persona")
        pairs = [p for p in pairs if p.persona == persona]
    if args.chat:
        chat_id = project.chat(args.chat).id
        pairs = [p for p in pairs if p.chat_id == chat_id]
    if args.split:
        pairs = [p for p in pairs if p.split == args.split]
    if args.excluded:
        pairs = [p for p in pairs if p.excluded]
    total = len(pairs)
    if args.limit is not None:
        pairs = pairs[: args.limit]

    out = sys.stdout
    if args.json:
        for p in pairs:
            out.write(json.dumps(p.to_json(), ensure_ascii=False) + "\n")
        return 0
    for p in pairs:
        flags = " · EXCLUDED" if p.excluded else ""
        where = f" · {safe(p.chat_id)}" if len(project.chats) > 1 and p.chat_id else ""
        out.write(f"── {p.id} · {safe(p.persona)}{where} · session {p.session} · {p.split} · "
                  f"{p.time:%Y-%m-%d %H:%M}{flags}\n")
        ctx = p.context[-args.context:] if args.context > 0 else ()
        for turn in ctx:
            label = f"  {safe(turn.author)}: "
            out.write(_indent(safe(turn.text), label, " " * len(label)) + "\n")
        label = f"→ {safe(p.persona)}: "
        out.write(_indent(safe(p.reply), label, " " * len(label)) + "\n\n")
    shown = len(pairs)
    out.write(f"{shown:,} of {total:,} pair(s)" + (" (use --limit to see more)" if shown < total else "") + "\n")
    return 0
