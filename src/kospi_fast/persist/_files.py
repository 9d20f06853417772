"""Durable files: atomic writes (temp file, fsync, rename, directory fsync), the errors of the
persistence wing, and the crash-test hook the durability tests stop processes at."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Callable

__all__ = ["CorruptStateError", "DurabilityError", "StateMismatchError"]

#: TEST HOOK ONLY. When set, called as ``hook(stage, path)`` at the crash points of the
#: write paths ("tmp-half-written", "tmp-synced", "replaced", "checkpoint-saved",
#: "record-half-written") so a test can stop (and kill) a process there. Never set it in
#: production code.
_crash_test_hook: Callable[[str, str], None] | None = None

_tmp_counter = itertools.count()


def _hook(stage: str, path: str) -> None:
    if _crash_test_hook is not None:
        _crash_test_hook(stage, path)


# ---------------------------------------------------------------------------- errors
class CorruptStateError(ValueError):
    """A checkpoint or journal file is damaged, torn or not one of ours; it is refused."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class StateMismatchError(ValueError):
    """A journal does not belong to (or does not follow) the checkpoint it is replayed on."""


class DurabilityError(OSError):
    """A write reached the point of no return (the rename) but its durability is unknown
    (e.g. the directory fsync failed). The new file may or may not survive a power loss."""


# ---------------------------------------------------------------------------- low-level I/O
def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(path: str) -> None:
    if os.name != "posix":  # pragma: no cover - directory fsync is a POSIX notion
        return
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: a process of another user holds that id
        return True
    return True


def sweep_temporaries(path: str) -> list[str]:
    """Remove the temporaries ``<path>.tmp-<pid>-<n>`` left by writers that died mid-write
    (their process is gone); return what was removed. A temporary is never read, so this only
    frees space; one of a live process (possibly mid-write) is left alone."""
    folder, base = os.path.split(os.path.abspath(path))
    pattern = re.compile(re.escape(base) + r"\.tmp-(\d+)-\d+")
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = pattern.fullmatch(name)
        if m is not None and not _pid_alive(int(m.group(1))):
            with contextlib.suppress(FileNotFoundError):  # another sweeper was first
                os.unlink(os.path.join(folder, name))
                removed.append(os.path.join(folder, name))
    return removed


def _atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file, fsync, rename, fsync the directory.

    Any failure before the rename leaves ``path`` untouched (the temporary file is removed);
    a failure after it raises :class:`DurabilityError`. Temporaries of ``path`` left by a
    process that died mid-write are removed first (:func:`sweep_temporaries`).
    """
    sweep_temporaries(path)
    tmp = f"{path}.tmp-{os.getpid()}-{next(_tmp_counter)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
    try:
        try:
            half = len(data) // 2
            _write_all(fd, memoryview(data)[:half])
            _hook("tmp-half-written", tmp)
            _write_all(fd, memoryview(data)[half:])
            os.fsync(fd)
        finally:
            os.close(fd)
        _hook("tmp-synced", tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _hook("replaced", path)
    try:
        _fsync_dir(path)
    except OSError as exc:
        raise DurabilityError(exc.errno, f"{path} was replaced but its directory could not be fsynced: {exc}") from exc
