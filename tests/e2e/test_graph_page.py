"""End-to-end: the computation graph page in headless Chromium, stepped forward then backward node by node."""

from __future__ import annotations

import numpy as np


def current(page) -> str:
    return page.get_attribute("#graph g.node.current", "data-label")


def shown_matrix(page, element: str) -> np.ndarray:
    cells = page.locator(f"{element} table.matrix tr").evaluate_all(
        "(rows) => rows.map((r) => Array.from(r.cells, (c) => Number(c.textContent)))")
    return np.array(cells)


def test_graph_page_steps_through_the_forward_then_the_backward_pass(page, screenshot):
    page.goto("/graph")
    page.wait_for_selector("body[data-phase=forward]", timeout=30_000)
    data = page.request.post("/api/graph", data={"example": "two-layer", "n_x": 2, "n_h": 4, "m": 3, "seed": 1}).json()
    by_key = {n["key"]: n for n in data["nodes"]}
    assert page.locator("#graph g.node").count() == 11
    assert page.locator("#graph g.node.pending").count() == 11
    assert page.is_disabled("#backward")
    rows = page.locator("#shapes-table tbody tr").all_text_contents()
    assert len(rows) == 11
    assert any("W1 (4, 2) · X (2, 3) + b1 (4, 1) → Z1 (4, 3)" in row for row in rows)

    seen = []
    while page.is_enabled("#forward"):
        page.click("#forward")
        seen.append(current(page))
    assert seen == [by_key[k]["name"] for k in data["forward"]]
    assert page.get_attribute("body", "data-phase") == "backward"
    assert page.locator("#graph g.node.computed").count() == 11
    assert "not computed yet" in page.text_content("#grad-text")  # J: the backward pass has not started
    np.testing.assert_allclose(float(page.text_content("#value-text")), by_key[data["forward"][-1]]["value"],
                               rtol=1e-3)
    page.click("#graph g.node[data-label=Z1]")  # inspect a node without stepping
    assert page.text_content("#shapes") == "W1 (4, 2) · X (2, 3) + b1 (4, 1) → Z1 (4, 3)"
    assert shown_matrix(page, "#value-text").shape == (4, 3)
    screenshot(page, "-forward")

    before = page.text_content("#grad-text")
    page.click("#backward")
    assert current(page) == "J" and page.text_content("#grad-text") == "1" != before
    page.click("#backward")
    assert current(page) == "A2"
    assert page.text_content("#grad-formula") == "dA2 = −Y/A2 + (1−Y)/(1−A2)"
    page.click("#backward")
    assert current(page) == "Z2"
    assert page.text_content("#grad-formula") == "dZ2 = A2 − Y"
    z2 = next(n for n in data["nodes"] if n["name"] == "Z2")
    np.testing.assert_allclose(shown_matrix(page, "#grad-text"), z2["grad"], rtol=2e-3, atol=1e-6)
    assert "largest difference" in page.text_content("#check")
    seen = ["J", "A2", "Z2"]
    while page.is_enabled("#backward"):
        page.click("#backward")
        seen.append(current(page))
    assert seen == ["J", "A2", "Z2", "W2", "b2", "A1", "Z1", "W1", "b1"]
    assert page.get_attribute("body", "data-phase") == "done"
    assert page.text_content("#grad-formula") == "db1 = (1/m) Σ dZ1 over the examples"
    difference = float(page.text_content("#check").rsplit(" ", 1)[1])
    assert difference < 1e-12
    assert page.locator("#graph g.node.differentiated").count() == 9  # X and Y need no gradient
    page.click("#graph g.node[data-label=X]")
    assert "no gradient" in page.text_content("#grad-text")
    screenshot(page)

    page.click("#reset")
    assert page.get_attribute("body", "data-phase") == "forward"
    assert page.locator("#graph g.node.current").count() == 0
    assert page.locator("#graph g.node.pending").count() == 11


def test_graph_page_logistic_regression_and_bad_settings(page, screenshot):
    page.goto("/graph")
    page.wait_for_selector("body[data-phase=forward]", timeout=30_000)
    page.select_option("#example", "logistic")
    page.wait_for_function("document.querySelectorAll('#graph g.node').length === 7")
    assert page.is_disabled("#n_h")
    labels = page.locator("#graph g.node").evaluate_all("(gs) => gs.map((g) => g.dataset.label)")
    assert set(labels) == {"x", "w", "b", "z", "a", "L", "y"}
    page.fill("#n_x", "9")
    page.click("#build")
    page.wait_for_function("document.getElementById('error').textContent !== ''")
    assert page.text_content("#error") == "n_x must be between 1 and 6, got 9"
    assert page.locator("#graph g.node").count() == 7  # the previous graph stays
    screenshot(page)
