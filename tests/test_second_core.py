"""``threads=2`` (issue 16): ``replay`` split on two threads and ``TradingDay.feed`` checking the
rules on the second core are bit-identical to one thread — levels, final state, errors (the
same first bad trade, the same message), ``out=``, ``return_state`` and the day's prints.

Each split kernel has three ways to run, all driven here: the worker thread takes its part
while this thread does the other (``run_beside`` as shipped, timing-dependent), the worker
first and this thread after (``worker_first``: the worker claimed its part), and this thread
first (``worker_late``: this thread claims the worker's part too, as when the second core is
busy). The size thresholds are lowered so that small random days take the split; fixed
examples drive the thresholds themselves.
"""

from __future__ import annotations

import multiprocessing
import re
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kospi_fast as kf
from kospi_fast import _parallel, _session, _ticks
from kospi_fast import session as ses

NS = 1_000_000_000
INT64_MAX = 2**63 - 1
REAL_RUN_BESIDE = _parallel.run_beside


def worker_first(other, here):
    other()
    here()


def worker_late(other, here):
    here()
    other()


MODES = {"parallel": REAL_RUN_BESIDE, "worker_first": worker_first, "worker_late": worker_late}


@pytest.fixture
def split_always(monkeypatch):
    """Every batch of 2 trades or more takes the split (the thresholds lowered)."""
    monkeypatch.setattr(_ticks, "SPLIT_MIN_TICKS", 2)
    monkeypatch.setattr(_ticks, "SPLIT_MIN_TICKS_PER_STOCK", 0)
    monkeypatch.setattr(_session, "FEED_SPLIT_MIN_TICKS", 2)


class Spy:
    """``run_beside`` counting its calls, in one of the three modes."""

    def __init__(self, mode="parallel"):
        self.calls = 0
        self.run = MODES[mode]

    def __call__(self, other, here):
        self.calls += 1
        return self.run(other, here)


def outcome(fn):
    """(result, None) or (None, (type, message, overflow_position))."""
    try:
        return fn(), None
    except (ValueError, TypeError) as exc:
        return None, (type(exc), str(exc), getattr(exc, "overflow_position", None))


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit for bit (a bool: pytest's diff of two long byte strings takes minutes)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def bad_position(err) -> int:
    """The position of the trade an error names (``ids[k]``, ``new_prices[k]``)."""
    return int(re.search(r"\[(\d+)\]", err[1]).group(1))


# --------------------------------------------------------------------------- replay


@st.composite
def replay_days(draw):
    n = draw(st.integers(1, 12))
    huge = draw(st.booleans())  # caps near INT64_MAX: the overflow guard fires
    top = 2**62 // max(n, 1) if huge else 10**6
    shares = np.array(draw(st.lists(st.integers(0, 3 if huge else 10**6), min_size=n, max_size=n)), dtype=np.int64)
    prices = np.array(draw(st.lists(st.integers(1, 10**4), min_size=n, max_size=n)), dtype=np.int64)
    m = draw(st.integers(0, 120))
    ids = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    px = np.array(draw(st.lists(st.integers(1, top), min_size=m, max_size=m)), dtype=np.int64)
    for _ in range(draw(st.integers(0, 2))):  # a few bad trades anywhere
        if m:
            k = draw(st.integers(0, m - 1))
            if draw(st.booleans()):
                ids[k] = draw(st.sampled_from([-1, n, 2**40]))
            else:
                px[k] = draw(st.sampled_from([0, -5, INT64_MAX]))
    if draw(st.booleans()):
        ids = ids.astype(np.int32)
    rebalances = None
    if m and draw(st.booleans()):
        at = sorted(draw(st.lists(st.integers(0, m), min_size=1, max_size=3)))
        rebalances = [(a, [draw(st.integers(0, n - 1))], [draw(st.integers(0, 5))]) for a in at]
    return shares, prices, ids, px, rebalances


@pytest.mark.parametrize("mode", list(MODES))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=replay_days(), at=st.floats(0.05, 0.95))
def test_replay_two_threads_equals_one(split_always, monkeypatch, mode, day, at):
    shares, prices, ids, px, rebalances = day
    monkeypatch.setattr(_ticks, "SPLIT_AT", at)
    spy = Spy(mode)
    monkeypatch.setattr(_parallel, "run_beside", spy)
    d = 1234.5
    m = px.shape[0]
    out1, out2 = np.full(m, -1.0), np.full(m, -2.0)
    r1, e1 = outcome(lambda: kf.replay(shares, prices, d, ids, px, rebalances=rebalances, return_state=True,
                                       out=out1))
    r2, e2 = outcome(lambda: kf.replay(shares, prices, d, ids, px, rebalances=rebalances, return_state=True,
                                       out=out2, threads=2))
    assert e1 == e2
    if rebalances is None:  # the split ran (thresholds lowered) for any batch of 2 trades or more
        assert spy.calls == (1 if m >= 2 else 0)
    if e1 is None:
        assert r2.levels is out2
        assert out1.tobytes() == out2.tobytes()
        assert r1.prices.tobytes() == r2.prices.tobytes() and r1.shares.tobytes() == r2.shares.tobytes()
        assert (r1.cap, r1.divisor) == (r2.cap, r2.divisor) and type(r2.cap) is int
        plain = kf.replay(shares, prices, d, ids, px, rebalances=rebalances, threads=2)
        assert plain.tobytes() == out1.tobytes()
    elif "rebalances" not in e1[1]:  # the levels before the bad trade were written by both
        k = e1[2] if e1[2] is not None else bad_position(e1)
        assert out1[:k].tobytes() == out2[:k].tobytes()


def _book(n=5):
    shares = np.arange(1, n + 1, dtype=np.int64) * 1000
    prices = np.full(n, 10_000, dtype=np.int64)
    return shares, prices


class JobSpy(Spy):
    """``Spy`` keeping the split's job (the worker's bound method's object)."""

    def __call__(self, other, here):
        self.job = other.__self__
        return super().__call__(other, here)


def test_replay_worked_example_split_on_two_threads(split_always, monkeypatch):
    """Pinned (each level worked by hand). A 10-trade batch: thread 1 looks back from the middle
    (trade 5) and sees both stocks — stock 0 at 125 (trade 4), stock 1 at 55 (trade 3) — so it
    starts there from cap 125×10 + 55×20 = 2350 (the level after trade 4, 94). Three stocks,
    the third trading only at trade 7: the probe cannot see it, so the cut is SPLIT_AT (trade
    6) and thread 1 stores every price of [0, 6) (stock 2 keeps its 40)."""
    monkeypatch.setattr(_ticks, "SPLIT_AT", 0.6)
    ids = np.array([0, 1, 0, 1, 0, 0, 1, 1, 0, 1])
    px = np.array([110, 40, 120, 55, 125, 130, 60, 65, 100, 70])
    for mode in MODES:
        spy = JobSpy(mode)
        monkeypatch.setattr(_parallel, "run_beside", spy)
        st_ = kf.replay(np.array([10, 20]), np.array([100, 50]), 25.0, ids, px, return_state=True, threads=2)
        assert st_.levels.tolist() == [84.0, 76.0, 80.0, 92.0, 94.0, 96.0, 100.0, 104.0, 92.0, 96.0]
        assert st_.prices.tolist() == [100, 70] and st_.cap == 2400
        assert spy.job.tail_x == 5
        if mode != "parallel":  # in parallel, whichever thread gets there first (a tiny batch: thread 0)
            assert spy.job.claim.owner == (1 if mode == "worker_late" else 2)
        ids3 = ids.copy()
        ids3[7] = 2
        st3 = kf.replay(np.array([10, 20, 5]), np.array([100, 50, 40]), 25.0, ids3, px, return_state=True,
                        threads=2)
        assert spy.job.tail_x == 6  # (a late worker chose it too, then found the batch done)
        assert st3.levels.tolist() == [92.0, 84.0, 88.0, 100.0, 102.0, 104.0, 108.0, 113.0, 101.0, 109.0]
        assert st3.prices.tolist() == [100, 70, 65] and st3.cap == 2725


def test_overflow_in_the_second_part_names_the_same_trade(split_always, monkeypatch):
    """Trade 8 of 10 (thread 1's part) would take the cap beyond int64: the same error, naming
    trade 8 and the cap it would have made, on one thread and on two."""
    monkeypatch.setattr(_ticks, "SPLIT_AT", 0.5)
    shares, prices = np.array([4, 1], dtype=np.int64), np.array([100, 100], dtype=np.int64)
    ids = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
    px = np.array([101, 102, 103, 104, 105, 106, 107, 108, 2**61, 110], dtype=np.int64)
    errs = []
    for mode in MODES:
        monkeypatch.setattr(_parallel, "run_beside", MODES[mode])
        for threads in (1, 2):
            with pytest.raises(ValueError, match=r"new_prices\[8\]` = 2305843009213693952 would overflow") as ei:
                kf.replay(shares, prices, 1.0, ids, px, threads=threads)
            assert ei.value.overflow_position == 8
            errs.append(str(ei.value))
    assert len(set(errs)) == 1 and f"Σ price × shares after it would be {2**63 + 108}," in errs[0]


def test_overflow_in_the_first_part_wins_over_a_later_error(split_always, monkeypatch):
    """Trade 2 overflows (thread 0's part) and trade 8 has an id out of range (thread 1's part):
    thread 0's error, the first, is the one raised. Thread 1's scanned state is valid here
    (stock 0 trades again at 105 before the cut), so it does replay and refuse trade 8."""
    monkeypatch.setattr(_ticks, "SPLIT_AT", 0.5)
    shares, prices = np.array([4, 1], dtype=np.int64), np.array([100, 100], dtype=np.int64)
    ids = np.array([0, 1, 0, 1, 0, 1, 0, 1, 7, 1])
    px = np.array([101, 102, 2**61, 104, 105, 106, 107, 108, 109, 110], dtype=np.int64)
    for mode in MODES:
        monkeypatch.setattr(_parallel, "run_beside", MODES[mode])
        with pytest.raises(ValueError, match=r"new_prices\[2\]` = 2305843009213693952 would overflow") as ei:
            kf.replay(shares, prices, 1.0, ids, px, threads=2)
        assert ei.value.overflow_position == 2
        # the overflowing price is the last of stock 0 before the cut: thread 1's scanned state
        # does not fit in int64, so it replays nothing; thread 0's error is raised
        px4 = px.copy()
        px4[2], px4[4] = 103, 2**61
        with pytest.raises(ValueError, match=r"new_prices\[4\]` = 2305843009213693952 would overflow") as ei:
            kf.replay(shares, prices, 1.0, ids, px4, threads=2)
        assert ei.value.overflow_position == 4
    # without the overflow, trade 8's error is thread 1's
    px[2] = 103
    for mode in MODES:
        monkeypatch.setattr(_parallel, "run_beside", MODES[mode])
        with pytest.raises(ValueError, match=r"`ids\[8\]` is out of range: ids must be in \[0, 2\), got 7"):
            kf.replay(shares, prices, 1.0, ids, px, threads=2)


def test_the_split_runs_above_its_thresholds_only(monkeypatch):
    """Below SPLIT_MIN_TICKS trades, or fewer than SPLIT_MIN_TICKS_PER_STOCK trades per stock,
    a batch runs on one thread (the worker is not called); at the threshold it is split. The
    float path and threads=1 never split."""
    spy = Spy()
    monkeypatch.setattr(_parallel, "run_beside", spy)
    n = _ticks.SPLIT_MIN_TICKS
    rng = np.random.default_rng(3)
    shares, prices = _book(50)
    ids = rng.integers(0, 50, n)
    px = rng.integers(9_000, 11_000, n)
    want = kf.replay(shares, prices, 7.0, ids, px)
    assert spy.calls == 0
    assert same_bits(kf.replay(shares, prices, 7.0, ids[:-1], px[:-1], threads=2), want[:-1])
    assert spy.calls == 0  # one trade short of the threshold
    assert same_bits(kf.replay(shares, prices, 7.0, ids, px, threads=2), want)
    assert spy.calls == 1
    many = n // _ticks.SPLIT_MIN_TICKS_PER_STOCK + 1  # too many stocks for the batch
    sh2, pr2 = _book(many)
    kf.replay(sh2, pr2, 7.0, ids, px, threads=2)
    assert spy.calls == 1
    f1 = kf.replay(shares, prices, 7.0, ids, px, exact=False)
    assert same_bits(kf.replay(shares, prices, 7.0, ids, px, exact=False, threads=2), f1)
    assert spy.calls == 1  # the float path stays on one thread
    # rebalances: each rebalance-free stretch above the threshold is split on its own
    rb = [(n // 3, [0], [5]), (n // 2, [1], [0])]
    ids3, px3 = np.tile(ids, 3), np.tile(px, 3)
    assert same_bits(kf.replay(shares, prices, 7.0, ids3, px3, rebalances=[(n, [0], [5])], threads=2),
                     kf.replay(shares, prices, 7.0, ids3, px3, rebalances=[(n, [0], [5])]))
    assert spy.calls == 3  # [0, n) and [n, 3n)
    kf.replay(shares, prices, 7.0, ids, px, rebalances=rb, threads=2)
    assert spy.calls == 3  # stretches of n/3, n/6 and n/2 trades: each below the threshold


@pytest.mark.parametrize("bad, err", [(0, ValueError), (-1, ValueError), (True, TypeError), ("2", TypeError),
                                      (2.0, TypeError), (None, TypeError)])
def test_threads_must_be_an_int_of_at_least_one(bad, err):
    shares, prices = _book(2)
    with pytest.raises(err, match="`threads`"):
        kf.replay(shares, prices, 1.0, [0], [5], threads=bad)
    td = ses.TradingDay(kf.IndexEngine(kf.Universe(["000010"], ["A"], [10], [1000])), "2026-03-23",
                        check_calendar=False)
    with pytest.raises(err, match="`threads`"):
        td.feed([9 * 3600 * NS], [0], [1000], threads=bad)
    assert td.counts == {}


def test_more_threads_than_two_use_two(split_always, monkeypatch):
    spy = Spy()
    monkeypatch.setattr(_parallel, "run_beside", spy)
    shares, prices = _book(3)
    assert kf.replay(shares, prices, 1.0, [0, 1, 2], [5, 6, 7], threads=np.int64(8)).tolist() == \
        kf.replay(shares, prices, 1.0, [0, 1, 2], [5, 6, 7]).tolist()
    assert spy.calls == 1


def _child_replays_on_two_threads(q):
    _ticks.SPLIT_MIN_TICKS, _ticks.SPLIT_MIN_TICKS_PER_STOCK = 2, 0
    shares, prices = _book(3)
    got = kf.replay(shares, prices, 1.0, [0, 1, 2, 0], [5, 6, 7, 8], threads=2).tolist()
    q.put(got)


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method: Linux only")
def test_a_forked_child_gets_its_own_worker_thread(split_always):
    """The parent's worker thread does not exist in a forked child: the pool is keyed by the
    process id, so the child starts its own (else the child would wait for it forever)."""
    shares, prices = _book(3)
    want = kf.replay(shares, prices, 1.0, [0, 1, 2, 0], [5, 6, 7, 8], threads=2).tolist()  # the parent's worker runs
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_replays_on_two_threads, args=(q,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert q.get(timeout=5) == want


def test_run_beside_joins_the_worker_when_this_side_raises():
    seen = []

    def other():
        seen.append("other")

    def here():
        raise RuntimeError("here failed")

    with pytest.raises(RuntimeError, match="here failed"):
        _parallel.run_beside(other, here)
    assert seen == ["other"]  # joined before the error propagated

    def bad_other():
        raise KeyError("other failed")

    with pytest.raises(KeyError, match="other failed"):
        _parallel.run_beside(bad_other, lambda: None)


# --------------------------------------------------------------------------- TradingDay.feed

CODES = ["000010", "000020", "000030", "000040"]
BASES = [10_000, 1_500, 50_000, 100_000]


def at(h: int, m: int = 0, s: float = 0) -> int:
    return (h * 3600 + m * 60) * NS + int(round(s * NS))


def small_engine(huge: bool = False) -> kf.IndexEngine:
    """Four stocks; ``huge``: stock 0 holds 2**63 // 11,500 shares, so at 10,000 won the cap fits in
    int64 and at 12,000 (on the grid, inside the 7,000-13,000 limits) it does not."""
    shares = [2**63 // 11_500, 2_000, 3_000, 4_000] if huge else [1_000, 2_000, 3_000, 4_000]
    return kf.IndexEngine(kf.Universe(CODES, ["A", "B", "C", "D"], shares, BASES), level=1000.0, price_band=None)


@st.composite
def feed_batches(draw):
    """Batches with every kind of trouble: off-hours runs before and after the window, the
    closing call, trades off the grid, beyond the limits, of a halted stock, out of order,
    ids out of range, and (a huge book) caps beyond int64."""
    m = draw(st.integers(0, 60))
    t = np.sort(np.array(draw(st.lists(st.integers(at(8, 55), at(15, 40)), min_size=m, max_size=m)), dtype=np.int64))
    ids = np.array(draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)), dtype=np.int64)
    base = np.array(BASES)[ids]
    steps = np.array(draw(st.lists(st.integers(-20, 20), min_size=m, max_size=m)), dtype=np.int64)
    p = base + steps * np.where(base >= 50_000, 100, np.where(base >= 5_000, 10, 1))
    for _ in range(draw(st.integers(0, 2))):
        if m:
            k = draw(st.integers(0, m - 1))
            kind = draw(st.sampled_from(["grid", "limit", "order", "id", "price", "big"]))
            if kind == "grid":
                p[k] += 1 if base[k] >= 5_000 else 0
            elif kind == "limit":
                p[k] = base[k] * 2
            elif kind == "order" and k:
                t[k] = t[k - 1] - 1
            elif kind == "id":
                ids[k] = 4
            elif kind == "price":
                p[k] = 0
            elif kind == "big":  # passes the rules; beyond int64 in a huge book
                ids[k], p[k] = 0, 12_000
    return t, ids, p


def _feed(td, t, ids, p, **kw):
    res = td.feed(t, ids, p, **kw)
    return res.levels.tobytes(), res.status.tobytes(), res.counts.tolist(), res.final.tobytes()  # short: <= 60 trades


@pytest.mark.parametrize("mode", list(MODES))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(feed_batches(), min_size=1, max_size=3), huge=st.booleans(),
       policy=st.sampled_from(["raise", "reject"]), halt=st.booleans())
def test_feed_two_threads_equals_one(split_always, monkeypatch, mode, batches, huge, policy, halt):
    """Batch after batch, one day on one thread and its twin on two: the same FeedResult (levels,
    statuses, counts, final levels), the same errors, the same book, counts and prints."""
    spy = Spy(mode)
    monkeypatch.setattr(_parallel, "run_beside", spy)
    days = [ses.TradingDay(small_engine(huge), "2026-03-23", policy=policy, check_calendar=False) for _ in range(2)]
    if halt:
        for td in days:
            td.halt("000040")
    split = 0
    for t, ids, p in batches:
        split += policy == "raise" and t.shape[0] >= 2
        out = np.empty(t.shape[0])
        r1, e1 = outcome(lambda: _feed(days[0], t, ids, p))
        r2, e2 = outcome(lambda: _feed(days[1], t, ids, p, threads=2, out=out))
        assert e1 == e2 and r1 == r2
        if r2 is not None:
            assert r2[0] == out.tobytes()
        assert days[0].book.cap == days[1].book.cap and days[0].book.prices.tolist() == days[1].book.prices.tolist()
        assert days[0].counts == days[1].counts and days[0]._last_time == days[1]._last_time
    (t1, v1), (t2, v2) = days[0]._sampled(), days[1]._sampled()  # the raw levels of the 1 s prints
    assert same_bits(t1, t2) and same_bits(v1, v2)
    assert spy.calls == split  # "raise" batches split (the threshold lowered); "reject" stays on one thread


def test_feed_overflow_found_by_the_optimistic_replay_is_reported_as_on_one_thread(split_always, monkeypatch):
    """A huge book: trade 3 passes the rules but its cap would exceed int64. The optimistic
    replay refuses it, the batch runs again on one thread, and the error is the same."""
    t = np.array([at(9), at(9, 1), at(9, 2), at(9, 3), at(9, 4)], dtype=np.int64)
    ids = np.array([1, 2, 1, 0, 1])
    p = np.array([1_501, 50_100, 1_502, 12_000, 1_503])
    msgs = set()
    for mode in MODES:
        monkeypatch.setattr(_parallel, "run_beside", MODES[mode])
        for threads in (1, 2):
            eng = small_engine(huge=True)
            td = ses.TradingDay(eng, "2026-03-23", check_calendar=False)
            before = eng.cap
            with pytest.raises(ValueError, match=r"trade 3 .* rejected: price <= 0, above the price ceiling, or the "
                                                 r"cap after it would exceed int64; nothing of the batch was applied") as ei:
                td.feed(t, ids, p, threads=threads)
            assert eng.cap == before and td.counts == {}
            msgs.add(str(ei.value))
    assert len(msgs) == 1


def test_feed_the_split_runs_above_its_threshold_only(monkeypatch, sample):
    spy = Spy()
    monkeypatch.setattr(_parallel, "run_beside", spy)
    day = kf.simulate_day(sample, n_ticks=_session.FEED_SPLIT_MIN_TICKS, seed=2, date="2026-03-23")

    def fresh():
        return ses.TradingDay(kf.IndexEngine(sample, level=2500.0), "2026-03-23", check_calendar=False)

    want = fresh().feed(day.times, day.ids, day.prices)
    short = fresh().feed(day.times[:-1], day.ids[:-1], day.prices[:-1], threads=2)
    assert spy.calls == 0 and same_bits(short.levels, want.levels[:-1])
    got = fresh().feed(day.times, day.ids, day.prices, threads=2)
    assert spy.calls == 1
    assert same_bits(got.levels, want.levels) and same_bits(got.status, want.status)
    fresh().feed(day.times, day.ids, day.prices, threads=2, policy="reject")
    assert spy.calls == 1


def test_feed_out_is_checked_and_families_have_none(sample):
    td = ses.TradingDay(small_engine(), "2026-03-23", check_calendar=False)
    t, ids, p = np.array([at(9), at(9, 1)]), np.array([0, 1]), np.array([10_010, 1_501])
    with pytest.raises(TypeError, match="`out` must have dtype float64"):
        td.feed(t, ids, p, out=np.empty(2, dtype=np.float32))
    with pytest.raises(ValueError, match=r"`out` must have shape \(2,\)"):
        td.feed(t, ids, p, out=np.empty(3))
    assert td.counts == {}
    buf = np.empty(2)
    assert td.feed(t, ids, p, out=buf).levels is buf
    fam = kf.IndexFamily(small_engine().universe,
                         [kf.definitions.IndexDefinition("KOSPI", CODES, follows_market=True, level=1000.0)])
    tdf = ses.TradingDay(fam, "2026-03-23", check_calendar=False)
    with pytest.raises(TypeError, match="`out` is for a one-index IndexEngine book: the feed of an IndexFamily"):
        tdf.feed(t, ids, p, out=np.empty(2))
    assert tdf.counts == {} and tdf.feed(t, ids, p, threads=2).levels is None


@pytest.mark.parametrize("kind", ["engine", "family"])
def test_journaled_update_many_takes_out(tmp_path, kind):
    """``out=`` on the journaled book's batch (the one batch entry point that lacked it): the
    book's own ``update_many(out=)``, the buffer returned; a bad buffer is refused before
    anything is applied or journaled."""
    from kospi_fast import persist

    e = small_engine()
    book = e if kind == "engine" else kf.IndexFamily(
        e.universe, [kf.definitions.IndexDefinition("KOSPI", CODES, follows_market=True, level=1000.0)])
    twin = small_engine()
    jb = persist.JournaledBook.create(book, tmp_path / "state", tmp_path / "journal", fsync=False)
    ids, p = np.array([0, 1, 2]), np.array([10_010, 1_501, 50_100])
    with pytest.raises(ValueError, match="`out` must have shape"):
        jb.update_many(ids, p, out=np.empty(2) if kind == "engine" else np.empty((2, 1)))
    assert jb.levels.tolist() == [twin.level]
    buf = np.empty(3) if kind == "engine" else np.empty((3, 1))
    got = jb.update_many(ids, p, out=buf)
    assert got is buf and same_bits(buf.ravel(), twin.update_many(ids, p))
