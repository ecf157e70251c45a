"""The chat engine on the real embedded model (llama.cpp): persona, roles, trimming, KV reuse."""
from __future__ import annotations

import threading

import pytest

from wachat_tui.chat.engine import ChatEngine, Sampling
from wachat_tui.chat.lines import ChatLine, lines_from_reply, split_bubbles
from wachat_tui.chat.prompt import role_messages
from wachat_tui.core.prompt import system_prompt
from wachat_tui.errors import ModelError

from .conftest import lines


def test_replies_as_the_persona(engine, history):
    text = engine.reply(history, "Leo", ["Maya"])
    stats = engine.last_stats
    assert text.strip(), "empty reply"
    assert stats.stop_reason in {"end_of_turn", "other_speaker", "max_tokens"}
    assert stats.generated_tokens <= 24  # ends: never past max_tokens
    for bubble in split_bubbles(text):
        assert not bubble.startswith("Maya:"), "the model wrote the other person's turn"
        assert not bubble.startswith("Leo:")
    # bubbles → lines by the persona, marked as model-written
    out = lines_from_reply("Leo", text)
    assert out and all(l.author == "Leo" and l.by_model for l in out)


def test_prompt_uses_the_training_system_prompt_and_template(engine, history):
    prompt = engine.render_prompt(history, "Leo", ["Maya"])
    assert prompt.startswith("<|im_start|>system\n" + system_prompt("Leo", ["Maya"]) + "<|im_end|>")
    # consecutive lines of one author are one turn joined with "\n", as in training
    assert "<|im_start|>assistant\namazing\nthey played 3 encores<|im_end|>" in prompt
    assert "<|im_start|>user\nno way!! so jealous\nwhat did they open with?<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_swap_inverts_roles_and_keeps_history(engine, history):
    as_leo = engine.render_prompt(history, "Leo", ["Maya"])
    as_maya = engine.render_prompt(history, "Maya", ["Leo"])
    assert system_prompt("Maya", ["Leo"]) in as_maya
    assert "<|im_start|>user\namazing\nthey played 3 encores<|im_end|>" in as_maya
    assert "<|im_start|>assistant\nhey! how was the concert?<|im_end|>" in as_maya
    assert "<|im_start|>assistant\namazing" in as_leo
    # Maya spoke last: playing Maya continues her own turn instead of answering herself
    assert as_maya.endswith("<|im_start|>assistant\nno way!! so jealous\nwhat did they open with?\n")
    reply = engine.reply(history, "Maya", ["Leo"])
    assert reply.strip()
    assert len(history) == 5  # the engine never mutates the caller's history


def test_group_lines_are_named(engine):
    h = lines(("Ana", "who's coming"), ("Ben", "me"), ("Leo", "maybe"))
    msgs = role_messages(h, "Leo", ["Ana", "Ben"])
    assert msgs == [{"role": "user", "content": "Ana: who's coming\nBen: me"},
                    {"role": "assistant", "content": "maybe"}]
    prompt = engine.render_prompt(h, "Ana", ["Ben", "Leo"], chat_name="Trip")
    assert system_prompt("Ana", ["Ben", "Leo"], "Trip") in prompt
    assert "Ben: me\nLeo: maybe" in prompt


def test_history_is_trimmed_to_the_context(embedded_gguf):
    long_history = lines(*[(("Maya", "Leo")[i % 2], f"message number {i} about the trip to lisbon")
                           for i in range(120)])
    with ChatEngine(embedded_gguf, n_ctx=256, sampling=Sampling(max_tokens=32)) as small:
        text, tokens, dropped = small.build_prompt(long_history, "Leo", ["Maya"])
        assert len(tokens) <= 256 - 32
        assert dropped > 0
        assert "message number 119" in text and "message number 0 " not in text
        # the trimmed window starts with the other side, like the training windows
        assert text.split("<|im_start|>")[2].startswith("user\n")
        reply = small.reply(long_history, "Leo", ["Maya"])
        assert small.last_stats.prompt_tokens + small.last_stats.generated_tokens <= 256
        assert isinstance(reply, str)


def test_kv_cache_is_reused_across_turns(embedded_gguf, history):
    with ChatEngine(embedded_gguf, n_ctx=1024, seed=3, sampling=Sampling(max_tokens=16)) as eng:
        h = list(history)
        first = eng.reply(h, "Leo", ["Maya"])
        assert eng.last_stats.reused_tokens == 0
        h += lines_from_reply("Leo", first or "ok")
        h.append(ChatLine("Maya", "haha and then?"))
        eng.reply(h, "Leo", ["Maya"])
        stats = eng.last_stats
        # only the new suffix (end of the reply, Maya's line, the headers) is evaluated
        assert stats.reused_tokens > 0.7 * stats.prompt_tokens
        assert stats.evaluated_tokens < 25 < stats.prompt_tokens


def test_alternating_personas_keep_their_own_cache(embedded_gguf, history):
    with ChatEngine(embedded_gguf, n_ctx=1024, seed=3, sampling=Sampling(max_tokens=8)) as eng:
        h = list(history)
        for speaker, partner in [("Leo", "Maya"), ("Maya", "Leo"), ("Leo", "Maya"), ("Maya", "Leo")]:
            h += lines_from_reply(speaker, eng.reply(h, speaker, [partner]) or "ok")
        # the 3rd/4th turns found their persona's earlier prompt in a KV snapshot
        assert eng.last_stats.reused_tokens > 0.5 * eng.last_stats.prompt_tokens


def test_stop_event_ends_the_stream_between_tokens(engine, history):
    stop = threading.Event()
    got_after = []
    stream = engine.stream_reply(history, "Leo", ["Maya"], stop, sampling=Sampling(max_tokens=64, temperature=1.0))
    for piece in stream:
        if stop.is_set():
            got_after.append(piece)
        stop.set()
    assert got_after == []
    assert engine.last_stats.stop_reason == "stopped"
    # a stop set before the call: nothing at all
    assert list(engine.stream_reply(history, "Leo", ["Maya"], stop)) == []


def test_bad_model_files_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        ChatEngine(tmp_path / "missing.gguf")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"this is not a model" * 100)
    with pytest.raises(ModelError, match="not a GGUF"):
        ChatEngine(junk)
    # right magic, broken body: llama.cpp refuses it → ModelError, one line
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    with pytest.raises(ModelError) as info:
        ChatEngine(corrupt)
    assert "\n" not in info.value.one_line()


def test_sampling_is_validated():
    with pytest.raises(ModelError, match="top-p"):
        Sampling(top_p=0).validate()
    with pytest.raises(ModelError, match="max tokens"):
        Sampling(max_tokens=0).validate()


def test_more_personas_than_snapshots_restore_the_oldest(embedded_gguf, history):
    """A group of four with three snapshots: restoring the oldest snapshot must not lose it to
    the save of the live state made just before (it used to raise KeyError)."""
    people = ["Maya", "Leo", "Ana", "Ben"]
    with ChatEngine(embedded_gguf, n_ctx=1024, seed=3, sampling=Sampling(max_tokens=4)) as eng:
        h = list(history)
        for speaker in people * 2:
            partners = [p for p in people if p != speaker]
            h += lines_from_reply(speaker, eng.reply(h, speaker, partners) or "ok")
        assert eng.last_stats.reused_tokens > 0


def test_style_cards_are_said_in_their_persona_prompt_only(embedded_gguf, history, engine):
    """The run's style cards (given, else read from the GGUF) close that persona's system prompt."""
    assert engine.cards == {}  # the embedded base GGUF carries none
    card = "Leo's texting habits: starts messages with a capital letter; says sounds, great."
    with ChatEngine(embedded_gguf, cards={"Leo": card}) as carded:
        as_leo = carded.render_prompt(history, "Leo", ["Maya"])
        as_maya = carded.render_prompt(history, "Maya", ["Leo"])
    assert as_leo.startswith("<|im_start|>system\n" + system_prompt("Leo", ["Maya"]) + " " + card + "<|im_end|>")
    assert system_prompt("Leo", ["Maya"], card=card) in as_leo
    assert card not in as_maya and system_prompt("Maya", ["Leo"]) + "<|im_end|>" in as_maya


def test_a_seed_reproduces_a_reply_but_each_prompt_draws_its_own_stream(embedded_gguf, history):
    from wachat_tui.chat.engine import reply_seed

    # reproducible: the same conversation with the same seed gets the same reply
    replies = []
    for _ in range(2):
        with ChatEngine(embedded_gguf, n_ctx=1024, seed=5, sampling=Sampling(max_tokens=12)) as eng:
            replies.append(eng.reply(list(history), "Leo", ["Maya"]))
    assert replies[0] == replies[1]
    # independent: another prompt (or another seed) gets another stream, never the seed itself
    # (a stream shared by every reply drew the k-th token of each with the same number, which
    # made an eval under-count emoji and laughs several times over)
    a, b = [1, 2, 3, 4], [1, 2, 3, 5]
    assert reply_seed(5, a) == reply_seed(5, list(a))
    assert len({reply_seed(5, a), reply_seed(5, b), reply_seed(6, a)}) == 3
    assert all(0 <= reply_seed(s, a) < 2 ** 31 for s in (0, 2 ** 31 - 1, 2 ** 40))
