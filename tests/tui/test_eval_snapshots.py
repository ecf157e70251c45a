"""Snapshots of the Eval pane and the blind test (pytest-textual-snapshot): `pytest --snapshot-update`
after a deliberate change of look, then review the SVGs in tests/tui/__snapshots__/."""
from __future__ import annotations

from wachat_tui.tui.app import WachatApp
from wachat_tui.tui.screens.eval import EvalScreen

from .conftest import SIZE, import_snapshot_chat, settle, write_demo_run
from .test_snapshots import _steady
from wachat_tui.tui.showcase import write_demo_eval


def _measured():
    project = import_snapshot_chat()
    write_demo_run(project)
    write_demo_eval(project)
    return project


def test_eval(snap_compare, snap_home):
    project = _measured()

    async def run_before(pilot):
        await settle(pilot)
        _steady(pilot)

    app = WachatApp(project=project, start_mode="eval")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_blind_test_revealed(snap_compare, snap_home, monkeypatch):
    monkeypatch.setattr(EvalScreen, "blind_seed", 7)
    project = _measured()

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("b")
        await pilot.pause(0.3)
        await pilot.press("right", "enter")  # pick bubble 2: the reveal is part of the picture
        await pilot.pause(0.3)
        _steady(pilot)

    app = WachatApp(project=project, start_mode="eval")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
