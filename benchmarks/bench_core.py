"""One training epoch of 50,000 MNIST-shaped examples: mlpkit vs a plain PyTorch CPU loop, same process.

    python benchmarks/bench_core.py [--repeats 5] [--sizes 784,30,10] [--batches 10,128]

Runs are interleaved (mlpkit, torch, mlpkit, torch, ...) and the median of the repeats is reported, with
the ratio torch time / mlpkit time (> 1 means mlpkit is faster). Both use float32, sigmoid hidden
layers, a softmax output with cross-entropy, plain SGD and per-epoch shuffling. Writes a markdown table
to benchmarks/results/core.md (and prints it). Run without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE set
(``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_core.py``) to measure the
machine's best BLAS kernels; the table records which BLAS ran.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import mlpkit

N_EXAMPLES = 50_000


def mnist_shaped(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random data with MNIST's shapes and value range (timing does not depend on the pixel values)."""
    rng = np.random.default_rng(seed)
    return rng.random((N_EXAMPLES, 784), dtype=np.float32), rng.integers(0, 10, N_EXAMPLES)


def time_mlpkit(sizes: list[int], X: np.ndarray, y: np.ndarray, batch: int) -> float:
    net = mlpkit.Network(sizes, seed=0)
    start = time.perf_counter()
    net.fit(X, y, epochs=1, batch_size=batch, learning_rate=0.5, monitor_training=False, verbose=0, seed=0)
    return time.perf_counter() - start


def time_torch(sizes: list[int], X: np.ndarray, y: np.ndarray, batch: int) -> float:
    import torch

    layers: list[torch.nn.Module] = []
    for n_in, n_out in itertools.pairwise(sizes[:-1]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid()]
    layers.append(torch.nn.Linear(sizes[-2], sizes[-1]))
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    start = time.perf_counter()
    order = torch.randperm(Xt.shape[0])
    Xs, ys = Xt[order], yt[order]
    for lo in range(0, Xs.shape[0], batch):
        optimizer.zero_grad()
        loss = loss_fn(model(Xs[lo:lo + batch]), ys[lo:lo + batch])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl)"
    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(f"{i['internal_api']} {i.get('version')} {i.get('architecture')} "
                     f"threads={i['num_threads']}" for i in infos) or "none found"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", default="784,30,10")
    parser.add_argument("--batches", default="10,128")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "core.md"))
    args = parser.parse_args()

    import torch

    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    sizes = [int(s) for s in args.sizes.split(",")]
    X, y = mnist_shaped()
    rows = []
    for batch in (int(b) for b in args.batches.split(",")):
        ours, theirs = [], []
        time_mlpkit(sizes, X[:2000], y[:2000], batch)  # warm-up both
        time_torch(sizes, X[:2000], y[:2000], batch)
        for _ in range(args.repeats):
            ours.append(time_mlpkit(sizes, X, y, batch))
            theirs.append(time_torch(sizes, X, y, batch))
        m_ours, m_theirs = statistics.median(ours), statistics.median(theirs)
        rows.append(f"| {sizes} | {batch} | {m_ours:.3f} | {m_theirs:.3f} | {m_theirs / m_ours:.2f}x |")
        print(rows[-1], flush=True)

    header = [
        f"# One epoch of {N_EXAMPLES:,} examples, float32, SGD (median of {args.repeats}, interleaved)",
        "",
        f"- machine: {platform.machine()} {platform.processor() or ''}, {threads} cores, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)",
        f"- NumPy BLAS: {blas_description()}",
        f"- OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}",
        f"- command: python benchmarks/bench_core.py --repeats {args.repeats} --sizes {args.sizes} "
        f"--batches {args.batches}",
        "",
        "| sizes | batch | mlpkit s/epoch | PyTorch s/epoch | PyTorch / mlpkit |",
        "|---|---|---|---|---|",
    ]
    text = "\n".join(header + rows) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
