"""`wachat demo`: import the bundled demo chat (once) and open the app on it."""
from __future__ import annotations

HELP = "open the app on the bundled demo chat (Maya ⇄ Leo), importing it on first use"


def add_arguments(parser) -> None:
    parser.add_argument("--pane", choices=("import", "review", "train", "export", "chat"),
                        default=None, help="pane to start on (default: chat when a model "
                        "exists, else review)")


def run(args) -> int:
    from ..core.project import ensure_demo_project

    project = ensure_demo_project()
    from ..tui.app import run_app

    return run_app(project=project, start_mode=getattr(args, "pane", None))
