"""``mlpkit graph``: the lecture's examples, expressions and saved models drawn as SVG or PNG, one-line errors."""

import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("click")
pytest.importorskip("rich")
pytest.importorskip("matplotlib")


import cli_runner
from mlpkit import Dense, Network
from mlpkit.layers import Dropout

SVG = "{http://www.w3.org/2000/svg}"


def run(*args, ok=True):
    return cli_runner.run("graph", *args, ok=ok)


def error(*args) -> str:
    return cli_runner.error("graph", *args)


def labels(path) -> set[str]:
    root = ET.parse(path).getroot()
    return {g.get("data-label") for g in root.iter(f"{SVG}g") if g.get("data-label")}


def test_two_layer_example_writes_the_svg_and_prints_the_nodes(tmp_path):
    out = tmp_path / "graph.svg"
    result = run("--example", "two-layer", "--n-x", 3, "--n-h", 5, "--m", 4, "--seed", 2, "--out", out)
    assert labels(out) == {"X", "Y", "W1", "b1", "Z1", "A1", "W2", "b2", "Z2", "A2", "J"}
    assert "2-layer network (Ng course 1 week 3)" in result.stdout
    assert "Z1 = W1·X + b1" in result.stdout and "dZ2 = A2 − Y" in result.stdout
    assert "(5, 3)" in result.stdout  # W1 is (n_h, n_x), the lecture's shape
    assert f"wrote {out} (11 nodes)" in result.stdout


def test_logistic_example_as_png(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    out = tmp_path / "logistic.png"
    run("--example", "logistic", "--out", out)
    assert image.imread(out).ndim == 3


def test_expression_with_a_variable(tmp_path):
    out = tmp_path / "j.svg"
    result = run("--expr", "w**2 - 10*w + 25", "--var", "w=3", "--out", out)
    assert {"w", "power", "multiply", "add"} <= labels(out)
    row = next(line for line in result.stdout.splitlines() if line.startswith("│ w "))
    assert "-4" in row  # dJ/dw = 2w - 10 at w = 3
    result = run("--expr", "sum(x * x)", "--var", "x=1,2,3", "--out", tmp_path / "x.svg")
    assert "[2, 4, 6]" in result.stdout


def test_saved_model(tmp_path):
    model = tmp_path / "small.mlpk"
    Network([3, 4, 2], seed=0).save(model)
    out = tmp_path / "model.svg"
    result = run("--model", model, "--examples", 5, "--out", out)
    assert {"X", "W1", "b1", "Z1", "A1", "W2", "b2", "Z2", "A2", "J"} <= labels(out)
    assert "Network [3, 4, 2]" in result.stdout and "(5, 3)" in result.stdout


def test_errors_are_one_line(tmp_path):
    out = tmp_path / "g.svg"
    assert "exactly one of --example, --expr or --model" in error("--out", out)
    assert "exactly one" in error("--example", "logistic", "--expr", "w", "--out", out)
    assert "cannot call" in error("--expr", "__import__('os').system('true')", "--out", out)
    assert "Attribute is not allowed" in error("--expr", "w.grad", "--var", "w=1", "--out", out)
    assert "unknown name 'w'" in error("--expr", "w * 2", "--out", out)
    assert "expected NAME=VALUE" in error("--expr", "w", "--var", "w", "--out", out)
    assert "must be a number" in error("--expr", "w", "--var", "w=abc", "--out", out)
    assert "given twice" in error("--expr", "w", "--var", "w=1", "--var", "w=2", "--out", out)
    assert "wrap it in sum" in error("--expr", "x * 2", "--var", "x=1,2", "--out", out)
    assert "--var gives the variables of --expr" in error("--example", "logistic", "--var", "w=1", "--out", out)
    assert "must end in .svg or .png" in error("--example", "logistic", "--out", tmp_path / "g.pdf")
    assert "no such file" in error("--model", tmp_path / "missing.mlpk", "--out", out)
    assert "--n-h" in error("--example", "two-layer", "--n-h", 0, "--out", out)
    assert not out.exists()


def test_large_or_unsupported_models_are_refused(tmp_path):
    big = tmp_path / "big.mlpk"
    Network([784, 300, 10]).save(big)
    message = error("--model", big, "--out", tmp_path / "g.svg")
    assert "big.mlpk" in message and ("too large to draw" in message or "MB" in message)
    dropout = tmp_path / "dropout.mlpk"
    Network([Dense(4, "relu"), Dropout(0.5), Dense(2, "softmax")], input_dim=3).save(dropout)
    assert "layer 1 is Dropout" in error("--model", dropout, "--out", tmp_path / "g.svg")
