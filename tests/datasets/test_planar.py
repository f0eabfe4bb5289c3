"""Generated 2-D data sets: seeded points, balanced classes, the course's exact recipes, no side effects."""

# The course seeds NumPy's global generator; the tests below re-derive its data sets the same way.
# ruff: noqa: NPY002

import numpy as np
import pytest

from mlpkit.datasets import COURSE_DATASETS, PLANAR_DATASETS, Dataset, load_planar, make_planar

sk_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture
def global_state():
    """NumPy's global generator state, put back after the test (the re-derivations below seed it)."""
    state = np.random.get_state()
    yield state
    np.random.set_state(state)


def _same_state(a, b):
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


@pytest.mark.parametrize("name", PLANAR_DATASETS)
def test_shapes_dtypes_and_balanced_classes(name):
    n_classes = 3 if name in ("spiral", "gaussian") else 2
    X, y = make_planar(name, 301, n_classes=n_classes)
    assert X.shape == (301, 2) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (301,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1
    assert np.isfinite(X).all()


@pytest.mark.parametrize("name", PLANAR_DATASETS)
def test_same_seed_same_points_other_seed_other_points(name):
    X1, y1 = make_planar(name, 200, seed=7)
    X2, y2 = make_planar(name, 200, seed=7)
    X3, _ = make_planar(name, 200, seed=8)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.allclose(X1, X3)


def test_noise_spreads_the_points():
    X0, _ = make_planar("gaussian", 400, noise=0.0, n_classes=4)
    X1, _ = make_planar("gaussian", 400, noise=0.3, n_classes=4)
    assert len(np.unique(X0, axis=0)) == 4  # no noise: every point on its blob's centre
    assert np.isclose(np.linalg.norm(X0, axis=1), 2.0).all()
    assert 0.2 < np.std(X1 - X0) < 0.4


@pytest.mark.parametrize("name", ["spiral", "gaussian"])
def test_k_classes(name):
    _, y = make_planar(name, 500, n_classes=5)
    assert sorted(np.unique(y)) == [0, 1, 2, 3, 4] and (np.bincount(y) == 100).all()


def test_xor_labels_follow_the_quadrants():
    X, y = make_planar("xor", 400, noise=0.0)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "swiss", "n_samples": 10}, "unknown planar data set 'swiss'; expected one of circles"),
    ({"name": "moons", "n_samples": 10, "n_classes": 3}, "n_classes applies to spiral and gaussian only"),
    ({"name": "spiral", "n_samples": 10, "n_classes": 1}, "n_classes must lie in [2, 100]"),
    ({"name": "flower", "n_samples": 1}, "n_samples must lie in [2, 1000000]"),
    ({"name": "xor", "n_samples": 10, "noise": -0.1}, "noise must be a finite number >= 0"),
    ({"name": "circles", "n_samples": 10, "factor": 1.5}, "factor must lie in (0, 1)"),
])
def test_bad_arguments_are_one_line_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        make_planar(**kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_seed_and_keywords_are_checked():
    with pytest.raises(TypeError, match="seed must be an integer"):
        make_planar("xor", 10, seed=-1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        make_planar("moons", 10, factor=0.5)


def test_missing_scikit_learn_names_the_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "sklearn", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        make_planar("moons", 10)
    make_planar("flower", 10)  # the others need nothing but NumPy


def test_load_planar_splits_stratified_and_seeded():
    data = load_planar("moons")
    assert isinstance(data, Dataset) and data.name == "moons" and data.n_classes == 2 and data.n_features == 2
    assert (len(data.train), len(data.test), data.validation) == (300, 100, None)
    assert data.train.X.dtype == np.float32 and data.train.y.dtype == np.int64
    assert np.bincount(data.test.y).tolist() == [50, 50]
    again = load_planar("moons")
    assert np.array_equal(data.train.X, again.train.X) and np.array_equal(data.test.y, again.test.y)
    three = load_planar("spiral", n_samples=600, n_classes=3, validation_fraction=0.2, test_fraction=0.2,
                        dtype="float64")
    assert (len(three.train), len(three.validation), len(three.test)) == (360, 120, 120)
    assert three.n_classes == 3 and three.train.X.dtype == np.float64
    assert np.bincount(three.validation.y).tolist() == [40, 40, 40]


def test_course_circles_is_the_courses_seeding(global_state):
    data = load_planar("course_circles", dtype="float64")
    assert _same_state(np.random.get_state(), global_state)  # no side effect on the global generator
    np.random.seed(1)
    train_X, train_Y = sk_datasets.make_circles(n_samples=300, noise=0.05)
    np.random.seed(2)
    test_X, test_Y = sk_datasets.make_circles(n_samples=100, noise=0.05)
    assert np.array_equal(data.train.X, train_X) and np.array_equal(data.train.y, train_Y)
    assert np.array_equal(data.test.X, test_X) and np.array_equal(data.test.y, test_Y)


def test_course_moons_is_the_courses_seeding(global_state):
    data = load_planar("course_moons", dtype="float64")
    assert _same_state(np.random.get_state(), global_state)
    np.random.seed(3)
    train_X, train_Y = sk_datasets.make_moons(n_samples=300, noise=0.2)
    assert np.array_equal(data.train.X, train_X) and np.array_equal(data.train.y, train_Y)
    assert np.array_equal(data.test.X, train_X)  # the course reports on its training set


def test_course_flower_is_the_courses_petals(global_state):
    data = load_planar("course_flower", dtype="float64")
    assert _same_state(np.random.get_state(), global_state)
    # course 1 week 3's load_planar_dataset, re-derived: 200 points a class, a = 4, columns as rows here
    np.random.seed(1)
    X, Y = np.zeros((400, 2)), np.zeros(400, dtype=np.int64)
    for j in range(2):
        rows = slice(200 * j, 200 * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, 200) + np.random.randn(200) * 0.2
        r = 4 * np.sin(4 * t) + np.random.randn(200) * 0.2
        X[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[rows] = j
    assert np.array_equal(data.train.X, X) and np.array_equal(data.train.y, Y)
    assert np.array_equal(data.test.X, X) and np.array_equal(data.test.y, Y)


def test_every_course_recipe_loads_and_is_fixed():
    sizes = {"course_flower": (400, 400), "course_circles": (300, 100), "course_moons": (300, 300),
             "course_regularization": (211, 200)}
    for name in COURSE_DATASETS:
        data = load_planar(name)
        assert (len(data.train), len(data.test)) == sizes[name] and data.n_classes == 2
        assert set(np.unique(data.train.y)) == {0, 1}
    with pytest.raises(ValueError, match="course_circles is the course's fixed recipe"):
        load_planar("course_circles", n_samples=100)
