"""Concurrency: a writer thread applying batches while reader threads read the engine.

``update_many`` runs its kernel with the GIL released on a scratch copy of the prices and
swaps the copy in under the GIL, so ``level``/``cap`` readers see the state before or after
a batch, never a state inside one. The journaled wrapper serialises concurrent writers so
that its journal order is the apply order.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import persist

N_READERS = 3


@pytest.fixture(autouse=True)
def _fast_switching():
    """Switch threads often, so reads land between (and, were it possible, inside) batches."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def _run(writer, reader, n_readers: int = N_READERS) -> list:
    """Run one writer and ``n_readers`` readers (which loop until the writer is done);
    return the readers' outputs; re-raise any exception of any thread."""
    done = threading.Event()
    errors: list[BaseException] = []
    outs: list[list] = [[] for _ in range(n_readers)]

    def guard(fn, *args):
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            if fn is writer:
                done.set()

    threads = [threading.Thread(target=guard, args=(reader, done, out)) for out in outs]
    threads.append(threading.Thread(target=guard, args=(writer,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive()
    if errors:
        raise errors[0]
    return outs


def test_readers_see_the_state_before_or_after_each_batch(sample):
    day = kf.simulate_day(sample, n_ticks=300_000, seed=11)
    chunks = [(day.ids[k:k + 750], day.prices[k:k + 750]) for k in range(0, len(day), 750)]
    e = kf.IndexEngine(sample, level=5781.2, price_band=None)
    start_level, start_cap = e.level, e.cap
    produced: list[np.ndarray] = []
    caps = [start_cap]

    def writer():
        for ids, px in chunks:
            produced.append(e.update_many(ids, px))
            caps.append(e.cap)  # only this thread writes: this is the batch's cap
            time.sleep(0)  # let the readers in between batches too (they also run inside them)

    def reader(done, out):
        while True:
            finished = done.is_set()
            level, cap, prices = e.level, e.cap, e.prices
            assert prices.shape == (len(sample),) and prices.dtype == np.int64
            out.append((level, cap))
            if finished:
                break

    seen = [x for out in _run(writer, reader) for x in out]
    assert len(seen) > 100  # the readers did run alongside the writer
    every_level = {start_level}.union(*(set(lv.tolist()) for lv in produced))
    batch_ends = {start_level} | {float(lv[-1]) for lv in produced}
    levels_seen = {lv for lv, _ in seen}
    assert levels_seen <= every_level  # one of the levels the writer produced...
    assert levels_seen <= batch_ends  # ...and never one from inside a batch
    assert {c for _, c in seen} <= set(caps)
    assert len(levels_seen) > 2  # reads interleaved with writes

    # The final state equals a single-threaded run, bit for bit.
    ref = kf.IndexEngine(sample, level=5781.2, price_band=None)
    ref_levels = np.concatenate([ref.update_many(ids, px) for ids, px in chunks])
    assert np.concatenate(produced).tobytes() == ref_levels.tobytes()
    assert (e.level.hex(), e.cap, e.prices.tobytes()) == (ref.level.hex(), ref.cap, ref.prices.tobytes())


def test_price_reads_are_never_torn():
    n = 10_000
    u = kf.Universe([f"{i:06d}" for i in range(n)], ["S"] * n, np.ones(n, dtype=np.int64),
                    np.full(n, 10, dtype=np.int64))
    e = kf.IndexEngine(u, price_band=None)
    ends = np.array([0, n - 1])
    torn: list = []

    def writer():
        # Each batch moves the first and the last stock to the same new price: in every real
        # state prices[0] == prices[-1].
        for k in range(60_000):
            e.update_many(ends, np.array([k + 11, k + 11]))

    def reader(done, out):
        while not done.is_set():
            p = e.prices
            if p[0] != p[-1]:
                torn.append((int(p[0]), int(p[-1])))
            out.append(None)

    _run(writer, reader, n_readers=2)
    assert not torn, f"{len(torn)} torn price reads, e.g. {torn[:3]}"


def test_journaled_writers_are_serialised(sample, tmp_path):
    day = kf.simulate_day(sample, n_ticks=40_000, seed=12)
    chunks = [(day.ids[k:k + 500], day.prices[k:k + 500]) for k in range(0, len(day), 500)]
    e = kf.IndexEngine(sample, level=5781.2, price_band=None)
    je = persist.JournaledEngine.create(e, tmp_path / "state", tmp_path / "journal", fsync=False)
    levels_seen: list[float] = []

    def writers():
        ts = [threading.Thread(target=lambda part=part: [je.update_many(*c) for c in part])
              for part in (chunks[0::2], chunks[1::2])]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    def reader(done, out):
        while not done.is_set():
            out.append(je.level)

    levels_seen = [x for out in _run(writers, reader, n_readers=2) for x in out]
    assert levels_seen and je.seq == len(chunks)
    je.close()
    # Whatever the interleaving of the two writers, the journal replays to the same state.
    back, rep = persist.recover(tmp_path / "state", tmp_path / "journal")
    assert rep.records == len(chunks)
    assert (back.level.hex(), back.cap, back.prices.tobytes()) == (e.level.hex(), e.cap, e.prices.tobytes())
