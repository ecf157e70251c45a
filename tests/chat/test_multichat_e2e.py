"""The whole story of issue 13 through the real CLI: three chats (one from Telegram) with two
friends who never wrote to each other and their group, names mapped, one training run, one
export, then the two friends text each other and the group talks among itself — through llama.cpp."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_wachat

MULTI = Path(__file__).resolve().parent.parent / "fixtures" / "chats" / "multi"
MARK = "🤖 "
FAST = ("--max-tokens", "16", "--n-ctx", "1024")


def _lines(stdout: str) -> list[tuple[bool, str, str]]:
    """``(by_model, name, text)`` per printed line."""
    out = []
    for line in stdout.splitlines():
        by_model = line.startswith(MARK)
        name, sep, text = line.removeprefix(MARK).partition(": ")
        assert sep, f"not a `Name: text` line: {line!r}"
        out.append((by_model, name, text))
    return out


@pytest.mark.slow
def test_two_friends_who_never_talked_and_their_group(tmp_path):
    home = tmp_path / "home"
    t0 = time.perf_counter()
    run_wachat("import", str(MULTI / "alex_lisa.txt"), "--me", "Alex", "--project", "alex", home=home, check=True)
    run_wachat("import", str(MULTI / "alex_peter_telegram.json"), "--project", "alex", "--add", home=home, check=True)
    run_wachat("import", str(MULTI / "friends_group.txt"), "--project", "alex", "--add", home=home, check=True)
    run_wachat("people", "alex", "--alias", "Lisa M=Lisa", "--alias", "Pete=Peter", home=home, check=True)
    [project] = [json.loads(l) for l in run_wachat("projects", "--json", home=home, check=True).stdout.splitlines()]
    assert project["participants"] == ["Alex", "Lisa", "Peter", "Dani"]
    assert {c["platform"] for c in project["chats"]} == {"whatsapp", "telegram"}

    # one run on every chat of the project: every persona, each chat's validation kept by time
    proc = run_wachat("train", "alex", "--max-steps", "2", "--eval-steps", "2", "--save-steps", "2",
                      "--batch-size", "2", "--seq-len", "256", "--eval-samples", "4", "--samples", "1",
                      "--events", home=home, check=True)
    events = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    assert [e for e in events if e["event"] == "finished"], proc.stderr[-2000:]
    run = json.loads(next((home / "projects" / "alex" / "runs").glob("*/run.json")).read_text())
    assert set(run["personas"]) == {"Alex", "Lisa", "Peter", "Dani"}
    run_wachat("export", "alex", "--quant", "q8_0", "--events", home=home, check=True)
    trained = time.perf_counter() - t0

    # Lisa and Peter never wrote to each other: a new 1:1 chat, every line the model's
    proc = run_wachat("simulate", "alex", "--between", "lisa", "pete", "--turns", "4", "--seed", "1", *FAST,
                      home=home, check=True)
    assert "Lisa · Peter in a 1:1 chat on WhatsApp (new)" in proc.stderr
    rows = _lines(proc.stdout)
    assert rows and all(by_model for by_model, _, _ in rows)
    assert {name for _, name, _ in rows} == {"Lisa", "Peter"} and rows[0][1] == "Lisa"

    # the group of three in the group's own setting: starts from a real session, then the model
    proc = run_wachat("simulate", "alex", "--between", "Lisa", "Peter", "Dani", "--turns", "5", "--seed", "2",
                      *FAST, home=home, check=True)
    assert 'Lisa · Peter · Dani in the group "Saturday Crew" on WhatsApp' in proc.stderr
    rows = _lines(proc.stdout)
    real = [name for by_model, name, _ in rows if not by_model]
    model = [name for by_model, name, _ in rows if by_model]
    assert real and set(real) <= {"Alex", "Lisa", "Peter", "Dani"}      # names resolved: no "Pete"
    assert model and set(model) <= {"Lisa", "Peter", "Dani"}
    assert rows.index(next(r for r in rows if r[0])) == len(real)       # the real lines come first

    # chat with either friend, as the other one
    proc = run_wachat("chat", "alex", "--as", "Lisa", "--me", "Peter", "-m", "you coming saturday?", *FAST,
                      home=home, check=True)
    said = [(name, text) for _, name, text in _lines(proc.stdout)]
    assert said[0] == ("Peter", "you coming saturday?") and {n for n, _ in said[1:]} == {"Lisa"}

    # the stop key acts at once: Ctrl-C ends a long simulation between two tokens
    env = dict(os.environ, WACHAT_HOME=str(home))
    sim = subprocess.Popen([sys.executable, "-m", "wachat_tui", "simulate", "alex", "--between", "Lisa", "Peter",
                            "--turns", "200", "--seed", "3", *FAST], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=env)
    first = sim.stdout.readline()
    assert first.startswith(MARK)
    stopped = time.perf_counter()
    sim.send_signal(signal.SIGINT)
    out, err = sim.communicate(timeout=60)
    assert sim.returncode == 130 and "simulation stopped" in err and "Traceback" not in err
    assert time.perf_counter() - stopped < 20
    print(f"import+train+export {trained:.0f} s, total {time.perf_counter() - t0:.0f} s")
