"""Snapshots of every pane (pytest-textual-snapshot): `pytest --snapshot-update` after a
deliberate change of look, then review the SVGs in tests/tui/__snapshots__/."""
from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import Input

from wachat_tui.tui.app import WachatApp
from wachat_tui.tui.runstate import RunView, fold_all
from wachat_tui.tui.showcase import export_events

from .conftest import (RUN_ID, SIZE, SNAPSHOT_EXPORT, import_snapshot_chat, settle,
                       write_demo_chat, write_demo_run)


def _steady(pilot) -> None:
    """No blinking cursor, no toasts: the picture must not depend on timing."""
    app = pilot.app
    for field in app.screen.query(Input):
        field.cursor_blink = False
    app.clear_notifications()


def test_welcome(snap_compare, snap_home):
    async def run_before(pilot):
        await settle(pilot)
        _steady(pilot)

    assert snap_compare(WachatApp(), terminal_size=SIZE, run_before=run_before)


def test_import(snap_compare, snap_home, monkeypatch):
    export = snap_home / "exports" / "WhatsApp Chat with Leo.txt"
    export.parent.mkdir()
    shutil.copy(SNAPSHOT_EXPORT, export)
    monkeypatch.chdir(snap_home)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("enter")  # pick Maya
        await settle(pilot)
        # where the panel ends up scrolled depends on when the preview lands (focus follows the
        # picked name): show it from the top, as the user first sees it
        pilot.app.screen.query_one("#import-right").scroll_home(animate=False)
        await pilot.pause(0.1)
        _steady(pilot)

    app = WachatApp(open_file=Path("exports") / export.name)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_review_pairs(snap_compare, snap_home):
    project = import_snapshot_chat()

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("down", "down", "x")
        await settle(pilot)
        _steady(pilot)

    app = WachatApp(project=project, start_mode="review")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_review_style_cards(snap_compare, snap_home):
    project = import_snapshot_chat()

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause(0.2)
        _steady(pilot)

    app = WachatApp(project=project, start_mode="review")
    assert snap_compare(app, terminal_size=(110, 40), run_before=run_before)


def test_train(snap_compare, snap_home):
    project = import_snapshot_chat()
    write_demo_run(project)

    async def run_before(pilot):
        screen = pilot.app.screen
        screen._device_detected("cpu")
        await settle(pilot)
        _steady(pilot)

    app = WachatApp(project=project, start_mode="train")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_export(snap_compare, snap_home):
    project = import_snapshot_chat()
    write_demo_run(project)

    async def run_before(pilot):
        await settle(pilot)
        view = fold_all(export_events(project), RunView(status="starting", run_dir=RUN_ID))
        pilot.app.screen._show(view)
        await pilot.pause(0.1)
        _steady(pilot)

    app = WachatApp(project=project, start_mode="export")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_chat(snap_compare, snap_home):
    project = import_snapshot_chat()
    write_demo_chat(project)

    async def run_before(pilot):
        await settle(pilot)
        _steady(pilot)

    app = WachatApp(project=project, start_mode="chat")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_chat_light_theme_small_terminal(snap_compare, snap_home):
    project = import_snapshot_chat()
    write_demo_chat(project)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("f2")  # light theme
        await pilot.pause(0.2)
        _steady(pilot)

    app = WachatApp(project=project, start_mode="chat")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
