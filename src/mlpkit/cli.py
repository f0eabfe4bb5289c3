"""The ``mlpkit`` command.

    mlpkit train                      # a [64, 30, 10] network on the embedded 8x8 digits
    mlpkit train --dataset mnist --layers 784,100,10 --epochs 30 --eta 0.5 --lmbda 5
    mlpkit train --dataset data.csv --label-column species --layers auto,16,auto

Bad options end with one line saying what is wrong and what is allowed, and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .activations import ACTIVATION_NAMES
from .datasets.errors import DataFormatError
from .initializers import INITIALIZERS
from .losses import LOSS_NAMES
from .network import Network
from .regularizers import L1, L2


class UsageError(Exception):
    """A bad command-line option: reported on one line, exit status 2."""


def _parse_layers(text: str, n_features: int, n_classes: int) -> list[int]:
    """``"auto,30,auto"`` or ``"64,30,10"``: 'auto' takes the size from the data."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 2:
        raise UsageError(f"--layers needs at least input and output sizes, e.g. auto,30,auto; got {text!r}")
    sizes = []
    for i, part in enumerate(parts):
        if part == "auto" and i in (0, len(parts) - 1):
            sizes.append(n_features if i == 0 else n_classes)
        elif part.isdigit() and int(part) > 0:
            sizes.append(int(part))
        else:
            raise UsageError(f"--layers entries must be positive integers ('auto' allowed first and last); "
                             f"got {part!r} in {text!r}")
    if sizes[0] != n_features:
        raise UsageError(f"--layers starts with {sizes[0]} inputs but the dataset has {n_features} features")
    if sizes[-1] != n_classes:
        raise UsageError(f"--layers ends with {sizes[-1]} outputs but the dataset has {n_classes} classes")
    return sizes


def _load_dataset(args: argparse.Namespace):
    from . import datasets

    if args.dataset == "digits":
        return datasets.load_digits(seed=args.seed)
    if args.dataset == "mnist":
        return datasets.load_mnist(split="book")
    path = Path(args.dataset)
    if not path.is_file():
        raise UsageError(f"--dataset must be 'digits', 'mnist' or a .csv/.npz file; {path} does not exist")
    if path.suffix.lower() not in (".csv", ".npz"):
        raise UsageError(f"--dataset file must end in .csv or .npz, got {path.name}")
    if path.suffix.lower() == ".csv":
        whole = datasets.load_csv(path, label_column=args.label_column)
    else:
        whole = datasets.load_npz(path)
    n_classes = len(whole.classes) if whole.classes is not None else int(whole.y.max()) + 1
    train, validation, test = datasets.split_dataset(whole.X, whole.y, fractions=(0.8, 0.1, 0.1), seed=args.seed,
                                                     stratify=True)
    return datasets.Dataset(train=train, validation=validation, test=test, n_classes=n_classes, name=path.name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlpkit", description="Fast fully-connected neural networks.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a network and report per-epoch accuracy")
    train.add_argument("--dataset", default="digits", help="digits (embedded, default), mnist, or a .csv/.npz file")
    train.add_argument("--label-column", default="label", help="label column of a CSV file (default: label)")
    train.add_argument("--layers", default="auto,30,auto", help="sizes, e.g. 784,100,10 (default auto,30,auto)")
    train.add_argument("--activation", default="sigmoid", choices=[a for a in ACTIVATION_NAMES if a != "softmax"])
    train.add_argument("--output", default="softmax", choices=ACTIVATION_NAMES, help="output activation")
    train.add_argument("--cost", default=None, choices=LOSS_NAMES, help="default: fits the output activation")
    train.add_argument("--init", default="default", choices=sorted(INITIALIZERS))
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--batch-size", type=int, default=10)
    train.add_argument("--eta", type=float, default=0.5, help="learning rate (default 0.5)")
    train.add_argument("--lmbda", type=float, default=0.0, help="L2 regularization strength (Nielsen's lmbda)")
    train.add_argument("--l1", type=float, default=0.0, help="L1 regularization strength instead of L2")
    train.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--save", type=Path, default=None, help="write the trained model here (.mlpk)")
    train.add_argument("--history", type=Path, default=None, help="write the per-epoch history here (JSON)")
    train.add_argument("--quiet", action="store_true", help="print only the final result")
    return parser


def train(args: argparse.Namespace) -> int:
    if args.lmbda and args.l1:
        raise UsageError("--lmbda (L2) and --l1 are exclusive: choose one penalty")
    if args.lmbda < 0 or args.l1 < 0:
        raise UsageError("--lmbda and --l1 must be >= 0")
    data = _load_dataset(args)
    sizes = _parse_layers(args.layers, data.train.X.shape[1], data.n_classes)
    regularizer = L2(args.lmbda) if args.lmbda else (L1(args.l1) if args.l1 else None)
    try:
        net = Network(sizes, activation=args.activation, output_activation=args.output, loss=args.cost,
                      init=args.init, regularizer=regularizer, dtype=args.dtype, seed=args.seed)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from exc
    validation = data.validation or data.test
    if not args.quiet:
        print(f"dataset {data.name}: {len(data.train.y)} training, {len(validation.y)} validation examples")
        print(net.summary())
    try:
        history = net.fit(data.train.X, data.train.y, epochs=args.epochs, batch_size=args.batch_size,
                          learning_rate=args.eta, validation_data=(validation.X, validation.y), seed=args.seed,
                          verbose=0 if args.quiet else 1, history_file=args.history)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from exc
    result = net.evaluate(data.test.X, data.test.y)
    print(f"test accuracy {result['accuracy'] * 100:.2f}%  test cost {result['loss']:.4f}  "
          f"({len(history)} epochs, {sum(history['time']):.1f} s training)")
    if args.save:
        from .serialization import save_network

        save_network(net, args.save, metadata={"dataset": data.name, "test_accuracy": result["accuracy"]})
        print(f"model saved to {args.save}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name, 1) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if getattr(args, "eta", 1.0) <= 0 or not np.isfinite(getattr(args, "eta", 1.0)):
        parser.error("--eta must be a finite number > 0")
    try:
        return train(args)
    except UsageError as exc:
        parser.exit(2, f"mlpkit: error: {exc}\n")
    except (FileNotFoundError, DataFormatError) as exc:  # data that is missing or cannot be read
        parser.exit(2, f"mlpkit: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
