"""A network's inference pass as a short list of steps that other frameworks have operators for.

Each layer becomes steps in float64 (the exact values of the network's arrays, widened):

- :class:`Linear` ``x W + b`` (a Dense layer; its activation follows as an :class:`Act`);
- :class:`Scale` ``x * mul + add``, per feature: Standardize (mul = 1/sigma, add = -mu/sigma, Ng week 1
  "normalizing inputs"), BatchNorm at inference (mul = gamma / sqrt(running_var + eps),
  add = beta - running_mean * mul, Ioffe & Szegedy 2015 section 3.1, as :class:`mlpkit.layers.BatchNorm`
  computes it) and a regression network's target scaler (mul = scale, add = mean: y = z * s + mu);
- :class:`Act` an activation; Dropout is the identity at inference and gives no step.

:func:`fold` then merges every Scale into a neighbouring Linear where no non-linearity stands between them,
which is exact algebra (carried out in float64):

    (x * m + a) W + b = x (diag(m) W) + (a W + b)          a Scale before a Linear
    (x W + b) * m + a = x (W diag(m)) + (b * m + a)        a Scale after a Linear

and merges consecutive Scales; a Scale with no Linear neighbour stays (an exact Mul and Add).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from ..activations import ActivationFunction, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from ..layers import Activation, BatchNorm, Dense, Dropout, Standardize
from ..network import Network

#: the activations every exporter maps (mlpkit.activations.ACTIVATION_NAMES)
EXPORTABLE_ACTIVATIONS = (Sigmoid, Tanh, ReLU, LeakyReLU, Identity, Softmax)
#: the layers every exporter maps
EXPORTABLE_LAYERS = (Dense, Activation, BatchNorm, Standardize, Dropout)


@dataclass(frozen=True)
class Linear:
    """x W + b, W of shape (n_in, n_out)."""

    W: np.ndarray
    b: np.ndarray


@dataclass(frozen=True)
class Scale:
    """x * mul + add, per feature."""

    mul: np.ndarray
    add: np.ndarray


@dataclass(frozen=True)
class Act:
    """An activation function."""

    fn: ActivationFunction


Step = Linear | Scale | Act


def exportable_summary() -> str:
    """The layers and activations that can be exported, for error messages."""
    layers = ", ".join(cls.__name__ for cls in EXPORTABLE_LAYERS)
    activations = ", ".join(cls.name for cls in EXPORTABLE_ACTIVATIONS)
    return f"exportable layers are {layers} with the activations {activations}"


def check_exportable(network: Network, target: str) -> None:
    """Raise a one-line ValueError naming the first layer (index and type) or activation that ``target``
    cannot express."""
    for i, layer in enumerate(network.layers):
        if type(layer) not in EXPORTABLE_LAYERS:
            raise ValueError(f"cannot export to {target}: layers[{i}] is a {type(layer).__name__} "
                             f"(type {layer.type_name!r}), which has no {target} equivalent; {exportable_summary()}")
        act = layer.activation_fn
        if act is not None and type(act) not in EXPORTABLE_ACTIVATIONS:
            raise ValueError(f"cannot export to {target}: layers[{i}] ({type(layer).__name__}) has the activation "
                             f"{act.name!r} ({type(act).__name__}), which has no {target} equivalent; "
                             f"{exportable_summary()}")


def target_scaler(network: Network) -> tuple[np.ndarray, np.ndarray] | None:
    """(scale, mean) of a regression network's target scaler in float64, or None when it has none."""
    scaler = network.target_scaler
    if scaler is None:
        return None
    return np.asarray(scaler.scale, dtype=np.float64), np.asarray(scaler.mean, dtype=np.float64)


def batch_norm_scale(layer: BatchNorm) -> Scale:
    """BatchNorm at inference as x * mul + add (see the module docstring)."""
    gamma, beta = (layer.params[k].astype(np.float64) for k in ("gamma", "beta"))
    mean, var = (layer.state[k].astype(np.float64) for k in ("running_mean", "running_var"))
    mul = gamma / np.sqrt(var + layer.eps)
    return Scale(mul, beta - mean * mul)


def standardize_scale(layer: Standardize) -> Scale:
    """Standardize as x * (1/sigma) + (-mu/sigma)."""
    mean, std = (layer.state[k].astype(np.float64) for k in ("mean", "std"))
    return Scale(1.0 / std, -mean / std)


def inference_steps(network: Network, target: str) -> list[Step]:
    """The network's inference pass (with the target scaler last, when it has one) as unfolded steps."""
    check_exportable(network, target)
    steps: list[Step] = []
    for layer in network.layers:
        if isinstance(layer, Dense):
            W = layer.params["W"].astype(np.float64)
            b = layer.params["b"].astype(np.float64) if layer.use_bias else np.zeros(W.shape[1])
            steps.append(Linear(W, b))
        elif isinstance(layer, Standardize):
            steps.append(standardize_scale(layer))
        elif isinstance(layer, BatchNorm):
            steps.append(batch_norm_scale(layer))
        act = layer.activation_fn
        if act is not None and not isinstance(act, Identity):
            steps.append(Act(act))
    scaler = target_scaler(network)
    if scaler is not None:
        steps.append(Scale(*scaler))
    return steps


def fold(steps: list[Step]) -> list[Step]:
    """Merge every Scale into a neighbouring Linear (or the Scale before it), as the module docstring shows."""
    out: list[Step] = []
    pending = list(steps)
    while pending:
        step = pending.pop(0)
        if isinstance(step, Scale):
            following = pending[0] if pending else None
            previous = out[-1] if out else None
            if isinstance(previous, Scale):  # merged, then looked at again (a Linear may follow)
                out.pop()
                pending.insert(0, Scale(previous.mul * step.mul, previous.add * step.mul + step.add))
                continue
            if isinstance(following, Linear):
                pending[0] = Linear(step.mul[:, None] * following.W, step.add @ following.W + following.b)
                continue
            if isinstance(previous, Linear):
                out[-1] = Linear(previous.W * step.mul, previous.b * step.mul + step.add)
                continue
        out.append(step)
    return out


def model_metadata(network: Network) -> dict[str, str]:
    """What the exported files record about the model: task, outputs, and, where known, the feature and
    target names (JSON lists) and the decision threshold."""
    task = network.task
    meta = {"producer": "mlpkit", "task": task,
            "output": "predictions in target units" if task == "regression" else "probabilities"}
    for key in ("feature_names", "target_names"):
        names = getattr(network, key)
        if names is not None:
            meta[key] = json.dumps(list(names))
    if task in ("binary", "multilabel"):
        meta["threshold"] = repr(float(network.threshold))
    return meta
