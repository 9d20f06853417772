"""Intraday check on real data: the KOSPI level from snapshots of member prices, through the
engine, against the level KRX published at the same moment.

Input: a snapshot table (``../shared/data/kospi_intraday_snapshots_*.csv`` layout): one row per
member per snapshot with ``snapshot``, ``time_kst``, ``date``, ``phase``, ``kospi`` (the level
read in that run), ``code``, ``price``, ``base_price`` (the day's base price) and ``shares``
(listed). Each snapshot is computed as :func:`kospi_fast.eod.verify` computes a close
(methodology decision 10): an :class:`~kospi_fast.IndexEngine` over the snapshot's members at
their base prices and listed shares, calibrated to the previous published close, then the
snapshot's prices as trades.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kospi_fast._validation import as_date
from kospi_fast.engine import IndexEngine
from kospi_fast.universe import Universe

SNAPSHOT_COLUMNS = ("snapshot", "time_kst", "date", "phase", "kospi", "code", "price", "base_price", "shares")
PHASES = ("open", "continuous", "closing", "final")

__all__ = [
    "SNAPSHOT_COLUMNS",
    "PHASES",
    "Snapshot",
    "SnapshotResult",
    "read_snapshots",
    "verify_snapshots",
    "phase_summary",
    "report_snapshots",
    "last_of_day",
]


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One read of the market: the members' prices and the published level at ``time``."""

    snapshot: str
    time: str
    date: str
    phase: str
    published: float
    codes: tuple[str, ...]
    prices: np.ndarray  # int64
    base_prices: np.ndarray  # int64
    shares: np.ndarray  # int64


@dataclass(frozen=True)
class SnapshotResult:
    snapshot: str
    time: str
    phase: str
    published: float
    computed: float
    error_bp: float


def _int_cell(path: Path, line: int, rec: dict, col: str, positive: bool) -> int:
    raw = rec[col]
    try:
        v = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: line {line}: `{col}` is not a whole number: {raw!r}") from None
    if v < 0 or (positive and v == 0):
        raise ValueError(f"{path}: line {line}: `{col}` must be {'> 0' if positive else '>= 0'}, got {v}")
    return v


def read_snapshots(path: str | Path) -> list[Snapshot]:
    """Read a snapshot table into snapshots, in file order.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A missing column, a bad cell, a phase outside :data:`PHASES`, a code twice in one
        snapshot, or a snapshot whose time, date, phase or level change between its rows; the
        message names the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"snapshot file {str(path)!r} does not exist")
    groups: dict[str, dict] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in SNAPSHOT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}; have {reader.fieldnames}")
        for line, rec in enumerate(reader, start=2):
            sid = rec["snapshot"]
            if not sid:
                raise ValueError(f"{path}: line {line}: empty `snapshot`")
            if rec["phase"] not in PHASES:
                raise ValueError(f"{path}: line {line}: `phase` must be one of {PHASES}, got {rec['phase']!r}")
            try:
                level = float(rec["kospi"])
                day = as_date(rec["date"], "date").isoformat()
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path}: line {line}: {exc}") from None
            if not np.isfinite(level) or level <= 0:
                raise ValueError(f"{path}: line {line}: `kospi` must be a level > 0, got {rec['kospi']!r}")
            head = (rec["time_kst"], day, rec["phase"], level)
            g = groups.get(sid)
            if g is None:
                g = groups[sid] = {"head": head, "line": line, "codes": [], "seen": set(), "price": [],
                                   "base": [], "shares": []}
            elif g["head"] != head:
                raise ValueError(f"{path}: line {line}: snapshot {sid!r} changes its time/date/phase/level "
                                 f"from line {g['line']}: {g['head']} -> {head}")
            code = rec["code"].strip()
            if len(code) != 6:
                raise ValueError(f"{path}: line {line}: `code` must be a 6-character KRX code, got {rec['code']!r}")
            if code in g["seen"]:
                raise ValueError(f"{path}: line {line}: {code!r} appears twice in snapshot {sid!r}")
            g["seen"].add(code)
            g["codes"].append(code)
            g["price"].append(_int_cell(path, line, rec, "price", True))
            g["base"].append(_int_cell(path, line, rec, "base_price", True))
            g["shares"].append(_int_cell(path, line, rec, "shares", False))
    if not groups:
        raise ValueError(f"{path}: no snapshot rows")
    out = []
    for sid, g in groups.items():
        time, day, phase, level = g["head"]
        out.append(Snapshot(sid, time, day, phase, level, tuple(g["codes"]),
                            np.array(g["price"], dtype=np.int64), np.array(g["base"], dtype=np.int64),
                            np.array(g["shares"], dtype=np.int64)))
    return out


def _previous_close(published: Mapping[str, float], day: str) -> float:
    before = [d for d in published if d < day]
    if not before:
        raise ValueError(f"no published close before {day} to calibrate from")
    return published[max(before)]


def verify_snapshots(snapshots: list[Snapshot], published: Mapping[str, float]) -> list[SnapshotResult]:
    """Each snapshot's level through the engine, calibrated to the previous published close
    (``published``: {ISO date: close}, e.g. :func:`kospi_fast.eod.read_index_csv`)."""
    out = []
    for s in snapshots:
        held = s.shares > 0
        codes = [c for c, h in zip(s.codes, held) if h]
        u = Universe(codes, codes, s.shares[held], s.base_prices[held])
        engine = IndexEngine(u, level=_previous_close(published, s.date))
        engine.update_many(np.arange(len(codes)), s.prices[held])
        level = float(engine.level)
        out.append(SnapshotResult(s.snapshot, s.time, s.phase, s.published, level,
                                  (level / s.published - 1.0) * 1e4))
    return out


def phase_summary(results: list[SnapshotResult]) -> dict[str, dict]:
    """{phase: {n, median_abs_bp, p90_abs_bp, max_abs_bp}} over the absolute errors, phases in day order."""
    out = {}
    for ph in PHASES:
        e = np.array([abs(r.error_bp) for r in results if r.phase == ph])
        if e.size:
            out[ph] = {"n": int(e.size), "median_abs_bp": float(np.median(e)),
                       "p90_abs_bp": float(np.percentile(e, 90)), "max_abs_bp": float(e.max())}
    return out


def last_of_day(results: list[SnapshotResult], snapshots: list[Snapshot]) -> list[SnapshotResult]:
    """Each day's last snapshot (the post-close read that carries the official close)."""
    last: dict[str, int] = {}
    for k, s in enumerate(snapshots):
        if s.date not in last or s.time > snapshots[last[s.date]].time:
            last[s.date] = k
    return [results[k] for k in sorted(last.values())]


def report_snapshots(results: list[SnapshotResult], snapshots: list[Snapshot], *, as_json: bool = False) -> str:
    phases = phase_summary(results)
    closes = last_of_day(results, snapshots)
    worst_close = max(abs(r.error_bp) for r in closes)
    if as_json:
        return json.dumps({
            "snapshots": [{"snapshot": r.snapshot, "time": r.time, "phase": r.phase, "published": r.published,
                           "computed": round(r.computed, 6), "error_bp": round(r.error_bp, 6)} for r in results],
            "phases": {ph: {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}
                       for ph, d in phases.items()},
            "max_abs_error_bp_last_of_day": round(worst_close, 6),
        }, indent=2, ensure_ascii=False)
    lines = [f"{'snapshot':<10}{'time (KST)':<27}{'phase':<12}{'published':>11}{'computed':>13}{'error bp':>10}"]
    for r in results:
        lines.append(f"{r.snapshot:<10}{r.time:<27}{r.phase:<12}{r.published:>11,.2f}{r.computed:>13,.4f}"
                     f"{r.error_bp:>10.3f}")
    lines.append("")
    lines.append(f"{'phase':<12}{'n':>4}{'median |bp|':>13}{'p90 |bp|':>10}{'max |bp|':>10}")
    for ph, d in phases.items():
        lines.append(f"{ph:<12}{d['n']:>4}{d['median_abs_bp']:>13.3f}{d['p90_abs_bp']:>10.3f}{d['max_abs_bp']:>10.3f}")
    lines.append(f"last snapshot of each day (post-close): max |error| {worst_close:.3f} bp over {len(closes)} days")
    return "\n".join(lines)
