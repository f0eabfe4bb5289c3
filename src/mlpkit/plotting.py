"""Learning curves and decision boundaries.

- :func:`plot_history`: cost and classification accuracy per epoch, for the training and validation data:
  the plots Nielsen draws in ch.3 ("Overfitting and regularization": the cost on the training data keeps
  falling while the accuracy on the test data stops improving) and Ng's week 1 comparison of training and
  dev error.
- :func:`decision_boundary`: what a classifier of 2-D inputs predicts over the whole plane, with the data on
  top (Ng course 1 week 3 and course 2 week 1 draw it for the planar flower and the circles);
  :class:`BoundaryRecorder` collects it during training and writes an animated GIF.

matplotlib is needed (``pip install 'mlpkit[cli]'``); it is imported only when a plot is made, and the
figures are drawn on their own Agg canvas (``matplotlib.figure.Figure``), never through pyplot, so a user's
interactive backend and open figures are left alone.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._atomic import atomic_write_bytes
from .callbacks import Callback

if TYPE_CHECKING:
    from .history import History
    from .network import Network

__all__ = ["BoundaryRecorder", "decision_boundary", "plot_history"]

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


# ------------------------------------------------------------------------------------- decision boundaries
#: the largest grid side: resolution² inputs go through the network in one predict call
MAX_RESOLUTION = 2000


def _points(X: Any, y: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(X as float64 (n, 2), y as int labels (n,)); y may be labels or one-hot rows."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2): a decision boundary is drawn for 2-D inputs; "
                         f"got shape {X.shape}")
    if len(X) == 0 or not np.isfinite(X).all():
        raise ValueError(f"{name} must hold at least one point and only finite values")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[0] == len(X):
        y = y.argmax(axis=1) if y.shape[1] > 1 else (y[:, 0] > 0.5)
    if y.shape != (len(X),):
        raise ValueError(f"the labels of {name} must have shape ({len(X)},), got {y.shape}")
    if not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_ or np.array_equal(y, np.round(y))) or \
            (y.size and y.min() < 0):
        raise ValueError(f"the labels of {name} must be class numbers 0, 1, 2, ...")
    return X, y.astype(np.int64)


def _probabilities(net: Any, X: np.ndarray) -> np.ndarray:
    """Class probabilities (n, K >= 2) from one ``predict_proba`` call (a single sigmoid output p gives
    columns 1 - p and p)."""
    out = np.asarray(net.predict_proba(X), dtype=np.float64)
    if out.ndim == 1 or out.shape[1] == 1:
        p = out.reshape(-1)
        return np.column_stack([1.0 - p, p])
    return out


@dataclass(frozen=True)
class _Grid:
    """The plane's grid: ``xs`` (resolution,), ``ys`` (resolution,) and its points, row by row (r², 2)."""

    xs: np.ndarray
    ys: np.ndarray

    @classmethod
    def around(cls, arrays: Sequence[np.ndarray], resolution: int, margin: float) -> _Grid:
        if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or \
                not 2 <= resolution <= MAX_RESOLUTION:
            raise ValueError(f"resolution must be an integer in [2, {MAX_RESOLUTION}], got {resolution!r}")
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin <= 10:
            raise ValueError(f"margin must be a fraction of the data's extent in [0, 10], got {margin!r}")
        points = np.concatenate(arrays)
        low, high = points.min(axis=0), points.max(axis=0)
        pad = np.maximum(high - low, 1e-9) * margin + (high == low)  # a flat extent still gets a window
        return cls(np.linspace(low[0] - pad[0], high[0] + pad[0], resolution),
                   np.linspace(low[1] - pad[1], high[1] + pad[1], resolution))

    @property
    def points(self) -> np.ndarray:
        xx, yy = np.meshgrid(self.xs, self.ys)
        return np.column_stack([xx.ravel(), yy.ravel()])


@dataclass(frozen=True)
class _Snapshot:
    """What one picture shows: the grid's class probabilities (r, r, K) and the accuracies, at an epoch."""

    probabilities: np.ndarray
    train_accuracy: float
    test_accuracy: float | None
    epoch: int | None = None


def _snapshot(net: Any, grid: _Grid, train: tuple[np.ndarray, np.ndarray],
              test: tuple[np.ndarray, np.ndarray] | None, epoch: int | None = None) -> _Snapshot:
    probabilities = _probabilities(net, grid.points)  # one call for the whole grid
    side = len(grid.xs)

    def accuracy(part: tuple[np.ndarray, np.ndarray]) -> float:
        return float(np.mean(_probabilities(net, part[0]).argmax(axis=1) == part[1]))

    return _Snapshot(probabilities.reshape(side, side, -1), accuracy(train),
                     None if test is None else accuracy(test), epoch)


def _class_colours(n_classes: int) -> np.ndarray:
    """One RGB colour per class (matplotlib's tab10, then tab20, then evenly spaced hues)."""
    from matplotlib import colormaps

    if n_classes <= 10:
        return np.asarray(colormaps["tab10"].colors)[:n_classes]
    if n_classes <= 20:
        return np.asarray(colormaps["tab20"].colors)[:n_classes]
    return colormaps["hsv"](np.linspace(0, 1, n_classes, endpoint=False))[:, :3]


def _draw(figure: Any, grid: _Grid, snap: _Snapshot, train: tuple[np.ndarray, np.ndarray],
          test: tuple[np.ndarray, np.ndarray] | None, n_classes: int, probability: bool, title: str | None,
          class_names: Sequence[str] | None) -> None:
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.lines import Line2D

    axes = figure.add_subplot()
    strong = _class_colours(n_classes)
    light = 0.45 * strong + 0.55  # the same hues, pale, under the points
    probabilities = snap.probabilities
    if probabilities.shape[2] < n_classes:  # a network with fewer outputs than the labels have classes
        pad = np.zeros((*probabilities.shape[:2], n_classes - probabilities.shape[2]))
        probabilities = np.concatenate([probabilities, pad], axis=2)
    predicted = probabilities.argmax(axis=2)
    extent = (grid.xs[0], grid.xs[-1], grid.ys[0], grid.ys[-1])
    if probability and n_classes == 2:
        cmap = LinearSegmentedColormap.from_list("boundary", [light[0], (1, 1, 1), light[1]])
        filled = axes.contourf(grid.xs, grid.ys, probabilities[:, :, 1], levels=np.linspace(0, 1, 21), cmap=cmap)
        figure.colorbar(filled, ax=axes, label=f"P({class_names[1] if class_names else 'class 1'})")
    elif probability:  # each class's colour, paler where the network is less sure
        confidence = (probabilities.max(axis=2) - 1 / n_classes) / (1 - 1 / n_classes)
        rgb = 1 - (1 - light[predicted]) * np.clip(confidence, 0, 1)[:, :, None]
        axes.imshow(rgb, extent=extent, origin="lower", aspect="auto", interpolation="nearest")
    else:
        axes.contourf(grid.xs, grid.ys, predicted, levels=np.arange(n_classes + 1) - 0.5, colors=light)
    if n_classes == 2 and predicted.min() != predicted.max():  # P(class 1) = 0.5, interpolated: a smooth line
        axes.contour(grid.xs, grid.ys, probabilities[:, :, 1] - probabilities[:, :, 0], levels=[0.0], colors="k",
                     linewidths=0.8)
    elif predicted.min() != predicted.max():
        axes.contour(grid.xs, grid.ys, predicted, levels=np.arange(n_classes - 1) + 0.5, colors="k",
                     linewidths=0.8)

    size = float(np.clip(3000 / (len(train[0]) + (0 if test is None else len(test[0]))), 6, 36))
    for k in range(n_classes):
        X, y = train
        axes.scatter(X[y == k, 0], X[y == k, 1], s=size, color=strong[k], edgecolors="k", linewidths=0.4)
        if test is not None:
            X, y = test
            axes.scatter(X[y == k, 0], X[y == k, 1], s=size * 1.6, color=strong[k], marker="x", linewidths=1.2)
    axes.set_xlim(extent[0], extent[1])
    axes.set_ylim(extent[2], extent[3])
    names = list(class_names) if class_names else [f"class {k}" for k in range(n_classes)]
    handles = [Line2D([], [], linestyle="", marker="s", markersize=8, color=strong[k], label=names[k])
               for k in range(min(n_classes, 10))]
    if test is not None:
        handles += [Line2D([], [], linestyle="", marker="o", color="0.4", markeredgecolor="k", label="train"),
                    Line2D([], [], linestyle="", marker="x", color="0.2", label="test")]
    axes.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.85)
    text = f"train accuracy {100 * snap.train_accuracy:.1f}%"
    if snap.test_accuracy is not None:
        text += f", test {100 * snap.test_accuracy:.1f}%"
    if snap.epoch is not None:
        text = f"epoch {snap.epoch}: {text}"
    axes.set_title(f"{title}\n{text}" if title else text, fontsize=10)


def _n_classes(grid_probabilities: np.ndarray, *labels: np.ndarray) -> int:
    return int(max(grid_probabilities.shape[-1], 2, *(int(y.max()) + 1 for y in labels if y.size)))


def _split_arguments(X: Any, y: Any, X_test: Any, y_test: Any) -> tuple[tuple, tuple | None]:
    train = _points(X, y, "X")
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    return train, None if X_test is None else _points(X_test, y_test, "X_test")


def decision_boundary(net: Network | Any, X: Any, y: Any, *, X_test: Any = None, y_test: Any = None,
                      probability: bool = False, resolution: int = 200, margin: float = 0.1, title: str | None = None,
                      class_names: Sequence[str] | None = None, figsize: tuple[float, float] = (6.4, 4.8),
                      dpi: int = 100, path: str | os.PathLike[str] | None = None) -> Any:
    """Draw what ``net`` predicts over the plane around 2-D data, with the points on top.

    The background is a filled contour of the predicted class (or, with ``probability=True``, of
    P(class 1) for two classes; for more, each class's colour, paler where the network is less sure),
    computed on a ``resolution`` x ``resolution`` grid covering the data plus ``margin`` (a fraction of
    its extent) on each side, with one ``predict_proba`` call for the whole grid; a black line follows
    the boundary. Training points are circles, test points (``X_test``, ``y_test``) crosses, one colour per
    class; the title gives the accuracies.

    Args:
        net: a :class:`~mlpkit.Network` with 2 inputs, or any classifier whose ``predict_proba(X)`` returns
            class probabilities (n, K) or a single sigmoid output (n, 1).
        X, y: the training points (n, 2) and their labels (class numbers or one-hot rows).
        class_names: legend names of the classes (default "class 0", "class 1", ...).
        figsize, dpi: the image is figsize x dpi pixels.
        path: when given, the figure is written there as a PNG (atomically) and the path is returned.

    Returns:
        the ``matplotlib.figure.Figure`` (drawn on its own Agg canvas, not through pyplot), or the Path written.
    """
    Figure, FigureCanvasAgg = _import_matplotlib()
    train, test = _split_arguments(X, y, X_test, y_test)
    grid = _Grid.around([train[0]] + ([] if test is None else [test[0]]), resolution, margin)
    snap = _snapshot(net, grid, train, test)
    n_classes = _n_classes(snap.probabilities, train[1], *([] if test is None else [test[1]]))
    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    _draw(figure, grid, snap, train, test, n_classes, bool(probability), title, class_names)
    if path is None:
        return figure
    path = Path(path)
    _save_png(figure, path, dpi)
    return path


class BoundaryRecorder(Callback):
    """Collect the decision boundary at evenly spaced epochs of training, then write an animated GIF.

    With ``frames`` = N and E epochs, the pictures are taken before training (epoch 0) and after the epochs
    round(i·E/(N-1)), i = 1..N-1 (fewer when E + 1 < N); a run that stops early gets a last picture of its
    final state. Each picture costs one ``predict_proba`` call over the grid (``resolution``² points) and one
    over the data; the figures are drawn only by :meth:`save_gif`.

    Args:
        X, y, X_test, y_test, probability, resolution, margin, title, class_names: as for
            :func:`decision_boundary`; the grid is fixed from the data, so the frames line up.
        frames: the number of pictures N (at least 2).
        epoch_offset: epochs done before this training call (a resumed run), for the epoch numbers shown.
    """

    def __init__(self, X: Any, y: Any, *, X_test: Any = None, y_test: Any = None, frames: int = 10,
                 probability: bool = False, resolution: int = 120, margin: float = 0.1, title: str | None = None,
                 class_names: Sequence[str] | None = None, epoch_offset: int = 0) -> None:
        if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 2:
            raise ValueError(f"frames must be an integer >= 2, got {frames!r}")
        self.train, self.test = _split_arguments(X, y, X_test, y_test)
        self.grid = _Grid.around([self.train[0]] + ([] if self.test is None else [self.test[0]]), resolution,
                                 margin)
        self.n_frames = int(frames)
        self.probability, self.title, self.class_names = bool(probability), title, class_names
        self.epoch_offset = int(epoch_offset)
        self.snapshots: list[_Snapshot] = []
        self._at: set[int] = set()
        self._done = 0

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        epochs = int(history.params.get("epochs") or 0)
        self._at = {round(i * epochs / (self.n_frames - 1)) for i in range(self.n_frames)}
        self.snapshots, self._done = [], 0
        self._take(0)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self._done = epoch + 1
        if self._done in self._at:
            self._take(self._done)

    def on_train_end(self, history: History) -> None:
        if self.network is not None and (not self.snapshots or self.snapshots[-1].epoch != self.epoch_offset +
                                         self._done):
            self._take(self._done)

    def _take(self, done: int) -> None:
        self.snapshots.append(_snapshot(self.network, self.grid, self.train, self.test, self.epoch_offset + done))

    def save_gif(self, path: str | os.PathLike[str], *, figsize: tuple[float, float] = (6.4, 4.8), dpi: int = 80,
                 frame_ms: int = 400, last_frame_ms: int = 2000) -> Path:
        """Write the collected pictures as a looping GIF (one frame each; the last held ``last_frame_ms``),
        atomically; return its path. Needs Pillow (which matplotlib itself requires)."""
        if not self.snapshots:
            raise ValueError("no decision boundary was recorded: use the recorder as a callback of a training run")
        Figure, FigureCanvasAgg = _import_matplotlib()
        from PIL import Image

        labels = [self.train[1]] + ([] if self.test is None else [self.test[1]])
        n_classes = max(_n_classes(s.probabilities, *labels) for s in self.snapshots)
        images = []
        for snap in self.snapshots:
            figure = Figure(figsize=figsize, layout="constrained")
            canvas = FigureCanvasAgg(figure)
            _draw(figure, self.grid, snap, self.train, self.test, n_classes, self.probability, self.title,
                  self.class_names)
            figure.set_dpi(dpi)
            canvas.draw()
            rgb = Image.fromarray(np.asarray(canvas.buffer_rgba())[:, :, :3])
            images.append(rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=255))
        durations = [frame_ms] * (len(images) - 1) + [last_frame_ms]
        buffer = io.BytesIO()
        images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
        path = Path(path)
        atomic_write_bytes(path, buffer.getvalue())
        return path
