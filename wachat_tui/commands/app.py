"""`wachat` with no subcommand: the Textual app on the last project (or the welcome screen)."""
from __future__ import annotations

HELP = "open the app"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    from ..tui.app import run_app

    return run_app()
