"""A live feed loop with what kospi_fast has today: trades arrive in small batches, each batch
is checked under KRX's rules and applied to a journaled index book, the new 10 s prints are
published as they become final, and the day ends with a roll and a checkpoint.

The "feed" here is a simulated day cut into batches (SAMPLE data, not KRX's): replace
``feed_batches`` with your market-data client. A restart resumes from the checkpoint and the
journal (``JournaledBook.recover``) with the same levels, bit for bit.

Run: ``python examples/live_feed.py [--ticks N] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import kospi_fast as kf
from kospi_fast.io import format_clock


def feed_batches(day: kf.SimulatedDay, batch: int = 500) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Stands in for a market-data socket: (times, ids, prices) in arrival order."""
    for k in range(0, len(day), batch):
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
    day = kf.TradingDay(book, "2026-03-23", policy="reject", check_calendar=False)

    sim = kf.simulate_day(u, n_ticks=args.ticks, seed=7, date="2026-03-23")
    prices = sim.prices.copy()
    prices[len(sim) // 3] *= 10  # a fat-finger print: outside the ±30% band, rejected, reported
    feed = kf.SimulatedDay(u, sim.date, sim.seed, sim.times, sim.ids, prices)

    published = 0  # prints already sent downstream
    rejected = 0
    for times, ids, prices in feed_batches(feed):
        res = day.feed(times, ids, prices)  # checked under KRX rules, applied, journaled (fsync)
        if res.rejected.shape[0]:
            k = int(res.rejected[0])
            print(f"  rejected {u.codes[ids[k]]} at {prices[k]:,} won: {res.reasons()}")
        rejected += res.rejected.shape[0]
        prints = day.series(10)  # KOSPI on KRX's 10 s grid; a print is final once a later trade came
        final = int(np.searchsorted(prints.times, times[-1]))  # prints strictly before the last trade
        for t, v in zip(prints.times[published:final].tolist(), prints.values[published:final].tolist()):
            if t % (30 * 60 * 10**9) == 0:  # show one print per half hour here; a server sends each
                print(f"  {format_clock(t)}  KOSPI {v:,.2f}")
        published = max(published, final)

    close = day.series(10)
    print(f"close  KOSPI {close.close:,.2f}  (high {close.high:,.2f}, low {close.low:,.2f}); "
          f"KOSPI 200 {day.series(1, index='KOSPI 200').close:,.2f}; {rejected} trades rejected")
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
