"""`python -m bench`: every benchmark and the one table (bench.all)."""

import sys

from bench.all import main

sys.exit(main())
