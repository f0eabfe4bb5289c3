"""``python -m mlpkit.cli``: the ``mlpkit`` command."""

import sys

from . import main

sys.exit(main())
