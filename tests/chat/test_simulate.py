"""Simulation on the real embedded model: alternating speakers, an immediate stop."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from wachat_tui.chat.engine import Sampling
from wachat_tui.chat.session import Conversation
from wachat_tui.chat.simulate import Simulation, pick_session
from wachat_tui.chat.store import ChatStore
from wachat_tui.core.records import Message

from .conftest import lines


def _turn_authors(stream):
    authors, pieces = [], {}
    for author, piece in stream:
        if piece == "":
            authors.append(author)
        else:
            pieces.setdefault(len(authors), []).append(piece)
    return authors, pieces


def _conversation(first: str, second: str, history=(), store=None) -> Conversation:
    return Conversation([first, second], first, second, lines=history, store=store, kind="simulation")


def test_simulation_alternates_speakers(engine, tmp_path):
    store = ChatStore(tmp_path / "demo")
    sim = Simulation(engine, _conversation("Maya", "Leo", store=store), opening="are you up?",
                     sampling=Sampling(max_tokens=16))
    assert [(l.author, l.text, l.by_model) for l in sim.history] == [("Maya", "are you up?", False)]
    authors, _ = _turn_authors(sim.turns(4))
    assert authors == ["Leo", "Maya", "Leo", "Maya"]
    model_lines = [l for l in sim.history if l.by_model]
    assert model_lines and {l.author for l in model_lines} <= {"Maya", "Leo"}
    saved = store.history(sim.conversation.conversation_id)
    assert saved == sim.history  # every completed line went to the store
    store.close()
    # the history seen by the next speaker is the shared one
    assert sim.next_speaker == "Leo"


def test_stop_takes_effect_immediately(engine):
    sim = Simulation(engine, _conversation("Maya", "Leo", lines(("Maya", "so what's the plan for saturday"))),
                     sampling=Sampling(max_tokens=64, temperature=1.0))
    after_stop = []
    seen = 0
    for author, piece in sim.turns(6):
        if sim.stopped:
            after_stop.append(piece)
        seen += bool(piece)
        if seen == 2:  # mid-stream
            sim.stop()
    assert after_stop == []  # not one more piece, not even the end-of-turn marker
    assert engine.last_stats.stop_reason == "stopped"
    # what was shown is kept, and a later turns() goes on
    assert sim.history[-1].by_model
    more = list(sim.turns(1))
    assert more and more[-1][1] == ""


def test_stop_from_another_thread(engine):
    sim = Simulation(engine, _conversation("Leo", "Maya"), opening="hi", sampling=Sampling(max_tokens=64))
    stop = threading.Event()
    got = []
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    t0 = time.perf_counter()
    got = list(sim.turns(50, stop))
    waited = time.perf_counter() - t0
    timer.join()
    assert stop.is_set() and waited < 5  # 50 turns would take far longer
    assert sum(1 for _, piece in got if piece == "") < 50


def test_pick_session_starts_from_a_real_session():
    t0 = datetime(2024, 1, 1, 9)
    msgs = []
    for s in range(3):
        base = t0 + timedelta(days=s)
        for i in range(8):
            msgs.append(Message(base + timedelta(minutes=i), ("Maya", "Leo")[i % 2], f"s{s} m{i}"))
    msgs.append(Message(t0 + timedelta(days=5), None, "Messages are end-to-end encrypted", "system"))
    seed_lines = pick_session(msgs, ["Maya", "Leo"], index=1, lines=4)
    assert [l.text for l in seed_lines] == ["s1 m0", "s1 m1", "s1 m2", "s1 m3"]
    assert not any(l.by_model for l in seed_lines)
    assert pick_session(msgs, ["Maya", "Leo"], seed=5) == pick_session(msgs, ["Maya", "Leo"], seed=5)


# --------------------------------------------------------------------------- groups, turn-taking, tempo
def _group(history=()) -> Conversation:
    return Conversation(["Lisa", "Pete", "Dani", "Alex"], "Lisa", "Pete", lines=history, kind="simulation",
                        chat_name="Saturday Crew")


def test_group_simulation_draws_speakers_and_bubbles_from_the_turn_taking(engine):
    from collections import Counter

    from wachat_tui.core.turntaking import TurnTaking

    # Dani never speaks right after Lisa; Pete always does; Lisa writes one bubble, Dani two
    tt = TurnTaking(transitions={"Lisa": Counter({"Pete": 10}), "Pete": Counter({"Dani": 5, "Lisa": 5}),
                                 "Dani": Counter({"Lisa": 1})}, openers=Counter({"Lisa": 1}),
                    bursts={"Lisa": Counter({1: 5}), "Pete": Counter({1: 5}), "Dani": Counter({2: 5})})
    sim = Simulation(engine, _group(), ["Lisa", "Pete", "Dani"], turn_taking=tt, seed=4,
                     sampling=Sampling(max_tokens=40, temperature=0.9))
    authors, pieces = _turn_authors(sim.turns(8))
    assert authors[0] == "Lisa" and len(authors) == 8
    for a, b in zip(authors, authors[1:]):
        assert a != b and (a != "Lisa" or b == "Pete") and (a != "Dani" or b == "Lisa")
    # each turn holds at most the bubbles drawn for it: Lisa and Pete one at a time, Dani two
    for i, author in enumerate(authors):
        bubbles = [b for b in "".join(pieces.get(i, [])).split("\n") if b.strip()]
        assert len(bubbles) <= (2 if author == "Dani" else 1), (author, bubbles)
    assert sim.history and all(line.by_model for line in sim.history)


def test_cap_bubbles_cuts_a_turn_after_its_burst():
    from wachat_tui.chat.session import cap_bubbles

    assert cap_bubbles("", "hey\nwhat", 1) == ("hey", True)
    assert cap_bubbles("hey\n", "what's up\nok", 2) == ("what's up", True)
    assert cap_bubbles("hey", " there", 1) == (" there", False)
    assert cap_bubbles("\n\nhey", "\nyo", 1) == ("", True)
    assert cap_bubbles("a\nb", "\n", 2) == ("", True)


def test_tempo_pauses_before_turns_and_stop_ends_a_pause_at_once(engine):
    from collections import Counter

    from wachat_tui.core.turntaking import Tempo, TurnTaking

    tt = TurnTaking(bursts={"Maya": Counter({1: 1}), "Leo": Counter({1: 1})},
                    reply_seconds={"Maya": [120.0], "Leo": [3600.0]})
    typing = []
    sim = Simulation(engine, _conversation("Maya", "Leo"), turn_taking=tt, tempo=Tempo(speed=60, cap=30),
                     on_typing=lambda who, s: typing.append((who, s)), sampling=Sampling(max_tokens=8))
    t0 = time.perf_counter()
    authors, _ = _turn_authors(sim.turns(1))
    assert authors == ["Maya"] and typing == [("Maya", 2.0)] and time.perf_counter() - t0 >= 2.0
    # Leo's pause would last 30 s (an hour of real time, capped): a stop ends it now
    timer = threading.Timer(0.3, sim.stop)
    timer.start()
    t0 = time.perf_counter()
    assert list(sim.turns(1)) == []
    assert time.perf_counter() - t0 < 3 and typing[-1] == ("Leo", 30.0)
    timer.join()
