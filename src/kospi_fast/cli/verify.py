"""``kospi-fast verify``: recompute KRX's published closes from end-of-day data."""

from __future__ import annotations

import argparse
import sys

from kospi_fast import eod


def add_parser(sub: argparse._SubParsersAction) -> None:
    ver = sub.add_parser("verify", help="recompute published closes from end-of-day data and report the error")
    ver.add_argument("--eod", required=True, help="end-of-day CSV (FinanceDataReader StockListing layout + Date, InKOSPIIndex)")
    ver.add_argument("--index", required=True, help="published index CSV with Date and Close columns")
    ver.add_argument("--json", action="store_true", help="print one JSON object")
    ver.add_argument("--tolerance-bp", type=float, default=0.2, help="max |error| in basis points (default 0.2)")
    ver.add_argument("--chain", action="store_true", help="calibrate once on the first day and carry the engine through")
    ver.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
