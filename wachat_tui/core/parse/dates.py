"""Header dates and times: the three date fields read in a day/month order, and the decision of
that order for a file.

The order is decided once per file from the header lines held back at its start: an order
under which some date is impossible is out; among the rest the one that keeps the chat
chronological wins, then the one spanning less time, then locale hints (dotted dates are
day-first, English AM/PM slashed dates month-first). :class:`DateReader` holds that decision
and reads every later header with it.
"""
from __future__ import annotations

import itertools
from calendar import monthrange
from datetime import datetime

from . import formats as F

DATE_ORDERS = ("DMY", "MDY", "YMD", "YDM", "DYM", "MYD")
#: Entries per memo dict before it is emptied (memory stays flat on any file).
CACHE_LIMIT = 1 << 12

# Positions in a header's canonical groups tuple (formats.CANON).
C_DT, C_DATE, C_D1, C_SEP, C_D2, C_D3, C_ERA, C_TIME, C_H, C_M, C_S, C_AP0, C_AP, C_TERM, C_LEAD = \
    range(len(F.CANON))


def ymd(c1: str, c2: str, c3: str, era: str | None, order: str) -> tuple[int, int, int] | None:
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


def hms(h: str, mi: str, s: str | None, ap0: str | None, ap: str | None) -> tuple[int, int, int] | None:
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


def valid_header(g: tuple) -> bool:
    """The header's time is possible and its date is possible in at least one order."""
    if hms(g[C_H], g[C_M], g[C_S], g[C_AP0], g[C_AP]) is None:
        return False
    return any(ymd(g[C_D1], g[C_D2], g[C_D3], g[C_ERA], o) for o in DATE_ORDERS)


def order_prior(groups: list[tuple]) -> list[str]:
    """Locale hints: the orders to try, best first, when the data itself cannot decide."""
    if not groups:
        return list(DATE_ORDERS)
    first = groups[0]
    sep = first[C_SEP]
    marker = next((g[C_AP] or g[C_AP0] for g in groups if g[C_AP] or g[C_AP0]), None)
    english_ampm = marker is not None and "".join(marker.split()).lower() in ("am", "pm")
    if sep == ".":
        prior = ["DMY", "YMD", "MDY"]
    elif len(first[C_D1]) == 4:
        prior = ["YMD", "YDM"]
    elif english_ampm and sep == "/":
        prior = ["MDY", "DMY"]
    else:
        prior = ["DMY", "MDY", "YMD"]
    return prior + [o for o in DATE_ORDERS if o not in prior]


def _span_days(seq) -> float:
    if not seq:
        return 0.0
    return (datetime(*max(seq)) - datetime(*min(seq))).total_seconds() / 86400.0


def decide_order(groups: list[tuple]) -> str:
    """The day/month order for a file from its held-back headers (canonical groups)."""
    prior = order_prior(groups)
    if not groups:
        return prior[0]
    dates: dict[str, tuple] = {}
    for g in groups:
        dates.setdefault(g[C_DATE], (g[C_D1], g[C_D2], g[C_D3], g[C_ERA]))
    valid = {o: {k: ymd(*v, o) for k, v in dates.items()} for o in DATE_ORDERS}
    counts = {o: sum(1 for g in groups if valid[o][g[C_DATE]]) for o in DATE_ORDERS}
    best = max(counts.values())
    cands = [o for o in prior if counts[o] == best]
    if len(cands) > 1:
        scores = {}
        for o in cands:
            seq = []
            for g in groups:
                d = valid[o][g[C_DATE]]
                if d is None:
                    continue
                t = hms(g[C_H], g[C_M], g[C_S], g[C_AP0], g[C_AP]) or (0, 0, 0)
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
    return cands[0]


class DateReader:
    """The day/month order of one file, and header dates read with it (memoised)."""

    def __init__(self, forced_order: str | None = None):
        self.forced_order = forced_order
        self.order: str | None = None
        self.fallback_orders: list[str] = []
        #: header dates that only made sense in another order than the file's
        self.conflicts = 0
        #: a 12-hour marker was seen on some header
        self.saw_ampm = False
        self.date_cache: dict[str, tuple | None] = {}
        self.time_cache: dict[str, tuple | None] = {}
        self._valid_memo: dict = {}
        # settled()'s state: the orders still possible, dates checked, held records checked
        self._orders_ok = set(DATE_ORDERS)
        self._dates_seen: set[str] = set()
        self._settle_from = 0

    def settled(self, held: list, g: tuple) -> bool:
        """Has an unambiguous date decided the order already? True once exactly one order
        reads every held-back date (the others each fail on some date, like a 13th month):
        decide() would pick it now, and holding back more records cannot change that in an
        export WhatsApp wrote. ``held`` are (groups, text) records; only the dates not seen
        before are checked."""
        ok = self._orders_ok
        seen = self._dates_seen
        for gg in itertools.chain((r[0] for r in held[self._settle_from:]), (g,)):
            date_s = gg[C_DATE]
            if date_s in seen:
                continue
            seen.add(date_s)
            for o in list(ok):
                if ymd(gg[C_D1], gg[C_D2], gg[C_D3], gg[C_ERA], o) is None:
                    ok.discard(o)
        self._settle_from = len(held)
        return len(ok) == 1

    def decide(self, groups: list[tuple]) -> None:
        """Fix the order from the held-back headers (or the forced one)."""
        if any(g[C_AP] or g[C_AP0] for g in groups):
            self.saw_ampm = True
        self.order = self.forced_order or decide_order(groups)
        self.fallback_orders = [o for o in order_prior(groups) if o != self.order]

    def valid(self, g: tuple) -> bool:
        """valid_header, remembered per date and per time string (the look-ahead sees the
        same date on most lines; trying it in six orders each time cost ~3 µs a line)."""
        memo = self._valid_memo
        t = memo.get(g[C_TIME])
        if t is None:
            t = memo[g[C_TIME]] = hms(g[C_H], g[C_M], g[C_S], g[C_AP0], g[C_AP]) is not None
        if not t:
            return False
        key = ("d", g[C_DATE])          # dates and times never clash: tuple vs str keys
        d = memo.get(key)
        if d is None:
            if len(memo) > CACHE_LIMIT:
                memo.clear()
            d = memo[key] = any(ymd(g[C_D1], g[C_D2], g[C_D3], g[C_ERA], o) for o in DATE_ORDERS)
        return d

    def resolve(self, g: tuple) -> datetime | None:
        """The datetime of a header (canonical groups) in the decided order, or None."""
        date_s = g[C_DATE]
        day = self.date_cache.get(date_s, False)
        if day is False:
            parts = (g[C_D1], g[C_D2], g[C_D3], g[C_ERA])
            day = ymd(*parts, self.order)
            if day is None:
                for o in self.fallback_orders:
                    day = ymd(*parts, o)
                    if day is not None:
                        self.conflicts += 1
                        break
            if len(self.date_cache) > CACHE_LIMIT:
                self.date_cache.clear()
            self.date_cache[date_s] = day
        if day is None:
            return None
        time_s = g[C_TIME]
        tod = self.time_cache.get(time_s, False)
        if tod is False:
            tod = hms(g[C_H], g[C_M], g[C_S], g[C_AP0], g[C_AP])
            if g[C_AP] or g[C_AP0]:
                self.saw_ampm = True
            if len(self.time_cache) > CACHE_LIMIT:
                self.time_cache.clear()
            self.time_cache[time_s] = tod
        if tod is None:
            return None
        return datetime(day[0], day[1], day[2], tod[0], tod[1], tod[2])
