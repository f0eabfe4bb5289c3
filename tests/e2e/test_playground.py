"""End-to-end: the playground page of ``mlpkit serve`` in headless Chromium (a real server process)."""

from __future__ import annotations

import pytest

SETTLED = """() => { const pg = window.playground;
  return pg.state && pg.pending === 0 && !pg.drawPending && document.body.dataset.state === "paused"
    && document.getElementById("pg-boundary").dataset.epoch === String(pg.state.epoch); }"""

WATCH_EPOCHS = """() => { window.seenEpochs = [];
  new MutationObserver(() => window.seenEpochs.push(Number(document.getElementById('pg-epoch').dataset.epoch)))
    .observe(document.getElementById('pg-epoch'), {attributes: true, attributeFilter: ['data-epoch']}); }"""


def settle(page) -> None:
    """Wait until no request is under way and the boundary shows the last state."""
    page.wait_for_function(SETTLED, timeout=30_000)


def open_playground(page) -> None:
    page.goto("/playground")
    settle(page)


def choose(page, selector: str, value: str, spec_key: str) -> None:
    """Pick a value in a <select> and wait for the new session that has it."""
    page.select_option(selector, value)
    page.wait_for_function(f"window.playground.state.spec.{spec_key} === {value!r}", timeout=30_000)
    settle(page)


def trace_points(page, chart: str) -> list[int]:
    return page.evaluate(f"document.getElementById('{chart}').data.map((t) => t.x.length)")


def test_pick_moons_press_run_the_counter_rises_and_the_boundary_changes(page, screenshot):
    open_playground(page)
    choose(page, "#pg-dataset", "moons", "dataset")
    assert page.text_content("#pg-epoch") == "0"
    boundary = page.locator("#pg-boundary")
    image_before = boundary.screenshot()
    grid_before = page.evaluate("window.playground.state.boundary.values")
    page.evaluate(WATCH_EPOCHS)

    page.click("#pg-run")
    assert page.text_content("#pg-run") == "Pause"
    page.wait_for_function("Number(document.getElementById('pg-epoch').dataset.epoch) >= 60", timeout=30_000)
    page.click("#pg-run")  # Pause
    settle(page)

    seen = page.evaluate("window.seenEpochs")
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] >= 60  # it counted up, request after request
    assert page.evaluate("window.playground.state.boundary.values") != grid_before
    assert boundary.screenshot() != image_before
    epoch = int(page.get_attribute("#pg-epoch", "data-epoch"))
    assert page.get_attribute("#pg-boundary", "data-epoch") == str(epoch)
    # the curves have every epoch from 0 (up to 500 points: the charts thin longer histories for drawing)
    assert trace_points(page, "pg-chart-cost") == [epoch + 1] * 2 or epoch >= 500
    assert page.evaluate("document.getElementById('pg-chart-cost').data.map((t) => t.name)") == ["train", "test"]
    assert page.evaluate("document.getElementById('pg-chart-gradients').data.map((t) => t.name)") == \
        ["0: Dense(4, tanh)", "1: Dense(2, tanh)", "2: Dense(1, sigmoid)"]
    # the numbers shown are the server's
    state = page.request.get(f"/api/playground/{page.evaluate('window.playground.session')}").json()
    assert state["epoch"] == epoch and state["spec"]["dataset"] == "moons"
    assert float(page.text_content("#pg-loss")) == pytest.approx(state["history"]["loss"][-1], rel=1e-3)
    assert page.text_content("#pg-val-accuracy") == f"{100 * state['history']['val_accuracy'][-1]:.1f}%"
    screenshot(page)


def test_step_and_reset(page):
    open_playground(page)
    grid = page.evaluate("window.playground.state.boundary.values")
    for expected in (1, 2):
        page.click("#pg-step")
        page.wait_for_function(f"document.getElementById('pg-epoch').dataset.epoch === '{expected}'")
    settle(page)
    assert page.evaluate("window.playground.state.boundary.values") != grid
    page.click("#pg-reset")
    page.wait_for_function("document.getElementById('pg-epoch').dataset.epoch === '0'")
    settle(page)
    assert page.evaluate("window.playground.state.boundary.values") == grid  # the same initial weights


def test_a_course_preset_in_one_click(page, screenshot):
    open_playground(page)
    page.click(".pg-preset[data-preset='circles: He init']")
    page.wait_for_function("window.playground.state.preset && window.playground.state.preset.name === "
                           "'circles: He init'", timeout=30_000)
    settle(page)
    # the controls show the experiment's settings
    assert page.input_value("#pg-dataset") == "course_circles"
    assert page.input_value("#pg-init") == "he" and page.input_value("#pg-activation") == "relu"
    assert page.input_value("#pg-lr") == "0.01" and page.input_value("#pg-stop") == "15000"
    assert page.locator("#pg-layers input").evaluate_all("(xs) => xs.map((x) => Number(x.value))") == [10, 5]
    assert page.is_disabled("#pg-noise")  # the course's recipe fixes the points
    assert "99.33%" in page.text_content("#pg-preset-note")
    assert page.text_content("#pg-epoch-total") == " / 15000"
    assert page.get_attribute(".pg-preset[data-preset='circles: He init']", "class").endswith("pg-chosen")
    page.click("#pg-run")
    page.wait_for_function("Number(document.getElementById('pg-epoch').dataset.epoch) >= 20", timeout=30_000)
    page.click("#pg-run")
    settle(page)
    screenshot(page)
    # changing a setting makes the settings the user's own: no preset any more
    page.fill("#pg-lr", "0.05")
    page.dispatch_event("#pg-lr", "change")
    page.wait_for_function("window.playground.state.spec.lr === 0.05 && !window.playground.state.preset")
    assert page.text_content("#pg-epoch") == "0"


def test_zeros_preset_shows_zero_gradients(page):
    open_playground(page)
    page.click(".pg-preset[data-preset='circles: zeros init']")
    page.wait_for_function("window.playground.state.spec.init === 'zeros'", timeout=30_000)
    settle(page)
    for _ in range(3):
        page.click("#pg-step")
    page.wait_for_function("document.getElementById('pg-epoch').dataset.epoch === '3'")
    settle(page)
    norms = page.evaluate("window.playground.gradients.norm")
    assert all(row[:2] == [0, 0] for row in norms)  # the hidden layers never get a gradient
    # zeros cannot be drawn on a log axis: the chart switches to a linear one
    assert page.evaluate("document.getElementById('pg-chart-gradients').layout.yaxis.type") != "log"
    assert page.text_content("#pg-accuracy") == "50.0%"


def test_hidden_layers_are_added_and_removed(page):
    open_playground(page)
    page.click("#pg-add-layer")
    page.wait_for_function("window.playground.state.spec.layers.length === 3", timeout=30_000)
    settle(page)
    assert page.evaluate("window.playground.state.network.sizes") == [2, 4, 2, 2, 1]
    page.locator(".pg-layer").nth(0).locator("button[title='one unit more']").click()
    page.wait_for_function("window.playground.state.spec.layers[0] === 5", timeout=30_000)
    page.locator(".pg-layer").nth(1).locator("button[title='remove this layer']").click()
    page.wait_for_function("window.playground.state.spec.layers.length === 2", timeout=30_000)
    settle(page)
    assert page.evaluate("window.playground.state.network.sizes") == [2, 5, 2, 1]
    assert page.locator(".pg-layer").count() == 2


def test_a_bad_setting_shows_the_servers_message(browser, server):
    # (its own page: the browser logs the 400 answer as a console error, which the shared fixture refuses)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_playground(page)
    page.fill("#pg-lr", "0")
    page.dispatch_event("#pg-lr", "change")
    page.wait_for_function("document.getElementById('pg-error').textContent.includes('lr must be between')")
    assert page.text_content("#pg-run") == "Run"
    context.close()
    assert errors == []


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_layout_at_desktop_and_phone_widths(browser, server, screenshot, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_playground(page)
    page.click("#pg-step")
    page.wait_for_function("document.getElementById('pg-epoch').dataset.epoch === '1'")
    settle(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing scrolls sideways
    controls, boundary, charts = (page.locator(s).bounding_box() for s in (".pg-controls", ".pg-centre", ".pg-charts"))
    if width > 1180:  # three columns: controls, boundary, charts
        assert controls["x"] + controls["width"] <= boundary["x"]
        assert boundary["x"] + boundary["width"] <= charts["x"]
    else:  # one column, the boundary first
        assert boundary["y"] < controls["y"] < charts["y"]
        assert boundary["x"] + boundary["width"] <= width
    screenshot(page)
    context.close()
    assert errors == []
