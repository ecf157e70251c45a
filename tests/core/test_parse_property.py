"""Property: whatever the input, the parser yields records or raises its own ParseError."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wachat_tui.core.parse import iter_messages
from wachat_tui.core.records import KINDS, Message
from wachat_tui.errors import ParseError

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

_TMP = Path(tempfile.mkdtemp(prefix="wachat-prop-"))

# Pieces real headers are made of, to reach deep into the parser rather than failing at line 1.
MARKS = st.sampled_from(["", "\u200e", "\u200f", "\ufeff", "\u202a", "\u2068"])
SPACE = st.sampled_from([" ", "\u00a0", "\u202f", "", "  "])
DIGITS = st.text(alphabet="0123456789١٢٣٤٥٦٧٨٩٠", min_size=1, max_size=4)
AMPM = st.sampled_from(["", "AM", "PM", "am", "p.m.", "a. m.", "م", "ص", "午後", "SA"])
DATE_SEP = st.sampled_from(["/", ".", "-", ". ", "\u200f/"])
TERM = st.sampled_from([" - ", "] ", ": ", "; ", " ", " – ", "]"])
NAME = st.text(min_size=0, max_size=12).filter(lambda s: "\n" not in s and "\r" not in s)
BODY = st.text(max_size=40).filter(lambda s: "\r" not in s)


@st.composite
def header_line(draw):
    bracket = draw(st.booleans())
    d = draw(DATE_SEP)
    date = draw(DIGITS) + d + draw(DIGITS) + d + draw(DIGITS) + draw(st.sampled_from(["", " BE", "."]))
    time = draw(DIGITS) + ":" + draw(DIGITS) + draw(st.sampled_from(["", ":" + "00"]))
    time += draw(SPACE) + draw(AMPM)
    dt = (time + ", " + date) if draw(st.booleans()) else (date + draw(st.sampled_from([", ", " ", "، "])) + time)
    line = draw(MARKS) + ("[" if bracket else "") + draw(MARKS) + dt + draw(TERM)
    if draw(st.booleans()):
        line += draw(NAME) + ":" + draw(st.sampled_from([" ", ""]))
    return line + draw(MARKS) + draw(BODY)


def _run(data: bytes) -> None:
    path = _TMP / "input.txt"
    path.write_bytes(data)
    try:
        msgs = list(iter_messages(path))
    except ParseError as exc:
        line = exc.one_line()
        assert line and "\n" not in line
        return
    for m in msgs:
        assert isinstance(m, Message)
        assert m.kind in KINDS
        assert m.author is None or m.author.strip() == m.author
        m.to_json()


@SETTINGS
@given(st.text())
def test_arbitrary_text_never_crashes(text):
    _run(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_crash(data):
    _run(data)


@SETTINGS
@given(st.lists(st.one_of(header_line(), BODY), min_size=1, max_size=25),
       st.sampled_from(["\n", "\r\n", "\r"]))
def test_header_like_lines_never_crash(lines, newline):
    _run(newline.join(lines).encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.lists(header_line(), min_size=1, max_size=10), st.sampled_from(["utf-8", "utf-16"]))
def test_header_like_lines_in_other_encodings(lines, encoding):
    _run("\n".join(lines).encode(encoding, "surrogatepass"))


# -- the fast paths give the careful path's records ------------------------------------------------

CHAT_NAMES = st.sampled_from(["Ann", "Bob", "~ Cy", "Team", 'Dee "D', "Ann Lee", "\u200eEve", "Bob:"])
CHAT_TEXTS = st.sampled_from([
    "hi", "ok (fine)", "<Media omitted>", "image omitted", "This message was deleted",
    "https://example.com/x", "location: https://maps.google.com/?q=1,2", "Ann added Bob",
    "Bob left", "see you <This message was edited>", "\u200eimage omitted", "a\u200eb", "Ann: hi",
    "Messages and calls are end-to-end encrypted. No one outside of this chat can read them.",
    "POLL:\nwhere?", "Missed voice call", "x > y", "", "2 apples", "01/02/2021 is a date",
])


@st.composite
def chat_export(draw):
    """Android-style lines: mostly headers by a few names (some odd), some continuations."""
    out = []
    minute = 0
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            out.append(draw(CHAT_TEXTS))                          # a continuation line
            continue
        minute += draw(st.sampled_from([0, 0, 1, 7, 600]))
        day, hm = divmod(minute, 1440)
        head = f"{1 + day % 28:02d}/{1 + day // 28 % 12:02d}/2021, {hm // 60:02d}:{hm % 60:02d} - "
        if kind == 1:
            out.append(head + draw(CHAT_TEXTS))                    # a notice, no author
        else:
            out.append(head + draw(CHAT_NAMES) + ": " + draw(CHAT_TEXTS))
    return "\n".join(out) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=200, deadline=None)
@given(chat_export(), st.sampled_from([2, 5]), st.sampled_from([16, 64, 1 << 20]))
def test_fast_paths_agree_with_the_careful_path(text, lookahead, chunk):
    """Records through the look-ahead (every record via the careful path) equal the records of
    the hot loops and of the look-ahead's quick rule, whatever the block size."""
    from wachat_tui.core.parse import ExportInfo, ParseOptions

    path = _TMP / "chat_prop.txt"
    path.write_text(text, encoding="utf-8")

    def rows(options):
        try:
            return [m.to_json() for m in iter_messages(path, options)]
        except ParseError as exc:
            return exc.one_line()

    info = ExportInfo()
    try:
        careful = [m.to_json() for m in iter_messages(path, ParseOptions.careful(), info=info)]
    except ParseError as exc:
        careful = exc.one_line()
    order = info.date_order if not isinstance(careful, str) else None
    assert rows(ParseOptions(date_order=order, early_decision=False)) == careful
    small = {"lookahead": lookahead, "chunk_bytes": chunk, "sniff_bytes": min(chunk, ParseOptions().sniff_bytes)}
    assert rows(ParseOptions(date_order=order, early_decision=False, **small)) == careful   # the C hot loop
    assert rows(ParseOptions(date_order=order, early_decision=False, use_c=False, **small)) == careful
