"""Real training runs with the embedded SmolLM2-135M, kept tiny: a few steps each."""
from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import run_wachat
from .conftest import FAST, events_of, make_tiny_project, run_worker, tiny_samples

RUN_KEYS = {"run_id", "project", "base_model", "base_path", "mode", "personas", "config", "status",
            "best_eval_loss", "created"}


# ----------------------------------------------------------------------------- the conftest run (demo project)
@pytest.mark.slow
def test_demo_run_writes_a_complete_run(trained_run):
    run = json.loads((trained_run / "run.json").read_text())
    assert RUN_KEYS <= set(run)
    assert run["status"] == "finished" and run["base_model"] == "embedded:smollm2-135m"
    assert run["mode"] == "lora" and Path(run["base_path"], "config.json").exists()
    assert "Maya" in run["personas"] and run["step"] == 6
    # each persona's style card (from the training replies) is kept with the run and was logged
    cards = run["style_cards"]
    assert set(cards) == {"Maya", "Leo"}
    assert cards["Maya"].startswith("Maya's texting habits:") and "lowercase" in cards["Maya"]
    assert cards["Leo"].startswith("Leo's texting habits:") and "capital letter" in cards["Leo"]

    events = [json.loads(l) for l in (trained_run / "events.jsonl").read_text().splitlines()]
    # progress logs (e.g. the one-time conversion of the embedded model on a fresh machine) may come first
    names = [e["event"] for e in events if e["event"] != "log"]
    assert names[0] == "started" and names[-1] == "finished"
    assert [e["step"] for e in events if e["event"] == "step"] == [1, 2, 3, 4, 5, 6]
    evals = [e for e in events if e["event"] == "evaluated"]
    assert [e["step"] for e in evals] == [0, 3, 6]
    assert all(e["perplexity"] > 1 for e in evals)
    # it learned: the validation loss on held-out persona replies went down from the base model's
    assert evals[-1]["eval_loss"] < evals[0]["eval_loss"]
    assert run["best_eval_loss"] == min(e["eval_loss"] for e in evals[1:])
    samples = [e for e in events if e["event"] == "sampled"]
    assert samples and all(s["real"] and isinstance(s["generated"], str) and s["context"] for s in samples)
    # each evaluation carries the fidelity estimate (6 held-out replies, the classifier fitted once)
    for e in evals:
        est = e["estimate"]
        # (the base model's estimate at step 0 may come from the project's cache: 0 seconds)
        assert est["n"] == 6 and (est["seconds"] > 0 or e["step"] == 0) and set(est["personas"]) == {"Maya", "Leo"}
        assert e["fidelity"] == est["fidelity"] and est["ceiling"] >= 0.5 and 0 <= est["style_distance"] <= 1
    # the sample replies are the estimate's first replies (generated once): at most n_samples per evaluation
    assert {s["step"] for s in samples} == {0, 3, 6} and all(
        sum(s["step"] == step for s in samples) == 2 for step in (0, 3, 6))
    best = next(e for e in reversed(evals) if e["best"])
    assert run["best_step"] == best["step"] and run["best_fidelity"] == best["fidelity"]
    assert {e["step"] for e in events if e["event"] == "checkpointed"} == {3, 6}
    step = next(e for e in events if e["event"] == "step")
    assert step["tokens_per_s"] > 0 and step["max_steps"] == 6 and step["lr"] is not None

    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert len(metrics["history"]["train"]) == 6 and len(metrics["history"]["eval"]) == 3
    assert metrics["fidelity_seconds"] > 0 and all("fidelity" in h for h in metrics["history"]["eval"])
    assert json.loads((trained_run / "adapter" / "wachat.json").read_text())["best_fidelity"] == run["best_fidelity"]
    assert len((trained_run / "samples.jsonl").read_text().splitlines()) == len(samples)
    # private: files 0600, folders 0700
    for p in [trained_run, trained_run / "adapter"]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o700
    for p in [trained_run / "run.json", trained_run / "metrics.json", trained_run / "events.jsonl",
              trained_run / "adapter" / "adapter_model.safetensors"]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


@pytest.mark.slow
def test_adapter_loads_with_peft_and_changes_the_model(trained_run):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base_path = json.loads((trained_run / "run.json").read_text())["base_path"]
    model = AutoModelForCausalLM.from_pretrained(base_path)
    ids = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8]])
    with torch.no_grad():
        before = model(ids).logits
        tuned = PeftModel.from_pretrained(model, str(trained_run / "adapter"))
        after = tuned(ids).logits
    assert not torch.allclose(before, after)
    note = json.loads((trained_run / "adapter" / "wachat.json").read_text())
    assert note["base_model"] == "embedded:smollm2-135m"


def test_runner_lists_runs_and_replays_events(trained_run):
    from wachat_tui.core.layout import find_run, list_runs
    from wachat_tui.train.runner import load_run_events

    runs = list_runs(trained_run.parent.parent)
    assert trained_run in [r.path for r in runs]
    info = find_run(trained_run.parent.parent, trained_run.name)
    assert info.status == "finished" and info.best_eval_loss is not None and info.adapter.exists()
    events = [e for e in load_run_events(trained_run) if e.name != "log"]
    assert events[0].name == "started" and events[-1].name == "finished"
    assert events[-1].path == str(trained_run / "adapter")


def test_train_list_shows_the_best_checkpoint_and_its_fidelity(trained_run, e2e_home):
    run = json.loads((trained_run / "run.json").read_text())
    out = run_wachat("train", "demo", "--list", home=e2e_home, check=True).stdout
    assert "fidelity" in out.splitlines()[0] and "at step" in out.splitlines()[0]
    row = next(line for line in out.splitlines() if line.startswith(trained_run.name))
    assert f"{run['best_fidelity']:.2f}" in row.split() and str(run["best_step"]) in row.split()


@pytest.mark.slow
def test_a_second_run_takes_the_base_models_estimate_from_the_cache(trained_run, e2e_home):
    """Step 0's estimate is the untrained base model's, the same for every run of a project that
    trains the same base on the same cases: the next run reads it from eval-cache/ instead of
    generating it again, and its training estimates are generated as before."""
    import shutil

    copy = e2e_home / "projects" / "demo-again"
    shutil.copytree(trained_run.parent.parent, copy, ignore=shutil.ignore_patterns("runs", "exports", "*.lock"))
    cached = list((copy / "eval-cache").glob("base-*.json"))
    assert cached, "the first run kept its base replies"
    # the estimate samples without persona guidance: each reply generated once, not twice
    materials = [json.loads(p.read_text())["material"] for p in cached]
    assert {m["sampling"]["guidance"] for m in materials if m["model"].get("backend") == "training"} == {1.0}
    proc = run_wachat("train", "demo-again", "--max-steps", "1", "--eval-steps", "1", "--save-steps", "1",
                      "--fidelity-cases", "6", "--fidelity-tokens", "16", "--events", home=e2e_home, check=True)
    events = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    first = [json.loads(l) for l in (trained_run / "events.jsonl").read_text().splitlines()]
    base_then = next(e for e in first if e["event"] == "evaluated" and e["step"] == 0)["estimate"]
    evals = [e for e in events if e["event"] == "evaluated"]
    assert [e["step"] for e in evals] == [0, 1]
    base_now = evals[0]["estimate"]
    assert base_now["seconds"] == 0 and evals[1]["estimate"]["seconds"] > 0
    assert {k: v for k, v in base_now.items() if k != "seconds"} == {k: v for k, v in base_then.items()
                                                                     if k != "seconds"}
    assert any(e["event"] == "log" and "from the project's cache" in e["message"] for e in events)
    # the same base replies are the evaluation's samples, as when they were generated
    then = [e["generated"] for e in first if e["event"] == "sampled" and e["step"] == 0]
    assert [e["generated"] for e in events if e["event"] == "sampled" and e["step"] == 0] == then


def test_invalid_option_is_rejected_by_the_cli(demo_project, e2e_home):
    before = set((demo_project / "runs").glob("*")) if (demo_project / "runs").exists() else set()
    proc = run_wachat("train", "demo", "--lr", "-1", home=e2e_home)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("wachat: error: learning rate must be in (0, 1]")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    after = set((demo_project / "runs").glob("*")) if (demo_project / "runs").exists() else set()
    assert after == before  # nothing started, nothing written


# ----------------------------------------------------------------------------- failures are events
def test_empty_dataset_fails_with_an_event(tiny_project):
    (tiny_project / "dataset" / "train.jsonl").write_text("")
    proc = run_wachat("train", "tiny", "--events")
    assert proc.returncode == 1
    failed = [e for e in events_of(proc.stdout) if e["event"] == "failed"]
    assert failed and "no training samples" in failed[-1]["error"] and failed[-1]["hint"]
    run = json.loads(next((tiny_project / "runs").glob("*/run.json")).read_text())
    assert run["status"] == "failed"


def test_unloadable_base_fails_with_an_event(tiny_project, tmp_path):
    proc = run_worker(tiny_project, "--base", str(tmp_path / "no" / "such" / "model"), *FAST)
    assert proc.returncode == 1
    failed = events_of(proc.stdout)[-1]
    assert failed["event"] == "failed" and "does not exist" in failed["error"]
    assert "embedded:smollm2-135m" in failed["hint"]
    assert all(line.startswith("{") for line in proc.stdout.splitlines())  # stdout = events only


# ----------------------------------------------------------------------------- QLoRA, resume, cancel (tiny project)
@pytest.mark.slow
def test_qlora_trains_on_the_cpu(tiny_project):
    proc = run_worker(tiny_project, "--qlora", "--max-steps", "4", "--eval-steps", "2", "--save-steps", "4",
                      "--lr", "1e-3", *FAST)
    events = events_of(proc.stdout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    started = next(e for e in events if e["event"] == "started")
    assert started["config"]["mode"] == "qlora"
    q = started["config"]["quantization"]
    assert q["method"] == "bitsandbytes-nf4" and q["double_quant"] and q["linear4bit_layers"] == 30 * 7
    assert 0 < started["trainable_params"] < started["total_params"]
    evals = [e for e in events if e["event"] == "evaluated"]
    assert [e["step"] for e in evals] == [0, 2, 4] and evals[-1]["eval_loss"] < evals[0]["eval_loss"]
    assert (Path(events[-1]["path"]) / "adapter_model.safetensors").exists()


def _start(project: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wachat_tui.train", "--project-dir", str(project), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


@pytest.mark.slow
def test_killed_run_resumes_and_cancel_saves(tiny_project):
    from wachat_tui.core.layout import list_runs
    from wachat_tui.train.config import TrainConfig
    from wachat_tui.train.runner import start_training

    opts = ("--max-steps", "6", "--save-steps", "2", "--eval-steps", "100", "--eval-max-samples", "2",
            "--samples", "0", "--batch-size", "4", "--seq-len", "256")
    # 1. a run killed hard (SIGKILL: no chance to save) right after its first checkpoint
    proc = _start(tiny_project, *opts)
    for line in proc.stdout:
        ev = json.loads(line)
        if ev["event"] == "checkpointed":
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    [run] = list_runs(tiny_project)
    assert run.status == "running" and run.has_checkpoint
    # the dataset is rebuilt meanwhile: the run keeps training on its own copy (the losses below
    # still match an uninterrupted run on the original data)
    (tiny_project / "dataset" / "train.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in tiny_samples(5, seed=99)), encoding="utf-8")

    # 2. resumed through the runner API (as the app does), then cancelled (SIGINT) mid-run
    cfg = TrainConfig.for_device("cpu")
    ep = start_training(tiny_project, cfg, resume=True)
    seen = []
    for ev in ep.events():
        seen.append(ev)
        if ev.name == "step" and not ep.cancelled:
            ep.cancel_async()
    assert seen[0].name == "log" and "resuming from checkpoint-2" in seen[0].message
    assert [e.step for e in seen if e.name == "step"][0] == 3  # continues, does not restart
    assert seen[-1].name == "failed" and seen[-1].error == "cancelled" and "--resume" in seen[-1].hint
    assert ep.proc.wait(timeout=30) == 130
    [run] = list_runs(tiny_project)
    assert run.status == "cancelled" and run.adapter.exists()
    stopped_at = max(e.step for e in seen if e.name == "checkpointed")
    assert stopped_at >= 3  # the cancel wrote a checkpoint at the step it stopped on

    # 3. resumed again: reaches the same end state as an uninterrupted run
    done = run_worker(tiny_project, "--resume")
    events = events_of(done.stdout)
    assert done.returncode == 0, done.stderr[-3000:]
    assert events[-1]["event"] == "finished" and events[-1]["metrics"]["steps"] == 6
    [run] = list_runs(tiny_project)
    assert run.status == "finished" and run.step == 6 == run.max_steps
    all_events = [json.loads(l)["event"] for l in (run.path / "events.jsonl").read_text().splitlines()]
    assert all_events.count("started") == 3 and all_events[-1] == "finished"
    state = json.loads((run.path / "checkpoints" / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6

    straight = make_tiny_project(tiny_project.parent.parent, name="straight")  # the original data
    ref = run_worker(straight, *opts)
    assert ref.returncode == 0
    ref_steps = {e["step"]: e["loss"] for e in events_of(ref.stdout) if e["event"] == "step"}
    resumed_steps = {e["step"]: e["loss"] for e in events if e["event"] == "step"}
    for step, loss in resumed_steps.items():
        assert loss == pytest.approx(ref_steps[step], rel=1e-3), step
