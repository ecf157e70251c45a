"""Media placeholders the model writes are shown as media notes, not raw tags."""
from __future__ import annotations

import io

import pytest

from wachat_tui.chat.lines import media_bubble, show_bubble
from wachat_tui.commands.chat import LinePrinter


@pytest.mark.parametrize("text,expected", [
    ("<photo>", ("📷 photo", "")),
    ("<photo> my cat", ("📷 photo", "my cat")),
    ("<voice note>", ("🎤 voice note", "")),
    ("<Media omitted>", ("📎 media", "")),
    ("<video omitted>", ("🎥 video", "")),
    ("<b>bold</b>", None),              # not a tag the dataset writes
    ("look <photo>", None),             # a tag inside text is the model's text
    ("hello", None),
])
def test_media_bubble(text, expected):
    assert media_bubble(text) == expected


def test_show_bubble_for_terminals():
    assert show_bubble("<sticker>") == "[💟 sticker]"
    assert show_bubble("<photo> the lake") == "[📷 photo] the lake"
    assert show_bubble("no media <here>") == "no media <here>"


def test_streamed_media_tag_prints_as_a_note():
    out = io.StringIO()
    printer = LinePrinter("Leo", out=out)
    for piece in ["<", "ph", "oto", ">", "\nlook", " at", " this\n<b", "ah>"]:
        printer.write(piece)
    printer.end()
    assert out.getvalue().splitlines() == ["Leo: [📷 photo]", "Leo: look at this", "Leo: <bah>"]
