"""Shared by the parts of :mod:`kospi_fast.io`: optional-dependency import, time constants,
tick column names and file formats, clock parsing / formatting, dates, CSV headers."""

from __future__ import annotations

import csv
import datetime as _dt
import importlib
import re
from pathlib import Path

import numpy as np

from kospi_fast.session import CLOSE_NS, FIRST_PRINT_NS, NS_PER_S, OPEN_NS  # noqa: F401 - re-exported

DAY_NS = 86_400 * NS_PER_S
KST_OFFSET_NS = 9 * 3600 * NS_PER_S  # UTC+9, no daylight saving since 1988

#: Rows per batch when streaming a tick file (bounds the memory per step: ~40 bytes a tick).
DEFAULT_BATCH = 1 << 20


def _require(module: str, package: str | None = None, extra: str = "io"):
    """Import an optional dependency, or raise an ImportError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = package or module.split(".")[0]
        raise ImportError(
            f"kospi_fast.io needs the optional dependency {pkg!r} for this: "
            f"pip install 'kospi-fast[{extra}]' (or: pip install {pkg})"
        ) from exc



def _iso_date(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime) or hasattr(value, "to_pydatetime"):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]"))
    s = str(value).strip()
    if re.fullmatch(r"\d{8}", s):
        return f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = re.match(r"^(\d{4})[-/.](\d{2})[-/.](\d{2})", s)
    if m:
        return "-".join(m.groups())
    return None


def _csv_header(path: Path) -> list[str]:
    for enc in ("utf-8-sig", "cp949"):
        try:
            with path.open(encoding=enc, newline="") as fh:
                return next(csv.reader(fh), [])
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path} is neither UTF-8 nor CP949 text")


#: Accepted names of the tick columns (matched case-insensitively).
TICK_COLUMNS = {
    "time": ("time", "timestamp", "ts"),
    "code": ("code", "ticker", "symbol"),
    "price": ("price", "trade_price", "px"),
    "volume": ("volume", "qty", "quantity", "size"),
}

_FORMATS = {
    ".parquet": "parquet", ".pq": "parquet",
    ".csv": "csv", ".txt": "csv", ".gz": "csv", ".bz2": "csv", ".zst": "csv",
    ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow", ".arrows": "arrow",
}


def file_format(path: str | Path, fmt: str | None = None) -> str:
    """``'parquet'``, ``'csv'`` or ``'arrow'`` (IPC file or stream) from the suffix, or ``fmt``."""
    if fmt is not None:
        if fmt not in ("parquet", "csv", "arrow"):
            raise ValueError(f"`format` must be 'parquet', 'csv' or 'arrow', got {fmt!r}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix in (".gz", ".bz2", ".zst") and not str(path).lower().endswith((".csv" + suffix, ".txt" + suffix)):
        suffix = "?"
    try:
        return _FORMATS[suffix]
    except KeyError:
        raise ValueError(f"cannot tell the format of {str(path)!r} from its suffix: use .parquet, .csv "
                         "(.csv.gz), .arrow / .feather / .arrows, or pass format=") from None


_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")


def parse_clock(value: object) -> int:
    """``'09:00:10'`` (or ``'09:00:10.5'``, ``'9:00'``) -> ns since midnight; ints pass through."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    m = _CLOCK_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"not a time of day 'HH:MM[:SS[.fff]]': {value!r}")
    h, mi, s, frac = m.groups()
    ns = ((int(h) * 60 + int(mi)) * 60 + int(s or 0)) * NS_PER_S + int((frac or "0").ljust(9, "0"))
    if ns >= DAY_NS:
        raise ValueError(f"not a time of day: {value!r}")
    return ns


def format_clock(ns: int, *, digits: int = 0) -> str:
    """ns since midnight -> ``'HH:MM:SS'`` (with ``digits`` decimals of the second)."""
    ns = int(ns)
    s, rem = divmod(ns, NS_PER_S)
    out = f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if digits:
        out += "." + f"{rem:09d}"[:digits]
    return out
