"""display.safe: control characters become visible placeholders; legitimate text is untouched."""
from __future__ import annotations

import re

import pytest
from rich.console import Console

from wachat_tui.display import has_unsafe, safe, safe_text

from .injection import BIDI, C1_CSI, CONTROL_RE, DCS, LEGIT, MARKUP, OSC8, OSC52, TITLE_SEQ


@pytest.mark.parametrize("raw, shown", [
    ("\x1b[2J", "␛[2J"),                                   # CSI: clear screen
    ("\x1b]52;c;aGk=\x07", "␛]52;c;aGk=␇"),                # OSC 52 clipboard write, BEL-terminated
    ("\x1b]8;;http://x\x1b\\a\x1b]8;;\x1b\\", "␛]8;;http://x␛\\a␛]8;;␛\\"),  # OSC 8 hyperlink
    ("\x1bP+q\x1b\\", "␛P+q␛\\"),                         # DCS
    ("a\x00b\x08c\x0bd\x0ce\rf", "a␀b␈c␋d␌e␍f"),          # other C0 controls: control pictures
    ("del\x7f", "del␡"),
    ("\x9b31m", "⟨U+009B⟩31m"),                            # C1 CSI
    ("\x85next", "⟨U+0085⟩next"),                          # NEL
    ("\u202eexe.txt\u202c", "⟨RLO⟩exe.txt⟨PDF⟩"),          # bidi override
    ("\u202a\u202b\u202d\u2066\u2067\u2068\u2069", "⟨LRE⟩⟨RLE⟩⟨LRO⟩⟨LRI⟩⟨RLI⟩⟨FSI⟩⟨PDI⟩"),
    ("bad \udcff byte", "bad \ufffd byte"),                 # a lone surrogate (surrogateescape)
])
def test_controls_become_visible_placeholders(raw, shown):
    assert safe(raw) == shown
    assert not CONTROL_RE.search(safe(raw)) and not has_unsafe(safe(raw))


@pytest.mark.parametrize("text", [
    LEGIT,                                                  # Hebrew/Arabic with RLM, ZWJ family, CJK, tab
    "line one\nline two\ttabbed",
    "👨\u200d💻 🏳️\u200d🌈 ❤️ 1️⃣",                           # ZWJ sequences, variation selectors, keycaps
    "עברית\u200e(LRM)\u200f · \u061cعربي",                 # LRM/RLM/ALM: legitimate marks stay
    "zero\u200bwidth · word\u2060joiner · \ufeffbom",
    MARKUP,                                                 # markup is plain text here (see below)
    "",
])
def test_legitimate_text_is_unchanged(text):
    assert safe(text) is text or safe(text) == text
    assert not has_unsafe(text)


def test_nothing_is_dropped_and_it_is_idempotent():
    hostile = f"a{OSC52}b{OSC8}c{C1_CSI}d{BIDI}e{DCS}f{TITLE_SEQ}g\x7f"
    shown = safe(hostile)
    assert shown.count("␛") == hostile.count("\x1b")
    assert shown.count("␇") == hostile.count("\x07")
    assert "⟨U+009B⟩" in shown and "⟨RLO⟩" in shown and "⟨PDF⟩" in shown and "␡" in shown
    # every other character is kept, in order
    assert re.sub("⟨[^⟩]*⟩|[\u2400-\u2421]", "", shown) == CONTROL_RE.sub("", hostile)
    assert safe(shown) == shown
    assert safe(None) == "" and safe(42) == "42"


def test_safe_text_is_never_parsed_as_markup():
    console = Console(record=True, width=120, force_terminal=True, color_system="truecolor")
    console.print(safe_text(f"{MARKUP} {OSC52}"))
    text = console.export_text(styles=False)
    assert "[bold red]loud[/]" in text and "[@click=app.quit]quit[/]" in text
    assert "␛]52;c;" in text and "\x1b]52" not in console.export_text(styles=True)
