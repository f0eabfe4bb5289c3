"""Build src/mlpkit/datasets/digits.npz from scikit-learn's bundled copy of the UCI digits.

Run once by a maintainer (scikit-learn is needed here only, never at run time):

    python scripts/make_digits_npz.py

The data: "Optical Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak, UCI Machine Learning
Repository, CC BY 4.0), the 1,797-example 8x8 test part that scikit-learn ships as ``load_digits``. Each
pixel counts the set bits of a 4x4 block of a 32x32 bitmap, so values are integers 0..16 and fit uint8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parent.parent / "src" / "mlpkit" / "datasets" / "digits.npz"


def main() -> None:
    bunch = load_digits()
    images, labels = bunch.data, bunch.target
    if images.shape != (1797, 64) or not np.array_equal(images, np.round(images)):
        raise SystemExit(f"unexpected scikit-learn digits: shape {images.shape}")
    if images.min() < 0 or images.max() > 16 or set(np.unique(labels)) != set(range(10)):
        raise SystemExit("unexpected scikit-learn digits: pixel or label range")
    np.savez_compressed(OUT, images=images.astype(np.uint8), labels=labels.astype(np.uint8))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
