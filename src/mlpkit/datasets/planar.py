"""Small generated 2-D data sets (no files), for seeing what a network learns: its decision boundary.

``make_planar(name, n_samples)`` returns the points and labels; ``load_planar(name)`` returns them split into
a seeded, stratified train / test :class:`Dataset` like the other loaders.

- ``circles``: two concentric rings (scikit-learn's ``make_circles``, radius ratio 0.8; outer ring is class 0).
- ``moons``: two interleaved half circles (scikit-learn's ``make_moons``).
- ``flower``: Ng course 1 week 3 ("Planar data classification with one hidden layer"): two classes of
  petals of the rose r = a·sin(4t), a = 4; class j draws t from [3.12·j, 3.12·(j+1)].
- ``spiral``: ``n_classes`` interleaved arms (class j starts at angle 2πj/K and winds outwards).
- ``xor``: points uniform in [-1, 1]²; the class is 1 where exactly one coordinate is positive.
- ``gaussian``: ``n_classes`` round blobs centred on a circle of radius 2.

Every set draws from ``np.random.RandomState(seed)`` (the generator scikit-learn's ``random_state`` takes),
never from NumPy's global generator: the same seed gives the same points, and a call has no side effects.
Because ``np.random.seed(s)`` puts the global generator in the same state as ``RandomState(s)``, the
course's recipes, which seed the global generator and then draw, are reproduced exactly; they are offered by
name in ``COURSE_DATASETS`` (``load_planar("course_circles")``, ...).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..validation import resolve_dtype
from .containers import Dataset, Split
from .splits import split_dataset

__all__ = ["COURSE_DATASETS", "PLANAR_DATASETS", "check_planar_arguments", "load_planar", "make_planar"]

PLANAR_DATASETS = ("circles", "moons", "flower", "spiral", "xor", "gaussian")
COURSE_DATASETS = ("course_flower", "course_circles", "course_moons", "course_regularization")

#: the noise each set gets when ``noise=None``: the course's values for circles (course 2 week 1),
#: moons (course 2 week 2) and flower (course 1 week 3)
DEFAULT_NOISE = {"circles": 0.05, "moons": 0.2, "flower": 0.2, "spiral": 0.05, "xor": 0.05, "gaussian": 0.5}
#: examples per set when ``load_planar`` gets no ``n_samples`` (the course's flower has 400)
DEFAULT_SAMPLES = 400
#: the sets that may have more than two classes
MULTI_CLASS = ("spiral", "gaussian")
#: the most points and classes a planar set may have (they are for looking at; this bounds memory)
MAX_SAMPLES = 1_000_000
MAX_CLASSES = 100

_FLOWER_RAY = 4.0      # a: the petals' maximum radius (course 1 week 3)
_FLOWER_SPAN = 3.12    # each class's range of t (course 1 week 3)
_SPIRAL_TURN = 4.5     # radians an arm turns from its start to the rim
_BLOB_RADIUS = 2.0     # distance of the gaussian blobs' centres from the origin


def _sklearn_datasets(name: str):
    try:
        from sklearn import datasets as sk_datasets
    except ImportError:
        raise ImportError(f"the {name!r} data set is made by scikit-learn: pip install scikit-learn") from None
    return sk_datasets


def _per_class(n_samples: int, n_classes: int) -> list[int]:
    """``n_samples`` shared out as evenly as possible: the first ``n_samples % n_classes`` classes get one more."""
    return [n_samples // n_classes + (j < n_samples % n_classes) for j in range(n_classes)]


def _flower(counts: list[int], noise: float, rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    # Course 1 week 3, load_planar_dataset: t = linspace(3.12 j, 3.12 (j+1), N) + 0.2 randn(N),
    # r = 4 sin(4t) + 0.2 randn(N), point (r sin t, r cos t); the same draws in the same order.
    points = []
    for j, n in enumerate(counts):
        t = np.linspace(j * _FLOWER_SPAN, (j + 1) * _FLOWER_SPAN, n) + rs.randn(n) * noise
        r = _FLOWER_RAY * np.sin(4 * t) + rs.randn(n) * noise
        points.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    return np.concatenate(points), np.repeat(np.arange(len(counts)), counts)


def _spiral(counts: list[int], noise: float, rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Arm j of K: radius r evenly from 0.05 to 1, angle θ = 2πj/K + 4.5 r, point r (cos θ, sin θ) + noise."""
    points = []
    for j, n in enumerate(counts):
        radius = np.linspace(0.05, 1.0, n)
        angle = 2 * np.pi * j / len(counts) + _SPIRAL_TURN * radius
        points.append(np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]) + rs.randn(n, 2) * noise)
    return np.concatenate(points), np.repeat(np.arange(len(counts)), counts)


def _xor(counts: list[int], noise: float, rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]² + noise; class 1 where sign(x) ≠ sign(y) (before the noise)."""
    # Draw each class from its own two quadrants, so that the classes have the requested sizes exactly.
    points = []
    for j, n in enumerate(counts):
        corner = rs.uniform(0.0, 1.0, (n, 2))
        quadrant = rs.randint(2, size=n)  # class 0: (+,+) or (-,-); class 1: (+,-) or (-,+)
        sign_x = np.where(quadrant == 0, 1.0, -1.0)
        sign_y = sign_x if j == 0 else -sign_x
        points.append(corner * np.column_stack([sign_x, sign_y]) + rs.randn(n, 2) * noise)
    return np.concatenate(points), np.repeat(np.arange(2), counts)


def _gaussian(counts: list[int], noise: float, rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Class j of K: N(c_j, noise² I) with c_j = 2 (cos 2πj/K, sin 2πj/K)."""
    points = []
    for j, n in enumerate(counts):
        angle = 2 * np.pi * j / len(counts)
        centre = _BLOB_RADIUS * np.array([np.cos(angle), np.sin(angle)])
        points.append(centre + rs.randn(n, 2) * noise)
    return np.concatenate(points), np.repeat(np.arange(len(counts)), counts)


_GENERATORS = {"flower": _flower, "spiral": _spiral, "xor": _xor, "gaussian": _gaussian}


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise TypeError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    return int(seed)


def _check_noise(noise: object, name: str) -> float:
    if noise is None:
        return DEFAULT_NOISE[name]
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"noise must be a number >= 0, got {noise!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _check_name(name: object, choices: tuple[str, ...]) -> str:
    if name not in choices:
        raise ValueError(f"unknown planar data set {name!r}; expected one of {', '.join(choices)}")
    return str(name)


def check_planar_arguments(name: str, n_samples: int | None = None, noise: float | None = None,
                           n_classes: int = 2) -> tuple[int, float, int]:
    """``(n_samples, noise, n_classes)`` of the planar set ``name`` as :func:`make_planar` uses them (None:
    the defaults), or a one-line ValueError/TypeError naming the argument."""
    name = _check_name(name, PLANAR_DATASETS)
    n_samples = DEFAULT_SAMPLES if n_samples is None else n_samples
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"n_samples must be an integer, got {n_samples!r}")
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral):
        raise TypeError(f"n_classes must be an integer, got {n_classes!r}")
    if n_classes != 2 and name not in MULTI_CLASS:
        raise ValueError(f"n_classes applies to {' and '.join(MULTI_CLASS)} only ({name} has 2 classes), "
                         f"got {n_classes}")
    if not 2 <= n_classes <= MAX_CLASSES:
        raise ValueError(f"n_classes must lie in [2, {MAX_CLASSES}], got {n_classes}")
    if not n_classes <= n_samples <= MAX_SAMPLES:
        raise ValueError(f"n_samples must lie in [{n_classes}, {MAX_SAMPLES}] for {n_classes} classes, got {n_samples}")
    return int(n_samples), _check_noise(noise, name), int(n_classes)


def make_planar(name: str, n_samples: int, *, noise: float | None = None, seed: int = 0, n_classes: int = 2,
                **kw: float) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n_samples`` points of the planar set ``name``: ``X`` float64 (n, 2), ``y`` int64 (n,).

    The classes are as equal in size as ``n_samples`` allows, the points grouped by class (flower, spiral,
    xor, gaussian) or shuffled (circles, moons, as scikit-learn returns them). ``noise`` is the standard
    deviation of the Gaussian noise (default per set, ``DEFAULT_NOISE``): added to the coordinates, except
    for ``flower``, where, as in the course, it perturbs the angle t and the radius r. ``n_classes`` may
    exceed 2 for ``spiral`` and ``gaussian`` only. ``circles`` accepts ``factor=`` (the inner ring's radius
    as a fraction of the outer's, default 0.8). ``make_planar("flower", 400, seed=1)`` is the course's
    flower and ``make_planar("circles", 300, seed=1)`` its initialization training set.
    """
    n_samples, noise, n_classes = check_planar_arguments(name, n_samples, noise, n_classes)
    factor = kw.pop("factor", 0.8) if name == "circles" else None
    if kw:
        raise TypeError(f"make_planar({name!r}) got unexpected keyword(s) {', '.join(sorted(kw))}")
    seed = _check_seed(seed)
    if name == "circles":
        if isinstance(factor, bool) or not (isinstance(factor, numbers.Real) and 0 < factor < 1):
            raise ValueError(f"factor must lie in (0, 1), got {factor!r}")
        X, y = _sklearn_datasets(name).make_circles(n_samples, noise=noise, factor=float(factor), random_state=seed)
    elif name == "moons":
        X, y = _sklearn_datasets(name).make_moons(n_samples, noise=noise, random_state=seed)
    else:
        X, y = _GENERATORS[name](_per_class(n_samples, n_classes), noise, np.random.RandomState(seed))
    return np.ascontiguousarray(X, dtype=np.float64), y.astype(np.int64)


def _course_recipe(name: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The course's train and test sets of a ``COURSE_DATASETS`` name, as arrays."""
    if name == "course_flower":  # course 1 week 3: np.random.seed(1); trained and scored on all 400
        whole = make_planar("flower", 400, noise=0.2, seed=1)
        return whole, whole
    if name == "course_circles":  # course 2 week 1: seed 1 -> 300 train, seed 2 -> 100 test, noise .05
        return make_planar("circles", 300, noise=0.05, seed=1), make_planar("circles", 100, noise=0.05, seed=2)
    if name == "course_moons":  # course 2 week 2: np.random.seed(3); 300 moons, noise .2
        whole = make_planar("moons", 300, noise=0.2, seed=3)
        return whole, whole
    return _regularization(211, seed=1), _regularization(200, seed=2)


def _regularization(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stand-in for course 2 week 1's regularization data (its file is not ours to ship): points spread
    over a field, the class set by the wavy line y = 0.3 sin 5x - 0.15 x blurred by N(0, 0.1²), then 5% of
    the labels flipped. Like the course's set, it makes the course's [2, 20, 3, 1] ReLU network (30,000
    full-batch steps at 0.3; He initialization, seed 3, float64) overfit (train 92.9%, test 90.0%) and L2
    with lambda 0.7 help (train 90.5%, test 93.5%).
    """
    rs = np.random.RandomState(seed)
    X = np.column_stack([rs.uniform(-0.8, 0.5, n), rs.uniform(-0.8, 0.7, n)])
    margin = X[:, 1] - 0.3 * np.sin(5 * X[:, 0]) + 0.15 * X[:, 0] + rs.randn(n) * 0.1
    y = (margin > 0).astype(np.int64)
    flipped = rs.rand(n) < 0.05
    y[flipped] = 1 - y[flipped]
    return X, y


def load_planar(name: str, *, n_samples: int | None = None, noise: float | None = None, seed: int = 0,
                test_fraction: float = 0.25, validation_fraction: float = 0.0, n_classes: int = 2,
                dtype: str = "float32") -> Dataset:
    """A planar set (``PLANAR_DATASETS``) or one of the course's recipes (``COURSE_DATASETS``) as a Dataset.

    Planar sets: ``n_samples`` points (default 400) made by :func:`make_planar` with ``seed``, split by the
    same seed, stratified, into train / validation (``validation_fraction``, default none) / test
    (``test_fraction``).

    Course recipes, the course's exact points: ``course_flower`` (course 1 week 3; the course trains and
    scores on all 400 points, so train and test are the same 400), ``course_circles`` (course 2 week 1,
    initialization: 300 train circles after seed 1, 100 test circles after seed 2, noise 0.05),
    ``course_moons`` (course 2 week 2, optimization: 300 moons after seed 3, noise 0.2; train and test
    are the same 300), ``course_regularization`` (course 2 week 1, regularization: a comparable set of 211
    train and 200 test points, since the course's own file cannot be shipped). Their sizes, seeds and
    splits are fixed: ``seed`` and ``test_fraction`` are not used, and ``n_samples``, ``noise``,
    ``n_classes`` and ``validation_fraction`` are refused.
    """
    name = _check_name(name, PLANAR_DATASETS + COURSE_DATASETS)
    float_dtype = resolve_dtype(dtype)
    if name in COURSE_DATASETS:
        if n_samples is not None or noise is not None or n_classes != 2 or validation_fraction:
            raise ValueError(f"{name} is the course's fixed recipe: n_samples, noise, n_classes and "
                             "validation_fraction do not apply to it")
        (X_train, y_train), (X_test, y_test) = _course_recipe(name)
        return Dataset(train=Split(X_train.astype(float_dtype), y_train), validation=None,
                       test=Split(X_test.astype(float_dtype), y_test), n_classes=2, name=name)
    for value, what in ((test_fraction, "test_fraction"), (validation_fraction, "validation_fraction")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
            raise ValueError(f"{what} must be a fraction in [0, 1), got {value!r}")
    if test_fraction <= 0 or test_fraction + validation_fraction >= 1:
        raise ValueError(f"test_fraction={test_fraction!r} and validation_fraction={validation_fraction!r} must "
                         "leave a non-empty test split and training examples")
    X, y = make_planar(name, DEFAULT_SAMPLES if n_samples is None else n_samples, noise=noise, seed=seed,
                       n_classes=n_classes)
    n = len(y)
    n_test = max(1, round(test_fraction * n))
    n_val = round(validation_fraction * n)
    if n - n_test - n_val < 1:
        raise ValueError(f"{n} examples are too few for test_fraction={test_fraction} and "
                         f"validation_fraction={validation_fraction}")
    sizes = [n - n_test - n_val, n_val, n_test] if n_val else [n - n_test, n_test]
    parts = split_dataset(X.astype(float_dtype), y, sizes=sizes, seed=seed, stratify=True)
    return Dataset(train=parts[0], validation=parts[1] if n_val else None, test=parts[-1],
                   n_classes=int(n_classes), name=name)
