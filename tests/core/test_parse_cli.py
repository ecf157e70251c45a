"""`wachat parse` through the real CLI, as a user runs it."""
from __future__ import annotations

import json
import zipfile

import pytest

from tests.conftest import FIXTURES, run_wachat
from wachat_tui.core.parse import iter_messages

EXPORTS = FIXTURES / "exports"
KEYS = {"time", "author", "text", "kind"}
OPTIONAL = {"edited", "attachment", "media_type"}


def test_jsonl_is_the_record_contract():
    path = EXPORTS / "android_group_24h_dmy.txt"
    proc = run_wachat("parse", str(path), "--jsonl", check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows == [m.to_json() for m in iter_messages(path)]
    assert len(rows) == 19
    for row in rows:
        assert KEYS <= set(row) <= KEYS | OPTIONAL
        assert len(row["time"]) == 19 and row["time"][10] == "T"        # ISO 8601, seconds
    assert rows[4]["text"] == "Yes!!\nBringing snacks.\n\nLots of snacks."
    assert {"time": "2023-03-14T10:13:00", "author": None, "kind": "system",
            "text": 'Priya changed the subject from "Hiking crew" to "Hike: Saturday"'} in rows
    assert proc.stderr == ""


def test_jsonl_keeps_unicode_readable():
    proc = run_wachat("parse", str(EXPORTS / "ios_arabic_digits.txt"), "--jsonl", check=True)
    assert "مرحبا" in proc.stdout                     # not \u escapes
    assert json.loads(proc.stdout.splitlines()[0])["time"] == "2022-03-18T14:56:00"


def test_summary(tmp_path):
    z = tmp_path / "WhatsApp Chat with Book club.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(EXPORTS / "ios_en_12h.txt", "_chat.txt")
    proc = run_wachat("parse", str(z), check=True)
    out = proc.stdout
    assert "_chat.txt" in out and "Book club" in out
    assert "ios, dates MDY, 12h clock" in out
    assert "records    12 (8 messages, 4 system events)" in out
    assert "Sam" in out and "Ravi K" in out
    assert "poll 1" in out and "media 2" in out
    assert "unparsed   0 line(s)" in out


def test_summary_lists_unparsed_lines():
    proc = run_wachat("parse", str(EXPORTS / "android_odd_lines.txt"), check=True)
    assert "unparsed   2 line(s)" in proc.stdout
    assert "line 4: '31/31/2020, 99:99 - not a real header'" in proc.stdout


def test_date_order_option():
    proc = run_wachat("parse", str(EXPORTS / "dotted_ambiguous.txt"), "--jsonl",
                      "--date-order", "mdy", check=True)
    assert json.loads(proc.stdout.splitlines()[0])["time"] == "2023-05-04T14:03:00"


def _bad_inputs(tmp_path):
    prose = tmp_path / "notes.txt"
    prose.write_text("Shopping list\nmilk\neggs\n")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../_chat.txt", "01/02/2021, 10:00 - A: b\n")
    nochat = tmp_path / "nochat.zip"
    with zipfile.ZipFile(nochat, "w") as zf:
        zf.writestr("IMG-1.jpg", b"\xff\xd8")
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(b"PK\x03\x04garbage")
    return [
        (prose, "not a WhatsApp export: none of the first 3 non-blank lines starts with a "
                "date/time header (line 1: 'Shopping list')"),
        (empty, "empty.txt is empty"),
        (binary, "photo.jpg is not a text file"),
        (evil, "unsafe member path '../../_chat.txt'"),
        (nochat, "no chat file in the zip"),
        (corrupt, "not a readable zip file"),
        (tmp_path / "missing.txt", "no such file"),
    ]


def test_bad_input_one_clear_line(tmp_path):
    for path, message in _bad_inputs(tmp_path):
        proc = run_wachat("parse", str(path))
        assert proc.returncode == 2, (path, proc.stderr)
        assert proc.stdout == ""
        lines = proc.stderr.splitlines()
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith("wachat: error: ") and message in lines[0], lines[0]
        assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("flag", [[], ["--jsonl"]])
def test_bad_input_with_jsonl_too(tmp_path, flag):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    proc = run_wachat("parse", str(path), *flag)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "line 1 does not start with a date/time header: 'hello'" in proc.stderr
