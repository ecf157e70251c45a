"""Fast checks: option validation, base-model resolution, dataset masking with the real tokenizer."""
from __future__ import annotations

import json

import pytest

from wachat_tui.errors import ModelError
from wachat_tui.train.config import ConfigError, TrainConfig

from .conftest import tiny_samples


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize("field,value,words", [
    ("learning_rate", -1.0, "learning rate"),
    ("rank", 0, "LoRA rank"),
    ("mode", "full", "mode must be one of qlora, lora"),
    ("batch_size", 0, "batch size"),
    ("max_seq_len", 8, "sequence length"),
    ("dropout", 1.5, "dropout"),
    ("eval_steps", 0, "eval steps"),
    ("batching", "magic", "batching"),
])
def test_invalid_option_is_rejected_with_a_clear_message(field, value, words):
    cfg = TrainConfig.for_device("cpu", **{field: value})
    with pytest.raises(ConfigError) as err:
        cfg.validate()
    assert words in err.value.message
    assert "\n" not in err.value.one_line()


def test_device_defaults_follow_the_brief():
    cpu, gpu = TrainConfig.for_device("cpu").validate(), TrainConfig.for_device("cuda").validate()
    assert (cpu.mode, cpu.rank, gpu.mode, gpu.rank) == ("lora", 16, "qlora", 64)
    # the CPU's shorter run at a higher rate is what fidelity_bench measured best within ~15 minutes
    assert (cpu.learning_rate, cpu.epochs, gpu.learning_rate, gpu.epochs) == (4e-4, 2, 2e-4, 3)
    for cfg in (cpu, gpu):
        assert cfg.lr_scheduler == "cosine"
        assert cfg.warmup_ratio > 0
        # every linear projection of the blocks, named by the architecture (see test_lora_targets.py:
        # for SmolLM2 that is q/k/v/o/gate/up/down_proj)
        assert cfg.target_modules is None
    assert TrainConfig.for_device("cpu", rank=8, lr=None).rank == 8  # None overrides are ignored
    assert TrainConfig.from_dict(cpu.to_dict()) == cpu
    with pytest.raises(ConfigError, match="unknown training option"):
        TrainConfig.for_device("cpu", rnak=8)


@pytest.mark.parametrize("steps", [164, 174, 246, 347])
def test_a_default_run_evaluates_six_times_and_at_its_last_step(steps):
    every = TrainConfig.for_device("cpu").validate().resolved_eval_steps(steps)
    evaluations = list(range(every, steps + 1, every))
    assert len(evaluations) + (evaluations[-1] != steps) == 6


def test_every_config_field_has_a_docstring():
    import ast
    import inspect

    from wachat_tui.train import config as mod

    tree = ast.parse(inspect.getsource(mod.TrainConfig))
    body = tree.body[0].body
    for i, node in enumerate(body):
        if isinstance(node, ast.AnnAssign):
            nxt = body[i + 1] if i + 1 < len(body) else None
            assert isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant), node.target.id


# ----------------------------------------------------------------------------- base models
def test_resolve_local_checkpoint(tmp_path):
    from transformers import LlamaConfig, LlamaForCausalLM

    from wachat_tui.train.models import resolve_base

    tiny = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                        num_attention_heads=2, num_key_value_heads=1))
    tiny.save_pretrained(tmp_path / "tiny")
    res = resolve_base(str(tmp_path / "tiny"))
    assert res.path == (tmp_path / "tiny").resolve() and res.name == str(tmp_path / "tiny")
    with pytest.raises(ModelError, match="no config.json"):
        resolve_base(str(tmp_path))
    with pytest.raises(ModelError, match="does not exist"):
        resolve_base(str(tmp_path / "missing" / "model"))


def test_unknown_hub_id_offline_names_the_embedded_default(monkeypatch, tmp_path):
    from wachat_tui.train.models import resolve_base

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: nothing to find offline
    with pytest.raises(ModelError) as err:
        resolve_base("someone/not-a-cached-model")
    assert "offline" in err.value.message and "embedded:smollm2-135m" in err.value.one_line()


def test_embedded_model_is_cached_as_a_normal_checkpoint():
    from wachat_tui.train.models import EMBEDDED_BASE, embedded_checkpoint_dir, resolve_base

    res = resolve_base(None, "cpu")
    assert res.name == EMBEDDED_BASE and res.path == embedded_checkpoint_dir()
    assert (res.path / "config.json").exists() and list(res.path.glob("*.safetensors"))
    cfg = json.loads((res.path / "config.json").read_text())
    assert "quantization_config" not in cfg  # rebuilt, so it saves and reloads like any HF model
    assert "im_start" in (res.path / "chat_template.jinja").read_text()


# ----------------------------------------------------------------------------- masking
@pytest.fixture(scope="module")
def tokenizer():
    from wachat_tui.train.models import ensure_embedded
    from wachat_tui.train.modeling import load_tokenizer

    return load_tokenizer(ensure_embedded())


def _trained_text(tok, t) -> str:
    return tok.decode([i for i, lab in zip(t.input_ids, t.labels) if lab != -100])


def test_loss_only_on_persona_replies(tokenizer):
    from wachat_tui.train.data import tokenize_sample

    sample = {"messages": [
        {"role": "system", "content": "You are Maya, texting with Leo on WhatsApp."},
        {"role": "user", "content": "are you coming tonight??"},
        {"role": "assistant", "content": "omg yes 😂\nwait what time", "train": False},
        {"role": "user", "content": "8ish"},
        {"role": "assistant", "content": "perfect see u there ✨"},
        {"role": "user", "content": "bring snacks"},
        {"role": "assistant", "content": "hahaha obviously"},
    ]}
    tok, fallback = tokenize_sample(tokenizer, sample["messages"], 512)
    assert not fallback
    assert tok.input_ids == tokenizer(tokenizer.apply_chat_template(
        [{"role": m["role"], "content": m["content"]} for m in sample["messages"]], tokenize=False),
        add_special_tokens=False)["input_ids"]
    # exactly the trained replies, each with its end-of-turn token — nothing of the system
    # prompt, the partner, the role headers or the reply marked "train": false
    assert _trained_text(tokenizer, tok) == "perfect see u there ✨<|im_end|>hahaha obviously<|im_end|>"
    # labels are the token ids themselves where trained (the model shifts them)
    assert all(lab in (-100, i) for i, lab in zip(tok.input_ids, tok.labels))


def test_masking_on_a_demo_sample(tokenizer, demo_project):
    from wachat_tui.train.data import is_trained, read_samples, tokenize_sample

    rows = read_samples(demo_project / "dataset" / "train.jsonl")
    row = next(r for r in rows if sum(is_trained(m) for m in r["messages"]) >= 2)
    tok, _ = tokenize_sample(tokenizer, row["messages"], 4096)
    expected = "".join(m["content"] + "<|im_end|>" for m in row["messages"] if is_trained(m))
    assert _trained_text(tokenizer, tok) == expected


def test_long_samples_keep_system_prompt_and_latest_turns(tokenizer):
    from wachat_tui.train.data import tokenize_sample

    msgs = [{"role": "system", "content": "You are Maya, texting with Leo."}]
    for i in range(40):
        msgs += [{"role": "user", "content": f"message number {i} from leo"},
                 {"role": "assistant", "content": f"reply number {i} from maya"}]
    tok, _ = tokenize_sample(tokenizer, msgs, 128)
    text = tokenizer.decode(tok.input_ids)
    assert len(tok.input_ids) == 128 and tok.truncated
    assert text.startswith("<|im_start|>system\nYou are Maya")
    assert text.endswith("reply number 39 from maya<|im_end|>\n")


def test_held_out_prompts_cut_before_a_persona_reply():
    from wachat_tui.train.data import held_out_prompts

    rows = tiny_samples(10, seed=3)
    picked = held_out_prompts(rows, 3, seed=1, participants=["Maya", "Leo"])
    assert len(picked) == 3
    replies = {m["content"] for r in rows for m in r["messages"] if m["role"] == "assistant"}
    for h in picked:
        assert h.messages[0]["role"] == "system" and len(h.messages) >= 2
        assert h.real in replies and h.persona == "Maya"
        assert {c["author"] for c in h.context} <= {"Maya", "Leo"}


def _built(lines, me="Maya"):
    """Rows exactly as core.dataset writes them, and the review pairs, for ``lines`` of (author, text)."""
    from datetime import datetime, timedelta

    from wachat_tui.core.dataset import DatasetOptions, build_dataset
    from wachat_tui.core.records import Message

    t0 = datetime(2024, 3, 4, 9, 0)
    msgs = [Message(t0 + timedelta(minutes=i), a, x) for i, (a, x) in enumerate(lines)]
    res = build_dataset(msgs, me, DatasetOptions(validation_fraction=0), chat_name="Friends")
    return [r for r in res.train if r["persona"] == me], res.pairs


def test_held_out_context_names_the_partner_from_the_row():
    # no participants known: the 1:1 partner's real name comes from the row's partners,
    # not the role name "user"
    from wachat_tui.train.data import held_out_prompts

    rows, _ = _built([("Leo", "hey"), ("Maya", "hi!"), ("Leo", "dinner tonight?"), ("Maya", "yes pls")])
    picked = held_out_prompts(rows, 1, seed=0)
    assert len(picked) == 1 and picked[0].real == "yes pls"
    assert [c["author"] for c in picked[0].context] == ["Leo", "Maya", "Leo"]


def test_held_out_context_in_a_group_comes_from_the_pairs():
    from wachat_tui.train.data import held_out_prompts

    rows, pairs = _built([("Leo", "hey all"), ("Zoe", "hi"), ("Maya", "yo"), ("Zoe", "ok: see you at 8"),
                          ("Maya", "cool")])
    picked = held_out_prompts(rows, 1, seed=0, pairs=pairs)
    # the last turns before the reply (as many as a pair keeps: PAIR_CONTEXT_TURNS = 3)
    assert [(c["author"], c["text"]) for c in picked[0].context] == [
        ("Zoe", "hi"), ("Maya", "yo"), ("Zoe", "ok: see you at 8")]
    # pairs.jsonl rows work the same; without any pair, names are never parsed out of the
    # text: the other side of a group stays "user"
    assert held_out_prompts(rows, 1, seed=0, pairs=[p.to_json() for p in pairs])[0].context == picked[0].context
    bare = held_out_prompts(rows, 1, seed=0)[0].context
    assert [c["author"] for c in bare] == ["user", "Maya", "user"]
    assert bare[0]["text"] == "Leo: hey all\nZoe: hi"