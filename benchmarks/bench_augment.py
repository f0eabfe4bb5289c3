"""Seconds per pass of each augmenter over 50,000 MNIST training images, against one training epoch.

    python benchmarks/bench_augment.py [--repeats 5] [--n-jobs 2] [--batch 10]

The training loop augments the whole training set once per epoch, so the cost that matters is one pass
over Nielsen's 50,000 training images; the issue's budget is "no more than 2x an epoch". The reference
epoch is a [784, 100, 10] network trained by SGD for one epoch at ``--batch`` (Nielsen's 10 by default),
both with mlpkit and as a bare NumPy loop (a floor for any epoch time). Reports the median and min wall
time and the median CPU time of ``--repeats`` runs, and the slow-down (epoch + augmentation) / epoch
(medians) against each reference; writes the table to benchmarks/results/augment.md and prints it. Uses
the real MNIST images when ``load_mnist`` finds them (MLPKIT_DATA, or ../shared/data/mnist beside the
repository), random images of the same shape otherwise.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import mlpkit
from mlpkit.datasets import (
    Compose,
    DataNotFoundError,
    ElasticDistortion,
    RandomAffine,
    RandomRotation,
    RandomShift,
    load_mnist,
)

REPO = Path(__file__).resolve().parent.parent
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
N_EXAMPLES = 50_000


def training_images() -> tuple[np.ndarray, np.ndarray, str]:
    if "MLPKIT_DATA" not in os.environ and SHARED_MNIST.is_dir():
        os.environ["MLPKIT_DATA"] = str(SHARED_MNIST)
    try:
        train = load_mnist(split="book", download=False).train
        return train.X, train.y, "MNIST (book split, 50,000 training images)"
    except DataNotFoundError:
        rng = np.random.default_rng(0)
        return rng.random((N_EXAMPLES, 784), dtype=np.float32), rng.integers(0, 10, N_EXAMPLES), "random images"


def numpy_epoch(X: np.ndarray, y: np.ndarray, batch: int) -> None:
    """One SGD epoch of a bare [784, 100, 10] sigmoid / softmax network in NumPy: a floor for any library's
    epoch time, so the most demanding reference for the augmentation budget."""
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((784, 100), dtype=np.float32) / 28
    W2 = rng.standard_normal((100, 10), dtype=np.float32) / 10
    b1, b2 = np.zeros(100, np.float32), np.zeros(10, np.float32)
    targets = np.eye(10, dtype=np.float32)[y]
    order = rng.permutation(len(X))
    Xs, Ts = X[order], targets[order]
    eta = np.float32(0.5 / batch)
    for lo in range(0, len(X), batch):
        x, t = Xs[lo : lo + batch], Ts[lo : lo + batch]
        a1 = 1 / (1 + np.exp(-(x @ W1 + b1)))
        z2 = a1 @ W2 + b2
        a2 = np.exp(z2 - z2.max(axis=1, keepdims=True))
        a2 /= a2.sum(axis=1, keepdims=True)
        d2 = a2 - t
        d1 = (d2 @ W2.T) * a1 * (1 - a1)
        W2 -= eta * (a1.T @ d2)
        b2 -= eta * d2.sum(axis=0)
        W1 -= eta * (x.T @ d1)
        b1 -= eta * d1.sum(axis=0)


def measure(run, repeats: int) -> tuple[float, float, float]:
    """Median and min wall-clock seconds, and median CPU seconds (all threads) of ``repeats`` runs. The CPU
    time is the steadier figure on a shared machine: it barely moves when other processes compete."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), min(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=None, help="augmenter threads (default: all available)")
    parser.add_argument("--batch", type=int, default=10, help="mini-batch size of the reference epoch")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "augment.md")
    args = parser.parse_args()

    X, y, source = training_images()
    augmenters = {
        "RandomShift(1)": RandomShift(1, n_jobs=args.n_jobs),
        "RandomRotation(10)": RandomRotation(10, n_jobs=args.n_jobs),
        "RandomAffine()": RandomAffine(n_jobs=args.n_jobs),
        "ElasticDistortion(34, 4)": ElasticDistortion(34, 4, n_jobs=args.n_jobs),
        "Compose(shift, elastic)": Compose([RandomShift(1), ElasticDistortion(34, 4)], n_jobs=args.n_jobs),
    }
    net = mlpkit.Network([784, 100, 10], seed=0)

    def epoch() -> None:
        net.fit(X, y, epochs=1, batch_size=args.batch, learning_rate=0.5, monitor_training=False, verbose=0, seed=0)

    epoch_wall, epoch_min, epoch_cpu = measure(epoch, args.repeats)
    bare_wall, bare_min, bare_cpu = measure(lambda: numpy_epoch(X, y, args.batch), args.repeats)
    rows = [
        f"| reference: one mlpkit epoch, [784, 100, 10], batch {args.batch} | {epoch_wall:.3f} | {epoch_min:.3f} "
        f"| {epoch_cpu:.3f} | 1.00 | |",
        f"| reference: one bare NumPy SGD epoch, same network and batch | {bare_wall:.3f} | {bare_min:.3f} "
        f"| {bare_cpu:.3f} | | 1.00 |",
    ]
    rng = np.random.default_rng(0)
    for name, augment in augmenters.items():
        augment(X[:1000], rng)  # warm-up
        wall, fastest, cpu = measure(lambda a=augment: a(X, rng), args.repeats)
        rows.append(
            f"| {name} | {wall:.3f} | {fastest:.3f} | {cpu:.3f} | {(epoch_wall + wall) / epoch_wall:.2f} "
            f"| {(bare_wall + wall) / bare_wall:.2f} |"
        )

    n_jobs = next(iter(augmenters.values())).n_jobs
    table = "\n".join(
        [
            f"Augmentation of {len(X):,} images ({source}); {n_jobs} augmenter thread(s), "
            f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} CPUs, "
            f"{platform.processor() or platform.machine()}, NumPy {np.__version__}, {args.repeats} repeats.",
            "",
            "| pass over the training set | median s | min s | median CPU s | slow-down of an mlpkit epoch "
            "| slow-down of a bare NumPy epoch |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            *rows,
        ]
    )
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
