"""mlpkit.autodiff against torch.autograd: the same functions, the same gradients (float64 and float32)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import mlpkit.autodiff as ad
from mlpkit.autodiff import Tensor

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(7)
LABELS = np.array([0, 2, 1, 2])
ROWS = np.array([0, 1, 1, 3])


def normal(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, shape)


# name -> (mlpkit function, torch function, inputs); both take one tensor per input, same maths
CASES: dict[str, tuple[Callable, Callable, list[np.ndarray]]] = {
    "broadcast arithmetic": (lambda a, b: (a * b - a / b + 2.0) ** 2,
                             lambda a, b: (a * b - a / b + 2.0) ** 2, [normal(3, 1), positive(4)]),
    "power tensor ** tensor": (lambda a, b: a ** b, lambda a, b: a ** b, [positive(2, 3), normal(3)]),
    "matmul and bias": (lambda x, w, b: x @ w + b, lambda x, w, b: x @ w + b,
                        [normal(5, 4), normal(4, 3), normal(3)]),
    "batched matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [normal(2, 3, 4), normal(2, 4, 2)]),
    "reductions": (lambda x: x.sum(0) * x.mean(1, keepdims=True) + ad.max(x, 1, keepdims=True),
                   lambda x: x.sum(0) * x.mean(1, keepdim=True) + x.amax(1, keepdim=True), [normal(3, 4)]),
    "exp log sqrt abs": (lambda x: ad.exp(x) + ad.log(ad.abs(x)) * ad.sqrt(ad.abs(x)),
                         lambda x: torch.exp(x) + torch.log(x.abs()) * torch.sqrt(x.abs()), [normal(6)]),
    "maximum minimum clip": (lambda a, b: ad.maximum(a, b) - ad.minimum(a, 0.1) + ad.clip(b, -0.5, 0.5),
                             lambda a, b: torch.maximum(a, b) - torch.clamp(a, max=0.1) + torch.clamp(b, -0.5, 0.5),
                             [normal(4), normal(4)]),
    "where": (lambda a, b: ad.where(a > b, a * b, a - b), lambda a, b: torch.where(a > b, a * b, a - b),
              [normal(3, 3), normal(3)]),
    "reshape transpose index": (lambda x: x.reshape(4, 3).T[1:, ROWS] * x[0, 0],
                                lambda x: x.reshape(4, 3).T[1:, ROWS] * x[0, 0], [normal(2, 6)]),
    "activations": (lambda x: ad.sigmoid(x) * ad.tanh(x) + ad.relu(x),
                    lambda x: torch.sigmoid(x) * torch.tanh(x) + torch.relu(x), [normal(4, 3)]),
    "softmax family": (lambda x: ad.softmax(x) * ad.log_softmax(x, axis=0) + ad.logsumexp(x, 1, keepdims=True),
                       lambda x: F.softmax(x, -1) * F.log_softmax(x, 0) + torch.logsumexp(x, 1, keepdim=True),
                       [normal(3, 5)]),
    "bce with logits": (lambda z, y: ad.binary_cross_entropy_with_logits(z, y),
                        lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="sum") / z.shape[0],
                        [normal(6, 2) * 5, RNG.uniform(0, 1, (6, 2))]),
    "cross entropy with logits": (lambda z, y: ad.cross_entropy_with_logits(z, y),
                                  lambda z, y: F.cross_entropy(z, y), [normal(4, 3) * 3, np.eye(3)[LABELS]]),
    "two-layer network": (
        lambda x, w1, w2: ad.cross_entropy_with_logits(ad.tanh(x @ w1) @ w2, np.eye(3)[LABELS]),
        lambda x, w1, w2: F.cross_entropy(torch.tanh(x @ w1) @ w2, torch.tensor(LABELS)),
        [normal(4, 5), normal(5, 6), normal(6, 3)]),
}


def compare(name: str, dtype: type, rtol: float) -> None:
    ours, theirs, arrays = CASES[name]
    arrays = [a.astype(dtype) for a in arrays]
    weights = normal(*np.shape(ours(*[Tensor(a) for a in arrays]).data)).astype(dtype)
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    out = ours(*inputs)
    ad.sum(out * weights).backward()
    references = [torch.tensor(a, requires_grad=True) for a in arrays]
    expected = theirs(*references)
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=rtol)
    for mine, reference in zip(inputs, references, strict=True):
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_float64(name: str) -> None:
    compare(name, np.float64, 1e-10)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_float32(name: str) -> None:
    compare(name, np.float32, 2e-4)
