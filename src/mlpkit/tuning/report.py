"""Reports of a search: a ranked rich table, a CSV of every trial, and two plots.

- ``scores.png``: the score of each trial against each hyper-parameter, on that parameter's scale (log
  axes for log-uniform ones, 1 - beta on a log axis for one-minus-log ones, categories side by side);
  pruned trials are hollow, failed ones are left out.
- ``curves.png``: the learning curves (the searched metric per epoch) of the best trials.

rich and matplotlib come with the ``cli`` extra and are imported only here, when a report is made; the
figures are drawn on their own Agg canvas, never through pyplot.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes
from ..plotting import _import_matplotlib, _save_png
from .search import rank
from .space import SearchSpace
from .store import Trial

__all__ = ["plot_curves", "plot_scores", "results_table", "write_csv"]


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _score_text(trial: Trial, metric: str) -> str:
    if trial.score is None:
        return "-"
    return f"{trial.score:.2%}" if metric.endswith("accuracy") else f"{trial.score:.4f}"


def results_table(trials: Sequence[Trial], metric: str, mode: str, *, top: int | None = 20) -> Any:
    """A rich Table of the trials, best first (at most ``top`` rows; None: all)."""
    from rich.table import Table

    ranked = rank(trials, mode)
    names = list(dict.fromkeys(name for t in ranked for name in t.params))
    table = Table(title=f"trials ranked by {metric} ({'higher' if mode == 'max' else 'lower'} is better)",
                  title_justify="left")
    for header in ["#", "trial", "round", "status", metric, *names, "epochs", "time"]:
        table.add_column(header, justify="left" if header in ("trial", "round", "status") else "right")
    colors = {"completed": "green", "pruned": "yellow", "failed": "red"}
    for place, trial in enumerate(ranked[:top] if top else ranked, start=1):
        status = f"[{colors.get(trial.status, 'white')}]{trial.status}[/]"
        table.add_row(str(place), trial.id[:8], trial.round, status, _score_text(trial, metric),
                      *[_format(trial.params.get(n, "")) for n in names], str(trial.epochs),
                      "-" if trial.duration is None else f"{trial.duration:.1f}s")
    return table


def write_csv(trials: Sequence[Trial], path: str | Path, mode: str) -> Path:
    """Every trial, best first: rank, id, round, status, score, epochs, the parameters, time, pid, error."""
    ranked = rank(trials, mode)
    names = list(dict.fromkeys(name for t in ranked for name in t.params))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["rank", "id", "round", "status", "score", "epochs", *names, "seed", "duration_s", "pid",
                     "stop_reason", "error"])
    for place, t in enumerate(ranked, start=1):
        writer.writerow([place, t.id, t.round, t.status, "" if t.score is None else repr(t.score), t.epochs,
                         *[t.params.get(n, "") for n in names], t.seed,
                         "" if t.duration is None else f"{t.duration:.3f}", t.pid or "", t.stop_reason or "",
                         t.error or ""])
    return atomic_write_bytes(Path(path), buffer.getvalue().encode("utf-8"))


def plot_scores(trials: Sequence[Trial], space: SearchSpace, metric: str, out_dir: str | Path, *,
                dpi: int = 100) -> Path:
    """``scores.png``: score against each searched parameter, on the parameter's scale."""
    Figure, FigureCanvasAgg = _import_matplotlib()
    shown = [t for t in trials if t.score is not None and t.status in ("completed", "pruned")]
    if not shown:
        raise ValueError("no completed or pruned trial to plot")
    names = list(space)
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    figure = Figure(figsize=(4.2 * cols, 3.4 * rows), layout="constrained")
    FigureCanvasAgg(figure)
    percent = 100.0 if metric.endswith("accuracy") else 1.0
    for k, name in enumerate(names):
        axes = figure.add_subplot(rows, cols, k + 1)
        dist = space[name]
        for status, face in (("completed", "C0"), ("pruned", "none")):
            points = [t for t in shown if t.status == status and name in t.params]
            if not points:
                continue
            xs = [_plot_x(t.params[name], dist) for t in points]
            axes.scatter(xs, [t.score * percent for t in points], s=22, facecolors=face, edgecolors="C0",
                         label=status)
        label = name
        if dist.scale in ("log", "one-minus-log"):
            axes.set_xscale("log")
            label = f"1 - {name}" if dist.scale == "one-minus-log" else name
        if dist.scale == "categorical":
            axes.set_xticks(range(len(dist.values)), [str(v) for v in dist.values])
        axes.set_xlabel(label + (" (log scale)" if dist.scale in ("log", "one-minus-log") else ""))
        axes.set_ylabel(f"{metric} (%)" if percent != 1.0 else metric)
        axes.grid(True, alpha=0.3)
    figure.axes[0].legend(fontsize="small")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _save_png(figure, out / "scores.png", dpi)
    return out / "scores.png"


def _plot_x(value: Any, dist: Any) -> float:
    if dist.scale == "one-minus-log":
        return 1.0 - float(value)
    if dist.scale == "categorical":
        return float(dist.values.index(value)) if value in dist.values else math.nan
    return float(value)


def plot_curves(trials: Sequence[Trial], metric: str, mode: str, out_dir: str | Path, *, top: int = 5,
                dpi: int = 100) -> Path:
    """``curves.png``: ``metric`` per epoch for the ``top`` best trials."""
    Figure, FigureCanvasAgg = _import_matplotlib()
    best = [t for t in rank(trials, mode) if t.status in ("completed", "pruned") and t.history.get(metric)][:top]
    if not best:
        raise ValueError(f"no trial logged {metric} to plot")
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    percent = 100.0 if metric.endswith("accuracy") else 1.0
    for place, trial in enumerate(best, start=1):
        values = [v * percent for v in trial.history[metric]]
        params = ", ".join(f"{k}={_format(v)}" for k, v in trial.params.items())
        axes.plot(range(1, len(values) + 1), values, marker=".", label=f"#{place} {params}")
    axes.set_xlabel("epoch")
    axes.set_ylabel(f"{metric} (%)" if percent != 1.0 else metric)
    axes.set_title(f"learning curves of the {len(best)} best trials")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="x-small")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _save_png(figure, out / "curves.png", dpi)
    return out / "curves.png"
