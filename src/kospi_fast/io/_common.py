"""Shared by the parts of :mod:`kospi_fast.io`: tick column names and file formats, CSV headers.

The clock (:mod:`kospi_fast._clock`), dates (:func:`kospi_fast._validation.iso_date`) and the
optional-dependency importer (:func:`kospi_fast._optional.require`) have their own homes: the
io modules import them from there. The clock names and the session times below are
re-exported for :mod:`kospi_fast.io`.
"""

from __future__ import annotations

import csv
from pathlib import Path

from kospi_fast._clock import DAY_NS, KST_OFFSET_NS, NS_PER_S, format_clock, parse_clock  # noqa: F401
from kospi_fast.session import CLOSE_NS, FIRST_PRINT_NS, OPEN_NS  # noqa: F401 - re-exported

#: Rows per batch when streaming a tick file (bounds the memory per step: ~40 bytes a tick).
DEFAULT_BATCH = 1 << 20


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
