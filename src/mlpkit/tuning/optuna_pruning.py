"""The worker side of the optuna strategy (:mod:`mlpkit.tuning.optuna_search`): Optuna's pruners deciding,
epoch by epoch, whether a running trial stops.

A trial runs in a worker (this process, a pool process or a Ray node) that does not write to the study. It
gets a snapshot of the study (plain data: the finished trials' intermediate values and the rungs successive
halving recorded, with their numbers and the study's name, which Hyperband's brackets hash), builds an
in-memory study from it, reports each epoch's metric to its own trial (step k = epoch k, k = 1, 2, ...) and
asks the pruner, through a :class:`~mlpkit.callbacks.Callback` as early stopping does.

Pruners: ``median`` -> ``MedianPruner`` (Golovin et al. 2017: stop when the best value so far is worse than
the median of the completed trials' values at the same step), ``halving`` -> ``SuccessiveHalvingPruner``
(asynchronous successive halving, Li et al. 2020), ``hyperband`` -> ``HyperbandPruner`` (Li et al. 2018:
several successive-halving brackets of different aggressiveness).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..callbacks import Callback

if TYPE_CHECKING:
    from ..history import History
    from ..network import Network

__all__ = ["INSTALL", "RUNG", "OptunaPruningCallback", "import_optuna", "make_pruner"]

INSTALL = "pip install 'mlpkit[optuna]'"
#: prefix of the system attributes in which successive halving records a trial's value at each rung
RUNG = "completed_rung_"


def import_optuna() -> Any:
    """The optuna module (its INFO logging lowered to warnings); ImportError naming the extra if missing."""
    try:
        import optuna
    except ImportError:
        raise ImportError(f"strategy optuna needs Optuna: {INSTALL}") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def make_pruner(optuna: Any, config: Mapping[str, Any] | None) -> Any:
    """The Optuna pruner of a checked pruning config (``optuna_pruner_config``); NopPruner for None."""
    if config is None:
        return optuna.pruners.NopPruner()
    if config["kind"] == "median":  # optuna skips steps < n_warmup_steps; mlpkit's warmup skips epochs <= warmup
        return optuna.pruners.MedianPruner(n_startup_trials=config["min_trials"], n_min_trials=config["min_trials"],
                                           n_warmup_steps=config["warmup"] + 1)
    if config["kind"] == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=config["min_epochs"],
                                                      reduction_factor=config["eta"])
    return optuna.pruners.HyperbandPruner(min_resource=config["min_epochs"],
                                          max_resource=config["max_epochs"] or "auto",
                                          reduction_factor=config["eta"])


class OptunaPruningCallback(Callback):
    """Reports each epoch's ``metric`` to an optuna trial of an in-memory copy of the study (the task's
    snapshot) and stops training when the pruner says so (``network.stop_training``, ``history.stop_reason``).
    ``rungs`` afterwards: what successive halving / Hyperband recorded for this trial."""

    def __init__(self, config: Mapping[str, Any], metric: str) -> None:
        optuna = import_optuna()
        self.metric = metric
        self.pruned: str | None = None
        self.study = optuna.create_study(study_name=config["study"], direction=config["direction"],
                                         pruner=make_pruner(optuna, config["pruner"]),
                                         sampler=optuna.samplers.RandomSampler(seed=0))
        state = optuna.trial.TrialState
        for entry in config["trials"]:
            if entry["state"] == "FAIL":
                self.study.add_trial(optuna.trial.create_trial(state=state.FAIL))
            else:
                self.study.add_trial(optuna.trial.create_trial(
                    state=state[entry["state"]], value=entry["value"],
                    intermediate_values={int(k): float(v) for k, v in entry["intermediate"]},
                    system_attrs=dict(entry["rungs"])))
        self.trial = self.study.ask()

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self._history = history
        self._step = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.metric not in logs:
            return  # reported as a failed trial by the runner
        self._step += 1
        self.trial.report(float(logs[self.metric]), self._step)
        if self.trial.should_prune():
            self.pruned = f"pruned by optuna's {type(self.study.pruner).__name__} in epoch {self._step}"
            self.network.stop_training = True
            self._history.stop_reason = self.pruned

    @property
    def rungs(self) -> dict[str, float]:
        attrs = self.study.get_trials(deepcopy=False)[-1].system_attrs
        return {k: v for k, v in attrs.items() if k.startswith(RUNG)}
