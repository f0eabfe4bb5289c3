"""The computation graph, drawn: every node of an autodiff expression with its forward value and its gradient.

Ng's course 1 week 3 ("Backpropagation intuition") derives backpropagation on the computation graph of logistic
regression, x, w, b -> z -> a -> L(a, y), and then of a 2-layer network, X, W1, b1 -> Z1 -> A1; W2, b2 -> Z2 ->
A2 -> J: the forward pass computes each node from its parents, the backward pass each node's derivative from its
children (da = -y/a + (1 - y)/(1 - a), dz = a - y, dw = x dz, db = dz, dZ1 = W2^T dZ2 * g'(Z1)). This module
draws such graphs from the tensors themselves (:func:`mlpkit.autodiff.nodes`), so the values and gradients shown
are the ones autodiff computed:

* :func:`draw_graph` writes an SVG (text written here, every string escaped) or a PNG (matplotlib);
* :func:`layout_graph` is the layout it draws: longest-path ranks from left to right, the nodes of each rank
  ordered by the barycenter of their neighbours to reduce crossings, and the lecture's step order of the
  forward and the backward pass (the web page of ``mlpkit serve`` steps through it);
* :func:`logistic_regression_graph`, :func:`two_layer_graph` and :func:`network_graph` build the lecture's graphs
  (and that of a small mlpkit Network) with named nodes, the lecture's closed-form gradients beside them;
* :func:`parse_expression` reads an expression such as ``w**2 - 10*w + 25`` through a whitelist of :mod:`ast`
  nodes (never ``eval``), for ``mlpkit graph --expr``.
"""

from __future__ import annotations

import ast
import heapq
import io
import math
import os
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from .. import autodiff as ad
from .._atomic import atomic_write_bytes
from ..activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from ..layers import Activation, Dense
from ..network import Network
from ..validation import check_features, check_targets
from . import Tensor

__all__ = [
    "EXPRESSION_FUNCTIONS",
    "AnnotatedGraph",
    "Formula",
    "GraphLayout",
    "GraphNode",
    "draw_graph",
    "layout_graph",
    "lecture_example",
    "logistic_regression_graph",
    "network_graph",
    "parse_expression",
    "two_layer_graph",
]

#: most nodes a drawing takes (a graph that large is no longer readable)
MAX_NODES = 400
#: most layers (Dense and Activation) and parameters of a network that :func:`network_graph` draws
MAX_NETWORK_LAYERS, MAX_NETWORK_PARAMETERS = 8, 200_000
#: most rows of the batch fed through :func:`network_graph`
MAX_NETWORK_ROWS = 64
#: largest size (n_x, n_h, m) of the lecture's examples
MAX_EXAMPLE_SIZE = 32
#: longest expression :func:`parse_expression` reads, and most syntax nodes in it
MAX_EXPRESSION_CHARS, MAX_EXPRESSION_NODES = 500, 200
#: the lecture's graphs: ``lecture_example`` names
EXAMPLES = ("logistic", "two-layer")

# drawing geometry (pixels) and colours
_MARGIN, _GAP_X, _GAP_Y, _LINE, _PAD, _FONT, _CHAR = 24, 44, 18, 16, 8, 12, 6.8
_MIN_W, _MAX_W, _COMPACT_W = 130, 300, 200
_FILL = {"param": "#dbeafe", "input": "#f1f3f5", "op": "#ffffff", "output": "#ffe8cc"}
_STROKE = {"param": "#2563eb", "input": "#868e96", "op": "#495057", "output": "#d9480f"}


# ---------------------------------------------------------------------------------------------- annotations
@dataclass(frozen=True)
class Formula:
    """What the lecture writes at one node: its forward formula and the shapes that go into it, its derivative
    (``dfoo``, of the same shape as ``foo``) and the shapes that go into that."""

    forward: str
    shapes: str = ""
    backward: str = ""
    grad_shapes: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"forward": self.forward, "shapes": self.shapes, "backward": self.backward,
                "grad_shapes": self.grad_shapes}


@dataclass(frozen=True)
class AnnotatedGraph:
    """A graph built by one of this module's builders: the scalar ``output`` (backward already run, so every
    node that needs one has its ``.grad``), named nodes, the lecture's ``formulas`` by node name, and
    ``closed_forms``: each named node's gradient dJ/d(node) computed by the closed forms instead of autodiff."""

    output: Tensor
    title: str
    note: str
    formulas: Mapping[str, Formula] = field(default_factory=dict)
    closed_forms: Mapping[str, np.ndarray] = field(default_factory=dict)

    def node(self, name: str) -> Tensor:
        """The node called ``name``."""
        for tensor in ad.nodes(self.output):
            if tensor.name == name:
                return tensor
        names = [t.name for t in ad.nodes(self.output) if t.name]
        raise KeyError(f"no node {name!r} in the graph; named nodes: {', '.join(names)}")


def _shape(array: Any) -> str:
    shape = tuple(np.shape(array))
    return "scalar" if shape == () else "(" + ", ".join(map(str, shape)) + ")"


def summarize(array: np.ndarray | None, entries: int = 4) -> str:
    """A short text for a value or a gradient: the number, up to ``entries`` entries, or the norm of a larger
    array."""
    if array is None:
        return "—"
    values = np.asarray(array, dtype=np.float64)
    if values.size == 1:
        return f"{float(values.reshape(-1)[0]):.4g}"
    if values.size <= entries:
        return "[" + ", ".join(f"{v:.3g}" for v in values.reshape(-1)) + "]"
    return f"‖·‖ {float(np.linalg.norm(values)):.4g}"


# ---------------------------------------------------------------------------------------------- layout
@dataclass(frozen=True)
class GraphNode:
    """One box of the drawing: ``key`` (``n0``, ``n1``... in forward order), the tensor, its label (its name, or
    its op, or its value for an unnamed constant), the keys of its parents, its rank (column) and row, the
    top-left corner of its box, its kind (``param``, ``input``, ``op``, ``output``), its formula if any, and the
    (css class, text) lines drawn in its box, wrapped to the box's width."""

    key: str
    tensor: Tensor
    label: str
    parents: tuple[str, ...]
    rank: int
    row: int
    x: float
    y: float
    kind: str
    formula: Formula | None
    text: tuple[tuple[str, str], ...] = ()

    def lines(self, show_values: bool = True, show_grads: bool = True, with_formulas: bool = True,
              entries: int = 4) -> list[tuple[str, str]]:
        """(css class, text) of each line of the box before wrapping, the label first; arrays of more than
        ``entries`` entries are shown by their norm."""
        t = self.tensor
        if self.formula is not None:
            what = self.formula.forward
        elif t.op:
            what = f"op {t.op}"
        else:
            what = "variable" if self.kind == "param" else "constant"
        lines = [("label", self.label), ("op", what), ("shape", f"shape {_shape(t.data)}")]
        if show_values:
            lines.append(("value", f"value {summarize(t.data, entries)}"))
        if show_grads:
            lines.append(("grad", f"grad {summarize(t.grad, entries)}"))
        if with_formulas:
            lines.append(("closed", self.formula.backward if self.formula is not None else ""))
        return lines


@dataclass(frozen=True)
class GraphLayout:
    """The placed graph: nodes in forward (topological) order, the size of the picture, and the lecture's step
    order: ``forward`` (each computed node, just after the inputs it first needs) and ``backward`` (from the
    output back, each computed node followed by the parameters whose gradients it gives)."""

    nodes: tuple[GraphNode, ...]
    width: int
    height: int
    box_width: int
    box_height: int
    title: str
    forward: tuple[str, ...]
    backward: tuple[str, ...]

    def node(self, label: str) -> GraphNode:
        for node in self.nodes:
            if node.label == label:
                return node
        raise KeyError(f"no node labelled {label!r}")


def _label(tensor: Tensor) -> str:
    if tensor.name:
        return str(tensor.name)
    if tensor.op:
        return tensor.op
    return summarize(tensor.data)  # an unnamed constant is shown by its value


def _kind(tensor: Tensor, output: Tensor, has_parents: bool) -> str:
    if tensor is output:
        return "output"
    if has_parents:
        return "op"
    return "param" if tensor.requires_grad else "input"


def _kept_parents(tensors: list[Tensor], keep: set[int]) -> dict[int, list[Tensor]]:
    """For every kept tensor, its kept parents, reached through any number of dropped (unnamed) nodes."""
    reach: dict[int, list[Tensor]] = {}  # id -> kept tensors it stands for (itself if kept)
    parents: dict[int, list[Tensor]] = {}
    for tensor in tensors:  # topological order: parents come first
        found: list[Tensor] = []
        for parent in tensor.parents:
            for kept in reach[id(parent)]:
                if all(kept is not f for f in found):
                    found.append(kept)
        parents[id(tensor)] = found
        reach[id(tensor)] = [tensor] if id(tensor) in keep else found
    return {k: v for k, v in parents.items() if k in keep}


def _ranks(order: list[Tensor], parents: dict[int, list[Tensor]]) -> dict[int, int]:
    """Longest-path ranks; a source (no parents) moves right to just before its first consumer, so that W2 and
    b2 stand next to Z2 as the lecture draws them."""
    rank: dict[int, int] = {}
    children: dict[int, list[Tensor]] = {id(t): [] for t in order}
    for t in order:
        ps = parents[id(t)]
        rank[id(t)] = 1 + max(rank[id(p)] for p in ps) if ps else 0
        for p in ps:
            children[id(p)].append(t)
    for t in order:
        if not parents[id(t)] and children[id(t)]:
            rank[id(t)] = min(rank[id(c)] for c in children[id(t)]) - 1
    return rank


def _rows(order: list[Tensor], parents: dict[int, list[Tensor]], rank: dict[int, int]) -> dict[int, int]:
    """Order the nodes of each rank by the mean position of their neighbours (the barycenter heuristic of
    layered drawing), sweeping right then left a few times; ties keep the forward order."""
    columns: dict[int, list[Tensor]] = {}
    for t in order:
        columns.setdefault(rank[id(t)], []).append(t)
    neighbours: dict[int, list[Tensor]] = {id(t): list(parents[id(t)]) for t in order}
    for t in order:
        for p in parents[id(t)]:
            neighbours[id(p)].append(t)
    position = {id(t): i for col in columns.values() for i, t in enumerate(col)}

    def sweep(ranks: list[int], side: Callable[[int], bool]) -> None:
        for r in ranks:
            column = columns[r]
            scores = []
            for t in column:
                near = [position[id(n)] for n in neighbours[id(t)] if side(rank[id(n)] - r)]
                scores.append((sum(near) / len(near) if near else position[id(t)], position[id(t)]))
            column[:] = [column[i] for i in sorted(range(len(column)), key=scores.__getitem__)]
            position.update({id(t): i for i, t in enumerate(column)})

    ordered = sorted(columns)
    for _ in range(4):
        sweep(ordered[1:], lambda d: d < 0)
        sweep(ordered[::-1][1:], lambda d: d > 0)
    return position


def _steps(order: list[Tensor], parents: dict[int, list[Tensor]], key: dict[int, str]) -> tuple[list[str], list[str]]:
    """The lecture's step order. Forward: each computed node in topological order, its not yet shown sources
    just before it. Backward: from the output back (a node once all its consumers are done), each computed node
    followed by the sources whose gradients it yields; nodes without a gradient (x, y) are skipped."""
    forward: list[str] = []
    shown: set[int] = set()
    for t in order:
        if not parents[id(t)]:
            continue
        for p in parents[id(t)]:
            if not parents[id(p)] and id(p) not in shown:
                forward.append(key[id(p)])
                shown.add(id(p))
        forward.append(key[id(t)])
    if not forward:  # the graph is a single leaf
        forward = [key[id(t)] for t in order]
    index = {id(t): i for i, t in enumerate(order)}
    pending = {id(t): 0 for t in order}
    for t in order:
        for p in parents[id(t)]:
            pending[id(p)] += 1
    backward: list[str] = []
    ready = [(-index[id(order[-1])], order[-1])] if order else []  # latest first; indices are unique
    while ready:
        _, t = heapq.heappop(ready)
        if t.grad is not None:
            backward.append(key[id(t)])
        sources = [p for p in parents[id(t)] if not parents[id(p)]]
        for p in parents[id(t)]:
            pending[id(p)] -= 1
        for p in sources:  # dW and db right after the dZ they come from
            if pending[id(p)] == 0 and p.grad is not None:
                backward.append(key[id(p)])
        for p in parents[id(t)]:
            if pending[id(p)] == 0 and parents[id(p)]:
                heapq.heappush(ready, (-index[id(p)], p))
    return forward, backward


def _wrap(css: str, text: str, room: int) -> list[tuple[str, str]]:
    if len(text) <= room:
        return [(css, text)]
    return [(css, part) for part in textwrap.wrap(text, room, break_on_hyphens=False)]


def layout_graph(graph: Tensor | AnnotatedGraph, *, only_named: bool | None = None, show_values: bool = True,
                 show_grads: bool = True, title: str | None = None, compact: bool = False) -> GraphLayout:
    """Place the nodes of ``graph`` (a Tensor, or a builder's :class:`AnnotatedGraph`) for drawing.

    ``only_named``: draw only the named nodes (and the output), each connected to the named nodes it is computed
    from through unnamed intermediates, as the lecture draws z -> a -> L without the log and the products inside
    L; default True for an AnnotatedGraph, False for a Tensor (every node drawn). ``compact``: narrower boxes
    (longer lines wrap) and every array of more than one entry shown by its norm, for a page to show the rest.
    """
    if isinstance(graph, AnnotatedGraph):
        output, formulas = graph.output, graph.formulas
        title = graph.title if title is None else title
        only_named = True if only_named is None else only_named
    elif isinstance(graph, Tensor):
        output, formulas = graph, {}
        only_named = bool(only_named)
    else:
        raise TypeError(f"draw a Tensor or an AnnotatedGraph, got {type(graph).__name__}")
    tensors = list(ad.nodes(output))
    if len(tensors) > MAX_NODES:
        raise ValueError(f"the graph has {len(tensors)} nodes; drawings are limited to {MAX_NODES}")
    keep = {id(t) for t in tensors if not only_named or t.name or t is output}
    order = [t for t in tensors if id(t) in keep]
    parents = _kept_parents(tensors, keep)
    rank = _ranks(order, parents)
    row = _rows(order, parents, rank)
    key = {id(t): f"n{i}" for i, t in enumerate(order)}
    with_formulas = any(_label(t) in formulas for t in order)

    entries, widest = (1, _COMPACT_W) if compact else (4, _MAX_W)
    drafts = []
    for t in order:
        label = _label(t)
        draft = GraphNode(key[id(t)], t, label, tuple(key[id(p)] for p in parents[id(t)]), rank[id(t)], row[id(t)],
                          0, 0, _kind(t, output, bool(parents[id(t)])), formulas.get(label))
        drafts.append((draft, draft.lines(show_values, show_grads, with_formulas, entries)))
    longest = max(len(text) for _, lines in drafts for _, text in lines)
    box_w = int(min(widest, max(_MIN_W, math.ceil(longest * _CHAR) + 2 * _PAD)))
    room = int((box_w - 2 * _PAD) / _CHAR)
    wrapped = [tuple(part for css, text in lines for part in _wrap(css, text, room)) for _, lines in drafts]
    box_h = max(len(lines) for lines in wrapped) * _LINE + 2 * _PAD
    n_ranks = max(rank.values()) + 1
    per_rank = [sum(1 for t in order if rank[id(t)] == r) for r in range(n_ranks)]
    tallest = max(per_rank) * (box_h + _GAP_Y) - _GAP_Y
    top = _MARGIN + (28 if title else 0)
    width = 2 * _MARGIN + n_ranks * box_w + (n_ranks - 1) * _GAP_X
    height = top + tallest + _MARGIN

    nodes = []
    for (draft, _), text in zip(drafts, wrapped, strict=True):
        column_h = per_rank[draft.rank] * (box_h + _GAP_Y) - _GAP_Y
        x = _MARGIN + draft.rank * (box_w + _GAP_X)
        y = top + (tallest - column_h) / 2 + draft.row * (box_h + _GAP_Y)
        nodes.append(replace(draft, x=x, y=y, text=text))
    forward, backward = _steps(order, parents, key)
    return GraphLayout(tuple(nodes), int(width), int(height), box_w, box_h, title or "", tuple(forward),
                       tuple(backward))


# ---------------------------------------------------------------------------------------------- drawing
def _edge_points(layout: GraphLayout, parent: GraphNode, child: GraphNode) -> tuple[float, ...]:
    """Start, two control points and end of the cubic Bezier curve from a parent's right side to a child's left."""
    x0, y0 = parent.x + layout.box_width, parent.y + layout.box_height / 2
    x1, y1 = child.x - 2, child.y + layout.box_height / 2
    bend = max((x1 - x0) / 2, 20)
    return x0, y0, x0 + bend, y0, x1 - bend, y1, x1, y1


def render_svg(layout: GraphLayout) -> str:
    """The layout as a standalone SVG document. Every node is a ``<g class="node KIND" data-key=... data-label=...>``
    holding its box and one ``<text>`` per line (classes ``label op shape value grad closed``)."""
    q = lambda s: escape(str(s), quote=True)  # noqa: E731 - every string that enters the document goes through it
    by_key = {n.key: n for n in layout.nodes}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width}" height="{layout.height}" '
        f'viewBox="0 0 {layout.width} {layout.height}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" '
        f'font-size="{_FONT}" class="autodiff-graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#868e96"/></marker></defs>',
        f'<rect width="{layout.width}" height="{layout.height}" fill="#ffffff"/>',
    ]
    if layout.title:
        parts.append(f'<text x="{_MARGIN}" y="{_MARGIN + 4}" font-size="15" font-weight="bold" fill="#1d2330" '
                     f'class="title">{q(layout.title)}</text>')
    parts.append('<g class="edges">')
    for child in layout.nodes:
        for parent_key in child.parents:
            parent = by_key[parent_key]
            x0, y0, c1x, c1y, c2x, c2y, x1, y1 = _edge_points(layout, parent, child)
            parts.append(f'<path class="edge" data-from="{q(parent.key)}" data-to="{q(child.key)}" '
                         f'd="M {x0:.1f} {y0:.1f} C {c1x:.1f} {c1y:.1f}, {c2x:.1f} {c2y:.1f}, {x1:.1f} {y1:.1f}" '
                         'fill="none" stroke="#868e96" stroke-width="1.4" marker-end="url(#arrow)"/>')
    parts.append("</g>")
    for node in layout.nodes:
        parts.append(f'<g class="node {q(node.kind)}" id="node-{q(node.key)}" data-key="{q(node.key)}" '
                     f'data-label="{q(node.label)}">')
        tip = f"{node.label}: {node.formula.forward if node.formula else node.tensor.op or node.kind}"
        parts.append(f"<title>{q(tip)}</title>")
        parts.append(f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{layout.box_width}" '
                     f'height="{layout.box_height}" rx="7" fill="{_FILL[node.kind]}" stroke="{_STROKE[node.kind]}" '
                     'stroke-width="1.5"/>')
        for i, (css, text) in enumerate(node.text):
            style = ' font-weight="bold" font-size="13"' if css == "label" else ""
            colour = {"label": "#1d2330", "grad": "#c92a2a", "closed": "#2b8a3e"}.get(css, "#495057")
            y = node.y + _PAD + (i + 1) * _LINE - 4
            parts.append(f'<text x="{node.x + _PAD:.1f}" y="{y:.1f}" class="{css}" fill="{colour}"{style}>'
                         f"{q(text)}</text>")
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _import_matplotlib() -> tuple[Any, Any, Any]:
    try:
        from matplotlib import patches
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.path import Path as MplPath
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("a PNG graph needs matplotlib: pip install 'mlpkit[cli]' (or draw an SVG)") from exc
    return Figure, FigureCanvasAgg, (patches, MplPath)


def render_png(layout: GraphLayout, dpi: int = 100) -> bytes:
    """The layout as a PNG of ``width x height`` pixels at ``dpi`` 100 (scaled by dpi/100 otherwise), drawn with
    matplotlib on its own Agg canvas (never through pyplot)."""
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 20 <= dpi <= 600:
        raise ValueError(f"dpi must be a whole number from 20 to 600, got {dpi!r}")
    Figure, FigureCanvasAgg, (patches, MplPath) = _import_matplotlib()
    figure = Figure(figsize=(layout.width / 100, layout.height / 100), dpi=dpi)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, layout.width)
    ax.set_ylim(layout.height, 0)
    ax.axis("off")
    points = 72 / 100  # one pixel of the 100-dpi layout in points
    if layout.title:
        ax.text(_MARGIN, _MARGIN + 4, layout.title, fontsize=15 * points, fontweight="bold", color="#1d2330")
    by_key = {n.key: n for n in layout.nodes}
    for child in layout.nodes:
        for parent_key in child.parents:
            x0, y0, c1x, c1y, c2x, c2y, x1, y1 = _edge_points(layout, by_key[parent_key], child)
            curve = MplPath([(x0, y0), (c1x, c1y), (c2x, c2y), (x1, y1)],
                            [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4])
            ax.add_patch(patches.FancyArrowPatch(path=curve, arrowstyle="-|>", mutation_scale=10, color="#868e96",
                                                 linewidth=1.2))
    for node in layout.nodes:
        ax.add_patch(patches.FancyBboxPatch((node.x, node.y), layout.box_width, layout.box_height,
                                            boxstyle="round,pad=0,rounding_size=7", facecolor=_FILL[node.kind],
                                            edgecolor=_STROKE[node.kind], linewidth=1.2))
        for i, (css, text) in enumerate(node.text):
            colour = {"label": "#1d2330", "grad": "#c92a2a", "closed": "#2b8a3e"}.get(css, "#495057")
            ax.text(node.x + _PAD, node.y + _PAD + (i + 1) * _LINE - 4, text,
                    fontsize=(13 if css == "label" else _FONT) * points, color=colour,
                    fontweight="bold" if css == "label" else "normal")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def draw_graph(graph: Tensor | AnnotatedGraph, path: str | os.PathLike[str] | None = None, *,
               format: str | None = None, show_values: bool = True, show_grads: bool = True,
               only_named: bool | None = None, title: str | None = None, compact: bool = False,
               dpi: int = 100) -> str | bytes | Path:
    """Draw the computation graph ending at ``graph`` (a Tensor, or a builder's :class:`AnnotatedGraph`).

    Each node is a box with its name (or op), its formula or op, its shape, its forward value and its gradient
    (``—`` where autodiff computed none: inputs, constants, or before ``backward()``); with an AnnotatedGraph also
    the lecture's closed form of the gradient (Ng course 1 week 3). Arrays of more than four entries are shown by
    their norm.

    Args:
        path: file to write (atomically); its suffix ``.svg`` or ``.png`` gives the format unless ``format`` does.
        format: ``"svg"`` (default) or ``"png"``.
        only_named, compact: see :func:`layout_graph`.
        dpi: PNG resolution; at 100 the PNG has the SVG's width and height in pixels.

    Returns:
        the written path; without ``path``, the SVG text or the PNG bytes.
    """
    if format is None:
        suffix = Path(path).suffix.lower() if path is not None else ".svg"
        format = {".svg": "svg", ".png": "png"}.get(suffix)
        if format is None:
            raise ValueError(f"the graph file must end in .svg or .png, got {Path(path).name!r}")
    if format not in ("svg", "png"):
        raise ValueError(f"format must be 'svg' or 'png', got {format!r}")
    layout = layout_graph(graph, only_named=only_named, show_values=show_values, show_grads=show_grads,
                          title=title, compact=compact)
    content: str | bytes = render_svg(layout) if format == "svg" else render_png(layout, dpi)
    if path is None:
        return content
    return atomic_write_bytes(path, content.encode("utf-8") if isinstance(content, str) else content)


# ---------------------------------------------------------------------------------------------- the lecture
def _array(value: Any, name: str) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {' '.join(str(exc).split())}") from None
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return array


def _expect(array: np.ndarray, shape: tuple[int, ...], name: str, lecture: str) -> None:
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape} ({lecture}), got {array.shape}")


def _labels(y: np.ndarray, name: str) -> None:
    if ((y < 0) | (y > 1)).any():
        raise ValueError(f"{name} must hold labels in [0, 1] (the cross-entropy's y), got {y.min():g} to {y.max():g}")


def _name(tensor: Tensor, name: str) -> Tensor:
    tensor.name = name
    return tensor


def _s(*items: str | tuple[str, Any]) -> str:
    """A shape equation such as ``W1 (4, 2) · X (2, 3) + b1 (4, 1) → Z1 (4, 3)``: operands are (name, array)
    pairs, operators plain strings."""
    return " ".join(item if isinstance(item, str) else f"{item[0]} {_shape(item[1])}" for item in items)


def logistic_regression_graph(x: Any, y: float, w: Any, b: float) -> AnnotatedGraph:
    """The lecture's first graph, logistic regression on one example (Ng course 1 week 3, and week 2):
    z = wᵀx + b, a = σ(z), L(a, y) = −(y log a + (1 − y) log(1 − a)).

    ``x`` and ``w`` are column vectors of n_x entries (shape (n_x,) or (n_x, 1)), ``y`` is the label in [0, 1],
    ``b`` a number. The backward pass gives, as the lecture derives them: da = −y/a + (1 − y)/(1 − a),
    dz = da · σ'(z) = a − y, dw = x·dz, db = dz.
    """
    xs, ws = _array(x, "x"), _array(w, "w")
    n_x = xs.size
    for name, vector in (("x", xs), ("w", ws)):
        if n_x == 0 or vector.shape not in ((n_x,), (n_x, 1)):
            raise ValueError(f"{name} must be a column vector of n_x = {n_x} entries, shape (n_x,) or (n_x, 1); "
                             f"got {vector.shape}")
    xs, ws = xs.reshape(n_x, 1), ws.reshape(n_x, 1)
    yv, bv = _array(y, "y"), _array(b, "b")
    if yv.shape != () or bv.shape != ():
        raise ValueError(f"y and b must be single numbers, got shapes {yv.shape} and {bv.shape}")
    _labels(yv, "y")
    tx, ty = Tensor(xs, name="x"), Tensor(yv, name="y")
    tw, tb = Tensor(ws, requires_grad=True, name="w"), Tensor(bv, requires_grad=True, name="b")
    z = _name(ad.sum(tw.T @ tx) + tb, "z")
    a = _name(ad.sigmoid(z), "a")
    loss = _name(-(ty * ad.log(a) + (1.0 - ty) * ad.log(1.0 - a)), "L")
    loss.backward()

    av, yf = float(a.data), float(yv)
    dz = av - yf
    closed = {"L": np.array(1.0), "a": np.array(-yf / av + (1 - yf) / (1 - av)), "z": np.array(dz),
              "w": xs * dz, "b": np.array(dz)}
    formulas = {
        "x": Formula("input (no derivative: x is fixed)", _s(("x", xs))),
        "y": Formula("label", "scalar"),
        "w": Formula("parameter", _s(("w", ws)), "dw = x·dz", _s(("x", xs), "·", ("dz", 0.0), "→",
                                                                 ("dw", ws))),
        "b": Formula("parameter", "scalar", "db = dz", "scalar"),
        "z": Formula("z = wᵀx + b", _s(("wᵀ", ws.T), "·", ("x", xs), "+", ("b", 0.0), "→",
                                      ("z", 0.0)),
                     "dz = a − y", "scalar"),
        "a": Formula("a = σ(z)", "scalar", "da = −y/a + (1−y)/(1−a)", "scalar"),
        "L": Formula("L = −(y log a + (1−y) log(1−a))", "scalar", "dL = 1", "scalar"),
    }
    note = ("One example, as in the lecture: x and w are column vectors (n_x, 1); dz = da·σ'(z) collapses to a − y "
            "for the sigmoid with the cross-entropy loss.")
    return AnnotatedGraph(loss, "Logistic regression (Ng course 1 week 3)", note, formulas, closed)


def two_layer_graph(X: Any, Y: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> AnnotatedGraph:
    """The lecture's 2-layer network, vectorized over m examples (Ng course 1 week 3): tanh hidden layer,
    sigmoid output, cross-entropy cost.

    Z1 = W1·X + b1, A1 = tanh(Z1), Z2 = W2·A1 + b2, A2 = σ(Z2),
    J = −(1/m) Σ [Y log A2 + (1 − Y) log(1 − A2)].

    The lecture's convention, used here: examples are *columns*. X is (n_x, m), Y is (n_y, m) (n_y = 1 in the
    lecture), W1 is (n_h, n_x), b1 is (n_h, 1), W2 is (n_y, n_h), b2 is (n_y, 1). mlpkit's layers use the
    transposed convention, examples as *rows* (X (m, n_x), Z = X·W + b with W (n_x, n_h)): the same maths, every
    matrix transposed; :func:`network_graph` draws that one.

    The lecture's derivatives: dZ2 = A2 − Y, dW2 = (1/m) dZ2·A1ᵀ, db2 = (1/m) Σ dZ2,
    dZ1 = W2ᵀ·dZ2 * g'(Z1) with g'(Z1) = 1 − A1², dW1 = (1/m) dZ1·Xᵀ, db1 = (1/m) Σ dZ1. The lecture's dZ is the
    derivative of each example's loss; autodiff's gradient of the cost J is dZ/m (the 1/m of the mean), which is
    why the 1/m appears only in dW and db. ``closed_forms`` holds the gradients of J (dZ/m, dW...).
    """
    Xa, Ya = _array(X, "X"), _array(Y, "Y")
    W1a, b1a, W2a, b2a = _array(W1, "W1"), _array(b1, "b1"), _array(W2, "W2"), _array(b2, "b2")
    if Xa.ndim != 2 or Xa.size == 0:
        raise ValueError(f"X must be a matrix (n_x, m) with one example per column (the lecture's X), got shape "
                         f"{Xa.shape}")
    (n_x, m), n_h = Xa.shape, W1a.shape[0] if W1a.ndim == 2 else -1
    n_y = W2a.shape[0] if W2a.ndim == 2 else -1
    _expect(W1a, (max(n_h, 1), n_x), "W1", "(n_h, n_x): Z1 = W1·X")
    _expect(b1a, (n_h, 1), "b1", "(n_h, 1)")
    _expect(W2a, (max(n_y, 1), n_h), "W2", "(n_y, n_h): Z2 = W2·A1")
    _expect(b2a, (n_y, 1), "b2", "(n_y, 1)")
    _expect(Ya, (n_y, m), "Y", "(n_y, m): one label per column of X")
    _labels(Ya, "Y")
    tX, tY = Tensor(Xa, name="X"), Tensor(Ya, name="Y")
    tW1, tb1 = Tensor(W1a, requires_grad=True, name="W1"), Tensor(b1a, requires_grad=True, name="b1")
    tW2, tb2 = Tensor(W2a, requires_grad=True, name="W2"), Tensor(b2a, requires_grad=True, name="b2")
    Z1 = _name(tW1 @ tX + tb1, "Z1")
    A1 = _name(ad.tanh(Z1), "A1")
    Z2 = _name(tW2 @ A1 + tb2, "Z2")
    A2 = _name(ad.sigmoid(Z2), "A2")
    J = _name(ad.sum(tY * ad.log(A2) + (1.0 - tY) * ad.log(1.0 - A2)) * (-1.0 / m), "J")
    J.backward()

    a1, a2 = A1.data, A2.data
    dZ2 = a2 - Ya
    dZ1 = W2a.T @ dZ2 * (1 - a1 ** 2)
    closed = {
        "J": np.array(1.0), "A2": (-Ya / a2 + (1 - Ya) / (1 - a2)) / m, "Z2": dZ2 / m,
        "W2": dZ2 @ a1.T / m, "b2": dZ2.sum(axis=1, keepdims=True) / m, "A1": W2a.T @ dZ2 / m, "Z1": dZ1 / m,
        "W1": dZ1 @ Xa.T / m, "b1": dZ1.sum(axis=1, keepdims=True) / m,
    }
    one = np.zeros(())
    formulas = {
        "X": Formula("input (no derivative: X is fixed)", _s(("X", Xa))),
        "Y": Formula("labels", _s(("Y", Ya))),
        "W1": Formula("parameter", _s(("W1", W1a)), "dW1 = (1/m) dZ1·Xᵀ",
                      _s(("dZ1", Z1.data), "·", ("Xᵀ", Xa.T), "→", ("dW1", W1a))),
        "b1": Formula("parameter", _s(("b1", b1a)), "db1 = (1/m) Σ dZ1 over the examples",
                      _s(("dZ1", Z1.data), "→", ("db1", b1a))),
        "Z1": Formula("Z1 = W1·X + b1", _s(("W1", W1a), "·", ("X", Xa), "+", ("b1", b1a), "→",
                                          ("Z1", Z1.data)),
                      "dZ1 = W2ᵀ·dZ2 * (1 − A1²)",
                      _s(("W2ᵀ", W2a.T), "·", ("dZ2", dZ2), "*", ("g'(Z1)", a1), "→", ("dZ1", a1))),
        "A1": Formula("A1 = tanh(Z1)", _s(("Z1", Z1.data), "→", ("A1", a1)), "dA1 = W2ᵀ·dZ2",
                      _s(("W2ᵀ", W2a.T), "·", ("dZ2", dZ2), "→", ("dA1", a1))),
        "W2": Formula("parameter", _s(("W2", W2a)), "dW2 = (1/m) dZ2·A1ᵀ",
                      _s(("dZ2", dZ2), "·", ("A1ᵀ", a1.T), "→", ("dW2", W2a))),
        "b2": Formula("parameter", _s(("b2", b2a)), "db2 = (1/m) Σ dZ2 over the examples",
                      _s(("dZ2", dZ2), "→", ("db2", b2a))),
        "Z2": Formula("Z2 = W2·A1 + b2", _s(("W2", W2a), "·", ("A1", a1), "+", ("b2", b2a), "→",
                                           ("Z2", dZ2)),
                      "dZ2 = A2 − Y", _s(("A2", a2), "−", ("Y", Ya), "→", ("dZ2", dZ2))),
        "A2": Formula("A2 = σ(Z2)", _s(("Z2", dZ2), "→", ("A2", a2)), "dA2 = −Y/A2 + (1−Y)/(1−A2)",
                      _s(("dA2", a2))),
        "J": Formula("J = −(1/m) Σ [Y log A2 + (1−Y) log(1−A2)]", _s(("A2", a2), "→", ("J", one)), "dJ = 1",
                     "scalar"),
    }
    note = (f"The lecture's convention: one example per column. X (n_x, m) = {_shape(Xa)}, W1 (n_h, n_x) = "
            f"{_shape(W1a)}, W2 (n_y, n_h) = {_shape(W2a)}. mlpkit's layers store the transposes (rows are "
            "examples: Z = X·W + b). The lecture's dZ is per example; autodiff's gradient of the mean cost J is "
            "dZ/m, so the 1/m shows up in dW and db.")
    return AnnotatedGraph(J, "2-layer network (Ng course 1 week 3)", note, formulas, closed)


def lecture_example(name: str, *, n_x: int = 2, n_h: int = 4, m: int = 3, seed: int = 0) -> AnnotatedGraph:
    """One of the lecture's graphs on random data: ``"logistic"`` (one example of n_x features) or
    ``"two-layer"`` (n_x inputs, n_h tanh units, one sigmoid output, m examples).

    Inputs are N(0, 1), labels 0 or 1; weights are N(0, 0.5²) (larger than the course's 0.01 so that tanh bends
    visibly) and biases N(0, 0.1²), all from ``numpy.random.default_rng(seed)``.
    """
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; choose one of {', '.join(EXAMPLES)}")
    for label, value in (("n_x", n_x), ("n_h", n_h), ("m", m)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_EXAMPLE_SIZE:
            raise ValueError(f"{label} must be a whole number from 1 to {MAX_EXAMPLE_SIZE}, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    if name == "logistic":
        x = rng.normal(size=(n_x, 1))
        return logistic_regression_graph(x, float(rng.integers(0, 2)), rng.normal(0, 0.5, size=(n_x, 1)),
                                         float(rng.normal(0, 0.1)))
    X = rng.normal(size=(n_x, m))
    Y = rng.integers(0, 2, size=(1, m)).astype(np.float64)
    return two_layer_graph(X, Y, rng.normal(0, 0.5, size=(n_h, n_x)), rng.normal(0, 0.1, size=(n_h, 1)),
                           rng.normal(0, 0.5, size=(1, n_h)), rng.normal(0, 0.1, size=(1, 1)))


# ---------------------------------------------------------------------------------------------- a Network
def _activate(z: Tensor, function: Any) -> Tensor | None:
    """g(z) in autodiff terms for mlpkit's activation ``function``; None for the identity."""
    if isinstance(function, Identity):
        return None
    if isinstance(function, Sigmoid):
        return ad.sigmoid(z)
    if isinstance(function, Tanh):
        return ad.tanh(z)
    if isinstance(function, ReLU):
        return ad.relu(z)
    if isinstance(function, LeakyReLU):
        return ad.maximum(z, z * function.alpha)
    if isinstance(function, Softmax):
        return ad.softmax(z, axis=-1)
    raise ValueError(f"network_graph draws sigmoid, tanh, relu, leaky_relu, softmax and identity activations, "
                     f"not {function.name}")


def network_graph(network: Network, X: Any, y: Any) -> AnnotatedGraph:
    """The computation graph of a small mlpkit :class:`~mlpkit.network.Network` (Dense and Activation layers) on
    the batch (X, y), built in autodiff terms with mlpkit's convention: examples are *rows*,
    Zℓ = Aℓ₋₁·Wℓ + bℓ with Wℓ of shape (n_in, n_out) (the lecture's Wℓ transposed), Aℓ = g(Zℓ), and the mean
    cost J of the network's loss (quadratic, binary or categorical cross-entropy) over the rows, without a
    regularization term. The loss is taken from A, as the lecture writes it, so every A has its gradient.

    ``closed_forms`` holds mlpkit's own gradients of the weights and biases, from the hand-written backward pass
    of :class:`~mlpkit.network.Network` (Nielsen BP1-BP4): autodiff and backpropagation side by side.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network_graph needs an mlpkit Network, got {type(network).__name__}")
    for i, layer in enumerate(network.layers):
        if not isinstance(layer, (Dense, Activation)):
            raise ValueError(f"network_graph draws Dense and Activation layers only; layer {i} is "
                             f"{type(layer).__name__}")
    if len(network.layers) > MAX_NETWORK_LAYERS or network.n_params > MAX_NETWORK_PARAMETERS:
        raise ValueError(f"the network is too large to draw ({len(network.layers)} layers, {network.n_params} "
                         f"parameters); the limit is {MAX_NETWORK_LAYERS} layers and {MAX_NETWORK_PARAMETERS} "
                         "parameters")
    net = network.astype("float64")
    net.regularizer = None
    for layer in net.layers:
        layer.regularizer = None
    Xa = check_features(X, "X", n_features=net.input_dim, dtype=np.float64)
    if Xa.shape[0] > MAX_NETWORK_ROWS:
        raise ValueError(f"draw the graph on a small batch: at most {MAX_NETWORK_ROWS} rows, got {Xa.shape[0]}")
    Ya = check_targets(y, Xa.shape[0], net.output_dim, "y", dtype=np.float64)
    m = Xa.shape[0]

    A: Tensor = Tensor(Xa, name="X")
    tY = Tensor(Ya, name="Y")
    formulas: dict[str, Formula] = {"X": Formula("input, one example per row", _s(("X", Xa))),
                                    "Y": Formula("targets", _s(("Y", Ya)))}
    backward: dict[str, str] = {}  # node -> its derivative, by the chain rule through the node that uses it
    previous, level = "X", 0
    for layer in net.layers:
        if isinstance(layer, Dense):
            level += 1
            if previous != "X":
                backward[previous] = f"d{previous} = dZ{level}·W{level}ᵀ"
            W = Tensor(layer.params["W"].copy(), requires_grad=True, name=f"W{level}")
            Z = A @ W
            formulas[f"W{level}"] = Formula("parameter (n_in, n_out)", _s((f"W{level}", W.data)),
                                            f"dW{level} = {previous}ᵀ·dZ{level}")
            shapes = [(previous, A.data), "·", (f"W{level}", W.data)]
            if "b" in layer.params:
                b = Tensor(layer.params["b"].copy(), requires_grad=True, name=f"b{level}")
                Z = Z + b
                formulas[f"b{level}"] = Formula("parameter", _s((f"b{level}", b.data)),
                                                f"db{level} = Σ dZ{level} over the rows")
                shapes += ["+", (f"b{level}", b.data)]
            bias = f" + b{level}" if "b" in layer.params else ""
            Z = _name(Z, f"Z{level}")
            formulas[f"Z{level}"] = Formula(f"Z{level} = {previous}·W{level}{bias}",
                                            _s(*shapes, "→", (f"Z{level}", Z.data)))
            A, previous = Z, f"Z{level}"
        activated = _activate(A, layer.activation_fn)
        if activated is not None:
            name = f"A{level}"
            while name in formulas:  # Activation layers in a row
                name += "'"
            g = layer.activation_fn.name
            backward[previous] = (f"d{previous} = softmax'({previous})ᵀ·d{name} (its Jacobian)" if g == "softmax"
                                  else f"d{previous} = d{name} * {g}'({previous})")
            A = _name(activated, name)
            formulas[name] = Formula(f"{name} = {g}({previous})", _s((name, A.data)))
            previous = name
    out, loss = previous, net.loss.name
    if loss == "quadratic":
        per_row = 0.5 * ad.sum((A - tY) ** 2)
        text, backward[out] = f"J = (1/2m) Σ ‖{out} − Y‖²", f"d{out} = ({out} − Y)/m"
    elif loss == "binary_crossentropy":
        per_row = -ad.sum(tY * ad.log(A) + (1.0 - tY) * ad.log(1.0 - A))
        text = f"J = −(1/m) Σ [Y log {out} + (1−Y) log(1−{out})]"
        backward[out] = f"d{out} = (−Y/{out} + (1−Y)/(1−{out}))/m"
    elif loss == "categorical_crossentropy":
        per_row = -ad.sum(tY * ad.log(A))
        text, backward[out] = f"J = −(1/m) Σ Y log {out}", f"d{out} = −Y/(m {out})"
    else:  # pragma: no cover - every loss mlpkit ships is handled above
        raise ValueError(f"network_graph does not know the loss {loss}")
    output_fn = net.layers[-1].activation_fn
    if (loss, output_fn.name) in (("binary_crossentropy", "sigmoid"), ("categorical_crossentropy", "softmax")):
        z_out = f"Z{level}"  # the lecture's dZ = A − Y: g' cancels against the cost's derivative
        backward[z_out] = f"d{z_out} = ({out} − Y)/m"
    J = _name(per_row * (1.0 / m), "J")
    J.backward()
    formulas["J"] = Formula(text, "scalar", "dJ = 1")
    formulas.update({name: replace(formulas[name], backward=text) for name, text in backward.items()})

    net.compute_gradients(Xa, Ya)
    closed: dict[str, np.ndarray] = {"J": np.array(1.0)}
    level = 0
    for layer in net.layers:
        if isinstance(layer, Dense):
            level += 1
            closed.update({f"{key}{level}": grad.copy() for key, grad in layer.grads.items()})
    note = ("mlpkit's convention: one example per row, Z = A·W + b with W of shape (n_in, n_out), the transpose of "
            "the lecture's W (n_out, n_in); dW = Aᵀ·dZ is the lecture's dZ·Aᵀ transposed. The cost is the mean "
            "over the rows, without the regularization term.")
    return AnnotatedGraph(J, f"Network {net.sizes} ({net.loss.name})", note, formulas, closed)


# ---------------------------------------------------------------------------------------------- expressions
#: functions an expression may call (``mlpkit graph --expr``), each with its number of arguments
EXPRESSION_FUNCTIONS: dict[str, tuple[Callable[..., Tensor], int]] = {
    "exp": (ad.exp, 1), "log": (ad.log, 1), "sqrt": (ad.sqrt, 1), "abs": (ad.abs, 1), "square": (ad.square, 1),
    "sigmoid": (ad.sigmoid, 1), "tanh": (ad.tanh, 1), "relu": (ad.relu, 1), "sum": (ad.sum, 1),
    "mean": (ad.mean, 1), "maximum": (ad.maximum, 2), "minimum": (ad.minimum, 2),
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b, ast.MatMult: lambda a, b: a @ b,
}


def parse_expression(text: str, variables: Mapping[str, Any]) -> Tensor:
    """Build the autodiff graph of ``text``, e.g. ``"w**2 - 10*w + 25"``, with ``variables`` (name -> number or
    array) as leaves that require a gradient, each named after its variable.

    Only these pieces of Python's expression syntax are accepted (checked on the :mod:`ast` tree, never
    evaluated by Python): numbers, variable names, the constants pi and e, ``+ - * / ** @``, unary minus and
    plus, parentheses, and calls of the functions in :data:`EXPRESSION_FUNCTIONS` with positional arguments.
    Anything else (attributes, subscripts, strings, keywords, lambdas, comprehensions...) is refused.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"the expression has {len(text)} characters; at most {MAX_EXPRESSION_CHARS} are read")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(f"not an expression: {getattr(exc, 'msg', None) or exc}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_EXPRESSION_NODES:
        raise ValueError(f"the expression is too long ({count} syntax nodes; at most {MAX_EXPRESSION_NODES})")
    leaves: dict[str, Tensor] = {}
    for name, value in variables.items():
        if not isinstance(name, str) or not name.isidentifier() or name in EXPRESSION_FUNCTIONS or name in _CONSTANTS:
            raise ValueError(f"{name!r} cannot name a variable (a Python identifier, not a function or pi/e)")
        leaves[name] = Tensor(_array(value, f"variable {name}"), requires_grad=True, name=name)
    allowed = ", ".join(sorted(EXPRESSION_FUNCTIONS))

    def build(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return build(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ValueError(f"only numbers may appear as constants, not {node.value!r}")
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id in leaves:
                return leaves[node.id]
            if node.id in _CONSTANTS:
                return _CONSTANTS[node.id]
            given = ", ".join(leaves) or "none"
            raise ValueError(f"unknown name {node.id!r}; variables given: {given} (add --var {node.id}=VALUE)")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](build(node.left), build(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in EXPRESSION_FUNCTIONS:
                called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise ValueError(f"cannot call {called!r}; the functions are {allowed}")
            function, arity = EXPRESSION_FUNCTIONS[node.func.id]
            if node.keywords or len(node.args) != arity or any(isinstance(a, ast.Starred) for a in node.args):
                raise ValueError(f"{node.func.id} takes {arity} positional argument{'s' if arity > 1 else ''}")
            args = [build(a) for a in node.args]
            return function(*[a if isinstance(a, Tensor) else Tensor(a) for a in args])
        raise ValueError(f"{type(node).__name__} is not allowed in an expression: use numbers, variables, "
                         f"+ - * / ** @, parentheses and the functions {allowed}")

    try:
        result = build(tree)
    except (ArithmeticError, RecursionError) as exc:
        raise ValueError(f"cannot compute the expression: {exc}") from None
    if not isinstance(result, Tensor) or not any(t.requires_grad for t in ad.nodes(result)):
        raise ValueError("the expression uses no variable: there is nothing to differentiate")
    return result

