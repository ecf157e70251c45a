"""`wachat import / projects / pairs / stats` through the real CLI (subprocesses)."""
from __future__ import annotations

import json

import pytest

from wachat_tui.paths import demo_export

from ..conftest import DEMO_FRIEND, DEMO_ME, run_wachat
from .chat_builders import conversation, write_android


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    proc = run_wachat("import", str(demo_export()), "--me", DEMO_ME, "--project", "demo", "--redact",
                      home=home, check=True)
    home.joinpath("import.out").write_text(proc.stdout)
    return home


def test_import_prints_a_summary(home):
    out = home.joinpath("import.out").read_text()
    assert "project 'demo'" in out
    for word in ("messages", "sessions", "pairs", "samples", "redacted", str(home / "projects" / "demo")):
        assert word in out
    assert "Maya 1," in out and "email" in out


def test_reimport_is_a_noop(home):
    proc = run_wachat("import", str(demo_export()), "--me", DEMO_ME, "--project", "demo", "--gap", "30",
                      home=home, check=True)
    assert "nothing changed" in proc.stdout and "--refresh" in proc.stdout


def test_projects_lists_demo(home):
    proc = run_wachat("projects", home=home, check=True)
    assert "demo" in proc.stdout and DEMO_FRIEND in proc.stdout
    [row] = [json.loads(l) for l in run_wachat("projects", "--json", home=home, check=True).stdout.splitlines()]
    assert row["name"] == "demo" and row["me"] == DEMO_ME and row["counts"]["samples_train"] > 100


def test_pairs_filters_and_json(home):
    proc = run_wachat("pairs", "demo", "--persona", "leo", "--split", "validation", "--limit", "3", home=home, check=True)
    assert proc.stdout.count("→ Leo:") == 3 and "validation" in proc.stdout and "3 of " in proc.stdout
    rows = [json.loads(l) for l in run_wachat("pairs", "demo", "--json", "--limit", "5", home=home,
                                              check=True).stdout.splitlines()]
    assert len(rows) == 5 and {"id", "context", "reply", "excluded"} <= set(rows[0])


def test_pairs_exclude_and_include(home):
    first = json.loads(run_wachat("pairs", "demo", "--json", "--limit", "1", home=home, check=True).stdout)
    proc = run_wachat("pairs", "demo", "--exclude", first["id"], home=home, check=True)
    assert "Excluded 1 pair" in proc.stdout
    excluded = run_wachat("pairs", "demo", "--excluded", "--json", home=home, check=True).stdout.splitlines()
    assert [json.loads(l)["id"] for l in excluded] == [first["id"]]
    run_wachat("pairs", "demo", "--include", first["id"], home=home, check=True)
    assert run_wachat("pairs", "demo", "--excluded", "--json", home=home, check=True).stdout == ""
    bad = run_wachat("pairs", "demo", "--exclude", "nope", home=home)
    assert bad.returncode == 2 and "no pair with id 'nope'" in bad.stderr


def test_stats_table_and_json(home):
    text = run_wachat("stats", "demo", home=home, check=True).stdout
    for label in ("all lowercase", "bubbles per turn", "top words", "reply time", "Maya (me)", "Leo"):
        assert label in text
    doc = json.loads(run_wachat("stats", "demo", "--json", home=home, check=True).stdout)
    assert doc["people"]["Maya"]["all_lowercase_ratio"] > 0.9
    assert doc["chat"]["samples_train"] > 100 and len(doc["people"]["Leo"]["hours"]) == 24


@pytest.mark.parametrize("args,needle", [
    (["import", "{demo}", "--me", "Bob"], "'Bob' is not a participant of this chat — --me must be one of: Maya, Leo"),
    (["import", "/no/such/file.txt", "--me", "Maya"], "no such file"),
    (["import", "{demo}", "--me", "Maya", "--validation-fraction", "2"], "validation_fraction"),
    (["import", "{demo}", "--me", "Maya", "--project", "../evil"], "invalid project name"),
    (["stats", "missing"], "no project named 'missing'"),
    (["pairs", "missing"], "no project named 'missing'"),
])
def test_bad_input_is_one_clear_line(tmp_path, args, needle):
    args = [a.replace("{demo}", str(demo_export())) for a in args]
    proc = run_wachat(*args, home=tmp_path / "h")
    assert proc.returncode == 2
    assert proc.stderr.startswith("wachat: error:") and needle in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert not (tmp_path / "h" / "projects").exists() or not any((tmp_path / "h" / "projects").iterdir())


def test_import_options_and_refresh(tmp_path):
    export = write_android(tmp_path / "WhatsApp Chat with Ben.txt", conversation(10))
    h = tmp_path / "h"
    proc = run_wachat("import", str(export), "--me", "Ana", "--gap", "5", "--media", "drop",
                      "--validation-fraction", "0.2", home=h, check=True)
    assert "project 'ben'" in proc.stdout and "validation 2" in proc.stdout
    config = json.loads((h / "projects" / "ben" / "project.json").read_text())
    assert config["options"]["session_gap_minutes"] == 5 and config["options"]["media"] == "drop"
    proc = run_wachat("import", str(export), "--me", "Ana", "--project", "ben", "--refresh",
                      "--validation-fraction", "0", home=h, check=True)
    assert "Imported" in proc.stdout
    config = json.loads((h / "projects" / "ben" / "project.json").read_text())
    assert config["options"]["validation_fraction"] == 0 and config["options"]["session_gap_minutes"] == 5
