"""``kospi-fast replay-days``: a directory of day files replayed in parallel on Dask."""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

from kospi_fast import distributed as kd
from kospi_fast.cli._common import (
    _MEMBERS_HELP,
    PROGRESS_CHOICES,
    _check_index,
    _member_codes,
    add_time_options,
    index_book,
)
from kospi_fast.definitions import constituent_index
from kospi_fast.publish import published


__all__ = ["add_parser", "run"]

def add_parser(sub: argparse._SubParsersAction) -> None:
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
                                                          "(default: a local cluster on 127.0.0.1, one worker per "
                                                          "core); the scheduler and its workers are trusted fully: "
                                                          "Dask ships pickles, use only a cluster you control")
    days.add_argument("--workers", type=int, metavar="N", help="worker processes of the local cluster")
    days.add_argument("--sequential", action="store_true", help="no Dask: replay the days one by one here")
    days.add_argument("--grid", default="10s", help="publication grid of the series (default 10s)")
    add_time_options(days)
    days.add_argument("--policy", choices=kd.POLICIES, default="reject",
                      help="KRX checks of every trade, as in `kospi-fast replay`: 'reject' (default) skips a bad "
                           "trade and counts it per day (the 'rejected' column), 'raise' fails the day at the "
                           "first one, 'off' applies every trade as given")
    days.add_argument("--out", metavar="DIR", help="write series.parquet, ohlc.csv, summary.csv, audit.csv")
    days.add_argument("--progress", choices=PROGRESS_CHOICES, default="auto",
                      help="a line per finished day on stderr (auto: when stderr is a terminal)")
    days.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
    opts = {"grid": args.grid, "on_day": on_day, "errors": "return", "time_format": args.time_format, "tz": args.tz,
            "policy": args.policy}
    if args.sequential:
        res = kd.replay_days_sequential(specs, **opts)
    else:
        res = kd.replay_days(specs, scheduler=args.scheduler, n_workers=args.workers, **opts)
    wall = time.perf_counter() - t0
    print()
    print(f"  {'date':<12}{'status':<8}{'ticks':>12}{'prev close':>12}{'open':>11}{'high':>11}{'low':>11}"
          f"{'close':>11}{'change %':>10}{'rebased':>9}{'rejected':>10}")
    ohlc = {r["date"]: r for r in res.ohlc.to_dict("records")}
    for row in res.summary.to_dict("records"):
        o = ohlc.get(row["date"])
        if o is None:
            print(f"  {row['date']:<12}{'FAILED':<8}  (see below)")
            continue
        print(f"  {row['date']:<12}{'ok':<8}{o['n_ticks']:>12,}{published(o['previous_close']):>12,.2f}"
              f"{published(o['open']):>11,.2f}{published(o['high']):>11,.2f}{published(o['low']):>11,.2f}"
              f"{published(o['close']):>11,.2f}{o['change_pct']:>+10.2f}{row['n_rebasings']:>9}"
              f"{row['n_rejected']:>10,}")
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
