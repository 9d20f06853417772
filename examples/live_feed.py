"""A live feed loop: trades arrive one at a time and in batches, a :class:`kospi_fast.Publisher`
checks them under KRX's rules, applies them to a journaled index book and emits each index's
prints as they become final (KOSPI every 10 s, KOSPI 200 every 1 s); the day ends with the
official close, a roll and a checkpoint.

The "feed" here is a simulated day (SAMPLE data, not KRX's): replace ``feed_messages`` with your
market-data client. A restart resumes from the checkpoint and the journal
(``JournaledBook.recover``) with the same levels, bit for bit. ``kospi-fast serve`` runs the
same publisher behind ZeroMQ and WebSocket.

Run: ``python examples/live_feed.py [--ticks N] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import kospi_fast as kf
from kospi_fast.session import STATUS


def feed_messages(day: kf.SimulatedDay, singles: int, batch: int = 500) -> Iterator[tuple[object, ...]]:
    """Stands in for a market-data socket: first ``singles`` trades one by one as
    ``(time_ns, code, price)``, then the rest as ``(times, ids, prices)`` batches."""
    codes = day.universe.codes
    for t, i, p in zip(day.times[:singles].tolist(), day.ids[:singles].tolist(), day.prices[:singles].tolist()):
        yield t, codes[i], p
    for k in range(singles, len(day), batch):
        yield day.times[k:k + batch], day.ids[k:k + batch], day.prices[k:k + batch]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=60_000)
    ap.add_argument("--dir", help="where the checkpoint and journal go (default: a temporary folder)")
    args = ap.parse_args(argv)
    folder = Path(args.dir or tempfile.mkdtemp(prefix="kospi_fast_live_"))

    u = kf.sample_universe()
    kospi200 = [u.codes[i] for i in np.argsort(-(u.base_prices * u.shares), kind="stable")[:200]]
    family = kf.IndexFamily.kospi(u, kospi200=kospi200, sectors=False, size=False,
                                  levels={"KOSPI": 5781.20, "KOSPI 200": 823.02})
    book = kf.JournaledBook.create(family, folder / "state.kfs", folder / "live.journal")
    pub = kf.Publisher(book, "2026-03-23", check_calendar=False)

    def send(p: kf.Print) -> None:
        """Every print comes here in time order; a server sends each one downstream."""
        if p.index == "KOSPI" and (p.time_ns % (30 * 60 * 10**9) == 0 or p.close):  # one per half hour here
            print(f"  {p.time:%H:%M:%S}  {p.index} {p.level:,.2f} ({p.change_pct:+.2f}%), "
                  f"{p.stale} of {p.members} stale{'  official close' if p.close else ''}")

    pub.on_print(send)

    sim = kf.simulate_day(u, n_ticks=args.ticks, seed=7, date="2026-03-23")
    prices = sim.prices.copy()
    singles = min(len(sim) // 10, 1_000)  # each single trade is journaled with its own fsync
    prices[singles // 2] *= 10  # a fat-finger print: outside the ±30% band, rejected, reported
    feed = kf.SimulatedDay(u, sim.date, sim.seed, sim.times, sim.ids, prices)

    for msg in feed_messages(feed, singles):
        if isinstance(msg[1], str):  # one trade: checked, applied (journaled), prints emitted when due
            time_ns, code, price = msg
            status = pub.on_trade(time_ns, code, price)
            if status != kf.session.APPLIED:
                print(f"  rejected {code} at {price:,} won: {STATUS[status]}")
        else:  # a batch: the same rules, one fsync of the journal
            pub.feed(*msg)
    pub.close()  # the prints not yet due and the official close

    bars = pub.minute_bars("KOSPI 200")
    print(f"{pub.prints_emitted:,} prints; KOSPI 200 {len(bars)} minute bars, last {bars[-1].close:,.2f}; "
          f"trades by status {pub.day.counts}")
    book.roll(date="2026-03-24")  # the close becomes the previous close; checkpointed
    levels = book.levels.copy()
    book.close()

    again, report = kf.JournaledBook.recover(folder / "state.kfs", folder / "live.journal")
    assert np.array_equal(again.levels, levels), "recovery gives the same levels"
    print(f"recovered {again!r}")
    again.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
