"""The kernels' Python-callable drivers, at the seam between Python and the kernels.

Every low-level driver hands raw pointers to a kernel that trusts them. A float64 array where
int64 is expected, an int32 array where int64 is expected, a 2-d array, a strided view, a
read-only output, a byte-swapped or a non-array argument must each be refused with a TypeError
or ValueError that names the argument, and before anything is written: every array the driver
would write is compared with its copy taken before the call.

The last section checks the rules kernel's drivers against each other and against a plain
Python statement of the rules: the tick table as data, the status codes, ``classify`` =
``run_validated`` without applying, ``feed_engine`` = ``run_validated`` on the engine's state.
"""

from __future__ import annotations

import numpy as np
import pytest

from kospi_fast import _engine, _family, _rebase, _session, _ticks

N, M = 3, 4  # stocks, trades


def _ids():
    return np.array([0, 2, 1, 0], dtype=np.int64)


def _ticks_args():
    return dict(prices=np.array([100, 2000, 50000], dtype=np.int64), shares=np.array([10, 20, 30], dtype=np.int64),
                ids=_ids(), new_prices=np.array([105, 50100, 1995, 110], dtype=np.int64),
                levels=np.zeros(M))


def _family_args():
    width, n_idx = 2, 2 + 2  # 2 real indices + 2 padding slots
    return dict(prices=np.array([100, 2000, 50000], dtype=np.int64),
                col=np.array([0, 1, 0, 3, 1, 3], dtype=np.int32), sh=np.array([10, 5, 20, 0, 30, 0], dtype=np.int64),
                caps=np.zeros(n_idx, dtype=np.int64), divisors=np.ones(n_idx), levels=np.zeros(n_idx),
                ids=_ids(), new_prices=np.array([105, 50100, 1995, 110], dtype=np.int64),
                out=np.zeros((2, 2)), sample_at=np.array([1, 3], dtype=np.int64)), width


def _rules_args():
    fast = np.zeros((N, 2), dtype=np.int64)
    fast[:, 0], fast[:, 1] = [70, 1400, 35000], [60, 1200, 30000]
    return dict(lower=np.array([70, 1400, 35000], dtype=np.int64),
                upper=np.array([130, 2600, 65000], dtype=np.int64), halted=np.zeros(N, dtype=np.uint8),
                thresholds=np.array([2000, 5000, 20000, 50000, 200000, 500000], dtype=np.int64),
                ticks=np.array([1, 5, 10, 50, 100, 500, 1000], dtype=np.int64),
                grid=np.full(1 << 14, 0xFF, dtype=np.uint8), fast=fast)


RULES = ("lower", "upper", "halted", "thresholds", "ticks", "grid", "fast")


def _tape():
    return dict(times=np.array([1, 2, 3, 4], dtype=np.int64), ids=_ids(),
                new_prices=np.array([105, 50100, 1995, 110], dtype=np.int64))


WIN = dict(win_open=0, call_start=100, call_end=200, win_close=300)


def _engine_core():
    core = _engine.EngineCore()
    core._core_set_state(np.array([100, 2000, 50000]), np.array([10, 20, 30]), 1.0, {})
    return core


# A case: (build() -> (args, call, outputs)); ``call(**args)`` runs the driver, ``outputs`` names
# the arrays it writes (besides engine state, compared separately).
def case_apply_ticks():
    a = _ticks_args()
    return a, lambda **k: _ticks.apply_ticks_inplace(k["prices"], k["shares"], k["ids"], k["new_prices"],
                                                       10**12, 0, 1.0, k["levels"]), ("prices", "levels")


def case_run_family():
    a, width = _family_args()
    return a, lambda **k: _family.run_family(k["prices"], width, k["col"], k["sh"], k["caps"], k["divisors"],
                                             k["levels"], k["ids"], k["new_prices"], 10**12, k["out"],
                                             k["sample_at"]), ("prices", "caps", "levels", "out")


def case_caps_from_ell():
    a, width = _family_args()
    a = {k: a[k] for k in ("prices", "col", "sh")}
    return a, lambda **k: _family.caps_from_ell(k["prices"], width, k["col"], k["sh"], 4), ()


def case_run_validated():
    a = dict(prices=np.array([100, 2000, 50000], dtype=np.int64), shares=np.array([10, 20, 30], dtype=np.int64),
             **_rules_args(), **_tape(), levels=np.zeros(M), status=np.zeros(M, dtype=np.uint8),
             counts=np.zeros(9, dtype=np.int64))
    tape = ("times", "ids", "new_prices")

    def call(**k):
        return _session.run_validated(k["prices"], k["shares"], *(k[n] for n in RULES), *WIN.values(),
                                      *(k[n] for n in tape), 10**12, 0, -1, 1.0, k["levels"], k["status"],
                                      k["counts"], False)

    return a, call, ("prices", "levels", "status", "counts")


def case_feed_engine():
    core = _engine_core()
    t = _tape()
    a = dict(times=t["times"], ids=t["ids"], prices=t["new_prices"], **_rules_args())

    def call(**k):
        before = (core.prices, core.cap)
        try:
            return _session.feed_engine(core, k["times"], k["ids"], k["prices"], *(k[n] for n in RULES),
                                        *WIN.values(), -1, False)
        except (TypeError, ValueError):  # a refused call leaves the engine as it was
            assert np.array_equal(core.prices, before[0]) and core.cap == before[1]
            raise

    return a, call, ()


def case_classify():
    t = _tape()
    a = dict(times=t["times"], ids=t["ids"], prices=t["new_prices"], **_rules_args(),
             status=np.zeros(M, dtype=np.uint8), counts=np.zeros(9, dtype=np.int64))

    def call(**k):
        return _session.classify(k["times"], k["ids"], k["prices"], *(k[n] for n in RULES), *WIN.values(),
                                 10**12, N, -1, k["status"], k["counts"], False)

    return a, call, ("status", "counts")


def case_apply_changes():
    a = dict(prices=np.array([100, 2000, 50000], dtype=np.int64), shares=np.array([10, 20, 30], dtype=np.int64),
             ids=np.array([2, 0], dtype=np.intp), new_prices=np.array([5000, 50], dtype=np.int64),
             new_shares=np.array([300, 20], dtype=np.int64))
    return a, lambda **k: _rebase.apply_changes_inplace(k["prices"], k["shares"], k["ids"], k["new_prices"],
                                                        k["new_shares"]), ("prices", "shares")


CASES = {f.__name__[5:]: f for f in (case_apply_ticks, case_run_family, case_caps_from_ell, case_run_validated,
                                     case_feed_engine, case_classify, case_apply_changes)}


# ----------------------------------------------------------------------------- corruptions
def _strided(a: np.ndarray) -> np.ndarray:
    """The same values in a non-contiguous view (every other element of a twice-as-long array)."""
    if a.ndim == 1:
        big = np.zeros(2 * a.shape[0], dtype=a.dtype)
        big[::2] = a
        return big[::2]
    return np.asfortranarray(a) if a.shape[0] > 1 and a.shape[1] > 1 else np.repeat(a, 2, axis=1)[:, ::2]


def _wrong_dtype(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64) if a.dtype != np.float64 else a.astype(np.float32)


def _narrow(a: np.ndarray, ids32: bool = False) -> np.ndarray:
    """int32 where int64 is expected (int16 for ids where int32 is allowed too), float32 for
    float64, int64 for uint8."""
    if a.dtype == np.int32 or ids32:
        return a.astype(np.int16)
    if a.dtype == np.int64:
        return a.astype(np.int32)
    if a.dtype == np.float64:
        return a.astype(np.float32)
    return a.astype(np.int64)


def _other_ndim(a: np.ndarray) -> np.ndarray:
    return a.reshape(1, -1) if a.ndim == 1 else a.reshape(-1)


CORRUPTIONS = {
    "float64": _wrong_dtype,
    "int32": _narrow,
    "2-D": _other_ndim,
    "non-contiguous": _strided,
    "byte-swapped": lambda a: a.astype(a.dtype.newbyteorder()),
    "list": lambda a: a.tolist(),
}


def _params():
    for name, build in CASES.items():
        args = build()[0]
        for arg, value in args.items():
            if not isinstance(value, np.ndarray):
                continue
            for cname in CORRUPTIONS:
                if cname == "non-contiguous" and value.size < 2:
                    continue
                if cname == "byte-swapped" and value.dtype.itemsize == 1:
                    continue
                yield pytest.param(name, arg, cname, id=f"{name}-{arg}-{cname}")


@pytest.mark.parametrize("case, arg, corruption", list(_params()))
def test_driver_refuses_bad_array_and_writes_nothing(case, arg, corruption):
    args, call, outputs = CASES[case]()
    call(**{k: v.copy() for k, v in args.items()})  # the good arguments are accepted
    if corruption == "int32" and arg == "ids" and case != "apply_changes":  # int32 ids are fine
        args[arg] = _narrow(args[arg], ids32=True)
    else:
        args[arg] = CORRUPTIONS[corruption](args[arg])
    before = {k: np.array(args[k], copy=True) for k in outputs}
    with pytest.raises((TypeError, ValueError), match=f"`{arg}`"):
        call(**args)
    for k in outputs:
        np.testing.assert_array_equal(args[k], before[k], err_msg=f"`{k}` was written")


def _writable_params():
    for name, build in CASES.items():
        for arg in build()[2]:
            yield pytest.param(name, arg, id=f"{name}-{arg}")


@pytest.mark.parametrize("case, arg", list(_writable_params()))
def test_driver_refuses_read_only_output(case, arg):
    args, call, outputs = CASES[case]()
    args[arg].flags.writeable = False
    before = {k: args[k].copy() for k in outputs}
    with pytest.raises(ValueError, match=f"`{arg}` must be writeable"):
        call(**args)
    for k in outputs:
        np.testing.assert_array_equal(args[k], before[k])


@pytest.mark.parametrize("case", list(CASES))
def test_driver_refuses_mismatched_lengths(case):
    args, call, outputs = CASES[case]()
    for arg, value in args.items():
        if not isinstance(value, np.ndarray) or value.ndim != 1 or arg == "grid":
            continue
        bad = dict(args, **{arg: np.concatenate([value, value[:1]])})
        with pytest.raises(ValueError, match=f"`{arg}`|length"):
            call(**bad)
        for k in outputs:
            if k != arg:
                np.testing.assert_array_equal(bad[k], args[k], err_msg=f"`{k}` was written")


def test_float_prices_are_refused_not_reinterpreted():
    # the example of the architecture review: float64 prices read as int64 bits gave a garbage cap
    p = np.array([100.0, 50.0])
    with pytest.raises(TypeError, match="`prices` must have dtype int64, got float64"):
        _ticks.apply_ticks_inplace(p, np.array([10, 20]), np.array([0]), np.array([110]), 10**12, 2000, 20.0, None)
    assert p.tolist() == [100.0, 50.0]


def test_int32_ids_and_longlong_arrays_are_accepted():
    p = np.array([100, 50], dtype=np.longlong)  # int64 under another type number
    bad, cap = _ticks.apply_ticks_inplace(p, np.array([10, 20]), np.array([1, 0], dtype=np.int32),
                                          np.array([40, 110], dtype=np.longlong), 10**12, 2000, 20.0, None)
    assert (bad, cap) == (-1, 2000 + 10 * 10 - 20 * 10) and p.tolist() == [110, 40]


def test_rebase_refuses_ids_out_of_range():
    args, call, outputs = CASES["apply_changes"]()
    args["ids"] = np.array([2, 3], dtype=np.intp)
    before = {k: args[k].copy() for k in outputs}
    with pytest.raises(ValueError, match=r"`ids\[1\]` is out of range"):
        call(**args)
    for k in outputs:
        np.testing.assert_array_equal(args[k], before[k])


def test_caps_from_ell_refuses_col_out_of_range():
    args, call, _ = CASES["caps_from_ell"]()
    args["col"] = args["col"].copy()
    args["col"][3] = 4
    with pytest.raises(ValueError, match=r"`col\[3\]` must be in \[0, 4\)"):
        call(**args)


# ----------------------------------------------------------------------------- the rules kernel
OPEN, CALL, CLOSE, LATE = 9 * 3600, 15 * 3600 + 20 * 60, 15 * 3600 + 30 * 60, 15 * 3600 + 31 * 60
I64_MAX = np.iinfo(np.int64).max


def test_status_codes_have_one_home():
    codes = ("APPLIED", "IGNORED", "BAD_ID", "BAD_PRICE", "OFF_GRID", "OUTSIDE_LIMITS", "HALTED", "OUT_OF_ORDER",
             "IN_CLOSING_CALL")
    assert [getattr(_session, c) for c in codes] == list(range(9))
    assert all(type(getattr(_session, c)) is int for c in codes)
    assert isinstance(_session.STATUS_NAMES, tuple) and len(_session.STATUS_NAMES) == 9
    assert _session.STATUS_NAMES[_session.APPLIED] == "applied"
    assert _session.STATUS_NAMES[_session.IGNORED] == "ignored: off-hours trade (does not move the index)"
    assert _session.STATUS_NAMES[_session.OFF_GRID] == "price off the KRX tick grid"


def _ref_status(t, last, i, p, n, pmax, rules, thresholds, ticks):
    """The rules in plain Python, in the kernel's order."""
    if t < last:
        return _session.OUT_OF_ORDER
    if t < OPEN or t > LATE:
        return _session.IGNORED
    if not 0 <= i < n:
        return _session.BAD_ID
    if p <= 0 or p > pmax:
        return _session.BAD_PRICE
    if rules["halted"][i]:
        return _session.HALTED
    if CALL <= t < CLOSE:
        return _session.IN_CLOSING_CALL
    band = sum(1 for th in thresholds if p >= th)
    if p % ticks[band]:
        return _session.OFF_GRID
    if not rules["lower"][i] <= p <= rules["upper"][i]:
        return _session.OUTSIDE_LIMITS
    return _session.APPLIED


def _day(seed, n, m, thresholds, ticks, grid_prices=1 << 12, id_dtype=np.int64):
    """A day of trades with every kind of bad one, and its rules prepared as a trading day does."""
    rng = np.random.default_rng(seed)
    thresholds = np.array(thresholds, dtype=np.int64)
    ticks = np.array(ticks, dtype=np.int64)

    def on_grid(p):
        return p % ticks[np.searchsorted(thresholds, p, side="right")] == 0

    base = np.array([x - x % ticks[np.searchsorted(thresholds, x, side="right")]
                     for x in rng.integers(50, 9_000, n)], dtype=np.int64)
    shares = rng.integers(0, 10**6, n, dtype=np.int64)
    pmax = 9 * 10**18 // max(int(shares.sum()), 1)
    halted = (rng.random(n) < 0.1).astype(np.uint8)
    lower = np.where(halted != 0, I64_MAX, np.maximum(base * 7 // 10, 1))
    upper = np.minimum(base * 13 // 10, pmax)
    on = np.zeros(grid_prices, dtype=bool)
    on[1:] = [on_grid(p) for p in range(1, grid_prices)]
    grid = np.packbits(on, bitorder="little")
    hi = np.minimum(upper, 8 * grid.shape[0] - 1)
    empty = hi < lower
    fast = np.stack([np.where(empty, I64_MAX, lower), np.where(empty, 0, hi - np.where(empty, 0, lower))], axis=1)
    times = np.sort(rng.integers(OPEN - 100, LATE + 100, m))
    swap = rng.random(m) < 0.05
    times[swap] -= rng.integers(1, 1000, int(swap.sum()))
    ids = rng.integers(0, n, m)
    ids[rng.random(m) < 0.03] = n
    prices = np.array([max(1, int(base[i % n] * f)) for i, f in zip(ids, rng.uniform(0.6, 1.4, m))], dtype=np.int64)
    prices = np.array([p - p % ticks[np.searchsorted(thresholds, p, side="right")] or p for p in prices])
    prices[rng.random(m) < 0.1] += 1
    prices[rng.random(m) < 0.02] = rng.choice([0, -5, pmax + 1, I64_MAX])
    rules = dict(lower=lower.astype(np.int64), upper=upper.astype(np.int64), halted=halted, thresholds=thresholds,
                 ticks=ticks, grid=grid, fast=fast.astype(np.int64))
    return dict(base=base, shares=shares, pmax=pmax, rules=rules, times=times.astype(np.int64),
                ids=ids.astype(id_dtype), prices=prices.astype(np.int64))


def _run_validated(d, stop, pmax=None):
    m = d["times"].shape[0]
    prices, levels = d["base"].copy(), np.zeros(m)
    status, counts = np.full(m, 255, dtype=np.uint8), np.zeros(9, dtype=np.int64)
    cap = int(d["base"] @ d["shares"])
    bad, cap, last = _session.run_validated(prices, d["shares"], *(d["rules"][k] for k in RULES), OPEN, CALL, CLOSE,
                                            LATE, d["times"], d["ids"], d["prices"], d["pmax"] if pmax is None else pmax,
                                            cap, -1, 1.0,
                                            levels, status, counts, stop)
    return bad, cap, last, prices, levels, status, counts


def _classify(d, stop):
    m = d["times"].shape[0]
    status, counts = np.full(m, 255, dtype=np.uint8), np.zeros(9, dtype=np.int64)
    bad, last = _session.classify(d["times"], d["ids"], d["prices"], *(d["rules"][k] for k in RULES), OPEN, CALL,
                                  CLOSE, LATE, d["pmax"], d["base"].shape[0], -1, status, counts, stop)
    return bad, last, status, counts


TABLES = {
    "krx-2023": ([2000, 5000, 20000, 50000, 200000, 500000], [1, 5, 10, 50, 100, 500, 1000]),
    "not-nested": ([100, 1000], [1, 7, 30]),  # 7 does not divide 30: only the band's own tick counts
    "one-band": ([], [5]),
    "many-bands": (list(range(200, 4001, 200)), [1 + b % 4 for b in range(21)]),
}


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("id_dtype", [np.int64, np.int32])
def test_rules_kernel_follows_the_tick_table_it_is_given(table, id_dtype):
    thresholds, ticks = TABLES[table]
    d = _day(len(table) + len(thresholds), 30, 3000, thresholds, ticks, id_dtype=id_dtype)
    bad, cap, last, prices, levels, status, counts = _run_validated(d, False)
    assert bad == -1
    n, run_last, want = d["base"].shape[0], -1, []
    for t, i, p in zip(d["times"].tolist(), d["ids"].tolist(), d["prices"].tolist()):
        want.append(_ref_status(t, run_last, i, p, n, d["pmax"], d["rules"], thresholds, ticks))
        run_last = max(run_last, t)
    assert status.tolist() == want
    assert counts.tolist() == np.bincount(want, minlength=9).tolist()
    assert {_session.OFF_GRID, _session.APPLIED} <= set(want)
    assert last == run_last
    final = d["base"].copy()
    ok = status == _session.APPLIED
    final[d["ids"][ok]] = d["prices"][ok]  # the last applied trade of each stock wins
    assert np.array_equal(prices, final) and cap == int(final @ d["shares"])


@pytest.mark.parametrize("stop", [False, True])
@pytest.mark.parametrize("id_dtype", [np.int64, np.int32])
def test_classify_is_run_validated_without_applying(stop, id_dtype):
    for seed in range(5):
        d = _day(seed, 25, 2000, *TABLES["krx-2023"], id_dtype=id_dtype)
        bad, _, last, _, _, status, counts = _run_validated(d, stop)
        cbad, clast, cstatus, ccounts = _classify(d, stop)
        assert (cbad, clast) == (bad, last)
        upto = len(status) if bad == -1 else bad + 1
        assert np.array_equal(cstatus[:upto], status[:upto]) and np.array_equal(ccounts, counts)
        assert (bad != -1) == (stop and bool(set(status[:upto].tolist()) - {_session.APPLIED, _session.IGNORED}))


def test_feed_engine_runs_on_the_cores_scratch_and_swaps_on_success():
    d = _day(3, 25, 2000, *TABLES["krx-2023"])
    for stop in (False, True):
        core = _engine.EngineCore()
        core._core_set_state(d["base"], d["shares"], 1.0, {})
        # an engine has no price ceiling (its cap's overflow is guarded exactly)
        rbad, rcap, rlast, rprices, rlevels, rstatus, rcounts = _run_validated(d, stop, pmax=I64_MAX)
        bad, levels, status, counts, last = _session.feed_engine(core, d["times"], d["ids"], d["prices"],
                                                                 *(d["rules"][k] for k in RULES), OPEN, CALL, CLOSE,
                                                                 LATE, 17, stop)
        assert bad == rbad and levels.dtype == np.float64 and status.dtype == np.uint8 and counts.dtype == np.int64
        upto = len(status) if bad == -1 else bad + 1
        assert np.array_equal(status[:upto], rstatus[:upto]) and np.array_equal(counts, rcounts)
        if bad == -1:
            assert np.array_equal(levels, rlevels) and last == rlast
            assert np.array_equal(core.prices, rprices) and core.cap == rcap == int(rprices @ d["shares"])
        else:  # stopped: nothing applied, the last time handed back as given
            assert stop and last == 17
            assert np.array_equal(core.prices, d["base"]) and core.cap == int(d["base"] @ d["shares"])


def test_feed_engine_refuses_an_engine_without_state_and_rules_of_another_length():
    d = _day(4, 5, 10, *TABLES["krx-2023"])
    args = (d["times"], d["ids"], d["prices"], *(d["rules"][k] for k in RULES), OPEN, CALL, CLOSE, LATE, -1, False)
    with pytest.raises(TypeError):
        _session.feed_engine(None, *args)
    with pytest.raises(RuntimeError, match="no state"):
        _session.feed_engine(_engine.EngineCore(), *args)
    core = _engine.EngineCore()
    core._core_set_state(np.ones(6, dtype=np.int64), np.ones(6, dtype=np.int64), 1.0, {})
    with pytest.raises(ValueError, match="`lower` must have the length of the engine"):
        _session.feed_engine(core, *args)


def test_rules_kernel_refuses_a_bad_tick_table():
    d = _day(5, 5, 10, *TABLES["krx-2023"])
    for thresholds, ticks, match in (([2000, 5000], [1, 5, 10, 50], "`ticks` must have the length"),
                                     ([2000, 5000], [1, 0, 10], r"`ticks\[1\]` must be > 0"),
                                     ([5000, 2000], [1, 5, 10], "`thresholds` must be ascending")):
        rules = dict(d["rules"], thresholds=np.array(thresholds, dtype=np.int64), ticks=np.array(ticks, dtype=np.int64))
        status, counts = np.zeros(10, dtype=np.uint8), np.zeros(9, dtype=np.int64)
        with pytest.raises(ValueError, match=match):
            _session.classify(d["times"], d["ids"], d["prices"], *(rules[k] for k in RULES), OPEN, CALL, CLOSE, LATE,
                              d["pmax"], 5, -1, status, counts, False)
        assert not status.any() and not counts.any()


def test_fast_path_stays_inside_the_grid_bitmap():
    # An empty fast row (INT64_MAX, 0) admits p = INT64_MAX to the unsigned range compare; the
    # bitmap lookup must not follow it (it read 1 EiB past the bitmap), nor any price above the
    # bitmap that a too-wide row lets through: those take the exact path.
    n = 2
    rules = dict(lower=np.array([1, 1], dtype=np.int64), upper=np.array([I64_MAX, 10**6], dtype=np.int64),
                 halted=np.array([1, 0], dtype=np.uint8), thresholds=np.array([], dtype=np.int64),
                 ticks=np.array([1], dtype=np.int64), grid=np.full(2, 0xFF, dtype=np.uint8),
                 fast=np.array([[I64_MAX, 0], [1, 10**6]], dtype=np.int64))
    times = np.full(3, OPEN + 5, dtype=np.int64)
    ids = np.array([0, 1, 1])
    prices = np.array([I64_MAX, 20, 10**6], dtype=np.int64)  # bitmap holds prices < 16
    status, counts = np.zeros(3, dtype=np.uint8), np.zeros(9, dtype=np.int64)
    bad, _ = _session.classify(times, ids, prices, *(rules[k] for k in RULES), OPEN, CALL, CLOSE, LATE, I64_MAX, n, -1,
                               status, counts, False)
    assert bad == -1
    assert status.tolist() == [_session.HALTED, _session.APPLIED, _session.APPLIED]
    assert counts[_session.APPLIED] == 2 and counts[_session.HALTED] == 1
