"""``python -m kospi_fast``: the ``kospi-fast`` command line (:func:`kospi_fast.cli.main`)."""

import sys

from kospi_fast.cli import main

if __name__ == "__main__":
    sys.exit(main())
