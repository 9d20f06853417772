"""Sphinx configuration of the kospi_fast documentation (``python -m sphinx -W docs docs/_build/html``).

The API pages are generated from the docstrings of the installed package (numpydoc); the guide's
code blocks are ``doctest``/``testcode`` blocks, run by ``python -m sphinx -b doctest docs ...``
(``.ci/run`` does both, warnings as errors). The docstrings' own ``>>>`` examples are run by
``tests/test_doctests.py``, in each module's namespace, so the doctest builder leaves them alone.
"""

from __future__ import annotations

import kospi_fast

project = "kospi_fast"
author = "kospi_fast contributors"
copyright = "2026, kospi_fast contributors"  # noqa: A001 - Sphinx's name
release = kospi_fast.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md"]
templates_path: list[str] = []
html_static_path = ["_static"]
html_css_files = ["wrap-output.css"]  # doctest outputs wrap (long one-line reprs)

# -- autodoc / autosummary / numpydoc
autosummary_generate = False  # the API pages list their names by hand (one home: the module's __all__)
autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
autodoc_preserve_defaults = True
numpydoc_show_class_members = False  # :members: already lists them (no duplicate autosummary tables)
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# -- doctest: only the guide's doctest/testcode blocks (docstrings: tests/test_doctests.py)
doctest_test_doctest_blocks = ""
doctest_global_setup = """
import numpy as np
import kospi_fast as kf
"""

# -- cross references (no intersphinx: the CI has no internet beyond the package registries)
nitpicky = False
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"]

# -- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"kospi_fast {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars: dict[str, list[str]] = {"**": ["sidebar-nav-bs"]}
