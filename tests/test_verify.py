"""The end-of-day path: loaders, events derived from two days, verify() against published closes
(synthetic files by hand everywhere; the real KRX files in ../shared when present), and the CLI."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

import kospi_fast
from kospi_fast import cli, eod
from kospi_fast.events import Delisting, NewListing, SetListedShares, SetReferencePrice

from conftest import shared_path

LAYOUT = ("Date", "Code", "ISU_CD", "Name", "Market", "Close", "Changes", "ChagesRatio", "Open", "High", "Low",
          "Volume", "Amount", "Marcap", "Stocks", "InKOSPIIndex")


def write_eod(path: Path, rows: list[tuple], drop: tuple[str, ...] = ()) -> Path:
    """rows: (Date, Code, Name, Close, Changes, Stocks, InKOSPIIndex); cells may be raw strings."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([c for c in LAYOUT if c not in drop])
        for date, code, name, close, changes, stocks, member in rows:
            try:
                ratio = f"{100 * float(changes) / (float(close) - float(changes)):.2f}"
                marcap = str(int(float(close)) * int(float(stocks)))
            except (ValueError, ZeroDivisionError, OverflowError):
                ratio, marcap = "0", "0"
            full = {
                "Date": date, "Code": code, "ISU_CD": f"KR7{str(code).zfill(6)}003", "Name": name,
                "Market": "KOSPI", "Close": close, "Changes": changes, "ChagesRatio": ratio, "Open": close,
                "High": close, "Low": close, "Volume": 1000, "Amount": 123456, "Marcap": marcap,
                "Stocks": stocks, "InKOSPIIndex": member,
            }
            w.writerow([full[c] for c in LAYOUT if c not in drop])
    return path


def write_index(path: Path, closes: dict[str, float]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Date", "Close", "UpDown", "Comp", "Change"])
        for d, c in closes.items():
            w.writerow([d, c, 1, 0.0, 0.0])
    return path


# ------------------------------------------------------------------ a hand-made 3-stock, 3-day file
A, B, C = "000010", "000020", "000030"
D1, D2, D3 = "2026-01-05", "2026-01-06", "2026-01-07"
ROWS = [
    # day 1: A and B are members; C is listed (its listing day) but not yet a member
    (D1, A, "Alpha", 10_000, 100, 1_000, 1),
    (D1, B, "Beta", 5_000, -50, 2_000, 1),
    (D1, C, "Gamma", 20_000, 0, 300, 0),
    # day 2: A goes ex-rights (base 9670, not yesterday's 10000) and has 1200 shares; B leaves
    # (still listed); C joins at its listing-day close 20000
    (D2, A, "Alpha", 9_800, 130, 1_200, 1),
    (D2, B, "Beta", 5_100, 100, 2_000, 0),
    (D2, C, "Gamma", 21_000, 1_000, 300, 1),
    # day 3: B is gone from the file; C has 350 shares
    (D3, A, "Alpha", 9_900, 100, 1_200, 1),
    (D3, C, "Gamma", 20_500, -500, 350, 1),
]
PUBLISHED = {D1: 1000.00, D2: 1025.90, D3: 1022.95}


def hand_level(prev_level: float, date: str) -> Fraction:
    """Methodology rule: level_t = level_{t-1} × Σ close·stocks / Σ (close − changes)·stocks, members."""
    members = [r for r in ROWS if r[0] == date and r[6] == 1]
    num = sum(close * stocks for _, _, _, close, _, stocks, _ in members)
    den = sum((close - chg) * stocks for _, _, _, close, chg, stocks, _ in members)
    return Fraction(prev_level) * num / den


@pytest.fixture
def synthetic(tmp_path) -> tuple[Path, Path]:
    return write_eod(tmp_path / "eod.csv", ROWS), write_index(tmp_path / "index.csv", PUBLISHED)


def test_hand_arithmetic():
    # the file really has an ex-date: A's change is not close − previous close
    assert 9_800 - 10_000 != 130
    # 1000 × (9800·1200 + 21000·300) / (9670·1200 + 20000·300) = 1000 × 18,060,000 / 17,604,000
    assert hand_level(1000.0, D2) == Fraction(1000 * 18_060_000, 17_604_000)
    assert round(float(hand_level(PUBLISHED[D1], D2)), 2) == PUBLISHED[D2]
    # 1025.90 × (9900·1200 + 20500·350) / (9800·1200 + 21000·350) = 1025.90 × 19,055,000 / 19,110,000
    assert hand_level(1025.90, D3) == Fraction(1025.90) * 19_055_000 / 19_110_000
    assert round(float(hand_level(PUBLISHED[D2], D3)), 2) == PUBLISHED[D3]


def test_read_eod_csv_synthetic(synthetic):
    days = eod.read_eod_csv(synthetic[0])
    assert [d.date for d in days] == [D1, D2, D3]
    d2 = days[1]
    assert d2.codes == (A, B, C) and d2.names == ("Alpha", "Beta", "Gamma")
    assert d2.close.tolist() == [9_800, 5_100, 21_000]
    assert d2.changes.tolist() == [130, 100, 1_000]
    assert d2.base_price.tolist() == [9_670, 5_000, 20_000]
    assert d2.stocks.tolist() == [1_200, 2_000, 300]
    assert d2.member.tolist() == [True, False, True]
    assert d2.close.dtype.kind == "i" and d2.row(C) == 2
    assert days[2].codes == (A, C)


def test_events_for_day_synthetic(synthetic):
    d1, d2, d3 = eod.read_eod_csv(synthetic[0])
    engine = eod.engine_from_eod(d1, PUBLISHED[D1], extra=[d2])
    assert engine.level == pytest.approx(1000.0, rel=1e-15)
    assert engine.members.tolist() == [True, True, False]
    events = eod.events_for_day(engine, d2)
    expected = [
        SetReferencePrice(A, 9_670),
        SetListedShares(A, 1_200),
        NewListing(C, 300, 20_000, name="Gamma"),
        Delisting(B),
    ]
    assert Counter(events) == Counter(expected) and len(events) == 4
    e3 = eod.engine_from_eod(d2, PUBLISHED[D2], extra=[d3])
    assert eod.events_for_day(e3, d3) == [SetListedShares(C, 350)]


def test_verify_synthetic_matches_hand_levels(synthetic):
    days = eod.read_eod_csv(synthetic[0])
    published = eod.read_index_csv(synthetic[1])
    assert published == PUBLISHED
    results = eod.verify(days, published)
    assert [r.date for r in results] == [D2, D3]
    assert [r.n_events for r in results] == [4, 1]
    for r in results:
        prev = D1 if r.date == D2 else D2
        expected = float(hand_level(published[prev], r.date))
        assert r.computed == pytest.approx(expected, rel=1e-9, abs=0)
        assert r.published == published[r.date]
        assert r.error_bp == pytest.approx((r.computed / r.published - 1) * 1e4, rel=1e-9)
    # the published closes are the hand levels rounded: errors are under half a cent
    assert all(abs(r.computed - r.published) <= 0.005 for r in results)


def test_verify_synthetic_chain(synthetic):
    days = eod.read_eod_csv(synthetic[0])
    results = eod.verify(days, PUBLISHED, chain=True)
    l2 = hand_level(PUBLISHED[D1], D2)
    l3 = l2 * 19_055_000 / 19_110_000  # carried from the computed (unrounded) day-2 close
    assert results[0].computed == pytest.approx(float(l2), rel=1e-9, abs=0)
    assert results[1].computed == pytest.approx(float(l3), rel=1e-9, abs=0)


def test_engine_follows_the_synthetic_days_by_hand(synthetic):
    d1, d2, _ = eod.read_eod_csv(synthetic[0])
    engine = eod.engine_from_eod(d1, 1000.0, extra=[d2])
    engine.roll(eod.events_for_day(engine, d2), date=D2)
    assert engine.reference_prices.tolist() == [9_670, 5_000, 20_000]
    assert engine.index_shares.tolist() == [1_200, 0, 300]
    assert engine.level == pytest.approx(1000.0, rel=1e-15)
    level = eod.close_day(engine, d2)
    assert level == pytest.approx(float(hand_level(1000.0, D2)), rel=1e-12)
    assert engine.prices.tolist() == [9_800, 5_000, 21_000]  # the leaver's close is not a trade


def test_report_text_and_json(synthetic):
    results = eod.verify(eod.read_eod_csv(synthetic[0]), PUBLISHED)
    text = eod.report(results)
    assert D2 in text and "1,025.90" in text
    assert text.splitlines()[-1].endswith("over 2 day pairs")
    obj = json.loads(eod.report(results, as_json=True))
    assert obj["max_abs_error_bp"] == pytest.approx(max(abs(r.error_bp) for r in results), abs=1e-6)


def test_cli_verify_synthetic(synthetic, capsys):
    rc = cli.main(["verify", "--eod", str(synthetic[0]), "--index", str(synthetic[1]), "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    obj = json.loads(out)
    assert [p["date"] for p in obj["pairs"]] == [D2, D3]
    assert obj["pairs"][0]["published"] == 1025.90
    assert obj["pairs"][0]["computed"] == pytest.approx(float(hand_level(1000.0, D2)), abs=1e-6)
    assert obj["max_abs_error_bp"] == pytest.approx(max(abs(p["error_bp"]) for p in obj["pairs"]), abs=1e-6)
    assert cli.main(["verify", "--eod", str(synthetic[0]), "--index", str(synthetic[1]),
                     "--tolerance-bp", "1e-9"]) == 1
    assert "exceeds the tolerance" in capsys.readouterr().err


def test_cli_verify_subprocess(synthetic):
    env = dict(os.environ)
    # the directory the imported kospi_fast lives in: the installed package, or src/ in a dev run
    env["PYTHONPATH"] = os.pathsep.join([str(Path(kospi_fast.__file__).resolve().parents[1])]
                                        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    proc = subprocess.run(
        [sys.executable, "-m", "kospi_fast.cli", "verify", "--eod", str(synthetic[0]), "--index",
         str(synthetic[1]), "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout)
    assert set(obj) >= {"pairs", "max_abs_error_bp"}
    assert [p["date"] for p in obj["pairs"]] == [D2, D3]
    for p in obj["pairs"]:
        assert set(p) >= {"date", "published", "computed", "error_bp"}
        assert abs(p["error_bp"]) < 0.05  # within half a cent of a ~1000 level


# ------------------------------------------------------------------ loader and input errors
GOOD = [(D1, A, "Alpha", 10_000, 0, 10, 1), (D1, B, "Beta", 5_000, 0, 20, 1),
        (D2, A, "Alpha", 10_100, 100, 10, 1), (D2, B, "Beta", 5_000, 0, 20, 1)]


def test_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        eod.read_eod_csv(missing)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        eod.read_index_csv(missing)
    index = write_index(tmp_path / "index.csv", PUBLISHED)
    assert cli.main(["verify", "--eod", str(missing), "--index", str(index)]) == 2
    assert "nope.csv" in capsys.readouterr().err


@pytest.mark.parametrize("column", ["Date", "Code", "Name", "Close", "Changes", "Stocks", "InKOSPIIndex"])
def test_missing_column(tmp_path, column, capsys):
    path = write_eod(tmp_path / "eod.csv", GOOD, drop=(column,))
    with pytest.raises(ValueError, match=f"missing column.*'{column}'"):
        eod.read_eod_csv(path)
    index = write_index(tmp_path / "index.csv", PUBLISHED)
    assert cli.main(["verify", "--eod", str(path), "--index", str(index)]) == 2
    assert column in capsys.readouterr().err


def test_only_the_read_columns_are_needed(tmp_path):
    unread = tuple(c for c in LAYOUT if c not in eod.EOD_COLUMNS)
    days = eod.read_eod_csv(write_eod(tmp_path / "eod.csv", GOOD, drop=unread))
    assert [d.close.tolist() for d in days] == [[10_000, 5_000], [10_100, 5_000]]


@pytest.mark.parametrize("column,value,problem", [("Close", "abc", "is not a number"), ("Close", "", "has no value"),
                                                  ("Changes", "n/a", "is not a number"),
                                                  ("Stocks", "many", "is not a number"),
                                                  ("InKOSPIIndex", "yes", "is not a number"),
                                                  ("InKOSPIIndex", "2", "must be 0 or 1")])
def test_bad_cell_names_line_and_column(tmp_path, column, value, problem):
    rows = [list(r) for r in GOOD]
    pos = {"Close": 3, "Changes": 4, "Stocks": 5, "InKOSPIIndex": 6}[column]
    rows[2][pos] = value  # third data row = line 4 of the file
    path = write_eod(tmp_path / "eod.csv", [tuple(r) for r in rows])
    with pytest.raises(ValueError, match=rf"line 4: column '{column}' {problem}") as info:
        eod.read_eod_csv(path)
    assert str(path) in str(info.value)


def test_thousands_separators_are_read(tmp_path):
    # the one FDR reader (kospi_fast.io) reads '1,000' as 1000, as KRX downloads write it
    rows = [list(r) for r in GOOD]
    rows[2][3] = "10,100"
    days = eod.read_eod_csv(write_eod(tmp_path / "eod.csv", [tuple(r) for r in rows]))
    assert days[1].close.tolist() == [10_100, 5_000]


@pytest.mark.parametrize("close,changes", [(0, 0), (5_000, 5_000)])
def test_close_and_base_price_must_be_positive(tmp_path, close, changes):
    rows = [list(r) for r in GOOD]
    rows[1][3], rows[1][4] = close, changes
    with pytest.raises(ValueError, match=r"line 3: (column 'Close' must be > 0|Close − Changes = 0)"):
        eod.read_eod_csv(write_eod(tmp_path / "eod.csv", [tuple(r) for r in rows]))


def test_eod_days_are_the_io_universes(tmp_path):
    from kospi_fast import io

    path = write_eod(tmp_path / "eod.csv", ROWS)
    for day, lu in zip(eod.read_eod_csv(path), io.universes_from_fdr(path, market=None)):
        assert day.date == lu.date and day.codes == lu.universe.codes
        assert day.close.tolist() == lu.close.tolist() and day.base_price.tolist() == lu.previous.tolist()
        assert day.stocks.tolist() == lu.universe.shares.tolist() and day.member.tolist() == lu.members.tolist()
        one = io.universe_from_fdr(path, date=day.date, market=None)
        assert one.universe.codes == lu.universe.codes and one.close.tolist() == lu.close.tolist()


def test_fractional_cell_is_refused(tmp_path):
    rows = [list(r) for r in GOOD]
    rows[1][3] = "5000.5"
    with pytest.raises(ValueError, match=r"line 3: column 'Close' must be a whole number"):
        eod.read_eod_csv(write_eod(tmp_path / "eod.csv", [tuple(r) for r in rows]))
    rows[1][3] = "5000.0"  # a whole number written as a float is fine
    assert eod.read_eod_csv(write_eod(tmp_path / "eod.csv", [tuple(r) for r in rows]))[0].close[1] == 5_000


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_non_finite_close_names_row_and_column(tmp_path, value):
    rows = [list(r) for r in GOOD]
    rows[2][3] = value
    with pytest.raises(ValueError, match=r"line 4: column 'Close'"):
        eod.read_eod_csv(write_eod(tmp_path / "eod.csv", [tuple(r) for r in rows]))


def test_short_row_names_the_row(tmp_path):
    path = write_eod(tmp_path / "eod.csv", GOOD)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = ",".join(lines[2].split(",")[:4])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3: column 'Close' has no value"):
        eod.read_eod_csv(path)


def test_duplicate_code_on_a_day(tmp_path):
    rows = GOOD[:2] + [(D1, "10", "Alpha again", 10_000, 0, 10, 1)] + GOOD[2:]
    with pytest.raises(ValueError, match=rf"eod.csv: line 4: duplicate code '{A}' \(first at line 2\)"):
        eod.read_eod_csv(write_eod(tmp_path / "eod.csv", rows))


def test_same_code_on_two_days_is_fine(tmp_path):
    days = eod.read_eod_csv(write_eod(tmp_path / "eod.csv", GOOD))
    assert [d.codes for d in days] == [(A, B), (A, B)]


def test_codes_are_zero_filled(tmp_path):
    rows = [(D1, "5930", "Samsung", 70_000, 0, 10, 1), (D1, "660", "Hynix", 150_000, 0, 5, 1),
            (D1, "035420", "Naver", 200_000, 0, 3, 0)]
    (day,) = eod.read_eod_csv(write_eod(tmp_path / "eod.csv", rows))
    assert day.codes == ("005930", "000660", "035420")
    assert day.member.tolist() == [True, True, False]


def test_days_come_out_in_date_order(tmp_path):
    days = eod.read_eod_csv(write_eod(tmp_path / "eod.csv", GOOD[2:] + GOOD[:2]))
    assert [d.date for d in days] == [D1, D2]
    assert days[1].close.tolist() == [10_100, 5_000]


def test_index_csv_errors(tmp_path):
    p = tmp_path / "idx.csv"
    p.write_text("Date,Last\n2026-01-05,1000\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"idx.csv: missing column 'Close' .*the columns are \['Date', 'Last'\]"):
        eod.read_index_csv(p)
    p.write_text("Date,Close\n2026-01-05,1000\n2026-01-06,abc\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"idx.csv: line 3: column 'Close' is not a number: 'abc'"):
        eod.read_index_csv(p)
    p.write_text("Date,Close\n2026-01-05,1000\n06/01/2026,1001\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"idx.csv: line 3: column 'Date' is not a date: '06/01/2026'"):
        eod.read_index_csv(p)
    p.write_text("Date,Close\n2026-01-05,1000\n2026-01-05,1001\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"idx.csv: line 3: the date 2026-01-05 repeats line 2"):
        eod.read_index_csv(p)
    p.write_text("Date,Close\n20260105,1000\n2026/01/06,1001\n", encoding="utf-8")
    assert eod.read_index_csv(p) == {"2026-01-05": 1000.0, "2026-01-06": 1001.0}


def test_verify_input_errors(tmp_path):
    days = eod.read_eod_csv(write_eod(tmp_path / "eod.csv", GOOD))
    with pytest.raises(ValueError, match="at least two days"):
        eod.verify(days[:1], PUBLISHED)
    with pytest.raises(ValueError, match=f"no published index close for {D2}"):
        eod.verify(days, {D1: 1000.0})


# ------------------------------------------------------------------ real KRX data
REAL_DATES = ["2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13", "2026-03-16", "2026-03-17",
              "2026-03-18", "2026-03-19", "2026-03-20"]


@pytest.fixture(scope="module")
def real_paths() -> tuple[Path, Path]:
    return (shared_path("data", "kospi_stocks_eod_20260309_20260320.csv"),
            shared_path("data", "kospi_index_daily_19950502_20260320.csv"))


@pytest.fixture(scope="module")
def real_days(real_paths):
    return eod.read_eod_csv(real_paths[0]), eod.read_index_csv(real_paths[1])


@pytest.mark.realdata
def test_real_data_loads(real_days):
    days, published = real_days
    assert len(days) == 10 and days[0].date == "2026-03-09" and days[-1].date == "2026-03-20"
    assert all(int(d.member.sum()) == 837 for d in days)
    assert days[0].codes[0] == "005930" and days[0].close[0] == 173_500
    assert published["2026-03-09"] == 5251.87 and published["2026-03-20"] == 5781.2


@pytest.mark.realdata
def test_real_data_verify_within_0_2_bp(real_days):
    days, published = real_days
    results = eod.verify(days, published)
    assert len(results) == 9
    assert [r.date for r in results] == REAL_DATES
    for r in results:
        assert r.published == published[r.date]
        assert abs(r.error_bp) <= 0.2, (r.date, r.error_bp)
    assert all(r.n_events > 0 for r in results)  # every real day has rebasing events


@pytest.mark.realdata
def test_real_data_verify_equals_plain_rule(real_paths, real_days):
    """The engine's close equals the methodology's one-line rule computed straight from the CSV."""
    days, published = real_days
    by_day: dict[str, list[tuple[int, int, int]]] = {}
    with real_paths[0].open(encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["InKOSPIIndex"] == "1":
                by_day.setdefault(r["Date"], []).append((int(r["Close"]), int(r["Changes"]), int(r["Stocks"])))
    dates = sorted(by_day)
    results = {r.date: r for r in eod.verify(days, published)}
    for prev, date in zip(dates[:-1], dates[1:]):
        num = sum(c * s for c, _, s in by_day[date])
        den = sum((c - ch) * s for c, ch, s in by_day[date])
        plain = float(Fraction(published[prev]) * num / den)
        assert results[date].computed == pytest.approx(plain, rel=1e-12, abs=0)


@pytest.mark.realdata
def test_real_data_chain_within_0_5_bp(real_days):
    days, published = real_days
    chained = eod.verify(days, published, chain=True)
    assert [r.date for r in chained] == REAL_DATES
    assert max(abs(r.error_bp) for r in chained) <= 0.5
    first = eod.verify(days[:2], published)[0]
    assert chained[0].computed == first.computed  # same start, same first day


@pytest.mark.realdata
def test_real_data_cli_json(real_paths, capsys):
    rc = cli.main(["verify", "--eod", str(real_paths[0]), "--index", str(real_paths[1]), "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    obj = json.loads(out)
    assert [p["date"] for p in obj["pairs"]] == REAL_DATES
    for p in obj["pairs"]:
        assert set(p) >= {"date", "published", "computed", "error_bp"}
        assert abs(p["error_bp"]) <= 0.2
        assert abs(p["computed"] - p["published"]) <= 0.2e-4 * p["published"]
    assert obj["pairs"][0]["published"] == 5532.59
    assert obj["max_abs_error_bp"] == max(abs(p["error_bp"]) for p in obj["pairs"])
    assert 0 < obj["max_abs_error_bp"] <= 0.2


@pytest.mark.realdata
def test_real_data_cli_tolerance_and_chain(real_paths, capsys):
    base = ["verify", "--eod", str(real_paths[0]), "--index", str(real_paths[1])]
    assert cli.main(base + ["--tolerance-bp", "0.001"]) == 1
    captured = capsys.readouterr()
    assert "exceeds the tolerance 0.001 bp" in captured.err
    assert "over 9 day pairs" in captured.out
    assert cli.main(base + ["--chain", "--json", "--tolerance-bp", "0.5"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert len(obj["pairs"]) == 9 and obj["max_abs_error_bp"] <= 0.5
