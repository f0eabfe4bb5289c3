"""The ``mlpkit`` command (needs the ``cli`` extra: ``pip install 'mlpkit[cli]'``).

    mlpkit train                      # a [64, 30, 10] network on the embedded 8x8 digits
    mlpkit train --dataset mnist --layers auto,100,auto --epochs 30 --eta 0.5 --lmbda 5
    mlpkit train --dataset data.csv --label-column species --layers auto,16,auto
    mlpkit train --config experiment.toml --seed 3
    mlpkit train --resume runs/20250101-120000      # after Ctrl-C
    mlpkit evaluate runs/<run>/model.mlpk
    mlpkit predict runs/<run>/model.mlpk new.csv --proba
    mlpkit gradcheck --layers 4,5,3 --activation tanh --l2 1 --batch-norm
    mlpkit diagnose runs/<run>/model.mlpk --bayes-error 0.01

Bad options end with one line saying what is wrong and what is allowed, and exit status 2.
This module imports nothing beyond the standard library until :func:`main` runs, so ``import mlpkit``
never needs click, rich, matplotlib or PyYAML.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

__all__ = ["EXTRAS", "main"]

#: modules the command needs (distribution names: click, rich, matplotlib, PyYAML)
EXTRAS = ("click", "rich", "matplotlib", "yaml")
MISSING_EXTRAS = "the mlpkit command needs its extras: pip install 'mlpkit[cli]'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mlpkit`` command with ``argv`` (default: ``sys.argv[1:]``); return its exit status.

    SIGTERM is handled as Ctrl-C from here on (:mod:`mlpkit.cli._signals`); either one while the command
    starts (imports, reading data, building the network) ends it with one line and status 130 or 143,
    no traceback, and so does one that C code swallowed while the command ran to its end.
    """
    try:
        from . import _signals

        _signals.install()
    except KeyboardInterrupt:  # Ctrl-C in the few milliseconds before the handler exists
        print("mlpkit: interrupted", file=sys.stderr)
        return 130
    try:
        missing = [name for name in EXTRAS if importlib.util.find_spec(name) is None]
        if missing:
            print(f"mlpkit: error: {MISSING_EXTRAS} (missing: {', '.join(missing)})", file=sys.stderr)
            return 2
        args = list(sys.argv[1:] if argv is None else argv)
        from ._app import cli

        _signals.raise_lost()
        status = cli.main(args=args, prog_name="mlpkit", standalone_mode=False)
        if status == 0:  # a stop lost on the way: the work is done, and the status still says the stop came
            _signals.raise_lost()
        return status
    except KeyboardInterrupt as exc:  # before the click group runs (its own stops are handled there)
        print(f"mlpkit: {_signals.stop_word(exc)}", file=sys.stderr)
        return _signals.stop_status(exc)
