"""Build the example consumer against the installed kospi_fast: ``python setup.py build_ext -i``.

The only thing kospi_fast contributes to the build is ``kospi_fast.get_include()``, the
directory holding its ``.pxd`` files; no kospi_fast C headers or libraries are needed.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

import kospi_fast

setup(
    name="kospi-fast-consumer",
    ext_modules=cythonize(
        [Extension("consumer", ["consumer.pyx"])],
        include_path=[kospi_fast.get_include()],
        compiler_directives={"language_level": 3},
    ),
)
