"""``kospi-fast`` command line: ``kospi-fast demo`` replays a simulated day on the sample."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np


def _progress(done: int, total: int, width: int = 30) -> None:
    if not sys.stderr.isatty():
        return
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {100 * done / max(total, 1):5.1f}%")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _hms(ns: int) -> str:
    s = int(ns // 1_000_000_000)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def cmd_demo(args: argparse.Namespace) -> int:
    from kospi_fast.engine import IndexEngine, published
    from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE, sample_universe, simulate_day

    universe = sample_universe()
    print(f"kospi_fast demo: a simulated KOSPI day on the bundled SAMPLE universe ({len(universe)} stocks)")
    print("  (sample data, not official KRX figures; see kospi_fast/data/SAMPLE_README.md)")
    t0 = time.perf_counter()
    day = simulate_day(universe, n_ticks=args.ticks, seed=args.seed)
    t_sim = time.perf_counter() - t0
    print(f"  simulated {len(day):,} trades for {day.date} (seed {day.seed}) in {t_sim:.2f} s")

    engine = IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE)
    prev_close = engine.level
    levels = np.empty(len(day), dtype=np.float64)
    chunk = max(len(day) // 50, 1)
    t0 = time.perf_counter()
    for start in range(0, len(day), chunk):
        stop = min(start + chunk, len(day))
        levels[start:stop] = engine.update_many(day.ids[start:stop], day.prices[start:stop])
        _progress(stop, len(day))
    elapsed = time.perf_counter() - t0
    if engine.level != engine.recompute():
        print("ERROR: incremental level differs from a full recompute", file=sys.stderr)
        return 1

    # The open is the level once every opening-auction result (09:00:00) is in.
    n_open = int(np.searchsorted(day.times, day.times[0], side="right"))
    hi, lo = int(np.argmax(levels)), int(np.argmin(levels))
    close = engine.level
    change = close - prev_close
    print()
    print(f"  previous close {published(prev_close):>10,.2f}")
    print(f"  open           {published(levels[n_open - 1]):>10,.2f}   (09:00:00 opening auction)")
    print(f"  high           {published(levels[hi]):>10,.2f}   at {_hms(day.times[hi])}")
    print(f"  low            {published(levels[lo]):>10,.2f}   at {_hms(day.times[lo])}")
    print(f"  close          {published(close):>10,.2f}   ({change:+.2f} pts, {100 * change / prev_close:+.2f}%)")
    print(f"  trades         {len(day):>10,}")
    print(f"  replay time    {elapsed * 1e3:>10.1f} ms   ({len(day) / elapsed:,.0f} ticks/s, "
          f"{elapsed / len(day) * 1e9:.2f} ns/tick, chunks of {chunk:,})")
    print(f"  exact check    level == full recompute: {engine.level == engine.recompute()}")

    # Point contribution of each stock to the day's move: Δprice × shares / divisor.
    contrib = (engine.prices - universe.base_prices) * engine.index_shares / engine.divisor
    order = np.argsort(-np.abs(contrib))[: args.top]
    print(f"\n  top {args.top} contributors (index points)")
    for i in order:
        pct = 100.0 * (engine.prices[i] / universe.base_prices[i] - 1.0)
        print(f"    {universe.codes[i]}  {universe.names[i][:18]:<18} {contrib[i]:+9.2f}  ({pct:+.2f}%)")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from kospi_fast import eod

    days = eod.read_eod_csv(args.eod)
    published = eod.read_index_csv(args.index)
    results = eod.verify(days, published, chain=args.chain)
    print(eod.report(results, as_json=args.json))
    worst = max(abs(r.error_bp) for r in results)
    if worst > args.tolerance_bp:
        print(f"kospi-fast verify: max |error| {worst:.3f} bp exceeds the tolerance {args.tolerance_bp} bp",
              file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kospi-fast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="replay a full simulated trading day on the bundled sample universe")
    demo.add_argument("--ticks", type=int, default=2_000_000, help="number of trades (default 2,000,000)")
    demo.add_argument("--seed", type=int, default=20260323, help="random seed (default 20260323)")
    demo.add_argument("--top", type=int, default=10, help="how many top contributors to list")
    demo.set_defaults(func=cmd_demo)
    ver = sub.add_parser("verify", help="recompute published closes from end-of-day data and report the error")
    ver.add_argument("--eod", required=True, help="end-of-day CSV (FinanceDataReader StockListing layout + Date, InKOSPIIndex)")
    ver.add_argument("--index", required=True, help="published index CSV with Date and Close columns")
    ver.add_argument("--json", action="store_true", help="print one JSON object")
    ver.add_argument("--tolerance-bp", type=float, default=0.2, help="max |error| in basis points (default 0.2)")
    ver.add_argument("--chain", action="store_true", help="calibrate once on the first day and carry the engine through")
    ver.set_defaults(func=cmd_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (TypeError, ValueError, KeyError, OSError) as exc:
        print(f"kospi-fast: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
