"""kospi_fast: the KOSPI index family computed at tick rate, exactly as KRX defines it."""

from kospi_fast import krx, persist, reference
from kospi_fast._aggregate import aggregate_cap
from kospi_fast._include import get_include
from kospi_fast._rebase import rebase_divisor
from kospi_fast._ticks import replay
from kospi_fast.engine import IndexEngine, RebaseRecord, published
from kospi_fast.family import IndexDefinition, IndexFamily, cap_weights
from kospi_fast.persist import CorruptStateError, JournaledEngine
from kospi_fast.sample import SimulatedDay, sample_universe, simulate_day
from kospi_fast.universe import Universe

__version__ = "0.1.0"

__all__ = [
    "CorruptStateError",
    "IndexDefinition",
    "IndexEngine",
    "IndexFamily",
    "JournaledEngine",
    "RebaseRecord",
    "SimulatedDay",
    "Universe",
    "__version__",
    "aggregate_cap",
    "cap_weights",
    "get_include",
    "krx",
    "persist",
    "published",
    "rebase_divisor",
    "reference",
    "replay",
    "sample_universe",
    "simulate_day",
]
