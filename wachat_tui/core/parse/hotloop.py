"""The hot loop: every record after the day/month order is decided, in C where
``_hotloop.c`` was compiled (``setup.py``), else in Python.

A header line is "date prefix" + "time+terminator suffix". Once the regex has read a prefix or
suffix, both are remembered (bounded dicts), so most header lines are then recognised by two
slices and two dict hits; the regex only sees new days and oddities (:meth:`HotLoop.header`).
The prefix maps to the day's midnight and the suffix to a timedelta: ``day + tod`` is the
header's datetime, ~5x cheaper than ``datetime(y, m, d, H, M, S)``. The C loop also matches
header *templates* (the prefix and suffix with their digits as fields) learnt from the regex.

Records go through :meth:`RecordBuilder.quick` (the C loop: its own copy of that rule) or the
careful :meth:`RecordBuilder.build`; both loops call back into :meth:`HotLoop.header` and the
builder, so their records are the careful path's records (tests/core/test_parse_hotloop.py).
"""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterator, Sequence

from ..records import Message
from . import formats as F
from .build import classify, split_author
from .dates import C_D1, C_D2, C_D3, C_DATE, C_ERA, C_H, C_M, C_S, C_TIME, C_AP, C_AP0, CACHE_LIMIT

try:  # the hot loop in C (setup.py builds it; optional: without it the Python loop runs)
    from ._hotloop import Scanner as CScanner
except ImportError:  # pragma: no cover - no C compiler where this was installed
    CScanner = None
try:  # messages.jsonl lines in C (an extension built before it was added has none)
    from ._hotloop import json_lines as _c_json_lines
except ImportError:  # pragma: no cover - no C compiler, or an older build
    _c_json_lines = None

if TYPE_CHECKING:
    from .parser import Parser


def line_of(base: int, block: list, line) -> int:
    """Line number of ``line`` (an int index, or the very string object) in ``block``."""
    if isinstance(line, int):
        return base + line
    for k, x in enumerate(block):
        if x is line:
            return base + k
    return base


class HotLoop:
    """The rest of a file once its date order is known; ``parser`` holds the header style,
    the date reader and the record builder."""

    def __init__(self, parser: "Parser"):
        self.parser = parser
        self.prefixes: dict[str, datetime] = {}   # "01/03/2021, " → datetime(2021, 3, 1)
        self.suffixes: dict[str, timedelta] = {}  # "09:00 - "    → timedelta(hours=9)
        self.lens: list[tuple[int, int]] = []      # every (prefix, suffix) length pair seen
        self.templates: list[tuple] = []           # header templates for the C loop
        self.scanner = None

    # -- headers ------------------------------------------------------------------------------
    def header(self, line: str, line_no: int, block: list | None = None):
        """A line the prefix/suffix caches did not recognise: ``(datetime, end of the header,
        dl, tl)`` for a header — ``dl``/``tl`` the cache lengths to try first from now on, or
        -1 — else None (a continuation line). Remembers what the regex read in the caches.
        ``line_no`` is the line's number, or the block's first with ``block`` given."""
        p = self.parser
        m = p.fast.match(line)
        if m is not None:
            end = m.end()
            g = m.group(*p.fast_idx)
        elif line and F.could_be_header(line):
            got = p.slow_header(line)
            if got is None:
                return None
            g, end = got
        else:
            return None
        if p.sig == " " and split_author(line[end:])[0] is None:
            return None
        dates = p.dates
        dt = dates.resolve(g)
        if dt is None:
            p.unparsed(line_no if block is None else line_of(line_no, block, line), line)
            return None
        if m is None or p.fast_time_first:
            return dt, end, -1, -1
        day = dates.date_cache[g[C_DATE]]
        tod = dates.time_cache[g[C_TIME]]
        ts = m.start(p.fast_idx[C_TIME])
        prefixes, suffixes, lens = self.prefixes, self.suffixes, self.lens
        if len(prefixes) > CACHE_LIMIT:
            prefixes.clear()
        if len(suffixes) > CACHE_LIMIT:
            suffixes.clear()
        prefixes[line[:ts]] = datetime(day[0], day[1], day[2])
        suffixes[line[ts:end]] = timedelta(hours=tod[0], minutes=tod[1], seconds=tod[2])
        if (ts, end - ts) not in lens:
            lens.append((ts, end - ts))
            if len(lens) > 16:
                del lens[0]
        if len(self.templates) < 32:
            self._learn_templates(m, g, ts, end)
        return dt, end, ts, end - ts

    def _learn_templates(self, m, g: tuple, ts: int, end: int) -> None:
        """Header templates for the C loop: this header's date prefix and time suffix with
        their ASCII digits as fields (see _hotloop.c). Only plain headers: no era, no
        non-ASCII digit, no digit outside the fields."""
        if g[C_ERA] is not None:
            return
        idx = self.parser.fast_idx
        line = m.string
        marker = g[C_AP] or g[C_AP0]
        pm = F.ampm_is_pm(marker) if marker else None
        ampm = 0 if pm is None else (2 if pm else 1)
        for is_suffix, lo, hi, fields in (
                (False, 0, ts, ((idx[C_D1], 0), (idx[C_D2], 1), (idx[C_D3], 2))),
                (True, ts, end, ((idx[C_H], 3), (idx[C_M], 4), (idx[C_S], 5)))):
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
            if tpl not in self.templates:
                self.templates.append(tpl)
                if self.scanner is not None:
                    self.scanner.add_template(*tpl)

    # -- the loops ----------------------------------------------------------------------------
    def run_c(self, chunks, base: int, block: list, start: int, p_dt: datetime, p_rest: str):
        """The loop in C: an iterator of the records from line ``start`` of ``block`` on (the
        record opened by ``p_dt``/``p_rest`` first), then of the part line waiting in the
        parser's carry and the chunks still unread."""
        p = self.parser
        builder = p.builder
        scanner = CScanner(Message, self.prefixes, self.suffixes, self.lens, builder.plain_authors,
                           F.PLACEHOLDERS, F.INVISIBLE, F.TEXT_JUNK_MARKS, F.ENCRYPTION_HEADS,
                           F.ENCRYPTION_MIN_LEN, self.header, builder.build, p.too_big,
                           classify, p.dates.order, F.DOCUMENT_OMITTED_SUFFIXES, F.CALL_PREFIXES,
                           p.options.max_message_chars, p.line_too_long)
        self.scanner = scanner
        for tpl in self.templates:
            scanner.add_template(*tpl)
        head = ["\n".join(block[start:]) + "\n"] if start < len(block) else []
        carry = [p.carry] if p.carry else []
        p.carry = ""
        scanner.start(p_dt, p_rest, base + start - 1, base + start,
                      itertools.chain(head, carry, chunks))
        return scanner

    def run_python(self, blocks, base: int, block: list, start: int, p_dt: datetime,
                   p_rest: str) -> Iterator[Message]:
        """The loop in Python (where the C one was not built, and for time-first files)."""
        p = self.parser
        pget = self.prefixes.get
        sget = self.suffixes.get
        lens = self.lens
        dl0 = tl0 = -1                      # prefix/suffix lengths that matched last
        header = self.header
        build = p.builder.build
        quick = p.builder.quick
        space_style = p.sig == " "
        # the open record is p_line[p_end:] (+ p_more): kept as the line and an offset
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
                        got = header(line, base, block)
                        if got is None:
                            # a continuation line of the open record
                            if p_more is None:
                                p_more = [line]
                            else:
                                p_more.append(line)
                                if len(p_more) & 1023 == 0:
                                    p.check_size(p_more, line_of(base, block, p_line))
                            continue
                        dt, end, dl, tl = got
                        if dl >= 0:
                            dl0, tl0 = dl, tl
                if space_style and split_author(line[end:])[0] is None:
                    if p_more is None:
                        p_more = [line]
                    else:
                        p_more.append(line)
                    continue
                # close the open record
                if p_more is None:
                    rest = p_line[p_end:]
                    yield quick(p_dt, rest) or build(p_dt, rest)
                else:
                    yield build(p_dt, p_line[p_end:] + "\n" + "\n".join(p_more))
                p_dt, p_more, p_line, p_end = dt, None, line, end
        p_rest = p_line[p_end:]
        yield build(p_dt, p_rest if p_more is None else p_rest + "\n" + "\n".join(p_more))


def message_json_lines(messages: Sequence[Message], batch: int = 8192, *,
                       use_c: bool = True) -> Iterator[bytes]:
    """A chat's ``messages.jsonl`` in UTF-8 blocks: each message's
    :meth:`~wachat_tui.core.records.Message.to_json_line` and a line end. The C extension
    writes them (~5x faster: a big chat has one line per message) where it was compiled,
    falling back to the method for any message it cannot write exactly the same."""
    write = _c_json_lines if use_c else None
    for start in range(0, len(messages), batch):
        part = messages[start:start + batch]
        if write is not None:
            yield write(part, Message, Message.to_json_line)
        else:
            yield "".join([m.to_json_line() + "\n" for m in part]).encode("utf-8")
