"""WhatsApp export (.txt / .zip) → :class:`Message` records, streaming.

How a file is read:

1. **Bytes → text.** A zip is opened in memory (never extracted) and its chat member streamed;
   the encoding is sniffed from the first 64 KiB (UTF-8 with or without BOM, UTF-16 by BOM or
   by its NUL pattern); line ends (CRLF, LF, CR, mixed) become ``\\n``.
2. **The header style.** The first line that looks like ``date time`` + a terminator (``]``,
   `` - ``, ``:`` …) fixes the file's style; later lines only start a new message when they use
   that same style, so a message that quotes a timestamp stays one message.
3. **Day/month order.** Decided once per file from a bounded look-ahead of header lines
   (:data:`LOOKAHEAD`): an order under which some date is impossible is out; among the rest the
   one that keeps the chat chronological wins, then the one spanning less time, then locale
   hints (dotted dates are day-first, English AM/PM slashed dates month-first). Records are
   held back only during that look-ahead, so memory stays flat in the file size.
4. **Records.** Each header + its continuation lines becomes one :class:`Message`; the body
   is classified (media, deleted, location, contact, poll, call, view once, system notice).

Speed: text is read in 64 KiB blocks (small blocks of decoded text cost fewer page faults
than big ones). Once the date order is known — as soon as one date is unambiguous, or
after the look-ahead — the rest of the file goes through a hot loop, in C where
``core/_hotloop.c`` was compiled (``setup.py``), else in Python (``_hot_python``): a header
line is recognised by templates of the date prefix and time suffix the regex has already
read (C) or by remembered prefix/suffix strings (both), and a record by a known plain author
goes straight to a Message. Everything else takes the careful path (``_Parser._build``); both
give identical records (tests/core/test_parse_hotloop.py).
"""
from __future__ import annotations

import codecs
import itertools
import re
import zipfile
import zlib
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

from ..errors import ParseError
from . import formats as F
from .records import CALL, LOCATION, MEDIA, POLL, SYSTEM, TEXT, Message

try:  # the hot loop in C (setup.py builds it; optional: without it the Python loop runs)
    from ._hotloop import Scanner as _CScanner
except ImportError:  # pragma: no cover - no C compiler where this was installed
    _CScanner = None

# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------

#: Header lines held back to decide the day/month order.
LOOKAHEAD = 3000
#: Bytes read per block. Small blocks keep each decoded text under malloc's mmap threshold
#: (fewer page faults): 64 KiB measured ~20-30% faster than 1 MiB in a fresh process.
CHUNK_BYTES = 1 << 16
#: Bytes sniffed for the encoding.
SNIFF_BYTES = 1 << 16
#: A zip member larger than this (uncompressed) is refused.
MAX_MEMBER_BYTES = 1 << 30
#: A zip member compressing better than this (and bigger than RATIO_MIN_BYTES) is refused.
MAX_COMPRESSION_RATIO = 200
RATIO_MIN_BYTES = 1 << 20
#: One message (or line) larger than this means the file is not a chat export (WhatsApp
#: itself caps a message at 65,536 characters; this leaves room for odd exports).
MAX_MESSAGE_CHARS = 4 << 20
MAX_MESSAGE_LINES = 200_000
#: Non-blank lines tolerated before the first header.
MAX_PREAMBLE_LINES = 25
#: How many unparsed lines ExportInfo keeps.
MAX_UNPARSED = 200

DATE_ORDERS = ("DMY", "MDY", "YMD", "YDM", "DYM", "MYD")
_CACHE_LIMIT = 1 << 12
#: Look-ahead records take the hot loop's fast path too (tests turn it off to compare).
QUICK_FLUSH = True
#: run the hot loop in C when the extension is built (tests switch it off to compare)
USE_C = True
#: stop holding records back as soon as one date order alone reads every date (tests switch
#: it off to get a careful reference: every record of a small file through the look-ahead)
EARLY_DECISION = True
_QUOTES = '"“”„«»'

# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass
class ExportInfo:
    """What the parser learnt about an export besides its messages."""

    platform: str = "android"
    """``"android"`` (``date, time - Name: text``) or ``"ios"`` (``[date, time] Name: text``)."""
    date_order: str = "DMY"
    """Order of the date fields decided for this file: DMY, MDY, YMD (rarely YDM, DYM, MYD)."""
    time_format: str = "24h"
    """``"24h"`` or ``"12h"`` (AM/PM markers seen)."""
    encoding: str = "utf-8"
    """Text encoding detected (``utf-8``, ``utf-8-sig``, ``utf-16-le``, ``utf-16-be``)."""
    chat_file: str = ""
    """File name of the chat text: the member name inside a zip, else the file's name."""
    chat_name: str | None = None
    """The chat's name from "WhatsApp Chat with X" or the group's own encryption notice."""
    unparsed: list[tuple[int, str]] = field(default_factory=list)
    """(line number, text) of lines that could not be read as part of a message (capped)."""
    counts_by_kind: dict[str, int] = field(default_factory=dict)
    """Number of records per kind."""
    counts_by_author: dict[str, int] = field(default_factory=dict)
    """Number of records per non-null author."""
    participants: list[str] = field(default_factory=list)
    """Non-null authors ranked by message count, most active first."""
    source: str = ""
    """The path that was parsed."""
    date_conflicts: int = 0
    """Header lines whose date only made sense in another day/month order than the file's."""

    def to_json(self) -> dict:
        return {
            "platform": self.platform, "date_order": self.date_order,
            "time_format": self.time_format, "encoding": self.encoding,
            "chat_file": self.chat_file, "chat_name": self.chat_name,
            "unparsed": [list(u) for u in self.unparsed],
            "counts_by_kind": dict(self.counts_by_kind),
            "counts_by_author": dict(self.counts_by_author),
            "participants": list(self.participants), "source": self.source,
            "date_conflicts": self.date_conflicts,
        }


@dataclass
class ParsedExport:
    messages: list[Message]
    info: ExportInfo


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def iter_messages(path: str | Path, *, date_order: str | None = None,
                  info: ExportInfo | None = None) -> Iterator[Message]:
    """Stream the records of an export in file order.

    ``date_order`` forces DMY/MDY/YMD instead of deciding it; ``info`` (optional) is filled in
    as the file is read. Raises :class:`ParseError` with one clear line for unreadable input.
    """
    if date_order is not None:
        date_order = date_order.upper()
        if date_order not in DATE_ORDERS:
            raise ParseError(f"unknown date order {date_order!r}", "use one of DMY, MDY, YMD")
    info = info if info is not None else ExportInfo()
    path = Path(path)
    info.source = str(path)
    with _ExportSource(path) as src:
        info.chat_file = src.chat_file
        info.chat_name = src.chat_name
        parser = _Parser(info, src.display, date_order)
        try:
            yield from parser.run(src.chunks(info))
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ParseError(f"{src.display}: the zip file is corrupt ({_short(exc)})",
                             "export the chat again") from None
        except OSError as exc:
            raise ParseError(f"cannot read {src.display}: {_short(exc)}") from None


def parse_export(path: str | Path, *, date_order: str | None = None) -> ParsedExport:
    """Parse a whole export: all records plus :class:`ExportInfo` (counts, participants…)."""
    info = ExportInfo()
    messages = list(iter_messages(path, date_order=date_order, info=info))
    by_kind: dict[str, int] = {}
    by_author: dict[str, int] = {}
    for m in messages:
        by_kind[m.kind] = by_kind.get(m.kind, 0) + 1
        if m.author is not None:
            by_author[m.author] = by_author.get(m.author, 0) + 1
    info.counts_by_kind = by_kind
    info.counts_by_author = by_author
    info.participants = sorted(by_author, key=lambda a: (-by_author[a], a))
    return ParsedExport(messages, info)


# ---------------------------------------------------------------------------------------------
# Fast Message construction (the frozen dataclass __init__ costs more than parsing a line)
# ---------------------------------------------------------------------------------------------

_FIELDS = ("time", "author", "text", "kind", "edited", "attachment", "media_type")


def _make_slow(time, author, text, kind=TEXT, edited=False, attachment=None, media_type=None):
    return Message(time, author, text, kind, edited, attachment, media_type)


class _MessageTwin:
    """Same slot layout as Message but mutable: filled, then re-classed to Message.

    Message is a frozen dataclass; its __init__ goes through object.__setattr__ seven times,
    which costs more than parsing the line it comes from. Setting the slots on a twin and
    swapping ``__class__`` (allowed for identical layouts) gives the very same object shape.
    """

    __slots__ = getattr(Message, "__slots__", ())


def _make_fast(time, author, text, kind=TEXT, edited=False, attachment=None, media_type=None):
    m = _new(_MessageTwin)
    m.time = time
    m.author = author
    m.text = text
    m.kind = kind
    m.edited = edited
    m.attachment = attachment
    m.media_type = media_type
    m.__class__ = Message
    return m


_new = object.__new__
_make = _make_slow
if tuple(getattr(Message, "__slots__", ())) == _FIELDS:
    try:
        _probe = _make_fast(datetime(2020, 1, 2, 3, 4, 5), "a", "b", "media", True, "f", "photo")
        if _probe == _make_slow(datetime(2020, 1, 2, 3, 4, 5), "a", "b", "media", True, "f", "photo"):
            _make = _make_fast
    except TypeError:  # pragma: no cover - layout differs: stay correct, just slower
        pass
_FAST_MESSAGES = _make is _make_fast


# ---------------------------------------------------------------------------------------------
# Reading bytes: .txt or a member of a .zip, decoded and with \n line ends
# ---------------------------------------------------------------------------------------------


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:160]


def _snippet(line: str, width: int = 60) -> str:
    line = line.strip()
    return repr(line if len(line) <= width else line[:width] + "…")


class _ExportSource:
    """Context manager over the chat text of a .txt or .zip file."""

    def __init__(self, path: Path):
        self.path = path
        self.display = path.name or str(path)
        self.chat_file = path.name
        self.chat_name = _chat_name_from_file(path.name)
        self._zip: zipfile.ZipFile | None = None
        self._member: zipfile.ZipInfo | None = None
        self._fh = None

    def __enter__(self):
        path = self.path
        try:
            if path.is_dir():
                raise ParseError(f"{path} is a folder, not an export file",
                                 "pass the .txt or .zip file WhatsApp wrote")
            self._fh = open(path, "rb")
            magic = self._fh.read(4)
            self._fh.seek(0)
        except FileNotFoundError:
            raise ParseError(f"no such file: {path}") from None
        except PermissionError:
            raise ParseError(f"permission denied reading {path}") from None
        except OSError as exc:
            raise ParseError(f"cannot read {path}: {_short(exc)}") from None
        if magic in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08") or path.suffix.lower() == ".zip":
            try:
                self._open_zip()
            except BaseException:
                self.__exit__(None, None, None)
                raise
        return self

    def __exit__(self, *exc):
        if self._zip is not None:
            self._zip.close()
        if self._fh is not None:
            self._fh.close()
        return False

    def _open_zip(self) -> None:
        name = self.display
        try:
            zf = zipfile.ZipFile(self._fh)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as exc:
            raise ParseError(f"{name} is not a readable zip file ({_short(exc)})",
                             "export the chat again, or pass the .txt inside it") from None
        self._zip = zf
        infos = zf.infolist()
        for info in infos:
            if _unsafe_member_name(info.filename):
                raise ParseError(f"{name}: refusing a zip with an unsafe member path {info.filename!r}",
                                 "this is not a zip WhatsApp made")
        member = _pick_chat_member(infos)
        if member is None:
            names = ", ".join(repr(i.filename) for i in infos[:5]) or "nothing"
            if len(infos) > 5:
                names += f" and {len(infos) - 5} more"
            texts = sum(1 for i in infos if i.filename.lower().endswith(".txt"))
            what = (f"none of its {texts} .txt files is named _chat.txt or 'WhatsApp Chat with ….txt'"
                    if texts > 1 else "no _chat.txt or 'WhatsApp Chat with ….txt' in it")
            raise ParseError(f"{name}: no chat file in the zip: {what} (members: {names})",
                             "pass the chat .txt itself")
        if member.flag_bits & 0x1:
            raise ParseError(f"{name}: the chat file {member.filename!r} is encrypted")
        if member.file_size > MAX_MEMBER_BYTES:
            raise ParseError(f"{name}: the chat file {member.filename!r} would inflate to "
                             f"{member.file_size:,} bytes (limit {MAX_MEMBER_BYTES:,})",
                             "this is not a zip WhatsApp made")
        if (member.file_size > RATIO_MIN_BYTES
                and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)):
            raise ParseError(f"{name}: the chat file {member.filename!r} is compressed "
                             f"{member.file_size // max(member.compress_size, 1):,}:1 (a zip bomb?)",
                             "this is not a zip WhatsApp made")
        self._member = member
        self.chat_file = member.filename
        base = PurePosixPath(member.filename.replace("\\", "/")).name
        self.chat_name = _chat_name_from_file(base) or self.chat_name
        self.display = f"{name}:{member.filename}"

    def _raw_reader(self):
        if self._zip is not None:
            try:
                stream = self._zip.open(self._member)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                raise ParseError(f"{self.display}: cannot open the chat file in the zip "
                                 f"({_short(exc)})") from None
            limit = self._member.file_size

            def read(n: int, _s=stream) -> bytes:
                data = _s.read(n)
                read.total += len(data)
                if read.total > limit or read.total > MAX_MEMBER_BYTES:
                    raise ParseError(f"{self.display}: the chat file inflates past its declared size",
                                     "this is not a zip WhatsApp made")
                return data
            read.total = 0
            return read
        return self._fh.read

    def chunks(self, info: ExportInfo) -> Iterator[str]:
        """Decoded text blocks with ``\\n`` line ends."""
        read = self._raw_reader()
        head = read(SNIFF_BYTES)
        if not head:
            raise ParseError(f"{self.display} is empty", "export the chat again")
        encoding, skip = _sniff_encoding(head, self.display)
        info.encoding = "utf-8-sig" if (encoding == "utf-8" and skip) else encoding
        try:
            codecs.getincrementaldecoder(encoding)("strict").decode(head[skip:], False)
        except UnicodeDecodeError:
            raise ParseError(f"{self.display} is not a text file (binary data, or an "
                             f"encoding other than UTF-8/UTF-16)",
                             "pass the .txt or .zip WhatsApp exported") from None
        decoder = codecs.getincrementaldecoder(encoding)("replace")
        text = decoder.decode(head[skip:], False)
        _check_textual(text, self.display)
        pending_cr = False
        while True:
            if pending_cr:
                text = "\r" + text
                pending_cr = False
            if text.endswith("\r"):
                text = text[:-1]
                pending_cr = True
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            if "\x00" in text:
                raise ParseError(f"{self.display} contains binary data (NUL bytes)",
                                 "pass the .txt or .zip WhatsApp exported")
            if text:
                yield text
            if head is None:
                break
            data = read(CHUNK_BYTES)
            if data:
                text = decoder.decode(data, False)
            else:                      # end of input (a CR still held back only ended a line)
                text = decoder.decode(b"", True)
                head = None


def _unsafe_member_name(name: str) -> bool:
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
        return True
    return ".." in n.split("/")


def _pick_chat_member(infos: list[zipfile.ZipInfo]) -> zipfile.ZipInfo | None:
    texts = [i for i in infos if not i.is_dir()
             and i.filename.lower().endswith(".txt")
             and not PurePosixPath(i.filename.replace("\\", "/")).name.startswith("._")]

    def base(i):
        return PurePosixPath(i.filename.replace("\\", "/")).name

    for i in texts:
        if base(i) == "_chat.txt":
            return i
    named = [i for i in texts if base(i).lower().startswith("whatsapp")]
    if named:
        return min(named, key=lambda i: (i.filename.count("/"), i.filename))
    if len(texts) == 1:
        return texts[0]
    return None


def _chat_name_from_file(name: str) -> str | None:
    m = F.CHAT_NAME_FROM_FILE.match(name)
    if not m:
        return None
    chat = " ".join(m.group("name").translate(F.AUTHOR_TABLE).split())
    return chat or None


def _sniff_encoding(head: bytes, display: str) -> tuple[str, int]:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):
        return ("utf-32-le" if head.startswith(codecs.BOM_UTF32_LE) else "utf-32-be"), 4
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    sample = head[:4096]
    if b"\x00" in sample:
        even = sample[0::2]
        odd = sample[1::2]
        n = max(len(sample) // 2, 1)
        if odd.count(0) > 0.3 * n and even.count(0) < 0.05 * n:
            return "utf-16-le", 0
        if even.count(0) > 0.3 * n and odd.count(0) < 0.05 * n:
            return "utf-16-be", 0
        raise ParseError(f"{display} is not a text file (binary data)",
                         "pass the .txt or .zip WhatsApp exported")
    return "utf-8", 0


_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffd]")


def _check_textual(text: str, display: str) -> None:
    sample = text[:SNIFF_BYTES]
    if not sample:
        return
    bad = len(_NOT_TEXT.findall(sample))
    if bad > max(8, len(sample) // 100):
        raise ParseError(f"{display} is not a text file (binary data)",
                         "pass the .txt or .zip WhatsApp exported")


# ---------------------------------------------------------------------------------------------
# Dates and times
# ---------------------------------------------------------------------------------------------


# canonical tuple positions (formats.CANON)
_C_DT, _C_DATE, _C_D1, _C_SEP, _C_D2, _C_D3, _C_ERA, _C_TIME, _C_H, _C_M, _C_S, _C_AP0, _C_AP, \
    _C_TERM, _C_LEAD = range(len(F.CANON))


def _ymd(c1: str, c2: str, c3: str, era: str | None, order: str):
    """(year, month, day) of three date fields read in ``order``, or None if impossible."""
    vals = (c1, c2, c3)
    y_s = vals[order.index("Y")]
    m_s = vals[order.index("M")]
    d_s = vals[order.index("D")]
    if len(m_s) > 2 or len(d_s) > 2 or not m_s.isdigit() or not d_s.isdigit():
        return None
    month = int(m_s)
    day = int(d_s)
    if not 1 <= month <= 12 or day < 1:
        return None
    first = y_s[0]
    if first in "RHSrhs":
        if era:
            return None
        year = F.ERA_BASE[first.upper()] + int(y_s[1:])
    elif len(y_s) == 4:
        year = int(y_s)
        if era or year > 2400:
            year -= F.BUDDHIST_OFFSET
    elif len(y_s) == 2:
        if era:
            return None
        year = 2000 + int(y_s)
    else:
        return None
    if not 1900 <= year <= 2200:
        return None
    if day > 28 and day > monthrange(year, month)[1]:
        return None
    return year, month, day


def _hms(h: str, mi: str, s: str | None, ap0: str | None, ap: str | None):
    """(hour, minute, second) with AM/PM applied, or None if impossible.

    A 12-hour marker on an hour that is already 0 or above 12 (hand-edited ``23:59 PM``,
    ``00:04 AM``) is ignored: the digits win.
    """
    hour = int(h)
    minute = int(mi)
    second = int(s) if s else 0
    marker = ap or ap0
    if marker and 1 <= hour <= 12:
        pm = F.ampm_is_pm(marker)
        if pm is True and hour != 12:
            hour += 12
        elif pm is False and hour == 12:
            hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


def _order_prior(groups: list[tuple]) -> list[str]:
    """Locale hints: the order to try when the data itself cannot decide."""
    if not groups:
        return list(DATE_ORDERS)
    first = groups[0]
    sep = first[_C_SEP]
    marker = next((g[_C_AP] or g[_C_AP0] for g in groups if g[_C_AP] or g[_C_AP0]), None)
    english_ampm = marker is not None and "".join(marker.split()).lower() in ("am", "pm")
    if sep == ".":
        prior = ["DMY", "YMD", "MDY"]
    elif len(first[_C_D1]) == 4:
        prior = ["YMD", "YDM"]
    elif english_ampm and sep == "/":
        prior = ["MDY", "DMY"]
    else:
        prior = ["DMY", "MDY", "YMD"]
    return prior + [o for o in DATE_ORDERS if o not in prior]


# ---------------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------------

def _split_author(rest: str) -> tuple[str | None, str]:
    """"Name: text" → (name, text); a system notice → (None, text)."""
    i = rest.find(": ")
    if i >= 0:
        return rest[:i], rest[i + 2:]
    if rest.endswith(":") and "\n" not in rest:
        return rest[:-1], ""
    return None, rest


def _valid_header(g: tuple) -> bool:
    """The header's time is possible and its date is possible in at least one order."""
    if _hms(g[_C_H], g[_C_M], g[_C_S], g[_C_AP0], g[_C_AP]) is None:
        return False
    return any(_ymd(g[_C_D1], g[_C_D2], g[_C_D3], g[_C_ERA], o) for o in DATE_ORDERS)


class _Parser:
    def __init__(self, info: ExportInfo, display: str, date_order: str | None):
        self.info = info
        self.display = display
        self.forced_order = date_order
        self.order: str | None = None
        self.fallback_orders: list[str] = []
        self.generic = None          # the generic regex of the file's orientation
        self.generic_idx: tuple = ()
        self.fast = None             # a regex narrowed to the file's style
        self.fast_idx: tuple = ()
        self.fast_time_first = False
        self.sig: str | None = None
        self.sig_terms: set[str] = set()
        self.chat_name = info.chat_name
        self.chat_name_is_person = False
        self.known_authors: dict[str, str] = {}
        self.author_cache: dict[str, tuple[str, bool]] = {}
        #: raw name → name, for authors whose one-line texts may skip the careful path
        self.plain_authors: dict[str, str] = {}
        self.date_cache: dict[str, tuple | None] = {}
        self.time_cache: dict[str, tuple | None] = {}
        self.saw_ampm = False
        self.valid_memo: dict = {}
        # the hot loop's caches (see run, step 3)
        self.prefixes: dict[str, datetime] = {}   # "01/03/2021, " → datetime(2021, 3, 1)
        self.suffixes: dict[str, timedelta] = {}  # "09:00 - "    → timedelta(hours=9)
        self.lens: list[tuple[int, int]] = []      # every (prefix, suffix) length pair seen
        self._templates: list[tuple] = []          # header templates for the C loop
        self._orders_ok = set(DATE_ORDERS)          # _settled's state
        self._dates_seen: set[str] = set()
        self._settle_from = 0
        self._scanner = None

    def _unparsed(self, line_no: int, text: str) -> None:
        if len(self.info.unparsed) < MAX_UNPARSED:
            self.info.unparsed.append((line_no, text[:500]))

    # -- header detection --------------------------------------------------------------------
    def _accept_first(self, line: str) -> bool:
        """Is this the file's first header? If so, fix the file's header style from it."""
        for generic in (F.HEADER_DATE_FIRST, F.HEADER_TIME_FIRST):
            m = generic.match(line)
            if m is None:
                continue
            idx = F.canon_indices(generic)
            g = m.group(*idx)
            kind = F.term_kind(g[_C_TERM])
            if kind == " " and _split_author(line[m.end():])[0] is None:
                continue
            if not _valid_header(g):
                continue
            self.generic, self.generic_idx, self.sig = generic, idx, kind
            self.info.platform = "ios" if kind == "]" else "android"
            self._build_fast(m, generic is F.HEADER_TIME_FIRST, g)
            return True
        return False

    def _build_fast(self, m, time_first: bool, g: tuple) -> None:
        """A regex narrowed to this file's style: the generic one costs ~3x more per line."""
        dt_s, date_s, time_s = g[_C_DT], g[_C_DATE], g[_C_TIME]
        marks = any(c in F.INVISIBLE for c in dt_s)
        marker = g[_C_AP] or g[_C_AP0]
        if marker is None:
            ampm = "none"
        elif g[_C_AP0] is None and "".join(marker.split()).lower().replace(".", "") in ("am", "pm"):
            ampm = "latin"
        else:
            ampm = "any"
        dt_sep = None
        if not time_first and not marks and dt_s.startswith(date_s):
            k = dt_s.find(time_s, len(date_s))
            if k >= 0:
                dt_sep = dt_s[len(date_s):k]
        fast = F.header_regex(time_first, self.sig, ampm, marks, dt_sep, era=g[_C_ERA] is not None)
        if fast.match(m.string) is None:   # paranoia: must accept the line it was built from
            fast = F.header_regex(time_first, self.sig)
        self.fast, self.fast_idx = fast, F.canon_indices(fast)
        self.fast_time_first = time_first

    def _slow_header(self, line: str):
        """Generic regex for a line the fast regex refused: (canonical groups, end) or None."""
        m = self.generic.match(line)
        if m is None:
            return None
        g = m.group(*self.generic_idx)
        term = g[_C_TERM]
        if term not in self.sig_terms:
            if F.term_kind(term) != self.sig:
                return None
            if self.sig != " ":
                self.sig_terms.add(term)
        return g, m.end()

    # -- main loop ---------------------------------------------------------------------------
    def _blocks(self, chunks: Iterable[str]) -> Iterator[tuple[int, str]]:
        """(number of the first line, text) for blocks of complete lines: ``text.split("\\n")``
        are the block's lines (the last block may end without a line end). The part line
        after a block's last line end waits in ``self._carry`` for the next chunk."""
        self._carry = ""
        line_no = 1
        for chunk in chunks:
            carry = self._carry
            buf = carry + chunk if carry else chunk
            cut = buf.rfind("\n")
            if cut < 0:
                if len(buf) > MAX_MESSAGE_CHARS:
                    self._line_too_long(line_no)
                self._carry = buf
                continue
            text = buf[:cut]
            self._carry = buf[cut + 1:]
            yield line_no, text
            line_no += text.count("\n") + 1
        if self._carry:
            text, self._carry = self._carry, ""
            if len(text) > MAX_MESSAGE_CHARS:
                self._line_too_long(line_no)
            yield line_no, text

    def _line_too_long(self, line_no: int) -> None:
        raise ParseError(f"{self.display}: line {line_no} is longer than "
                         f"{MAX_MESSAGE_CHARS:,} characters — not a WhatsApp export")

    def run(self, chunks: Iterable[str]) -> Iterator[Message]:
        """The records of the chunks: the look-ahead is read at once (it is held back anyway),
        the rest as the iterator is consumed."""
        chunks = iter(chunks)
        texts = self._blocks(chunks)
        blocks = ((b, t.split("\n")) for b, t in texts)
        # -- 1. the first header ----------------------------------------------------------------
        preamble: list[tuple[int, str]] = []
        seen_text = False
        base, block, start = 1, [], 0
        for base, block in blocks:
            for k, line in enumerate(block):
                if not line.strip(F.INVISIBLE + " \t" + F.ODD_SPACES):
                    continue
                seen_text = True
                if F.could_be_header(line) and self._accept_first(line):
                    start = k
                    break
                preamble.append((base + k, line))
                if len(preamble) >= MAX_PREAMBLE_LINES:
                    self._not_an_export(preamble)
            else:
                continue
            break
        if self.generic is None:
            if not seen_text:
                raise ParseError(f"{self.display} is empty (no text in it)", "export the chat again")
            self._not_an_export(preamble)
        for ln, txt in preamble:
            self._unparsed(ln, txt)

        # -- 2. held back: the first LOOKAHEAD records, until the date order is decided ----------
        fast_match = self.fast.match
        fidx = self.fast_idx
        space_style = self.sig == " "
        buffered: list = []
        p_g = None          # open record: canonical groups, text after the header, more lines
        p_rest = ""
        p_more: list | None = None
        p_line = 0
        decided_at = None
        early = EARLY_DECISION and self.forced_order is None
        for base, block in itertools.chain([(base, block)], blocks):
            for k in range(start, len(block)):
                line = block[k]
                m = fast_match(line)
                if m is not None:
                    g, end = m.group(*fidx), m.end()
                else:
                    got = self._slow_header(line) if line and F.could_be_header(line) else None
                    g, end = got if got is not None else (None, 0)
                if g is not None and space_style and _split_author(line[end:])[0] is None:
                    g = None
                if g is not None and not self._valid(g):
                    self._unparsed(base + k, line)
                    g = None
                if g is None:
                    if p_more is None:
                        p_more = [line]
                    else:
                        p_more.append(line)
                        if len(p_more) & 1023 == 0:
                            self._check_size(p_more, p_line)
                    continue
                if p_g is not None:
                    buffered.append((p_g, p_rest if p_more is None else p_rest + "\n" + "\n".join(p_more)))
                p_g, p_rest, p_more, p_line = g, line[end:], None, base + k
                if len(buffered) >= LOOKAHEAD or (
                        early and len(buffered) & 63 == 63 and self._settled(buffered, p_g)):
                    decided_at = (base, block, k + 1)
                    break
            start = 0
            if decided_at is not None:
                break
        if decided_at is None:
            # the whole file fitted in the look-ahead
            if p_g is not None:
                buffered.append((p_g, p_rest if p_more is None else p_rest + "\n" + "\n".join(p_more)))
            self._decide([r[0] for r in buffered])
            records = list(self._flush(buffered))
            self._finish()
            return iter(records)
        self._decide([r[0] for r in buffered] + [p_g])
        held = list(self._flush(buffered))      # no more memory than the held-back records
        p_dt = self._resolve(p_g)

        # -- 3. decided: the hot loop -------------------------------------------------------------
        # A header line is "date prefix" + "time+terminator suffix". Once the regex has read a
        # prefix or suffix, both are remembered (bounded dicts), so most header lines are then
        # recognised by two slices and two dict hits; the regex only sees new days and oddities
        # (_header). The prefix maps to the day's midnight and the suffix to a timedelta:
        # ``day + tod`` is the header's datetime, ~5x cheaper than datetime(y, m, d, H, M, S).
        # The loop runs in C (_hotloop.c) where it was compiled, else in Python (_hot_python);
        # both call back into _header and _build, so the records are the same.
        base, block, start = decided_at
        if _CScanner is not None and USE_C and not self.fast_time_first and not space_style:
            hot = self._hot_c(chunks, base, block, start, p_dt, p_rest)
        else:
            hot = self._hot_python(blocks, base, block, start, p_dt, p_rest)
        # an iterator chain, not a generator: each hot record reaches the caller through
        # one Python frame (iter_messages) fewer
        return itertools.chain(held, hot, self._finished())

    def _finished(self) -> Iterator[Message]:
        """Empty; when reached, the file is read to its end: fill in what the end tells."""
        self._scanner = None
        self._finish()
        return
        yield

    def _header(self, line: str, line_no: int, block: list | None = None):
        """A line the prefix/suffix caches did not recognise: ``(datetime, end of the header,
        dl, tl)`` for a header — ``dl``/``tl`` the cache lengths to try first from now on, or
        -1 — else None (a continuation line). Remembers what the regex read in the caches.
        ``line_no`` is the line's number, or the block's first with ``block`` given."""
        m = self.fast.match(line)
        if m is not None:
            end = m.end()
            g = m.group(*self.fast_idx)
        elif line and F.could_be_header(line):
            got = self._slow_header(line)
            if got is None:
                return None
            g, end = got
        else:
            return None
        if self.sig == " " and _split_author(line[end:])[0] is None:
            return None
        dt = self._resolve(g)
        if dt is None:
            self._unparsed(line_no if block is None else self._line_of(line_no, block, line), line)
            return None
        if m is None or self.fast_time_first:
            return dt, end, -1, -1
        ymd = self.date_cache[g[_C_DATE]]
        hms = self.time_cache[g[_C_TIME]]
        ts = m.start(self.fast_idx[_C_TIME])
        prefixes, suffixes, lens = self.prefixes, self.suffixes, self.lens
        if len(prefixes) > _CACHE_LIMIT:
            prefixes.clear()
        if len(suffixes) > _CACHE_LIMIT:
            suffixes.clear()
        prefixes[line[:ts]] = datetime(ymd[0], ymd[1], ymd[2])
        suffixes[line[ts:end]] = timedelta(hours=hms[0], minutes=hms[1], seconds=hms[2])
        if (ts, end - ts) not in lens:
            lens.append((ts, end - ts))
            if len(lens) > 16:
                del lens[0]
        if len(self._templates) < 32:
            self._learn_templates(m, g, ts, end)
        return dt, end, ts, end - ts

    def _learn_templates(self, m, g: tuple, ts: int, end: int) -> None:
        """Header templates for the C loop: this header's date prefix and time suffix with
        their ASCII digits as fields (see _hotloop.c). Only plain headers: no era, no
        non-ASCII digit, no digit outside the fields."""
        if g[_C_ERA] is not None:
            return
        idx = self.fast_idx
        line = m.string
        marker = g[_C_AP] or g[_C_AP0]
        pm = F.ampm_is_pm(marker) if marker else None
        ampm = 0 if pm is None else (2 if pm else 1)
        for is_suffix, lo, hi, fields in (
                (False, 0, ts, ((idx[_C_D1], 0), (idx[_C_D2], 1), (idx[_C_D3], 2))),
                (True, ts, end, ((idx[_C_H], 3), (idx[_C_M], 4), (idx[_C_S], 5)))):
            tokens: list = []
            pos = lo
            for gi, code in fields:
                a, b = m.span(gi)
                if a < 0:
                    continue
                digits = line[a:b]
                if not (digits.isascii() and digits.isdigit()) or a < pos or b > hi:
                    return
                if a > pos:
                    tokens.append(line[pos:a])
                tokens.append(code)
                pos = b
            if hi > pos:
                tokens.append(line[pos:hi])
            if any(c.isdigit() or c.isnumeric() for t in tokens if isinstance(t, str) for c in t):
                return
            tpl = (is_suffix, tuple(tokens), ampm if is_suffix else 0)
            if tpl not in self._templates:
                self._templates.append(tpl)
                if self._scanner is not None:
                    self._scanner.add_template(*tpl)

    def _hot_c(self, chunks, base: int, block: list, start: int, p_dt: datetime, p_rest: str):
        """The hot loop in C: an iterator of the records from line ``start`` of ``block`` on,
        then of the part line waiting in ``_carry`` and the chunks still unread."""
        scanner = _CScanner(Message, self.prefixes, self.suffixes, self.lens, self.plain_authors,
                            F.PLACEHOLDERS, F.INVISIBLE, F.TEXT_JUNK_MARKS, F.ENCRYPTION_HEADS,
                            F.ENCRYPTION_MIN_LEN, self._header, self._build, self._too_big,
                            _classify, self.order, F.DOCUMENT_OMITTED_SUFFIXES, F.CALL_PREFIXES,
                            MAX_MESSAGE_CHARS, self._line_too_long)
        self._scanner = scanner
        for tpl in self._templates:
            scanner.add_template(*tpl)
        head = ["\n".join(block[start:]) + "\n"] if start < len(block) else []
        carry = [self._carry] if self._carry else []
        self._carry = ""
        scanner.start(p_dt, p_rest, base + start - 1, base + start,
                      itertools.chain(head, carry, chunks))
        return scanner

    def _hot_python(self, blocks, base: int, block: list, start: int, p_dt: datetime,
                    p_rest: str) -> Iterator[Message]:
        """The hot loop in Python (where the C one was not built, and for time-first files)."""
        pget = self.prefixes.get
        sget = self.suffixes.get
        lens = self.lens
        dl0 = tl0 = -1                      # prefix/suffix lengths that matched last
        classify = self._header
        build = self._build
        space_style = self.sig == " "
        plain_get = self.plain_authors.get
        junk = _JUNK_SEARCH
        placeholders = F.PLACEHOLDERS
        invisible = F.INVISIBLE
        new = _new
        twin = _MessageTwin
        fast_messages = _FAST_MESSAGES
        e2e_heads, e2e_len = F.ENCRYPTION_HEADS, F.ENCRYPTION_MIN_LEN
        # the open record is p_line[p_end:] (+ p_more): kept as the line and an offset, as the
        # fast path below never needs that slice
        p_line = block[start - 1] if start else p_rest
        p_end = len(p_line) - len(p_rest)
        p_more = None
        for base, block in itertools.chain([(base + start, block[start:])], blocks):
            for line in block:
                day = pget(line[:dl0])
                tod = sget(line[dl0:dl0 + tl0]) if day is not None else None
                if tod is not None:
                    end = dl0 + tl0
                    dt = day + tod
                else:
                    end = 0
                    for dl, tl in lens:                   # another known length?
                        day = pget(line[:dl])
                        if day is not None:
                            tod = sget(line[dl:dl + tl])
                            if tod is not None:
                                dl0, tl0, end = dl, tl, dl + tl
                                dt = day + tod
                                break
                    if not end:
                        got = classify(line, base, block)
                        if got is None:
                            # a continuation line of the open record
                            if p_more is None:
                                p_more = [line]
                            else:
                                p_more.append(line)
                                if len(p_more) & 1023 == 0:
                                    self._check_size(p_more, self._line_of(base, block, p_line))
                            continue
                        dt, end, dl, tl = got
                        if dl >= 0:
                            dl0, tl0 = dl, tl
                if space_style and _split_author(line[end:])[0] is None:
                    if p_more is None:
                        p_more = [line]
                    else:
                        p_more.append(line)
                    continue
                # close the open record
                if p_more is None:
                    # fast path: a one-line plain text message by a known plain author
                    i = p_line.find(": ", p_end)
                    if i > p_end:
                        author = plain_get(p_line[p_end:i])
                        if author is not None:
                            t = p_line[i + 2:]
                            if t.isascii() or not (t[:1] in invisible or junk(t)):
                                hit = placeholders.get(t)
                                if hit is None and not (
                                        "<" in t or ">" in t or "(" in t or ")" in t or "://" in t
                                        or t.startswith(author)
                                        or (len(t) >= e2e_len and t[:12] in e2e_heads)):
                                    kind = TEXT
                                    media_type = None
                                elif hit is not None:
                                    kind, media_type = hit[0], hit[1]
                                else:
                                    kind = None
                                if kind is not None:
                                    if fast_messages:
                                        # _make_fast inlined: the call itself costs ~10% here
                                        msg = new(twin)
                                        msg.time = p_dt
                                        msg.author = author
                                        msg.text = t
                                        msg.kind = kind
                                        msg.edited = False
                                        msg.attachment = None
                                        msg.media_type = media_type
                                        msg.__class__ = Message
                                        yield msg
                                    else:
                                        yield _make(p_dt, author, t, kind, False, None, media_type)
                                    p_dt, p_line, p_end = dt, line, end
                                    continue
                    yield build(p_dt, p_line[p_end:])
                else:
                    yield build(p_dt, p_line[p_end:] + "\n" + "\n".join(p_more))
                p_dt, p_more, p_line, p_end = dt, None, line, end
        p_rest = p_line[p_end:]
        yield build(p_dt, p_rest if p_more is None else p_rest + "\n" + "\n".join(p_more))

    def _finish(self) -> None:
        info = self.info
        info.time_format = "12h" if self.saw_ampm else "24h"
        info.date_order = self.order
        info.chat_name = info.chat_name or self.chat_name

    @staticmethod
    def _line_of(base: int, block: list, line) -> int:
        """Line number of ``line`` (an int index, or the very string object) in ``block``."""
        if isinstance(line, int):
            return base + line
        for k, x in enumerate(block):
            if x is line:
                return base + k
        return base

    def _check_size(self, more: list, line_no: int) -> None:
        self._too_big(len(more), sum(map(len, more)), line_no)

    def _too_big(self, n_lines: int, n_chars: int, line_no: int) -> None:
        """Refuse a message of more than MAX_MESSAGE_LINES continuation lines or chars."""
        if n_lines > MAX_MESSAGE_LINES or n_chars > MAX_MESSAGE_CHARS:
            raise ParseError(f"{self.display}: the message starting on line {line_no} is larger "
                             f"than {MAX_MESSAGE_CHARS:,} characters — not a WhatsApp export")

    def _not_an_export(self, preamble):
        first_no, first = preamble[0]
        if len(preamble) == 1:
            msg = (f"not a WhatsApp export: line {first_no} does not start with a date/time "
                   f"header: {_snippet(first)}")
        else:
            msg = (f"not a WhatsApp export: none of the first {len(preamble)} non-blank lines "
                   f"starts with a date/time header (line {first_no}: {_snippet(first)})")
        raise ParseError(f"{self.display}: {msg}",
                         "export the chat from WhatsApp (Export chat) and pass that .txt or .zip")

    # -- day/month decision ------------------------------------------------------------------
    def _settled(self, buffered: list, g: tuple) -> bool:
        """Has an unambiguous date decided the order already? True once exactly one order
        reads every held-back date (the others each fail on some date, like a 13th month):
        _decide would pick it now, and holding back more records cannot change that in an
        export WhatsApp wrote. Checks the dates not seen before only."""
        ok = self._orders_ok
        seen = self._dates_seen
        for gg in itertools.chain((r[0] for r in buffered[self._settle_from:]), (g,)):
            date_s = gg[_C_DATE]
            if date_s in seen:
                continue
            seen.add(date_s)
            for o in list(ok):
                if _ymd(gg[_C_D1], gg[_C_D2], gg[_C_D3], gg[_C_ERA], o) is None:
                    ok.discard(o)
        self._settle_from = len(buffered)
        return len(ok) == 1

    def _decide(self, groups: list[tuple]) -> None:
        """Pick the date order from the held-back headers."""
        prior = _order_prior(groups)
        if any(g[_C_AP] or g[_C_AP0] for g in groups):
            self.saw_ampm = True
        if self.forced_order:
            self.order = self.forced_order
        elif not groups:
            self.order = prior[0]
        else:
            dates: dict[str, tuple] = {}
            for g in groups:
                dates.setdefault(g[_C_DATE], (g[_C_D1], g[_C_D2], g[_C_D3], g[_C_ERA]))
            valid = {o: {k: _ymd(*v, o) for k, v in dates.items()} for o in DATE_ORDERS}
            counts = {o: sum(1 for g in groups if valid[o][g[_C_DATE]]) for o in DATE_ORDERS}
            best = max(counts.values())
            cands = [o for o in prior if counts[o] == best]
            if len(cands) > 1:
                scores = {}
                for o in cands:
                    seq = []
                    for g in groups:
                        d = valid[o][g[_C_DATE]]
                        if d is None:
                            continue
                        t = _hms(g[_C_H], g[_C_M], g[_C_S], g[_C_AP0], g[_C_AP]) or (0, 0, 0)
                        seq.append(d + t)
                    inversions = sum(1 for a, b in zip(seq, seq[1:]) if b < a)
                    scores[o] = (inversions, _span_days(seq))
                best_inv = min(sc[0] for sc in scores.values())
                cands = [o for o in cands if scores[o][0] == best_inv]
                if len(cands) > 1:
                    spans = sorted(scores[o][1] for o in cands)
                    # a much shorter span is the likelier reading (days change faster than months)
                    if spans[0] * 3 < spans[1]:
                        cands = [o for o in cands if scores[o][1] == spans[0]]
            self.order = cands[0]
        self.fallback_orders = [o for o in prior if o != self.order]

    def _resolve(self, g: tuple) -> datetime | None:
        """The datetime of a header (canonical groups) in the decided order, or None."""
        date_s = g[_C_DATE]
        ymd = self.date_cache.get(date_s, False)
        if ymd is False:
            parts = (g[_C_D1], g[_C_D2], g[_C_D3], g[_C_ERA])
            ymd = _ymd(*parts, self.order)
            if ymd is None:
                for o in self.fallback_orders:
                    ymd = _ymd(*parts, o)
                    if ymd is not None:
                        self.info.date_conflicts += 1
                        break
            if len(self.date_cache) > _CACHE_LIMIT:
                self.date_cache.clear()
            self.date_cache[date_s] = ymd
        if ymd is None:
            return None
        time_s = g[_C_TIME]
        hms = self.time_cache.get(time_s, False)
        if hms is False:
            hms = _hms(g[_C_H], g[_C_M], g[_C_S], g[_C_AP0], g[_C_AP])
            if g[_C_AP] or g[_C_AP0]:
                self.saw_ampm = True
            if len(self.time_cache) > _CACHE_LIMIT:
                self.time_cache.clear()
            self.time_cache[time_s] = hms
        if hms is None:
            return None
        return datetime(ymd[0], ymd[1], ymd[2], hms[0], hms[1], hms[2])

    def _flush(self, buffered: list) -> Iterator[Message]:
        """Turn held-back records into messages (the date order is known now)."""
        records = list(buffered)
        buffered.clear()
        quick = self._quick if QUICK_FLUSH else (lambda dt, rest: None)
        for g, rest in records:
            # every held-back header was possible in some order, so this resolves
            dt = self._resolve(g)
            if dt is not None:
                yield quick(dt, rest) or self._build(dt, rest)

    def _valid(self, g: tuple) -> bool:
        """_valid_header, remembered per date and per time string (the look-ahead sees the
        same date on most lines; trying it in six orders each time cost ~3 µs a line)."""
        memo = self.valid_memo
        t = memo.get(g[_C_TIME])
        if t is None:
            t = memo[g[_C_TIME]] = _hms(g[_C_H], g[_C_M], g[_C_S], g[_C_AP0], g[_C_AP]) is not None
        if not t:
            return False
        key = ("d", g[_C_DATE])          # dates and times never clash: tuple vs str keys
        d = memo.get(key)
        if d is None:
            if len(memo) > _CACHE_LIMIT:
                memo.clear()
            d = memo[key] = any(_ymd(g[_C_D1], g[_C_D2], g[_C_D3], g[_C_ERA], o)
                                for o in DATE_ORDERS)
        return d

    def _quick(self, dt: datetime, rest: str):
        """The hot loop's fast path as a function (for the look-ahead records): the Message
        _build would make for a one-line plain text by a known plain author, or None."""
        i = rest.find(": ")
        if i <= 0 or "\n" in rest:
            return None
        author = self.plain_authors.get(rest[:i])
        if author is None:
            return None
        t = rest[i + 2:]
        if not (t.isascii() or not (t[:1] in F.INVISIBLE or _JUNK_SEARCH(t))):
            return None
        hit = F.PLACEHOLDERS.get(t)
        if hit is not None:
            return _make(dt, author, t, hit[0], False, None, hit[1])
        if ("<" in t or ">" in t or "(" in t or ")" in t or "://" in t or t.startswith(author)
                or (len(t) >= F.ENCRYPTION_MIN_LEN and t[:12] in F.ENCRYPTION_HEADS)):
            return None
        return _make(dt, author, t, TEXT, False, None, None)

    # -- one record ----------------------------------------------------------------------------
    def _author(self, raw: str) -> tuple[str, bool]:
        """Cleaned name, and whether it looks like a notice split at a colon inside quotes."""
        hit = self.author_cache.get(raw)
        if hit is not None:
            return hit
        a = " ".join(raw.translate(F.AUTHOR_TABLE).split())
        if a.startswith("~ "):        # WhatsApp marks names that are not in your contacts
            a = a[2:]
        odd = (not a or len(a) > 100 or sum(a.count(q) for q in _QUOTES) % 2 == 1)
        hit = (a, odd)
        if len(self.author_cache) < 10000:
            self.author_cache[raw] = hit
            if not odd:
                self.known_authors.setdefault(a, a)
        return hit

    def _build(self, dt: datetime, rest: str) -> Message:
        """One record from the text after the header (``Name: text`` or a notice)."""
        nl = rest.find("\n")
        first_end = nl if nl >= 0 else len(rest)
        i = rest.find(": ", 0, first_end)          # the name is on the header's own line
        if i >= 0:
            author_raw = rest[:i]
            body = rest[i + 2:]
        elif first_end and rest[first_end - 1] == ":":   # "Name:" and nothing after it
            author_raw = rest[:first_end - 1]
            body = rest[first_end + 1:]
        else:
            return self._build_authorless(dt, rest)
        if body.endswith("\n"):
            body = body.rstrip("\n")
        hit = self.author_cache.get(author_raw)
        author, odd = hit if hit is not None else self._author(author_raw)
        if odd:
            # "X changed the subject from "A: B"…", or no real name before the colon
            full = _clean_text(rest.rstrip("\n"))
            if not author or len(author) > 100 or F.SYSTEM_NOTICE_RE.match(full):
                return _make(dt, None, full, SYSTEM)
        text = body
        marked = False
        cleaned = False
        if not text.isascii() and (text[0] in F.INVISIBLE or _JUNK_SEARCH(text)):
            marked = text[0] in F.INVISIBLE
            text = _clean_text(text)
            cleaned = True
        edited = False
        if text.endswith(">"):
            text, edited = _strip_edited(text)
        hit = F.PLACEHOLDERS.get(text)
        if hit is None and (cleaned or "\n" in text or "://" in text or "(" in text
                            or "<" in text):
            hit = _classify(text)
        if hit is not None:
            return _make(dt, author, text, hit[0], edited, hit[2], hit[1])
        # a notice WhatsApp wrote under a name?
        chat_name = self.chat_name
        if marked or author == chat_name or text.startswith(author) or (
                len(text) >= F.ENCRYPTION_MIN_LEN and text[:12] in F.ENCRYPTION_HEADS):
            if F.ENCRYPTION_RE.match(text):
                if chat_name is None:
                    self.chat_name = author
                    for raw in [r for r, a in self.plain_authors.items() if a == author]:
                        del self.plain_authors[raw]
                return _make(dt, None, text, SYSTEM)
            if author == chat_name and not self.chat_name_is_person:
                if marked or F.SYSTEM_NOTICE_RE.match(text):
                    return _make(dt, None, text, SYSTEM)
                self.chat_name_is_person = True
            elif (marked or text.startswith(author + " ")) and F.SYSTEM_NOTICE_RE.match(text):
                return _make(dt, None, text, SYSTEM)
        # only a name without odd quoting may skip _build: for an odd one, a later text can
        # still turn out to be a notice (see the SYSTEM_NOTICE check above)
        if (not odd and (author != chat_name or self.chat_name_is_person)
                and len(self.plain_authors) < 10000):
            self.plain_authors[author_raw] = author
        return _make(dt, author, text, TEXT, edited)

    def _build_authorless(self, dt: datetime, body: str) -> Message:
        text = _clean_text(body.rstrip("\n"))
        # "John Doe:." — a colon right after a known name is still that person's message
        if ":" in text and self.known_authors:
            head, _, rest = text.partition(":")
            name = self.known_authors.get(" ".join(head.split()))
            if name is not None and "\n" not in head:
                return self._build(dt, name + ": " + rest.lstrip(" "))
        return _make(dt, None, text, SYSTEM)


def _span_days(seq) -> float:
    if not seq:
        return 0.0
    lo = min(seq)
    hi = max(seq)
    return (datetime(*hi) - datetime(*lo)).total_seconds() / 86400.0


_JUNK_SEARCH = F.TEXT_JUNK_RE.search



def _clean_text(text: str) -> str:
    """Drop junk marks everywhere (see formats.TEXT_JUNK) and any invisible mark at the start
    and end of the text."""
    if not text or text.isascii():
        return text
    text = F.TEXT_JUNK_SUB("", text)
    return text.strip(F.INVISIBLE).lstrip(" ")


def _strip_edited(text: str) -> tuple[str, bool]:
    i = text.rfind("<")
    if i < 0:
        return text, False
    if F.norm_key(text[i + 1:-1]) in F.EDITED_MARKERS:
        return text[:i].rstrip(" " + F.INVISIBLE + F.ODD_SPACES), True
    return text, False


def _classify(text: str):
    """(kind, media_type, attachment) for a body that is not plain text, else None."""
    first, nl, _ = text.partition("\n")
    hit = F.PLACEHOLDERS.get(first)
    if hit is not None:
        return hit
    if "://" in text:
        if F.LOCATION_RE.match(text) or F.MAPS_ONLY_RE.match(text):
            return LOCATION, None, None
        if F.FOURSQUARE_RE.search(text) and text.count("\n") <= 2 and len(text) < 400:
            return LOCATION, None, None
    if "<" in first or "(" in first:
        m = F.ATTACHED_IOS.match(first) or F.ATTACHED_IOS_OLD.match(first) or \
            (F.ATTACHED_ANDROID.match(first) if first.endswith(")") else None)
        if m is None and "<" in first:
            m = F.ATTACHED_IOS.match(first[first.find("<"):])
        if m:
            fname = m.group("file").translate(F.INVISIBLE_TABLE).strip()
            if fname:
                kind, mt = F.classify_attachment(fname)
                return kind, mt, fname
    if nl and F.POLL_RE.match(text):
        return POLL, None, None
    if len(first) > 80:          # every placeholder is shorter; only a caption makes it longer
        if not (len(first) < 300 and "\u2022" in first):
            return None
    # the careful lookups: case, spacing, invisible marks, Unicode forms
    key = F.norm_key(first)
    hit = F.PLACEHOLDERS.get(key)
    if hit is not None:
        return hit
    # "Resume.pdf • 2 pages ‎document omitted"
    if key.endswith(F.DOCUMENT_OMITTED_SUFFIXES):
        return MEDIA, "document", None
    if key.startswith(F.CALL_PREFIXES):
        return CALL, None, None
    return None


__all__ = ["iter_messages", "parse_export", "ExportInfo", "ParsedExport", "LOOKAHEAD",
           "DATE_ORDERS"]
