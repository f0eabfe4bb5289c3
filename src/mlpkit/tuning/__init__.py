"""Hyper-parameter search: random (on each parameter's scale), grid and coarse-to-fine; pruning of poor
trials; serial, process-pool and Ray backends; a resumable SQLite store; tables, CSV and plots; Nielsen's
recipe for eta, lambda and epochs.

>>> from mlpkit.tuning import search, LogUniform
>>> result = search({"lr": LogUniform(0.01, 10), "lmbda": LogUniform(1e-3, 10)},
...                 {"dataset": "digits", "epochs": 5}, trials=20, storage="tune.sqlite")  # doctest: +SKIP
>>> result.best.params                                                                    # doctest: +SKIP

Importing this package needs NumPy only; Ray is imported when its backend runs, rich and matplotlib when a
report is made.
"""

from .backends import BACKENDS, Backend, ProcessBackend, RayBackend, SerialBackend, make_backend
from .pruning import MedianRule, Pruner, SuccessiveHalving
from .recipe import RecipeResult, nielsen_recipe
from .search import STRATEGIES, SearchResult, search
from .space import Choice, Distribution, IntUniform, LogUniform, OneMinusLogUniform, SearchSpace, Uniform
from .store import ResultsStore, Trial

__all__ = [
    "BACKENDS",
    "STRATEGIES",
    "Backend",
    "Choice",
    "Distribution",
    "IntUniform",
    "LogUniform",
    "MedianRule",
    "OneMinusLogUniform",
    "ProcessBackend",
    "Pruner",
    "RayBackend",
    "RecipeResult",
    "ResultsStore",
    "SearchResult",
    "SearchSpace",
    "SerialBackend",
    "SuccessiveHalving",
    "Trial",
    "Uniform",
    "make_backend",
    "nielsen_recipe",
    "search",
]
