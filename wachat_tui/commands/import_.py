"""`wachat import FILE --me NAME`: a WhatsApp export becomes a project (dataset + stats)."""
from __future__ import annotations

from ..display import safe

HELP = "import a WhatsApp export (.txt/.zip) as a project: messages → training pairs → stats"


def add_arguments(parser) -> None:
    parser.add_argument("file", help="the exported chat: .txt or the .zip WhatsApp writes")
    parser.add_argument("--me", required=True, metavar="NAME",
                        help="your name as it appears in the chat (the model learns to text like you)")
    parser.add_argument("--project", metavar="P", help="project name (default: from the chat name)")
    parser.add_argument("--gap", type=int, metavar="MIN", default=None,
                        help="minutes of silence that start a new conversation (default 60)")
    parser.add_argument("--media", choices=("tag", "drop"), default=None,
                        help="media as short tags like <photo> (default) or left out")
    parser.add_argument("--redact", action="store_true", default=None,
                        help="replace phone numbers, e-mails, URLs and card numbers with tags")
    parser.add_argument("--validation-fraction", type=float, metavar="F", default=None,
                        help="share of the most recent conversations held out for validation (default 0.1)")
    parser.add_argument("--persona", action="append", metavar="NAME", default=None,
                        help="who the model learns to play (repeatable; default: you and, in a 1:1 chat, the other person)")
    parser.add_argument("--refresh", action="store_true",
                        help="re-import even if this file was imported before (keeps review exclusions)")


def _options(args, base):
    from ..core.dataset import DatasetOptions

    given = {
        "session_gap_minutes": args.gap,
        "media": args.media,
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
    project = import_export(Path(args.file), args.me, name=args.project, options=options, refresh=args.refresh)

    if project.unchanged:
        print(f"Project {project.name!r} already holds this export; nothing changed.")
        if options is not None and options.to_dict() != project.options.to_dict():
            print("To apply the new options, run the same command with --refresh.")
        print(f"  project    {safe(project.dir)}")
        return 0

    c = project.counts
    by_author = project.config["parse"]["counts_by_author"]
    people = " · ".join(f"{safe(name)} {_n(by_author.get(name, 0))}" for name in project.participants[:6])
    if len(project.participants) > 6:
        people += f" · {len(project.participants) - 6} more"
    dropped = c["dropped"]
    drop_bits = [f"{dropped[k]} {k}" for k in ("system", "deleted", "media", "call") if dropped.get(k)]
    print(f"Imported {safe(Path(args.file).name)} → project {project.name!r}")
    sent = c["messages"] - dropped.get("system", 0)
    print(f"  messages   {_n(sent)} ({people})" + (f"; dropped {', '.join(drop_bits)}" if drop_bits else ""))
    print(f"  sessions   {_n(c['sessions'])} (train {c['sessions_train']} · validation {c['sessions_validation']})")
    skipped = c["filtered"]
    skip_bits = [f"{v} {k.replace('_', ' ')}" for k, v in skipped.items() if v]
    print(f"  pairs      {_n(c['pairs'])} (train {_n(c['pairs_train'])} · validation {_n(c['pairs_validation'])}"
          + (f" · excluded {c['excluded']}" if c["excluded"] else "") + ")"
          + (f"; not trained: {', '.join(skip_bits)}" if skip_bits else ""))
    tokens = c["tokens_estimate"]
    print(f"  samples    train {_n(c['samples_train'])} · validation {_n(c['samples_validation'])}"
          f" (~{_n(tokens['train'] + tokens['validation'])} tokens)")
    print(f"  personas   {safe(', '.join(project.personas))}")
    language = project.language
    if language is not None:
        from ..train.config import default_base, describe_base

        print(f"  language   {safe(language.summary)} → default base {describe_base(default_base(language.primary))}")
    unparsed = project.config["parse"].get("unparsed", 0)
    if unparsed:
        print(f"  note       {unparsed} line(s) did not look like messages and were skipped (see `wachat parse`)")
    if project.options.redact:
        r = c["redactions"]
        print(f"  redacted   {r['phone']} phone · {r['email']} email · {r['url']} url · {r['card']} card")
    print(f"  project    {safe(project.dir)}")
    print(f"Next: wachat stats {project.name} · wachat pairs {project.name} · wachat train {project.name}")
    return 0
