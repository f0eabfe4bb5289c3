"""Peak resident memory (RSS) of one MNIST training run, against the budget of the speed issue:

    peak RSS <= 2 x (data set in float32 + model + optimizer state) + 150 MB

Run on its own (a fresh process, so the peak belongs to this run alone)::

    python benchmarks/peak_memory.py [--sizes 784,800,800,10] [--batch 128] [--optimizer adam] [--json]

It loads MNIST with ``mlpkit.datasets.load_mnist(split="book")`` (50k/10k/10k, float32 pixels) from
MLPKIT_DATA or the user cache; with ``--synthetic`` (or when MNIST is not available) it uses random arrays
of the same shapes. It trains one epoch with validation and reports ``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

import mlpkit
from mlpkit.datasets import load_mnist

MB = 1024 * 1024


def peak_rss_bytes() -> int:
    """This process's peak resident memory: VmHWM from /proc (Linux), else ru_maxrss.

    ru_maxrss is not enough on Linux: a process started by a large parent (the speed suite) inherits the
    parent's high-water mark through fork, so it would report the parent's memory, not its own.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def mnist_arrays(synthetic: bool) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    if not synthetic:
        try:
            data = load_mnist(split="book", download=False)
            return {name: (part.X, part.y) for name, part in
                    (("train", data.train), ("validation", data.validation), ("test", data.test))}, "MNIST"
        except (OSError, ValueError):
            pass
    rng = np.random.default_rng(0)
    arrays = {name: (rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n))
              for name, n in (("train", 50_000), ("validation", 10_000), ("test", 10_000))}
    return arrays, "MNIST-shaped random arrays"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="784,800,800,10")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    arrays, source = mnist_arrays(args.synthetic)
    (X, y), (X_val, y_val) = arrays["train"], arrays["validation"]
    net = mlpkit.Network([int(s) for s in args.sizes.split(",")], activation="relu", init="he", seed=0)
    start = time.perf_counter()
    net.fit(X, y, epochs=1, batch_size=args.batch, optimizer=args.optimizer, validation_data=(X_val, y_val),
            verbose=0, seed=0)
    seconds = time.perf_counter() - start
    peak = peak_rss_bytes()
    data_bytes = sum(x.size * 4 + x.shape[0] * 4 for x, _ in arrays.values())  # float32 pixels + labels
    model_bytes = net.flat_parameters.nbytes
    slots = {"sgd": 0, "momentum": 1, "nesterov": 1, "rmsprop": 1, "adam": 2, "adamw": 2}.get(args.optimizer, 2)
    state_bytes = slots * model_bytes
    budget = 2 * (data_bytes + model_bytes + state_bytes) + 150 * MB
    result = {"data": source, "sizes": args.sizes, "batch": args.batch, "optimizer": args.optimizer,
              "peak_rss_mb": peak / MB, "budget_mb": budget / MB, "data_mb": data_bytes / MB,
              "model_mb": model_bytes / MB, "optimizer_state_mb": state_bytes / MB, "train_seconds": seconds,
              "within_budget": peak <= budget}
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>20}: {value:.1f}" if isinstance(value, float) else f"{key:>20}: {value}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
