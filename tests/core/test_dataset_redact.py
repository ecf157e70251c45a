"""Redaction of personal identifiers (wachat_tui.core.redact)."""
from __future__ import annotations

import pytest

from wachat_tui.core.redact import redact


@pytest.mark.parametrize("text,expected,kind", [
    ("call +44 7700 900123 now", "call <phone> now", "phone"),
    ("ring (020) 7946 0958", "ring <phone>", "phone"),
    ("0044 20 7946 0958", "<phone>", "phone"),
    ("my number 07700900123.", "my number <phone>.", "phone"),
    ("mail jo.smith+x@mail.example.co.uk!", "mail <email>!", "email"),
    ("see https://example.org/a?b=1.", "see <url>.", "url"),
    ("(www.example.com)", "(<url>)", "url"),
    ("card 4111 1111 1111 1111 ok", "card <card> ok", "card"),
    ("card 4111-1111-1111-1111", "card <card>", "card"),
    ("4111111111111111", "<card>", "card"),
])
def test_redacts_each_kind(text, expected, kind):
    out, counts = redact(text)
    assert out == expected
    assert counts[kind] == 1 and sum(counts.values()) == 1


@pytest.mark.parametrize("text", [
    "on 12/05/2024 at 10:30", "2024-03-02", "12.05.2024", "£46 each", "52:41", "4000 people",
    "pi is 3.14159265", "year 2024, room 101", "", "no numbers here",
])
def test_leaves_ordinary_text_alone(text):
    out, counts = redact(text)
    assert out == text and sum(counts.values()) == 0


def test_counts_accumulate():
    counts = None
    for t in ["a@b.io", "c@d.io and https://x.io", "+1 202 555 0188"]:
        _, counts = redact(t, counts)
    assert counts == {"phone": 1, "email": 2, "url": 1, "card": 0}
