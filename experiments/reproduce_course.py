"""Reproduce Ng's deeplearning.ai experiments on 2-D data with mlpkit: the same as ``mlpkit reproduce --course``
(see its --help).

    python experiments/reproduce_course.py --jobs 2     # every configuration, 10 seeds, with boundary pictures
    python experiments/reproduce_course.py --quick      # 300 epochs (initialization whole), 1 seed: the CI smoke test

Writes experiments/results/course.md (or course_quick.md) and, for a full run, experiments/results/course/*.png.
"""

import sys

from mlpkit.cli import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", "--course", *sys.argv[1:]]))
