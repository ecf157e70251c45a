"""Pilot tests of each pane's main flow that need no model (fast)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from wachat_tui.core.project import Project
from wachat_tui.paths import demo_export
from wachat_tui.tui.app import WachatApp
from wachat_tui.tui.widgets.pair_table import PairTable

from .conftest import SIZE, import_demo, settle, wait_until, write_demo_run

pytestmark = pytest.mark.asyncio


async def test_welcome_loads_the_demo_and_opens_review(home):
    app = WachatApp()
    async with app.run_test(size=SIZE) as pilot:
        assert app.current_mode == "welcome"
        await pilot.press("d")
        await wait_until(pilot, lambda: app.current_mode == "review", timeout=120)
        await settle(pilot)
        assert app.project.name == "demo" and app.project.me == "Maya"
        assert app.screen.query_one(PairTable).row_count > 100
    state = json.loads((home / "state.json").read_text())
    assert state["last_project"] == "demo"


async def test_import_pane_reads_the_demo_export_and_creates_the_project(home, tmp_path):
    export = tmp_path / "exports" / "WhatsApp Chat with Leo.txt"
    export.parent.mkdir()
    shutil.copy(demo_export(), export)
    app = WachatApp(open_file=export)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await settle(pilot)
        # what was detected
        assert screen.parsed is not None
        assert screen.parsed.info.platform == "android"
        participants = screen.query_one("#participants", OptionList)
        assert [participants.get_option_at_index(i).id for i in range(participants.option_count)] \
            == ["Maya", "Leo"]
        assert participants.has_focus
        # pick "me" with the keyboard: Maya is highlighted first
        await pilot.press("enter")
        await settle(pilot)
        assert screen.me == "Maya"
        preview = str(screen.query_one("#dataset-preview").render())
        assert "pairs" in preview
        # a longer session gap → fewer sessions, counted live
        before = preview
        gap = screen.query_one("#gap", Input)
        gap.value = "600"
        await settle(pilot)
        assert str(screen.query_one("#dataset-preview").render()) != before
        gap.value = "60"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.current_mode == "review", timeout=120)
        await settle(pilot)
    project = Project.open("leo")
    assert project.me == "Maya"
    assert set(project.personas) == {"Maya", "Leo"}
    assert project.train_path.exists()


async def test_review_excludes_and_includes_a_pair(home):
    project = import_demo()
    app = WachatApp(project=project, start_mode="review")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await settle(pilot)
        table = screen.query_one(PairTable)
        assert table.has_focus and table.row_count > 100
        await pilot.press("down", "down")
        pair = table.current
        await pilot.press("x")
        await settle(pilot)
        assert table.current.excluded
        exclusions = json.loads(Path(project.exclusions_path).read_text())["pairs"]
        assert exclusions == [pair.id]
        # respected by training: the reply is no longer a trained assistant turn
        assert any(p.id == pair.id and p.excluded for p in Project.open("demo").pairs())
        await pilot.press("x")
        await settle(pilot)
        assert json.loads(Path(project.exclusions_path).read_text())["pairs"] == []


async def test_review_search_persona_filter_and_session_jump(home):
    project = import_demo()
    app = WachatApp(project=project, start_mode="review")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await settle(pilot)
        table = screen.query_one(PairTable)
        total = table.row_count
        await pilot.press("f")  # persona filter: first persona only
        await pilot.pause(0.3)
        assert 0 < table.row_count < total
        assert {r.persona for r in table.rows_by_id.values()} == {project.personas[0]}
        await pilot.press("f", "f")  # back to everybody
        await pilot.pause(0.3)
        assert table.row_count == total
        await pilot.press("slash", *"heron")
        await pilot.pause(0.3)
        assert 0 < table.row_count < total
        assert all(r.matches("heron") for r in table.rows_by_id.values())
        await pilot.press("ctrl+a", "ctrl+k", "enter")
        await pilot.pause(0.3)
        await pilot.press("g", *"40", "enter")
        await pilot.pause(0.3)
        assert table.current.session >= 40
        # an option change updates the count live without touching the project
        await pilot.press("o")
        screen.query_one("#r-gap", Input).value = "5"
        await settle(pilot)
        assert "With these options" in str(screen.query_one("#pair-count").render())
        assert Project.open("demo").options.session_gap_minutes == 60
        # the style cards
        await pilot.press("escape", "s")
        await pilot.pause(0.3)
        cards = screen.query(".person-card")
        assert [c.person for c in cards] == ["Maya", "Leo"]


async def test_number_keys_switch_panes_and_palette_lists_pane_actions(home):
    project = import_demo()
    write_demo_run(project)
    app = WachatApp(project=project, start_mode="review")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, mode in (("3", "train"), ("4", "export"), ("1", "import"), ("2", "review")):
            if app.focused is not None and isinstance(app.focused, Input):
                await pilot.press("escape")
            await pilot.press(key)
            await pilot.pause(0.2)
            assert app.current_mode == mode
        await pilot.press("3")
        await settle(pilot)
        # the finished run and its curves are shown on reopen
        view = app.screen.view
        assert view.status == "finished" and len(view.train_curve) == 12 and len(view.eval_curve) == 4
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"resume")
        await pilot.pause(0.5)
        from textual.command import CommandPalette

        palette = app.screen
        assert isinstance(palette, CommandPalette)
        options = palette.query_one(OptionList)
        texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("Resume" in t for t in texts), texts
        await pilot.press("escape")


async def test_chat_pane_shows_saved_history_with_model_marks(home):
    from .conftest import write_demo_chat
    from wachat_tui.tui.widgets.bubble import MODEL_TAG, ChatTurn

    project = import_demo()
    write_demo_chat(project)
    app = WachatApp(project=project, start_mode="chat")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await settle(pilot)
        turns = list(screen.query(ChatTurn))
        assert [(t.author, t.by_model) for t in turns] == [
            ("Maya", False), ("Leo", True), ("Maya", False), ("Leo", True)]
        assert turns[0].text == "did u see the heron again\nit was judging me"
        assert all(t.has_class("-mine") == (t.author == "Maya") for t in turns)
        header = str(turns[1].query(".bubble").first().render())
        assert MODEL_TAG in header
        assert len(screen.query(".day-separator")) == 2
        await pilot.press("ctrl+t")  # swap: history kept, sides flipped
        await pilot.pause(0.3)
        turns = list(screen.query(ChatTurn))
        assert len(turns) == 4
        assert all(t.has_class("-mine") == (t.author == "Leo") for t in turns)
        assert screen.you == "Leo" and screen.model_plays == "Maya"


class _FakeRun:
    """Stands in for a running training process (the quit dialog only asks whether it runs)."""

    def __init__(self):
        self.closed = False

    def active(self) -> bool:
        return not self.closed

    def close(self) -> None:
        self.closed = True


async def test_quitting_during_a_run_asks_and_stops_it_cleanly(home):
    from wachat_tui.tui.screens.base import ConfirmScreen

    app = WachatApp()
    async with app.run_test(size=SIZE) as pilot:
        run = _FakeRun()
        app.register_closer("training", run)
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep working
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen) and not run.closed and app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)
        await pilot.press("y")
        await wait_until(pilot, lambda: run.closed, 5)
    assert run.closed



async def test_train_pane_says_how_long_and_how_much_memory_before_starting(home):
    import re

    project = import_demo()
    app = WachatApp(project=project, start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen._device_detected("cpu")
        await settle(pilot)

        def plan() -> tuple[str, float]:
            text = str(screen.query_one("#plan-line").render())
            memory = re.search(r"peak memory ≈ ([\d.]+) GB", text)
            assert memory and re.search(r"≈ \d+ min", text), text
            return text, float(memory.group(1))

        text, memory = plan()
        assert "tokens/s: a 2-core CPU's, no earlier run here" in text
        screen.query_one("#f-batch_size", Input).value = "16"
        await settle(pilot)
        assert plan()[1] > memory                     # a bigger batch: more memory, said before starting
