"""The parser: an export's chat text → :class:`Message` records, streaming, and what it learnt
about the file (:class:`ExportInfo`).

1. **The header style.** The first line that looks like ``date time`` + a terminator (``]``,
   `` - ``, ``:`` …) fixes the file's style; later lines only start a new message when they use
   that same style, so a message that quotes a timestamp stays one message.
2. **Day/month order** (:mod:`.dates`). Decided once per file from a bounded look-ahead of
   header lines (:attr:`ParseOptions.lookahead`). Records are held back only during that
   look-ahead, so memory stays flat in the file size.
3. **Records** (:mod:`.build`). Each header + its continuation lines becomes one Message.
4. **The hot loop** (:mod:`.hotloop`). Once the order is known — as soon as one date is
   unambiguous, or after the look-ahead — the rest of the file goes through a hot loop, in C
   where it was compiled, else in Python; both give the careful path's records.

Text is read in 64 KiB blocks (:mod:`.source`): small blocks of decoded text cost fewer page
faults than big ones.
"""
from __future__ import annotations

import itertools
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

from ...errors import ParseError
from ..records import Message
from . import formats as F
from .build import RecordBuilder, split_author
from .dates import C_AP, C_AP0, C_DATE, C_DT, C_ERA, C_TERM, C_TIME, DATE_ORDERS, DateReader, valid_header
from .hotloop import CScanner, HotLoop
from .source import ExportSource, short

#: Non-blank lines tolerated before the first header.
MAX_PREAMBLE_LINES = 25
#: How many unparsed lines ExportInfo keeps.
MAX_UNPARSED = 200
#: One message (or line) larger than this means the file is not a chat export (WhatsApp
#: itself caps a message at 65,536 characters; this leaves room for odd exports).
MAX_MESSAGE_CHARS = 4 << 20
MAX_MESSAGE_LINES = 200_000


@dataclass(frozen=True)
class ParseOptions:
    """How a file is read. The defaults are what every user gets; tests vary them to hold the
    fast paths equal to the careful path (:meth:`careful`)."""

    date_order: str | None = None
    """Force the order of the date fields (DMY, MDY, YMD; rarely YDM, DYM, MYD) instead of
    deciding it from the file."""
    lookahead: int = 3000
    """Header lines held back at most to decide the day/month order."""
    early_decision: bool = True
    """Stop holding records back as soon as one date order alone reads every date seen."""
    quick_flush: bool = True
    """Held-back records take the quick rule for plain one-line texts
    (:meth:`RecordBuilder.quick`); off, each goes through the careful path."""
    use_c: bool = True
    """Run the hot loop in C where ``core/parse/_hotloop.c`` was compiled."""
    chunk_bytes: int = 1 << 16
    """Bytes read per block: small blocks keep each decoded text under malloc's mmap threshold
    (64 KiB measured ~20-30% faster than 1 MiB in a fresh process)."""
    sniff_bytes: int = 1 << 16
    """Bytes read first, to detect the encoding."""
    max_message_chars: int = MAX_MESSAGE_CHARS
    """A message (or line) longer than this is refused: the file is not a chat export."""
    max_member_bytes: int = 1 << 30
    """A zip's chat member inflating past this is refused."""

    def __post_init__(self) -> None:
        if self.date_order is not None:
            order = str(self.date_order).upper()
            if order not in DATE_ORDERS:
                raise ParseError(f"unknown date order {self.date_order!r}", "use one of DMY, MDY, YMD")
            object.__setattr__(self, "date_order", order)
        for name in ("lookahead", "chunk_bytes", "sniff_bytes", "max_message_chars", "max_member_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ParseOptions.{name} must be a whole number ≥ 1, not {value!r}")

    @classmethod
    def careful(cls, **changes) -> "ParseOptions":
        """The reference reading: every record held back for the date decision and built by
        the careful path (no hot loop, no quick rule)."""
        return cls(**{"lookahead": 10 ** 9, "early_decision": False, "quick_flush": False, **changes})


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


def iter_messages(path: str | Path, options: ParseOptions | None = None, *,
                  date_order: str | None = None, info: ExportInfo | None = None) -> Iterator[Message]:
    """Stream the records of an export in file order.

    ``date_order`` (short for ``options.date_order``) forces DMY/MDY/YMD instead of deciding
    it; ``info`` (optional) is filled in as the file is read. Raises :class:`ParseError` with
    one clear line for unreadable input.
    """
    options = options or ParseOptions()
    if date_order is not None:
        options = replace(options, date_order=date_order)
    info = info if info is not None else ExportInfo()
    path = Path(path)
    info.source = str(path)
    with ExportSource(path, sniff_bytes=options.sniff_bytes, chunk_bytes=options.chunk_bytes,
                      max_member_bytes=options.max_member_bytes) as src:
        info.chat_file = src.chat_file
        info.chat_name = src.chat_name
        parser = Parser(info, src.display, options)
        try:
            yield from parser.run(src.chunks(info))
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ParseError(f"{src.display}: the zip file is corrupt ({short(exc)})",
                             "export the chat again") from None
        except OSError as exc:
            raise ParseError(f"cannot read {src.display}: {short(exc)}") from None


def parse_export(path: str | Path, options: ParseOptions | None = None, *,
                 date_order: str | None = None) -> ParsedExport:
    """Parse a whole export: all records plus :class:`ExportInfo` (counts, participants…)."""
    info = ExportInfo()
    messages = list(iter_messages(path, options, date_order=date_order, info=info))
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


def _snippet(line: str, width: int = 60) -> str:
    line = line.strip()
    return repr(line if len(line) <= width else line[:width] + "…")


# ---------------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------------


class Parser:
    """Reads one file: finds its header style, holds records back until the date order is
    decided, then hands the rest to the hot loop."""

    def __init__(self, info: ExportInfo, display: str, options: ParseOptions):
        self.info = info
        self.display = display
        self.options = options
        self.dates = DateReader(options.date_order)
        self.builder = RecordBuilder(info.chat_name)
        self.generic = None          # the generic regex of the file's orientation
        self.generic_idx: tuple = ()
        self.fast = None             # a regex narrowed to the file's style
        self.fast_idx: tuple = ()
        self.fast_time_first = False
        self.sig: str | None = None  # the file's header terminator kind (formats.term_kind)
        self.sig_terms: set[str] = set()
        #: the part line after the last line end read, waiting for the next chunk
        self.carry = ""
        self.hot: HotLoop | None = None

    def unparsed(self, line_no: int, text: str) -> None:
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
            kind = F.term_kind(g[C_TERM])
            if kind == " " and split_author(line[m.end():])[0] is None:
                continue
            if not valid_header(g):
                continue
            self.generic, self.generic_idx, self.sig = generic, idx, kind
            self.info.platform = "ios" if kind == "]" else "android"
            self._build_fast(m, generic is F.HEADER_TIME_FIRST, g)
            return True
        return False

    def _build_fast(self, m, time_first: bool, g: tuple) -> None:
        """A regex narrowed to this file's style: the generic one costs ~3x more per line."""
        dt_s, date_s, time_s = g[C_DT], g[C_DATE], g[C_TIME]
        marks = any(c in F.INVISIBLE for c in dt_s)
        marker = g[C_AP] or g[C_AP0]
        if marker is None:
            ampm = "none"
        elif g[C_AP0] is None and "".join(marker.split()).lower().replace(".", "") in ("am", "pm"):
            ampm = "latin"
        else:
            ampm = "any"
        dt_sep = None
        if not time_first and not marks and dt_s.startswith(date_s):
            k = dt_s.find(time_s, len(date_s))
            if k >= 0:
                dt_sep = dt_s[len(date_s):k]
        fast = F.header_regex(time_first, self.sig, ampm, marks, dt_sep, era=g[C_ERA] is not None)
        if fast.match(m.string) is None:   # paranoia: must accept the line it was built from
            fast = F.header_regex(time_first, self.sig)
        self.fast, self.fast_idx = fast, F.canon_indices(fast)
        self.fast_time_first = time_first

    def slow_header(self, line: str):
        """Generic regex for a line the fast regex refused: (canonical groups, end) or None."""
        m = self.generic.match(line)
        if m is None:
            return None
        g = m.group(*self.generic_idx)
        term = g[C_TERM]
        if term not in self.sig_terms:
            if F.term_kind(term) != self.sig:
                return None
            if self.sig != " ":
                self.sig_terms.add(term)
        return g, m.end()

    # -- limits and errors ---------------------------------------------------------------------
    def check_size(self, more: list, line_no: int) -> None:
        self.too_big(len(more), sum(map(len, more)), line_no)

    def too_big(self, n_lines: int, n_chars: int, line_no: int) -> None:
        """Refuse a message of more than MAX_MESSAGE_LINES continuation lines or too many chars."""
        limit = self.options.max_message_chars
        if n_lines > MAX_MESSAGE_LINES or n_chars > limit:
            raise ParseError(f"{self.display}: the message starting on line {line_no} is larger "
                             f"than {limit:,} characters — not a WhatsApp export")

    def line_too_long(self, line_no: int) -> None:
        raise ParseError(f"{self.display}: line {line_no} is longer than "
                         f"{self.options.max_message_chars:,} characters — not a WhatsApp export")

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

    # -- main loop ---------------------------------------------------------------------------
    def _blocks(self, chunks: Iterable[str]) -> Iterator[tuple[int, str]]:
        """(number of the first line, text) for blocks of complete lines: ``text.split("\\n")``
        are the block's lines (the last block may end without a line end). The part line
        after a block's last line end waits in ``self.carry`` for the next chunk."""
        self.carry = ""
        line_no = 1
        limit = self.options.max_message_chars
        for chunk in chunks:
            carry = self.carry
            buf = carry + chunk if carry else chunk
            cut = buf.rfind("\n")
            if cut < 0:
                if len(buf) > limit:
                    self.line_too_long(line_no)
                self.carry = buf
                continue
            text = buf[:cut]
            self.carry = buf[cut + 1:]
            yield line_no, text
            line_no += text.count("\n") + 1
        if self.carry:
            text, self.carry = self.carry, ""
            if len(text) > limit:
                self.line_too_long(line_no)
            yield line_no, text

    def run(self, chunks: Iterable[str]) -> Iterator[Message]:
        """The records of the chunks: the look-ahead is read at once (it is held back anyway),
        the rest as the iterator is consumed."""
        chunks = iter(chunks)
        blocks = ((b, t.split("\n")) for b, t in self._blocks(chunks))
        base, block, start = self._find_first_header(blocks)

        # -- held back: the first records, until the date order is decided ---------------------
        options = self.options
        fast_match = self.fast.match
        fidx = self.fast_idx
        space_style = self.sig == " "
        dates = self.dates
        held: list = []
        p_g = None          # open record: canonical groups, text after the header, more lines
        p_rest = ""
        p_more: list | None = None
        p_line = 0
        decided_at = None
        early = options.early_decision and options.date_order is None
        for base, block in itertools.chain([(base, block)], blocks):
            for k in range(start, len(block)):
                line = block[k]
                m = fast_match(line)
                if m is not None:
                    g, end = m.group(*fidx), m.end()
                else:
                    got = self.slow_header(line) if line and F.could_be_header(line) else None
                    g, end = got if got is not None else (None, 0)
                if g is not None and space_style and split_author(line[end:])[0] is None:
                    g = None
                if g is not None and not dates.valid(g):
                    self.unparsed(base + k, line)
                    g = None
                if g is None:
                    if p_more is None:
                        p_more = [line]
                    else:
                        p_more.append(line)
                        if len(p_more) & 1023 == 0:
                            self.check_size(p_more, p_line)
                    continue
                if p_g is not None:
                    held.append((p_g, p_rest if p_more is None else p_rest + "\n" + "\n".join(p_more)))
                p_g, p_rest, p_more, p_line = g, line[end:], None, base + k
                if len(held) >= options.lookahead or (
                        early and len(held) & 63 == 63 and dates.settled(held, p_g)):
                    decided_at = (base, block, k + 1)
                    break
            start = 0
            if decided_at is not None:
                break
        if decided_at is None:
            # the whole file fitted in the look-ahead
            if p_g is not None:
                held.append((p_g, p_rest if p_more is None else p_rest + "\n" + "\n".join(p_more)))
            dates.decide([r[0] for r in held])
            records = list(self._flush(held))
            self._finish()
            return iter(records)
        dates.decide([r[0] for r in held] + [p_g])
        flushed = list(self._flush(held))      # no more memory than the held-back records
        p_dt = dates.resolve(p_g)

        # -- decided: the hot loop --------------------------------------------------------------
        base, block, start = decided_at
        hot = self.hot = HotLoop(self)
        if CScanner is not None and options.use_c and not self.fast_time_first and not space_style:
            records = hot.run_c(chunks, base, block, start, p_dt, p_rest)
        else:
            records = hot.run_python(blocks, base, block, start, p_dt, p_rest)
        # an iterator chain, not a generator: each hot record reaches the caller through
        # one Python frame (iter_messages) fewer
        return itertools.chain(flushed, records, self._finished())

    def _find_first_header(self, blocks) -> tuple[int, list, int]:
        """(first line number of the block, the block, index in it) of the file's first header;
        the non-blank lines before it are recorded as unparsed."""
        preamble: list[tuple[int, str]] = []
        seen_text = False
        blank = F.INVISIBLE + " \t" + F.ODD_SPACES
        for base, block in blocks:
            for k, line in enumerate(block):
                if not line.strip(blank):
                    continue
                seen_text = True
                if F.could_be_header(line) and self._accept_first(line):
                    for ln, txt in preamble:
                        self.unparsed(ln, txt)
                    return base, block, k
                preamble.append((base + k, line))
                if len(preamble) >= MAX_PREAMBLE_LINES:
                    self._not_an_export(preamble)
        if not seen_text:
            raise ParseError(f"{self.display} is empty (no text in it)", "export the chat again")
        self._not_an_export(preamble)

    def _flush(self, held: list) -> Iterator[Message]:
        """Turn held-back records into messages (the date order is known now)."""
        records = list(held)
        held.clear()
        quick = self.builder.quick if self.options.quick_flush else (lambda dt, rest: None)
        build = self.builder.build
        resolve = self.dates.resolve
        for g, rest in records:
            # every held-back header was possible in some order, so this resolves
            dt = resolve(g)
            if dt is not None:
                yield quick(dt, rest) or build(dt, rest)

    def _finished(self) -> Iterator[Message]:
        """Empty; when reached, the file is read to its end: fill in what the end tells."""
        if self.hot is not None:
            self.hot.scanner = None      # it calls back into the hot loop: break the cycle
        self._finish()
        return
        yield

    def _finish(self) -> None:
        info = self.info
        info.time_format = "12h" if self.dates.saw_ampm else "24h"
        info.date_order = self.dates.order
        info.date_conflicts = self.dates.conflicts
        info.chat_name = info.chat_name or self.builder.chat_name
