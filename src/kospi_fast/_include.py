"""Where the shipped ``.pxd`` files live, for Cython code that ``cimport``s kospi_fast."""

from __future__ import annotations

import os

__all__ = ["get_include"]


def get_include() -> str:
    """Directory to put on a Cython build's include path to ``cimport kospi_fast``.

    The kernels' declarations ship in the wheel as ``kospi_fast/*.pxd``; Cython resolves
    ``cimport kospi_fast._aggregate`` by looking for ``kospi_fast/_aggregate.pxd`` under each
    include directory, so the directory returned is the one *containing* the ``kospi_fast``
    package (site-packages, for an installed wheel). The compiled consumer needs no C headers
    from kospi_fast: the kernels are reached at import time through each extension module's
    ``__pyx_capi__``, so ``kospi_fast`` must be importable when the consumer is imported.

    Returns
    -------
    str
        Absolute path of the parent directory of the ``kospi_fast`` package.

    Examples
    --------
    >>> import kospi_fast, Cython.Build, setuptools
    >>> ext = setuptools.Extension("mine", ["mine.pyx"])
    >>> Cython.Build.cythonize([ext], include_path=[kospi_fast.get_include()])  # doctest: +SKIP
    """
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
