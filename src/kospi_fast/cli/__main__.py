"""``python -m kospi_fast.cli``."""

import sys

from kospi_fast.cli import main

sys.exit(main())
