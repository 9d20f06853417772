"""A day's chart: the intraday level (previous close, high and low marked) against the clock
(KST), over a bar chart of the top contributors. Needs matplotlib
(``pip install 'kospi-fast[plot]'``); drawn with the Agg backend on a bare ``Figure``, so no GUI
and no global pyplot state are involved.

Stock names are Korean: they label the bars when matplotlib knows a font with Hangul glyphs
(NanumGothic, Noto Sans CJK, Malgun Gothic, AppleGothic, ...; found with
``matplotlib.font_manager``), and the codes alone do otherwise (names in ASCII always show).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from kospi_fast._clock import format_clock
from kospi_fast._optional import require
from kospi_fast._validation import iso_date

__all__ = ["DOWN", "UP", "plot_day"]

#: Korean market colours: red for a rise, blue for a fall.
UP, DOWN = "#d62728", "#1f5fbf"
#: Fonts with Hangul glyphs, in order of preference. Every Noto CJK family covers Hangul;
#: matplotlib names a .ttc collection by its first face (Debian's Noto CJK: "... CJK JP").
_HANGUL_FONTS = ("NanumGothic", "Nanum Gothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR",
                 "Malgun Gothic", "AppleGothic", "Apple SD Gothic Neo", "Noto Sans CJK JP", "Noto Sans CJK SC",
                 "Noto Sans CJK TC", "Noto Sans CJK HK", "Noto Serif CJK KR", "Noto Serif CJK JP", "UnDotum",
                 "Baekmuk Gulim")


def _hangul_font() -> str | None:
    """An installed font with Hangul glyphs, if any (stock names are Korean)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in _HANGUL_FONTS:
        if name in installed:
            return name
    return None


def _title_date(date: object) -> str:
    if date is None:
        return ""
    return f"{iso_date(date, 'date')}  "


def _label(code: str, name: str, hangul: bool) -> str:
    if name and name != code and (hangul or name.isascii()):
        return f"{code} {name[:16]}"
    return code


def plot_day(result, path: str | Path, *, top: int = 10, title: str | None = None, date: object = None,
             width: int = 1200, height: int = 800, dpi: int = 100) -> Path:
    """Draw a replayed day to a PNG.

    Parameters
    ----------
    result : kospi_fast.io.ReplayResult, kospi_fast.distributed.DayResult or kospi_fast.publish.DaySummary
        A day's summary; its 1 s chart series when it has one (a ``ReplayResult``), else its
        grid series.
    path : str or Path
        Output file (PNG; another suffix matplotlib knows also works).
    top : int
        Contributors in the bar chart.
    title : str, optional
        Replaces the default title (date, index, close, change, trades).
    date : date or ISO str, optional
        The trading day, shown in the title; default: ``result.date`` when it has one (a
        ``DayResult``).
    width, height : int
        Pixel size of the image.
    dpi : int

    Returns
    -------
    Path
    """
    require("matplotlib", "plot", what="kospi_fast.plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    if width <= 0 or height <= 0 or dpi <= 0:
        raise ValueError(f"`width`, `height` and `dpi` must be > 0, got {width}, {height}, {dpi}")
    path = Path(path)
    when = _title_date(date if date is not None else getattr(result, "date", None))
    font = _hangul_font()
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax, bx = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2], "hspace": 0.45})
    fig.subplots_adjust(left=0.15, right=0.96, top=0.94, bottom=0.08)

    # -- intraday level: the chart series (1 s), with the previous close and the day's extremes
    chart = getattr(result, "chart_times", None) is not None
    t, lv = (result.chart_times, result.chart_levels) if chart else (result.grid_times, result.grid_levels)
    if t.size:
        ax.plot(t, lv, color="0.15", lw=1.0, label=f"{result.index} ({'1 s' if chart else result.grid})")
        ax.fill_between(t, lv, result.previous_close, where=lv >= result.previous_close, color=UP,
                        alpha=0.12, lw=0, interpolate=True)
        ax.fill_between(t, lv, result.previous_close, where=lv < result.previous_close, color=DOWN,
                        alpha=0.12, lw=0, interpolate=True)
    ax.axhline(result.previous_close, color="0.45", ls="--", lw=1.0,
               label=f"previous close {result.previous_close:,.2f}")
    if result.n_ticks:
        ax.plot([result.high_time], [result.high], marker="^", color=UP, ms=9, ls="none",
                label=f"high {result.high:,.2f} at {format_clock(result.high_time, seconds=False)}")
        ax.plot([result.low_time], [result.low], marker="v", color=DOWN, ms=9, ls="none",
                label=f"low {result.low:,.2f} at {format_clock(result.low_time, seconds=False)}")
    span = float(t[-1] - t[0]) if t.size > 1 else 0.0
    hour = 3600e9
    ax.xaxis.set_major_locator(MultipleLocator(hour if span > 3 * hour else hour / 4 if span > hour / 2 else 60e9))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_clock(x, seconds=False)))
    ax.set_axisbelow(True)
    ax.set_ylabel("index level")
    ax.set_xlabel("time (KST)")
    ax.grid(True, color="0.9")
    ax.legend(loc="best", fontsize=8, frameon=False)
    sign = UP if result.change >= 0 else DOWN
    ax.set_title(title or f"{when}{result.index}: close {result.close:,.2f} ({result.change:+,.2f}, "
                 f"{result.change_pct:+.2f}%)  {result.n_ticks:,} trades", color=sign, fontsize=11)

    # -- top contributors, largest |points| at the top
    rows = result.top_contributors(top)[::-1]
    pts = np.array([r["points"] for r in rows], dtype=np.float64)
    labels = [_label(r["code"], r["name"], font is not None) for r in rows]
    y = np.arange(len(rows))
    bx.barh(y, pts, color=[UP if p >= 0 else DOWN for p in pts], height=0.7)
    bx.set_yticks(y)
    bx.set_yticklabels(labels, fontsize=8, **({"fontfamily": font} if font else {}))
    bx.set_axisbelow(True)
    bx.axvline(0, color="0.3", lw=0.8)
    bx.set_xlabel("contribution to the day's move (index points)")
    bx.set_title(f"top {len(rows)} contributors", fontsize=10)
    bx.grid(True, axis="x", color="0.9")
    for yi, p in zip(y, pts):
        bx.annotate(f"{p:+.2f}", (p, yi), xytext=(3 if p >= 0 else -3, 0), textcoords="offset points",
                    ha="left" if p >= 0 else "right", va="center", fontsize=7)
    if pts.size:
        lim = float(np.abs(pts).max()) * 1.2 or 1.0
        bx.set_xlim(-lim if (pts < 0).any() else -0.05 * lim, lim if (pts > 0).any() else 0.05 * lim)

    with warnings.catch_warnings():
        # a glyph missing from the fallback font must not abort a run (pytest: warnings = errors)
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        fig.savefig(path, dpi=dpi)
    return path
