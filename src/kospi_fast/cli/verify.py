"""``kospi-fast verify``: recompute KRX's published closes from end-of-day data, or the intraday
levels of a snapshot file (``--snapshots``)."""

from __future__ import annotations

import argparse
import sys

from kospi_fast import eod, intraday


__all__ = ["add_parser", "run"]

def add_parser(sub: argparse._SubParsersAction) -> None:
    ver = sub.add_parser("verify", help="recompute published closes from end-of-day data and report the error")
    src = ver.add_mutually_exclusive_group(required=True)
    src.add_argument("--eod",
                     help="end-of-day table, CSV (UTF-8 or CP949) or Parquet: FinanceDataReader StockListing layout "
                          "(or KRX's all-stock download) with a Date column, and InKOSPIIndex or --members")
    src.add_argument("--snapshots", metavar="FILE",
                     help="intraday snapshot CSV (member prices and the KOSPI level read at the same moment): the "
                          "level of each, calibrated from the previous published close; error per snapshot and phase")
    ver.add_argument("--members", metavar="FILE",
                     help="the KOSPI members when --eod has no InKOSPIIndex: a KRX constituents download (with Date: "
                          "each day its own members) or a list of codes")
    ver.add_argument("--index", required=True,
                     help="KOSPI's published closes, CSV or Parquet with Date and Close (optional MarCap): a file of "
                          "another index (KOSPI 200) is refused")
    ver.add_argument("--json", action="store_true", help="print one JSON object")
    ver.add_argument("--tolerance-bp", type=float, default=0.2,
                     help="max |error| of a day pair in basis points (default 0.2); with --chain, day k of the chain "
                          "may be off by tolerance x sqrt(k) (the chained error is the sum of the day errors); with "
                          "--snapshots it applies to each day's last (post-close) snapshot, the intraday reads being "
                          "seconds apart from their level")
    ver.add_argument("--chain", action="store_true", help="calibrate once on the first day and carry the engine through")
    ver.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.tolerance_bp > 0:
        raise ValueError(f"--tolerance-bp must be > 0, got {args.tolerance_bp}")
    if args.snapshots is not None:
        if args.chain or args.members:
            raise ValueError("--chain and --members apply to --eod only, not to --snapshots")
        return _snapshots(args)
    days = eod.read_eod_csv(args.eod, members=args.members)
    published = eod.read_published(args.index)
    results = eod.verify(days, published, chain=args.chain)
    print(eod.report(results, as_json=args.json))
    over = eod.exceeding(results, args.tolerance_bp, chain=args.chain)
    if over:
        r, bound = max(over, key=lambda x: abs(x[0].error_bp) / x[1])
        rule = f"{args.tolerance_bp} bp x sqrt({results.index(r) + 1}) = {bound:.3f} bp" if args.chain else \
            f"{args.tolerance_bp} bp"
        print(f"kospi-fast verify: |error| {abs(r.error_bp):.3f} bp on {r.date} exceeds the tolerance {rule} "
              f"({len(over)} of {len(results)} day pairs over)", file=sys.stderr)
        return 1
    return 0


def _snapshots(args: argparse.Namespace) -> int:
    snaps = intraday.read_snapshots(args.snapshots)
    res = intraday.verify_snapshots(snaps, eod.read_index_csv(args.index))
    print(intraday.report_snapshots(res, snaps, as_json=args.json))
    worst = max(abs(r.error_bp) for r in intraday.last_of_day(res, snaps))
    if worst > args.tolerance_bp:
        print(f"kospi-fast verify: the last snapshot of a day is {worst:.3f} bp off, over the tolerance "
              f"{args.tolerance_bp} bp", file=sys.stderr)
        return 1
    return 0
