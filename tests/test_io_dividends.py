"""The dividend-table loader: KRX's estimate-then-correct flow as events by date; every bad
cell is an error naming the file and line."""

from __future__ import annotations

import pytest

pd = pytest.importorskip("pandas")

from kospi_fast.events import CashDividend, DividendCorrection  # noqa: E402
from kospi_fast.io import DividendSchedule, load_dividends  # noqa: E402

GOOD = """code,ex_date,amount,status,effective
005930,2026-12-28,1444,estimated,
005930,2026-12-28,1500,final,2027-03-20
000660,2026-12-28,1200.5,final,
A035720,20260627,61,예상,
"""


def test_csv_rows_become_events_by_date(tmp_path):
    p = tmp_path / "div.csv"
    p.write_text(GOOD, encoding="utf-8")
    s = load_dividends(p)
    assert isinstance(s, DividendSchedule) and len(s) == 4 and s.source == str(p)
    assert s.dates == ("2026-06-27", "2026-12-28", "2027-03-20")
    assert s.on("2026-12-28") == [CashDividend("005930", 1444, effective="2026-12-28"),
                                  CashDividend("000660", 1200.5, effective="2026-12-28", estimated=False)]
    assert s.on("2027-03-20") == [DividendCorrection("005930", 1500, effective="2027-03-20")]
    assert s.expected("2026-06-27") == {"035720": 61}


def test_frame_and_parquet(tmp_path):
    df = pd.DataFrame({"Code": [5930], "ExDate": [20261228], "DPS": [361.0]})
    s = load_dividends(df)
    assert s.events == (CashDividend("005930", 361, effective="2026-12-28"),)
    pytest.importorskip("pyarrow")
    p = tmp_path / "d.parquet"
    df.to_parquet(p)
    assert load_dividends(p).events == s.events


@pytest.mark.parametrize("text, where, match", [
    ("code,ex_date,amount\n005930,2026-12-28,abc\n", "line 2", "not an amount"),
    ("code,ex_date,amount\n005930,2026-12-28,1\n12345678,2026-12-28,1\n", "line 3", "not a 6-character"),
    ("code,ex_date,amount\n005930,2026-13-45,1\n", "line 2", "not a date"),
    ("code,ex_date,amount\n005930,2026-12-28,-5\n", "line 2", ">= 0"),
    ("code,ex_date,amount,status\n005930,2026-12-28,5,maybe\n", "line 2", "'estimated' or 'final'"),
    ("code,ex_date,amount\n005930,2026-12-28,5\n005930,2026-12-28,6\n", "line 3", "first at line 2"),
    ("code,ex_date,amount,status,effective\n005930,2026-12-28,5,final,2026-12-01\n", "line 2", "before the ex-date"),
    ("code,ex_date,amount,status,effective\n005930,2026-12-28,5,estimated,2027-01-05\n", "line 2", "its ex-date"),
])
def test_bad_cells_name_file_and_line(tmp_path, text, where, match):
    p = tmp_path / "bad.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match) as exc:
        load_dividends(p)
    assert f"{p}: {where}" in str(exc.value)


def test_missing_column_and_bad_source(tmp_path):
    with pytest.raises(ValueError, match="missing column 'amount'"):
        load_dividends(pd.DataFrame({"code": ["005930"], "ex_date": ["2026-12-28"]}))
    with pytest.raises(FileNotFoundError):
        load_dividends(tmp_path / "none.csv")
    with pytest.raises(TypeError):
        load_dividends(42)
