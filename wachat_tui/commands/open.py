"""`wachat open FILE`: start the app on the Import pane with that export."""
from __future__ import annotations

HELP = "open the app on the Import pane with a WhatsApp export (.txt or .zip)"


def add_arguments(parser) -> None:
    parser.add_argument("file", help="a WhatsApp export: the .txt file or the .zip the phone made")


def run(args) -> int:
    from pathlib import Path

    from ..errors import WachatError

    path = Path(args.file).expanduser()
    if not path.exists():
        raise WachatError(f"no such file: {path}", "give the path of a .txt or .zip WhatsApp export")
    if path.is_dir():
        raise WachatError(f"{path} is a folder", "give the path of a .txt or .zip WhatsApp export")
    from ..tui.app import run_app

    return run_app(open_file=path.resolve())
