"""``mlpkit graph``: draw a computation graph (:mod:`mlpkit.autodiff.draw`) as SVG or PNG and print its nodes.

Three sources, one at a time: ``--example logistic|two-layer`` (the graphs of Ng course 1 week 3 on random data),
``--expr "w**2 - 10*w + 25" --var w=3`` (an expression, read through a whitelist of syntax, never evaluated by
Python) and ``--model FILE`` (a small saved network on a random batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.table import Table

from ..autodiff import Tensor
from ..autodiff.draw import AnnotatedGraph, draw_graph, layout_graph, lecture_example, network_graph, parse_expression
from ..gradcheck import random_batch
from ..settings import SettingsError
from ..settings.rundir import load_model
from ._display import make_console

#: largest model file ``--model`` reads (the graph of a large network is no longer readable anyway)
MAX_MODEL_BYTES = 4 * 1024 * 1024


def parse_variables(pairs: Sequence[str]) -> dict[str, np.ndarray]:
    """``--var w=3`` and ``--var x=1,2,3`` -> {name: value}; a one-line error naming the bad option."""
    variables: dict[str, np.ndarray] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name or not text.strip():
            raise SettingsError(f"--var {pair!r}: expected NAME=VALUE, e.g. --var w=3 or --var x=1,2,3")
        if name in variables:
            raise SettingsError(f"--var {name} is given twice")
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            raise SettingsError(f"--var {pair!r}: the value must be a number or numbers separated by commas") \
                from None
        if not np.isfinite(values).all():
            raise SettingsError(f"--var {pair!r}: the value must be finite")
        variables[name] = np.array(values[0] if len(values) == 1 else values)
    return variables


def _model_graph(path: Path, examples: int, seed: int) -> AnnotatedGraph:
    if not path.is_file():
        raise SettingsError(f"--model {path}: no such file")
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise SettingsError(f"--model {path.name} is {size / 1e6:.1f} MB; mlpkit graph draws small models (files "
                            f"up to {MAX_MODEL_BYTES / 1e6:.0f} MB)")
    network = load_model(path)
    X, y = random_batch(network, examples, seed)
    try:
        return network_graph(network, X, y)
    except ValueError as exc:
        raise SettingsError(f"--model {path.name}: {exc}") from None


def _expression_graph(text: str, pairs: Sequence[str]) -> Tensor:
    variables = parse_variables(pairs)
    try:
        output = parse_expression(text, variables)
    except ValueError as exc:
        raise SettingsError(f"--expr: {exc}") from None
    if output.size != 1:
        raise SettingsError(f"--expr gives an array of shape {output.shape}; wrap it in sum(...) or mean(...) to get "
                            "the single number that backpropagation starts from")
    output.backward()
    return output


def graph(example: str | None, expr: str | None, variables: Sequence[str], model: Path | None, out: Path,
          seed: int, n_x: int, n_h: int, m: int, examples: int) -> int:
    """Build the graph, write ``out`` (.svg or .png) and print one row per node in the forward order."""
    given = [flag for flag, value in (("--example", example), ("--expr", expr), ("--model", model))
             if value is not None]
    if len(given) != 1:
        raise SettingsError("give exactly one of --example, --expr or --model" +
                            (f" (got {' and '.join(given)})" if given else ""))
    if variables and expr is None:
        raise SettingsError("--var gives the variables of --expr")
    if out.suffix.lower() not in (".svg", ".png"):
        raise SettingsError(f"--out {out.name}: the graph file must end in .svg or .png")
    if example is not None:
        source: Tensor | AnnotatedGraph = lecture_example(example, n_x=n_x, n_h=n_h, m=m, seed=seed)
    elif expr is not None:
        source = _expression_graph(expr, variables)
    else:
        source = _model_graph(model, examples, seed)
    written = draw_graph(source, out)
    layout = layout_graph(source)
    console = make_console()
    if isinstance(source, AnnotatedGraph):
        console.print(f"[bold]{source.title}[/]")
        console.print(source.note)
    table = Table(title="forward order (the gradients come from one backward pass)", title_justify="left")
    for header in ("node", "computed as", "shape", "value", "gradient", "closed form"):
        table.add_column(header)
    by_key = {node.key: node for node in layout.nodes}
    for key in layout.forward:
        node = by_key[key]
        lines = dict(node.lines(True, True, True))
        table.add_row(node.label, lines["op"], lines["shape"].removeprefix("shape "),
                      lines["value"].removeprefix("value "), lines["grad"].removeprefix("grad "), lines["closed"])
    console.print(table)
    console.print(f"wrote {written} ({len(layout.nodes)} nodes)")
    return 0
