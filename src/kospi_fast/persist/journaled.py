"""``JournaledBook``: any index book whose trades are journaled (write-ahead) and whose events
are checkpointed; what a TradingDay or a replay applies through it is durable."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Self

import numpy as np

from kospi_fast import _validation
from kospi_fast.persist import _files
from kospi_fast.persist._files import DurabilityError
from kospi_fast.persist.checkpoint import save
from kospi_fast.persist.journal import Journal, ReplayReport, checkpoint, recover
from kospi_fast.state import BOOK_TYPES


__all__ = ["JournaledBook", "JournaledEngine"]

class JournaledBook:
    """An index book (IndexEngine or IndexFamily) whose trades are journaled and whose events
    are checkpointed.

    Ordering (see the module docstring): ``update_many`` applies the batch (all or nothing),
    appends it to the journal and fsyncs, and only then returns; a failed journal write rolls
    the batch back. ``apply_events``/``apply_changes``/``rebalance``/``roll`` apply and then
    checkpoint (a failed checkpoint rolls the change back, unless the new checkpoint may
    already be in place, in which case the wrapper refuses further writes until
    :meth:`recover`). Writers are serialised by a lock; reads go to ``.book`` (or the
    delegated read-only names). A :class:`~kospi_fast.TradingDay` and the replays take the
    wrapper like any book: what they apply is journaled.

    Build with :meth:`create` (new stream) or :meth:`recover` (after a restart).
    """

    _READ = frozenset({
        "level", "levels", "cap", "caps", "divisor", "divisors", "prices", "index_shares", "published_level",
        "base_cap", "universe", "audit", "audit_table", "recompute", "recompute_levels", "ids_of",
        "listed_shares", "members", "reference_prices", "previous_close", "previous_levels", "dividends",
        "base_value", "names", "name", "definitions", "definition", "index_of", "version",
        "attribution", "attribution_frame", "to_state", "theoretical_ex_dividend_level", "as_of",
        "price_band", "band_limits",
    })

    def __init__(self, book: object, state_path: str | os.PathLike, journal: Journal) -> None:
        if not isinstance(book, tuple(BOOK_TYPES.values())):
            raise TypeError(f"`book` must be an index book (IndexEngine, IndexFamily), got {type(book).__name__}")
        self.book = book
        self.state_path = os.fspath(state_path)
        self.journal = journal
        self._lock = threading.RLock()
        self._broken: str | None = None

    def __repr__(self) -> str:
        name = os.path.basename  # file names keep it on one line; .state_path / .journal.path are whole
        return (f"JournaledBook({self.book!r}, state {name(self.state_path)!r}, journal {name(self.journal.path)!r}"
                f"{', BROKEN' if self._broken else ''})")

    @property
    def engine(self) -> object:
        """The wrapped book (older name of :attr:`book`)."""
        return self.book

    @contextlib.contextmanager
    def locked_book(self) -> Iterator[object]:
        """The wrapped book, with the writer's lock held (for a consistent save)."""
        with self._lock:
            yield self.book

    @classmethod
    def create(cls, book: object, state_path: str | os.PathLike, journal_path: str | os.PathLike,
               *, fsync: bool = True) -> Self:
        """Start a new stream: an empty journal (first), then a checkpoint of ``book`` at 0."""
        if not isinstance(book, tuple(BOOK_TYPES.values())):
            raise TypeError(f"`book` must be an index book (IndexEngine, IndexFamily), got {type(book).__name__}")
        journal = Journal.create(journal_path, base_seq=0, fsync=fsync)
        try:
            checkpoint(book, state_path, journal, seq=0)
        except BaseException:
            journal.close()
            raise
        return cls(book, state_path, journal)

    @classmethod
    def recover(cls, state_path: str | os.PathLike, journal_path: str | os.PathLike, *, fsync: bool = True,
                engine_cls: type | None = None, event_types: Sequence[type] = ()
                ) -> tuple[Self, ReplayReport]:
        """Load the checkpoint, replay the journal, then (if anything was replayed or the journal
        still holds covered records) take a fresh checkpoint; continue journaling."""
        if not os.path.exists(journal_path):
            raise FileNotFoundError(f"{os.fspath(journal_path)}: no journal to recover from")
        journal = Journal(journal_path, fsync=fsync)  # takes the writer's lock; cuts a torn tail
        try:
            for p in (state_path, journal_path):  # temporaries of writers that died mid-write
                _files.sweep_temporaries(os.fspath(p))
            book, report = recover(state_path, journal_path, cls=engine_cls, event_types=event_types)
            if journal.truncated_tail:
                report = dataclasses.replace(report, torn_tail=True, torn_bytes=journal.truncated_tail)
            if report.records or report.skipped or journal.base_seq != report.last_seq:
                checkpoint(book, state_path, journal, seq=report.last_seq)
        except BaseException:
            journal.close()
            raise
        return cls(book, state_path, journal), report

    # ------------------------------------------------------------------ writes
    def _check(self) -> None:
        if self._broken:
            raise OSError(f"{self.state_path}: unusable after a failed checkpoint ({self._broken}); "
                          "use JournaledBook.recover")

    @property
    def seq(self) -> int:
        """Sequence number of the last journaled batch."""
        return self.journal.last_seq

    def __len__(self) -> int:
        return len(self.book)  # type: ignore[arg-type]

    def update_many(self, ids: object, prices: object, times: object = None, *, sample_at: object = None,
                    out: np.ndarray | None = None) -> np.ndarray:
        """Apply a batch (all or nothing), journal it durably, then return its levels (written
        into ``out`` when given: the book's ``update_many(..., out=)``)."""
        with self._lock:
            self._check()
            book = self.book
            before = book.to_state()  # type: ignore[attr-defined]
            kw = {} if out is None else {"out": out}
            if sample_at is None:
                levels = book.update_many(ids, prices, **kw)  # type: ignore[attr-defined]
            else:
                levels = book.update_many(ids, prices, sample_at=sample_at, **kw)  # type: ignore[attr-defined]
            try:
                self.journal.append(ids, prices, times)
            except BaseException:
                book.restore(before)  # type: ignore[attr-defined]
                raise
            return levels

    def update(self, code: object, price: object) -> object:
        """One trade (code as a str), journaled (one record: fsync per trade; prefer
        :meth:`update_many`). Ids go to :meth:`update_id`."""
        return self._update_one(self.book.universe.id_of(code), price)  # type: ignore[attr-defined]

    def update_id(self, stock_id: object, price: object) -> object:
        """One trade of the stock with this id (row of the universe), journaled."""
        return self._update_one(self.book.universe.check_id(stock_id), price)  # type: ignore[attr-defined]

    def _update_one(self, i: int, price: object) -> object:
        exact = getattr(self.book, "exact", True)
        px = _validation.price_scalar(price) if exact else _validation.real_price(price)  # a float64 book: reals
        out = self.update_many(np.array([i]), np.array([px]))[0]
        return float(out) if np.ndim(out) == 0 else out

    def set_price_band(self, rate: object) -> None:
        """The book's :meth:`set_price_band`, then a checkpoint."""
        self._mutate(lambda: self.book.set_price_band(rate))  # type: ignore[attr-defined]

    def _feed_validated(self, times: np.ndarray, ids: np.ndarray, prices: np.ndarray, rules: object,
                        last_time: int, stop_at_bad: bool, sample_times: np.ndarray, threads: int = 1,
                        out: np.ndarray | None = None) -> tuple:
        """The book's validated path (for TradingDay), journaling the applied trades."""
        with self._lock:
            self._check()
            book = self.book
            before = book.to_state()  # type: ignore[attr-defined]
            res = book._feed_validated(times, ids, prices, rules, last_time, stop_at_bad, sample_times,  # type: ignore[attr-defined]
                                       threads, out)
            bad, status = res[0], res[1]
            if bad == -1:
                keep = status == 0
                try:
                    self.journal.append(ids[keep], prices[keep], times[keep])
                except BaseException:
                    book.restore(before)  # type: ignore[attr-defined]
                    raise
            return res

    def _mutate(self, fn: Callable[[], object]) -> object:
        with self._lock:
            self._check()
            saved = self.book.to_state()  # type: ignore[attr-defined]
            result = fn()
            try:
                self._checkpoint_locked()
            except BaseException as exc:
                if isinstance(exc, DurabilityError) or self._broken:
                    self._broken = self._broken or repr(exc)
                else:  # the previous checkpoint stands: so does the previous state
                    self.book.restore(saved)  # type: ignore[attr-defined]
                raise
            return result

    def apply_events(self, events: object, *, date: object = None) -> object:
        return self._mutate(lambda: self.book.apply_events(events, date=date))  # type: ignore[attr-defined]

    def apply_changes(self, ids: object, **kwargs: object) -> object:
        return self._mutate(lambda: self.book.apply_changes(ids, **kwargs))  # type: ignore[attr-defined]

    def rebalance(self, changes: object, **kwargs: object) -> object:
        return self._mutate(lambda: self.book.rebalance(changes, **kwargs))  # type: ignore[attr-defined]

    def roll(self, events: object = (), *, closes: object = None, date: object = None, **kwargs: object) -> object:
        """The book's :meth:`roll` (a family's ``rebalance=`` too), then a checkpoint."""
        return self._mutate(lambda: self.book.roll(events, closes=closes, date=date, **kwargs))  # type: ignore[attr-defined]

    def _checkpoint_locked(self) -> int:
        s = self.journal.last_seq
        save(self.book, self.state_path, seq=s, stream_id=self.journal.stream_id)
        _files._hook("checkpoint-saved", self.state_path)
        try:
            self.journal.reset(s)
        except BaseException as exc:  # the new checkpoint is durable; the old journal is covered by it
            self._broken = repr(exc)
            raise
        return s

    def checkpoint(self) -> int:
        """Checkpoint now and start an empty journal; returns the checkpoint's sequence number."""
        with self._lock:
            self._check()
            try:
                return self._checkpoint_locked()
            except DurabilityError as exc:
                self._broken = repr(exc)
                raise

    def close(self) -> None:
        self.journal.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> object:
        if name in JournaledBook._READ:
            return getattr(self.book, name)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r} (the book is `.book`; "
                             "write through the journaled methods)")


#: The older name (it journals any book now).
JournaledEngine = JournaledBook
