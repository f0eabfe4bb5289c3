"""The settings layer (mlpkit.settings): the library owns every default and name, its errors come back naming
the option as the user wrote it, and one builder makes the same run for the command line, the dashboard, a
search trial and the experiment scripts."""

import dataclasses
import inspect
import time

import numpy as np
import pytest

from mlpkit.optimizers import OPTIMIZER_NAMES, Adam, optimizer_class
from mlpkit.schedules import SCHEDULE_NAMES, schedule_class
from mlpkit.settings import (
    OPTION_BY_NAME,
    SettingsError,
    build_run,
    convert_mapping,
    read_settings_file,
    resolve,
)
from mlpkit.settings.options import OPTIMIZER_OPTIONS, SCHEDULE_OPTIONS


def _library_default(cls, parameter):
    return inspect.signature(cls).parameters[parameter].default


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
def test_unset_optimizer_parameters_take_the_librarys_defaults(optimizer):
    settings = resolve({"optimizer": optimizer})
    cls = optimizer_class(optimizer)
    for option in OPTIMIZER_OPTIONS:
        if option.name == "lr":
            continue
        value = getattr(settings, option.name)
        if optimizer in option.users:
            assert value == _library_default(cls, option.parameter), option.name
        else:
            assert value is None, option.name
    expected_lr = 0.5 if optimizer == "sgd" else cls.default_learning_rate  # the book's eta for plain SGD
    assert settings.lr == expected_lr


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_unset_schedule_parameters_take_the_librarys_defaults(schedule):
    extra = {"step_size": 4} if schedule == "step" else {}
    settings = resolve({"schedule": schedule, **extra})
    for option in SCHEDULE_OPTIONS:
        value = getattr(settings, option.name)
        if schedule not in option.users:
            assert value is None, option.name
        elif option.name not in extra:
            assert value == _library_default(schedule_class(schedule), option.parameter), option.name


def test_the_help_shows_the_librarys_defaults():
    pytest.importorskip("click")
    from click.testing import CliRunner

    from mlpkit.cli._app import cli

    text = " ".join(CliRunner().invoke(cli, ["train", "--help"], terminal_width=400).output.split())
    assert "second-moment decay; for rmsprop, adam, adamw [default: rmsprop 0.9, adam 0.999, adamw 0.999]" in text
    assert "momentum coefficient; for momentum, nesterov [default: 0.9]" in text
    assert "(constant, inverse_time, exponential, step, halve_on_plateau)" in text


@pytest.mark.parametrize(("values", "parameter", "build"), [
    ({"optimizer": "adam", "beta1": 1.5}, "beta1", lambda: Adam(beta1=1.5)),
    ({"optimizer": "adam", "lr": -2.0}, "learning_rate", lambda: Adam(-2.0)),
    ({"schedule": "exponential", "decay_rate": 3.0}, "decay_rate",
     lambda: schedule_class("exponential")(decay_rate=3.0)),
])
def test_library_errors_come_back_naming_the_option_where_it_was_written(values, parameter, build):
    with pytest.raises(ValueError) as library:
        build()
    said = str(library.value)
    assert said.startswith(parameter + " ")
    name = next(k for k in values if k not in ("optimizer", "schedule"))
    option = OPTION_BY_NAME[name]
    for source, label in (("command line", option.label), ("run.toml", f"{name!r} in run.toml"),
                          ("the request", f"{name!r} in the request")):
        with pytest.raises(SettingsError) as error:
            resolve(values, {k: source for k in values})
        assert str(error.value) == label + said[len(parameter):]


def test_names_are_the_librarys_and_hyphens_are_read_as_underscores(tmp_path):
    settings = resolve({"schedule": "halve-on-plateau", "activation": "Leaky-ReLU"})
    assert settings.schedule == "halve_on_plateau" and settings.activation == "leaky_relu"
    old = tmp_path / "old.yaml"
    old.write_text("schedule: inverse-time\nstaircase: true\n")  # written by an earlier mlpkit
    assert resolve(read_settings_file(old)).schedule == "inverse_time"


def test_the_effective_settings_resolve_to_themselves():
    settings = resolve({"optimizer": "adamw", "schedule": "exponential", "dropout": "0.8", "l2": 0.1})
    again = resolve(convert_mapping(settings.effective(), where="the saved settings"))
    assert again == settings


def test_required_schedule_parameters_are_named():
    with pytest.raises(SettingsError, match=r"--schedule step needs --step-size \(epochs between drops\)"):
        resolve({"schedule": "step"})


# ----------------------------------------------------------------------------------- one builder for all
SETTINGS = {"dataset": "digits", "layers": "auto,12,auto", "optimizer": "momentum", "lr": 0.3, "epochs": 3,
            "batch_size": 20, "dropout": "0.9", "seed": 4}


def _reference():
    run = build_run(resolve(SETTINGS))
    history = run.fit()
    return run, history


def test_the_command_line_builds_the_same_run(tmp_path):
    pytest.importorskip("click")
    import mlpkit
    from mlpkit.cli import main

    run, _ = _reference()
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in SETTINGS.items()]
    assert main(["train", *flags, "--out", str(tmp_path / "run"), "--quiet", "--no-plots"]) == 0
    trained = mlpkit.load(tmp_path / "run" / "model.mlpk")
    np.testing.assert_array_equal(trained.flat_parameters, run.network.flat_parameters)


def test_a_search_trial_builds_the_same_run():
    from mlpkit.tuning.trial import run_trial

    _, history = _reference()
    fixed = {k: v for k, v in SETTINGS.items() if k not in ("lr", "seed")}
    result = run_trial({"id": "t", "params": {"lr": SETTINGS["lr"]}, "options": fixed, "seed": SETTINGS["seed"],
                        "metric": "val_accuracy", "mode": "max"})
    assert result["status"] == "completed", result["error"]
    for key in ("loss", "val_loss", "val_accuracy"):
        assert result["history"][key] == history[key]


def test_a_dashboard_run_builds_the_same_run():
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from mlpkit.web.app import create_app

    run, _ = _reference()
    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        run_id = client.post("/api/runs", json=SETTINGS).json()["id"]
        deadline = time.monotonic() + 60
        while (status := client.get(f"/api/runs/{run_id}").json())["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert status["status"] == "completed"
        network = client.app.state.models.get(status["model_id"]).network
    np.testing.assert_array_equal(network.flat_parameters, run.network.flat_parameters)


def test_build_run_fills_in_what_the_data_decides():
    run = build_run(resolve({"layers": "auto,7,auto"}))
    assert run.settings.layers == [64, 7, 10] and run.settings.cost == "categorical_crossentropy"
    assert run.remaining_epochs == run.settings.epochs and run.start_epoch == 0
    given = resolve({"layers": "auto,7,auto"})
    assert dataclasses.replace(run.settings, layers=["auto", 7, "auto"], cost=None) == given
    with pytest.raises(SettingsError, match="--layers ends with 3 outputs but the dataset has 10 classes"):
        build_run(resolve({"layers": "auto,7,3"}))
