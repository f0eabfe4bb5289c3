"""Hyper-parameter search: random (on each parameter's scale), grid, coarse-to-fine and Optuna's TPE; pruning
of poor trials; serial, process-pool and Ray backends; a resumable SQLite store; tables, CSV and plots; the
best configuration as an ``mlpkit train --config`` file; Nielsen's recipe for eta, lambda and epochs.

>>> from mlpkit.tuning import search, LogUniform
>>> result = search({"lr": LogUniform(0.01, 10), "lmbda": LogUniform(1e-3, 10)},
...                 {"dataset": "digits", "epochs": 5}, trials=20, storage="tune.sqlite")  # doctest: +SKIP
>>> result.best.params                                                                    # doctest: +SKIP

Importing this package needs NumPy only; Ray is imported when its backend runs, Optuna when the optuna
strategy runs (``pip install 'mlpkit[optuna]'``), rich and matplotlib when a report is made.
"""

from .backends import BACKENDS, Backend, ProcessBackend, RayBackend, SerialBackend, make_backend
from .pruning import MedianRule, Pruner, SuccessiveHalving
from .recipe import RecipeResult, nielsen_recipe
from .search import STRATEGIES, SearchResult, best_train_config, search, write_best_config
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
    "best_train_config",
    "make_backend",
    "nielsen_recipe",
    "search",
    "write_best_config",
]
