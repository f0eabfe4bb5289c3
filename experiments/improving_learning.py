"""Does what Ng's course and Nielsen's ch.3 teach make a [784, 100, 10] ReLU network learn better on MNIST?

Two measurements on real MNIST (Nielsen's split: 50,000 train / 10,000 validation / 10,000 test):

1. Optimizers: plain mini-batch SGD (at two learning rates) against Adam and momentum, with mini-batches
   of 64 (Ng's optimization assignment), the same network, initialization and shuffling; the number of
   epochs each needs to reach a validation accuracy (97% and 97.5% by default).
2. Regularization: the same network trained with plain SGD without regularization, with inverted dropout
   on the hidden layer, and with L2 weight decay (Nielsen's lmbda = 5 for 50,000 images); the
   train/validation gap at the end of training, in accuracy and in cross-entropy (the data cost, without
   the penalty, so that it is comparable across settings).

The results go to ``experiments/results/improving_learning.md`` (a markdown table with the command and the
machine). ``--quick`` runs a small version in well under a minute, to check that everything works.

    MLPKIT_DATA=/path/to/mnist python experiments/improving_learning.py
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

import mlpkit
from mlpkit import L2, SGD, Adam, Dense, Dropout, Momentum, Network
from mlpkit.datasets import load_mnist
from mlpkit.platform_info import describe

RESULTS = Path(__file__).resolve().parent / "results" / "improving_learning.md"


def build(*, keep_prob: float | None = None, lmbda: float | None = None, seed: int = 0) -> Network:
    """[784, 100, 10]: ReLU hidden layer (He initialization), softmax output with cross-entropy."""
    layers = [Dense(100, "relu", init="he")]
    if keep_prob is not None:
        layers.append(Dropout(keep_prob))
    layers.append(Dense(10, "softmax", init="xavier"))
    return Network(layers, input_dim=784, regularizer=None if lmbda is None else L2(lmbda), seed=seed)


def first_epoch_reaching(values: list[float], target: float) -> int | None:
    """1-based epoch at which ``values`` first reaches ``target`` (None if never)."""
    return next((i + 1 for i, v in enumerate(values) if v >= target), None)


def compare_optimizers(data, args) -> list[dict]:
    X, y = data.train
    validation = tuple(data.validation)
    optimizers = {f"SGD (eta={lr})": (SGD, lr) for lr in args.sgd_lr}
    optimizers[f"Momentum, Ng (alpha={args.momentum_lr}, beta=0.9)"] = (Momentum, args.momentum_lr)
    optimizers[f"Adam (alpha={args.adam_lr}, beta1=0.9, beta2=0.999)"] = (Adam, args.adam_lr)
    rows = []
    for seed in range(args.seeds):
        for label, (cls, lr) in optimizers.items():
            history = build(seed=seed).fit(X, y, epochs=args.epochs, batch_size=args.opt_batch_size,
                                           optimizer=cls(lr), validation_data=validation, seed=seed,
                                           monitor_training=False, verbose=0)
            val = history["val_accuracy"]
            rows.append({"optimizer": label, "seed": seed, "epochs": len(history), "val": val,
                         "reach": [first_epoch_reaching(val, t) for t in args.target],
                         "train_s": float(np.mean(history["time"]))})
            print(f"  {label:<40} seed {seed}: epochs to {args.target}: {rows[-1]['reach']}, "
                  f"best {max(val):.2%}", flush=True)
    return rows


def compare_regularization(data, args) -> list[dict]:
    X, y = data.train
    settings = {"no regularization": {}}
    settings.update({f"dropout, keep_prob={p} on the hidden layer": {"keep_prob": p} for p in args.keep_prob})
    settings.update({f"L2, lmbda={lmbda}": {"lmbda": lmbda} for lmbda in args.lmbda})
    rows = []
    for label, kwargs in settings.items():
        net = build(**kwargs, seed=0)
        history = net.fit(X, y, epochs=args.reg_epochs, batch_size=args.batch_size, optimizer=SGD(args.reg_lr),
                          validation_data=tuple(data.validation), seed=0, verbose=0)
        unpenalized = net.copy()
        unpenalized.regularizer = None  # the data cost alone, comparable across settings
        train, val = unpenalized.evaluate(X, y), unpenalized.evaluate(*data.validation)
        rows.append({"setting": label, "train": train["accuracy"], "val": val["accuracy"],
                     "test": net.evaluate(*data.test)["accuracy"], "train_ce": train["loss"], "val_ce": val["loss"],
                     "best_val": max(history["val_accuracy"])})
        print(f"  {label:<44} train {train['accuracy']:.2%}  val {val['accuracy']:.2%}  "
              f"gap {100 * (train['accuracy'] - val['accuracy']):.2f} pp", flush=True)
    return rows


def report(args, opt_rows: list[dict], reg_rows: list[dict], seconds: float) -> str:
    command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    lines = [
        "# Improving learning on MNIST: optimizers and regularization",
        "",
        f"- command: `{command}`" + ("  (quick mode: reduced data and epochs)" if args.quick else ""),
        f"- machine: {describe()}, {platform.platform()}, mlpkit {mlpkit.__version__}",
        f"- data: MNIST, {args.n_train} training / 10,000 validation images (Nielsen's split), pixels in [0, 1]",
        "- network: [784, 100, 10], ReLU hidden layer (He init), softmax output (Xavier init), cross-entropy, "
        "float32",
        f"- total time: {seconds:.0f} s (timings are of a shared machine: indicative only)",
        "",
        "## 1. Epochs to reach a validation accuracy",
        "",
        f"{args.n_train} training images, mini-batches of {args.opt_batch_size}, at most {args.epochs} epochs, "
        f"seeds 0..{args.seeds - 1} (the seed sets the initialization and the shuffling; each seed gives every "
        "optimizer the same start). '-' = not reached.",
        "",
        "| optimizer | seed | " + " | ".join(f"epochs to {t:.1%}" for t in args.target)
        + " | val. acc. after 1 / 2 epochs | best val. acc. | s / epoch (train) |",
        "|---|---:|" + "---:|" * len(args.target) + "---:|---:|---:|",
    ]
    for r in opt_rows:
        reach = " | ".join("-" if e is None else str(e) for e in r["reach"])
        early = " / ".join(f"{v:.2%}" for v in r["val"][:2])
        lines.append(f"| {r['optimizer']} | {r['seed']} | {reach} | {early} | {max(r['val']):.2%} | "
                     f"{r['train_s']:.2f} |")
    lines += [
        "",
        f"## 2. Train/validation gap after {args.reg_epochs} epochs",
        "",
        f"{args.n_train} training images, mini-batches of {args.batch_size}, plain SGD (eta={args.reg_lr}), "
        "seed 0. Accuracy and cross-entropy "
        "(the data cost, without the weight penalty) at the last epoch; gap = train - validation accuracy "
        "(percentage points) and validation - train cross-entropy.",
        "",
        "| setting | train acc. | val. acc. | acc. gap (pp) | train CE | val. CE | CE gap | best val. acc. | "
        "test acc. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in reg_rows:
        lines.append(f"| {r['setting']} | {r['train']:.2%} | {r['val']:.2%} | {100 * (r['train'] - r['val']):.2f} | "
                     f"{r['train_ce']:.4f} | {r['val_ce']:.4f} | {r['val_ce'] - r['train_ce']:.4f} | "
                     f"{r['best_val']:.2%} | {r['test']:.2%} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data and few epochs (a smoke run)")
    parser.add_argument("--data-dir", default=None, help="MNIST directory (default: $MLPKIT_DATA, then the cache)")
    parser.add_argument("--epochs", type=int, default=10, help="max epochs per optimizer (part 1)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per optimizer (part 1)")
    parser.add_argument("--target", type=float, nargs="+", default=[0.97, 0.975],
                        help="validation accuracies to reach (part 1)")
    parser.add_argument("--opt-batch-size", type=int, default=64, help="mini-batch size (part 1)")
    parser.add_argument("--sgd-lr", type=float, nargs="+", default=[0.1, 0.3], help="SGD learning rates (part 1)")
    parser.add_argument("--momentum-lr", type=float, default=0.1, help="part 1")
    parser.add_argument("--adam-lr", type=float, default=0.001, help="part 1")
    parser.add_argument("--batch-size", type=int, default=10, help="mini-batch size (part 2, Nielsen's)")
    parser.add_argument("--reg-lr", type=float, default=0.1, help="SGD learning rate (part 2)")
    parser.add_argument("--reg-epochs", type=int, default=15, help="epochs for part 2")
    parser.add_argument("--keep-prob", type=float, nargs="+", default=[0.5, 0.8], help="dropout settings (part 2)")
    parser.add_argument("--lmbda", type=float, nargs="+", default=[5.0], help="L2 settings (part 2)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    data = load_mnist(args.data_dir, split="book", download=False)
    if args.quick:
        small = type(data.train)
        data = type(data)(train=small(data.train.X[:5000], data.train.y[:5000]),
                          validation=small(data.validation.X[:2000], data.validation.y[:2000]),
                          test=small(data.test.X[:2000], data.test.y[:2000]),
                          n_classes=10, name="mnist (quick subset)")
        args.epochs, args.seeds, args.target, args.reg_epochs = 3, 1, [0.90], 3
    args.n_train = len(data.train)

    start = time.perf_counter()
    print("1. optimizers", flush=True)
    opt_rows = compare_optimizers(data, args)
    print("2. regularization", flush=True)
    reg_rows = compare_regularization(data, args)
    text = report(args, opt_rows, reg_rows, time.perf_counter() - start)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
