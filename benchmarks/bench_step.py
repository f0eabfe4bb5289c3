"""How much each part of mlpkit's step design buys, measured against the alternative in the same process.

1. Step plan: ``DenseStackPlan.step`` (``mlpkit.fast``) against the reference step ``Network.train_batch``
   (the same NumPy and BLAS calls, bit-identical results), and for plain SGD the plan with the update fused
   into the weight-gradient GEMM, on one BLAS thread; bursts of steps alternate, and each ratio is the
   median over rounds of (reference time / plan time).
2. Fused SGD and the thread policy: ``fit`` with ``blas_threads=1`` (plain SGD fused into the
   weight-gradient GEMM, everything on one thread) and ``blas_threads="split"`` (fused, NumPy's BLAS on two
   threads and the update's on one) against ``blas_threads=2`` (two BLAS threads, gradient then update),
   per batch size; the ratios are (setting / two threads), below 1 where the setting wins. Each fit runs in
   a fresh process, as a training run does: in one process, the BLAS worker threads that the previous run
   left spinning disturb the next one.

Writes a markdown table (default ``benchmarks/results/step.md``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_step.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from machine import machine_lines, write_results
from mlpkit import Network
from mlpkit.fast import DenseStackPlan, limit_blas_threads
from mlpkit.optimizers import get_optimizer

PLAN_CELLS = (((784, 30, 10), 10, "sigmoid", "sgd"), ((784, 100, 10), 10, "sigmoid", "sgd"),
              ((784, 100, 10), 32, "relu", "sgd"), ((784, 100, 10), 10, "relu", "adam"))
THREAD_CELLS = (((784, 800, 800, 10), 10), ((784, 800, 800, 10), 32), ((784, 800, 800, 10), 64),
                ((784, 800, 800, 10), 96), ((784, 800, 800, 10), 128), ((784, 400, 10), 10), ((784, 400, 10), 32),
                ((784, 100, 10), 32), ((784, 100, 10), 64), ((784, 100, 10), 128), ((784, 100, 10), 512))
RATES = {"sgd": 0.1, "adam": 0.001}


def data(n: int, n_in: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, n_in), dtype=np.float32), np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]


def plan_ratios(sizes: tuple[int, ...], batch: int, activation: str, optimizer: str,
                rounds: int) -> tuple[float, float, float | None]:
    """(plan microseconds per step, median of reference / plan, median of reference / fused plan or None
    for an optimizer that is not plain SGD)."""
    X, Y = data(4096, sizes[0])
    runs = {}
    for name in ("reference", "plan", "fused"):
        if name == "fused" and optimizer != "sgd":
            continue
        net = Network(list(sizes), activation=activation, seed=0)
        opt = get_optimizer(optimizer, RATES[optimizer])
        if name == "reference":
            runs[name] = lambda X, Y, n, net=net, opt=opt: net._train_step(X, Y, opt, n)
        else:
            runs[name] = DenseStackPlan(net, opt, fused=name == "fused").step
    times: dict[str, list[float]] = {name: [] for name in runs}
    steps = 500
    with limit_blas_threads(1), np.errstate(over="ignore", invalid="ignore"):
        for r in range(rounds + 1):  # round 0 warms up (buffers, caches) and is not counted
            for name, step in runs.items():
                start = time.perf_counter()
                for i in range(steps):
                    lo = (i * batch) % (X.shape[0] - batch)
                    step(X[lo:lo + batch], Y[lo:lo + batch], 50_000)
                if r:
                    times[name].append((time.perf_counter() - start) / steps)

    def ratio(name: str) -> float:
        return statistics.median(a / b for a, b in zip(times["reference"], times[name], strict=True))

    return statistics.median(times["plan"]) * 1e6, ratio("plan"), ratio("fused") if "fused" in times else None


SETTINGS = ("1", "split", "2")


def seconds_per_step(sizes: tuple[int, ...], batch: int, threads: int | str) -> float:
    """One fit of about 20 steps (at least 2,560 examples) after a warm-up fit, in this process."""
    n = max(20 * batch, 2560)
    X, Y = data(n, sizes[0])
    for warm in (True, False):
        net = Network(list(sizes), seed=0)
        start = time.perf_counter()
        net.fit(X[:2 * batch] if warm else X, Y[:2 * batch] if warm else Y, epochs=1, batch_size=batch,
                learning_rate=0.1, monitor_training=False, verbose=0, seed=0, blas_threads=threads)
    return (time.perf_counter() - start) / (n / batch)


def thread_ratios(sizes: tuple[int, ...], batch: int, rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """(ms per step of each setting of ``SETTINGS``, median of setting / two threads), each fit in a fresh
    process, the settings in turn."""
    times: dict[str, list[float]] = {setting: [] for setting in SETTINGS}
    for _ in range(rounds):
        for setting in SETTINGS:
            out = subprocess.run([sys.executable, __file__, "--one-fit", ",".join(map(str, sizes)), str(batch),
                                  setting], capture_output=True, text=True, check=True)
            times[setting].append(float(out.stdout.split()[-1]))
    ms = {setting: statistics.median(t) * 1e3 for setting, t in times.items()}
    ratios = {setting: statistics.median(a / b for a, b in zip(times[setting], times["2"], strict=True))
              for setting in SETTINGS[:-1]}
    return ms, ratios


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="one cell of each part, one round (CI)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "step.md"))
    parser.add_argument("--one-fit", nargs=3, metavar=("SIZES", "BATCH", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_fit:  # a child process of thread_ratios: print seconds per step
        sizes, batch, setting = args.one_fit
        threads = setting if setting == "split" else int(setting)
        print(seconds_per_step(tuple(int(s) for s in sizes.split(",")), int(batch), threads))
        return ""
    plan_cells, thread_cells = (PLAN_CELLS[:1], THREAD_CELLS[7:8]) if args.quick else (PLAN_CELLS, THREAD_CELLS)
    rounds = 1 if args.quick else args.rounds
    started, t0 = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), time.perf_counter()
    lines = ["## 1. Step plan against the reference step (one BLAS thread)", "",
             "| network | batch | act | opt | plan us/step | reference / plan | reference / fused plan |",
             "|---|---|---|---|---|---|---|"]
    for sizes, batch, activation, optimizer in plan_cells:
        micro, ratio, fused = plan_ratios(sizes, batch, activation, optimizer, rounds)
        lines.append(f"| {list(sizes)} | {batch} | {activation} | {optimizer} | {micro:.0f} | {ratio:.2f}x | "
                     + ("n/a" if fused is None else f"{fused:.2f}x") + " |")
        print(lines[-1], flush=True)
    lines += ["", "## 2. Fused on one thread, fused split, against two threads (fit, plain SGD, sigmoid)", "",
              "`split`: NumPy's BLAS on two threads, the fused update (SciPy's BLAS) on one. Ratios below 1: "
              "faster than two threads with the update unfused.", "",
              "| network | batch | 1 thread fused ms/step | split fused ms/step | 2 threads ms/step | 1 / 2 "
              "| split / 2 |", "|---|---|---|---|---|---|---|"]
    for sizes, batch in thread_cells:
        ms, ratios = thread_ratios(sizes, batch, rounds)
        lines.append(f"| {list(sizes)} | {batch} | {ms['1']:.2f} | {ms['split']:.2f} | {ms['2']:.2f} "
                     f"| {ratios['1']:.2f} | {ratios['split']:.2f} |")
        print(lines[-1], flush=True)
    command = "python benchmarks/bench_step.py " + " ".join(argv if argv is not None else sys.argv[1:])
    header = ["# Step design: what the plan and the fused SGD update buy", "",
              f"- run: {started} UTC, {(time.perf_counter() - t0) / 60:.1f} min; command: `{command.strip()}`",
              *machine_lines(), ""]
    text = "\n".join(header + lines) + "\n"
    return write_results(args.out, text)


if __name__ == "__main__":
    main()
