"""kospi_fast against its peers and its own targets, in one process, on one synthetic trading day.

Run from the repository root (after ``python setup.py build_ext --inplace``)::

    PYTHONPATH=src python benchmarks/compare.py                  # 2M ticks, best of 7, all suites
    PYTHONPATH=src python benchmarks/compare.py --suite family,session
    PYTHONPATH=src python benchmarks/compare.py --ticks 500000 --repeat 3
    PYTHONPATH=src python benchmarks/compare.py --json > results.json

Suites (``--suite``, default all):

* ``core``: replay, one trade and aggregate_cap against pure-Python, NumPy and Numba peers.
  Every peer is first checked to give exactly the levels of ``kospi_fast.replay``
  (``np.array_equal``). The pure-Python replay runs on the first ``--py-ticks`` ticks only and
  is scaled per tick.
* ``family``: the 26-index KOSPI family (``IndexFamily.update_many``: levels per tick, on the
  KOSPI 200 1-second grid, final levels only) against the single-index ``replay`` (issue 4).
* ``session``: ``TradingDay(...).feed`` (KRX rules checked per trade) against
  ``IndexEngine.update_many`` (issue 5), and the validated single trade ``TradingDay.on_trade``
  against ``IndexEngine.update`` (issue 15).
* ``events``: a 50-event ``apply_events``, an end-of-day ``roll``, and ``eod.verify`` on the
  real KRX files of ../shared/data when present (issue 3).
* ``speed``: issue 16's goals: ``IndexEngine.update_many`` with the default band (checked in
  the kernel's loop) against no band and against the two-pass path it replaced (rebuilt from
  its pieces), ``update_id`` per call, a 10M-tick replay into a fresh array and into ``out=``,
  and ``aggregate_cap``, each against its goal; old and new timed round-robin. Also
  ``replay(threads=2)`` against one thread and ``TradingDay.feed(threads=2)`` (policy "raise")
  against ``update_many``, with the load average and whether a second core was free.
* ``returns``: an ``IndexFamily`` of KOSPI with its TR and NTR twins (three divisors, and the
  day's dividends carried: an ex-date) against KOSPI alone, on the final-levels path, the 10-s KOSPI grid
  and per tick (issue 14).

Each suite checks its results once before timing. Timings are the best of ``--repeat`` runs
(``--event-repeat`` for the µs-scale corporate actions), garbage collector off; where a run
mutates its object (a family, an engine) every run gets a fresh one, built outside the timing.
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
import scenarios  # noqa: E402

import kospi_fast as kf  # noqa: E402
from kospi_fast import eod, kernels, session  # noqa: E402
from kospi_fast.sample import CLOSE_NS, SAMPLE_PREVIOUS_CLOSE  # noqa: E402

SUITES = ("core", "family", "session", "events", "returns", "speed")

TARGET_NUMPY_SPEEDUP = 15.0
TARGET_PYTHON_SPEEDUP = 100.0
TARGET_UPDATE_NS = 100.0
TARGET_AGGREGATE_NS = 200.0
TARGET_FAMILY_RATIO = 3.0  # issue 4: the whole family <= 3x the single-index replay
TARGET_VALIDATION_RATIO = 2.0  # issue 5: validation on <= 2x validation off
TARGET_RETURNS_RATIO = 1.1  # issue 14: KOSPI + TR + NTR <= 1.1x KOSPI alone (final levels, 10-s grid)
TARGET_SINGLE_TRADE_NS = 300.0  # issue 15: a validated single trade from Python
TARGET_BAND_RATIO = 1.1  # issue 16: update_many with the default band <= 1.1x without ("near 1.4 ns/tick")
TARGET_UPDATE_ID_NS = 45.0  # issue 16: IndexEngine.update_id per call
TARGET_BIG_BATCH_NS = 1.7  # issue 16: a 10M-tick replay, ns/tick
TARGET_AGGREGATE_FUSED_NS = 200.0  # issue 16: aggregate_cap of 850 stocks from Python
BIG_TICKS = 10_000_000  # issue 16: the large-batch measurement (the day tiled)
TARGET_FAMILY_GRID_RATIO = 3.0  # issue 16: the 26-index family on the 1-s grid <= 3x replay
TARGET_MANY_INDICES_NS = 80.0  # issue 16: 351 indices on the 1-s grid, ns/tick
TARGET_REPLAY_2T_NS = 1.0  # issue 16: exact replay on 2 cores (threads=2), ns/tick, bit-identical
TARGET_FEED_2T_RATIO = 2.0  # issue 16: validated feed (threads=2, policy "raise") <= 2x update_many


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
        "simd": f"{kernels.simd_target()} (this CPU runs: {', '.join(kernels.simd_supported())})",
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


def best_fresh(setup, fn, repeat: int) -> list[float]:
    """Sorted wall times (s) of ``repeat`` calls ``fn(setup())``: ``setup`` (a fresh family or
    engine) runs before each timed call and is not timed; garbage collector off."""
    times = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            obj = setup()
            t0 = time.perf_counter()
            fn(obj)
            times.append(time.perf_counter() - t0)
            del obj
    finally:
        if enabled:
            gc.enable()
    return sorted(times)


def interleaved(cases, repeat: int) -> list[list[float]]:
    """``best_fresh`` for several ``(setup, fn)`` cases, run round-robin (one call of each case
    per round) so that a baseline and what is compared with it see the same machine state.
    Returns one sorted list of wall times (s) per case."""
    times: list[list[float]] = [[] for _ in cases]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for k, (setup, fn) in enumerate(cases):
                obj = setup()
                t0 = time.perf_counter()
                fn(obj)
                times[k].append(time.perf_counter() - t0)
                del obj
    finally:
        if enabled:
            gc.enable()
    return [sorted(t) for t in times]


def per_call_ns(stmt: str, namespace: dict, repeat: int) -> float:
    """Best ns per execution of ``stmt`` (timeit: loop of >= 0.2 s per repeat, gc off)."""
    timer = timeit.Timer(stmt, globals=namespace)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e9


# ---------------------------------------------------------------------------- benchmark


def run_core(universe, day, repeat: int, py_ticks: int, log) -> dict:
    """Replay, one trade and aggregate_cap against their peers."""
    n_stocks, n_ticks = len(universe), len(day)
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
        assert eng_check.update_id(i, p) == py_check.update(i, p)

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

    ns = {"upd": eng.update, "updid": eng.update_id, "pyupd": pye.update, "plain": plain, "i": sid, "p": spx, "c": scode}
    update = [
        {"name": "IndexEngine.update_id(int id, int price)", "ns_per_call": per_call_ns("updid(i, p)", ns, repeat)},
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

    for t in targets:
        t["suite"] = "core"
    return {
        "config": {"python_subset_ticks": py_n, "numpy_block": peers.NUMPY_BLOCK,
                   "numba": numba_replay is not None},
        "replay": replay,
        "update": update,
        "aggregate_cap": aggregate,
        "targets": targets,
    }


# ---------------------------------------------------------------------------- family (issue 4)


def run_family(universe, day, repeat: int, log) -> dict:
    """The 26-index KOSPI family against the single-index ``replay`` on the same day."""
    ids, prices, n_ticks = day.ids, day.prices, len(day)
    divisor = kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE).divisor
    sample_at = scenarios.publication_samples(day.times)
    fresh = lambda: scenarios.kospi_family(universe)  # noqa: E731  (construction: never timed)
    names = fresh().names
    k_idx = len(names)

    log(f"checking the {k_idx}-index family against IndexEngine and exact recounts ...")
    family = fresh()
    t0 = time.perf_counter()
    full = family.update_many(ids, prices)  # the process's first per-tick call, timed once
    cold = time.perf_counter() - t0
    out_shape = full.base.shape if full.base is not None else full.shape  # (n_ticks, indices + padding)
    out_bytes = full.base.nbytes if full.base is not None else full.nbytes
    single = kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE).update_many(ids, prices)
    assert np.array_equal(full[:, names.index("KOSPI")], single), "family KOSPI != IndexEngine levels"
    scenarios.check_family_per_tick(full, family, universe, ids, prices)
    assert np.array_equal(full[-1], family.levels)
    scenarios.check_family(family)
    final = family.levels
    for label, at in (("sampled", sample_at), ("final only", [])):
        fam = fresh()
        got = fam.update_many(ids, prices, sample_at=at)
        assert np.array_equal(got, full[at] if len(at) else np.empty((0, k_idx))), f"family {label} rows"
        assert np.array_equal(fam.levels, final), f"family {label}: final levels"
        scenarios.check_family(fam)
    del full, family, fam, got, single

    log(f"timing the family (best of {repeat}, fresh family per run, round-robin with replay) ...")
    cases = [
        ("kospi_fast.replay (KOSPI alone, level per tick)", "replay",
         lambda: None, lambda _: kf.replay(universe.shares, universe.base_prices, divisor, ids, prices)),
        (f"IndexFamily.update_many, all levels per tick ({n_ticks:,} x {k_idx})", "per tick",
         fresh, lambda f: f.update_many(ids, prices)),
        (f"IndexFamily.update_many, 1-s grid ({sample_at.shape[0]:,} x {k_idx})", "1-s grid",
         fresh, lambda f: f.update_many(ids, prices, sample_at=sample_at)),
        ("IndexFamily.update_many, final levels only (sample_at=[])", "final only",
         fresh, lambda f: f.update_many(ids, prices, sample_at=[])),
        (f"floor: allocate + fill a fresh {out_shape[0]:,} x {out_shape[1]} float64 array", "floor",
         lambda: None, lambda _: np.empty(out_shape).fill(0.0)),
    ]
    times = interleaved([(setup, fn) for _, _, setup, fn in cases], repeat)
    t_replay = times[0][0]
    rows = [(name, v, ts[0]) for (name, v, _, _), ts in zip(cases, times)]
    table = [{"name": name, "variant": v, "seconds": t, "ns_per_tick": t / n_ticks * 1e9,
              "ratio_vs_replay": t / t_replay} for name, v, t in rows]
    targets = [
        {"suite": "family",
         "target": f"family ({r['variant']}) <= {TARGET_FAMILY_RATIO:g}x single replay",
         "measured": f"{r['ratio_vs_replay']:.2f}x", "met": r["ratio_vs_replay"] <= TARGET_FAMILY_RATIO}
        for r in table[1:] if r["variant"] != "floor"
    ]
    return {
        "config": {"indices": list(names), "samples": int(sample_at.shape[0]), "output_bytes": int(out_bytes),
                   "output_columns": int(out_shape[1]),
                   "cold_first_call_seconds": cold},
        "rows": table,
        "targets": targets,
    }


# ---------------------------------------------------------------------------- session (issue 5)


def run_session(universe, day, repeat: int, log) -> dict:
    """TradingDay.feed (KRX rules checked per trade) against IndexEngine.update_many."""
    times, ids, prices, n_ticks = day.times, day.ids, day.prices, len(day)
    engine = lambda: kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE)  # noqa: E731  (never timed)

    def trading_day(e, **kw):
        return session.TradingDay(e, scenarios.DAY_DATE, check_calendar=False, **kw)

    log("checking TradingDay.feed against IndexEngine.update_many ...")  # also builds the grid bitmap
    off = engine().update_many(ids, prices)
    for kw in ({}, {"validate": False}):
        e = engine()
        res = trading_day(e, **kw).feed(times, ids, prices)
        assert res.applied == n_ticks and not res.status.any(), res.reasons()
        assert np.array_equal(res.levels, off), f"TradingDay({kw}).feed levels != update_many levels"
        assert e.level == off[-1] == e.recompute()
    del off, res

    log(f"timing validated feeding (best of {repeat}, fresh engine per run, round-robin) ...")
    cases = [
        ("IndexEngine.update_many (validation off)", engine, lambda e: e.update_many(ids, prices)),
        ("TradingDay(engine, date).feed (validation on)", engine,
         lambda e: trading_day(e).feed(times, ids, prices)),
        ("  .feed only (TradingDay built untimed)", lambda: trading_day(engine()),
         lambda d: d.feed(times, ids, prices)),
        ("TradingDay(engine, date, validate=False).feed", engine,
         lambda e: trading_day(e, validate=False).feed(times, ids, prices)),
    ]
    rows = list(zip([c[0] for c in cases], interleaved([c[1:] for c in cases], repeat)))
    ref = min(rows[0][1])
    table = [{"name": name, "seconds": min(ts), "ns_per_tick": min(ts) / n_ticks * 1e9,
              "ratio_vs_off": min(ts) / ref} for name, ts in rows]
    ratio = table[1]["ratio_vs_off"]

    # one trade at a time from Python (issue 15): the validated path against the unvalidated one
    log("timing single trades: TradingDay.on_trade vs IndexEngine.update_id ...")
    t0, i0, p0 = int(times[0]), int(ids[0]), int(prices[0])
    e_on, e_up = engine(), engine()
    d_on = trading_day(e_on)
    assert d_on.on_trade(t0, i0, p0) == session.APPLIED and e_on.level == e_up.update_id(i0, p0)
    code0 = universe.codes[i0]
    ns = {"on": d_on.on_trade, "upd": e_up.update_id, "t": t0, "i": i0, "p": p0, "c": code0}
    single = [
        {"name": "TradingDay.on_trade(t, int id, int price) (validated)", "ns_per_call": per_call_ns("on(t, i, p)", ns, repeat)},
        {"name": "TradingDay.on_trade(t, str code, int price) (validated)", "ns_per_call": per_call_ns("on(t, c, p)", ns, repeat)},
        {"name": "IndexEngine.update_id(int id, int price) (no KRX rules)", "ns_per_call": per_call_ns("upd(i, p)", ns, repeat)},
    ]
    for row in single:
        row["ratio_vs_update"] = row["ns_per_call"] / single[2]["ns_per_call"]
    assert d_on.counts == {session.STATUS[session.APPLIED]: d_on.counts[session.STATUS[session.APPLIED]]}
    targets = [{"suite": "session",
                "target": f"validation on <= {TARGET_VALIDATION_RATIO:g}x validation off",
                "measured": f"{ratio:.2f}x ({table[1]['ns_per_tick']:.2f} vs {table[0]['ns_per_tick']:.2f} ns/tick)",
                "met": ratio <= TARGET_VALIDATION_RATIO},
               {"suite": "session", "target": f"validated single trade <= {TARGET_SINGLE_TRADE_NS:g} ns/call",
                "measured": f"{single[0]['ns_per_call']:.0f} ns ({single[0]['ratio_vs_update']:.2f}x IndexEngine.update)",
                "met": single[0]["ns_per_call"] <= TARGET_SINGLE_TRADE_NS}]
    return {"rows": table, "single": single, "targets": targets}


# ---------------------------------------------------------------------------- events (issue 3)


def run_events(universe, day, repeat: int, event_repeat: int, log) -> dict:
    """A 50-event rebase and an end-of-day roll on 850 stocks; the EOD path on real data."""
    n_stocks = len(universe)
    level0 = SAMPLE_PREVIOUS_CLOSE
    # The day's closes, and the prices just before the closing auction's result.
    n_before_close = int(np.searchsorted(day.times, CLOSE_NS, side="left"))
    e = kf.IndexEngine(universe, level=level0)
    e.update_many(day.ids[:n_before_close], day.prices[:n_before_close])
    before_close = e.prices
    e.update_many(day.ids[n_before_close:], day.prices[n_before_close:])
    closes = e.prices
    listed = universe.shares
    events = scenarios.event_batch(universe, closes)
    at_close = lambda: kf.IndexEngine(universe, level=level0, prices=closes)  # noqa: E731
    pre_close = lambda: kf.IndexEngine(universe, level=level0, prices=before_close)  # noqa: E731
    date = scenarios.NEXT_DATE

    log(f"checking the {len(events)}-event batch and the roll ...")
    e = at_close()
    scenarios.check_event_batch(e, e.apply_events(events, date=date), closes, listed, events)
    e = pre_close()
    record = e.roll(events, closes=closes, date=date)
    scenarios.check_event_batch(e, record, closes, listed, events)
    assert e.previous_close == record.level_before and np.array_equal(e.reference_prices, e.prices)
    e = pre_close()
    assert e.roll([], closes=closes, date=date) is None
    assert np.array_equal(e.prices, closes) and e.level == e.recompute()

    log(f"timing corporate actions (best of {event_repeat}, fresh engine per run) ...")
    rows = [
        (f"apply_events: {len(events)} events, 6 kinds, distinct stocks", len(events),
         best_fresh(at_close, lambda e: e.apply_events(events, date=date), event_repeat)),
        (f"roll({len(events)} events, closes of {n_stocks} stocks)", len(events),
         best_fresh(pre_close, lambda e: e.roll(events, closes=closes, date=date), event_repeat)),
        (f"roll(no events, closes of {n_stocks} stocks)", 0,
         best_fresh(pre_close, lambda e: e.roll([], closes=closes, date=date), event_repeat)),
        (f"IndexEngine(...) construction, {n_stocks} stocks (excluded above)", 0,
         best_fresh(lambda: None, lambda _: at_close(), event_repeat)),
    ]
    table = [{"name": name, "events": k, "best_us": ts[0] * 1e6, "median_us": ts[len(ts) // 2] * 1e6,
              "us_per_event": ts[0] * 1e6 / k if k else None} for name, k, ts in rows]

    real = scenarios.real_eod()
    if real is None:
        msg = f"real KRX files not found in {scenarios.SHARED / 'data'}: EOD-driven path skipped"
        log(msg)
        eod_res = {"skipped": msg}
    else:
        days, published, where = real
        log(f"checking and timing kospi_fast.eod.verify on {len(days)} real days (best of {repeat}) ...")
        results = eod.verify(days, published)
        assert [r.date for r in results] == [d.date for d in days[1:]]
        assert max(abs(r.error_bp) for r in results) <= 0.2  # as tests/test_verify.py
        total = min(best_fresh(lambda: None, lambda _: eod.verify(days, published), repeat))
        pairs = []
        for r, (prev, cur) in zip(results, zip(days[:-1], days[1:])):
            t = min(best_fresh(lambda: [prev, cur], lambda pair: eod.verify(pair, published), repeat))
            pairs.append({"date": r.date, "events": r.n_events, "error_bp": r.error_bp, "ms": t * 1e3})
        eod_res = {"data": str(where), "days": len(days), "pairs": pairs, "total_ms": total * 1e3,
                   "ms_per_pair": total * 1e3 / len(results),
                   "members": int(days[-1].member.sum()), "listings": len(days[-1].codes)}
    return {"config": {"event_repeat": event_repeat, "kinds": list(scenarios.EVENT_KINDS), "date": date},
            "rows": table, "eod": eod_res, "targets": []}


# ---------------------------------------------------------------------------- all suites


def run(n_ticks: int, repeat: int, py_ticks: int, seed: int, log, suites=SUITES, event_repeat: int = 300) -> dict:
    universe = kf.sample_universe()
    n_stocks = len(universe)
    log(f"simulating {n_ticks:,} ticks over {n_stocks} stocks (seed {seed}) ...")
    day = kf.simulate_day(universe, n_ticks=n_ticks, seed=seed, date=scenarios.DAY_DATE)
    res = {
        "machine": machine_info(),
        "config": {"ticks": n_ticks, "stocks": n_stocks, "repeat": repeat, "seed": seed,
                   "date": scenarios.DAY_DATE, "suites": list(suites)},
        "targets": [],
    }
    for suite in suites:
        if suite == "core":
            out = run_core(universe, day, repeat, py_ticks, log)
            res["config"].update(out.pop("config"))
            res.update({k: out[k] for k in ("replay", "update", "aggregate_cap")})
        elif suite == "family":
            out = res["family"] = run_family(universe, day, repeat, log)
        elif suite == "session":
            out = res["session"] = run_session(universe, day, repeat, log)
        elif suite == "returns":
            out = res["returns"] = run_returns(universe, day, repeat, log)
        elif suite == "speed":
            out = res["speed"] = run_speed(universe, day, repeat, log)
        else:
            out = res["events"] = run_events(universe, day, repeat, event_repeat, log)
        res["targets"].extend(out.pop("targets"))
    return res


# ---------------------------------------------------------------------------- speed (issue 16)


def run_speed(universe, day, repeat: int, log) -> dict:
    """Issue 16's goals, old and new paths interleaved (best and median of ``repeat`` rounds)."""
    from kospi_fast._engine import first_outside_band
    from kospi_fast._ticks import apply_ticks_inplace

    ids, prices, n = day.ids, day.prices, len(day)
    imax = 2**63 - 1
    banded = lambda: kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE)  # noqa: E731
    free = lambda: kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE, price_band=None)  # noqa: E731

    def two_pass(e):  # the issue-12 path: the band scan, then the plain kernel on a scratch copy
        lo, hi = e.band_limits()
        assert first_outside_band(ids, prices, lo, hi, imax) == -1
        levels = np.empty(n)
        work = e.prices
        bad, _ = apply_ticks_inplace(work, e.index_shares, ids, prices, imax, e.cap, e.divisor, levels)
        assert bad == -1
        return levels

    log("checking the banded kernel against the two-pass path and no band ...")
    want = two_pass(banded())
    assert banded().update_many(ids, prices).tobytes() == want.tobytes()
    assert free().update_many(ids, prices).tobytes() == want.tobytes()
    log(f"timing update_many with / without the band, interleaved ({repeat} rounds) ...")
    t_fused, t_free, t_old = interleaved([(banded, lambda e: e.update_many(ids, prices)),
                                          (free, lambda e: e.update_many(ids, prices)),
                                          (banded, two_pass)], repeat)

    log(f"timing a {BIG_TICKS:,}-tick replay, fresh array vs out= ...")
    reps = -(-BIG_TICKS // n)
    big_ids, big_px = np.tile(ids, reps)[:BIG_TICKS], np.tile(prices, reps)[:BIG_TICKS]
    sh, base = universe.shares, universe.base_prices
    d = free().divisor
    buf = np.empty(BIG_TICKS)
    fresh_levels = kf.replay(sh, base, d, big_ids, big_px)
    assert kf.replay(sh, base, d, big_ids, big_px, out=buf).tobytes() == fresh_levels.tobytes()
    del fresh_levels
    none = lambda: None  # noqa: E731
    t_big_fresh, t_big_out = interleaved([(none, lambda _: kf.replay(sh, base, d, big_ids, big_px)),
                                          (none, lambda _: kf.replay(sh, base, d, big_ids, big_px, out=buf))],
                                         max(3, repeat // 2))
    del big_ids, big_px, buf

    log("timing update_id and aggregate_cap per call ...")
    eng = free()
    ns = {"upd": eng.update_id, "i": 0, "p": int(base[0]), "agg": kf.aggregate_cap, "pp": base, "ss": sh}
    upd = sorted(timeit.Timer("upd(i, p)", globals=ns).repeat(repeat, 200_000))
    upd = [t / 200_000 * 1e9 for t in upd]
    agg = sorted(timeit.Timer("agg(pp, ss)", globals=ns).repeat(repeat, 20_000))
    agg = [t / 20_000 * 1e9 for t in agg]
    simd_rows = _speed_simd(base, sh, repeat, log)

    def row(name, times, per, unit):
        return {"name": name, "best": times[0] / per * (1e9 if unit != "ns" else 1),
                "median": times[len(times) // 2] / per * (1e9 if unit != "ns" else 1), "unit": unit}

    rows = [
        row("IndexEngine.update_many, band ±30% (in the kernel's loop)", t_fused, n, "ns/tick"),
        row("IndexEngine.update_many, no band", t_free, n, "ns/tick"),
        row("band scan + kernel (the two-pass path it replaced)", t_old, n, "ns/tick"),
        row(f"replay {BIG_TICKS:,} ticks, fresh array", t_big_fresh, BIG_TICKS, "ns/tick"),
        row(f"replay {BIG_TICKS:,} ticks, out= reused buffer", t_big_out, BIG_TICKS, "ns/tick"),
        row("IndexEngine.update_id(int, int)", upd, 1, "ns"),
        row(f"aggregate_cap ({len(universe)} stocks)", agg, 1, "ns"),
    ] + simd_rows
    by = {r["name"]: r for r in rows}
    band_ratio = rows[0]["best"] / rows[1]["best"]
    targets = [
        {"target": f"update_many with the band <= {TARGET_BAND_RATIO:g}x without",
         "measured": f"{band_ratio:.2f}x ({rows[0]['best']:.2f} vs {rows[1]['best']:.2f} ns/tick; "
                     f"two-pass {rows[2]['best'] / rows[1]['best']:.2f}x)", "met": band_ratio <= TARGET_BAND_RATIO},
        {"target": f"IndexEngine.update_id <= {TARGET_UPDATE_ID_NS:g} ns/call",
         "measured": f"{rows[5]['best']:.1f} ns (median {rows[5]['median']:.1f})",
         "met": rows[5]["best"] <= TARGET_UPDATE_ID_NS},
        {"target": f"{BIG_TICKS // 10**6}M-tick batch <= {TARGET_BIG_BATCH_NS:g} ns/tick (out=)",
         "measured": f"{rows[4]['best']:.2f} ns/tick (fresh array {rows[3]['best']:.2f})",
         "met": rows[4]["best"] <= TARGET_BIG_BATCH_NS},
        {"target": f"aggregate_cap <= {TARGET_AGGREGATE_FUSED_NS:g} ns/call (issue 16: fused pass)",
         "measured": f"{by[rows[6]['name']]['best']:.0f} ns", "met": rows[6]["best"] <= TARGET_AGGREGATE_FUSED_NS},
    ]
    fam = _speed_family(universe, day, repeat, log)
    rows += fam["rows"]
    targets += fam["targets"]
    mt_rows, mt_targets = _speed_second_core(universe, day, repeat, log)
    rows += mt_rows
    targets += mt_targets
    for t in targets:
        t["suite"] = "speed"
    return {"rows": rows, "targets": targets}


def _speed_simd(prices, shares, repeat: int, log) -> list[dict]:
    """aggregate_cap on each vector unit this CPU runs, interleaved round by round."""
    from kospi_fast import _aggregate

    targets = kernels.simd_supported()
    log(f"timing aggregate_cap on each SIMD target ({', '.join(targets)}) ...")
    chosen = kernels.simd_target()
    answers = set()
    times: dict[str, list[float]] = {t: [] for t in targets}
    try:
        for _ in range(repeat):
            for t in targets:
                _aggregate._set_simd(t)
                answers.add(kf.aggregate_cap(prices, shares))
                times[t].append(min(timeit.Timer(lambda: kf.aggregate_cap(prices, shares)).repeat(1, 20_000))
                                / 20_000 * 1e9)
    finally:
        _aggregate._set_simd(chosen)
    assert len(answers) == 1, answers  # every target, the same exact int
    return [{"name": f"aggregate_cap ({len(prices)} stocks), SIMD target {t}", "best": min(v),
             "median": sorted(v)[len(v) // 2], "unit": "ns"} for t, v in times.items()]


def _portable(fn):
    """``fn()`` on the portable SIMD target (the family's dense run without AVX-512)."""
    from kospi_fast import _aggregate

    chosen = _aggregate._set_simd("portable")
    try:
        return fn()
    finally:
        _aggregate._set_simd(chosen)


def _speed_family(universe, day, repeat: int, log) -> dict:
    """Issue 16's family rows: the 26-index KOSPI family on the 1-s and 10-s grids and final
    only, and a SYNTHETIC 351-index family on the 1-s grid, each timed round-robin with the
    single-index replay (best and median, ns/tick, x replay of the same round)."""
    ids, prices, n = day.ids, day.prices, len(day)
    divisor = kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE).divisor
    grid1 = scenarios.publication_samples(day.times)
    grid10 = scenarios.publication_samples(day.times, interval_s=10)
    kospi = lambda: scenarios.kospi_family(universe)  # noqa: E731  (construction: never timed)
    many = lambda: scenarios.synthetic_family(universe)  # noqa: E731

    log("checking the family paths against per-trade rows (26 indices) and single-index replays (351) ...")
    per_trade = kospi().update_many(ids, prices)
    for at in (grid1, grid10):
        assert kospi().update_many(ids, prices, sample_at=at).tobytes() == per_trade[at].tobytes()
    f = kospi()
    f.update_many(ids, prices, sample_at=[])
    assert f.levels.tobytes() == per_trade[-1].tobytes()
    del per_trade
    big = many()
    got = big.update_many(ids, prices, sample_at=grid1)
    for k in (0, 1, len(big.names) // 2, len(big.names) - 1):  # a few columns: each its own replay
        members, sh = big.index_shares(big.names[k])
        shares = np.zeros(len(universe), dtype=np.int64)
        shares[members] = sh
        single = kf.replay(shares, universe.base_prices, big.divisors[k], ids, prices)
        assert got[:, k].tobytes() == single[grid1].tobytes(), big.names[k]
    counts = (big._shares > 0).sum(axis=0)
    width, per_tick = int(counts.max()), float(counts[ids].mean())
    del big, got

    log(f"timing the family grids (best of {repeat}, fresh family per run, round-robin with replay) ...")
    cases = [
        (lambda: None, lambda _: kf.replay(universe.shares, universe.base_prices, divisor, ids, prices)),
        (kospi, lambda f: f.update_many(ids, prices, sample_at=grid1)),
        (kospi, lambda f: f.update_many(ids, prices, sample_at=grid10)),
        (kospi, lambda f: f.update_many(ids, prices, sample_at=[])),
        (many, lambda f: f.update_many(ids, prices, sample_at=grid1)),
        (kospi, lambda f: _portable(lambda: f.update_many(ids, prices, sample_at=grid1))),
        (kospi, lambda f: _portable(lambda: f.update_many(ids, prices, sample_at=grid10))),
    ]
    t_replay, t_1s, t_10s, t_final, t_many, t_1s_port, t_10s_port = interleaved(cases, repeat)

    def row(name, times):
        return {"name": name, "best": times[0] / n * 1e9, "median": times[len(times) // 2] / n * 1e9,
                "unit": "ns/tick", "x_replay": times[0] / t_replay[0]}

    rows = [
        row("replay (KOSPI alone), the family rows' peer", t_replay),
        row(f"IndexFamily 26 indices, 1-s grid ({grid1.shape[0]:,} rows), SIMD target {kernels.simd_target()}", t_1s),
        row(f"IndexFamily 26 indices, 10-s grid ({grid10.shape[0]:,} rows), SIMD target {kernels.simd_target()}",
            t_10s),
        row("IndexFamily 26 indices, final levels only", t_final),
        row(f"IndexFamily 351 indices (SYNTHETIC; widest row {width}, {per_tick:.0f} per trade), 1-s grid", t_many),
        row("IndexFamily 26 indices, 1-s grid, SIMD target portable", t_1s_port),
        row("IndexFamily 26 indices, 10-s grid, SIMD target portable", t_10s_port),
    ]
    targets = [
        {"target": f"26-index family, 1-s grid <= {TARGET_FAMILY_GRID_RATIO:g}x replay",
         "measured": f"{rows[1]['x_replay']:.2f}x ({rows[1]['best']:.2f} ns/tick, median {rows[1]['median']:.2f}; "
                     f"10-s grid {rows[2]['x_replay']:.2f}x, final only {rows[3]['x_replay']:.2f}x; target "
                     f"{kernels.simd_target()}; portable 1-s {rows[5]['x_replay']:.2f}x)",
         "met": rows[1]["x_replay"] <= TARGET_FAMILY_GRID_RATIO},
        {"target": f"351 indices (synthetic), 1-s grid <= {TARGET_MANY_INDICES_NS:g} ns/tick",
         "measured": f"{rows[4]['best']:.1f} ns/tick (median {rows[4]['median']:.1f})",
         "met": rows[4]["best"] <= TARGET_MANY_INDICES_NS},
    ]
    return {"rows": rows, "targets": targets}


def _second_core_free(shares, prices, ids, new_prices, rounds: int = 5) -> float:
    """How much a second thread gives right now: two independent in-cache replays (each its own
    output) on two threads against one after another, best of ``rounds`` (2.0: the other core
    is free; 1.0: it is busy, e.g. with another job on a shared machine)."""
    import threading

    bufs = [np.empty(new_prices.shape[0]), np.empty(new_prices.shape[0])]

    def work(buf):
        for _ in range(20):
            kf.replay(shares, prices, 1.0, ids, new_prices, out=buf)

    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        work(bufs[0])
        work(bufs[1])
        serial = time.perf_counter() - t0
        ts = [threading.Thread(target=work, args=(b,)) for b in bufs]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        best = max(best, serial / (time.perf_counter() - t0))
    return best


def _speed_second_core(universe, day, repeat: int, log) -> tuple[list, list]:
    """Issue 16's second-core rows: ``replay(threads=2)`` against one thread, and the validated
    ``TradingDay.feed(threads=2)`` (policy "raise") against ``update_many``, each interleaved
    round-robin with its baseline. Two-thread timings depend on the other core being free: the
    load average before and after is printed with them."""
    from kospi_fast import _session, _ticks

    times, ids, prices, n = day.times, day.ids, day.prices, len(day)
    sh, base = universe.shares, universe.base_prices
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    engine = lambda: kf.IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE)  # noqa: E731  (never timed)
    d = engine().divisor

    def trading_day():  # the rules built untimed (a day is made once, fed many batches)
        td = session.TradingDay(engine(), scenarios.DAY_DATE, check_calendar=False)
        td.rules()
        return td

    log("checking replay and feed with threads=2 against one thread ...")
    one = kf.replay(sh, base, d, ids, prices)
    assert kf.replay(sh, base, d, ids, prices, threads=2).tobytes() == one.tobytes()
    f1, f2 = trading_day().feed(times, ids, prices), trading_day().feed(times, ids, prices, threads=2)
    assert f1.levels.tobytes() == f2.levels.tobytes() and f1.status.tobytes() == f2.status.tobytes()
    del one, f1, f2
    rounds = max(repeat, 9)
    log(f"timing replay and feed on one and two threads, interleaved ({rounds} rounds) ...")
    buf, buf2 = np.empty(n), np.empty(n)
    none = lambda: None  # noqa: E731
    t_r1, t_r2, t_upd, t_f1, t_f2 = interleaved([
        (none, lambda _: kf.replay(sh, base, d, ids, prices, out=buf)),
        (none, lambda _: kf.replay(sh, base, d, ids, prices, out=buf2, threads=2)),
        (engine, lambda e: e.update_many(ids, prices)),
        (trading_day, lambda td: td.feed(times, ids, prices)),
        (trading_day, lambda td: td.feed(times, ids, prices, threads=2)),
    ], rounds)
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    free = _second_core_free(sh, base, ids[:100_000], prices[:100_000])
    split = "" if n >= _ticks.SPLIT_MIN_TICKS else " (below the split threshold: one thread)"
    fsplit = "" if n >= _session.FEED_SPLIT_MIN_TICKS else " (below the split threshold: one thread)"

    def row(name, ts):
        return {"name": name, "best": ts[0] / n * 1e9, "median": ts[len(ts) // 2] / n * 1e9, "unit": "ns/tick"}

    rows = [row("replay, 1 thread (out=)", t_r1), row(f"replay, threads=2 (out=){split}", t_r2),
            row("IndexEngine.update_many (band ±30%)", t_upd),
            row('TradingDay.feed, policy "raise", 1 thread', t_f1),
            row(f'TradingDay.feed, policy "raise", threads=2{fsplit}', t_f2)]
    r1, r2, upd, fd1, fd2 = rows
    cores = (f"load average {load0:.2f} before, {load1:.2f} after, {os.cpu_count()} logical CPUs; two independent "
             f"replays on two threads ran {free:.2f}x as fast as one after another (2.00: a free second core)")
    targets = [
        {"target": f"replay threads=2 <= {TARGET_REPLAY_2T_NS:g} ns/tick (bit-identical)",
         "measured": f"{r2['best']:.2f} ns/tick best, {r2['median']:.2f} median = {r2['best'] / r1['best']:.2f}x / "
                     f"{r2['median'] / r1['median']:.2f}x replay 1 thread ({r1['best']:.2f} / {r1['median']:.2f}); "
                     f"{cores}", "met": r2["best"] <= TARGET_REPLAY_2T_NS},
        {"target": f"validated feed threads=2 <= {TARGET_FEED_2T_RATIO:g}x update_many",
         "measured": f"{fd2['best'] / upd['best']:.2f}x best, {fd2['median'] / upd['median']:.2f}x median "
                     f"({fd2['best']:.2f} vs {upd['best']:.2f} ns/tick; 1 thread {fd1['best'] / upd['best']:.2f}x; "
                     f"{fd2['best'] / r1['best']:.2f}x replay 1 thread); {cores}",
         "met": fd2["best"] <= TARGET_FEED_2T_RATIO * upd["best"]},
    ]
    return rows, targets


def _report_speed(res: dict) -> list[str]:
    return [
        "== speed (issue 16): old and new paths timed round-robin; best and median of the rounds",
        _table(["name", "best", "median", "unit", "x replay"],
               [[r["name"], f"{r['best']:.2f}", f"{r['median']:.2f}", r["unit"]]
                + ([f"{r['x_replay']:.2f}x"] if "x_replay" in r else [""]) for r in res["speed"]["rows"]]),
    ]


# ---------------------------------------------------------------------------- returns (issue 14)


def run_returns(universe, day, repeat: int, log) -> dict:
    """KOSPI + KOSPI TR + KOSPI NTR against KOSPI alone, both IndexFamily, on the same day."""
    ids, prices, n_ticks = day.ids, day.prices, len(day)
    grid = session.publication_grid(session.session_times(scenarios.DAY_DATE, check_calendar=False), 10)
    pos = np.searchsorted(day.times, grid, side="right") - 1
    grid_at = pos[pos >= 0]
    payers = [universe.codes[i] for i in np.argsort(-universe.base_prices * universe.shares)[:50]]
    dividends = [kf.events.CashDividend(c, int(universe.base_prices[universe.code_index[c]]) // 100)
                 for c in payers]

    def book(returns):
        fam = kf.IndexFamily.kospi(universe, sectors=False, size=False, returns=returns,
                                   levels={"KOSPI": SAMPLE_PREVIOUS_CLOSE})
        fam.roll(dividends)  # an earlier ex-date, folded at its close: TR and NTR divisors differ
        fam.roll()
        fam.roll(dividends, date=scenarios.DAY_DATE)  # and today is an ex-date: both carry dividends
        return fam

    alone = lambda: book(("price",))  # noqa: E731  (construction: never timed)
    twins = lambda: book(("price", "total", "net"))  # noqa: E731
    log("checking KOSPI + TR + NTR against KOSPI alone ...")
    a, t = alone(), twins()
    assert np.array_equal(a._sh, t._sh), "the twins must add no row to the kernel layout"
    ra, rt = a.update_many(ids, prices, sample_at=grid_at), t.update_many(ids, prices, sample_at=grid_at)
    assert np.array_equal(ra[:, 0], rt[:, 0]) and np.array_equal(a.levels, t.levels[:1])
    assert t.levels.tobytes() == t.recompute().tobytes() == t.recompute_levels().tobytes()
    assert len(set(t.divisors.tolist())) == 3 and (t.to_state().carries[1:] > 0).all()
    del ra, rt

    log(f"timing KOSPI with and without its twins (best of {repeat}, fresh family per run, round-robin) ...")
    variants = [("final levels only", lambda f: f.update_many(ids, prices, sample_at=[])),
                (f"10-s grid ({grid_at.shape[0]:,} prints)", lambda f: f.update_many(ids, prices, sample_at=grid_at)),
                ("levels per tick", lambda f: f.update_many(ids, prices))]
    cases = []
    for label, fn in variants:
        cases += [(alone, fn), (twins, fn)]
    times = interleaved(cases, repeat)
    rows = []
    for j, (label, _) in enumerate(variants):
        ta, tt = times[2 * j][0], times[2 * j + 1][0]
        rows.append({"variant": label, "alone_ns_per_tick": ta / n_ticks * 1e9,
                     "twins_ns_per_tick": tt / n_ticks * 1e9, "ratio": tt / ta})
    targets = [
        {"suite": "returns", "target": f"KOSPI + TR + NTR ({r['variant']}) <= {TARGET_RETURNS_RATIO:g}x KOSPI alone",
         "measured": f"{r['ratio']:.3f}x", "met": r["ratio"] <= TARGET_RETURNS_RATIO}
        for r in rows[:2]
    ]
    return {"rows": rows, "targets": targets, "config": {"dividends": len(dividends)}}


# ---------------------------------------------------------------------------- report


def _table(headers, rows, left=1) -> str:
    """Plain-text table; the first ``left`` columns are left-aligned, the rest right-aligned."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    fmt = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join(line.rstrip() for line in [fmt(headers), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)])


def _report_core(res: dict) -> list[str]:
    m, c = res["machine"], res["config"]
    return [
        "== core: kospi_fast against its peers",
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
    ]


def _report_family(res: dict) -> list[str]:
    f = res["family"]
    fc = f["config"]
    return [
        f"== family: {len(fc['indices'])} indices (KOSPI, KOSPI 200/100/50, Large/Mid/Small, "
        f"{len(fc['indices']) - 7} sectors), fresh IndexFamily per run",
        "checked: KOSPI column == IndexEngine levels, every column == its single-index replay, sampled",
        "rows == per-tick rows, every final level == an exact Python-int recount == recompute()",
        "",
        "Family day replay; ratio = time / kospi_fast.replay time (same day, timed round-robin with it)",
        _table(
            ["name", "ns/tick", "ms/day", "ratio"],
            [[r["name"], f"{r['ns_per_tick']:.2f}", f"{r['seconds'] * 1e3:.2f}", f"{r['ratio_vs_replay']:.2f}x"]
             for r in f["rows"]],
        ),
        f"(per tick: a {fc['output_bytes'] / 2**20:,.0f} MiB output, 8 bytes x ({len(fc['indices'])} indices + "
        f"{fc['output_columns'] - len(fc['indices'])} padding slots) per tick, returned as a view;",
        " floor: writing such an array once, no index arithmetic; the process's first per-tick call took "
        f"{fc['cold_first_call_seconds'] * 1e3:,.0f} ms)",
    ]


def _report_session(res: dict) -> list[str]:
    return [
        "== session: validated feeding of the day (2026-03-23, check_calendar=False), fresh engine per run",
        "checked: every trade applied, levels == IndexEngine.update_many levels (np.array_equal)",
        "",
        "Feeding the day; ratio = time / IndexEngine.update_many time (the four timed round-robin)",
        _table(
            ["name", "ns/tick", "ms/day", "ratio"],
            [[r["name"], f"{r['ns_per_tick']:.2f}", f"{r['seconds'] * 1e3:.2f}", f"{r['ratio_vs_off']:.2f}x"]
             for r in res["session"]["rows"]],
        ),
        "",
        "One trade at a time from Python (a repeated valid trade; ratio = / IndexEngine.update)",
        _table(
            ["name", "ns/call", "ratio"],
            [[r["name"], f"{r['ns_per_call']:.0f}", f"{r['ratio_vs_update']:.2f}x"]
             for r in res["session"].get("single", [])],
        ),
    ]


def _report_events(res: dict) -> list[str]:
    ev = res["events"]
    out = [
        f"== events: corporate actions on {res['config']['stocks']} stocks, effective {ev['config']['date']}",
        "checked: prices and shares as each kind's rule says, caps == exact recounts, level kept",
        f"kinds: {', '.join(ev['config']['kinds'])}",
        "",
        f"Rebasing (fresh engine per run, construction untimed; best and median of "
        f"{ev['config']['event_repeat']} runs)",
        _table(
            ["name", "best µs", "median µs", "µs/event"],
            [[r["name"], f"{r['best_us']:.1f}", f"{r['median_us']:.1f}",
              "" if r["us_per_event"] is None else f"{r['us_per_event']:.2f}"] for r in ev["rows"]],
        ),
        "",
    ]
    e = ev["eod"]
    if "skipped" in e:
        return out + [e["skipped"]]
    return out + [
        f"EOD-driven path on real KRX data ({e['data']}: {e['days']} days, {e['listings']} listings, "
        f"{e['members']} KOSPI members)",
        f"kospi_fast.eod.verify(days, published): {e['total_ms']:.2f} ms for {len(e['pairs'])} day pairs, "
        f"{e['ms_per_pair']:.2f} ms per day (best of {res['config']['repeat']}; CSV reading untimed)",
        _table(
            ["date", "events", "error bp", "verify ms"],
            [[p["date"], p["events"], f"{p['error_bp']:+.3f}", f"{p['ms']:.2f}"] for p in e["pairs"]],
        ),
    ]


def _report_returns(res: dict) -> list[str]:
    r = res["returns"]
    return [
        f"== returns: KOSPI + KOSPI TR + KOSPI NTR vs KOSPI alone (IndexFamily each, after an ex-date of "
        f"{r['config']['dividends']} dividends), fresh family per run",
        "checked: the same kernel layout (twins add no row), identical KOSPI levels, every level == a recount",
        "",
        _table(
            ["variant", "KOSPI ns/tick", "+TR+NTR ns/tick", "ratio"],
            [[x["variant"], f"{x['alone_ns_per_tick']:.2f}", f"{x['twins_ns_per_tick']:.2f}", f"{x['ratio']:.3f}x"]
             for x in r["rows"]],
        ),
    ]


def report(res: dict) -> str:
    m, c = res["machine"], res["config"]
    out = [
        "machine: " + f"{m['cpu']} ({m['logical_cpus']} logical CPUs), {m['platform']}",
        f"python {m['python']}, numpy {m['numpy']}, numba: {m['numba']}, kospi_fast {m['kospi_fast']}",
        f"SIMD: {m['simd']}",
        f"day: sample universe ({c['stocks']} stocks), {c['ticks']:,} simulated ticks (seed {c['seed']}, "
        f"{c['date']}); best of {c['repeat']} runs",
    ]
    sections = {"core": _report_core, "family": _report_family, "session": _report_session,
                "events": _report_events, "returns": _report_returns, "speed": _report_speed}
    for suite in c["suites"]:
        out += ["", *sections[suite](res)]
    if res["targets"]:
        out += [
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


def _suites(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in names if s not in SUITES]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown suite(s) {bad or text!r}; choose from {','.join(SUITES)}")
    return [s for s in SUITES if s in names]  # run in the canonical order, once each


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", type=_suites, default=list(SUITES),
                    help=f"comma-separated suites to run (default all: {','.join(SUITES)})")
    ap.add_argument("--ticks", type=int, default=2_000_000, help="ticks in the simulated day (default 2M)")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per measurement; the best is kept")
    ap.add_argument("--event-repeat", type=int, default=300,
                    help="timed runs of each corporate-action measurement (µs scale; default 300)")
    ap.add_argument("--py-ticks", type=int, default=200_000,
                    help="ticks for the pure-Python replay peer (a prefix of the day; default 200k)")
    ap.add_argument("--seed", type=int, default=20260323, help="seed of the simulated day")
    ap.add_argument("--json", action="store_true", help="print the results as JSON only")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.py_ticks < 1 or args.event_repeat < 1:
        ap.error("--repeat, --event-repeat and --py-ticks must be >= 1")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    res = run(args.ticks, args.repeat, args.py_ticks, args.seed, log, suites=args.suite,
              event_repeat=args.event_repeat)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
