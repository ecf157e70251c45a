"""`wachat chat P --as NAME`: the model plays NAME, you are the other participant."""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path

HELP = "chat with your model: it plays one participant, you the other"

MODEL_MARK = "🤖 "  # marks model-written lines in interactive mode


# --------------------------------------------------------------------------- shared with simulate

def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model and the sampling options (chat and simulate)."""
    parser.add_argument("--model", metavar="FILE.gguf",
                        help="GGUF to run (default: the newest one `wachat export` wrote for the "
                             "project; 'embedded' = the bundled SmolLM2-135M)")
    parser.add_argument("--temperature", type=float, metavar="T", help="randomness (default 0.8)")
    parser.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling (default 0.95)")
    parser.add_argument("--repeat-penalty", type=float, metavar="R", help="default 1.1")
    parser.add_argument("--max-tokens", type=int, metavar="N", help="longest reply in tokens (default 96)")
    parser.add_argument("--seed", type=int, metavar="N", help="make replies reproducible")
    parser.add_argument("--n-ctx", type=int, default=2048, metavar="N",
                        help="context window in tokens (default 2048)")
    parser.add_argument("--no-save", action="store_true", help="do not save this conversation")


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


def sampling_from_args(args):
    from ..chat.engine import Sampling

    overrides = {
        "temperature": args.temperature, "top_p": args.top_p,
        "repeat_penalty": args.repeat_penalty, "max_tokens": args.max_tokens,
    }
    return Sampling(**{k: v for k, v in overrides.items() if v is not None}).validate()


def resolve_model(project, model_arg: str | None) -> Path:
    from ..chat.engine import default_model_path, find_model

    if model_arg:
        if model_arg == "embedded":
            return default_model_path()
        return Path(model_arg).expanduser()
    return find_model(project.dir)


def load_engine(project, args):
    from ..chat.engine import ChatEngine

    sampling = sampling_from_args(args)
    path = resolve_model(project, args.model)
    return ChatEngine(path, n_ctx=args.n_ctx, seed=args.seed, sampling=sampling)


def chat_name_of(project) -> str | None:
    return project.chat_name if project.is_group else None


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
    """Prints a streamed turn as ``Name: text`` lines (one per bubble) as it arrives."""

    def __init__(self, author: str, mark: str = "", out=None):
        self.prefix = f"{mark}{author}: "
        self.out = out or sys.stdout
        self.open = False

    def write(self, piece: str) -> None:
        for i, part in enumerate(piece.split("\n")):
            if i:
                self.end()
            if part:
                if not self.open:
                    self.out.write(self.prefix)
                    self.open = True
                self.out.write(part)
        self.out.flush()

    def end(self) -> None:
        if self.open:
            self.out.write("\n")
            self.out.flush()
            self.open = False


def print_lines(lines, mark: str = "") -> None:
    for line in lines:
        print(f"{mark if line.by_model else ''}{line.author}: {line.text}", flush=True)


# --------------------------------------------------------------------------- chat

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", nargs="?", help="project name (default: the last one used)")
    parser.add_argument("--as", dest="persona", metavar="NAME",
                        help="the participant the model plays (default: the other person, not you)")
    parser.add_argument("--me", metavar="NAME",
                        help="who you are (default: you, or the other person when the model plays you)")
    parser.add_argument("--message", "-m", action="append", metavar="TEXT",
                        help="scripted: send TEXT, print the reply as `Name: text` lines (repeatable)")
    parser.add_argument("--continue", dest="resume", action="store_true",
                        help="go on with the last saved conversation of this project")
    add_model_arguments(parser)


class _Session:
    """One chat: who plays whom, the history, saving."""

    def __init__(self, project, engine, persona: str, me: str, store, resume: bool):
        self.project = project
        self.engine = engine
        self.participants = list(project.participants)
        self.persona = persona
        self.me = me
        self.store = store
        self.chat_name = chat_name_of(project)
        self.conversation = None
        self.history = []
        if resume and store is not None:
            self.conversation = store.latest(kind="chat")
            if self.conversation is not None:
                self.history = store.history(self.conversation)

    @property
    def partners(self) -> list[str]:
        return [p for p in self.participants if p != self.persona] or [self.me]

    def save(self, lines, played: str) -> None:
        self.history.extend(lines)
        if self.store is None or not lines:
            return
        if self.conversation is None:
            self.conversation = self.store.new_conversation(
                f"{self.me} & {self.persona}", kind="chat", personas=[self.persona],
                model=self.engine.model_path.name)
        self.store.add_many(self.conversation, lines, played=played)

    def say(self, text: str) -> list:
        from ..chat.engine import lines_from_reply

        lines = lines_from_reply(self.me, text, by_model=False)
        self.save(lines, played=self.persona)
        return lines

    def respond(self, mark: str = "") -> bool:
        """Stream the model's turn to stdout; False when Ctrl-C stopped it."""
        from ..chat.engine import lines_from_reply

        stop = threading.Event()
        printer = LinePrinter(self.persona, mark)
        pieces: list[str] = []
        with sigint_sets(stop):
            for piece in self.engine.stream_reply(self.history, self.persona, self.partners, stop,
                                                  chat_name=self.chat_name):
                pieces.append(piece)
                printer.write(piece)
        printer.end()
        self.save(lines_from_reply(self.persona, "".join(pieces), by_model=True), played=self.persona)
        return not stop.is_set()

    def swap(self, name: str | None) -> str:
        if name:
            target = match_name(name, self.participants)
        else:
            others = [p for p in self.participants if p != self.persona]
            if len(others) != 1:
                raise ValueError("say who: /swap NAME")
            target = others[0]
        if target == self.me:
            self.me = self.persona
        self.persona = target
        return target


def _interactive_help(session) -> str:
    return ("commands: /swap [NAME] play the other side · /more let the model write again · "
            "/history · /quit (Ctrl-D)")


def run(args) -> int:
    from ..errors import ProjectError

    project = open_project(args.project)
    participants = list(project.participants)
    if len(participants) < 2:
        raise ProjectError(f"project {project.name!r} has fewer than two participants")
    if args.persona:
        persona = match_name(args.persona, participants)
    else:
        persona = next((p for p in participants if p != project.me), participants[0])
    if args.me:
        me = match_name(args.me, participants)
    elif persona != project.me and project.me in participants:
        me = project.me
    else:
        me = next(p for p in participants if p != persona)
    if me == persona:
        raise ProjectError(f"you and the model cannot both be {me}", hint="pick another --me or --as")

    from ..chat.store import ChatStore

    engine = load_engine(project, args)
    store = None
    try:
        store = None if args.no_save else ChatStore(project.dir)
        session = _Session(project, engine, persona, me, store, args.resume)
        if args.message:
            for text in args.message:
                print_lines(session.say(text))
                if not session.respond():
                    return 130
            return 0
        if not sys.stdin.isatty():  # piped: one message (or /command) per line, plain transcript
            for raw in sys.stdin:
                outcome = _command(session, raw.strip(), mark="")
                if outcome == "quit":
                    return 0
                if outcome == "handled" or not raw.strip():
                    continue
                print_lines(session.say(raw.rstrip("\n")))
                if not session.respond():
                    return 130
            return 0
        return _interactive(session)
    finally:
        engine.close()
        if store is not None:
            store.close()


def _command(session, text: str, mark: str) -> str | None:
    """Run a /command: "quit", "handled", or None when ``text`` is a message."""
    from ..errors import WachatError

    if not text.startswith("/"):
        return None
    command, _, rest = text.partition(" ")
    if command in ("/quit", "/exit", "/q"):
        return "quit"
    if command == "/help":
        print(_interactive_help(session), file=sys.stderr)
    elif command == "/history":
        print_lines(session.history, mark)
    elif command in ("/swap", "/as"):
        try:
            session.swap(rest.strip() or None)
        except (ValueError, WachatError) as exc:
            print(exc.one_line() if isinstance(exc, WachatError) else str(exc), file=sys.stderr)
        else:
            print(f"now the model is {session.persona}, you are {session.me}", file=sys.stderr)
    elif command == "/more":
        if not session.respond(mark):
            print("(stopped)", file=sys.stderr)
    else:
        print(f"unknown command {command}; {_interactive_help(session)}", file=sys.stderr)
    return "handled"


def _interactive(session) -> int:
    print(f"{session.engine.model_path.name}: the model is {session.persona}, you are {session.me}. "
          f"{_interactive_help(session)}", file=sys.stderr)
    if session.history:
        print_lines(session.history, MODEL_MARK)
    while True:
        try:
            text = input(f"{session.me}: ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        outcome = _command(session, text.strip(), MODEL_MARK)
        if outcome == "quit":
            return 0
        if outcome == "handled" or not text.strip():
            continue
        session.say(text)
        if not session.respond(MODEL_MARK):
            print("(stopped)", file=sys.stderr)
