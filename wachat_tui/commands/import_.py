"""`wachat import FILE [--me NAME] [--project P] [--add]`: an export becomes a project (dataset +
stats), or one more chat of a project."""
from __future__ import annotations

from ..display import safe

HELP = ("import a chat export (WhatsApp .txt/.zip, Telegram result.json) as a project, or --add it "
        "to one: messages → training pairs → stats")


def add_arguments(parser) -> None:
    parser.add_argument("file", help="the exported chat: WhatsApp's .txt or .zip, or Telegram Desktop's result.json")
    parser.add_argument("--me", metavar="NAME",
                        help="your name as it appears in the chat (the model learns to text like you); "
                             "needed for a new WhatsApp project, found by name when adding a chat")
    parser.add_argument("--project", metavar="P", help="project name (default: from the chat name)")
    parser.add_argument("--add", action="store_true",
                        help="add this chat to project P (--project) instead of making a new project; "
                             "adding the same chat again changes nothing")
    parser.add_argument("--chat", metavar="NAME",
                        help="with a full Telegram export: import only the chat of this name (default: all)")
    parser.add_argument("--title", metavar="TEXT",
                        help="the chat's name in the project (default: the group's name, else the other person's)")
    parser.add_argument("--gap", type=int, metavar="MIN", default=None,
                        help="minutes of silence that start a new conversation (default 60)")
    parser.add_argument("--media", choices=("tag", "drop"), default=None,
                        help="media as short tags like <photo> (default) or left out")
    parser.add_argument("--media-targets", choices=("drop", "keep"), default=None,
                        help="replies that are only media (<photo>): context only (drop, default) or also "
                             "trained on (keep)")
    parser.add_argument("--redact", action="store_true", default=None,
                        help="replace phone numbers, e-mails, URLs and card numbers with tags")
    parser.add_argument("--validation-fraction", type=float, metavar="F", default=None,
                        help="share of each chat's most recent conversations held out for validation (default 0.1)")
    parser.add_argument("--persona", action="append", metavar="NAME", default=None,
                        help="who the model learns to play (repeatable; default: you, everyone you have a 1:1 "
                             "chat with, and the active members of your groups)")
    parser.add_argument("--refresh", action="store_true",
                        help="re-import even if this file was imported before (keeps review exclusions)")


def _options(args, base):
    from ..core.dataset import DatasetOptions

    given = {
        "session_gap_minutes": args.gap,
        "media": args.media,
        "media_targets": args.media_targets,
        "redact": args.redact,
        "validation_fraction": args.validation_fraction,
        "personas": args.persona,
    }
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return None
    data = base.to_dict() if base is not None else DatasetOptions().to_dict()
    data.update(given)
    return DatasetOptions(**data).validate()


def _n(value) -> str:
    return f"{value:,}"


def run(args) -> int:
    from pathlib import Path

    from ..core.project import Project, import_export, validate_name

    base = None
    if args.project:
        validate_name(args.project)
        if Project.exists(args.project):
            base = Project.open(args.project).options
    options = _options(args, base)
    project = import_export(Path(args.file), args.me, name=args.project, options=options, refresh=args.refresh,
                            add=args.add, chat=args.chat, title=args.title)

    if project.unchanged:
        print(f"Project {project.name!r} already holds this export; nothing changed.")
        if options is not None and options.to_dict() != project.options.to_dict():
            print("To apply the new options, run the same command with --refresh.")
        print(f"  project    {safe(project.dir)}")
        return 0

    verb = "Added" if args.add else "Imported"
    print(f"{verb} {safe(Path(args.file).name)} → project {project.name!r}")
    people = project.people
    for chat in project.added:
        by_author = chat.counts_by_author
        names = " · ".join(f"{people.resolve(n)} {_n(by_author.get(n, 0))}" for n in chat.participants[:6])
        if len(chat.participants) > 6:
            names += f" · {len(chat.participants) - 6} more"
        print(safe(f"  chat       {chat.label()} [{chat.id}]: {names}"))
        if chat.parse.get("unparsed"):
            print(f"  note       {chat.parse['unparsed']} record(s) of {safe(chat.id)} could not be read and were "
                  "skipped (see `wachat parse`)")
    c = project.counts
    dropped = c["dropped"]
    drop_bits = [f"{dropped[k]} {k}" for k in ("system", "deleted", "media", "call") if dropped.get(k)]
    sent = c["messages"] - dropped.get("system", 0)
    n_chats = len(project.chats)
    scope = f" in {n_chats} chats" if n_chats > 1 else ""
    print(f"  messages   {_n(sent)}{scope}" + (f"; dropped {', '.join(drop_bits)}" if drop_bits else ""))
    print(f"  sessions   {_n(c['sessions'])} (train {c['sessions_train']} · validation {c['sessions_validation']})")
    skipped = c["filtered"]
    skip_bits = [f"{v} {k.replace('_', ' ')}" for k, v in skipped.items() if v]
    print(f"  pairs      {_n(c['pairs'])} (train {_n(c['pairs_train'])} · validation {_n(c['pairs_validation'])}"
          + (f" · excluded {c['excluded']}" if c["excluded"] else "") + ")"
          + (f"; not trained: {', '.join(skip_bits)}" if skip_bits else ""))
    tokens = c["tokens_estimate"]
    print(f"  samples    train {_n(c['samples_train'])} · validation {_n(c['samples_validation'])}"
          f" (~{_n(tokens['train'] + tokens['validation'])} tokens)")
    print(f"  you        {safe(project.me)}")
    print(f"  personas   {safe(', '.join(project.personas))}")
    language = project.language
    if language is not None:
        from ..train.config import default_base, describe_base

        print(f"  language   {safe(language.summary)} → default base {describe_base(default_base(language.primary))}")
    if project.options.redact:
        r = c["redactions"]
        print(f"  redacted   {r['phone']} phone · {r['email']} email · {r['url']} url · {r['card']} card")
    print(f"  project    {safe(project.dir)}")
    if n_chats > 1 or args.add:
        print(f"Same person under another name? wachat people {project.name} --alias \"NAME=PERSON\"")
    print(f"Next: wachat stats {project.name} · wachat pairs {project.name} · wachat train {project.name}")
    return 0
