"""Tabular data: mlpkit's scikit-learn estimators against scikit-learn's own MLP, same data, same settings.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_tabular.py
    python benchmarks/bench_tabular.py --quick --out /tmp/tabular.md          # smoke test

Every task on data that ships with scikit-learn (no download): breast cancer (binary), the 8x8 digits
(10 classes), a generated multi-label set (5 labels), diabetes and Friedman #1 (regression), and a 9:1
imbalanced binary set where only mlpkit can weight the classes. Both sides get the same inputs (standardized
with the training set's statistics), one hidden layer of 100 ReLU units, Adam at 0.001, mini-batches of 200,
no L2, and exactly ``--epochs`` passes (scikit-learn's early-stop rule is switched off with
``n_iter_no_change = epochs``); scikit-learn's regressor is shown on raw targets (its default) and on
standardized targets (``TransformedTargetRegressor``), which is what mlpkit's ``standardize_targets`` does.

Scores are on a held-out quarter of each set (accuracy, balanced accuracy for the imbalanced set, subset
accuracy for multi-label, R^2 for regression), as the mean and standard deviation over ``--seeds`` seeds
(the split, the initialization and the shuffling change with the seed). Speed is a ratio within each seed:
scikit-learn's fit time over mlpkit's (> 1: mlpkit is faster), the median over seeds; both fit in the same
process, one after the other, in alternating order, so the machine's load affects both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    make_classification,
    make_friedman1,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from machine import machine_lines, write_results
from mlpkit.sklearn import MLPKitClassifier, MLPKitRegressor

REPO = Path(__file__).resolve().parent.parent
HIDDEN, RATE, BATCH = (100,), 1e-3, 200


def _imbalanced(seed: int) -> tuple[np.ndarray, np.ndarray]:
    return make_classification(n_samples=2000, n_features=20, n_informative=5, weights=[0.9, 0.1],
                               flip_y=0.02, class_sep=0.6, random_state=seed)


DATASETS: dict[str, tuple[str, Callable[[int], tuple[np.ndarray, np.ndarray]]]] = {
    "breast cancer (binary)": ("classifier", lambda seed: load_breast_cancer(return_X_y=True)),
    "digits (10 classes)": ("classifier", lambda seed: load_digits(return_X_y=True)),
    "multi-label (5 labels)": ("classifier", lambda seed: make_multilabel_classification(
        n_samples=2000, n_features=20, n_classes=5, n_labels=2, random_state=seed)),
    "diabetes (regression)": ("regressor", lambda seed: load_diabetes(return_X_y=True)),
    "Friedman #1 (regression)": ("regressor", lambda seed: make_friedman1(n_samples=2000, noise=0.5,
                                                                          random_state=seed)),
    "imbalanced 9:1 (balanced accuracy)": ("imbalanced", _imbalanced),
}


def _common(seed: int, epochs: int) -> dict[str, Any]:
    return dict(hidden_layer_sizes=HIDDEN, activation="relu", batch_size=BATCH, max_iter=epochs, alpha=0.0,
                random_state=seed, n_iter_no_change=epochs, tol=0.0)


def _models(kind: str, seed: int, epochs: int) -> dict[str, Any]:
    common = _common(seed, epochs)
    if kind == "regressor":
        return {
            "mlpkit": MLPKitRegressor(learning_rate=RATE, **common),
            "scikit-learn": MLPRegressor(learning_rate_init=RATE, **common),
            "scikit-learn, scaled y": TransformedTargetRegressor(
                MLPRegressor(learning_rate_init=RATE, **common), transformer=StandardScaler()),
        }
    models = {"mlpkit": MLPKitClassifier(learning_rate=RATE, **common),
              "scikit-learn": MLPClassifier(learning_rate_init=RATE, **common)}
    if kind == "imbalanced":
        models["mlpkit, class_weight='balanced'"] = MLPKitClassifier(learning_rate=RATE, class_weight="balanced",
                                                                     **common)
    return models


def _score(kind: str, model: Any, X: np.ndarray, y: np.ndarray) -> float:
    if kind == "imbalanced":
        return float(balanced_accuracy_score(y, model.predict(X)))
    return float(model.score(X, y))


def run(epochs: int, seeds: int, only: str | None = None) -> dict[str, dict[str, dict[str, list[float]]]]:
    """{dataset: {model: {"score": [...], "ratio": [...]}}} over the seeds (ratio: scikit-learn's fit time over
    this model's, within the seed)."""
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    for name, (kind, load) in DATASETS.items():
        if only and only not in name:
            continue
        table: dict[str, dict[str, list[float]]] = {}
        for seed in range(seeds):
            X, y = load(seed)
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.25, random_state=seed, stratify=y if kind != "regressor" and y.ndim == 1 else None)
            scaler = StandardScaler().fit(X_train)
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
            models = list(_models(kind, seed, epochs).items())
            if seed % 2:
                models.reverse()
            times: dict[str, float] = {}
            for label, model in models:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    start = time.perf_counter()
                    model.fit(X_train, y_train)
                    times[label] = time.perf_counter() - start
                table.setdefault(label, {"score": [], "ratio": []})["score"].append(
                    _score(kind, model, X_test, y_test))
            for label, seconds in times.items():
                table[label]["ratio"].append(times["scikit-learn"] / seconds)
        results[name] = table
    return results


def report(results: dict[str, dict[str, dict[str, list[float]]]], epochs: int, seeds: int) -> str:
    lines = ["# Tabular data: mlpkit's estimators and scikit-learn's MLP", "",
             "Written by `benchmarks/bench_tabular.py` (see its docstring for the protocol).", "",
             *machine_lines(), f"- {epochs} epochs, {seeds} seeds, one hidden layer of {HIDDEN[0]} ReLU units, "
             f"Adam {RATE}, batch {BATCH}", "",
             "| data | model | test score (mean ± sd) | speed vs scikit-learn (median) |",
             "|---|---|---:|---:|"]
    for name, table in results.items():
        for label, values in table.items():
            scores = values["score"]
            spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
            ratio = statistics.median(values["ratio"])
            lines.append(f"| {name} | {label} | {statistics.mean(scores):.4f} ± {spread:.4f} | {ratio:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 epochs, 1 seed: a smoke test")
    parser.add_argument("--only", help="only the data sets whose name contains this text")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "tabular.md"))
    args = parser.parse_args(argv)
    epochs, seeds = (3, 1) if args.quick else (args.epochs, args.seeds)
    return write_results(args.out, report(run(epochs, seeds, args.only), epochs, seeds))


if __name__ == "__main__":
    main()
