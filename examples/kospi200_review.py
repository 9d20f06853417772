"""KOSPI 200 from one feed with KOSPI, float-adjusted and capped at 30 %, through a day and a
periodic review: at the next open two members are replaced and the float ratios change, applied
in the same all-or-nothing step as that day's corporate actions. Every level is continuous
across the review (the divisor absorbs it) and each change leaves an audit record.

KRX publishes no file of the KOSPI 200 members or float ratios: they are inputs. Here the
members are the 200 largest stocks of the bundled SAMPLE universe and the ratios are made up
(SAMPLE data, not KRX's).

Run: ``python examples/kospi200_review.py``.
"""

from __future__ import annotations

import numpy as np

import kospi_fast as kf
from kospi_fast.definitions import IndexDefinition
from kospi_fast.events import Split


def main() -> int:
    u = kf.sample_universe()
    by_cap = [u.codes[i] for i in np.argsort(-(u.base_prices * u.shares), kind="stable")]
    members = by_cap[:200]
    ratios = {c: 0.75 if k % 3 else 0.5 for k, c in enumerate(members)}  # made-up free-float ratios
    fam = kf.IndexFamily.kospi(u, kospi200=members, float_ratios=ratios, kospi200_cap=0.30,
                               sectors=False, size=False, levels={"KOSPI": 5781.20, "KOSPI 200": 823.02})
    print(fam)

    day = kf.simulate_day(u, n_ticks=50_000, seed=3, date="2026-03-23")
    fam.update_many(day.ids, day.prices)
    k200 = fam.index_of("KOSPI 200")
    print(f"2026-03-23 close: KOSPI {fam.levels[0]:,.2f}, KOSPI 200 {fam.levels[k200]:,.2f}")

    # The review, effective at the open of 2026-03-24: two members out, the next two in, new ratios.
    old = fam.definition("KOSPI 200")
    out, new_in = members[-2:], by_cap[200:202]
    new_members = [c for c in members if c not in out] + new_in
    new_ratios = tuple(0.8 if c in new_in else ratios[c] for c in new_members)
    review = IndexDefinition("KOSPI 200", new_members, float_ratios=new_ratios, caps=old.caps)
    before = fam.levels.copy()
    records = fam.roll([Split(by_cap[0], 5)], date="2026-03-24", rebalance={"KOSPI 200": review})
    assert np.array_equal(fam.levels, before), "no level moves at the roll"
    for r in records:
        print(f"  {r.index:<10} divisor {r.divisor_before:.6e} -> {r.divisor_after:.6e}  "
              f"level {r.level_before:,.2f} -> {r.level_after:,.2f}  ({len(r.events)} events)")
    print(f"  out: {', '.join(out)}; in: {', '.join(new_in)}")
    print(f"  audit rows: {len(fam.audit_table())}, the last: {fam.audit_table()[-1]['index']}")

    nxt = kf.simulate_day(u, n_ticks=50_000, seed=4, date="2026-03-24", base_prices=fam.reference_prices)
    fam.update_many(nxt.ids, nxt.prices)
    assert np.array_equal(fam.levels, fam.recompute()), "incremental == full recompute"
    print(f"2026-03-24 close: KOSPI {fam.levels[0]:,.2f}, KOSPI 200 {fam.levels[k200]:,.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
