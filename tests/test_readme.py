"""The README's Python examples run as printed (the autodiff and tabular sections', which are quick)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {section}")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


def test_the_autodiff_section_runs_and_minimizes_to_five():
    (block,) = _python_blocks("Automatic differentiation")
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert abs(float(namespace["w"].data) - 5.0) < 1e-3
    softmax = np.exp([2.0, 1.0, 0.1]) / np.exp([2.0, 1.0, 0.1]).sum()
    np.testing.assert_allclose(namespace["dz"], [softmax - [1.0, 0.0, 0.0]], rtol=1e-12)


def test_the_tabular_section_runs_and_fits_its_function(capsys):
    (block,) = _python_blocks("Tabular data")
    exec(compile(block, "README.md", "exec"), {})
    metrics = eval(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(metrics) == {"loss", "mse", "mae", "r2"} and metrics["r2"] > 0.95
