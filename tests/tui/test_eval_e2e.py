"""The Eval pane measures for real: `m` runs the measure on the run's exported GGUF through
llama.cpp (here the embedded model, registered as the run's export), with the embedded base as
the floor, writes eval.json and shows it; `c` stops a measurement without writing anything."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from wachat_tui.chat.engine import Sampling
from wachat_tui.core.embedded import default_gguf
from wachat_tui.core.layout import ExportRecord, ProjectFiles, remember_export
from wachat_tui.eval.report import FidelityReport
from wachat_tui.tui.app import WachatApp
from wachat_tui.tui.screens.blind import BlindTestScreen
from wachat_tui.tui.screens.eval import EvalScreen
from wachat_tui.tui.widgets.fidelity import PersonaFidelity
from wachat_tui.tui.widgets.gauge import num

from .conftest import RUN_ID, SIZE, import_demo, settle, wait_until, write_demo_run
from .test_eval import shown

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
CASES = 4


async def test_measure_key_measures_the_exported_model_and_shows_it(home, monkeypatch):
    monkeypatch.setattr(EvalScreen, "measure_cases", CASES)
    monkeypatch.setattr(EvalScreen, "measure_sampling", Sampling(max_tokens=24))  # short replies: fast
    monkeypatch.setattr(EvalScreen, "blind_seed", 1)
    project = import_demo()
    write_demo_run(project)  # a finished run of the embedded base model
    remember_export(project.dir, ExportRecord(path=str(default_gguf()), run_id=RUN_ID, quant="q4_1",
                                              created=datetime.now().isoformat()))
    run = ProjectFiles(project.dir).run(RUN_ID)
    app = WachatApp(project=project, start_mode="eval")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await settle(pilot)
        assert "not been measured" in shown(screen.query_one("#eval-head"))
        # started and stopped: nothing is written
        await pilot.press("m")
        assert screen.measuring == RUN_ID
        await pilot.press("c")
        await wait_until(pilot, lambda: screen.measuring is None, 120)
        assert "stopped" in shown(screen.query_one("#measure-status")) and not run.eval_json.exists()

        await pilot.press("m")
        progress = set()

        def done() -> bool:
            progress.add(str(screen.query_one("#measure-status").content))
            return screen.measuring is None

        await wait_until(pilot, done, 600, step=0.2)
        assert run.eval_json.exists(), shown(screen.query_one("#measure-status"))
        assert any("fine-tuned model 1/" in p for p in progress), progress  # progress arrived live
        await settle(pilot)
        report = FidelityReport.from_json(json.loads(run.eval_json.read_text()))
        assert report.overall.n == CASES and set(report.personas) == {"Maya", "Leo"}
        assert report.settings["base"] == default_gguf().name and len(report.examples) == CASES
        assert oct(run.eval_json.stat().st_mode & 0o777) == "0o600"
        # the pane shows what it measured
        assert [c.persona for c in screen.query(PersonaFidelity)] == ["Maya", "Leo"]
        for card in screen.query(PersonaFidelity):
            s = report.personas[card.persona]
            assert f"fidelity {num(s.fidelity)}" in " ".join(shown(card.query_one(".persona-head")).split())
        # and its examples can be played at once
        await pilot.press("b")
        await pilot.pause(0.3)
        assert isinstance(app.screen, BlindTestScreen)
        assert len(app.screen.game.rounds) <= CASES
        await pilot.press("escape")
