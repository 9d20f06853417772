"""Build the Cython extensions. Everything else lives in pyproject.toml.

Compiler directives are set once here. ``KOSPI_FAST_DEBUG=1`` at build time turns bounds
checks and wraparound back on (used by a debug test job).
"""

import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("KOSPI_FAST_DEBUG", "") not in ("", "0")

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}

MODULES = ["_aggregate", "_ticks", "_rebase", "_engine", "_family", "_session"]

extensions = [
    Extension(
        f"kospi_fast.{name}",
        [f"src/kospi_fast/{name}.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=[] if os.name == "nt" else ["-O3", "-ffp-contract=off"],  # float64 paths: no FMA
    )
    for name in MODULES
]

# force: a debug build must not reuse C generated without the checks
setup(ext_modules=cythonize(extensions, compiler_directives=directives, force=DEBUG))
