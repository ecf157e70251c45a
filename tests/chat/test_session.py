"""The Conversation without any UI: sides, swap, regenerate, truncate, and the saved history.

Most tests script the model (``ScriptedEngine``: the replies are given, so each assertion is
exact); the last ones run the real embedded model through the same helper.
"""
from __future__ import annotations

import threading

import pytest

from wachat_tui.chat.lines import ChatLine
from wachat_tui.chat.session import Conversation
from wachat_tui.chat.simulate import Simulation
from wachat_tui.chat.store import ChatStore
from wachat_tui.errors import ProjectError

from .conftest import lines


class ScriptedEngine:
    """Stands in for ChatEngine.stream_reply: streams the next scripted reply piece by piece
    and remembers what it was asked (history, persona, partners)."""

    def __init__(self, *replies: str):
        self.replies = list(replies)
        self.calls: list[tuple[list[ChatLine], str, list[str]]] = []

    def stream_reply(self, history, persona, partners, stop=None, *, chat_name=None, sampling=None,
                     platform="whatsapp"):
        self.calls.append((list(history), persona, list(partners)))
        for piece in self.replies.pop(0).split(" "):
            if stop is not None and stop.is_set():
                return
            yield piece + " "


@pytest.fixture
def store(tmp_path):
    with ChatStore(tmp_path / "demo") as s:
        yield s


def _texts(conv_or_lines):
    seq = conv_or_lines.lines if isinstance(conv_or_lines, Conversation) else conv_or_lines
    return [(l.author, l.text, l.by_model) for l in seq]


def test_a_reply_is_streamed_recorded_and_saved(store, tmp_path):
    conv = Conversation(["Maya", "Leo"], "Maya", "Leo", store=store, model_name="m.gguf")
    assert store.conversations() == []  # nothing saved before the first line
    conv.say("hey\nare you up?")
    engine = ScriptedEngine("yes\nwhy")
    assert "".join(conv.stream_turn(engine)) == "yes\nwhy "
    history, persona, partners = engine.calls[0]
    assert persona == "Leo" and partners == ["Maya"] and _texts(history) == [
        ("Maya", "hey", False), ("Maya", "are you up?", False)]
    assert _texts(conv) == [("Maya", "hey", False), ("Maya", "are you up?", False),
                            ("Leo", "yes", True), ("Leo", "why", True)]
    # persisted: a fresh store on the same file resumes the very same conversation
    again = ChatStore(tmp_path / "demo")
    resumed = Conversation.resume(again, ["Maya", "Leo"], "Maya", "Leo")
    assert resumed.lines == conv.lines and resumed.conversation_id == conv.conversation_id
    [saved] = again.conversations()
    assert (saved.title, saved.personas, saved.model, saved.n_messages) == ("Maya & Leo", ("Leo",), "m.gguf", 4)
    assert again.played(conv.conversation_id) == ["Leo"] * 4
    again.close()


def test_swap_flips_the_sides_and_keeps_the_history(store):
    conv = Conversation(["Maya", "Leo"], "Maya", "Leo", store=store)
    conv.record(lines(("Maya", "hi"), ("Leo", "hey")))
    before = list(conv.lines)
    assert conv.swap() == "Maya"
    assert (conv.you, conv.model_plays) == ("Leo", "Maya") and conv.lines == before
    engine = ScriptedEngine("so what now")
    list(conv.stream_turn(engine))
    assert engine.calls[0][1:] == ("Maya", ["Leo"])
    assert conv.lines[-1].author == "Maya" and conv.lines[-1].by_model


def test_swap_by_name_in_a_group(store):
    conv = Conversation(["Ana", "Ben", "Leo"], "Ana", "Leo", store=store, chat_name="Trip")
    conv.swap("ben")  # forgiving case, like --as
    assert (conv.you, conv.model_plays) == ("Ana", "Ben")
    conv.swap("Ana")  # the model takes the user's side: the user takes the model's
    assert (conv.you, conv.model_plays) == ("Ben", "Ana")
    assert conv.partners_of("Ana") == ["Ben", "Leo"]
    with pytest.raises(ProjectError, match="not a participant"):
        conv.swap("Nobody")
    with pytest.raises(ProjectError):
        Conversation(["Ana", "Ben"], "Ana", "Ana")


def test_regenerate_takes_back_only_the_last_reply(store, tmp_path):
    conv = Conversation(["Maya", "Leo"], "Maya", "Leo", store=store)
    conv.say("dinner?")
    list(conv.stream_turn(ScriptedEngine("sure")))
    conv.say("at 8?")
    list(conv.stream_turn(ScriptedEngine("ok\nsee you")))
    assert conv.last_reply_start() == 3
    assert conv.drop_last_reply() == "Leo"
    assert _texts(conv) == [("Maya", "dinner?", False), ("Leo", "sure", True), ("Maya", "at 8?", False)]
    assert conv.drop_last_reply() is None  # the user spoke last: nothing to take back
    list(conv.stream_turn(ScriptedEngine("8 is perfect")))
    saved = ChatStore(tmp_path / "demo")
    assert _texts(saved.history(conv.conversation_id)) == _texts(conv)
    saved.close()


def test_truncate_and_new_conversation(store, tmp_path):
    conv = Conversation(["Maya", "Leo"], "Maya", "Leo", store=store)
    conv.record(lines(("Maya", "a"), ("Leo", "b"), ("Maya", "c"), ("Leo", "d")))
    first = conv.conversation_id
    conv.truncate(2)
    assert [l.text for l in conv.lines] == ["a", "b"]
    assert [l.text for l in store.history(first)] == ["a", "b"]
    conv.start_new()
    assert conv.lines == [] and conv.conversation_id is None
    conv.say("fresh start")
    assert conv.conversation_id != first
    assert {c.id: c.n_messages for c in store.conversations()} == {first: 2, conv.conversation_id: 1}
    # resuming picks the newest one
    assert [l.text for l in Conversation.resume(store, ["Maya", "Leo"], "Maya", "Leo").lines] == ["fresh start"]


def test_a_stopped_or_abandoned_turn_keeps_what_was_shown(store):
    conv = Conversation(["Maya", "Leo"], "Maya", "Leo", store=store)
    conv.say("tell me everything")
    stop = threading.Event()
    shown = []
    for piece in conv.stream_turn(ScriptedEngine("one two three four"), stop=stop):
        shown.append(piece)
        if len(shown) == 2:
            stop.set()
    assert "".join(shown) == "one two "
    assert _texts(conv)[-1] == ("Leo", "one two", True)
    # a caller that stops listening (breaks out) also leaves the shown part recorded
    stream = conv.stream_turn(ScriptedEngine("five six seven"), "Leo")
    assert next(stream) == "five "
    stream.close()
    assert _texts(conv)[-1] == ("Leo", "five", True)
    assert _texts(store.history(conv.conversation_id)) == _texts(conv)


def test_resume_follows_the_side_the_user_wrote_from(store):
    conv = Conversation(["Maya", "Leo"], "Maya", "Leo", store=store)
    conv.swap()
    conv.say("it's Leo now")
    list(conv.stream_turn(ScriptedEngine("hi Leo")))
    resumed = Conversation.resume(store, ["Maya", "Leo"], "Maya", "Leo")
    resumed.follow_last_side()
    assert (resumed.you, resumed.model_plays) == ("Leo", "Maya")


def test_simulation_turns_go_through_the_conversation(store):
    conv = Conversation(["Maya", "Leo"], "Maya", "Leo", store=store, kind="simulation")
    engine = ScriptedEngine("hey", "hi you", "what's up")
    sim = Simulation(engine, conv, opening="are you up?")
    turns = [(a, p) for a, p in sim.turns(3)]
    assert [a for a, p in turns if p == ""] == ["Leo", "Maya", "Leo"]
    assert [c[1] for c in engine.calls] == ["Leo", "Maya", "Leo"]
    assert _texts(conv) == [("Maya", "are you up?", False), ("Leo", "hey", True),
                            ("Maya", "hi you", True), ("Leo", "what's up", True)]
    [saved] = store.conversations()
    assert saved.kind == "simulation" and saved.personas == ("Maya", "Leo")
    assert store.played(saved.id) == [None, "Leo", "Maya", "Leo"]


# --------------------------------------------------------------------------- the real model

def test_real_model_turn_is_recorded_as_streamed(engine, store):
    conv = Conversation(["Maya", "Leo"], "Maya", "Leo", store=store)
    conv.record(lines(("Maya", "hey! how was the concert?")))
    text = "".join(conv.stream_turn(engine))
    assert text.strip()
    model_lines = conv.lines[1:]
    assert model_lines and all(l.author == "Leo" and l.by_model for l in model_lines)
    assert "\n".join(l.text for l in model_lines) == "\n".join(p.strip() for p in text.split("\n") if p.strip())
    assert store.history(conv.conversation_id) == conv.lines
