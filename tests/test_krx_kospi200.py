"""KOSPI 200 calendar rules of kospi_fast.krx: float-ratio banding, futures expiries, review,
fast-entry and special-change dates, each on a worked example with its source."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from kospi_fast import krx

D = dt.date


# ------------------------------------------------------------------ float ratios (methodology 7.1)
@pytest.mark.parametrize("raw,want", [
    (0.4321, 0.45),  # the example: rounded UP to 5% steps (newsway 2016-06-07)
    (0.45, 0.45), (0.4501, 0.5), (Fraction(1, 3), 0.35), (Decimal("0.05"), 0.05), (0.0001, 0.05),
    (1, 1.0), (0.96, 1.0), (0, 0.0),
])
def test_round_float_ratio_up_to_5pct(raw, want):
    got = krx.round_float_ratio(raw)
    assert got == want and repr(got) == repr(want)


def test_round_float_ratio_is_exact_decimal():
    # 0.1 + 0.2 prints 0.30000000000000004: above 0.30 as a decimal, so it goes to 0.35; 0.3 stays
    assert krx.round_float_ratio(0.1 + 0.2) == 0.35
    assert krx.round_float_ratio(0.3) == 0.3


@pytest.mark.parametrize("bad,exc", [(-0.01, ValueError), (1.01, ValueError), (float("nan"), ValueError),
                                     ("0.4", TypeError), (True, TypeError)])
def test_round_float_ratio_refuses(bad, exc):
    with pytest.raises(exc, match="`x`"):
        krx.round_float_ratio(bad)


def test_float_eligibility_is_on_the_raw_ratio():
    # >= 10% since 2007 (hankyung 2007-01-19); 0.06 would round up to 0.10 but is not eligible
    assert krx.float_eligible(0.10) and krx.float_eligible(1)
    assert not krx.float_eligible(0.0999) and not krx.float_eligible(0.06)
    with pytest.raises(ValueError, match="`x`"):
        krx.float_eligible(2)


# ------------------------------------------------------------------ expiries and reviews (methodology 2.4)
@pytest.mark.parametrize("year,month,expiry,effective", [
    # methodology 2.4 (FnTimes / Money Today / NewDaily / etoday / BizWatch): effective dates
    (2021, 6, D(2021, 6, 10), D(2021, 6, 11)), (2021, 12, D(2021, 12, 9), D(2021, 12, 10)),
    (2022, 6, D(2022, 6, 9), D(2022, 6, 10)), (2022, 12, D(2022, 12, 8), D(2022, 12, 9)),
    (2023, 6, D(2023, 6, 8), D(2023, 6, 9)), (2023, 12, D(2023, 12, 14), D(2023, 12, 15)),
    (2024, 12, D(2024, 12, 12), D(2024, 12, 13)),
    # June 2025: "The rebalancing that will be applied on June 13th" (biz.chosun.com/en 2025-05-24)
    (2025, 6, D(2025, 6, 12), D(2025, 6, 13)),
    # December 2025: constituents and float changes "finalized on the 11th, taking effect on the
    # 12th" (biz.chosun.com/en 2025-12-04); "the Dec. 12 rebalancing" (alphabiz 2025-11-18)
    (2025, 12, D(2025, 12, 11), D(2025, 12, 12)),
    # June 2026: no press source found in the searchable corpus; by the rule (second Thursday
    # 2026-06-11, a session in XKRX) the review takes effect on Friday 2026-06-12
    (2026, 6, D(2026, 6, 11), D(2026, 6, 12)),
])
def test_reviews_land_on_their_real_effective_dates(year, month, expiry, effective):
    assert krx.futures_expiry(year, month) == expiry
    assert krx.review_effective_date(year, month) == effective


def test_expiry_moves_to_the_previous_trading_day_on_a_holiday():
    # 2019-09-12 was Chuseok: the September 2019 expiry was Wednesday 2019-09-11 (XKRX calendar)
    assert not krx.is_trading_day("2019-09-12")
    assert krx.futures_expiry(2019, 9) == D(2019, 9, 11)
    # 2025-10-09 (Hangul Day) closes a holiday week from 10-03: the expiry goes back to 10-02
    assert krx.futures_expiry(2025, 10) == D(2025, 10, 2)


def test_review_months_and_arguments_are_checked():
    with pytest.raises(ValueError, match="June and December"):
        krx.review_effective_date(2025, 3)
    with pytest.raises(ValueError, match="`month`"):
        krx.futures_expiry(2025, 13)
    with pytest.raises(TypeError, match="`year`"):
        krx.futures_expiry("2025", 6)
    with pytest.raises(ValueError, match="outside the XKRX calendar"):
        krx.futures_expiry(1999, 6)


def test_fast_entry_at_the_next_quarterly_expiry():
    # Cheil Industries listed 2014-12-18, joined 2015-03-13; LG Energy Solution listed 2022-01-27,
    # joined 2022-03-11 (methodology 2.1: JoongAng 2015-03-12, Asia Economy 2022-02-22). The
    # 15-trading-day window (listing day = day 1) ends before the March expiry both times.
    for listed, joined in (("2014-12-18", D(2015, 3, 13)), ("2022-01-27", D(2022, 3, 11))):
        window_end = krx.next_trading_day(listed, 14)
        assert krx.quarterly_entry_date(window_end) == joined
    # a window ending on the expiry itself still enters the day after it
    assert krx.quarterly_entry_date("2022-03-10") == D(2022, 3, 11)
    assert krx.quarterly_entry_date("2022-03-11") == D(2022, 6, 10)


# ------------------------------------------------------------------ special changes (methodology 7.3)
def test_special_change_removal_geumyang_2025():
    # smarttoday 74349 / mbnmoney MM1005489583: 금양 (001570) designated 관리종목 on 2025-03-05,
    # halted that day, trading resumed 2025-03-06, removed from KOSPI 200 from 2025-03-10
    # ("관리종목 지정일 이후 2거래일이 경과한 날의 다음 매매거래일").
    assert krx.special_change_removal_date("2025-03-05", "2025-03-06") == D(2025, 3, 10)
    # without a halt: two trading days pass (03-06, 03-07), removal on the next one
    assert krx.special_change_removal_date("2025-03-05") == D(2025, 3, 10)


def test_special_change_long_halt_16th_trading_day():
    # halted from 2025-03-05 (day 1) and never resumed: removed on the 16th trading day of the halt
    d16 = krx.next_trading_day("2025-03-05", 15)
    assert d16 == D(2025, 3, 26)
    assert krx.special_change_removal_date("2025-03-05", halted=True) == d16
    # resumed late (after the 15th day): still the 16th day, not resumption + 2
    assert krx.special_change_removal_date("2025-03-05", "2025-03-25") == d16
    # resumed early: resumption + 2 trading days (the resumption day counts as the first)
    assert krx.special_change_removal_date("2025-03-05", "2025-03-12") == D(2025, 3, 14)


def test_special_change_refuses_bad_dates():
    with pytest.raises(ValueError, match="`resumed`"):
        krx.special_change_removal_date("2025-03-05", "2025-03-05")
    with pytest.raises(ValueError, match="not a KRX trading day"):
        krx.special_change_removal_date("2025-03-05", "2025-03-08")
    with pytest.raises(TypeError, match="`designated`"):
        krx.special_change_removal_date(20250305)


def test_trading_day_helpers():
    assert krx.next_trading_day("2025-06-13") == D(2025, 6, 16)  # over the weekend
    assert krx.previous_trading_day("2025-06-16") == D(2025, 6, 13)
    with pytest.raises(ValueError, match="`n`"):
        krx.next_trading_day("2025-06-13", 0)


def test_no_calendar_refuses_with_the_fix(monkeypatch):
    import sys

    monkeypatch.setattr(krx, "_XKRX", None)
    monkeypatch.setattr(krx, "_SESSIONS", None)
    monkeypatch.setitem(sys.modules, "exchange_calendars", None)  # import raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'kospi-fast\[calendar\]'"):
        krx.review_effective_date(2025, 6)


def test_statutory_election_days_are_closed():
    # Every past end-of-term election day is an XKRX holiday; 2026-06-03 (9th local elections)
    # is added by krx.ELECTION_DAYS, the days around it stay sessions.
    from kospi_fast import session

    for day in ("2018-06-13", "2022-06-01", "2024-04-10", "2025-06-03", "2026-06-03"):
        assert not session.is_trading_day(day), day
    assert session.is_trading_day("2026-06-02") and session.is_trading_day("2026-06-04")
    assert krx.next_trading_day("2026-06-02") == D(2026, 6, 4)
    assert D(2026, 6, 3) in krx.ELECTION_DAYS
    with pytest.raises(ValueError, match="trading day"):
        session.session_times("2026-06-03")
