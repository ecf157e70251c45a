"""Persona guidance on llama.cpp (classifier-free guidance with the style card as the condition).

The persona's reply is sampled from ``log p_nocard + g · (log p_card − log p_nocard)``: what the
model predicts for the conversation with the persona's style card in the system prompt, pushed
further away from what it predicts for the same conversation without the card (Sanchez et al.
2023, "Stay on topic with Classifier-Free Guidance"). The card holds what sets the persona apart
(length, emoji, laughs, signature words), so guidance strengthens exactly that.

llama-cpp-python's ``Llama`` evaluates one sequence, so the unconditional prompt lives in a
second ``Llama`` context on the same GGUF file (the weights are memory-mapped once; the second
context costs its KV cache only). Its KV state is reused between replies like the main one's
(:class:`~wachat_tui.chat.kv_cache.KVCache`). The combination runs as a logits processor, which
llama-cpp-python places first in the sampler chain — before the repeat penalty, top-k/top-p and
temperature, as transformers orders its ``UnbatchedClassifierFreeGuidanceLogitsProcessor``.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def log_softmax(x: np.ndarray) -> np.ndarray:
    top = float(np.max(x))
    return x - (top + float(np.log(np.sum(np.exp(x - top)))))


def guided(conditional: np.ndarray, unconditional: np.ndarray, scale: float) -> np.ndarray:
    """``log p_u + scale · (log p_c − log p_u)`` (float32); ``scale`` 1 gives ``log p_c``."""
    lc, lu = log_softmax(conditional.astype(np.float64)), log_softmax(unconditional.astype(np.float64))
    return (lu + scale * (lc - lu)).astype(np.float32)


class Guide:
    """The unconditional side: a second llama.cpp context, made on first use by ``make``."""

    def __init__(self, make: Callable[[], object]):
        self._make = make
        self.llm = None
        self._kv = None

    def prepare(self, tokens: Sequence[int]) -> int:
        """Evaluate the unconditional prompt ``tokens`` (reusing the KV cache); returns how many
        tokens were evaluated."""
        from .kv_cache import KVCache

        if self.llm is None:
            self.llm = self._make()
            self._kv = KVCache(self.llm)
        tokens = list(tokens)
        keep = min(self._kv.reuse(tokens), len(tokens) - 1)
        self.llm.n_tokens = keep
        self.llm.eval(tokens[keep:])
        return len(tokens) - keep

    def processor(self, prompt_len: int, scale: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """A llama-cpp-python logits processor for a reply whose conditional prompt has
        ``prompt_len`` tokens (call after :meth:`prepare`): it feeds each sampled token to the
        unconditional context too and returns the guided log-probabilities."""
        from llama_cpp import llama_cpp as C

        llm = self.llm
        n_vocab = llm.n_vocab()
        fed = 0  # reply tokens the unconditional context has seen

        def apply(input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
            nonlocal fed
            reply = input_ids[prompt_len:]
            if len(reply) > fed:
                llm.eval([int(t) for t in reply[fed:]])
                fed = len(reply)
            if logits.shape[0] != n_vocab:  # not the full vocabulary: leave it alone
                return logits
            unconditional = np.ctypeslib.as_array(C.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(n_vocab,))
            return guided(logits, unconditional, scale)

        return apply

    def reset(self) -> None:
        if self._kv is not None:
            self._kv.reset()

    def close(self) -> None:
        llm, self.llm = self.llm, None
        if llm is not None:
            self._kv.clear()
            llm.close()
