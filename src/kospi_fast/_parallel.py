"""The second core for one batch (``threads=2``): one persistent worker thread.

A split kernel runs one part of a batch here and the other on the worker, both with the GIL
released (Cython ``nogil``), and joins before it returns. No OpenMP: the wheels (manylinux,
musllinux, macOS, Windows) need no OpenMP runtime, and the worker is one ordinary Python
thread, started on first use and reused (``concurrent.futures``: its hand-over costs a few tens
of µs, measured in docs/methodology-notes.md, "Speed (issue 16)"; each split kernel runs on one
thread below a batch size where the split stops paying).

After ``os.fork`` the child has the pool object but not its thread: the pool is keyed by the
process id and a child makes its own.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Callable

_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_pid = -1


def _worker() -> concurrent.futures.ThreadPoolExecutor:
    global _pool, _pool_pid
    with _lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="kospi_fast")
            _pool_pid = os.getpid()
        return _pool


def run_beside(other: Callable[[], object], here: Callable[[], object]) -> None:
    """Run ``other()`` on the worker thread while ``here()`` runs on this one; return when both
    are done. Both must release the GIL for their long part (else they run one after the other:
    still correct). The worker is always joined, even when ``here`` raises or a
    KeyboardInterrupt arrives while waiting: ``other`` writes into arrays the caller returns.
    An exception of ``here`` wins over one of ``other``."""
    fut = _worker().submit(other)
    try:
        here()
    finally:
        _join(fut)
    fut.result()


def _join(fut: concurrent.futures.Future) -> None:
    """Wait until ``fut`` is done; an interrupt that arrives meanwhile is raised after."""
    interrupted: BaseException | None = None
    while not fut.done():
        try:
            concurrent.futures.wait([fut])
        except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt: re-raised once the worker is done
            interrupted = exc
    if interrupted is not None:
        raise interrupted
