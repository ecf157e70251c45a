"""Helpers for the app's Pilot and snapshot tests."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from wachat_tui.tui.showcase import RUN_ID, write_demo_chat, write_demo_run  # noqa: F401

os.environ["WACHAT_TUI_NO_SETTINGS"] = "1"  # never read or write the user's theme choice

SNAPSHOT_ROOT = Path("/tmp/wachat-tui-snapshots")
SIZE = (100, 32)


async def wait_until(pilot, condition, timeout: float = 30.0, step: float = 0.05) -> float:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(step)
    return time.monotonic() - start


async def settle(pilot, timeout: float = 60.0) -> None:
    """Wait for the app's own workers (not DirectoryTree's endless loader) to finish."""
    from textual.worker import WorkerState

    app = pilot.app

    def idle() -> bool:
        return not [w for w in app.workers if w.name != "_loader"
                    and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]

    await pilot.pause(0.1)
    await wait_until(pilot, idle, timeout)
    await pilot.pause(0.2)


# A frozen month of the demo chat: snapshots must not change when the demo grows.
SNAPSHOT_EXPORT = Path(__file__).parent / "data" / "WhatsApp Chat with Leo.txt"


_TEMPLATES: dict[str, Path] = {}


def import_demo(name: str = "demo", path: Path | None = None):
    """A chat imported (for real) into the current WACHAT_HOME: the bundled demo by default.

    The first import of each file is kept as a template and copied for later tests (the
    import itself is tested once, through the Import pane).
    """
    import tempfile

    from wachat_tui.core.project import Project, import_export
    from wachat_tui.paths import demo_export, projects_dir

    source = Path(path or demo_export())
    template = _TEMPLATES.get(str(source))
    if template is None:
        home = Path(tempfile.mkdtemp(prefix="wachat-tui-template-"))
        old = os.environ.get("WACHAT_HOME")
        os.environ["WACHAT_HOME"] = str(home)
        try:
            template = Path(import_export(source, "Maya", name="template").dir)
        finally:
            os.environ["WACHAT_HOME"] = old or ""
            if old is None:
                del os.environ["WACHAT_HOME"]
        _TEMPLATES[str(source)] = template
    dest = projects_dir() / name
    shutil.copytree(template, dest)
    config = json.loads((dest / "project.json").read_text())
    config["name"] = name
    (dest / "project.json").write_text(json.dumps(config))
    return Project.open(name)


def import_snapshot_chat(name: str = "demo"):
    return import_demo(name, SNAPSHOT_EXPORT)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A private WACHAT_HOME for this test (even when e2e fixtures are in use)."""
    path = tmp_path / "home"
    monkeypatch.setenv("WACHAT_HOME", str(path))
    return path


@pytest.fixture
def snap_home(request, monkeypatch) -> Path:
    """A fixed WACHAT_HOME per snapshot test, so paths shown on screen never vary."""
    path = SNAPSHOT_ROOT / request.node.name.replace("[", "_").replace("]", "")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    monkeypatch.setenv("WACHAT_HOME", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def copy_project(src: Path, home: Path, *, runs: bool = True, models: bool = True) -> Path:
    """Copy an e2e project into ``home`` (so a test can change it freely)."""
    dest = home / "projects" / src.name
    ignore = []
    if not runs:
        ignore.append("runs")
    if not models:
        ignore.append("models")
    ignore.append("chat.sqlite*")
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*ignore))
    return dest
