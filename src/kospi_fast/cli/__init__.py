"""``kospi-fast`` command line (also ``python -m kospi_fast``).

- ``kospi-fast demo``: replay a simulated day on the bundled sample universe;
- ``kospi-fast replay TICKS --universe EOD.csv [--index NAME]``: replay a tick file (Parquet,
  CSV, Arrow IPC) from an end-of-day table (FinanceDataReader, pykrx or KRX constituents
  layout) through one index of the KOSPI family, print the day's summary, optionally write the
  level series and a PNG chart;
- ``kospi-fast verify``: recompute published closes from end-of-day data;
- ``kospi-fast replay-days TICKS_DIR --eod EOD.csv [--index NAME] [--published INDEX.csv]``:
  replay a directory of day files (one per date, e.g. 2026-03-10.parquet) in parallel on a Dask
  cluster (``kospi-fast[dask]``), each day from its start-of-day state derived from the
  end-of-day data; per-day status table;
- ``kospi-fast serve (--ticks FILE [--speed N] | --stdin | --zmq-in ADDR)``: publish the index
  live on a ZeroMQ PUB socket and over WebSocket, with a live page (``kospi-fast[serve]``).

``--index`` names the index in both replay commands: ``KOSPI`` (default), ``KOSPI 200`` /
``KOSPI 100`` / ``KOSPI 50`` (and their ``... Equal Weight`` variants), ``KOSPI Large`` /
``Mid`` / ``Small`` or a sector name. KRX publishes no file of the KOSPI 200/100/50
constituents: they are an input, ``--members FILE``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kospi_fast._version import __version__
from kospi_fast.cli import days, demo, replay, serve, verify
from kospi_fast.cli._common import format_summary, index_book, plain_text

#: The subcommands, in --help order: each module has ``add_parser(sub)`` and ``run(args)``.
COMMANDS = (demo, replay, verify, days, serve)

__all__ = ["COMMANDS", "build_parser", "format_summary", "index_book", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kospi-fast", description=plain_text(__doc__ or ""),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (TypeError, ValueError, KeyError, OSError, ImportError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"kospi-fast: error: {str(msg) or type(exc).__name__}", file=sys.stderr)  # never an empty message
        return 2
