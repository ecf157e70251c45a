"""The run estimate the Train pane shows before a run starts (wachat_tui.train.cost)."""
from __future__ import annotations

import json

import pytest

from wachat_tui.core.layout import RunRecord
from wachat_tui.train.config import TrainConfig
from wachat_tui.train.cost import (
    DEFAULT_EVAL_SECONDS,
    DEFAULT_TOKENS_PER_S,
    LOAD_SECONDS,
    RecordedRun,
    dataset_shape,
    estimate_for_project,
    estimate_run,
    peak_memory_mb,
    recorded_runs,
)

SMOL = "embedded:smollm2-135m"


def cpu(**kw) -> TrainConfig:
    return TrainConfig.for_device("cpu", base=SMOL, **kw)


def test_time_is_tokens_over_the_default_rate_plus_evaluations():
    cfg = cpu(epochs=3, eval_steps=1000)            # one evaluation before training, one after
    cost = estimate_run(cfg, n_train_samples=100, train_tokens=20_000, longest_tokens=400)
    assert cost.steps == 75                          # ceil(100 / 4) × 3
    assert cost.tokens == 60_000                     # 3 epochs of 20k tokens
    rate = DEFAULT_TOKENS_PER_S[SMOL]
    assert cost.tokens_per_s == rate and "no earlier run" in cost.rate_source
    assert cost.seconds == pytest.approx(LOAD_SECONDS + 60_000 / rate + 1 * DEFAULT_EVAL_SECONDS)


def test_max_steps_cover_part_of_an_epoch():
    cost = estimate_run(cpu(max_steps=10), 100, 20_000, 400)
    assert cost.steps == 10 and cost.tokens == 10 * 4 * 200


def test_this_machines_recorded_rate_wins_over_the_default():
    history = [RecordedRun(SMOL, "cpu", 40.0, 30.0, 3000.0), RecordedRun(SMOL, "cpu", 60.0, 50.0, 3000.0),
               RecordedRun("other", "cpu", 900.0, 1.0, 1.0)]
    slow = estimate_run(cpu(epochs=3), 100, 20_000, 400, history)
    fast = estimate_run(cpu(epochs=3), 100, 20_000, 400)
    assert slow.tokens_per_s == 50.0                 # median of this base's runs, the other base ignored
    assert "2 earlier runs" in slow.rate_source
    evaluations = 75 // 13 + 1                      # every ceil(75 / 6) steps, and the one before training
    assert slow.seconds == pytest.approx(LOAD_SECONDS + 60_000 / 50 + evaluations * 40.0)   # its evals too
    assert fast.seconds < slow.seconds
    assert "min" in slow.line() and "GB" in slow.line() and "earlier runs" in slow.line()


def test_memory_grows_with_batch_and_length_and_checkpointing_saves_it():
    base = peak_memory_mb(cpu(), 700)
    assert peak_memory_mb(cpu(batch_size=8), 700) > base
    assert peak_memory_mb(cpu(), 300) < base
    assert peak_memory_mb(cpu(max_seq_len=256), 700) == peak_memory_mb(cpu(max_seq_len=256), 256)  # capped
    assert peak_memory_mb(cpu(gradient_checkpointing=True), 700) < base


def _project_with_run(root, name, rate, rows):
    project = root / name
    (project / "dataset").mkdir(parents=True)
    (project / "dataset" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = project / "runs" / "20260101-000000"
    run.mkdir(parents=True)
    record = RunRecord(run_id=run.name, project=name, base_model=SMOL, status="finished", device="cpu",
                       created="2026-01-01T00:00:00")
    (run / "run.json").write_text(json.dumps(record.to_json()))
    (run / "metrics.json").write_text(json.dumps({"tokens_per_s": rate, "fidelity_seconds": 90.0,
                                                  "history": {"eval": [{}, {}, {}]}, "peak_memory_mb": 2000}))
    return project


def test_dataset_shape_and_estimate_from_the_projects_on_disk(tmp_path):
    rows = [{"persona": "Ana", "messages": [{"role": "system", "content": "x" * 70},
                                             {"role": "user", "content": "y" * 35}]},
            {"persona": "Ben", "messages": [{"role": "assistant", "content": "z" * 700}]}]
    project = _project_with_run(tmp_path, "p", 42.0, rows)
    _project_with_run(tmp_path, "q", 58.0, rows)
    shape = dataset_shape(project / "dataset" / "train.jsonl")
    assert (shape.samples, shape.tokens, shape.longest) == (2, 242, 204)     # (20+4 + 10+4) + (200+4); longest 200+4
    assert dataset_shape(project / "dataset" / "train.jsonl", ["Ana"]).samples == 1
    [run] = recorded_runs([project])
    assert run.tokens_per_s == 42.0 and run.eval_seconds == 30.0
    alone = estimate_for_project(project, cpu())
    machine = estimate_for_project(project, cpu(), projects_root=tmp_path)
    assert alone.tokens_per_s == 42.0 and machine.tokens_per_s == 50.0      # median over both projects
