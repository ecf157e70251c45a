"""Telegram Desktop's JSON export → the same records as WhatsApp (core/sources/telegram.py)."""
from __future__ import annotations

import json
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wachat_tui.core.records import KINDS, Message
from wachat_tui.core.sources import read_chats
from wachat_tui.errors import ParseError

from ..conftest import run_wachat
from .chat_builders import check_ground_truth

CHATS = Path(__file__).resolve().parent.parent / "fixtures" / "chats"
MULTI = CHATS / "multi"
EXPECTED = json.loads((CHATS / "EXPECTED.json").read_text(encoding="utf-8"))
TELEGRAM = [name for name in EXPECTED if ".json" in name]


@pytest.mark.parametrize("name", TELEGRAM)
def test_telegram_fixtures_parse_to_their_ground_truth(name):
    file, _, title = name.partition("#")
    [chat] = read_chats(CHATS / file, chat=title or None)
    expected = EXPECTED[name]
    assert chat.platform == "telegram" and not chat.info.unparsed
    mine_of = check_ground_truth(chat.messages, expected)
    for person, exp in expected["people"].items():
        mine = mine_of[person]
        assert sum(m.edited for m in mine) == exp["edited"], person  # every Telegram entry says it
        assert dict(Counter(m.media_type for m in mine if m.kind == "media")) == exp["media_types"], person


def test_one_chat_export_details():
    [chat] = read_chats(MULTI / "alex_peter_telegram.json")
    assert (chat.title, chat.is_group, chat.me, chat.key) == ("Peter", False, "Alex", "5281937446")
    by_text = {m.text: m for m in chat.messages}
    # text given as a list of pieces (a mention, links, bold) is joined into one string
    made = next(m for m in chat.messages if m.text.startswith("made a group for wednesdays"))
    assert made.text == "made a group for wednesdays with marta (@martak_climbs). easier than texting both"
    assert by_text["7 at the castle"].edited is True
    calls = [m for m in chat.messages if m.kind == "call"]
    assert [(m.author, m.text) for m in calls] == [("Peter", "Missed call"), ("Peter", "Call (642 s)")]
    sticker = next(m for m in chat.messages if m.media_type == "sticker")
    assert sticker.kind == "media" and sticker.attachment is None     # "(File not included…)" is no file
    photo = next(m for m in chat.messages if m.media_type == "photo")
    assert photo.attachment.startswith("photos/")
    assert chat.info.counts_by_author == {"Alex": 123, "Peter": 159}


def test_full_export_reads_every_chat_or_the_one_named():
    chats = read_chats(MULTI / "telegram_full_export.json")
    assert [(c.title, c.is_group, c.me) for c in chats] == [
        ("Marta Kowalska", False, "Alex"), ("Climbing Wednesdays", True, "Alex")]
    created = next(m for m in chats[1].messages if m.author is None)
    assert created.kind == "system" and "create group" in created.text and "Climbing Wednesdays" in created.text
    [one] = read_chats(MULTI / "telegram_full_export.json", chat="climbing wednesdays")
    assert one.title == "Climbing Wednesdays"
    with pytest.raises(ParseError, match="not a chat of this export") as err:
        read_chats(MULTI / "telegram_full_export.json", chat="Nope")
    assert "Marta Kowalska" in err.value.one_line()


def _write(tmp_path, data) -> Path:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_forwards_accounts_and_malformed_messages(tmp_path):
    rows = [
        {"id": 1, "type": "message", "date": "2024-01-01T10:00:00", "from": "Ann", "from_id": "user1", "text": "hi"},
        {"id": 2, "type": "message", "date": "2024-01-01T10:01:00", "from": "Annie", "from_id": "user1",
         "text": "renamed, same account"},
        {"id": 3, "type": "message", "date": "2024-01-01T10:02:00", "from": None, "from_id": "user9",
         "text": "gone"},
        {"id": 4, "type": "message", "date": "2024-01-01T10:03:00", "from": "Bo", "from_id": "user2",
         "forwarded_from": "News", "text": "somebody else's words"},
        {"id": 5, "type": "message", "date_unixtime": "1704103440", "from": "Bo", "from_id": "user2",
         "location_information": {"latitude": 1, "longitude": 2}, "text": ""},
        {"id": 6, "type": "message", "date": "not a date", "from": "Bo", "text": "no time"},
        "not a message",
        {"id": 8, "type": "message", "date": "2024-01-01T10:05:00", "from": "Bo", "from_id": "user2",
         "poll": {"question": "pizza?"}, "text": ""},
    ]
    [chat] = read_chats(_write(tmp_path, {"name": "x", "type": "private_group", "id": 5, "messages": rows}))
    assert [m.author for m in chat.messages] == ["Ann", "Ann", "Deleted Account", "Bo", "Bo", "Bo"]
    forwarded = chat.messages[3]
    assert (forwarded.kind, forwarded.media_type, forwarded.text) == ("media", "forwarded", "somebody else's words")
    assert chat.messages[4].kind == "location" and chat.messages[4].time == datetime.fromtimestamp(1704103440)
    assert (chat.messages[5].kind, chat.messages[5].text) == ("poll", "pizza?")
    assert [n for n, _ in chat.info.unparsed] == [6, 7] and chat.is_group


@pytest.mark.parametrize("text, why", [
    ("{", "not valid JSON"),
    ("[1, 2]", "not an object"),
    ('{"about": "x"}', 'no "messages"'),
    ('{"chats": {"list": [{"name": "a"}]}}', "no chats with messages"),
])
def test_not_a_telegram_export_is_one_clear_line(tmp_path, text, why):
    with pytest.raises(ParseError, match=why) as err:
        read_chats(_write(tmp_path, text))
    assert "\n" not in err.value.one_line()


def test_parse_cli_reads_telegram(tmp_path):
    proc = run_wachat("parse", str(MULTI / "telegram_full_export.json"), check=True)
    assert "Marta Kowalska" in proc.stdout and "Climbing Wednesdays" in proc.stdout and "telegram" in proc.stdout
    proc = run_wachat("parse", str(MULTI / "alex_peter_telegram.json"), "--jsonl", check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 282 and {r["kind"] for r in rows} <= set(KINDS)
    bad = run_wachat("parse", str(_write(tmp_path, '{"hello": 1}')))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not a Telegram export" in bad.stderr


# --------------------------------------------------------------------------- any JSON at all
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
KEYS = st.sampled_from(["type", "date", "date_unixtime", "from", "from_id", "actor", "actor_id", "action",
                        "text", "text_entities", "photo", "file", "media_type", "edited", "forwarded_from",
                        "poll", "location_information", "contact_information", "duration_seconds",
                        "discard_reason", "members", "title", "sticker_emoji", "reply_to_message_id"])
VALUES = st.one_of(JSON, st.sampled_from(["message", "service", "phone_call", "sticker", "2024-01-02T03:04:05",
                                          "1700000000", "user1", "(File not included.)"]))
MESSAGE = st.dictionaries(KEYS, VALUES, max_size=8)
EXPORT = st.one_of(
    JSON,
    st.fixed_dictionaries({"name": JSON, "type": JSON, "id": JSON, "messages": st.lists(MESSAGE | JSON, max_size=6)}),
    st.fixed_dictionaries({"personal_information": JSON | st.dictionaries(st.sampled_from(["user_id", "first_name"]), JSON),
                           "chats": st.fixed_dictionaries({"list": st.lists(
                               st.fixed_dictionaries({"name": JSON, "messages": st.lists(MESSAGE, max_size=4)}),
                               max_size=3)})}))
_TMP = Path(tempfile.mkdtemp(prefix="wachat-tg-prop-"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPORT)
def test_any_json_gives_records_or_one_parse_error(data):
    path = _TMP / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        chats = read_chats(path)
    except ParseError as exc:
        assert exc.one_line() and "\n" not in exc.one_line()
        return
    for chat in chats:
        for m in chat.messages:
            assert isinstance(m, Message) and m.kind in KINDS and isinstance(m.text, str)
            assert m.author is None or isinstance(m.author, str)
            assert isinstance(m.time, datetime)
        assert chat.participants == list(dict.fromkeys(chat.participants))
