"""The parser on the project's own fixtures (tests/fixtures/exports, invented text): every
format variant, encodings, line ends, zips (normal and hostile) and bad input."""
from __future__ import annotations

import zipfile
from datetime import datetime

import pytest

from tests.conftest import FIXTURES
from wachat_tui.core.parse import (MAX_PREAMBLE_LINES, MAX_UNPARSED, ExportInfo, ParseOptions,
                                   iter_messages, parse_export)
from wachat_tui.errors import ParseError

EXPORTS = FIXTURES / "exports"
LRM, NNBSP = "\u200e", "\u202f"


def rows(path, options=None, **kw):
    return [m.to_json() for m in iter_messages(path, options, **kw)]


def brief(path, **kw):
    """(time, author, text, kind) per record: what a user would look at."""
    return [(r["time"], r["author"], r["text"], r["kind"]) for r in rows(path, **kw)]


# -- formats ------------------------------------------------------------------------------------

def test_android_group_every_kind():
    parsed = parse_export(EXPORTS / "android_group_24h_dmy.txt")
    info, msgs = parsed.info, parsed.messages
    assert (info.platform, info.date_order, info.time_format, info.encoding) == ("android", "DMY", "24h", "utf-8")
    assert info.unparsed == []
    kinds = [(m.author, m.kind) for m in msgs]
    assert kinds[:3] == [(None, "system")] * 3
    assert [m.text for m in msgs[:3]] == [msgs[0].text, 'Priya created group "Hiking crew"',
                                          "Priya added Tomás and Wen"]
    by_text = {m.text: m for m in msgs}
    # multi-line message keeps its line breaks and its blank line
    assert by_text["Yes!!\nBringing snacks.\n\nLots of snacks."].author == "Tomás"
    assert by_text["<Media omitted>"].kind == "media"
    assert by_text["This message was deleted"].kind == "deleted"
    assert by_text["You deleted this message"].kind == "deleted"
    assert by_text["location: https://maps.google.com/?q=47.3769,8.5417"].kind == "location"
    vcf = by_text["Kofi.vcf (file attached)"]
    assert (vcf.kind, vcf.attachment) == ("contact", "Kofi.vcf")
    photo = by_text["IMG-20230314-WA0003.jpg (file attached)\nthe trail map"]
    assert (photo.kind, photo.media_type, photo.attachment) == ("media", "photo", "IMG-20230314-WA0003.jpg")
    voice = by_text["PTT-20230314-WA0004.opus (file attached)"]
    assert (voice.kind, voice.media_type) == ("media", "voice")
    assert by_text["Missed voice call"].kind == "call"
    assert by_text["null"].kind == "view_once"
    edited = by_text["Meet at 7:30 - parking lot B"]
    assert edited.edited and edited.kind == "text" and edited.author == "Tomás"
    # a subject with ": " inside quotes is a system event, not a message by 'Priya changed…'
    subject = by_text['Priya changed the subject from "Hiking crew" to "Hike: Saturday"']
    assert (subject.author, subject.kind) == (None, "system")
    assert (by_text["Wen left"].author, by_text["Wen left"].kind) == (None, "system")
    assert by_text["See you there: 7:30 sharp"].author == "Priya"
    assert info.participants == ["Priya", "Tomás", "Wen"]       # ties ranked by name
    assert info.counts_by_author == {"Priya": 5, "Tomás": 5, "Wen": 4}
    assert info.counts_by_kind["system"] == 5
    assert sum(info.counts_by_kind.values()) == len(msgs) == 19
    assert msgs[-1].time == datetime(2023, 3, 15, 8, 0)


def test_android_12h_mdy_crlf_and_hand_edited_hours():
    got = brief(EXPORTS / "android_12h_mdy_crlf.txt")
    assert [t for t, *_ in got] == [
        "2024-03-09T23:58:00", "2024-03-09T23:59:00", "2024-03-09T23:59:00",  # 23:59 PM → 23:59
        "2024-03-10T00:00:00", "2024-03-10T00:04:00",                         # 00:04 AM → 00:04
        "2024-03-10T12:30:00", "2024-03-10T13:05:00"]
    assert all("\r" not in text for _, _, text, _ in got)
    info = parse_export(EXPORTS / "android_12h_mdy_crlf.txt").info
    assert (info.date_order, info.time_format) == ("MDY", "12h")


def test_ios_group_german_chat_name_notices():
    parsed = parse_export(EXPORTS / "ios_group_de_24h.txt")
    msgs, info = parsed.messages, parsed.info
    assert (info.platform, info.date_order, info.chat_name) == ("ios", "DMY", "Familie")
    assert "Familie" not in info.counts_by_author            # the group is not a person
    assert [(m.author, m.kind) for m in msgs[:3]] == [(None, "system")] * 3
    assert msgs[1].text == "Oma hat die Gruppe „Familie“ erstellt."
    assert msgs[2].text == "Oma hat Lena hinzugefügt."        # "Oma: ‎Oma hat …" form
    assert (msgs[4].kind, msgs[4].media_type, msgs[4].author) == ("media", "photo", "Lena")
    assert msgs[5].attachment == "00000007-PHOTO-2022-05-02-18-02-30.jpg"
    assert (msgs[6].kind, msgs[7].kind) == ("deleted", "location")
    # an LRM alone does not make a line a system event
    assert (msgs[8].author, msgs[8].text, msgs[8].kind) == ("Lena", "Hallo Oma", "text")
    assert msgs[0].time == datetime(2022, 5, 2, 18, 0, 1)
    assert msgs[-1].time == datetime(2022, 5, 13, 9, 0)


def test_ios_english_12h_nnbsp_tilde_poll_edited_bom():
    parsed = parse_export(EXPORTS / "ios_en_12h.txt")
    msgs, info = parsed.messages, parsed.info
    assert (info.platform, info.date_order, info.time_format, info.encoding) == ("ios", "MDY", "12h", "utf-8-sig")
    assert info.chat_name == "Book club"
    assert [(m.author, m.kind) for m in msgs[:3]] == [(None, "system")] * 3
    assert msgs[1].text == "Sam created group “Book club”"
    assert msgs[2].text == "Sam added you"                    # written under the group's name
    assert msgs[4].author == "Ravi K"                          # "~ " prefix dropped
    poll = msgs[5]
    assert poll.kind == "poll" and poll.text.splitlines()[:2] == ["POLL:", "Which book?"]
    edited = msgs[6]
    assert edited.edited and edited.text == "Ping @~Ravi K — deadline Friday"
    assert (msgs[7].kind, msgs[7].attachment) == ("media", "00000012-PHOTO-2025-01-05-09-05-00.jpg")
    assert (msgs[8].kind, msgs[8].text) == ("media", "image omitted")
    assert (msgs[9].author, msgs[9].kind, msgs[9].text) == ("Sam", "text", "Hello with a mark")
    assert msgs[10].time == datetime(2025, 1, 5, 12, 15, 30)
    subject = msgs[11]
    assert (subject.author, subject.kind) == (None, "system")
    assert subject.text == "Sam changed the subject to “Books: 2025”"
    assert info.participants == ["Sam", "Ravi K"]
    for m in msgs:
        assert not any(c in (m.author or "") + m.text for c in "\u200e\ufeff\u2068\u2069")


@pytest.mark.parametrize("name,order,first,last", [
    ("ymd_dash_24h.txt", "YMD", "2023-07-01T08:15:00", "2023-07-02T21:40:00"),
    ("dotted_ambiguous.txt", "DMY", "2023-04-05T14:03:00", "2023-04-07T10:00:00"),
    ("chronology_mdy.txt", "MDY", "2019-01-02T09:00:00", "2019-02-01T12:00:00"),
    ("ios_fr_no_comma.txt", "MDY", "2023-05-14T14:03:00", "2023-05-15T08:00:00"),
    ("ios_buddhist.txt", "MDY", "2023-04-05T14:03:00", "2023-04-06T08:30:00"),
    ("ios_arabic_digits.txt", "DMY", "2022-03-18T14:56:00", "2022-03-19T09:00:00"),
    ("ios_time_first_vi.txt", "MDY", "2023-05-14T14:03:00", "2023-05-15T09:00:00"),
    ("android_es_12h.txt", "DMY", "2022-11-21T09:15:00", "2022-11-21T20:45:00"),
])
def test_date_variants(name, order, first, last):
    parsed = parse_export(EXPORTS / name)
    assert parsed.info.date_order == order
    assert parsed.info.unparsed == []
    times = [m.time.isoformat() for m in parsed.messages]
    assert (times[0], times[-1]) == (first, last)


def test_kinds_in_other_languages():
    fr = brief(EXPORTS / "ios_fr_no_comma.txt")
    assert [k for *_, k in fr] == ["text", "media", "deleted", "location"]
    ar = parse_export(EXPORTS / "ios_arabic_digits.txt").messages
    assert [m.kind for m in ar] == ["text", "deleted", "text"]
    assert ar[1].time == datetime(2022, 3, 18, 14, 57, 30)
    assert ar[2].time == datetime(2022, 3, 19, 9, 0)          # ص = AM
    vi = parse_export(EXPORTS / "ios_time_first_vi.txt").messages
    assert (vi[1].kind, vi[1].media_type) == ("media", "photo")
    es = parse_export(EXPORTS / "android_es_12h.txt").messages
    assert [m.kind for m in es] == ["text", "media", "text", "deleted"]
    assert es[2].time == datetime(2022, 11, 21, 0, 30)        # 12:30 a. m.


def test_odd_lines_are_reported_not_lost():
    parsed = parse_export(EXPORTS / "android_odd_lines.txt")
    assert parsed.info.unparsed == [
        (1, "Chat exported by hand (this line is not a message)"),
        (4, "31/31/2020, 99:99 - not a real header")]
    assert [m.text for m in parsed.messages] == [
        "first", "quoting a log:\n31/31/2020, 99:99 - not a real header", "ok"]


def test_forced_date_order():
    assert rows(EXPORTS / "dotted_ambiguous.txt", date_order="MDY")[0]["time"] == "2023-05-04T14:03:00"
    with pytest.raises(ParseError, match="unknown date order"):
        rows(EXPORTS / "dotted_ambiguous.txt", date_order="XYZ")


def test_chat_name_from_file_name(tmp_path):
    src = (EXPORTS / "android_group_24h_dmy.txt").read_bytes()
    path = tmp_path / "WhatsApp Chat with Hiking crew.txt"
    path.write_bytes(src)
    info = parse_export(path).info
    assert (info.chat_name, info.chat_file) == ("Hiking crew", path.name)


def test_one_to_one_partner_named_like_the_chat_stays_a_person(tmp_path):
    path = tmp_path / "WhatsApp Chat with Bo.txt"
    path.write_text(f"[1/2/22, 10:00:00] Bo: {LRM}Messages and calls are end-to-end encrypted.\n"
                    "[1/2/22, 10:00:05] Bo: hi!\n"
                    f"[1/2/22, 10:00:09] Bo: {LRM}image omitted\n"
                    "[1/2/22, 10:01:00] Al: hey\n", encoding="utf-8")
    got = brief(path)
    assert [(a, k) for _, a, _, k in got] == [(None, "system"), ("Bo", "text"), ("Bo", "media"), ("Al", "text")]


# -- encodings and line ends -----------------------------------------------------------------------

@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
    ("utf-16-le", b""), ("utf-16-be", b""),
])
def test_encodings(tmp_path, encoding, bom):
    text = (EXPORTS / "android_group_24h_dmy.txt").read_text(encoding="utf-8")
    path = tmp_path / "chat.txt"
    path.write_bytes(bom + text.encode(encoding))
    assert rows(path) == rows(EXPORTS / "android_group_24h_dmy.txt")


def test_mixed_line_ends(tmp_path):
    text = (EXPORTS / "android_group_24h_dmy.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    mixed = "".join(line + ("\r\n", "\n", "\r")[i % 3] for i, line in enumerate(lines[:-1]))
    path = tmp_path / "chat.txt"
    path.write_bytes(mixed.encode("utf-8"))
    assert rows(path) == rows(EXPORTS / "android_group_24h_dmy.txt")


def test_parse_options_are_checked():
    assert ParseOptions(date_order="mdy").date_order == "MDY"
    with pytest.raises(ParseError, match="unknown date order 'XYZ'"):
        ParseOptions(date_order="XYZ")
    with pytest.raises(ParseError, match="unknown date order"):
        rows(EXPORTS / "android_group_24h_dmy.txt", date_order="DD")
    with pytest.raises(ValueError, match="lookahead"):
        ParseOptions(lookahead=0)
    # date_order= is short for the option: both read the file the same way
    path = EXPORTS / "android_group_24h_dmy.txt"
    assert rows(path, date_order="MDY") == rows(path, ParseOptions(date_order="MDY"))


def test_small_blocks_and_lookahead_give_the_same_records(tmp_path):
    """Block boundaries (CR/LF split across reads, multi-byte chars) and the look-ahead
    hand-over must not change a single record."""
    big = tmp_path / "big.txt"
    lines = []
    for i in range(400):
        d = 1 + i // 40
        lines.append(f"{d:02d}/05/2021, {10 + (i % 40) // 4}:{(i * 7) % 60:02d} - {'Ann' if i % 3 else 'Bé'}: "
                     f"msg {i} é😀" + ("\r\nsecond line\r\n\r\nthird" if i % 17 == 0 else ""))
    big.write_bytes("\r\n".join(lines).encode("utf-8"))
    reference = rows(big)
    assert len(reference) == 400
    assert rows(big, ParseOptions(chunk_bytes=7, sniff_bytes=5, lookahead=3)) == reference


# -- zips ----------------------------------------------------------------------------------------

def _zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


CHAT = (EXPORTS / "android_group_24h_dmy.txt").read_bytes()


@pytest.mark.parametrize("member", ["_chat.txt", "WhatsApp Chat with Hiking crew.txt",
                                    "export/WhatsApp Chat with Hiking crew.txt"])
def test_zip_normal(tmp_path, member):
    z = _zip(tmp_path / "WhatsApp Chat with Hiking crew.zip",
             [(member, CHAT), ("IMG-20230314-WA0003.jpg", b"\xff\xd8\xff"), ("Kofi.vcf", b"BEGIN:VCARD")])
    before = sorted(p.name for p in tmp_path.iterdir())
    info = ExportInfo()
    assert [m.to_json() for m in iter_messages(z, info=info)] == rows(EXPORTS / "android_group_24h_dmy.txt")
    assert info.chat_file == member and info.chat_name == "Hiking crew"
    assert sorted(p.name for p in tmp_path.iterdir()) == before      # nothing extracted


@pytest.mark.parametrize("members,message", [
    ([("../_chat.txt", CHAT)], "unsafe member path '../_chat.txt'"),
    ([("_chat.txt", CHAT), ("/etc/passwd", b"x")], "unsafe member path '/etc/passwd'"),
    ([("media/../../x.txt", CHAT)], "unsafe member path"),
    ([("C:/Users/x/_chat.txt", CHAT)], "unsafe member path"),
    ([("photo.jpg", b"x"), ("notes.pdf", b"y")], "no chat file in the zip"),
    ([("a.txt", CHAT), ("b.txt", CHAT)], "none of its 2 .txt files"),
    ([], "no chat file in the zip"),
])
def test_zip_hostile(tmp_path, members, message):
    z = _zip(tmp_path / "export.zip", members)
    with pytest.raises(ParseError, match=message.replace(".", r"\.").replace("(", r"\(")):
        rows(z)


def test_zip_bomb_refused(tmp_path):
    z = _zip(tmp_path / "bomb.zip", [("_chat.txt", b"0" * (4 << 20))])   # 4 MiB of zeros, ~4 KiB packed
    with pytest.raises(ParseError, match="zip bomb"):
        rows(z)


def test_zip_member_past_size_limit_refused(tmp_path):
    z = _zip(tmp_path / "big.zip", [("_chat.txt", CHAT * 2)], zipfile.ZIP_STORED)
    with pytest.raises(ParseError, match="would inflate to"):
        rows(z, ParseOptions(max_member_bytes=1000))


def test_zip_corrupt(tmp_path):
    good = _zip(tmp_path / "good.zip", [("_chat.txt", CHAT)], zipfile.ZIP_STORED)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[:50])
    with pytest.raises(ParseError, match="not a readable zip"):
        rows(truncated)
    data = bytearray(good.read_bytes())
    i = data.find(b"Morning all")
    data[i] ^= 0x20                                        # stored data no longer matches its CRC
    flipped = tmp_path / "crc.zip"
    flipped.write_bytes(bytes(data))
    with pytest.raises(ParseError, match="corrupt"):
        rows(flipped)


def test_zip_extension_without_zip_content(tmp_path):
    fake = tmp_path / "chat.zip"
    fake.write_text("not a zip at all\n")
    with pytest.raises(ParseError, match="not a readable zip"):
        rows(fake)


# -- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("content,message", [
    (b"", "is empty"),
    (b"\n\n   \n", "is empty"),
    (b"Dear diary,\nnothing happened today.\n", r"none of the first 2 non-blank lines .*line 1: 'Dear diary,'"),
    (b"just one line", r"line 1 does not start with a date/time header: 'just one line'"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not a text file"),
    (b"\x00\x01\x02\x03" * 100, "binary"),
    (b"99/99/2020, 10:00 - A: b\n", "not a WhatsApp export"),
])
def test_bad_input(tmp_path, content, message):
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    with pytest.raises(ParseError, match=message) as err:
        rows(path)
    assert "\n" not in err.value.one_line()


def test_many_lines_of_prose_fail_early(tmp_path):
    path = tmp_path / "novel.txt"
    path.write_text("It was a dark and stormy night.\n" * 100_000)
    with pytest.raises(ParseError, match=f"none of the first {MAX_PREAMBLE_LINES} non-blank lines"):
        rows(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ParseError, match="no such file"):
        rows(tmp_path / "nope.txt")
    with pytest.raises(ParseError, match="is a folder"):
        rows(tmp_path)


def test_huge_single_line_refused(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("01/02/2021, 10:00 - A: " + "x" * 50_000)
    with pytest.raises(ParseError, match="longer than"):
        rows(path, ParseOptions(max_message_chars=10_000))


def test_streaming_yields_before_reading_everything(tmp_path):
    """Records come out while the file is still being read (after the look-ahead)."""
    path = tmp_path / "chat.txt"
    n = ParseOptions().lookahead + 5000
    path.write_text("".join(f"01/02/2021, 10:{i % 60:02d} - A: m{i}\n" for i in range(n)))
    it = iter_messages(path)
    first = next(it)
    assert first.text == "m0"
    it.close()                                          # closing early releases the file


def test_unparsed_is_capped(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("01/02/2021, 10:00 - A: start\n" + "32/13/2021, 10:00 - A: bad\n" * 1000)
    parsed = parse_export(path)
    assert len(parsed.messages) == 1
    assert len(parsed.info.unparsed) == MAX_UNPARSED


def test_message_objects_are_real_messages():
    from wachat_tui.core.records import Message

    for m in iter_messages(EXPORTS / "android_group_24h_dmy.txt"):
        assert type(m) is Message
        assert m == Message.from_json(m.to_json())
        with pytest.raises(Exception):
            m.text = "changed"                           # still frozen


def test_endless_message_refused(tmp_path):
    path = tmp_path / "junk.txt"
    path.write_text("01/02/2021, 10:00 - A: start\n" + "junk line without a header\n" * 20_000)
    with pytest.raises(ParseError, match="larger than"):
        rows(path, ParseOptions(max_message_chars=50_000))


def _all_inputs():
    from tests.conftest import CORPUS

    files = sorted(EXPORTS.glob("*.txt"))
    if CORPUS.exists():
        files += sorted(CORPUS.glob("*.txt"))
    return files


@pytest.mark.parametrize("use_c", [True, False], ids=["C", "python"])
@pytest.mark.parametrize("path", _all_inputs(), ids=lambda p: p.name)
def test_hot_path_gives_the_careful_records(path, use_c):
    """After the look-ahead, records take a fast path (the C hot loop, or its Python twin); it
    must agree with the careful path (everything held back) record for record, whatever the
    block size."""
    info = ExportInfo()
    # all in the look-ahead, every record via the careful path
    careful = [m.to_json() for m in iter_messages(path, ParseOptions.careful(use_c=use_c), info=info)]
    # the look-ahead's quick rule
    assert rows(path, ParseOptions(use_c=use_c, early_decision=False)) == careful
    hot_info = ExportInfo()
    hot_options = ParseOptions(date_order=info.date_order, use_c=use_c, early_decision=False,
                               lookahead=2, chunk_bytes=64, sniff_bytes=64)  # lines cut every 64 bytes
    hot = [m.to_json() for m in iter_messages(path, hot_options, info=hot_info)]
    assert hot == careful
    assert hot_info.unparsed == info.unparsed


@pytest.mark.parametrize("notice", [
    "Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.",
    "Messages to this group are now secured with end-to-end encryption. Tap for more info.",
    "Messages you send to this group are now secured with end-to-end encryption. Tap for more info.",
    "Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb dieses Chats kann sie lesen.",
    "Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de este chat puede leerlos.",
    "Les messages envoyés dans cette discussion et les appels sont désormais protégés avec le chiffrement de bout en bout.",
    "As mensagens e chamadas são encriptadas ponto a ponto. Ninguém fora desta conversa pode lê-las.",
    "Сообщения и звонки защищены сквозным шифрованием. Третьи лица не могут их прочитать.",
    "Tin nhắn và cuộc gọi được mã hóa đầu cuối. Những người bên ngoài cuộc trò chuyện này không đọc được.",
])
def test_encryption_notice_is_system_even_under_a_name(notice, tmp_path):
    from wachat_tui.core.parse import formats as F

    assert F.ENCRYPTION_RE.match(notice) and notice[:12] in F.ENCRYPTION_HEADS
    path = tmp_path / "chat.txt"
    path.write_text(f"01/02/2021, 10:00 - Team: {notice}\n01/02/2021, 10:01 - Ann: hi\n", encoding="utf-8")
    parsed = parse_export(path)
    assert [(m.author, m.kind) for m in parsed.messages] == [(None, "system"), ("Ann", "text")]
    assert parsed.info.chat_name == "Team"


def test_author_comes_from_the_header_line_only(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("01/02/2021, 10:00 - Ann left\nnote: not an author\n"
                    "01/02/2021, 10:01 - Bob:\nsecond line\n"
                    "01/02/2021, 10:02 - Cy: ok\n", encoding="utf-8")
    got = brief(path)
    assert got == [("2021-02-01T10:00:00", None, "Ann left\nnote: not an author", "system"),
                   ("2021-02-01T10:01:00", "Bob", "second line", "text"),
                   ("2021-02-01T10:02:00", "Cy", "ok", "text")]
