"""The chat engine: a GGUF model through llama-cpp-python plays one participant of the chat.

How a reply is made
-------------------
1. The prompt is the history seen from the persona's side with the training system prompt
   (:mod:`wachat_tui.chat.prompt`), rendered with the GGUF's own chat template
   (``tokenizer.chat_template``) plus the generation prompt, tokenized, and cut from the
   oldest turns so that it fits ``n_ctx - max_tokens``.
2. The KV cache is kept between replies (:mod:`wachat_tui.chat.kv_cache`): only the tokens
   after the longest prefix already evaluated are fed to the model.
3. Tokens stream out through the reply filter (:mod:`wachat_tui.chat.reply_filter`);
   generation ends on an end-of-turn/control token, on a line that starts with another
   participant's ``Name:``, on ``max_tokens`` or when the ``stop`` event is set (checked
   between tokens). Newlines in the streamed text separate bubbles.
4. Persona guidance (:attr:`Sampling.guidance`, :mod:`wachat_tui.chat.guidance`): when the
   persona has a style card, each token is sampled from the card-conditioned prediction pushed
   away from the prediction for the same turn without the card.

llama_cpp is imported lazily (inside :class:`ChatEngine`), so importing this module is cheap.
"""
from __future__ import annotations

import codecs
import json
import os
import threading
import time
import zlib
from array import array
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

from ..core.gguf_file import check_gguf_file
from ..errors import ModelError
from .lines import ChatLine, lines_from_reply, merge_turns
from .prompt import PromptWindow, next_turn_messages
from .reply_filter import ReplyFilter

# The template used when a GGUF carries none (ChatML: what SmolLM2/Qwen-style models use).
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


#: The default persona guidance (:attr:`Sampling.guidance`), chosen by ``benchmarks/fidelity_bench.py``.
GUIDANCE = 1.3


@dataclass
class Sampling:
    """How replies are sampled. The defaults suit short chat messages."""

    temperature: float = 0.8
    """Randomness: 0 = always the likeliest token; 0.7–0.9 sounds natural; >1.2 rambles."""
    top_p: float = 0.95
    """Nucleus sampling: only the smallest set of tokens whose probabilities add up to this."""
    top_k: int = 40
    """Only the k likeliest tokens are considered (0 = no limit)."""
    min_p: float = 0.05
    """Tokens less likely than this fraction of the top token are dropped."""
    repeat_penalty: float = 1.1
    """>1 discourages repeating recent tokens (1.0 = off)."""
    max_tokens: int = 96
    """Longest reply, in tokens (a few bubbles); also reserved out of the context window."""
    guidance: float = GUIDANCE
    """Persona guidance (classifier-free guidance, Sanchez et al. 2023): each token's
    log-probabilities are pushed away from what the model predicts *without* the persona's style
    card, ``log p = log p_nocard + guidance · (log p_card − log p_nocard)``. 1.0 = off; above 1
    the persona's own habits weigh more. Costs a second forward pass per token; does nothing
    for a persona without a card."""

    def validate(self) -> "Sampling":
        if not 0.0 <= self.temperature <= 5.0:
            raise ModelError(f"temperature must be between 0 and 5, got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ModelError(f"top-p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ModelError(f"top-k must be 0 or more, got {self.top_k}")
        if not 0.0 <= self.min_p < 1.0:
            raise ModelError(f"min-p must be in [0, 1), got {self.min_p}")
        if not 0.5 <= self.repeat_penalty <= 3.0:
            raise ModelError(f"repeat penalty must be between 0.5 and 3, got {self.repeat_penalty}")
        if not 1 <= self.max_tokens <= 4096:
            raise ModelError(f"max tokens must be between 1 and 4096, got {self.max_tokens}")
        if not 1.0 <= self.guidance <= 3.0:
            raise ModelError(f"guidance must be between 1 (off) and 3, got {self.guidance}")
        return self


@dataclass
class ReplyStats:
    """What the last reply cost; ``ChatEngine.last_stats``."""

    prompt_tokens: int = 0
    """Tokens in the (trimmed) prompt."""
    reused_tokens: int = 0
    """Prompt tokens found in the KV cache (not evaluated again)."""
    evaluated_tokens: int = 0
    """Prompt tokens actually evaluated (prompt_tokens - reused_tokens)."""
    generated_tokens: int = 0
    """Tokens sampled (including the end-of-turn token)."""
    dropped_turns: int = 0
    """Oldest turns left out to fit the context window."""
    ttft_s: float = 0.0
    """Seconds from the call to the first sampled token."""
    total_s: float = 0.0
    """Seconds for the whole reply."""
    guided: bool = False
    """Whether persona guidance shaped the reply (:attr:`Sampling.guidance`; needs a card)."""
    stop_reason: str = ""
    """"end_of_turn" | "other_speaker" | "max_tokens" | "stopped" (stop event) | "context_full"."""

    @property
    def tokens_per_s(self) -> float:
        gen_time = self.total_s - self.ttft_s
        return (self.generated_tokens - 1) / gen_time if self.generated_tokens > 1 and gen_time > 0 else 0.0


def _default_threads() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    # Small machines: use every core; bigger ones: the physical half (hyper-threads hurt).
    return max(1, cpus if cpus <= 4 else cpus // 2)


def reply_seed(seed: int, prompt_tokens: Sequence[int]) -> int:
    """The sampling seed of one reply: ``seed`` mixed with the prompt it answers.

    The same conversation gets the same reply (``--seed`` reproduces a chat), while two
    different prompts draw from independent random streams. Re-seeding every reply with
    ``seed`` itself would hand every reply the same stream: the k-th token of each reply
    would be drawn with the same number, so a habit that needs a less likely token at some
    position (an emoji at the end of a bubble, a laugh) would come out in almost every
    reply or in almost none — a fixed-seed eval under-counted emoji 3–6× that way.
    """
    return (seed + zlib.crc32(array("i", prompt_tokens).tobytes())) & 0x7FFFFFFF


class ChatEngine:
    """A GGUF model that plays one chat participant at a time.

    One reply at a time (an internal lock serialises callers); run it in a worker thread
    from a UI. ``close()`` frees the model (also via ``with ChatEngine(...) as engine:``).
    """

    #: prompt tokens evaluated per step while the stop event is watched
    eval_chunk = 512  # = llama.cpp n_batch: smaller chunks slow prompt evaluation down

    def __init__(self, model_path: str | os.PathLike, *, n_ctx: int = 2048, seed: int | None = None,
                 sampling: Sampling | None = None, n_threads: int | None = None,
                 n_gpu_layers: int = -1, lora_path: str | os.PathLike | None = None,
                 cards: dict[str, str] | None = None):
        self.model_path = check_gguf_file(
            Path(model_path), hint="export one with `wachat export`, or point --model at a .gguf file")
        self.lora_path = check_gguf_file(
            Path(lora_path), hint="export the adapter again with `wachat export`") if lora_path else None
        self.sampling = (sampling or Sampling()).validate()
        if n_ctx < 64:
            raise ModelError(f"context window must be at least 64 tokens, got {n_ctx}")
        self.seed = seed
        self.last_stats = ReplyStats()
        self._lock = threading.Lock()
        self._window = PromptWindow()
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError("llama-cpp-python is not installed",
                             hint="pip install 'wachat-tui[chat]'") from exc
        from .kv_cache import KVCache

        from .guidance import Guide

        threads = n_threads or _default_threads()
        settings = dict(model_path=str(self.model_path), n_ctx=n_ctx, n_threads=threads,
                        n_threads_batch=threads, n_gpu_layers=n_gpu_layers, verbose=False,
                        **({"lora_path": str(self.lora_path)} if self.lora_path else {}),
                        **({"seed": seed} if seed is not None else {}))
        try:
            self._llm = Llama(**settings)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp could not load {self.model_path.name} (corrupt or unsupported GGUF)",
                             hint="re-run `wachat export`, or pass --model with another .gguf file") from exc
        self._kv = KVCache(self._llm)
        self._guide = Guide(lambda: Llama(**settings))
        """The persona guidance's second context (the prompt without the card), made on first use."""
        self.n_ctx = self._llm.n_ctx()
        self.metadata: dict[str, str] = dict(getattr(self._llm, "metadata", {}) or {})
        self.cards: dict[str, str] = dict(cards) if cards is not None else self._metadata_json("wachat.style_cards", dict)
        """``{persona: style card}`` said in each persona's system prompt: the ones the model was
        trained with (``wachat export`` stores them in the GGUF), unless ``cards`` is given."""
        self._setup_template()

    # -- model facts ------------------------------------------------------------------

    def _setup_template(self) -> None:
        import jinja2
        from llama_cpp import llama_cpp as C
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        model = self._llm._model
        self._vocab = model.vocab
        self._is_eog = C.llama_vocab_is_eog
        self._is_control = C.llama_vocab_is_control
        bos, eos = self._llm.token_bos(), self._llm.token_eos()
        self.bos_text = model.token_get_text(bos) if bos != -1 else ""
        self.eos_text = model.token_get_text(eos) if eos != -1 else ""
        self._bos = bos
        self._add_bos = bool(model.add_bos_token()) and bos != -1
        self.chat_template = self.metadata.get("tokenizer.chat_template") or CHATML_TEMPLATE
        try:
            self._formatter = Jinja2ChatFormatter(self.chat_template, eos_token=self.eos_text,
                                                  bos_token=self.bos_text, add_generation_prompt=True)
        except jinja2.TemplateError as exc:
            self.close()
            raise ModelError(f"the chat template inside {self.model_path.name} is broken: {exc}") from exc

    def _metadata_json(self, key: str, kind: type):
        """A JSON value `wachat export` stored under ``key`` (an empty ``kind()`` when absent or damaged)."""
        raw = self.metadata.get(key)
        try:
            value = json.loads(raw) if raw else kind()
        except ValueError:
            return kind()
        if not isinstance(value, kind):
            return kind()
        if kind is dict:
            return {str(k): str(v) for k, v in value.items()}
        return [str(v) for v in value]

    @property
    def personas(self) -> list[str]:
        """Personas recorded by `wachat export` in the GGUF metadata (may be empty)."""
        return self._metadata_json("wachat.personas", list)

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # -- prompt -----------------------------------------------------------------------

    def _render(self, messages: list[dict], continuation: str = "") -> str:
        import jinja2

        try:
            prompt = self._formatter(messages=messages).prompt
        except (jinja2.TemplateError, ValueError, TypeError) as exc:  # ValueError: raise_exception()
            raise ModelError(f"the model's chat template failed to render: {exc}") from exc
        return prompt + (continuation + "\n" if continuation else "")

    def _tokenize(self, prompt: str) -> list[int]:
        tokens = self._llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if self._add_bos and (not tokens or tokens[0] != self._bos):
            tokens.insert(0, self._bos)
        return tokens

    def build_prompt(self, history: Sequence[ChatLine], persona: str, partners: Sequence[str],
                     *, chat_name: str | None = None, max_tokens: int | None = None,
                     platform: str = "whatsapp") -> tuple[str, list[int], int]:
        """The prompt for ``persona``'s next turn: ``(text, tokens, dropped_turns)``.

        Cut from the oldest turns so that prompt + ``max_tokens`` fit the context (see
        :class:`~wachat_tui.chat.prompt.PromptWindow`). If the history ends with the persona's
        own lines, the prompt continues that turn.
        """
        history = list(history)
        text, tokens, start = self._fit(history, persona, partners, chat_name, max_tokens, platform)
        return text, tokens, _dropped_turns(history, start)

    def _render_turn(self, history: list[ChatLine], start: int, persona: str, partners: Sequence[str],
                     chat_name: str | None, platform: str, card: str | None) -> tuple[str, list[int]]:
        messages, continuation = next_turn_messages(history[start:], persona, partners, chat_name,
                                                    platform=platform, card=card, trimmed=start > 0)
        text = self._render(messages, continuation)
        return text, self._tokenize(text)

    def _fit(self, history: list[ChatLine], persona, partners, chat_name, max_tokens, platform):
        """``(text, tokens, start)``: the prompt of ``history[start:]`` that fits the window."""
        budget = self.n_ctx - (max_tokens or self.sampling.max_tokens)
        card = self.cards.get(persona)
        return self._window.fit(
            history, lambda start: self._render_turn(history, start, persona, partners, chat_name, platform, card),
            self.count_tokens, budget)

    def render_prompt(self, history: Sequence[ChatLine], persona: str, partners: Sequence[str],
                      *, chat_name: str | None = None, platform: str = "whatsapp") -> str:
        """The prompt text the model will see for ``persona``'s next turn (after trimming)."""
        return self.build_prompt(history, persona, partners, chat_name=chat_name, platform=platform)[0]

    def reset(self) -> None:
        """Forget the KV cache (the next reply evaluates its whole prompt)."""
        with self._lock:
            self._kv.reset()
            self._guide.reset()
            self._window.reset()

    # -- generation -------------------------------------------------------------------

    def stream_reply(self, history: Sequence[ChatLine], persona: str, partners: Sequence[str],
                     stop: threading.Event | None = None, *, chat_name: str | None = None,
                     sampling: Sampling | None = None, platform: str = "whatsapp") -> Iterator[str]:
        """Stream ``persona``'s next turn as text pieces; ``"\\n"`` inside them starts a new bubble.

        ``history`` is the whole conversation (oldest first, any participants); ``partners``
        are the others in the chat. Stops at the end of the turn, before the other person's
        turn, at ``max_tokens``, or as soon as ``stop`` is set (checked between tokens; no
        piece is yielded after that). Statistics land in ``last_stats``.
        """
        sampling = (sampling or self.sampling).validate()
        with self._lock:
            for _ in range(3):
                inner = self._generate(history, persona, partners, stop, chat_name, sampling, platform)
                emitted = False
                try:
                    for piece in inner:
                        emitted = True
                        yield piece
                finally:
                    inner.close()
                if emitted or self.last_stats.stop_reason == "stopped":
                    return
                # The model ended its turn without a word: an empty bubble is no reply, so
                # sample again a little more adventurously (a fixed seed stays reproducible).
                sampling = replace(sampling, temperature=min(max(sampling.temperature, 0.5) + 0.3, 2.0))

    def _generate(self, history, persona, partners, stop, chat_name, sampling, platform) -> Iterator[str]:
        llm = self._llm
        stats = self.last_stats = ReplyStats()
        t0 = time.perf_counter()
        history = list(history)
        _, tokens, start = self._fit(history, persona, partners, chat_name, sampling.max_tokens, platform)
        stats.dropped_turns = _dropped_turns(history, start)
        stats.prompt_tokens = len(tokens)
        keep = min(self._kv.reuse(tokens), len(tokens) - 1)
        stats.reused_tokens = keep
        stats.evaluated_tokens = len(tokens) - keep
        llm.n_tokens = keep
        for i in range(keep, len(tokens), self.eval_chunk):
            if stop is not None and stop.is_set():
                stats.stop_reason = "stopped"
                stats.total_s = time.perf_counter() - t0
                return
            llm.eval(tokens[i: i + self.eval_chunk])
        processors = None
        if sampling.guidance != 1.0 and self.cards.get(persona):
            # the same turn without the persona's card: the unconditional side of the guidance
            _, plain = self._render_turn(history, start, persona, partners, chat_name, platform, None)
            self._guide.prepare(plain)
            from llama_cpp import LogitsProcessorList

            processors = LogitsProcessorList([self._guide.processor(len(tokens), sampling.guidance)])
            stats.guided = True
        if self.seed is not None:
            llm.set_seed(reply_seed(self.seed, tokens))
        room = self.n_ctx - len(tokens)
        limit = min(sampling.max_tokens, room)
        filt = ReplyFilter(persona, [p for p in partners if p != persona])
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        gen = llm.generate(tokens, top_k=sampling.top_k, top_p=sampling.top_p, min_p=sampling.min_p,
                           temp=sampling.temperature, repeat_penalty=sampling.repeat_penalty, reset=True,
                           logits_processor=processors)
        reason = "max_tokens" if limit == sampling.max_tokens else "context_full"
        try:
            for token in gen:
                if stats.generated_tokens == 0:
                    stats.ttft_s = time.perf_counter() - t0
                stats.generated_tokens += 1
                if stop is not None and stop.is_set():
                    reason = "stopped"
                    break
                if self._is_eog(self._vocab, token) or self._is_control(self._vocab, token):
                    reason = "end_of_turn"
                    break
                piece = filt.feed(decoder.decode(llm.detokenize([token])))
                if piece:
                    try:
                        yield piece
                    except GeneratorExit:  # the caller stopped listening
                        reason = "stopped"
                        raise
                    if stop is not None and stop.is_set():
                        reason = "stopped"
                        break
                if filt.stopped:
                    reason = "other_speaker"
                    break
                if stats.generated_tokens >= limit:
                    break
        finally:
            gen.close()
            stats.stop_reason = reason
            stats.total_s = time.perf_counter() - t0
        if reason != "stopped":
            tail = filt.feed(decoder.decode(b"", final=True)) + filt.finish()
            if tail:
                yield tail

    def reply(self, history: Sequence[ChatLine], persona: str, partners: Sequence[str],
              stop: threading.Event | None = None, **kwargs) -> str:
        """The whole next turn of ``persona`` (bubbles joined with ``\\n``)."""
        return "".join(self.stream_reply(history, persona, partners, stop, **kwargs))

    def reply_lines(self, history: Sequence[ChatLine], persona: str, partners: Sequence[str],
                    stop: threading.Event | None = None, **kwargs) -> list[ChatLine]:
        """The next turn as ``ChatLine``s (one per bubble, ``by_model=True``)."""
        return lines_from_reply(persona, self.reply(history, persona, partners, stop, **kwargs))

    # -- lifetime ---------------------------------------------------------------------

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a running reply to end (after its stop event was
        set); True when none is running any more."""
        if not self._lock.acquire(timeout=timeout):
            return False
        self._lock.release()
        return True

    def close(self) -> None:
        """Free the model now (left to interpreter shutdown, llama.cpp may print a traceback)."""
        llm = getattr(self, "_llm", None)
        if llm is not None:
            self._llm = None
            self._kv.clear()
            self._guide.close()
            llm.close()

    def __enter__(self) -> "ChatEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - safety net
        try:
            self.close()
        except (TypeError, AttributeError):  # interpreter shutdown: llama_cpp's globals are gone
            pass


def _dropped_turns(history: Sequence[ChatLine], start: int) -> int:
    """How many turns the prompt window left out: those of ``history[:start]``."""
    return len(merge_turns(history[:start]))
