"""`wachat open` / `wachat demo` / `wachat` as commands (the app itself is tested with Pilot)."""
from __future__ import annotations

from tests.conftest import run_wachat


def test_cli_open_refuses_a_missing_file(home):
    proc = run_wachat("open", str(home / "nope.txt"))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("wachat: error: no such file")
    assert "Traceback" not in proc.stderr


def test_cli_open_refuses_a_folder(home):
    proc = run_wachat("open", str(home.parent))
    assert proc.returncode == 2 and "is a folder" in proc.stderr


def test_help_lists_the_app_commands():
    proc = run_wachat("--help")
    assert proc.returncode == 0
    assert "open" in proc.stdout and "demo" in proc.stdout
