"""The parser's hot loop (C, core/parse/_hotloop.c, and its pure-Python twin) against the careful path.

After the date order is decided, records come from a hot loop: header templates and caches
instead of the regex, and shortcuts instead of RecordBuilder.build. Whatever the export's style, every
record must equal the one the careful path (ParseOptions.careful(): everything held back, every
record via RecordBuilder.build) gives, and the unparsed lines must be the same lines.
"""
from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wachat_tui.core.parse import ExportInfo, ParseOptions, iter_messages
from wachat_tui.core.parse import hotloop
from wachat_tui.core.parse.build import RecordBuilder
from wachat_tui.core.parse.dates import DateReader
from wachat_tui.errors import ParseError

_TMP = Path(tempfile.mkdtemp(prefix="wachat-hot-"))

AUTHORS = ["Ann", "Bob", "~ Cy", "Ann Lee", "\u200eEve", 'Dee "D', "Zoë 🌸", "Team"]
TEXTS = [
    "hi", "ok (fine)", "ok :)", "x > y", "2 apples", "", "see you at 5", "haha 😂😂", "Ann",
    "Ann: hi", "Ann added Bob", "Bob left", "<Media omitted>", "image omitted", "\u200eimage omitted",
    "This message was deleted", "You deleted this message", "Missed voice call",
    "Missed video call, Tap to call back", "https://example.com/x", "see https://example.com/y ok",
    "location: https://maps.google.com/?q=1,2", "https://maps.google.com/?q=52.1,4.3",
    "Cafe (Main St): https://foursquare.com/v/abc", "IMG-20200101-WA0001.jpg (file attached)",
    "<attached: 00000042-PHOTO-2020-01-01-10-00-00.jpg>", "see you <This message was edited>",
    "a\u200eb", "\u200fhello", "POLL:", "POLL", "Resume.pdf • 2 pages \u200edocument omitted",
    "Messages and calls are end-to-end encrypted. No one outside of this chat can read them.",
    "01/02/2021 is a date", "12:30 works", "[ok]", "null", "Location: somewhere",
    "http://x.y/z: what", "note: bring snacks", "MISSED VOICE CALL", "  spaced   out  ",
    "\u202bRTL text\u202c", "emoji only 🎉", "tab\there", "POLL\n: lunch?\n- pizza", "two\nlines",
    "Quarterly report final version for the board meeting and the offsite in June • 14 pages document omitted\nok",
    "Quarterly report final version for the board meeting and the team offsite in June • 14 pages\nok",
    "📄 report document omitted\nok", "Missed voice call, 📞 tap\nok", "🎉🎉 PARTY 🎉\nat 8",
    "a first line that is rather long, longer than eighty characters, with no bullet in it\nsee",
]
CONTINUATIONS = TEXTS + ["where?", "- option a", ": colon first", "", "   ", "21/13/2021, 10:00 - x"]


@st.composite
def style(draw):
    return {
        "order": draw(st.sampled_from(["DMY", "MDY", "YMD"])),
        "sep": draw(st.sampled_from(["/", ".", "-"])),
        "y2": draw(st.booleans()),
        "pad": draw(st.booleans()),
        "dt_sep": draw(st.sampled_from([", ", " "])),
        "clock": draw(st.sampled_from(["24", "AM", "am", "a. m.", "a.m."])),
        "ampm_space": draw(st.sampled_from([" ", "\u202f", "\u00a0"])),
        "seconds": draw(st.booleans()),
        "ios": draw(st.booleans()),
        "lrm": draw(st.booleans()),
    }


def header(s: dict, t: datetime, *, bad_month: bool = False) -> str:
    day, month = t.day, (13 if bad_month else t.month)
    d = f"{day:02d}" if s["pad"] else str(day)
    m = f"{month:02d}" if s["pad"] else str(month)
    y = f"{t.year % 100:02d}" if s["y2"] else str(t.year)
    parts = {"D": d, "M": m, "Y": y}
    date = s["sep"].join(parts[c] for c in s["order"])
    if s["clock"] == "24":
        tm = f"{t.hour:02d}:{t.minute:02d}"
    else:
        h12 = t.hour % 12 or 12
        tm = f"{h12}:{t.minute:02d}"
    if s["seconds"]:
        tm += f":{t.second:02d}"
    if s["clock"] != "24":
        am = t.hour < 12
        marker = {"AM": "AM" if am else "PM", "am": "am" if am else "pm",
                  "a. m.": "a.\u00a0m." if am else "p.\u00a0m.",
                  "a.m.": "a.m." if am else "p.m."}[s["clock"]]
        tm += s["ampm_space"] + marker
    if s["ios"]:
        return ("\u200e" if s["lrm"] else "") + f"[{date}{s['dt_sep']}{tm}] "
    return f"{date}{s['dt_sep']}{tm} - "


@st.composite
def styled_export(draw):
    """An export in one random header style, with the odd lines real exports have."""
    s = draw(style())
    # a header of another style quoted in a message; same clock, as the locale hints that
    # rank the fallback orders (for dates impossible in the decided order) come from the
    # held-back headers: a forced order after 2 of them cannot know a 12-hour clock seen later
    other = {**draw(style()), "clock": s["clock"]}
    t = datetime(2021, 1, 28, 23, 50, 5)
    lines = []
    for _ in range(draw(st.integers(1, 60))):
        ev = draw(st.integers(0, 19))
        t += draw(st.sampled_from([timedelta(0), timedelta(seconds=40), timedelta(minutes=7),
                                   timedelta(hours=10), timedelta(days=3)]))
        if ev <= 11:
            lines.append(header(s, t) + draw(st.sampled_from(AUTHORS)) + ": " + draw(st.sampled_from(TEXTS)))
        elif ev <= 13:
            lines.append(draw(st.sampled_from(CONTINUATIONS)))
        elif ev == 14:
            lines.append(header(s, t) + draw(st.sampled_from(TEXTS)))          # no author
        elif ev == 15:
            lines.append(header(s, t, bad_month=True) + "Ann: bad date")        # month 13
        elif ev == 16:
            lines.append(header(other, t) + "Bob: another style")              # a quoted header
        elif ev == 17:
            lines.append("")
        elif ev == 18:
            lines.append(header(s, t) + "Ann: " + draw(st.sampled_from(TEXTS)) + "\n"
                         + draw(st.sampled_from(CONTINUATIONS)))
        else:
            lines.append(header(s, t) + draw(st.sampled_from(AUTHORS)) + ":")  # "Name:" alone
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


def _parse(path: Path, options: ParseOptions | None = None):
    info = ExportInfo()
    try:
        rows = [m.to_json() for m in iter_messages(path, options, info=info)]
    except ParseError as exc:
        return exc.one_line(), None
    return rows, info


def careful(path: Path):
    """Every record held back in the look-ahead and built by the careful path."""
    return _parse(path, ParseOptions.careful())


def hot(path: Path, order: str | None, *, use_c: bool, chunk: int):
    # the first read is sniff_bytes: small ones too, so lines are cut at every chunk boundary
    return _parse(path, ParseOptions(date_order=order, use_c=use_c, lookahead=2, chunk_bytes=chunk,
                                     sniff_bytes=min(chunk, ParseOptions().sniff_bytes)))


def test_c_hot_loop_is_built():
    """`make setup` compiles core/parse/_hotloop.c (a C compiler is part of the setup contract);
    without it the parser still works, ~4x slower."""
    assert hotloop.CScanner is not None, "wachat_tui.core.parse._hotloop is not built: run `make setup`"


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(styled_export(), st.sampled_from([16, 100, 1 << 20]))
def test_hot_loops_give_the_careful_records(text, chunk):
    path = _TMP / "styled.txt"
    path.write_text(text, encoding="utf-8")
    ref, info = careful(path)
    order = info.date_order if info is not None else None
    for use_c in (True, False):
        rows, hinfo = hot(path, order, use_c=use_c, chunk=chunk)
        assert rows == ref, f"use_c={use_c}"
        if info is not None:
            assert [ln for ln, _ in hinfo.unparsed] == [ln for ln, _ in info.unparsed]


def _big_export(path: Path, n: int, start: datetime) -> None:
    t = start
    lines = []
    for i in range(n):
        t += timedelta(minutes=37)
        who = "Maya" if i % 3 else "Leo"
        body = ["hey", "ok (sure)", "<Media omitted>", "line one\nline two", "https://x.org/a",
                "haha 😂", "This message was deleted"][i % 7]
        lines.append(f"{t:%d/%m/%Y}, {t:%H:%M} - {who}: {body}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def held(monkeypatch):
    """How many headers each _decide call saw (the look-ahead held back)."""
    sizes: list[int] = []
    real_decide = DateReader.decide

    def spy(self, groups):
        sizes.append(len(groups))
        return real_decide(self, groups)

    monkeypatch.setattr(DateReader, "decide", spy)
    return sizes


def test_early_decision_changes_nothing_but_how_much_is_held_back(tmp_path, held):
    """A day past the 12th settles day-first at once; the records and the info are those of
    the full look-ahead."""
    path = tmp_path / "chat.txt"
    lookahead = ParseOptions().lookahead
    _big_export(path, lookahead + 500, datetime(2022, 5, 10, 8, 0))
    early, info_e = _parse(path, ParseOptions(early_decision=True))
    full, info_f = _parse(path, ParseOptions(early_decision=False))
    assert held[0] < 200 and held[1] >= lookahead       # decided within the first days
    assert early == full
    assert info_e.date_order == info_f.date_order == "DMY"
    assert info_e.unparsed == info_f.unparsed


def test_early_decision_waits_while_dates_are_ambiguous(tmp_path, held):
    """Dates that read both ways (every day ≤ 12) keep the full look-ahead."""
    path = tmp_path / "chat.txt"
    _big_export(path, 200, datetime(2022, 5, 1, 8, 0))       # 1–6 May: ambiguous
    _parse(path)
    assert held == [200]


def test_a_typical_export_runs_through_the_c_loop(tmp_path, monkeypatch):
    path = tmp_path / "chat.txt"
    _big_export(path, 3000, datetime(2022, 5, 10, 8, 0))
    if hotloop.CScanner is None:
        pytest.skip("the C hot loop is not built")
    made = []
    real = hotloop.CScanner

    def spy(*a):
        made.append(real(*a))
        return made[-1]

    monkeypatch.setattr(hotloop, "CScanner", spy)
    rows, _ = _parse(path)
    assert len(made) == 1 and len(rows) == 3000
    assert _parse(path, ParseOptions(use_c=False))[0] == rows


def test_the_python_loop_builds_plain_lines_by_the_quick_rule(tmp_path, monkeypatch):
    """The quick rule (RecordBuilder.quick) is what the Python loop takes for plain one-line
    texts: the careful path only sees the records it cannot vouch for."""
    path = tmp_path / "chat.txt"
    _big_export(path, 3000, datetime(2022, 5, 10, 8, 0))
    careful_calls = []
    real_build = RecordBuilder.build

    def spy(self, dt, rest):
        careful_calls.append(rest)
        return real_build(self, dt, rest)

    monkeypatch.setattr(RecordBuilder, "build", spy)
    rows, _ = _parse(path, ParseOptions(use_c=False))
    assert len(rows) == 3000
    # "hey", "<Media omitted>", "haha 😂" and the deletion notice (4 of every 7 texts) take the
    # quick rule once their author is known; links, brackets and two-line texts do not
    assert len(careful_calls) < 3000 * 3 / 7 + 50
    assert not any(r.endswith(": hey") for r in careful_calls[100:])


@pytest.mark.parametrize("use_c", [True, False])
def test_over_long_line_refused_in_the_hot_loop(tmp_path, use_c):
    path = tmp_path / "chat.txt"
    _big_export(path, 400, datetime(2022, 5, 10, 8, 0))
    last = path.read_text(encoding="utf-8").count("\n") + 1
    with path.open("a", encoding="utf-8") as fh:
        fh.write("x" * 20_000)
    options = ParseOptions(max_message_chars=5_000, use_c=use_c, chunk_bytes=1024, sniff_bytes=1024)
    with pytest.raises(ParseError, match=rf"line {last} is longer than 5,000 characters"):
        list(iter_messages(path, options))


# -- messages.jsonl lines (json_lines in C) ------------------------------------------------------
def _lines_both_ways(messages) -> tuple[bytes, bytes]:
    return (b"".join(hotloop.message_json_lines(messages, batch=7)),
            b"".join(hotloop.message_json_lines(messages, batch=7, use_c=False)))


def test_message_lines_in_c_are_the_python_lines():
    import json
    from datetime import timezone

    from wachat_tui.core.records import Message

    odd = "".join(map(chr, range(0, 0x30))) + '"\\\x7f\x80\u00e9\u07ff\u0800\u2028\u2029\uffff\U0001f600\U0010ffff'
    msgs = [Message(datetime(2024, 1, 2, 3, 4, 5), None, 'He said "hi"\n\tthen\u2028left', "system"),
            Message(datetime(2024, 1, 2, 3, 4, 5, 678), "Zoë 🌸", "\x01 ctrl é", "media", True, "IMG 1.jpg", "photo"),
            Message(datetime(2024, 1, 2, 3, 4, 6), "A\\B", "", "text", False, "", None),
            Message(datetime(1, 1, 1), odd, odd, odd, False, odd, odd),
            Message(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "tz", "aware", "text"),   # fallback
            Message(datetime(2024, 1, 2), "Ann", "edited as a number", "text", 1, None, ""),      # fallback
            Message(datetime(9999, 12, 31, 23, 59, 59, 999999), "学生", "中文 текст עברית", "text")]
    c, py = _lines_both_ways(msgs)
    if hotloop._c_json_lines is None:
        pytest.skip("the C extension is not built")
    assert c == py
    assert c.decode("utf-8").split("\n")[:-1] == [json.dumps(m.to_json(), ensure_ascii=False) for m in msgs]
    assert _lines_both_ways([]) == (b"", b"")
    lone = [Message(datetime(2024, 1, 2), "Ann", "half \ud83d a pair", "text")]
    for use_c in (True, False):   # what could not be written before cannot be now, either way
        with pytest.raises(UnicodeEncodeError):
            b"".join(hotloop.message_json_lines(lone, use_c=use_c))


def test_message_lines_in_c_on_every_fixture_and_corpus_file():
    from tests.conftest import CORPUS

    if hotloop._c_json_lines is None:
        pytest.skip("the C extension is not built")
    files = sorted(Path(__file__).resolve().parent.parent.joinpath("fixtures").rglob("*.txt"))
    files += sorted(CORPUS.glob("*.txt")) if CORPUS.exists() else []
    checked = 0
    for path in files:
        try:
            messages = list(iter_messages(path))
        except ParseError:
            continue
        c, py = _lines_both_ways(messages)
        assert c == py, path.name
        checked += 1
    assert checked >= 3

