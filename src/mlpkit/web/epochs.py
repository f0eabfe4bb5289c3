"""What the dashboard shows after each epoch, computed the same way for server runs and ``--dashboard`` runs.

An epoch event is a JSON object::

    {"type": "epoch", "epoch": 3,                          # 1-based
     "logs": {"loss": ..., "accuracy": ..., "val_loss": ..., "val_accuracy": ..., "time": ..., ...},
     "gradients": [{"name": "0: Dense(30, sigmoid)", "norm": ..., "rms": ...}, ...],
     "misclassified": {"shape": [28, 28], "count": 412, "checked": 10000,
                       "images": [{"pixels": "<base64 uint8>", "predicted": 7, "true": 9}, ...]}}

``gradients`` are :func:`mlpkit.diagnose.gradient_norms` on a fixed, seeded sample of the validation data
(Nielsen ch.5: ||dC/dW|| per layer shows vanishing or exploding gradients); ``rms`` divides by the square
root of the number of weights, so that layers of different sizes compare. ``misclassified`` holds the first
validation images the network gets wrong, as 8-bit grey levels (pixel values in [0, 1] times 255).
Standard library and NumPy only: :mod:`mlpkit.web.reporter` uses this without the web extra.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from ..diagnose import gradient_norms
from ..network import Network

#: validation examples used for the gradient norms each epoch
GRADIENT_SAMPLE = 256
#: misclassified images sent per epoch
MAX_IMAGES = 24
#: validation examples checked for mistakes (bounds the cost per epoch on big validation sets)
MAX_CHECKED = 10_000


def finite_logs(logs: dict[str, Any]) -> dict[str, float]:
    """The numeric, finite entries of a per-epoch logs dict, as plain floats (JSON has no NaN)."""
    out = {}
    for key, value in logs.items():
        if isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(float(value)):
            out[str(key)] = float(value)
    return out


class EpochSummary:
    """Builds epoch events for one run from its validation data.

    Args:
        X_val, y_val: validation inputs (rows) and integer labels.
        image_shape: (height, width) of an image row, or None (then no image grid is sent).
        seed: seed of the gradient-norm sample.
    """

    def __init__(self, X_val: np.ndarray, y_val: np.ndarray, image_shape: tuple[int, int] | None,
                 seed: int = 0) -> None:
        X_val = np.asarray(X_val).reshape(len(X_val), -1)
        y_val = np.asarray(y_val)
        if y_val.ndim == 2:
            y_val = y_val.argmax(axis=1)
        self.X, self.y = X_val[:MAX_CHECKED], y_val[:MAX_CHECKED].astype(np.int64)
        order = np.random.default_rng(seed).permutation(len(X_val))[:GRADIENT_SAMPLE]
        self.X_grad, self.y_grad = X_val[order], y_val[order]
        shape = tuple(int(s) for s in image_shape) if image_shape is not None else None
        self.image_shape = shape if shape is not None and math.prod(shape) == X_val.shape[1] else None

    def gradients(self, network: Network) -> list[dict[str, Any]]:
        if len(self.X_grad) == 0:
            return []
        layers = gradient_norms(network, self.X_grad, self.y_grad)
        return [{"name": g.name, "norm": g.gradient_norm, "rms": g.rms} for g in layers
                if math.isfinite(g.gradient_norm)]

    def misclassified(self, network: Network) -> dict[str, Any] | None:
        if self.image_shape is None or not network.is_classifier or len(self.X) == 0:
            return None
        predicted = network.predict(self.X)
        wrong = np.flatnonzero(predicted != self.y)
        images = []
        for i in wrong[:MAX_IMAGES]:
            grey = np.rint(np.clip(self.X[i], 0.0, 1.0) * 255).astype(np.uint8)
            images.append({"pixels": base64.b64encode(grey.tobytes()).decode("ascii"),
                           "predicted": int(predicted[i]), "true": int(self.y[i])})
        return {"shape": list(self.image_shape), "count": int(wrong.size), "checked": len(self.X), "images": images}

    def event(self, network: Network, epoch: int, logs: dict[str, Any]) -> dict[str, Any]:
        """The event of 0-based ``epoch`` (reported 1-based)."""
        return {"type": "epoch", "epoch": epoch + 1, "logs": finite_logs(logs), "gradients": self.gradients(network),
                "misclassified": self.misclassified(network)}
