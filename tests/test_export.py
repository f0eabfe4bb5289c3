"""Export to ONNX and PyTorch (mlpkit.export, ``mlpkit export``): the exported models compute what the network
computes, run by onnxruntime and by torch."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

import cli_runner
from mlpkit import Activation, BatchNorm, Dense, Dropout, Layer, Maxout, Network, Standardize, register_layer
from mlpkit.activations import ACTIVATION_NAMES
from mlpkit.export import export_onnx, export_torch
from mlpkit.export._steps import EXPORTABLE_ACTIVATIONS, Linear, Scale, fold, inference_steps

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)
X = RNG.normal(loc=2.0, scale=3.0, size=(120, 6))
CLASSES = (X[:, 0] + X[:, 1] > 4).astype(int) + (X[:, 2] > 2)


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _run(path, X_in, dtype=np.float32):
    return _session(path).run(None, {"input": np.asarray(X_in, dtype=dtype)})


def _trained(layers, y=CLASSES, **kwargs):
    net = Network(layers, input_dim=6, seed=0, **kwargs)
    net.fit(X, y, epochs=4, batch_size=16, learning_rate=0.05, verbose=0, seed=0)
    return net


def _check_onnx(net, path, X_in=X, tol=1e-5):
    """The ONNX model's outputs equal predict_proba (or predict, for regression) and its label predict."""
    outputs = _run(export_onnx(net, path), X_in, net.dtype)
    expected = net.predict(X_in) if net.task == "regression" else net.predict_proba(X_in)
    assert outputs[0].shape == expected.shape and outputs[0].dtype == net.dtype
    np.testing.assert_allclose(outputs[0], expected, rtol=tol, atol=tol)
    if net.task != "regression":
        np.testing.assert_array_equal(outputs[1], net.predict(X_in))
    return float(np.abs(outputs[0] - expected).max())


@pytest.fixture(scope="module")
def bn_net():
    """Standardize, BatchNorm after a bias-free Dense, Dropout and an Activation layer, trained a little so
    the running statistics and the input statistics are far from their initial 0 and 1."""
    return _trained([Standardize(), Dense(16, use_bias=False), BatchNorm(activation="relu"), Dropout(0.7),
                     Dense(8, "tanh"), BatchNorm(), Activation("leaky_relu"), Dense(3, "softmax")])


def test_softmax_classifier_round_trip_with_dynamic_batch(tmp_path):
    net = _trained([Dense(10, "relu"), Dense(3, "softmax")])
    path = tmp_path / "clf.onnx"
    _check_onnx(net, path)
    for rows in (1, 37):  # one model, any batch size
        _check_onnx(net, path, X[:rows])
    model = onnx.load(str(path))
    assert model.graph.input[0].name == "input"
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert [o.name for o in model.graph.output] == ["output", "label"]
    assert {p.key: p.value for p in model.metadata_props}["task"] == "classification"


def test_nielsen_sigmoid_network(tmp_path):
    net = Network([6, 12, 3], activation="sigmoid", output_activation="sigmoid", seed=1)  # network2's shape
    net.fit(X, CLASSES, epochs=3, batch_size=10, learning_rate=0.5, verbose=0, seed=0)
    assert net.task == "classification"
    _check_onnx(net, tmp_path / "nielsen.onnx")


def test_batch_norm_and_standardize_are_folded(bn_net, tmp_path):
    first, second = bn_net.layers[2].state, bn_net.layers[5].state
    assert first["steps"][0] > 0 and np.abs(first["running_var"] - 1).max() > 0.3
    assert np.abs(second["running_mean"]).max() > 0.5 and second["running_var"].min() < 0.1
    assert np.abs(bn_net.layers[0].state["mean"] - 2.0).max() < 1.0  # adapted on X
    path = tmp_path / "bn.onnx"
    _check_onnx(bn_net, path)
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    # Standardize -> the first Gemm, BN 1 -> the first Gemm (no activation between), Dropout gone; BN 2 sits
    # between tanh and leaky_relu (no Dense neighbour): an exact Mul and Add
    assert ops == ["Gemm", "Relu", "Gemm", "Tanh", "Mul", "Add", "LeakyRelu", "Gemm", "Softmax", "ArgMax"]


def test_float64_network_exports_in_float64(bn_net, tmp_path):
    net = bn_net.astype("float64")
    assert _check_onnx(net, tmp_path / "bn64.onnx", tol=1e-12) < 1e-12


def test_folding_is_exact_algebra():
    """A Scale before and after a Linear, and two Scales in a row, merge into one Linear (float64)."""
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    steps = [Scale(rng.uniform(0.5, 2, 4), rng.normal(size=4)), Scale(rng.uniform(0.5, 2, 4), rng.normal(size=4)),
             Linear(W, b), Scale(rng.uniform(0.5, 2, 3), rng.normal(size=3))]
    folded = fold(steps)
    assert len(folded) == 1 and isinstance(folded[0], Linear)
    x = rng.normal(size=(5, 4))
    expected = ((x * steps[0].mul + steps[0].add) * steps[1].mul + steps[1].add) @ W + b
    np.testing.assert_allclose(x @ folded[0].W + folded[0].b, expected * steps[3].mul + steps[3].add, rtol=1e-13)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_every_activation(name, tmp_path):
    """Every activation mlpkit has, as a Dense layer's and as an Activation layer's, on both signs of z."""
    spec = {"name": name, "alpha": 0.2} if name == "leaky_relu" else name
    net = Network([Dense(9, spec), Dense(5), Activation(spec), Dense(3, "softmax")], input_dim=6, seed=2)
    _check_onnx(net, tmp_path / f"{name}.onnx")


def test_every_activation_has_an_export():
    assert {cls.name for cls in EXPORTABLE_ACTIVATIONS} == set(ACTIVATION_NAMES)


def test_binary_and_multilabel_labels_use_the_threshold(tmp_path):
    binary = _trained([Dense(8, "relu"), Dense(1, "sigmoid")], y=(CLASSES > 0).astype(int), task="binary",
                      threshold=0.3)
    _check_onnx(binary, tmp_path / "binary.onnx")
    labels = np.stack([CLASSES > 0, X[:, 3] > 2, X[:, 4] < 1], axis=1).astype(int)
    multi = _trained([Dense(8, "relu"), Dense(3, "sigmoid")], y=labels, task="multilabel", threshold=0.6)
    path = tmp_path / "multi.onnx"
    _check_onnx(multi, path)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["task"] == "multilabel" and float(meta["threshold"]) == 0.6


def test_regression_target_scaler_is_the_last_affine_step(tmp_path):
    y = np.stack([3.0 * X[:, 0] - X[:, 1] + 40.0, 0.5 * X[:, 2] - 10.0], axis=1)
    net = _trained([Dense(12, "tanh"), Dense(2)], y=y, task="regression")
    assert net.target_scaler is not None and net.target_scaler.scale.min() > 1.0
    net.feature_names = [f"f{i}" for i in range(6)]
    path = tmp_path / "reg.onnx"
    _check_onnx(net, path, tol=1e-5)
    steps = fold(inference_steps(net, "ONNX"))
    assert [type(s).__name__ for s in steps] == ["Linear", "Act", "Linear"]  # the scaler folded into the last Gemm
    model = onnx.load(str(path))
    assert [o.name for o in model.graph.output] == ["output"]
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["task"] == "regression" and json.loads(meta["feature_names"]) == net.feature_names


def test_opset_is_checked(tmp_path):
    net = Network([6, 4, 3], seed=0)
    assert onnx.load(str(export_onnx(net, tmp_path / "a.onnx", opset=13))).opset_import[0].version == 13
    with pytest.raises(ValueError, match="opset must be an int from 13"):
        export_onnx(net, tmp_path / "b.onnx", opset=7)


@register_layer
class Shift(Layer):
    """A user's layer: x + t, with t learned."""

    type_name = "test_export_shift"

    def build(self, n_in, rng, dtype):
        self.params = {"t": np.zeros(n_in, dtype=dtype)}
        self.grads = {"t": np.zeros(n_in, dtype=dtype)}
        self.n_in = self.n_out = n_in
        return n_in

    def get_config(self):
        return {"type": self.type_name}

    def forward(self, x, training=False):
        return x + self.params["t"]

    def backward(self, grad, *, preactivation=False, need_input_grad=True):
        self.grads["t"][...] = grad.sum(axis=0)
        return grad


@pytest.mark.parametrize(("layer", "kind"), [(Maxout(5), "Maxout (type 'maxout')"),
                                             (Shift(), "Shift (type 'test_export_shift')")])
def test_a_layer_without_an_equivalent_is_a_one_line_error(layer, kind, tmp_path):
    net = Network([Dense(5, "relu"), layer, Dense(3, "softmax")], input_dim=6, seed=0)
    for export, target in ((export_onnx, "ONNX"), (export_torch, "PyTorch")):
        with pytest.raises(ValueError, match=r"cannot export to .*layers\[1\] is a ") as info:
            export(net, tmp_path / "x.out")
        message = str(info.value)
        assert "\n" not in message and kind in message and target in message
        assert "exportable layers are Dense, Activation, BatchNorm, Standardize, Dropout" in message
    assert not list(tmp_path.iterdir())


def test_missing_onnx_package_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'mlpkit\[onnx\]'"):
        export_onnx(Network([6, 3], seed=0), tmp_path / "m.onnx")


def test_import_mlpkit_imports_no_exporter():
    code = "import sys, mlpkit; print(sorted(m for m in ('onnx', 'torch', 'mlpkit.export') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------------------------- torch
def _torch_model(state_path, source_path):
    torch = pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location(f"exported_{source_path.stem}", source_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    model.load_state_dict(torch.load(state_path))  # weights_only: a dict of tensors
    return model.eval(), module, torch


@pytest.mark.parametrize(("dtype", "tol"), [("float32", 1e-5), ("float64", 1e-10)])
def test_torch_round_trip(bn_net, dtype, tol, tmp_path):
    pytest.importorskip("torch")
    net = bn_net.astype(dtype)
    state_path, source_path = export_torch(net, tmp_path / "net.pt")
    assert source_path == tmp_path / "net.py"
    model, module, torch = _torch_model(state_path, source_path)
    assert module.METADATA["task"] == "classification"
    for rows in (1, 37):
        with torch.no_grad():
            out = model(torch.from_numpy(X[:rows].astype(dtype))).numpy()
        assert out.dtype == net.dtype
        np.testing.assert_allclose(out, net.predict_proba(X[:rows]), rtol=tol, atol=tol)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Standardize", "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear", "Tanh", "BatchNorm1d",
                     "LeakyReLU", "Linear", "Softmax"]


def test_torch_regression_with_target_scaler(tmp_path):
    pytest.importorskip("torch")
    y = 5.0 * X[:, :1] + 20.0
    net = _trained([Dense(6, "relu"), Dense(1)], y=y, task="regression", dtype="float64")
    model, _, torch = _torch_model(*export_torch(net, tmp_path / "reg.pt"))
    with torch.no_grad():
        out = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(out, net.predict(X), rtol=1e-10, atol=1e-10)
    assert type(model[-1]).__name__ == "TargetScaler"


def test_torch_export_refuses_a_py_state_file(tmp_path):
    with pytest.raises(ValueError, match=r"suffix other than \.py"):
        export_torch(Network([6, 3], seed=0), tmp_path / "model.py")


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_export_onnx_and_torch(bn_net, tmp_path):
    model = bn_net.save(tmp_path / "model.mlpk")
    out = cli_runner.run("export", model, "--format", "onnx").output
    assert f"wrote {tmp_path / 'model.onnx'}" in " ".join(out.split())
    np.testing.assert_allclose(_run(tmp_path / "model.onnx", X)[0], bn_net.predict_proba(X), atol=1e-5)
    if importlib.util.find_spec("torch") is not None:
        result = cli_runner.run("export", model, "--format", "torch", "-o", tmp_path / "t" / "net.pt")
        out = " ".join(result.output.split())
        assert "net.pt" in out and "net.py" in out and (tmp_path / "t" / "net.py").is_file()


def test_cli_export_errors_are_one_line(tmp_path):
    net = Network([Maxout(4), Dense(3, "softmax")], input_dim=6, seed=0)
    model = net.save(tmp_path / "maxout.mlpk")
    assert "layers[0] is a Maxout" in cli_runner.error("export", model, "--format", "onnx")
    assert "no model file" in cli_runner.error("export", tmp_path / "none.mlpk", "--format", "onnx")
    assert "--opset applies to --format onnx" in cli_runner.error("export", model, "--format", "torch", "--opset", "13")
