"""Style stats on small chats with known answers (wachat_tui.core.stats)."""
from __future__ import annotations

import json

import pytest

from wachat_tui.core.dataset import build_dataset, report_counts
from wachat_tui.core.stats import compute_stats, find_emoji, find_laughs

from .chat_builders import chat


@pytest.fixture
def doc():
    msgs = chat(
        "- Messages and calls are end-to-end encrypted.",
        "Ana: hahaha omg 🙈",
        "Ana: ok see u",
        "+3 Ben: Sounds good. See you at 8.",
        "Ben: Are you coming?",
        "+10 Ana: yes lol",
        "+1 Ben: Great! 👍🏽",
        "+1 Ana: [photo]",
    )
    return compute_stats(msgs, dataset=build_dataset(msgs, "Ana"), me="Ana")


def test_people_counts_and_lengths(doc):
    ana, ben = doc["people"]["Ana"], doc["people"]["Ben"]
    assert list(doc["people"]) == ["Ana", "Ben"]
    assert (ana["messages"], ana["text_messages"], ana["turns"], ana["words"]) == (4, 3, 3, 7)
    assert (ana["chars_mean"], ana["chars_median"]) == (9.0, 8.0)
    assert (ana["words_mean"], ana["words_median"]) == (2.33, 2.0)
    assert (ben["messages"], ben["turns"]) == (3, 2)
    assert ana["media"] == {"photo": 1} and ana["kinds"] == {"media": 1, "text": 3}


def test_case_punctuation_and_questions(doc):
    ana, ben = doc["people"]["Ana"], doc["people"]["Ben"]
    assert ana["all_lowercase_ratio"] == 1.0 and ana["lowercase_start_ratio"] == 1.0
    assert ben["all_lowercase_ratio"] == 0.0 and ben["lowercase_start_ratio"] == 0.0
    assert ana["endings"]["emoji"] == pytest.approx(1 / 3, abs=1e-3)
    assert ana["endings"]["none"] == pytest.approx(2 / 3, abs=1e-3)
    assert ben["endings"]["."] == ben["endings"]["?"] == ben["endings"]["emoji"] == pytest.approx(1 / 3, abs=1e-3)
    assert ana["question_rate"] == 0 and ben["question_rate"] == pytest.approx(1 / 3, abs=1e-3)


def test_emoji_and_laughs(doc):
    ana, ben = doc["people"]["Ana"], doc["people"]["Ben"]
    assert ana["emoji"]["top"] == [["🙈", 1]] and ana["emoji"]["per_message"] == pytest.approx(1 / 3, abs=1e-3)
    assert ben["emoji"]["top"] == [["👍🏽", 1]]
    assert ana["laughs"]["total"] == 2 and dict(ana["laughs"]["top"]) == {"hahaha": 1, "lol": 1}
    assert ben["laughs"]["total"] == 0


def test_reply_times_bursts_and_activity(doc):
    ana, ben = doc["people"]["Ana"], doc["people"]["Ben"]
    # Ben answers after 3 min and 1 min; Ana after 10 min and (the photo) 1 min
    assert ben["reply_time_median_s"] == 120 and ben["replies"] == 2
    assert ana["reply_time_median_s"] == 330 and ana["replies"] == 2
    assert ana["burst_mean"] == 1.33 and ben["burst_mean"] == 1.5
    assert ana["hours"][9] == 4 and sum(ana["hours"]) == 4
    assert ana["weekdays"] == [4, 0, 0, 0, 0, 0, 0]  # 4 March 2024 was a Monday


def test_top_words_skip_stopwords_and_laughs(doc):
    ben = doc["people"]["Ben"]
    assert ben["top_words"] == [["coming", 1], ["good", 1], ["great", 1], ["see", 1], ["sounds", 1]]
    assert "hahaha" not in dict(doc["people"]["Ana"]["top_words"])


def test_chat_section(doc):
    c = doc["chat"]
    assert c["messages"] == 7 and c["system_events"] == 1
    assert c["sessions"] == 1 and c["participants"] == ["Ana", "Ben"] and c["me"] == "Ana"
    assert c["first"] == "2024-03-04T09:00:00" and c["days"] == 1
    # Ana's last reply is only "<photo>": context, not a trained pair (DatasetOptions.media_targets)
    assert c["pairs"] == c["pairs_train"] + c["pairs_validation"] + c["pairs_excluded"] == 3
    assert c["samples_train"] == 2 and c["samples_validation"] == 0  # one session: no validation
    json.dumps(doc)  # JSON-able


def test_chat_section_counts_derive_from_report_counts():
    # one mapping from a dataset report to counts: project.json's "counts" and the stats
    # chat section must agree (the chat section renames "excluded" to "pairs_excluded")
    msgs = chat("Ana: hi", "+1 Ben: hey", "+1 Ana: how are you", "+1 Ben: good", "+1 Ana: great")
    res = build_dataset(msgs, "Ana", exclusions=[])
    res = build_dataset(msgs, "Ana", exclusions=[res.pairs[0].id])
    counts = report_counts(res.report)
    assert counts["excluded"] == 1 and counts["pairs"] == res.report["pairs"]["total"]
    c = compute_stats(msgs, dataset=res, me="Ana")["chat"]
    assert c["pairs_excluded"] == counts["excluded"] == 1
    for key in ("pairs", "pairs_train", "pairs_validation", "samples_train", "samples_validation",
                "sessions_train", "sessions_validation"):
        assert c[key] == counts[key], key
    assert "excluded" not in c  # the public chat key names are unchanged


def test_top_phrases_need_repeats():
    msgs = chat("Ana: see you soon", "Ben: Ok.", "+100 Ana: see you soon then", "Ben: Ok.", "+100 Ana: bye")
    ana = compute_stats(msgs)["people"]["Ana"]
    assert ana["top_phrases"][0] == ["see you soon", 2]
    assert all(count >= 2 for _, count in ana["top_phrases"])


def test_reply_time_only_within_sessions():
    msgs = chat("Ana: hi", "+200 Ben: Hello.", "+2 Ana: hey")
    doc = compute_stats(msgs)
    assert doc["chat"]["sessions"] == 2
    assert doc["people"]["Ben"]["reply_time_median_s"] is None
    assert doc["people"]["Ana"]["reply_time_median_s"] == 120


@pytest.mark.parametrize("text,expected", [
    ("hi 👍🏽 there", ["👍🏽"]),
    ("👩‍💻 codes", ["👩‍💻"]),
    ("family 👨‍👩‍👧‍👦!", ["👨‍👩‍👧‍👦"]),
    ("🇵🇹🇬🇧", ["🇵🇹", "🇬🇧"]),
    ("1️⃣ first", ["1⃣"]),
    ("❤️❤️", ["❤", "❤"]),
    ("✨🙈😂", ["✨", "🙈", "😂"]),
    ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", ["🏴󠁧󠁢󠁳󠁣󠁴󠁿"]),
    ("plain text, 100% (c) 2024 #1 *", []),
])
def test_emoji_matcher(text, expected):
    assert find_emoji(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("hahaha", ["hahaha"]), ("Haha ok", ["haha"]), ("ahahah", ["ahahah"]), ("hehe", ["hehe"]),
    ("LOL", ["lol"]), ("lmao", ["lmao"]), ("jajaja", ["jajaja"]), ("kkkkk", ["kkkkk"]),
    ("so funny 😂🤣", ["😂", "🤣"]), ("lollipop, have, Hawaii, hahn", []),
])
def test_laugh_tokens(text, expected):
    assert find_laughs(text) == expected


def test_empty_chat():
    doc = compute_stats([])
    assert doc["people"] == {} and doc["chat"]["messages"] == 0 and doc["chat"]["first"] is None
