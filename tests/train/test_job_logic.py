"""The training job's bookkeeping without a model: failures as events, best adapter, early stopping,
batching helpers."""
from __future__ import annotations

import io
import json
import threading

import pytest

from wachat_tui.events import Emitter
from wachat_tui.train.batching import ChatCollator, GroupedSampler
from wachat_tui.train.config import TrainConfig
from wachat_tui.train.job import OOM_HINT, TrainingJob, out_of_memory

from .conftest import make_tiny_project


def _job(tmp_path, **cfg):
    project = make_tiny_project(tmp_path)
    stream = io.StringIO()
    job = TrainingJob(project, TrainConfig.for_device("cpu", **cfg), Emitter(stream), threading.Event(),
                      run_id="unit")
    return job, stream, project


def _events(stream):
    return [json.loads(l) for l in stream.getvalue().splitlines()]


@pytest.mark.parametrize("exc", [
    __import__("torch").OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    MemoryError(),
    RuntimeError("[enforce fail at alloc_cpu.cpp:118] DefaultCPUAllocator: can't allocate memory: you tried "
                 "to allocate 1099511627776 bytes"),
])
def test_out_of_memory_becomes_a_failed_event_with_a_hint(tmp_path, monkeypatch, exc):
    job, stream, project = _job(tmp_path)

    def boom():
        raise exc

    monkeypatch.setattr(job, "load_data", boom)
    assert job.run() == 1
    failed = _events(stream)[-1]
    assert failed["event"] == "failed" and failed["error"].startswith("out of")
    assert failed["hint"] == OOM_HINT and "batch-size" in OOM_HINT and "qlora" in OOM_HINT
    run = json.loads((project / "runs" / "unit" / "run.json").read_text())
    assert run["status"] == "failed" and run["error"].startswith("out of")
    assert out_of_memory(ValueError("bad value")) is None


class _FakeModel:
    def __init__(self):
        self.saved = 0

    def save_pretrained(self, path):
        self.saved += 1
        from pathlib import Path

        Path(path, "adapter_model.safetensors").write_bytes(b"x")


def test_best_adapter_and_early_stopping(tmp_path):
    job, stream, project = _job(tmp_path, early_stopping_patience=2, sample_every_eval=False)
    job.open_run()
    model = _FakeModel()
    losses = [(0, 4.0), (10, 3.5), (20, 3.2), (30, 3.3), (40, 3.25)]
    stops = [job.on_evaluated(step, {"eval_loss": loss}, model) for step, loss in losses]
    assert stops == [False, False, False, False, True]  # two evaluations without a new best
    assert model.saved == 2  # steps 10 and 20; the base (step 0) is never "the" adapter
    record = job.progress.record
    assert record.best_eval_loss == 3.2 and record.best_step == 20 and record.base_eval_loss == 4.0
    best = [e["best"] for e in _events(stream) if e["event"] == "evaluated"]
    assert best == [False, True, True, False, False]
    assert (job.files.adapter / "adapter_model.safetensors").exists()
    assert json.loads(job.files.metrics.read_text())["history"]["eval"][-1]["step"] == 40


def test_collator_pads_right_or_concatenates():
    feats = [{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8, 9], "labels": [-100, 9]}]
    padded = ChatCollator(pad_id=0)(feats)
    assert padded["input_ids"].tolist() == [[5, 6, 7], [8, 9, 0]]
    assert padded["labels"].tolist() == [[-100, 6, 7], [-100, 9, -100]]
    assert padded["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    flat = ChatCollator(pad_id=0, padding_free=True)(feats)
    assert flat["input_ids"].tolist() == [[5, 6, 7, 8, 9]]
    assert flat["position_ids"].tolist() == [[0, 1, 2, 0, 1]]
    assert flat["labels"].tolist() == [[-100, 6, 7, -100, 9]]  # no loss across the sample boundary
    assert flat["cu_seq_lens_q"].tolist() == [0, 3, 5]


def test_grouped_sampler_batches_similar_lengths_reproducibly():
    import random

    lengths = [random.Random(i).randint(20, 400) for i in range(200)]
    sampler = GroupedSampler(lengths, batch_size=8, seed=1)
    order = list(sampler)
    assert sorted(order) == list(range(200))
    assert order == list(GroupedSampler(lengths, batch_size=8, seed=1))  # same seed, same order
    sampler.set_epoch(1)
    assert list(sampler) != order  # a new order each epoch

    def waste(idx):
        batches = [idx[i:i + 8] for i in range(0, len(idx), 8)]
        real = sum(lengths[i] for i in idx)
        return 1 - real / sum(max(lengths[i] for i in b) * len(b) for b in batches)

    assert waste(order) < 0.1 < waste(list(range(200)))


def test_a_run_trains_on_its_own_copy_of_the_dataset(tmp_path):
    import os
    import stat

    job, stream, project = _job(tmp_path)
    job.open_run()
    train, validation = job.load_data()
    original = (project / "dataset" / "train.jsonl").read_bytes()
    assert len(train) == 24 and len(validation) == 6
    assert job.files.snapshot_train.read_bytes() == original
    assert stat.S_IMODE(os.stat(job.files.snapshot_train).st_mode) == 0o600
    # the dataset is rebuilt (a re-import, an exclusion in review) before the run resumes
    (project / "dataset" / "train.jsonl").write_text(json.dumps(train[0]) + "\n")
    (project / "dataset" / "validation.jsonl").unlink()
    resumed = TrainingJob(project, TrainConfig.for_device("cpu"), Emitter(io.StringIO()), threading.Event(),
                          run_id="unit", resume=True)
    resumed.open_run()
    assert resumed.load_data() == (train, validation)
    assert job.files.snapshot_train.read_bytes() == original


def test_refusing_to_resume_a_finished_run_leaves_it_as_it_was(tmp_path):
    from wachat_tui.core.layout import RunRecord
    from wachat_tui.errors import WachatError

    job, stream, project = _job(tmp_path)
    job.open_run()
    job.progress.record.status = "finished"
    job.progress.save()
    again = TrainingJob(project, TrainConfig.for_device("cpu"), Emitter(io.StringIO()), threading.Event(),
                        run_id="unit", resume=True)
    with pytest.raises(WachatError, match="already finished"):
        again.open_run()
    assert again.failed("run unit already finished", "start a new run instead") == 1  # what the worker does next
    assert RunRecord.read(job.files).status == "finished"


def test_resuming_after_a_hard_kill_clears_what_it_left_half_written(tmp_path):
    job, stream, project = _job(tmp_path)
    job.open_run()
    run = job.files.dir
    # killed while writing metrics.json, and while swapping a new best adapter in (old one moved aside)
    (run / ".metrics.json.k1ll3d.tmp").write_text("{")
    (run / ".adapter.old-4242").mkdir()
    (run / ".adapter.old-4242" / "adapter_model.safetensors").write_bytes(b"previous best")
    (run / ".adapter.x7q").mkdir()
    resumed = TrainingJob(project, TrainConfig.for_device("cpu"), Emitter(io.StringIO()), threading.Event(),
                          run_id="unit", resume=True)
    resumed.open_run()
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]
    assert (job.files.adapter / "adapter_model.safetensors").read_bytes() == b"previous best"


def test_a_run_can_train_the_personas_the_user_picks(tmp_path):
    """`wachat train P --persona NAME …`: only those personas' samples (any of a person's names works)."""
    from wachat_tui.train.data import DatasetError

    from .conftest import FRIEND, PERSONA

    project = make_tiny_project(tmp_path)
    config = json.loads((project / "project.json").read_text())
    config["people"] = {PERSONA: [PERSONA], FRIEND: [FRIEND, "Bud"]}
    (project / "project.json").write_text(json.dumps(config))
    for split in ("train", "validation"):
        path = project / "dataset" / f"{split}.jsonl"
        rows = [json.loads(l) for l in path.read_text().splitlines()]
        for i, row in enumerate(rows):
            row["persona"] = FRIEND if i % 2 else PERSONA
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    job = TrainingJob(project, TrainConfig.for_device("cpu", personas=("bud",)), Emitter(io.StringIO()),
                      threading.Event(), run_id="picked")
    job.open_run()
    train, validation = job.load_data()
    assert len(train) == 12 and len(validation) == 3
    assert {r["persona"] for r in train + validation} == {FRIEND}
    assert job.progress.record.personas == [FRIEND]
    assert job.progress.record.config["personas"] == ["bud"]
    nobody = TrainingJob(project, TrainConfig.for_device("cpu", personas=("Zed",)), Emitter(io.StringIO()),
                         threading.Event(), run_id="nobody")
    nobody.open_run()
    with pytest.raises(DatasetError, match="'Zed' has no training samples") as err:
        nobody.load_data()
    assert PERSONA in err.value.one_line() and FRIEND in err.value.one_line()
