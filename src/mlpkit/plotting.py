"""Learning curves: cost and classification accuracy per epoch, for the training and validation data.

The plots Nielsen draws in ch.3 ("Overfitting and regularization": the cost on the training data keeps
falling while the accuracy on the test data stops improving) and Ng's week 1 comparison of training and
dev error. matplotlib is needed (``pip install 'mlpkit[cli]'``); it is imported only when a plot is made,
and the figures are drawn on their own Agg canvas (``matplotlib.figure.Figure``), never through pyplot,
so a user's interactive backend and open figures are left alone.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._atomic import atomic_write_bytes

__all__ = ["plot_history"]

_CURVES = {
    "cost": (("loss", "training"), ("val_loss", "validation")),
    "accuracy": (("accuracy", "training"), ("val_accuracy", "validation")),
}


def _import_matplotlib() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("plotting needs matplotlib: pip install 'mlpkit[cli]' (or pip install matplotlib)") from exc
    return Figure, FigureCanvasAgg


def _metrics_of(history: Any) -> tuple[dict[str, list[float]], list[int] | None]:
    """(metric name -> values, 0-based epoch numbers or None) from a History, its ``to_dict()`` or a mapping."""
    if hasattr(history, "history") and hasattr(history, "epochs"):
        return dict(history.history), list(history.epochs)
    if isinstance(history, Mapping):
        if isinstance(history.get("history"), Mapping):
            epochs = history.get("epochs")
            return dict(history["history"]), list(epochs) if isinstance(epochs, Sequence) else None
        return {k: v for k, v in history.items() if isinstance(v, Sequence) and not isinstance(v, str)}, None
    raise TypeError(f"history must be a History, History.to_dict() output or a mapping of metric lists, "
                    f"got {type(history).__name__}")


def _save_png(figure: Any, path: Path, dpi: int) -> None:
    """Render to memory, then write atomically (a crash never leaves half a PNG)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    atomic_write_bytes(path, buffer.getvalue())


def plot_history(history: Any, out_dir: str | os.PathLike[str], *, title: str | None = None,
                 dpi: int = 100) -> list[Path]:
    """Write ``cost.png`` and ``accuracy.png`` (training and validation curves per epoch) into ``out_dir``.

    Args:
        history: a :class:`mlpkit.History`, its ``to_dict()`` output (as in ``history.json``), or a
            mapping ``{"loss": [...], "val_loss": [...], "accuracy": [...], "val_accuracy": [...]}``.
        out_dir: directory for the images (created if missing).
        title: prefix of each plot's title, e.g. the data set's name.
        dpi: resolution; the figures are 6.4 x 4.4 inches.

    Returns:
        the paths written, in the order cost, accuracy. ``accuracy.png`` is skipped when the history has
        no accuracy (a regression network). Accuracies are plotted in percent.
    """
    metrics, epochs = _metrics_of(history)
    groups = [(kind, [(key, label) for key, label in curves if metrics.get(key)])
              for kind, curves in _CURVES.items()]
    groups = [(kind, curves) for kind, curves in groups if curves]
    if not groups:
        raise ValueError(f"the history has no loss or accuracy values to plot (metrics: {sorted(metrics)})")
    Figure, FigureCanvasAgg = _import_matplotlib()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, curves in groups:
        figure = Figure(figsize=(6.4, 4.4), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        for key, label in curves:
            values = [float(v) for v in metrics[key]]
            if kind == "accuracy":
                values = [100.0 * v for v in values]
            xs = [e + 1 for e in epochs] if epochs is not None and len(epochs) == len(values) \
                else list(range(1, len(values) + 1))
            line, = axes.plot(xs, values, marker="o" if len(values) <= 40 else None, markersize=3, label=label)
            if key.startswith("val_") and values:
                pick = max if kind == "accuracy" else min
                best = pick(range(len(values)), key=values.__getitem__)
                label = f"{values[best]:.2f}%" if kind == "accuracy" else f"{values[best]:.4g}"
                where = best / max(len(values) - 1, 1)
                axes.plot([xs[best]], [values[best]], marker="*", markersize=10, color=line.get_color())
                axes.annotate(f"best {label} (epoch {xs[best]})", (xs[best], values[best]), textcoords="offset points",
                              xytext=(0, -16 if kind == "accuracy" else 10), fontsize=8, color=line.get_color(),
                              ha="right" if where > 0.7 else "left" if where < 0.3 else "center")
        axes.set_xlabel("epoch")
        axes.set_ylabel("cost" if kind == "cost" else "accuracy (%)")
        what = "Cost" if kind == "cost" else "Classification accuracy"
        axes.set_title(f"{title}: {what.lower()} per epoch" if title else f"{what} per epoch")
        axes.grid(True, alpha=0.3)
        axes.legend()
        path = out / f"{kind}.png"
        _save_png(figure, path, dpi)
        written.append(path)
    return written
