"""Export a network to ONNX (https://onnx.ai), for onnxruntime and every runtime that reads ONNX.

The graph computes what :meth:`mlpkit.Network.predict_proba` gives for a classifier (output ``"output"``,
plus ``"label"``, what :meth:`~mlpkit.Network.predict` gives), or :meth:`~mlpkit.Network.predict` for a
regression network (``"output"``, in the original target units: the target scaler is the last affine step).
Its input is ``"input"``, (batch, n_features) with a dynamic batch dimension, in the network's dtype.

Operators, layer by layer (see :mod:`mlpkit.export._steps` for the folding algebra):

- Dense: ``Gemm`` (x W + b), with Standardize, inference-mode BatchNorm and the target scaler folded into
  its weights where they neighbour it; where they do not, an exact ``Mul`` and ``Add``;
- activations: sigmoid ``Sigmoid``, tanh ``Tanh``, relu ``Relu``, leaky_relu ``LeakyRelu(alpha)`` (in a
  float64 network ``Max(z, alpha z)``: the attribute alpha is a float32), softmax ``Softmax(axis=1)``, identity none;
- Dropout: none (the identity at inference).

The task, feature names, target names and threshold go to the model's ``metadata_props``. ``onnx`` is an
optional dependency: ``pip install 'mlpkit[onnx]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes
from ..activations import ActivationFunction, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from ..network import Network
from ._steps import Act, Linear, Scale, fold, inference_steps, model_metadata

#: the opset written when none is asked for (onnxruntime 1.13 and later run it)
DEFAULT_OPSET = 17
#: the first opset whose Softmax normalizes along one axis only (the semantics used here)
MIN_OPSET = 13

_INSTALL = "pip install 'mlpkit[onnx]'"


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError(f"exporting to ONNX needs the onnx package: {_INSTALL}") from None
    return onnx


def _check_opset(opset: int | None, latest: int) -> int:
    if opset is None:
        return min(DEFAULT_OPSET, latest)
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or not MIN_OPSET <= opset <= latest:
        raise ValueError(f"opset must be an int from {MIN_OPSET} to {latest} (this onnx package's newest), "
                         f"got {opset!r}")
    return int(opset)


class _Graph:
    """Nodes and initializers being collected, with fresh names."""

    def __init__(self, onnx: Any, dtype: np.dtype) -> None:
        self.onnx, self.dtype = onnx, dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def constant(self, name: str, value: np.ndarray) -> str:
        array = np.ascontiguousarray(value, dtype=self.dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=output, **attributes))
        return output


def _activation(graph: _Graph, fn: ActivationFunction, x: str, out: str) -> str:
    if isinstance(fn, Sigmoid):
        return graph.node("Sigmoid", [x], out)
    if isinstance(fn, Tanh):
        return graph.node("Tanh", [x], out)
    if isinstance(fn, ReLU):
        return graph.node("Relu", [x], out)
    if isinstance(fn, LeakyReLU):
        if graph.dtype == np.float32:
            return graph.node("LeakyRelu", [x], out, alpha=fn.alpha)
        # LeakyRelu's alpha attribute is a float32: in double precision, max(z, alpha z) as mlpkit computes it
        scaled = graph.node("Mul", [x, graph.constant(f"{out}_alpha", np.array(fn.alpha))], f"{out}_scaled")
        return graph.node("Max", [x, scaled], out)
    if isinstance(fn, Softmax):
        return graph.node("Softmax", [x], out, axis=1)
    raise ValueError(f"no ONNX operator for the activation {fn.name!r}")  # check_exportable refuses it first


def _label(graph: _Graph, task: str, output: str, threshold: float) -> str | None:
    """The ``label`` output, Network.predict of a classifier (``mlpkit.tasks.decode_outputs``): the argmax
    (classification), output >= threshold as int64, (n,) for binary and (n, k) for multilabel; None for
    regression."""
    onnx = graph.onnx
    int64 = onnx.TensorProto.INT64
    if task == "classification":
        return graph.node("ArgMax", [output], "label", axis=1, keepdims=0)
    if task not in ("binary", "multilabel"):
        return None
    cut = graph.constant("threshold", np.array(threshold))
    above = graph.node("GreaterOrEqual", [output, cut], "above_threshold")
    if task == "multilabel":
        return graph.node("Cast", [above], "label", to=int64)
    flags = graph.node("Cast", [above], "label_column", to=int64)
    axes = graph.onnx.numpy_helper.from_array(np.array([1], dtype=np.int64), "squeeze_axes")
    graph.initializers.append(axes)
    return graph.node("Squeeze", [flags, "squeeze_axes"], "label")


def build_onnx_model(network: Network, *, opset: int | None = None) -> Any:
    """The ONNX ModelProto of ``network`` (see the module docstring), checked by ``onnx.checker``."""
    onnx = _onnx()
    helper = onnx.helper
    opset = _check_opset(opset, onnx.defs.onnx_opset_version())
    steps = fold(inference_steps(network, "ONNX"))
    graph = _Graph(onnx, network.dtype)
    current = "input"
    for k, step in enumerate(steps):
        out = "output" if k == len(steps) - 1 else f"h{k}"
        if isinstance(step, Linear):
            current = graph.node("Gemm", [current, graph.constant(f"W{k}", step.W), graph.constant(f"b{k}", step.b)],
                                 out)
        elif isinstance(step, Scale):
            scaled = graph.node("Mul", [current, graph.constant(f"mul{k}", step.mul)], f"h{k}_scaled")
            current = graph.node("Add", [scaled, graph.constant(f"add{k}", step.add)], out)
        elif isinstance(step, Act):
            current = _activation(graph, step.fn, current, out)
    if current != "output":  # no step at all (an identity network)
        current = graph.node("Identity", [current], "output")

    element = helper.np_dtype_to_tensor_dtype(network.dtype)
    outputs = [helper.make_tensor_value_info("output", element, ["batch", network.output_dim])]
    task = network.task
    label = _label(graph, task, "output", network.threshold)
    if label is not None:
        shape = ["batch", network.output_dim] if task == "multilabel" else ["batch"]
        outputs.append(helper.make_tensor_value_info(label, onnx.TensorProto.INT64, shape))
    inputs = [helper.make_tensor_value_info("input", element, ["batch", network.input_dim])]
    proto = helper.make_graph(graph.nodes, "mlpkit_network", inputs, outputs, initializer=graph.initializers)
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(proto, opset_imports=opsets, producer_name="mlpkit")
    model.ir_version = helper.find_min_ir_version_for(opsets)
    helper.set_model_props(model, model_metadata(network))
    onnx.checker.check_model(model)
    return model


def export_onnx(network: Network, path: str | Path, *, opset: int | None = None) -> Path:
    """Write ``network`` as an ONNX model to ``path`` (atomically) and return the path.

    Args:
        network: the network; every layer must be exportable (Dense, Activation, BatchNorm, Standardize,
            Dropout, with mlpkit's activations), else a one-line ValueError names the first that is not.
        path: the file to write (conventionally ``.onnx``).
        opset: the ONNX opset (13 to the onnx package's newest); default 17.
    """
    if not isinstance(network, Network):
        raise TypeError(f"export_onnx takes a Network, got {type(network).__name__}")
    model = build_onnx_model(network, opset=opset)
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write the ONNX model to {path}: it is a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, model.SerializeToString())
