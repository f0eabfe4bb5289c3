"""``mlpkit train``: set up a run from its settings, train it with a live table, write the run directory.

A run directory holds ``model.mlpk`` (the trained network; its metadata holds the effective settings,
the data set and the test result), ``history.json``, ``config.yaml`` (the effective settings, usable as
``--config``), ``checkpoint.mlpkc`` (everything needed to continue: see :mod:`mlpkit.checkpoint`) and the
plots ``cost.png`` and ``accuracy.png``.

Ctrl-C (KeyboardInterrupt) during training saves ``checkpoint.mlpkc`` from the last completed epoch and
exits with status 130; ``mlpkit train --resume DIR`` continues the run exactly, as if never interrupted.
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
from typing import Any

import numpy as np
from rich.console import Console

from .. import __version__
from ..checkpoint import Checkpoint, Checkpointer, ResumableEarlyStopping, continue_history, continue_schedule
from ..serialization import save_network
from ..training import History, fit
from ._build import Data, build_augmenter, build_optimizer, build_schedule, load_data, network_from_config
from ._config import ConfigError, TrainConfig, resolve_layers
from ._display import EpochTable

MODEL_FILE = "model.mlpk"
HISTORY_FILE = "history.json"
CONFIG_FILE = "config.yaml"
CHECKPOINT_FILE = "checkpoint.mlpkc"
INTERRUPTED = 130  # 128 + SIGINT, the shell's status for a command stopped by Ctrl-C


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


def prepare_out_dir(cfg: TrainConfig, overwrite: bool) -> Path:
    """The run directory to use (created when training starts, so a bad option leaves nothing behind)."""
    out = Path(cfg.out).expanduser() if cfg.out else default_out_dir()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a directory")
    if not overwrite:
        if (out / CHECKPOINT_FILE).exists() and not (out / MODEL_FILE).exists():
            raise ConfigError(f"--out {out} holds an interrupted run: continue it with mlpkit train --resume {out}, "
                              "or pass --overwrite, or choose another --out")
        if (out / MODEL_FILE).exists():
            raise ConfigError(f"--out {out} already holds a run ({MODEL_FILE}); pass --overwrite or choose another "
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


def _write_yaml(path: Path, values: dict[str, Any]) -> None:
    import yaml

    header = "# mlpkit train: the effective settings of this run; reuse with mlpkit train --config " \
             f"{path.name}\n"
    path.write_text(header + yaml.safe_dump(values, sort_keys=False, allow_unicode=True), encoding="utf-8")


class TrainRun:
    """One ``mlpkit train`` invocation (new or resumed)."""

    def __init__(self, cfg: TrainConfig, *, console: Console, err_console: Console, resume: Resume | None = None,
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
        cfg, resume = self.cfg, self.resume
        self.out = resume.directory if resume else prepare_out_dir(cfg, self.overwrite)
        self.data: Data = load_data(cfg.dataset, label_column=cfg.label_column, seed=cfg.seed, dtype=cfg.dtype)
        dataset = self.data.dataset
        if dataset.train.X.ndim != 2:
            raise ConfigError(f"{dataset.name}: the training inputs must be one row per example")
        sizes = resolve_layers(cfg.layers, dataset.n_features, dataset.n_classes)
        cfg.layers = list(sizes)
        self.augment = build_augmenter(cfg.augment, dataset.image_shape, dataset.name)
        start = resume.checkpoint.epoch if resume else 0
        if resume:
            ckpt = resume.checkpoint
            self.network = ckpt.restore_network()
            if self.network.sizes[0] != sizes[0] or self.network.output_dim != sizes[-1]:
                raise ConfigError(f"the checkpoint's network {self.network.sizes} does not fit the data set "
                                  f"{dataset.name} ({sizes[0]} features, {sizes[-1]} outputs)")
            n_train = ckpt.history.params.get("n_train")
            if n_train is not None and n_train != len(dataset.train.y):
                raise ConfigError(f"{dataset.name} now has {len(dataset.train.y)} training examples, the interrupted "
                                  f"run had {n_train}: the data changed, so the run cannot continue exactly")
        else:
            self.network = network_from_config(cfg, sizes)
        cfg.cost = self.network.loss.name  # the effective cost, also when it was chosen from the output
        if cfg.monitor and cfg.monitor.endswith("accuracy") and not self.network.is_classifier:
            raise ConfigError(f"--monitor {cfg.monitor}: a network with a {self.network.output_activation} output "
                              "reports no accuracy; monitor val_loss or loss")
        if self.network.is_classifier is False and cfg.schedule == "halve-on-plateau" and not cfg.monitor:
            raise ConfigError("--schedule halve-on-plateau watches val_accuracy, which a network with a "
                              f"{self.network.output_activation} output does not report; pass --monitor val_loss")

        self.optimizer = build_optimizer(cfg)
        self.schedule = build_schedule(cfg)
        if self.schedule is not None:
            self.schedule.start(self.optimizer.learning_rate)
        self.early_stopping = None
        self.rng = np.random.default_rng(cfg.seed)
        self.previous_history: History | None = None
        if resume:
            ckpt = resume.checkpoint
            if ckpt.optimizer_state is not None:
                self.optimizer.load_state_dict(ckpt.optimizer_state)
            if ckpt.optimizer_config is not None:
                self.optimizer.learning_rate = float(ckpt.optimizer_config["learning_rate"])
            ckpt.restore_schedule(self.schedule)
            self.rng = ckpt.restore_rng() or self.rng
            self.previous_history = ckpt.history
        if cfg.early_stopping:
            self.early_stopping = ResumableEarlyStopping(
                monitor=cfg.monitor or "val_loss", patience=cfg.early_stopping, epoch_offset=start,
                state=resume.checkpoint.early_stopping_state if resume else None)
        self.start_epoch = start
        self.remaining = cfg.epochs - start
        if self.remaining <= 0:
            raise ConfigError(f"the run in {self.out} already completed {start} of {cfg.epochs} epochs; pass "
                              f"--epochs N with N > {start} to train longer")

    # ------------------------------------------------------------------------------------ training
    def run(self) -> int:
        """Train, then write the run directory; returns the exit status (130 when interrupted)."""
        try:
            return self._train_and_save()
        except KeyboardInterrupt:
            return self.interrupted()
        finally:
            if self.display is not None:
                self.display.stop()

    def _describe(self) -> None:
        cfg, data = self.cfg, self.data.dataset
        validation = data.validation
        self.console.print(f"dataset {data.name}: {len(data.train.y)} training, "
                           f"{len(validation.y) if validation else 0} validation, {len(data.test.y)} test examples")
        self.console.print(self.network.summary())
        schedule = ""
        if self.schedule is not None:
            details = {k: v for k, v in self.schedule.get_config().items()
                       if k not in ("name", "initial_learning_rate", "min_delta", "mode") and v is not None}
            text = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in details.items())
            schedule = f", schedule {cfg.schedule} ({text})"
        extras = []
        if cfg.early_stopping:
            extras.append(f"early stopping after {cfg.early_stopping} epochs ({cfg.monitor or 'val_loss'})")
        if self.augment is not None:
            extras.append(f"augmentation {'+'.join(cfg.augment)}")
        self.console.print(f"optimizer {self.optimizer!r}{schedule}; {cfg.epochs} epochs of batches of "
                           f"{cfg.batch_size}, seed {cfg.seed}" + "".join(f"; {e}" for e in extras))
        if self.resume:
            self.console.print(f"resuming {self.out} after epoch {self.start_epoch}")
        self.console.print(f"run directory {self.out}")

    def _train_and_save(self) -> int:
        cfg, data = self.cfg, self.data.dataset
        self.out.mkdir(parents=True, exist_ok=True)
        if not cfg.quiet:
            self._describe()
        validation = data.validation or None
        effective = cfg.effective()
        callbacks = [] if self.early_stopping is None else [self.early_stopping]
        # after early stopping, whose state of the epoch it records
        self.checkpointer = Checkpointer(
            self.optimizer, schedule=self.schedule, early_stopping=self.early_stopping, epoch_offset=self.start_epoch,
            previous_history=self.previous_history, config=effective, path=self.out / CHECKPOINT_FILE,
            every=cfg.checkpoint_every)
        callbacks.append(self.checkpointer)
        if cfg.dashboard:
            from ..web.reporter import DashboardReporter

            callbacks.append(DashboardReporter(
                cfg.dashboard, name=f"mlpkit train {data.name} {self.network.sizes}", epochs=cfg.epochs,
                settings=effective, validation=None if validation is None else (validation.X, validation.y),
                image_shape=data.image_shape, epoch_offset=self.start_epoch, stream=self.err.file))
        if not cfg.quiet:  # last: a printed row means that epoch is in the checkpoint
            self.display = EpochTable(self.console, total_epochs=cfg.epochs, epoch_offset=self.start_epoch,
                                      n_batches=math.ceil(len(data.train.y) / cfg.batch_size),
                                      optimizer=self.optimizer, show_lr=self.schedule is not None)
            callbacks.append(self.display)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            history = fit(self.network, data.train.X, data.train.y, epochs=self.remaining, batch_size=cfg.batch_size,
                          optimizer=self.optimizer,
                          validation_data=None if validation is None else (validation.X, validation.y),
                          callbacks=callbacks, seed=self.rng, verbose=0,
                          schedule=continue_schedule(self.schedule, self.start_epoch, self.previous_history),
                          augment=self.augment)
        if self.display is not None:
            self.display.stop()
        for warning in caught:
            self.err.print(f"mlpkit: warning: {' '.join(str(warning.message).split())}")

        merged = continue_history(self.previous_history, history, self.start_epoch)
        merged.params.update(seed=cfg.seed, epochs=cfg.epochs)
        result = self.network.evaluate(data.test.X, data.test.y)
        metadata = {
            "dataset": data.name,
            "config": effective,
            "classes": list(self.data.classes) if self.data.classes is not None else None,
            "test_loss": result["loss"],
            "test_accuracy": result.get("accuracy"),
            "epochs_trained": self.start_epoch + len(history),
            "stop_reason": merged.stop_reason,
            "created_by": f"mlpkit {__version__} train",
        }
        save_network(self.network, self.out / MODEL_FILE, metadata=metadata)
        merged.to_json(self.out / HISTORY_FILE)
        _write_yaml(self.out / CONFIG_FILE, effective)
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
        if not cfg.quiet:
            self.console.print(summary)  # before the plots: importing matplotlib takes a second
        if cfg.plots and len(merged) > 0:
            from ..plotting import plot_history

            written += [p.name for p in plot_history(merged, self.out, title=data.name)]
        if cfg.quiet:
            self.console.print(f"{summary}  saved to {self.out}")
        else:
            self.console.print(f"saved to {self.out}: {', '.join(written)}")
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
