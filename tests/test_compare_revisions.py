"""benchmarks/compare_revisions.py: parsing results tables, verdicts against the noise, the run order and the
import check, on small synthetic inputs (no benchmark runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def cr():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import compare_revisions

        yield compare_revisions
    finally:
        sys.path.remove(str(BENCHMARKS))


OLD_STEP = """# Step design

- run: somewhere

## 1. Step plan against the layer-by-layer step (one BLAS thread, fused SGD / Adam)

| network | batch | act | opt | plan us/step | layer-by-layer / plan |
|---|---|---|---|---|---|
| [784, 30, 10] | 10 | sigmoid | sgd | 100 | 1.10x |
| [784, 100, 10] | 10 | relu | adam | 400 | 1.02x |

## 2. Fused on one thread, fused split, against two threads (fit, plain SGD, sigmoid)

| network | batch | 1 thread fused ms/step | split fused ms/step | 2 threads ms/step | 1 / 2 | split / 2 |
|---|---|---|---|---|---|---|
| [784, 100, 10] | 32 | 0.40 | 0.42 | 0.40 | 1.00 | 1.05 |
"""

NEW_STEP = """# Step design

## 1. Step plan against the reference step (one BLAS thread)

| network | batch | act | opt | plan us/step | reference / plan | reference / fused plan |
|---|---|---|---|---|---|---|
| [784, 30, 10] | 10 | sigmoid | sgd | {plan} | 1.08x | n/a |
| [784, 100, 32] | 32 | relu | sgd | 300 | 1.03x | 1.20x |

## 2. Fused on one thread, fused split, against two threads (fit, plain SGD, sigmoid)

| network | batch | 1 thread fused ms/step | split fused ms/step | 2 threads ms/step | 1 / 2 | split / 2 |
|---|---|---|---|---|---|---|
| [784, 100, 10] | 32 | 0.41 | 0.43 | 0.41 | 1.00 | 1.05 |
"""


def test_tables_are_found_under_their_headings(cr):
    tables = cr.parse_tables(OLD_STEP)
    assert [t.heading[:12] for t in tables] == ["1. Step plan", "2. Fused on "]
    assert tables[0].headers[4:] == ["plan us/step", "layer-by-layer / plan"]
    assert tables[0].rows[1] == ["[784, 100, 10]", "10", "relu", "adam", "400", "1.02x"]
    plan, threads = cr.BENCHES["step"]
    values = cr.table_values(cr.find_table(OLD_STEP, plan), plan)
    assert values[("[784, 30, 10]", "10", "sigmoid", "sgd")] == {"plan us/step": 100.0, "layer-by-layer / plan": 1.1}
    thread_values = cr.table_values(cr.find_table(OLD_STEP, threads), threads)
    assert set(thread_values[("[784, 100, 10]", "32")]) == {"1 thread fused ms/step", "split fused ms/step",
                                                           "2 threads ms/step"}


@pytest.mark.parametrize(("cell", "value"), [("0.98x", 0.98), ("5,120", 5120.0), ("8.9 (6%)", 8.9), ("n/a", None),
                                             ("136", 136.0), ("1.2e-3", 0.0012)])
def test_number(cr, cell, value):
    assert cr.number(cell) == value


def test_verdicts_against_the_spread_and_the_floor(cr):
    within = cr.compare([1.0, 1.2], [1.15, 1.25], speedup=False, min_change=0.05)  # spread 20% > change
    assert within.verdict == "within noise" and within.old_spread == pytest.approx(0.2)
    slower = cr.compare([1.0, 1.02], [1.2, 1.21], speedup=False, min_change=0.05)
    assert slower.verdict == "slower" and slower.change == pytest.approx(1.205 / 1.01)
    faster = cr.compare([1.2, 1.21], [1.0, 1.02], speedup=False, min_change=0.05)
    assert faster.verdict == "faster"
    # a speed-up that drops means NEW is slower: change = old / new
    assert cr.compare([2.0, 2.02], [1.5, 1.51], speedup=True, min_change=0.05).verdict == "slower"
    # one round: no spread, only the floor
    single = cr.compare([1.0], [1.04], speedup=False, min_change=0.05)
    assert single.old_spread is None and single.verdict == "within noise"
    assert cr.compare([1.0], [1.06], speedup=False, min_change=0.05).verdict == "slower"


def test_abba_order(cr):
    assert cr.abba(1) == ["old", "new"]
    assert cr.abba(3) == ["old", "new", "new", "old", "old", "new"]


def test_tables_with_different_columns_compare_the_shared_ones(cr):
    texts = {"old": [OLD_STEP, OLD_STEP], "new": [NEW_STEP.format(plan=130), NEW_STEP.format(plan=128)]}
    plan, threads = cr.BENCHES["step"]
    lines, changes, counts = cr.compare_table(plan, texts, min_change=0.05)
    text = "\n".join(lines)
    assert "OLD heading: 1. Step plan against the layer-by-layer step" in text
    assert "columns only in OLD (not compared): `layer-by-layer / plan`" in text
    assert "columns only in NEW (not compared): `reference / plan`, `reference / fused plan`" in text
    assert "cells only in OLD: [784, 100, 10] 10 relu adam" in text
    assert "cells only in NEW: [784, 100, 32] 32 relu sgd" in text
    assert changes == [pytest.approx(1.29)] and counts["slower"] == 1
    row = "| [784, 30, 10] | 10 | sigmoid | sgd | plan us/step | 100 | 129 | 1.290 | 0.0% | 1.6% | **slower** |"
    assert row in text
    lines, changes, counts = cr.compare_table(threads, texts, min_change=0.05)
    assert len(changes) == 3 and counts["within noise"] == 3
    assert "1 / 2" not in "\n".join(lines)


def test_a_missing_table_is_reported(cr):
    plan, _ = cr.BENCHES["step"]
    lines, changes, _ = cr.compare_table(plan, {"old": [OLD_STEP], "new": ["# nothing here\n"]}, min_change=0.05)
    assert changes == [] and "No such table in the NEW results." in lines


def test_import_check_rejects_a_tree_without_its_own_mlpkit(cr, tmp_path):
    (tmp_path / "src" / "mlpkit").mkdir(parents=True)
    (tmp_path / "src" / "mlpkit" / "__init__.py").write_text("")
    cr.check_import(tmp_path)
    (tmp_path / "other").mkdir()
    with pytest.raises(SystemExit, match="would import mlpkit from"):
        cr.check_import(tmp_path / "other")  # no src/mlpkit in it: the installed package would be imported
