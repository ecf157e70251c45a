"""What `wachat eval` measures and what it keeps, without a model: the target a run resolves to,
and the per-project cache of the base model's replies."""
from __future__ import annotations

import json

import pytest

from wachat_tui.core.layout import ExportRecord, ProjectFiles, remember_export
from wachat_tui.errors import WachatError
from wachat_tui.eval.runs import CACHE_KEPT, BaseReplyCache, choose_target, record_in_exports

from .conftest import make_case


def _project(tmp_path, runs=("r1", "r2")) -> ProjectFiles:
    files = ProjectFiles(tmp_path / "p")
    files.dir.mkdir(parents=True)
    files.project_json.write_text(json.dumps({"name": "p"}))
    for i, run_id in enumerate(runs):
        run = files.run(run_id)
        (run.adapter).mkdir(parents=True)
        (run.adapter / "adapter_config.json").write_text("{}")
        run.run_json.write_text(json.dumps({"run_id": run_id, "created": f"2026-01-0{i + 1}",
                                            "base_model": "embedded:smollm2-135m", "status": "finished"}))
    return files


def _export(files: ProjectFiles, run_id: str, name: str, created: str) -> ExportRecord:
    path = files.dir / name
    path.write_bytes(b"GGUF" + b"\0" * 100)
    record = ExportRecord(path=str(path), run_id=run_id, quant="q8_0", created=created)
    remember_export(files, record)
    return record


def test_a_run_is_measured_through_its_newest_export_else_its_adapter(tmp_path):
    files = _project(tmp_path)
    assert choose_target(files).backend == "hf" and choose_target(files).run.run_id == "r2"   # latest run
    _export(files, "r1", "old.gguf", "2026-01-02T00:00:00")
    newest = _export(files, "r1", "new.gguf", "2026-01-03T00:00:00")
    _export(files, "r2", "other.gguf", "2026-01-04T00:00:00")
    target = choose_target(files, "r1")
    assert target.backend == "gguf" and str(target.gguf) == newest.path and target.export.path == newest.path
    assert target.label == "new.gguf"
    # --model: any GGUF; when it is one of the project's exports, its run is known (and gets the report)
    assert choose_target(files, model=newest.path).run.run_id == "r1"
    stray = tmp_path / "stray.gguf"
    stray.write_bytes(b"GGUF" + b"\0" * 100)
    assert choose_target(files, model=str(stray)).run is None
    with pytest.raises(WachatError, match="not both"):
        choose_target(files, "r1", str(stray))


def test_record_in_exports_updates_every_export_of_the_run(tmp_path):
    files = _project(tmp_path)
    _export(files, "r1", "a.gguf", "2026-01-02T00:00:00")
    _export(files, "r1", "b.gguf", "2026-01-03T00:00:00")
    _export(files, "r2", "c.gguf", "2026-01-04T00:00:00")
    assert record_in_exports(files, "r1", {"fidelity": 0.5, "kind": "eval"}) == 2
    rows = {r["path"].rsplit("/", 1)[1]: r for r in json.loads(files.exports.read_text())["exports"]}
    assert rows["a.gguf"]["fidelity"] == rows["b.gguf"]["fidelity"] == {"fidelity": 0.5, "kind": "eval"}
    assert rows["c.gguf"]["fidelity"] is None


def test_base_replies_are_cached_per_model_sampling_and_case_set(tmp_path):
    files = _project(tmp_path)
    cases = [make_case(1, "Maya", "omg yes"), make_case(2, "Leo", "Sounds good.")]
    model = {"backend": "gguf", "model": "embedded:smollm2-135m", "file": "x.gguf", "bytes": 1}
    cache = BaseReplyCache(files, model, {"temperature": 0.8}, 0, cases)
    assert cache.load() is None
    cache.save(["hi", "hello"], [False, True], 12.5)
    assert BaseReplyCache(files, model, {"temperature": 0.8}, 0, cases).load() == (["hi", "hello"], [False, True], 12.5)
    # another sampling, seed, model or case set is another entry
    assert BaseReplyCache(files, model, {"temperature": 0.7}, 0, cases).load() is None
    assert BaseReplyCache(files, model, {"temperature": 0.8}, 1, cases).load() is None
    assert BaseReplyCache(files, {**model, "bytes": 2}, {"temperature": 0.8}, 0, cases).load() is None
    assert BaseReplyCache(files, model, {"temperature": 0.8}, 0, cases[:1]).load() is None
    edited = [cases[0], make_case(2, "Leo", "Sounds great.")]
    assert BaseReplyCache(files, model, {"temperature": 0.8}, 0, edited).load() is None
    # a torn file is a miss, not an error; old entries are pruned
    cache.path.write_text("{ torn")
    assert cache.load() is None
    for seed in range(CACHE_KEPT + 3):
        BaseReplyCache(files, model, {}, seed, cases).save(["a", "b"], [False, False], 1.0)
    assert len(list(files.eval_cache.glob("base-*.json"))) == CACHE_KEPT
