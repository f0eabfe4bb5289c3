"""PyTorch as an oracle: forward outputs, costs, gradients and SGD trajectories agree to 1e-10 in float64.

Skipped cleanly where torch is not installed (CI installs torch==2.13.0 so these run there).
"""

import numpy as np
import pytest

from mlpkit import L2, Network
from mlpkit.activations import ACTIVATION_NAMES

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "identity": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def torch_cost(name, z, a, y):
    if name == "quadratic":
        return 0.5 * ((a - y) ** 2).sum(dim=1).mean()
    if name == "binary_crossentropy":
        return F.binary_cross_entropy_with_logits(z, y, reduction="none").sum(dim=1).mean()
    return -(y * torch.log_softmax(z, dim=1)).sum(dim=1).mean()


def torch_reference(net, X, Y, hidden, output, cost, lmbda=0.0, n_train=None):
    """The same network written in torch; returns output, cost and gradients keyed like mlpkit's."""
    params = {name: torch.tensor(value, requires_grad=True) for name, value in net.named_parameters()}
    a = torch.tensor(X)
    n_layers = len(net.layers)
    for i in range(n_layers):
        z = a @ params[f"layers.{i}.W"] + params[f"layers.{i}.b"]
        a = TORCH_ACTIVATIONS[output if i == n_layers - 1 else hidden](z)
    loss = torch_cost(cost, z, a, torch.tensor(Y))
    if lmbda:
        loss = loss + 0.5 * lmbda / n_train * sum((params[f"layers.{i}.W"] ** 2).sum() for i in range(n_layers))
    loss.backward()
    return a.detach().numpy(), float(loss.detach()), {k: v.grad.numpy() for k, v in params.items()}


CASES = [(h, "softmax", "categorical_crossentropy") for h in ACTIVATION_NAMES if h != "softmax"] + [
    ("sigmoid", "sigmoid", "binary_crossentropy"),
    ("relu", "sigmoid", "quadratic"),
    ("tanh", "identity", "quadratic"),
    ("leaky_relu", "softmax", "quadratic"),
]


@pytest.mark.parametrize(("hidden", "output", "cost"), CASES)
def test_forward_cost_and_gradients_match_torch(hidden, output, cost):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(13, 9))
    Y = np.eye(4)[rng.integers(0, 4, 13)]
    net = Network([9, 12, 7, 4], activation=hidden, output_activation=output, loss=cost, dtype="float64",
                  regularizer=L2(3.0), init="xavier", seed=sum(map(ord, hidden + output + cost)))
    out_ref, loss_ref, grads_ref = torch_reference(net, X, Y, hidden, output, cost, lmbda=3.0, n_train=100)

    np.testing.assert_allclose(net.forward(X, training=True), out_ref, rtol=0, atol=1e-10)
    assert net.objective(X, Y, n_train=100) == pytest.approx(loss_ref, rel=0, abs=1e-10)
    net.compute_gradients(X, Y, n_train=100)
    for name, grad in net.named_gradients():
        np.testing.assert_allclose(grad, grads_ref[name], rtol=0, atol=1e-10, err_msg=name)


def test_sgd_training_trajectory_matches_torch():
    """Ten mini-batch SGD steps with L2 weight decay land on the same weights as torch.optim.SGD."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 6))
    y = rng.integers(0, 3, 50)
    Y = np.eye(3)[y]
    eta, lmbda, n, batch = 0.5, 2.0, 50, 5
    net = Network([6, 8, 3], dtype="float64", regularizer=L2(lmbda), seed=3)
    params = {name: torch.tensor(v.copy(), requires_grad=True) for name, v in net.named_parameters()}
    # torch's weight_decay adds wd * w to the gradient: with wd = lmbda / n that is network2's decay
    opt = torch.optim.SGD([
        {"params": [params["layers.0.W"], params["layers.1.W"]], "weight_decay": lmbda / n},
        {"params": [params["layers.0.b"], params["layers.1.b"]], "weight_decay": 0.0},
    ], lr=eta)
    net.fit(X, y, epochs=1, batch_size=batch, learning_rate=eta, shuffle=False, monitor_training=False, verbose=0)
    for lo in range(0, n, batch):
        opt.zero_grad()
        h = torch.sigmoid(torch.tensor(X[lo:lo + batch]) @ params["layers.0.W"] + params["layers.0.b"])
        z = h @ params["layers.1.W"] + params["layers.1.b"]
        (-(torch.tensor(Y[lo:lo + batch]) * torch.log_softmax(z, 1)).sum(1).mean()).backward()
        opt.step()
    for name, value in net.named_parameters():
        np.testing.assert_allclose(value, params[name].detach().numpy(), rtol=0, atol=1e-10, err_msg=name)
