"""What the adapter and the schedule are made of: LoRA targets per architecture, warmup in steps.

Tiny random models of each architecture (no download): the adapter goes on every linear
projection of the blocks, whatever the architecture calls them, and never on the LM head.
"""
from __future__ import annotations

import math

import pytest

from wachat_tui.errors import WachatError
from wachat_tui.train.config import TrainConfig

LLAMA_NAMES = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
TINY = dict(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128)


def _tiny(arch: str):
    import transformers as tf

    if arch == "llama":
        return tf.LlamaForCausalLM(tf.LlamaConfig(**TINY))
    if arch == "phi3":
        return tf.Phi3ForCausalLM(tf.Phi3Config(**TINY, pad_token_id=0))
    if arch == "qwen2":
        return tf.Qwen2ForCausalLM(tf.Qwen2Config(**TINY))
    if arch == "gemma3":
        return tf.Gemma3ForCausalLM(tf.Gemma3TextConfig(**TINY, head_dim=8))
    raise AssertionError(arch)


def _adapted(model, **cfg):
    from peft import get_peft_model

    from wachat_tui.train.modeling import adapted_layer_names, lora_config

    peft_model = get_peft_model(model, lora_config(TrainConfig.for_device("cpu", **cfg), model))
    head = peft_model.get_output_embeddings()
    assert not hasattr(head, "lora_A"), "the LM head must stay as it is"
    return set(adapted_layer_names(peft_model))


@pytest.mark.parametrize("arch,expected", [
    ("llama", LLAMA_NAMES),
    ("qwen2", LLAMA_NAMES),
    ("gemma3", LLAMA_NAMES),
    ("phi3", {"qkv_proj", "o_proj", "gate_up_proj", "down_proj"}),  # fused projections
])
def test_lora_targets_every_linear_projection_of_the_architecture(arch, expected):
    assert _adapted(_tiny(arch)) == expected


def test_target_modules_option_overrides_and_unknown_names_are_explained():
    assert _adapted(_tiny("phi3"), target_modules=("qkv_proj",)) == {"qkv_proj"}
    with pytest.raises(WachatError) as err:
        _adapted(_tiny("phi3"), target_modules=("q_proj", "v_proj"))
    assert "q_proj" in err.value.message and "qkv_proj" in err.value.hint and "lm_head" not in err.value.hint


def test_embedded_model_gets_adapters_on_its_seven_projections():
    from wachat_tui.train.modeling import load_base_model
    from wachat_tui.train.models import ensure_embedded

    model = load_base_model(ensure_embedded(), TrainConfig.for_device("cpu"))
    assert _adapted(model) == LLAMA_NAMES


@pytest.mark.parametrize("ratio,total", [(0.05, 30), (0.1, 30), (0.25, 7), (0.0, 10)])
def test_warmup_in_steps_is_what_the_ratio_says(tmp_path, ratio, total):
    """The learning rate climbs from 0 for ceil(ratio × steps) steps, peaks, then decays."""
    from transformers import AutoTokenizer

    from wachat_tui.train.data import Tokenized
    from wachat_tui.train.models import ensure_embedded
    from wachat_tui.train.trainer import build_trainer

    cfg = TrainConfig.for_device("cpu", warmup_ratio=ratio, max_steps=total, learning_rate=1e-3,
                                 lr_scheduler="linear")
    tok = AutoTokenizer.from_pretrained(str(ensure_embedded()))
    samples = [Tokenized([1, 2, 3, 4], [-100, 2, 3, 4])] * 4
    trainer = build_trainer(_tiny("llama"), tok, samples, [], cfg, tmp_path, total, save=False)
    trainer.create_optimizer_and_scheduler(num_training_steps=total)
    lrs = []
    for _ in range(total):
        lrs.append(trainer.lr_scheduler.get_last_lr()[0])
        trainer.optimizer.step()
        trainer.lr_scheduler.step()
    warmup = math.ceil(ratio * total)
    assert cfg.warmup_steps(total) == warmup
    peak = lrs.index(max(lrs))
    assert peak == warmup and lrs[peak] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(lrs[:warmup], lrs[1:warmup + 1]))  # climbing during the warmup
    assert all(a > b for a, b in zip(lrs[warmup:], lrs[warmup + 1:]))  # then only down
    if warmup:
        assert lrs[0] == 0.0
