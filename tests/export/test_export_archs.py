"""Every architecture the export supports, through llama.cpp's converter and llama.cpp's own checks.

For each family (tiny model, real tokenizer kind, the family's chat template; see tiny.py): the
base is converted, the run's adapter is merged and converted, and the adapter alone is converted
as a GGUF LoRA. Then, as a user's export is checked:

* merged GGUF: same token ids as the HF tokenizer, top-1 logits of the merged HF model, a greedy
  reply that stops on the end-of-turn token, and the ``wachat.*`` metadata;
* base GGUF + LoRA GGUF loaded together by llama.cpp: the merged model's logits again (and not the
  base's), and a reply that stops.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from wachat_tui.export import verify
from wachat_tui.export.gguf import SUPPORTED_ARCHITECTURES, read_metadata, write_gguf
from wachat_tui.export.lora import write_lora_gguf
from wachat_tui.export.merge import load_merged, load_tokenizer
from wachat_tui.export.modelfile import detect_format

from .tiny import FAMILIES, make_adapter, make_base

ARCHS = ("llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "phi3")
CHAT_FORMAT = {"llama": "llama3", "mistral": "inst", "qwen2": "chatml", "qwen3": "chatml", "gemma2": "gemma",
               "gemma3": "gemma", "phi3": "phi3"}  # the Modelfile's Go template reproduces each exactly
GGUF_ARCH = {"llama": "llama", "mistral": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "gemma2": "gemma2",
             "gemma3": "gemma3", "phi3": "phi3"}  # llama.cpp runs Mistral as llama
SYSTEM = "You are Maya, texting with Leo in a WhatsApp chat. Reply as Maya would."
METADATA = {"wachat.format_version": 1, "wachat.personas": json.dumps(["Maya", "Leo"]),
            "wachat.system_prompts": json.dumps({"Maya": SYSTEM}), "wachat.is_group": False}


@dataclass
class Exported:
    name: str
    base: Path
    tokenizer: object
    chat_text: str
    ids: list[int]
    reference: object        # merged HF model's logits on ids
    merged: Path
    base_gguf: Path
    lora: Path
    summary: dict

    def prompts(self):
        return verify.end_of_turn_prompts(self.tokenizer, SYSTEM)


def test_every_supported_architecture_is_tested():
    assert sorted(FAMILIES[a].model_class for a in ARCHS) == sorted(SUPPORTED_ARCHITECTURES)


@pytest.fixture(scope="module", params=ARCHS)
def exported(request, assets, tmp_path_factory) -> Exported:
    name = request.param
    root = tmp_path_factory.mktemp(f"arch-{name}")
    base = make_base(FAMILIES[name], root / "base", assets)
    adapter = make_adapter(base, root / "adapter", std=0.02)
    tokenizer = load_tokenizer(base)
    model, info = load_merged(base, adapter, threads=1)
    assert info["lora_layers"] > 0
    chat_text = verify.render_chat(tokenizer, verify.sample_messages(SYSTEM), add_generation_prompt=True)
    ids = tokenizer.encode(chat_text, add_special_tokens=False)
    reference = verify.hf_logits(model, ids)
    merged = root / "merged.gguf"
    summary = write_gguf(merged, model, tokenizer_dir=base, hf_tokenizer=tokenizer, metadata=METADATA,
                         name="wachat demo 20260101-120000", threads=1)  # as the pipeline names it
    del model
    base_gguf = root / "base.gguf"
    write_gguf(base_gguf, checkpoint_dir=base, tokenizer_dir=base, hf_tokenizer=tokenizer, threads=1)
    lora = write_lora_gguf(adapter, base, root / "lora.gguf", metadata=METADATA, threads=1)
    return Exported(name, base, tokenizer, chat_text, ids, reference, merged, base_gguf, lora, summary)


def test_merged_export_passes_the_llama_cpp_checks(exported):
    tokens = verify.check_tokens(exported.merged, exported.tokenizer, exported.chat_text)
    assert tokens.passed, tokens.detail
    logits = verify.check_logits(exported.merged, None, exported.ids, reference=exported.reference, threads=1)
    assert logits.passed, logits.detail
    assert logits.metrics["max_abs_diff"] < 0.5
    eot = verify.check_end_of_turn(exported.merged, exported.prompts(), verify.end_of_turn_ids(exported.tokenizer),
                                   max_tokens=60, threads=1)
    assert eot.passed, eot.detail

    assert exported.summary["architecture"] == GGUF_ARCH[exported.name]
    assert exported.summary["tensors"] > 0 and exported.summary["file_type"] == 1  # f16
    with verify.llama_model(exported.merged, vocab_only=True) as llm:
        meta = llm.metadata
    assert meta["general.architecture"] == GGUF_ARCH[exported.name]
    assert json.loads(meta["wachat.personas"]) == ["Maya", "Leo"]
    assert json.loads(meta["wachat.system_prompts"])["Maya"] == SYSTEM
    assert meta["tokenizer.chat_template"] == exported.tokenizer.chat_template
    assert meta["general.name"].startswith("wachat demo 20260101-120000")
    # llama.cpp strips the whitespace after Phi-3's chat tokens only for a model named "phi-3"
    assert ("phi-3" in meta["general.name"].lower()) == (exported.name == "phi3")

    tok = exported.tokenizer
    match = detect_format(tok.chat_template, exported.chat_text, verify.sample_messages(SYSTEM),
                          bos=tok.bos_token or "", eos=tok.eos_token)
    assert match.label == CHAT_FORMAT[exported.name]  # recognised, and exact (no "approximate")


def test_lora_gguf_on_the_base_gguf_gives_the_merged_model(exported):
    with_lora = verify.check_logits(exported.base_gguf, None, exported.ids, reference=exported.reference,
                                    threads=1, lora_path=exported.lora)
    assert with_lora.passed, with_lora.detail
    base_only = verify.check_logits(exported.base_gguf, None, exported.ids, reference=exported.reference,
                                    threads=1, enforce=False)
    # the adapter matters: without it llama.cpp is measurably further from the merged model
    assert with_lora.metrics["max_abs_diff"] < base_only.metrics["max_abs_diff"] / 2
    eot = verify.check_end_of_turn(exported.base_gguf, exported.prompts(),
                                   verify.end_of_turn_ids(exported.tokenizer), max_tokens=60, threads=1,
                                   lora_path=exported.lora)
    assert eot.passed, eot.detail

    meta = read_metadata(exported.lora)
    assert meta["general.type"] == "adapter" and meta["adapter.type"] == "lora"
    assert meta["general.architecture"] == GGUF_ARCH[exported.name]
    assert meta["adapter.lora.alpha"] == pytest.approx(8.0)
    assert json.loads(meta["wachat.personas"]) == ["Maya", "Leo"]
