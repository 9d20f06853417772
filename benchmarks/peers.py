"""The benchmark peers live in the shipped package (``kospi_fast.bench.peers``, used by
``python -m kospi_fast.bench``); this name is kept for the benchmarks in this directory."""

from kospi_fast.bench.peers import *  # noqa: F401,F403
from kospi_fast.bench.peers import NUMPY_BLOCK, PyEngine, cap_dot, cap_python, numba_replay, numba_version  # noqa: F401
from kospi_fast.bench.peers import replay_numpy, replay_numpy_flat, replay_python  # noqa: F401
