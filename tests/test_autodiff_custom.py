"""Layers and costs written as a forward pass alone (mlpkit.autodiff.custom): they train in Network.fit, save and
load through the registries only, pass the gradient check (in Python and on the command line), and every misuse
is a one-line error naming the class."""

from __future__ import annotations

import builtins
import json
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import mlpkit
import mlpkit.autodiff as ad
from mlpkit import (
    L2,
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    FocalLoss,
    ForwardLayer,
    ForwardLoss,
    Huber,
    Maxout,
    ModelFileError,
    Network,
    Standardize,
    gradcheck,
    register_layer,
    register_loss,
)
from mlpkit.activations import Sigmoid, Softmax
from mlpkit.cli._app import cli
from mlpkit.datasets import load_digits
from mlpkit.fast import DenseStackPlan, choose_steps
from mlpkit.losses import BinaryCrossEntropy, CategoricalCrossEntropy, Quadratic
from mlpkit.optimizers import SGD
from mlpkit.serialization import ARRAYS_ENTRY, CONFIG_ENTRY


@register_layer
class Square(ForwardLayer):
    """A parameter-free custom layer: a = x^2 / 2."""

    type_name = "test_square"

    def forward_graph(self, x, training):
        return 0.5 * x * x


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _regression(seed=0, m=200):
    """y = x w + noise, with a tenth of the targets thrown far off (outliers)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 4))
    y = X @ np.array([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * rng.normal(size=(m, 1))
    y[rng.choice(m, m // 10, replace=False)] += 30.0
    return X, y


# -------------------------------------------------------------------------------------------- training
def test_maxout_network_learns_digits(digits):
    net = Network([Standardize(), Maxout(32, pieces=3, init="he"), Dense(10, "softmax")], input_dim=64, seed=0)
    history = net.fit(digits.train.X, digits.train.y, epochs=8, batch_size=32, learning_rate=0.05, verbose=0, seed=0)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert net.evaluate(digits.test.X, digits.test.y)["accuracy"] > 0.9


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_focal_loss_learns_digits(digits, output):
    loss = FocalLoss(gamma=2.0, alpha=0.25 if output == "sigmoid" else None)
    net = Network([Dense(32, "relu", init="he"), Dense(10, output)], input_dim=64, loss=loss, seed=0)
    history = net.fit(digits.train.X, digits.train.y, epochs=8, batch_size=32, learning_rate=0.5, verbose=0, seed=0)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert net.evaluate(digits.test.X, digits.test.y)["accuracy"] > 0.8


def test_huber_regression_shrugs_off_outliers():
    X, y = _regression()
    fits = {}
    for loss in (Huber(1.0), Quadratic()):
        net = Network([Dense(1)], input_dim=4, loss=loss, dtype="float64", seed=0)
        history = net.fit(X, y, epochs=60, batch_size=20, learning_rate=0.05, verbose=0, seed=0)
        assert history["loss"][-1] < history["loss"][0]
        fits[loss.name] = net.layers[0].params["W"].ravel()
    truth = np.array([1.0, -2.0, 0.5, 3.0])
    assert np.abs(fits["autodiff_huber"] - truth).max() < 0.2
    assert np.abs(fits["autodiff_huber"] - truth).max() < np.abs(fits["quadratic"] - truth).max()


def test_forward_layers_train_through_the_reference_step_and_parameter_free_ones_in_the_plan():
    assert not choose_steps(Network([Maxout(4), Dense(3, "softmax")], input_dim=5), SGD(0.1), 8, 1).planned
    planned = Network([Dense(4, "tanh"), Square(), Dense(3, "softmax")], input_dim=5, dtype="float64", seed=0)
    assert DenseStackPlan.applies_to(planned)
    reference = planned.copy()
    plan, optimizer = DenseStackPlan(planned, SGD(0.1), fused=False), SGD(0.1)
    rng = np.random.default_rng(0)
    for _ in range(3):
        X, Y = rng.normal(size=(8, 5)), np.eye(3)[rng.integers(0, 3, 8)]
        plan.step(X, Y, 40)
        reference.train_batch(X, Y, optimizer, 40)
    np.testing.assert_array_equal(planned.flat_parameters, reference.flat_parameters)


# -------------------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("build", [
    lambda: Network([Maxout(6, 3), Dense(3, "softmax")], input_dim=5, regularizer=L2(0.5)),
    lambda: Network([Maxout(6, 2), BatchNorm(activation="tanh"), Dropout(0.7), Maxout(4, 4), Dense(3),
                     Activation("softmax")], input_dim=5, loss=FocalLoss(gamma=1.5)),
    lambda: Network([Dense(6, "tanh"), Square(), Dense(3, "sigmoid")], input_dim=5, loss=FocalLoss(alpha=0.3)),
    lambda: Network([Dense(6, "tanh"), Dense(3)], input_dim=5, loss=Huber(0.5)),
])
def test_gradcheck_passes(build):
    net = build()
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 5))
    y = rng.normal(size=(7, 3)) * 2 if net.loss.name == "autodiff_huber" else rng.integers(0, 3, 7)
    result = gradcheck(net, X, y, n_train=30)
    assert result.passed, str(result)


def test_maxout_weights_are_decayed_and_biases_not():
    net = Network([Maxout(4, 3), Dense(2, "softmax")], input_dim=3, regularizer=L2(1.0))
    assert net.layers[0].decayed == ("W",)
    assert net.layout.n_decayed == 3 * 12 + 4 * 2


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_focal_loss_without_focus_is_the_cross_entropy(output):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 4)) * 3
    y = np.eye(4)[rng.integers(0, 4, 6)]
    activation = Softmax() if output == "softmax" else Sigmoid()
    a = activation.forward(z.copy(), np.empty_like(z))
    focal = FocalLoss(gamma=0.0).bind(activation)
    cross = (CategoricalCrossEntropy() if output == "softmax" else BinaryCrossEntropy()).bind(activation)
    assert focal.value(z, a, y) == pytest.approx(cross.value(z, a, y), rel=1e-12)
    np.testing.assert_allclose(focal.delta(z, a, y, np.empty_like(z)), cross.delta(z, a, y, np.empty_like(z)),
                               rtol=1e-10, atol=1e-13)


def test_huber_is_the_quadratic_cost_inside_its_threshold():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    huber, quadratic = (loss.bind(mlpkit.activations.Identity()) for loss in (Huber(100.0), Quadratic()))
    assert huber.value(z, z, y) == pytest.approx(quadratic.value(z, z, y), rel=1e-12)
    np.testing.assert_allclose(huber.delta(z, z, y, np.empty_like(z)), quadratic.delta(z, z, y, np.empty_like(z)),
                               rtol=1e-12)


def test_maxout_with_one_piece_is_an_affine_layer():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 3))
    net = Network([Maxout(2, pieces=1), Dense(2)], input_dim=3, loss="quadratic", dtype="float64", seed=0)
    W, b = net.layers[0].params["W"], net.layers[0].params["b"]
    np.testing.assert_allclose(net.layers[0].forward(X), X @ W + b, rtol=1e-14)


def test_the_input_gradient_is_recorded_again_when_a_layer_needs_it():
    rng = np.random.default_rng(0)
    layer = Maxout(3, 2)
    layer.build(4, rng, np.dtype(np.float64))
    x, g = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    layer.forward(x, training=True)
    assert layer.backward(g.copy(), need_input_grad=False) is None
    layer.forward(x, training=True)  # recorded without the input's gradient now
    dx = layer.backward(g.copy(), need_input_grad=True)
    x_t = ad.Tensor(x, requires_grad=True)
    W, b = ad.Tensor(layer.params["W"]), ad.Tensor(layer.params["b"])
    ad.max((x_t @ W + b).reshape(5, 3, 2), axis=2).backward(g)
    np.testing.assert_allclose(dx, x_t.grad, rtol=1e-12)


# -------------------------------------------------------------------------------------------- files
def _models():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 5)), rng.integers(0, 3, 60)
    classifier = Network([Standardize(), Maxout(6, 3), Dropout(0.8), Dense(3, "softmax")], input_dim=5,
                         loss=FocalLoss(gamma=1.0), regularizer=L2(0.1), seed=0)
    classifier.fit(X, y, epochs=2, batch_size=10, verbose=0, seed=0)
    Xr, yr = _regression(m=60)
    regressor = Network([Dense(5, "tanh"), Square(), Dense(1)], input_dim=4, loss=Huber(2.0), seed=0)
    regressor.fit(Xr, yr, epochs=2, batch_size=10, learning_rate=0.01, verbose=0, seed=0)
    return [(classifier, X), (regressor, Xr)]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("custom")
    return [(net, X, net.save(folder / f"model{i}.mlpk")) for i, (net, X) in enumerate(_models())]


def test_round_trip_gives_identical_predictions(saved):
    for net, X, path in saved:
        loaded = mlpkit.load(path)
        np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
        assert loaded.get_config() == net.get_config()
        assert type(loaded.loss) is type(net.loss)
        assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in net.layers]
    with zipfile.ZipFile(saved[0][2]) as archive:
        config = json.loads(archive.read(CONFIG_ENTRY))["network"]
    assert config["layers"][1] == {"type": "maxout", "units": 6, "pieces": 3, "init": "default"}
    assert config["loss"] == {"name": "focal", "gamma": 1.0, "alpha": None}


@pytest.mark.parametrize("index", [0, 1])
def test_cli_gradcheck_checks_a_saved_model(saved, index):
    result = CliRunner().invoke(cli, ["gradcheck", "--model", str(saved[index][2]), "--examples", "4"])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.stdout and f"layers.{1 - index}.W" in result.stdout


def test_cli_gradcheck_model_refuses_network_options(saved):
    result = CliRunner().invoke(cli, ["gradcheck", "--model", str(saved[0][2]), "--l2", "1"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("mlpkit: error: --model checks the saved network as it is; leave out --l2 "
                                     "(they describe a new network)")


def _tamper(path, target, change):
    with zipfile.ZipFile(path) as archive:
        config, arrays = json.loads(archive.read(CONFIG_ENTRY)), archive.read(ARRAYS_ENTRY)
    change(config["network"])
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(CONFIG_ENTRY, json.dumps(config))
        archive.writestr(ARRAYS_ENTRY, arrays)
    return target


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c["layers"][1].update(type="evil_custom_module.EvilLayer"),
     "unknown layer type 'evil_custom_module.EvilLayer'"),
    (lambda c: c["loss"].update(name="evil_custom_module.EvilLoss"), "unknown loss 'evil_custom_module.EvilLoss'"),
    (lambda c: c["loss"].update(name="evil_custom_module:EvilLoss"), "unknown loss"),
    (lambda c: c["loss"].update(gamma=-1), "gamma must be a finite number >= 0"),
    (lambda c: c["loss"].update(__class__="os.system"), "bad parameters for the 'focal' loss"),
    (lambda c: c["layers"][1].update(pieces=10**6), "pieces must be at most 64"),
])
def test_unregistered_classes_are_refused_without_importing_anything(saved, tmp_path, monkeypatch, change, message):
    """The file names a class; the loader looks it up in the registries and never imports a module for it."""
    module = tmp_path / "evil_custom_module.py"
    marker = tmp_path / "imported"
    module.write_text(f"open({str(marker)!r}, 'w').close()\nclass EvilLayer: pass\nclass EvilLoss: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    imported = []
    real_import = builtins.__import__

    def spy(name, *args, **kwargs):
        imported.append(name)
        return real_import(name, *args, **kwargs)

    path = _tamper(saved[0][2], tmp_path / "crafted.mlpk", change)
    monkeypatch.setattr(builtins, "__import__", spy)
    with pytest.raises(ModelFileError, match=message) as info:
        mlpkit.load(path)
    monkeypatch.setattr(builtins, "__import__", real_import)
    assert "\n" not in str(info.value)
    assert not marker.exists() and "evil_custom_module" not in sys.modules
    assert not any("evil" in name for name in imported)


# -------------------------------------------------------------------------------------------- misuse
class NoForward(ForwardLayer):
    type_name = "test_no_forward"


class WrongShape(ForwardLayer):
    type_name = "test_wrong_shape"

    def forward_graph(self, x, training):
        return x.sum(axis=1)


class NotATensor(ForwardLayer):
    type_name = "test_not_a_tensor"

    def forward_graph(self, x, training):
        return x.data


class WrongDtype(ForwardLayer):
    type_name = "test_wrong_dtype"

    def forward_graph(self, x, training):
        return x * np.ones(x.shape[1], dtype=np.float64)


class UnknownParameter(ForwardLayer):
    type_name = "test_unknown_parameter"

    def forward_graph(self, x, training):
        return x * self.param("scale")


class NoCost(ForwardLoss):
    name = "test_no_cost"


class RowCosts(ForwardLoss):
    name = "test_row_costs"

    def forward_graph(self, output, y):
        return ((output - y) ** 2).sum(axis=1)


def _one_line(exc_info, *parts):
    text = str(exc_info.value)
    assert "\n" not in text
    for part in parts:
        assert part in text, text


@pytest.mark.parametrize(("layer", "error", "parts"), [
    (WrongShape(), ValueError, ("WrongShape.forward_graph returned shape (4,)", "(4, 3)")),
    (NotATensor(), TypeError, ("NotATensor.forward_graph must return an autodiff Tensor", "ndarray")),
    (WrongDtype(), ValueError, ("WrongDtype.forward_graph returned float64 outputs for float32 inputs",)),
    (UnknownParameter(), KeyError, ("UnknownParameter has no parameter 'scale'",)),
])
def test_a_bad_forward_graph_is_a_one_line_error_naming_the_class(layer, error, parts):
    net = Network([layer, Dense(2, "softmax")], input_dim=3)
    with pytest.raises(error) as info:
        net.predict_proba(np.zeros((4, 3)))
    _one_line(info, *parts)


def test_a_layer_without_forward_graph_is_refused_when_built():
    with pytest.raises(TypeError) as info:
        Network([NoForward(), Dense(2, "softmax")], input_dim=3)
    _one_line(info, "NoForward defines no forward_graph(x, training)")


@pytest.mark.parametrize(("loss", "error", "part"), [
    (NoCost(), TypeError, "NoCost defines no forward_graph(output, y)"),
    (RowCosts(), ValueError, "RowCosts.forward_graph must return the mean cost as a scalar, got shape (5,)"),
])
def test_a_bad_cost_is_a_one_line_error_naming_the_class(loss, error, part):
    net = Network([Dense(2)], input_dim=3, loss=loss)
    X, Y = np.zeros((5, 3), dtype=np.float32), np.zeros((5, 2), dtype=np.float32)
    for call in (lambda: net.evaluate(X, Y), lambda: net.compute_gradients(X, Y)):
        with pytest.raises(error) as info:
            call()
        _one_line(info, part)


def test_registration_and_binding_errors():
    with pytest.raises(ValueError, match="NoName needs a type_name"):
        register_layer(type("NoName", (ForwardLayer,), {}))
    with pytest.raises(ValueError, match="Nameless needs a name"):
        register_loss(type("Nameless", (ForwardLoss,), {}))
    with pytest.raises(TypeError, match="register_loss takes a Loss subclass"):
        register_loss(Maxout)
    with pytest.raises(ValueError, match="focal loss needs probabilities"):
        Network([Dense(2)], input_dim=3, loss=FocalLoss())
    with pytest.raises(ValueError, match="leave it None with a softmax output"):
        Network([Dense(2, "softmax")], input_dim=3, loss=FocalLoss(alpha=0.25))
    with pytest.raises(ValueError, match="pieces must be at most 64"):
        Maxout(3, pieces=65)
    with pytest.raises(ValueError, match="threshold must be a finite number > 0"):
        Huber(0.0)
    assert mlpkit.losses.get_loss({"name": "huber", "threshold": 3.0}).threshold == 3.0


# -------------------------------------------------------------------------------------------- the docs
def test_the_documentation_examples_run(capsys):
    """Every Python block of docs/autodiff.md, in order, in one namespace (they build on each other)."""
    page = Path(__file__).resolve().parents[1] / "docs" / "autodiff.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 6
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)
    assert namespace["maxout"].evaluate(namespace["digits"].test.X, namespace["digits"].test.y)["accuracy"] > 0.9
    np.testing.assert_allclose(namespace["regression"].layers[0].params["W"].ravel(), [2.0, -1.0, 0.5], atol=0.05)
    assert "PASSED" in capsys.readouterr().out


def test_a_crafted_maxout_file_is_bounded_by_its_pieces_before_anything_is_allocated(saved, tmp_path):
    """50 million units of 64 pieces stay under the size bound of a Dense layer of 50 million units; the bound
    must count the pieces (Maxout.declared_size), so that the file is refused instead of allocated."""
    config = saved[0][0].get_config()
    assert config["layers"][1]["type"] == "maxout"
    units = 50_000_000
    assert sum(Dense.declared_size({"units": u}, n)[0] for n, u in ((5, units), (units, 3))) < 2_000_000_000

    def huge(network_config):
        network_config["layers"][1].update(units=units, pieces=64)

    with pytest.raises(ModelFileError, match="describes more than 2,000,000,000 parameters"):
        mlpkit.load(_tamper(saved[0][2], tmp_path / "huge.mlpk", huge))
