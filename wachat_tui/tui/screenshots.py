"""`python -m wachat_tui.tui.screenshots OUTDIR`: SVG screenshots of every pane (and the blind test).

Works in a temporary WACHAT_HOME (your projects are never touched): imports the bundled demo
chat for real, then takes the training runs, models and chat history of a real project when
one is given with ``--from PROJECT_DIR`` (or found as the ``demo`` project in your data home).
With a trained run it exports it for real through the Export pane, and with a model it chats
for real through the Chat pane. Without any, the Train/Export/Chat panes show the fixed
illustrative content of ``showcase.py`` (the same the snapshot tests use); the Eval pane shows a
run's own ``eval.json`` when one was measured, else the showcase report (a real measurement
of the demo chat).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


async def _wait(pilot, condition, timeout: float) -> bool:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            return False
        await pilot.pause(0.1)
    return True


async def _settle(pilot, timeout: float = 120) -> None:
    from textual.worker import WorkerState

    app = pilot.app
    await pilot.pause(0.2)
    await _wait(pilot, lambda: not [w for w in app.workers if w.name != "_loader" and w.state in
                                    (WorkerState.PENDING, WorkerState.RUNNING)], timeout)
    await pilot.pause(0.3)


def _steady(app) -> None:
    from textual.widgets import Input

    for field in app.screen.query(Input):
        field.cursor_blink = False
    app.clear_notifications()


ONLY: set[str] = set()
"""Names of the pictures to make (``--only``); empty: all of them."""


async def _shoot(app_factory, out: Path, name: str, size, script=None, log=print) -> None:
    if ONLY and name not in ONLY:
        return
    app = app_factory()
    async with app.run_test(size=size) as pilot:
        await _settle(pilot)
        if script is not None:
            await script(pilot)
        _steady(app)
        await pilot.pause(0.2)
        app.save_screenshot(filename=f"{name}.svg", path=str(out))
    log(f"  {name}.svg")


def _real_source(arg: str | None) -> Path | None:
    if arg:
        path = Path(arg).expanduser()
        if not (path / "project.json").exists():
            sys.exit(f"screenshots: {path} is not a wachat project folder")
        return path
    from ..paths import data_home

    candidate = data_home() / "projects" / "demo"
    if (candidate / "runs").is_dir() and any((candidate / "runs").iterdir()):
        return candidate
    return None


async def make(out: Path, source: Path | None, size: tuple[int, int]) -> None:
    from ..core.project import Project, ensure_demo_project
    from ..paths import demo_export
    from . import showcase
    from .app import WachatApp
    from .runstate import RunView, fold_all

    project = ensure_demo_project()
    real_run = real_model = False
    if source is not None:
        import json

        for run in sorted((source / "runs").glob("*/run.json")):  # finished runs tell the story
            if json.loads(run.read_text()).get("status") == "finished":
                shutil.copytree(run.parent, project.dir / "runs" / run.parent.name)
        if (source / "models").is_dir():
            shutil.copytree(source / "models", project.dir / "models", dirs_exist_ok=True)
        real_run = any((project.dir / "runs").glob("*/run.json"))
        real_model = any((project.dir / "models").glob("*.gguf"))
    if not real_run:
        showcase.write_demo_run(project)
    project = Project.open(project.name)

    exports = Path(tempfile.mkdtemp(prefix="wachat-exports-"))
    chat_file = exports / "WhatsApp Chat with Leo.txt"
    shutil.copy(demo_export(), chat_file)
    cwd = os.getcwd()
    os.chdir(exports.parent)
    try:
        await _shoot(lambda: WachatApp(), out, "welcome", size)

        async def pick_me(pilot):
            await pilot.press("enter")
            await _settle(pilot)

        await _shoot(lambda: WachatApp(open_file=Path(exports.name) / chat_file.name), out,
                     "import", size, pick_me)
    finally:
        os.chdir(cwd)

    await _shoot(lambda: WachatApp(project=project, start_mode="review"), out, "review", size)

    async def stats(pilot):
        await pilot.press("s")
        await pilot.pause(0.3)

    await _shoot(lambda: WachatApp(project=project, start_mode="review"), out, "review-stats",
                 (max(size[0], 110), max(size[1], 40)), stats)

    async def cpu(pilot):
        pilot.app.screen._device_detected("cpu")
        await _settle(pilot)

    await _shoot(lambda: WachatApp(project=project, start_mode="train"), out, "train", size, cpu)

    async def export(pilot):
        screen = pilot.app.screen
        if real_run:
            await pilot.press("ctrl+s")  # a real export, through the pane
            await _wait(pilot, lambda: screen.proc is not None, 10)
            await _wait(pilot, lambda: screen.proc is None, 900)
        elif not real_run:
            screen._show(fold_all(showcase.export_events(project),
                                  RunView(status="starting", run_dir=showcase.RUN_ID)))
        await pilot.pause(0.3)

    await _shoot(lambda: WachatApp(project=project, start_mode="export"), out, "export", size, export)
    real_model = any((project.dir / "models").glob("*.gguf"))

    if real_model:
        async def chat(pilot):
            from ..chat.engine import Sampling

            screen = pilot.app.screen
            screen.sampling = Sampling(max_tokens=60)
            await pilot.press(*"are u coming to the market on saturday?", "enter")
            await _wait(pilot, lambda: screen.busy, 5)
            await _wait(pilot, lambda: not screen.busy, 300)
            await pilot.press("ctrl+g")  # two simulated turns, then stop
            n = len(screen.lines)
            await _wait(pilot, lambda: len(screen.lines) >= n + 2, 300)
            await pilot.press("escape")
            await _wait(pilot, lambda: not screen.busy, 30)
            screen.query_one("#conversation").scroll_end(animate=False)
    else:
        showcase.write_demo_chat(project)
        chat = None
    await _shoot(lambda: WachatApp(project=project, start_mode="chat"), out, "chat", size, chat)

    async def light(pilot):
        await pilot.press("f2")
        await pilot.pause(0.3)

    await _shoot(lambda: WachatApp(project=project, start_mode="chat"), out, "chat-light-80x24",
                 (80, 24), light)

    # the Eval pane: a run's own report when one was measured, else the showcase report
    if not any((project.dir / "runs").glob("*/eval.json")):
        if not (project.dir / "runs" / showcase.RUN_ID / "run.json").exists():
            showcase.write_demo_run(project)
        showcase.write_demo_eval(project)
    await _shoot(lambda: WachatApp(project=project, start_mode="eval"), out, "eval", size)

    async def blind(pilot):
        await pilot.press("b")
        await pilot.pause(0.3)
        await pilot.press("right", "enter")  # a pick, revealed
        await pilot.pause(0.3)

    from .screens.eval import EvalScreen

    EvalScreen.blind_seed = 7  # the same rounds every time the pictures are made
    await _shoot(lambda: WachatApp(project=project, start_mode="eval"), out, "blind", size, blind)
    shutil.rmtree(exports, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wachat_tui.tui.screenshots",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("outdir", help="folder for the SVG files (created)")
    parser.add_argument("--from", dest="source", metavar="PROJECT_DIR",
                        help="a real project whose runs, models and chat to show")
    parser.add_argument("--size", default="100x32", help="terminal size, COLSxROWS (default 100x32)")
    parser.add_argument("--only", metavar="NAMES", help="comma-separated pictures to make, e.g. eval,blind")
    args = parser.parse_args(argv)
    ONLY.update(n.strip() for n in (args.only or "").split(",") if n.strip())
    cols, rows = (int(v) for v in args.size.lower().split("x"))
    out = Path(args.outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    source = _real_source(args.source)
    # a fixed scratch home (not your data): paths in the pictures stay the same run to run
    home = Path(tempfile.gettempdir()) / "wachat-screenshots"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(mode=0o700)
    try:
        os.environ["WACHAT_HOME"] = str(home)
        os.environ["WACHAT_TUI_NO_SETTINGS"] = "1"
        print(f"screenshots → {out}" + (f" (runs and models from {source})" if source else
                                        " (illustrative training and chat content)"))
        asyncio.run(make(out, source, (cols, rows)))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
