"""``kospi-fast demo``: a full simulated KOSPI trading day on the bundled sample universe, then a
simulated week with cash dividends showing KOSPI and KOSPI TR (and NTR) side by side."""

from __future__ import annotations

import argparse
import sys
import time

from kospi_fast import io
from kospi_fast.cli._common import (
    PROGRESS_CHOICES,
    _check_plot,
    _outputs,
    _Progress,
    format_summary,
)
from kospi_fast.engine import IndexEngine
from kospi_fast.events import CashDividend, DividendCorrection
from kospi_fast.family import IndexFamily
from kospi_fast.publish import published
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE, sample_universe, simulate_day

#: The simulated week (Mon-Fri after the sample's date) and its dividend days.
WEEK = ("2026-03-23", "2026-03-24", "2026-03-25", "2026-03-26", "2026-03-27")
EX_DATE, CORRECTION_DATE = WEEK[2], WEEK[4]


__all__ = ["add_parser", "run"]

def add_parser(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="replay a full simulated trading day on the bundled sample universe")
    demo.add_argument("--ticks", type=int, default=2_000_000, help="number of trades (default 2,000,000)")
    demo.add_argument("--seed", type=int, default=20260323, help="random seed (default 20260323)")
    demo.add_argument("--top", type=int, default=10, help="how many top contributors to list")
    demo.add_argument("--plot", metavar="PNG", help="draw the day (level and top contributors) to this PNG")
    demo.add_argument("--progress", choices=PROGRESS_CHOICES, default="auto",
                      help="progress bar on stderr (auto: when stderr is a terminal)")
    demo.add_argument("--no-week", dest="week", action="store_false",
                      help="skip the simulated week of KOSPI and KOSPI TR with dividends")
    demo.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    _check_plot(args)
    universe = sample_universe()
    print(f"kospi_fast demo: a simulated KOSPI day on the bundled SAMPLE universe ({len(universe)} stocks)")
    print("  (sample data, not official KRX figures; see kospi_fast/data/SAMPLE_README.md)")
    t0 = time.perf_counter()
    day = simulate_day(universe, n_ticks=args.ticks, seed=args.seed)
    t_sim = time.perf_counter() - t0
    print(f"  simulated {len(day):,} trades for {day.date} (seed {day.seed}) in {t_sim:.2f} s")

    engine = IndexEngine(universe, level=SAMPLE_PREVIOUS_CLOSE)
    chunk = max(len(day) // 50, 1)
    batches = io.batches_from_arrays(day.times, day.ids, day.prices, batch_size=chunk)
    with _Progress(len(day), "replay", args.progress) as bar:
        result = io.replay_batches(batches, engine, grid="10s", on_batch=bar)
    if not result.exact:
        print("ERROR: incremental level differs from a full recompute", file=sys.stderr)
        return 1
    print()
    print(format_summary(result, top=args.top))
    _outputs(args, result, top=args.top, date=day.date)
    if args.week:
        return _week(universe, max(args.ticks // 5, 2 * len(universe)), args.seed)
    return 0


def _week(universe, ticks: int, seed: int) -> int:
    """KOSPI, KOSPI TR and KOSPI NTR over a simulated week: the ten largest stocks go ex an
    (estimated) dividend of 1.5% of their price mid-week, one estimate is corrected on Friday.
    Amounts are SIMULATED stand-ins, not KRX data."""
    fam = IndexFamily.kospi(universe, sectors=False, size=False, returns=("price", "total", "net"),
                            levels={"KOSPI": SAMPLE_PREVIOUS_CLOSE})
    payers = [universe.codes[i] for i in (universe.base_prices * universe.shares).argsort()[::-1][:10]]
    print()
    print(f"a simulated week, {ticks:,} trades a day, with cash dividends (SIMULATED amounts, not KRX data):")
    print("KOSPI and its total-return twins side by side (NTR: net of 15.4% withholding tax)")
    print(f"  {'date':<10}  {'KOSPI':>9}  {'KOSPI TR':>9}  {'KOSPI NTR':>9}  events")
    t0 = time.perf_counter()
    div: dict[str, int] = {}
    for j, date in enumerate(WEEK):
        events: list = []
        note = ""
        if date == EX_DATE:
            px = fam.prices
            div = {c: int(px[universe.code_index[c]]) * 15 // 1000 for c in payers}
            theo = fam.theoretical_ex_dividend_level(div)
            print(f"  {'':<10}  {published(theo):>9.2f}  {'':>9}  {'':>9}  theoretical ex-dividend KOSPI "
                  f"before {date}")
            events = [CashDividend(c, a, effective=date) for c, a in div.items()]
            note = f"{len(events)} stocks go ex-dividend (estimates)"
        elif date == CORRECTION_DATE:
            c = payers[0]
            final = div[c] * 12 // 10  # the approved amount is 20% higher than the estimate
            events = [DividendCorrection(c, final, effective=date)]
            note = f"{c}'s final dividend {final:,} won (estimate corrected)"
        fam.roll(events, date=date)
        base = fam.prices
        if date == EX_DATE:  # the market opens each payer lower by its dividend
            for ev in events:
                base[universe.code_index[ev.code]] -= int(ev.amount)
        day = simulate_day(universe, n_ticks=ticks, seed=seed + 1 + j, date=date, base_prices=base)
        fam.update_many(day.ids, day.prices, sample_at=[])
        lv = [published(x) for x in fam.levels]
        print(f"  {date:<10}  {lv[0]:>9.2f}  {lv[1]:>9.2f}  {lv[2]:>9.2f}  {note}")
    exact = bool((fam.levels == fam.recompute()).all())
    print(f"  week of {5 * ticks:,} trades, replay time {time.perf_counter() - t0:.2f} s; "
          f"levels == full recompute: {exact}")
    return 0 if exact else 1
