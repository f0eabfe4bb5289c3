"""The course's experiments (quick mode and the course's own runs), the course table, and the gradient-checking
demonstration of course 2 week 1."""

import math

import numpy as np
import pytest

from mlpkit import Adam, Dropout, Momentum
from mlpkit.cli import main
from mlpkit.datasets import COURSE_DATASETS
from mlpkit.initializers import get_initializer
from mlpkit.reproduce import (
    COURSE_RUNS,
    CourseResult,
    course_gradient_check,
    course_markdown_table,
    one_dimensional_check,
    reproduce_course,
    run_course,
)
from mlpkit.reproduce.course import (
    EXPERIMENTS,
    build_network,
    build_optimizer,
    build_schedule,
    quick_epochs,
)
from mlpkit.schedules import get_schedule

RUNS = {run.name: run for run in COURSE_RUNS}


def test_every_published_figure_is_listed():
    assert len(RUNS) == len(COURSE_RUNS)
    flower = {r.sizes[1] if len(r.sizes) == 3 else 0: r.published_train for r in COURSE_RUNS
              if r.experiment == "planar" and r.epochs == 5000}
    assert flower == {1: 67.5, 2: 67.25, 3: 90.75, 4: 90.5, 5: 91.25, 20: 90.5, 50: 90.25}
    assert RUNS["flower: 4 hidden units, 10,000 iterations"].published_train == 90.0
    assert RUNS["flower: logistic regression"].published_train == 47.0
    init = [(r.init, r.published_train, r.published_test) for r in COURSE_RUNS if r.experiment == "initialization"]
    assert init == [("zeros", 50.0, 50.0), ("scaled_normal", 83.0, 86.0), ("he", 99.33, 96.0)]
    moons = sorted(r.published_train for r in COURSE_RUNS if r.experiment == "optimization" and r.published_train)
    assert moons == [79.7, 79.7, 94.0, 94.0, 94.6, 95.6]
    regularization = [(r.published_train, r.published_test) for r in COURSE_RUNS if r.experiment == "regularization"]
    assert regularization == [(94.8, 91.5), (93.8, 93.0), (92.9, 95.0)]


@pytest.mark.parametrize("run", COURSE_RUNS, ids=lambda run: run.name)
def test_every_run_is_the_course_s_kind_of_network(run):
    assert run.experiment in EXPERIMENTS and run.dataset in COURSE_DATASETS
    assert run.sizes[0] == 2 and run.sizes[-1] == 1 and run.output_activation == "sigmoid"
    get_initializer(run.init)
    assert (run.batch_size is None) == (run.experiment != "optimization")  # full-batch gradient descent elsewhere
    if run.schedule is not None:
        get_schedule(run.schedule)
    assert run.first_epoch in (0, 1)
    if run.experiment == "regularization":
        assert (run.learning_rate, run.epochs, run.sizes) == (0.3, 30_000, (2, 20, 3, 1))


def test_networks_optimizers_and_schedules_follow_the_course():
    dropout = build_network(RUNS["regularization: dropout, keep_prob 0.86"], seed=0)
    assert [type(layer).__name__ for layer in dropout.layers] == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert all(layer.keep_prob == 0.86 for layer in dropout.layers if isinstance(layer, Dropout))
    assert dropout.dtype == np.float64 and dropout.loss.name == "binary_crossentropy"
    assert build_network(RUNS["regularization: L2, lambda 0.7"], seed=0).regularizer.lmbda == 0.7
    momentum = build_optimizer(RUNS["moons: momentum"])
    assert isinstance(momentum, Momentum) and (momentum.beta, momentum.convention) == (0.9, "ng")
    adam = build_optimizer(RUNS["moons: Adam"])
    assert isinstance(adam, Adam) and (adam.beta1, adam.beta2, adam.eps, adam.learning_rate) == (0.9, 0.999, 1e-8,
                                                                                               0.0007)
    interval = build_schedule(RUNS["moons: gradient descent, decay every 1,000 epochs"])
    assert [interval(e) for e in (0, 999, 1000, 4999)] == [0.1, 0.1, 0.05, 0.1 / 5]
    every_epoch = build_schedule(RUNS["moons: gradient descent, decay every epoch"])  # the lecture: epoch 1 -> lr0/2
    assert [every_epoch(e, None) for e in (0, 1, 2)] == pytest.approx([0.05, 0.1 / 3, 0.025])


def test_quick_mode_shows_what_the_course_teaches():
    names = ["circles: zeros init", "circles: N(0, 1)·10 init", "circles: He init",
             "moons: mini-batch gradient descent", "moons: Adam", "flower: logistic regression",
             "flower: 4 hidden units"]
    results = {r.run.name: r for r in reproduce_course([RUNS[n] for n in names], seeds=[0], jobs=1, quick=True)}
    zeros, large, he = (results[n] for n in names[:3])
    assert he.train > large.train > zeros.train and he.test > large.test > zeros.test
    assert zeros.train == zeros.test == 50.0 and zeros.cost == pytest.approx(math.log(2), abs=1e-12)  # chance
    assert results["moons: Adam"].train > results["moons: mini-batch gradient descent"].train + 10
    assert results["flower: 4 hidden units"].train > results["flower: logistic regression"].train + 20
    assert results["moons: Adam"].epochs == quick_epochs(RUNS["moons: Adam"]) == 300
    assert he.epochs == 15_000  # initialization runs whole: He overtakes N(0, 1)*10 late


def test_from_the_course_s_initial_weights_mlpkit_gives_the_course_s_figures():
    he = run_course(RUNS["circles: He init"], seed=None)
    assert (round(he.train, 2), he.test) == (99.33, 96.0)
    for h, published in ((1, 67.5), (3, 90.75)):
        assert run_course(RUNS[f"flower: {h} hidden unit{'s' if h > 1 else ''}"], seed=None).train == published


def _result(name, seed, train, test=None):
    return CourseResult(RUNS[name], seed, train, test, 0.5, 10, 0.1, network=None)


def test_table_compares_published_and_ours_and_explains_gaps():
    results = [_result("circles: He init", s, 98.5 + 0.1 * s, 95.0) for s in range(3)]
    results += [_result("circles: He init", None, 99.33, 96.0), _result("flower: 3 hidden units", 0, 90.5),
                _result("flower: 3 hidden units", 1, 91.0), _result("flower: 3 hidden units", None, 90.75)]
    ten_thousand = "flower: 4 hidden units, 10,000 iterations"  # seeds within the spread, the course's run not
    results += [_result(ten_thousand, 0, 89.0), _result(ten_thousand, 1, 91.0), _result(ten_thousand, None, 90.75)]
    text = course_markdown_table(results, "mlpkit reproduce --course", boundaries={"circles: He init": "course/x.png"})
    he_row = next(line for line in text.splitlines() if line.startswith("| circles: He init"))
    cells = [c.strip() for c in he_row.split("|")[1:-1]]
    assert cells[2:9] == ["99.33", "98.60 ± 0.10", "96.00", "95.00 ± 0.00", "99.33 / 96.00", "0.5000", "3"]
    assert cells[-1] == "[png](course/x.png)"
    flower_row = next(line for line in text.splitlines() if line.startswith("| flower: 3 hidden units"))
    assert "| 90.75 | 90.75 ± 0.35 | — | — | 90.75 / — |" in flower_row
    assert "## Where ours differs from the course" in text
    assert "**circles: He init** (published 99.33 / 96.00; ours 98.60 ± 0.10 / 95.00 ± 0.00; from the course's own " \
           "initial weights 99.33 / 96.00): the course starts from one draw" in text
    assert "**flower: 3 hidden units**" not in text  # seeds within their spread, the course's run exact
    assert f"**{ten_thousand}** (published 90.00 / —; ours 90.00 ± 1.41 / —; from the course's own initial " \
           "weights 90.75 / —): the course prints this accuracy with '%d'" in text


def test_one_dimensional_check_is_rounding_error_only():
    assert one_dimensional_check() == pytest.approx(2.9e-10, rel=0.05)  # the course: 2.919335883291695e-10
    assert one_dimensional_check(3.0, 4.0) == pytest.approx(7.8e-11, rel=0.05)  # its later version: 7.81e-11


def test_the_course_s_planted_bug_is_flagged_and_the_right_backward_passes():
    right = course_gradient_check()
    assert right.difference < 2e-7 and not right.flagged
    assert right.message.startswith("Your backward propagation works perfectly fine! difference = ")
    wrong = course_gradient_check(planted_bug=True)
    assert wrong.flagged and wrong.difference == pytest.approx(0.2850931567761623, rel=1e-6)  # the course's figure
    assert wrong.message.startswith("There is a mistake in the backward propagation! difference = ")
    per = wrong.report.per_parameter
    assert per["layers.0.b"] == pytest.approx(0.6) and per["layers.1.W"] == pytest.approx(1 / 3)  # (4-1)/(4+1)...
    assert max(per["layers.0.W"], per["layers.1.b"], per["layers.2.W"], per["layers.2.b"]) < 1e-7


def test_the_course_s_1e_7_comes_from_its_cost_computed_from_the_outputs():
    """The course prints 1.19e-7 for a right backward pass; mlpkit's cost from z gives about 1e-9. Computing the
    cost as the course does, from log(a), brings the course's figure back, so the gap is that rounding."""
    assert course_gradient_check().difference < 1e-8
    assert course_gradient_check(cost_from_outputs=True).difference == pytest.approx(1.19e-7, rel=0.01)


def test_gradcheck_course_command(capsys):
    pytest.importorskip("click")
    assert main(["gradcheck", "--course"]) == 0
    out = capsys.readouterr().out
    assert "The gradient is correct!" in out and "difference = 2.919335883291695e-10" in out
    assert "Your backward propagation works perfectly fine!" in out
    assert "There is a mistake in the backward propagation! difference = 0.28509" in out
    assert main(["gradcheck", "--course", "--layers", "3,2"]) == 2
    assert "--course runs the course's own check; leave out --layers" in capsys.readouterr().err


def test_reproduce_course_command_writes_the_table_and_boundaries(tmp_path, capsys):
    pytest.importorskip("click")
    pytest.importorskip("matplotlib")
    out = tmp_path / "course.md"
    assert main(["reproduce", "--course", "--only", "flower: 1 hidden unit", "--seeds", "0", "--jobs", "1",
                 "--out", str(out)]) == 0
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| flower: 1 hidden unit"))
    assert "| 67.50 |" in row and "67.50 / —" in row and "[png](course/flower-1-hidden-unit.png)" in row
    png = tmp_path / "course" / "flower-1-hidden-unit.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size < 100_000
    quick = tmp_path / "quick.md"
    assert main(["reproduce", "--course", "--quick", "--only", "moons: Adam", "--jobs", "1", "--out", str(quick)]) == 0
    assert "QUICK MODE" in quick.read_text() and not (tmp_path / "quick").exists()
    assert main(["reproduce", "--course", "--only", "nothing like this"]) == 2
    assert "matches no configuration" in capsys.readouterr().err
