"""The real thing through the panes: training, export and chat with the embedded model."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from textual.widgets import Input

from wachat_tui.core.project import Project
from wachat_tui.tui.app import WachatApp
from wachat_tui.tui.widgets.bubble import MODEL_TAG, ChatTurn

from .conftest import SIZE, copy_project, settle, wait_until

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


async def test_train_pane_runs_a_short_real_training(demo_project, home):
    copy_project(demo_project, home, runs=False, models=False)
    app = WachatApp(project=Project.open("demo"), start_mode="train")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await settle(pilot)
        screen.query_one("#f-max_steps", Input).value = "2"
        screen.query_one("#f-eval_steps", Input).value = "2"
        screen.query_one("#f-batch_size", Input).value = "2"  # keep it quick on 2 cores
        screen.query_one("#f-max_seq_len", Input).value = "256"
        await pilot.press("escape", "ctrl+s")
        await wait_until(pilot, lambda: screen.proc is not None, 10)
        seen = set()

        def finished() -> bool:
            seen.add((screen.view.status, screen.view.step))
            return screen.proc is None

        await wait_until(pilot, finished, timeout=900, step=0.2)
        view = screen.view
        assert view.status == "finished", (view.error, view.hint)
        assert ("running", 1) in seen or ("running", 2) in seen  # progress arrived live
        assert [s for s, _ in view.train_curve] == [1, 2]
        assert view.eval_curve and view.best_eval_loss is not None
        assert view.samples  # sample replies next to the real ones
        await settle(pilot)
        # what the run told the model about each persona is on screen above the samples
        told = str(screen.query(".style-cards").last().render())
        assert "Maya's texting habits:" in told and "Leo's texting habits:" in told
        assert view.config["style_cards"]["Maya"] in told
        assert screen.query_one("#runs").option_count == 1
    run_dir = Path(view.run_dir or Path(view.result_path).parent)
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "finished"
    assert (run_dir / "adapter").is_dir()


async def test_export_pane_exports_and_verifies(trained_run, home):
    copy_project(trained_run.parent.parent, home, runs=True, models=False)
    app = WachatApp(project=Project.open("demo"), start_mode="export")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await settle(pilot)
        assert screen.query_one("#export-runs").option_count >= 1
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.proc is not None, 10)
        await wait_until(pilot, lambda: screen.proc is None, timeout=600, step=0.2)
        view = screen.view
        assert view.status == "finished", (view.error, view.hint)
        assert {s.stage for s in view.stages} >= {"writing", "verifying"}
        assert view.checks and all(c.passed for c in view.checks)
        gguf = Path(view.result_path)
        assert gguf.is_file() and gguf.parent == home / "projects" / "demo" / "models"
        result = str(screen.query_one("#export-result").render())
        assert "ollama create" in result


async def test_chat_pane_streams_swaps_and_simulates(exported_gguf, home):
    copy_project(exported_gguf.parent.parent, home, runs=False, models=True)
    app = WachatApp(project=Project.open("demo"), start_mode="chat")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await settle(pilot)
        assert screen.model_path.suffix == ".gguf" and not screen.model_is_base
        from wachat_tui.chat.engine import Sampling

        screen.sampling = Sampling(max_tokens=32)  # short replies: the 2-core CI stays quick
        assert screen.you == "Maya" and screen.model_plays == "Leo"
        statuses: list = []
        show_header = screen._update_header
        screen._update_header = lambda status=None: (statuses.append(status), show_header(status))
        await pilot.press(*"hey, are u free tonight?", "enter")
        await wait_until(pilot, lambda: not screen.busy and screen.lines[-1].by_model, timeout=300)
        assert "typing…" in statuses  # the header said so while the reply streamed
        reply = [t for t in screen.query(ChatTurn)][-1]
        assert reply.author == "Leo" and reply.by_model and reply.text.strip()
        assert MODEL_TAG in str(reply.query(".bubble").first().render())
        assert [l.author for l in screen.lines[:1]] == ["Maya"]
        assert screen.lines[-1].by_model and screen.lines[-1].author == "Leo"

        old_reply = screen.lines[-1]
        await pilot.press("ctrl+r")  # regenerate: the last reply is written again
        await wait_until(pilot, lambda: screen.lines[-1] is not old_reply and not screen.busy,
                         timeout=300)
        assert screen.lines[0].text == "hey, are u free tonight?"
        assert [l.author for l in screen.lines if not l.by_model] == ["Maya"]
        assert screen.lines[-1].by_model and screen.lines[-1].author == "Leo"
        assert len(screen.query(ChatTurn)) == 2

        await pilot.press("ctrl+t")  # swap perspective: history kept
        await pilot.pause(0.2)
        assert (screen.you, screen.model_plays) == ("Leo", "Maya")
        n_before = len(screen.lines)

        await pilot.press("ctrl+g")  # simulate: the model plays both sides
        # two turns: one of each side (a turn may be several bubbles)
        await wait_until(pilot, lambda: {l.author for l in screen.lines[n_before:]} == {"Maya", "Leo"},
                         timeout=300)
        t0 = time.monotonic()
        await pilot.press("escape")  # stop acts at once
        await wait_until(pilot, lambda: not screen.busy, timeout=15)
        assert time.monotonic() - t0 < 15
        authors = {l.author for l in screen.lines[n_before:]}
        assert authors == {"Maya", "Leo"}
        assert all(l.by_model for l in screen.lines[n_before:])
        saved = len(screen.lines)

    # history persisted and shown again
    app = WachatApp(project=Project.open("demo"), start_mode="chat")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(app.screen.lines) == saved
        assert len(app.screen.query(ChatTurn)) >= 3
