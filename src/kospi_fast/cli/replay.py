"""``kospi-fast replay``: one tick file through one index of the KOSPI family."""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kospi_fast import _validation, io
from kospi_fast.cli._common import (
    _MEMBERS_HELP,
    PROGRESS_CHOICES,
    _check_index,
    _check_plot,
    _member_codes,
    _outputs,
    _Progress,
    add_time_options,
    format_summary,
    index_book,
)
from kospi_fast.definitions import constituent_index
from kospi_fast.io.formats import file_format
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE, sample_universe
from kospi_fast.session import TradingDay


__all__ = ["add_parser", "run"]

def add_parser(sub: argparse._SubParsersAction) -> None:
    rep = sub.add_parser(
        "replay", help="replay a tick file (Parquet, CSV, Arrow) from an end-of-day universe",
        description="Replay a day of trades through the index engine. TICKS has columns time (int64 ns "
                    "since midnight KST, a timestamp or 'HH:MM:SS.fff'; other encodings with --time-format), "
                    "code, price[, volume] (Korean headers 체결시각, 종목코드, 체결가, 체결량 too).")
    rep.add_argument("ticks", metavar="TICKS", help="tick file: .parquet, .csv (.csv.gz) or .arrow/.feather")
    rep.add_argument("--universe", required=True, metavar="EOD",
                     help="end-of-day table (CSV/Parquet) in FinanceDataReader StockListing, pykrx "
                          "get_market_cap or KRX constituents layout; its closes are the base prices "
                          "(or 'sample' for the bundled sample universe)")
    rep.add_argument("--date", default="last", help="the EOD table's day when it holds several (default: the last)")
    rep.add_argument("--members", metavar="FILE",
                     help="the members of --index: for KOSPI 200/100/50 their constituents (required; KRX "
                          f"publishes no file of them): {_MEMBERS_HELP}; for the other indices the market "
                          "membership, replacing the universe's own (required when the universe table has none, "
                          "as FinanceDataReader's listing, pykrx's get_market_cap and KRX's all-stock download; "
                          "'all' takes every row on purpose)")
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
    add_time_options(rep)
    rep.add_argument("--columns", metavar="ROLE=NAME,...",
                     help="the tick file's column names when they are none of the known ones, e.g. "
                          "time=trd_tm,code=short_code,price=trd_prc[,volume=qty]")
    rep.add_argument("--batch-size", type=int, default=1 << 20, help="ticks per batch (default 1,048,576)")
    rep.add_argument("--progress", choices=PROGRESS_CHOICES, default="auto",
                     help="progress bar on stderr (auto: when stderr is a terminal)")
    rep.add_argument("--policy", choices=("reject", "raise", "off"), default="reject",
                     help="KRX checks of every trade (session hours, time order, tick grid, the ±30%% daily "
                          "limits): 'reject' (default) skips a bad trade and counts it by reason in the summary, "
                          "'raise' stops at the first one (exit 2), 'off' applies every trade as given")
    rep.add_argument("--day", metavar="DATE",
                     help="the trading day of the ticks, for the checks' session times and tick table (default: "
                          "the weekday after the EOD table's date, else today; checked against the XKRX "
                          "calendar when given and exchange-calendars is installed)")
    rep.set_defaults(func=run)


def _trading_day(args: argparse.Namespace, book: object, eod_date: object):
    """The TradingDay whose checks the replay applies (None with --policy off)."""
    if args.policy == "off":
        if args.day is not None:
            raise ValueError("--day sets the day the KRX checks use; it has no effect with --policy off")
        return None
    if args.day is not None:
        day = _validation.as_date(args.day, "--day")
        try:
            import exchange_calendars  # noqa: F401 - optional: the calendar check needs it
            check = True
        except ImportError:
            check = False
    else:
        base = _validation.as_date(eod_date) if eod_date else _dt.date.today() - _dt.timedelta(days=1)
        day = base + _dt.timedelta(days=1)
        while day.weekday() >= 5:
            day += _dt.timedelta(days=1)
        check = False
    return TradingDay(book, day, policy=args.policy, check_calendar=check)


def _load_universe(args: argparse.Namespace, members: Sequence[str] | str | None = None):
    """(LoadedUniverse, default level) for ``--universe``; ``members`` (codes, or 'all': every
    row) replaces the table's market membership."""
    if args.universe == "sample" and not Path(args.universe).exists():
        u = sample_universe()
        mask = u.shares > 0
        if members == "all":
            mask = np.ones(len(u), dtype=bool)
        elif members is not None:
            mask = np.zeros(len(u), dtype=bool)
            mask[u.ids_of(list(members))] = True
        lu = io.LoadedUniverse(u, mask, u.base_prices, None, None, "sample", "bundled sample")
        return lu, SAMPLE_PREVIOUS_CLOSE
    layout = io.table_layout(args.universe)
    kwargs: dict = {"date": args.date}
    if layout in ("fdr", "krx_stocks"):
        kwargs.update(base=args.base, market=None if args.market.lower() == "all" else args.market)
    elif layout == "krx_constituents":
        kwargs["base"] = args.base
    elif args.base != "close":
        raise ValueError(f"--base {args.base}: the pykrx layout has no change column; only 'close' is possible")
    if members is not None:
        if layout == "krx_constituents":
            raise ValueError("--members: a KRX constituents universe already is the membership")
        kwargs["members"] = members if members == "all" else list(members)
    return io.load_universe(args.universe, **kwargs), None


def _columns(text: str | None) -> dict[str, str] | None:
    """``--columns time=a,code=b,price=c`` as {role: column}."""
    if not text:
        return None
    out: dict[str, str] = {}
    for part in text.split(","):
        role, sep, name = part.partition("=")
        role, name = role.strip(), name.strip()
        if not sep or role not in io.TICK_COLUMNS or not name:
            raise ValueError(f"--columns: {part.strip()!r} is not ROLE=NAME with ROLE one of "
                             f"{', '.join(io.TICK_COLUMNS)} (e.g. time=trd_tm,code=short_code,price=trd_prc)")
        out[role] = name
    return out


def _check_out(args: argparse.Namespace) -> None:
    """Refuse, before the replay, an --out whose format cannot be told from its suffix."""
    if args.out is not None:
        try:
            file_format(args.out)
        except ValueError:
            raise ValueError(f"--out {args.out}: cannot tell the format from its suffix; name a .parquet, .csv "
                             "or .arrow file") from None


def run(args: argparse.Namespace) -> int:
    columns = _columns(args.columns)  # checked before any file is read
    _check_out(args)
    _check_plot(args)
    _check_index(args)
    every = args.members == "all" and not Path(args.members).exists()
    if every and constituent_index(args.index):
        raise ValueError(f"--members all: {args.index!r} needs its constituents (a file), not every row")
    codes = _member_codes(args.members, args.date) if args.members and not every else None
    constituents = codes if constituent_index(args.index) else None
    loaded, default_level = _load_universe(args, "all" if every else None if constituents is not None else codes)
    level = args.level if args.level is not None else default_level
    universe = loaded.universe
    print(f"kospi-fast replay: {args.ticks}")
    when = f", {loaded.date}" if loaded.date else ""
    print(f"  universe       {loaded.source} ({loaded.layout} layout{when}): {len(universe)} stocks, "
          f"{loaded.n_members} members")
    book = index_book(args.index, universe, loaded.members, level, constituents=constituents,
                      price_band=None if args.policy == "off" else 0.30)
    day = _trading_day(args, book, loaded.date)
    if day is not None:
        print(f"  KRX checks     {args.policy}: trades of {day.session.date.isoformat()}"
              + (" (--day)" if args.day else " (the next weekday; set it with --day)"))
    if constituents is not None:
        print(f"  index          {args.index}: {len(constituents)} constituents from {args.members}")
    if level is None:
        print("  (no --level: calibrated to the base value 100 at the universe's prices; pass the previous "
              "published close to get real levels)")
    total = io.count_ticks(args.ticks, format=args.format)
    with _Progress(total, "replay", args.progress) as bar:
        result = io.replay_file(args.ticks, book, index=args.index, grid=args.grid, out=args.out,
                                format=args.format, batch_size=args.batch_size, on_batch=bar,
                                time_format=args.time_format, tz=args.tz, columns=columns, day=day)
    print()
    print(format_summary(result, top=args.top))
    if args.out:
        rows = result.n_ticks if result.grid == "tick" else len(result.grid_times)
        print(f"  levels         {args.out} ({rows:,} rows, grid {result.grid})")
    _outputs(args, result, top=args.top, date=None if day is None else day.session.date)  # the checks' day
    if not result.exact:
        print("ERROR: incremental level differs from a full recompute", file=sys.stderr)
        return 1
    return 0
