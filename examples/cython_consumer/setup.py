"""Build the consumer against the installed kospi_fast: ``python setup.py build_ext --inplace``.

kospi_fast contributes one thing to the build: ``kospi_fast.get_include()``, the directory of
its shipped ``.pxd`` files (no C headers or libraries).
"""

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

import kospi_fast

setup(
    name="day-range",
    ext_modules=cythonize([Extension("day_range", ["day_range.pyx"], include_dirs=[np.get_include()])],
                          include_path=[kospi_fast.get_include()]),
)
