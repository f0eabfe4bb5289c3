"""The book-reproduction runner, in its quick mode on real MNIST."""

import pytest

from mlpkit.cli import main
from mlpkit.reproduce import BOOK_RUNS, RunResult, markdown_table, reproduce


def test_every_published_configuration_is_listed():
    published = sorted(r.published for r in BOOK_RUNS)
    assert published == sorted([95.42, 96.59, 95.49, 96.82, 82.27, 87.1, 96.49, 97.92, 98.04,
                                96.48, 96.90, 96.57, 96.53])
    assert {r.evaluated_on for r in BOOK_RUNS} == {"test", "validation"}


def test_quick_run_learns_and_writes_the_table(tmp_path, capsys):
    pytest.importorskip("click")
    out = tmp_path / "table.md"
    assert main(["reproduce", "--quick", "--only", "cross-entropy, 30 hidden", "--jobs", "1", "--out", str(out)]) == 0
    text = out.read_text()
    assert "QUICK MODE" in text and "| cross-entropy, 30 hidden" in text and "95.49" in text
    row = next(line for line in text.splitlines() if line.startswith("| cross-entropy, 30 hidden"))
    ours = float(row.split("|")[8])
    assert 75.0 < ours < 100.0  # 2 epochs on 5,000 images already learn most digits


def test_results_are_seeded():
    run = [r for r in BOOK_RUNS if r.name == "1,000 images, lmbda=0.1"]
    first = reproduce(run, seeds=[3], jobs=1, quick=True)
    again = reproduce(run, seeds=[3], jobs=1, quick=True)
    assert first[0].final == again[0].final
    assert "1,000 images" in markdown_table(first, "test")


def test_unknown_selection_is_a_usage_error(capsys):
    pytest.importorskip("click")
    assert main(["reproduce", "--only", "nothing like this"]) == 2
    assert "matches no configuration" in capsys.readouterr().err


def test_gaps_beyond_three_tenths_are_explained():
    near, far = BOOK_RUNS[2], BOOK_RUNS[0]
    results = [RunResult(near, 0, near.published - 0.1, near.published, 30, 1.0),
               RunResult(far, 0, far.published - 2.0, far.published - 1.0, 30, 1.0)]
    text = markdown_table(results, "test")
    assert "## More than 0.3 points from the book" in text
    assert f"**{far.name}**: the book quotes the peak" in text
    assert f"**{near.name}**" not in text
