"""kospi_fast.io.formats: the one registry of tick-file containers, read from local paths and
fsspec URLs, written, counted; everything that reads or writes a tick file goes through it."""

from __future__ import annotations

import doctest
import gzip
import importlib
import sys

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import cli

pa = pytest.importorskip("pyarrow")
io = importlib.import_module("kospi_fast.io")
formats = importlib.import_module("kospi_fast.io.formats")


@pytest.fixture(scope="module")
def day():
    return kf.simulate_day(kf.sample_universe(), 6_000, seed=11)


def _same(got, day) -> None:
    assert np.array_equal(got.times, day.times)
    assert np.array_equal(got.ids, day.ids)
    assert np.array_equal(got.prices, day.prices)


# ------------------------------------------------------------------ the registry
def test_registry_names_suffixes_and_errors():
    assert list(io.TICK_FORMATS) == ["parquet", "csv", "arrow"]
    assert all(isinstance(f, io.TickFormat) and f.name == k for k, f in io.TICK_FORMATS.items())
    cases = {"a.parquet": "parquet", "a.PQ": "parquet", "a.csv": "csv", "a.txt": "csv", "a.csv.gz": "csv",
             "a.TXT.BZ2": "csv", "a.csv.zst": "csv", "a.arrow": "arrow", "a.feather": "arrow",
             "a.arrows": "arrow", "a.ipc": "arrow", "s3://b/2026-03-10.parquet": "parquet"}
    for name, fmt in cases.items():
        assert io.file_format(name) == fmt, name
    assert io.file_format("a.bin", "csv") == "csv"
    for bad in ("a.parquet.gz", "a.gz", "a.json", "a"):
        with pytest.raises(ValueError, match="cannot tell the format"):
            io.file_format(bad)
    with pytest.raises(ValueError, match=r"`format` must be 'parquet', 'csv' or 'arrow', got 'json'"):
        io.file_format("a.csv", "json")


def _cli_format_choices() -> tuple:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.choices and "replay" in a.choices).choices["replay"]
    return tuple(next(a for a in sub._actions if "--format" in a.option_strings).choices)


def test_cli_format_choices_come_from_the_registry():
    assert _cli_format_choices() == tuple(io.TICK_FORMATS)


def test_docstring_examples():
    result = doctest.testmod(formats)
    assert result.failed == 0 and result.attempted > 0


# ------------------------------------------------------------------ every container, local
@pytest.mark.parametrize("suffix", [f.suffixes[0] for f in formats.TICK_FORMATS.values()]
                         + [".csv.gz", ".csv.bz2", ".feather"])
def test_every_container_round_trips(tmp_path, day, suffix):
    path = io.write_ticks(day, tmp_path / f"day{suffix}", batch_size=1_000, volume=np.arange(len(day)) % 5)
    got = io.read_ticks(path, day.universe, batch_size=700)
    _same(got, day)
    assert np.array_equal(got.volumes, np.arange(len(day)) % 5)
    n = io.count_ticks(path)
    assert n is None or n == len(day)
    if suffix.endswith((".gz", ".bz2")):
        assert path.read_bytes()[:2] != b'"t'  # really compressed


def test_replay_writers_use_every_container(tmp_path, day):
    engine = kf.IndexEngine(day.universe, level=2500.0)
    for fmt in io.TICK_FORMATS.values():
        e = kf.IndexEngine(day.universe, level=2500.0)
        out = tmp_path / f"levels{fmt.suffixes[0]}"
        io.replay_file(io.write_ticks(day, tmp_path / f"d{fmt.suffixes[0]}"), e, grid="tick", out=out)
        back = io.read_ticks(out, day.universe)  # the per-tick file is itself a tick file
        _same(back, day)
    want = engine.update_many(day.ids, day.prices)
    got = pytest.importorskip("pyarrow.csv").read_csv(tmp_path / "levels.csv")["level"].to_numpy()
    assert np.array_equal(got, want)


def test_compressed_csv_error_names_the_row(tmp_path, sample):
    path = tmp_path / "big.csv.gz"
    rows = "".join(f"{32400000000000 + i},005930,199400\n" for i in range(40_000))
    path.write_bytes(gzip.compress(("time,code,price\n" + rows + "32500000000000,005930,abc\n").encode()))
    with pytest.raises(ValueError, match=r"big.csv.gz: tick row 40000 \(line 40002\): price is not a number"):
        io.read_ticks(path, sample, batch_size=1000)


def test_cp949_text(tmp_path, sample):
    path = tmp_path / "k.csv"
    path.write_bytes("체결,code,price,비고\n32400000000001,005930,199400,삼성전자\n".encode("cp949"))  # KRX downloads
    with pytest.raises(ValueError, match=r"missing tick column 'time'.*'체결'"):
        io.read_ticks(path, sample)
    got = io.read_ticks(path, sample, columns={"time": "체결"})
    assert got.times.tolist() == [32400000000001]


# ------------------------------------------------------------------ fsspec URLs
@pytest.fixture
def memfs():
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    yield fs
    if fs.exists("/kf-formats"):
        fs.rm("/kf-formats", recursive=True)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".csv.gz", ".arrow", ".arrows"])
def test_urls_read_like_local_files(tmp_path, day, memfs, suffix):
    if suffix == ".arrows":
        local = tmp_path / "s.arrows"
        t = pa.table({"time": day.times, "code": np.array(day.universe.codes)[day.ids], "price": day.prices})
        with pa.OSFile(str(local), "wb") as sink, pa.ipc.new_stream(sink, t.schema) as w:
            w.write_table(t, max_chunksize=1000)
    else:
        local = io.write_ticks(day, tmp_path / f"day{suffix}")
    url = f"memory://kf-formats/day{suffix}"
    memfs.pipe(url, local.read_bytes())
    got = io.read_ticks(url, day.universe, batch_size=999, storage_options={})
    _same(got, day)
    assert io.count_ticks(url) == io.count_ticks(local)
    assert io.read_ticks(local.as_uri(), day.universe).ids.shape == day.ids.shape  # file:// is local


def test_url_errors_name_the_url(day, memfs, sample, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"no such tick file: 'memory://kf-formats/nope.parquet'"):
        io.read_ticks("memory://kf-formats/nope.parquet", day.universe)
    memfs.pipe("memory://kf-formats/bad.parquet", b"PAR1 this is not a parquet file PAR1")
    with pytest.raises(ValueError, match=r"memory://kf-formats/bad.parquet: not a readable Parquet file"):
        io.read_ticks("memory://kf-formats/bad.parquet", day.universe)
    rows = "".join(f"{32400000000000 + i},005930,199400\n" for i in range(40_000))
    memfs.pipe("memory://kf-formats/big.csv", ("time,code,price\n" + rows + "1,005930,abc\n").encode())
    with pytest.raises(ValueError, match=r"memory://kf-formats/big.csv: tick row 40000 \(line 40002\)"):
        io.read_ticks("memory://kf-formats/big.csv", sample, batch_size=1000)
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(ImportError, match=r"fsspec is not installed, and memory://kf-formats/x.csv .*kospi-fast\[dask\]"):
        io.read_ticks("memory://kf-formats/x.csv", day.universe)


# ------------------------------------------------------------------ a new container is one entry
class _Tsv(formats.TickFormat):
    """Tab-separated text: what a new container takes (an entry; nothing else changes)."""

    name = "tsv"
    suffixes = (".tsv",)
    line0 = 2

    def open(self, src, batch_size):
        pacsv = pytest.importorskip("pyarrow.csv")
        with src.open_stream() as s:
            names = s.read(1 << 16).split(b"\n", 1)[0].decode().replace('"', "").split("\t")

        def batches(columns, code):
            convert = pacsv.ConvertOptions(column_types={code: pa.string()}, include_columns=columns)
            return iter(pacsv.open_csv(src.open_stream(), parse_options=pacsv.ParseOptions(delimiter="\t"),
                                       convert_options=convert))

        return formats.TickReader(names, batches)

    def writer(self, path, schema):
        pacsv = pytest.importorskip("pyarrow.csv")
        sink = pa.OSFile(str(path), "wb")
        return formats._Writer(pacsv.CSVWriter(sink, schema, write_options=pacsv.WriteOptions(delimiter="\t")), sink)


def test_a_new_container_is_one_registry_entry(tmp_path, day, monkeypatch):
    monkeypatch.setitem(formats.TICK_FORMATS, "tsv", _Tsv())
    path = io.write_ticks(day, tmp_path / "day.tsv")
    assert path.read_text().split("\n", 1)[0] == '"time"\t"code"\t"price"'
    assert io.file_format(path) == "tsv" and io.count_ticks(path) is None
    _same(io.read_ticks(path, day.universe), day)
    e = kf.IndexEngine(day.universe, level=100.0)
    res = io.replay_file(path, e, grid="tick", out=tmp_path / "levels.tsv")
    assert res.n_ticks == len(day)
    _same(io.read_ticks(tmp_path / "levels.tsv", day.universe), day)
    assert "tsv" in _cli_format_choices()
