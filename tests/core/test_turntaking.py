"""Turn-taking statistics and the draws a simulation makes from them (core/turntaking.py),
and where a conversation takes place (core/setting.py)."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from wachat_tui.core.dataset import split_sessions
from wachat_tui.core.project import import_export
from wachat_tui.core.records import Session, Turn
from wachat_tui.core.setting import choose_setting
from wachat_tui.core.sources import read_chats
from wachat_tui.core.turntaking import (Tempo, TurnTaking, burst_size, for_setting, merge, next_speaker,
                                       turn_taking)
from wachat_tui.errors import ProjectError

MULTI = Path(__file__).resolve().parent.parent / "fixtures" / "chats" / "multi"
T0 = datetime(2024, 5, 1, 12, 0)


def _session(*turns: tuple[str, int, int], index: int = 0) -> Session:
    """Turns ``(author, bubbles, seconds since the previous turn ended)``; bubbles 30 s apart."""
    out, t = [], T0 + timedelta(days=index)
    for author, n, wait in turns:
        start = t + timedelta(seconds=wait)
        end = start + timedelta(seconds=30 * (n - 1))
        out.append(Turn(author, start, end, "x", n))
        t = end
    return Session(index, tuple(out))


def test_counts_transitions_openers_bursts_and_pace():
    tt = turn_taking([
        _session(("A", 2, 0), ("B", 1, 60), ("C", 3, 120), ("B", 1, 60)),
        _session(("B", 1, 0), ("A", 1, 600), index=1),
    ])
    assert tt.transitions == {"A": Counter({"B": 1}), "B": Counter({"C": 1, "A": 1}), "C": Counter({"B": 1})}
    assert tt.openers == Counter({"A": 1, "B": 1})
    assert tt.bursts == {"A": Counter({2: 1, 1: 1}), "B": Counter({1: 3}), "C": Counter({3: 1})}
    assert tt.reply_seconds == {"B": [60.0, 60.0], "C": [120.0], "A": [600.0]}
    assert tt.bubble_seconds == {"A": [30.0], "C": [30.0]}
    doc = tt.to_json()
    assert doc["reply_median_s"] == {"B": 60.0, "C": 120.0, "A": 600.0} and doc["bursts"]["A"] == {"1": 1, "2": 1}


def test_the_group_fixture_has_its_real_turn_taking():
    [group] = read_chats(MULTI / "friends_group.txt")
    tt = turn_taking(split_sessions(group.messages))
    # Lisa M and Pete bicker: after one of them the other answers more often than anyone else
    assert tt.transitions["Lisa M"].most_common(1)[0][0] == "Pete"
    assert tt.transitions["Pete"].most_common(1)[0][0] == "Lisa M"
    assert sum(sum(row.values()) for row in tt.transitions.values()) > 200
    # Dani sends bursts: more bubbles per turn than Pete's one-liners
    def mean(row): return sum(n * k for n, k in row.items()) / sum(row.values())
    assert mean(tt.bursts["Dani"]) > mean(tt.bursts["Pete"])


def test_next_speaker_follows_the_transitions_not_round_robin():
    tt = TurnTaking(transitions={"A": Counter({"B": 90, "C": 10}), "B": Counter({"A": 50, "C": 50}),
                                 "C": Counter({"A": 1})}, openers=Counter({"C": 5}))
    rng = random.Random(3)
    after_a = Counter(next_speaker(tt, "A", ["A", "B", "C"], rng) for _ in range(2000))
    assert after_a["A"] == 0 and 0.85 < after_a["B"] / 2000 < 0.95
    assert {next_speaker(tt, "C", ["A", "B", "C"], rng) for _ in range(50)} == {"A"}
    assert {next_speaker(tt, None, ["A", "B", "C"], rng) for _ in range(50)} == {"C"}
    # only the people simulated count: after A among A and C, C
    assert {next_speaker(tt, "A", ["A", "C"], rng) for _ in range(20)} == {"C"}
    # a sequence drawn from the table is not the round-robin A B C A B C …
    last, seq = "A", []
    for _ in range(30):
        last = next_speaker(tt, last, ["A", "B", "C"], rng)
        seq.append(last)
    assert seq != (["B", "C", "A"] * 10)


def test_people_who_never_talked_alternate_and_keep_their_own_bursts():
    overall = TurnTaking(bursts={"Lisa": Counter({1: 10}), "Peter": Counter({3: 10}), "Dani": Counter({2: 4})})
    tt = for_setting(None, overall, ["Lisa", "Peter"])
    assert tt.transitions == {}
    rng = random.Random(0)
    seq = ["Lisa"]
    for _ in range(6):
        seq.append(next_speaker(tt, seq[-1], ["Lisa", "Peter"], rng))
    assert seq == ["Lisa", "Peter"] * 3 + ["Lisa"]
    assert {burst_size(tt, "Peter", rng) for _ in range(10)} == {3}
    assert burst_size(tt, "Nobody", rng) == 1
    # three people with no shared chat: anyone but the last speaker, weighted by how much they talk
    tt3 = for_setting(None, overall, ["Lisa", "Peter", "Dani"])
    draws = Counter(next_speaker(tt3, "Lisa", ["Lisa", "Peter", "Dani"], rng) for _ in range(500))
    assert draws["Lisa"] == 0 and draws["Peter"] > draws["Dani"] > 0


def test_setting_numbers_come_from_the_chat_with_fallback_to_all_chats():
    chat = TurnTaking(transitions={"A": Counter({"B": 3, "X": 4})}, openers=Counter({"A": 2, "X": 1}),
                      bursts={"A": Counter({2: 9}), "B": Counter({1: 1})}, reply_seconds={"A": [10.0]})
    overall = merge([chat, TurnTaking(bursts={"B": Counter({4: 20})}, reply_seconds={"B": [99.0]})])
    tt = for_setting(chat, overall, ["A", "B"])
    assert tt.transitions == {"A": Counter({"B": 3})} and tt.openers == Counter({"A": 2})
    assert tt.bursts["A"] == Counter({2: 9})                 # enough turns in the chat
    assert tt.bursts["B"] == Counter({1: 1, 4: 20}) and tt.reply_seconds["B"] == [99.0]   # too few: all chats


def test_tempo_scales_and_caps_the_real_pauses():
    tt = TurnTaking(reply_seconds={"A": [30.0, 90.0, 600.0]}, bubble_seconds={"A": [6.0]})
    tempo = Tempo(speed=60, cap=4)
    assert tempo.before_turn(tt, "A") == pytest.approx(1.5)
    assert tempo.between_bubbles(tt, "A") == pytest.approx(0.1)
    assert Tempo(speed=1, cap=4).before_turn(tt, "A") == 4
    assert tempo.before_turn(tt, "B") == 0
    with pytest.raises(ValueError):
        Tempo(speed=0)


def test_a_project_of_one_group_chat_talks_in_that_group():
    p = import_export(MULTI / "friends_group.txt", "Alex", name="crew")
    setting = choose_setting(p, ["Alex", "Dani"])
    assert setting.chat_id == "saturday-crew" and setting.chat_name == "Saturday Crew" and setting.is_group


def test_choose_setting():
    import_export(MULTI / "alex_lisa.txt", "Alex", name="alex")
    import_export(MULTI / "alex_peter_telegram.json", name="alex", add=True)
    p = import_export(MULTI / "friends_group.txt", name="alex", add=True)
    p.set_alias("Lisa M", "Lisa")
    p.set_alias("Pete", "Peter")
    from wachat_tui.core.project import Project

    p = Project.open("alex")
    own = choose_setting(p, ["Alex", "Peter"])
    assert (own.chat_id, own.platform, own.is_group, own.chat_name) == ("peter", "telegram", False, None)
    never = choose_setting(p, ["Lisa", "Peter"])          # no 1:1 between them: a new one
    assert never.chat_id is None and not never.is_group and never.people == ("Lisa", "Peter")
    assert "new" in never.label()
    group = choose_setting(p, ["Lisa", "Peter", "Dani"])
    assert group.chat_id == "saturday-crew" and group.chat_name == "Saturday Crew"
    assert set(group.people) == {"Alex", "Lisa", "Peter", "Dani"}
    assert choose_setting(p, ["Lisa", "Peter"], "Saturday Crew").chat_id == "saturday-crew"
    assert choose_setting(p, ["Lisa", "Peter", "Dani"], "new").people == ("Lisa", "Peter", "Dani")
    with pytest.raises(ProjectError, match="never wrote in 'Lisa'"):
        choose_setting(p, ["Lisa", "Peter"], "lisa")
