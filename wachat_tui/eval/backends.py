"""Who writes the replies being measured: one small protocol, three backends.

:class:`Backend` is ``name`` + ``generate(case) -> str`` (+ ``close()``). ``generate`` gets a
held-out :class:`~wachat_tui.eval.cases.Case` and returns the persona's turn, bubbles joined
by ``\\n`` — exactly what the user would see in the chat.

* :class:`RealBackend` — the person's real reply (the ceiling; real-vs-real is 1.0 by construction).
* :class:`GGUFBackend` — a GGUF through llama.cpp via the chat engine: the model the user
  actually chats with, with the chat's own prompt, sampling, clean-up and stop rules.
* :class:`HFBackend` — a transformers model (+ peft adapter), for use during training: the
  same persona prompt (``core.prompt.system_prompt``) and role messages, rendered by the
  tokenizer's chat template, the chat's sampling settings, and the same clean-up.

A backend that cut its last reply where another participant's turn began (the engine stops
there) says so in ``last_ran_on``; degeneration counts that reply as a run-on.

The chat package is touched only in :func:`history_lines`, :func:`persona_messages` and the
seeding of :meth:`HFBackend.generate_batch` (``reply_seed``), so following a change of the chat
engine's API means editing those three places.
"""
from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

from ..core.prompt import system_prompt
from ..errors import ModelError
from .cases import Case

if TYPE_CHECKING:  # pragma: no cover
    from ..chat.engine import Sampling
    from ..chat.lines import ChatLine


@runtime_checkable
class Backend(Protocol):
    name: str

    def generate(self, case: Case) -> str: ...


def last_ran_on(backend: Backend) -> bool:
    """Whether ``backend`` cut its last reply at another participant's turn (False if it cannot tell)."""
    return bool(getattr(backend, "last_ran_on", False))


# --------------------------------------------------------------------------- chat adapters
_T0 = datetime(2000, 1, 1)


def history_lines(case: Case) -> list["ChatLine"]:
    """The case's context as chat-engine lines (one per bubble, oldest first)."""
    from ..chat.lines import ChatLine

    lines = []
    for i, (author, text) in enumerate(case.context):
        for part in text.split("\n"):
            if part.strip():
                lines.append(ChatLine(author, part.strip(), False, _T0 + timedelta(minutes=i)))
    return lines


def persona_messages(case: Case, card: str | None = None) -> list[dict]:
    """System prompt (with the persona's style ``card``, if any) + the context seen from the
    persona's side (the training format)."""
    from ..chat.prompt import role_messages

    system = {"role": "system", "content": system_prompt(case.persona, case.partners, case.chat, case.platform,
                                                         card=card)}
    return [system] + role_messages(history_lines(case), case.persona, case.partners)


def chat_sampling() -> "Sampling":
    """The chat's default sampling (what a user gets without touching a setting)."""
    from ..chat.engine import Sampling

    return Sampling()


# --------------------------------------------------------------------------- backends
class RealBackend:
    """The person's own held-out reply."""

    name = "real"

    def generate(self, case: Case) -> str:
        return case.reply

    def close(self) -> None:
        pass


class GGUFBackend:
    """A GGUF model through llama.cpp, exactly as the chat pane runs it."""

    def __init__(self, model_path: str | Path, *, name: str = "gguf", seed: int = 0, n_ctx: int = 2048,
                 sampling: "Sampling | None" = None, n_threads: int | None = None,
                 lora_path: str | Path | None = None, cards: dict[str, str] | None = None):
        from ..chat.engine import ChatEngine

        self.name = name
        self.model_path = Path(model_path)
        self.last_ran_on = False
        self._engine = ChatEngine(self.model_path, n_ctx=n_ctx, seed=seed, sampling=sampling or chat_sampling(),
                                  n_threads=n_threads, lora_path=lora_path, cards=cards)

    @property
    def cards(self) -> dict[str, str]:
        """The style cards the prompts carry (given, else the GGUF's own)."""
        return self._engine.cards

    @property
    def metadata(self) -> dict[str, str]:
        """The GGUF's key-values (``wachat.*`` for a file ``wachat export`` wrote)."""
        return self._engine.metadata

    def generate(self, case: Case) -> str:
        # Each case starts from an empty KV cache: a reply must not depend on which cases came
        # before it (the chat reuses the cache across turns of one conversation, not across
        # unrelated ones). The prompts are short, so this costs little.
        self._engine.reset()
        text = self._engine.reply(history_lines(case), case.persona, list(case.partners), chat_name=case.chat,
                                  platform=case.platform)
        self.last_ran_on = self._engine.last_stats.stop_reason == "other_speaker"
        return text

    def close(self) -> None:
        self._engine.close()

    def __enter__(self) -> "GGUFBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def clean_reply(text: str, persona: str, others: Sequence[str]) -> tuple[str, bool]:
    """The chat's clean-up of a raw generation: blank lines dropped, lines trimmed, the
    persona's own ``Name:`` prefix removed, and the text cut where a line starts with another
    participant's ``Name:``. Returns ``(text, ran_on)``."""
    own = f"{persona}:".casefold()
    stops = tuple(f"{o}:".casefold() for o in others if o and o != persona)
    kept: list[str] = []
    for line in text.replace("\r", "\n").split("\n"):
        line = line.strip()
        folded = line.casefold()
        if stops and folded.startswith(stops):
            return "\n".join(kept), True
        if folded.startswith(own):
            line = line[len(own):].strip()
        if line:
            kept.append(line)
    return "\n".join(kept), False


class HFBackend:
    """A transformers causal LM (optionally with a peft adapter on it).

    Generation leaves the caller's random state alone (``torch.random.fork_rng``) and puts
    the model back in training mode if it was, so it can run between training steps.
    """

    def __init__(self, model, tokenizer, *, name: str = "hf", seed: int = 0,
                 sampling: "Sampling | None" = None, max_prompt_tokens: int = 1536, without_adapter: bool = False,
                 cards: dict[str, str] | None = None):
        self.name = name
        self.cards = dict(cards or {})
        """``{persona: style card}`` said in the system prompt (the run's own cards)."""
        self.model = model
        self.without_adapter = without_adapter
        """Generate with the peft adapter switched off: the base model's replies from the same
        loaded weights (no second copy of the model in memory)."""
        self.tokenizer = tokenizer
        self.seed = seed
        self.sampling = (sampling or chat_sampling()).validate()
        self.max_prompt_tokens = max_prompt_tokens
        self.last_ran_on = False
        self._eos = self._end_tokens()

    @classmethod
    def load(cls, model_dir: str | Path, adapter: str | Path | None = None, *, name: str = "hf",
             seed: int = 0, sampling: "Sampling | None" = None, cards: dict[str, str] | None = None) -> "HFBackend":
        """Load a saved checkpoint (and an adapter on top) onto the CPU."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
            model = AutoModelForCausalLM.from_pretrained(str(model_dir))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load the model in {model_dir}: {exc}".splitlines()[0]) from None
        if adapter is not None:
            from peft import PeftModel

            try:
                model = PeftModel.from_pretrained(model, str(adapter))
            except (OSError, ValueError) as exc:
                raise ModelError(f"cannot load the adapter in {adapter}: {exc}".splitlines()[0]) from None
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        return cls(model, tokenizer, name=name, seed=seed, sampling=sampling, cards=cards)

    def _end_tokens(self) -> list[int]:
        tok = self.tokenizer
        ends = [tok.eos_token_id] if tok.eos_token_id is not None else []
        vocab = tok.get_vocab()
        for token in ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "</s>"):
            if token in vocab and vocab[token] not in ends:
                ends.append(vocab[token])
        return ends

    def _prompt_ids(self, case: Case, with_card: bool = True) -> list[int]:
        messages = persona_messages(case, self.cards.get(case.persona) if with_card else None)
        while True:
            ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            ids = self.tokenizer(ids, add_special_tokens=False)["input_ids"]
            if len(ids) <= self.max_prompt_tokens or len(messages) <= 2:
                return ids[-self.max_prompt_tokens:]
            # drop the oldest turn; a window starts with the other side, as training windows do
            del messages[1]
            while len(messages) > 2 and messages[1]["role"] == "assistant":
                del messages[1]

    def generate(self, case: Case) -> str:
        texts, ran_on = self.generate_batch([case])
        self.last_ran_on = ran_on[0]
        return texts[0]

    def generate_batch(self, cases: Sequence[Case]) -> tuple[list[str], list[bool]]:
        """The replies to several cases in one left-padded batch, and whether each ran on.

        On a CPU one batch of a few dozen prompts costs little more than one prompt: the small
        model's matrix products are too thin to keep the cores busy one sequence at a time.
        Sampling draws from one stream for the whole batch, seeded from the seed and the batch's
        prompts (as the chat seeds each reply), so a case's reply depends on the batch it is in
        (the training estimate always sends the same batch) and no two batches share a stream.
        """
        import torch

        from ..chat.engine import reply_seed

        if not cases:
            return [], []
        prompts = [self._prompt_ids(case) for case in cases]
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self._eos[0]
        device = next(self.model.parameters()).device
        input_ids, mask = _left_padded(prompts, pad, device)
        width = input_ids.shape[1]
        s = self.sampling
        guidance = {}
        if s.guidance != 1.0 and any(self.cards.get(case.persona) for case in cases):
            # persona guidance (chat/guidance.py): the unconditional prompts are the cases without
            # the card (a case whose persona has none is its own, and comes out unguided)
            plain, plain_mask = _left_padded([self._prompt_ids(case, with_card=False) for case in cases], pad, device)
            guidance = dict(guidance_scale=s.guidance, negative_prompt_ids=plain,
                            negative_prompt_attention_mask=plain_mask)
        was_training = self.model.training
        self.model.eval()
        devices = [torch.cuda.current_device()] if device.type == "cuda" else []
        adapter_off = self.model.disable_adapter() if self.without_adapter else contextlib.nullcontext()
        try:
            with torch.random.fork_rng(devices=devices), torch.no_grad(), adapter_off:
                torch.manual_seed(reply_seed(self.seed, [t for ids in prompts for t in ids]))
                out = self.model.generate(
                    input_ids=input_ids, attention_mask=mask,
                    max_new_tokens=s.max_tokens, do_sample=s.temperature > 0,
                    temperature=s.temperature if s.temperature > 0 else None,
                    top_p=s.top_p, top_k=s.top_k or None, min_p=s.min_p or None,
                    repetition_penalty=s.repeat_penalty, eos_token_id=self._eos,
                    pad_token_id=pad, use_cache=True, **guidance)
        finally:
            if was_training:
                self.model.train()
        texts, ran_on = [], []
        for row, case in zip(out[:, width:], cases):
            raw = self.tokenizer.decode(row, skip_special_tokens=True).rstrip("\ufffd")
            text, cut = clean_reply(raw, case.persona, case.partners)
            texts.append(text)
            ran_on.append(cut)
        self.last_ran_on = ran_on[-1]
        return texts, ran_on

    def close(self) -> None:
        self.model = None


def _left_padded(prompts: list[list[int]], pad: int, device):
    """``(input_ids, attention_mask)`` of token lists padded on the left to the longest."""
    import torch

    width = max(len(ids) for ids in prompts)
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
    return ids, mask


class ReplayBackend:
    """Replies generated before (the base model's, from the cache), handed out by case id."""

    def __init__(self, name: str, replies: dict[str, tuple[str, bool]]):
        self.name = name
        self._replies = replies
        self.last_ran_on = False

    def generate(self, case: Case) -> str:
        text, self.last_ran_on = self._replies[case.id]
        return text

    def close(self) -> None:
        pass
