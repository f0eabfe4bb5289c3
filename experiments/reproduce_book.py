"""Reproduce Nielsen's MNIST table with mlpkit: the same as ``mlpkit reproduce`` (see its --help).

    python experiments/reproduce_book.py              # every configuration, 3 seeds (about 35 min on 2 cores)
    python experiments/reproduce_book.py --quick      # 2 epochs on 5,000 images, 1 seed: the CI smoke test

Writes experiments/results/reproduction.md (or reproduction_quick.md). MNIST is read from MLPKIT_DATA.
"""

import sys

from mlpkit.cli import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", *sys.argv[1:]]))
