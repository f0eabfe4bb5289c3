"""mlpkit.tuning.search on the embedded digits: backends agree, failures are recorded, coarse-to-fine zooms,
pruning stops poor trials, the store resumes, reports are written, Nielsen's recipe runs."""

from __future__ import annotations

import csv
import math
import os
import time
from pathlib import Path

import pytest

from mlpkit.tuning import LogUniform, MedianRule, ResultsStore, SearchSpace, SuccessiveHalving, nielsen_recipe, search
from mlpkit.tuning.backends import ProcessBackend
from mlpkit.tuning.report import plot_curves, plot_scores, write_csv
from mlpkit.tuning.trial import worker_info

DIGITS = {"dataset": "digits", "epochs": 3, "layers": "auto,16,auto"}
SPACE = {"eta": LogUniform(0.01, 10.0), "lmbda": LogUniform(1e-3, 10.0)}


def _outcome(result):
    return {t.id: (t.status, t.score, t.epochs, t.history["val_accuracy"]) for t in result.trials}


def test_process_pool_matches_serial():
    serial = search(SPACE, DIGITS, trials=6, backend="serial", seed=3)
    pooled = search(SPACE, DIGITS, trials=6, backend="process", workers=2, seed=3)
    assert _outcome(pooled) == _outcome(serial)
    assert os.getpid() not in {t.pid for t in pooled.trials} and {t.pid for t in serial.trials} == {os.getpid()}
    scores = sorted(t.score for t in serial.trials)
    assert scores[-1] - scores[0] > 0.05  # the hyper-parameters matter: the comparison is not vacuous


def test_process_pool_runs_tasks_at_the_same_time_in_single_threaded_workers(tmp_path):
    """Each task waits until both tasks have started: that only ends well when they run in parallel."""
    tasks = [{"id": str(k), "meeting": str(tmp_path)} for k in range(2)]
    infos = list(ProcessBackend(workers=2).run(_meet, tasks))
    assert all(info["met"] for info in infos), infos
    assert len({info["pid"] for info in infos}) == 2
    assert all(info["blas_threads"] and set(info["blas_threads"]) == {1} for info in infos), infos


def _meet(task):
    meeting = Path(task["meeting"])
    (meeting / f"{os.getpid()}-{task['id']}").touch()
    deadline = time.monotonic() + 60
    while len(list(meeting.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    return {**worker_info(), "met": len(list(meeting.iterdir())) == 2}


def test_diverging_and_crashing_trials_are_failed_and_the_search_goes_on():
    result = search({"eta": [0.5, 1e38], "dropout": [1.0, 1.5]}, DIGITS, strategy="grid", backend="serial")
    by = {(t.params["eta"], t.params["dropout"]): t for t in result.trials}
    diverged = by[(1e38, 1.0)]
    assert diverged.status == "failed" and "diverged" in diverged.error and diverged.score is None
    crashed = by[(0.5, 1.5)]  # a keep probability above 1: an error inside the trial
    assert crashed.status == "failed" and "'dropout' in the trial's settings must be in (0, 1]" in crashed.error
    good = by[(0.5, 1.0)]
    assert good.status == "completed" and good.score > 0.5
    assert result.best.id == good.id
    assert result.counts() == {"completed": 1, "failed": 3}


def test_coarse_to_fine_narrows_the_ranges_around_the_best():
    result = search(SPACE, DIGITS, strategy="coarse-to-fine", trials=8, rounds=2, keep=0.25, backend="serial",
                    seed=1)
    first, second = result.spaces
    round1 = [t for t in result.trials if t.round == "round 1"]
    round2 = [t for t in result.trials if t.round == "round 2"]
    assert len(round1) == len(round2) == 8
    best = sorted(round1, key=lambda t: -t.score)[:2]
    for name in ("eta", "lmbda"):
        wide, narrow = first[name], second[name]
        assert math.log10(narrow.high / narrow.low) < math.log10(wide.high / wide.low)
        assert all(narrow.low <= t.params[name] <= narrow.high for t in best + round2)
    assert max(t.score for t in round2) >= max(t.score for t in round1) - 0.02


def test_median_rule_and_successive_halving_decisions():
    median = MedianRule(warmup=1, min_trials=3)
    reference = [[0.5, 0.8, 0.9], [0.4, 0.7, 0.85], [0.6, 0.75, 0.8]]
    assert median.should_prune(0, [0.1], reference, "max") is None  # warm-up
    assert median.should_prune(1, [0.3, 0.4], reference, "max") is not None
    assert median.should_prune(1, [0.3, 0.9], reference, "max") is None
    assert median.should_prune(1, [0.3, 0.4], reference[:2], "max") is None  # too few references
    assert median.should_prune(1, [2.0, 1.9], [[1.0, 0.5]] * 3, "min") is not None  # losses: lower is better
    halving = SuccessiveHalving(min_epochs=1, eta=3)
    assert [e for e in range(1, 10) if halving.is_rung(e)] == [1, 3, 9]
    values = [[v] for v in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)]
    assert halving.should_prune(0, [0.55], values, "max") is None  # top third
    assert halving.should_prune(0, [0.45], values, "max") is not None
    assert halving.should_prune(1, [0.0, 0.0], [[0.9, 0.9]] * 6, "max") is None  # epoch 2 is no rung


@pytest.mark.parametrize("pruning", ["median", {"kind": "halving", "min_epochs": 1, "eta": 2}])
def test_pruning_stops_poor_trials_through_the_callback(pruning):
    points = [0.5, 1.0, 2.0, 0.7, 0.01, 0.002]  # the last two learn very slowly
    result = search({"eta": points}, {**DIGITS, "epochs": 4}, strategy="grid", pruning=pruning,
                    backend="serial")
    by = {t.params["eta"]: t for t in result.trials}
    for eta in (0.01, 0.002):
        assert by[eta].status == "pruned" and by[eta].epochs < 4 and "pruned" in by[eta].stop_reason
    assert by[0.5].status == "completed" and by[0.5].epochs == 4
    assert result.ranked[-1].status == "pruned"


def test_storage_resumes_and_refuses_mismatches(tmp_path):
    path = tmp_path / "search.sqlite"
    first = search(SPACE, DIGITS, trials=3, backend="serial", storage=path)
    with ResultsStore(path) as store:
        stamps = {t.id: t.finished_at for t in store.trials()}
    again = search(SPACE, DIGITS, trials=5, backend="serial", storage=path, resume=True)
    assert again.skipped == 3 and len(again.trials) == 5
    assert {t.id: t.finished_at for t in again.trials if t.id in stamps} == stamps
    assert {t.id for t in first.trials} < {t.id for t in again.trials}
    with pytest.raises(ValueError, match="already holds 5 trials"):
        search(SPACE, DIGITS, trials=5, backend="serial", storage=path)
    with pytest.raises(ValueError, match=r"other settings .*options"):
        search(SPACE, {**DIGITS, "epochs": 4}, trials=5, backend="serial", storage=path, resume=True)


def test_reports_csv_and_plots(tmp_path):
    result = search(SPACE, DIGITS, trials=4, backend="serial", seed=2)
    path = write_csv(result.trials, tmp_path / "trials.csv", result.mode)
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == [t.id for t in result.ranked]
    assert float(rows[0]["score"]) == max(t.score for t in result.trials)
    assert {"eta", "lmbda", "status", "error"} <= set(rows[0])
    scores = plot_scores(result.trials, SearchSpace(SPACE), result.metric, tmp_path)
    curves = plot_curves(result.trials, result.metric, result.mode, tmp_path, top=3)
    for png in (scores, curves):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_search_arguments():
    with pytest.raises(ValueError, match="strategy must be one of"):
        search(SPACE, DIGITS, strategy="bayes")
    with pytest.raises(ValueError, match="cannot be searched"):
        search({"dataset": ["digits", "mnist"]}, DIGITS)
    with pytest.raises(ValueError, match="both a fixed training option and a searched"):
        search({"eta": LogUniform(0.1, 1)}, {**DIGITS, "lr": 0.5})
    with pytest.raises(ValueError, match="the search space: unknown option 'learning_rat'"):
        search({"learning_rat": LogUniform(0.1, 1)}, DIGITS, backend="serial")
    with pytest.raises(ValueError, match="address applies to the ray backend"):
        search(SPACE, DIGITS, backend="process", address="127.0.0.1:6379")


def test_nielsen_recipe_finds_a_threshold_then_lmbda_then_epochs():
    result = nielsen_recipe({"dataset": "digits", "layers": "auto,16,auto"}, etas=(0.1, 1.0, 10.0, 100.0),
                            lmbdas=(0.1, 1.0, 10.0), probe_epochs=2, lmbda_epochs=3, max_epochs=12, patience=2,
                            backend="serial")
    probes = {t.params["lr"]: t for t in result.steps["eta"] + result.steps["eta refine"]}
    from mlpkit.tuning.recipe import cost_decreases

    stable = [eta for eta, t in probes.items() if cost_decreases(t)]
    assert result.eta_threshold == max(stable)
    assert any(not cost_decreases(t) for eta, t in probes.items() if eta > result.eta_threshold)
    assert result.eta == result.eta_threshold / 2
    lmbda_trials = result.steps["lmbda"] + result.steps["lmbda refine"]
    assert result.lmbda == max(lmbda_trials, key=lambda t: t.score).params["l2"]
    final = result.steps["epochs"][0]
    assert final.params == {"lr": result.eta, "l2": result.lmbda, "epochs": 12, "early_stopping": 2,
                            "monitor": "val_accuracy"}
    curve = final.history["val_accuracy"]
    assert curve[result.epochs - 1] == max(curve)
