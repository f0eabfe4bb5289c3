"""Search spaces: each distribution samples on its own scale, grids, coarse-to-fine narrowing, config errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mlpkit.tuning import Choice, IntUniform, LogUniform, OneMinusLogUniform, SearchSpace, Uniform
from mlpkit.tuning.space import distribution_from_config


def test_log_uniform_covers_every_decade_evenly():
    """Ng's alpha = 10^r, r uniform in [-4, 0]: about a quarter of the samples in each decade (chi-square)."""
    rng = np.random.default_rng(12345)
    dist = LogUniform(1e-4, 1.0)
    samples = np.array([dist.sample(rng) for _ in range(4000)])
    assert samples.min() >= 1e-4 and samples.max() <= 1.0
    counts = np.histogram(np.log10(samples), bins=[-4, -3, -2, -1, 0])[0]
    assert stats.chisquare(counts).pvalue > 0.001, counts
    # a uniform draw on [1e-4, 1] would put ~90% in the top decade: the test can tell them apart
    uniform = np.array([Uniform(1e-4, 1.0).sample(rng) for _ in range(4000)])
    assert stats.chisquare(np.histogram(np.log10(uniform), bins=[-4, -3, -2, -1, 0])[0]).pvalue < 1e-6


def test_one_minus_log_samples_beta_near_one_on_the_log_scale():
    rng = np.random.default_rng(7)
    dist = OneMinusLogUniform(0.9, 0.999)
    samples = np.array([dist.sample(rng) for _ in range(3000)])
    assert samples.min() >= 0.9 and samples.max() <= 0.999
    counts = np.histogram(np.log10(1 - samples), bins=[-3, -2, -1])[0]  # [0.99, 0.999] vs [0.9, 0.99]
    assert stats.chisquare(counts).pvalue > 0.001, counts


def test_int_and_choice_sampling():
    rng = np.random.default_rng(0)
    ints = [IntUniform(2, 5).sample(rng) for _ in range(2000)]
    assert set(ints) == {2, 3, 4, 5}
    assert stats.chisquare(np.bincount(ints)[2:]).pvalue > 0.001
    logs = [IntUniform(1, 1000, log=True).sample(rng) for _ in range(2000)]
    assert 0.2 < np.mean(np.array(logs) <= 31) < 0.8  # half the decades below sqrt(1000)
    picks = [Choice(("sigmoid", "tanh", "relu")).sample(rng) for _ in range(900)]
    assert {p: picks.count(p) > 250 for p in ("sigmoid", "tanh", "relu")} == dict.fromkeys(("sigmoid", "tanh",
                                                                                            "relu"), True)


def test_grids_are_even_on_each_scale():
    assert LogUniform(1e-3, 10).grid(5) == pytest.approx([1e-3, 1e-2, 1e-1, 1, 10])
    assert OneMinusLogUniform(0.9, 0.999).grid(3) == pytest.approx([0.9, 0.99, 0.999])
    assert Uniform(0, 1).grid(3) == pytest.approx([0, 0.5, 1])
    assert IntUniform(10, 30).grid(3) == [10, 20, 30]
    space = SearchSpace({"lr": LogUniform(0.01, 1), "activation": ["sigmoid", "tanh"]})
    points = space.grid(3)
    assert len(points) == 6
    assert {p["activation"] for p in points} == {"sigmoid", "tanh"}


def test_narrowing_zooms_around_the_best_points_on_their_scale():
    space = SearchSpace({"lr": LogUniform(1e-4, 1), "beta": OneMinusLogUniform(0.9, 0.999),
                         "act": Choice(("sigmoid", "tanh", "relu")), "width": IntUniform(10, 100)})
    best = [{"lr": 1e-2, "beta": 0.99, "act": "tanh", "width": 40},
            {"lr": 3e-2, "beta": 0.995, "act": "relu", "width": 50}]
    narrow = space.narrowed(best, margin=0.1)
    lr = narrow["lr"]
    assert lr.low < 1e-2 and lr.high > 3e-2
    assert math.log10(lr.high / lr.low) < 0.6 * math.log10(1 / 1e-4)
    assert narrow["beta"].low < 0.99 < 0.995 < narrow["beta"].high
    assert math.log10(1 - narrow["beta"].low) - math.log10(1 - narrow["beta"].high) < 2
    assert narrow["act"].values == ("tanh", "relu")
    assert narrow["width"].low <= 40 and narrow["width"].high >= 50 and narrow["width"].high - narrow["width"].low < 90
    assert narrow.narrowed(best, margin=0.1)["lr"].low >= lr.low  # never widens


@pytest.mark.parametrize(("spec", "message"), [
    ({"dist": "log-uniform", "low": 0, "high": 1}, "0 < low"),
    ({"dist": "uniform", "low": 2, "high": 1}, "low < high"),
    ({"dist": "one-minus-log", "low": 0.9, "high": 1.0}, "high < 1"),
    ({"dist": "gaussian", "low": 0, "high": 1}, "dist must be one of"),
    ({"dist": "int", "low": 1.5, "high": 3}, "must be an integer"),
    ({"dist": "uniform", "low": 0}, "missing"),
    ({"dist": "choice", "values": []}, "at least one"),
    ("0.5", "must be a table"),
])
def test_bad_distributions_are_one_line_errors(spec, message):
    with pytest.raises((ValueError, TypeError), match=message):
        distribution_from_config(spec, "lr")
