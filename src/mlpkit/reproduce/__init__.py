"""Published experiments rerun with mlpkit, each written as a results table: published figure against ours.

- :mod:`~mlpkit.reproduce.book`: Nielsen's MNIST experiments (*Neural Networks and Deep Learning*, ch.1, 3, 5);
  ``mlpkit reproduce``.
- :mod:`~mlpkit.reproduce.course`: Ng's deeplearning.ai assignments on 2-D data (course 1 week 3, course 2 weeks 1
  and 2) and the gradient-checking demonstration; ``mlpkit reproduce --course``, ``mlpkit gradcheck --course``.
- :mod:`~mlpkit.reproduce.tables`: what both tables share (process pool, mean ± spread, results file).
"""

from .book import BOOK_RUNS, BookRun, RunResult, markdown_table, reproduce, run_one, write_table
from .course import (
    COURSE_RUNS,
    CourseGradientCheck,
    CourseResult,
    CourseRun,
    course_gradient_check,
    course_markdown_table,
    draw_boundaries,
    one_dimensional_check,
    reproduce_course,
    run_course,
    write_course_table,
)

__all__ = [
    "BOOK_RUNS",
    "COURSE_RUNS",
    "BookRun",
    "CourseGradientCheck",
    "CourseResult",
    "CourseRun",
    "RunResult",
    "course_gradient_check",
    "course_markdown_table",
    "draw_boundaries",
    "markdown_table",
    "one_dimensional_check",
    "reproduce",
    "reproduce_course",
    "run_course",
    "run_one",
    "write_course_table",
    "write_table",
]
