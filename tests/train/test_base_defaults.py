"""Which base a run trains when none is named: by the chat's language and the device.

CPU: SmolLM2 (English) or Gemma 3 270M (any other language), both embedded. CUDA: hub models,
TinyLlama for English and Qwen2.5-1.5B-Instruct otherwise. Nothing can be downloaded here, so the
GPU path runs for real against a local Hugging Face cache that holds tiny random models of the
same architectures under the real hub ids: ``huggingface_hub.snapshot_download`` (offline) finds
them exactly as it finds a model downloaded earlier, and they load, get LoRA adapters and train
a step like the real ones would.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from wachat_tui.train.config import (
    GPU_DEFAULT_BASE, GPU_MULTILINGUAL_BASE, TrainConfig, base_licence, default_base, default_base_reason,
    describe_base,
)

from ..export.tiny import CHATML, CORPUS

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("language, device, expected", [
    ("en", "cpu", "embedded:smollm2-135m"), (None, "cpu", "embedded:smollm2-135m"),
    ("de", "cpu", "embedded:gemma3-270m"), ("he", None, "embedded:gemma3-270m"),
    ("en", "cuda", GPU_DEFAULT_BASE), (None, "cuda", GPU_DEFAULT_BASE),
    ("de", "cuda", GPU_MULTILINGUAL_BASE), ("hi", "cuda", GPU_MULTILINGUAL_BASE),
])
def test_default_base_by_language_and_device(language, device, expected):
    assert default_base(language, device) == expected


def test_every_default_names_its_licence():
    assert base_licence("embedded:smollm2-135m") == "Apache-2.0"
    assert base_licence("embedded:gemma3-270m") == "Gemma Terms of Use"
    assert base_licence(GPU_DEFAULT_BASE) == base_licence(GPU_MULTILINGUAL_BASE) == "Apache-2.0"
    assert describe_base("embedded:gemma3-270m") == "Gemma 3 270M (embedded:gemma3-270m) · licence: Gemma Terms of Use"
    assert describe_base("someone/else").endswith("licence: see its model card")
    assert default_base_reason("de", "cuda") == "default for a German chat on a CUDA GPU"


def _tokenizer(path: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(CORPUS, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", unk_token="<|endoftext|>",
                                  pad_token="<|endoftext|>")
    tok.chat_template = CHATML
    tok.save_pretrained(path)
    return tok


def _hub_cache_model(hf_home: Path, repo_id: str, architecture: str) -> Path:
    """A tiny random model of ``architecture`` where the hub client keeps ``repo_id`` once downloaded."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    tok = _tokenizer(snapshot)
    size = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    if architecture == "qwen2":
        model = Qwen2ForCausalLM(Qwen2Config(**size, tie_word_embeddings=True))
    else:
        model = LlamaForCausalLM(LlamaConfig(**size))
    model.save_pretrained(snapshot)
    return snapshot


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An offline Hugging Face cache holding tiny stand-ins for both GPU defaults."""
    hf_home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("HF_HUB_CACHE", str(hf_home / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as hub_constants

    # the hub client reads its cache location once, at import: point it at ours for this test
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(hf_home / "hub"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    return {GPU_MULTILINGUAL_BASE: _hub_cache_model(hf_home, GPU_MULTILINGUAL_BASE, "qwen2"),
            GPU_DEFAULT_BASE: _hub_cache_model(hf_home, GPU_DEFAULT_BASE, "llama")}


@pytest.mark.parametrize("language, repo_id, model_type", [
    ("de", GPU_MULTILINGUAL_BASE, "qwen2"), ("he", GPU_MULTILINGUAL_BASE, "qwen2"),
    ("en", GPU_DEFAULT_BASE, "llama"),
])
def test_cuda_default_is_fetched_by_hub_id_loaded_and_trained(hub_cache, language, repo_id, model_type):
    import torch
    from peft import get_peft_model

    from wachat_tui.train.data import tokenize_sample
    from wachat_tui.train.modeling import adapted_layer_names, load_base_model, load_tokenizer, lora_config
    from wachat_tui.train.models import resolve_base

    resolved = resolve_base(None, "cuda", language=language)
    assert resolved.name == repo_id and resolved.path == hub_cache[repo_id] and not resolved.note
    # load and adapt it as a run would (on the CPU here: full precision instead of 4-bit)
    config = TrainConfig.for_device("cpu", base=resolved.name)
    tok = load_tokenizer(resolved.path)
    model = load_base_model(resolved.path, config)
    assert model.config.model_type == model_type
    model = get_peft_model(model, lora_config(config, model))
    assert {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"} <= set(adapted_layer_names(model))
    sample, _ = tokenize_sample(tok, [{"role": "system", "content": "You are Lena."},
                                      {"role": "user", "content": "see you at 7:30"},
                                      {"role": "assistant", "content": "ok see you soon!"}])
    assert sample.n_trained > 0
    ids = torch.tensor([sample.input_ids])
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    loss = model(input_ids=ids, labels=torch.tensor([sample.labels])).loss
    loss.backward()
    torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1).step()
    changed = [n for n, p in model.named_parameters() if p.requires_grad and not torch.equal(p, before[n])]
    assert changed and all("lora_" in n for n in changed)


def test_cuda_default_falls_back_to_the_embedded_model_for_the_language(tmp_path, monkeypatch):
    """No network and nothing cached: a German chat on a GPU trains the embedded Gemma, and says why."""
    from wachat_tui.core import embedded
    from wachat_tui.train import models

    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "empty-hf" / "hub"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    converted: list[str] = []
    # the conversion itself is tested with the real model elsewhere; here: which one is asked for
    monkeypatch.setattr(models, "ensure_embedded",
                        lambda log=None, model=embedded.DEFAULT: converted.append(model.key) or tmp_path)
    logged: list[str] = []
    resolved = models.resolve_base(None, "cuda", log=logged.append, language="de")
    assert resolved.name == "embedded:gemma3-270m" and converted == ["gemma3-270m"]
    assert GPU_MULTILINGUAL_BASE in resolved.note and "embedded:gemma3-270m instead" in logged[0]
    resolved = models.resolve_base(None, "cuda", language="en")
    assert resolved.name == "embedded:smollm2-135m" and converted[-1] == "smollm2-135m"
