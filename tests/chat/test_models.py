"""Which GGUF a chat runs on: the project's newest export wherever it is, else the base model."""
from __future__ import annotations

import json
import os

import pytest

from wachat_tui.chat.models import find_chat_model
from wachat_tui.core.embedded import default_gguf
from wachat_tui.core.layout import DamagedFile, ExportRecord, ProjectFiles, remember_export


@pytest.fixture
def project(tmp_path):
    files = ProjectFiles(tmp_path / "projects" / "demo")
    files.dir.mkdir(parents=True)
    files.project_json.write_text(json.dumps({"name": "demo"}))
    return files


def _gguf(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF")
    return path


def test_before_any_export_the_base_model_plays(project):
    _gguf(project.models_dir / "stray.gguf")  # a file nobody verified is not an export
    model = find_chat_model(project)
    assert model.is_base and model.path == default_gguf() and model.export is None


def test_an_export_written_anywhere_is_found(project, tmp_path):
    elsewhere = _gguf(tmp_path / "home" / "models" / "maya.gguf")
    remember_export(project, ExportRecord(path=str(elsewhere), run_id="r1", quant="q8_0",
                                          created="2026-01-01T10:00:00"))
    model = find_chat_model(project.dir)
    assert model.path == elsewhere and not model.is_base and model.name == "maya.gguf"
    assert model.export.run_id == "r1"


def test_the_newest_export_wins_and_deleted_files_are_skipped(project, tmp_path):
    old = _gguf(project.models_dir / "r1-q8_0.gguf")
    new = _gguf(tmp_path / "out" / "r2-f16.gguf")
    remember_export(project, ExportRecord(path=str(old), created="2026-01-01T10:00:00"))
    remember_export(project, ExportRecord(path=str(new), created="2026-01-02T10:00:00"))
    assert find_chat_model(project).path == new
    new.unlink()
    assert find_chat_model(project).path == old
    old.unlink()
    assert find_chat_model(project).is_base  # no export left: the base model again


def test_a_damaged_registry_is_an_error_not_a_silent_switch_to_the_base_model(project):
    project.exports.write_text('{"exports": [')
    with pytest.raises(DamagedFile) as info:
        find_chat_model(project)
    assert "exports.json" in info.value.one_line()


def test_model_option_overrides_the_lookup(project, tmp_path):
    exported = _gguf(tmp_path / "x.gguf")
    remember_export(project, ExportRecord(path=str(exported), created="2026-01-01T10:00:00"))
    assert find_chat_model(project, "embedded").is_base
    assert find_chat_model(project, "embedded:smollm2-135m").path == default_gguf()
    mine = tmp_path / "mine.gguf"
    assert find_chat_model(project, str(mine)).path == mine  # loading it is the engine's check


def test_adapter_only_export_runs_the_adapter_on_its_base(project, tmp_path):
    base = _gguf(tmp_path / "base.gguf")
    lora = _gguf(tmp_path / "maya.lora.gguf")
    remember_export(project, ExportRecord(path=str(lora), lora_path=str(lora), base_path=str(base),
                                          created="2026-01-01T10:00:00"))
    model = find_chat_model(project)
    assert (model.path, model.lora_path, model.name) == (base, lora, "maya.lora.gguf")


def test_exports_of_an_older_version_are_still_found(project):
    """Before exports.json, each export left `<name>.export.json` beside its GGUF."""
    gguf = _gguf(project.models_dir / "r1-q8_0.gguf")
    (project.models_dir / "r1-q8_0.export.json").write_text(json.dumps({
        "path": str(gguf), "created": "2025-12-01T10:00:00", "run_id": "r1", "quant": "q8_0",
        "seconds": {"total_s": 31.5}, "checks": {"tokens": {"passed": True, "detail": "ok"}}}))
    model = find_chat_model(project)
    assert model.path == gguf and model.export.seconds == 31.5
    assert model.export.checks == [{"check": "tokens", "passed": True, "detail": "ok"}]
    # the next export keeps them: the registry then holds both
    new = _gguf(project.models_dir / "r2-q8_0.gguf")
    remember_export(project, ExportRecord(path=str(new), created="2026-01-01T10:00:00"))
    rows = json.loads(project.exports.read_text())["exports"]
    assert [os.path.basename(r["path"]) for r in rows] == ["r2-q8_0.gguf", "r1-q8_0.gguf"]

