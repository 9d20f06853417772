"""What the subcommands share: the progress bar, the day summary, which index and which members."""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kospi_fast import io
from kospi_fast._clock import format_clock
from kospi_fast._optional import require
from kospi_fast.definitions import constituent_index, kospi_definition
from kospi_fast.engine import IndexEngine
from kospi_fast.family import IndexFamily
from kospi_fast.plot import plot_day
from kospi_fast.publish import published
from kospi_fast.session import IGNORED, STATUS
from kospi_fast.universe import Universe

__all__ = ["PROGRESS_CHOICES", "display_width", "fit", "format_summary", "index_book", "plain_text"]

PROGRESS_CHOICES = ("auto", "always", "never")


class _Progress:
    """A progress bar on stderr: rich if importable, else tqdm, else a plain text bar.

    ``mode``: ``'auto'`` (only when stderr is a terminal), ``'always'`` or ``'never'``.
    ``total`` may be None (length unknown, e.g. a CSV file): a running count is shown.
    """

    def __init__(self, total: int | None, label: str, mode: str = "auto") -> None:
        self.total, self.label, self.done = total, label, 0
        self.kind = "off"
        if mode == "never" or (mode == "auto" and not sys.stderr.isatty()):
            return
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                                console=Console(file=sys.stderr), transient=False)
            self.kind = "rich"
            return
        except ImportError:
            pass
        try:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="tick", unit_scale=True, file=sys.stderr, delay=0)
            self.kind = "tqdm"
        except ImportError:
            self.kind = "plain"

    def __enter__(self) -> _Progress:
        if self.kind == "rich":
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total)
        return self

    def __call__(self, n: int) -> None:
        self.done += n
        if self.kind == "rich":
            self.bar.update(self.task, advance=n)
        elif self.kind == "tqdm":
            self.bar.update(n)
        elif self.kind == "plain":
            if self.total:
                width = 30
                filled = int(width * self.done / self.total)
                sys.stderr.write(f"\r  {self.label} [{'#' * filled}{'.' * (width - filled)}] "
                                 f"{100 * self.done / self.total:5.1f}%")
            else:
                sys.stderr.write(f"\r  {self.label} {self.done:,} ticks")
            sys.stderr.flush()

    def __exit__(self, *exc: object) -> None:
        if self.kind == "rich":
            self.bar.stop()
        elif self.kind == "tqdm":
            self.bar.close()
        elif self.kind == "plain":
            sys.stderr.write("\n")
            sys.stderr.flush()


_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``|`([^`]+)`")


def add_time_options(parser: argparse.ArgumentParser) -> None:
    """``--time-format`` and ``--tz``: how a tick file's time column is read (replay, replay-days)."""
    parser.add_argument("--time-format", choices=tuple(io.TIME_FORMATS), default="auto", metavar="ENCODING",
                        help="encoding of the time column: auto (default: integers are ns since midnight KST, "
                             "timestamps and text as written), ns-/us-/ms-/s-since-midnight, epoch-s/ms/us/ns "
                             "(UTC epoch integers), krx-hhmmss/krx-hhmmssfff/krx-hhmmssffffff (KRX clock "
                             "integers)")
    parser.add_argument("--tz", default="Asia/Seoul",
                        help="zone of naive timestamps and of date-times without an offset (default Asia/Seoul; "
                             "e.g. UTC)")


def plain_text(rst: str) -> str:
    """Terminal text of a reStructuredText docstring (``--help``): roles and literals lose their
    markup (``:func:`~a.b``` -> ``b``, double backticks -> the text); the line breaks stay.

    >>> plain_text("``--index`` picks one (:func:`~kospi_fast.io.replay_file`)")
    '--index picks one (replay_file)'
    """
    text = _ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1] if m.group(0).count("~") else m.group(1), rst)
    return _LITERAL.sub(lambda m: m.group(1) or m.group(2), text).strip("\n")


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes: East Asian wide and fullwidth characters (Hangul, CJK)
    take two, combining marks none.

    >>> display_width("SK하이닉스"), display_width("Samsung")
    (10, 7)
    """
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def fit(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` terminal cells and padded with spaces to exactly
    ``width`` (a table column of Korean names lines up).

    >>> fit("한화에어로스페이스", 11) + "|"
    '한화에어로 |'
    """
    out, used = [], 0
    for c in text:
        w = display_width(c)
        if used + w > width:
            break
        out.append(c)
        used += w
    return "".join(out) + " " * (width - used)


def format_summary(result, *, top: int = 10, sectors: int = 5) -> str:
    """The day's summary table of a :class:`kospi_fast.io.ReplayResult` (demo and replay)."""
    r = result
    lines = [
        f"  previous close {published(r.previous_close):>12,.2f}",
        f"  open           {published(r.open):>12,.2f}   (after the trades at {format_clock(r.open_time)}, "
        "the opening auction)",
        f"  high           {published(r.high):>12,.2f}   at {format_clock(r.high_time)}",
        f"  low            {published(r.low):>12,.2f}   at {format_clock(r.low_time)}",
        f"  close          {published(r.close):>12,.2f}   ({r.change:+.2f} pts, {r.change_pct:+.2f}%)",
        f"  trades         {r.n_ticks:>12,}" + (f"   (volume {r.volume:,} shares)" if r.volume is not None else ""),
        f"  replay time    {r.seconds * 1e3:>12.1f} ms   ({r.ticks_per_second:,.0f} ticks/s end to end; "
        f"kernel {r.kernel_seconds * 1e3:.1f} ms, "
        f"{r.n_ticks / r.kernel_seconds if r.kernel_seconds > 0 else float('inf'):,.0f} ticks/s)",
        f"  exact check    level == full recompute: {r.exact}",
    ]
    checks = getattr(r, "checks", None)
    if checks is not None:
        rejected = r.rejected
        ignored = checks.get(STATUS[IGNORED], 0)
        lines.append(f"  KRX checks     {sum(rejected.values()):,} trades rejected, {ignored:,} off-hours ignored"
                     + ("" if rejected else " (every trade in the session accepted)"))
        for reason, count in sorted(rejected.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {count:>10,}  {reason}")
    adv, dec, unch = r.breadth()
    lines.append(f"  breadth        {adv} up, {dec} down, {unch} unchanged (members)")
    rows = r.top_contributors(top)
    if rows:  # --top 0: no header over an empty list
        lines.append(f"\n  top {len(rows)} contributors (index points)")
    for c in rows:
        lines.append(f"    {c['code']}  {fit(c['name'], 18)} {c['points']:+9.2f}  ({c['pct']:+.2f}%)")
    sec = list(r.sector_points().items())[:sectors]
    if sec:
        lines.append(f"\n  top {len(sec)} sectors (index points)")
        for name, pts in sec:
            lines.append(f"    {fit(name, 40)} {pts:+9.2f}")
    return "\n".join(lines)


def _check_plot(args: argparse.Namespace) -> None:
    """Fail before the replay, not after it, when --plot cannot be honoured."""
    if getattr(args, "plot", None):
        require("matplotlib", "plot", what="--plot")
        from matplotlib.figure import Figure

        kinds = Figure().canvas.get_supported_filetypes()
        suffix = Path(args.plot).suffix.lower().lstrip(".")
        if suffix not in kinds:
            what = f".{suffix}" if suffix else "suffix-less"
            raise ValueError(f"--plot {args.plot}: matplotlib cannot write a {what} chart; name a .png file "
                             f"(or one of: {', '.join('.' + k for k in sorted(kinds))})")


def _outputs(args: argparse.Namespace, result, *, top: int, date: object = None) -> None:
    if getattr(args, "plot", None):
        path = plot_day(result, args.plot, top=top, date=date)
        print(f"  chart          {path}")


# ------------------------------------------------------------------ which index, which members
#: What ``--members FILE`` may be, for KOSPI 200/100/50 (KRX publishes no file of them).
_MEMBERS_HELP = ("a KRX index-constituents download, an end-of-day table of the members, or a text/CSV "
                 "list of codes, one per line")


def _check_index(args: argparse.Namespace) -> None:
    """Refuse, before any file is read, an index whose constituents were not given."""
    base = constituent_index(args.index)
    if base is not None and not args.members:
        raise ValueError(f"--index {args.index!r} needs the {base} constituents, which KRX publishes no file of: "
                         f"give them with --members FILE ({_MEMBERS_HELP})")


def index_book(name: str, universe: Universe, members: np.ndarray, level: float | None = None, *,
               constituents: Sequence[str] | None = None, price_band: object = 0.30) -> object:
    """The book computing index ``name`` of the KOSPI family over ``universe``, calibrated to
    ``level`` (default: the base value 100).

    ``'KOSPI'``: an :class:`~kospi_fast.IndexEngine` over the market members ``members`` (bool
    mask). Any other index: a one-index :class:`~kospi_fast.IndexFamily` whose definition is
    :func:`~kospi_fast.definitions.kospi_definition` over the market members (size indices
    rank them, sector indices group them); KOSPI 200/100/50 are ``constituents`` (codes).
    """
    if name == "KOSPI":
        return IndexEngine(universe, level=level, members=members, price_band=price_band)
    return IndexFamily(universe, [kospi_definition(universe, name, members=members, constituents=constituents,
                                                   level=level)], price_band=price_band)


def _member_codes(path: str, date: object) -> tuple[str, ...]:
    """The codes of ``--members FILE``: :func:`kospi_fast.io.member_codes` (the members of a table
    :func:`kospi_fast.io.load_universe` reads, of ``date`` when it holds several; else a list of
    codes), the file named in its errors."""
    try:
        return io.member_codes(path, date=date)
    except (ValueError, FileNotFoundError) as exc:
        msg = str(exc)
        for prefix in ("members: ", "members "):
            if msg.startswith(prefix):
                raise type(exc)(f"--members {msg.removeprefix(prefix)}") from None
        raise type(exc)(f"--members {path}: {msg}") from None
