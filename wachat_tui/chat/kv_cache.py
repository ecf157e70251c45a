"""Reusing llama.cpp's KV cache between replies, on llama-cpp-python's internals.

Only the tokens after the longest common prefix with what the context already evaluated need
to be fed to the model, so the tenth reply starts about as fast as the first. When several
personas alternate (simulation, swap) each has its own system prompt, hence its own prefix: a
few saved KV states (*snapshots*, sequence 0) let each side find its prefix again.

This is the one module that touches ``Llama.input_ids`` / ``n_tokens`` and the
``llama_state_seq_*`` calls; it is imported only where a model is loaded.
"""
from __future__ import annotations

import ctypes
from collections import OrderedDict
from typing import Sequence

from llama_cpp import llama_cpp as C


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class Snapshots:
    """A few saved KV states, one per distinct token prefix, the oldest dropped first."""

    def __init__(self, limit: int = 3):
        self.limit = limit
        self.items: OrderedDict[int, tuple[list[int], bytes]] = OrderedDict()
        self._next = 0

    def best(self, tokens: Sequence[int]) -> tuple[int | None, int]:
        """``(key, shared)``: the snapshot sharing the longest prefix with ``tokens``."""
        best_key, best_len = None, 0
        for key, (toks, _) in self.items.items():
            n = common_prefix(toks, tokens)
            if n > best_len:
                best_key, best_len = key, n
        return best_key, best_len

    def add(self, tokens: list[int], data: bytes) -> None:
        # one snapshot per distinct prefix: drop those the new one extends or equals
        for key in [k for k, (t, _) in self.items.items() if common_prefix(t, tokens) == len(t)]:
            del self.items[key]
        self.items[self._next] = (tokens, data)
        self._next += 1
        while len(self.items) > self.limit:
            self.items.popitem(last=False)

    def clear(self) -> None:
        self.items.clear()


class KVCache:
    """The KV state of one ``Llama`` context, reused from one prompt to the next.

    A 1:1 chat with one persona never needs a snapshot: the live cache already holds the
    prefix. When the prompt's prefix changes (another persona's system prompt), the live state
    is saved and the snapshot sharing the longest prefix with the new prompt is restored.
    """

    #: a saved snapshot is restored only when it saves at least this many tokens
    min_gain = 32

    def __init__(self, llm, limit: int = 3):
        self.llm = llm
        self.snapshots = Snapshots(limit)

    def reuse(self, tokens: list[int]) -> int:
        """Make the live state share the longest possible prefix with ``tokens``; return its length.

        The caller evaluates ``tokens`` from there on (after setting ``llm.n_tokens`` to it).
        """
        llm = self.llm
        live = llm.input_ids[: llm.n_tokens].tolist()
        keep = common_prefix(live, tokens)
        key, saved = self.snapshots.best(tokens)
        if key is not None and saved >= keep + self.min_gain:
            # taken before the live state is saved: saving may evict this very snapshot (the oldest)
            toks, data = self.snapshots.items[key]
            if live:
                self._save(live)
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
            self._save(live)
        return keep

    def _save(self, live_tokens: list[int]) -> None:
        ctx = self.llm._ctx.ctx
        size = C.llama_state_seq_get_size(ctx, 0)
        if not size:
            return
        buf = (ctypes.c_uint8 * size)()
        n = C.llama_state_seq_get_data(ctx, buf, size, 0)
        if n:
            self.snapshots.add(list(live_tokens), ctypes.string_at(buf, n))

    def reset(self) -> None:
        """Forget everything: the next prompt is evaluated whole."""
        self.llm.reset()
        self.snapshots.clear()

    def clear(self) -> None:
        """Drop the saved snapshots (the live state stays)."""
        self.snapshots.clear()
