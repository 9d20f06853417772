"""Real data in and out: universes from end-of-day tables, tick files streamed through an engine,
level series out.

Offline by design: nothing here touches the network. pykrx and FinanceDataReader are *not*
called; their DataFrame layouts are accepted as they come (or as CSV / Parquet files saved from
them), as are polars frames and any table with the Arrow stream protocol. The README's "Input
layouts" lists every layout, encoding and time format read; anything else is refused naming the
file and line.

Optional dependencies (not needed by the core package), imported only when used:

- ``pandas`` for the end-of-day tables and DataFrame output,
- ``pyarrow`` for tick files (CSV, Parquet, Arrow IPC) and level files,

both in the ``io`` extra: ``pip install 'kospi-fast[io]'``.

Universes
---------
:func:`universe_from_fdr` (FinanceDataReader ``StockListing('KRX')``), :func:`universe_from_pykrx`
(pykrx ``get_market_cap``), :func:`universe_from_krx_constituents` (KRX index constituent
download) and :func:`load_universe` (picks the layout from the columns) each return a
:class:`LoadedUniverse`: the :class:`~kospi_fast.Universe`, the index membership mask, and the
day's closes. The membership comes from an ``InKOSPIIndex`` column or ``members=`` (codes, a
constituents file or frame); a table with neither (FDR's listing, KRX's all-stock download,
pykrx's frame) is refused unless ``members='all'``. The universe's base prices are the day's ``Close`` (``base="close"``): the state
from which the NEXT trading day's ticks are replayed. With ``base="previous"`` they are
``Close − Changes``, the day's own base prices (to replay the ticks of that same day).
:func:`universes_from_fdr` reads every day of a multi-day FDR table at once (one
:class:`LoadedUniverse` per date); :func:`kospi_fast.eod.read_eod_csv` is built on it.

Ticks
-----
A tick file has the columns ``time``, ``code``, ``price`` and optionally ``volume`` (names
matched case-insensitively, Korean headers too; the time column's encoding is
``time_format=``, one of :data:`TIME_FORMATS`, and a file whose ticks mostly miss the session is
refused as another encoding; see :func:`iter_ticks`). It is read in
batches with pyarrow (``ParquetFile.iter_batches``, ``pyarrow.csv.open_csv``, ``pyarrow.ipc``),
from a local path or an fsspec URL (``s3://...``; fsspec comes with the ``dask`` extra), and
each batch's codes are mapped to ids in C (dictionary / hash look-up), never one Python call
per tick. :func:`replay_file` streams a file through any index book (an
:class:`~kospi_fast.IndexEngine`, an :class:`~kospi_fast.IndexFamily`, a
:class:`~kospi_fast.JournaledBook`) and samples one of its indices per tick or on the
publication grid (KOSPI: every 10 s from 09:00:10).

Times are int64 nanoseconds since midnight KST everywhere (the :class:`~kospi_fast.SimulatedDay`
convention).

Layout: :mod:`kospi_fast.io.formats` (the tick-file containers: one :class:`TickFormat` entry
per container in :data:`TICK_FORMATS`, each reading a local path or an fsspec URL),
:mod:`kospi_fast.io.ticks` (the tick layout on top: columns, times, codes),
:mod:`kospi_fast.io.loaders` (universes), :mod:`kospi_fast.io.dividends` (dividend tables:
:func:`load_dividends`), :mod:`kospi_fast.io.replay` (grid and replay),
:mod:`kospi_fast.io._common` (batch size). Their public names are re-exported here; private
helpers stay in their modules.
"""

from kospi_fast._clock import DAY_NS, KST_OFFSET_NS, NS_PER_S, format_clock, parse_clock
from kospi_fast.io._common import (
    CLOSE_NS,
    DEFAULT_BATCH,
    FIRST_PRINT_NS,
    OPEN_NS,
)
from kospi_fast.io.dividends import DividendSchedule, load_dividends
from kospi_fast.io.formats import TICK_FORMATS, TickFormat, file_format
from kospi_fast.io.loaders import (
    FDR_COLUMNS,
    KRX_CONSTITUENT_COLUMNS,
    PYKRX_COLUMNS,
    LoadedUniverse,
    detect_layout,
    load_universe,
    member_codes,
    normalize_code,
    read_code_list,
    table_layout,
    universe_frame,
    universe_from_fdr,
    universe_from_krx_constituents,
    universe_from_pykrx,
    universes_from_fdr,
    write_universe,
)
from kospi_fast.io.replay import ReplayResult, replay_batches, replay_file
from kospi_fast.publish import parse_step, publication_times
from kospi_fast.io.ticks import (
    MIN_SESSION_SHARE,
    TICK_COLUMNS,
    TIME_FORMATS,
    TickBatch,
    batches_from_arrays,
    check_time_options,
    count_ticks,
    iter_ticks,
    read_ticks,
    write_ticks,
)

__all__ = [
    "batches_from_arrays",
    "CLOSE_NS",
    "count_ticks",
    "DAY_NS",
    "DEFAULT_BATCH",
    "detect_layout",
    "FDR_COLUMNS",
    "file_format",
    "FIRST_PRINT_NS",
    "format_clock",
    "iter_ticks",
    "KRX_CONSTITUENT_COLUMNS",
    "KST_OFFSET_NS",
    "load_universe",
    "LoadedUniverse",
    "normalize_code",
    "NS_PER_S",
    "OPEN_NS",
    "parse_clock",
    "parse_step",
    "publication_times",
    "PYKRX_COLUMNS",
    "read_ticks",
    "replay_batches",
    "replay_file",
    "ReplayResult",
    "table_layout",
    "TICK_COLUMNS",
    "TICK_FORMATS",
    "TickBatch",
    "TickFormat",
    "universe_frame",
    "universe_from_fdr",
    "universe_from_krx_constituents",
    "universe_from_pykrx",
    "universes_from_fdr",
    "write_ticks",
    "write_universe",
    "check_time_options",
    "member_codes",
    "MIN_SESSION_SHARE",
    "read_code_list",
    "TIME_FORMATS",
    "DividendSchedule",
    "load_dividends",
]
