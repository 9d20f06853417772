"""Replay a Parquet archive: one tick file per day, replayed once in this process
(``io.replay_file``: the day's summary, the 10 s series, a chart) and then all days at once
(``distributed``: one task per day, each from its start-of-day state; on a Dask cluster with
``--dask``, else sequentially, which gives the same result).

The archive is written here from simulated days (SAMPLE data, not KRX's); point ``ARCHIVE`` at
real files with the columns time, code, price[, volume].

Run: ``python examples/replay_parquet.py [--dask] [--plot day.png]``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import kospi_fast as kf
from kospi_fast import distributed as kd
from kospi_fast import io
from kospi_fast.plot import plot_day


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dask", action="store_true", help="replay the days on a local Dask cluster")
    ap.add_argument("--plot", metavar="PNG", help="draw the first day (needs matplotlib)")
    ap.add_argument("--ticks", type=int, default=100_000, help="trades per simulated day")
    args = ap.parse_args(argv)

    archive = Path(tempfile.mkdtemp(prefix="kospi_fast_archive_"))
    u = kf.sample_universe()
    days, paths = [], []
    base = u.base_prices.copy()
    for k, date in enumerate(("2026-03-23", "2026-03-24", "2026-03-25")):
        day = kf.simulate_day(u, n_ticks=args.ticks, seed=10 + k, date=date, base_prices=base)
        paths.append(io.write_ticks(day, archive / f"{date}.parquet"))
        days.append(day)
        ids, last = np.unique(day.ids[::-1], return_index=True)  # each stock's last trade: its close
        base = base.copy()
        base[ids] = day.prices[::-1][last]
    print(f"archive {archive}: {', '.join(p.name for p in paths)}")

    # one file, one book: the day's summary (OHLC with times, contributors) and its 10 s series
    res = io.replay_file(paths[0], kf.IndexEngine(u, level=5781.20), grid="10s")
    print(res)
    frame = res.to_frame(date=days[0].date)
    print(frame[["timestamp", "published"]].tail(2).to_string(index=False))
    for c in res.top_contributors(3):
        print(f"  {c['code']}  {c['points']:+.2f} points")
    if args.plot:
        print(f"chart {plot_day(res, args.plot, date=days[0].date)}")

    # every day: start states chained from 5781.20, one task per day
    specs = kd.specs_from_simulated(days, paths, level=5781.20)
    if args.dask:
        out = kd.replay_days(specs, n_workers=2)
    else:
        out = kd.replay_days_sequential(specs)
    print(out)
    print(out.ohlc[["date", "open", "high", "low", "close"]].round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
