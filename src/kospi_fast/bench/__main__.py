"""``python -m kospi_fast.bench``: see :mod:`kospi_fast.bench`."""

import sys

from kospi_fast.bench import main

sys.exit(main())
