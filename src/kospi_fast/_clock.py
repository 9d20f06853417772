"""Times of day: int64 nanoseconds since midnight KST, the package's one clock convention.

KST is UTC+9 all year (no daylight saving since 1988), so a day's midnight in UTC nanoseconds is
``datetime64(date, 'ns') - KST_OFFSET_NS``. The session's own times (open, close, ...) stay in
:mod:`kospi_fast.session`.
"""

from __future__ import annotations

import datetime as _dt
import re

import numpy as np

NS_PER_S = 1_000_000_000
DAY_NS = 86_400 * NS_PER_S
KST_OFFSET_NS = 9 * 3600 * NS_PER_S  # UTC+9, no daylight saving since 1988

_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")

__all__ = ["DAY_NS", "KST", "KST_OFFSET_NS", "NS_PER_S", "format_clock", "kst_datetime", "kst_now_ns", "parse_clock"]


def _seoul() -> _dt.tzinfo:
    """Asia/Seoul from the IANA database, or UTC+9 named KST where it is missing (Windows
    without ``tzdata``): the two agree on every date since 1988."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Seoul")
    except Exception:  # pragma: no cover - no tz database on this machine
        return _dt.timezone(_dt.timedelta(hours=9), "KST")


#: The zone of every time the package outputs (tz-aware, with the date).
KST = _seoul()
_EPOCH = _dt.date(1970, 1, 1)


def kst_datetime(date: _dt.date, ns: int) -> _dt.datetime:
    """``ns`` since midnight KST of ``date`` as a tz-aware Asia/Seoul datetime (microseconds;
    the ns below them are dropped).

    >>> kst_datetime(_dt.date(2026, 3, 23), 32_410_500_000_000).isoformat()
    '2026-03-23T09:00:10.500000+09:00'
    """
    us = int(ns) // 1000
    naive = _dt.datetime(date.year, date.month, date.day) + _dt.timedelta(microseconds=us)
    return naive.replace(tzinfo=KST)


def kst_now_ns(date: _dt.date, epoch_ns: int) -> int:
    """A wall-clock time (ns since the Unix epoch, e.g. ``time.time_ns()``) as ns since midnight
    KST of ``date`` (negative before that midnight, beyond ``DAY_NS`` after the day)."""
    return int(epoch_ns) + KST_OFFSET_NS - (date - _EPOCH).days * DAY_NS


def parse_clock(value: object) -> int:
    """``'09:00:10'`` (or ``'09:00:10.5'``, ``'9:00'``) -> ns since midnight; ints pass through.

    >>> parse_clock("09:00:10.5")
    32410500000000
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    m = _CLOCK_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"not a time of day 'HH:MM[:SS[.fff]]': {value!r}")
    h, mi, s, frac = m.groups()
    if int(mi) > 59 or int(s or 0) > 59:
        raise ValueError(f"not a time of day: {value!r}")
    ns = ((int(h) * 60 + int(mi)) * 60 + int(s or 0)) * NS_PER_S + int((frac or "0").ljust(9, "0"))
    if ns >= DAY_NS:
        raise ValueError(f"not a time of day: {value!r}")
    return ns


def format_clock(ns: int, *, digits: int = 0, seconds: bool = True) -> str:
    """ns since midnight -> ``'HH:MM:SS'``, truncated to ``digits`` decimals of the second.

    With ``seconds=False``: ``'HH:MM'`` (truncated too; chart labels). A float `ns` (a chart
    axis position) is first rounded to the nearest nanosecond, so 32399999999999.996 is 09:00.

    >>> format_clock(32_410_500_000_000), format_clock(32_410_500_000_000, digits=3)
    ('09:00:10', '09:00:10.500')
    >>> format_clock(32_410_500_000_000, seconds=False)
    '09:00'
    """
    ns = int(round(ns))
    if not seconds:
        m = ns // (60 * NS_PER_S)
        return f"{m // 60:02d}:{m % 60:02d}"
    s, rem = divmod(ns, NS_PER_S)
    out = f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if digits:
        out += "." + f"{rem:09d}"[:digits]
    return out
