"""Starting the app must stay fast: importing it loads none of the heavy libraries."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "trl", "peft", "llama_cpp", "datasets", "accelerate", "bitsandbytes")


def _modules_after(code: str) -> tuple[list[str], float]:
    script = (
        "import sys, time, json\n"
        "t = time.process_time()\n"
        f"{code}\n"
        "dt = time.process_time() - t\n"
        "print(json.dumps({'mods': sorted(sys.modules), 'dt': dt}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    return row["mods"], row["dt"]


def test_importing_the_app_loads_no_heavy_library():
    mods, _ = _modules_after("import wachat_tui.tui.app")
    loaded = [m for m in mods if m.split(".")[0] in HEAVY]
    assert not loaded, f"importing the app pulled in: {sorted({m.split('.')[0] for m in loaded})}"


def test_the_app_imports_about_as_fast_as_textual_itself():
    """Start-up cost beyond the framework's own stays small: CPU seconds of importing the app
    against importing Textual's App and widgets, alternated, best of three (a ratio, so a busy
    machine does not fail it)."""
    ours, framework = [], []
    for _ in range(3):
        framework.append(_modules_after("import textual.app, textual.widgets")[1])
        ours.append(_modules_after("import wachat_tui.tui.app")[1])
    assert min(ours) < 2.5 * min(framework), f"app {min(ours):.2f}s vs textual {min(framework):.2f}s"


def test_cli_entry_and_app_command_are_light():
    mods, _ = _modules_after("import wachat_tui.cli, wachat_tui.commands.app, "
                             "wachat_tui.commands.open, wachat_tui.commands.demo")
    assert not [m for m in mods if m.split(".")[0] in HEAVY + ("textual",)]


VISIT_ALL_PANES = r'''
import asyncio, json, sys
from wachat_tui.core.project import import_export
from wachat_tui.tui.app import WachatApp

project = import_export(sys.argv[1], "Maya", name="demo")

async def main():
    app = WachatApp(project=project, start_mode="review")
    async with app.run_test(size=(100, 32)) as pilot:
        for key in "12345":
            await pilot.press("escape", key)
            await pilot.pause(0.5)
        await pilot.pause(1.0)

asyncio.run(main())
print(json.dumps(sorted(sys.modules)))
'''


def test_visiting_every_pane_loads_no_heavy_library(tmp_path):
    """Showing the panes (without training or chatting) keeps torch & co out of the UI process."""
    from pathlib import Path

    export = Path(__file__).parent / "data" / "WhatsApp Chat with Leo.txt"
    env = {**__import__("os").environ, "WACHAT_HOME": str(tmp_path / "home"),
           "WACHAT_TUI_NO_SETTINGS": "1"}
    out = subprocess.run([sys.executable, "-c", VISIT_ALL_PANES, str(export)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    mods = json.loads(out.stdout.strip().splitlines()[-1])
    loaded = sorted({m.split(".")[0] for m in mods if m.split(".")[0] in HEAVY + ("llm",)})
    assert not loaded, f"showing the panes imported {loaded}"
