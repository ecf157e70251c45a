"""Check an exported GGUF with llama.cpp itself before anyone gets to use it.

Three checks, each a :class:`CheckResult`:

* ``tokens`` — llama.cpp's tokenizer (vocab-only load) gives the same ids as the HF tokenizer
  for tricky strings (emoji, accents, RTL, CJK, newlines) and for a chat-template prompt with
  its special tokens.
* ``logits`` — on a realistic chat prompt, llama.cpp's next-token argmax equals the merged HF
  model's at ≥ 99% of positions (checked on the f16 file; the max |logit diff| is reported).
* ``end_of_turn`` — a greedy reply to a chat prompt ends on the end-of-turn token (the model stops).

llama_cpp / numpy / torch are imported inside the functions.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import ModelError
from ..core.gguf_file import check_gguf_file

TEST_STRINGS: tuple[str, ...] = (
    "hey, are you coming tonight?",
    "ok 👍😂🎉 see you at 7:30!!",
    "👨‍👩‍👧‍👦 family 🇧🇷 flag ❤️ heart",
    "Café crème, naïve façade, über straße, ¿qué tal? ñ",
    "مرحبا، كيف حالك؟",
    "שלום, מה שלומך?",
    "mix: hello שלום مرحبا 123",
    "line one\nline two\n\n  indented\ttab\r\nwindows",
    "你好，明天见！日本語もテストします。한국어",
    "numbers 1234567 3.14159 2024-01-31 +55 (11) 98765-4321",
    "   leading and trailing spaces   ",
    "<3 :) ;-) xD ... !!! ???",
    "https://example.com/a?b=c&d=e #tag @mention",
)

# A realistic exchange for the logits and end-of-turn checks (names are filled in per project).
SAMPLE_CONVERSATION: tuple[tuple[str, str], ...] = (
    ("user", "hey!! are you still up for dinner tonight? 🍕"),
    ("assistant", "yesss of course\nwhere do you want to go?"),
    ("user", "that new place near the station, the one with the red door. 7:30?"),
    ("assistant", "perfect 👌 I'll be a bit late though, train is delayed again 🙄"),
    ("user", "no worries, I'll grab a table. did you finish the report for Monday?"),
    ("assistant", "almost... 2 more pages. café first, then I'll finish it tomorrow morning"),
    ("user", "haha ok. see you soon!"),
)

SHORT_OPENERS: tuple[str, ...] = ("hey! how are you?", "ok see you tomorrow then 👋")


@dataclass
class CheckResult:
    check: str
    passed: bool
    detail: str
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class VerificationError(ModelError):
    """A verification check failed: the file must not be used."""


# --------------------------------------------------------------------------- loading
def open_llama(path: Path, *, vocab_only: bool = False, logits_all: bool = False,
               n_ctx: int = 1024, threads: int | None = None, lora_path: Path | None = None):
    """Load a GGUF (and optionally a GGUF LoRA on top) with llama-cpp-python; its failures
    become one clear ModelError."""
    import llama_cpp

    check_gguf_file(path)
    kwargs: dict[str, Any] = dict(model_path=str(path), vocab_only=vocab_only, verbose=False)
    if lora_path is not None:
        kwargs["lora_path"] = str(check_gguf_file(lora_path))
    if not vocab_only:
        kwargs.update(n_ctx=n_ctx, n_batch=min(n_ctx, 512), logits_all=logits_all)
        if threads:
            kwargs.update(n_threads=threads, n_threads_batch=threads)
    try:
        return llama_cpp.Llama(**kwargs)
    except (ValueError, RuntimeError, OSError) as exc:
        what = f"{path} with the LoRA {lora_path}" if lora_path is not None else str(path)
        raise ModelError(f"llama.cpp cannot load {what} ({exc})",
                         hint="the file is corrupt or not a llama.cpp model; export it again") from None


@contextlib.contextmanager
def llama_model(path: Path, **kwargs):
    llm = open_llama(path, **kwargs)
    try:
        yield llm
    finally:
        llm.close()  # explicit: left to interpreter shutdown it can print a traceback


# --------------------------------------------------------------------------- prompts
def sample_messages(system_prompt: str | None) -> list[dict]:
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages += [{"role": r, "content": c} for r, c in SAMPLE_CONVERSATION]
    return messages


def render_chat(hf_tokenizer, messages: Sequence[dict], add_generation_prompt: bool) -> str:
    if not getattr(hf_tokenizer, "chat_template", None):
        raise ModelError("the base model's tokenizer has no chat template",
                         hint="use an instruct/chat base model (the default SmolLM2-Instruct has one)")
    return hf_tokenizer.apply_chat_template(list(messages), tokenize=False,
                                            add_generation_prompt=add_generation_prompt)


def end_of_turn_ids(hf_tokenizer) -> dict[int, str]:
    """Token ids that end an assistant turn: the one the chat template puts after a reply, plus EOS."""
    from jinja2 import TemplateError

    out: dict[int, str] = {}
    marker = "WACHAT_REPLY_END_MARKER"
    try:
        text = hf_tokenizer.apply_chat_template(
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": marker}],
            tokenize=False)
        after = text.split(marker, 1)[1].lstrip(" ")
        specials = sorted(hf_tokenizer.get_added_vocab().items(), key=lambda kv: -len(kv[0]))
        for tok, tid in specials:
            if after.startswith(tok):
                out[tid] = tok
                break
    except (ValueError, IndexError, TemplateError):  # templates that refuse this shape: EOS only
        pass
    eos = getattr(hf_tokenizer, "eos_token_id", None)
    if isinstance(eos, int):
        out.setdefault(eos, hf_tokenizer.eos_token)
    return out


# --------------------------------------------------------------------------- checks
def check_tokens(gguf_path: Path, hf_tokenizer, chat_text: str,
                 strings: Sequence[str] = TEST_STRINGS) -> CheckResult:
    t0 = time.perf_counter()
    mismatches: list[str] = []
    with llama_model(gguf_path, vocab_only=True) as llm:
        for s in strings:
            ref = hf_tokenizer.encode(s, add_special_tokens=False)
            got = llm.tokenize(s.encode("utf-8"), add_bos=False, special=False)
            if list(got) != list(ref):
                mismatches.append(f"{s[:24]!r}: llama.cpp {list(got)[:8]} vs HF {list(ref)[:8]}")
        # BOS/EOS handling as both sides add them for a plain text
        ref = hf_tokenizer.encode(strings[0], add_special_tokens=True)
        got = llm.tokenize(strings[0].encode("utf-8"), add_bos=True, special=False)
        if list(got) != list(ref):
            mismatches.append(f"with special tokens: llama.cpp {list(got)[:6]} vs HF {list(ref)[:6]}")
        # The chat template's own special tokens must map to single control tokens
        ref = hf_tokenizer.encode(chat_text, add_special_tokens=False)
        got = llm.tokenize(chat_text.encode("utf-8"), add_bos=False, special=True)
        if list(got) != list(ref):
            first = next((i for i, (a, b) in enumerate(zip(got, ref)) if a != b), min(len(got), len(ref)))
            mismatches.append(f"chat prompt differs from token {first} ({len(got)} vs {len(ref)} tokens)")
    n = len(strings) + 2
    passed = not mismatches
    detail = (f"{n}/{n} strings tokenize identically (emoji, accents, RTL, CJK, newlines, chat template)"
              if passed else f"{len(mismatches)}/{n} strings differ: " + "; ".join(mismatches[:3]))
    return CheckResult("tokens", passed, detail, {"strings": n, "mismatches": len(mismatches)},
                       round(time.perf_counter() - t0, 2))


def hf_logits(hf_model, ids: Sequence[int]):
    import torch

    with torch.inference_mode():
        out = hf_model(torch.tensor([list(ids)], dtype=torch.long))
    return out.logits[0].float().numpy()


def check_logits(gguf_path: Path, hf_model, ids: Sequence[int], *, min_agreement: float = 0.99,
                 reference=None, threads: int | None = None, enforce: bool = True,
                 tie_tolerance: float = 0.15, lora_path: Path | None = None) -> CheckResult:
    """Top-1 agreement of next-token predictions at every prompt position.

    With ``lora_path`` the file is the base model and llama.cpp applies the GGUF LoRA on top;
    the reference is still the merged HF model.

    A disagreement where the two candidates' HF logits are within ``tie_tolerance`` is a near tie
    that f16 rounding can flip; it is reported, and the check still needs ≥ 95% strict agreement.
    """
    import numpy as np

    t0 = time.perf_counter()
    ref = reference if reference is not None else hf_logits(hf_model, ids)
    with llama_model(gguf_path, logits_all=True, n_ctx=max(256, len(ids) + 16), threads=threads,
                     lora_path=lora_path) as llm:
        llm.eval(list(ids))
        got = np.array(llm.scores[: len(ids)], dtype=np.float32)
    if got.shape != ref.shape:
        return CheckResult("logits", False, f"logit shapes differ: llama.cpp {got.shape} vs HF {ref.shape}",
                           {}, round(time.perf_counter() - t0, 2))
    a, b = got.argmax(-1), ref.argmax(-1)
    agree = float((a == b).mean())
    rows = np.arange(len(ids))
    gap = ref[rows, b] - ref[rows, a]
    near_ties = int(((a != b) & (gap <= tie_tolerance)).sum())
    tie_agree = float(((a == b) | (gap <= tie_tolerance)).mean())
    max_diff = float(np.abs(got - ref).max())
    passed = agree >= min_agreement or (tie_agree >= min_agreement and agree >= 0.95)
    if not enforce:
        passed = True
    detail = (f"top-1 agreement {agree:.1%} on {len(ids)} positions"
              + (f" ({near_ties} near ties)" if near_ties else "")
              + f", max |logit diff| {max_diff:.3f}")
    if not passed:
        detail += f" — needs ≥ {min_agreement:.0%}"
    return CheckResult("logits", passed, detail,
                       {"top1_agreement": round(agree, 4), "near_ties": near_ties, "positions": len(ids),
                        "max_abs_diff": round(max_diff, 4)},
                       round(time.perf_counter() - t0, 2))


def end_of_turn_prompts(hf_tokenizer, system_prompt: str | None) -> list[list[int]]:
    """Chat prompts for the end-of-turn check: the sample exchange and two short openers."""
    convs = [sample_messages(system_prompt)]
    for text in SHORT_OPENERS:
        convs.append(([{"role": "system", "content": system_prompt}] if system_prompt else [])
                     + [{"role": "user", "content": text}])
    return [hf_tokenizer.encode(render_chat(hf_tokenizer, c, True), add_special_tokens=False) for c in convs]


def check_end_of_turn(gguf_path: Path, prompts: Sequence[Sequence[int]], eot: dict[int, str], *,
                      max_tokens: int = 200, threads: int | None = None,
                      lora_path: Path | None = None) -> CheckResult:
    """A greedy reply must end on the end-of-turn token within ``max_tokens``.

    The token must be one the chat template ends replies with *and* one llama.cpp itself treats
    as end-of-generation (otherwise llama.cpp, Ollama or LM Studio would not stop on it). A
    broken export never stops on any prompt; a working one may ramble on one prompt, so up to
    ``len(prompts)`` prompts are tried and the first reply that stops passes the check.
    """
    import llama_cpp

    t0 = time.perf_counter()
    names = ", ".join(eot.values()) or "?"
    longest = max(len(p) for p in prompts)
    attempts: list[str] = []
    with llama_model(gguf_path, n_ctx=longest + max_tokens + 16, threads=threads, lora_path=lora_path) as llm:
        vocab = llm._model.vocab
        for k, prompt in enumerate(prompts, 1):
            pieces: list[bytes] = []
            stop_token: int | None = None
            n = 0
            for tok in llm.generate(list(prompt), temp=0.0, top_k=1, top_p=1.0, min_p=0.0,
                                    repeat_penalty=1.1):
                n += 1
                if tok in eot or llama_cpp.llama_vocab_is_eog(vocab, tok):
                    stop_token = tok
                    break
                pieces.append(llm.detokenize([tok]))
                if n >= max_tokens:
                    break
            reply = b"".join(pieces).decode("utf-8", errors="replace").strip()
            if stop_token is not None and stop_token in eot and llama_cpp.llama_vocab_is_eog(vocab, stop_token):
                detail = (f"greedy reply stopped on {eot[stop_token]} after {n} tokens"
                          + (f" (prompt {k} of {len(prompts)})" if k > 1 else "") + f": {reply[:50]!r}")
                return CheckResult("end_of_turn", True, detail,
                                   {"tokens": n, "prompt": k, "reply": reply[:200]},
                                   round(time.perf_counter() - t0, 2))
            if stop_token is not None and stop_token in eot:
                attempts.append(f"llama.cpp does not treat {eot[stop_token]} as end of generation")
                break  # a metadata problem: other prompts cannot fix it
            if stop_token is not None:
                attempts.append(f"ended on token {stop_token}, not the end-of-turn token ({names})")
            else:
                attempts.append(f"no {names} within {max_tokens} tokens: {reply[:40]!r}…")
    detail = f"{len(attempts)} greedy replies did not stop: " + "; ".join(attempts[:2])
    return CheckResult("end_of_turn", False, detail, {"prompts": len(attempts)},
                       round(time.perf_counter() - t0, 2))
