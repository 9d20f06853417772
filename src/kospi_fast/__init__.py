"""kospi_fast: the KOSPI index family computed at tick rate, exactly as KRX defines it."""

from kospi_fast import kospi200, krx, persist, reference
from kospi_fast._aggregate import aggregate_cap
from kospi_fast._include import get_include
from kospi_fast._rebase import rebase_divisor
from kospi_fast._ticks import ReplayState, replay
from kospi_fast._version import __version__
from kospi_fast.book import IndexBook
from kospi_fast.definitions import IndexDefinition, cap_weights
from kospi_fast.engine import IndexEngine
from kospi_fast.family import IndexFamily
from kospi_fast.live import Print, Publisher
from kospi_fast.persist import CorruptStateError, JournaledBook, JournaledEngine
from kospi_fast.publish import published
from kospi_fast.sample import SimulatedDay, sample_universe, simulate_day
from kospi_fast.session import FeedResult, TradingDay
from kospi_fast.state import BookState, RebaseRecord
from kospi_fast.universe import Universe

__all__ = [
    "BookState",
    "CorruptStateError",
    "FeedResult",
    "IndexBook",
    "IndexDefinition",
    "IndexEngine",
    "IndexFamily",
    "JournaledBook",
    "JournaledEngine",
    "Print",
    "Publisher",
    "RebaseRecord",
    "ReplayState",
    "SimulatedDay",
    "TradingDay",
    "Universe",
    "__version__",
    "aggregate_cap",
    "cap_weights",
    "get_include",
    "kospi200",
    "krx",
    "persist",
    "published",
    "rebase_divisor",
    "reference",
    "replay",
    "sample_universe",
    "simulate_day",
]
