"""Day-parallel replay on a Dask LocalCluster against the sequential replay (issue 8).

Run from the repository root (after ``python setup.py build_ext --inplace``; needs dask[distributed],
pandas, pyarrow)::

    PYTHONPATH=src python benchmarks/bench_dask.py                     # 10 days x 2M ticks
    PYTHONPATH=src python benchmarks/bench_dask.py --days 20 --ticks 500000 --workers 4 --json

Setup (timed, not part of the comparison): ``--days`` consecutive simulated days on the sample
universe, each from the previous day's closes, are written to a temporary directory as Parquet
(:func:`kospi_fast.io.write_ticks`); the start-of-day states are chained on one book (an
:class:`~kospi_fast.IndexEngine`, or with ``--family`` the KOSPI family followed on KOSPI 200)
and serialised with :func:`kospi_fast.persist.dumps`.

Timed, best of ``--repeat``:

- *sequential*: :func:`kospi_fast.distributed.replay_days_sequential` (one process; pyarrow
  decodes Parquet on its thread pool, one thread per core);
- *sequential, 1 thread*: the same with ``pyarrow.set_cpu_count(1)``: what one core does (Dask's
  workers run that way: the nanny sets ``OMP_NUM_THREADS=1``, which sizes pyarrow's pool);
- *cluster*: :func:`kospi_fast.distributed.replay_days` on a LocalCluster of ``--workers``
  single-threaded worker processes started once (its start-up and the first, cold run, which
  imports kospi_fast/pyarrow on the workers, are reported apart);
- *empty days*: the same number of days whose tick file does not exist, so each task only
  receives and decodes its state bytes and fails at once: the fixed cost of a day on the
  cluster (scheduling, shipping the state, the round trip of the result).

The cluster result is checked to equal the sequential one (``DaysResult.equals``) first.
Scheduling overhead per day = (cluster wall time x workers - time spent inside the day
tasks) / days: the worker time per day that is not replay.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import kospi_fast as kf
from kospi_fast import distributed as kd
from kospi_fast import io
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE


def best_of(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def make_days(directory: Path, n_days: int, n_ticks: int, seed: int, family: bool = False) -> list[kd.DaySpec]:
    """Chained simulated days written as Parquet, and their start-of-day specs (one book
    rolled with each day's closes; the days are not kept in memory)."""
    u = kf.sample_universe()
    dates = [str(d) for d in np.busday_offset("2026-03-23", np.arange(n_days), roll="forward")]
    index = None
    if family:  # 200 codes stand in for the KOSPI 200 constituents (an input)
        caps = u.base_prices.astype(np.float64) * u.shares
        k200 = [u.codes[i] for i in np.argsort(-caps, kind="stable")[:200]]
        engine = kf.IndexFamily.kospi(u, kospi200=k200, levels={"KOSPI": SAMPLE_PREVIOUS_CLOSE})
        index = "KOSPI 200"
    else:
        engine = kf.IndexEngine(u, level=SAMPLE_PREVIOUS_CLOSE)
    base = u.base_prices
    specs = []
    for k, date in enumerate(dates):
        print(f"  simulating {date} ({n_ticks:,} ticks)", file=sys.stderr)
        day = kf.simulate_day(kf.Universe(u.codes, u.names, u.shares, base, u.sectors), n_ticks=n_ticks,
                              seed=seed + k, date=date)
        path = io.write_ticks(day, directory / f"{date}.parquet")
        n_audit = len(engine.audit)
        if k:
            engine.roll(closes=base, date=date)
        specs.append(kd.DaySpec.from_book(date, path, engine, audit_start=n_audit, index=index))
        base = kd._last_prices(base, day.ids, day.prices)  # today's closes: tomorrow's reference
    return specs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--ticks", type=int, default=2_000_000, help="ticks per day")
    ap.add_argument("--workers", type=int, default=kd._cores(), help="worker processes (default: cores)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20260323)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--family", action="store_true",
                    help="chain the whole KOSPI family (an IndexFamily) and follow KOSPI 200 (default: an IndexEngine)")
    args = ap.parse_args(argv)

    from distributed import Client, LocalCluster

    out: dict = {"days": args.days, "ticks_per_day": args.ticks, "workers": args.workers,
                 "cores": kd._cores(), "repeat": args.repeat,
                 "book": "IndexFamily (KOSPI 200)" if args.family else "IndexEngine"}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        specs = make_days(Path(tmp), args.days, args.ticks, args.seed, family=args.family)
        out["setup_s"] = time.perf_counter() - t0
        out["state_bytes_per_day"] = int(np.mean([len(s.state) for s in specs]))
        out["file_mb_per_day"] = float(np.mean([Path(s.path).stat().st_size for s in specs]) / 1e6)

        import pyarrow

        print("sequential ...", file=sys.stderr)
        t_seq, seq = best_of(lambda: kd.replay_days_sequential(specs), args.repeat)
        threads = pyarrow.cpu_count()
        pyarrow.set_cpu_count(1)
        try:
            t_seq1, seq1 = best_of(lambda: kd.replay_days_sequential(specs), args.repeat)
        finally:
            pyarrow.set_cpu_count(threads)
        out["pyarrow_threads"] = threads
        if not seq1.equals(seq):
            print("ERROR: the single-threaded result differs", file=sys.stderr)
            return 1

        print(f"cluster: LocalCluster({args.workers} workers x 1 thread, processes) ...", file=sys.stderr)
        t0 = time.perf_counter()
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            out["cluster_start_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            cold = kd.replay_days(specs, client=client)
            out["cluster_cold_s"] = time.perf_counter() - t0
            if not (cold.equals(seq) and seq.ok):
                print("ERROR: the cluster result differs from the sequential one", file=sys.stderr)
                return 1
            t_dist, dist = best_of(lambda: kd.replay_days(specs, client=client), args.repeat)
            if not dist.equals(seq):
                print("ERROR: the cluster result differs from the sequential one", file=sys.stderr)
                return 1
            empty = [kd.DaySpec(s.date, os.path.join(tmp, "missing", f"{s.date}.parquet"), s.state)
                     for s in specs]
            t_empty, _ = best_of(lambda: kd.replay_days(empty, client=client, errors="return"), args.repeat)
        out["total_with_cluster_start_s"] = out["cluster_start_s"] + t_dist

    n = args.days
    task_s = float(dist.timings["seconds"].sum())
    out.update({
        "sequential_s": t_seq,
        "cluster_s": t_dist,
        "sequential_1thread_s": t_seq1,
        "speedup": t_seq / t_dist,
        "speedup_vs_1thread": t_seq1 / t_dist,
        "sequential_per_day_s": t_seq / n,
        "cluster_per_day_s": t_dist / n,
        "task_seconds_sum": task_s,
        "task_seconds_mean": task_s / n,
        "overhead_per_day_s": (t_dist * args.workers - task_s) / n,
        "empty_days_s": t_empty,
        "empty_day_cost_s": t_empty * args.workers / n,
        "sequential_mticks_per_s": n * args.ticks / t_seq / 1e6,
        "cluster_mticks_per_s": n * args.ticks / t_dist / 1e6,
        "identical": True,
    })
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    ms = 1e3
    print(f"\n{n} days x {args.ticks:,} ticks, Parquet {out['file_mb_per_day']:.1f} MB/day, state "
          f"{out['state_bytes_per_day'] / 1e3:.0f} kB/day; {out['cores']} cores (pyarrow {threads} threads); "
          f"best of {args.repeat}")
    print(f"  setup (simulate + write + chain states)   {out['setup_s']:8.2f} s")
    print(f"  sequential (one process)                  {t_seq:8.3f} s   {t_seq / n * ms:7.1f} ms/day   "
          f"{out['sequential_mticks_per_s']:6.1f} M ticks/s")
    print(f"  sequential, pyarrow on 1 thread           {t_seq1:8.3f} s   {t_seq1 / n * ms:7.1f} ms/day   "
          f"{n * args.ticks / t_seq1 / 1e6:6.1f} M ticks/s")
    print(f"  LocalCluster, {args.workers} workers x 1 thread          {t_dist:8.3f} s   "
          f"{t_dist / n * ms:7.1f} ms/day   {out['cluster_mticks_per_s']:6.1f} M ticks/s   "
          f"x{out['speedup']:.2f} vs sequential, x{out['speedup_vs_1thread']:.2f} vs 1 thread")
    print(f"    inside the day tasks (mean)             {task_s / n * ms:8.1f} ms/day")
    print(f"    scheduling overhead per day             {out['overhead_per_day_s'] * ms:8.1f} ms/day   "
          "(wall x workers - task time) / days")
    print(f"    fixed cost of an empty day              {out['empty_day_cost_s'] * ms:8.1f} ms/day   "
          "(ship + decode state, fail at once)")
    print(f"    cluster start-up                        {out['cluster_start_s']:8.2f} s   (once)")
    print(f"    first (cold) run                        {out['cluster_cold_s']:8.2f} s   (workers import "
          "kospi_fast, pyarrow)")
    print("  result: identical to the sequential replay (series, OHLC, status, audit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
