"""The mlpkit command: train (table, run directory, config files, Ctrl-C and --resume), evaluate, predict,
gradcheck, diagnose, and one-line errors with exit status 2."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("click")
pytest.importorskip("rich")
pytest.importorskip("yaml")
pytest.importorskip("matplotlib")

import yaml

import mlpkit
from cli_runner import ctrl_c_as_typed, error, run
from mlpkit.checkpoint import Checkpointer, load_checkpoint
from mlpkit.cli import main

FAST = ["--epochs", "2", "--no-plots"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small digits run shared by the evaluate / predict / diagnose tests."""
    out = tmp_path_factory.mktemp("run")
    run("train", "--epochs", "3", "--out", out, "--quiet", "--no-plots")
    return out


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    path = tmp_path / "data.csv"
    lines = ["a,b,answer,c,d"] + [f"{r[0]},{r[1]},{label},{r[2]},{r[3]}" for r, label in zip(X, y, strict=True)]
    path.write_text("\n".join(lines))
    return path


# ------------------------------------------------------------------------------------------------ train
def test_train_on_digits_prints_the_table_and_writes_the_run_directory(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--epochs", "3", "--out", out)
    text = result.stdout
    assert "dataset digits: 1079 training, 359 validation, 359 test examples" in text
    header = next(line for line in text.splitlines() if line.strip().startswith("epoch"))
    assert header.split() == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "time"]
    assert [line.split()[0] for line in text.splitlines() if "/3 " in line] == ["1/3", "2/3", "3/3"]
    assert "test accuracy" in text and f"saved to {out}" in text
    assert sorted(p.name for p in out.iterdir()) == ["accuracy.png", "checkpoint.mlpkc", "config.yaml", "cost.png",
                                                     "history.json", "manifest.json", "model.mlpk"]
    for png in ("cost.png", "accuracy.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    net = mlpkit.load(out / "model.mlpk")
    assert net.sizes == [64, 30, 10] and net.metadata["dataset"] == "digits"
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert net.metadata["config"] == config
    assert config["layers"] == [64, 30, 10] and config["lr"] == 0.5 and config["epochs"] == 3
    assert config["cost"] == "categorical_crossentropy" and config["beta1"] is None
    history = mlpkit.History.from_json(out / "history.json")
    assert history.epochs == [0, 1, 2] and len(history["val_accuracy"]) == 3
    accuracy = float(text.split("test accuracy ")[1].split("%")[0]) / 100
    assert accuracy == pytest.approx(net.metadata["test_accuracy"], abs=5e-5)


def test_default_run_learns_the_digits(tmp_path):
    # the default run: digits, [64, 30, 10], sigmoid, eta 0.5, 30 epochs of mini-batches of 10
    result = run("train", "--quiet", "--no-plots", "--out", tmp_path / "run")
    line = result.stdout.strip()
    assert len(line.splitlines()) == 1
    accuracy = float(line.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 90.0


def test_main_returns_the_exit_status(tmp_path, capsys):
    assert main(["train", "--quiet", "--no-plots", "--epochs", "1", "--out", str(tmp_path / "r")]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert main(["train", "--epochs", "0"]) == 2
    assert capsys.readouterr().err.strip() == "mlpkit: error: --epochs must be a positive integer, got 0"


def test_train_on_a_csv_file_then_evaluate_and_predict_by_class_name(tmp_path, csv_file):
    out = tmp_path / "run"
    run("train", "--dataset", csv_file, "--label-column", "answer", "--epochs", "5", "--quiet", "--no-plots",
        "--out", out, "--lr", "1.0")
    net = mlpkit.load(out / "model.mlpk")
    assert net.metadata["classes"] == ["no", "yes"]
    assert net.metadata["config"]["dataset"] == str(csv_file.resolve())
    report = json.loads(run("evaluate", out / "model.mlpk", "--json").stdout)
    assert report["split"] == "test" and report["n"] == 30 and report["classes"] == ["no", "yes"]
    assert report["accuracy"] == pytest.approx(net.metadata["test_accuracy"])
    assert report["accuracy"] > 0.8
    # predict ignores the label column when asked to, and names the classes
    predicted = run("predict", out / "model.mlpk", csv_file, "--label-column", "answer").stdout.splitlines()
    assert predicted[0] == "prediction" and len(predicted) == 301 and set(predicted[1:]) <= {"no", "yes"}


def test_train_with_every_kind_of_option(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--epochs", "4", "--no-plots", "--out", out, "--layers", "auto,20,12,auto",
                 "--activation", "relu", "--init", "he", "--optimizer", "adamw", "--lr", "0.003", "--beta1", "0.8",
                 "--weight-decay", "0.001", "--schedule", "step", "--step-size", "2", "--factor", "0.5",
                 "--dropout", "0.9,0.8", "--batch-norm", "--standardize", "--early-stopping", "3",
                 "--monitor", "val_accuracy", "--augment", "shift,elastic", "--batch-size", "32", "--seed", "5",
                 "--dtype", "float64")
    assert "schedule step (step_size 2, factor 0.5)" in result.stdout
    net = mlpkit.load(out / "model.mlpk")
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Standardize", "Dense", "BatchNorm", "Dropout", "Dense", "BatchNorm", "Dropout", "Dense"]
    assert [layer.keep_prob for layer in net.layers if type(layer).__name__ == "Dropout"] == [0.9, 0.8]
    assert net.dtype == np.float64
    history = json.loads((out / "history.json").read_text())
    assert history["history"]["learning_rate"] == [0.003, 0.003, 0.0015, 0.0015]
    config = net.metadata["config"]
    assert config["optimizer"] == "adamw" and config["beta2"] == 0.999 and config["momentum"] is None
    assert config["augment"] == ["shift", "elastic"] and config["monitor"] == "val_accuracy"


def test_config_file_gives_the_same_options_and_flags_override_it(tmp_path):
    toml = tmp_path / "exp.toml"
    toml.write_text('layers = "auto,16,auto"\neta = 1.0\nbatch-size = 20\nepochs = 5\nlmbda = 0.5\n'
                    'optimizer = "momentum"\nmomentum = 0.5\n')
    out = tmp_path / "a"
    run("train", "--config", toml, "--epochs", "2", "--quiet", "--no-plots", "--out", out)
    config = mlpkit.load(out / "model.mlpk").metadata["config"]
    assert config["layers"] == [64, 16, 10] and config["lr"] == 1.0 and config["batch_size"] == 20
    assert config["epochs"] == 2 and config["l2"] == 0.5 and config["momentum"] == 0.5
    assert config["momentum_convention"] == "ng"
    # the saved effective config, used as --config, reproduces the run exactly
    again = tmp_path / "b"
    run("train", "--config", out / "config.yaml", "--quiet", "--no-plots", "--out", again)
    first, second = mlpkit.load(out / "model.mlpk"), mlpkit.load(again / "model.mlpk")
    np.testing.assert_array_equal(first.flat_parameters, second.flat_parameters)
    yaml_file = tmp_path / "exp.yaml"
    yaml_file.write_text("dropout: [0.5]\nlr: 1e-1\nschedule: inverse_time\nstaircase: true\n")
    run("train", "--config", yaml_file, "--quiet", *FAST, "--out", tmp_path / "c")
    config = mlpkit.load(tmp_path / "c" / "model.mlpk").metadata["config"]
    assert config["dropout"] == [0.5] and config["lr"] == 0.1
    assert config["schedule"] == "inverse_time" and config["staircase"] is True and config["decay_rate"] == 1.0


# ------------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(("argv", "message"), [
    (["--layers", "64,30,9"], "ends with 9 outputs but the dataset has 10 classes"),
    (["--layers", "64,x,10"], "positive integers"),
    (["--layers", "65,30,10"], "starts with 65 inputs but the dataset has 64 features"),
    (["--eta", "0"], "--lr/--eta must be a finite number > 0"),
    (["--batch-size", "0"], "--batch-size must be a positive integer"),
    (["--epochs", "x"], "'x' is not a valid integer"),
    (["--activation", "swish"], "--activation must be one of sigmoid, tanh, relu, leaky_relu, identity; got 'swish'"),
    (["--dataset", "nowhere.csv"], "does not exist"),
    (["--lmbda", "1", "--l1", "1"], "exclusive"),
    (["--output", "relu", "--cost", "categorical_crossentropy"], "needs a softmax output layer"),
    (["--beta1", "0.8"], "--beta1 applies to the adam and adamw optimizers, not sgd"),
    (["--optimizer", "adam", "--momentum", "0.9"], "--momentum/--beta applies to the momentum and nesterov"),
    (["--optimizer", "rmsprop", "--beta2", "1.0"], "--beta2 must be in [0, 1)"),
    (["--schedule", "step"], "--schedule step needs --step-size"),
    (["--decay-rate", "0.5"], "--decay-rate applies to --schedule inverse_time or exponential, not constant"),
    (["--schedule", "exponential", "--decay-rate", "2"], "--decay-rate must be in (0, 1]"),
    (["--dropout", "1.5"], "--dropout must be in (0, 1]"),
    (["--dropout", "0.5,0.5"], "gives 2 keep probabilities for 1 hidden layers"),
    (["--monitor", "val_loss"], "--monitor applies to --early-stopping and --schedule halve_on_plateau"),
    (["--augment", "flip"], "--augment takes shift, rotate, elastic, affine"),
    (["--optimizer", "lbfgs"], "--optimizer must be one of sgd, momentum, nesterov, rmsprop, adam, adamw"),
    (["--no-such-option"], "No such option"),
    (["--output", "identity", "--cost", "quadratic", "--early-stopping", "2", "--monitor", "val_accuracy"],
     "reports no accuracy"),
])
def test_bad_options_exit_2_with_one_line(argv, message, tmp_path):
    line = error("train", *argv, "--out", tmp_path / "never")
    assert message in line
    assert not (tmp_path / "never").exists()  # nothing is written for a refused run


def test_augmentation_needs_images(tmp_path, csv_file):
    line = error("train", "--dataset", csv_file, "--label-column", "answer", "--augment", "shift")
    assert "--augment applies to image data sets" in line


@pytest.mark.parametrize(("name", "text", "message"), [
    ("bad.toml", "layers = [64, 30\n", "bad.toml is not valid TOML"),
    ("bad.yaml", "layers: [64, 30\n", "bad.yaml is not valid YAML"),
    ("keys.toml", "learning_rate = 0.1\n", "keys.toml: unknown option 'learning_rate'; allowed: dataset, label_column"),
    ("type.toml", "epochs = 'many'\n", "'epochs' in type.toml must be an integer, got 'many'"),
    ("value.yaml", "epochs: 0\n", "'epochs' in value.yaml must be a positive integer, got 0"),
    ("list.yaml", "- 1\n- 2\n", "must hold key = value settings"),
    ("conf.ini", "x = 1\n", "must end in .toml, .yaml, .yml or .json"),
])
def test_bad_config_files_exit_2_with_one_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    assert message in error("train", "--config", path)


def test_unreadable_data_files_exit_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,0\n3,oops,1\n")
    assert "bad.csv, line 3, column 'b': 'oops' is not a number" in error("train", "--dataset", bad)
    npz = tmp_path / "bad.npz"
    npz.write_bytes(b"garbage")
    assert "not a valid .npz archive" in error("train", "--dataset", npz)
    assert f"{tmp_path} is a directory" in error("train", "--dataset", tmp_path)
    other = tmp_path / "data.txt"
    other.write_text("1,2\n")
    assert "--dataset file must end in .csv or .npz, got data.txt" in error("train", "--dataset", other)


@pytest.mark.parametrize("command", [["evaluate"], ["diagnose"], ["predict"]])
def test_bad_model_files_exit_2_with_one_line(tmp_path, command):
    garbage = tmp_path / "model.mlpk"
    garbage.write_bytes(b"this is not a model")
    extra = [tmp_path / "x.npy"] if command == ["predict"] else []
    assert "is not an mlpkit model file" in error(*command, garbage, *extra)
    assert "no model file at" in error(*command, tmp_path / "missing.mlpk", *extra)


def test_missing_extras_give_one_line_and_exit_2(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rich" else real(name, *a))
    assert main(["train"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err]
    assert "the mlpkit command needs its extras: pip install 'mlpkit[cli]'" in err and "rich" in err


def test_importing_mlpkit_does_not_import_the_cli_dependencies():
    code = ("import sys, mlpkit, mlpkit.cli, mlpkit.diagnose, mlpkit.checkpoint, mlpkit.plotting\n"
            "bad = [m for m in ('click', 'rich', 'matplotlib', 'yaml') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_help_and_version():
    assert "train" in run("--help").stdout and "Usage: mlpkit" in run().stdout
    assert mlpkit.__version__ in run("--version").stdout
    assert "--early-stopping" in run("train", "--help").stdout


# ------------------------------------------------------------------------------------- out and resume
def test_an_existing_run_is_not_overwritten_without_asking(tmp_path):
    out = tmp_path / "run"
    run("train", "--quiet", *FAST, "--out", out)
    assert "already holds a run" in error("train", "--quiet", *FAST, "--out", out)
    run("train", "--quiet", *FAST, "--out", out, "--overwrite")


@pytest.fixture
def interrupt_after(monkeypatch):
    """Make the next training run get a KeyboardInterrupt right after the snapshot of epoch ``n``."""

    def arm(n):
        original = Checkpointer.on_epoch_end

        def on_epoch_end(self, epoch, logs):
            original(self, epoch, logs)
            if self.epoch_offset + epoch + 1 == n:
                monkeypatch.setattr(Checkpointer, "on_epoch_end", original)
                raise KeyboardInterrupt

        monkeypatch.setattr(Checkpointer, "on_epoch_end", on_epoch_end)

    return arm


RESUMABLE = ["--optimizer", "adam", "--lr", "0.005", "--dropout", "0.8", "--batch-norm", "--augment", "shift",
             "--schedule", "halve-on-plateau", "--patience", "1", "--monitor", "val_loss", "--early-stopping", "10",
             "--no-plots"]


def test_interrupt_saves_a_checkpoint_and_resume_continues_exactly(tmp_path, interrupt_after):
    straight = tmp_path / "straight"
    run("train", "--epochs", "4", *RESUMABLE, "--quiet", "--out", straight)

    stopped = tmp_path / "stopped"
    interrupt_after(2)
    result = run("train", "--epochs", "4", *RESUMABLE, "--out", stopped, ok=False)
    assert result.exit_code == 130
    assert result.stderr.strip() == (f"interrupted: checkpoint saved to {stopped / 'checkpoint.mlpkc'} (after epoch "
                                     f"2); resume with mlpkit train --resume {stopped}")
    assert not (stopped / "model.mlpk").exists()
    assert load_checkpoint(stopped / "checkpoint.mlpkc").epoch == 2
    assert "interrupted run" in error("train", "--out", stopped)

    resumed = run("train", "--resume", stopped).stdout
    assert f"resuming {stopped} after epoch 2" in resumed and "3/4" in resumed and "1/4" not in resumed
    a, b = mlpkit.load(straight / "model.mlpk"), mlpkit.load(stopped / "model.mlpk")
    np.testing.assert_array_equal(a.flat_parameters, b.flat_parameters)
    for name, value in a.named_states():
        np.testing.assert_array_equal(dict(b.named_states())[name], value)
    ha, hb = (json.loads((d / "history.json").read_text()) for d in (straight, stopped))
    assert ha["epochs"] == hb["epochs"] == [0, 1, 2, 3]
    for key in ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate"):
        assert ha["history"][key] == hb["history"][key]


def test_resume_rules(tmp_path):
    out = tmp_path / "run"
    run("train", "--epochs", "2", "--quiet", "--no-plots", "--out", out)
    assert "already completed 2 of 2 epochs; pass --epochs N with N > 2" in error("train", "--resume", out)
    message = ("only --epochs, --quiet, --plots, --checkpoint-every, --checkpoint-interval, --dashboard, --log-dir "
               "may be given with it, not --lr/--eta")
    assert message in error("train", "--resume", out, "--lr", "0.1")
    assert "cannot be combined" in error("train", "--resume", out, "--config", out / "config.yaml")
    assert "no checkpoint.mlpkc there" in error("train", "--resume", tmp_path)
    # a finished run can be extended: the same as training 3 epochs straight
    run("train", "--resume", out, "--epochs", "3", "--quiet", "--no-plots")
    straight = tmp_path / "straight"
    run("train", "--epochs", "3", "--quiet", "--no-plots", "--out", straight)
    np.testing.assert_array_equal(mlpkit.load(out / "model.mlpk").flat_parameters,
                                  mlpkit.load(straight / "model.mlpk").flat_parameters)


def test_checkpoint_every_n_epochs(tmp_path, monkeypatch):
    import mlpkit.cli._train

    saved = []
    real = mlpkit.cli._train.checkpoint_bytes
    monkeypatch.setattr(mlpkit.cli._train, "checkpoint_bytes", lambda ckpt: saved.append(ckpt.epoch) or real(ckpt))
    run("train", "--epochs", "5", "--checkpoint-every", "2", "--quiet", "--no-plots", "--out", tmp_path / "run")
    assert saved == [2, 4, 5]  # every second epoch, then the final one


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to a child differs on Windows")
def test_ctrl_c_in_a_real_process(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="120")
    process = subprocess.Popen([sys.executable, "-m", "mlpkit.cli", "train", "--epochs", "500", "--no-plots",
                                "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               preexec_fn=ctrl_c_as_typed)
    try:
        for line in process.stdout:
            if line.strip().startswith("2/500"):
                break
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert err.startswith("interrupted: checkpoint saved to") and "Traceback" not in err
    done = load_checkpoint(out / "checkpoint.mlpkc").epoch
    assert 2 <= done < 500
    run("train", "--resume", out, "--epochs", done + 1, "--quiet", "--no-plots")
    assert mlpkit.load(out / "model.mlpk").metadata["epochs_trained"] == done + 1


# ----------------------------------------------------------------------------------- other commands
def test_evaluate_reports_accuracy_cost_and_per_class_table(trained):
    model = trained / "model.mlpk"
    text = run("evaluate", model).stdout
    assert "on digits (test, 359 examples)" in text
    assert "confusion matrix" in text and "per-class report" in text and "macro avg" in text
    report = json.loads(run("evaluate", model, "--json").stdout)
    net = mlpkit.load(model)
    assert report["accuracy"] == pytest.approx(net.metadata["test_accuracy"])
    assert report["loss"] == pytest.approx(net.metadata["test_loss"])
    cm = np.array(report["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == 359 and np.trace(cm) / 359 == pytest.approx(report["accuracy"])
    assert [row["support"] for row in report["per_class"]] == cm.sum(axis=1).tolist()
    train_part = json.loads(run("evaluate", model, "--split", "train", "--json").stdout)
    assert train_part["n"] == 1079
    assert "'dev' is not one of 'test', 'validation', 'train', 'all'" in error("evaluate", model, "--split", "dev")


def test_evaluate_on_another_file_uses_all_of_it(tmp_path, trained):
    data = mlpkit.datasets.load_digits()
    path = tmp_path / "more.npz"
    np.savez(path, X=data.test.X[:50], y=data.test.y[:50])
    report = json.loads(run("evaluate", trained / "model.mlpk", "--dataset", path, "--json").stdout)
    assert report["split"] == "all" and report["n"] == 50


def test_predict_reads_csv_npz_npy_and_writes_probabilities(tmp_path, trained):
    model = trained / "model.mlpk"
    X = mlpkit.datasets.load_digits().test.X[:7]
    expected = mlpkit.load(model).predict(X)
    np.save(tmp_path / "x.npy", X)
    np.savez(tmp_path / "x.npz", X=X)
    header = ",".join(f"p{i}" for i in range(64))
    (tmp_path / "x.csv").write_text(header + "\n" + "\n".join(",".join(map(str, row)) for row in X))
    (tmp_path / "plain.csv").write_text("\n".join(",".join(map(str, row)) for row in X))
    for name in ("x.npy", "x.npz", "x.csv", "plain.csv"):
        lines = run("predict", model, tmp_path / name).stdout.splitlines()
        assert lines[0] == "prediction" and [int(v) for v in lines[1:]] == expected.tolist(), name
    out = tmp_path / "pred.csv"
    run("predict", model, tmp_path / "x.npy", "--proba", "--output", out)
    rows = [line.split(",") for line in out.read_text().splitlines()]
    assert rows[0] == ["prediction"] + [f"p_{i}" for i in range(10)]
    probabilities = np.array(rows[1:], dtype=float)[:, 1:]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    wide = tmp_path / "wide.csv"
    wide.write_text("label," + header + "\n" + "\n".join("3," + ",".join(map(str, row)) for row in X))
    assert "has 65 columns per row, the model expects 64 features; pass --label-column" in error(
        "predict", model, wide)
    assert run("predict", model, wide, "--label-column", "label").stdout.splitlines()[1:] == lines[1:]
    (tmp_path / "bad.csv").write_text(header + "\n" + ",".join(["x"] * 64))
    assert "line 2, column 'p0': 'x' is not a finite number" in error("predict", model, tmp_path / "bad.csv")


@pytest.mark.parametrize("argv", [
    [],
    ["--layers", "5,4,4,3", "--activation", "tanh", "--l2", "2", "--batch-norm", "--dropout", "0.8"],
    ["--layers", "4,6,1", "--output", "sigmoid", "--l1", "0.5"],
    ["--layers", "3,4,2", "--output", "identity", "--cost", "quadratic", "--activation", "leaky_relu"],
])
def test_gradcheck_passes_and_exits_0(argv):
    result = run("gradcheck", *argv)
    assert "PASSED" in result.stdout and "layers.0.W" in result.stdout


def test_gradcheck_exits_1_when_it_fails_and_2_on_bad_options():
    result = run("gradcheck", "--threshold", "1e-300", ok=False)
    assert result.exit_code == 1 and "FAILED" in result.stdout
    assert "--layers for gradcheck must be numbers" in error("gradcheck", "--layers", "auto,3,2")
    assert "--activation must be one of" in error("gradcheck", "--activation", "swish")


def test_diagnose_gives_a_verdict_saturation_and_gradient_norms(trained):
    text = run("diagnose", trained / "model.mlpk", "--bayes-error", "0.01").stdout
    assert "avoidable bias" in text and "Bayes error 1.00%" in text
    assert "saturated and dead units" in text and "gradient norms per layer" in text
    report = json.loads(run("diagnose", trained / "model.mlpk", "--json").stdout)
    verdict = report["bias_variance"]
    net = mlpkit.load(trained / "model.mlpk")
    data = mlpkit.datasets.load_digits()
    assert verdict["train_error"] == pytest.approx(1 - net.evaluate(data.train.X, data.train.y)["accuracy"])
    assert verdict["dev_error"] == pytest.approx(1 - net.evaluate(data.validation.X, data.validation.y)["accuracy"])
    assert verdict["verdict"] in ("high bias", "high variance", "high bias and high variance", "good fit")
    assert [g["layer"] for g in report["gradients"]] == [0, 1] and report["saturation"][0]["units"] == 30
    assert "--bayes-error" in error("diagnose", trained / "model.mlpk", "--bayes-error", "2")
