"""The kernels' Python-callable drivers refuse arrays they cannot use through a raw pointer.

Every low-level driver hands raw pointers to a kernel that trusts them. A float64 array where
int64 is expected, an int32 array where int64 is expected, a 2-d array, a strided view, a
read-only output, a byte-swapped or a non-array argument must each be refused with a TypeError
or ValueError that names the argument, and before anything is written: every array the driver
would write is compared with its copy taken before the call.
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
                grid=np.full(1 << 14, 0xFF, dtype=np.uint8), fast=fast)


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
    order = ("prices", "shares", "lower", "upper", "halted", "thresholds", "grid", "fast")
    tape = ("times", "ids", "new_prices")

    def call(**k):
        return _session.run_validated(*(k[n] for n in order), *WIN.values(), *(k[n] for n in tape), 10**12, 0, -1,
                                      1.0, k["levels"], k["status"], k["counts"], False)

    return a, call, ("prices", "levels", "status", "counts")


def case_update_validated():
    core = _engine_core()
    t = _tape()
    a = dict(times=t["times"], ids=t["ids"], prices=t["new_prices"], **_rules_args())
    order = ("times", "ids", "prices", "lower", "upper", "halted", "thresholds", "grid", "fast")

    def call(**k):
        before = (core.prices, core.cap)
        try:
            return core._update_validated(*(k[n] for n in order), *WIN.values(), -1, False)
        except (TypeError, ValueError):  # a refused call leaves the engine as it was
            assert np.array_equal(core.prices, before[0]) and core.cap == before[1]
            raise

    return a, call, ()


def case_apply_changes():
    a = dict(prices=np.array([100, 2000, 50000], dtype=np.int64), shares=np.array([10, 20, 30], dtype=np.int64),
             ids=np.array([2, 0], dtype=np.intp), new_prices=np.array([5000, 50], dtype=np.int64),
             new_shares=np.array([300, 20], dtype=np.int64))
    return a, lambda **k: _rebase.apply_changes_inplace(k["prices"], k["shares"], k["ids"], k["new_prices"],
                                                        k["new_shares"]), ("prices", "shares")


CASES = {f.__name__[5:]: f for f in (case_apply_ticks, case_run_family, case_caps_from_ell, case_run_validated,
                                     case_update_validated, case_apply_changes)}


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
        if not isinstance(value, np.ndarray) or value.ndim != 1 or arg in ("grid", "thresholds"):
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
