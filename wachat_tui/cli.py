"""`wachat` entry point.

Each subcommand lives in ``wachat_tui/commands/<name>.py`` and exposes ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Those modules stay light at import time:
heavy libraries (torch, transformers, llama_cpp, textual) are imported inside ``run``.
With no subcommand, ``wachat`` opens the Textual app.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from . import __version__
from .errors import WachatError
from .display import safe

# subcommand name → module under wachat_tui.commands (order = order in --help)
COMMANDS: dict[str, str] = {
    "parse": "parse",
    "import": "import_",
    "chats": "chats",
    "people": "people",
    "projects": "projects",
    "pairs": "pairs",
    "stats": "stats",
    "train": "train",
    "eval": "eval",
    "export": "export",
    "chat": "chat",
    "simulate": "simulate",
    "open": "open",
    "demo": "demo",
}


def _available_commands() -> dict[str, object]:
    mods = {}
    for name, modname in COMMANDS.items():
        try:
            mods[name] = importlib.import_module(f"wachat_tui.commands.{modname}")
        except ModuleNotFoundError as exc:  # a command not built yet
            if exc.name and exc.name.startswith("wachat_tui.commands"):
                continue
            raise
    return mods


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(
        prog="wachat",
        description="Turn your chat exports (WhatsApp, Telegram) into a small local model that texts like you.",
    )
    parser.add_argument("--version", action="version", version=f"wachat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    mods = _available_commands()
    for name, mod in mods.items():
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
    return parser, mods


def _log_crash() -> str:
    from .paths import data_home

    path = data_home() / "crash.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(path, "a", encoding="utf-8") as fh:
            traceback.print_exc(file=fh)
        os.chmod(path, 0o600)
    except OSError:
        return ""
    return str(path)


def main(argv: list[str] | None = None) -> int:
    from .paths import use_private_umask
    from .privacy import disable_telemetry

    use_private_umask()
    disable_telemetry()  # before any command imports a library that reads the switches
    parser, mods = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from .commands import app as app_cmd

            return app_cmd.run(args)
        return int(mods[args.command].run(args) or 0)
    except WachatError as exc:
        print(f"wachat: error: {safe(exc.one_line())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("wachat: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except Exception as exc:  # never a traceback on the terminal
        where = _log_crash()
        msg = f"wachat: internal error: {type(exc).__name__}: {exc}".splitlines()[0]
        if where:
            msg += f" (details in {where})"
        print(safe(msg), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
