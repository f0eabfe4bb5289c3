"""``mlpkit train``: set up a run from its settings, train it with a live table, write the run directory.

A run directory holds ``model.mlpk`` (the trained network; its metadata holds the effective settings,
the data set and the test result), ``history.json``, ``config.yaml`` (the effective settings, usable as
``--config``), ``checkpoint.mlpkc`` (everything needed to continue: see :mod:`mlpkit.checkpoint`) and the
plots ``cost.png`` and ``accuracy.png``; for 2-D data also ``boundary.png`` (the decision boundary, with the
training and test points) and, with ``--boundary-frames N``, ``boundary.gif`` (it at N evenly spaced epochs).

Ctrl-C (KeyboardInterrupt) or SIGTERM (``kill``, systemd, ``docker stop``: :mod:`mlpkit.cli._signals`)
during training saves ``checkpoint.mlpkc`` from the last completed epoch and exits with status 130 or 143;
``mlpkit train --resume DIR`` continues the run exactly, as if never interrupted. What no handler sees (``kill
-9``, a crash, a power cut) loses at most ``--checkpoint-interval`` seconds of training (default 30) and the
epoch under way: a checkpoint is also written at the first epoch end after each interval. A
run that diverges (:func:`mlpkit.training.fit`'s divergence guard) keeps the weights of its last good
epoch, writes the run directory marked ``diverged``, says so in one line and exits with status 3.

The run itself is built by :func:`mlpkit.settings.build_run`; this module adds the run directory, the
checkpoints, the dashboard reporter and the live table.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from .. import __version__
from .._atomic import write_error
from ..callbacks import Callback
from ..checkpoint import Checkpoint, Checkpointer, checkpoint_bytes
from ..serialization import network_bytes
from ..settings import SettingsError, TrainingRun, TrainSettings, build_run
from ..settings.rundir import CHECKPOINT_FILE, CONFIG_FILE, HISTORY_FILE, MODEL_FILE, commit, config_bytes, record
from ..tasks import CLASS_TASKS
from ._display import EpochTable, metrics_text
from ._signals import deferred, raise_lost, stop_status, stop_word

BOUNDARY_FILE = "boundary.png"
BOUNDARY_ANIMATION = "boundary.gif"
DIVERGED = 3  # training stopped by the divergence guard (2 is a usage error)
CANNOT_WRITE = 2  # a full, read-only or forbidden disk: mlpkit's status for an error the user must fix


class LostStops(Callback):
    """Raises, after every mini-batch, a Ctrl-C or SIGTERM that C code swallowed (:func:`raise_lost`)."""

    def on_batch_end(self, batch: int, logs: dict) -> None:
        raise_lost()


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
        self.fresh = resume is None  # no save yet of a new run: its first leaves an earlier run's files unlisted

    # ------------------------------------------------------------------------------------ setup
    def setup(self) -> None:
        """Everything before training; every problem here is a user error (bad option, data, file)."""
        raise_lost()
        self.out = self.resume.directory if self.resume else prepare_out_dir(self.cfg, self.overwrite)
        self.run: TrainingRun = build_run(self.cfg, checkpoint=self.resume.checkpoint if self.resume else None)
        self.cfg = self.run.settings
        data = self.run.data.dataset
        if self.cfg.boundary_frames and not self._draws_boundary():
            why = "a classifier" if data.n_features == 2 else f"2-D data; {data.name} has {data.n_features} features"
            raise SettingsError(f"--boundary-frames draws the decision boundary of {why}")

    def _draws_boundary(self) -> bool:
        """A classifier of 2-D inputs: its decision boundary can be drawn."""
        return self.run.data.dataset.n_features == 2 and self.run.network.task in CLASS_TASKS

    # ------------------------------------------------------------------------------------ training
    def run_and_save(self) -> int:
        """Train, then write the run directory; returns the exit status (130 when interrupted, 3 when the run
        diverged)."""
        try:
            try:
                return self._train_and_save()
            except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM
                return self.interrupted(exc)
        except OSError as exc:  # a full or read-only disk: one line; every save is whole, the previous files too
            return self.cannot_write(exc)
        finally:
            if self.display is not None:
                self.display.stop()

    def cannot_write(self, exc: OSError) -> int:
        """One line naming the file and the reason (:class:`mlpkit._atomic.WriteError`), and what is saved."""
        if self.display is not None:
            self.display.stop()
        line = str(write_error(exc, exc.filename)) if exc.filename else " ".join(str(exc).split())
        if self.finished:
            line += f"; the model, history, config and checkpoint are saved in {self.out}"
        self.err.print(f"mlpkit: error: {line}", markup=False, soft_wrap=True)
        return CANNOT_WRITE

    def save_checkpoint(self, path: Path, checkpoint: Checkpoint) -> Path:
        """Save ``checkpoint`` and its history together with the run directory's manifest
        (:func:`mlpkit.settings.rundir.commit`)."""
        commit(path.parent, {path.name: checkpoint_bytes(checkpoint), HISTORY_FILE: checkpoint.history.to_json_bytes()},
               epoch=checkpoint.epoch, fresh=self.fresh)
        self.fresh = False
        return path

    def _describe(self) -> None:
        cfg, run, data = self.cfg, self.run, self.run.data.dataset
        validation = data.validation
        self.console.print(f"dataset {data.name}: {len(data.train.y)} training, "
                           f"{len(validation.y) if validation else 0} validation, {len(data.test.y)} test examples")
        if run.data.target_names is not None:
            weights = f", weighted by {cfg.sample_weight!r}" if cfg.sample_weight else ""
            self.console.print(f"task {run.network.task}: target {', '.join(map(repr, run.data.target_names))} from "
                               f"{len(run.data.feature_names or ())} features{weights}", markup=False)
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
            every=cfg.checkpoint_every, interval=cfg.checkpoint_interval, write=self.save_checkpoint)
        callbacks: list = [self.checkpointer, LostStops()]
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
                self.err.print(f"mlpkit: warning: {' '.join(str(warning.message).split())}", markup=False)

        merged = run.whole_history(history)
        result = run.network.evaluate(data.test.X, data.test.y, sample_weight=data.test.sample_weight)
        metadata = {
            "dataset": data.name,
            "config": effective,
            "classes": list(run.data.classes) if run.data.classes is not None else None,
            "task": run.network.task,
            "test_loss": result["loss"],
            "test_accuracy": result.get("accuracy"),
            "test_metrics": {k: float(v) for k, v in result.items()},
            "epochs_trained": run.start_epoch + len(history),
            "stop_reason": merged.stop_reason,
            "created_by": f"mlpkit {__version__} train",
        }
        latest = self.checkpointer.latest
        files = {MODEL_FILE: network_bytes(run.network, metadata), HISTORY_FILE: merged.to_json_bytes(),
                 CONFIG_FILE: config_bytes(effective, writer="mlpkit train"), CHECKPOINT_FILE: checkpoint_bytes(latest)}
        with deferred():  # the four files and the manifest change together, or none does; a stop meanwhile
            commit(self.out, files, epoch=latest.epoch, fresh=self.fresh)  # is raised after, as "finished"
            self.fresh = False
            self.finished = True
        written = list(files)

        trained = sum(merged.history.get("time", []))
        parts = []
        if run.network.task in CLASS_TASKS and result.get("accuracy") is not None:
            parts.append(f"test accuracy {result['accuracy'] * 100:.2f}%")
        elif headline := metrics_text(run.network.task, result, prefix="test ", headline_only=True):
            parts.append(headline)
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
        if plots := written[len(files):]:  # each written on its own, they join the manifest once all are there
            record(self.out, plots, epoch=latest.epoch)
        if cfg.quiet:
            self.console.print(f"{summary}  saved to {self.out}", markup=False)
        else:
            self.console.print(f"saved to {self.out}: {', '.join(written)}")
        if merged.diverged:
            self.err.print(f"mlpkit: error: {history.message}", markup=False)
            return DIVERGED
        return 0

    def interrupted(self, stop: KeyboardInterrupt) -> int:
        """Ctrl-C or SIGTERM (``stop``): save the last completed epoch's state and say how to continue, in one
        line; the status is 130 for Ctrl-C, 143 for SIGTERM."""
        word, status = stop_word(stop), stop_status(stop)
        if self.display is not None:
            self.display.stop()
        if self.finished:
            self.err.print(f"{word}: the model and history are saved in {self.out}, the plots are not")
            return status
        latest = self.checkpointer.latest if self.checkpointer is not None else None
        if latest is None or self.out is None:
            self.err.print(f"{word} before training started: nothing saved")
            return status
        with deferred(drop=True):  # a second signal while saving changes nothing: this is the way out
            path = self.checkpointer.save()  # with history.json (:meth:`save_checkpoint`)
        self.err.print(f"{word}: checkpoint saved to {path} (after epoch {latest.epoch}); resume with "
                       f"mlpkit train --resume {self.out}", markup=False, soft_wrap=True)
        return status
