"""The flat parameter vector's public layout: where each layer's parameters live, which are decayed.

A :class:`~mlpkit.Network` keeps every parameter of every layer in one flat vector (and every gradient in
another, laid out the same); each layer's ``params`` / ``grads`` are reshaped views into them. The
regularized weights come first, so weight decay over the whole network is one slice
(``flat[:n_decayed]``) and every optimizer update is a few vectorized operations whatever the depth.
:class:`ParameterLayout` describes that arrangement; optimizers (AdamW decays ``[:n_decayed]``), the fast
training step (:mod:`mlpkit.fast`) and the penalties read it instead of the network's internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .layers import Layer
    from .regularizers import Regularizer


@dataclass(frozen=True)
class Slot:
    """One parameter array in the flat vector: ``layers[layer].params[name]`` is ``flat[start:stop]``."""

    layer: int
    name: str
    start: int
    stop: int
    shape: tuple[int, ...]
    decayed: bool


@dataclass(frozen=True)
class ParameterLayout:
    """Where every parameter of a stack of layers lives in one flat vector.

    ``slots`` come in vector order: the decayed weights of every layer first (in layer order), then all
    other parameters (biases, BatchNorm's gamma and beta), so ``flat[:n_decayed]`` is every weight that
    weight decay applies to (Nielsen ch.3: the biases are not regularized). ``first_trainable`` is the
    index of the first layer with parameters (``len(layers)`` when none has any): backpropagation stops
    there.
    """

    slots: tuple[Slot, ...]
    size: int
    n_decayed: int
    first_trainable: int

    @classmethod
    def of(cls, layers: Sequence[Layer]) -> ParameterLayout:
        """The layout of ``layers``' current ``params`` (decayed weights first; stable within each group)."""
        entries = [(i, name, layer.params[name], name in layer.decayed)
                   for i, layer in enumerate(layers) for name in layer.params]
        entries.sort(key=lambda entry: not entry[3])
        slots, offset = [], 0
        for i, name, value, decayed in entries:
            slots.append(Slot(i, name, offset, offset + value.size, tuple(value.shape), decayed))
            offset += value.size
        trainable = [i for i, layer in enumerate(layers) if layer.params]
        return cls(tuple(slots), offset, sum(s.stop - s.start for s in slots if s.decayed),
                   trainable[0] if trainable else len(layers))

    def pack(self, layers: Sequence[Layer], dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """Copy every parameter into a new flat vector and rebind each layer's ``params`` and ``grads`` to
        views of it and of a new flat gradient vector; returns (parameters, gradients)."""
        params, grads = np.zeros(self.size, dtype=dtype), np.zeros(self.size, dtype=dtype)
        for slot in self.slots:
            layer = layers[slot.layer]
            view = params[slot.start:slot.stop].reshape(slot.shape)
            view[...] = layer.params[slot.name]
            layer.params[slot.name] = view
            layer.grads[slot.name] = grads[slot.start:slot.stop].reshape(slot.shape)
        return params, grads

    def penalty_ranges(self, penalties: Sequence[Regularizer | None]) -> list[tuple[Regularizer, int, int]]:
        """(regularizer, start, stop) over the decayed weights, where ``penalties[i]`` is the penalty of layer
        i's weights (None: not penalized); neighbouring weights under the same regularizer form one range, so
        with one penalty for the whole network there is one range, ``[0, n_decayed)``."""
        ranges: list[tuple[Regularizer, int, int]] = []
        for slot in self.slots:
            regularizer = penalties[slot.layer] if slot.decayed else None
            if regularizer is None:
                continue
            start = slot.start
            if ranges and ranges[-1][0] is regularizer and ranges[-1][2] == start:
                start = ranges.pop()[1]
            ranges.append((regularizer, start, slot.stop))
        return ranges
