"""Augmenters: shapes, value range, labels, determinism, exact shifts, and the image maths against SciPy."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit.datasets import (
    Compose,
    ElasticDistortion,
    RandomAffine,
    RandomRotation,
    RandomShift,
    expand_with_shifts,
    shift_images,
)
from mlpkit.datasets._imaging import bilinear_sample, gaussian_operator, smooth_fields
from mlpkit.datasets.augment import _affine_sample


def _digits_like(m=40, shape=(28, 28), dtype=np.float32, seed=0):
    """Blobs of ink in [0, 1] on a zero background, away from the border (like MNIST's 20x20 box)."""
    rng = np.random.default_rng(seed)
    h, w = shape
    X = np.zeros((m, h, w), dtype=dtype)
    X[:, h // 4 : -h // 4, w // 4 : -w // 4] = rng.random((m, h - 2 * (h // 4), w - 2 * (w // 4)))
    X[X < 0.4] = 0
    X[:, h // 2, w // 2] = 1.0
    return X.reshape(m, h * w)


AUGMENTERS = [
    lambda: RandomShift(1),
    lambda: RandomShift(3),
    lambda: RandomRotation(15),
    lambda: RandomAffine(),
    lambda: ElasticDistortion(alpha=34, sigma=4),
    lambda: Compose([RandomShift(1), RandomRotation(5), ElasticDistortion(alpha=36, sigma=5)]),
]


@pytest.mark.parametrize("make", AUGMENTERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_dtype_range_and_input_untouched(make, dtype):
    X = _digits_like(dtype=dtype)
    before = X.copy()
    out = make()(X, np.random.default_rng(0))
    assert out.shape == X.shape and out.dtype == X.dtype
    assert out.min() >= 0 and out.max() <= 1
    assert not np.shares_memory(out, X)
    np.testing.assert_array_equal(X, before)
    assert not np.array_equal(out, X)  # something did change


@pytest.mark.parametrize("make", AUGMENTERS)
def test_same_seed_same_output_whatever_the_threads(make):
    X = _digits_like(m=1500)  # several chunks
    one, two = make(), make()
    one.n_jobs, two.n_jobs = 1, 2
    a = one(X, np.random.default_rng(7))
    b = two(X, np.random.default_rng(7))
    c = one(X, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_labels_are_untouched_by_design_and_shift_expansion_keeps_them():
    X, y = _digits_like(m=6), np.arange(6)
    X5, y5 = expand_with_shifts(X, y)
    assert X5.shape == (30, 784) and y5.tolist() == list(range(6)) * 5


# ---- exact whole-pixel shifts ----


def test_one_pixel_shift_moves_the_image_by_exactly_one_pixel():
    X = _digits_like(m=3)
    images = X.reshape(-1, 28, 28)
    down = shift_images(X, 1, 0).reshape(-1, 28, 28)
    np.testing.assert_array_equal(down[:, 1:, :], images[:, :-1, :])
    assert not down[:, 0, :].any()
    left = shift_images(X, 0, -1).reshape(-1, 28, 28)
    np.testing.assert_array_equal(left[:, :, :-1], images[:, :, 1:])
    assert not left[:, :, -1].any()
    dot = np.zeros((1, 28 * 28), np.float32)
    dot[0, 5 * 28 + 9] = 1
    assert np.flatnonzero(shift_images(dot, -1, 1)).tolist() == [4 * 28 + 10]


def test_shift_matches_nielsens_roll_and_blank():
    """expand_mnist.py: np.roll by one pixel, then zero the row/column that wrapped round."""
    X = _digits_like(m=4, seed=3)
    X[:, :28] = 0.5  # ink on the first row, to see it fall off
    images = X.reshape(-1, 28, 28)
    for dy, dx, axis, d, edge in [(1, 0, 1, 1, 0), (-1, 0, 1, -1, -1), (0, 1, 2, 1, 0), (0, -1, 2, -1, -1)]:
        rolled = np.roll(images, d, axis=axis)
        if axis == 1:
            rolled[:, edge, :] = 0
        else:
            rolled[:, :, edge] = 0
        np.testing.assert_array_equal(shift_images(X, dy, dx).reshape(-1, 28, 28), rolled)


def test_expand_with_shifts_is_five_blocks():
    X, y = _digits_like(m=5), np.arange(5)
    X5, _ = expand_with_shifts(X, y)
    blocks = np.split(X5, 5)
    np.testing.assert_array_equal(blocks[0], X)
    for block, (dy, dx) in zip(blocks[1:], [(1, 0), (-1, 0), (0, 1), (0, -1)], strict=True):
        np.testing.assert_array_equal(block, shift_images(X, dy, dx))


def test_random_shift_picks_one_of_the_whole_pixel_shifts():
    X = _digits_like(m=200)
    out = RandomShift(1)(X, np.random.default_rng(0))
    candidates = {(dy, dx): shift_images(X, dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    used = set()
    for i in range(len(X)):
        match = [k for k, c in candidates.items() if np.array_equal(c[i], out[i])]
        assert match, f"image {i} is not a whole-pixel shift of its input"
        used.update(match)
    assert used == set(candidates)  # all nine offsets occur


def test_large_shift_empties_the_image():
    X = _digits_like(m=2)
    assert not shift_images(X, 28, 0).any() and not shift_images(X, 0, -40).any()


# ---- rotation / affine geometry ----


def test_quarter_turn_is_rot90():
    images = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
    out = _affine_sample(images, np.full(3, np.pi / 2), np.ones(3), np.zeros((3, 2)))
    np.testing.assert_allclose(out, np.rot90(images, 1, axes=(1, 2)), atol=1e-5)
    odd = np.random.default_rng(1).random((2, 9, 9)).astype(np.float32)
    out = _affine_sample(odd, np.full(2, -np.pi / 2), np.ones(2), np.zeros((2, 2)))
    np.testing.assert_allclose(out, np.rot90(odd, -1, axes=(1, 2)), atol=1e-5)


def test_identity_translation_and_scale():
    X = _digits_like(m=2)
    images = X.reshape(-1, 28, 28)
    same = _affine_sample(images, np.zeros(2), np.ones(2), np.zeros((2, 2)))
    np.testing.assert_allclose(same, images, atol=1e-6)
    moved = _affine_sample(images, np.zeros(2), np.ones(2), np.array([[2.0, -3.0]] * 2))
    np.testing.assert_allclose(moved.reshape(2, -1), shift_images(X, 2, -3), atol=1e-6)
    # Doubling the size about the centre (13.5, 13.5): output pixel (1, 1) reads input (7.25, 7.25).
    zoomed = _affine_sample(images, np.zeros(2), np.full(2, 2.0), np.zeros((2, 2)))
    expected = 0.5625 * images[:, 7, 7] + 0.1875 * (images[:, 7, 8] + images[:, 8, 7]) + 0.0625 * images[:, 8, 8]
    np.testing.assert_allclose(zoomed[:, 1, 1], expected, atol=1e-6)


def test_small_rotation_keeps_the_ink():
    X = _digits_like(m=50)
    out = RandomRotation(10)(X, np.random.default_rng(0))
    np.testing.assert_allclose(out.sum(axis=1), X.sum(axis=1), rtol=0.05)


def test_elastic_with_zero_alpha_is_the_identity():
    X = _digits_like(m=10)
    np.testing.assert_allclose(ElasticDistortion(alpha=0)(X, np.random.default_rng(0)), X, atol=1e-6)


def test_elastic_field_has_simards_size():
    """sigma=4, alpha=34 on 28x28: displacements of a pixel or two (std about 1.75 px), smooth in space."""
    blur = gaussian_operator(28, 4.0)
    fields = smooth_fields(np.random.default_rng(0).uniform(-1, 1, (500, 28, 28)), blur, 34 * blur)
    assert 1.5 < fields.std() < 2.0
    assert np.abs(np.diff(fields, axis=2)).mean() < 0.3  # neighbours move together (shuffled: 1.26)


def test_elastic_moves_ink_around_but_keeps_it_on_average():
    X = _digits_like(m=300)
    out = ElasticDistortion(alpha=34, sigma=4)(X, np.random.default_rng(0))
    ratio = out.sum(axis=1) / X.sum(axis=1)
    assert 0.9 < np.median(ratio) < 1.1
    assert np.median(np.abs(out - X).sum(axis=1) / X.sum(axis=1)) > 0.1


def test_compose_of_one_equals_the_augmenter():
    X = _digits_like(m=900)
    a = RandomRotation(10)(X, np.random.default_rng(3))
    b = Compose([RandomRotation(10)])(X, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_non_square_images():
    X = _digits_like(m=5, shape=(12, 20))
    for aug in (RandomShift(2, (12, 20)), RandomAffine(image_shape=(12, 20)), ElasticDistortion(image_shape=(12, 20))):
        out = aug(X, np.random.default_rng(0))
        assert out.shape == X.shape and 0 <= out.min() and out.max() <= 1


def test_empty_batch():
    X = np.zeros((0, 784), np.float32)
    assert ElasticDistortion()(X, np.random.default_rng(0)).shape == (0, 784)


# ---- the NumPy image maths equals SciPy's ----


def test_bilinear_sample_equals_scipy_map_coordinates():
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(0)
    images = rng.random((4, 13, 17))
    rows = rng.uniform(-4, 17, (4, 13, 17))
    cols = rng.uniform(-4, 21, (4, 13, 17))
    rows[0, 0, :5] = [-1, -0.5, 12, 12.5, 13]  # edges: half-outside points blend with the zero fill
    expected = np.stack(
        [ndimage.map_coordinates(images[i], [rows[i], cols[i]], order=1, mode="grid-constant") for i in range(4)]
    )
    np.testing.assert_allclose(bilinear_sample(images, rows.copy(), cols.copy()), expected, atol=1e-12)


@pytest.mark.parametrize(("n", "sigma"), [(28, 4.0), (28, 6.0), (8, 0.5), (8, 6.0), (1, 3.0)])
def test_gaussian_operator_equals_scipy(n, sigma):
    ndimage = pytest.importorskip("scipy.ndimage")
    v = np.random.default_rng(0).random((n, 5))
    expected = ndimage.gaussian_filter1d(v, sigma, axis=0, mode="reflect", truncate=4.0)
    np.testing.assert_allclose(gaussian_operator(n, sigma) @ v, expected, atol=1e-12)


def test_smooth_fields_equals_scipy_gaussian_filter():
    ndimage = pytest.importorskip("scipy.ndimage")
    noise = np.random.default_rng(0).uniform(-1, 1, (3, 12, 20))
    expected = ndimage.gaussian_filter(noise, sigma=(0, 4, 4), mode="reflect") * 34
    got = smooth_fields(noise, gaussian_operator(12, 4), 34 * gaussian_operator(20, 4))
    np.testing.assert_allclose(got, expected, atol=1e-12)


# ---- bad input ----


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ([[0.0] * 784], TypeError, "numpy array"),
        (np.zeros((2, 784), np.uint8), TypeError, "float32 or float64"),
        (np.zeros((2, 783), np.float32), ValueError, r"shape \(m, 784\).*28x28"),
        (np.zeros(784, np.float32), ValueError, r"shape \(m, 784\)"),
        (np.full((2, 784), 255.0, np.float32), ValueError, r"\[0, 1\].*255"),
        (np.full((2, 784), -0.1, np.float32), ValueError, r"\[0, 1\]"),
        (np.full((2, 784), np.nan, np.float32), ValueError, r"\[0, 1\]"),
    ],
)
def test_bad_batches(X, error, match):
    with pytest.raises(error, match=match):
        ElasticDistortion()(X, np.random.default_rng(0))


def test_rng_must_be_a_generator():
    X = _digits_like(m=2)
    for rng in (0, None, np.random.RandomState(0)):
        with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
            RandomShift()(X, rng)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: RandomShift(0), ValueError, "max_shift"),
        (lambda: RandomShift(1.5), TypeError, "max_shift"),
        (lambda: RandomRotation(-5), ValueError, "max_degrees"),
        (lambda: RandomRotation(0), ValueError, "max_degrees"),
        (lambda: RandomAffine(scale=(1.2, 0.8)), ValueError, "low <= high"),
        (lambda: RandomAffine(scale=1.1), TypeError, "scale"),
        (lambda: RandomAffine(max_shift=-1), ValueError, "max_shift"),
        (lambda: ElasticDistortion(sigma=0), ValueError, "sigma"),
        (lambda: ElasticDistortion(alpha=-1), ValueError, "alpha"),
        (lambda: ElasticDistortion(image_shape=(28,)), TypeError, "image_shape"),
        (lambda: ElasticDistortion(image_shape=(28, 0)), ValueError, "image_shape"),
        (lambda: RandomShift(n_jobs=0), ValueError, "n_jobs"),
        (lambda: Compose([]), TypeError, "non-empty"),
        (lambda: Compose([RandomShift(), "flip"]), TypeError, "Augmenter"),
        (lambda: Compose([RandomShift(), RandomShift(image_shape=(8, 8))]), ValueError, "one image_shape"),
    ],
)
def test_bad_constructor_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_shift_helpers_check_arguments():
    X = _digits_like(m=2)
    with pytest.raises(TypeError, match="dy"):
        shift_images(X, 0.5, 0)
    with pytest.raises(ValueError, match="8x8"):
        shift_images(X, 1, 0, image_shape=(8, 8))
    with pytest.raises(ValueError, match="2 images but y has 3"):
        expand_with_shifts(X, np.arange(3))


def test_repr_names_the_parameters():
    expected = "ElasticDistortion(alpha=36.0, sigma=5.0, image_shape=(28, 28))"
    assert repr(ElasticDistortion(alpha=36, sigma=5)) == expected
    assert "RandomShift(max_shift=2" in repr(Compose([RandomShift(2)]))
