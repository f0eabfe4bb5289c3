"""Turn a drawing into the input of a digit classifier, the way MNIST and the UCI digits were made.

MNIST (LeCun et al., "The MNIST database"): each digit was size-normalized to fit a 20 x 20 pixel box
while preserving its aspect ratio (anti-aliasing gives grey levels), then placed in a 28 x 28 image so
that its center of mass sits at the center. :func:`mnist_image` does the same to a drawing: crop to the
ink's bounding box, resample by area averaging so the longer side is 20 pixels, paste into 28 x 28 with
the center of mass moved (by whole pixels) to (14, 14), and scale the values to [0, 1] (darkest = 1).

UCI 8 x 8 digits (Alpaydin & Kaynak; mlpkit's embedded ``digits``): 32 x 32 bitmaps, size-normalized,
cut into 4 x 4 blocks whose counts of ink pixels (0..16) are the features; mlpkit divides them by 16.
:func:`digits_image` fits the ink in the 32 x 32 frame (aspect kept, centered) and averages 4 x 4 blocks.
"""

from __future__ import annotations

import numpy as np

MNIST_SIDE, MNIST_BOX = 28, 20
DIGITS_SIDE, DIGITS_FRAME = 8, 32
#: pixel values at or below this count as background when finding the ink
INK_THRESHOLD = 0.05


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) matrix of area-averaging resampling along one axis.

    Output pixel i covers input coordinates [i s, (i + 1) s) with s = n_in / n_out; its weight on input
    pixel j is the length of the overlap of [j, j + 1) with that interval, divided by s (rows sum to 1).
    """
    scale = n_in / n_out
    lo = np.arange(n_out)[:, None] * scale
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(lo + scale, j + 1) - np.maximum(lo, j), 0.0, None)
    return overlap / scale


def resample(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D image to (height, width) by area averaging (each axis separately)."""
    return area_weights(image.shape[0], height) @ image @ area_weights(image.shape[1], width).T


def _ink(image: np.ndarray) -> np.ndarray:
    """The bounding box of the pixels above INK_THRESHOLD; ValueError for an empty drawing."""
    if image.ndim != 2 or min(image.shape) < 1:
        raise ValueError(f"the drawing must be a 2-D array of pixels, got shape {image.shape}")
    rows = np.flatnonzero((image > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((image > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        raise ValueError("the drawing is empty: draw a digit first")
    return image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _fit(ink: np.ndarray, box: int) -> np.ndarray:
    """Resample so that the longer side is ``box`` pixels, keeping the aspect ratio (at least 1 pixel)."""
    h, w = ink.shape
    scale = box / max(h, w)
    return resample(ink, max(1, round(h * scale)), max(1, round(w * scale)))


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean position, pixel centers at integer + 0.5."""
    total = image.sum()
    rows = np.arange(image.shape[0]) + 0.5
    cols = np.arange(image.shape[1]) + 0.5
    return float(image.sum(axis=1) @ rows / total), float(image.sum(axis=0) @ cols / total)


def mnist_image(drawing: np.ndarray) -> np.ndarray:
    """A 28 x 28 float64 image in [0, 1] from a drawing (2-D array, ink > 0, any size)."""
    digit = _fit(_ink(np.asarray(drawing, dtype=np.float64)), MNIST_BOX)
    digit /= digit.max()
    h, w = digit.shape
    row, col = center_of_mass(digit)
    # top-left corner that puts the center of mass at (14, 14), kept inside the frame
    top = int(np.clip(round(MNIST_SIDE / 2 - row), 0, MNIST_SIDE - h))
    left = int(np.clip(round(MNIST_SIDE / 2 - col), 0, MNIST_SIDE - w))
    out = np.zeros((MNIST_SIDE, MNIST_SIDE))
    out[top:top + h, left:left + w] = digit
    return out


def digits_image(drawing: np.ndarray) -> np.ndarray:
    """An 8 x 8 float64 image in [0, 1] like the UCI digits: ink fitted in 32 x 32, 4 x 4 block means."""
    digit = _fit(_ink(np.asarray(drawing, dtype=np.float64)), DIGITS_FRAME)
    digit = np.clip(digit / digit.max(), 0.0, 1.0)
    h, w = digit.shape
    frame = np.zeros((DIGITS_FRAME, DIGITS_FRAME))
    top, left = (DIGITS_FRAME - h) // 2, (DIGITS_FRAME - w) // 2
    frame[top:top + h, left:left + w] = digit
    return resample(frame, DIGITS_SIDE, DIGITS_SIDE)


#: input sizes the drawing can be turned into, and how
PREPROCESSORS = {MNIST_SIDE * MNIST_SIDE: mnist_image, DIGITS_SIDE * DIGITS_SIDE: digits_image}
