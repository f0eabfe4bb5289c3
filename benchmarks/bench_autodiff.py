"""What a layer written as a forward pass alone costs: autodiff layers against mlpkit's hand-fused Dense layers,
timed in the same process, and the graph-building overhead per autodiff operation.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_autodiff.py
    python benchmarks/bench_autodiff.py --quick --out /tmp/autodiff.md          # smoke test

1. Training: one epoch of ``fit`` (plain SGD or Adam) on MNIST's 50,000 training images (the first 10,240 for the
   large network; ``load_mnist(split="book")`` from MLPKIT_DATA or ../shared/data/mnist beside the repository;
   random images of the same shape when it is absent: timing does not depend on pixel values), for

   - ``hand``: ``Network(sizes)``, Dense layers with hand-written backward passes, trained through the step plan
     of :mod:`mlpkit.fast` (plain SGD fused into the weight-gradient products where the threads allow);
   - ``autodiff``: the same maths as :class:`AutodiffDense` layers (``ForwardLayer`` subclasses: x W + b and
     the activation written with ``mlpkit.autodiff``), the softmax as an ``Activation`` layer and the built-in
     cross-entropy, so the layers' backward passes are all derived by autodiff;
   - ``autodiff + cost``: the same, with the cross-entropy too written as a ``ForwardLoss``.

   Each round trains every variant once in turn (rotating the order); a ratio is (variant's time / hand's
   time) within a round, and the table gives the median over rounds. Times are the process's CPU seconds on
   one BLAS thread by default (``--blas-threads``): on a machine that other jobs share, CPU time barely moves
   when they compete, where wall time does; the wall-clock ratio is reported beside it. The target (issue 16):
   autodiff layers within 3x of the hand-fused layers at batch 128.
2. Per-operation overhead: a chain of small elementwise operations on a 1 x 1 tensor, timed recorded (the graph
   built), under ``no_grad``, as bare NumPy calls, and its backward pass; the overhead per operation is the
   recorded time minus NumPy's. With the number of graph nodes one training step builds, this bounds what the
   graph itself costs per step.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import mlpkit.autodiff as ad
from machine import machine_lines, write_results
from mlpkit import Activation, ForwardLayer, ForwardLoss, Network
from mlpkit.datasets import DataNotFoundError, load_mnist
from mlpkit.initializers import get_initializer

REPO = Path(__file__).resolve().parent.parent
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
ACTIVATIONS = {"sigmoid": ad.sigmoid, "relu": ad.relu, "identity": lambda z: z}
CELLS = (  # (sizes, batch, activation, optimizer, learning rate, examples)
    ((784, 100, 10), 128, "sigmoid", "sgd", 0.5, 50_000),
    ((784, 100, 10), 128, "relu", "adam", 0.001, 50_000),
    ((784, 30, 10), 128, "sigmoid", "sgd", 0.5, 50_000),
    ((784, 800, 800, 10), 128, "relu", "sgd", 0.05, 10_240),
    ((784, 100, 10), 32, "sigmoid", "sgd", 0.5, 50_000),
    ((784, 100, 10), 10, "sigmoid", "sgd", 0.5, 50_000),
)
TARGET_BATCH, TARGET_RATIO = 128, 3.0


class AutodiffDense(ForwardLayer):
    """Dense's maths, a = g(x W + b), written as a forward pass only (the benchmark's autodiff layer)."""

    type_name = "bench_autodiff_dense"

    def __init__(self, units: int, activation: str = "identity") -> None:
        super().__init__()
        self.units, self.activation = units, activation

    def setup(self, n_in: int, rng: np.random.Generator) -> int:
        weights, biases = get_initializer("default")(n_in, self.units, rng)
        self.add_parameter("W", weights)
        self.add_parameter("b", biases)
        return self.units

    def forward_graph(self, x: ad.Tensor, training: bool) -> ad.Tensor:
        return ACTIVATIONS[self.activation](x @ self.param("W") + self.param("b"))

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "activation": self.activation}


class AutodiffCrossEntropy(ForwardLoss):
    """The categorical cross-entropy -mean_x sum_j y_j ln a_j over softmax outputs, as a forward pass only."""

    name = "bench_autodiff_cross_entropy"

    def forward_graph(self, output: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        return -(y * ad.log(ad.clip(output, 1e-12, 1.0))).sum(axis=1).mean()


def network(variant: str, sizes: tuple[int, ...], activation: str) -> Network:
    if variant == "hand":
        return Network(list(sizes), activation=activation, seed=0)
    layers: list = [AutodiffDense(n, activation) for n in sizes[1:-1]]
    layers += [AutodiffDense(sizes[-1]), Activation("softmax")]
    loss = AutodiffCrossEntropy() if variant == "autodiff + cost" else None
    return Network(layers, input_dim=sizes[0], loss=loss, seed=0)


VARIANTS = ("hand", "autodiff", "autodiff + cost")


def epoch_seconds(variant: str, sizes: tuple[int, ...], batch: int, activation: str, optimizer: str, rate: float,
                  X: np.ndarray, y: np.ndarray, threads: int | str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one epoch of ``fit`` on (X, y), the network built beforehand."""
    net = network(variant, sizes, activation)
    wall, cpu = time.perf_counter(), time.process_time()
    net.fit(X, y, epochs=1, batch_size=batch, optimizer=optimizer, learning_rate=rate, monitor_training=False,
            verbose=0, seed=0, blas_threads=threads)
    return time.process_time() - cpu, time.perf_counter() - wall


def median_ratio(times: list[tuple[float, float]], reference: list[tuple[float, float]], which: int = 0) -> float:
    """The median over rounds of times[r][which] / reference[r][which] (0: CPU seconds, 1: wall seconds)."""
    return statistics.median(t[which] / h[which] for t, h in zip(times, reference, strict=True))


def training_table(X: np.ndarray, y: np.ndarray, cells: tuple, rounds: int,
                   threads: int | str) -> tuple[list[str], list[float]]:
    lines = ["## 1. One epoch of fit: autodiff layers against the hand-fused Dense layers", "",
             f"BLAS threads: {threads}. CPU seconds per epoch are medians over {rounds} interleaved rounds; a ratio "
             "is the median over rounds of (variant / hand) in the same round, of CPU time (of wall time in the "
             "last column).", "",
             "| network | batch | act | opt | examples | hand s | autodiff s | autodiff + cost s | autodiff / hand "
             "| autodiff + cost / hand | autodiff / hand (wall) | graph nodes per step |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    target_ratios = []
    for sizes, batch, activation, optimizer, rate, examples in cells:
        Xc, yc = X[:examples], y[:examples]
        for variant in VARIANTS:  # warm-up: buffers, BLAS threads, first-call costs
            epoch_seconds(variant, sizes, batch, activation, optimizer, rate, Xc[:4 * batch], yc[:4 * batch], threads)
        times: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
        for r in range(rounds):
            for variant in VARIANTS[r % 3:] + VARIANTS[:r % 3]:
                times[variant].append(epoch_seconds(variant, sizes, batch, activation, optimizer, rate, Xc, yc,
                                                    threads))
        ratio = {v: median_ratio(times[v], times["hand"]) for v in VARIANTS}
        wall = median_ratio(times["autodiff"], times["hand"], 1)
        seconds = {v: statistics.median(t[0] for t in times[v]) for v in VARIANTS}
        if batch == TARGET_BATCH:
            target_ratios.append(ratio["autodiff"])
        lines.append(f"| {list(sizes)} | {batch} | {activation} | {optimizer} | {len(Xc):,} | {seconds['hand']:.3f} | "
                     f"{seconds['autodiff']:.3f} | {seconds['autodiff + cost']:.3f} | {ratio['autodiff']:.2f}x | "
                     f"{ratio['autodiff + cost']:.2f}x | {wall:.2f}x | "
                     f"{nodes_per_step(sizes, activation)} |")
        print(lines[-1], flush=True)
    return lines, target_ratios


def nodes_per_step(sizes: tuple[int, ...], activation: str) -> int:
    """Graph nodes (leaves included) that the autodiff layers record in one training step."""
    net = network("autodiff", sizes, activation)
    x = np.zeros((2, sizes[0]), dtype=net.dtype)
    count = 0
    for layer in net.layers:
        if isinstance(layer, ForwardLayer):
            out = layer._run(x, True, True)
            count += len(ad.nodes(out))
        x = layer.forward(x, False)
    return count


def per_op_overhead(length: int, repeats: int) -> dict[str, float]:
    """Microseconds per operation of a chain of ``length`` alternating adds and multiplies on a 1 x 1 float64
    tensor: recorded, under no_grad, bare NumPy, and the recorded chain's backward pass."""
    value = np.full((1, 1), 0.5)

    def chain(x: object) -> object:
        for _ in range(length // 2):
            x = x * 0.999
            x = x + 0.001
        return x

    def timed(run: object) -> float:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        return best / length * 1e6

    def backward() -> None:
        leaf = ad.Tensor(value, requires_grad=True)
        out = chain(leaf)
        out.backward(np.ones((1, 1)))

    def no_grad() -> None:
        with ad.no_grad():
            chain(ad.Tensor(value, requires_grad=True))

    recorded = timed(lambda: chain(ad.Tensor(value, requires_grad=True)))
    both = timed(backward)
    return {"numpy": timed(lambda: chain(value)), "recorded": recorded, "no_grad": timed(no_grad),
            "backward": both - recorded}


def training_data(quick: bool) -> tuple[np.ndarray, np.ndarray, str]:
    if "MLPKIT_DATA" not in os.environ and SHARED_MNIST.is_dir():
        os.environ["MLPKIT_DATA"] = str(SHARED_MNIST)
    n = 2_560 if quick else 50_000
    try:
        train = load_mnist(split="book", download=False).train
        return train.X[:n], train.y[:n], f"MNIST (book split), the first {n:,} training images"
    except DataNotFoundError:
        rng = np.random.default_rng(0)
        return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n), f"{n:,} random MNIST-shaped images"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one cell, one round, 2,560 examples (CI)")
    parser.add_argument("--blas-threads", default="1", help="fit's blas_threads for every run: a number or auto")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "autodiff.md"))
    args = parser.parse_args(argv)
    started, t0 = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), time.perf_counter()
    X, y, source = training_data(args.quick)
    cells = CELLS[:1] if args.quick else CELLS
    threads = args.blas_threads if args.blas_threads in ("auto", "split") else int(args.blas_threads)
    lines, target_ratios = training_table(X, y, cells, 1 if args.quick else args.rounds, threads)
    overhead = per_op_overhead(200 if args.quick else 2000, 3 if args.quick else 7)
    lines += ["", "## 2. Graph-building overhead per operation", "",
              "A chain of alternating `x * c` and `x + c` on a 1 x 1 float64 tensor (best of the repeats, "
              "microseconds per operation): what recording an operation costs beyond the NumPy call itself.", "",
              "| bare NumPy | no_grad | recorded | backward (per recorded op) | recording overhead |",
              "|---|---|---|---|---|",
              f"| {overhead['numpy']:.2f} | {overhead['no_grad']:.2f} | {overhead['recorded']:.2f} | "
              f"{overhead['backward']:.2f} | {overhead['recorded'] - overhead['numpy']:.2f} |"]
    worst = max(target_ratios)
    lines += ["", "## Target (issue 16)", "", "| target | cells | worst ratio | verdict |", "|---|---|---|---|",
              f"| autodiff layers within {TARGET_RATIO:.0f}x of hand-fused layers at batch {TARGET_BATCH} | "
              f"{len(target_ratios)} | {worst:.2f}x | {'met' if worst <= TARGET_RATIO else 'not met'} |"]
    command = "python benchmarks/bench_autodiff.py " + " ".join(argv if argv is not None else sys.argv[1:])
    header = ["# Autodiff layers against hand-written layers", "",
              f"- run: {started} UTC, {(time.perf_counter() - t0) / 60:.1f} min; command: `{command.strip()}`",
              f"- data: {source}", *machine_lines(), ""]
    return write_results(args.out, "\n".join(header + lines) + "\n")


if __name__ == "__main__":
    main()
