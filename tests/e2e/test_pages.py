"""End-to-end: each page of ``mlpkit serve`` in headless Chromium, checked on what it shows.

The charts are plotly.js charts (``static/plots.js``): a drawn chart is a ``.js-plotly-plot`` element whose
``data`` property holds the traces it shows; a chart with nothing to show holds a sentence instead
(``data-state="empty"``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

import mlpkit
import mlpkit.datasets
from mlpkit.activations import sigmoid, softmax
from mlpkit.optimizers import DEFAULT_LEARNING_RATES
from mlpkit.web.app import PAGES

#: the header's links, in order (static/nav.js)
NAV = ["/", "/slowdown", "/softmax", "/dashboard", "/draw", "/playground", "/graph"]


def traces(page, chart: str) -> list[dict]:
    """The traces a plotly chart shows: name, mode and points."""
    page.wait_for_selector(f"#{chart}.js-plotly-plot", state="attached")
    return page.eval_on_selector(f"#{chart}", """(el) => el.data.map((t) => ({name: t.name, mode: t.mode,
        x: Array.from(t.x), y: Array.from(t.y)}))""")


def wait_for_run(page, run_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = page.request.get(f"/api/runs/{run_id}").json()
        if run["status"] != "running":
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def start_run(page, **settings) -> str:
    response = page.request.post("/api/runs", data=settings)
    assert response.status == 201, response.text()
    return response.json()["id"]


def test_index_links_every_page_and_every_page_has_the_same_header(page, screenshot):
    page.goto("/")
    links = page.locator(".index-cards a").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
    assert links == NAV[1:]
    for path in ("/", "/softmax"):
        page.goto(path)
        header = page.locator("header nav a")
        assert header.evaluate_all("(as) => as.map((a) => a.getAttribute('href'))") == NAV
        assert page.locator("header nav a[aria-current=page]").evaluate_all(
            "(as) => as.map((a) => a.getAttribute('href'))") == [path]
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
        shown = traces(page, f"chart-{chart}")
        assert [(t["name"], len(t["x"])) for t in shown] == [("start A", 121), ("start B", 121)], chart
    # the table's last values are the server's numbers for start B with the quadratic cost
    settings = {"w": 2, "b": 2, "eta": 0.15, "cost": "quadratic", "epochs": 120}
    data = page.request.post("/api/neuron", data=settings).json()
    row = page.locator("#values tbody tr").nth(1).locator("td").all_text_contents()
    assert row[0] == "start B, quadratic cost"
    assert float(row[4]) == pytest.approx(data["output"][-1], abs=6e-5)
    assert float(row[5]) == pytest.approx(data["cost"][-1], abs=6e-5)
    np.testing.assert_allclose(traces(page, "chart-quadratic-cost")[1]["y"], data["cost"], rtol=1e-12)
    screenshot(page)


def bar_values(page) -> np.ndarray:
    return np.array(traces(page, "chart-softmax")[0]["y"])


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
    curves = traces(page, "chart-logistic")
    assert len(curves) == 3 and curves[2]["x"] == [pytest.approx(z1 - z2)] and curves[2]["y"] == [pytest.approx(pair)]
    page.click("#c-one")
    screenshot(page)


WATCH_EPOCHS = """() => { window.seenEpochs = [];
  new MutationObserver((records) => records.forEach(
      (r) => r.addedNodes.forEach((n) => window.seenEpochs.push(Number(n.textContent)))))
    .observe(document.getElementById('epoch'), {childList: true}); }"""


def test_dashboard_training_run_updates_each_epoch(page, screenshot):
    page.goto("/dashboard")
    page.wait_for_selector("#start:enabled")
    page.evaluate(WATCH_EPOCHS)
    page.fill("#layers", "auto,20,auto")
    page.fill("#epochs", "6")
    page.click("#start")
    page.wait_for_selector("#status.completed", timeout=60_000)
    seen = page.evaluate("window.seenEpochs")
    assert [e for e in seen if e > 0] == [1, 2, 3, 4, 5, 6]  # the counter advanced through every epoch
    for chart in ("cost", "accuracy"):
        shown = traces(page, f"chart-{chart}")
        assert [(t["name"], t["x"]) for t in shown] == [(name, [1, 2, 3, 4, 5, 6]) for name in ("train", "validation")]
    layers = [t["name"] for t in traces(page, "chart-gradients")]
    assert layers == ["0: Dense(20, sigmoid)", "1: Dense(10, softmax)"]
    mistakes = page.locator("#mistakes .mistake")
    assert mistakes.count() > 0
    assert "predicted" in mistakes.first.inner_text()
    assert "test accuracy" in page.text_content("#message")
    # the address is the run's link
    run_id = re.search(r"run=([\w.-]+)", page.url).group(1)
    assert page.get_attribute("#run-link", "href") == f"/dashboard?run={run_id}"
    assert page.locator(f"#run-list li[data-id='{run_id}'] a.run-link").get_attribute("href") == \
        f"/dashboard?run={run_id}"
    screenshot(page)


def test_dashboard_shows_progress_within_the_epoch_and_stops(page):
    page.goto("/dashboard")
    page.wait_for_selector("#start:enabled")
    page.fill("#epochs", "400")
    page.fill("#batch_size", "1")
    page.click("#start")
    page.wait_for_function("!document.getElementById('batch-progress-box').hidden && "
                           "document.getElementById('batch-progress').value > 0", timeout=30_000)
    done, total = map(int, re.match(r"batch (\d+) / (\d+) of epoch \d+", page.text_content("#batch-text")).groups())
    n_train = len(mlpkit.datasets.load_digits(seed=0).train.y)
    assert total == n_train and 0 < done <= total  # batch size 1: one batch per example
    page.click("#stop")
    page.wait_for_selector("#status.stopped", timeout=60_000)
    assert int(page.get_attribute("#epoch", "data-epoch")) < 400
    assert page.locator("#batch-progress-box").is_hidden()


def test_dashboard_adam_keeps_its_own_learning_rate(page, screenshot, runs_dir):
    """Choosing Adam without touching the learning rate trains with Adam's default, not SGD's 0.5."""
    page.goto("/dashboard")
    page.wait_for_selector("#start:enabled")
    assert page.input_value("#lr") == "" and page.get_attribute("#lr", "placeholder") == "0.5"
    page.fill("#lr", "0.3")  # typed for SGD: it stays with SGD
    page.select_option("#optimizer", "adam")
    assert page.input_value("#lr") == ""
    assert page.get_attribute("#lr", "placeholder") == str(DEFAULT_LEARNING_RATES["adam"])
    assert page.locator("#momentum").is_hidden() and page.locator("#beta1").is_visible()
    page.select_option("#optimizer", "sgd")
    assert page.input_value("#lr") == "0.3"
    page.select_option("#optimizer", "adam")
    page.fill("#epochs", "8")
    page.click("#start")
    page.wait_for_selector("#status.completed", timeout=60_000)
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", page.text_content("#message")).group(1))
    assert accuracy > 70  # chance is 10%
    run_id = re.search(r"run=([\w.-]+)", page.url).group(1)
    assert page.request.get(f"/api/runs/{run_id}").json()["settings"]["lr"] == DEFAULT_LEARNING_RATES["adam"]
    config = yaml.safe_load((runs_dir / run_id / "config.yaml").read_text())
    assert config["optimizer"] == "adam" and config["lr"] == DEFAULT_LEARNING_RATES["adam"]
    screenshot(page)


def test_dashboard_first_epoch_empty_states_and_hover(page, screenshot):
    page.goto("/dashboard")
    page.wait_for_selector("#start:enabled")
    for chart in ("chart-cost", "chart-accuracy", "chart-gradients", "chart-compare"):
        assert page.get_attribute(f"#{chart}", "data-state") == "empty"
        assert page.locator(f"#{chart} .xtick").count() == 0  # no meaningless axes
    assert "No run open" in page.text_content("#chart-cost .chart-message")
    assert "Tick runs" in page.text_content("#chart-compare .chart-message")
    # a run of a single epoch draws its one point per curve as a marker
    run_id = start_run(page, epochs=1, layers="auto,16,auto")
    run = wait_for_run(page, run_id)
    page.goto(run["url"])
    page.wait_for_selector("#status.completed")
    shown = traces(page, "chart-cost")
    assert [(t["name"], len(t["x"])) for t in shown] == [("train", 1), ("validation", 1)]
    assert all("markers" in t["mode"] for t in shown)
    assert page.locator("#chart-cost .scatterlayer path.point").count() == 2
    for tick in page.locator("#chart-cost .xtick text, #chart-cost .ytick text").all():
        assert float(tick.evaluate("(t) => parseFloat(getComputedStyle(t).fontSize)")) >= 11
    # hovering the plot shows the values of that epoch
    page.hover("#chart-cost .nsewdrag")
    label = page.locator("#chart-cost .hoverlayer")
    page.wait_for_function("document.querySelector('#chart-cost .hoverlayer').textContent.includes('validation')")
    train_loss = run["events"][1]["logs"]["loss"]
    assert "train" in label.text_content() and f"{train_loss:.4g}" in label.text_content()
    screenshot(page)


def test_dashboard_overlays_runs_to_compare_them(page, screenshot, runs_dir):
    ids = [start_run(page, epochs=2, layers="auto,16,auto", optimizer=name) for name in ("sgd", "adam")]
    runs = [wait_for_run(page, run_id) for run_id in ids]
    page.goto("/dashboard")
    for run_id in ids:
        page.check(f"#run-list li[data-id='{run_id}'] input.compare")
    legend = page.locator("#chart-compare .infolayer .legend .traces")
    legend.nth(1).wait_for()
    assert legend.count() == 2
    names = legend.all_text_contents()
    for run, name in zip(runs, names, strict=True):
        assert name == f"{run['name']} · {run['id'][-4:]}"
    assert [t["x"] for t in traces(page, "chart-compare")] == [[1, 2], [1, 2]]
    assert f"compare={ids[0]},{ids[1]}" in page.url.replace("%2C", ",")
    page.select_option("#compare-metric", "loss")
    page.wait_for_function("document.getElementById('chart-compare').data[0].y.length === 2 && "
                           "document.getElementById('chart-compare').layout.yaxis.title.text === 'training cost'")
    losses = [t["y"] for t in traces(page, "chart-compare")]
    assert losses == [[pytest.approx(e["logs"]["loss"]) for e in run["events"][1:3]] for run in runs]
    screenshot(page)


def test_dashboard_follows_mlpkit_train_dashboard(page, server, tmp_path, screenshot, child_env):
    page.goto("/dashboard")
    command = [sys.executable, "-m", "mlpkit.cli", "train", "--epochs", "4", "--dashboard", server, "--out",
               str(tmp_path / "run"), "--quiet", "--no-plots"]
    result = subprocess.run(command, env=child_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    link = page.locator("#run-list a.run-link", has_text="mlpkit train digits")
    link.wait_for(timeout=10_000)
    link.click()
    page.wait_for_selector("#status.completed", timeout=30_000)
    assert page.text_content("#epoch") == "4"
    assert [len(t["x"]) for t in traces(page, "chart-accuracy")] == [4, 4]
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
    assert page.get_attribute("#chart-probabilities", "data-state") == "empty"
    assert "Draw a digit" in page.text_content("#chart-probabilities .chart-message")
    mnist = page.locator("#model option", has_text="mnist-30.mlpk")
    page.select_option("#model", mnist.get_attribute("value"))
    draw_stroke(page, [(140, 40), (138, 140), (136, 240)])  # a vertical stroke: a one
    page.wait_for_selector("#prediction[data-prediction]")
    probabilities = np.array(traces(page, "chart-probabilities")[0]["y"])
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


def test_every_page_fits_a_phone(browser, server, screenshot):
    """At 390 px wide nothing scrolls sideways, the header's current link is visible, chart text is >= 11 px."""
    assert sorted(PAGES) == sorted(NAV)
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        for path in NAV:
            page.goto(path)
            page.wait_for_load_state("load")
            page.wait_for_timeout(300)  # the first charts
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width} px wide at a 390 px viewport"
            current = page.locator("header nav a[aria-current=page]")
            assert current.count() == 1 and current.is_visible(), path
            box = current.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, path
            assert current.evaluate("(a) => parseFloat(getComputedStyle(a).fontSize)") >= 12
            sizes = page.locator(".js-plotly-plot .xtick text, .js-plotly-plot .ytick text").evaluate_all(
                "(ts) => ts.filter((t) => t.isConnected).map((t) => parseFloat(getComputedStyle(t).fontSize))")
            assert all(size >= 11 for size in sizes), (path, sizes)  # (ticks a redraw replaces are left out)
            screenshot(page, "-" + (path.strip("/") or "index"))
    finally:
        context.close()
    assert errors == []

