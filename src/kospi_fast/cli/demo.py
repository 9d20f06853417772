"""``kospi-fast demo``: a full simulated KOSPI trading day on the bundled sample universe."""

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
from kospi_fast.sample import SAMPLE_PREVIOUS_CLOSE, sample_universe, simulate_day


def add_parser(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="replay a full simulated trading day on the bundled sample universe")
    demo.add_argument("--ticks", type=int, default=2_000_000, help="number of trades (default 2,000,000)")
    demo.add_argument("--seed", type=int, default=20260323, help="random seed (default 20260323)")
    demo.add_argument("--top", type=int, default=10, help="how many top contributors to list")
    demo.add_argument("--plot", metavar="PNG", help="draw the day (level and top contributors) to this PNG")
    demo.add_argument("--progress", choices=PROGRESS_CHOICES, default="auto",
                      help="progress bar on stderr (auto: when stderr is a terminal)")
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
    _outputs(args, result, top=args.top)
    return 0
