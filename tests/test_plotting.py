"""Learning-curve plots: valid PNG files, from a History or its JSON form, without touching pyplot."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

from mlpkit import History
from mlpkit.plotting import plot_history

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _history(epochs=6, accuracy=True):
    history = History({"epochs": epochs})
    for e in range(epochs):
        logs = {"loss": 1.0 / (e + 1), "val_loss": 1.2 / (e + 1) + 0.01 * e, "time": 0.1}
        if accuracy:
            logs.update(accuracy=0.5 + 0.08 * e, val_accuracy=0.45 + 0.07 * e - 0.01 * max(0, e - 3))
        history.append(e, logs)
    return history


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_writes_cost_and_accuracy_pngs(tmp_path):
    paths = plot_history(_history(), tmp_path / "plots", title="digits")
    assert [p.name for p in paths] == ["cost.png", "accuracy.png"]
    for path in paths:
        assert path.stat().st_size > 5000
        width, height = _png_size(path)
        assert (width, height) == (640, 440)
    assert not list((tmp_path / "plots").glob(".*"))  # no temporary files left behind


def test_accepts_the_json_form_and_plain_mappings(tmp_path):
    history = _history()
    history.to_json(tmp_path / "history.json")
    as_json = json.loads((tmp_path / "history.json").read_text())
    assert [p.name for p in plot_history(as_json, tmp_path / "a")] == ["cost.png", "accuracy.png"]
    plain = {"loss": [3.0, 2.0, 1.5], "accuracy": [0.2, 0.5, 0.6]}
    assert [p.name for p in plot_history(plain, tmp_path / "b")] == ["cost.png", "accuracy.png"]


def test_regression_history_gives_only_the_cost_plot(tmp_path):
    assert [p.name for p in plot_history(_history(accuracy=False), tmp_path)] == ["cost.png"]


def test_nothing_to_plot_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no loss or accuracy"):
        plot_history({"time": [0.1, 0.2]}, tmp_path)
    with pytest.raises(TypeError):
        plot_history([1, 2, 3], tmp_path)


def test_plotting_leaves_pyplot_and_the_backend_alone(tmp_path):
    code = (
        "import matplotlib, sys\n"
        "matplotlib.use('svg')\n"
        "from mlpkit.plotting import plot_history\n"
        f"plot_history({{'loss': [2.0, 1.0], 'val_loss': [2.5, 1.5]}}, {str(tmp_path)!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "assert matplotlib.get_backend().lower() == 'svg', matplotlib.get_backend()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert (tmp_path / "cost.png").read_bytes()[:8] == PNG_SIGNATURE
