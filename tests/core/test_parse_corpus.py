"""Conformance with the shared corpus of real exports (../shared/corpus/whatsapp).

Every file listed in EXPECT.json is checked against every key EXPECT.json gives for it, with the
comparison rules EXPECT.json states ("compare"). Header lines from other parsers' unit tests
(inline_cases.json) are checked where their convention agrees with EXPECT.json's.
The folder is not part of the project (several files are GPL): skipped when absent.
"""
from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta

import pytest

from tests.conftest import CORPUS
from wachat_tui.core.parse import iter_messages, parse_export
from wachat_tui.core.parse.dates import hms, ymd
from wachat_tui.errors import ParseError

pytestmark = pytest.mark.skipif(not (CORPUS / "EXPECT.json").exists(),
                                reason="shared corpus not present (../shared/corpus/whatsapp)")


def _load(name: str) -> dict:
    path = CORPUS / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


EXPECT = _load("EXPECT.json")
INLINE = _load("inline_cases.json")

# EXPECT.json "compare": drop U+200E/F, U+202A-E, U+2066-9, U+FEFF; collapse whitespace; strip.
_DROP = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"))


def norm(s):
    return None if s is None else " ".join(s.translate(_DROP).split())


@functools.lru_cache(maxsize=None)
def records(name: str) -> tuple:
    """`wachat parse FILE --jsonl` records (the same Message.to_json() rows the CLI prints)."""
    return tuple(m.to_json() for m in iter_messages(CORPUS / name))


def _cases():
    for name, exp in EXPECT.get("files", {}).items():
        if not exp:
            yield pytest.param(name, None, None, id=f"{name}-parses")
        for key, value in exp.items():
            yield pytest.param(name, key, value, id=f"{name}-{key}")


def _check(recs: tuple, key: str, value) -> None:
    authors = [norm(r["author"]) for r in recs]
    if key == "records":
        assert len(recs) == value
    elif key == "authors":
        assert sorted({a for a in authors if a is not None}) == sorted(norm(a) for a in value)
    elif key == "authors_include":
        present = {a for a in authors if a is not None}
        assert [a for a in value if norm(a) not in present] == []
    elif key == "author_never":
        assert norm(value) not in authors
    elif key == "authored":
        assert sum(a is not None for a in authors) == value
    elif key == "contains":
        for want in value:
            assert any(r["time"].startswith(want["time"]) and norm(r["author"]) == norm(want["author"])
                       and norm(r["text"]) == norm(want["text"]) for r in recs), want
    elif key == "sequence":
        got = [[r["time"][:len(t)], norm(r["author"])] for r, (t, _) in zip(recs, value)]
        assert len(recs) == len(value)
        assert got == [[t, norm(a)] for t, a in value]
    elif key == "last_text_exact":
        assert recs[-1]["text"] == value
    elif key == "first_text_contains":
        first = next(r for r in recs if r["author"] is not None and r["kind"] != "system")
        assert value in first["text"]
    elif key == "min_time":
        assert min(r["time"] for r in recs)[:len(value)] == value
    elif key == "max_time":
        assert max(r["time"] for r in recs)[:len(value)] == value
    elif key == "text_count":
        for text, n in value.items():
            assert sum(norm(r["text"]) == norm(text) for r in recs) == n, text
    else:  # a key this test does not know: fail loudly rather than pass silently
        raise AssertionError(f"EXPECT.json key {key!r} is not implemented by this test")


@pytest.mark.parametrize("name,key,value", list(_cases()))
def test_corpus_file_conforms(name, key, value):
    recs = records(name)
    assert recs, f"{name}: no records"
    if key is not None:
        _check(recs, key, value)


def test_every_corpus_file_is_listed_and_parses_cleanly():
    listed = set(EXPECT["files"])
    on_disk = {p.name for p in CORPUS.glob("*.txt")}
    assert on_disk <= listed, on_disk - listed
    for name in sorted(on_disk):
        parsed = parse_export(CORPUS / name)
        assert parsed.info.unparsed == [], (name, parsed.info.unparsed[:3])
        for m in parsed.messages:
            assert m.author is None or (m.author == m.author.strip() and m.author), (name, m)
            assert not any(c in (m.author or "") for c in "\u200e\u200f\u202a\u202c\ufeff"), (name, m)
            assert (m.author is None) == (m.kind == "system"), (name, m)


# -- the corpus's notable variants, asserted explicitly ----------------------------------------

def test_corpus_details():
    by = {n: records(n) for n in EXPECT["files"]}
    # iOS group: the notice "written" by the group is a system event; the group is never an author
    assert all(r["author"] != "SF PARC" for r in by["tree-sitter-whatsapp__chat.txt"])
    poll = [r for r in by["tree-sitter-whatsapp__chat.txt"] if r["kind"] == "poll"]
    assert len(poll) == 1 and poll[0]["text"].count("OPTION:") == 7
    edited = [r for r in by["tree-sitter-whatsapp__chat.txt"] if r.get("edited")]
    assert [r["text"] for r in edited] == ["Tactical Advancement at 2pm with Nef tomorrow!!"]
    assert {"Martin", "Nick Linck", "Uma"} <= {r["author"] for r in by["tree-sitter-whatsapp__chat.txt"]}
    # Arabic-Indic digits, RLM inside the date, م = PM
    assert by["whats_json__arabic_ios.txt"][0]["time"] == "2022-03-18T14:56:00"
    # Buddhist era 2565 = 2022
    assert by["whats_json__calendars_Buddhist_iOS.txt"][0]["time"] == "2022-03-18T14:56:01"
    # time before date
    assert by["whats_json__vietnamese_ios.txt"][1]["time"] == "2022-03-27T21:41:35"
    # "<attached: …>" keeps the file name; view-once "image omitted" is media, not text
    dmitry = by["whats_json__chats_unique_WhatsApp_Chat_-_Dmitry_S.txt"]
    assert {r.get("attachment") for r in dmitry} >= {
        "00000035-PHOTO-2022-03-27-21-41-55.jpg", "00000042-TR.vcf", "00000046-Some file.txt"}
    assert [r["kind"] for r in dmitry if norm(r["text"]) == "image omitted"] == ["media"]
    # per-language kinds: 4 text, 2 location, 2 deleted in each iOS language file
    for name in ("whats_json__english_ios.txt", "whats_json__deutch_ios.txt",
                 "whats_json__spanish_ios.txt", "whats_json__french_ios.txt",
                 "whats_json__portugal_ios.txt", "whats_json__arabic_ios.txt",
                 "whats_json__arabic2_ios.txt", "whats_json__hindi_ios.txt",
                 "whats_json__vietnamese_ios.txt"):
        kinds = [r["kind"] for r in by[name]]
        assert (kinds.count("text"), kinds.count("location"), kinds.count("deleted"),
                kinds.count("system")) == (4, 2, 2, 1), (name, kinds)
    for name in ("whats_json__english_android.txt", "whats_json__russian_android.txt",
                 "whats_json__czech_android.txt"):
        kinds = [r["kind"] for r in by[name]]
        assert (kinds.count("text"), kinds.count("contact"), kinds.count("location"),
                kinds.count("call"), kinds.count("view_once")) == (15, 2, 3, 2, 2), (name, kinds)
    # 23:59 PM (hand-edited) reads as 23:59
    ampm = by["WhatsR__englishandroidampm.txt"]
    assert ampm[34]["time"] == "2018-01-29T23:59:00" and ampm[38]["time"] == "2018-01-30T00:04:00"
    # mixed CRLF/LF with a blank line inside a message
    assert by["port-whatsapp-datadonation___chat_file3.txt"][1]["text"] == "Hi \n\nshiva!"


def test_corpus_zip_roundtrip(tmp_path):
    """A corpus file inside a zip (as phones send it) parses exactly like the .txt."""
    import zipfile

    name = "whats_json__chats_unique_WhatsApp_Chat_-_Dmitry_S.txt"
    z = tmp_path / "WhatsApp Chat - Dmitry S.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(CORPUS / name, "_chat.txt")
        zf.writestr("00000035-PHOTO-2022-03-27-21-41-55.jpg", b"\xff\xd8\xff")
    assert tuple(m.to_json() for m in iter_messages(z)) == records(name)


# -- inline header lines from other parsers' tests -----------------------------------------------

# Cases whose convention differs from EXPECT.json's / the brief (or that are not whole lines).
INLINE_SKIP = {
    11: "a lone ambiguous en-US '3/6/18, 1:55 PM' line: that parser defaults to day-first, "
        "ours reads English AM/PM slashed dates month-first (locale hint)",
    24: "empty input: the brief wants a clear error, that parser returns no messages",
    74: "'10:35 PM, 07 20' has no year: not a WhatsApp format",
    86: "needs a user-supplied custom format",
    93: "that parser warns on space-separated dates; not a WhatsApp format",
    97: "':Elon Musk:' — that parser rejects the sender; we keep the line as a message",
    101: "date fragment (tested with the date reader below)",
    102: "date fragment (tested with the date reader below)",
    103: "time fragment (tested with the time reader below)",
}


def _inline_cases():
    for i, case in enumerate(INLINE.get("cases", [])):
        marks = (pytest.mark.skip(reason=INLINE_SKIP[i]),) if i in INLINE_SKIP else ()
        yield pytest.param(i, case, id=f"{i}-{case['source'].split('/')[-1]}", marks=marks)


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "").split(".")[0])


@pytest.mark.parametrize("i,case", list(_inline_cases()))
def test_inline_case(i, case, tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text(case["input"], encoding="utf-8")
    exp = case["expected"]
    opts = case.get("options") or {}
    order = None
    if "daysFirst" in opts:
        order = "DMY" if opts["daysFirst"] else "MDY"
    if exp.get("result", 1) is None or exp.get("match", 1) is None and "reason" not in exp:
        with pytest.raises(ParseError):
            parse_export(path)
        return
    msgs = parse_export(path, date_order=order).messages
    first = msgs[0]
    if "date_iso_utc" in exp:
        assert first.time == _utc(exp["date_iso_utc"])
    if "dates_iso_utc" in exp:
        assert [m.time for m in msgs] == [_utc(t) for t in exp["dates_iso_utc"]]
    if "time_utc" in exp:
        tol = timedelta(seconds=exp.get("tolerance_seconds", 0) + 1)
        assert len(msgs) == len(exp["time_utc"])
        for m, t in zip(msgs, exp["time_utc"]):
            assert abs(m.time - _utc(t)) <= tol
    if "getDate" in exp:
        assert (first.time.day, first.time.month - 1) == (exp["getDate"], exp["getMonth_0based"])
    if "year" in exp:
        assert (first.time.year, first.time.month - 1, first.time.day, first.time.hour,
                first.time.minute) == (exp["year"], exp["getMonth_0based"], exp["getDate"],
                                       exp["hours"], exp["minutes"])
    if "timestamp" in exp:
        assert first.time == datetime.fromisoformat(exp["timestamp"])
    if "author" in exp:
        if isinstance(exp["author"], list):
            assert [m.author for m in msgs] == exp["author"]
        else:
            assert first.author == exp["author"]
    for key in ("message", "body", "content"):
        if key in exp:
            assert first.text == exp[key]
    if "sender" in exp:
        assert first.author == exp["sender"]
    if "date" in exp and "time" in exp:      # whats_json: M/D/YY + time strings
        mo, d, y = exp["date"].split("/")
        if int(mo) <= 12 and "pattern" in exp and exp["pattern"] == "systemUniversal":
            mo, d = d, mo                     # its system-line test uses d/m/yyyy
        want = datetime(2000 + int(y) if len(y) == 2 else int(y), int(mo), int(d),
                        *map(int, (exp["time"] + ":0").split(":")[:3]))
        assert first.time == want
    if "system" in exp:
        assert (first.kind == "system") == exp["system"]
    if "merged_msg" in exp:
        assert len(msgs) == 1 and first.text == exp["merged_msg"].split(": ", 1)[1]
    if "attachment.fileName" in exp:
        assert first.attachment == exp["attachment.fileName"]
    if "count" in exp:
        assert len(msgs) == exp["count"]
        assert [m.text for m in msgs] == exp["bodies"]
    if "platform" in exp:
        assert parse_export(path).info.platform == exp["platform"]


def test_date_and_time_fragments():
    # whats_json unit tests: Reiwa 4 and Buddhist 2565 are 2022; "٢:٥٦:٠٠ م" is 14:56:00
    assert ymd("3", "18", "R4", None, "MDY") == (2022, 3, 18)
    assert ymd("3", "18", "2565", "BE", "MDY") == (2022, 3, 18)
    assert hms("٢", "٥٦", "٠٠", None, "م") == (14, 56, 0)
