"""Codes are any non-empty strings (tickers, share classes, ISINs) in every stateful entry point;
KRX's 6-character rule applies only where KRX's rules are asked for."""

from __future__ import annotations

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import krx, persist
from kospi_fast.definitions import IndexDefinition
from kospi_fast.events import AdditionalListing, Delisting, NewListing

CODES = ["AAPL", "BRK.B", "US0378331005", "bf.b", "7203.T"]


def _universe():
    return kf.Universe(CODES, ["Apple", "Berkshire B", "Apple ISIN", "Brown-Forman B", "Toyota"],
                       [15_000, 2_000, 1, 300, 13_000], [22_799, 41_250, 22_799, 3_512, 250_000])


def test_universe_engine_and_updates_take_any_code():
    u = _universe()
    assert u.index_of("BRK.B") == 1 and u.ids_of(["7203.T", "AAPL"]).tolist() == [4, 0]
    assert "price units" in repr(u) and "won" not in repr(u)
    e = kf.IndexEngine(u, level=1000.0)
    lv = e.update("BRK.B", 41_300)
    assert lv == e.level == e.recompute()
    assert e.cap == sum(p * s for p, s in zip([22_799, 41_300, 22_799, 3_512, 250_000], [15_000, 2_000, 1, 300, 13_000]))
    with pytest.raises(KeyError, match="'MSFT'"):
        e.update("MSFT", 1)


def test_family_events_and_persistence_take_any_code():
    u = _universe()
    fam = kf.IndexFamily(u, [IndexDefinition("US", ["AAPL", "BRK.B", "bf.b"], level=1000.0),
                             IndexDefinition("ALL", CODES, weighting="equal", base_value=100.0)])
    fam.update("bf.b", 3_520)
    rec = fam.apply_events([AdditionalListing("BRK.B", 100), NewListing("MSFT", 7_400, 41_000),
                            Delisting("7203.T")], date="2026-03-24")
    assert rec and "MSFT" in fam.universe.codes
    assert fam.levels.tobytes() == fam.recompute().tobytes()
    back = persist.loads(persist.dumps(fam))
    assert back.universe.codes == fam.universe.codes and back.levels.tobytes() == fam.levels.tobytes()


@pytest.mark.parametrize("bad", ["", " AAPL", "AAPL\n"])
def test_an_empty_or_padded_code_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match=r"`codes\[1\]` must be a non-empty code with no blank at either end") as info:
        kf.Universe(["AAPL", bad], ["a", "b"], [1, 1], [1, 1])
    assert str(info.value).endswith(repr(bad))


def test_krx_rules_keep_the_krx_code_rule():
    assert krx.check_krx_codes(["005930", "00088K"]) == ["005930", "00088K"]
    with pytest.raises(ValueError, match=r"`codes\[1\]` must be a 6-character KRX code such as '005930', got 'AAPL'"):
        krx.check_krx_codes(["005930", "AAPL"])
    # the KOSPI family is KRX's: its universe must have KRX codes
    with pytest.raises(ValueError, match=r"`universe.codes\[0\]` must be a 6-character KRX code"):
        kf.IndexFamily.kospi(_universe())
    u = kf.sample_universe()
    assert kf.IndexFamily.kospi(u).levels.shape[0] > 1


def test_replay_numbers_do_not_depend_on_codes():
    u = _universe()
    e = kf.IndexEngine(u, level=1000.0)
    ids = np.array([0, 1, 4, 1])
    px = np.array([22_800, 41_000, 251_000, 41_100])
    want = kf.replay(u.shares, u.base_prices, e.divisor, ids, px)
    assert e.update_many(ids, px).tobytes() == want.tobytes()
