"""KOSPI 200 with its total-return (TR) and net total-return (NTR) twins over a week with cash
dividends: the dividends come from a table (code, ex-date, amount, estimated/final) read by
``io.load_dividends``; on the ex-date the payers open lower by their dividends, the price
index falls with them and TR does not; the theoretical ex-dividend level is printed before
the ex-date; an estimate is corrected on Friday, moving TR by the difference only.

The amounts are SIMULATED (1.5 % of the price for the 20 largest members, one estimate
corrected 20 % higher), not KRX data; the universe is the bundled SAMPLE.

Run: ``python examples/tr_series.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

import kospi_fast as kf
from kospi_fast import io

WEEK = ("2026-03-23", "2026-03-24", "2026-03-25", "2026-03-26", "2026-03-27")
EX_DATE, CORRECTION_DATE = WEEK[2], WEEK[4]


def main() -> int:
    u = kf.sample_universe()
    by_cap = [u.codes[i] for i in np.argsort(-(u.base_prices * u.shares), kind="stable")]
    fam = kf.IndexFamily.kospi(u, kospi200=by_cap[:200], sectors=False, size=False,
                               returns=("price", "total", "net"), levels={"KOSPI 200": 823.02})
    names = ("KOSPI 200", "KOSPI 200 TR", "KOSPI 200 NTR")
    cols = [fam.index_of(n) for n in names]

    # the dividend table, as a user would keep it (SIMULATED amounts)
    payers = by_cap[:20]
    price = {c: int(p) for c, p in zip(u.codes, u.base_prices)}
    rows = [f"{c},{EX_DATE},{price[c] * 15 // 1000},estimated" for c in payers]
    rows.append(f"{payers[0]},{EX_DATE},{price[payers[0]] * 18 // 1000},final")  # approved on Friday
    table = Path(tempfile.mkdtemp(prefix="kospi_fast_tr_")) / "dividends.csv"
    table.write_text("code,ex_date,amount,status,effective\n"
                     + "\n".join(r + ("," + CORRECTION_DATE if r.endswith("final") else ",") for r in rows) + "\n",
                     encoding="utf-8")
    schedule = io.load_dividends(table)
    print(schedule)

    print(f"  {'date':<10}  {'KOSPI 200':>10}  {'TR':>10}  {'NTR':>10}  events")
    for j, date in enumerate(WEEK):
        events = schedule.on(date)
        if date == EX_DATE:
            theo = fam.theoretical_ex_dividend_level(schedule.expected(date), index="KOSPI 200")
            print(f"  {'':<10}  {kf.published(theo):>10,.2f}  {'':>10}  {'':>10}  theoretical ex-dividend level")
        fam.roll(events, date=date)  # the day's dividends and corrections, effective at the open
        base = fam.prices
        for code, amount in schedule.expected(date).items():  # payers open lower by their dividend
            base[u.code_index[code]] -= int(amount)
        day = kf.simulate_day(u, n_ticks=20_000, seed=40 + j, date=date, base_prices=base)
        fam.update_many(day.ids, day.prices)
        lv = [kf.published(float(fam.levels[k])) for k in cols]
        what = f"{len(events)} {', '.join(sorted({type(e).__name__ for e in events}))}" if events else ""
        print(f"  {date:<10}  {lv[0]:>10,.2f}  {lv[1]:>10,.2f}  {lv[2]:>10,.2f}  {what}".rstrip())
    assert bool((fam.levels == fam.recompute()).all()), "incremental == full recompute"
    tr, ntr = fam.levels[cols[1]], fam.levels[cols[2]]
    print(f"TR - NTR after the week: {tr - ntr:.4f} points (the withheld 15.4 % of the dividends)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
