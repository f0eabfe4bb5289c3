"""Export a network to PyTorch: a ``state_dict`` file and the ``nn.Sequential`` it fits.

Two files: ``path`` holds the state dict (``torch.save`` of a dict of tensors, nothing else, so
``torch.load`` reads it with ``weights_only=True``), and ``path`` with the suffix ``.py`` holds a small
Python module whose ``build_model()`` returns the matching ``nn.Sequential``::

    model = build_model()
    model.load_state_dict(torch.load("model.pt"))
    model.eval()

Layer by layer: Dense -> ``nn.Linear`` (weight = W^T, as PyTorch stores (out, in)) then the activation
module; BatchNorm -> ``nn.BatchNorm1d`` (weight gamma, bias beta, the running statistics, eps, and
momentum 1 - mlpkit's: PyTorch weights the new batch, mlpkit the past) then the activation; Activation ->
the activation module (``nn.Sigmoid``, ``nn.Tanh``, ``nn.ReLU``, ``nn.LeakyReLU(alpha)``,
``nn.Softmax(dim=1)``; identity gives none); Dropout -> ``nn.Dropout(1 - keep_prob)``; Standardize and a
regression network's target scaler -> the small ``Standardize`` ((x - mean) / std) and ``TargetScaler``
(z * scale + mean) modules written into the file, with their statistics as buffers. In ``eval()`` mode the
model computes :meth:`mlpkit.Network.predict_proba` (classifiers) or :meth:`~mlpkit.Network.predict`
(regression). The tensors keep the network's dtype and ``build_model()`` builds the modules in it.
``torch`` is an optional dependency (``pip install torch``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_many
from ..activations import ActivationFunction, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from ..layers import BatchNorm, Dense, Dropout, Standardize
from ..network import Network
from ._steps import check_exportable, model_metadata, target_scaler

_MODULE_SOURCE = {
    "Standardize": '''

class Standardize(nn.Module):
    """mlpkit's Standardize: (x - mean) / std per feature, with the training set's statistics."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n, dtype=DTYPE))
        self.register_buffer("std", torch.ones(n, dtype=DTYPE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std
''',
    "TargetScaler": '''

class TargetScaler(nn.Module):
    """mlpkit's target scaler: outputs z * scale + mean, in the original target units."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.register_buffer("scale", torch.ones(n, dtype=DTYPE))
        self.register_buffer("mean", torch.zeros(n, dtype=DTYPE))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.scale + self.mean
''',
}


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("exporting to PyTorch needs torch: pip install torch (see https://pytorch.org)") from None
    return torch


def _short(value: float) -> str:
    """1 - 0.99 written 0.01 (the complement of a setting, as a reader expects it; 12 digits kept)."""
    return repr(float(f"{value:.12g}"))


def _activation_module(fn: ActivationFunction | None) -> str | None:
    if fn is None or isinstance(fn, Identity):
        return None
    if isinstance(fn, LeakyReLU):
        return f"nn.LeakyReLU(negative_slope={fn.alpha!r})"
    modules = {Sigmoid: "nn.Sigmoid()", Tanh: "nn.Tanh()", ReLU: "nn.ReLU()", Softmax: "nn.Softmax(dim=1)"}
    return modules[type(fn)]


def sequential_spec(network: Network) -> tuple[list[str], dict[str, np.ndarray]]:
    """(the constructor expression of every module of the nn.Sequential, the state dict as NumPy arrays)."""
    check_exportable(network, "PyTorch")
    modules: list[str] = []
    state: dict[str, np.ndarray] = {}

    def add(expression: str, arrays: dict[str, np.ndarray] | None = None) -> None:
        for name, value in (arrays or {}).items():
            state[f"{len(modules)}.{name}"] = value
        modules.append(expression)

    for layer in network.layers:
        if isinstance(layer, Dense):
            arrays = {"weight": layer.params["W"].T}
            if layer.use_bias:
                arrays["bias"] = layer.params["b"]
            add(f"nn.Linear({layer.n_in}, {layer.n_out}, bias={layer.use_bias}, dtype=DTYPE)", arrays)
        elif isinstance(layer, BatchNorm):
            momentum = _short(1.0 - layer.momentum)
            add(f"nn.BatchNorm1d({layer.n_in}, eps={layer.eps!r}, momentum={momentum}, dtype=DTYPE)",
                {"weight": layer.params["gamma"], "bias": layer.params["beta"],
                 "running_mean": layer.state["running_mean"], "running_var": layer.state["running_var"],
                 "num_batches_tracked": np.array(int(layer.state["steps"][0]), dtype=np.int64)})
        elif isinstance(layer, Standardize):
            add(f"Standardize({layer.n_in})", {"mean": layer.state["mean"], "std": layer.state["std"]})
        elif isinstance(layer, Dropout):
            add(f"nn.Dropout(p={_short(1.0 - layer.keep_prob)})")
        act = _activation_module(layer.activation_fn)
        if act is not None:
            add(act)
    scaler = target_scaler(network)
    if scaler is not None:
        scale, mean = scaler
        add(f"TargetScaler({network.output_dim})",
            {"scale": scale.astype(network.dtype), "mean": mean.astype(network.dtype)})
    return modules, state


def model_source(network: Network, modules: list[str], state_name: str) -> str:
    """The Python module defining ``build_model()`` (see the module docstring)."""
    meta = model_metadata(network)
    output = "the predictions in target units" if meta["task"] == "regression" else "the class probabilities"
    helpers = "".join(source for name, source in _MODULE_SOURCE.items()
                      if any(m.startswith(f"{name}(") for m in modules))
    body = "".join(f"        {m},\n" for m in modules)
    return f'''"""PyTorch model exported by mlpkit: build_model() returns the nn.Sequential that {state_name} fits.

    import torch
    model = build_model()
    model.load_state_dict(torch.load({state_name!r}))
    model.eval()  # BatchNorm uses its running statistics, Dropout is off

Input: (batch, {network.input_dim}) {network.dtype.name} features. In eval mode the output is {output}
(task: {meta["task"]}), as mlpkit computes them.
"""

import torch
from torch import nn

DTYPE = torch.{network.dtype.name}
#: what mlpkit knows about the model (task, feature and target names, threshold)
METADATA = {json.dumps(meta, indent=4)}
{helpers}

def build_model() -> nn.Sequential:
    return nn.Sequential(
{body}    )
'''


def export_torch(network: Network, path: str | Path) -> tuple[Path, Path]:
    """Write ``network``'s PyTorch state dict to ``path`` and the module defining its ``nn.Sequential`` to
    ``path`` with the suffix ``.py``, both atomically; return (state dict file, source file).

    Every layer must be exportable (Dense, Activation, BatchNorm, Standardize, Dropout, with mlpkit's
    activations), else a one-line ValueError names the first that is not.
    """
    if not isinstance(network, Network):
        raise TypeError(f"export_torch takes a Network, got {type(network).__name__}")
    path = Path(path)
    if path.suffix == ".py":
        raise ValueError(f"{path}: the state dict file needs a suffix other than .py (e.g. .pt); the .py file "
                         "beside it holds build_model()")
    source_path = path.with_suffix(".py")
    for target in (path, source_path):
        if target.is_dir():
            raise IsADirectoryError(f"cannot write the PyTorch export to {target}: it is a directory")
    modules, arrays = sequential_spec(network)
    torch = _torch()
    state = {name: torch.from_numpy(np.array(value)) for name, value in arrays.items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    # both written before either is renamed: a full disk never leaves a new state dict beside an old .py
    atomic_write_many({path: buffer.getvalue(), source_path: model_source(network, modules, path.name).encode("utf-8")})
    return path, source_path
