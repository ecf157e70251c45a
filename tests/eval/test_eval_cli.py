"""`wachat eval` as a user runs it: bad input is one line; on a tiny real run (trained a few steps,
exported) it measures the exported GGUF through llama.cpp, saves eval.json, puts the summary on the
export records, reuses the base model's replies the second time, and the next export carries it."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from wachat_tui.eval.report import FidelityReport

from ..conftest import run_wachat

HEADLINE = {"fidelity", "style_distance", "copy_rate"}


def _one_line_error(proc, *needles: str) -> None:
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("wachat:")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def test_bad_input_is_one_line(imported_demo, tmp_path):
    home = imported_demo.parent.parent
    _one_line_error(run_wachat("eval", "demo", home=home), "no trained runs")
    _one_line_error(run_wachat("eval", "nope", home=home))
    _one_line_error(run_wachat("eval", "demo", "--model", str(tmp_path / "missing.gguf"), home=home), "not found")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + bytes(range(256)) * 4)
    _one_line_error(run_wachat("eval", "demo", "--model", str(broken), home=home), "could not load")
    _one_line_error(run_wachat("eval", "demo", "--samples", "0", home=home), "--samples")
    _one_line_error(run_wachat("eval", "demo", "--temperature", "9", home=home), "temperature")
    proc = run_wachat("eval", "demo", "--run", "x", "--model", "embedded", home=home)
    assert proc.returncode == 2 and "not allowed with" in proc.stderr


def test_a_project_without_a_validation_split_is_one_line(tmp_path):
    from wachat_tui.paths import demo_export

    home = tmp_path / "home"
    run_wachat("import", str(demo_export()), "--me", "Maya", "--project", "noval", "--validation-fraction", "0",
               home=home, check=True)
    _one_line_error(run_wachat("eval", "noval", "--model", "embedded", "--samples", "2", home=home),
                    "validation split")


@pytest.mark.slow
def test_eval_of_an_exported_run(trained_run, exported_gguf, e2e_home, tmp_path):
    proc = run_wachat("eval", "demo", "--samples", "4", "--json", home=e2e_home, check=True)
    doc = json.loads(proc.stdout)
    # the JSON contract: overall + personas keyed by name, the same headline keys in each
    assert HEADLINE <= set(doc["overall"]) and set(doc["personas"]) == {"Maya", "Leo"}
    for scores in (doc["overall"], *doc["personas"].values()):
        assert HEADLINE <= set(scores)
        assert 0 <= scores["style_distance"] <= 1 and 0 <= scores["copy_rate"] <= 1
        assert scores["ceiling"] is not None and scores["floor"] is not None     # real and base were measured
    assert doc["overall"]["n"] == 4 and len(doc["examples"]) == 4
    settings = doc["settings"]
    assert settings["backend"] == "gguf" and settings["model"] == str(exported_gguf)      # the file chat uses
    assert settings["run_id"] == trained_run.name and settings["base_cache"]["hit"] is False
    assert "fine-tuned 4/4" in proc.stderr and "base 4/4" in proc.stderr                 # progress on stderr

    saved = trained_run / "eval.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    report = FidelityReport.from_json(json.loads(saved.read_text()))
    assert report.overall.fidelity == doc["overall"]["fidelity"] and set(report.personas) == {"Maya", "Leo"}

    exports = json.loads((trained_run.parent.parent / "exports.json").read_text())["exports"]
    record = next(e for e in exports if e["path"] == str(exported_gguf))
    summary = record["fidelity"]
    assert summary["kind"] == "eval" and summary["measured_on"] == exported_gguf.name
    assert summary["fidelity"] == (None if doc["overall"]["fidelity"] is None
                                   else round(doc["overall"]["fidelity"], 3))
    assert set(summary["personas"]) == {"Maya", "Leo"}

    # the second eval of the project generates only the fine-tuned replies
    again = run_wachat("eval", "demo", "--samples", "4", "--json", home=e2e_home, check=True)
    second = json.loads(again.stdout)
    assert second["settings"]["base_cache"]["hit"] is True and "base 4/4" not in again.stderr
    assert [e["base"] for e in second["examples"]] == [e["base"] for e in doc["examples"]]
    assert list((trained_run.parent.parent / "eval-cache").glob("base-*.json"))

    # an export made now says in its metadata how faithful it is
    from wachat_tui.export.gguf import read_metadata

    out = tmp_path / "measured.gguf"
    run_wachat("export", "demo", "--quant", "q8_0", "--out", str(out), home=e2e_home, check=True)
    carried = json.loads(read_metadata(out)["wachat.fidelity"])
    assert carried["kind"] == "eval" and carried["fidelity"] == summary_of(second)["fidelity"]
    record = next(e for e in json.loads((trained_run.parent.parent / "exports.json").read_text())["exports"]
                  if e["path"] == str(out))
    assert record["fidelity"] == carried

    # other sampling (a sweep without retraining): both models sampled so, the base replies made anew
    other = run_wachat("eval", "demo", "--samples", "4", "--json", "--temperature", "0.3", "--max-tokens", "24",
                       home=e2e_home, check=True)
    third = json.loads(other.stdout)
    assert third["settings"]["sampling"]["temperature"] == 0.3 and third["settings"]["sampling"]["max_tokens"] == 24
    assert third["settings"]["base_cache"]["hit"] is False


@pytest.mark.slow
def test_ctrl_c_stops_eval_cleanly(trained_run, exported_gguf, e2e_home):
    import os
    import signal
    import subprocess
    import sys
    import time

    before = (trained_run / "eval.json").read_bytes() if (trained_run / "eval.json").exists() else None
    env = {**os.environ, "WACHAT_HOME": str(e2e_home)}
    proc = subprocess.Popen([sys.executable, "-m", "wachat_tui", "eval", "demo", "--samples", "40", "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # wait until it is generating
        line = proc.stderr.readline()
        lines.append(line)
        if "/40 ·" in line or not line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(lines) + err
    assert "Traceback" not in err and "eval stopped" in err
    after = (trained_run / "eval.json").read_bytes() if (trained_run / "eval.json").exists() else None
    assert after == before                                          # no report half-written or replaced


def summary_of(doc: dict) -> dict:
    return FidelityReport.from_json(doc).summary()


def test_the_export_of_an_unmeasured_run_carries_the_training_estimate(tmp_path):
    """Without eval.json the summary is the training's estimate at the best step (no model needed)."""
    from wachat_tui.core.layout import RunFiles
    from wachat_tui.eval.summary import run_summary

    files = RunFiles(tmp_path / "p" / "runs" / "r1")
    files.dir.mkdir(parents=True)
    assert run_summary(files) is None
    files.run_json.write_text(json.dumps({"run_id": "r1", "best_step": 20, "best_fidelity": 0.4}))
    files.metrics.write_text(json.dumps({"history": {"eval": [
        {"step": 10, "eval_loss": 3.1, "fidelity": 0.2, "estimate": {"fidelity": 0.2, "n": 24}},
        {"step": 20, "eval_loss": 3.0, "fidelity": 0.4,
         "estimate": {"fidelity": 0.4, "style_distance": 0.3, "copy_rate": 0.0, "n": 24,
                      "personas": {"Maya": 0.5, "Leo": 0.3}}}]}}))
    summary = run_summary(files)
    assert summary["kind"] == "training estimate" and summary["step"] == 20
    assert summary["fidelity"] == 0.4 and summary["n"] == 24 and summary["personas"]["Maya"] == {"fidelity": 0.5}
    Path(files.eval_json).write_text("{ torn")
    assert run_summary(files)["kind"] == "training estimate"      # a damaged report never blocks an export
