"""pytest setup for the benchmarks: make ``peers`` (and, from a source checkout, ``kospi_fast``)
importable. Run with ``python -m pytest benchmarks/ --benchmark-only``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

# Fall back to the in-place build under src/ when kospi_fast is not installed or on PYTHONPATH.
_SRC = _HERE.parent / "src"
if importlib.util.find_spec("kospi_fast") is None and _SRC.is_dir():
    sys.path.insert(0, str(_SRC))
