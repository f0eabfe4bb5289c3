"""Learning-rate schedules: the learning rate of each epoch.

A schedule is a callable ``schedule(epoch, history) -> learning_rate`` that ``fit(..., schedule=...)``
calls at the start of every epoch (``epoch`` is 0-based, ``history`` holds the metrics of the epochs
done so far) and writes into ``optimizer.learning_rate``; the rate used is logged as
``history["learning_rate"]``. Returning None ends training (Nielsen's "terminate when the learning rate
has dropped to 1/128 of its original value"). Any function with that signature works; the classes here
also take their starting rate alpha0 from the optimizer when ``initial_learning_rate`` is not given
(``fit`` calls ``start(optimizer.learning_rate)`` before the first epoch). Epochs count from 0 in every
``fit`` call, and a second ``fit`` with the same optimizer object starts from that optimizer's current,
already decayed, rate: pass ``initial_learning_rate`` to pin alpha0 across calls.

``state_dict()`` / ``load_state_dict()`` copy out and restore what a run has changed in a schedule (alpha0,
and :class:`HalveOnPlateau`'s current rate and plateau count), so that a checkpointed run continues exactly.
``get_schedule`` builds one from its name (the ``name`` in the table below) and parameters.

| class (name)                          | learning rate in epoch e (0-based)                 | source              |
|---------------------------------------|----------------------------------------------------|---------------------|
| ``Constant`` (constant)               | alpha0                                             |                     |
| ``InverseTimeDecay`` (inverse_time)   | alpha0 / (1 + decay_rate * e)                      | Ng wk 2 "learning   |
|                                       |                                                    | rate decay"         |
|   staircase                           | alpha0 / (1 + decay_rate * floor(e / decay_epochs))| Ng's                |
|                                       |                                                    | schedule_lr_decay   |
| ``ExponentialDecay`` (exponential)    | alpha0 * decay_rate^e  (e.g. 0.95^e)               | Ng wk 2             |
| ``StepDecay`` (step)                  | alpha0 * factor^floor(e / step_size)               | Ng wk 2 "discrete   |
|                                       |                                                    | staircase"          |
| ``HalveOnPlateau`` (halve_on_plateau) | halve when the validation accuracy has not improved| Nielsen ch.3        |
|                                       | for ``patience`` epochs; stop at alpha0 / 128      | "learning rate      |
|                                       |                                                    | schedule" (problem) |

Ng numbers epochs from 1 in the lecture ("epoch 1: alpha = 0.1" for alpha0 = 0.2, decay_rate = 1); here
the first epoch is epoch 0 and trains at alpha0, as in his programming assignment, so the lecture's
epoch k is epoch k here.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .history import MetricTracker
from .validation import check_positive_float, check_positive_int

if TYPE_CHECKING:
    from .history import History

ScheduleFunction = Callable[[int, "History | None"], "float | None"]


def _check_fraction(value: object, name: str) -> float:
    """``value`` as a float in (0, 1]."""
    value = check_positive_float(value, name)
    if value > 1.0:
        raise ValueError(f"{name} must be in (0, 1] (a decay factor), got {value}")
    return value


class Schedule:
    """Base class: holds alpha0 and turns (epoch, history) into a learning rate.

    Args:
        initial_learning_rate: alpha0; None (default) takes the optimizer's learning rate when ``fit``
            starts.
    """

    name: str = ""

    def __init__(self, initial_learning_rate: float | None = None) -> None:
        self.initial_learning_rate = (None if initial_learning_rate is None
                                      else check_positive_float(initial_learning_rate, "initial_learning_rate"))
        self.eta0 = self.initial_learning_rate

    def start(self, learning_rate: float) -> None:
        """Begin a run whose optimizer starts at ``learning_rate`` (used as alpha0 unless one was given);
        forget any state of an earlier run."""
        self.eta0 = self.initial_learning_rate or check_positive_float(learning_rate, "learning_rate")

    def __call__(self, epoch: int, history: History | None = None) -> float | None:
        if self.eta0 is None:
            raise ValueError(f"{type(self).__name__} has no initial learning rate: pass initial_learning_rate=... "
                             "or give the schedule to fit(), which starts it from the optimizer's rate")
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"epoch must be an integer >= 0, got {epoch!r}")
        return self._rate(int(epoch), history)

    def _rate(self, epoch: int, history: History | None) -> float | None:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "initial_learning_rate": self.initial_learning_rate}

    def state_dict(self) -> dict[str, Any]:
        """What a run has set in this schedule: ``{"name", "eta0"}`` (alpha0 as ``start`` chose it)."""
        return {"name": self.name, "eta0": self.eta0}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from what :meth:`state_dict` returned (call after ``start``, which would reset it);
        ValueError when ``state`` is not a state of this kind of schedule."""
        if not isinstance(state, dict) or state.get("name") != self.name:
            found = state.get("name") if isinstance(state, dict) else state
            raise ValueError(f"this state belongs to a {found!r} schedule, not {self.name!r}")
        eta0 = state.get("eta0")
        self.eta0 = None if eta0 is None else check_positive_float(eta0, "the schedule state's eta0")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """alpha = alpha0 in every epoch."""

    name = "constant"

    def _rate(self, epoch: int, history: History | None) -> float:
        return self.eta0


class InverseTimeDecay(Schedule):
    """alpha = alpha0 / (1 + decay_rate * epoch) (Ng week 2, "learning rate decay").

    With ``staircase=True`` the epoch count is floored to whole periods of ``decay_epochs`` epochs:
    alpha = alpha0 / (1 + decay_rate * floor(epoch / decay_epochs)) (Ng's ``schedule_lr_decay`` with
    ``time_interval``); without it the decay is continuous, t = epoch / decay_epochs.

    Args:
        decay_rate: >= 0; default 1.
        decay_epochs: epochs per decay period; default 1.
        staircase: decay in steps rather than every epoch.
        initial_learning_rate: alpha0 (default: the optimizer's rate).
    """

    name = "inverse_time"

    def __init__(self, decay_rate: float = 1.0, decay_epochs: int = 1, staircase: bool = False,
                 initial_learning_rate: float | None = None) -> None:
        super().__init__(initial_learning_rate)
        self.decay_rate = check_positive_float(decay_rate, "decay_rate", allow_zero=True)
        self.decay_epochs = check_positive_int(decay_epochs, "decay_epochs")
        self.staircase = bool(staircase)

    def _rate(self, epoch: int, history: History | None) -> float:
        t = epoch // self.decay_epochs if self.staircase else epoch / self.decay_epochs
        return self.eta0 / (1.0 + self.decay_rate * t)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "decay_rate": self.decay_rate, "decay_epochs": self.decay_epochs,
                "staircase": self.staircase}


class ExponentialDecay(Schedule):
    """alpha = alpha0 * decay_rate^(epoch / decay_epochs) (Ng week 2: "0.95^epoch_num * alpha0").

    Args:
        decay_rate: the factor per period, in (0, 1]; default 0.95.
        decay_epochs: epochs per period; default 1.
        staircase: floor(epoch / decay_epochs) instead of the continuous exponent.
        initial_learning_rate: alpha0 (default: the optimizer's rate).
    """

    name = "exponential"

    def __init__(self, decay_rate: float = 0.95, decay_epochs: int = 1, staircase: bool = False,
                 initial_learning_rate: float | None = None) -> None:
        super().__init__(initial_learning_rate)
        self.decay_rate = _check_fraction(decay_rate, "decay_rate")
        self.decay_epochs = check_positive_int(decay_epochs, "decay_epochs")
        self.staircase = bool(staircase)

    def _rate(self, epoch: int, history: History | None) -> float:
        t = epoch // self.decay_epochs if self.staircase else epoch / self.decay_epochs
        return self.eta0 * self.decay_rate ** t

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "decay_rate": self.decay_rate, "decay_epochs": self.decay_epochs,
                "staircase": self.staircase}


class StepDecay(Schedule):
    """alpha = alpha0 * factor^floor(epoch / step_size): multiply by ``factor`` every ``step_size`` epochs
    (Ng week 2, "discrete staircase").

    Args:
        step_size: epochs between drops (> 0).
        factor: the multiplier at each drop, in (0, 1]; default 0.5.
        initial_learning_rate: alpha0 (default: the optimizer's rate).
    """

    name = "step"

    def __init__(self, step_size: int, factor: float = 0.5, initial_learning_rate: float | None = None) -> None:
        super().__init__(initial_learning_rate)
        self.step_size = check_positive_int(step_size, "step_size")
        self.factor = _check_fraction(factor, "factor")

    def _rate(self, epoch: int, history: History | None) -> float:
        return self.eta0 * self.factor ** (epoch // self.step_size)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "step_size": self.step_size, "factor": self.factor}


class HalveOnPlateau(Schedule):
    """Nielsen's learning-rate schedule (ch.3, "How to choose a neural network's hyper-parameters?"):
    "hold the learning rate constant until the validation accuracy starts to get worse... halve it each
    time the no-improvement-in-ten rule is satisfied... terminate when the learning rate has dropped to
    1/128 of its original value."

    At the start of each epoch the schedule reads the monitored metric of the epochs done since its last
    call. When ``patience`` of them in a row have not improved on the best value, eta is multiplied by
    ``factor`` (the count of non-improving epochs starts again); when eta has dropped to
    ``eta0 * min_ratio`` or below, the schedule returns None and ``fit`` stops.

    Args:
        patience: non-improving epochs before each cut; default 10.
        monitor: the History metric; default ``"val_accuracy"`` (needs validation data).
        factor: the cut, in (0, 1); default 0.5 (halving).
        min_ratio: stop when eta / eta0 <= min_ratio, in (0, 1); default 1/128.
        min_delta, mode: as :class:`mlpkit.callbacks.EarlyStopping`.
        initial_learning_rate: eta0 (default: the optimizer's rate).
    """

    name = "halve_on_plateau"

    def __init__(self, patience: int = 10, monitor: str = "val_accuracy", factor: float = 0.5,
                 min_ratio: float = 1 / 128, min_delta: float = 0.0, mode: str = "auto",
                 initial_learning_rate: float | None = None) -> None:
        super().__init__(initial_learning_rate)
        self.patience = check_positive_int(patience, "patience")
        self.factor = _check_fraction(factor, "factor")
        self.min_ratio = _check_fraction(min_ratio, "min_ratio")
        for name, value in (("factor", self.factor), ("min_ratio", self.min_ratio)):
            if value == 1.0:
                raise ValueError(f"{name} must be in (0, 1) (a cut of the learning rate), got {value}")
        self.tracker = MetricTracker(monitor, mode, min_delta)
        self._reset()

    def _reset(self) -> None:
        self.tracker.reset()
        self.learning_rate = self.eta0
        self._seen = 0

    def start(self, learning_rate: float) -> None:
        super().start(learning_rate)
        self._reset()

    def _rate(self, epoch: int, history: History | None) -> float | None:
        values: list[float] = []
        if history is not None and len(history) > 0:
            self.tracker.check_logged(history.history, "HalveOnPlateau")
            values = history[self.tracker.monitor]
        for value in values[self._seen:]:
            if not self.tracker.update(value) and self.tracker.wait >= self.patience:
                self.learning_rate *= self.factor
                self.tracker.wait = 0
        self._seen = len(values)
        # "dropped to eta0 / 128": compare with a relative tolerance so that 0.1^3 counts as 1e-3
        if self.learning_rate <= self.eta0 * self.min_ratio * (1.0 + 1e-9):
            return None
        return self.learning_rate

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "patience": self.patience, "monitor": self.tracker.monitor,
                "factor": self.factor, "min_ratio": self.min_ratio, "min_delta": self.tracker.min_delta,
                "mode": self.tracker.mode}

    def state_dict(self) -> dict[str, Any]:
        """Also the current rate, the plateau tracker (best value, epochs without improvement) and how many
        History values have been read (``seen``)."""
        return {**super().state_dict(), "learning_rate": self.learning_rate, **self.tracker.state_dict(),
                "seen": self._seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        seen = state.get("seen")
        if isinstance(seen, bool) or not isinstance(seen, int) or seen < 0:
            raise ValueError(f"the schedule state's 'seen' must be an integer >= 0, got {seen!r}")
        self.learning_rate = check_positive_float(state.get("learning_rate"), "the schedule state's learning_rate")
        self.tracker.load_state_dict(state)
        self._seen = seen


_SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, InverseTimeDecay, ExponentialDecay, StepDecay, HalveOnPlateau)
}
SCHEDULE_NAMES = tuple(_SCHEDULES)


def schedule_class(name: str) -> type[Schedule]:
    """The schedule class called ``name`` (hyphens read as underscores); ValueError listing the names."""
    key = str(name).strip().lower().replace("-", "_")
    if key not in _SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; expected one of {', '.join(SCHEDULE_NAMES)}")
    return _SCHEDULES[key]


def get_schedule(spec: str | dict | Schedule) -> Schedule:
    """Build a schedule from an instance, a name, or a config dict ``{"name": "exponential", "decay_rate":
    0.9}`` (``get_config()`` output); bad parameters are a ValueError naming them."""
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict):
        raise TypeError(f"schedule must be a name, a config dict or a Schedule, got {spec!r}")
    params = dict(spec)
    cls = schedule_class(params.pop("name", ""))
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for schedule {cls.name!r}: {exc}") from exc


def start_schedule(schedule: Schedule | ScheduleFunction | None, learning_rate: float) -> ScheduleFunction | None:
    """Prepare ``schedule`` for a run whose optimizer starts at ``learning_rate`` (``fit`` calls this)."""
    if schedule is None:
        return None
    if isinstance(schedule, Schedule):
        schedule.start(learning_rate)
        return schedule
    if not callable(schedule):
        raise TypeError(f"schedule must be a Schedule or a function (epoch, history) -> learning rate, "
                        f"got {schedule!r}")
    return schedule
