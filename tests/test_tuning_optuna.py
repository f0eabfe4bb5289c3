"""The optuna strategy (TPE, Optuna's pruners, Optuna's storage, resuming) and best_config.yaml of every
strategy, on the embedded digits with few epochs and trials."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlpkit.cli._app import cli
from mlpkit.tuning import ResultsStore, search

optuna = pytest.importorskip("optuna", reason="the optuna strategy needs the optuna extra")

SRC = Path(__file__).resolve().parents[1] / "src"
DIGITS = {"dataset": "digits", "epochs": 2, "layers": "auto,16,auto"}


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def study(storage: Path):
    url = f"sqlite:///{storage.resolve().with_name(storage.stem + '.optuna.sqlite')}"
    return optuna.load_study(study_name="mlpkit", storage=url)


def test_tpe_moves_to_the_better_region_and_keeps_each_parameter_on_its_scale():
    space = {"eta": {"dist": "log-uniform", "low": 1e-4, "high": 30.0},
             "momentum": {"dist": "one-minus-log", "low": 0.5, "high": 0.99},
             "batch_size": {"dist": "int", "low": 8, "high": 64, "log": True},
             "activation": ["sigmoid", "tanh"]}
    result = search(space, {**DIGITS, "optimizer": "momentum"}, strategy="optuna", trials=16, startup_trials=6,
                    backend="serial", seed=0)
    trials = sorted(result.trials, key=lambda t: t.number)
    assert [t.number for t in trials] == list(range(16)) and all(t.status == "completed" for t in trials)
    for t in trials:
        assert 1e-4 <= t.params["eta"] <= 30 and 0.5 <= t.params["momentum"] <= 0.99
        assert isinstance(t.params["batch_size"], int) and 8 <= t.params["batch_size"] <= 64
    startup, modelled = trials[:6], trials[6:]
    # random startup points straddle the range; TPE's later ones concentrate where val_accuracy is high
    assert max(t.score for t in startup) - min(t.score for t in startup) > 0.3
    median = lambda ts: sorted(t.score for t in ts)[len(ts) // 2]  # noqa: E731
    assert median(modelled) > median(startup) + 0.1
    assert result.best.score > 0.85


def test_median_pruner_prunes_some_trials_and_optuna_agrees(tmp_path):
    storage = tmp_path / "s.sqlite"
    result = search({"eta": {"dist": "log-uniform", "low": 1e-3, "high": 30.0}}, {**DIGITS, "epochs": 4},
                    strategy="optuna", trials=10, startup_trials=3, pruning={"kind": "median", "min_trials": 2},
                    backend="serial", storage=storage, seed=1)
    pruned = [t for t in result.trials if t.status == "pruned"]
    assert pruned and len(pruned) < 10
    assert all("MedianPruner" in t.stop_reason for t in pruned)
    assert any(t.epochs < 4 for t in pruned)  # pruning saved epochs
    states = {t.number: t.state.name for t in study(storage).trials}
    assert states == {t.number: {"completed": "COMPLETE", "pruned": "PRUNED"}[t.status] for t in result.trials}
    # each epoch's val_accuracy is the trial's intermediate value at step epoch (1, 2, ...)
    first = study(storage).trials[0]
    assert first.intermediate_values == dict(enumerate(result.trials[0].history["val_accuracy"], start=1))


def test_successive_halving_records_its_rungs_in_the_study(tmp_path):
    storage = tmp_path / "s.sqlite"
    result = search({"eta": {"dist": "log-uniform", "low": 1e-3, "high": 30.0}}, {**DIGITS, "epochs": 3},
                    strategy="optuna", trials=8, startup_trials=3, pruning={"kind": "halving", "eta": 3},
                    backend="serial", storage=storage, seed=2)
    assert result.counts().get("pruned", 0) >= 2
    stored = study(storage).trials
    assert all("completed_rung_0" in t.system_attrs for t in stored)  # every trial reached the rung at epoch 1
    assert 1 in {t.epochs for t in result.trials if t.status == "pruned"} <= {1, 3}  # pruned at rungs 1 and 3


def test_resume_continues_the_study_without_repeating_finished_trials(tmp_path):
    storage = tmp_path / "s.sqlite"
    space = {"eta": {"dist": "log-uniform", "low": 1e-2, "high": 10.0}}
    kwargs = {"strategy": "optuna", "startup_trials": 2, "backend": "serial", "storage": storage}
    first = search(space, DIGITS, trials=4, **kwargs)
    before = {t.id: t.finished_at for t in first.trials}
    ran = []
    again = search(space, DIGITS, trials=4, resume=True, on_result=ran.append, **kwargs)
    assert again.skipped == 4 and ran == [] and len(study(storage).trials) == 4
    more = search(space, DIGITS, trials=6, resume=True, on_result=ran.append, **kwargs)
    assert more.skipped == 4 and len(ran) == 2
    with ResultsStore(storage) as store:
        trials = store.trials()
    assert len(trials) == 6 == len(study(storage).trials)
    assert {t.id: t.finished_at for t in trials if t.id in before} == before  # untouched
    assert sorted(t.number for t in trials) == [t.number for t in study(storage).trials] == list(range(6))
    with pytest.raises(ValueError, match="already holds 6 trials"):
        search(space, DIGITS, trials=6, **kwargs)


class _Stop(Exception):
    pass


def _stop(trial):
    raise _Stop


def test_a_trial_interrupted_mid_run_is_run_again_on_resume(tmp_path):
    storage = tmp_path / "s.sqlite"
    space = {"eta": {"dist": "log-uniform", "low": 1e-2, "high": 10.0}}
    kwargs = {"strategy": "optuna", "startup_trials": 2, "storage": storage, "trials": 3}
    with pytest.raises(_Stop):  # two workers: the second trial is still running when the first result stops us
        search(space, DIGITS, backend="process", workers=2, on_result=_stop, **kwargs)
    running = [t for t in study(storage).trials if t.state.name == "RUNNING"]
    assert len(running) == 1
    result = search(space, DIGITS, backend="serial", resume=True, **kwargs)
    trials = {t.number: t for t in result.trials}
    lost = trials[running[0].number]
    assert lost.status == "failed" and lost.error.startswith("interrupted")
    states = [t.state.name for t in study(storage).trials]
    assert states.count("FAIL") == 1 and states.count("COMPLETE") == 3 and "RUNNING" not in states
    rerun = [t for t in result.trials if t.number > running[0].number and t.params == lost.params]
    assert len(rerun) == 1 and rerun[0].status == "completed"  # its point was queued and ran first


@pytest.mark.parametrize("strategy", ["grid", "random", "optuna", "nielsen"])
def test_best_config_trains_the_best_trial_again(tmp_path, monkeypatch, strategy):
    space = "space: {eta: {dist: log-uniform, low: 0.05, high: 5}}\n" if strategy != "nielsen" else ""
    extra = {"grid": "grid_points: 2", "random": "trials: 2", "optuna": "trials: 3, startup_trials: 2",
             "nielsen": "etas: [0.5, 5], lmbdas: [0.1], probe_epochs: 1, lmbda_epochs: 1, max_epochs: 2, "
                        "patience: 1"}[strategy]
    config = tmp_path / "search.yaml"
    epochs = "" if strategy == "nielsen" else "epochs: 2, "  # the recipe chooses the epochs
    config.write_text(f"train: {{dataset: digits, {epochs}layers: 'auto,8,auto', seed: 3}}\n" + space +
                      f"search: {{backend: serial, {extra}}}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("tune", config, "--strategy", strategy, "--storage", "s.sqlite", "--quiet")
    assert result.exit_code == 0, result.output + result.stderr
    best = Path("s_results") / "best_config.yaml"
    assert f"best configuration: {best}" in result.output
    assert f"train it: mlpkit train --config {best}" in result.output
    settings = yaml.safe_load(best.read_text(encoding="utf-8"))
    assert settings["seed"] == 3 and settings["layers"] == "auto,8,auto" and "lr" in settings
    assert not list(best.parent.glob(".*.part"))  # written atomically: no temporary file left
    trained = invoke("train", "--config", best, "--out", "run", "--quiet")
    assert trained.exit_code == 0, trained.output + trained.stderr
    history = json.loads(Path("run", "history.json").read_text(encoding="utf-8"))
    curve = history["history"]["val_accuracy"] if "history" in history else history["val_accuracy"]
    with ResultsStore("s.sqlite") as store:  # the recipe's best: its final (early-stopping) run
        scores = [t.score for t in store.trials() if t.status == "completed" and
                  (strategy != "nielsen" or t.round == "epochs")]
    assert math.isclose(max(curve), max(scores))  # the same seed and values: the best trial again


def test_a_missing_optuna_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'mlpkit\[optuna\]'"):
        search({"eta": [0.1]}, DIGITS, strategy="optuna", backend="serial")
    config = tmp_path / "c.yaml"
    config.write_text("space: {eta: [0.1]}\nsearch: {strategy: optuna}\n", encoding="utf-8")
    result = invoke("tune", config, "--storage", tmp_path / "s.sqlite")
    assert result.exit_code == 2
    assert result.stderr.strip() == "mlpkit: error: strategy optuna needs Optuna: pip install 'mlpkit[optuna]'"
    assert not (tmp_path / "s.sqlite").exists()


def test_other_strategies_never_import_optuna(tmp_path):
    code = ("import sys; import mlpkit; from mlpkit.tuning import search; "
            "search({'eta': [0.5]}, {'dataset': 'digits', 'epochs': 1}, strategy='grid', backend='serial'); "
            "from mlpkit.cli._app import cli; import mlpkit.cli._tune; print('optuna' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize(("search_table", "message"), [
    ("{strategy: random, startup_trials: 3}", "'startup_trials' applies to strategy optuna, not random"),
    ("{strategy: optuna, pruning: {kind: hyperband, eta: 1}}", "hyperband eta must be an integer >= 2"),
    ("{strategy: optuna, pruning: {kind: hyperband, rungs: 1}}", "pruning hyperband takes min_epochs"),
    ("{strategy: grid, pruning: hyperband}", "pruning must be none, median or halving"),
])
def test_optuna_settings_errors_are_one_line(tmp_path, search_table, message):
    config = tmp_path / "c.yaml"
    config.write_text(f"space: {{eta: [0.1]}}\nsearch: {search_table}\n", encoding="utf-8")
    result = invoke("tune", config, "--storage", tmp_path / "s.sqlite")
    assert result.exit_code == 2 and message in result.stderr, result.stderr
