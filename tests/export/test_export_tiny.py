"""Export pipeline on tiny Llama checkpoints: real peft merge, llama.cpp's converter, real llama.cpp checks.

The tiny models were taught to end a short reply with the end-of-turn token (tiny.teach_replies),
so all three checks run for real. Every architecture is covered in test_export_archs.py; here the
pipeline around the conversion: stages, metadata, temp files, refusals, the LoRA companion.
"""
from __future__ import annotations

import json
import os
import shutil
import stat

import numpy as np
import pytest

from wachat_tui.core.layout import list_exports
from wachat_tui.errors import ModelError
from wachat_tui.export import verify
from wachat_tui.export.config import ExportConfig
from wachat_tui.export.gguf import read_metadata, write_gguf
from wachat_tui.export.pipeline import CHECKS, export_model

from .tiny import CHATML, FAMILIES, Assets, make_base, make_project

RUN = "20260101-120000"


def _export(project, quant="f16", **kw):
    events = []
    path, metrics = export_model(project, ExportConfig(quant=quant, **{k: v for k, v in kw.items()
                                                                       if k != "checks"}),
                                 emit=events.append, checks=kw.get("checks", CHECKS))
    return path, metrics, events


def test_bpe_f16_export_passes_checks_and_carries_metadata(tiny_bpe, tiny_bpe_adapter, tmp_path):
    project = make_project(tmp_path / "home", tiny_bpe, adapter_from=tiny_bpe_adapter)
    path, metrics, events = _export(project, "f16")

    assert path == project / "models" / f"{RUN}-f16.gguf"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stages = [e.stage for e in events if e.name == "stage"]
    assert stages[0] == "merging" and "writing" in stages and "verifying" in stages
    writing = [e for e in events if e.name == "stage" and e.stage == "writing"]
    assert writing[-1].done == writing[-1].total == metrics["tensors"]
    verified = {e.check: e for e in events if e.name == "verified"}
    assert set(verified) == {"tokens", "logits", "end_of_turn"} and all(e.passed for e in verified.values())
    assert metrics["lora_layers"] == 14  # 2 layers × 7 projections were merged
    assert metrics["checks"]["logits"]["top1_agreement"] >= 0.99

    meta = read_metadata(path)
    assert meta["general.architecture"] == "llama"
    assert meta["tokenizer.ggml.model"] == "gpt2" and meta["tokenizer.ggml.pre"] == "gpt-2"
    assert meta["tokenizer.chat_template"] == CHATML
    assert meta["tokenizer.ggml.add_bos_token"] is False  # the HF tokenizer adds none either
    assert json.loads(meta["wachat.personas"]) == ["Maya", "Leo"]
    assert meta["wachat.run_id"] == RUN and meta["wachat.base_model"] == "tiny"
    assert meta["wachat.chat_title"] == "Leo" and meta["wachat.project"] == "demo"
    prompts = json.loads(meta["wachat.system_prompts"])
    assert "Maya" in prompts["Maya"] and "Leo" in prompts["Maya"]
    assert meta["wachat.created"][:4].isdigit()

    # Only the results are left in the folder: no temp files.
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == sorted([path.name, "Modelfile"])
    [record] = list_exports(project)  # the project remembers the export (exports.json)
    assert (record.path, record.run_id, record.quant) == (str(path), RUN, "f16")
    assert {c["check"]: c["passed"] for c in record.checks} == {"tokens": True, "logits": True}
    assert record.bytes == path.stat().st_size

    modelfile = (path.parent / "Modelfile").read_text()
    assert f"FROM ./{path.name}" in modelfile
    assert "<|im_start|>{{ .Role }}" in modelfile and "approximate" not in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile
    assert 'SYSTEM """You are Maya' in modelfile


def test_sentencepiece_q8_0_export(tiny_spm, tiny_spm_adapter, tmp_path):
    project = make_project(tmp_path / "home", tiny_spm, adapter_from=tiny_spm_adapter)
    path, metrics, events = _export(project, "q8_0")

    assert path.name == f"{RUN}-q8_0.gguf"
    assert all(e.passed for e in events if e.name == "verified")
    assert [e.stage for e in events if e.name == "stage"].count("quantizing") == 2
    assert metrics["bytes"] < metrics["f16_bytes"]
    assert 0 < metrics["quant_top1_agreement"] <= 1
    meta = read_metadata(path)
    assert meta["tokenizer.ggml.model"] == "llama" and meta["general.file_type"] == 7  # MOSTLY_Q8_0
    assert meta["tokenizer.ggml.add_bos_token"] is True
    modelfile = (path.parent / "Modelfile").read_text()
    assert "<|{{ .Role }}|>" in modelfile and 'PARAMETER stop "</s>"' in modelfile
    assert "approximate" not in modelfile  # the Go template reproduces the Zephyr template exactly
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]


def test_sentencepiece_from_tokenizer_json_only(tiny_spm, tiny_spm_adapter, tmp_path):
    """Without tokenizer.model the SentencePiece vocab (with merge-rank scores) comes from tokenizer.json."""
    base = tmp_path / "base"
    shutil.copytree(tiny_spm, base)
    (base / "tokenizer.model").unlink()
    project = make_project(tmp_path / "home", base, adapter_from=tiny_spm_adapter)
    path, metrics, events = _export(project, "f16", checks=("tokens",))
    assert metrics["tokenizer"] == "llama"
    assert all(e.passed for e in events if e.name == "verified")


def test_gemma_without_tokenizer_model(assets, tmp_path):
    """A Gemma checkpoint whose tokenizer is only a tokenizer.json (what transformers makes from a GGUF,
    like the embedded Gemma base) gets a tokenizer.model at staging, and llama.cpp tokenizes as HF does."""
    base = make_base(FAMILIES["gemma3"], tmp_path / "base", assets, teach=False)
    (base / "tokenizer.model").unlink()
    project = make_project(tmp_path / "home", base)
    path, metrics, events = _export(project, "f16", checks=("tokens",))
    assert metrics["tokenizer"] == "llama" and metrics["architecture"] == "gemma3"
    assert [e.passed for e in events if e.name == "verified"] == [True]
    assert not (base / "tokenizer.model").exists()  # the base folder itself is left as it was


def test_failed_check_leaves_no_file_and_keeps_the_old_one(tiny_spm, tiny_spm_adapter, tmp_path, monkeypatch):
    project = make_project(tmp_path / "home", tiny_spm, adapter_from=tiny_spm_adapter)
    models = project / "models"
    models.mkdir()
    old = models / f"{RUN}-q8_0.gguf"
    old.write_bytes(b"GGUF an older good export")

    def failing_tokens(*args, **kwargs):
        return verify.CheckResult("tokens", False, "forced mismatch for the test")
    monkeypatch.setattr(verify, "check_tokens", failing_tokens)

    with pytest.raises(verify.VerificationError, match="tokens: forced mismatch") as info:
        _export(project, "q8_0")
    assert "nothing was written" in info.value.hint
    assert old.read_bytes() == b"GGUF an older good export"
    assert sorted(p.name for p in models.iterdir()) == [old.name]  # no temp files, no Modelfile


def test_interrupted_export_cleans_up(tiny_spm, tiny_spm_adapter, tmp_path, monkeypatch):
    from wachat_tui.export import gguf as gguf_mod

    project = make_project(tmp_path / "home", tiny_spm, adapter_from=tiny_spm_adapter)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(gguf_mod, "quantize", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _export(project, "q4_k_m")
    assert list((project / "models").iterdir()) == []


def test_lora_gguf_reproduces_the_merged_model(tiny_bpe, tiny_bpe_adapter, tmp_path):
    """base GGUF + the adapter-only GGUF LoRA in llama.cpp ≈ the merged export."""
    from transformers import AutoTokenizer

    project = make_project(tmp_path / "home", tiny_bpe, adapter_from=tiny_bpe_adapter)
    merged, metrics, _ = _export(project, "f16", lora_gguf=True, checks=())
    lora = project / "models" / "lora" / f"{RUN}-lora.gguf"
    assert metrics["lora_gguf"] == str(lora)
    assert stat.S_IMODE(lora.stat().st_mode) == 0o600
    meta = read_metadata(lora)
    assert meta["general.type"] == "adapter" and meta["adapter.type"] == "lora"
    assert meta["adapter.lora.alpha"] == pytest.approx(8.0)
    assert meta["wachat.run_id"] == RUN and json.loads(meta["wachat.personas"]) == ["Maya", "Leo"]
    assert not [p for p in lora.parent.iterdir() if p.name.endswith(".tmp")]

    tok = AutoTokenizer.from_pretrained(tiny_bpe)
    base = tmp_path / "base.gguf"
    write_gguf(base, checkpoint_dir=tiny_bpe, tokenizer_dir=tiny_bpe, hf_tokenizer=tok)
    ids = tok.encode(verify.render_chat(tok, verify.sample_messages("You are Maya."), True))

    def scores(path, lora_path=None):
        with verify.llama_model(path, lora_path=lora_path, logits_all=True, threads=1) as llm:
            llm.eval(ids)
            return np.array(llm.scores[: len(ids)])

    want, got, plain = scores(merged), scores(base, lora), scores(base)
    assert (want.argmax(-1) == got.argmax(-1)).mean() >= 0.98
    assert np.abs(want - got).max() < np.abs(want - plain).max()  # the adapter moved it toward the merge


def test_rslora_and_unsupported_adapters(tiny_bpe, tiny_bpe_adapter, tmp_path):
    """rsLoRA is converted with the alpha that gives its scale; DoRA and full tensors are refused clearly."""
    from wachat_tui.export.lora import write_lora_gguf

    rs = tmp_path / "rs"
    shutil.copytree(tiny_bpe_adapter, rs)
    config = json.loads((rs / "adapter_config.json").read_text())
    (rs / "adapter_config.json").write_text(json.dumps({**config, "use_rslora": True}))
    out = write_lora_gguf(rs, tiny_bpe, tmp_path / "out" / "rs.gguf")
    assert read_metadata(out)["adapter.lora.alpha"] == pytest.approx(8.0 * 2)  # alpha·√r with r = 4
    assert sorted(p.name for p in out.parent.iterdir()) == ["rs.gguf"]

    (rs / "adapter_config.json").write_text(json.dumps({**config, "use_dora": True}))
    with pytest.raises(ModelError, match="DoRA adapter cannot be written as a GGUF LoRA"):
        write_lora_gguf(rs, tiny_bpe, tmp_path / "out" / "dora.gguf")
    (rs / "adapter_config.json").write_text(json.dumps(config))
    import torch
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(rs / "adapter_model.safetensors"))
    tensors["base_model.model.model.embed_tokens.weight"] = torch.zeros((4, 4))  # as modules_to_save writes
    save_file(tensors, str(rs / "adapter_model.safetensors"))
    with pytest.raises(ModelError, match="holds full tensors"):
        write_lora_gguf(rs, tiny_bpe, tmp_path / "out" / "full.gguf")
    assert sorted(p.name for p in out.parent.iterdir()) == ["rs.gguf"]


def test_unknown_bpe_tokenizer_is_refused_before_anything_is_written(tmp_path):
    """A BPE tokenizer llama.cpp does not know (here one trained on a few lines) cannot run in llama.cpp:
    the converter refuses it, the export says so in one line and leaves nothing behind."""
    base = make_base(FAMILIES["unknown-bpe"], tmp_path / "base", Assets(tmp_path), teach=False)
    project = make_project(tmp_path / "home", base)
    with pytest.raises(ModelError, match="does not know this base model's tokenizer") as info:
        _export(project, "q8_0")
    assert "train on a supported base" in info.value.hint
    assert list((project / "models").iterdir()) == []


def test_corrupt_or_truncated_gguf_is_a_clear_error(tiny_spm, tmp_path):
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(ModelError, match="not a GGUF file"):
        verify.open_llama(garbage)
    with pytest.raises(ModelError, match="not a GGUF file"):
        read_metadata(garbage)

    from transformers import AutoModelForCausalLM, AutoTokenizer

    good = tmp_path / "good.gguf"
    write_gguf(good, AutoModelForCausalLM.from_pretrained(tiny_spm), tokenizer_dir=tiny_spm,
               hf_tokenizer=AutoTokenizer.from_pretrained(tiny_spm))
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelError, match="cannot load|not a valid GGUF") as info:
        verify.open_llama(truncated)
    assert "export it again" in (info.value.hint or "")
    with pytest.raises(ModelError):
        verify.check_tokens(tmp_path / "missing.gguf", None, "")
