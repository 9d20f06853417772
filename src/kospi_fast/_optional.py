"""The one importer of optional dependencies.

``require("pyarrow.parquet", "io")`` imports the module, or raises an ImportError that names the
pip extra which installs it (the extras are in ``pyproject.toml``):

- ``io``: pandas, pyarrow (end-of-day tables, tick files, frames),
- ``plot``: matplotlib,
- ``dask``: dask, distributed, fsspec (day-parallel replay, fsspec URLs),
- ``calendar``: exchange_calendars (the XKRX holiday calendar).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, extra: str, *, package: str | None = None, what: str | None = None) -> ModuleType:
    """Import `module`, or raise ImportError naming the extra that installs it.

    Parameters
    ----------
    module : str
        Dotted module name (``"pyarrow.csv"``).
    extra : str
        The kospi-fast extra that provides it (``"io"``, ``"plot"``, ``"dask"``, ``"calendar"``).
    package : str, optional
        The pip package, when it is not the module's first component.
    what : str, optional
        What needs it, for the message (default: "this feature of kospi_fast").

    Raises
    ------
    ImportError
        ``"pyarrow is not installed, and <what> needs it: pip install 'kospi-fast[io]'
        (or: pip install pyarrow)"``, chained to the original error.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = package or module.split(".")[0]
        raise ImportError(
            f"{pkg} is not installed, and {what or 'this feature of kospi_fast'} needs it: "
            f"pip install 'kospi-fast[{extra}]' (or: pip install {pkg})"
        ) from exc
