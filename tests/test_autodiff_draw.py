"""The computation graph drawn (mlpkit.autodiff.draw): the lecture's graphs with their closed-form gradients,
SVG and PNG output, the layered layout and its step orders, a Network's graph, and the safe expression reader."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import mlpkit.autodiff as ad
from mlpkit import Dense, Network
from mlpkit.autodiff import Tensor
from mlpkit.autodiff.draw import (
    MAX_NETWORK_ROWS,
    AnnotatedGraph,
    draw_graph,
    layout_graph,
    lecture_example,
    logistic_regression_graph,
    network_graph,
    parse_expression,
    two_layer_graph,
)
from mlpkit.layers import Activation, Dropout

SVG = "{http://www.w3.org/2000/svg}"


def svg_nodes(svg: str) -> dict[str, ET.Element]:
    """data-label -> <g class="node"> of a drawing (parsing it also checks that it is well-formed XML)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return {g.get("data-label"): g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()}


def texts(g: ET.Element) -> dict[str, str]:
    return {t.get("class"): t.text or "" for t in g.iter(f"{SVG}text")}


def edges(svg: str) -> set[tuple[str, str]]:
    root = ET.fromstring(svg)
    label = {g.get("data-key"): g.get("data-label") for g in root.iter(f"{SVG}g") if g.get("data-key")}
    return {(label[p.get("data-from")], label[p.get("data-to")]) for p in root.iter(f"{SVG}path")
            if p.get("class") == "edge"}


def numerical_gradient(f, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(array)
    for i in np.ndindex(array.shape):
        keep = array[i]
        array[i] = keep + eps
        up = f()
        array[i] = keep - eps
        down = f()
        array[i] = keep
        grad[i] = (up - down) / (2 * eps)
    return grad


# ------------------------------------------------------------------------------------------- the lecture's graphs
def test_two_layer_svg_has_the_lectures_nodes_edges_and_formulas():
    graph = lecture_example("two-layer", n_x=2, n_h=4, m=3, seed=0)
    svg = draw_graph(graph)
    nodes = svg_nodes(svg)
    assert set(nodes) == {"X", "Y", "W1", "b1", "Z1", "A1", "W2", "b2", "Z2", "A2", "J"}
    assert texts(nodes["Z1"])["op"] == "Z1 = W1·X + b1"
    assert texts(nodes["Z1"])["shape"] == "shape (4, 3)"
    assert texts(nodes["W1"])["shape"] == "shape (4, 2)"  # the lecture's (n_h, n_x)
    assert texts(nodes["Z2"])["closed"] == "dZ2 = A2 − Y"
    assert texts(nodes["W2"])["closed"] == "dW2 = (1/m) dZ2·A1ᵀ"
    assert texts(nodes["Z1"])["closed"] == "dZ1 = W2ᵀ·dZ2 * (1 − A1²)"
    assert texts(nodes["J"])["value"] == f"value {graph.output.item():.4g}"
    assert texts(nodes["b2"])["grad"] == f"grad {graph.node('b2').grad.item():.4g}"
    assert texts(nodes["X"])["grad"] == "grad —"  # the lecture: no derivative with respect to the data
    assert {("W1", "Z1"), ("X", "Z1"), ("b1", "Z1"), ("Z1", "A1"), ("A1", "Z2"), ("W2", "Z2"), ("b2", "Z2"),
            ("Z2", "A2"), ("A2", "J"), ("Y", "J")} == edges(svg)


def test_logistic_regression_svg_has_x_w_b_z_a_L_and_da():
    graph = logistic_regression_graph([1.0, -2.0, 0.5], 1, [0.3, 0.1, -0.2], 0.1)
    svg = draw_graph(graph)
    nodes = svg_nodes(svg)
    assert set(nodes) == {"x", "w", "b", "z", "a", "L", "y"}
    assert texts(nodes["a"])["closed"] == "da = −y/a + (1−y)/(1−a)"
    assert texts(nodes["z"])["closed"] == "dz = a − y"
    assert texts(nodes["w"])["closed"] == "dw = x·dz"
    assert texts(nodes["b"])["closed"] == "db = dz"
    assert edges(svg) == {("w", "z"), ("x", "z"), ("b", "z"), ("z", "a"), ("a", "L"), ("y", "L")}


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_logistic_regression_gradients_are_the_lectures_closed_forms(y):
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=4), rng.normal(size=4), 0.3
    graph = logistic_regression_graph(x, y, w, b)
    a = 1 / (1 + np.exp(-(w @ x + b)))
    assert graph.node("a").item() == pytest.approx(a, rel=1e-12)
    # the lecture's derivatives, written out here
    assert graph.node("a").grad == pytest.approx(-y / a + (1 - y) / (1 - a), rel=1e-12)
    assert graph.node("z").grad == pytest.approx(a - y, rel=1e-12)
    np.testing.assert_allclose(graph.node("w").grad, (x * (a - y)).reshape(4, 1), rtol=1e-12)
    assert graph.node("b").grad == pytest.approx(a - y, rel=1e-12)
    for name, closed in graph.closed_forms.items():
        np.testing.assert_allclose(graph.node(name).grad, closed, rtol=1e-12, atol=1e-15, err_msg=name)


@pytest.mark.parametrize(("n_x", "n_h", "m", "seed"), [(2, 4, 3, 0), (3, 1, 1, 1), (5, 7, 8, 2)])
def test_two_layer_gradients_are_the_lectures_closed_forms(n_x, n_h, m, seed):
    graph = lecture_example("two-layer", n_x=n_x, n_h=n_h, m=m, seed=seed)
    for name, closed in graph.closed_forms.items():
        np.testing.assert_allclose(graph.node(name).grad, closed, rtol=1e-10, atol=1e-14, err_msg=name)
    X, Y = graph.node("X").data, graph.node("Y").data
    A1, A2, W2 = graph.node("A1").data, graph.node("A2").data, graph.node("W2").data
    dZ2 = A2 - Y  # the lecture's per-example derivative; autodiff's gradient of the mean cost is dZ2 / m
    np.testing.assert_allclose(graph.node("Z2").grad * m, dZ2, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(graph.node("W2").grad, dZ2 @ A1.T / m, rtol=1e-10, atol=1e-14)
    dZ1 = W2.T @ dZ2 * (1 - A1 ** 2)
    np.testing.assert_allclose(graph.node("W1").grad, dZ1 @ X.T / m, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(graph.node("b1").grad, dZ1.sum(axis=1, keepdims=True) / m, rtol=1e-10, atol=1e-14)
    # and both agree with two-sided differences of the cost
    W1, b2 = graph.node("W1").data, graph.node("b2").data

    def cost():
        a1 = np.tanh(W1 @ X + graph.node("b1").data)
        a2 = 1 / (1 + np.exp(-(W2 @ a1 + b2)))
        return -np.mean(Y * np.log(a2) + (1 - Y) * np.log(1 - a2))

    np.testing.assert_allclose(numerical_gradient(cost, W1), graph.node("W1").grad, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(numerical_gradient(cost, b2), graph.node("b2").grad, rtol=1e-5, atol=1e-9)


def test_builders_check_the_lectures_shapes():
    X, Y = np.zeros((2, 3)), np.ones((1, 3))
    W1, b1, W2, b2 = np.zeros((4, 2)), np.zeros((4, 1)), np.zeros((1, 4)), np.zeros((1, 1))
    assert isinstance(two_layer_graph(X, Y, W1, b1, W2, b2), AnnotatedGraph)
    with pytest.raises(ValueError, match=r"W1 must have shape \(4, 2\) \(\(n_h, n_x\)"):
        two_layer_graph(X, Y, W1.T.reshape(4, 2)[:, :1], b1, W2, b2)
    with pytest.raises(ValueError, match=r"X must be a matrix \(n_x, m\)"):
        two_layer_graph(X[0], Y, W1, b1, W2, b2)
    with pytest.raises(ValueError, match=r"Y must have shape \(1, 3\)"):
        two_layer_graph(X, Y.T, W1, b1, W2, b2)
    with pytest.raises(ValueError, match=r"labels in \[0, 1\]"):
        two_layer_graph(X, Y * 2, W1, b1, W2, b2)
    with pytest.raises(ValueError, match="w must be a column vector of n_x = 2 entries"):
        logistic_regression_graph([1.0, 2.0], 1, [1.0, 2.0, 3.0], 0.0)
    with pytest.raises(ValueError, match="NaN"):
        logistic_regression_graph([1.0, np.nan], 1, [1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="unknown example"):
        lecture_example("three-layer")
    with pytest.raises(ValueError, match="n_h must be a whole number from 1 to"):
        lecture_example("two-layer", n_h=0)


# ------------------------------------------------------------------------------------------- layout and steps
def test_layout_ranks_rows_and_the_lectures_step_orders():
    layout = layout_graph(lecture_example("two-layer", seed=4))
    by_key = {n.key: n for n in layout.nodes}
    by_label = {n.label: n for n in layout.nodes}
    for node in layout.nodes:
        for parent in node.parents:
            assert by_key[parent].rank < node.rank
    # the parameters stand just before the node that uses them, as the lecture draws W2 and b2 next to Z2
    assert by_label["W2"].rank == by_label["b2"].rank == by_label["Z2"].rank - 1
    boxes = [(n.x, n.y) for n in layout.nodes]
    for i, (x1, y1) in enumerate(boxes):
        for x2, y2 in boxes[i + 1:]:
            assert abs(x1 - x2) >= layout.box_width or abs(y1 - y2) >= layout.box_height
    assert max(n.x for n in layout.nodes) + layout.box_width < layout.width
    assert max(n.y for n in layout.nodes) + layout.box_height < layout.height
    forward = [by_key[k].label for k in layout.forward]
    assert sorted(forward) == sorted(by_label)
    for node in layout.nodes:
        assert all(forward.index(by_key[p].label) < forward.index(node.label) for p in node.parents)
    assert [by_key[k].label for k in layout.backward] == ["J", "A2", "Z2", "W2", "b2", "A1", "Z1", "W1", "b1"]


def test_a_plain_tensor_draws_every_operation():
    w = Tensor(3.0, requires_grad=True, name="w")
    cost = w ** 2 - 10 * w + 25  # the course's J(w), course 2 week 3
    cost.backward()
    layout = layout_graph(cost)
    assert [n.label for n in layout.nodes if n.kind == "param"] == ["w"]
    assert {n.label for n in layout.nodes if n.kind == "op"} >= {"power", "multiply", "subtract"}
    assert layout.node("w").tensor.grad == pytest.approx(2 * 3 - 10)
    nodes = svg_nodes(draw_graph(cost))
    assert texts(nodes["w"])["grad"] == "grad -4"
    assert texts(nodes["10"])["op"] == "constant"
    # named only: the output keeps its op's label
    assert {n.label for n in layout_graph(cost, only_named=True).nodes} == {"w", "add"}


def test_every_string_is_escaped():
    x = Tensor(np.ones(2), requires_grad=True, name='<script>alert("x")</script>&')
    out = ad.sum(x * 2.0)
    out.name = "total ]]> <"
    svg = draw_graph(out, title="a < b & c")
    assert "<script>" not in svg and "]]> <" not in svg
    assert set(svg_nodes(svg)) >= {'<script>alert("x")</script>&', "total ]]> <"}


def test_drawings_of_very_large_graphs_are_refused():
    x = Tensor(1.0, requires_grad=True, name="x")
    out = x
    for _ in range(500):
        out = out * 1.0
    with pytest.raises(ValueError, match="drawings are limited to"):
        layout_graph(out)


# ------------------------------------------------------------------------------------------- files
def test_svg_and_png_files(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    graph = lecture_example("logistic", n_x=3, seed=2)
    layout = layout_graph(graph)
    svg_path = draw_graph(graph, tmp_path / "graph.svg")
    assert svg_path == tmp_path / "graph.svg"
    root = ET.parse(svg_path).getroot()
    assert (int(root.get("width")), int(root.get("height"))) == (layout.width, layout.height)
    png = image.imread(draw_graph(graph, tmp_path / "graph.png"))
    assert png.shape[:2] == (layout.height, layout.width)
    assert png[..., :3].min() < 0.5 < png[..., :3].max()  # something is drawn on the white ground
    big = image.imread(draw_graph(graph, tmp_path / "big.png", dpi=200))
    assert big.shape[:2] == (2 * layout.height, 2 * layout.width)
    assert draw_graph(graph, format="png")[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"must end in \.svg or \.png"):
        draw_graph(graph, tmp_path / "graph.pdf")
    with pytest.raises(ValueError, match="format must be"):
        draw_graph(graph, format="gif")


# ------------------------------------------------------------------------------------------- a Network
@pytest.mark.parametrize("case", ["softmax", "sigmoid", "activation-layer", "leaky"])
def test_network_graph_gradients_equal_mlpkits_backpropagation(case):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(6, 3))
    if case == "softmax":
        net, y = Network([3, 4, 2], seed=0), rng.integers(0, 2, 6)
    elif case == "sigmoid":
        net, y = Network([3, 4, 1], activation="tanh", output_activation="sigmoid", seed=1), rng.integers(0, 2, 6)
    elif case == "activation-layer":
        net = Network([Dense(4), Activation("relu"), Dense(2, "identity")], input_dim=3, seed=2)
        y = rng.normal(size=(6, 2))
    else:
        net, y = Network([3, 5, 4, 3], activation="leaky_relu", seed=3), rng.integers(0, 3, 6)
    graph = network_graph(net, X, y)
    assert set(graph.closed_forms) > {"W1", "b1", "W2", "b2"}
    for name, closed in graph.closed_forms.items():
        np.testing.assert_allclose(graph.node(name).grad, closed, rtol=1e-8, atol=1e-12, err_msg=name)
    # mlpkit's convention: rows are examples, W1 is (n_in, n_out)
    assert graph.node("X").shape == (6, 3) and graph.node("W1").shape == (3, net.sizes[1])
    assert graph.node("Z1").shape == (6, net.sizes[1])
    labels = set(svg_nodes(draw_graph(graph)))
    assert {"X", "Y", "W1", "b1", "Z1", "A1", "J"} <= labels
    if case in ("softmax", "sigmoid"):  # the lecture's dZ = A − Y at the output, for the mean cost
        assert graph.formulas["Z2"].backward == "dZ2 = (A2 − Y)/m"
        A2, Y = graph.node("A2").data, graph.node("Y").data
        np.testing.assert_allclose(graph.node("Z2").grad, (A2 - Y) / len(X), rtol=1e-10, atol=1e-14)
        assert graph.formulas["W2"].backward == "dW2 = A1ᵀ·dZ2"  # the lecture's dZ2·A1ᵀ, transposed


def test_network_graph_refuses_what_it_cannot_draw():
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match="Dense and Activation layers only; layer 1 is Dropout"):
        network_graph(Network([Dense(4, "relu"), Dropout(0.5), Dense(2, "softmax")], input_dim=3), X, [0, 1])
    with pytest.raises(ValueError, match="too large to draw"):
        network_graph(Network([784, 300, 10]), np.zeros((2, 784)), [0, 1])
    with pytest.raises(ValueError, match=f"at most {MAX_NETWORK_ROWS} rows"):
        network_graph(Network([3, 2]), np.zeros((MAX_NETWORK_ROWS + 1, 3)), np.zeros(MAX_NETWORK_ROWS + 1, int))
    with pytest.raises(ValueError, match="features"):
        network_graph(Network([3, 2]), np.zeros((2, 4)), [0, 1])
    with pytest.raises(TypeError, match="needs an mlpkit Network"):
        network_graph("model.mlpk", X, [0, 1])


# ------------------------------------------------------------------------------------------- expressions
def test_expression_builds_the_graph_of_the_course_cost():
    cost = parse_expression("w**2 - 10*w + 25", {"w": 3.0})
    cost.backward()
    assert cost.item() == pytest.approx(4.0)
    w = next(t for t in ad.nodes(cost) if t.name == "w")
    assert w.grad == pytest.approx(-4.0)
    out = parse_expression("sum(sigmoid(x) * log(y) + maximum(x, -x)) / 2 + pi", {"x": [1.0, -2.0], "y": [3.0, 4.0]})
    out.backward()
    x = np.array([1.0, -2.0])
    s = 1 / (1 + np.exp(-x))
    expected = (np.sum(s * np.log([3.0, 4.0]) + np.abs(x))) / 2 + np.pi
    assert out.item() == pytest.approx(expected)
    grad_x = next(t for t in ad.nodes(out) if t.name == "x").grad
    np.testing.assert_allclose(grad_x, (s * (1 - s) * np.log([3.0, 4.0]) + np.sign(x)) / 2)


@pytest.mark.parametrize("text", [
    "__import__('os')", "__import__('os').system('touch pwned')", "w.real", "w.__class__", "w[0]", "'text'",
    "lambda: 1", "(lambda: w)()", "[w for w in (1, 2)]", "open('x')", "exp(x=w)", "exp(*w)", "w if w else 1",
    "w < 1", "True + w", "1j * w", "eval('w')", "getattr(w, 'grad')", "exp.__call__(w)", "(w := 2)", "{w}",
    "w; w", "import os",
])
def test_expression_reader_refuses_anything_but_arithmetic(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError):
        parse_expression(text, {"w": 2.0})
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(("text", "variables", "message"), [
    ("", {"w": 1.0}, "empty"),
    ("w +", {"w": 1.0}, "not an expression"),
    ("z * 2", {"w": 1.0}, "unknown name 'z'; variables given: w"),
    ("2 + 3", {}, "uses no variable"),
    ("exp(w, w)", {"w": 1.0}, "exp takes 1 positional argument"),
    ("w" + " + w" * 300, {"w": 1.0}, "characters"),
    ("w", {"exp": 1.0}, "cannot name a variable"),
    ("w", {"w": "a"}, "variable w must be numeric"),
])
def test_expression_errors_say_what_was_wrong(text, variables, message):
    with pytest.raises(ValueError, match=message):
        parse_expression(text, variables)
