"""The run-time half of the public Cython API ``kospi_fast.kernels`` (``kernels.pxd``).

A consumer compiled against ``kernels.pxd`` carries ``KERNELS_API_VERSION`` as a C constant; it
checks at import that it equals :data:`API_VERSION` of the installed package, so a consumer built
against another API version fails with a clear message instead of misusing a kernel.
"""

from __future__ import annotations

from kospi_fast import _aggregate

__all__ = ["API_VERSION", "CAP_MAX", "check_api_version", "simd_supported", "simd_target"]

#: The version of the Cython API in ``kernels.pxd`` (its ``KERNELS_API_VERSION``).
API_VERSION = 1

#: The largest aggregate cap the kernels keep (int64's maximum): a trade is refused only when
#: the true cap after it would exceed this.
CAP_MAX = 2**63 - 1


def check_api_version(compiled: int) -> None:
    """Raise ``ImportError`` unless ``compiled`` (a consumer's ``KERNELS_API_VERSION``) is the
    installed :data:`API_VERSION`."""
    if compiled != API_VERSION:
        raise ImportError(
            f"this extension was compiled against kospi_fast.kernels API version {compiled}, but the "
            f"installed kospi_fast provides version {API_VERSION}: rebuild it against the installed package"
        )


def simd_target() -> str:
    """The vector unit the exact aggregate (``aggregate_cap``, ``checked_cap_i64``) runs on.

    One of ``"portable"`` (scalar loops for the x86-64 baseline or any other CPU), ``"avx2"``
    or ``"avx512"`` (AVX-512 F/DQ/VL). It is chosen once at import: the best the running CPU
    supports, unless the environment variable ``KOSPI_FAST_SIMD`` names one
    (``portable``, ``avx2``, ``avx512`` or ``auto``). Every target gives the same bits.

    Examples
    --------
    >>> from kospi_fast import kernels
    >>> kernels.simd_target() in kernels.simd_supported()
    True
    """
    return str(_aggregate._simd_target())


def simd_supported() -> tuple[str, ...]:
    """The targets this CPU and build can run, ``"portable"`` first (see :func:`simd_target`)."""
    return tuple(_aggregate._simd_supported())
