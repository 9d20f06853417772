"""Codes vs ids, and the books' price band (issue 12; new-user trial finding 4).

``engine.update(660, 1_007_000)``, meant for SK hynix 000660, moved stock id 660 (KTcs, base
2,625 won) to 1,007,000 won and KOSPI +53.7 points in silence. An integer is never taken for a
code, nor silently for an id: codes are strs, ids go through ``update_id`` / ``id=``. And a
trade outside ``± price_band`` of its stock's reference price (KRX's ±30% by default) is
refused by the unvalidated paths and counted as outside the limits by a TradingDay."""

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import persist
from kospi_fast.events import Split
from kospi_fast.session import STATUS, TradingDay

OUTSIDE = STATUS[5]  # "price outside the daily price limits"


@pytest.fixture
def engine(sample):
    return kf.IndexEngine(sample, level=5781.2)


def test_the_reported_mistake_is_refused_and_changes_nothing(engine, sample):
    before = (engine.level, engine.prices.tobytes())
    with pytest.raises(TypeError, match=r"got the integer 660: an integer is ambiguous.*'000660'"):
        engine.update(660, 1_007_000)
    # taken explicitly as an id, the price is far outside KTcs's band: refused too
    assert sample.codes[660] != "000660" and sample.base_prices[660] < 10_000
    with pytest.raises(ValueError, match=r"`price` = 1,007,000 for stock '\d{6}' \(id 660\) is outside its price "
                                         r"band \[\d[\d,]*, \d[\d,]*\] \(±0.3 of its reference price"):
        engine.update_id(660, 1_007_000)
    assert (engine.level, engine.prices.tobytes()) == before
    hynix = sample.index_of("000660")
    engine.update("000660", int(sample.base_prices[hynix]) + 1000)  # what was meant
    assert engine.prices[hynix] == sample.base_prices[hynix] + 1000


def test_band_is_krx_daily_limits_of_the_reference_prices(engine, sample):
    lo, hi = engine.band_limits()
    want_lo, want_hi = kf.krx.price_limits(sample.base_prices, rate=0.30)
    np.testing.assert_array_equal(lo, want_lo)
    np.testing.assert_array_equal(hi, want_hi)  # no price ceiling (issue 18: the guard is exact)
    i = 0
    assert engine.update_id(i, int(hi[i])) == engine.recompute()  # the limits themselves are inside
    assert engine.update_id(i, int(lo[i])) == engine.recompute()
    for p in (int(lo[i]) - 1, int(hi[i]) + 1):
        with pytest.raises(ValueError, match="outside its price band"):
            engine.update_id(i, p)


def test_update_many_all_or_nothing_names_the_first_bad_trade(engine):
    lo, hi = engine.band_limits()
    before = (engine.level, engine.prices.tobytes())
    ids = np.array([0, 1, 2, 1])
    px = np.array([lo[0], hi[1], hi[2] + 1, 0])  # the 4th trade is bad too, but later
    with pytest.raises(ValueError, match=r"`prices\[2\]` = [\d,]+ for stock .* \(id 2\) is outside its price band"):
        engine.update_many(ids, px)
    assert (engine.level, engine.prices.tobytes()) == before
    px[2] = hi[2]
    with pytest.raises(ValueError, match=r"`prices\[3\]` must be > 0"):  # an earlier kind of error wins its turn
        engine.update_many(ids, px)
    with pytest.raises(ValueError, match=r"`ids\[0\]` is out of range"):
        engine.update_many([10**6, 0], [100, lo[0] - 1])  # the first bad trade is named, whatever its kind


def test_fat_finger_batch_of_a_family_is_refused(sample):
    fam = kf.IndexFamily.kospi(sample, levels={"KOSPI": 5781.2})
    before = fam.levels
    p0 = int(sample.base_prices[0])
    with pytest.raises(ValueError, match=r"`prices\[1\]` = [\d,]+ for stock '005930' \(id 0\)"):
        fam.update_many([1, 0], [int(sample.base_prices[1]), 10 * p0])
    with pytest.raises(ValueError, match="outside its price band"):
        fam.update("005930", 10 * p0)
    with pytest.raises(ValueError, match="outside its price band"):
        fam.update_id(0, 10 * p0)
    np.testing.assert_array_equal(fam.levels, before)
    free = kf.IndexFamily.kospi(sample, levels={"KOSPI": 5781.2}, price_band=None)
    free.update("005930", 10 * p0)
    assert free.prices[0] == 10 * p0


def test_no_band_for_users_outside_krx(sample):
    e = kf.IndexEngine(sample, level=5781.2, price_band=None)
    assert e.price_band is None
    e.update_id(660, 1_007_000)  # the caller asked for no band
    assert e.level == e.recompute()
    e.set_price_band(0.30)
    with pytest.raises(ValueError, match="outside its price band"):
        e.update_id(660, 1_007_001)


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-0.1, ValueError), ("0.3", TypeError), (float("nan"), ValueError)])
def test_bad_band_rate(sample, bad, exc):
    with pytest.raises(exc, match="`price_band`"):
        kf.IndexEngine(sample, price_band=bad)


def test_roll_and_events_move_the_band(sample):
    e = kf.IndexEngine(sample, level=5781.2)
    p0 = int(sample.base_prices[0])
    up = int(e.band_limits()[1][0])
    e.update_id(0, up)  # limit up
    with pytest.raises(ValueError, match="outside"):
        e.update_id(0, up + up // 10)
    e.roll(date="2026-03-24")  # tomorrow's base is today's close
    assert e.reference_prices[0] == up
    lo, hi = e.band_limits()
    np.testing.assert_array_equal((lo[0], hi[0]), [x for x in kf.krx.price_limits(up, rate=0.30)])
    e.update_id(0, int(hi[0]))
    e.roll([Split("005930", 10, effective="2026-03-25")], date="2026-03-25")
    assert e.band_limits()[1][0] < p0  # a tenth of the price: the band follows the new base
    with pytest.raises(ValueError, match="outside"):
        e.update_id(0, int(hi[0]))


def test_trading_day_counts_out_of_band_trades_as_outside_the_limits(sample):
    e = kf.IndexEngine(sample, level=5781.2, price_band=0.10)  # narrower than KRX's ±30%
    td = TradingDay(e, "2026-03-23", policy="reject", check_calendar=False)
    p0 = int(sample.base_prices[0])
    t = np.array([10, 11, 12], dtype=np.int64) * 3600 * 10**9
    assert p0 == 199_400  # on the 100-won grid; 200,000 and 249,000 are on the 500-won one
    res = td.feed(t, [0, 0, 0], [200_000, 249_000, p0])  # +0.3%, +24.9%, back
    assert res.status.tolist() == [0, 5, 0] and res.reasons()[OUTSIDE] == 1
    off = TradingDay(e, "2026-03-23", policy="reject", check_calendar=False, validate=False)
    res = off.feed(t + 3600 * 10**9, [0, 0, 0], [p0, 10 * p0, p0])  # no KRX rules, but the book's band holds
    assert res.status.tolist() == [0, 5, 0] and e.prices[0] == p0


def test_band_survives_save_load_and_journal(sample, tmp_path):
    for rate in (0.15, None):
        e = kf.IndexEngine(sample, level=5781.2, price_band=rate)
        e.save(tmp_path / "e.kfs")
        back = kf.IndexEngine.load(tmp_path / "e.kfs")
        assert back.price_band == rate
        np.testing.assert_array_equal(back.band_limits()[1], e.band_limits()[1])
    jb = persist.JournaledBook.create(kf.IndexEngine(sample, level=5781.2), tmp_path / "s.kfs", tmp_path / "j")
    with pytest.raises(TypeError, match="integer is ambiguous"):
        jb.update(0, 100)
    p0 = int(sample.base_prices[0])
    jb.update("005930", p0 + 100)
    jb.update_id(1, int(sample.base_prices[1]))
    with pytest.raises(ValueError, match="outside its price band"):
        jb.update_id(0, 10 * p0)
    jb.set_price_band(None)  # checkpointed
    jb.update_id(0, 10 * p0)
    jb.close()
    back, rep = persist.JournaledBook.recover(tmp_path / "s.kfs", tmp_path / "j")
    assert back.price_band is None and back.book.prices[0] == 10 * p0 and rep.records == 1
    back.close()


def test_checkpoint_written_before_bands_loads_without_one(sample):
    import hashlib
    import json
    import struct

    data = persist.dumps(kf.IndexEngine(sample, level=5781.2))
    hlen = struct.unpack_from("<Q", data, 16)[0]
    header = json.loads(data[24:24 + hlen])
    del header["price_band"]
    hdr = json.dumps(header, separators=(",", ":")).encode("ascii")
    hdr += b" " * (-len(hdr) % 8)
    body = data[:16] + struct.pack("<Q", len(hdr)) + hdr + data[24 + hlen:len(data) - 48]
    old = body + b"KFSTEND\n" + struct.pack("<Q", len(body)) + hashlib.sha256(body).digest()
    assert persist.loads(old).price_band is None


def test_update_many_with_codes_points_to_ids_of(engine):
    with pytest.raises(TypeError, match=r"ids_of"):
        engine.update_many(np.array(["005930"]), [100])
