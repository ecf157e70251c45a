"""The realistic fixture chats (tests/fixtures/chats) parse to their ground truth (EXPECTED.json,
written by the generator that made them): people, kinds, media types and edits, per person."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from wachat_tui.core.parse import parse_export

CHATS = Path(__file__).resolve().parent.parent / "fixtures" / "chats"
EXPECTED = json.loads((CHATS / "EXPECTED.json").read_text(encoding="utf-8"))
WHATSAPP = [name for name in EXPECTED if name.endswith(".txt")]


@pytest.mark.parametrize("name", WHATSAPP)
def test_fixture_chat_parses_to_its_ground_truth(name):
    expected = EXPECTED[name]
    parsed = parse_export(CHATS / name)
    messages = list(parsed.messages)
    assert not parsed.info.unparsed
    people = [m for m in messages if m.author is not None]
    assert len(people) == expected["messages"]
    assert sum(1 for m in messages if m.author is None) == expected["system"]
    assert messages[0].time.isoformat(timespec="minutes") == expected["first"]
    assert messages[-1].time.isoformat(timespec="minutes") == expected["last"]
    for person, exp in expected["people"].items():
        mine = [m for m in people if m.author == person]
        assert len(mine) == exp["messages"], person
        assert dict(Counter(m.kind for m in mine)) == exp["kinds"], person
        assert sum(m.edited for m in mine) == exp.get("edited", 0), person
        # what a placeholder stands for, where the export says it (Android's "<Media omitted>" does
        # not; iOS's "audio omitted" is also what a voice note becomes)
        said = Counter("audio" if m.media_type == "voice" else m.media_type for m in mine
                       if m.kind == "media" and m.media_type is not None)
        if said:
            truth = Counter()
            for kind, n in exp.get("media_types", {}).items():
                truth["audio" if kind == "voice" else kind] += n
            assert said == truth, person
