"""A generated reply holding escape sequences, streamed by the real embedded GGUF (forced through a
logit bias, see forced.py): shown with placeholders in the Chat pane and in `wachat chat`, saved
exactly as the model wrote it."""
from __future__ import annotations

import pytest

from wachat_tui.chat.store import ChatStore

from ..tui.conftest import settle, wait_until
from .forced import model_writes
from .injection import CONTROL_RE, MALLORY, import_hostile
from .test_display_tui import assert_safe_screen

REPLY = "sure \x1b[2J\x1b[31mred \x1b]52;c;aGk=\x07 and \u202eevil\u202c [bold red]x[/]"


@pytest.fixture
def hostile(tmp_path):
    return import_hostile(tmp_path / "exports")


def test_wachat_chat_prints_the_reply_with_placeholders(hostile, capfd):
    from wachat_tui.cli import main

    with model_writes(REPLY) as forced:
        code = main(["chat", "hostile", "--as", MALLORY, "--model", "embedded", "-m", "hello"])
    out, err = capfd.readouterr()
    assert code == 0 and forced, err
    assert not CONTROL_RE.search(out) and not CONTROL_RE.search(err)
    assert "Mal␛]0;pwned␇lory: sure ␛[2J␛[31mred ␛]52;c;aGk=␇ and ⟨RLO⟩evil⟨PDF⟩ [bold red]x[/]" in out
    with ChatStore(hostile.dir) as store:
        saved = store.history(store.latest())
    assert saved[-1].by_model and saved[-1].text == REPLY            # stored as the model wrote it


def test_wachat_simulate_prints_both_sides_with_placeholders(hostile, capfd):
    from wachat_tui.cli import main

    with model_writes(REPLY):
        code = main(["simulate", "hostile", "--personas", "Maya", MALLORY, "--model", "embedded",
                     "--turns", "2", "--opening", "hi \x1b[2J", "--no-save"])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert not CONTROL_RE.search(out) and not CONTROL_RE.search(err)
    assert out.splitlines()[0] == "Maya: hi ␛[2J"
    assert "Mal␛]0;pwned␇lory: sure ␛[2J␛[31mred ␛]52;c;aGk=␇" in out


@pytest.mark.asyncio
async def test_chat_pane_streams_the_reply_with_placeholders(hostile):
    from textual.widgets import Input

    from wachat_tui.tui.app import WachatApp

    app = WachatApp(project=hostile, start_mode="chat")
    with model_writes(REPLY) as forced:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            screen = app.screen
            screen.query_one("#composer", Input).value = "hello"
            await pilot.press("enter")
            # a forced short reply can finish between two polls: wait for its line, not for "busy"
            await wait_until(pilot, lambda: not screen.busy and screen.lines[-1].by_model, timeout=120)
            await settle(pilot)
            assert forced and screen.lines[-1].text == REPLY.strip()
            assert_safe_screen(app, "sure ␛[2J␛[31mred ␛]52;c;aGk=␇ and ⟨RLO⟩evil⟨PDF⟩ [bold red]x[/]")
