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
    from ..chat.session import Conversation
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

    seed_lines = []
    if not args.opening:
        options = project.options
        seed_lines = pick_session(project.messages(), personas, index=args.session, seed=args.seed,
                                  lines=args.session_lines, gap_minutes=options.session_gap_minutes,
                                  media=options.media)

    engine, model = load_engine(project, args)
    store = None
    try:
        store = None if args.no_save else ChatStore(project.dir)
        conversation = Conversation(participants, personas[0], personas[1], store=store,
                                    chat_name=chat_name_of(project), kind="simulation",
                                    model_name=model.name)
        conversation.record(seed_lines)  # real lines of the chat: nobody played them
        sim = Simulation(engine, conversation, personas, opening=args.opening)
        print_lines(conversation.lines)
        stop = threading.Event()
        printer = None
        with sigint_sets(stop):
            for author, piece in sim.turns(args.turns, stop):
                if printer is None or printer.author != author:
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
