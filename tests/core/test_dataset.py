"""Messages → turns → sessions → samples/pairs (wachat_tui.core.dataset)."""
from __future__ import annotations

import json

import pytest

from wachat_tui.core.dataset import (
    DatasetOptions,
    build_dataset,
    estimate_tokens,
    split_sessions,
    system_prompt,
)
from wachat_tui.errors import ProjectError

from .chat_builders import chat, conversation


def roles(sample):
    return [m["role"] for m in sample["messages"]]


def test_turns_merge_consecutive_bubbles_with_newlines():
    msgs = chat("Ana: hi", "Ana: you there?", "Ben: Yes.", "Ana: ok", "Ana: cool", "Ana: bye")
    [session] = split_sessions(msgs)
    assert [(t.author, t.text, t.n_messages) for t in session.turns] == [
        ("Ana", "hi\nyou there?", 2), ("Ben", "Yes.", 1), ("Ana", "ok\ncool\nbye", 3)]


def test_sessions_split_on_gap_and_gap_is_configurable():
    msgs = chat("Ana: a", "+30 Ben: b", "+61 Ana: c", "+5 Ben: d")
    assert [len(s.turns) for s in split_sessions(msgs, 60)] == [2, 2]
    assert [len(s.turns) for s in split_sessions(msgs, 90)] == [4]
    res = build_dataset(msgs, "Ana", DatasetOptions(session_gap_minutes=20, validation_fraction=0))
    assert res.report["sessions"] == 3


def test_system_deleted_dropped_and_media_tagged_or_dropped():
    msgs = chat("- Ana created group", "Ana: look", "Ana: [photo]", "Ben: [deleted]", "Ben: [voice]",
                "Ben: [sticker]", "Ana: [location]", "Ben: [omitted]", "Ana: nice")
    [s] = split_sessions(msgs)
    assert [t.text for t in s.turns] == ["look\n<photo>", "<voice note>\n<sticker>", "<location>", "<media>", "nice"]
    res = build_dataset(msgs, "Ana", DatasetOptions(media="drop", validation_fraction=0))
    assert res.report["dropped"] == {"system": 1, "deleted": 1, "call": 0, "media": 5, "empty": 0}
    texts = [m["content"] for row in res.train for m in row["messages"][1:]]
    assert not any("<" in t for t in texts)


def _trained(rows):
    return [m["content"] for row in rows for m in row["messages"] if m["train"]]


def test_media_only_replies_are_context_not_targets_by_default():
    msgs = chat("Ana: where are you", "Ben: [photo]", "Ana: nice view", "Ben: [photo]", "Ben: the lake",
                "Ana: and now?", "Ben: [sticker]", "Ana: ok", "Ben: home now")
    res = build_dataset(msgs, "Ana", DatasetOptions(validation_fraction=0, personas=["Ben"]))
    assert _trained(res.train) == ["<photo>\nthe lake", "home now"]
    assert res.report["filtered"]["media_only"] == 2
    context = [m["content"] for row in res.train for m in row["messages"] if m["role"] == "assistant"]
    assert "<photo>" in context and "<sticker>" in context       # still seen as context
    assert [p.reply for p in res.pairs] == ["<photo>\nthe lake", "home now"]


def test_media_targets_keep_trains_on_media_only_replies():
    msgs = chat("Ana: where are you", "Ben: [photo]", "Ana: ok", "Ben: home now")
    res = build_dataset(msgs, "Ana", DatasetOptions(validation_fraction=0, personas=["Ben"], media_targets="keep"))
    assert _trained(res.train) == ["<photo>", "home now"]
    assert res.report["filtered"]["media_only"] == 0


def test_validation_keeps_media_only_replies_so_eval_sees_the_real_rate():
    msgs = chat("Ana: hi", "Ben: [photo]", "Ana: ok", "Ben: yes", "+120 Ana: later?", "Ben: [photo]",
                "Ana: hm", "Ben: sure")
    res = build_dataset(msgs, "Ana", DatasetOptions(validation_fraction=0.5, personas=["Ben"]))
    assert _trained(res.train) == ["yes"]
    assert _trained(res.validation) == ["<photo>", "sure"]


def test_media_caption_kept_after_tag():
    from wachat_tui.core.records import Message
    from datetime import datetime
    msgs = [Message(datetime(2024, 1, 1, 9), "Ana", "IMG-1.jpg (file attached)\nmy cat", "media",
                    attachment="IMG-1.jpg", media_type="photo"),
            Message(datetime(2024, 1, 1, 9, 1), "Ben", "Cute.")]
    [s] = split_sessions(msgs)
    assert s.turns[0].text == "<photo> my cat"


def test_samples_per_persona_roles_and_system_prompt():
    msgs = chat("Ana: hey", "Ben: Hi there.", "Ana: how are you", "Ben: Fine, thanks.")
    res = build_dataset(msgs, "Ana", DatasetOptions(validation_fraction=0))
    assert res.personas == ["Ana", "Ben"]
    by_persona = {row["persona"]: row for row in res.train}
    ana, ben = by_persona["Ana"], by_persona["Ben"]
    # Ana's sample must start with a user turn: her opener is dropped
    assert roles(ana) == ["system", "user", "assistant"]
    assert ana["messages"][0]["content"] == system_prompt("Ana", ["Ben"])
    reply_id = next(p.id for p in res.pairs if p.persona == "Ana")
    assert ana["messages"][1:] == [{"role": "user", "content": "Hi there.", "train": False, "pair": None},
                                   {"role": "assistant", "content": "how are you", "train": True,
                                    "pair": reply_id}]
    # the rows name the people the persona talks to and the chat, as data (not prose)
    assert (ana["partners"], ben["partners"]) == (["Ben"], ["Ana"])
    assert ana["chat"] is None
    assert roles(ben) == ["system", "user", "assistant", "user", "assistant"]
    assert "You are Ben" in ben["messages"][0]["content"] and "Ana" in ben["messages"][0]["content"]
    # trailing user turns are dropped: every sample ends on the persona
    assert all(row["messages"][-1]["role"] == "assistant" for row in res.train)


def test_every_message_has_the_same_keys():
    res = build_dataset(conversation(6), "Ana", chat_name="Ben")
    keys = {tuple(sorted(m)) for row in res.train + res.validation for m in row["messages"]}
    assert keys == {("content", "pair", "role", "train")}
    assert {tuple(sorted(row)) for row in res.train + res.validation} == {
        ("chat", "chat_id", "id", "messages", "partners", "persona", "session")}
    # every trained reply names its pair; system and user messages name none
    pairs = {p.id: p for p in res.pairs}
    for row in res.train + res.validation:
        assert row["chat"] == "Ben"
        for m in row["messages"]:
            if m["train"]:
                assert pairs[m["pair"]].reply == m["content"] and pairs[m["pair"]].persona == row["persona"]
            if m["role"] != "assistant":
                assert m["pair"] is None


def test_personas_option_and_me_validation():
    msgs = conversation(3)
    res = build_dataset(msgs, "ana", DatasetOptions(personas=["Ben"], validation_fraction=0))
    assert res.personas == ["Ben"] and {r["persona"] for r in res.train} == {"Ben"}
    with pytest.raises(ProjectError, match="not a participant"):
        build_dataset(msgs, "Zoe")


def test_group_chat_user_turns_carry_names():
    msgs = chat("Ana: morning all", "Cid: Hey", "Ben: hi hi", "Ben: coffee?", "Ana: yes pls",
                "Cid: Me too", "Ana: lunch later?")
    res = build_dataset(msgs, "Ana", DatasetOptions(validation_fraction=0), chat_name="Flat")
    assert res.personas == ["Ana"]  # groups: only me by default
    [row] = res.train
    assert row["messages"][1] == {"role": "user", "content": "Cid: Hey\nBen: hi hi\nBen: coffee?",
                                  "train": False, "pair": None}
    assert 'group "Flat"' in row["messages"][0]["content"]
    assert row["messages"][2]["content"] == "yes pls"
    assert row["partners"] == ["Ben", "Cid"] and row["chat"] == "Flat"   # most active first
    # who said what before a reply is structured data on its pair
    pair = next(p for p in res.pairs if p.id == row["messages"][2]["pair"])
    assert [(u.author, u.text) for u in pair.context] == [("Cid", "Hey"), ("Ben", "hi hi\ncoffee?")]


def test_long_sessions_are_windowed_within_budget():
    msgs = conversation(1, exchanges=60)
    opts = DatasetOptions(max_context_tokens=160, validation_fraction=0)
    res = build_dataset(msgs, "Ana", opts)
    ben_rows = [r for r in res.train if r["persona"] == "Ben"]
    assert len(ben_rows) > 5
    assert res.report["sessions_windowed"] >= 1
    for row in res.train:
        assert row["messages"][0]["role"] == "system"
        assert row["messages"][1]["role"] == "user"
        assert row["messages"][-1]["role"] == "assistant" and row["messages"][-1]["train"]
        tokens = sum(estimate_tokens(m["content"]) + 4 for m in row["messages"])
        assert tokens <= 160
    # every Ben reply is trained exactly once across windows
    trained = [m["content"] for r in ben_rows for m in r["messages"] if m["train"]]
    assert len(trained) == len(set(trained)) == 60
    assert len([p for p in res.pairs if p.persona == "Ben"]) == 60


def test_split_most_recent_sessions_no_leakage():
    msgs = conversation(20)
    res = build_dataset(msgs, "Ana", DatasetOptions(validation_fraction=0.1))
    assert res.report["sessions_validation"] == 2 and res.report["sessions_train"] == 18
    train_sessions = {r["session"] for r in res.train}
    val_sessions = {r["session"] for r in res.validation}
    assert train_sessions and val_sessions and not train_sessions & val_sessions
    assert max(train_sessions) < min(val_sessions)
    by_index = {s.index: s for s in res.sessions}
    assert max(by_index[i].end for i in train_sessions) < min(by_index[i].start for i in val_sessions)
    assert {p.split for p in res.pairs if p.session in val_sessions} == {"validation"}


def test_split_at_least_one_validation_session_and_none_when_disabled():
    assert build_dataset(conversation(2), "Ana").report["sessions_validation"] == 1
    assert build_dataset(conversation(1), "Ana").report["sessions_validation"] == 0
    assert build_dataset(conversation(5), "Ana", DatasetOptions(validation_fraction=0)).validation == []


def test_exclusions_keep_context_but_no_loss():
    msgs = chat("Ana: hey", "Ben: Hi.", "Ana: pizza?", "Ben: Sure.", "Ana: 8pm", "Ben: Great.")
    opts = DatasetOptions(validation_fraction=0, personas=["Ben"])
    first = build_dataset(msgs, "Ana", opts)
    target = next(p for p in first.pairs if p.reply == "Sure.")
    res = build_dataset(msgs, "Ana", opts, exclusions=[target.id])
    [row] = res.train
    sure = next(m for m in row["messages"] if m["content"] == "Sure.")
    assert sure["role"] == "assistant" and sure["train"] is False
    assert [m["train"] for m in row["messages"] if m["role"] == "assistant"] == [True, False, True]
    pair = next(p for p in res.pairs if p.id == target.id)
    assert pair.excluded is True
    assert res.report["pairs"]["excluded"] == 1 and res.report["pairs"]["train"] == 2


def test_sample_dropped_when_all_replies_excluded():
    msgs = chat("Ana: hey", "Ben: Hi.")
    opts = DatasetOptions(validation_fraction=0, personas=["Ben"])
    pid = build_dataset(msgs, "Ana", opts).pairs[0].id
    res = build_dataset(msgs, "Ana", opts, exclusions=[pid])
    assert res.train == [] and res.pairs[0].excluded


def test_pair_ids_stable_across_option_changes():
    msgs = conversation(6)
    a = {p.id for p in build_dataset(msgs, "Ana").pairs}
    b = {p.id for p in build_dataset(msgs, "Ana", DatasetOptions(session_gap_minutes=5,
                                                                    max_context_tokens=100, redact=True)).pairs}
    assert a == b and len(a) == 6 * 3 * 2 - 6  # Ana's session openers have no context


def test_pair_rows_follow_the_contract():
    from wachat_tui.core.records import Pair

    res = build_dataset(conversation(3), "Ana")
    p = res.pairs[0].to_json()
    assert set(p) == {"id", "persona", "session", "split", "time", "context", "reply", "excluded", "chat_id"}
    assert p["context"] and set(p["context"][0]) == {"author", "text"}
    rows = json.loads(json.dumps([x.to_json() for x in res.pairs]))
    assert [Pair.from_json(r) for r in rows] == res.pairs


def test_pair_context_is_the_last_turns_before_the_reply():
    from wachat_tui.core.dataset import PAIR_CONTEXT_TURNS

    res = build_dataset(conversation(1, exchanges=12), "Ana",
                        DatasetOptions(validation_fraction=0, personas=["Ben"]))
    last = res.pairs[-1]
    assert last.reply == "Ben answers 11 in session 0"
    assert len(last.context) == PAIR_CONTEXT_TURNS
    assert [(u.author, u.text) for u in last.context[-2:]] == [
        ("Ben", "Ben answers 10 in session 0"), ("Ana", "Ana says 11 in session 0")]


def test_dedupe_trains_once_on_repeated_exchange():
    lines = []
    for day in range(3):
        lines += [f"+{1 if not lines else 1440} Ana: night", "Ben: Night."]
    msgs = chat(*lines)
    res = build_dataset(msgs, "Ana", DatasetOptions(validation_fraction=0, personas=["Ben"]))
    assert res.report["filtered"]["duplicate"] == 2
    assert len(res.pairs) == 1 and len(res.train) == 1
    res2 = build_dataset(msgs, "Ana", DatasetOptions(validation_fraction=0, personas=["Ben"], dedupe=False))
    assert len(res2.pairs) == 3


def test_min_max_reply_length():
    msgs = chat("Ana: q1", "Ben: k", "Ana: q2", "Ben: " + "x" * 50, "Ana: q3", "Ben: Just right.")
    res = build_dataset(msgs, "Ana", DatasetOptions(validation_fraction=0, personas=["Ben"],
                                                     min_reply_chars=2, max_reply_chars=20))
    assert res.report["filtered"]["too_short"] == 1 and res.report["filtered"]["too_long"] == 1
    assert [p.reply for p in res.pairs] == ["Just right."]
    trained = [m["content"] for m in res.train[0]["messages"] if m["train"]]
    assert trained == ["Just right."]


def test_redaction_in_samples_with_counts():
    msgs = chat("Ana: call me on +44 7700 900123", "Ben: Mail me at ben@example.com or see https://ex.org/x.",
                "Ana: card 4111 1111 1111 1111", "Ben: Ok.")
    res = build_dataset(msgs, "Ana", DatasetOptions(redact=True, validation_fraction=0))
    assert res.report["redactions"] == {"phone": 1, "email": 1, "url": 1, "card": 1}
    text = json.dumps(res.train + [p.to_json() for p in res.pairs])
    assert "7700" not in text and "example.com" not in text and "4111" not in text and "ex.org" not in text
    assert "<phone>" in text and "<email>" in text and "<url>" in text and "<card>" in text
    plain = build_dataset(msgs, "Ana", DatasetOptions(validation_fraction=0))
    assert plain.report["redactions"] == {"phone": 0, "email": 0, "url": 0, "card": 0}
    assert "ben@example.com" in json.dumps(plain.train)


@pytest.mark.parametrize("field,value", [
    ("session_gap_minutes", 0), ("media", "keep"), ("validation_fraction", 0.9),
    ("max_context_tokens", 10), ("min_reply_chars", -1), ("personas", []), ("redact", "yes"),
    ("media_targets", "some"),
])
def test_options_validate_with_clear_message(field, value):
    with pytest.raises(ProjectError, match=field):
        DatasetOptions(**{field: value}).validate()


def test_options_roundtrip_ignores_unknown_keys():
    opts = DatasetOptions(session_gap_minutes=30, personas=["Ana"])
    data = opts.to_dict() | {"from_the_future": 1}
    assert DatasetOptions.from_dict(data) == opts


def test_system_prompt_shapes():
    assert system_prompt("Maya", ["Leo"]) == (
        "You are Maya, texting with Leo on WhatsApp. Reply as Maya would, in Maya's own texting style.")
    group = system_prompt("Maya", ["Maya", "Leo", "Ana"], "Trip")
    assert group.startswith('You are Maya, texting in the WhatsApp group "Trip" with Leo and Ana.')
    assert "others" in system_prompt("A", [f"P{i}" for i in range(10)])


def test_train_file_loads_with_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    from wachat_tui.core.atomic import write_jsonl

    msgs = conversation(12, exchanges=4)
    res = build_dataset(msgs, "Ana", DatasetOptions(max_context_tokens=120),
                        exclusions=[build_dataset(msgs, "Ana").pairs[3].id])
    assert any(not m["train"] for r in res.train for m in r["messages"] if m["role"] == "assistant")
    train, val = tmp_path / "train.jsonl", tmp_path / "validation.jsonl"
    write_jsonl(train, res.train)
    write_jsonl(val, res.validation)
    ds = datasets.load_dataset("json", data_files={"train": str(train), "validation": str(val)},
                               cache_dir=str(tmp_path / "cache"))
    assert ds["train"].num_rows == len(res.train) and ds["validation"].num_rows == len(res.validation)
    first = ds["train"][0]["messages"]
    assert first[0]["role"] == "system" and first[-1]["role"] == "assistant"
    assert first == res.train[0]["messages"]
