"""The framework exercise of Ng course 2 week 3, with mlpkit.autodiff instead of TensorFlow.

A variable w, the cost J(w) = w^2 - 10 w + 25 = (w - 5)^2 written as an expression, minimized by an optimizer;
then the same cost with its coefficients fed in as data (the course's placeholder x = [[1.], [-10.], [25.]] and
cost x0 w^2 + x1 w + x2). Run: python examples/autodiff_minimize.py
"""

import numpy as np

import mlpkit.autodiff as ad
from mlpkit import SGD, Adam, Momentum, Optimizer


def course_exercise(optimizer: Optimizer) -> tuple[float, float]:
    """w starts at 0; the optimizer minimizes J(w) = w^2 - 10 w + 25. Returns (w, the last cost)."""
    w = ad.Tensor(0.0, requires_grad=True, name="w")
    cost = optimizer.minimize(lambda: w ** 2 - 10 * w + 25, [w], steps=1000)
    return w.item(), cost


for optimizer in (SGD(0.01), Momentum(0.01), Adam(0.1)):
    w_final, cost = course_exercise(optimizer)
    print(f"{type(optimizer).__name__:>8}: w = {w_final:.6f}, cost = {cost:.2e}")

x = ad.Tensor(np.array([[1.0], [-10.0], [25.0]]), name="x")  # the coefficients, fed as data
w = ad.Tensor(0.0, requires_grad=True, name="w")
SGD(0.01).minimize(lambda: x[0][0] * w ** 2 + x[1][0] * w + x[2][0], [w], steps=1000)
print(f"fed coefficients {x.data.ravel().tolist()}: w = {w.item():.6f}")
