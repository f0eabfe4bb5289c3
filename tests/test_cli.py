"""The mlpkit command: training on the embedded digits, user files, and one-line errors with exit status 2."""

import numpy as np
import pytest

import mlpkit
from mlpkit.cli import main


def test_train_on_digits_prints_epochs_and_saves(tmp_path, capsys):
    model, history = tmp_path / "digits.mlpk", tmp_path / "history.json"
    assert main(["train", "--epochs", "3", "--save", str(model), "--history", str(history)]) == 0
    out = capsys.readouterr().out
    assert "Epoch 3/3" in out and "val_accuracy" in out and "test accuracy" in out
    net = mlpkit.load(model)
    assert net.sizes == [64, 30, 10] and net.metadata["dataset"] == "digits"
    assert mlpkit.History.from_json(history)["val_accuracy"]


def test_default_run_learns_the_digits(capsys):
    main(["train", "--quiet"])
    line = capsys.readouterr().out.strip()
    accuracy = float(line.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 90.0


def test_train_on_a_csv_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    path = tmp_path / "data.csv"
    lines = ["a,b,answer,c,d"] + [f"{r[0]},{r[1]},{label},{r[2]},{r[3]}" for r, label in zip(X, y, strict=True)]
    path.write_text("\n".join(lines))
    assert main(["train", "--dataset", str(path), "--label-column", "answer", "--epochs", "5", "--quiet"]) == 0
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "--layers", "64,30,9"], "ends with 9 outputs but the dataset has 10 classes"),
    (["train", "--layers", "64,x,10"], "positive integers"),
    (["train", "--eta", "0"], "--eta must be a finite number > 0"),
    (["train", "--batch-size", "0"], "--batch-size must be a positive integer"),
    (["train", "--activation", "swish"], "invalid choice: 'swish'"),
    (["train", "--dataset", "nowhere.csv"], "does not exist"),
    (["train", "--lmbda", "1", "--l1", "1"], "exclusive"),
    (["train", "--output", "relu", "--cost", "categorical_crossentropy"], "needs a softmax output layer"),
])
def test_bad_options_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
