"""The speed suite runs end to end (in its --quick mode) and its minimal NumPy reference really trains.
No timing is asserted here: speed figures live in benchmarks/results/."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlpkit.datasets import load_digits

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench_modules():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_speed
        import minimal_numpy

        yield bench_speed, minimal_numpy
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_minimal_reference_loop_learns(bench_modules, activation, optimizer):
    _, minimal_numpy = bench_modules
    data = load_digits()
    X, y = data.train.X.astype(np.float32), data.train.y
    lr = {"sigmoid": 0.5, "relu": 0.1}[activation] if optimizer == "sgd" else 0.01
    # one call is one epoch from a fresh initialization: give it the training set three times over
    params = minimal_numpy.train_epoch(np.tile(X, (3, 1)), np.tile(y, 3), [64, 30, 10], 10,
                                       activation=activation, optimizer=optimizer, lr=lr)
    a = data.test.X.astype(np.float32)
    for i in range(0, len(params) - 2, 2):
        z = a @ params[i] + params[i + 1]
        a = 1 / (1 + np.exp(-z)) if activation == "sigmoid" else np.maximum(z, 0)
    accuracy = np.mean((a @ params[-2] + params[-1]).argmax(axis=1) == data.test.y)
    assert accuracy > 0.85


def test_quick_suite_writes_every_section(bench_modules, tmp_path):
    bench_speed, _ = bench_modules
    runners = "mlpkit,minimal,sklearn" + (",torch" if importlib.util.find_spec("torch") else "")
    out = tmp_path / "speed.md"
    text = bench_speed.main(["--quick", "--runners", runners, "--out", str(out)])
    assert out.read_text(encoding="utf-8") == text
    for heading in ("## GEMM throughput", "## Seconds per epoch", "## Targets (issue 6)", "Peak memory run"):
        assert heading in text
    rows = [line for line in text.splitlines() if line.startswith("| [784, 30, 10] |")]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        seconds = [float(c) for c in cells[6:6 + len(runners.split(","))]]
        assert all(s > 0 for s in seconds)
    assert "peak RSS <= 2 x" in text


def test_unknown_runner_is_a_usage_error(bench_modules, capsys):
    bench_speed, _ = bench_modules
    with pytest.raises(SystemExit) as exc:
        bench_speed.main(["--quick", "--runners", "mlpkit,keras"])
    assert exc.value.code == 2
    assert "unknown runners ['keras']" in capsys.readouterr().err


def test_step_benchmark_quick_writes_both_tables(tmp_path):
    out = tmp_path / "step.md"
    subprocess.run([sys.executable, str(BENCHMARKS / "bench_step.py"), "--quick", "--out", str(out)], check=True,
                   capture_output=True, text=True, timeout=300)
    text = out.read_text()
    assert "## 1. Step plan" in text and "## 2. Fused on one thread, fused split" in text
    plan_row, thread_row = [line for line in text.splitlines() if line.startswith("| [784")]
    assert float(plan_row.rstrip(" |").split("|")[-1].strip().rstrip("x")) > 0
    cells = [cell.strip() for cell in thread_row.strip(" |").split("|")]
    assert cells[:2] == ["[784, 100, 10]", "32"]
    assert all(float(value) > 0 for value in cells[2:])  # three ms/step and two ratios


def test_autodiff_benchmark_quick_reports_the_ratio_and_the_overhead(tmp_path):
    out = tmp_path / "autodiff.md"
    subprocess.run([sys.executable, str(BENCHMARKS / "bench_autodiff.py"), "--quick", "--out", str(out)], check=True,
                   capture_output=True, text=True, timeout=300)
    text = out.read_text()
    assert "## 2. Graph-building overhead per operation" in text and "## Target (issue 16)" in text
    row = next(line for line in text.splitlines() if line.startswith("| [784, 100, 10] | 128 |"))
    cells = [cell.strip() for cell in row.strip(" |").split("|")]
    assert cells[4] == "2,560"
    assert all(float(cell.rstrip("x")) > 0 for cell in cells[5:])  # three CPU times, three ratios, the node count
    assert cells[-1] == "11"  # x, W, x W, b, + and the sigmoid; then x, W, x W, b, +
