"""`wachat chat` / `wachat simulate` through the real CLI, on the demo project."""
from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import DEMO_FRIEND, DEMO_ME, run_wachat

FAST = ("--max-tokens", "16", "--seed", "1", "--n-ctx", "1024")


def _lines(stdout: str) -> list[tuple[str, str]]:
    """``(name, text)`` per line; ``wachat simulate`` marks the model's lines with 🤖."""
    out = []
    for line in stdout.splitlines():
        name, sep, text = line.removeprefix("🤖 ").partition(": ")
        assert sep, f"not a `Name: text` line: {line!r}"
        out.append((name, text))
    return out


def test_scripted_chat_prints_name_lines_and_saves(demo_project, e2e_home, embedded_gguf):
    proc = run_wachat("chat", "demo", "--as", DEMO_FRIEND, "--model", str(embedded_gguf),
                      "--message", "hey, are you coming tonight?", "--message", "ok see you", *FAST,
                      home=e2e_home, check=True)
    rows = _lines(proc.stdout)
    assert rows[0] == (DEMO_ME, "hey, are you coming tonight?")
    i = rows.index((DEMO_ME, "ok see you"))
    first_reply, second_reply = rows[1:i], rows[i + 1:]
    assert first_reply and second_reply
    assert {name for name, _ in first_reply + second_reply} == {DEMO_FRIEND}
    assert all(text.strip() for _, text in rows)
    db = sqlite3.connect(demo_project / "chat.sqlite")
    saved = db.execute("SELECT author, text, by_model FROM messages WHERE conversation ="
                       " (SELECT MAX(id) FROM conversations WHERE kind = 'chat') ORDER BY id").fetchall()
    assert [(a, t) for a, t, _ in saved] == rows
    assert [bool(b) for a, _, b in saved] == [a == DEMO_FRIEND for a, _ in rows]


def test_piped_chat_with_swap(demo_project, e2e_home):
    proc = run_wachat("chat", "demo", "--as", DEMO_FRIEND, "--model", "embedded", *FAST, "--no-save",
                      input="hi!\n/swap\nwhat's new?\n/quit\nnever sent\n", home=e2e_home, check=True)
    rows = _lines(proc.stdout)
    assert rows[0] == (DEMO_ME, "hi!")
    swap_at = rows.index((DEMO_FRIEND, "what's new?"))  # after /swap I am Leo …
    assert {n for n, _ in rows[1:swap_at]} == {DEMO_FRIEND}
    assert rows[swap_at + 1:] and {n for n, _ in rows[swap_at + 1:]} == {DEMO_ME}  # … the model Maya
    assert "never sent" not in proc.stdout


def test_simulate_alternates(demo_project, e2e_home):
    proc = run_wachat("simulate", "demo", "--turns", "3", "--opening", "did you feed the cat?",
                      "--model", "embedded", *FAST, home=e2e_home, check=True)
    rows = _lines(proc.stdout)
    assert rows[0] == (DEMO_ME, "did you feed the cat?")
    speakers = [name for i, (name, _) in enumerate(rows) if i == 0 or rows[i - 1][0] != name]
    assert speakers == [DEMO_ME, DEMO_FRIEND, DEMO_ME, DEMO_FRIEND]


def test_clear_errors(demo_project, e2e_home, tmp_path):
    proc = run_wachat("chat", "demo", "--as", "Nobody", "--model", "embedded", "-m", "hi", home=e2e_home)
    assert proc.returncode == 2 and "not a participant" in proc.stderr and "Traceback" not in proc.stderr
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 100)
    proc = run_wachat("simulate", "demo", "--opening", "hi", "--model", str(bad), home=e2e_home)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "bad.gguf" in proc.stderr
    proc = run_wachat("chat", "nope", "-m", "hi", home=e2e_home)
    assert proc.returncode == 2 and "no project" in proc.stderr


@pytest.mark.slow
def test_chat_with_the_exported_model(exported_gguf, e2e_home):
    """The true end to end: import → train → export → chat/simulate with no --model."""
    assert exported_gguf.parent.name == "models"
    proc = run_wachat("chat", "demo", "--as", DEMO_FRIEND, "-m", "how was your day?", *FAST,
                      home=e2e_home, check=True)
    rows = _lines(proc.stdout)
    assert rows[0] == (DEMO_ME, "how was your day?") and rows[1:]
    assert {n for n, _ in rows[1:]} == {DEMO_FRIEND}
    proc = run_wachat("simulate", "demo", "--turns", "2", *FAST, home=e2e_home, check=True)
    rows = _lines(proc.stdout)
    assert {n for n, _ in rows} == {DEMO_ME, DEMO_FRIEND}
