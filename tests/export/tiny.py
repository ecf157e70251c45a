"""Tiny checkpoints of every architecture the export supports, and fake projects (no downloads).

Each :class:`Family` builds, in a few seconds, a 2–6-layer random model of its architecture with
a real tokenizer of the kind that family ships and that family's chat template:

* byte-level BPE (Llama 3, Qwen2.5, Qwen3): the real GPT-2 and Qwen2 vocabularies, read from the
  vocab-only GGUFs that come with llama.cpp's converter (setup puts them beside it), so llama.cpp's
  converter recognises their pre-tokenizer as it does for the real models;
* SentencePiece (Mistral, Gemma 2/3, Phi-3): trained here on a few lines, with the family's
  special tokens (Gemma's ``<start_of_turn>`` inside the model, Phi-3's ``<|user|>``… added on top).

:func:`teach_replies` trains the random model for a few dozen steps to answer a chat with a short
reply and the template's end-of-turn token, so the export's end-of-turn check (a greedy reply
must stop) can run on it. ``make_project`` writes ``<home>/projects/<name>`` with one run whose
adapter is a fresh peft LoRA with non-zero B (so merging really changes the weights).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
          " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
          "{% endif %}")
ZEPHYR = ("{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + "
          "message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + "
          "message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'"
          "  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n"
          "{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}")
LLAMA3 = ("{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
          "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")
# Mistral and Gemma have no system role: the system prompt goes in front of the first user turn.
MISTRAL = ("{{ bos_token }}{% set ns = namespace(system='') %}{% for message in messages %}"
           "{% if message['role'] == 'system' %}{% set ns.system = message['content'] + '\n\n' %}"
           "{% elif message['role'] == 'user' %}{{ '[INST] ' + ns.system + message['content'] + ' [/INST]' }}"
           "{% set ns.system = '' %}{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}")
GEMMA = ("{{ bos_token }}{% set ns = namespace(system='') %}{% for message in messages %}"
         "{% if message['role'] == 'system' %}{% set ns.system = message['content'] + '\n\n' %}{% else %}"
         "{{ '<start_of_turn>' + ('model' if message['role'] == 'assistant' else message['role']) + '\n' + "
         "ns.system + message['content'] | trim + '<end_of_turn>\n' }}{% set ns.system = '' %}{% endif %}"
         "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}")
PHI3 = ("{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + "
        "'<|end|>\n' }}{% elif message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '<|end|>\n' }}"
        "{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\n' + message['content'] + '<|end|>\n' }}"
        "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}"
        "{% endif %}")

CORPUS = [
    "hey, are you coming tonight?", "ok see you at 7:30!!", "Café crème, naïve façade, über straße",
    "line one\nline two", "numbers 1234567 3.14", "the quick brown fox jumps over the lazy dog",
    "haha ok. see you soon!", "did you finish the report for Monday?", "perfect 👌 train is delayed again",
] * 40

# The regexes of the real tokenizers (what their tokenizer.json splits on before BPE).
GPT2_SPLIT = None  # ByteLevel's own regex
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")


# --------------------------------------------------------------------------- tokenizers
def _vocab_from_gguf(vocab_gguf: Path) -> tuple[dict[str, int], list[int]]:
    """{token text: id} (padding slots left out) and the control-token ids of a vocab-only GGUF."""
    import llama_cpp

    llm = llama_cpp.Llama(str(vocab_gguf), vocab_only=True, verbose=False)  # parsed in C: fast
    try:
        vocab, control = {}, []
        handle = llm._model.vocab
        for i in range(llama_cpp.llama_vocab_n_tokens(handle)):
            attr = llama_cpp.llama_vocab_get_attr(handle, i)
            if attr & llama_cpp.LLAMA_TOKEN_ATTR_UNUSED:
                continue
            vocab[llama_cpp.llama_vocab_get_text(handle, i).decode("utf-8")] = i
            if attr & llama_cpp.LLAMA_TOKEN_ATTR_CONTROL:
                control.append(i)
    finally:
        llm.close()
    return vocab, control


def bpe_tokenizer(vocab_gguf: Path, split: str | None, cache_dir: Path | None = None):
    """A byte-level BPE ``tokenizers.Tokenizer`` with a real vocabulary (GPT-2, Qwen2).

    The GGUF has no merges llama-cpp-python can hand out, so they are rebuilt from the vocabulary's
    rank order (how tiktoken-style vocabularies are converted); the result encodes llama.cpp's
    check text exactly as the original does, which is what its converter identifies it by.
    Built once and kept in ``cache_dir`` (seconds for a 150k vocabulary).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers.tokenization_utils_base import generate_merges

    cached = cache_dir / f"{vocab_gguf.stem}.tokenizer.json" if cache_dir else None
    if cached is not None and cached.is_file():
        return Tokenizer.from_file(str(cached))
    vocab, control = _vocab_from_gguf(vocab_gguf)
    texts = {i: t for t, i in vocab.items()}
    plain = {t: i for t, i in vocab.items() if i not in set(control)}
    tk = Tokenizer(models.BPE(vocab=vocab, merges=generate_merges(plain)))
    if split is None:
        tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    else:
        tk.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(split), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tk.decoder = decoders.ByteLevel()
    tk.add_special_tokens([AddedToken(texts[i], normalized=False, special=True) for i in control])
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tk.save(str(cached))
    return tk


def spm_tokenizer(path: Path, *, bos: str = "<s>", eos: str = "</s>", unk: str = "<unk>",
                  inner: tuple[str, ...] = (), dummy_prefix: bool = True, add_bos: bool = True):
    """A SentencePiece BPE model (``tokenizer.model``, byte fallback) trained on CORPUS, and the
    matching ``tokenizers.Tokenizer`` (as transformers builds it for Llama/Gemma-style models).
    ``inner`` are special tokens inside the SentencePiece model (Gemma's turn markers)."""
    import sentencepiece as spm
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, processors
    from transformers.tokenization_utils_base import generate_merges

    path.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS), model_prefix=str(path / "sp"), vocab_size=320, model_type="bpe",
        byte_fallback=True, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        unk_piece=unk, bos_piece=bos, eos_piece=eos, user_defined_symbols=list(inner),
        add_dummy_prefix=dummy_prefix, hard_vocab_limit=False, minloglevel=2)
    (path / "sp.model").rename(path / "tokenizer.model")
    (path / "sp.vocab").unlink()
    sp = spm.SentencePieceProcessor(model_file=str(path / "tokenizer.model"))
    vocab = {sp.IdToPiece(i): i for i in range(sp.GetPieceSize())}
    tk = Tokenizer(models.BPE(vocab=vocab, merges=generate_merges(vocab, None), unk_token=unk,
                              fuse_unk=True, byte_fallback=True))
    steps = [normalizers.Replace(" ", "\u2581")]
    decode = [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()]
    if dummy_prefix:
        steps.insert(0, normalizers.Prepend("\u2581"))
        decode.append(decoders.Strip(" ", 1, 0))
    tk.normalizer = normalizers.Sequence(steps)
    tk.decoder = decoders.Sequence(decode)
    tk.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in (unk, bos, eos, *inner)])
    if add_bos:
        tk.post_processor = processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                                          special_tokens=[(bos, 1)])
    return tk


def _fast(tk, template: str, **special):
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_object=tk, **special)
    tok.chat_template = template
    return tok


# --------------------------------------------------------------------------- families
@dataclass(frozen=True)
class Family:
    """One architecture the export supports: how to build its tokenizer and a tiny model."""

    name: str
    model_class: str                          # transformers class (also config.architectures)
    config_class: str
    make_tokenizer: Callable[[Path, "Assets"], object]
    config: dict = field(default_factory=dict)  # overrides of TINY
    pad_vocab_to: int = 1                      # Phi-3 pads its embedding rows to a multiple of 64
    tokenizer_class: str | None = None         # what tokenizer_config.json declares, as the real models do


@dataclass(frozen=True)
class Assets:
    """Where the real vocabularies are (the converter folder) and where built tokenizers are kept."""

    vocab_dir: Path
    cache_dir: Path | None = None

    def bpe(self, name: str, split: str | None):
        return bpe_tokenizer(self.vocab_dir / f"ggml-vocab-{name}.gguf", split, self.cache_dir)


TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=1024)


def _chatml_tokenizer(path: Path, assets: Assets):
    from tokenizers import AddedToken

    tk = assets.bpe("gpt-2", GPT2_SPLIT)
    tk.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ("<|im_start|>", "<|im_end|>")])
    return _fast(tk, CHATML, eos_token="<|im_end|>", unk_token="<|endoftext|>", pad_token="<|im_end|>")


def _trained_bpe_tokenizer(path: Path, assets: Assets):
    """A byte-level BPE trained on CORPUS: a tokenizer no llama.cpp pre-tokenizer entry knows."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(CORPUS, trainer)
    return _fast(tk, CHATML, eos_token="<|im_end|>", unk_token="<|endoftext|>", pad_token="<|im_end|>")


def _zephyr_tokenizer(path: Path, assets: Assets):
    return _fast(spm_tokenizer(path), ZEPHYR, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def _llama3_tokenizer(path: Path, assets: Assets):
    from tokenizers import AddedToken

    tk = assets.bpe("gpt-2", GPT2_SPLIT)
    tk.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in
                           ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")])
    return _fast(tk, LLAMA3, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>", pad_token="<|endoftext|>")


def _qwen_tokenizer(path: Path, assets: Assets):
    from tokenizers import AddedToken

    tk = assets.bpe("qwen2", QWEN2_SPLIT)
    tk.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ("<|im_start|>", "<|im_end|>")])
    return _fast(tk, CHATML, eos_token="<|im_end|>", pad_token="<|endoftext|>")


def _mistral_tokenizer(path: Path, assets: Assets):
    return _fast(spm_tokenizer(path), MISTRAL, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def _gemma_tokenizer(path: Path, assets: Assets):
    from tokenizers import AddedToken

    tk = spm_tokenizer(path, bos="<bos>", eos="<eos>", inner=("<start_of_turn>", "<end_of_turn>"),
                       dummy_prefix=False)
    tk.add_special_tokens([AddedToken("<pad>", normalized=False, special=True)])
    return _fast(tk, GEMMA, bos_token="<bos>", eos_token="<eos>", unk_token="<unk>", pad_token="<pad>")


def _phi3_tokenizer(path: Path, assets: Assets):
    from tokenizers import AddedToken

    tk = spm_tokenizer(path)
    tk.add_special_tokens([AddedToken("<|endoftext|>", normalized=False, special=True)])
    # Phi-3's chat tokens swallow the whitespace after them (rstrip), as in the real tokenizer.json.
    tk.add_special_tokens([AddedToken(t, normalized=False, special=True, rstrip=True)
                           for t in ("<|assistant|>", "<|system|>", "<|end|>", "<|user|>")])
    return _fast(tk, PHI3, bos_token="<s>", eos_token="<|endoftext|>", unk_token="<unk>",
                 pad_token="<|endoftext|>")


FAMILIES: dict[str, Family] = {f.name: f for f in (
    # SmolLM2-like and TinyLlama-like: the pipeline tests' two Llama checkpoints.
    Family("smollm", "LlamaForCausalLM", "LlamaConfig", _chatml_tokenizer, {"tie_word_embeddings": True}),
    Family("tinyllama", "LlamaForCausalLM", "LlamaConfig", _zephyr_tokenizer),
    Family("unknown-bpe", "LlamaForCausalLM", "LlamaConfig", _trained_bpe_tokenizer, {"tie_word_embeddings": True}),
    # One per architecture for the export matrix (tests/export/test_export_archs.py).
    Family("llama", "LlamaForCausalLM", "LlamaConfig", _llama3_tokenizer, {"rope_theta": 500000.0}),
    Family("mistral", "MistralForCausalLM", "MistralConfig", _mistral_tokenizer, {"sliding_window": None}),
    Family("qwen2", "Qwen2ForCausalLM", "Qwen2Config", _qwen_tokenizer, {"tie_word_embeddings": True},
           tokenizer_class="Qwen2Tokenizer"),
    # Qwen3 shares Qwen2.5's tokenizer; the smaller GPT-2 vocabulary keeps the test fast (the Qwen
    # tokenizer itself is covered by qwen2), the architecture (q/k norms, head_dim) is Qwen3's.
    Family("qwen3", "Qwen3ForCausalLM", "Qwen3Config", _chatml_tokenizer, {"tie_word_embeddings": True, "head_dim": 32}),
    # A sliding window shorter than the test prompts, so llama.cpp's windowed attention is compared too.
    Family("gemma2", "Gemma2ForCausalLM", "Gemma2Config", _gemma_tokenizer,
           {"head_dim": 16, "query_pre_attn_scalar": 16, "sliding_window": 32}),
    # Six layers: Gemma 3's pattern of five windowed layers and one global one (llama.cpp assumes it).
    Family("gemma3", "Gemma3ForCausalLM", "Gemma3TextConfig", _gemma_tokenizer,
           {"head_dim": 16, "query_pre_attn_scalar": 16, "sliding_window": 32, "num_hidden_layers": 6}),
    Family("phi3", "Phi3ForCausalLM", "Phi3Config", _phi3_tokenizer,
           {"num_key_value_heads": 4, "original_max_position_embeddings": 1024}, pad_vocab_to=64),
)}


def make_base(family: Family, path: Path, assets: Assets, *, seed: int = 0, teach: bool = True) -> Path:
    """A saved tiny checkpoint of ``family`` (tokenizer, config, random weights) in ``path``."""
    import torch
    import transformers

    path.mkdir(parents=True, exist_ok=True)
    tok = family.make_tokenizer(path, assets)
    tok.save_pretrained(str(path))
    if family.tokenizer_class:
        config_path = path / "tokenizer_config.json"
        config_path.write_text(json.dumps({**json.loads(config_path.read_text()),
                                           "tokenizer_class": family.tokenizer_class}))
    vocab = -(-len(tok) // family.pad_vocab_to) * family.pad_vocab_to
    config = getattr(transformers, family.config_class)(
        **{**TINY, **family.config}, vocab_size=vocab, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    config.architectures = [family.model_class]
    torch.manual_seed(seed)
    model = getattr(transformers, family.model_class)(config)
    model.config.save_pretrained(str(path))  # AutoTokenizer picks the tokenizer class by model type
    tok = transformers.AutoTokenizer.from_pretrained(str(path))  # the tokenizer export will load
    with torch.no_grad():  # larger weights than the init so logits are decisive (fewer near ties)
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.2)
    if teach:
        teach_replies(model, tok)
    model.save_pretrained(str(path))
    return path


REPLIES = ("ok see you then", "haha yes!!", "on my way 👋", "sure, 7:30 works")
OPENERS = ("hey! how are you?", "ok see you tomorrow then 👋", "hey!! are you still up for dinner tonight? 🍕",
           "haha ok. see you soon!", "did you finish the report for Monday?")


def teach_replies(model, tok, steps: int = 30, lr: float = 2e-2) -> None:
    """Train the random model briefly to answer a chat with a short reply and the end-of-turn token.

    Only the reply positions are scored (the LM head runs on those rows alone) and the embeddings
    stay frozen, so a 150k vocabulary costs little. Enough for a greedy reply to stop, which is
    what the check needs (30 steps: each of the check's prompts stops within 25 tokens in HF).
    """
    import torch

    specials = {i for i, t in tok.added_tokens_decoder.items() if t.special}
    system = "You are Maya, texting with Leo in a WhatsApp chat. Reply as Maya would."
    samples: list[tuple[list[int], int, int]] = []  # ids, first reply position, end-of-turn position
    for k, opener in enumerate(OPENERS):
        reply = REPLIES[k % len(REPLIES)]
        for messages in ([{"role": "user", "content": opener}],
                         [{"role": "system", "content": system}, {"role": "user", "content": opener}]):
            prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            full = tok.apply_chat_template(messages + [{"role": "assistant", "content": reply}], tokenize=False)
            start = len(tok.encode(prompt, add_special_tokens=False))
            ids = tok.encode(full, add_special_tokens=False)
            end = next(i for i in range(start, len(ids)) if ids[i] in specials)
            samples.append((ids[:end + 1], start, end))
    batch = torch.zeros((len(samples), max(len(ids) for ids, _, _ in samples)), dtype=torch.long)
    mask = torch.zeros_like(batch)
    rows, positions, targets = [], [], []
    for r, (ids, start, end) in enumerate(samples):
        batch[r, :len(ids)] = torch.tensor(ids)
        mask[r, :len(ids)] = 1
        rows += [r] * (end + 1 - start)
        positions += range(start - 1, end)  # each predicts the next reply token, the last the end token
        targets += ids[start:end + 1]
    rows_t, positions_t, targets_t = torch.tensor(rows), torch.tensor(positions), torch.tensor(targets)
    embeddings = [model.get_input_embeddings().weight, model.get_output_embeddings().weight]
    for weight in embeddings:
        weight.requires_grad_(False)
    optim = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: a second thread only adds overhead
    model.train()
    try:
        for _ in range(steps):
            hidden = model.model(input_ids=batch, attention_mask=mask).last_hidden_state[rows_t, positions_t]
            loss = torch.nn.functional.cross_entropy(model.lm_head(hidden), targets_t)
            optim.zero_grad()
            loss.backward()
            optim.step()
    finally:
        torch.set_num_threads(threads)
        for weight in embeddings:
            weight.requires_grad_(True)
        model.eval()


# --------------------------------------------------------------------------- adapters and projects
def linear_targets(model) -> list[str]:
    """The block projections a LoRA trains on this architecture (every nn.Linear but the LM head)."""
    import torch

    names = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    return sorted(names - {"lm_head"})


def make_adapter(base: Path, out: Path, std: float = 0.05, seed: int = 1) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=linear_targets(model),
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
