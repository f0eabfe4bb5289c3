"""Numerical gradient checking (Ng, week 1 "Gradient checking").

For every parameter theta_i, the two-sided difference
    dtheta_approx[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)
is compared with the backpropagated gradient dtheta by the relative difference
    ||dtheta_approx - dtheta||_2 / (||dtheta_approx||_2 + ||dtheta||_2)
which Ng reads as: about 1e-7 great, 1e-5 look closer, 1e-3 a bug. J is the regularized mean cost of the
batch in training mode, exactly what backpropagation differentiates. The check runs on a float64 copy of
the network (float32 rounding alone gives differences near 1e-3), and any randomness of training layers
(dropout masks) is re-drawn from the same seed for every evaluation, so J is a fixed function.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .losses import accepts_weights
from .network import Network
from .tasks import check_sample_weight
from .validation import check_features, check_positive_float, check_positive_int, check_seed


@dataclass
class GradCheckResult:
    """Outcome of :func:`gradcheck`: the overall and per-parameter relative differences."""

    relative_difference: float
    per_parameter: dict[str, float] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)
    threshold: float = 1e-7

    @property
    def passed(self) -> bool:
        return self.relative_difference < self.threshold

    def __str__(self) -> str:
        lines = [f"{'parameter':<16}{'checked':>9}{'relative difference':>22}"]
        for name, diff in self.per_parameter.items():
            lines.append(f"{name:<16}{self.checked[name]:>9}{diff:>22.3e}")
        verdict = "PASSED" if self.passed else "FAILED"
        lines.append(f"overall {self.relative_difference:.3e}  threshold {self.threshold:.0e}  {verdict}")
        return "\n".join(lines)


def random_batch(network: Network, examples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A batch to check ``network`` on: N(0, 1) inputs, and random classes for a classifier (0/1 for a single
    sigmoid output), a random 0/1 matrix for a multilabel network, or N(0, 1) targets for a regression one."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(examples, network.input_dim))
    if network.task == "multilabel":
        y = rng.integers(0, 2, size=(examples, network.output_dim))
    elif network.is_classifier:
        y = rng.integers(0, 2 if network.output_dim == 1 else network.output_dim, size=examples)
    else:
        y = rng.normal(size=(examples, network.output_dim))
    return X, y


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||), 0 when both are zero (Ng's gradient-check measure)."""
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def gradcheck(network: Network, X: Any, y: Any, *, epsilon: float = 1e-6, threshold: float = 1e-7,
              n_train: float | None = None, max_per_parameter: int | None = None, seed: int = 0,
              sample_weight: Any = None) -> GradCheckResult:
    """Compare backpropagation with two-sided numerical differences on (X, y).

    Args:
        network: the network to check (it is not modified: the check runs on a float64 copy; a float64
            network is copied as it is, keeping every layer's class, so custom layers are checked too).
        X, y: a small batch (a few examples are enough; the cost is two forward passes per parameter).
        epsilon: the step of the central difference (Ng uses 1e-7; 1e-6 balances truncation and rounding
            error better in float64).
        threshold: the relative difference below which the check passes.
        n_train: training-set size used by the regularizer (default len(X), or the sum of the weights).
        max_per_parameter: check at most this many randomly chosen entries of each parameter array.
        seed: seed of that choice and of any training-time randomness (dropout masks).
        sample_weight: row weights (m,): J becomes the weighted mean cost sum_i w_i C_i / sum_i w_i plus the
            penalty (see :mod:`mlpkit.losses`), the objective of a weighted ``fit``.
    """
    epsilon = check_positive_float(epsilon, "epsilon")
    threshold = check_positive_float(threshold, "threshold")
    if n_train is not None:
        n_train = check_positive_float(n_train, "n_train")
    if max_per_parameter is not None:
        max_per_parameter = check_positive_int(max_per_parameter, "max_per_parameter")
    seed = check_seed(seed)
    net = copy.deepcopy(network) if network.dtype == np.float64 else network.astype(np.float64)
    X = check_features(X, "X", n_features=net.input_dim, dtype=np.float64)
    Y = net.encode_targets(y, X.shape[0])
    W = None if sample_weight is None else check_sample_weight(sample_weight, X.shape[0])
    if W is not None and not accepts_weights(net.loss):
        raise ValueError(f"the {net.loss.name} cost does not take sample weights; check it without sample_weight")
    n_train = n_train or (X.shape[0] if W is None else float(W.sum()))

    def objective() -> float:
        net.training_rng = np.random.default_rng(seed)
        return net.objective(X, Y, n_train, W)

    net.training_rng = np.random.default_rng(seed)
    net.compute_gradients(X, Y, n_train, W)
    analytic = {name: grad.copy() for name, grad in net.named_gradients()}

    choose = np.random.default_rng(seed)
    per_parameter: dict[str, float] = {}
    checked: dict[str, int] = {}
    all_numeric, all_analytic = [], []
    for name, param in net.named_parameters():
        flat = param.reshape(-1)
        indices = np.arange(flat.size)
        if max_per_parameter is not None and flat.size > max_per_parameter:
            indices = np.sort(choose.choice(flat.size, size=max_per_parameter, replace=False))
        numeric = np.empty(indices.size)
        for k, i in enumerate(indices):
            original = flat[i]
            flat[i] = original + epsilon
            plus = objective()
            flat[i] = original - epsilon
            minus = objective()
            flat[i] = original
            numeric[k] = (plus - minus) / (2 * epsilon)
        exact = analytic[name].reshape(-1)[indices]
        per_parameter[name] = relative_difference(numeric, exact)
        checked[name] = int(indices.size)
        all_numeric.append(numeric)
        all_analytic.append(exact)
    net.training_rng = None
    overall = relative_difference(np.concatenate(all_numeric), np.concatenate(all_analytic))
    return GradCheckResult(overall, per_parameter, checked, threshold)
