"""The drawing preprocessing of the draw-a-digit page: MNIST's 20x20 box, center of mass, [0, 1] values."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit.web.digit import area_weights, center_of_mass, digits_image, mnist_image, resample


@pytest.mark.parametrize(("n_in", "n_out"), [(140, 20), (7, 3), (5, 5), (3, 8)])
def test_area_weights_preserve_the_mean(n_in, n_out):
    weights = area_weights(n_in, n_out)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    signal = np.random.default_rng(0).random(n_in)
    assert (weights @ signal).mean() == pytest.approx(signal.mean())


def test_resample_of_a_constant_is_constant():
    np.testing.assert_allclose(resample(np.full((30, 50), 0.7), 8, 11), 0.7)


@pytest.mark.parametrize(("rows", "cols"), [(slice(10, 90), slice(5, 25)), (slice(3, 13), slice(40, 100)),
                                            (slice(60, 100), slice(60, 100))])
def test_mnist_image_fits_a_20_box_and_centers_the_mass(rows, cols):
    drawing = np.zeros((120, 120))
    drawing[rows, cols] = 0.8
    drawing[rows.start, cols] = 0.3  # a lighter edge: the mass is not the box center
    image = mnist_image(drawing)
    assert image.shape == (28, 28) and image.min() >= 0 and image.max() == pytest.approx(1.0)
    ink_rows = np.flatnonzero(image.any(axis=1))
    ink_cols = np.flatnonzero(image.any(axis=0))
    height, width = ink_rows[-1] - ink_rows[0] + 1, ink_cols[-1] - ink_cols[0] + 1
    assert max(height, width) == 20  # the longer side fills the box
    aspect = (rows.stop - rows.start) / (cols.stop - cols.start)
    assert height / width == pytest.approx(aspect, rel=0.15)  # aspect ratio kept (to a pixel)
    row, col = center_of_mass(image)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_mnist_images_of_real_digits_are_centered_like_ours(tmp_path):
    """MNIST's own images have their center of mass within a pixel of (14, 14); ours within half a pixel."""
    from mlpkit.datasets import load_mnist

    try:
        X = load_mnist(split="book").test.X[:200].reshape(-1, 28, 28)
    except (OSError, ValueError) as exc:
        pytest.fail(f"MNIST is needed for this test (MLPKIT_DATA): {exc}")
    centers = np.array([center_of_mass(x) for x in X])
    assert np.abs(centers - 14).max() < 1.5
    redone = np.array([center_of_mass(mnist_image(x)) for x in X])
    assert np.abs(redone - 14).max() <= 0.5


def test_digits_image_is_8x8_in_unit_range():
    drawing = np.zeros((100, 100))
    drawing[10:90, 45:55] = 1.0
    image = digits_image(drawing)
    assert image.shape == (8, 8) and 0 <= image.min() and image.max() <= 1
    assert image[:, 3:5].sum() > 0.9 * image.sum()  # a centered vertical bar stays in the middle columns


def test_an_empty_drawing_is_refused():
    with pytest.raises(ValueError, match="empty"):
        mnist_image(np.zeros((50, 50)))
