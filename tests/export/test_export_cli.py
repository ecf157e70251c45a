"""`wachat export` refusals through the real CLI: one clear line, exit 2, nothing written."""
from __future__ import annotations

import json

import pytest

from wachat_tui.errors import ModelError
from wachat_tui.export.gguf import check_supported
from wachat_tui.export.modelfile import TemplateMatch, detect_format, render_modelfile
from wachat_tui.export.runner import start_export

from ..conftest import run_wachat
from .tiny import make_project


def _refused(proc, *needles):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("wachat: error: ")
    for needle in needles:
        assert needle in line, line
    return line


def test_unsupported_architecture_is_refused_before_any_work(tmp_path):
    base = tmp_path / "gpt2"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_layer": 2, "n_embd": 32, "n_head": 2,
        "vocab_size": 100}))
    home = tmp_path / "home"
    project = make_project(home, base, base_model=str(base), adapter_from=None, with_adapter=False)
    adapter = project / "runs" / "20260101-120000" / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")

    proc = run_wachat("export", "demo", home=home)
    _refused(proc, "GPT2LMHeadModel", "Llama-family", "SmolLM2", "TinyLlama", "Mistral", "Qwen2.5", "Gemma 3",
             "Phi-3")
    assert not list((project / "models").glob("*.gguf")) if (project / "models").exists() else True

    with pytest.raises(ModelError, match="supports Llama-family"):
        check_supported({"architectures": ["FalconForCausalLM"]})
    assert check_supported({"architectures": ["MistralForCausalLM"]}) == "MistralForCausalLM"
    assert check_supported({"architectures": ["Qwen2ForCausalLM"]}) == "Qwen2ForCausalLM"
    assert check_supported({"model_type": "llama"}) == "LlamaForCausalLM"
    assert check_supported({"model_type": "gemma3_text"}) == "Gemma3ForCausalLM"


def test_missing_project_run_or_adapter(tmp_path):
    home = tmp_path / "home"
    _refused(run_wachat("export", "nope", home=home), "no project named 'nope'")

    project = make_project(home, None, with_adapter=False, status="failed")
    _refused(run_wachat("export", "demo", "--run", "19990101-000000", home=home),
             "no run named '19990101-000000'", "runs: 20260101-120000")
    _refused(run_wachat("export", "demo", home=home), "no run of project 'demo' has a saved adapter")

    for child in (project / "runs").iterdir():
        for f in child.iterdir():
            f.unlink()
        child.rmdir()
    _refused(run_wachat("export", "demo", home=home), "has no trained runs", "wachat train demo")
    assert not (project / "models").exists()


def test_worker_reports_failures_as_events(tmp_path):
    project = make_project(tmp_path / "home", None, with_adapter=False)
    proc = start_export(project, run_id="nope", quant="f16")
    events = list(proc.events())
    assert events[-1].name == "failed" and "no run named 'nope'" in events[-1].error
    assert proc.returncode == 2


def test_modelfile_for_an_unknown_template_and_quotes():
    match = detect_format("{{ messages }}", "x", [], eos="</s>")
    assert match == TemplateMatch(None, False) and match.label == "unknown"
    text = render_modelfile("m.gguf", match, system='He said """hi"""', eos="</s>", extra_stops=["<|end|>"])
    assert "TEMPLATE" not in text and "FROM ./m.gguf" in text
    assert 'SYSTEM """He said ”””hi”””"""' in text
    assert 'PARAMETER stop "<|end|>"' in text and 'PARAMETER stop "</s>"' in text


def test_modelfile_llama3_family_is_recognised():
    template = "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>" \
               "\n\n{{ m['content'] }}<|eot_id|>{% endfor %}"
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    rendered = ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
                "<|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|>"
                "<|start_header_id|>assistant<|end_header_id|>\n\n")
    match = detect_format(template, rendered, messages, bos="<|begin_of_text|>", eos="<|eot_id|>")
    assert match.label == "llama3"
    text = render_modelfile("m.gguf", match, system=None, eos="<|end_of_text|>")
    assert 'PARAMETER stop "<|eot_id|>"' in text and "<|start_header_id|>{{ .Role }}" in text


def test_cancelled_export_stops_cleanly(tiny_bpe, tiny_bpe_adapter, tmp_path):
    project = make_project(tmp_path / "home", tiny_bpe, adapter_from=tiny_bpe_adapter)
    proc = start_export(project, quant="q8_0")
    events = []
    for event in proc.events():
        events.append(event)
        if event.name == "stage" and not proc.cancelled:
            proc.cancel_async()
    assert events[-1].name == "failed" and events[-1].error == "cancelled"
    models = project / "models"
    assert not [p for p in models.iterdir() if p.name != "export.log"]  # no GGUF, no temp file


def test_an_export_written_elsewhere_is_what_chat_uses(tiny_bpe, tiny_bpe_adapter, tmp_path):
    """The bug: `export --out FILE` wrote the model, then `chat` said "no exported model yet"."""
    import sqlite3

    from wachat_tui.core.layout import list_exports
    from wachat_tui.export.config import ExportConfig
    from wachat_tui.export.pipeline import export_model

    home = tmp_path / "home"
    project = make_project(home, tiny_bpe, adapter_from=tiny_bpe_adapter)
    chat = ("chat", "demo", "--as", "Leo", "-m", "hi", "--max-tokens", "4", "--seed", "1", "--n-ctx", "256")
    before = run_wachat(*chat, home=home, check=True)
    assert "no exported model yet" in before.stderr  # the base model, and the user is told so

    out = tmp_path / "elsewhere" / "maya.gguf"
    path, _ = export_model(project, ExportConfig(quant="f16", out=out), checks=("tokens",))
    assert path == out and not (project / "models").exists()  # nothing in the project's folder…
    [record] = list_exports(project)  # …but the project remembers it
    assert record.path == str(out) and record.run_id == "20260101-120000"

    after = run_wachat(*chat, home=home, check=True)
    assert "no exported model" not in after.stderr
    assert after.stdout.splitlines()[0] == "Maya: hi"
    db = sqlite3.connect(project / "chat.sqlite")
    models = [m for (m,) in db.execute("SELECT model FROM conversations ORDER BY id")]
    db.close()
    assert models == ["SmolLM2-135M-Instruct.Q4_1.gguf", "maya.gguf"]
