"""Tiny Llama-family checkpoints and fake projects for fast export tests (built in ~1 s, no downloads).

* ``make_bpe_base``: byte-level BPE tokenizer (GPT-2 style, trained with ``tokenizers``) with
  ChatML special tokens and template, and a 2-layer random Llama.
* ``make_spm_base``: a SentencePiece BPE model (``tokenizer.model``, byte fallback) plus the
  matching HF tokenizer, Zephyr/TinyLlama chat template, 2-layer random Llama with GQA.
* ``make_project``: ``<home>/projects/<name>`` with project.json and one run whose adapter is
  a fresh peft LoRA with non-zero B (so merging really changes the weights).
"""
from __future__ import annotations

import json
from pathlib import Path

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
          " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
          "{% endif %}")
ZEPHYR = ("{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + "
          "message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + "
          "message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'"
          "  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n"
          "{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}")

CORPUS = [
    "hey, are you coming tonight?", "ok see you at 7:30!!", "Café crème, naïve façade, über straße",
    "line one\nline two", "numbers 1234567 3.14", "the quick brown fox jumps over the lazy dog",
    "haha ok. see you soon!", "did you finish the report for Monday?", "perfect 👌 train is delayed again",
] * 40


def _tiny_llama(path: Path, vocab_size: int, *, bos: int, eos: int, tie: bool, seed: int = 0) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         rms_norm_eps=1e-5, tie_word_embeddings=tie, bos_token_id=bos, eos_token_id=eos)
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # larger weights than the init so logits are decisive (fewer near ties)
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.2)
    model.save_pretrained(path)


def make_bpe_base(path: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(CORPUS, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                  unk_token="<|endoftext|>", pad_token="<|im_end|>")
    tok.chat_template = CHATML
    path.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(path)
    _tiny_llama(path, len(tok), bos=tok.bos_token_id, eos=tok.eos_token_id, tie=True)
    return path


def make_spm_base(path: Path) -> Path:
    """A Llama-2/TinyLlama-style tokenizer: SentencePiece BPE with byte fallback, legacy HF layout
    (normalizer Prepend("▁") + Replace(" ", "▁"), BOS added), as llama.cpp's SPM tokenizer behaves."""
    import sentencepiece as spm
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, processors
    from transformers import PreTrainedTokenizerFast
    from transformers.tokenization_utils_base import generate_merges

    path.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS), model_prefix=str(path / "sp"), vocab_size=320, model_type="bpe",
        byte_fallback=True, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        hard_vocab_limit=False, minloglevel=2)
    (path / "sp.model").rename(path / "tokenizer.model")
    (path / "sp.vocab").unlink()
    sp = spm.SentencePieceProcessor(model_file=str(path / "tokenizer.model"))
    vocab = {sp.IdToPiece(i): i for i in range(sp.GetPieceSize())}
    tk = Tokenizer(models.BPE(vocab=vocab, merges=generate_merges(vocab, None), unk_token="<unk>",
                              fuse_unk=True, byte_fallback=True))
    tk.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    tk.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                    decoders.Strip(" ", 1, 0)])
    tk.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ("<unk>", "<s>", "</s>")])
    tk.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                      special_tokens=[("<s>", 1)])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    tok.chat_template = ZEPHYR
    tok.save_pretrained(path)
    _tiny_llama(path, len(tok), bos=tok.bos_token_id, eos=tok.eos_token_id, tie=False)
    return path


def make_adapter(base: Path, out: Path, std: float = 0.05, seed: int = 1) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=targets,
                                                  task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, std)
    peft_model.save_pretrained(str(out))
    return out


def make_project(home: Path, base: Path | None, *, name: str = "demo", run_id: str = "20260101-120000",
                 adapter_from: Path | None = None, base_model: str = "tiny", status: str = "finished",
                 with_adapter: bool = True) -> Path:
    """A project with one run; ``adapter_from`` reuses an adapter folder (copied) instead of making one."""
    import shutil

    proj = home / "projects" / name
    run = proj / "runs" / run_id
    run.mkdir(parents=True, exist_ok=True)
    (proj / "project.json").write_text(json.dumps({
        "name": name, "me": "Maya", "personas": ["Maya", "Leo"], "participants": ["Maya", "Leo"],
        "is_group": False, "chat_name": "Leo"}))
    (run / "run.json").write_text(json.dumps({
        "run_id": run_id, "project": name, "base_model": base_model, "base_path": str(base) if base else None,
        "mode": "lora", "personas": ["Maya", "Leo"], "status": status, "created": "2026-01-01T12:00:00"}))
    if with_adapter:
        if adapter_from is not None:
            shutil.copytree(adapter_from, run / "adapter")
        else:
            make_adapter(base, run / "adapter")
    return proj
