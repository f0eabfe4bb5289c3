"""The speed suite: seconds per epoch of mlpkit, the minimal NumPy loop, PyTorch and scikit-learn, in one
process, interleaved and repeated, with the machine's GEMM throughput and a peak-memory run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_speed.py            # core grid
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_speed.py --grid full
    python benchmarks/bench_speed.py --quick --out /tmp/speed.md                             # smoke test

Grids (all on MNIST-shaped random data: timing does not depend on pixel values):

- ``core`` (default): [784,30,10], [784,100,10], [784,800,800,10] x batch 10, 32, 128, 512 in float32 with
  sigmoid hidden layers and plain SGD; plus [784,100,10] at every batch size in float64/sigmoid/SGD,
  float32/ReLU/SGD and float32/ReLU/Adam; plus [784,800,800,10] at batch 512 with ReLU and Adam.
- ``full``: every combination of the three sizes, four batch sizes, float32/float64, sigmoid/ReLU and
  SGD/Adam (96 cells; about an hour on 2 cores).

Each cell first runs every trainer once on a few thousand examples (warm-up and calibration), then picks
how many examples to time so that the slowest trainer takes about ``--target-seconds`` (between 5,120 and
50,000, a multiple of every batch size's 2,560); seconds per epoch are that time scaled to 50,000
examples, and the table shows how many were timed. Then ``--repeats`` rounds run every trainer once each,
in a rotating order. A ratio (other trainer's time / mlpkit's time, i.e. mlpkit's speed-up in examples per
second) is taken within each round and the table reports the median over rounds.

Achieved GFLOP/s count 6 x weights x examples per epoch (forward 2, backward 4 flops per weight and
example) and are compared with the best large square GEMM of the same data type measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from machine import gemm_rate, machine_lines, write_results
from runners import RUNNERS, Config

EPOCH = 50_000
STEP = 2_560  # divisible by 10, 32, 128 and 512
SIZES = ((784, 30, 10), (784, 100, 10), (784, 800, 800, 10))
BATCHES = (10, 32, 128, 512)
BIG = (784, 800, 800, 10)

TARGETS = (  # (label, cells selector, other runner, minimum speed-up)
    ("batch 10/32: >= 4x PyTorch", lambda c: c.batch in (10, 32), "torch", 4.0),
    ("batch 10/32: >= 1.3x minimal NumPy loop", lambda c: c.batch in (10, 32), "minimal", 1.3),
    ("batch 128/512: >= 1.5x PyTorch", lambda c: c.batch in (128, 512), "torch", 1.5),
    ("batch 128/512: >= 1.2x scikit-learn", lambda c: c.batch in (128, 512), "sklearn", 1.2),
)


def grid(name: str) -> list[Config]:
    if name == "quick":
        return [Config((784, 30, 10), 32), Config((784, 30, 10), 128, "float64", "relu", "adam")]
    if name == "full":
        return [Config(s, b, d, a, o) for s in SIZES for b in BATCHES for d in ("float32", "float64")
                for a in ("sigmoid", "relu") for o in ("sgd", "adam")]
    cells = [Config(s, b) for s in SIZES for b in BATCHES]
    for variant in (("float64", "sigmoid", "sgd"), ("float32", "relu", "sgd"), ("float32", "relu", "adam")):
        cells += [Config((784, 100, 10), b, *variant) for b in BATCHES]
    cells += [Config(BIG, 512, "float32", "relu", "sgd"), Config(BIG, 512, "float32", "relu", "adam")]
    return cells


def mnist_shaped(n: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((n, 784)).astype(dtype), rng.integers(0, 10, n)


def is_peak_cell(cfg: Config) -> bool:
    """The cells held to the GEMM-peak target: [784, 800, 800, 10] at batch 512 in float32."""
    return cfg.sizes == BIG and cfg.batch == 512 and cfg.dtype == "float32"


def measure_cell(cfg: Config, runners: list[str], X: np.ndarray, y: np.ndarray, repeats: int,
                 target_seconds: float, calibration: int, max_examples: int) -> dict:
    """Warm up and calibrate, then time every runner ``repeats`` times, interleaved.

    A run covers as many examples as take the slowest runner about ``target_seconds`` (at least two
    calibration blocks), scaled to a 50,000-example epoch; the GEMM-peak cells always train on the whole
    epoch, so that building the model (a fixed cost) is not scaled up with the steps."""
    warm = {name: RUNNERS[name](cfg, X[:calibration], y[:calibration]) for name in runners}
    per_example = max(warm.values()) / calibration
    n = int(target_seconds / per_example) // STEP * STEP
    n = max(min(n, max_examples), min(2 * STEP, max_examples))
    if n >= EPOCH or is_peak_cell(cfg):
        n = min(EPOCH, max_examples)
    times: dict[str, list[float]] = {name: [] for name in runners}
    for r in range(repeats):
        order = runners[r % len(runners):] + runners[:r % len(runners)]
        for name in order:
            times[name].append(RUNNERS[name](cfg, X[:n], y[:n]))
    scale = EPOCH / n
    result = {"config": cfg, "examples": n,
              "epoch_seconds": {k: statistics.median(v) * scale for k, v in times.items()},
              "speedup": {k: statistics.median(t / m for t, m in zip(v, times["mlpkit"], strict=True))
                          for k, v in times.items() if k != "mlpkit"}}
    result["gflops"] = 6.0 * cfg.n_weights * EPOCH / result["epoch_seconds"]["mlpkit"] / 1e9
    return result


def peak_memory_run(quick: bool) -> dict | None:
    script = Path(__file__).parent / "peak_memory.py"
    args = [sys.executable, str(script), "--json"] + (["--sizes", "784,30,10", "--synthetic"] if quick else [])
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def report(cells: list[dict], runners: list[str], peaks: dict[str, float], shape_rates: list[tuple],
           memory: dict | None, command: str, started: str, elapsed: float) -> str:
    lines = [f"# Speed: one epoch of {EPOCH:,} MNIST-shaped examples", "",
             f"- run: {started} UTC, {elapsed / 60:.1f} min; command: `{command}`", *machine_lines(),
             f"- PyTorch threads = {os.cpu_count()} (the cores); scikit-learn {_version('sklearn')}, "
             f"PyTorch {_version('torch')}", "",
             "Times are medians over interleaved rounds; a ratio is the other trainer's time over mlpkit's "
             "(mlpkit's speed-up), the median of the per-round ratios. `examples` is how many of the 50,000 "
             "were timed (seconds are scaled to a full epoch).", "",
             "## GEMM throughput (NumPy BLAS, default threads)", "",
             "Each rate is the best of timed groups of products; the square products, which give the peak "
             "that the GEMM-peak targets divide by, are measured before and after the cells and the higher "
             "rate is kept (a peak measured while the machine was slow would flatter every share).", "",
             "| product | dtype | GFLOP/s |", "|---|---|---|"]
    lines += [f"| {m}x{k} @ {k}x{n} | {d} | {rate:.1f} |" for (m, k, n, d, rate) in shape_rates]
    lines += ["", "## Seconds per epoch", "",
              "| network | batch | dtype | act | opt | examples | " + " | ".join(runners)
              + " | " + " | ".join(f"vs {r}" for r in runners if r != "mlpkit") + " | mlpkit GFLOP/s (% peak) |",
              "|" + "---|" * (7 + 2 * len(runners) - 1)]
    for cell in cells:
        cfg = cell["config"]
        secs = " | ".join(f"{cell['epoch_seconds'][r]:.3f}" for r in runners)
        ratios = " | ".join(fmt_ratio(cell["speedup"].get(r)) for r in runners if r != "mlpkit")
        peak = peaks[cfg.dtype]
        share = 100 * cell["gflops"] / peak
        lines.append(f"| {list(cfg.sizes)} | {cfg.batch} | {cfg.dtype} | {cfg.activation} | {cfg.optimizer} | "
                     f"{cell['examples']:,} | {secs} | {ratios} | {cell['gflops']:.1f} ({share:.0f}%) |")
    lines += ["", "## Targets (issue 6)", "", "| target | cells | median speed-up | cells meeting it | verdict |",
              "|---|---|---|---|---|"]
    for label, select, other, minimum in TARGETS:
        values = [c["speedup"][other] for c in cells if select(c["config"]) and other in c["speedup"]]
        if not values:
            continue
        met = sum(v >= minimum for v in values)
        median = statistics.median(values)
        lines.append(f"| {label} | {len(values)} | {median:.2f}x | {met}/{len(values)} | "
                     f"{'met' if median >= minimum else 'not met'} (median) |")
    big = [c for c in cells if is_peak_cell(c["config"])]
    for c in big:
        share = c["gflops"] / peaks["float32"]
        lines.append(f"| {list(BIG)} batch 512 float32 {c['config'].activation} {c['config'].optimizer}: "
                     f">= 75% of GEMM peak | 1 | {100 * share:.0f}% of {peaks['float32']:.0f} GFLOP/s | "
                     f"{int(share >= 0.75)}/1 | {'met' if share >= 0.75 else 'not met'} |")
    shapes = [rate for (m, k, n, d, rate) in shape_rates if d == "float32" and (m, k, n) != (m, m, m)]
    if big and shapes:
        alone = statistics.mean(shapes)
        lines.append(f"| (context) the same cells against the {alone:.0f} GFLOP/s that this run's "
                     f"[784, 800, 800, 10] batch-512 products reach alone | "
                     + ", ".join(f"{c['config'].activation} {c['config'].optimizer} {100 * c['gflops'] / alone:.0f}%"
                                 for c in big) + " | | | |")
    if memory is not None:
        lines.append(f"| peak RSS <= 2 x (data + model + optimizer state) + 150 MB | 1 | "
                     f"{memory['peak_rss_mb']:.0f} MB of {memory['budget_mb']:.0f} MB | "
                     f"{int(memory['within_budget'])}/1 | {'met' if memory['within_budget'] else 'not met'} |")
        lines += ["", f"Peak memory run: {memory['data']}, [{memory['sizes']}] ReLU, batch {memory['batch']}, "
                  f"{memory['optimizer']}, one epoch with validation: peak RSS {memory['peak_rss_mb']:.0f} MB "
                  f"(data {memory['data_mb']:.0f} MB, model {memory['model_mb']:.1f} MB, optimizer state "
                  f"{memory['optimizer_state_mb']:.1f} MB; budget {memory['budget_mb']:.0f} MB)."]
    return "\n".join(lines) + "\n"


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except ImportError:
        return "not installed"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=("core", "full"), default="core")
    parser.add_argument("--quick", action="store_true", help="two small cells, one round, few examples (CI)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--target-seconds", type=float, default=1.0)
    parser.add_argument("--runners", default="mlpkit,minimal,torch,sklearn")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory run")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "speed.md"))
    args = parser.parse_args(argv)

    runners = ["mlpkit"] + [r for r in args.runners.split(",") if r != "mlpkit"]
    unknown = [r for r in runners if r not in RUNNERS]
    if unknown:
        parser.error(f"unknown runners {unknown}; choose from {sorted(RUNNERS)}")
    if "torch" in runners:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
    started, t0 = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), time.perf_counter()
    quick = args.quick
    cells_cfg = grid("quick" if quick else args.grid)
    repeats, calibration, max_examples = (1, 512, STEP) if quick else (args.repeats, STEP, EPOCH)

    square = 512 if quick else 4096
    peaks = {d: gemm_rate(square, square, square, d, repeats=2 if quick else 5) for d in ("float32", "float64")}
    shape_rates = [(square, square, square, d, peaks[d]) for d in peaks]
    if not quick:
        for m, k, n in ((512, 784, 800), (512, 800, 800), (784, 512, 800), (800, 512, 800), (512, 800, 784)):
            shape_rates.append((m, k, n, "float32", gemm_rate(m, k, n, "float32")))

    data = {d: mnist_shaped(EPOCH if not quick else STEP, d) for d in {c.dtype for c in cells_cfg}}
    cells = []
    for cfg in cells_cfg:
        X, y = data[cfg.dtype]
        cell = measure_cell(cfg, runners, X, y, repeats, args.target_seconds, calibration, max_examples)
        cells.append(cell)
        print(cfg.label, {k: round(v, 3) for k, v in cell["epoch_seconds"].items()},
              {k: round(v, 2) for k, v in cell["speedup"].items()}, flush=True)
    for d in peaks:  # the peak again after the cells: keep the higher of the two measurements
        peaks[d] = max(peaks[d], gemm_rate(square, square, square, d, repeats=2 if quick else 5))
    shape_rates[:len(peaks)] = [(square, square, square, d, peaks[d]) for d in peaks]
    memory = None if args.no_memory else peak_memory_run(quick)
    command = "python benchmarks/bench_speed.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(cells, runners, peaks, shape_rates, memory, command.strip(), started, time.perf_counter() - t0)
    return write_results(args.out, text)


if __name__ == "__main__":
    main()
