"""A benchmark harness that ships: time your replay beside kospi_fast, NumPy, pure Python and
Numba (when installed), on the same workload, in the same process, on the same day.

Command line::

    python -m kospi_fast.bench --peer mypkg.mymodule:my_replay [--peer other:fn ...]
                               [--workload day.npz] [--ticks 2000000] [--repeat 7]
                               [--out results.json]

A peer is any callable ``f(shares, prices, divisor, ids, new_prices) -> levels`` (the
signature of :func:`kospi_fast.replay`; with a workload that has rebalances it is also passed
``rebalances=[(position, ids, new_shares), ...]``). Before timing, every implementation's
levels are compared with kospi_fast's: ``identical`` (``np.array_equal``) and the largest
relative difference are reported; a peer that disagrees is still timed and flagged.

Workload file (``--workload``, a NumPy ``.npz``):

================ ========================= ============================================
array            dtype, shape              meaning
================ ========================= ============================================
shares           int64 (or float64), (n,)  index shares per stock
prices           int64 (or float64), (n,)  starting prices (any integer unit: won, cents)
divisor          float64, ()               the index divisor
ids              int32 or int64, (m,)      stock id (row) of each trade
new_prices       int64 (or float64), (m,)  trade prices
rebalance_at     int64, (r,)               optional: trade positions of share changes
                                           (ascending, in [0, m])
rebalance_ptr    int64, (r + 1,)           optional: change j is ids/shares
                                           [rebalance_ptr[j]:rebalance_ptr[j+1]]
rebalance_ids    int64, (total,)           optional: the stocks changed
rebalance_shares int64, (total,)           optional: their new shares
================ ========================= ============================================

Float arrays select kospi_fast's float64 path (``exact=False``); the built-in peers are then
skipped. Without ``--workload`` the workload is a synthetic KOSPI day (the bundled sample
universe and :func:`kospi_fast.simulate_day`; synthetic data, not real trades). :func:`save_workload`
writes the format.

The results (``--out``) are JSON with ``"schema": "kospi_fast.bench/1"``: the run's date,
machine and versions, the workload's shape and source, and per implementation ``name``,
``best_s``, ``median_s``, ``ns_per_tick``, ``ratio`` (its best time / kospi_fast's),
``identical``, ``max_rel_diff`` and ``ticks`` (the pure-Python peer runs on the first
``--py-ticks`` ticks only, scaled per tick); a peer that raised has ``error`` instead.
"""

from __future__ import annotations

import datetime
import gc
import importlib
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kospi_fast._ticks import replay
from kospi_fast._version import __version__
from kospi_fast.bench import peers
from kospi_fast.sample import sample_universe, simulate_day

__all__ = [
    "SCHEMA",
    "Workload",
    "format_table",
    "load_peer",
    "load_workload",
    "main",
    "run",
    "save_workload",
    "synthetic_workload",
]

SCHEMA = "kospi_fast.bench/1"


class Workload:
    """The arrays of one benchmark run (see the module docstring for the file format)."""

    def __init__(self, shares, prices, divisor, ids, new_prices, rebalances=None, source: str = "") -> None:
        self.shares, self.prices = np.asarray(shares), np.asarray(prices)
        self.divisor = float(divisor)
        self.ids, self.new_prices = np.asarray(ids), np.asarray(new_prices)
        self.rebalances = list(rebalances or [])
        self.source = source
        self.exact = all(a.dtype.kind in "iu" for a in (self.shares, self.prices, self.new_prices))

    def __repr__(self) -> str:
        src = f", from {self.source!r}" if self.source else ""
        kind = "exact int64" if self.exact else "float"
        return (f"Workload({self.ids.shape[0]:,} trades over {self.prices.shape[0]:,} stocks, {kind}, "
                f"{len(self.rebalances)} rebalances{src})")

    def args(self, m: int | None = None) -> tuple:
        m = self.ids.shape[0] if m is None else m
        return (self.shares, self.prices, self.divisor, self.ids[:m], self.new_prices[:m])

    def kwargs(self, m: int | None = None) -> dict:
        if not self.rebalances:
            return {}
        m = self.ids.shape[0] if m is None else m
        return {"rebalances": [r for r in self.rebalances if r[0] <= m]}


def save_workload(path: str | os.PathLike, shares, prices, divisor, ids, new_prices, rebalances=()) -> None:
    """Write a workload file (``.npz``) in the documented format."""
    extra = {}
    if rebalances:
        at = np.array([int(r[0]) for r in rebalances], dtype=np.int64)
        sizes = [len(r[1]) for r in rebalances]
        extra = dict(rebalance_at=at, rebalance_ptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                     rebalance_ids=np.concatenate([np.asarray(r[1], np.int64) for r in rebalances]),
                     rebalance_shares=np.concatenate([np.asarray(r[2], np.int64) for r in rebalances]))
    np.savez(path, shares=shares, prices=prices, divisor=np.float64(divisor), ids=ids, new_prices=new_prices, **extra)


def load_workload(path: str | os.PathLike) -> Workload:
    """Read a workload file; ``ValueError`` naming the file and the missing or bad array."""
    with np.load(path, allow_pickle=False) as z:
        missing = [k for k in ("shares", "prices", "divisor", "ids", "new_prices") if k not in z.files]
        if missing:
            raise ValueError(f"{path}: the workload has no array {missing[0]!r} (needs shares, prices, divisor, "
                             f"ids, new_prices)")
        arrays = {k: z[k] for k in z.files}
    for k in ("shares", "prices", "ids", "new_prices"):
        if arrays[k].ndim != 1:
            raise ValueError(f"{path}: `{k}` must be 1-dimensional, got shape {arrays[k].shape}")
    if arrays["divisor"].shape != ():
        raise ValueError(f"{path}: `divisor` must be a scalar, got shape {arrays['divisor'].shape}")
    rebal = []
    if "rebalance_at" in arrays:
        at, ptr = arrays["rebalance_at"], arrays["rebalance_ptr"]
        if ptr.shape != (at.shape[0] + 1,):
            raise ValueError(f"{path}: `rebalance_ptr` must have len(rebalance_at) + 1 entries, got {ptr.shape}")
        for j in range(at.shape[0]):
            a, b = int(ptr[j]), int(ptr[j + 1])
            rebal.append((int(at[j]), arrays["rebalance_ids"][a:b], arrays["rebalance_shares"][a:b]))
    return Workload(arrays["shares"], arrays["prices"], float(arrays["divisor"]), arrays["ids"], arrays["new_prices"],
                    rebal, source=str(path))


def synthetic_workload(n_ticks: int = 2_000_000, seed: int = 20260323) -> Workload:
    """A synthetic KOSPI day: the bundled sample universe, :func:`kospi_fast.simulate_day`."""
    u = sample_universe()
    day = simulate_day(u, n_ticks=n_ticks, seed=seed)
    shares, prices = np.asarray(u.shares), np.asarray(u.base_prices)
    divisor = float(np.dot(prices.astype(object), shares.astype(object))) / 2500.0
    return Workload(shares, prices, divisor, day.ids, day.prices,
                    source=f"synthetic: sample universe, simulate_day(n_ticks={n_ticks}, seed={seed})")


def load_peer(spec: str) -> Callable:
    """``'package.module:function'`` -> the callable; ``ValueError`` naming the spec."""
    mod_name, sep, attr = spec.partition(":")
    if not sep or not mod_name or not attr:
        raise ValueError(f"`--peer` must be 'module:function', got {spec!r}")
    try:
        obj = importlib.import_module(mod_name)
    except ImportError as exc:
        raise ValueError(f"`--peer` {spec!r}: cannot import {mod_name!r} ({exc})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"`--peer` {spec!r}: {mod_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"`--peer` {spec!r} is not callable")
    return obj  # type: ignore[return-value]


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    finally:
        if was:
            gc.enable()
    return min(times), float(np.median(times))


def run(workload: Workload, peer_specs: Sequence[str] = (), *, repeat: int = 7, py_ticks: int = 200_000,
        builtin: bool = True) -> dict:
    """Time kospi_fast, the built-in peers (NumPy, pure Python, Numba when installed; exact
    workloads without rebalances only) and each ``peer_specs`` peer; return the results
    record (the ``--out`` JSON)."""
    m = int(workload.ids.shape[0])
    kw = workload.kwargs()
    exact = workload.exact
    ref = replay(*workload.args(), exact=exact, **kw)
    impls: list[tuple[str, Callable, int]] = [
        ("kospi_fast.replay", lambda a, k: replay(*a, exact=exact, **k), m)]
    if builtin and exact and not workload.rebalances:
        impls.append(("numpy (blocked)", lambda a, k: peers.replay_numpy(*a), m))
        impls.append(("pure python", lambda a, k: peers.replay_python(*a), min(m, py_ticks)))
        nb = peers.numba_replay()
        if nb is not None:
            nb(*workload.args(min(m, 10)))  # compile before timing
            impls.append(("numba", lambda a, k: nb(*a), m))
    for spec in peer_specs:
        fn = load_peer(spec)
        impls.append((spec, lambda a, k, fn=fn: fn(*a, **k), m))
    results = []
    for name, call, ticks in impls:
        args, kwargs = workload.args(ticks), workload.kwargs(ticks)
        try:
            got = np.asarray(call(args, kwargs), dtype=np.float64)
        except Exception as exc:  # a peer's own failure is reported, not fatal to the run
            results.append({"name": name, "ticks": ticks, "error": f"{type(exc).__name__}: {exc}",
                            "best_s": float("nan"), "median_s": float("nan"), "ns_per_tick": float("nan"),
                            "identical": False, "max_rel_diff": float("nan")})
            continue
        want = ref[:ticks]
        identical = got.shape == want.shape and bool(np.array_equal(got, want))
        diff = float(np.max(np.abs(got - want) / np.abs(want))) if got.shape == want.shape and ticks else (
            0.0 if got.shape == want.shape else float("inf"))
        best, median = _time(lambda: call(args, kwargs), repeat if ticks == m else max(1, min(repeat, 3)))
        results.append({"name": name, "ticks": ticks, "best_s": best, "median_s": median,
                        "ns_per_tick": best / max(ticks, 1) * 1e9, "identical": identical, "max_rel_diff": diff})
    base = results[0]["ns_per_tick"]
    for r in results:
        r["ratio"] = r["ns_per_tick"] / base if base else float("nan")
    return {
        "schema": SCHEMA,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
        "versions": {"kospi_fast": __version__, "numpy": np.__version__, "numba": peers.numba_version()},
        "workload": {"source": workload.source, "n_stocks": int(workload.shares.shape[0]), "n_ticks": m,
                     "rebalances": len(workload.rebalances), "exact": exact},
        "repeat": repeat,
        "results": results,
    }


def format_table(record: dict) -> str:
    """The results as a text table (ratios against kospi_fast measured in the same run)."""
    w = record["workload"]
    lines = [f"workload: {w['source']} ({w['n_stocks']} stocks, {w['n_ticks']} ticks, "
             f"{w['rebalances']} rebalances); best of {record['repeat']}; {record['date']}",
             f"{'implementation':<40} {'ns/tick':>9} {'x kospi_fast':>13} {'identical':>10} {'max rel diff':>13}"]
    for r in record["results"]:
        if "error" in r:
            lines.append(f"{r['name']:<40} failed: {r['error']}")
            continue
        lines.append(f"{r['name']:<40} {r['ns_per_tick']:>9.2f} {r['ratio']:>13.2f} {str(r['identical']):>10} "
                     f"{r['max_rel_diff']:>13.2e}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m kospi_fast.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer", action="append", default=[], help="module:function of a replay to time (repeatable)")
    ap.add_argument("--workload", help="a .npz workload file (see the module docs); default: a synthetic KOSPI day")
    ap.add_argument("--ticks", type=int, default=2_000_000, help="ticks of the synthetic day")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--py-ticks", type=int, default=200_000, help="ticks the pure-Python peer runs on")
    ap.add_argument("--no-builtin", action="store_true", help="time kospi_fast and the --peer peers only")
    ap.add_argument("--out", help="write the results JSON here")
    a = ap.parse_args(argv)
    if a.repeat < 1 or a.ticks < 1:
        ap.error("--repeat and --ticks must be >= 1")
    try:
        wl = load_workload(a.workload) if a.workload else synthetic_workload(a.ticks)
        record = run(wl, a.peer, repeat=a.repeat, py_ticks=a.py_ticks, builtin=not a.no_builtin)
    except (ValueError, OSError) as exc:
        ap.exit(2, f"error: {exc}\n")
    print(format_table(record))
    if a.out:
        Path(a.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0
