"""Every pane on the hostile export: the rendered screen (and its SVG) shows placeholders, never a
control character, and markup in names and messages is shown literally."""
from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from wachat_tui.tui.app import WachatApp

from ..tui.conftest import SIZE, settle, wait_until
from .injection import (BIDI, CLEAR, CONTROL_RE, EVE, LEGIT, MALLORY, MARKUP, ME, OSC8, OSC52,
                        import_hostile, write_export)

pytestmark = pytest.mark.asyncio


def rendered(app) -> tuple[str, str]:
    """(the text of every cell on screen, the SVG screenshot) of the app's current screen."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False), app.export_screenshot()


def assert_safe_screen(app, *must_show: str) -> str:
    text, svg = rendered(app)
    for where, content in (("screen", text), ("SVG", svg)):
        bad = sorted({f"U+{ord(c):04X}" for c in CONTROL_RE.findall(content)})
        assert not bad, f"control characters on the {where}: {bad}"
    flat = text.replace("\n", "")
    for needle in ("␛", *must_show):
        assert needle in text or needle in flat, f"{needle!r} not on screen:\n{text}"
    return text


@pytest.fixture
def hostile(tmp_path):
    return import_hostile(tmp_path / "exports")


async def test_welcome_and_import_panes(tmp_path, hostile):
    async with WachatApp().run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert pilot.app.current_mode == "welcome"
        assert_safe_screen(pilot.app, "Mal␛]0;pwned␇lory")
    folder = tmp_path / "evil\x1b[2Jfolder"
    export = write_export(folder)
    app = WachatApp(open_file=export)
    async with app.run_test(size=(240, 40)) as pilot:   # wide: the whole path shows in the path field
        await settle(pilot)
        await wait_until(pilot, lambda: app.screen.parsed is not None)
        await settle(pilot)
        text = assert_safe_screen(app, "Evil ␛[31mCrew [bold red]x", "[bold red]Eve[/]", "Mal␛]0;pwned␇lory",
                                  "evil␛[2Jfolder/WhatsApp Chat")   # the path field
        assert text.count("WhatsApp Chat with Evil ␛[31mCrew") >= 2        # the file tree, the detection
        await pilot.press("ctrl+l", "enter")        # Enter on the shown path reads that same file
        await settle(pilot)
        assert app.screen.parsed is not None and app.screen.path == export
        assert app.is_running


async def test_review_pane_pairs_detail_and_style_cards(hostile):
    app = WachatApp(project=hostile, start_mode="review")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#pairs")
        target = next(i for i, pid in enumerate(table.rows) if "clip" in table.rows_by_id[pid.value].reply)
        table.move_cursor(row=target)
        await settle(pilot)
        assert_safe_screen(app, "Mal␛]0;pwned␇lory", "clip ␛]52;c;", "⟨U+009B⟩31m", "[bold red]loud[/]",
                           "[@click=app.quit]quit[/]")
        await pilot.press("f")                      # the persona filter lists the personas by name
        await settle(pilot)
        assert_safe_screen(app)
        await pilot.press("s")                      # style cards: names, top words, phrases
        await settle(pilot)
        assert_safe_screen(app, "Mal␛]0;pwned␇lory")
        assert app.is_running


async def test_train_pane_sample_replies(hostile):
    from wachat_tui.events import Evaluated, Finished, Sampled, Started, Step

    run = Path(hostile.dir) / "runs" / "20260101-120000"
    run.mkdir(parents=True)
    events = [Started(config={"mode": "lora"}, device="cpu", trainable_params=1, total_params=2,
                      train_samples=10, validation_samples=2, max_steps=2, run_dir=str(run), time=1.0),
              Step(step=1, max_steps=2, epoch=0.5, loss=3.0, lr=1e-4, tokens_per_s=10.0, eta_s=1.0, time=2.0),
              Evaluated(step=2, eval_loss=2.5, perplexity=12.0, best=True, time=3.0),
              Sampled(step=2, persona=MALLORY, context=[{"author": EVE, "text": "hi " + MARKUP}],
                      real="real " + OSC52, generated="model " + CLEAR + " " + OSC8 + " " + BIDI, time=4.0),
              Finished(path=str(run / "adapter"), metrics={}, time=5.0)]
    (run / "events.jsonl").write_text("".join(e.to_json() + "\n" for e in events))
    (run / "run.json").write_text(json.dumps({"run_id": run.name, "status": "finished", "step": 2,
                                              "max_steps": 2, "created": "2026-01-01T12:00:00"}))
    app = WachatApp(project=hostile, start_mode="train")
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: app.screen.view.samples)
        await settle(pilot)
        assert_safe_screen(app, "model ␛[2J␛[31m", "⟨RLO⟩", "Mal␛]0;pwned␇lory", "[bold red]loud[/]")


async def test_export_pane_file_names_and_errors(hostile, tmp_path):
    from wachat_tui.core.layout import ExportRecord, remember_export
    from wachat_tui.events import Failed, Stage, Verified
    from wachat_tui.tui.runstate import RunView, fold_all

    gguf = tmp_path / "evil\x1b[2Jmodels" / "maya\x1b]52;c;aGk=\x07.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    remember_export(hostile.dir, ExportRecord(path=str(gguf), run_id="r", quant="q8_0", bytes=4,
                                              created="2026-01-01T12:00:00"))
    app = WachatApp(project=hostile, start_mode="export")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert_safe_screen(app, "maya␛]52;c;aGk=␇.gguf")
        view = fold_all([Stage(stage="writing", done=1, total=2, detail=f"writing {gguf}"),
                         Verified(check="tokens", passed=True, detail="ok " + MARKUP),
                         Failed(error=f"cannot write {gguf}", hint=f"free space in {gguf.parent}")],
                        RunView(run_dir="r"))
        app.screen._show(view)
        await settle(pilot)
        assert_safe_screen(app, "cannot write", "[bold red]loud[/]")


async def test_chat_pane_history_header_and_notifications(hostile):
    from wachat_tui.chat.lines import ChatLine
    from wachat_tui.chat.store import ChatStore

    when = datetime(2026, 1, 1, 12, 0)
    with ChatStore(hostile.dir) as store:
        conv = store.new_conversation("x", kind="chat", personas=[MALLORY])
        store.add(conv, ChatLine(ME, "hi " + MARKUP, False, when))
        store.add(conv, ChatLine(MALLORY, "reply " + OSC52 + " " + BIDI, True, when), MALLORY)
        store.add(conv, ChatLine(MALLORY, "more " + CLEAR + LEGIT, True, when), MALLORY)
    app = WachatApp(project=hostile, start_mode="chat")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert_safe_screen(app, "reply ␛]52;c;", "⟨RLO⟩evil.exe⟨PDF⟩", "Mal␛]0;pwned␇lory",
                           "[@click=app.quit]quit[/]", "more ␛[2J␛[31m")
        app.notify(f"you are {MALLORY} {MARKUP}", title=f"t {CLEAR}")
        await settle(pilot)
        assert_safe_screen(app, "you are Mal␛]0;pwned␇lory [bold red]loud[/]")
        assert app.is_running
