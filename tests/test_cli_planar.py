"""mlpkit train on the generated 2-D sets: the decision boundary in the run directory, its animation, the
options that shape the data, and the course's flower as a person would type it."""

import json

import pytest

pytest.importorskip("click")
pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")
pytest.importorskip("PIL")

from PIL import Image

from cli_runner import error, run
from mlpkit import load_network


def test_moons_writes_the_decision_boundary(tmp_path):
    result = run("train", "--dataset", "moons", "--epochs", "2", "--out", tmp_path)
    assert (tmp_path / "boundary.png").is_file() and not (tmp_path / "boundary.gif").exists()
    assert "boundary.png" in result.output and "240 training, 80 validation, 80 test" in result.output
    with Image.open(tmp_path / "boundary.png") as image:
        assert image.size == (640, 480)


def test_boundary_frames_writes_a_gif_with_that_many_frames(tmp_path):
    run("train", "--dataset", "spiral", "--classes", "3", "--samples", "240", "--noise", "0.1", "--layers",
        "auto,8,auto", "--activation", "tanh", "--epochs", "4", "--boundary-frames", "3", "--no-plots",
        "--quiet", "--out", tmp_path)
    with Image.open(tmp_path / "boundary.gif") as gif:
        assert gif.n_frames == 3
    assert not (tmp_path / "boundary.png").exists()  # --no-plots
    metadata = load_network(tmp_path / "model.mlpk").metadata
    config = metadata["config"]
    assert (config["dataset"], config["samples"], config["noise"], config["classes"]) == ("spiral", 240, 0.1, 3)
    report = json.loads(run("evaluate", tmp_path / "model.mlpk", "--json").output)  # the same points and split
    assert report["n"] == 48 and report["accuracy"] == pytest.approx(metadata["test_accuracy"])


def test_flower_as_a_person_types_it(tmp_path):
    run("train", "--dataset", "flower", "--layers", "auto,4,auto", "--activation", "tanh", "--no-plots",
        "--quiet", "--out", tmp_path)
    assert load_network(tmp_path / "model.mlpk").metadata["test_accuracy"] > 0.85


def test_course_initializers_train_from_the_command_line(tmp_path):
    for init in ("zeros", "scaled_normal"):
        run("train", "--dataset", "course_circles", "--init", init, "--epochs", "1", "--no-plots", "--quiet",
            "--out", tmp_path / init)


@pytest.mark.parametrize(("args", "message"), [
    (["--dataset", "digits", "--samples", "100"], "--samples applies to the generated 2-D data sets"),
    (["--dataset", "course_moons", "--noise", "0.1"], "--noise does not apply to course_moons, the course's fixed"),
    (["--dataset", "moons", "--classes", "3"], "--classes applies to spiral and gaussian only"),
    (["--dataset", "flower", "--samples", "1"], "--samples must lie in [2, 1000000]"),
    (["--dataset", "digits", "--boundary-frames", "3"], "--boundary-frames draws the decision boundary of 2-D data"),
    (["--dataset", "moons", "--boundary-frames", "1"], "--boundary-frames must be 0 (off) or from 2 to 200"),
    (["--dataset", "nosuch.csv"], "--dataset must be one of digits, mnist, circles, moons, flower"),
])
def test_planar_options_are_checked(tmp_path, args, message):
    assert message in error("train", *args, "--epochs", "1", "--out", tmp_path / "run")


def test_moons_without_scikit_learn_is_one_line_naming_the_install(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "sklearn", None)
    line = error("train", "--dataset", "moons", "--epochs", "1", "--out", tmp_path / "run")
    assert line == ("mlpkit: error: --dataset moons: the 'moons' data set is made by scikit-learn: "
                    "pip install scikit-learn")
