"""kospi_fast against its peers, in one process, on one synthetic trading day.

Run from the repository root (after ``python setup.py build_ext --inplace``)::

    PYTHONPATH=src python benchmarks/compare.py                  # 2M ticks, best of 7
    PYTHONPATH=src python benchmarks/compare.py --ticks 500000 --repeat 3
    PYTHONPATH=src python benchmarks/compare.py --json > results.json

Every peer is first checked to give exactly the levels of ``kospi_fast.replay``
(``np.array_equal``), then timed as the best of ``--repeat`` runs (garbage collector off).
The pure-Python replay runs on the first ``--py-ticks`` ticks only and is scaled per tick.
Targets are reported as met / not met, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402

import kospi_fast as kf  # noqa: E402
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE  # noqa: E402

TARGET_NUMPY_SPEEDUP = 15.0
TARGET_PYTHON_SPEEDUP = 100.0
TARGET_UPDATE_NS = 100.0
TARGET_AGGREGATE_NS = 200.0


# ---------------------------------------------------------------------------- machine


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": peers.numba_version() or "not installed",
        "kospi_fast": kf.__version__,
    }


# ---------------------------------------------------------------------------- timing


def best_of(fn, repeat: int) -> float:
    """Best wall time (s) of ``repeat`` calls of ``fn()``, garbage collector off."""
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
    finally:
        if enabled:
            gc.enable()
    return best


def per_call_ns(stmt: str, namespace: dict, repeat: int) -> float:
    """Best ns per execution of ``stmt`` (timeit: loop of >= 0.2 s per repeat, gc off)."""
    timer = timeit.Timer(stmt, globals=namespace)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e9


# ---------------------------------------------------------------------------- benchmark


def run(n_ticks: int, repeat: int, py_ticks: int, seed: int, log) -> dict:
    universe = kf.sample_universe()
    n_stocks = len(universe)
    log(f"simulating {n_ticks:,} ticks over {n_stocks} stocks (seed {seed}) ...")
    day = kf.simulate_day(universe, n_ticks=n_ticks, seed=seed)
    ids, prices = day.ids, day.prices
    shares, base = universe.shares, universe.base_prices
    level0 = SAMPLE_PREVIOUS_CLOSE
    divisor = kf.IndexEngine(universe, level=level0).divisor
    py_n = min(py_ticks, n_ticks)

    numba_replay = peers.numba_replay()
    if numba_replay is not None:
        log("compiling the numba peer (excluded from timing) ...")
        numba_replay(shares, base, divisor, ids[:16], prices[:16])
        numba_replay.cap(base, shares)

    # ---------------------------------------------------------------- correctness first
    log("checking every peer against kospi_fast.replay ...")
    expected = kf.replay(shares, base, divisor, ids, prices)
    checks = {
        "IndexEngine.update_many": kf.IndexEngine(universe, level=level0).update_many(ids, prices),
        "numpy (blocked)": peers.replay_numpy(shares, base, divisor, ids, prices),
        "numpy (single pass)": peers.replay_numpy_flat(shares, base, divisor, ids, prices),
    }
    if numba_replay is not None:
        checks["numba"] = numba_replay(shares, base, divisor, ids, prices)
    for name, got in checks.items():
        assert np.array_equal(got, expected), f"{name} disagrees with kospi_fast.replay"
    got = peers.replay_python(shares, base, divisor, ids[:py_n], prices[:py_n])
    assert np.array_equal(got, expected[:py_n]), "pure Python disagrees with kospi_fast.replay"
    del checks, got

    exact_cap = sum(int(p) * int(s) for p, s in zip(base, shares))
    base_list, shares_list = base.tolist(), shares.tolist()
    assert kf.aggregate_cap(base, shares) == exact_cap
    assert int(np.dot(base, shares)) == exact_cap
    assert peers.cap_python(base_list, shares_list) == exact_cap
    if numba_replay is not None:
        assert int(numba_replay.cap(base, shares)) == exact_cap

    eng_check = kf.IndexEngine(universe, level=level0)
    py_check = peers.PyEngine(base, shares, eng_check.divisor)
    for i, p in zip(ids[:10_000].tolist(), prices[:10_000].tolist()):
        assert eng_check.update(i, p) == py_check.update(i, p)

    # ---------------------------------------------------------------- replay: ns per tick
    log(f"timing replays (best of {repeat}) ...")
    engine = kf.IndexEngine(universe, level=level0)
    replay_rows = [
        ("kospi_fast.replay (exact int64)", n_ticks, lambda: kf.replay(shares, base, divisor, ids, prices)),
        ("kospi_fast IndexEngine.update_many", n_ticks, lambda: engine.update_many(ids, prices)),
        ("NumPy peer (vectorised, blocked)", n_ticks,
         lambda: peers.replay_numpy(shares, base, divisor, ids, prices)),
        ("NumPy peer (vectorised, one pass)", n_ticks,
         lambda: peers.replay_numpy_flat(shares, base, divisor, ids, prices)),
    ]
    if numba_replay is not None:
        replay_rows.append(("Numba peer (@njit loop)", n_ticks,
                            lambda: numba_replay(shares, base, divisor, ids, prices)))
    py_ids, py_prices = ids[:py_n], prices[:py_n]
    replay_rows.append((f"pure Python peer ({py_n:,}-tick subset)", py_n,
                        lambda: peers.replay_python(shares, base, divisor, py_ids, py_prices)))

    replay = []
    for name, n, fn in replay_rows:
        t = best_of(fn, repeat)
        replay.append({"name": name, "ticks": n, "seconds": t, "ns_per_tick": t / n * 1e9,
                       "ticks_per_s": n / t})
    ref = replay[0]["ns_per_tick"]
    for row in replay:
        row["ratio_vs_kospi_fast"] = row["ns_per_tick"] / ref

    # ---------------------------------------------------------------- one update: ns per call
    log("timing single updates ...")
    eng = kf.IndexEngine(universe, level=level0)
    pye = peers.PyEngine(base, shares, eng.divisor)
    sid, spx, scode = 0, int(base[0]), universe.codes[0]

    def plain(i, price):
        return price

    ns = {"upd": eng.update, "pyupd": pye.update, "plain": plain, "i": sid, "p": spx, "c": scode}
    update = [
        {"name": "IndexEngine.update(int id, int price)", "ns_per_call": per_call_ns("upd(i, p)", ns, repeat)},
        {"name": "IndexEngine.update(str code, int price)", "ns_per_call": per_call_ns("upd(c, p)", ns, repeat)},
        {"name": "pure Python engine .update(i, price)", "ns_per_call": per_call_ns("pyupd(i, p)", ns, repeat)},
        {"name": "plain Python call f(i, p) (baseline)", "ns_per_call": per_call_ns("plain(i, p)", ns, repeat)},
    ]
    ref = update[0]["ns_per_call"]
    for row in update:
        row["ratio_vs_kospi_fast"] = row["ns_per_call"] / ref

    # ---------------------------------------------------------------- aggregate_cap: ns per call
    log("timing aggregate_cap ...")
    ns = {"agg": kf.aggregate_cap, "dot": np.dot, "pysum": peers.cap_python,
          "p": base, "s": shares, "pl": base_list, "sl": shares_list}
    aggregate = [
        {"name": f"kospi_fast.aggregate_cap ({n_stocks} stocks)", "ns_per_call": per_call_ns("agg(p, s)", ns, repeat)},
        {"name": "np.dot(int64, int64)", "ns_per_call": per_call_ns("dot(p, s)", ns, repeat)},
    ]
    if numba_replay is not None:
        ns["nbcap"] = numba_replay.cap
        aggregate.append({"name": "Numba @njit loop", "ns_per_call": per_call_ns("nbcap(p, s)", ns, repeat)})
    aggregate.append({"name": "pure Python sum over lists", "ns_per_call": per_call_ns("pysum(pl, sl)", ns, repeat)})
    ref = aggregate[0]["ns_per_call"]
    for row in aggregate:
        row["ratio_vs_kospi_fast"] = row["ns_per_call"] / ref

    # ---------------------------------------------------------------- targets
    by = {row["name"]: row["ns_per_tick"] for row in replay}
    t_kf = replay[0]["ns_per_tick"]
    t_np = by["NumPy peer (vectorised, blocked)"]
    t_py = replay[-1]["ns_per_tick"]
    t_nb = by.get("Numba peer (@njit loop)")
    targets = [
        {"target": "replay time <= Numba peer time",
         "measured": "n/a (numba not installed)" if t_nb is None
         else f"{t_kf:.3f} vs {t_nb:.3f} ns/tick ({(t_kf / t_nb - 1) * 100:+.1f}%)",
         "met": None if t_nb is None else t_kf <= t_nb},
        {"target": f"replay >= {TARGET_NUMPY_SPEEDUP:g}x faster than NumPy peer",
         "measured": f"{t_np / t_kf:.1f}x", "met": t_np / t_kf >= TARGET_NUMPY_SPEEDUP},
        {"target": f"replay >= {TARGET_PYTHON_SPEEDUP:g}x faster than pure Python peer",
         "measured": f"{t_py / t_kf:.0f}x", "met": t_py / t_kf >= TARGET_PYTHON_SPEEDUP},
        {"target": f"IndexEngine.update <= {TARGET_UPDATE_NS:g} ns/call",
         "measured": f"{update[0]['ns_per_call']:.1f} ns", "met": update[0]["ns_per_call"] <= TARGET_UPDATE_NS},
        {"target": f"aggregate_cap <= {TARGET_AGGREGATE_NS:g} ns/call",
         "measured": f"{aggregate[0]['ns_per_call']:.1f} ns",
         "met": aggregate[0]["ns_per_call"] <= TARGET_AGGREGATE_NS},
    ]

    return {
        "machine": machine_info(),
        "config": {"ticks": n_ticks, "stocks": n_stocks, "repeat": repeat, "python_subset_ticks": py_n,
                   "seed": seed, "numpy_block": peers.NUMPY_BLOCK},
        "replay": replay,
        "update": update,
        "aggregate_cap": aggregate,
        "targets": targets,
    }


# ---------------------------------------------------------------------------- report


def _table(headers, rows, left=1) -> str:
    """Plain-text table; the first ``left`` columns are left-aligned, the rest right-aligned."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    fmt = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join(line.rstrip() for line in [fmt(headers), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)])


def report(res: dict) -> str:
    m, c = res["machine"], res["config"]
    out = [
        "machine: " + f"{m['cpu']} ({m['logical_cpus']} logical CPUs), {m['platform']}",
        f"python {m['python']}, numpy {m['numpy']}, numba: {m['numba']}, kospi_fast {m['kospi_fast']}",
        f"day: sample universe ({c['stocks']} stocks), {c['ticks']:,} simulated ticks (seed {c['seed']}); "
        f"best of {c['repeat']} runs",
        "all peers checked bit-identical to kospi_fast.replay (np.array_equal) before timing"
        + ("" if m["numba"] != "not installed" else "; Numba peer skipped"),
        "",
        "Replay (levels after every tick); ratio = time / kospi_fast.replay time",
        _table(
            ["name", "ns/tick", "ticks/s", "ratio"],
            [[r["name"], f"{r['ns_per_tick']:.2f}", f"{r['ticks_per_s'] / 1e6:,.1f}M",
              f"{r['ratio_vs_kospi_fast']:.2f}x"] for r in res["replay"]],
        ),
        f"(pure Python timed on the first {c['python_subset_ticks']:,} ticks and scaled per tick)",
        "",
        "One trade from Python (timeit, pre-bound method, int args); ratio = time / IndexEngine.update",
        _table(
            ["name", "ns/call", "ratio"],
            [[r["name"], f"{r['ns_per_call']:.1f}", f"{r['ratio_vs_kospi_fast']:.2f}x"] for r in res["update"]],
        ),
        "",
        f"Aggregate cap over {c['stocks']} stocks; ratio = time / kospi_fast.aggregate_cap",
        _table(
            ["name", "ns/call", "ratio"],
            [[r["name"], f"{r['ns_per_call']:.1f}", f"{r['ratio_vs_kospi_fast']:.2f}x"]
             for r in res["aggregate_cap"]],
        ),
        "",
        "Targets (reported, not asserted)",
        _table(
            ["target", "measured", "status"],
            [[t["target"], t["measured"], "n/a" if t["met"] is None else ("met" if t["met"] else "NOT met")]
             for t in res["targets"]],
            left=3,
        ),
    ]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ticks", type=int, default=2_000_000, help="ticks in the simulated day (default 2M)")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per measurement; the best is kept")
    ap.add_argument("--py-ticks", type=int, default=200_000,
                    help="ticks for the pure-Python replay peer (a prefix of the day; default 200k)")
    ap.add_argument("--seed", type=int, default=20260323, help="seed of the simulated day")
    ap.add_argument("--json", action="store_true", help="print the results as JSON only")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.py_ticks < 1:
        ap.error("--repeat and --py-ticks must be >= 1")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    res = run(args.ticks, args.repeat, args.py_ticks, args.seed, log)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
