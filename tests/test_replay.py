"""replay and IndexEngine against the plain-Python reference: exact equality on int64."""

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import reference

from conftest import random_ticks, random_universe


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n", [1, 7, 120])
def test_replay_equals_reference(seed, n):
    rng = np.random.default_rng(seed)
    u = random_universe(rng, n)
    ids, prices = random_ticks(rng, u, 400)
    divisor = float(rng.uniform(1e6, 1e12))
    got = kf.replay(u.shares, u.base_prices, divisor, ids, prices)
    want = reference.replay(u.shares.tolist(), u.base_prices.tolist(), divisor, ids.tolist(), prices.tolist())
    assert got.dtype == np.float64 and got.shape == (400,)
    assert got.tolist() == want  # bit for bit


def test_replay_hand_example():
    # caps: 10*100 + 20*50 = 2000 -> trade 0 at 110: 2100 -> trade 1 at 40: 1900
    got = kf.replay(np.array([10, 20]), np.array([100, 50]), 20.0, np.array([0, 1]), np.array([110, 40]))
    assert got.tolist() == [105.0, 95.0]


@pytest.mark.parametrize("id_dtype", [np.int32, np.int64, np.intp, np.uint16, np.int8])
def test_replay_id_dtypes(id_dtype):
    rng = np.random.default_rng(1)
    u = random_universe(rng, 50)
    ids, prices = random_ticks(rng, u, 300)
    want = kf.replay(u.shares, u.base_prices, 7.0, ids, prices)
    got = kf.replay(u.shares, u.base_prices, 7.0, ids.astype(id_dtype), prices)
    np.testing.assert_array_equal(got, want)


def test_replay_accepts_integral_floats_and_lists():
    got = kf.replay([10, 20], [100.0, 50.0], 20, [0, 1], [110.0, 40.0])
    assert got.tolist() == [105.0, 95.0]


def test_replay_does_not_mutate_inputs(rng):
    u = random_universe(rng, 30)
    ids, prices = random_ticks(rng, u, 100)
    sh, bp, i2, p2 = u.shares.copy(), u.base_prices.copy(), ids.copy(), prices.copy()
    kf.replay(sh, bp, 3.0, i2, p2)
    np.testing.assert_array_equal(sh, u.shares)
    np.testing.assert_array_equal(bp, u.base_prices)
    np.testing.assert_array_equal(i2, ids)
    np.testing.assert_array_equal(p2, prices)


def test_replay_empty_stream():
    out = kf.replay([1], [1], 1.0, np.array([], dtype=np.intp), np.array([], dtype=np.int64))
    assert out.shape == (0,) and out.dtype == np.float64


def test_replay_non_contiguous_inputs(rng):
    u = random_universe(rng, 40)
    ids, prices = random_ticks(rng, u, 200)
    want = kf.replay(u.shares, u.base_prices, 3.0, ids[::2].copy(), prices[::2].copy())
    got = kf.replay(u.shares, u.base_prices, 3.0, ids[::2], prices[::2])
    np.testing.assert_array_equal(got, want)


def test_engine_matches_reference_engine_on_sample(sample):
    day = kf.simulate_day(sample, n_ticks=20_000, seed=7)
    e = kf.IndexEngine(sample, level=5781.20)
    r = reference.ReferenceEngine(sample.codes, sample.shares.tolist(), sample.base_prices.tolist(), level=5781.20)
    assert e.divisor == r.divisor
    for k in range(0, 2000):
        got = e.update_id(int(day.ids[k]), int(day.prices[k]))
        want = r.update(sample.codes[day.ids[k]], int(day.prices[k]))
        assert got == want
    levels = e.update_many(day.ids[2000:], day.prices[2000:])
    want = reference.replay(sample.shares.tolist(), list(r.prices.values()), r.divisor,
                            day.ids[2000:2300].tolist(), day.prices[2000:2300].tolist())
    assert levels[:300].tolist() == want
    assert e.level == e.recompute() == levels[-1]


def test_engine_update_by_code_and_numpy_ints(sample):
    e = kf.IndexEngine(sample, level=5781.20)
    i = sample.index_of("005930")
    a = e.update("005930", 200_000)
    b = e.update_id(np.int64(i), np.int64(200_000))
    c = e.update_id(i, 200_000.0)
    d = e.update(np.str_("005930"), 200_000)
    assert a == b == c == d == e.recompute()
    assert e.prices[i] == 200_000
    for key in (i, np.int64(i), 5930):  # an integer is never taken for a code, nor silently for an id
        with pytest.raises(TypeError, match="integer is ambiguous"):
            e.update(key, 200_000)
    with pytest.raises(TypeError, match="integer stock id"):
        e.update_id("005930", 200_000)


def test_engine_level_cap_divisor_consistent(sample):
    e = kf.IndexEngine(sample, level=5781.20)
    assert e.level == pytest.approx(5781.20, rel=1e-15)
    assert e.cap == sample.base_cap_won()
    assert e.base_cap == e.divisor * 100.0
    assert e.published_level == 5781.20


def test_engine_base_cap_calibration(sample):
    cap = sample.base_cap_won()
    e = kf.IndexEngine(sample, base_cap=cap / 50.0)  # level = 100 × 50
    assert e.level == pytest.approx(5000.0, rel=1e-15)
    e2 = kf.IndexEngine(sample)  # today is the base date
    assert e2.level == pytest.approx(100.0, rel=1e-15)


def test_published_rounds_half_up():
    assert kf.published(5781.205) in (5781.2, 5781.21)  # binary 5781.205 is just below/above .205
    assert kf.published(0.125) == 0.13  # exactly representable tie -> up
    assert kf.published(2.675) == 2.67  # binary 2.675 is 2.67499999...
    assert kf.published(1234.5650000001) == 1234.57
    assert kf.published(1234.564999) == 1234.56
    assert reference.published(0.125) == 0.13


# ------------------------------------------------------------------ io.replay_* over any index book
def _k200(u: kf.Universe) -> list[str]:
    """200 codes standing in for the KOSPI 200 constituents (an input: KRX publishes no file)."""
    caps = u.base_prices.astype(np.float64) * u.shares
    return [u.codes[i] for i in np.argsort(-caps, kind="stable")[:200]]


def _family(u: kf.Universe) -> kf.IndexFamily:
    return kf.IndexFamily.kospi(u, kospi200=_k200(u), levels={"KOSPI": 5781.20, "KOSPI 200": 812.5})


@pytest.mark.parametrize("name", [None, "KOSPI", "KOSPI 200", "KOSPI Large", "Pharmaceuticals"])
def test_replay_batches_follows_any_index_of_a_family(sample, name):
    from kospi_fast import io, persist

    day = kf.simulate_day(sample, n_ticks=30_000, seed=21)
    fam = _family(sample)
    want = persist.loads(persist.dumps(fam)).update_many(day.ids, day.prices)  # (n, K)
    k = 0 if name is None else fam.index_of(name)
    start = fam.levels[k]
    res = io.replay_batches(io.batches_from_arrays(day.times, day.ids, day.prices, batch_size=4_096), fam,
                            index=name, grid="tick", keep_ticks=True)
    assert res.index == fam.names[k] and res.exact and res.n_ticks == len(day)
    np.testing.assert_array_equal(res.grid_levels.view(np.int64), want[:, k].copy().view(np.int64))  # bit for bit
    assert res.close == fam.levels[k] and res.previous_close == fam.previous_levels[k]
    assert res.start_level == start and res.high == want[:, k].max() and res.low == want[:, k].min()
    ids, _ = fam.index_shares(fam.names[k])
    att = fam.attribution(fam.names[k])
    np.testing.assert_array_equal(res.points[ids], att["points"])  # attribution from to_state()
    assert not res.member[np.setdiff1d(np.arange(len(sample)), ids)].any()


def test_replay_any_book_engine_equals_family_column(sample):
    from kospi_fast import io

    day = kf.simulate_day(sample, n_ticks=20_000, seed=22)
    runs = {}
    for book in (kf.IndexEngine(sample, level=5781.20), _family(sample)):
        runs[type(book).__name__] = io.replay_batches(
            io.batches_from_arrays(day.times, day.ids, day.prices, batch_size=3_000), book, index="KOSPI")
    e, f = runs["IndexEngine"], runs["IndexFamily"]
    np.testing.assert_array_equal(e.grid_levels.view(np.int64), f.grid_levels.view(np.int64))
    assert (e.open, e.high, e.low, e.close, e.previous_close) == (f.open, f.high, f.low, f.close, f.previous_close)
    np.testing.assert_array_equal(e.points, f.points)


def test_replay_batches_names_the_books_indices(sample):
    from kospi_fast import io

    with pytest.raises(KeyError, match=r"unknown index 'KOSPI Large'; have \['KOSPI'\]"):
        io.replay_batches([], kf.IndexEngine(sample), index="KOSPI Large")
    with pytest.raises(KeyError, match="unknown index 'Nope'"):
        io.replay_batches([], _family(sample), index="Nope")
    with pytest.raises(TypeError, match="must be an index book .* got Universe"):
        io.replay_batches([], sample)
    with pytest.raises(TypeError, match="`index` must be an index name"):
        io.replay_batches([], kf.IndexEngine(sample), index=0)


@pytest.mark.parametrize("kind", ["engine", "family"])
def test_replay_file_through_a_journaled_book_journals_what_it_applied(sample, tmp_path, kind):
    pytest.importorskip("pyarrow")
    from kospi_fast import io, persist

    day = kf.simulate_day(sample, n_ticks=25_000, seed=23)
    path = io.write_ticks(day, tmp_path / "day.parquet")
    book = kf.IndexEngine(sample, level=5781.20) if kind == "engine" else _family(sample)
    plain = persist.loads(persist.dumps(book))
    name = "KOSPI" if kind == "engine" else "KOSPI 200"
    state, journal = tmp_path / "book.kfs", tmp_path / "book.journal"
    with kf.JournaledBook.create(book, state, journal, fsync=False) as jb:
        res = io.replay_file(path, jb, index=name, batch_size=4_000)
        assert jb.seq == 7  # one journal record per batch: ceil(25,000 / 4,000)
        levels = jb.levels
    want = io.replay_file(path, plain, index=name, batch_size=4_000)
    np.testing.assert_array_equal(res.grid_levels.view(np.int64), want.grid_levels.view(np.int64))
    assert res.exact and res.close == want.close
    recovered, report = persist.recover(state, journal)
    assert type(recovered) is type(book)
    assert (report.records, report.ticks) == (7, len(day))
    np.testing.assert_array_equal(recovered.levels.view(np.int64), levels.view(np.int64))
    np.testing.assert_array_equal(recovered.prices, plain.prices)
    assert recovered.levels[recovered.index_of(name)] == res.close
