"""Custom layers registered with ``register_layer`` save and load, whatever their configuration means.

The loader used to bound every layer's size by reading ``config["units"]`` as an int (a Dense layer's
meaning), so a custom layer whose ``units`` is None or a list, or whose width comes from another key, was
written by ``save`` and refused by ``load``. Now a class that cannot tell its size from its configuration
(``Layer.declared_size`` is None) is sized by the ``layer_sizes`` table the file carries, bounded before
anything is allocated and checked once built; an unregistered type is still refused.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import mlpkit
from mlpkit import Dense, ForwardLayer, Layer, ModelFileError, Network, register_layer
from mlpkit import autodiff as ad
from mlpkit.checkpoint import Checkpointer, load_checkpoint
from mlpkit.layers import LAYER_TYPES
from mlpkit.optimizers import SGD
from mlpkit.serialization import ARRAYS_ENTRY, CONFIG_ENTRY

X = np.random.default_rng(0).normal(size=(40, 4))
Y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)


@register_layer
class Project(Layer):
    """x W with W (n_in, units); ``units=None`` keeps the width (a config value that is not an int)."""

    type_name = "test_files_project"

    def __init__(self, units=None):
        super().__init__()
        self.units = units

    def build(self, n_in, rng, dtype):
        width = self.units or n_in
        self.params = {"W": (rng.normal(size=(n_in, width)) / np.sqrt(n_in)).astype(dtype)}
        self.grads = {"W": np.zeros_like(self.params["W"])}
        self.n_in, self.n_out = n_in, width
        return width

    def get_config(self):
        return {"type": self.type_name, "units": self.units}

    def forward(self, x, training=False):
        self._x = x
        return x @ self.params["W"]

    def backward(self, grad, *, preactivation=False, need_input_grad=True):
        np.matmul(self._x.T, grad, out=self.grads["W"])
        return grad @ self.params["W"].T if need_input_grad else None


@register_layer
class Block(ForwardLayer):
    """Two stacked maps, ``units=[hidden, out]`` (a list), with a running count in ``state``."""

    type_name = "test_files_block"

    def __init__(self, units=(5, 4)):
        super().__init__()
        self.units = [int(u) for u in units]

    def setup(self, n_in, rng):
        hidden, out = self.units
        self.add_parameter("W1", rng.normal(size=(n_in, hidden)) / np.sqrt(n_in))
        self.add_parameter("W2", rng.normal(size=(hidden, out)) / np.sqrt(hidden))
        self.state = {"seen": np.zeros(1)}
        return out

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def forward_graph(self, x, training):
        if training:
            self.state["seen"] += x.shape[0]
        return ad.tanh(x @ self.param("W1")) @ self.param("W2")


@register_layer
class Widen(ForwardLayer):
    """[x, x^2]: twice the width, set by no config key at all."""

    type_name = "test_files_widen"

    def setup(self, n_in, rng):
        return 2 * n_in

    def forward_graph(self, x, training):
        return ad.concatenate([x, x * x], axis=1)


def _networks():
    return {
        "units None": Network([Project(), Dense(3, "softmax")], input_dim=4, seed=0),
        "units list, state": Network([Block([6, 5]), Dense(3, "softmax")], input_dim=4, seed=0),
        "width from no key": Network([Widen(), Project(7), Dense(3, "softmax")], input_dim=4, seed=0),
    }


@pytest.mark.parametrize("name", list(_networks()))
def test_custom_layers_save_and_load(name, tmp_path):
    net = _networks()[name]
    net.fit(X, Y, epochs=2, batch_size=10, learning_rate=0.1, verbose=0, seed=0)
    again = mlpkit.load(net.save(tmp_path / "custom.mlpk"))
    assert [type(layer) for layer in again.layers] == [type(layer) for layer in net.layers]
    np.testing.assert_array_equal(again.predict_proba(X), net.predict_proba(X))
    for name_, value in net.get_weights().items():
        np.testing.assert_array_equal(again.get_weights()[name_], value)


def test_custom_layers_in_checkpoints(tmp_path):
    net = _networks()["units list, state"]
    optimizer = SGD(0.1)
    keeper = Checkpointer(optimizer, path=tmp_path / "run.ckpt")
    net.fit(X, Y, epochs=2, batch_size=10, optimizer=optimizer, callbacks=[keeper], verbose=0, seed=0)
    restored = load_checkpoint(keeper.save()).restore_network()
    np.testing.assert_array_equal(restored.predict_proba(X), net.predict_proba(X))


def _rewrite(path, change):
    with zipfile.ZipFile(path) as archive:
        config, arrays = json.loads(archive.read(CONFIG_ENTRY)), archive.read(ARRAYS_ENTRY)
    change(config["network"])
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(CONFIG_ENTRY, json.dumps(config))
        archive.writestr(ARRAYS_ENTRY, arrays)
    return path


def _set_size(network_config, index, **entry):
    network_config["layer_sizes"][index].update(entry)


@pytest.mark.parametrize(("change", "message"), [
    # a table claiming a huge layer is refused before the network is built
    (lambda c: _set_size(c, 0, size=3_000_000_000), "describes more than 2,000,000,000 parameters"),
    # a table that lies about the layer the config builds is refused once it is built
    (lambda c: _set_size(c, 0, size=1), r"layers\[0\] \(Block\) has n_out=5 and 55 entries, the file's layer_sizes"),
    (lambda c: c["layers"][0].update(units=[6, 9]), "layer_sizes says n_out=5"),
    (lambda c: _set_size(c, 0, n_out=True), r"layer_sizes\[0\] must be"),
    (lambda c: c.update(layer_sizes=[]), "layer_sizes must be a list of 2 entries"),
    # a file without the table (as written before it existed) cannot size a layer whose units is a list
    (lambda c: c.pop("layer_sizes"), r"layers\[0\] \('test_files_block'\) cannot tell its size .*save the model again"),
])
def test_tampered_size_tables_are_refused(change, message, tmp_path):
    net = _networks()["units list, state"]
    path = _rewrite(net.save(tmp_path / "m.mlpk"), change)
    with pytest.raises(ModelFileError, match=message) as info:
        mlpkit.load(path)
    assert "\n" not in str(info.value)


def test_an_unregistered_layer_type_is_still_refused(tmp_path, monkeypatch):
    path = _networks()["units None"].save(tmp_path / "m.mlpk")
    monkeypatch.delitem(LAYER_TYPES, Project.type_name)
    with pytest.raises(ModelFileError, match="unknown layer type 'test_files_project'"):
        mlpkit.load(path)


@pytest.mark.parametrize("net", [Network([4, 6, 3], seed=0),
                                 Network([Widen(), Project(7), Dense(3, "softmax")], input_dim=4, seed=0)])
def test_files_written_before_the_table_still_load(net, tmp_path):
    """Files without the table load as they did: built-in layers give their size, and a custom layer whose
    ``units`` is an int (or absent) is bounded as a dense map of that many units."""
    path = _rewrite(net.save(tmp_path / "m.mlpk"), lambda c: c.pop("layer_sizes"))
    np.testing.assert_array_equal(mlpkit.load(path).predict_proba(X), net.predict_proba(X))
