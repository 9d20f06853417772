"""``kospi-fast`` command line.

- ``kospi-fast demo``: replay a simulated day on the bundled sample universe;
- ``kospi-fast replay TICKS --universe EOD.csv [--index NAME]``: replay a tick file (Parquet,
  CSV, Arrow IPC) from an end-of-day table (FinanceDataReader, pykrx or KRX constituents
  layout) through one index of the KOSPI family, print the day's summary, optionally write the
  level series and a PNG chart;
- ``kospi-fast verify``: recompute published closes from end-of-day data;
- ``kospi-fast replay-days TICKS_DIR --eod EOD.csv [--index NAME] [--published INDEX.csv]``:
  replay a directory of day files (one per date, e.g. 2026-03-10.parquet) in parallel on a Dask
  cluster (``kospi-fast[dask]``), each day from its start-of-day state derived from the
  end-of-day data; per-day status table.

``--index`` names the index in both replay commands: ``KOSPI`` (default), ``KOSPI 200`` /
``KOSPI 100`` / ``KOSPI 50`` (and their ``... Equal Weight`` variants), ``KOSPI Large`` /
``Mid`` / ``Small`` or a sector name. KRX publishes no file of the KOSPI 200/100/50
constituents: they are an input, ``--members FILE``.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np

from kospi_fast import distributed as kd
from kospi_fast import eod, io
from kospi_fast._clock import format_clock
from kospi_fast._optional import require
from kospi_fast.definitions import constituent_index, kospi_definition
from kospi_fast.engine import IndexEngine
from kospi_fast.family import IndexFamily
from kospi_fast.plot import plot_day
from kospi_fast.publish import published
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE, sample_universe, simulate_day
from kospi_fast.universe import Universe


class _Progress:
    """A progress bar on stderr: rich if importable, else tqdm, else a plain text bar.

    ``mode``: ``'auto'`` (only when stderr is a terminal), ``'always'`` or ``'never'``.
    ``total`` may be None (length unknown, e.g. a CSV file): a running count is shown.
    """

    def __init__(self, total: int | None, label: str, mode: str = "auto") -> None:
        self.total, self.label, self.done = total, label, 0
        self.kind = "off"
        if mode == "never" or (mode == "auto" and not sys.stderr.isatty()):
            return
        try:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn,
                                       TextColumn, TimeElapsedColumn, TimeRemainingColumn)

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                                console=Console(file=sys.stderr), transient=False)
            self.kind = "rich"
            return
        except ImportError:
            pass
        try:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="tick", unit_scale=True, file=sys.stderr, delay=0)
            self.kind = "tqdm"
        except ImportError:
            self.kind = "plain"

    def __enter__(self) -> "_Progress":
        if self.kind == "rich":
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total)
        return self

    def __call__(self, n: int) -> None:
        self.done += n
        if self.kind == "rich":
            self.bar.update(self.task, advance=n)
        elif self.kind == "tqdm":
            self.bar.update(n)
        elif self.kind == "plain":
            if self.total:
                width = 30
                filled = int(width * self.done / self.total)
                sys.stderr.write(f"\r  {self.label} [{'#' * filled}{'.' * (width - filled)}] "
                                 f"{100 * self.done / self.total:5.1f}%")
            else:
                sys.stderr.write(f"\r  {self.label} {self.done:,} ticks")
            sys.stderr.flush()

    def __exit__(self, *exc: object) -> None:
        if self.kind == "rich":
            self.bar.stop()
        elif self.kind == "tqdm":
            self.bar.close()
        elif self.kind == "plain":
            sys.stderr.write("\n")
            sys.stderr.flush()


def format_summary(result, *, top: int = 10, sectors: int = 5) -> str:
    """The day's summary table of a :class:`kospi_fast.io.ReplayResult` (demo and replay)."""
    r = result
    lines = [
        f"  previous close {published(r.previous_close):>12,.2f}",
        f"  open           {published(r.open):>12,.2f}   (after the trades at {format_clock(r.open_time)}, "
        "the opening auction)",
        f"  high           {published(r.high):>12,.2f}   at {format_clock(r.high_time)}",
        f"  low            {published(r.low):>12,.2f}   at {format_clock(r.low_time)}",
        f"  close          {published(r.close):>12,.2f}   ({r.change:+.2f} pts, {r.change_pct:+.2f}%)",
        f"  trades         {r.n_ticks:>12,}" + (f"   (volume {r.volume:,} shares)" if r.volume is not None else ""),
        f"  replay time    {r.seconds * 1e3:>12.1f} ms   ({r.ticks_per_second:,.0f} ticks/s end to end; "
        f"kernel {r.kernel_seconds * 1e3:.1f} ms, "
        f"{r.n_ticks / r.kernel_seconds if r.kernel_seconds > 0 else float('inf'):,.0f} ticks/s)",
        f"  exact check    level == full recompute: {r.exact}",
    ]
    adv, dec, unch = r.breadth()
    lines.append(f"  breadth        {adv} up, {dec} down, {unch} unchanged (members)")
    rows = r.top_contributors(top)
    lines.append(f"\n  top {len(rows)} contributors (index points)")
    for c in rows:
        lines.append(f"    {c['code']}  {c['name'][:18]:<18} {c['points']:+9.2f}  ({c['pct']:+.2f}%)")
    sec = list(r.sector_points().items())[:sectors]
    if sec:
        lines.append(f"\n  top {len(sec)} sectors (index points)")
        for name, pts in sec:
            lines.append(f"    {name[:40]:<40} {pts:+9.2f}")
    return "\n".join(lines)


def _check_plot(args: argparse.Namespace) -> None:
    """Fail before the replay, not after it, when --plot cannot be honoured."""
    if getattr(args, "plot", None):
        require("matplotlib", "plot", what="--plot")


def _outputs(args: argparse.Namespace, result, *, top: int) -> None:
    if getattr(args, "plot", None):
        path = plot_day(result, args.plot, top=top)
        print(f"  chart          {path}")


def cmd_demo(args: argparse.Namespace) -> int:
    _check_plot(args)
    universe = sample_universe()
    print(f"kospi_fast demo: a simulated KOSPI day on the bundled SAMPLE universe ({len(universe)} stocks)")
    print("  (sample data, not official KRX figures; see kospi_fast/data/SAMPLE_README.md)")
    t0 = time.perf_counter()
    day = simulate_day(universe, n_ticks=args.ticks, seed=args.seed)
    t_sim = time.perf_counter() - t0
    print(f"  simulated {len(day):,} trades for {day.date} (seed {day.seed}) in {t_sim:.2f} s")

    engine = IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE)
    chunk = max(len(day) // 50, 1)
    batches = io.batches_from_arrays(day.times, day.ids, day.prices, batch_size=chunk)
    with _Progress(len(day), "replay", args.progress) as bar:
        result = io.replay_batches(batches, engine, grid="10s", on_batch=bar)
    if not result.exact:
        print("ERROR: incremental level differs from a full recompute", file=sys.stderr)
        return 1
    print()
    print(format_summary(result, top=args.top))
    _outputs(args, result, top=args.top)
    return 0


# ------------------------------------------------------------------ which index, which members
#: What ``--members FILE`` may be, for KOSPI 200/100/50 (KRX publishes no file of them).
_MEMBERS_HELP = ("a KRX index-constituents download, an end-of-day table of the members, or a text/CSV "
                 "list of codes, one per line")


def _check_index(args: argparse.Namespace) -> None:
    """Refuse, before any file is read, an index whose constituents were not given."""
    base = constituent_index(args.index)
    if base is not None and not args.members:
        raise ValueError(f"--index {args.index!r} needs the {base} constituents, which KRX publishes no file of: "
                         f"give them with --members FILE ({_MEMBERS_HELP})")


def index_book(name: str, universe: Universe, members: np.ndarray, level: float | None = None, *,
               constituents: Sequence[str] | None = None) -> object:
    """The book computing index ``name`` of the KOSPI family over ``universe``, calibrated to
    ``level`` (default: the base value 100).

    ``'KOSPI'``: an :class:`~kospi_fast.IndexEngine` over the market members ``members`` (bool
    mask). Any other index: a one-index :class:`~kospi_fast.IndexFamily` whose definition is
    :func:`~kospi_fast.definitions.kospi_definition` over the market members (size indices
    rank them, sector indices group them); KOSPI 200/100/50 are ``constituents`` (codes).
    """
    if name == "KOSPI":
        return IndexEngine(universe, level=level, members=members)
    return IndexFamily(universe, [kospi_definition(universe, name, members=members, constituents=constituents,
                                                   level=level)])


_CODE_HEADERS = ("code", "codes", "symbol", "ticker", "종목코드", "단축코드", "isu_srt_cd")


def _code_list(path: Path) -> tuple[str, ...]:
    """Codes from a text or CSV file: one per line, or a column named Code / 종목코드 / ...
    (blank lines and lines starting with '#' skipped); a bad or repeated code names its line."""
    for enc in ("utf-8-sig", "cp949"):
        try:
            text = path.read_text(encoding=enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(f"--members {path}: neither UTF-8 nor CP949 text")
    rows = [(k, r) for k, r in enumerate(csv.reader(text.splitlines()), start=1)
            if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise ValueError(f"--members {path}: no codes")
    col = 0
    head = [re.sub(r"\s+", "", c).casefold() for c in rows[0][1]]
    hits = [j for j, c in enumerate(head) if c in _CODE_HEADERS]
    if hits:
        col, rows = hits[0], rows[1:]
    elif io.normalize_code(rows[0][1][0]) is None:
        if len(head) > 1:
            raise ValueError(f"--members {path}: line {rows[0][0]}: no code column (Code, 종목코드) among "
                             f"{rows[0][1]}")
        rows = rows[1:]  # a one-column header
    codes: list[str] = []
    seen: dict[str, int] = {}
    for line, r in rows:
        cell = r[col] if col < len(r) else ""
        c = io.normalize_code(cell)
        if c is None:
            raise ValueError(f"--members {path}: line {line}: not a 6-character KRX code such as '005930': {cell!r}")
        if c in seen:
            raise ValueError(f"--members {path}: line {line}: {c!r} repeats line {seen[c]}")
        seen[c] = line
        codes.append(c)
    if not codes:
        raise ValueError(f"--members {path}: no codes")
    return tuple(codes)


def _member_codes(path: str, date: object) -> tuple[str, ...]:
    """The codes of ``--members FILE``: the members of a table :func:`kospi_fast.io.load_universe`
    reads (KRX constituents: every row; FinanceDataReader: InKOSPIIndex), else a list of codes."""
    try:
        io.table_layout(path)
    except ValueError:
        if Path(path).suffix.lower() in (".parquet", ".pq"):
            raise
        return _code_list(Path(path))
    return io.load_universe(path, date=date).member_codes


# ------------------------------------------------------------------ replay
def _load_universe(args: argparse.Namespace, members: Sequence[str] | None = None):
    """(LoadedUniverse, default level) for ``--universe``; ``members`` (codes) replaces the
    table's market membership."""
    if args.universe == "sample" and not Path(args.universe).exists():
        u = sample_universe()
        mask = u.shares > 0
        if members is not None:
            mask = np.zeros(len(u), dtype=bool)
            mask[u.ids_of(list(members))] = True
        lu = io.LoadedUniverse(u, mask, u.base_prices, None, None, "sample", "bundled sample")
        return lu, SAMPLE_PREVIOUS_CLOSE
    layout = io.table_layout(args.universe)
    kwargs: dict = {"date": args.date}
    if layout == "fdr":
        kwargs.update(base=args.base, market=None if args.market.lower() == "all" else args.market)
    elif layout == "krx_constituents":
        kwargs["base"] = args.base
    elif args.base != "close":
        raise ValueError(f"--base {args.base}: the pykrx layout has no change column; only 'close' is possible")
    if members is not None:
        if layout == "krx_constituents":
            raise ValueError("--members: a KRX constituents universe already is the membership")
        kwargs["members"] = list(members)
    return io.load_universe(args.universe, **kwargs), None


def cmd_replay(args: argparse.Namespace) -> int:
    _check_plot(args)
    _check_index(args)
    codes = _member_codes(args.members, args.date) if args.members else None
    constituents = codes if constituent_index(args.index) else None
    loaded, default_level = _load_universe(args, None if constituents is not None else codes)
    level = args.level if args.level is not None else default_level
    universe = loaded.universe
    print(f"kospi-fast replay: {args.ticks}")
    when = f", {loaded.date}" if loaded.date else ""
    print(f"  universe       {loaded.source} ({loaded.layout} layout{when}): {len(universe)} stocks, "
          f"{loaded.n_members} members")
    book = index_book(args.index, universe, loaded.members, level, constituents=constituents)
    if constituents is not None:
        print(f"  index          {args.index}: {len(constituents)} constituents from {args.members}")
    if level is None:
        print("  (no --level: calibrated to the base value 100 at the universe's prices; pass the previous "
              "published close to get real levels)")
    total = io.count_ticks(args.ticks, format=args.format)
    with _Progress(total, "replay", args.progress) as bar:
        result = io.replay_file(args.ticks, book, index=args.index, grid=args.grid, out=args.out,
                                format=args.format, batch_size=args.batch_size, on_batch=bar)
    print()
    print(format_summary(result, top=args.top))
    if args.out:
        rows = result.n_ticks if result.grid == "tick" else len(result.grid_times)
        print(f"  levels         {args.out} ({rows:,} rows, grid {result.grid})")
    _outputs(args, result, top=args.top)
    if not result.exact:
        print("ERROR: incremental level differs from a full recompute", file=sys.stderr)
        return 1
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    days = eod.read_eod_csv(args.eod)
    closes = eod.read_index_csv(args.index)
    results = eod.verify(days, closes, chain=args.chain)
    print(eod.report(results, as_json=args.json))
    worst = max(abs(r.error_bp) for r in results)
    if worst > args.tolerance_bp:
        print(f"kospi-fast verify: max |error| {worst:.3f} bp exceeds the tolerance {args.tolerance_bp} bp",
              file=sys.stderr)
        return 1
    return 0


def cmd_replay_days(args: argparse.Namespace) -> int:
    if args.scheduler is not None and args.workers is not None:
        raise ValueError("--workers sizes a new local cluster; it cannot be combined with --scheduler")
    if args.sequential and (args.scheduler is not None or args.workers is not None):
        raise ValueError("--sequential runs in this process: no --scheduler or --workers")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.index.lower().endswith(".csv") or Path(args.index).is_file():
        raise ValueError(f"--index {args.index}: --index names the index to replay (e.g. 'KOSPI 200'); give the "
                         "published closes with --published INDEX.csv")
    _check_index(args)
    constituents = None
    if args.members:
        if constituent_index(args.index) is None:
            raise ValueError(f"--members gives the constituents of KOSPI 200/100/50; {args.index!r} takes its "
                             "members from the end-of-day file (InKOSPIIndex)")
        constituents = _member_codes(args.members, "last")
    files = kd.day_files(args.ticks_dir)
    dates = list(files)
    print(f"kospi-fast replay-days: {len(files)} day files in {args.ticks_dir} ({dates[0]} .. {dates[-1]})")
    make = None if args.index == "KOSPI" else partial(index_book, args.index, constituents=constituents)
    specs = kd.specs_from_eod(args.eod, files, published=args.published, book=make)
    what = f" ({len(constituents)} constituents from {args.members})" if constituents is not None else ""
    print(f"  index          {args.index}{what}")
    if args.published:
        print(f"  start states   {args.eod}: each day from the published previous close in {args.published}")
    else:
        print(f"  start states   {args.eod}: chained from 100 at the first end-of-day close (no --published)")
    if args.sequential:
        where = "sequentially, in this process"
    elif args.scheduler:
        where = f"on the Dask cluster at {args.scheduler}"
    else:
        where = f"on a local Dask cluster of {args.workers or kd._cores()} worker processes"
    print(f"  running        {len(specs)} days {where}")
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())

    def on_day(r, done: int, total: int) -> None:
        if not show:
            return
        what = (f"ok      close {published(r.close):,.2f}  ({r.n_ticks:,} ticks, {r.seconds:.2f} s)" if r.ok
                else f"FAILED  {r.error}")
        sys.stderr.write(f"  [{done:>{len(str(total))}}/{total}] {r.date}  {what}\n")
        sys.stderr.flush()

    t0 = time.perf_counter()
    opts = {"grid": args.grid, "on_day": on_day, "errors": "return"}
    if args.sequential:
        res = kd.replay_days_sequential(specs, **opts)
    else:
        res = kd.replay_days(specs, scheduler=args.scheduler, n_workers=args.workers, **opts)
    wall = time.perf_counter() - t0
    print()
    print(f"  {'date':<12}{'status':<8}{'ticks':>12}{'prev close':>12}{'open':>11}{'high':>11}{'low':>11}"
          f"{'close':>11}{'change %':>10}{'rebased':>9}")
    ohlc = {r["date"]: r for r in res.ohlc.to_dict("records")}
    for row in res.summary.to_dict("records"):
        o = ohlc.get(row["date"])
        if o is None:
            print(f"  {row['date']:<12}{'FAILED':<8}  (see below)")
            continue
        print(f"  {row['date']:<12}{'ok':<8}{o['n_ticks']:>12,}{published(o['previous_close']):>12,.2f}"
              f"{published(o['open']):>11,.2f}{published(o['high']):>11,.2f}{published(o['low']):>11,.2f}"
              f"{published(o['close']):>11,.2f}{o['change_pct']:>+10.2f}{row['n_rebasings']:>9}")
    n_ticks = int(res.summary["n_ticks"].sum())
    print(f"\n  {len(res.completed)} of {len(res.days)} days completed, {n_ticks:,} ticks in {wall:.2f} s "
          f"({n_ticks / wall if wall > 0 else 0:,.0f} ticks/s end to end)")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        res.series.to_parquet(out / "series.parquet", index=False)
        for name in ("ohlc", "summary", "audit"):
            getattr(res, name).to_csv(out / f"{name}.csv", index=False)
        print(f"  written        {out}/series.parquet, ohlc.csv, summary.csv, audit.csv")
    if res.failed:
        lines = [f"kospi-fast replay-days: {len(res.failed)} of {len(res.days)} days failed:"]
        lines += [f"  {d}: {e}" for d, e in res.failed.items()]
        lines.append(f"  completed: {', '.join(res.completed) or 'none'}")
        print("\n".join(lines), file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kospi-fast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="replay a full simulated trading day on the bundled sample universe")
    demo.add_argument("--ticks", type=int, default=2_000_000, help="number of trades (default 2,000,000)")
    demo.add_argument("--seed", type=int, default=20260323, help="random seed (default 20260323)")
    demo.add_argument("--top", type=int, default=10, help="how many top contributors to list")
    demo.add_argument("--plot", metavar="PNG", help="draw the day (level and top contributors) to this PNG")
    demo.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                      help="progress bar on stderr (auto: when stderr is a terminal)")
    demo.set_defaults(func=cmd_demo)
    rep = sub.add_parser(
        "replay", help="replay a tick file (Parquet, CSV, Arrow) from an end-of-day universe",
        description="Replay a day of trades through the index engine. TICKS has columns time (int64 ns "
                    "since midnight KST, a timestamp or 'HH:MM:SS.fff'), code, price[, volume].")
    rep.add_argument("ticks", metavar="TICKS", help="tick file: .parquet, .csv (.csv.gz) or .arrow/.feather")
    rep.add_argument("--universe", required=True, metavar="EOD",
                     help="end-of-day table (CSV/Parquet) in FinanceDataReader StockListing, pykrx "
                          "get_market_cap or KRX constituents layout; its closes are the base prices "
                          "(or 'sample' for the bundled sample universe)")
    rep.add_argument("--date", default="last", help="the EOD table's day when it holds several (default: the last)")
    rep.add_argument("--members", metavar="FILE",
                     help="the members of --index: for KOSPI 200/100/50 their constituents (required; KRX "
                          f"publishes no file of them): {_MEMBERS_HELP}; for the other indices the market "
                          "membership, replacing the universe's own")
    rep.add_argument("--base", choices=("close", "previous"), default="close",
                     help="base prices: the EOD Close (replaying the NEXT day; default) or Close - Changes")
    rep.add_argument("--market", default="KOSPI", help="keep EOD rows of this Market ('all' keeps every row)")
    rep.add_argument("--index", default="KOSPI",
                     help="index to compute: KOSPI (default), 'KOSPI 200' (with --members), 'KOSPI Large'/'Mid'/"
                          "'Small' or a sector name")
    rep.add_argument("--level", type=float, metavar="PREV_CLOSE",
                     help="calibrate to this previous close (default: base value 100; sample: 5781.20)")
    rep.add_argument("--grid", default="10s",
                     help="level series to write: 'tick' (every trade) or a publication step such as 10s "
                          "(KOSPI, from 09:00:10; default) or 1s")
    rep.add_argument("--out", metavar="FILE", help="write the level series (.parquet, .csv or .arrow)")
    rep.add_argument("--plot", metavar="PNG", help="draw the day (level and top contributors) to this PNG")
    rep.add_argument("--top", type=int, default=10, help="how many top contributors to list (default 10)")
    rep.add_argument("--format", choices=tuple(io.TICK_FORMATS), help="tick file format (default: by suffix)")
    rep.add_argument("--batch-size", type=int, default=1 << 20, help="ticks per batch (default 1,048,576)")
    rep.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                     help="progress bar on stderr (auto: when stderr is a terminal)")
    rep.set_defaults(func=cmd_replay)
    ver = sub.add_parser("verify", help="recompute published closes from end-of-day data and report the error")
    ver.add_argument("--eod", required=True, help="end-of-day CSV (FinanceDataReader StockListing layout + Date, InKOSPIIndex)")
    ver.add_argument("--index", required=True, help="published index CSV with Date and Close columns")
    ver.add_argument("--json", action="store_true", help="print one JSON object")
    ver.add_argument("--tolerance-bp", type=float, default=0.2, help="max |error| in basis points (default 0.2)")
    ver.add_argument("--chain", action="store_true", help="calibrate once on the first day and carry the engine through")
    ver.set_defaults(func=cmd_verify)
    days = sub.add_parser(
        "replay-days", help="replay a directory of day tick files in parallel on a Dask cluster",
        description="Replay one tick file per day (named by date, e.g. 2026-03-10.parquet) in parallel, "
                    "each day from its start-of-day state derived from end-of-day data: the previous "
                    "day's close calibrated to the published previous close (--published), else 100 at the "
                    "first end-of-day close and chained. A missing or corrupt day fails that day only; "
                    "the exit status is 1 when any day failed. Needs kospi-fast[dask].")
    days.add_argument("ticks_dir", metavar="TICKS_DIR", help="directory (or fsspec URL) of day files")
    days.add_argument("--eod", required=True, metavar="EOD.csv",
                      help="end-of-day CSV (FinanceDataReader StockListing layout + Date, InKOSPIIndex): "
                           "the universe and each day's events")
    days.add_argument("--index", default="KOSPI", metavar="NAME",
                      help="index to replay: KOSPI (default), 'KOSPI 200' (with --members), 'KOSPI Large'/'Mid'/"
                           "'Small' or a sector name")
    days.add_argument("--members", metavar="FILE",
                      help=f"the KOSPI 200/100/50 constituents (required for those indices): {_MEMBERS_HELP}")
    days.add_argument("--published", metavar="INDEX.csv",
                      help="published closes of the index (Date, Close): each day starts from the previous one")
    days.add_argument("--scheduler", metavar="ADDR", help="address of a running Dask scheduler "
                                                          "(default: a local cluster, one worker per core)")
    days.add_argument("--workers", type=int, metavar="N", help="worker processes of the local cluster")
    days.add_argument("--sequential", action="store_true", help="no Dask: replay the days one by one here")
    days.add_argument("--grid", default="10s", help="publication grid of the series (default 10s)")
    days.add_argument("--out", metavar="DIR", help="write series.parquet, ohlc.csv, summary.csv, audit.csv")
    days.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                      help="a line per finished day on stderr (auto: when stderr is a terminal)")
    days.set_defaults(func=cmd_replay_days)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (TypeError, ValueError, KeyError, OSError, ImportError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"kospi-fast: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
