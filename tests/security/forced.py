"""Make the real embedded GGUF write a given reply: a logit bias at llama.cpp's sampler.

Every generated token passes through a logits processor that leaves only the next token of the
script possible (all others get -1e9), so the reply comes out of the real model, the real
sampler, detokenizer, UTF-8 decoder and reply filter — the engine's whole streaming path.
"""
from __future__ import annotations

import contextlib
from typing import Iterator


@contextlib.contextmanager
def model_writes(text: str) -> Iterator[list[int]]:
    """While inside, every ``Llama.generate`` produces ``text`` and then the end-of-turn token.
    Yields the list of token ids forced so far (to check the path really ran)."""
    import numpy as np
    from llama_cpp import Llama, LogitsProcessorList

    original = Llama.generate
    forced: list[int] = []

    def generate(self, tokens, *args, **kwargs):
        end = self.tokenize(b"<|im_end|>", add_bos=False, special=True)
        script = self.tokenize(text.encode("utf-8"), add_bos=False, special=False) + end[:1]
        step = {"i": 0}

        def bias(input_ids, scores):
            token = script[min(step["i"], len(script) - 1)]
            step["i"] += 1
            forced.append(token)
            out = np.full_like(scores, -1e9)
            out[token] = 0.0
            return out

        kwargs["logits_processor"] = LogitsProcessorList([bias])
        return original(self, tokens, *args, **kwargs)

    Llama.generate = generate
    try:
        yield forced
    finally:
        Llama.generate = original
