"""Persona guidance (classifier-free guidance on the style card) on the real embedded model."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from wachat_tui.chat.engine import ChatEngine, Sampling
from wachat_tui.chat.guidance import Guide, guided, log_softmax
from wachat_tui.errors import ModelError

CARD = "Leo's texting habits: writes in ALL CAPS, one word per bubble, ends every bubble with 😂."
GREEDY = Sampling(temperature=0.0, top_k=1, repeat_penalty=1.0, max_tokens=16)


def test_guided_log_probabilities_follow_the_formula():
    cond = np.array([2.0, 1.0, 0.0, -1.0], dtype=np.float32)
    plain = np.array([0.0, 2.0, 0.0, -1.0], dtype=np.float32)
    assert np.allclose(guided(cond, plain, 1.0), log_softmax(cond), atol=1e-6)  # 1 = off
    out = guided(cond, plain, 2.0)
    assert out.dtype == np.float32
    # what the card makes likelier (token 0) gains, what it makes less likely (token 1) loses
    assert out[0] - out[1] > log_softmax(cond)[0] - log_softmax(cond)[1]
    assert np.allclose(out, log_softmax(plain) + 2 * (log_softmax(cond) - log_softmax(plain)), atol=1e-5)


def test_guidance_is_validated():
    with pytest.raises(ModelError, match="guidance"):
        Sampling(guidance=0.5).validate()
    with pytest.raises(ModelError, match="guidance"):
        Sampling(guidance=4).validate()


def test_the_processor_combines_the_prompt_with_and_without_the_card(embedded_gguf, history):
    """The processor's output is the formula applied to what llama.cpp predicts for the carded
    prompt and for the same turn without the card, each computed here in a fresh context."""
    from llama_cpp import Llama

    with ChatEngine(embedded_gguf, n_ctx=1024, cards={"Leo": CARD}) as carded, \
            ChatEngine(embedded_gguf, n_ctx=1024) as plain_engine:
        cond = carded.build_prompt(history, "Leo", ["Maya"])[1]
        plain = plain_engine.build_prompt(history, "Leo", ["Maya"])[1]
    assert len(plain) < len(cond)

    def last_logits(tokens):
        llm = Llama(model_path=str(embedded_gguf), n_ctx=1024, logits_all=True, verbose=False)
        llm.eval(tokens)
        out = np.array(llm.scores[len(tokens) - 1], dtype=np.float32)
        llm.close()
        return out

    c, u = last_logits(cond), last_logits(plain)
    guide = Guide(lambda: Llama(model_path=str(embedded_gguf), n_ctx=1024, verbose=False))
    try:
        assert guide.prepare(plain) == len(plain)
        proc = guide.processor(len(cond), 2.0)
        out = proc(np.array(cond, dtype=np.intc), c.copy())
        assert np.allclose(out, guided(c, u, 2.0), atol=1e-3)
        # a second prompt sharing the prefix reuses the unconditional context's KV cache
        assert guide.prepare(plain[:-1] + [plain[-1]]) == 1
    finally:
        guide.close()


def test_guidance_changes_the_carded_personas_reply_only(embedded_gguf, history):
    with ChatEngine(embedded_gguf, n_ctx=1024, seed=1, cards={"Leo": CARD}) as eng:
        off = eng.reply(history, "Leo", ["Maya"], sampling=replace(GREEDY, guidance=1.0))
        assert not eng.last_stats.guided
        on = eng.reply(history, "Leo", ["Maya"], sampling=replace(GREEDY, guidance=3.0))
        assert eng.last_stats.guided and on.strip()
        # Maya has no card: nothing to guide by, her reply is the unguided one
        maya = eng.reply(history, "Maya", ["Leo"], sampling=replace(GREEDY, guidance=3.0))
        assert not eng.last_stats.guided
        maya_off = eng.reply(history, "Maya", ["Leo"], sampling=replace(GREEDY, guidance=1.0))
        # guiding twice in a row reuses the unconditional context's cache and gives the same reply
        again = eng.reply(history, "Leo", ["Maya"], sampling=replace(GREEDY, guidance=3.0))
    assert on != off, "guidance left the greedy reply unchanged"
    assert maya == maya_off and again == on
