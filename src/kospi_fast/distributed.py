"""Day-parallel replay of tick archives on a Dask cluster, identical to the sequential replay.

A trading day's replay needs two things only: the day's tick file and the index book's state
at that day's open. The book is any index book (an :class:`~kospi_fast.IndexEngine`, or an
:class:`~kospi_fast.IndexFamily` with ``index=`` naming the index the day's result follows).
The states are computed first, sequentially and cheaply, from end-of-day data
(:func:`specs_from_eod`: each day calibrated to the published previous close, or chained from
100 through the end-of-day closes, the day's events going through ``book.roll``) or by
chaining the closes of simulated days (:func:`specs_from_simulated`). After that the days are
independent: each one is a Dask task (:func:`replay_days`) running :func:`replay_day`, the
same function that :func:`replay_days_sequential` calls in-process, so the two give the same
frames bit for bit.

Book state travels to the workers as the bytes of :func:`kospi_fast.persist.dumps` (the
versioned, checksummed checkpoint format; no pickle of the book's internals); a worker
rebuilds the book with :func:`~kospi_fast.persist.loads`.

Failures are per day: a missing or corrupt tick file (or a day without a start state) fails
that day with an error naming the file, the other days complete, and the result's
``summary`` table has one row per day with its status. With ``errors="raise"`` (default) a
:class:`DayReplayError` listing the failed and the completed days is raised once every day has
finished; it carries the result.

Tick files are local paths (readable by every worker: a shared filesystem for a remote
cluster) or fsspec URLs (``s3://...``, ``gcs://...``, ``file://...``), read through fsspec
when it is installed (it comes with dask). Install with ``pip install 'kospi-fast[dask]'``.

Example::

    from kospi_fast import distributed as kd

    files = kd.day_files("ticks/")      # {'2026-03-10': 'ticks/2026-03-10.parquet', ...}
    specs = kd.specs_from_eod("eod.csv", files, published="kospi.csv")
    res = kd.replay_days(specs)         # a LocalCluster, one worker process per core
    res.ohlc, res.series, res.summary, res.audit, res.timings
    assert res.equals(kd.replay_days_sequential(specs))

    # any book: e.g. the KOSPI family chained over simulated days, the days following KOSPI 200
    fam = kf.IndexFamily.kospi(universe, kospi200=k200_codes, levels={"KOSPI 200": 812.5})
    specs = kd.specs_from_simulated(days, paths, book=fam, index="KOSPI 200")
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kospi_fast import eod as _eod
from kospi_fast import io, persist
from kospi_fast._clock import KST_OFFSET_NS, format_clock
from kospi_fast._optional import require
from kospi_fast._validation import iso_date
from kospi_fast.definitions import KOSPI_BASE_VALUE
from kospi_fast.engine import IndexEngine
from kospi_fast.io import DEFAULT_BATCH, file_format, parse_step
from kospi_fast.io.formats import is_url, local_path, url_filesystem
from kospi_fast.publish import DaySummary, SummaryView, _day_line
from kospi_fast.publish import published as _published
from kospi_fast.sample import SimulatedDay
from kospi_fast.session import TradingDay

__all__ = [
    "DayReplayError",
    "DayResult",
    "DaySpec",
    "DaysJob",
    "DaysResult",
    "day_files",
    "replay_day",
    "replay_days",
    "replay_days_sequential",
    "specs_from_eod",
    "specs_from_simulated",
    "submit_days",
]


# ============================================================================ inputs
@dataclass(frozen=True)
class DaySpec:
    """One day to replay: its date, its tick file and the index book's state at its open.

    Parameters
    ----------
    date : str
        ISO date (``'2026-03-10'``; ``'20260310'`` and date objects are normalised).
    path : str or PathLike
        The day's tick file (Parquet, CSV, Arrow; see :func:`kospi_fast.io.iter_ticks`): a
        local path or an fsspec URL.
    state : bytes
        :func:`kospi_fast.persist.dumps` of the book at the day's open (after the day's
        roll): an IndexEngine, an IndexFamily. Build from a book with :meth:`from_book`.
    audit_start : int
        How many of the state's audit records belong to earlier days: the day's audit rows
        are ``book.audit[audit_start:]`` (those of the followed index).
    error : str, optional
        Why no start state could be derived; the day then fails with this error, unrun.
    index : str, optional
        The book's index the day's result follows (default: the book's first).
    """

    date: str
    path: str
    state: bytes = field(default=b"", repr=False)
    audit_start: int = 0
    error: str | None = None
    index: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "date", iso_date(self.date, "date"))
        if not isinstance(self.path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a str or os.PathLike, got {type(self.path).__name__}")
        object.__setattr__(self, "path", os.fspath(self.path))
        if not isinstance(self.state, (bytes, bytearray)):
            raise TypeError(f"`state` must be bytes from kospi_fast.persist.dumps, got "
                            f"{type(self.state).__name__}")
        object.__setattr__(self, "state", bytes(self.state))
        if isinstance(self.audit_start, bool) or not isinstance(self.audit_start, int) or self.audit_start < 0:
            raise ValueError(f"`audit_start` must be an int >= 0, got {self.audit_start!r}")
        if self.error is not None and not isinstance(self.error, str):
            raise TypeError(f"`error` must be a str or None, got {type(self.error).__name__}")
        if self.error is None and not self.state:
            raise ValueError(f"day {self.date}: `state` is empty (give the start-of-day book's "
                             "kospi_fast.persist.dumps bytes, or an `error`)")
        if self.index is not None and not isinstance(self.index, str):
            raise TypeError(f"`index` must be an index name (str) or None, got {self.index!r}")

    @classmethod
    def from_book(cls, date: object, path: object, book: Any, *, audit_start: int = 0,
                  index: str | None = None) -> DaySpec:
        """A spec whose state is ``book`` (at the day's open), serialised now; ``index``: the
        index the day follows (default: the book's first)."""
        if index is not None:
            book.index_of(index)  # KeyError naming the book's indices
        return cls(date, path, persist.dumps(book), audit_start, index=index)  # type: ignore[arg-type]

    #: The older name of :meth:`from_book`.
    from_engine = from_book

    def book(self) -> Any:
        """The start-of-day book (a fresh copy from the state bytes)."""
        if self.error is not None:
            raise ValueError(f"day {self.date} has no start state: {self.error}")
        return persist.loads(self.state)

    #: The older name of :meth:`book`.
    engine = book


def day_files(directory: str | os.PathLike, *, storage_options: Mapping | None = None) -> dict[str, str]:
    """The tick files of a directory named by date: ``{date: path}`` in date order.

    A day file is named ``YYYY-MM-DD.<ext>`` or ``YYYYMMDD.<ext>``, the extension one that
    :func:`kospi_fast.io.file_format` knows (``.parquet``, ``.csv``, ``.csv.gz``, ``.arrow``,
    ...). Other files are ignored. ``directory`` may be an fsspec URL (``s3://bucket/ticks``).

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        ``directory`` does not exist or is a file.
    ValueError
        A file named like a day but with an impossible date, two files for one date, or no
        day file at all.
    """
    d = os.fspath(directory)
    if is_url(d):
        fs, root = url_filesystem(d, storage_options)
        if not fs.isdir(root):
            raise FileNotFoundError(f"no such directory: {d!r}")
        entries = [(e["name"].rstrip("/").rsplit("/", 1)[-1], fs.unstrip_protocol(e["name"]))
                   for e in fs.ls(root, detail=True) if e.get("type") == "file"]
    else:
        p = Path(local_path(d))
        if not p.exists():
            raise FileNotFoundError(f"no such directory: {d!r}")
        if not p.is_dir():
            raise NotADirectoryError(f"not a directory: {d!r}")
        entries = [(q.name, str(q)) for q in p.iterdir() if q.is_file()]
    out: dict[str, str] = {}
    for name, full in sorted(entries):
        m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}|\d{8})(\..+)", name)
        if not m:
            continue
        try:
            file_format(name)
        except ValueError:
            continue
        try:
            date = iso_date(m.group(1), "date")
        except ValueError:
            raise ValueError(f"{full}: named like a day file, but {m.group(1)!r} is not a date") from None
        if date in out:
            raise ValueError(f"two tick files for {date}: {out[date]} and {full}")
        out[date] = full
    if not out:
        raise ValueError(f"no day files in {d!r}: expected tick files named by date, e.g. 2026-03-10.parquet")
    return dict(sorted(out.items()))


def _day_paths(files: object) -> dict[str, str]:
    if isinstance(files, Mapping):
        items = list(files.items())
    elif isinstance(files, (str, os.PathLike)):
        return day_files(files)
    else:
        items = list(files)  # type: ignore[call-overload]
    out: dict[str, str] = {}
    for k, item in enumerate(items):
        if not (isinstance(item, tuple) and len(item) == 2):
            raise TypeError(f"`files[{k}]` must be a (date, path) pair, got {item!r}")
        date = iso_date(item[0], f"files[{k}] date")
        if date in out:
            raise ValueError(f"`files` names {date} twice")
        out[date] = os.fspath(item[1])
    return dict(sorted(out.items()))


def _eod_book(make: Callable[..., Any] | None, day: Any, level: float, extra: Sequence[Any]) -> Any:
    """The book at ``day``'s close calibrated to ``level``, over ``day``'s members and the stocks
    of ``extra`` days: :func:`kospi_fast.eod.engine_from_eod`, or ``make(universe, members,
    level)`` over the same universe and members."""
    engine = _eod.engine_from_eod(day, level, extra=extra)
    return engine if make is None else make(engine.universe, engine.members, level)


def specs_from_eod(eod: object, files: object, *, published: object = None,
                   base_value: float = KOSPI_BASE_VALUE, book: Callable[..., object] | None = None,
                   index: str | None = None) -> list[DaySpec]:
    """Start-of-day states of tick days from end-of-day data (sequential; cheap).

    With ``published`` (previous closes as KRX published them), each day starts from the
    previous day's book (:func:`~kospi_fast.eod.engine_from_eod`) calibrated to the published
    previous close and rolled with :func:`~kospi_fast.eod.events_for_day` (what
    :func:`kospi_fast.eod.verify` does). Without it, the book is calibrated to ``base_value``
    at the first end-of-day day's close and chained through every day: roll with the day's
    events, then the day's closing prices as trades, like ``verify(chain=True)``.

    Parameters
    ----------
    eod : path, DataFrame (pandas, polars) or list of kospi_fast.eod.EodDay
        End-of-day rows (:func:`kospi_fast.eod.read_eod_csv` layout); the universe and the
        events come from it.
    files : mapping date -> path, sequence of (date, path), or a directory (see :func:`day_files`)
    published : mapping date -> close, or a path, frame or Series of an index series (Date, Close), optional
        The published closes of the index the days follow.
    base_value : float
        The chained level at the first end-of-day day's close (default 100).
    book : callable(universe, members, level) -> book, optional
        Builds the start book from an end-of-day day's universe (the day's stocks and later
        joiners), its market-membership mask and the level to calibrate to: e.g. a one-index
        :class:`~kospi_fast.IndexFamily` of the KOSPI family. Default: the KOSPI
        :class:`~kospi_fast.IndexEngine` over the members.
    index : str, optional
        The book's index the days follow (default: the book's first).

    Returns
    -------
    list of DaySpec
        One per tick day, in date order. A day whose state cannot be derived (no end-of-day
        rows, no previous day, no published previous close, events that do not apply) gets a
        spec with ``error`` set: it fails without running and the other days go on.
    """
    if book is not None and not callable(book):
        raise TypeError(f"`book` must be a callable (universe, members, level) -> book, got {book!r}")
    source = "EOD"
    if isinstance(eod, (str, os.PathLike)) or hasattr(eod, "columns"):  # a path or a frame (pandas, polars)
        source = os.fspath(eod) if isinstance(eod, (str, os.PathLike)) else "DataFrame"
        days = _eod.read_eod_csv(eod)
    else:
        days = list(eod)  # type: ignore[call-overload]
        for k, d in enumerate(days):
            if not isinstance(d, _eod.EodDay):
                raise TypeError(f"`eod[{k}]` must be a kospi_fast.eod.EodDay, got {type(d).__name__}")
        days.sort(key=lambda d: d.date)
    if not days:
        raise ValueError(f"{source}: no end-of-day rows")
    pub: dict[str, float] | None = None
    if isinstance(published, (str, os.PathLike)) or hasattr(published, "columns") or (
            hasattr(published, "index") and hasattr(published, "to_frame")):  # a path, a frame or a Series
        published = _eod.read_index_csv(published)
    if isinstance(published, Mapping):
        pub = {iso_date(d, "published date"): c for d, c in published.items()}
    elif published is not None:
        raise TypeError(f"`published` must be a mapping date -> close or a path, got {type(published).__name__}")
    paths = _day_paths(files)
    pos = {iso_date(d.date, f"{source} date"): k for k, d in enumerate(days)}
    specs: dict[str, DaySpec] = {}
    for date, path in paths.items():
        k = pos.get(date)
        if k is None:
            specs[date] = DaySpec(date, path, error=f"no end-of-day rows for {date} in {source}", index=index)
        elif k == 0:
            specs[date] = DaySpec(date, path, error=f"{date} is the first day of {source}: no previous "
                                                    "close to start from", index=index)
    wanted = [d for d in paths if d not in specs]
    if pub is not None:
        for date in wanted:
            prev, day = days[pos[date] - 1], days[pos[date]]
            prev_date = iso_date(prev.date, "date")
            try:
                if prev_date not in pub:
                    raise ValueError(f"no published close for the previous day {prev_date}")
                start = _eod_book(book, prev, float(pub[prev_date]), [day])
                start.roll(_eod.events_for_day(start, day), date=date)
                specs[date] = DaySpec.from_book(date, paths[date], start, index=index)
            except (ValueError, KeyError, TypeError) as exc:
                specs[date] = DaySpec(date, paths[date], error=f"no start state: {_message(exc)}", index=index)
    elif wanted:
        last = max(pos[d] for d in wanted)
        chain = _eod_book(book, days[0], base_value, days[1:last + 1])
        broken = None
        for day in days[1:last + 1]:
            date = iso_date(day.date, "date")
            if broken is None:
                try:
                    n_audit = len(chain.audit)
                    chain.roll(_eod.events_for_day(chain, day), date=date)
                    if date in paths:
                        specs[date] = DaySpec.from_book(date, paths[date], chain, audit_start=n_audit, index=index)
                    _eod.close_day(chain, day)
                except (ValueError, KeyError, TypeError) as exc:
                    broken = f"the chain broke on {date}: {_message(exc)}"
            if broken is not None and date in paths and date not in specs:
                specs[date] = DaySpec(date, paths[date], error=f"no start state: {broken}", index=index)
    return [specs[d] for d in paths]


def _last_prices(start: np.ndarray, ids: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """``start`` with each traded stock's last price of the day (its close)."""
    out = start.copy()
    if ids.shape[0]:
        rev = ids[::-1]
        uniq, first = np.unique(rev, return_index=True)
        out[uniq] = prices[::-1][first]
    return out


def specs_from_simulated(days: Sequence[object], paths: Sequence[object], *, level: float | None = None,
                         book: object = None, index: str | None = None, engine: object = None) -> list[DaySpec]:
    """Start-of-day states of consecutive simulated days, chaining closes.

    Day 0 starts from ``book`` (default ``IndexEngine(days[0].universe, level=level)``);
    day ``k`` from day ``k-1``'s start rolled with day ``k-1``'s closing prices (each stock's
    last trade; untraded stocks keep their price). Replaying the days one after another on a
    single book, rolling it at each close, gives the same levels bit for bit.

    Parameters
    ----------
    days : sequence of kospi_fast.SimulatedDay
        In trading order, dates increasing, all over the same codes.
    paths : sequence of path or URL, same length
        Where each day's ticks were written (:func:`kospi_fast.io.write_ticks`).
    level : float, optional
        Day 0's previous close (calibration); ignored when ``book`` is given.
    book : IndexEngine or IndexFamily, optional
        Day 0's start state (not modified: a copy is rolled).
    index : str, optional
        The book's index the days follow (default: the book's first).
    engine : optional
        The older name of ``book``.

    Returns
    -------
    list of DaySpec
    """
    if engine is not None:
        if book is not None:
            raise ValueError("give `book` (or its older name `engine`), not both")
        book = engine
    days, paths = list(days), list(paths)
    if len(days) != len(paths):
        raise ValueError(f"`paths` must have one entry per day ({len(days)}), got {len(paths)}")
    if not days:
        return []
    for k, d in enumerate(days):
        if not isinstance(d, SimulatedDay):
            raise TypeError(f"`days[{k}]` must be a kospi_fast.SimulatedDay, got {type(d).__name__}")
        if k and d.universe.codes != days[0].universe.codes:
            raise ValueError(f"`days[{k}]` is over other codes than days[0]: chain days of one universe")
    dates = [iso_date(d.date, f"days[{k}].date") for k, d in enumerate(days)]
    if any(b <= a for a, b in itertools.pairwise(dates)):
        raise ValueError(f"the days' dates must increase, got {dates}")
    # a copy (the caller's book is not rolled); persist.dumps refuses what is not an index book
    chain: Any = IndexEngine(days[0].universe, level=level) if book is None else persist.loads(persist.dumps(book))
    if chain.universe.codes != days[0].universe.codes:
        raise ValueError("`book`'s universe has other codes than the days'")
    if index is not None:
        chain.index_of(index)  # KeyError naming the book's indices
    specs = []
    for k, (day, path) in enumerate(zip(days, paths)):
        n_audit = len(chain.audit)
        if k:
            prev = days[k - 1]
            closes = _last_prices(chain.prices, np.asarray(prev.ids), np.asarray(prev.prices))
            chain.roll(closes=closes, date=day.date)
        specs.append(DaySpec.from_book(day.date, path, chain, audit_start=n_audit, index=index))
    return specs


# ============================================================================ one day
@dataclass(frozen=True, eq=False)
class DayResult(SummaryView):
    """What :func:`replay_day` returns: plain data (scalars and NumPy arrays) that pickles.

    ``summary`` is the day's :class:`~kospi_fast.publish.DaySummary` (OHLC with times, the
    grid series, each stock's contribution); its attributes and methods read as the result's
    own (``r.open``, ``r.high_time``, ``r.grid_levels``, ``r.grid_published``,
    ``r.top_contributors()``, ...). ``ok`` False means the day failed: ``error`` says why
    (naming the file), the summary is :meth:`~kospi_fast.publish.DaySummary.empty` (NaN
    levels, empty arrays). ``exact``: the level equals a full recompute; ``audit``: the
    rebasings of the index at the open; ``rejected``: the trades the KRX checks set aside, by
    reason (empty with ``policy='off'``). ``seconds``, ``kernel_seconds``, ``worker`` and
    ``pid`` describe where and how fast it ran; they are not part of the result's identity.
    """

    date: str
    path: str
    ok: bool
    error: str | None
    summary: DaySummary = field(default_factory=DaySummary.empty)
    exact: bool = False
    audit: tuple = field(default=(), repr=False)
    rejected: dict = field(default_factory=dict, repr=False)
    seconds: float = 0.0
    kernel_seconds: float = 0.0
    worker: str = "local"
    pid: int = 0

    def __repr__(self) -> str:
        what = _day_line(self.summary) if self.ok else f"failed: {self.error}"
        return f"DayResult({self.date}, {what})"


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


def _failure(spec: DaySpec, exc: BaseException | str, t0: float) -> DayResult:
    if isinstance(exc, BaseException):
        msg = _message(exc)
        kind = type(exc).__name__
        text = f"{kind}: {msg}" if spec.path in msg else f"{spec.path}: {kind}: {msg}"
    else:
        text = exc if spec.path in exc else f"{spec.path}: {exc}"
    return DayResult(spec.date, spec.path, False, text, DaySummary.empty(spec.index or ""),
                     seconds=time.perf_counter() - t0, worker=_worker_name(), pid=os.getpid())


def _worker_name() -> str:
    dist = sys.modules.get("distributed")  # only a Dask worker process has it imported
    if dist is None:
        return "local"
    try:
        return str(dist.get_worker().address)
    except ValueError:  # not inside a task on a worker
        return "local"


def replay_day(spec: DaySpec, *, grid: object = "10s", batch_size: int = DEFAULT_BATCH,
               format: str | None = None, storage_options: Mapping | None = None,
               time_format: str = "auto", tz: str = "Asia/Seoul", policy: str = "reject") -> DayResult:
    """Replay one day: rebuild the start-of-day book from ``spec.state``, stream the tick
    file through it and return the result of the index ``spec.index`` (default: the book's
    first). The unit of work of :func:`replay_days`
    (one Dask task) and of :func:`replay_days_sequential`.

    Never raises for a bad day: any error (missing or corrupt file, unknown code, a tick
    the book rejects, damaged state bytes, an index the book does not have) is returned as a failed :class:`DayResult`
    whose ``error`` names the file.

    Parameters
    ----------
    spec : DaySpec
    grid : str
        The publication grid of the series (default ``'10s'``, KOSPI's, from 09:00:10).
    batch_size : int
        Ticks per batch.
    format : {'parquet', 'csv', 'arrow'}, optional
        Overrides the file suffix.
    storage_options : mapping, optional
        Passed to fsspec for URLs (see :func:`kospi_fast.io.iter_ticks`).
    time_format, tz : str
        The encoding of the files' time column and the zone of naive timestamps (see
        :func:`kospi_fast.io.iter_ticks`); a file read the wrong way fails its day.
    policy : {'reject', 'raise', 'off'}
        The KRX checks of every trade (:class:`~kospi_fast.TradingDay` of ``spec.date``: session
        hours, time order, tick grid, daily limits), as ``kospi-fast replay --policy``:
        'reject' (default) skips a bad trade and counts it in ``rejected``, 'raise' fails the
        day at the first one, 'off' applies every trade as given (the book's price band still
        refuses a trade beyond it, failing the day). The day is checked against XKRX when
        ``exchange-calendars`` is installed.

    Returns
    -------
    DayResult
    """
    t0 = time.perf_counter()
    if not isinstance(spec, DaySpec):
        raise TypeError(f"`spec` must be a DaySpec, got {type(spec).__name__}")
    if spec.error is not None:
        return _failure(spec, spec.error, t0)
    try:
        if parse_step(grid) is None:
            raise ValueError("`grid` must be a publication step such as '10s', not 'tick'")
        book: Any = persist.loads(spec.state)
        batches = io.iter_ticks(spec.path, book.universe, format=format, batch_size=batch_size,
                                storage_options=storage_options, time_format=time_format,
                                tz=tz)  # a local path or an fsspec URL
        res = io.replay_batches(batches, book, index=spec.index, grid=grid, source=spec.path,
                                day=_checks(book, spec.date, policy))
        if not res.exact:
            raise ArithmeticError("the incremental level differs from a full recompute")
        rows = book.audit_table()[spec.audit_start:]
        audit = tuple(row for row in rows if row["index"] == res.index)
    except Exception as exc:  # noqa: BLE001 - a bad day is data: reported, never fatal to the others
        return _failure(spec, exc, t0)
    res.summary.grid_published  # noqa: B018 - rounded in the worker, shipped with the summary
    return DayResult(date=spec.date, path=spec.path, ok=True, error=None, summary=res.summary, exact=res.exact,
                     audit=audit, rejected=dict(res.rejected), seconds=time.perf_counter() - t0, kernel_seconds=res.kernel_seconds,
                     worker=_worker_name(), pid=os.getpid())


# ============================================================================ many days
class DayReplayError(RuntimeError):
    """Some days failed. ``result`` holds every day (``result.summary`` has the status of
    each); ``failed`` maps date -> error."""

    def __init__(self, result: DaysResult) -> None:
        self.result = result
        self.failed = result.failed
        done = result.completed
        lines = [f"{len(self.failed)} of {len(result.days)} days failed:"]
        lines += [f"  {d}: {e}" for d, e in self.failed.items()]
        if not done:
            lines.append("no day completed")
        elif len(done) <= 12:
            lines.append(f"completed ({len(done)}): {', '.join(done)}")
        else:
            lines.append(f"completed ({len(done)}): {', '.join(done[:5])}, ..., {', '.join(done[-5:])} "
                         "(see .result.summary)")
        super().__init__("\n".join(lines))


#: Columns that describe how a day ran, not what it computed (left out of ``equals``).
TIMING_COLUMNS = ("worker", "pid", "seconds", "kernel_seconds", "ticks_per_second")


@dataclass(eq=False)
class DaysResult:
    """The gathered days, in date order, as pandas DataFrames.

    Attributes
    ----------
    days : list of DayResult
    series : DataFrame
        The publication-grid series of the completed days: ``date``, ``time`` (int64 ns since
        midnight KST), ``timestamp`` (Asia/Seoul), ``clock``, ``level`` (exact float64),
        ``published`` (2 decimals, half-up).
    ohlc : DataFrame
        One row per completed day: ``index`` (the followed index's name), ``previous_close``,
        ``start_level``, ``open``, ``high``,
        ``low``, ``close`` (exact), ``change``, ``change_pct``, ``published_close``, the
        ``*_time`` columns (ns since midnight KST) and ``n_ticks``.
    summary : DataFrame
        The status table, one row per day: ``date``, ``path``, ``status`` ('ok'/'failed'),
        ``error``, ``n_ticks``, ``exact``, ``close``, ``n_rebasings``, ``n_rejected`` (trades the KRX
        checks set aside).
    audit : DataFrame
        The rebasings of the followed index at each day's open (``date`` + the book's
        :meth:`~kospi_fast.book.IndexBook.audit_table` columns: ``index``, ``effective``, ...).
    timings : DataFrame
        Where and how fast each day ran (``worker``, ``pid``, ``seconds``, ...).
    """

    days: list[DayResult]
    series: object
    ohlc: object
    summary: object
    audit: object
    timings: object

    @property
    def completed(self) -> list[str]:
        return [d.date for d in self.days if d.ok]

    @property
    def failed(self) -> dict[str, str]:
        return {d.date: str(d.error) for d in self.days if not d.ok}

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.days)

    def raise_for_failures(self) -> DaysResult:
        """Raise :class:`DayReplayError` if any day failed; else return self."""
        if not self.ok:
            raise DayReplayError(self)
        return self

    def equals(self, other: DaysResult) -> bool:
        """Same series, OHLC, status table and audit rows, exactly (timings aside)."""
        return all(getattr(self, n).equals(getattr(other, n)) for n in ("series", "ohlc", "summary", "audit"))

    def __repr__(self) -> str:
        return f"DaysResult({len(self.days)} days, {len(self.completed)} ok, {len(self.failed)} failed)"


def _frames(results: list[DayResult]) -> DaysResult:
    pd = require("pandas", "io")
    results = sorted(results, key=lambda r: r.date)
    ok = [r for r in results if r.ok]
    clock = functools.lru_cache(maxsize=None)(format_clock)  # the grids of all days share their times

    parts = []
    for r in ok:
        t = r.grid_times
        midnight_utc = int(np.datetime64(r.date, "ns").astype(np.int64)) - KST_OFFSET_NS
        parts.append(pd.DataFrame({
            "date": np.full(t.shape[0], r.date, dtype=object),
            "time": t,
            "timestamp": pd.to_datetime(t + midnight_utc, unit="ns", utc=True).tz_convert("Asia/Seoul"),
            "clock": np.array([clock(x) for x in t.tolist()], dtype=object),
            "level": r.grid_levels,
            "published": r.grid_published,
        }))
    series = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({
        "date": np.empty(0, object), "time": np.empty(0, np.int64),
        "timestamp": pd.to_datetime(np.empty(0, np.int64), unit="ns", utc=True).tz_convert("Asia/Seoul"),
        "clock": np.empty(0, object), "level": np.empty(0, np.float64), "published": np.empty(0, np.float64)})

    ohlc = pd.DataFrame({
        "date": pd.Series([r.date for r in ok], dtype=object),
        "index": pd.Series([r.index for r in ok], dtype=object),
        "previous_close": pd.Series([r.previous_close for r in ok], dtype=np.float64),
        "start_level": pd.Series([r.start_level for r in ok], dtype=np.float64),
        "open": pd.Series([r.open for r in ok], dtype=np.float64),
        "high": pd.Series([r.high for r in ok], dtype=np.float64),
        "low": pd.Series([r.low for r in ok], dtype=np.float64),
        "close": pd.Series([r.close for r in ok], dtype=np.float64),
        "change": pd.Series([r.change for r in ok], dtype=np.float64),
        "change_pct": pd.Series([r.change_pct for r in ok], dtype=np.float64),
        "published_close": pd.Series([_published(r.close) for r in ok], dtype=np.float64),
        "open_time": pd.Series([r.open_time for r in ok], dtype=np.int64),
        "high_time": pd.Series([r.high_time for r in ok], dtype=np.int64),
        "low_time": pd.Series([r.low_time for r in ok], dtype=np.int64),
        "close_time": pd.Series([r.close_time for r in ok], dtype=np.int64),
        "n_ticks": pd.Series([r.n_ticks for r in ok], dtype=np.int64),
    })
    summary = pd.DataFrame({
        "date": pd.Series([r.date for r in results], dtype=object),
        "path": pd.Series([r.path for r in results], dtype=object),
        "status": pd.Series(["ok" if r.ok else "failed" for r in results], dtype=object),
        "error": pd.Series([r.error for r in results], dtype=object),
        "n_ticks": pd.Series([r.n_ticks for r in results], dtype=np.int64),
        "exact": pd.Series([r.exact for r in results], dtype=bool),
        "close": pd.Series([r.close for r in results], dtype=np.float64),
        "n_rebasings": pd.Series([len(r.audit) for r in results], dtype=np.int64),
        "n_rejected": pd.Series([sum(r.rejected.values()) for r in results], dtype=np.int64),
    })
    audit_cols = ["date", "index", "effective", "events", "n_stocks", "cap_before", "cap_after", "base_cap_before",
                  "base_cap_after", "level_before", "level_after"]
    rows = [{"date": r.date, **row} for r in ok for row in r.audit]
    audit = pd.DataFrame(rows, columns=audit_cols) if rows else pd.DataFrame(
        {c: pd.Series([], dtype=object) for c in audit_cols})
    timings = pd.DataFrame({
        "date": pd.Series([r.date for r in results], dtype=object),
        "worker": pd.Series([r.worker for r in results], dtype=object),
        "pid": pd.Series([r.pid for r in results], dtype=np.int64),
        "seconds": pd.Series([r.seconds for r in results], dtype=np.float64),
        "kernel_seconds": pd.Series([r.kernel_seconds for r in results], dtype=np.float64),
        "ticks_per_second": pd.Series([r.n_ticks / r.seconds if r.ok and r.seconds > 0 else 0.0
                                       for r in results], dtype=np.float64),
    })
    return DaysResult(results, series, ohlc, summary, audit, timings)


def _check_specs(specs: Iterable[DaySpec]) -> list[DaySpec]:
    if isinstance(specs, DaySpec):
        specs = [specs]
    out = list(specs)
    seen: set[str] = set()
    for k, s in enumerate(out):
        if not isinstance(s, DaySpec):
            raise TypeError(f"`specs[{k}]` must be a DaySpec, got {type(s).__name__}")
        if s.date in seen:
            raise ValueError(f"`specs[{k}]`: {s.date} appears twice; one spec per day")
        seen.add(s.date)
    return sorted(out, key=lambda s: s.date)


def _check_errors(errors: str) -> None:
    if errors not in ("raise", "return"):
        raise ValueError(f"`errors` must be 'raise' or 'return', got {errors!r}")


POLICIES = ("reject", "raise", "off")


def _checks(book: object, date: str, policy: str) -> object:
    """The TradingDay whose KRX checks a day's replay applies (None with policy 'off')."""
    if policy == "off":
        return None
    try:
        import exchange_calendars  # noqa: F401 - optional: the calendar check needs it
        check = True
    except ImportError:
        check = False
    return TradingDay(book, date, policy=policy, check_calendar=check)


def _check_options(grid: object, batch_size: object, format: object, policy: object = "reject") -> None:
    if policy not in POLICIES:
        raise ValueError(f"`policy` must be one of {', '.join(POLICIES)}; got {policy!r}")
    if parse_step(grid) is None:
        raise ValueError("`grid` must be a publication step such as '10s', not 'tick'")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
    if format is not None:
        file_format("x", format)  # type: ignore[arg-type]


def _finish(results: list[DayResult], errors: str) -> DaysResult:
    out = _frames(results)
    if errors == "raise":
        out.raise_for_failures()
    return out


def replay_days_sequential(specs: Iterable[DaySpec], *, grid: object = "10s", batch_size: int = DEFAULT_BATCH,
                           format: str | None = None, storage_options: Mapping | None = None,
                           time_format: str = "auto", tz: str = "Asia/Seoul", policy: str = "reject",
                           on_day: Callable[[DayResult, int, int], None] | None = None,
                           errors: str = "raise") -> DaysResult:
    """Replay the days one after another in this process, in date order: the reference for
    :func:`replay_days` (same per-day function, same output). No Dask needed.

    Parameters and result as :func:`replay_days`.
    """
    _check_errors(errors)
    _check_options(grid, batch_size, format, policy)
    io.check_time_options(time_format, tz)
    todo = _check_specs(specs)
    results = []
    for k, spec in enumerate(todo):
        r = replay_day(spec, grid=grid, batch_size=batch_size, format=format, storage_options=storage_options,
                       time_format=time_format, tz=tz, policy=policy)
        results.append(r)
        if on_day is not None:
            on_day(r, k + 1, len(todo))
    return _finish(results, errors)


class DaysJob:
    """Days submitted to a Dask cluster (:func:`submit_days`): one future per runnable day.

    ``gather`` waits for every day (as they complete, in any order), turns a task that died
    with its workers into a failed day, and returns the :class:`DaysResult` in date order.
    """

    def __init__(self, client: object, specs: list[DaySpec], futures: dict[str, object]) -> None:
        self.client = client
        self.specs = specs
        self.futures = futures

    def __repr__(self) -> str:
        return f"DaysJob({len(self.specs)} days, {len(self.futures)} submitted)"

    def gather(self, *, on_day: Callable[[DayResult, int, int], None] | None = None,
               errors: str = "raise") -> DaysResult:
        from distributed import as_completed

        _check_errors(errors)
        by_date = {s.date: s for s in self.specs}
        date_of = {f.key: d for d, f in self.futures.items()}  # type: ignore[attr-defined]
        total = len(self.specs)
        results: list[DayResult] = []
        done = 0
        t0 = time.perf_counter()
        for spec in self.specs:  # days that could not start: failed at once
            if spec.date not in self.futures:
                r = replay_day(spec)
                results.append(r)
                done += 1
                if on_day is not None:
                    on_day(r, done, total)
        pending = dict(self.futures)
        try:
            for fut in as_completed(list(pending.values()), loop=self.client.loop):  # type: ignore[attr-defined]
                date = date_of[fut.key]
                try:
                    r = fut.result()
                except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: the task's workers kept dying
                    r = _failure(by_date[date], RuntimeError(f"the task failed on the cluster: "
                                                             f"{type(exc).__name__}: {exc}"), t0)
                del pending[date]
                fut.release()
                results.append(r)
                done += 1
                if on_day is not None:
                    on_day(r, done, total)
        finally:
            if pending:  # interrupted: do not leave the other days running
                self.client.cancel(list(pending.values()))  # type: ignore[attr-defined]
        return _finish(results, errors)

    def cancel(self) -> None:
        """Cancel every day of the job that has not finished yet."""
        self.client.cancel(list(self.futures.values()))  # type: ignore[attr-defined]


def submit_days(client: object, specs: Iterable[DaySpec], *, grid: object = "10s",
                batch_size: int = DEFAULT_BATCH, format: str | None = None,
                storage_options: Mapping | None = None, time_format: str = "auto",
                tz: str = "Asia/Seoul", policy: str = "reject") -> DaysJob:
    """Submit one :func:`replay_day` task per day to ``client`` (a ``distributed.Client``)
    and return at once; ``.gather()`` the :class:`DaysJob` for the result. Days with a spec
    ``error`` are not submitted (they fail at gather time)."""
    from distributed import Client

    if not isinstance(client, Client):
        raise TypeError(f"`client` must be a distributed.Client, got {type(client).__name__}")
    _check_options(grid, batch_size, format, policy)
    io.check_time_options(time_format, tz)
    todo = _check_specs(specs)
    token = uuid.uuid4().hex[:8]
    futures = {}
    for spec in todo:
        if spec.error is None:
            futures[spec.date] = client.submit(
                replay_day, spec, grid=grid, batch_size=batch_size, format=format,
                storage_options=storage_options, time_format=time_format, tz=tz, policy=policy,
                key=f"kospi-fast-day-{spec.date}-{token}", pure=False)
    return DaysJob(client, todo, futures)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextmanager
def _client(client: object, scheduler: str | None, n_workers: int | None,
            cluster_options: Mapping | None) -> Iterator[object]:
    """The client to use: the given one, one connected to ``scheduler``, or one on a new
    LocalCluster (closed on exit, with its worker processes)."""
    if client is not None:
        if scheduler is not None or n_workers is not None or cluster_options:
            raise ValueError("give `client`, or `scheduler`, or `n_workers`/`cluster_options`, not several")
        yield client
        return
    if scheduler is not None and (n_workers is not None or cluster_options):
        raise ValueError("`n_workers`/`cluster_options` configure a new LocalCluster; not with `scheduler`")
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1):
        raise ValueError(f"`n_workers` must be an int >= 1, got {n_workers!r}")
    dist = require("distributed", "dask", what="a Dask cluster (replay_days_sequential runs without one)")
    Client, LocalCluster = dist.Client, dist.LocalCluster
    if scheduler is not None:
        if not isinstance(scheduler, str):
            raise TypeError(f"`scheduler` must be an address such as 'tcp://10.0.0.5:8786', got {scheduler!r}")
        with Client(scheduler, set_as_default=False) as c:
            yield c
        return
    # loopback only: the scheduler and its dashboard (task names, file paths) are not offered
    # to the network; ``cluster_options`` may open them deliberately
    opts = {"n_workers": n_workers or _cores(), "threads_per_worker": 1, "processes": True,
            "host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}
    opts.update(cluster_options or {})
    with LocalCluster(**opts) as cluster, Client(cluster, set_as_default=False) as c:
        yield c


def replay_days(specs: Iterable[DaySpec], *, client: object = None, scheduler: str | None = None,
                n_workers: int | None = None, cluster_options: Mapping | None = None, grid: object = "10s",
                batch_size: int = DEFAULT_BATCH, format: str | None = None,
                storage_options: Mapping | None = None, time_format: str = "auto", tz: str = "Asia/Seoul",
                policy: str = "reject", on_day: Callable[[DayResult, int, int], None] | None = None,
                errors: str = "raise") -> DaysResult:
    """Replay days in parallel on a Dask cluster, one task per day; the same result as
    :func:`replay_days_sequential`, bit for bit.

    Each task gets the day's start state as :func:`~kospi_fast.persist.dumps` bytes
    and the tick file's path (which the workers must be able to read). A worker that dies
    mid-run is replaced and its days rerun elsewhere (Dask's own resilience); a day whose
    task keeps killing workers fails as a day.

    Parameters
    ----------
    specs : iterable of DaySpec
        One per day (dates unique); see :func:`specs_from_eod`, :func:`specs_from_simulated`.
    client : distributed.Client, optional
        Run on this client's cluster (left open).
    scheduler : str, optional
        Connect to an existing cluster at this address (``'tcp://host:8786'``).
    n_workers : int, optional
        Without ``client``/``scheduler``: a LocalCluster of this many single-threaded worker
        processes (default: one per core), closed at the end.
    cluster_options : mapping, optional
        More LocalCluster keyword arguments (e.g. ``{"memory_limit": "4GB"}``).
    grid, batch_size, format, storage_options, time_format, tz, policy :
        See :func:`replay_day`.
    on_day : callable(DayResult, done, total), optional
        Called in this process as each day finishes (progress reporting).
    errors : {'raise', 'return'}
        After every day has finished: raise :class:`DayReplayError` if any failed (default),
        or return the result with the failures in its ``summary``.

    Returns
    -------
    DaysResult

    Raises
    ------
    DayReplayError
        Some days failed (``errors='raise'``); ``.result`` has every day.
    ImportError
        dask.distributed is not installed.
    TypeError, ValueError
        Bad arguments (before anything runs).
    """
    _check_errors(errors)
    _check_options(grid, batch_size, format, policy)
    io.check_time_options(time_format, tz)
    todo = _check_specs(specs)
    with _client(client, scheduler, n_workers, cluster_options) as c:
        job = submit_days(c, todo, grid=grid, batch_size=batch_size, format=format, storage_options=storage_options,
                          time_format=time_format, tz=tz, policy=policy)
        result = job.gather(on_day=on_day, errors="return")
    if errors == "raise":
        result.raise_for_failures()
    return result

