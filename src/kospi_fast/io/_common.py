"""Shared by the parts of :mod:`kospi_fast.io`: the batch size, CSV headers of tables.

The tick-file containers (and :func:`file_format`, re-exported here) are in
:mod:`kospi_fast.io.formats`; the tick layout (column names) in :mod:`kospi_fast.io.ticks`.

The clock (:mod:`kospi_fast._clock`), dates (:func:`kospi_fast._validation.iso_date`) and the
optional-dependency importer (:func:`kospi_fast._optional.require`) have their own homes: the
io modules import them from there. The clock names and the session times below are
re-exported for :mod:`kospi_fast.io`.
"""

from __future__ import annotations

from pathlib import Path

from kospi_fast._clock import DAY_NS, KST_OFFSET_NS, NS_PER_S, format_clock, parse_clock  # noqa: F401
from kospi_fast.io.formats import csv_header, file_format  # noqa: F401 - file_format re-exported (io/replay.py)
from kospi_fast.session import CLOSE_NS, FIRST_PRINT_NS, OPEN_NS  # noqa: F401 - re-exported

__all__ = ["CLOSE_NS", "DEFAULT_BATCH", "FIRST_PRINT_NS", "OPEN_NS"]

#: Rows per batch when streaming a tick file (bounds the memory per step: ~40 bytes a tick).
DEFAULT_BATCH = 1 << 20


def _csv_header(path: Path) -> list[str]:
    """The header of a CSV table (UTF-8 or CP949)."""
    return csv_header(lambda: path.open("rb"), path)
