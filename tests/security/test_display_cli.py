"""Every human-readable CLI output shows hostile text as placeholders: no control byte reaches the
terminal; --json/--jsonl stay exact (JSON escapes control characters itself)."""
from __future__ import annotations

import io
import json

from ..conftest import run_wachat
from .injection import (CONTROL_RE, EVE, LEGIT, MALLORY, MARKUP, ME, OSC52, TITLE, HOSTILE_LINES,
                        write_export)


def assert_displayable(text: str, *, expect_placeholder: bool = True) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in CONTROL_RE.findall(text)})
    assert not bad, f"control characters reached the terminal: {bad}"
    if expect_placeholder:
        assert "␛" in text


def test_human_readable_commands_show_placeholders_and_json_stays_exact(tmp_path, home=None):
    export = write_export(tmp_path / "exports")

    parsed = run_wachat("parse", str(export), check=True)
    assert_displayable(parsed.stdout)
    assert "Mal␛]0;pwned␇lory" in parsed.stdout and "[bold red]Eve[/]" in parsed.stdout
    records = [json.loads(line) for line in run_wachat("parse", str(export), "--jsonl", check=True)
               .stdout.splitlines()]
    assert [(r["author"], r["text"]) for r in records if r["author"]][:len(HOSTILE_LINES)] == [
        (a, t.replace("\u202e", "").replace("\u202c", "")) for a, t in HOSTILE_LINES]  # the parser drops bidi marks

    imported = run_wachat("import", str(export), "--me", ME, "--project", "hostile",
                          "--persona", ME, "--persona", MALLORY, check=True)
    assert_displayable(imported.stdout)

    pairs = run_wachat("pairs", "hostile", "--limit", "6", check=True)
    assert_displayable(pairs.stdout)
    assert "hi ␛[2J␛[31mthere " + MARKUP in pairs.stdout          # markup printed as it was written
    assert "clip ␛]52;c;" in pairs.stdout and LEGIT in pairs.stdout
    rows = [json.loads(line) for line in run_wachat("pairs", "hostile", "--json", check=True).stdout.splitlines()]
    assert any(r["reply"] == "fine " + OSC52 for r in rows)         # stored faithfully, exact in JSON

    stats = run_wachat("stats", "hostile", check=True)
    assert_displayable(stats.stdout)
    assert "[bold red]Eve[/]" in stats.stdout.replace("\n", "").replace(" ", "") or EVE in stats.stdout
    doc = json.loads(run_wachat("stats", "hostile", "--json", check=True).stdout)
    assert MALLORY in doc["people"] and doc["chat"]["participants"]

    projects = run_wachat("projects", check=True)
    assert_displayable(projects.stdout)
    listed = json.loads(run_wachat("projects", "--json", check=True).stdout)
    assert MALLORY in listed["participants"]

    people = run_wachat("people", "hostile", "--alias", f"{EVE}={MALLORY}", check=True)
    assert_displayable(people.stdout)
    assert "Mal␛]0;pwned␇lory" in people.stdout
    chats = run_wachat("chats", "hostile", check=True)
    assert_displayable(chats.stdout)

    for proc in (parsed, imported, pairs, stats, projects, people, chats):
        assert_displayable(proc.stderr, expect_placeholder=False)


def test_an_error_quoting_a_hostile_file_name_is_one_clean_line(tmp_path):
    bad = tmp_path / f"WhatsApp Chat with {TITLE}.txt"
    bad.write_bytes(b"\x1b[2J" * 200)                       # not an export at all
    proc = run_wachat("parse", str(bad))
    assert proc.returncode != 0 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("wachat: error:")
    assert_displayable(proc.stderr)


def test_train_sample_lines_and_eval_examples_show_placeholders(monkeypatch):
    """The two Rich outputs fed by generated text: `wachat train` sample lines, `wachat eval` examples."""
    from rich.console import Console

    from wachat_tui.commands import eval as eval_cmd
    from wachat_tui.commands import train as train_cmd
    from wachat_tui.events import Finished, Sampled, Started

    out = io.StringIO()
    monkeypatch.setattr("rich.console.Console", lambda *a, **k: Console(file=out, width=200))

    class FakeRun:
        def events(self):
            yield Started(config={"mode": "lora", "base_model": f"base{OSC52}", "run_id": "r1"}, device="cpu",
                          trainable_params=1, total_params=2, train_samples=1, validation_samples=1, max_steps=1)
            yield Sampled(step=1, persona=MALLORY, context=[{"author": EVE, "text": "hi " + MARKUP}],
                          real="real \x1b[2J", generated="model \x1b]8;;http://x\x1b\\link")
            yield Finished(path="/tmp/adapter", metrics={})

    train_cmd._show_progress(FakeRun(), "hostile")
    shown = out.getvalue()
    assert_displayable(shown)
    assert "model ␛]8;;http://x␛\\link" in shown and "Mal␛]0;pwned␇lory (model)" in shown
    assert "[bold red]loud[/]" in shown and "[bold red]Eve[/]:" in shown

    out.seek(0)
    out.truncate()
    from types import SimpleNamespace

    from wachat_tui.eval.cases import Case, EvalData, RealTurn
    from wachat_tui.eval.measure import measure

    class Hostile:  # a model whose replies carry escapes, C1 controls and a bidi override
        name = "b \u202eexe"

        def generate(self, case):
            return "f \x1b[2J " + case.id

    people = (MALLORY, EVE)
    train = [RealTurn(p, f"{w} {i} \x9b31m", 0) for i, w in enumerate(("hey", "ok", "sure", "lol")) for p in people]
    held = tuple(Case(f"c{i}", people[i % 2], ((people[(i + 1) % 2], "q " + OSC52),), "r \x9b31m", (people[(i + 1) % 2],))
                 for i in range(4))
    report = measure(EvalData(people, people, None, held, tuple(train)), Hostile())
    target = SimpleNamespace(backend="gguf")
    eval_cmd._print(SimpleNamespace(report=report, target=target, saved=None, exports_updated=0), "hostile")
    shown = out.getvalue()
    assert_displayable(shown)
    assert "f ␛[2J" in shown and "⟨U+009B⟩" in shown and "⟨RLO⟩" in shown
