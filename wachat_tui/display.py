"""The one place untrusted text is made safe to show: messages, names, chat titles, file names,
generated replies.

Every byte of an export was typed by somebody else, and every generated reply is a model's
free output; a terminal acts on the control characters in them (``ESC[2J`` clears the screen,
OSC 52 writes the clipboard, OSC 8 makes links, bidi overrides make text read backwards).
:func:`safe` replaces each such character with a visible placeholder — never dropping it, so
what was there can still be seen — and leaves everything else exactly as it was: emoji, ZWJ
sequences, Hebrew and Arabic with their LRM/RLM marks, CJK, newlines and tabs.

* C0 controls (except ``\\n`` and ``\\t``) → the Unicode control pictures (``ESC`` → ``␛``,
  ``BEL`` → ``␇``, ``CR`` → ``␍`` …), DEL → ``␡``. An escape sequence is thereby disarmed:
  ``ESC[2J`` shows as ``␛[2J``, an OSC 52 clipboard write as ``␛]52;c;…␇``.
* C1 controls (U+0080–U+009F, among them the one-character CSI U+009B) → ``⟨U+009B⟩``.
* Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) → ``⟨RLO⟩`` etc.
* Lone surrogates (undecodable bytes kept by ``surrogateescape``) → ``�``.

Sanitising is for display only: stored records stay exactly what the person wrote.
Markup is the other half: text shown through Rich or Textual goes in as a ``rich.text.Text``
(:func:`safe_text`) or with ``markup=False``, never formatted into a markup string, so
``[bold red]`` or ``[@click=app.quit]`` in a message is shown literally.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["safe", "safe_text", "has_unsafe", "BIDI_NAMES", "UNSAFE_RE"]

#: Names of the bidi formatting characters that can disguise text (Unicode's abbreviations).
BIDI_NAMES = {
    0x202A: "LRE", 0x202B: "RLE", 0x202C: "PDF", 0x202D: "LRO", 0x202E: "RLO",
    0x2066: "LRI", 0x2067: "RLI", 0x2068: "FSI", 0x2069: "PDI",
}

#: Every character :func:`safe` replaces.
UNSAFE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if chr(code) not in "\n\t":
            table[code] = chr(0x2400 + code)   # the control pictures: U+2400 NUL … U+241F US
    table[0x7F] = "\u2421"                     # ␡
    for code in range(0x80, 0xA0):
        table[code] = f"⟨U+{code:04X}⟩"
    for code, name in BIDI_NAMES.items():
        table[code] = f"⟨{name}⟩"
    for code in range(0xD800, 0xE000):
        table[code] = "\ufffd"
    return table


_TABLE = _table()


def has_unsafe(text: str) -> bool:
    """Whether ``text`` holds a character :func:`safe` would replace."""
    return UNSAFE_RE.search(text) is not None


def safe(text: Any) -> str:
    """``text`` (any object: ``str()`` is applied) with every terminal control character,
    escape-sequence introducer and text-disguising bidi control replaced by a visible
    placeholder; unchanged when it holds none (the common case costs one regex scan)."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if UNSAFE_RE.search(text) is None:
        return text
    return text.translate(_TABLE)


def safe_text(text: Any, style: str = "", **kwargs: Any):
    """A ``rich.text.Text`` of :func:`safe` ``(text)``: shown literally by Rich and Textual
    (no markup is parsed from it), with ``style`` applied to all of it."""
    from rich.text import Text

    return Text(safe(text), style=style, **kwargs)
