"""mlpkit: fast, NumPy-first fully-connected neural networks.

Everything of Nielsen's *Neural Networks and Deep Learning* ch.3 (network2.py) and Ng's *Improving Deep
Neural Networks*, vectorized over the mini-batch, numerically stable, gradient-checked and safe to save.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public API, imported on first use (PEP 562): ``import mlpkit`` costs a few milliseconds, so the ``mlpkit``
# command installs its Ctrl-C and SIGTERM handlers before NumPy loads, and a stop during start-up is one quiet line.
_EXPORTS: dict[str, tuple[str, str]] = {
    "softmax": ("activations", "softmax"),
    "FocalLoss": ("autodiff.custom", "FocalLoss"), "ForwardLayer": ("autodiff.custom", "ForwardLayer"),
    "ForwardLoss": ("autodiff.custom", "ForwardLoss"), "Huber": ("autodiff.custom", "Huber"),
    "Maxout": ("autodiff.custom", "Maxout"),
    "ExponentialMovingAverage": ("averages", "ExponentialMovingAverage"), "ewa": ("averages", "ewa"),
    "Callback": ("callbacks", "Callback"), "EarlyStopping": ("callbacks", "EarlyStopping"),
    "ProgressLogger": ("callbacks", "ProgressLogger"),
    "GradCheckResult": ("gradcheck", "GradCheckResult"), "gradcheck": ("gradcheck", "gradcheck"),
    "History": ("history", "History"),
    "Activation": ("layers", "Activation"), "BatchNorm": ("layers", "BatchNorm"), "Dense": ("layers", "Dense"),
    "Dropout": ("layers", "Dropout"), "Layer": ("layers", "Layer"), "Standardize": ("layers", "Standardize"),
    "register_layer": ("layers", "register_layer"),
    "BinaryCrossEntropy": ("losses", "BinaryCrossEntropy"),
    "CategoricalCrossEntropy": ("losses", "CategoricalCrossEntropy"), "Loss": ("losses", "Loss"),
    "Quadratic": ("losses", "Quadratic"), "register_loss": ("losses", "register_loss"),
    "Network": ("network", "Network"),
    "SGD": ("optimizers", "SGD"), "Adam": ("optimizers", "Adam"), "AdamW": ("optimizers", "AdamW"),
    "Momentum": ("optimizers", "Momentum"), "Nesterov": ("optimizers", "Nesterov"),
    "Optimizer": ("optimizers", "Optimizer"), "RMSprop": ("optimizers", "RMSprop"),
    "get_optimizer": ("optimizers", "get_optimizer"),
    "L1": ("regularizers", "L1"), "L2": ("regularizers", "L2"),
    "Constant": ("schedules", "Constant"), "ExponentialDecay": ("schedules", "ExponentialDecay"),
    "HalveOnPlateau": ("schedules", "HalveOnPlateau"), "InverseTimeDecay": ("schedules", "InverseTimeDecay"),
    "Schedule": ("schedules", "Schedule"), "StepDecay": ("schedules", "StepDecay"),
    "get_schedule": ("schedules", "get_schedule"),
    "ModelFileError": ("serialization", "ModelFileError"), "load_network": ("serialization", "load_network"),
    "load": ("serialization", "load_network"),
    "CSVLogger": ("tracking", "CSVLogger"), "ModelCheckpoint": ("tracking", "ModelCheckpoint"),
    "ReduceLROnPlateau": ("tracking", "ReduceLROnPlateau"), "TensorBoardLogger": ("tracking", "TensorBoardLogger"),
    "fit": ("training", "fit"),
}


def __getattr__(name: str) -> Any:
    """Import a public name (or a submodule, ``mlpkit.datasets``...) the first time it is asked for."""
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    else:
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package, where importing a submodule named like a public function (``mlpkit.gradcheck``) leaves the
    function in place: the import system would otherwise bind the submodule over it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name, ("", ""))[0] == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:  # what the names above are, for type checkers and editors
    from . import autodiff
    from .activations import softmax
    from .autodiff.custom import FocalLoss, ForwardLayer, ForwardLoss, Huber, Maxout
    from .averages import ExponentialMovingAverage, ewa
    from .callbacks import Callback, EarlyStopping, ProgressLogger
    from .gradcheck import GradCheckResult, gradcheck
    from .history import History
    from .layers import Activation, BatchNorm, Dense, Dropout, Layer, Standardize, register_layer
    from .losses import BinaryCrossEntropy, CategoricalCrossEntropy, Loss, Quadratic, register_loss
    from .network import Network
    from .optimizers import SGD, Adam, AdamW, Momentum, Nesterov, Optimizer, RMSprop, get_optimizer
    from .regularizers import L1, L2
    from .schedules import (
        Constant,
        ExponentialDecay,
        HalveOnPlateau,
        InverseTimeDecay,
        Schedule,
        StepDecay,
        get_schedule,
    )
    from .serialization import ModelFileError, load_network
    from .tracking import CSVLogger, ModelCheckpoint, ReduceLROnPlateau, TensorBoardLogger
    from .training import fit

    load = load_network

__all__ = [
    "L1",
    "L2",
    "SGD",
    "Activation",
    "Adam",
    "AdamW",
    "BatchNorm",
    "BinaryCrossEntropy",
    "CSVLogger",
    "Callback",
    "CategoricalCrossEntropy",
    "Constant",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "ExponentialDecay",
    "ExponentialMovingAverage",
    "FocalLoss",
    "ForwardLayer",
    "ForwardLoss",
    "GradCheckResult",
    "HalveOnPlateau",
    "History",
    "Huber",
    "InverseTimeDecay",
    "Layer",
    "Loss",
    "Maxout",
    "ModelCheckpoint",
    "ModelFileError",
    "Momentum",
    "Nesterov",
    "Network",
    "Optimizer",
    "ProgressLogger",
    "Quadratic",
    "RMSprop",
    "ReduceLROnPlateau",
    "Schedule",
    "Standardize",
    "StepDecay",
    "TensorBoardLogger",
    "__version__",
    "autodiff",
    "ewa",
    "fit",
    "get_optimizer",
    "get_schedule",
    "gradcheck",
    "load",
    "load_network",
    "register_layer",
    "register_loss",
    "softmax",
]
