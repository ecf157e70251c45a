"""`wachat simulate P --between A B [C …]`: the model plays two people — who may never have
written to each other — or a group, and you watch them text."""
from __future__ import annotations

import argparse
import sys
import threading

from ..display import safe
from .chat import (LinePrinter, add_model_arguments, add_setting_argument, load_engine, match_person,
                   open_project, print_lines, sigint_sets)

HELP = "let the model play two people (or a group) of a project and watch them text"
MODEL_MARK = "🤖 "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", nargs="?", help="project name (default: the last one used)")
    parser.add_argument("--between", nargs="+", metavar="NAME",
                        help="who talks: two people (even two who never wrote to each other) or more "
                             "(a group); default: you and the most active other person")
    parser.add_argument("--personas", nargs=2, metavar=("FIRST", "SECOND"), help=argparse.SUPPRESS)
    parser.add_argument("--turns", type=int, default=6, metavar="N", help="turns to generate (default 6)")
    add_setting_argument(parser)
    parser.add_argument("--tempo", action="store_true",
                        help="play at the personas' own pace: typing… and pauses between bubbles scaled "
                             "from their real reply times (default: as fast as the model writes)")
    parser.add_argument("--speed", type=float, default=60.0, metavar="F",
                        help="with --tempo: how many times faster than real life (default 60: a real "
                             "minute lasts a second); each pause is at most 4 s")
    parser.add_argument("--opening", metavar="TEXT",
                        help="first line, said by the first speaker (default: start from a real "
                             "session of the setting's chat, or from nothing in a new setting)")
    parser.add_argument("--session", type=int, metavar="K",
                        help="start from real session K of the setting's chat (0 = first, -1 = last; "
                             "default: a random one)")
    parser.add_argument("--session-lines", type=int, default=6, metavar="N",
                        help="lines of the real session to start from (default 6)")
    add_model_arguments(parser)


def run(args) -> int:
    from ..chat.session import Conversation
    from ..chat.simulate import Simulation, pick_session
    from ..chat.store import ChatStore
    from ..core.setting import choose_setting
    from ..core.turntaking import Tempo, for_setting
    from ..errors import ProjectError

    if args.turns < 1:
        raise ProjectError("--turns must be at least 1")
    if args.tempo and not args.speed > 0:
        raise ProjectError("--speed must be above 0")
    project = open_project(args.project)
    people = project.participants
    if len(people) < 2:
        raise ProjectError(f"project {project.name!r} has fewer than two people")
    names = args.between or args.personas
    if names:
        talkers = list(dict.fromkeys(match_person(project, n) for n in names))
        if len(talkers) < 2:
            raise ProjectError("--between needs at least two different people")
    else:
        me = project.me if project.me in people else people[0]
        talkers = [me, next(p for p in people if p != me)]  # you start, the other replies
    setting = choose_setting(project, talkers, args.setting)

    seed_lines = []
    if not args.opening and setting.chat_id is not None:
        options = project.options
        try:
            seed_lines = pick_session(project.messages(setting.chat_id), talkers, index=args.session,
                                      seed=args.seed, lines=args.session_lines,
                                      gap_minutes=options.session_gap_minutes, media=options.media)
        except ProjectError:
            if args.session is not None:
                raise
            seed_lines = []   # they never talked there in one session: they start afresh
    overall = project.turn_taking()
    chat_numbers = project.turn_taking(setting.chat_id) if setting.chat_id is not None else None
    turn_taking = for_setting(chat_numbers, overall, talkers)

    engine, model = load_engine(project, args)
    store = None
    try:
        store = None if args.no_save else ChatStore(project.dir)
        conversation = Conversation(list(setting.people), talkers[0], talkers[1], store=store,
                                    chat_name=setting.chat_name, platform=setting.platform,
                                    kind="simulation", model_name=model.name)
        conversation.record(seed_lines)  # real lines of the chat: nobody played them
        typing = (lambda who, seconds: print(f"{safe(who)} is typing…", file=sys.stderr, flush=True)) \
            if args.tempo else None
        sim = Simulation(engine, conversation, talkers, opening=args.opening, seed=args.seed,
                         turn_taking=turn_taking, tempo=Tempo(speed=args.speed) if args.tempo else None,
                         on_typing=typing)
        print(safe(f"{' · '.join(talkers)} in {setting.label()} (model lines marked {MODEL_MARK.strip()})"),
              file=sys.stderr)
        print_lines(conversation.lines)
        stop = threading.Event()
        printer = None
        with sigint_sets(stop):
            for author, piece in sim.turns(args.turns, stop):
                if printer is None or printer.author != author:
                    if printer is not None:
                        printer.end()
                    printer = LinePrinter(author, MODEL_MARK)
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
