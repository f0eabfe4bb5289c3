"""End-to-end: each page of ``mlpkit serve`` in headless Chromium, checked on what it shows."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import mlpkit
import mlpkit.datasets
from mlpkit.activations import sigmoid, softmax


def test_index_links_every_page(page, screenshot):
    page.goto("/")
    links = page.locator(".index-cards a").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
    assert links == ["/slowdown", "/softmax", "/dashboard", "/draw"]
    screenshot(page)


def test_slowdown_run_animates_every_epoch(page, screenshot, server):
    page.goto("/slowdown")
    page.wait_for_selector("body[data-state=done]", timeout=30_000)  # the page runs the book's settings on load
    page.fill("#epochs", "120")
    page.fill("#eta-cross_entropy", "0.15")
    page.click("#run")
    page.wait_for_selector("body[data-state=done]", timeout=30_000)
    assert page.text_content("#epoch") == "120"
    for chart in ("quadratic-cost", "quadratic-output", "cross_entropy-cost", "cross_entropy-output"):
        points = page.locator(f"#chart-{chart} path.series").evaluate_all(
            "(ps) => ps.map((p) => Number(p.dataset.points))")
        assert points == [121, 121], chart
    # the table's last values are the server's numbers for start B with the quadratic cost
    settings = {"w": 2, "b": 2, "eta": 0.15, "cost": "quadratic", "epochs": 120}
    data = page.request.post("/api/neuron", data=settings).json()
    row = page.locator("#values tbody tr").nth(1).locator("td").all_text_contents()
    assert row[0] == "start B, quadratic cost"
    assert float(row[4]) == pytest.approx(data["output"][-1], abs=6e-5)
    assert float(row[5]) == pytest.approx(data["cost"][-1], abs=6e-5)
    screenshot(page)


def bar_values(page) -> np.ndarray:
    return np.array(page.locator("#bars .bar").evaluate_all("(bs) => bs.map((b) => Number(b.dataset.value))"))


def test_softmax_sliders_bars_sum_to_one_and_match_mlpkit(page, screenshot):
    page.goto("/softmax")
    page.focus("#z3")
    for _ in range(10):
        page.keyboard.press("ArrowRight")  # z3 from 3.2 to 4.2, as a user moves the slider
    z = np.array([float(page.input_value(f"#z{j}")) for j in range(1, 5)])
    assert z[2] == pytest.approx(4.2)
    c = float(page.evaluate("document.body.dataset.c"))
    shown = bar_values(page)
    assert shown.sum() == pytest.approx(1.0, abs=1e-12)
    assert float(page.text_content("#softmax-sum")) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(shown, softmax(c * z.astype(np.float64)), rtol=1e-12)
    # a large scale c gives hardmax
    page.click("#c-big")
    assert float(page.evaluate("document.body.dataset.c")) == pytest.approx(100)
    hard = bar_values(page)
    np.testing.assert_allclose(hard, np.eye(4)[np.argmax(z)], atol=1e-12)
    # two classes: softmax(z1, z2)_1 is the logistic function of z1 - z2
    page.focus("#p2")
    for _ in range(7):
        page.keyboard.press("ArrowLeft")
    z1, z2 = float(page.input_value("#p1")), float(page.input_value("#p2"))
    pair = float(page.get_attribute("#pair-softmax", "data-value"))
    logistic = float(page.get_attribute("#pair-sigmoid", "data-value"))
    assert pair == pytest.approx(logistic, rel=1e-12)
    assert pair == pytest.approx(float(sigmoid(np.array(z1 - z2))), rel=1e-12)
    assert page.locator("#chart-logistic path.series").count() == 3
    page.click("#c-one")
    screenshot(page)


WATCH_EPOCHS = """() => { window.seenEpochs = [];
  new MutationObserver((records) => records.forEach(
      (r) => r.addedNodes.forEach((n) => window.seenEpochs.push(Number(n.textContent)))))
    .observe(document.getElementById('epoch'), {childList: true}); }"""


def test_dashboard_training_run_updates_each_epoch(page, screenshot):
    page.goto("/dashboard")
    page.evaluate(WATCH_EPOCHS)
    page.fill("#layers", "auto,20,auto")
    page.fill("#epochs", "6")
    page.click("#start")
    page.wait_for_selector("#status.completed", timeout=60_000)
    seen = page.evaluate("window.seenEpochs")
    assert [e for e in seen if e > 0] == [1, 2, 3, 4, 5, 6]  # the counter advanced through every epoch
    for chart, names in (("cost", ["train", "validation"]), ("accuracy", ["train", "validation"])):
        series = page.locator(f"#chart-{chart} path.series")
        assert series.evaluate_all("(ps) => ps.map((p) => p.dataset.series)") == names
        assert series.evaluate_all("(ps) => ps.map((p) => Number(p.dataset.points))") == [6, 6]
    layers = page.locator("#chart-gradients path.series").evaluate_all("(ps) => ps.map((p) => p.dataset.series)")
    assert layers == ["0: Dense(20, sigmoid)", "1: Dense(10, softmax)"]
    mistakes = page.locator("#mistakes .mistake")
    assert mistakes.count() > 0
    assert "predicted" in mistakes.first.inner_text()
    assert "test accuracy" in page.text_content("#message")
    screenshot(page)


def test_dashboard_stop_button(page):
    page.goto("/dashboard")
    page.fill("#epochs", "400")
    page.fill("#batch_size", "1")
    page.click("#start")
    page.wait_for_function("Number(document.getElementById('epoch').dataset.epoch) >= 1", timeout=60_000)
    page.click("#stop")
    page.wait_for_selector("#status.stopped", timeout=60_000)
    assert int(page.get_attribute("#epoch", "data-epoch")) < 400


def test_dashboard_follows_mlpkit_train_dashboard(page, server, tmp_path, screenshot, child_env):
    page.goto("/dashboard")
    command = [sys.executable, "-m", "mlpkit.cli", "train", "--epochs", "4", "--dashboard", server, "--out",
               str(tmp_path / "run"), "--quiet", "--no-plots"]
    result = subprocess.run(command, env=child_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    option = page.locator("#runs option", has_text="mlpkit train digits")
    option.wait_for(state="attached", timeout=10_000)
    page.select_option("#runs", option.get_attribute("value"))
    page.wait_for_selector("#status.completed", timeout=30_000)
    assert page.text_content("#epoch") == "4"
    assert page.locator("#chart-accuracy path.series").evaluate_all("(ps) => ps.map((p) => Number(p.dataset.points))") \
        == [4, 4]
    screenshot(page)


def draw_stroke(page, points):
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()


def test_draw_a_digit_gives_probabilities(page, screenshot, models_dir, tmp_path):
    page.goto("/draw")
    page.wait_for_selector("#model option", state="attached")
    mnist = page.locator("#model option", has_text="mnist-30.mlpk")
    page.select_option("#model", mnist.get_attribute("value"))
    draw_stroke(page, [(140, 40), (138, 140), (136, 240)])  # a vertical stroke: a one
    page.wait_for_selector("#prediction[data-prediction]")
    probabilities = np.array(page.locator("#bars .bar").evaluate_all("(bs) => bs.map((b) => Number(b.dataset.value))"))
    assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert page.get_attribute("#prediction", "data-prediction") == str(int(probabilities.argmax()))
    assert page.get_attribute("#prediction", "data-prediction") == "1"
    screenshot(page)
    # upload a second model from a file; it becomes the chosen one
    path = mlpkit.Network([64, 10], seed=3).save(tmp_path / "tiny-digits.mlpk")
    page.set_input_files("#upload", str(path))
    page.wait_for_function("document.getElementById('model').selectedOptions[0].text.startsWith('tiny-digits')")
    page.click("#predict")
    page.wait_for_function("document.getElementById('preview').width === 8")
