"""The workloads of the family, session and corporate-action benchmarks, shared by
``compare.py`` and the pytest-benchmark tests, with the correctness checks each one runs once
(outside the timed part).

Scenarios
---------
kospi_family          the KOSPI family over the sample universe: KOSPI, KOSPI 200/100/50 (top
                      200/100/50 by cap, float-adjusted with deterministic pseudo-random ratios
                      in [0.2, 1]), Large/Mid/Small and one index per sector (26 indices).
synthetic_family      SYNTHETIC: KOSPI + 350 indices of random members (KRX's 351 real-time
                      indices' size, not their lists), the many-index benchmark.
publication_samples   trade positions of the KOSPI 200 1-second publication grid.
event_batch           50 corporate actions of six kinds on 50 distinct stocks.
real_eod              the real KRX end-of-day files of ../shared/data (None when absent).

Checks
------
check_family_per_tick every column of a per-tick family output against its single-index replay.
check_family          every level of an IndexFamily against an exact Python-int recount.
check_event_batch     an engine after ``apply_events`` against the expected prices and shares.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import kospi_fast as kf
from kospi_fast import eod, krx, session
from kospi_fast.events import (
    AdditionalListing,
    BuybackCancellation,
    RightsIssue,
    SetListedShares,
    SetReferencePrice,
    Split,
)
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE

N_TICKS = 2_000_000  # ticks of the simulated day in the pytest benchmarks
DAY_SEED = 20260323
DAY_DATE = "2026-03-23"  # the simulated day (the sample universe's closes are of 2026-03-20)
NEXT_DATE = "2026-03-24"  # the day the corporate actions take effect
FLOAT_SEED = 200  # seed of the pseudo-random float ratios
EVENT_SEED = 3  # seed of the stocks hit by corporate actions
N_EVENTS = 50

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KOSPI_FAST_SHARED", REPO.parent / "shared"))
EOD_FILE = "kospi_stocks_eod_20260309_20260320.csv"
INDEX_FILE = "kospi_index_daily_19950502_20260320.csv"


# ---------------------------------------------------------------------------- family


def float_ratios(universe: kf.Universe, seed: int = FLOAT_SEED) -> dict[str, float]:
    """{code: free-float ratio}, deterministic pseudo-random in [0.2, 1], two decimals."""
    rng = np.random.default_rng(seed)
    ratios = np.round(rng.uniform(0.2, 1.0, len(universe)), 2)
    return dict(zip(universe.codes, ratios.tolist()))


def top_by_cap(universe: kf.Universe, n: int) -> list[str]:
    """Codes of the ``n`` largest stocks by exact int64 cap at the base prices."""
    caps = universe.base_prices * universe.shares  # < 2**63 for the sample (int64 exact)
    order = np.argsort(-caps, kind="stable")
    return [universe.codes[i] for i in order[:n]]


def kospi_family(universe: kf.Universe) -> kf.IndexFamily:
    """A fresh KOSPI family (26 indices on the sample universe), KOSPI at its 2026-03-20 close."""
    top = top_by_cap(universe, 200)
    return kf.IndexFamily.kospi(
        universe,
        kospi200=top,
        kospi100=top[:100],
        kospi50=top[:50],
        float_ratios=float_ratios(universe),
        levels={"KOSPI": SAMPLE_PREVIOUS_CLOSE},
    )


def synthetic_family(universe: kf.Universe, n_indices: int = 351, seed: int = 351) -> kf.IndexFamily:
    """SYNTHETIC (not KRX's list): a family the size of KRX's 351 real-time indices over the
    sample universe: KOSPI (every stock) plus ``n_indices`` − 1 indices of 5..299 members drawn
    without replacement with probability ∝ cap^0.5 (the performance review's stand-in: wide
    rows, about 125 memberships per trade on the simulated day)."""
    from kospi_fast.definitions import IndexDefinition

    rng = np.random.default_rng(seed)
    cap = (universe.base_prices * universe.shares).astype(float)
    p = cap ** 0.5
    p /= p.sum()
    codes = list(universe.codes)
    defs = [IndexDefinition("KOSPI", codes, follows_market=True)]
    for k in range(n_indices - 1):
        members = rng.choice(len(codes), int(rng.integers(5, 300)), replace=False, p=p)
        defs.append(IndexDefinition(f"SYN{k:03d}", [codes[i] for i in sorted(members)]))
    return kf.IndexFamily(universe, defs)


def publication_samples(times: np.ndarray, date: str = DAY_DATE, interval_s: int = 1) -> np.ndarray:
    """Position of the last trade at or before each print of the publication grid (KOSPI 200:
    every second from 09:00:10 to the close), prints before any trade dropped."""
    grid = session.publication_grid(session.session_times(date, check_calendar=False), interval_s)
    pos = np.searchsorted(times, grid, side="right") - 1
    return pos[pos >= 0]


def check_family_per_tick(levels: np.ndarray, family: kf.IndexFamily, universe: kf.Universe,
                          ids: np.ndarray, prices: np.ndarray) -> None:
    """Column ``k`` of a per-tick family output equals the single-index ``kospi_fast.replay`` of
    index ``k`` (its index shares, its divisor, from the base prices), bit for bit."""
    assert levels.shape == (ids.shape[0], len(family))
    divisors = family.divisors
    for k, name in enumerate(family.names):
        member_ids, member_shares = family.index_shares(name)
        shares = np.zeros(len(universe), dtype=np.int64)
        shares[member_ids] = member_shares
        single = kf.replay(shares, universe.base_prices, divisors[k], ids, prices)
        assert np.array_equal(levels[:, k], single), f"family column {name!r} != its single-index replay"


def check_family(family: kf.IndexFamily) -> None:
    """Every level equals an exact recount (Python ints) of its index at the current prices,
    divided by its divisor, bit for bit; and ``levels`` equals ``recompute()``."""
    prices = family.prices
    levels, divisors = family.levels, family.divisors
    for k, name in enumerate(family.names):
        ids, shares = family.index_shares(name)
        cap = sum(int(p) * int(s) for p, s in zip(prices[ids], shares))
        assert levels[k] == cap / divisors[k], f"{name}: {levels[k]!r} != exact {cap / divisors[k]!r}"
    assert np.array_equal(levels, family.recompute())


# ---------------------------------------------------------------------------- corporate actions

EVENT_KINDS = ("SetListedShares", "SetReferencePrice", "AdditionalListing", "BuybackCancellation", "Split",
               "RightsIssue")


def event_batch(universe: kf.Universe, prices: np.ndarray, n_events: int = N_EVENTS,
                seed: int = EVENT_SEED, date: str = NEXT_DATE) -> list:
    """``n_events`` corporate actions on distinct stocks, the six kinds in turn, sized from
    the stocks' listed shares and their ``prices`` (the closes the events start from)."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(len(universe), size=n_events, replace=False)
    events = []
    for k, i in enumerate(ids.tolist()):
        code, listed, price = universe.codes[i], int(universe.shares[i]), int(prices[i])
        kind = EVENT_KINDS[k % len(EVENT_KINDS)]
        if kind == "SetListedShares":
            events.append(SetListedShares(code, listed + 1_000 * (k + 1)))
        elif kind == "SetReferencePrice":  # e.g. Close − Changes after a data correction
            events.append(SetReferencePrice(code, int(krx.round_to_tick(price * 97 // 100, "down", date=date))))
        elif kind == "AdditionalListing":
            events.append(AdditionalListing(code, 10_000 * (k + 1), reason="CB conversion"))
        elif kind == "BuybackCancellation":
            events.append(BuybackCancellation(code, max(1, listed // 200)))
        elif kind == "Split":
            events.append(Split(code, (2, 5, 10)[k % 3]))
        else:  # a rights issue priced 20% below the close: the ex-rights price applies
            events.append(RightsIssue(code, issue_price=price * 4 // 5, new_shares=max(1, listed // 10)))
    return events


def expected_after_events(universe: kf.Universe, prices: np.ndarray, listed: np.ndarray, events: list,
                          date: str = NEXT_DATE) -> tuple[np.ndarray, np.ndarray]:
    """(prices, listed shares) after ``events`` (one per stock), from each kind's rule."""
    p, s = prices.copy(), listed.copy()
    for ev in events:
        i = universe.index_of(ev.code)
        if isinstance(ev, SetListedShares):
            s[i] = ev.shares
        elif isinstance(ev, SetReferencePrice):
            p[i] = ev.price
        elif isinstance(ev, AdditionalListing):
            s[i] += ev.shares
        elif isinstance(ev, BuybackCancellation):
            s[i] -= ev.shares
        elif isinstance(ev, Split):
            p[i] = krx.split_price(int(p[i]), ev.ratio, date=date)
            s[i] *= ev.ratio
        elif isinstance(ev, RightsIssue):
            p[i] = krx.ex_rights_price(int(p[i]), int(s[i]), ev.issue_price, ev.new_shares, date=date)
        else:  # pragma: no cover - event_batch makes only the kinds above
            raise TypeError(ev)
    return p, s


def check_event_batch(engine: kf.IndexEngine, record: kf.RebaseRecord, prices_before: np.ndarray,
                      listed_before: np.ndarray, events: list, date: str = NEXT_DATE) -> None:
    """The engine after ``apply_events``: prices and shares as each kind's rule says (every
    other stock untouched), caps equal to exact recounts, one rebase that keeps the level."""
    u = engine.universe
    exp_p, exp_s = expected_after_events(u, prices_before, listed_before, events, date)
    assert np.array_equal(engine.prices, exp_p)
    assert np.array_equal(engine.index_shares, exp_s)  # every sample stock is a KOSPI member
    assert np.array_equal(engine.listed_shares, exp_s)
    moved = (exp_p != prices_before) | (exp_s != listed_before)
    assert int(moved.sum()) == len(events)  # every event changed its stock
    assert record.ids == tuple(u.index_of(ev.code) for ev in events)
    assert record.cap_before == sum(int(p) * int(s) for p, s in zip(prices_before, listed_before))
    assert record.cap_after == engine.cap == sum(int(p) * int(s) for p, s in zip(exp_p, exp_s))
    assert abs(record.level_after / record.level_before - 1) < 1e-12
    assert engine.level == engine.recompute()


# ---------------------------------------------------------------------------- real data


def real_eod():
    """(days, published closes, directory) from ../shared/data, or None when the files are absent."""
    data = SHARED / "data"
    eod_path, index_path = data / EOD_FILE, data / INDEX_FILE
    if not (eod_path.is_file() and index_path.is_file()):
        return None
    return eod.read_eod_csv(eod_path), eod.read_index_csv(index_path), data
