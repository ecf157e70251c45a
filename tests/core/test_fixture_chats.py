"""The realistic fixture chats (tests/fixtures/chats) parse to their ground truth (EXPECTED.json,
written by the generator that made them): people, kinds, media types and edits, per person."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from wachat_tui.core.parse import parse_export

from .chat_builders import check_ground_truth

CHATS = Path(__file__).resolve().parent.parent / "fixtures" / "chats"
EXPECTED = json.loads((CHATS / "EXPECTED.json").read_text(encoding="utf-8"))
WHATSAPP = [name for name in EXPECTED if name.endswith(".txt")]


@pytest.mark.parametrize("name", WHATSAPP)
def test_fixture_chat_parses_to_its_ground_truth(name):
    expected = EXPECTED[name]
    parsed = parse_export(CHATS / name)
    assert not parsed.info.unparsed
    mine_of = check_ground_truth(list(parsed.messages), expected)
    for person, exp in expected["people"].items():
        mine = mine_of[person]
        # what a placeholder stands for, where the export says it (Android's "<Media omitted>" does
        # not; iOS's "audio omitted" is also what a voice note becomes)
        said = Counter("audio" if m.media_type == "voice" else m.media_type for m in mine
                       if m.kind == "media" and m.media_type is not None)
        if said:
            truth = Counter()
            for kind, n in exp.get("media_types", {}).items():
                truth["audio" if kind == "voice" else kind] += n
            assert said == truth, person
