"""``mlpkit train --preset``: the packaged presets resolve to valid settings, a ``--config`` file and flags
override them in that order, unknown names are a one-line error; and ``experiments/mnist_best.py --quick``
runs the whole experiment driver (subprocess workers, report files) in seconds."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("click")
pytest.importorskip("rich")
pytest.importorskip("yaml")

import yaml
from click.testing import CliRunner

from mlpkit import presets
from mlpkit.cli._app import cli
from mlpkit.settings import SettingsError, merge_preset, network_from_settings, read_preset, read_settings_file, resolve

REPO = Path(__file__).resolve().parents[1]
EXPERIMENT_CONFIGS = {"mnist-98": "mnist_best_noaug.toml", "mnist-99": "mnist_best_aug.toml",
                      "mnist-99-fast": "mnist_best_aug_fast.toml"}
#: a tiny run on the embedded digits, so that a preset's network and optimizer are exercised in a second
TINY = ["--dataset", "digits", "--layers", "auto,16,auto", "--epochs", "1", "--quiet", "--no-plots"]


def train(*args):
    return CliRunner().invoke(cli, ["train", *map(str, args)], catch_exceptions=False)


def saved_config(out: Path) -> dict:
    return yaml.safe_load((out / "config.yaml").read_text(encoding="utf-8"))


def test_the_documented_presets_exist():
    assert set(EXPERIMENT_CONFIGS) <= set(presets.names())


@pytest.mark.parametrize("name", presets.names())
def test_each_preset_resolves_to_a_valid_mnist_configuration(name):
    cfg = resolve(read_preset(name))
    assert cfg.dataset == "mnist"
    assert cfg.activation == "relu" and cfg.init == "he"
    assert len(cfg.layers) >= 3 and cfg.epochs > 1


@pytest.mark.parametrize("name", sorted(EXPERIMENT_CONFIGS))
def test_experiment_config_files_match_the_presets(name):
    from_file = resolve(read_settings_file(REPO / "experiments" / "configs" / EXPERIMENT_CONFIGS[name]))
    assert from_file.effective() == resolve(read_preset(name)).effective()


def test_the_augmented_presets_augment_and_the_other_does_not():
    assert resolve(read_preset("mnist-99")).augment == ["elastic", "affine"]
    assert resolve(read_preset("mnist-99-fast")).augment == ["elastic", "affine"]
    assert resolve(read_preset("mnist-98")).augment == []


@pytest.mark.parametrize("name", presets.names())
def test_flags_override_a_preset_and_the_rest_of_it_is_kept(tmp_path, name):
    out = tmp_path / "run"
    result = train("--preset", name, *TINY, "--seed", "3", "--out", out)
    assert result.exit_code == 0, result.output + result.stderr
    saved, preset = saved_config(out), resolve(read_preset(name))
    assert saved["dataset"] == "digits" and saved["layers"] == [64, 16, 10] and saved["seed"] == 3
    assert saved["epochs"] == 1
    for key in ("optimizer", "lr", "schedule", "decay_rate", "batch_size", "input_dropout", "augment"):
        assert saved[key] == getattr(preset, key), key


def test_a_config_file_overrides_the_preset_and_flags_override_both(tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text('lr = 0.01\nbatch_size = 32\n', encoding="utf-8")
    out = tmp_path / "run"
    result = train("--preset", "mnist-99", "--config", config, "--batch-size", "16", *TINY, "--out", out)
    assert result.exit_code == 0, result.output + result.stderr
    saved = saved_config(out)
    assert saved["lr"] == 0.01  # file over preset
    assert saved["batch_size"] == 16  # flag over file
    assert saved["optimizer"] == resolve(read_preset("mnist-99")).optimizer  # preset where nothing overrides it


def test_overriding_the_schedule_drops_the_presets_schedule_parameters():
    preset = read_preset("mnist-99")
    assert "decay_rate" in preset
    merged = merge_preset(preset, {"schedule": "step", "step_size": 5})
    assert "decay_rate" not in merged
    cfg = resolve(merged)
    assert cfg.schedule == "step" and cfg.step_size == 5 and cfg.decay_rate is None
    # without the override the preset's parameters stay
    assert resolve(merge_preset(preset, {"epochs": 3})).decay_rate == resolve(preset).decay_rate


def test_overriding_the_optimizer_drops_the_presets_optimizer_parameters():
    preset = {**read_preset("mnist-98"), "beta2": 0.99}
    cfg = resolve(merge_preset(preset, {"optimizer": "nesterov"}))
    assert cfg.optimizer == "nesterov" and cfg.beta2 is None and cfg.momentum == 0.9
    with pytest.raises(SettingsError, match="beta2"):  # the same values without the merge are inconsistent
        resolve({**preset, "optimizer": "nesterov"})


def test_an_unknown_preset_is_one_line_listing_the_known_ones():
    result = train("--preset", "mnist-100", *TINY)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlpkit: error: "), result.stderr
    assert "mnist-100" in lines[0]
    for name in presets.names():
        assert name in lines[0]


def test_preset_and_resume_cannot_be_combined(tmp_path):
    result = train("--preset", "mnist-98", "--resume", tmp_path)
    assert result.exit_code == 2 and "--preset and --resume" in result.stderr


def test_presets_are_package_data():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert "presets/*.toml" in pyproject


def test_the_experiment_driver_quick_mode(tmp_path):
    command = [sys.executable, str(REPO / "experiments" / "mnist_best.py"), "--quick", "--results-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    store = json.loads((tmp_path / "mnist_best.json").read_text(encoding="utf-8"))
    assert sorted(store) == ["aug", "aug-fast", "noaug"]
    for name, entry in store.items():
        runs = entry["runs"]
        assert [r["seed"] for r in runs] == [0, 1]
        for r in runs:
            assert r["epochs"] == 1 and r["n_train"] == 2000 and len(r["val_accuracy"]) == 1
            assert r["test_accuracy"] == pytest.approx(1 - len(r["test_errors"]) / 10_000)
            assert 0.3 < r["test_accuracy"] < 1.0, (name, r["test_accuracy"])
            assert r["wall_s"] > r["train_s"] > 0
        assert runs[0]["settings"]["augment"] == ([] if name == "noaug" else ["elastic", "affine"])
    report = (tmp_path / "mnist_best.md").read_text(encoding="utf-8")
    assert "mnist-98" in report and "mnist-99" in report and "±" in report


def test_the_experiment_driver_pilot_mode_never_touches_the_test_set(tmp_path):
    command = [sys.executable, str(REPO / "experiments" / "mnist_best.py"), "--quick", "--pilot", "--configs", "noaug",
               "--seeds", "0", "--jobs", "1", "--set", "lr=0.002", "--results-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "mnist_best.json").exists()
    log = (tmp_path / "mnist_best_pilots.md").read_text(encoding="utf-8")
    assert "`lr=0.002`" in log and "test" not in log.split("|---")[-1]


def test_input_dropout_adds_a_dropout_layer_before_the_first_dense_layer():
    from mlpkit.layers import Dense, Dropout

    with_it = network_from_settings(resolve({"activation": "relu", "input_dropout": 0.8}), [64, 16, 10])
    assert isinstance(with_it.layers[0], Dropout) and with_it.layers[0].keep_prob == 0.8
    assert isinstance(with_it.layers[1], Dense)
    assert not any(isinstance(layer, Dropout) for layer in network_from_settings(resolve({}), [64, 16, 10]).layers)


@pytest.mark.parametrize("value", ["0", "1.5", "nan"])
def test_a_bad_input_dropout_is_one_line(value):
    result = train("--input-dropout", value, *TINY)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--input-dropout" in lines[0] and "(0, 1]" in lines[0], result.stderr
