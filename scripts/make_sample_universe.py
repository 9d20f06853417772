#!/usr/bin/env python3
"""Generate the bundled SAMPLE universe ``src/kospi_fast/data/sample_universe.csv``.

The sample has 850 rows:

* 30 real rows: the 30 largest KOSPI index members by market cap on 2026-03-20, with their
  public code, name, listed shares and closing price, as published by KRX (end-of-day data
  collected by the FinanceDataReader project). They are embedded below as a literal table,
  extracted once by hand; this script never reads the KRX file.  Sector labels are the
  project's own approximate assignment.
* 820 synthetic rows (``synthetic=1``): fake codes ``99xxx0``, names ``Sample Co NNN``, a
  truncated log-normal market-cap distribution tuned so that Samsung Electronics + SK hynix
  make up 35% of the sample's total market cap, prices on the KRX tick grid.

It is a sample for demos and benchmarks, not official KRX data.

Usage::

    python scripts/make_sample_universe.py            # (re)write the CSV, print a summary
    python scripts/make_sample_universe.py --check    # exit 1 if the CSV on disk differs

Deterministic (fixed seed, integer-derived uniforms, stdlib math): regenerating gives a
byte-identical file.  Needs only the standard library and NumPy.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import io
import math
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np

SEED = 20260320
N_TOTAL = 850
TOP2_TARGET = 0.35  # share of Samsung Electronics + SK hynix in the sample's total cap

DEFAULT_OUT = (
    Path(__file__).resolve().parent.parent / "src" / "kospi_fast" / "data" / "sample_universe.csv"
)

# --- KRX KOSPI industry classification labels (English), used for every row ---------------
EE = "Electrical & Electronic Equipment"
TRANSPORT_EQ = "Transport Equipment"
CHEMICALS = "Chemicals"
PHARMA = "Pharmaceuticals"
FINANCE = "Finance"
DISTRIBUTION = "Distribution"
SERVICES = "Services"
MACHINERY = "Machinery"
STEEL = "Steel & Metals"
CONSTRUCTION = "Construction"
FOOD = "Food & Beverages"
COMMUNICATION = "Communication"
UTILITIES = "Utilities"
TEXTILES = "Textiles & Apparel"
PAPER = "Paper & Wood"
NONMETAL = "Non-Metallic Minerals"
MEDICAL = "Medical & Precision Instruments"
TRANSPORT_STORAGE = "Transport & Storage"
OTHER_MFG = "Other Manufacturing"

# Relative weights for drawing the sectors of synthetic rows (roughly the number of KOSPI
# listings per industry; the project's own approximation).  Integers so the draw is exact.
SECTOR_WEIGHTS: tuple[tuple[str, int], ...] = (
    (CHEMICALS, 28),
    (SERVICES, 24),
    (DISTRIBUTION, 22),
    (EE, 20),
    (TRANSPORT_EQ, 18),
    (FINANCE, 18),
    (MACHINERY, 14),
    (STEEL, 12),
    (PHARMA, 12),
    (FOOD, 10),
    (CONSTRUCTION, 8),
    (TEXTILES, 6),
    (TRANSPORT_STORAGE, 6),
    (NONMETAL, 5),
    (PAPER, 4),
    (OTHER_MFG, 4),
    (MEDICAL, 3),
    (UTILITIES, 2),
    (COMMUNICATION, 2),
)

# --- The 30 real rows ---------------------------------------------------------------------
# The 30 largest KOSPI index members (InKOSPIIndex == 1) by market cap on 2026-03-20:
# (Code, Name, Stocks = listed common shares, Close = closing price in won, sector).
# Source: KRX end-of-day data as collected by the FinanceDataReader project
# (file kospi_stocks_eod_20260309_20260320.csv), extracted once by hand.  Close * Stocks equals
# the source's Marcap for every row.  Sector: the project's own approximate assignment.
REAL_TOP30: tuple[tuple[str, str, int, int, str], ...] = (
    ("005930", "삼성전자", 5919637922, 199400, EE),  # Samsung Electronics
    ("000660", "SK하이닉스", 712702365, 1007000, EE),  # SK hynix
    ("005380", "현대차", 204757766, 517000, TRANSPORT_EQ),  # Hyundai Motor
    ("373220", "LG에너지솔루션", 234000000, 375500, EE),  # LG Energy Solution
    ("402340", "SK스퀘어", 132087115, 608000, SERVICES),  # SK Square (holding)
    ("207940", "삼성바이오로직스", 46290951, 1601000, PHARMA),  # Samsung Biologics
    ("034020", "두산에너빌리티", 640561146, 109600, MACHINERY),  # Doosan Enerbility
    ("012450", "한화에어로스페이스", 51563401, 1320000, MACHINERY),  # Hanwha Aerospace
    ("000270", "기아", 390412998, 168500, TRANSPORT_EQ),  # Kia
    ("329180", "HD현대중공업", 104961225, 559000, TRANSPORT_EQ),  # HD Hyundai Heavy Industries
    ("105560", "KB금융", 372850455, 155200, FINANCE),  # KB Financial Group
    ("028260", "삼성물산", 169976544, 297500, DISTRIBUTION),  # Samsung C&T
    ("068270", "셀트리온", 231048261, 202000, PHARMA),  # Celltrion
    ("055550", "신한지주", 474654361, 97900, FINANCE),  # Shinhan Financial Group
    ("032830", "삼성생명", 200000000, 231500, FINANCE),  # Samsung Life Insurance
    ("042660", "한화오션", 306413394, 129100, TRANSPORT_EQ),  # Hanwha Ocean
    ("006800", "미래에셋증권", 555316408, 67700, FINANCE),  # Mirae Asset Securities
    ("012330", "현대모비스", 90732583, 400500, TRANSPORT_EQ),  # Hyundai Mobis
    ("035420", "NAVER", 156852638, 221500, SERVICES),  # NAVER
    ("009150", "삼성전기", 74693696, 464500, EE),  # Samsung Electro-Mechanics
    ("267260", "HD현대일렉트릭", 36047135, 959000, EE),  # HD Hyundai Electric
    ("010130", "고려아연", 20872969, 1587000, STEEL),  # Korea Zinc
    ("006400", "삼성SDI", 80585530, 400500, EE),  # Samsung SDI
    ("015760", "한국전력", 641964077, 49150, UTILITIES),  # KEPCO
    ("086790", "하나금융지주", 278325814, 113200, FINANCE),  # Hana Financial Group
    ("042700", "한미반도체", 95312200, 309500, MACHINERY),  # Hanmi Semiconductor
    ("009540", "HD한국조선해양", 70773116, 404500, TRANSPORT_EQ),  # HD Korea Shipbuilding
    ("005490", "POSCO홀딩스", 80932952, 343500, STEEL),  # POSCO Holdings
    ("010120", "LS ELECTRIC", 30000000, 886000, EE),  # LS ELECTRIC
    ("034730", "SK", 72502703, 360000, SERVICES),  # SK Inc. (holding)
)
TOP2_CODES = ("005930", "000660")

# --- Synthetic-row parameters -------------------------------------------------------------
N_SYNTH = N_TOTAL - len(REAL_TOP30)
CAP_SIGMA = 1.7  # log-normal sigma of market cap (natural log); real KOSPI ex-top-30 ~ 1.7
CAP_FLOOR = 8e9  # won; truncation of the cap distribution below
CAP_CEIL_FRACTION = 0.95  # synthetic caps stay below 95% of the 30th real cap
PRICE_MEDIAN = 9_000.0  # won, price of a stock of cap PRICE_REF_CAP
PRICE_REF_CAP = 3e11
PRICE_CAP_SLOPE = 0.40  # d ln(price) / d ln(cap)
PRICE_SIGMA = 1.05
PRICE_MIN, PRICE_MAX = 500, 1_500_000
SHARES_MIN, SHARES_MAX = 1_000_000, 2_000_000_000

_STD = NormalDist()


def tick_size(price: int) -> int:
    """KRX tick size for a KOSPI stock (unified table in force since 2023-01-25)."""
    if price < 2_000:
        return 1
    if price < 5_000:
        return 5
    if price < 20_000:
        return 10
    if price < 50_000:
        return 50
    if price < 200_000:
        return 100
    if price < 500_000:
        return 500
    return 1_000


def on_grid(price: int) -> bool:
    return price > 0 and price % tick_size(price) == 0


def snap(p: float) -> int:
    """Nearest price on the tick grid (band boundaries are multiples of the next tick)."""
    t = tick_size(int(p))
    return max(1, int(round(p / t)) * t)


def tick_up(price: int) -> int:
    return price + tick_size(price)


def tick_down(price: int) -> int:
    t = tick_size(price - 1)
    return (price - 1) // t * t


def uniforms(rng: np.random.Generator, n: int) -> list[float]:
    """Uniforms in (0, 1) built from integers: portable and never exactly 0 or 1."""
    k = rng.integers(0, 2**52, size=n, dtype=np.int64)
    return [(int(x) + 0.5) / 2**52 for x in k]


def synth_log_caps(mu: float, u: list[float], lo: float, hi: float) -> list[float]:
    """Quantiles u of a log-normal(mu, CAP_SIGMA) truncated to [lo, hi] (in ln won)."""
    a = _STD.cdf((lo - mu) / CAP_SIGMA)
    b = _STD.cdf((hi - mu) / CAP_SIGMA)
    return [mu + CAP_SIGMA * _STD.inv_cdf(a + x * (b - a)) for x in u]


def build_rows() -> list[tuple[str, str, int, int, str, int]]:
    rng = np.random.default_rng(SEED)
    u_cap = uniforms(rng, N_SYNTH)
    u_price = uniforms(rng, N_SYNTH)
    u_sector = uniforms(rng, N_SYNTH)

    real_caps = {code: shares * price for code, _, shares, price, _ in REAL_TOP30}
    real_total = sum(real_caps.values())
    top2 = sum(real_caps[c] for c in TOP2_CODES)
    synth_target = top2 / TOP2_TARGET - real_total
    assert synth_target > 0

    lo = math.log(CAP_FLOOR)
    hi = math.log(CAP_CEIL_FRACTION * min(real_caps.values()))

    # Bisection on the location mu so that the synthetic caps sum to synth_target.
    def total(mu: float) -> float:
        return math.fsum(math.exp(x) for x in synth_log_caps(mu, u_cap, lo, hi))

    m_lo, m_hi = lo - 10.0, hi + 10.0
    assert total(m_lo) < synth_target < total(m_hi)
    for _ in range(200):
        mid = 0.5 * (m_lo + m_hi)
        if total(mid) < synth_target:
            m_lo = mid
        else:
            m_hi = mid
    mu = 0.5 * (m_lo + m_hi)
    log_caps = synth_log_caps(mu, u_cap, lo, hi)

    cum = []
    acc = 0
    for _, w in SECTOR_WEIGHTS:
        acc += w
        cum.append(acc)

    synth = []
    for lc, up, us in zip(log_caps, u_price, u_sector):
        cap = math.exp(lc)
        lp = (
            math.log(PRICE_MEDIAN)
            + PRICE_CAP_SLOPE * (lc - math.log(PRICE_REF_CAP))
            + PRICE_SIGMA * _STD.inv_cdf(up)
        )
        p_lo = max(PRICE_MIN, cap / SHARES_MAX)
        p_hi = min(PRICE_MAX, cap / SHARES_MIN)
        price = snap(min(max(math.exp(lp), p_lo), p_hi))
        while price < p_lo:
            price = tick_up(price)
        while price > p_hi:
            price = tick_down(price)
        shares = int(round(cap / price))
        sector = SECTOR_WEIGHTS[bisect.bisect_right(cum, int(us * acc))][0]
        synth.append((shares * price, shares, price, sector))

    synth.sort(key=lambda r: -r[0])
    rows = [(c, n, s, p, sec, 0) for c, n, s, p, sec in REAL_TOP30]
    for i, (_, shares, price, sector) in enumerate(synth, start=1):
        rows.append((f"99{i:03d}0", f"Sample Co {i:03d}", shares, price, sector, 1))
    return rows


def validate(rows: list[tuple[str, str, int, int, str, int]]) -> None:
    assert len(rows) == N_TOTAL
    codes = [r[0] for r in rows]
    assert len(set(codes)) == N_TOTAL
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    real_codes = {r[0] for r in REAL_TOP30}
    for code, name, shares, price, sector, synthetic in rows:
        assert on_grid(price), (code, price)
        assert shares > 0
        if synthetic:
            assert code.startswith("99") and code not in real_codes
            assert PRICE_MIN <= price <= PRICE_MAX, (code, price)
            assert SHARES_MIN <= shares <= SHARES_MAX, (code, shares)
    caps = [r[2] * r[3] for r in rows]
    assert sum(caps) < 2**62
    min_real = min(s * p for _, _, s, p, _ in REAL_TOP30)
    assert max(c for c, r in zip(caps, rows) if r[5]) < min_real
    top2 = sum(c for c, r in zip(caps, rows) if r[0] in TOP2_CODES)
    assert abs(top2 / sum(caps) - TOP2_TARGET) < 0.01


def to_csv(rows: list[tuple[str, str, int, int, str, int]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["code", "name", "shares", "base_price", "sector", "synthetic"])
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def summary(rows: list[tuple[str, str, int, int, str, int]]) -> str:
    caps = [r[2] * r[3] for r in rows]
    total = sum(caps)
    top2 = sum(c for c, r in zip(caps, rows) if r[0] in TOP2_CODES)
    synth = [r for r in rows if r[5]]
    prices = sorted(r[3] for r in synth)
    mid = sum(1 for p in prices if 2_000 <= p <= 100_000)
    sectors: dict[str, int] = {}
    for r in rows:
        sectors[r[4]] = sectors.get(r[4], 0) + 1
    lines = [
        f"rows: {len(rows)} ({len(rows) - len(synth)} real, {len(synth)} synthetic)",
        f"total market cap: {total:,} won ({total:.4e}; 2^63 = {2**63:.4e})",
        f"top-2 share (005930 + 000660): {top2 / total:.4%}",
        f"real top-30 share: {sum(caps[: len(REAL_TOP30)]) / total:.4%}",
        f"synthetic prices: min {prices[0]:,}, median {prices[len(prices) // 2]:,}, "
        f"max {prices[-1]:,}; {mid / len(prices):.1%} within 2,000..100,000",
        f"synthetic caps: min {min(caps[len(REAL_TOP30):]):.3e}, "
        f"max {max(caps[len(REAL_TOP30):]):.3e}",
        f"sectors: {len(sectors)}",
    ]
    for name, n in sorted(sectors.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {n:4d}  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output CSV path")
    ap.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if the file differs"
    )
    args = ap.parse_args(argv)

    rows = build_rows()
    validate(rows)
    data = to_csv(rows)
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(f"{args.out}: {'up to date' if same else 'DIFFERS'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out}")
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
