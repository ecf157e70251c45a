"""`wachat` with no subcommand: the Textual app (CLI summary until the TUI lands)."""
from __future__ import annotations

HELP = "open the app"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    try:
        from ..tui.app import run_app
    except ModuleNotFoundError:
        import sys

        print("wachat: the app is not built yet; try `wachat --help`", file=sys.stderr)
        return 1
    return run_app()
