"""Reproduce Nielsen's MNIST table with mlpkit and write experiments/results/reproduction.md.

    python experiments/reproduce_book.py                 # every configuration, 3 seeds (about 30-40 min on 2 cores)
    python experiments/reproduce_book.py --quick         # 2 epochs on 5,000 images, 1 seed: a smoke test for CI
    python experiments/reproduce_book.py --only depth    # configurations whose name contains 'depth'

MNIST is read from MLPKIT_DATA (or downloaded once into the cache).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlpkit.reproduce import BOOK_RUNS, reproduce, write_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shortened runs (2 epochs, 5,000 images, 1 seed)")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default 0,1,2; quick: 0)")
    parser.add_argument("--jobs", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--only", default=None, help="run only configurations whose name contains this text")
    parser.add_argument("--out", default=None, help="markdown output (default experiments/results/...)")
    args = parser.parse_args()

    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else ([0] if args.quick else [0, 1, 2])
    runs = [r for r in BOOK_RUNS if args.only is None or args.only in r.name]
    if not runs:
        parser.error(f"--only {args.only!r} matches no configuration")
    default_name = "reproduction_quick.md" if args.quick else "reproduction.md"
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / default_name
    results = reproduce(runs, seeds=seeds, jobs=args.jobs, quick=args.quick)
    command = "python experiments/reproduce_book.py " + " ".join(sys.argv[1:])
    print(write_table(results, out, command.strip(), quick=args.quick).read_text())


if __name__ == "__main__":
    main()
