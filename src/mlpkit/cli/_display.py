"""What the commands print, with rich: the per-epoch table and live progress of ``train``, the reports of
``evaluate``, ``gradcheck`` and ``diagnose``.

The live progress bar costs nothing in the training loop: it is redrawn by rich's refresh thread a few
times a second, and reads how many mini-batches the current epoch has done from the optimizer's step
counter (``optimizer.iterations``) at drawing time. It is shown on terminals only; piped output gets the
table rows alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from ..callbacks import Callback
from ..history import History
from ..network import Network
from ..optimizers import Optimizer


def make_console(*, stderr: bool = False) -> Console:
    """A console for stdout (or stderr); output that is not a terminal (a pipe, a file, a test) is 120
    columns wide unless COLUMNS says otherwise, so table rows and summaries are not wrapped at 80."""
    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 120
    return console


_COLUMNS = (  # (log key, header, width, format)
    ("loss", "loss", 9, "{:.4f}"),
    ("accuracy", "accuracy", 9, "{:.2%}"),
    ("val_loss", "val_loss", 9, "{:.4f}"),
    ("val_accuracy", "val_accuracy", 12, "{:.2%}"),
    ("learning_rate", "lr", 9, "{:.3g}"),
    ("time", "time", 7, "{:.2f}s"),
)


class _BatchProgress(Progress):
    """A Progress whose batch task reads its count from a function when drawn (no per-batch updates)."""

    def __init__(self, count_batches: Any, *args: Any, **kwargs: Any) -> None:
        self.count_batches = count_batches
        self.batch_task = None  # set before Progress.__init__, which already draws
        super().__init__(*args, **kwargs)

    def get_renderables(self) -> Iterable[Any]:
        if self.batch_task is not None:
            self.update(self.batch_task, completed=self.count_batches())
        yield from super().get_renderables()


class EpochTable(Callback):
    """Prints one aligned row per epoch (epoch, costs, accuracies, learning rate, time) and, on a terminal,
    a live bar of the current epoch's mini-batches and of the epochs.

    Args:
        console: where to print.
        total_epochs: the run's number of epochs (for "epoch 3/30").
        epoch_offset: epochs done before this ``fit`` call (a resumed run).
        n_batches: mini-batches per epoch.
        optimizer: the run's optimizer (its step counter drives the live bar).
        show_lr: add a learning-rate column (when a schedule changes it).
        live: show the live bar (ignored when the console is not a terminal).
    """

    def __init__(self, console: Console, *, total_epochs: int, epoch_offset: int, n_batches: int,
                 optimizer: Optimizer, show_lr: bool, live: bool = True) -> None:
        self.console = console
        self.total = total_epochs
        self.offset = epoch_offset
        self.n_batches = n_batches
        self.optimizer = optimizer
        self.show_lr = show_lr
        self.live = live and console.is_terminal
        self.progress: _BatchProgress | None = None
        self.best_val: float | None = None
        self._columns: list[tuple[str, str, int, str]] = []

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self._start_iteration = self.optimizer.iterations
        self._epoch_width = max(5, 2 * len(str(self.total)) + 1)
        if self.live:
            self.progress = _BatchProgress(
                lambda: min(self.optimizer.iterations - self._start_iteration, self.n_batches),
                TextColumn("{task.description}"), BarColumn(bar_width=30), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                console=self.console, transient=True, refresh_per_second=8,
            )
            self.epoch_task = self.progress.add_task("epochs ", total=self.total, completed=self.offset)
            self.progress.batch_task = self.progress.add_task(self._batch_label(self.offset), total=self.n_batches)
            self.progress.start()

    def _batch_label(self, done: int) -> str:
        return f"epoch {min(done + 1, self.total)}"

    def _print(self, renderable: Any) -> None:
        (self.progress.console if self.progress is not None else self.console).print(renderable)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        done = self.offset + epoch + 1
        if not self._columns:
            self._columns = [c for c in _COLUMNS if logs.get(c[0]) is not None
                             and (c[0] != "learning_rate" or self.show_lr)]
            header = Text("epoch".rjust(self._epoch_width), style="bold")
            for _, title, width, _ in self._columns:
                header.append(" " + title.rjust(width), style="bold")
            self._print(header)
        row = Text(f"{done}/{self.total}".rjust(self._epoch_width))
        for key, _, width, fmt in self._columns:
            value = logs.get(key)
            cell = fmt.format(value) if value is not None else "-"
            style = ""
            if key == "val_accuracy" and value is not None and (self.best_val is None or value > self.best_val):
                self.best_val, style = value, "green"
            row.append(" " + cell.rjust(width), style=style)
        self._print(row)
        if self.progress is not None:
            self.progress.update(self.epoch_task, completed=done)
            self._start_iteration = self.optimizer.iterations
            self.progress.reset(self.progress.batch_task, total=self.n_batches, description=self._batch_label(done))

    def on_train_end(self, history: History) -> None:
        self.stop()

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


# ------------------------------------------------------------------------------------------ reports
#: how a report names each metric of :data:`mlpkit.metrics.METRIC_NAMES`, and its format
_METRICS = {
    "accuracy": ("accuracy", "{:.2%}"),
    "subset_accuracy": ("subset accuracy", "{:.2%}"),
    "hamming_loss": ("Hamming loss", "{:.4f}"),
    "balanced_accuracy": ("balanced accuracy", "{:.2%}"),
    "log_loss": ("log-loss", "{:.4f}"),
    "roc_auc": ("ROC AUC", "{:.4f}"),
    "r2": ("R²", "{:.4f}"),
    "mse": ("MSE", "{:.4g}"),
    "mae": ("MAE", "{:.4g}"),
}
#: the metrics each task reports, first the headline one (multilabel's accuracy is its subset accuracy)
_TASK_METRICS = {
    "classification": ("accuracy", "balanced_accuracy", "log_loss", "roc_auc"),
    "binary": ("accuracy", "balanced_accuracy", "log_loss", "roc_auc"),
    "multilabel": ("subset_accuracy", "hamming_loss", "log_loss", "roc_auc"),
    "regression": ("r2", "mse", "mae"),
}


def metrics_text(task: str, metrics: dict[str, Any], *, prefix: str = "", headline_only: bool = False) -> str:
    """The task's metrics in one line, e.g. ``accuracy 97.50%  balanced accuracy ...`` or ``R² 0.9912  MSE
    ...``; ``prefix`` goes before the first (``"test "``); metrics left out of ``metrics`` (undefined on the
    data) are skipped. For a regression the headline is R², MSE and MAE."""
    names = [n for n in _TASK_METRICS.get(task, ()) if metrics.get(n) is not None]
    if headline_only and task != "regression":
        names = names[:2] if task == "multilabel" else names[:1]
    parts = [f"{_METRICS[n][0]} {_METRICS[n][1].format(metrics[n])}" for n in names]
    if parts:
        parts[0] = prefix + parts[0]
    return "  ".join(parts)


def evaluation_tables(report: dict[str, Any]) -> list[Any]:
    """The confusion matrix and per-class table of ``evaluate``."""
    names = report["classes"]
    cm = report["confusion_matrix"]
    matrix = Table(title="confusion matrix (rows: true class, columns: predicted)", title_justify="left",
                   show_edge=False, pad_edge=False)
    matrix.add_column("true \\ pred", style="bold", justify="right")
    for name in names:
        matrix.add_column(str(name), justify="right")
    for i, name in enumerate(names):
        cells = [Text(str(v), style="green" if i == j and v else ("red" if v else "dim")) for j, v in enumerate(cm[i])]
        matrix.add_row(str(name), *cells)
    per_class = Table(title="per-class report", title_justify="left", show_edge=False, pad_edge=False)
    for title in ("class", "precision", "recall", "f1", "support"):
        per_class.add_column(title, justify="right")
    for row in report["per_class"]:
        per_class.add_row(str(row["class"]), f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                          str(row["support"]))
    per_class.add_section()
    for key in ("macro avg", "weighted avg"):
        avg = report[key]
        per_class.add_row(key, f"{avg['precision']:.3f}", f"{avg['recall']:.3f}", f"{avg['f1']:.3f}",
                          str(avg["support"]))
    return [matrix, Text(), per_class]


def gradcheck_table(result: Any) -> Table:
    table = Table(title="gradient check: ||g - g'|| / (||g|| + ||g'||) per parameter (Ng week 1)",
                  title_justify="left", show_edge=False, pad_edge=False)
    for title in ("parameter", "checked", "relative difference", ""):
        table.add_column(title, justify="right" if title else "left")
    for name, diff in result.per_parameter.items():
        ok = diff < result.threshold
        table.add_row(name, str(result.checked[name]), f"{diff:.3e}", Text("ok" if ok else "FAIL",
                                                                           style="green" if ok else "bold red"))
    return table


def saturation_table(layers: list[Any]) -> Table:
    table = Table(title="saturated and dead units (Nielsen ch.3: learning slowdown)", title_justify="left",
                  show_edge=False, pad_edge=False)
    for title in ("layer", "units", "saturated/inactive", "stuck units", "note"):
        table.add_column(title, justify="left" if title in ("layer", "note") else "right")
    for s in layers:
        what = "inactive" if s.activation in ("relu", "leaky_relu") else "saturated"
        table.add_row(s.name, str(s.units), f"{s.saturated:.1%} {what}", f"{s.stuck_units:.1%}",
                      Text(s.problem or "ok", style="yellow" if s.problem else "green"))
    return table


def gradient_table(layers: list[Any]) -> Table:
    table = Table(title="gradient norms per layer, input to output (Nielsen ch.5: vanishing gradients)",
                  title_justify="left", show_edge=False, pad_edge=False)
    for title in ("layer", "||W||", "||dW||", "||dW||/||W||", "rms dW", "||db||"):
        table.add_column(title, justify="left" if title == "layer" else "right")
    for g in layers:
        table.add_row(g.name, f"{g.weight_norm:.3g}", f"{g.gradient_norm:.3g}", f"{g.ratio:.3g}", f"{g.rms:.3g}",
                      "-" if g.bias_gradient_norm is None else f"{g.bias_gradient_norm:.3g}")
    return table
