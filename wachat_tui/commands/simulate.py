"""`wachat simulate P --turns N`: the model plays both participants in turn."""
from __future__ import annotations

import argparse
import sys
import threading

from .chat import (LinePrinter, add_model_arguments, chat_name_of, load_engine, match_name,
                   open_project, print_lines, sigint_sets)

HELP = "let the model play both participants and watch them text"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", nargs="?", help="project name (default: the last one used)")
    parser.add_argument("--turns", type=int, default=6, metavar="N", help="turns to generate (default 6)")
    parser.add_argument("--opening", metavar="TEXT",
                        help="first line, said by the first persona (default: start from a real "
                             "session of the chat)")
    parser.add_argument("--personas", nargs=2, metavar=("FIRST", "SECOND"),
                        help="who talks (FIRST starts; default: you, then the most active other participant)")
    parser.add_argument("--session", type=int, metavar="K",
                        help="start from real session K (0 = first, -1 = last; default: a random one)")
    parser.add_argument("--session-lines", type=int, default=6, metavar="N",
                        help="lines of the real session to start from (default 6)")
    add_model_arguments(parser)


def run(args) -> int:
    from ..chat.simulate import Simulation, pick_session
    from ..chat.store import ChatStore
    from ..errors import ProjectError

    if args.turns < 1:
        raise ProjectError("--turns must be at least 1")
    project = open_project(args.project)
    participants = list(project.participants)
    if len(participants) < 2:
        raise ProjectError(f"project {project.name!r} has fewer than two participants")
    if args.personas:
        personas = [match_name(n, participants) for n in args.personas]
        if personas[0] == personas[1]:
            raise ProjectError("--personas needs two different people")
    else:
        me = project.me if project.me in participants else participants[0]
        personas = [me, next(p for p in participants if p != me)]  # you start, the other replies

    history = []
    if not args.opening:
        options = getattr(project, "options", None)
        history = pick_session(project.messages(), personas, index=args.session, seed=args.seed,
                               lines=args.session_lines,
                               gap_minutes=getattr(options, "session_gap_minutes", 60),
                               media=getattr(options, "media", "tag"))

    engine = load_engine(project, args)
    store = None
    try:
        store = None if args.no_save else ChatStore(project.dir)
        conversation = None
        if store is not None:
            conversation = store.new_conversation(" & ".join(personas), kind="simulation",
                                                  personas=personas, model=engine.model_path.name)
            store.add_many(conversation, history)

        def save(line):
            if store is not None:
                store.add(conversation, line, played=line.author if line.by_model else None)

        sim = Simulation(engine, personas, history, args.opening, chat_name=chat_name_of(project),
                         participants=participants, on_line=save)
        print_lines(sim.history)
        stop = threading.Event()
        printer = None
        with sigint_sets(stop):
            for author, piece in sim.turns(args.turns, stop):
                if printer is None or printer.prefix != f"{author}: ":
                    if printer is not None:
                        printer.end()
                    printer = LinePrinter(author)
                if piece:
                    printer.write(piece)
                else:
                    printer.end()
        if printer is not None:
            printer.end()
        if stop.is_set():
            print("wachat: simulation stopped", file=sys.stderr)
            return 130
        return 0
    finally:
        engine.close()
        if store is not None:
            store.close()
