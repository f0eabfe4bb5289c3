"""How sensitive the course's flower runs are to rounding: each run of ``COURSE_RUNS`` with 20 or 50 hidden
units, trained from the course's own initial weights and from those weights multiplied by (1 + 1e-12 u), u ~ N(0, 1)
per weight, for several draws of u. Full-batch gradient descent has no other randomness, so the spread of the
final training accuracy is the effect of perturbations at the 12th significant digit, which is the size of the
difference between two summation orders.

    python experiments/course_rounding.py [--draws 8]
"""

from __future__ import annotations

import argparse

import numpy as np

from mlpkit.datasets import load_planar
from mlpkit.reproduce.course import COURSE_RUNS, build_network, build_optimizer, set_course_weights


def final_accuracy(run, scale: float, rng: np.random.Generator) -> float:
    data = load_planar(run.dataset, dtype="float64")
    network = build_network(run, 0)
    set_course_weights(network, run)
    weights = {name: value * (1.0 + scale * rng.standard_normal(value.shape))
               for name, value in network.get_weights().items()}
    network.set_weights(weights)
    network.fit(data.train.X, data.train.y, epochs=run.epochs, batch_size=len(data.train.y),
                optimizer=build_optimizer(run), monitor_training=False, verbose=0, seed=0)
    return 100.0 * network.evaluate(data.train.X, data.train.y)["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=8, help="perturbations per run (default 8)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for run in (r for r in COURSE_RUNS if r.name in ("flower: 20 hidden units", "flower: 50 hidden units")):
        exact = final_accuracy(run, 0.0, rng)
        perturbed = sorted(final_accuracy(run, 1e-12, rng) for _ in range(args.draws))
        print(f"{run.name}: published {run.published_train:.2f}; from the course's weights {exact:.2f}; "
              f"perturbed by 1e-12 ({args.draws} draws): {', '.join(f'{a:.2f}' for a in perturbed)}")


if __name__ == "__main__":
    main()
