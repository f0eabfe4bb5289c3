"""On-the-fly data augmentation for images stored one per row, seeded only through the ``rng`` argument.

Nielsen ("Neural Networks and Deep Learning", ch. 3, "Artificially expanding the training data") expands
MNIST with small rotations and one-pixel shifts (``expand_mnist.py``: each image plus four copies moved by
one pixel up, down, left and right) and cites Simard, Steinkraus & Platt (2003), "Best Practices for
Convolutional Neural Networks Applied to Visual Document Analysis", whose elastic distortions (sec. 2)
gave the best results. All are here, composable, fast enough to run every epoch:

- :class:`RandomShift` — whole-pixel translations with zero fill;
- :class:`RandomRotation` — rotation by a few degrees about the image centre, bilinear;
- :class:`RandomAffine` — rotation, scaling and sub-pixel translation in one resampling;
- :class:`ElasticDistortion` — Simard et al.'s smoothed random displacement fields;
- :class:`Compose` — several of the above, applied in order;
- :func:`shift_images` and :func:`expand_with_shifts` — the deterministic shifts of ``expand_mnist``.

An augmenter takes a batch ``X`` of shape (m, h * w) with pixel intensities in [0, 1] and background 0
(as the loaders return), and a ``numpy.random.Generator``; it returns a new array of the same shape and
dtype, clipped to [0, 1]. The same generator state gives the same output. Labels are untouched: call
``augment(X_train, rng)`` once per epoch and train on the result with the original ``y_train``.

The work is split into chunks of a few hundred images, each with its own random stream drawn from ``rng``
(so the result does not depend on the number of threads), processed by a thread pool of ``n_jobs``
threads (NumPy releases the GIL in these loops).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..validation import check_positive_float, check_positive_int
from ._imaging import bilinear_sample, gaussian_operator, shift_stack, smooth_fields

__all__ = [
    "Augmenter",
    "Compose",
    "ElasticDistortion",
    "RandomAffine",
    "RandomRotation",
    "RandomShift",
    "expand_with_shifts",
    "shift_images",
]

# Images per chunk: about 2**19 pixels (668 MNIST images), small enough for the temporaries of a chunk to
# stay in cache. A constant, so that results depend on the seed only, not on the machine.
_CHUNK_PIXELS = 1 << 19


def _check_image_shape(image_shape: object) -> tuple[int, int]:
    if not isinstance(image_shape, Sequence) or len(image_shape) != 2:
        raise TypeError(f"image_shape must be (height, width), got {image_shape!r}")
    h, w = (check_positive_int(v, "image_shape entries") for v in image_shape)
    return h, w


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _check_batch(X: object, image_shape: tuple[int, int], name: str = "X") -> np.ndarray:
    """``X`` must be a float array (m, h * w) with values in [0, 1]."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape (m, {math.prod(image_shape)}), got {type(X).__name__}")
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64 pixel intensities in [0, 1], got dtype {X.dtype}")
    n_pixels = math.prod(image_shape)
    if X.ndim != 2 or X.shape[1] != n_pixels:
        raise ValueError(
            f"{name} must have shape (m, {n_pixels}): one flattened {image_shape[0]}x{image_shape[1]} image per "
            f"row, got shape {X.shape}"
        )
    if X.size:
        lo, hi = X.min(), X.max()
        if not (lo >= 0 and hi <= 1):  # also catches NaN
            raise ValueError(
                f"{name} must hold pixel intensities in [0, 1] with 0 as background, got values from {lo} to {hi}"
            )
    return X


def _shift_all(X: np.ndarray, dy: int, dx: int, image_shape: tuple[int, int]) -> np.ndarray:
    m = len(X)
    return shift_stack(X.reshape(m, *image_shape), np.full(m, dy), np.full(m, dx)).reshape(X.shape)


def shift_images(X: np.ndarray, dy: int, dx: int, image_shape: tuple[int, int] = (28, 28)) -> np.ndarray:
    """Every image of ``X`` (m, h * w) moved ``dy`` pixels down and ``dx`` right (negative: up / left), the
    uncovered border filled with 0 — the shift of Nielsen's ``expand_mnist.py``, which rolls the image with
    ``np.roll`` and blanks the row or column that wrapped round."""
    image_shape = _check_image_shape(image_shape)
    X = _check_batch(X, image_shape)
    for name, value in (("dy", dy), ("dx", dx)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer number of pixels, got {value!r}")
    return _shift_all(X, int(dy), int(dx), image_shape)


def expand_with_shifts(
    X: np.ndarray, y: np.ndarray, image_shape: tuple[int, int] = (28, 28)
) -> tuple[np.ndarray, np.ndarray]:
    """Nielsen's ``expand_mnist.py``: the images plus four copies shifted by one pixel (down, up, right,
    left), five times the data. Returns ``(X_expanded, y_expanded)`` in five consecutive blocks
    (originals first); shuffle before use, as Nielsen does (training loops shuffle every epoch anyway)."""
    image_shape = _check_image_shape(image_shape)
    X = _check_batch(X, image_shape)
    y = np.asarray(y)
    if y.shape[:1] != (len(X),):
        raise ValueError(f"X has {len(X)} images but y has {len(y) if y.ndim else 0} labels")
    shifted = [_shift_all(X, dy, dx, image_shape) for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1))]
    return np.concatenate([X, *shifted]), np.concatenate([y] * 5)


class Augmenter:
    """Base class: checks the batch, cuts it into chunks and runs :meth:`_transform` on them in threads.

    Subclasses implement ``_transform(images, rng)``, mapping a stack (k, h, w) to a new stack of the same
    shape using only ``rng`` for randomness.
    """

    def __init__(self, image_shape: tuple[int, int] = (28, 28), *, n_jobs: int | None = None) -> None:
        self.image_shape = _check_image_shape(image_shape)
        self.n_jobs = _available_cpus() if n_jobs is None else check_positive_int(n_jobs, "n_jobs")

    def _transform(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return an augmented copy of ``X`` (m, h * w), same shape and dtype, values in [0, 1]."""
        X = _check_batch(X, self.image_shape)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        m = len(X)
        out = np.empty_like(X)
        chunk = max(1, _CHUNK_PIXELS // X.shape[1])
        starts = range(0, m, chunk)
        seeds = rng.integers(0, 2**63, size=len(starts))

        def run(i: int) -> None:
            start = starts[i]
            images = X[start : start + chunk].reshape(-1, *self.image_shape)
            result = self._transform(images, np.random.default_rng(seeds[i]))
            np.clip(result.reshape(len(images), -1), 0, 1, out=out[start : start + chunk])

        if self.n_jobs == 1 or len(starts) <= 1:
            for i in range(len(starts)):
                run(i)
        else:
            with ThreadPoolExecutor(max_workers=min(self.n_jobs, len(starts))) as pool:
                list(pool.map(run, range(len(starts))))
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(image_shape={self.image_shape})"


class RandomShift(Augmenter):
    """Move each image by a random whole number of pixels, ``dy`` and ``dx`` drawn independently and
    uniformly from ``-max_shift..max_shift``, zero fill (Nielsen ch. 3; ``expand_mnist`` uses 1 pixel)."""

    def __init__(
        self, max_shift: int = 1, image_shape: tuple[int, int] = (28, 28), *, n_jobs: int | None = None
    ) -> None:
        super().__init__(image_shape, n_jobs=n_jobs)
        self.max_shift = check_positive_int(max_shift, "max_shift")

    def _transform(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        dy, dx = rng.integers(-self.max_shift, self.max_shift + 1, size=(2, len(images)))
        return shift_stack(images, dy, dx)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, image_shape={self.image_shape})"


def _affine_sample(
    images: np.ndarray, angles: np.ndarray, scales: np.ndarray, shifts: np.ndarray
) -> np.ndarray:
    """Resample image ``i`` rotated by ``angles[i]`` radians (counter-clockwise as displayed, row 0 on top)
    about its centre, scaled by ``scales[i]`` and moved by ``shifts[i] = (down, right)`` pixels.

    Inverse mapping: output pixel p reads the input at c + R(-angle) (p - c - shift) / scale, c the centre.
    """
    _, h, w = images.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    cos = (np.cos(angles) / scales).astype(np.float32)[:, None, None]
    sin = (np.sin(angles) / scales).astype(np.float32)[:, None, None]
    dr = (np.arange(h, dtype=np.float32) - cy)[None, :, None] - shifts[:, 0, None, None].astype(np.float32)
    dc = (np.arange(w, dtype=np.float32) - cx)[None, None, :] - shifts[:, 1, None, None].astype(np.float32)
    rows = dr * cos + dc * sin + cy
    cols = dc * cos - dr * sin + cx
    return bilinear_sample(images, rows, cols)


class RandomAffine(Augmenter):
    """Rotate by up to ``max_degrees`` either way, scale by a factor drawn from ``scale`` and translate by
    up to ``max_shift`` pixels along each axis (all uniform, independent per image), in one bilinear
    resampling (Simard et al. 2003, sec. 2: affine distortions also help, though less than elastic ones)."""

    def __init__(
        self,
        max_degrees: float = 10.0,
        scale: tuple[float, float] = (0.9, 1.1),
        max_shift: float = 2.0,
        image_shape: tuple[int, int] = (28, 28),
        *,
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(image_shape, n_jobs=n_jobs)
        self.max_degrees = check_positive_float(max_degrees, "max_degrees", allow_zero=True)
        self.max_shift = check_positive_float(max_shift, "max_shift", allow_zero=True)
        if not isinstance(scale, Sequence) or len(scale) != 2:
            raise TypeError(f"scale must be a (low, high) pair of factors, got {scale!r}")
        low, high = (check_positive_float(s, "scale") for s in scale)
        if low > high:
            raise ValueError(f"scale must be (low, high) with low <= high, got {scale!r}")
        self.scale = (low, high)

    def _transform(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        k = len(images)
        angles = np.deg2rad(rng.uniform(-self.max_degrees, self.max_degrees, size=k))
        scales = rng.uniform(*self.scale, size=k)
        shifts = rng.uniform(-self.max_shift, self.max_shift, size=(k, 2))
        return _affine_sample(images, angles, scales, shifts)

    def __repr__(self) -> str:
        return (
            f"RandomAffine(max_degrees={self.max_degrees}, scale={self.scale}, max_shift={self.max_shift}, "
            f"image_shape={self.image_shape})"
        )


class RandomRotation(Augmenter):
    """Rotate each image about its centre by an angle drawn uniformly from [-max_degrees, max_degrees],
    bilinear interpolation, zero fill (Nielsen ch. 3: rotations by a few degrees keep the digit a digit)."""

    def __init__(
        self, max_degrees: float = 10.0, image_shape: tuple[int, int] = (28, 28), *, n_jobs: int | None = None
    ) -> None:
        super().__init__(image_shape, n_jobs=n_jobs)
        self.max_degrees = check_positive_float(max_degrees, "max_degrees")

    def _transform(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        k = len(images)
        angles = np.deg2rad(rng.uniform(-self.max_degrees, self.max_degrees, size=k))
        return _affine_sample(images, angles, np.ones(k), np.zeros((k, 2)))

    def __repr__(self) -> str:
        return f"RandomRotation(max_degrees={self.max_degrees}, image_shape={self.image_shape})"


class ElasticDistortion(Augmenter):
    """Elastic distortion of Simard, Steinkraus & Platt (2003), sec. 2.

    For each image, two displacement fields (rows and columns) of i.i.d. uniform(-1, 1) values are blurred
    by a Gaussian of standard deviation ``sigma`` pixels and multiplied by ``alpha``; output pixel (r, c)
    is the input read at (r + dy(r, c), c + dx(r, c)) with bilinear interpolation. Simard et al. report
    ``sigma=4``, ``alpha=34`` for MNIST. The fields are not normalised (the common reading of the paper);
    the blur mirrors the border and cuts the kernel at 4 sigma, as ``scipy.ndimage.gaussian_filter``.
    """

    def __init__(
        self,
        alpha: float = 34.0,
        sigma: float = 4.0,
        image_shape: tuple[int, int] = (28, 28),
        *,
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(image_shape, n_jobs=n_jobs)
        self.alpha = check_positive_float(alpha, "alpha", allow_zero=True)
        self.sigma = check_positive_float(sigma, "sigma")
        h, w = self.image_shape
        self._blur_rows = gaussian_operator(h, self.sigma).astype(np.float32)
        # alpha folded into the second blur: one multiplication fewer per pixel.
        self._blur_cols = (self.alpha * gaussian_operator(w, self.sigma)).astype(np.float32)
        self._grid_rows = np.arange(h, dtype=np.float32)[:, None]
        self._grid_cols = np.arange(w, dtype=np.float32)[None, :]

    def _transform(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        k, h, w = images.shape
        noise = rng.random((2 * k, h, w), dtype=np.float32)
        noise *= 2
        noise -= 1
        fields = smooth_fields(noise, self._blur_rows, self._blur_cols)
        rows, cols = fields[:k], fields[k:]
        rows += self._grid_rows
        cols += self._grid_cols
        return bilinear_sample(images, rows, cols)

    def __repr__(self) -> str:
        return f"ElasticDistortion(alpha={self.alpha}, sigma={self.sigma}, image_shape={self.image_shape})"


class Compose(Augmenter):
    """Apply several augmenters in order, chunk by chunk (one pass over the data, one thread pool)."""

    def __init__(self, augmenters: Sequence[Augmenter], *, n_jobs: int | None = None) -> None:
        if not isinstance(augmenters, Sequence) or not augmenters:
            raise TypeError(f"augmenters must be a non-empty list of augmenters, got {augmenters!r}")
        for a in augmenters:
            if not isinstance(a, Augmenter):
                raise TypeError(f"every element of augmenters must be an Augmenter, got {type(a).__name__}")
        shapes = {a.image_shape for a in augmenters}
        if len(shapes) > 1:
            raise ValueError(f"all augmenters must share one image_shape, got {sorted(shapes)}")
        super().__init__(augmenters[0].image_shape, n_jobs=n_jobs)
        self.augmenters = tuple(augmenters)

    def _transform(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for augmenter in self.augmenters:
            images = augmenter._transform(images, rng)
        return images

    def __repr__(self) -> str:
        return f"Compose([{', '.join(map(repr, self.augmenters))}])"
