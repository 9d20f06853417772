"""Tick-file containers: the one registry of the file formats a tick file can come in.

Each container is one :class:`TickFormat` entry of :data:`TICK_FORMATS` (``'parquet'``,
``'csv'``, ``'arrow'``). An entry knows its suffixes and how to open a file (a local path or an
fsspec URL, see :func:`locate`), read its column names, stream its record batches, count its
rows from metadata and write one. It knows nothing of what the columns mean: the tick layout
(column names, time encodings, prices, codes) is :mod:`kospi_fast.io.ticks`'s.

Adding a container is one subclass of :class:`TickFormat` here and one line in
:data:`TICK_FORMATS`; :func:`file_format`, :func:`kospi_fast.io.iter_ticks`,
:func:`~kospi_fast.io.count_ticks`, :func:`~kospi_fast.io.write_ticks`, the replay writers,
:mod:`kospi_fast.distributed` and the CLI's ``--format`` choices all read the registry.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from io import TextIOWrapper
from pathlib import PurePath
from typing import Any, Self
from urllib.parse import urlsplit
from urllib.request import url2pathname

from kospi_fast._optional import require

__all__ = [
    "CSV_DELIMITERS",
    "TICK_FORMATS",
    "TickFormat",
    "TickReader",
    "TickSource",
    "csv_dialect",
    "csv_header",
    "file_format",
    "is_url",
    "local_path",
    "locate",
    "text_lines",
    "tick_format",
    "url_filesystem",
    "write_batches",
]


# ============================================================================ where a file is
def is_url(path: str) -> bool:
    """True for an fsspec URL other than ``file://`` (``s3://b/k``, ``memory://x``,
    ``simplecache::s3://...``); False for local paths (``C:\\x`` included)."""
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]+)(://|::)", path)
    return m is not None and not (m.group(2) == "://" and m.group(1).lower() in ("file", "local"))


def local_path(path: str) -> str:
    """``file:///x%20y`` -> ``/x y`` (a local path); other paths unchanged."""
    if re.match(r"^(?:file|local)://", path, re.IGNORECASE):
        return url2pathname(urlsplit(path).path)
    return path


def url_filesystem(url: str, storage_options: Mapping | None = None) -> tuple[Any, str]:
    """``(fsspec filesystem, path in it)`` of an fsspec URL; ImportError naming the ``dask``
    extra when fsspec is not installed."""
    fsspec = require("fsspec", "dask", what=f"{url} (an fsspec URL)")
    return fsspec.core.url_to_fs(url, **dict(storage_options or {}))


@dataclass(frozen=True)
class TickSource:
    """A tick file to open: a local path, or a path in an fsspec filesystem.

    ``name`` is the path or URL as given (for messages); ``path`` the local path, or the path
    inside ``fs`` (a :class:`pyarrow.fs.FileSystem` over the fsspec filesystem) for a URL.
    """

    name: str
    path: str
    fs: Any = None

    def __str__(self) -> str:
        return self.name

    @property
    def filename(self) -> str:
        """The name whose suffix tells the format (a URL without its query string)."""
        return self.name.split("?", 1)[0] if self.fs is not None else self.path

    def exists(self) -> bool:
        if self.fs is None:
            return os.path.isfile(self.path)
        pafs = require("pyarrow.fs", "io")
        return self.fs.get_file_info(self.path).type == pafs.FileType.File

    def open_file(self, *, memory_map: bool = False):
        """A random-access pyarrow file (memory-mapped when local and asked for)."""
        pa = require("pyarrow", "io")
        if self.fs is not None:
            return self.fs.open_input_file(self.path)
        return pa.memory_map(self.path, "r") if memory_map else pa.OSFile(self.path, "rb")

    def open_stream(self):
        """A sequential pyarrow stream, decompressed by suffix (``.gz``, ``.bz2``, ``.zst``)."""
        if self.fs is not None:
            return self.fs.open_input_stream(self.path, compression="detect")
        return require("pyarrow", "io").input_stream(self.path, compression="detect")


def locate(source: str | os.PathLike, storage_options: Mapping | None = None) -> TickSource:
    """The :class:`TickSource` of a local path, a ``file://`` URL or an fsspec URL
    (``s3://...``, ``memory://...``; ``storage_options`` go to fsspec)."""
    name = os.fspath(source)
    if not is_url(name):
        path = local_path(name)
        return TickSource(path, path)
    pafs = require("pyarrow.fs", "io")
    fs, path = url_filesystem(name, storage_options)
    return TickSource(name, path, pafs.PyFileSystem(pafs.FSSpecHandler(fs)))


def csv_header(open_binary: Callable[[], Any], name: object) -> list[str]:
    """The first row of a CSV file, read as UTF-8 (BOM or not), else as CP949 (KRX downloads);
    ``open_binary()`` opens the file as a binary stream (a pyarrow stream of a ``.csv.gz``
    included). The delimiter is sniffed (see :func:`csv_dialect`)."""
    return csv_dialect(open_binary, name)[0]


#: Delimiters a CSV tick or table file may use, in order of preference when a header splits
#: equally well on several (comma, tab, semicolon, pipe).
CSV_DELIMITERS = (",", "\t", ";", "|")

#: Bytes read from the start of a text file to tell its encoding and delimiter.
_SNIFF_BYTES = 1 << 16


class _RawStream(io.RawIOBase):
    """A pyarrow input stream (or any object with ``read(n)``) as a Python raw stream, so that
    ``TextIOWrapper`` can read lines from it: pyarrow's compressed streams have no ``readline``."""

    def __init__(self, stream: Any) -> None:
        self._s = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._s.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:
        try:
            self._s.close()
        finally:
            super().close()


def text_lines(open_binary: Callable[[], Any], encoding: str) -> TextIOWrapper:
    """The file decoded as text (universal newlines off, for the csv module)."""
    return TextIOWrapper(io.BufferedReader(_RawStream(open_binary())), encoding=encoding, newline="")


def csv_dialect(open_binary: Callable[[], Any], name: object) -> tuple[list[str], str, str]:
    """(header cells, encoding, delimiter) of a CSV file.

    The encoding is UTF-8 (a BOM allowed) when the first 64 KiB decode as UTF-8, else CP949 (the
    encoding of KRX's downloads), else a ValueError naming the file. The delimiter is the one of
    :data:`CSV_DELIMITERS` that splits the header line into the most cells."""
    with closing(_RawStream(open_binary())) as raw:
        head = raw.read(_SNIFF_BYTES) or b""
    for enc in ("utf-8-sig", "cp949"):
        try:
            codecs.getincrementaldecoder(enc)().decode(head, final=len(head) < _SNIFF_BYTES)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(f"{name}: neither UTF-8 nor CP949 text (give the file in one of these encodings)")
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        line = first.decode(enc)
    except UnicodeDecodeError:  # a header longer than the sniffed bytes, cut inside a character
        line = first.decode(enc, errors="ignore")
    delimiter = max(CSV_DELIMITERS, key=lambda d: (line.count(d), -CSV_DELIMITERS.index(d)))
    if not line.count(delimiter):
        delimiter = ","
    return next(csv.reader([line], delimiter=delimiter), []), enc, delimiter


# ============================================================================ the containers
class TickReader:
    """An opened tick file: its column names, then (once the caller has picked its columns)
    its record batches; a context manager that closes the file.

    ``batches(columns, code)`` yields :class:`pyarrow.RecordBatch` es of ``columns`` only, the
    ``code`` column read as (dictionary-encoded) text where the container would otherwise infer
    a type: ``'005930'`` keeps its zeros.
    """

    def __init__(self, names: list[str], read: Callable[[list[str], str], Iterator[Any]],
                 close: Callable[[], None] | None = None) -> None:
        self.names = list(names)
        self._read, self._close = read, close
        self._batches: Iterator[Any] | None = None

    def batches(self, columns: list[str], code: str) -> Iterator[Any]:
        self._batches = self._read(columns, code)
        return self._batches

    def close(self) -> None:
        close_batches = getattr(self._batches, "close", None)
        try:
            if close_batches is not None:
                close_batches()
        finally:
            if self._close is not None:
                self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TickFormat:
    """One tick-file container.

    Attributes
    ----------
    name : str
        The registry key and the ``format=`` value (``'parquet'``).
    suffixes : tuple of str
        File suffixes (lower case, with the dot) that mean this container.
    compressions : tuple of str
        Compression suffixes it reads after one of ``suffixes`` (``.csv.gz``).
    line0 : int or None
        For text containers, the file line of the first row (after a header): error messages
        then give the line as well as the row.
    """

    name: str = ""
    suffixes: tuple[str, ...] = ()
    compressions: tuple[str, ...] = ()
    line0: int | None = None

    def open(self, src: TickSource, batch_size: int) -> TickReader:
        """Open ``src`` (which exists): its column names, and a reader of batches of about
        ``batch_size`` rows. ValueError naming ``src`` when it is not this container."""
        raise NotImplementedError

    def count(self, src: TickSource) -> int | None:
        """Rows, from metadata; None when only reading the whole file would tell."""
        return None

    def writer(self, path: str | os.PathLike, schema: Any) -> _Writer:
        """A writer of record batches of ``schema`` to a new local file ``path``."""
        raise NotImplementedError

    def cells(self, src: TickSource, columns: list[str], start: int) -> Generator[tuple[int, dict[str, str]]] | None:
        """The raw text cells of ``columns`` from row ``start`` on, as ``(row, {column: cell})``,
        for locating a cell the batch reader rejected (error path only); None when the
        container has no text cells."""
        return None

    def __repr__(self) -> str:
        return f"TickFormat({self.name!r}, suffixes={self.suffixes})"


class _Writer:
    """A pyarrow writer and the sink it writes to; closes both (a context manager)."""

    def __init__(self, writer: Any, sink: Any = None) -> None:
        self.w, self.sink = writer, sink

    def write_batch(self, batch: Any) -> None:
        self.w.write_batch(batch)

    def close(self) -> None:
        try:
            self.w.close()
        finally:
            if self.sink is not None:
                self.sink.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Parquet(TickFormat):
    name = "parquet"
    suffixes = (".parquet", ".pq")

    def _file(self, src: TickSource):
        pa, pq = require("pyarrow", "io"), require("pyarrow.parquet", "io")
        f = src.open_file()
        try:
            return f, pq.ParquetFile(f)
        except pa.ArrowException as exc:
            f.close()
            raise ValueError(f"{src}: not a readable Parquet file: {exc}") from None

    def open(self, src: TickSource, batch_size: int) -> TickReader:
        pq = require("pyarrow.parquet", "io")
        f, pf = self._file(src)

        def batches(columns: list[str], code: str) -> Iterator[Any]:
            coded = pq.ParquetFile(f, metadata=pf.metadata, read_dictionary=[code])
            return coded.iter_batches(batch_size=batch_size, columns=columns)

        return TickReader(pf.schema_arrow.names, batches, f.close)

    def count(self, src: TickSource) -> int | None:
        f, pf = self._file(src)
        with f:
            return int(pf.metadata.num_rows)

    def writer(self, path: str | os.PathLike, schema: Any) -> _Writer:
        pq = require("pyarrow.parquet", "io")
        return _Writer(pq.ParquetWriter(os.fspath(path), schema, compression="snappy"))


class _Csv(TickFormat):
    name = "csv"
    suffixes = (".csv", ".txt")
    compressions = (".gz", ".bz2", ".zst")
    line0 = 2  # row 0 is on line 2, after the header

    def open(self, src: TickSource, batch_size: int) -> TickReader:
        pa, pacsv = require("pyarrow", "io"), require("pyarrow.csv", "io")
        names, encoding, delimiter = csv_dialect(src.open_stream, src.name)

        def batches(columns: list[str], code: str) -> Iterator[Any]:
            convert = pacsv.ConvertOptions(column_types={code: pa.dictionary(pa.int32(), pa.string())},
                                           include_columns=columns)
            read = pacsv.ReadOptions(block_size=max(batch_size * 32, 1 << 20),
                                     encoding="utf8" if encoding == "utf-8-sig" else encoding)
            parse = pacsv.ParseOptions(delimiter=delimiter)
            with src.open_stream() as stream:
                yield from pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)

        return TickReader(names, batches)

    def writer(self, path: str | os.PathLike, schema: Any) -> _Writer:
        pa, pacsv = require("pyarrow", "io"), require("pyarrow.csv", "io")
        sink = pa.output_stream(os.fspath(path), compression="detect")  # .csv.gz is gzipped
        try:
            return _Writer(pacsv.CSVWriter(sink, schema), sink)
        except BaseException:
            sink.close()
            raise

    def cells(self, src: TickSource, columns: list[str], start: int) -> Generator[tuple[int, dict[str, str]]]:
        _, encoding, delimiter = csv_dialect(src.open_stream, src.name)
        with text_lines(src.open_stream, encoding) as text:
            reader = csv.reader(text, delimiter=delimiter)
            header = next(reader, [])
            at = {c: header.index(c) for c in columns if c in header}
            for row, cells in enumerate(reader):
                if row >= start:
                    yield row, {c: cells[j].strip() for c, j in at.items() if j < len(cells)}


class _Arrow(TickFormat):
    """Arrow IPC: the file format (random access, memory-mapped when local), else the stream
    format."""

    name = "arrow"
    suffixes = (".arrow", ".feather", ".ipc", ".arrows")

    def _reader(self, src: TickSource):
        """(IPC file reader or None, the open file); None: not the file format."""
        pa, ipc = require("pyarrow", "io"), require("pyarrow.ipc", "io")
        f = src.open_file(memory_map=True)
        try:
            return ipc.open_file(f), f
        except pa.ArrowInvalid:
            return None, f

    def open(self, src: TickSource, batch_size: int) -> TickReader:
        pa, ipc = require("pyarrow", "io"), require("pyarrow.ipc", "io")
        reader, f = self._reader(src)
        if reader is not None:
            names = reader.schema.names
            raw: Iterable[Any] = (reader.get_batch(i) for i in range(reader.num_record_batches))
        else:
            f.seek(0)
            try:
                reader = ipc.open_stream(f)
            except pa.ArrowInvalid as exc:
                f.close()
                raise ValueError(f"{src}: not an Arrow IPC file or stream: {exc}") from None
            names, raw = reader.schema.names, reader

        def batches(columns: list[str], code: str) -> Iterator[Any]:
            return (b.select(columns) for b in raw)

        return TickReader(names, batches, f.close)

    def count(self, src: TickSource) -> int | None:
        reader, f = self._reader(src)
        with f:
            return None if reader is None else sum(reader.get_batch(i).num_rows
                                                   for i in range(reader.num_record_batches))

    def writer(self, path: str | os.PathLike, schema: Any) -> _Writer:
        pa = require("pyarrow", "io")
        sink = pa.OSFile(os.fspath(path), "wb")
        try:
            return _Writer(pa.ipc.new_file(sink, schema), sink)
        except BaseException:
            sink.close()
            raise


#: The registry: one entry per container, by name (the order is the suffix look-up's).
TICK_FORMATS: dict[str, TickFormat] = {f.name: f for f in (_Parquet(), _Csv(), _Arrow())}


# ============================================================================ look-ups
def _names() -> str:
    keys = [repr(k) for k in TICK_FORMATS]
    return ", ".join(keys[:-1]) + f" or {keys[-1]}" if len(keys) > 1 else keys[0]


def tick_format(path: str | os.PathLike | None, fmt: str | None = None) -> TickFormat:
    """The registry entry named ``fmt``, else the one whose suffix ``path`` ends with
    (``.csv.gz``: a compression suffix after the container's own).

    Raises
    ------
    ValueError
        ``fmt`` is not a key of :data:`TICK_FORMATS`, or no entry has the suffix.

    Examples
    --------
    >>> tick_format("s3://bucket/2026-03-10.csv.gz").name, tick_format("day.bin", "arrow").name
    ('csv', 'arrow')
    """
    if fmt is not None:
        try:
            return TICK_FORMATS[fmt]
        except (KeyError, TypeError):
            raise ValueError(f"`format` must be {_names()}, got {fmt!r}") from None
    name = os.fspath(path).lower() if path is not None else ""
    suffix = PurePath(name).suffix
    for entry in TICK_FORMATS.values():
        if suffix in entry.suffixes:
            return entry
        if suffix in entry.compressions and PurePath(name[: -len(suffix)]).suffix in entry.suffixes:
            return entry
    hints = ", ".join(" / ".join(e.suffixes) + (f" ({e.suffixes[0]}{e.compressions[0]})" if e.compressions else "")
                      for e in TICK_FORMATS.values())
    raise ValueError(f"cannot tell the format of {os.fspath(path) if path is not None else ''!r} from its "
                     f"suffix: use {hints}, or pass format=")


def file_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The container's name (``'parquet'``, ``'csv'`` or ``'arrow'``: the keys of
    :data:`TICK_FORMATS`) from the suffix of ``path``, or ``fmt`` checked.

    >>> file_format("ticks/2026-03-10.parquet")
    'parquet'
    """
    return tick_format(path, fmt).name


def write_batches(path: str | os.PathLike, fmt: str, schema: Any, batches: Iterable[Any]) -> None:
    """Write record batches of ``schema`` to ``path`` as the container ``fmt``."""
    with tick_format(path, fmt).writer(path, schema) as w:
        for b in batches:
            w.write_batch(b)
