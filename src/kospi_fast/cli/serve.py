"""``kospi-fast serve``: publish the index as it happens (:mod:`kospi_fast.server`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from kospi_fast import io
from kospi_fast import server as srv
from kospi_fast._clock import DAY_NS
from kospi_fast.cli._common import _check_index, _member_codes, index_book
from kospi_fast.cli.replay import _load_universe
from kospi_fast.definitions import constituent_index, kospi_definition
from kospi_fast.family import IndexFamily
from kospi_fast.live import Publisher
from kospi_fast.sample import SAMPLE_DATE

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="publish the index live: ZeroMQ PUB + WebSocket + a live page (extra 'serve')",
        description="Read trades from one source (a tick file replayed at wall-clock speed x N, NDJSON on "
                    "stdin, or a ZeroMQ SUB socket), publish KRX's prints on a ZeroMQ PUB socket and over "
                    "WebSocket (/ws), and serve a live page (/). Binds to 127.0.0.1 unless --host is given. "
                    "Input messages: see kospi_fast.server (one JSON object per message or line).")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--ticks", metavar="FILE", help="replay this tick file (Parquet, CSV, Arrow)")
    src.add_argument("--stdin", action="store_true", help="read NDJSON trades from stdin")
    src.add_argument("--zmq-in", metavar="ADDR", help="read trades from a ZeroMQ SUB socket bound at ADDR "
                                                     "(feeds connect their PUB), e.g. tcp://127.0.0.1:5555")
    p.add_argument("--zmq-in-connect", action="store_true", help="connect the SUB socket to ADDR instead of binding")
    p.add_argument("--speed", type=float, default=1.0,
                   help="--ticks: wall-clock speed multiplier (default 1; 0 = as fast as possible)")
    p.add_argument("--universe", default="sample",
                   help="end-of-day table as for 'replay' (default: the bundled sample universe)")
    p.add_argument("--date", default=None, help="the trading day (default: the sample's, 2026-03-23)")
    p.add_argument("--index", action="append", dest="indices", metavar="NAME",
                   help="index to publish (repeatable: several indices of the KOSPI family; default KOSPI)")
    p.add_argument("--members", metavar="FILE", help="constituents of the KOSPI 200/100/50 --index")
    p.add_argument("--level", action="append", metavar="[NAME=]PREV_CLOSE",
                   help="calibrate an index to its previous close (repeatable; a bare number is the first "
                        "--index's; default: the base value 100, the sample's KOSPI 5781.20)")
    p.add_argument("--indicative", action="store_true",
                   help="also publish a labelled indicative extended-hours series (all venues)")
    p.add_argument("--no-calendar", action="store_true", help="do not check the day with the XKRX calendar")
    p.add_argument("--clock", action="store_true",
                   help="drive prints by the wall clock too (live: a print is due even with no trade)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind the HTTP/WebSocket server (default 127.0.0.1)")
    p.add_argument("--http-port", type=int, default=8765, help="HTTP/WebSocket port (default 8765; 0: a free one)")
    p.add_argument("--zmq-pub", default="tcp://127.0.0.1:5556",
                   help="ZeroMQ endpoint to publish prints on (default tcp://127.0.0.1:5556; 'none' for none)")
    p.add_argument("--wait-clients", type=int, default=0, metavar="N",
                   help="start reading the source once N clients (ZeroMQ subscribers + WebSockets) are connected")
    p.add_argument("--linger", type=float, default=0.0, metavar="S",
                   help="keep serving S seconds after the source ends (default 0; -1: until interrupted)")
    p.add_argument("--idle-close", type=float, default=None, metavar="S",
                   help="--zmq-in: end the day after S seconds without a message")
    p.add_argument("--log-level", default="INFO", help="logging level of the 'kospi_fast' logger (default INFO)")
    p.set_defaults(func=run)


def _levels(args: argparse.Namespace, names: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in args.level or []:
        name, _, value = item.rpartition("=")
        name = name or names[0]
        if name not in names:
            raise ValueError(f"--level {item!r}: {name!r} is not a published --index ({names})")
        try:
            out[name] = float(value)
        except ValueError:
            raise ValueError(f"--level {item!r}: not a number") from None
    return out


def _book(args: argparse.Namespace):
    """The book of the --index names (one: as ``replay`` builds it; several: a family of them)."""
    names = list(dict.fromkeys(args.indices or ["KOSPI"]))
    levels = _levels(args, names)
    for name in names:
        args.index = name
        _check_index(args)
    args.base, args.market = "close", "KOSPI"
    args.date = args.date or "last"
    codes = _member_codes(args.members, args.date) if args.members else None
    takes = [n for n in names if constituent_index(n)]
    loaded, default_level = _load_universe(args, None if takes else codes)
    if "KOSPI" in names and default_level is not None:
        levels.setdefault("KOSPI", default_level)
    if len(names) == 1:
        name = names[0]
        return index_book(name, loaded.universe, loaded.members, levels.get(name),
                          constituents=codes if takes else None), loaded
    defs = [kospi_definition(loaded.universe, n, members=loaded.members,
                             constituents=codes if constituent_index(n) else None, level=levels.get(n)) for n in names]
    return IndexFamily(loaded.universe, defs), loaded


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("kospi_fast").setLevel(args.log_level.upper())
    day = args.date
    book, loaded = _book(args)
    date = day if day not in (None, "last") else (loaded.date or SAMPLE_DATE)
    pub = Publisher(book, date, policy="reject", indicative=args.indicative, check_calendar=not args.no_calendar)
    if args.clock and not 0 <= pub.now_ns() < DAY_NS:
        raise ValueError(f"--clock drives the prints by the wall clock: the day ({pub.session.date}) must be today in "
                         "Seoul (for a past day, replay --ticks at --speed N instead)")
    return asyncio.run(_serve(args, pub))


async def _serve(args: argparse.Namespace, pub: Publisher) -> int:
    server = srv.Server(pub, host=args.host, http_port=args.http_port,
                        zmq_pub=None if args.zmq_pub.lower() == "none" else args.zmq_pub)
    await server.start()
    print(f"kospi-fast serve: http://{args.host}:{server.http_port}/ (ws /ws), zmq pub {args.zmq_pub}", flush=True)
    clock = None
    try:
        if args.wait_clients:
            await server.wait_clients(args.wait_clients)
        if args.clock:
            clock = asyncio.ensure_future(pub.run_clock())
        if args.ticks:
            ticks = io.read_ticks(args.ticks, pub.day.book.universe)
            await srv.replay_file_source(server, ticks, speed=args.speed)
        elif args.stdin:
            await srv.stdin_source(server)
        else:
            await srv.zmq_source(server, args.zmq_in, bind=not args.zmq_in_connect, idle_close_s=args.idle_close)
        if not pub.closed:
            pub.close()
        st = server.stats
        print(f"kospi-fast serve: {st.messages} messages, {st.trades} trades, {st.malformed} malformed, "
              f"{st.prints} prints; counts {pub.day.counts}", flush=True)
        if args.linger < 0:
            await asyncio.Event().wait()
        await asyncio.sleep(args.linger)
    finally:
        if clock is not None:
            clock.cancel()
        await server.stop()
    return 0
