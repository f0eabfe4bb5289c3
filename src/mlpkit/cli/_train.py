"""``mlpkit train``: set up a run from its settings, train it with a live table, write the run directory.

A run directory holds ``model.mlpk`` (the trained network; its metadata holds the effective settings,
the data set and the test result), ``history.json``, ``config.yaml`` (the effective settings, usable as
``--config``), ``checkpoint.mlpkc`` (everything needed to continue: see :mod:`mlpkit.checkpoint`) and the
plots ``cost.png`` and ``accuracy.png``; for 2-D data also ``boundary.png`` (the decision boundary, with the
training and test points) and, with ``--boundary-frames N``, ``boundary.gif`` (it at N evenly spaced epochs).

Ctrl-C (KeyboardInterrupt) during training saves ``checkpoint.mlpkc`` from the last completed epoch and
exits with status 130; ``mlpkit train --resume DIR`` continues the run exactly, as if never interrupted. A
run that diverges (:func:`mlpkit.training.fit`'s divergence guard) keeps the weights of its last good
epoch, writes the run directory marked ``diverged``, says so in one line and exits with status 3.

The run itself is built by :func:`mlpkit.settings.build_run`; this module adds the run directory, the
checkpoints, the dashboard reporter and the live table.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from .. import __version__
from ..checkpoint import Checkpoint, Checkpointer
from ..serialization import save_network
from ..settings import SettingsError, TrainingRun, TrainSettings, build_run
from ..settings.rundir import CONFIG_FILE, HISTORY_FILE, MODEL_FILE, write_config
from ._display import EpochTable

CHECKPOINT_FILE = "checkpoint.mlpkc"
BOUNDARY_FILE = "boundary.png"
BOUNDARY_ANIMATION = "boundary.gif"
INTERRUPTED = 130  # 128 + SIGINT, the shell's status for a command stopped by Ctrl-C
DIVERGED = 3  # training stopped by the divergence guard (2 is a usage error)


@dataclass
class Resume:
    """A run to continue: its directory and its checkpoint."""

    directory: Path
    checkpoint: Checkpoint


def default_out_dir(root: Path = Path("runs")) -> Path:
    """``runs/<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3``... when that exists already."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, n = root / stamp, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stamp}-{n}"
    return candidate


def prepare_out_dir(cfg: TrainSettings, overwrite: bool) -> Path:
    """The run directory to use (created when training starts, so a bad option leaves nothing behind)."""
    out = Path(cfg.out).expanduser() if cfg.out else default_out_dir()
    if out.exists() and not out.is_dir():
        raise SettingsError(f"--out {out} is a file; give a directory")
    if not overwrite:
        if (out / CHECKPOINT_FILE).exists() and not (out / MODEL_FILE).exists():
            raise SettingsError(f"--out {out} holds an interrupted run: continue it with mlpkit train --resume {out}, "
                              "or pass --overwrite, or choose another --out")
        if (out / MODEL_FILE).exists():
            raise SettingsError(f"--out {out} already holds a run ({MODEL_FILE}); pass --overwrite or choose another "
                              "--out")
    return out


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Ignore a second Ctrl-C while the checkpoint is written (the write is atomic anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class TrainRun:
    """One ``mlpkit train`` invocation (new or resumed)."""

    def __init__(self, cfg: TrainSettings, *, console: Console, err_console: Console, resume: Resume | None = None,
                 overwrite: bool = False) -> None:
        self.cfg = cfg
        self.console = console
        self.err = err_console
        self.resume = resume
        self.overwrite = overwrite
        self.checkpointer: Checkpointer | None = None
        self.display: EpochTable | None = None
        self.out: Path | None = None
        self.finished = False  # training done and the run directory written (all but the plots)

    # ------------------------------------------------------------------------------------ setup
    def setup(self) -> None:
        """Everything before training; every problem here is a user error (bad option, data, file)."""
        self.out = self.resume.directory if self.resume else prepare_out_dir(self.cfg, self.overwrite)
        self.run: TrainingRun = build_run(self.cfg, checkpoint=self.resume.checkpoint if self.resume else None)
        self.cfg = self.run.settings
        data = self.run.data.dataset
        if self.cfg.boundary_frames and not self._draws_boundary():
            why = "a classifier" if data.n_features == 2 else f"2-D data; {data.name} has {data.n_features} features"
            raise SettingsError(f"--boundary-frames draws the decision boundary of {why}")

    def _draws_boundary(self) -> bool:
        """A classifier of 2-D inputs: its decision boundary can be drawn."""
        return self.run.data.dataset.n_features == 2 and self.run.network.is_classifier

    # ------------------------------------------------------------------------------------ training
    def run_and_save(self) -> int:
        """Train, then write the run directory; returns the exit status (130 when interrupted, 3 when the run
        diverged)."""
        try:
            return self._train_and_save()
        except KeyboardInterrupt:
            return self.interrupted()
        finally:
            if self.display is not None:
                self.display.stop()

    def _describe(self) -> None:
        cfg, run, data = self.cfg, self.run, self.run.data.dataset
        validation = data.validation
        self.console.print(f"dataset {data.name}: {len(data.train.y)} training, "
                           f"{len(validation.y) if validation else 0} validation, {len(data.test.y)} test examples")
        self.console.print(run.network.summary())
        schedule = ""
        if run.schedule is not None:
            details = {k: v for k, v in run.schedule.get_config().items()
                       if k not in ("name", "initial_learning_rate", "min_delta", "mode") and v is not None}
            text = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in details.items())
            schedule = f", schedule {cfg.schedule} ({text})"
        extras = []
        if cfg.early_stopping:
            extras.append(f"early stopping after {cfg.early_stopping} epochs ({run.early_stopping.tracker.monitor})")
        if run.augment is not None:
            extras.append(f"augmentation {'+'.join(cfg.augment)}")
        self.console.print(f"optimizer {run.optimizer!r}{schedule}; {cfg.epochs} epochs of batches of "
                           f"{cfg.batch_size}, seed {cfg.seed}" + "".join(f"; {e}" for e in extras))
        if self.resume:
            self.console.print(f"resuming {self.out} after epoch {run.start_epoch}")
        self.console.print(f"run directory {self.out}")

    def _train_and_save(self) -> int:
        cfg, run, data = self.cfg, self.run, self.run.data.dataset
        self.out.mkdir(parents=True, exist_ok=True)
        if not cfg.quiet:
            self._describe()
        effective = cfg.effective()
        # after early stopping (which build_run puts first), whose state of the epoch it records
        self.checkpointer = Checkpointer(
            run.optimizer, schedule=run.schedule, early_stopping=run.early_stopping, epoch_offset=run.start_epoch,
            previous_history=run.previous_history, config=effective, path=self.out / CHECKPOINT_FILE,
            every=cfg.checkpoint_every)
        callbacks: list = [self.checkpointer]
        recorder = None
        if cfg.boundary_frames:
            from ..plotting import BoundaryRecorder

            recorder = BoundaryRecorder(data.train.X, data.train.y, X_test=data.test.X, y_test=data.test.y,
                                        frames=cfg.boundary_frames, title=data.name, epoch_offset=run.start_epoch)
            callbacks.append(recorder)
        if cfg.dashboard:
            from ..web.reporter import DashboardReporter

            callbacks.append(DashboardReporter(
                cfg.dashboard, name=f"mlpkit train {data.name} {run.network.sizes}", epochs=cfg.epochs,
                settings=effective, validation=run.validation, image_shape=data.image_shape,
                epoch_offset=run.start_epoch, stream=self.err.file))
        if not cfg.quiet:  # last: a printed row means that epoch is in the checkpoint
            self.display = EpochTable(self.console, total_epochs=cfg.epochs, epoch_offset=run.start_epoch,
                                      n_batches=math.ceil(len(data.train.y) / cfg.batch_size),
                                      optimizer=run.optimizer, show_lr=run.schedule is not None)
            callbacks.append(self.display)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            history = run.fit(callbacks)
        if self.display is not None:
            self.display.stop()
        for warning in caught:
            if str(warning.message) != history.message:  # the divergence is reported below, once
                self.err.print(f"mlpkit: warning: {' '.join(str(warning.message).split())}")

        merged = run.whole_history(history)
        result = run.network.evaluate(data.test.X, data.test.y)
        metadata = {
            "dataset": data.name,
            "config": effective,
            "classes": list(run.data.classes) if run.data.classes is not None else None,
            "test_loss": result["loss"],
            "test_accuracy": result.get("accuracy"),
            "epochs_trained": run.start_epoch + len(history),
            "stop_reason": merged.stop_reason,
            "created_by": f"mlpkit {__version__} train",
        }
        save_network(run.network, self.out / MODEL_FILE, metadata=metadata)
        merged.to_json(self.out / HISTORY_FILE)
        write_config(self.out, effective, writer="mlpkit train")
        with _sigint_deferred():
            self.checkpointer.save()
        self.finished = True
        written = [MODEL_FILE, HISTORY_FILE, CONFIG_FILE, CHECKPOINT_FILE]

        trained = sum(merged.history.get("time", []))
        parts = []
        if result.get("accuracy") is not None:
            parts.append(f"test accuracy {result['accuracy'] * 100:.2f}%")
        parts.append(f"test cost {result['loss']:.4f}")
        epochs = f"{len(merged)} epoch{'' if len(merged) == 1 else 's'}"
        summary = "  ".join(parts) + f"  ({epochs}, {trained:.1f} s training)"
        if merged.stop_reason != "completed":
            summary += f"  [{merged.stop_reason}]"
        if not cfg.quiet:  # (markup off: "[diverged]" is not a rich style tag)
            self.console.print(summary, markup=False)  # before the plots: importing matplotlib takes a second
        if cfg.plots and len(merged) > 0:
            from ..plotting import plot_history

            written += [p.name for p in plot_history(merged, self.out, title=data.name)]
        if cfg.plots and self._draws_boundary():
            from ..plotting import decision_boundary

            decision_boundary(run.network, data.train.X, data.train.y, X_test=data.test.X, y_test=data.test.y,
                              title=data.name, class_names=run.data.classes, path=self.out / BOUNDARY_FILE)
            written.append(BOUNDARY_FILE)
        if recorder is not None and recorder.snapshots:
            recorder.save_gif(self.out / BOUNDARY_ANIMATION)
            written.append(BOUNDARY_ANIMATION)
        if cfg.quiet:
            self.console.print(f"{summary}  saved to {self.out}", markup=False)
        else:
            self.console.print(f"saved to {self.out}: {', '.join(written)}")
        if merged.diverged:
            self.err.print(f"mlpkit: error: {history.message}", markup=False)
            return DIVERGED
        return 0

    def interrupted(self) -> int:
        """Ctrl-C: save the last completed epoch's state and say how to continue."""
        if self.display is not None:
            self.display.stop()
        if self.finished:
            self.err.print(f"interrupted: the model and history are saved in {self.out}, the plots are not")
            return INTERRUPTED
        latest = self.checkpointer.latest if self.checkpointer is not None else None
        if latest is None or self.out is None:
            self.err.print("interrupted before training started: nothing saved")
            return INTERRUPTED
        with _sigint_deferred():
            path = self.checkpointer.save()
            latest.history.to_json(self.out / HISTORY_FILE)
        self.err.print(f"interrupted: checkpoint saved to {path} (after epoch {latest.epoch}); resume with "
                       f"mlpkit train --resume {self.out}")
        return INTERRUPTED
