"""The data of the ``/graph`` page: the lecture's computation graph, computed by mlpkit's autodiff on the server.

Ng course 1 week 3 ("Backpropagation intuition") walks the 2-layer network's graph forward (Z1, A1, Z2, A2, J)
and then backward (dZ2, dW2, db2, dA1, dZ1, dW1, db1), and advises checking that every matrix's dimensions match.
:func:`graph_payload` gives the page each node with its shape, value, gradient, the lecture's formulas and the
closed-form gradient, the step orders of the two passes, and the drawing (SVG from :mod:`mlpkit.autodiff.draw`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autodiff.draw import draw_graph, layout_graph, lecture_example

#: inclusive bounds of the page's settings (small: every entry of every matrix is sent and shown)
LIMITS = {"n_x": (1, 6), "n_h": (1, 8), "m": (1, 8), "seed": (0, 2**31 - 1)}
DEFAULTS = {"example": "two-layer", "n_x": 2, "n_h": 4, "m": 3, "seed": 1}


def _numbers(array: np.ndarray | None) -> Any:
    return None if array is None else np.asarray(array, dtype=np.float64).tolist()


def graph_payload(example: str, n_x: int, n_h: int, m: int, seed: int) -> dict[str, Any]:
    """Every node of the example's graph in the forward step order, with its shape, value, gradient dJ/d(node)
    (autodiff), closed form (the lecture's formulas, evaluated with NumPy) and formulas; the forward and backward
    step orders (node keys); and the SVG drawing, whose ``g.node`` elements carry the same keys."""
    graph = lecture_example(example, n_x=n_x, n_h=n_h, m=m, seed=seed)
    layout = layout_graph(graph, compact=True)
    by_key = {node.key: node for node in layout.nodes}
    labels = {node.key: node.label for node in layout.nodes}
    nodes = []
    for key in layout.forward:
        node = by_key[key]
        tensor = node.tensor
        formula = node.formula
        nodes.append({
            "key": key, "name": node.label, "kind": node.kind, "op": tensor.op,
            "parents": [labels[p] for p in node.parents], "shape": list(tensor.shape),
            "value": _numbers(tensor.data), "grad": _numbers(tensor.grad),
            "closed_form": _numbers(graph.closed_forms.get(node.label)),
            "formula": formula.as_dict() if formula is not None else None,
        })
    return {"title": graph.title, "note": graph.note, "nodes": nodes, "forward": list(layout.forward),
            "backward": list(layout.backward), "svg": draw_graph(graph, format="svg", compact=True)}
