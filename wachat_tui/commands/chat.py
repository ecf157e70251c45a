"""`wachat chat P --as NAME`: the model plays NAME, you are the other participant."""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from ..chat.lines import show_bubble
from ..display import safe

HELP = "chat with your model: it plays one participant, you the other"

MODEL_MARK = "🤖 "  # marks model-written lines in interactive mode


# --------------------------------------------------------------------------- shared with simulate

def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model and the sampling options (chat and simulate)."""
    parser.add_argument("--model", metavar="FILE.gguf",
                        help="GGUF to run (default: the project's newest export, wherever it was "
                             "written; before the first export, the embedded base model for the chat's "
                             "language; 'embedded:smollm2-135m' or 'embedded:gemma3-270m' for one of them)")
    parser.add_argument("--temperature", type=float, metavar="T", help="randomness (default 0.8)")
    parser.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling (default 0.95)")
    parser.add_argument("--repeat-penalty", type=float, metavar="R", help="default 1.1")
    parser.add_argument("--max-tokens", type=int, metavar="N", help="longest reply in tokens (default 96)")
    add_guidance_argument(parser)
    parser.add_argument("--seed", type=int, metavar="N", help="make replies reproducible")
    parser.add_argument("--n-ctx", type=int, default=2048, metavar="N",
                        help="context window in tokens (default 2048)")
    parser.add_argument("--no-save", action="store_true", help="do not save this conversation")


def add_guidance_argument(parser: argparse.ArgumentParser) -> None:
    from ..chat.engine import GUIDANCE

    parser.add_argument("--guidance", type=float, metavar="G",
                        help=f"persona guidance: how strongly replies follow the persona's style card, "
                             f"1 = off, up to 3 (default {GUIDANCE}; twice the compute per token)")


def open_project(name: str | None):
    from ..core.project import Project, last_project
    from ..errors import ProjectError

    if not name:
        name = last_project()
        if not name:
            raise ProjectError("no project given and none used yet",
                               hint="name one, e.g. `wachat chat demo --as Leo` (see `wachat projects`)")
    return Project.open(name)


def match_name(name: str, participants: list[str], what: str = "participant") -> str:
    """A participant by name, forgiving case and surrounding spaces."""
    from ..core.names import resolve_name

    return resolve_name(name, participants, f"the {what}")


def match_person(project, name: str) -> str:
    """A person of the project by name or by any name they appear under ("Pete" → Peter)."""
    from ..errors import ProjectError

    person = project.people.person_of(name)
    if person is None or person not in project.participants:
        shown = ", ".join(project.participants[:20])
        raise ProjectError(f"{name!r} is not a participant of project {project.name!r}",
                           f"pick one of: {shown}")
    return person


def add_setting_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--setting", metavar="CHAT|new",
                        help="where the conversation happens: one of the project's chats (id or title: "
                             "its 1:1 or group setting), or 'new' (default: the chat the people share, "
                             "else a new 1:1 or group)")


def sampling_from_args(args):
    from ..chat.engine import Sampling

    overrides = {
        "temperature": args.temperature, "top_p": args.top_p,
        "repeat_penalty": args.repeat_penalty, "max_tokens": args.max_tokens, "guidance": args.guidance,
    }
    return Sampling(**{k: v for k, v in overrides.items() if v is not None}).validate()


def load_engine(project, args):
    """``(engine, model)`` on the model ``--model`` names, else the project's newest export
    (:mod:`wachat_tui.chat.models`); says so on stderr when it is the untrained base model."""
    from ..chat.engine import ChatEngine
    from ..chat.models import find_chat_model

    sampling = sampling_from_args(args)
    model = find_chat_model(project.dir, args.model)
    if model.is_base and not args.model:
        print(f"wachat: {project.name!r} has no exported model yet: chatting with the untrained base "
              f"model {model.base.label} (train and `wachat export {project.name}` first)",
              file=sys.stderr)
    path = model.ready_path(lambda line: print(f"wachat: {line}", file=sys.stderr))
    engine = ChatEngine(path, lora_path=model.lora_path, n_ctx=args.n_ctx, seed=args.seed,
                        sampling=sampling, cards=model.cards)
    return engine, model


@contextlib.contextmanager
def sigint_sets(event: threading.Event):
    """While inside: Ctrl-C sets ``event`` (the stream stops between two tokens); a second
    Ctrl-C interrupts for real."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if event.is_set():
            raise KeyboardInterrupt
        event.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class LinePrinter:
    """Prints a streamed turn as ``Name: text`` lines (one per bubble) as it arrives.

    A bubble that starts with ``<`` is held back until it ends, so that a media tag the model
    writes prints as ``[📷 photo]`` (:func:`~wachat_tui.chat.lines.show_bubble`), not ``<photo>``.
    """

    def __init__(self, author: str, mark: str = "", out=None):
        self.author = author
        self.prefix = f"{mark}{safe(author)}: "
        self.out = out or sys.stdout
        self.open = False
        self.held = ""

    def write(self, piece: str) -> None:
        for i, part in enumerate(piece.split("\n")):
            if i:
                self.end()
            if not part:
                continue
            if self.held or (not self.open and part.lstrip().startswith("<")):
                self.held += part
                continue
            self._emit(part)
        self.out.flush()

    def _emit(self, text: str) -> None:
        if not self.open:
            self.out.write(self.prefix)
            self.open = True
        self.out.write(safe(text))  # a model's free output: never raw to the terminal

    def end(self) -> None:
        if self.held:
            held, self.held = self.held, ""
            self._emit(show_bubble(held.strip()))
        if self.open:
            self.out.write("\n")
            self.out.flush()
            self.open = False


def print_lines(lines, mark: str = "") -> None:
    for line in lines:
        print(f"{mark if line.by_model else ''}{safe(line.author)}: {safe(show_bubble(line.text))}", flush=True)


# --------------------------------------------------------------------------- chat

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", nargs="?", help="project name (default: the last one used)")
    parser.add_argument("--as", dest="persona", metavar="NAME",
                        help="the person the model plays, from any chat of the project (default: the "
                             "most active person who is not you)")
    parser.add_argument("--me", metavar="NAME",
                        help="who you are, any person of the project (default: you, or someone the "
                             "model's persona talks to when the model plays you)")
    add_setting_argument(parser)
    parser.add_argument("--message", "-m", action="append", metavar="TEXT",
                        help="scripted: send TEXT, print the reply as `Name: text` lines (repeatable)")
    parser.add_argument("--continue", dest="resume", action="store_true",
                        help="go on with the last saved conversation of this project")
    add_model_arguments(parser)


def stream_to_stdout(conversation, engine, persona: str | None = None, mark: str = "") -> bool:
    """Stream one model turn as `Name: text` lines; False when Ctrl-C stopped it."""
    persona = persona or conversation.model_plays
    stop = threading.Event()
    printer = LinePrinter(persona, mark)
    with sigint_sets(stop):
        for piece in conversation.stream_turn(engine, persona, stop):
            printer.write(piece)
    printer.end()
    return not stop.is_set()


HELP_LINE = ("commands: /swap [NAME] play the other side · /more let the model write again · "
             "/redo write the last reply again · /history · /quit (Ctrl-D)")


def run(args) -> int:
    from ..chat.session import Conversation
    from ..chat.store import ChatStore
    from ..errors import ProjectError

    from ..core.setting import choose_setting

    project = open_project(args.project)
    participants = list(project.participants)
    if len(participants) < 2:
        raise ProjectError(f"project {project.name!r} has fewer than two participants")
    if args.persona:
        persona = match_person(project, args.persona)
    else:
        persona = next((p for p in participants if p != project.me), participants[0])
    if args.me:
        me = match_person(project, args.me)
    elif persona != project.me and project.me in participants:
        me = project.me
    else:
        partners = {p for c in project.chats_of(persona) for p in project.people_in(c)}
        me = next((p for p in participants if p != persona and p in partners),
                  next(p for p in participants if p != persona))
    if me == persona:
        raise ProjectError(f"you and the model cannot both be {me}", hint="pick another --me or --as")
    setting = choose_setting(project, [me, persona], args.setting)

    engine, model = load_engine(project, args)
    store = None
    try:
        store = None if args.no_save else ChatStore(project.dir)
        participants = list(setting.people)
        options = {"chat_name": setting.chat_name, "platform": setting.platform,
                   "model_name": model.name}
        if args.resume and store is not None:
            conversation = Conversation.resume(store, participants, me, persona, **options)
        else:
            conversation = Conversation(participants, me, persona, store=store, **options)
        if args.message:
            for text in args.message:
                print_lines(conversation.say(text))
                if not stream_to_stdout(conversation, engine):
                    return 130
            return 0
        if not sys.stdin.isatty():  # piped: one message (or /command) per line, plain transcript
            for raw in sys.stdin:
                outcome = _command(conversation, engine, raw.strip(), mark="")
                if outcome == "quit":
                    return 0
                if outcome == "handled" or not raw.strip():
                    continue
                print_lines(conversation.say(raw.rstrip("\n")))
                if not stream_to_stdout(conversation, engine):
                    return 130
            return 0
        return _interactive(conversation, engine)
    finally:
        engine.close()
        if store is not None:
            store.close()


def _command(conversation, engine, text: str, mark: str) -> str | None:
    """Run a /command: "quit", "handled", or None when ``text`` is a message."""
    from ..errors import WachatError

    if not text.startswith("/"):
        return None
    command, _, rest = text.partition(" ")
    if command in ("/quit", "/exit", "/q"):
        return "quit"
    if command == "/help":
        print(HELP_LINE, file=sys.stderr)
    elif command == "/history":
        print_lines(conversation.lines, mark)
    elif command in ("/swap", "/as"):
        try:
            conversation.swap(rest.strip() or None)
        except WachatError as exc:
            print(safe(exc.one_line()), file=sys.stderr)
        else:
            print(f"now the model is {safe(conversation.model_plays)}, you are {safe(conversation.you)}",
                  file=sys.stderr)
    elif command == "/more":
        if not stream_to_stdout(conversation, engine, mark=mark):
            print("(stopped)", file=sys.stderr)
    elif command == "/redo":
        author = conversation.drop_last_reply()
        if author is None:
            print("no model reply to write again", file=sys.stderr)
        elif not stream_to_stdout(conversation, engine, author, mark=mark):
            print("(stopped)", file=sys.stderr)
    else:
        print(f"unknown command {safe(command)}; {HELP_LINE}", file=sys.stderr)
    return "handled"


def _interactive(conversation, engine) -> int:
    print(f"{safe(engine.model_path.name)}: the model is {safe(conversation.model_plays)}, you are "
          f"{safe(conversation.you)}. {HELP_LINE}", file=sys.stderr)
    if conversation.lines:
        print_lines(conversation.lines, MODEL_MARK)
    while True:
        try:
            text = input(f"{safe(conversation.you)}: ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        outcome = _command(conversation, engine, text.strip(), MODEL_MARK)
        if outcome == "quit":
            return 0
        if outcome == "handled" or not text.strip():
            continue
        conversation.say(text)
        if not stream_to_stdout(conversation, engine, mark=MODEL_MARK):
            print("(stopped)", file=sys.stderr)
