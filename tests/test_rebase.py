"""Rebasing: public worked examples and engine-level continuity."""

import json

import numpy as np
import pytest

import kospi_fast as kf

from conftest import shared_path


def test_divisor_constituent_replacement_conformance():
    case = json.loads(shared_path("conformance", "divisor_constituent_replacement.json").read_text())
    i = case["inputs"]
    n, p = i["n_stocks"], i["price_each"]
    codes = [f"{k:06d}" for k in range(n + 1)]
    # 10 stocks worth 10 each plus the incoming one (not yet a member: 0 index shares)
    u = kf.Universe(codes, codes, [1] * n + [0], [p] * n + [i["added_value"]])
    e = kf.IndexEngine(u, base_cap=i["divisor_before"] * 100.0)
    assert e.level == i["index_before"]
    rec = e.apply_changes([0, n], index_shares=[0, 1])
    exp = case["expected"]
    assert rec.cap_after == exp["aggregate_after"]
    assert e.divisor == pytest.approx(exp["divisor_after"], abs=case["tolerance"])
    assert e.level == pytest.approx(exp["index_after"], abs=case["tolerance"])
    assert kf.rebase_divisor(1.0, 100, 110) == 1.1


def test_kospi_base_cap_new_listing_conformance():
    case = json.loads(shared_path("conformance", "kospi_base_cap_new_listing.json").read_text())
    i, exp, tol = case["inputs"], case["expected"], case["tolerance"]
    trn = 10**12
    # a one-stock market worth 100조 and a new listing worth 1조 (price 1 won x shares)
    u = kf.Universe(["000001", "000002"], ["old", "new"],
                    [int(i["current_market_cap_trn"] * trn), int(i["new_listing_cap_trn"] * trn)], [1, 1])
    shares0 = [int(i["current_market_cap_trn"] * trn), 0]
    e = kf.IndexEngine(u, base_cap=i["base_market_cap_trn"] * trn, index_shares=shares0)
    assert e.level == pytest.approx(exp["index_before"], abs=tol)
    unadjusted = (e.cap + int(i["new_listing_cap_trn"] * trn)) / e.divisor
    assert unadjusted == pytest.approx(exp["index_if_unadjusted"], abs=tol)
    e.apply_changes(["000002"], index_shares=[int(i["new_listing_cap_trn"] * trn)])
    assert e.base_cap / trn == pytest.approx(exp["base_cap_after_trn"], abs=tol)
    assert e.level == pytest.approx(exp["index_after_adjustment"], abs=tol)


def test_split_is_cap_neutral_and_leaves_divisor():
    case = json.loads(shared_path("conformance", "krx_split_base_price.json").read_text())
    i, exp = case["inputs"], case["expected"]
    u = kf.Universe(["000001", "000002"], ["a", "b"], [i["shares_before"], 500], [i["prev_close"], 2000])
    e = kf.IndexEngine(u, level=1000.0)
    d0 = e.divisor
    rec = e.apply_changes([0], prices=[exp["base_price_after"]], index_shares=[exp["shares_after"]])
    assert rec.cap_after == rec.cap_before
    assert e.divisor == d0
    assert exp["base_market_cap_change"] == 0


def test_audit_log_records_each_rebase(sample):
    e = kf.IndexEngine(sample, level=5781.20)
    e.apply_changes(["005930"], index_shares=[sample.shares[0] - 1_000_000])
    e.update_many(np.array([1, 2], dtype=np.intp), sample.base_prices[[1, 2]] + 1000)
    e.apply_changes([5, 6], prices=sample.base_prices[[5, 6]], index_shares=[0, 0])
    assert len(e.audit) == 2
    d = 5781.20 and e.audit[0].divisor_before
    for rec in e.audit:  # replaying the log reproduces the divisor chain
        d = kf.rebase_divisor(d, rec.cap_before, rec.cap_after)
        assert d == rec.divisor_after
    assert d == e.divisor
