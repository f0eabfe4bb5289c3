"""Search spaces: one typed distribution per hyper-parameter.

Ng, "Improving Deep Neural Networks", week 3 ("Using an appropriate scale to pick hyperparameters"):
sampling a learning rate uniformly in [1e-4, 1] puts 90% of the samples in [0.1, 1]; sample its exponent
instead, r uniform in [-4, 0] and alpha = 10^r (:class:`LogUniform`). For an exponentially weighted
average's beta in [0.9, 0.999] the sensitive end is near 1, so sample 1 - beta on the log scale:
r uniform in [-3, -1], beta = 1 - 10^r (:class:`OneMinusLogUniform`).

Each numeric distribution is uniform in a *coordinate* t(x) (x itself, log10 x or log10(1 - x)); sampling,
grids and coarse-to-fine narrowing all work in that coordinate, so they respect the parameter's scale.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

__all__ = ["Choice", "Distribution", "IntUniform", "LogUniform", "OneMinusLogUniform", "SearchSpace", "Uniform",
           "distribution_from_config"]


def _finite(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{label} must be a finite number, got {value!r}")
    return float(value)


class Distribution:
    """A hyper-parameter's prior. ``kind`` names it in configs; ``scale`` says how to plot it."""

    kind = ""
    scale = "linear"

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def grid(self, points: int) -> list[Any]:
        """``points`` values evenly spaced on the distribution's scale, ends included."""
        raise NotImplementedError

    def narrowed(self, values: Sequence[Any], margin: float) -> Distribution:
        """The part of this distribution around ``values`` (the best trials'), widened by ``margin`` times
        the current span on each side and kept within the current bounds."""
        raise NotImplementedError

    def to_config(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class _Interval(Distribution):
    """A distribution uniform in a coordinate t(x) between ``low`` and ``high``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        low = _finite(self.low, f"{self.kind} low")
        high = _finite(self.high, f"{self.kind} high")
        if not low < high:
            raise ValueError(f"{self.kind} needs low < high, got low={low:g}, high={high:g}")
        self._check(low, high)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def _check(self, low: float, high: float) -> None:
        """Extra bounds checks of a subclass (positivity for log scales...)."""

    def _t(self, x: float) -> float:
        return x

    def _x(self, t: float) -> float:
        return t

    @property
    def t_range(self) -> tuple[float, float]:
        a, b = self._t(self.low), self._t(self.high)
        return (a, b) if a <= b else (b, a)

    def sample(self, rng: np.random.Generator) -> float:
        lo, hi = self.t_range
        return self._clip(self._x(float(rng.uniform(lo, hi))))

    def _clip(self, x: float) -> float:
        return min(max(x, self.low), self.high)

    def grid(self, points: int) -> list[float]:
        lo, hi = self.t_range
        if points == 1:
            return [self._clip(self._x((lo + hi) / 2))]
        return sorted(self._clip(self._x(float(t))) for t in np.linspace(lo, hi, points))

    def narrowed(self, values: Sequence[Any], margin: float) -> _Interval:
        lo, hi = self.t_range
        ts = [self._t(float(v)) for v in values]
        pad = margin * (hi - lo)
        new_lo, new_hi = max(lo, min(ts) - pad), min(hi, max(ts) + pad)
        if new_hi <= new_lo:  # one best value on a bound: keep a sliver of width 2 * pad
            new_lo, new_hi = max(lo, new_lo - pad), min(hi, new_hi + pad)
        xs = sorted((self._clip(self._x(new_lo)), self._clip(self._x(new_hi))))
        return type(self)(xs[0], xs[1])

    def to_config(self) -> dict[str, Any]:
        return {"dist": self.kind, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Uniform(_Interval):
    """x uniform in [low, high]."""

    kind = "uniform"


@dataclass(frozen=True)
class LogUniform(_Interval):
    """x = 10^r with r uniform in [log10 low, log10 high] (Ng week 3: learning rates, lambda); low > 0."""

    kind = "log-uniform"
    scale = "log"

    def _check(self, low: float, high: float) -> None:
        if low <= 0:
            raise ValueError(f"log-uniform needs 0 < low < high, got low={low:g}")

    def _t(self, x: float) -> float:
        return math.log10(x)

    def _x(self, t: float) -> float:
        return 10.0 ** t


@dataclass(frozen=True)
class OneMinusLogUniform(_Interval):
    """x = 1 - 10^r with r uniform in [log10(1 - high), log10(1 - low)] (Ng week 3: momentum and Adam's
    betas, e.g. 0.9..0.999 gives r in [-3, -1]); 0 <= low < high < 1."""

    kind = "one-minus-log"
    scale = "one-minus-log"

    def _check(self, low: float, high: float) -> None:
        if low < 0 or high >= 1:
            raise ValueError(f"one-minus-log needs 0 <= low < high < 1, got low={low:g}, high={high:g}")

    def _t(self, x: float) -> float:
        return math.log10(1.0 - x)

    def _x(self, t: float) -> float:
        return 1.0 - 10.0 ** t


@dataclass(frozen=True)
class IntUniform(Distribution):
    """An integer in [low, high] (both included); ``log=True`` samples it log-uniformly (e.g. batch sizes,
    layer widths)."""

    low: int
    high: int
    log: bool = False

    kind = "int"

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"int {name} must be an integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        if not self.low < self.high:
            raise ValueError(f"int needs low < high, got low={self.low}, high={self.high}")
        if self.log and self.low < 1:
            raise ValueError(f"int with log = true needs low >= 1, got low={self.low}")
        object.__setattr__(self, "log", bool(self.log))

    @property
    def scale(self) -> str:  # type: ignore[override]
        return "log" if self.log else "linear"

    def _inner(self) -> _Interval:
        # half a unit beyond each end, so that every integer gets an equal share (on its scale)
        if self.log:
            return LogUniform(max(self.low - 0.5, 0.5), self.high + 0.5)
        return Uniform(self.low - 0.5, self.high + 0.5)

    def _round(self, x: float) -> int:
        return int(min(max(round(x), self.low), self.high))

    def sample(self, rng: np.random.Generator) -> int:
        return self._round(self._inner().sample(rng))

    def grid(self, points: int) -> list[int]:
        inner = (LogUniform if self.log else Uniform)(self.low, self.high)
        return list(dict.fromkeys(self._round(x) for x in inner.grid(points)))

    def narrowed(self, values: Sequence[Any], margin: float) -> IntUniform:
        inner = (LogUniform if self.log else Uniform)(self.low, self.high).narrowed(values, margin)
        low, high = math.floor(inner.low), math.ceil(inner.high)
        if high <= low:
            high = min(low + 1, self.high)
            low = high - 1
        return IntUniform(low, high, self.log)

    def to_config(self) -> dict[str, Any]:
        return {"dist": self.kind, "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``values`` (strings, numbers or booleans), each with the same probability."""

    values: tuple[Any, ...]

    kind = "choice"
    scale = "categorical"

    def __post_init__(self) -> None:
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Iterable):
            raise TypeError(f"choice values must be a list, got {self.values!r}")
        values = tuple(self.values)
        if not values:
            raise ValueError("choice needs at least one value")
        for value in values:
            if not isinstance(value, (str, numbers.Real)):
                raise TypeError(f"choice values must be strings, numbers or booleans, got {value!r}")
        if len(set(values)) != len(values):
            raise ValueError(f"choice values must be distinct, got {list(values)}")
        object.__setattr__(self, "values", values)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def grid(self, points: int) -> list[Any]:
        return list(self.values)

    def narrowed(self, values: Sequence[Any], margin: float) -> Choice:
        kept = tuple(v for v in self.values if v in set(values))
        return Choice(kept or self.values)

    def to_config(self) -> dict[str, Any]:
        return {"dist": self.kind, "values": list(self.values)}


_KINDS: dict[str, type[Distribution]] = {
    "uniform": Uniform, "log-uniform": LogUniform, "one-minus-log": OneMinusLogUniform, "int": IntUniform,
    "choice": Choice,
}
_KIND_ALIASES = {"loguniform": "log-uniform", "log": "log-uniform", "beta": "one-minus-log",
                 "categorical": "choice", "integer": "int"}


def distribution_from_config(spec: Any, name: str = "parameter") -> Distribution:
    """A distribution from a config entry: ``{"dist": "log-uniform", "low": 1e-4, "high": 1}``,
    ``{"dist": "int", "low": 10, "high": 100, "log": true}``, ``{"dist": "choice", "values": [...]}``, or a
    bare list (a choice). Kinds: uniform, log-uniform, one-minus-log (alias beta), int, choice."""
    if isinstance(spec, Distribution):
        return spec
    if isinstance(spec, (list, tuple)):
        return Choice(tuple(spec))
    if not isinstance(spec, Mapping):
        raise TypeError(f"space entry {name!r} must be a table like {{dist = \"log-uniform\", low = 1e-4, high = 1}} "
                        f"or a list of choices, got {spec!r}")
    spec = dict(spec)
    raw_kind = str(spec.pop("dist", "")).strip().lower().replace("_", "-")
    kind = _KIND_ALIASES.get(raw_kind.replace("-", ""), _KIND_ALIASES.get(raw_kind, raw_kind))
    if kind not in _KINDS:
        raise ValueError(f"space entry {name!r}: dist must be one of {', '.join(_KINDS)}, got {raw_kind or None!r}")
    allowed = {"choice": {"values"}, "int": {"low", "high", "log"}}.get(kind, {"low", "high"})
    unknown = sorted(set(spec) - allowed)
    missing = sorted(allowed - set(spec) - {"log"})
    if unknown or missing:
        problem = f"unknown keys {unknown}" if unknown else f"missing {missing}"
        raise ValueError(f"space entry {name!r} ({kind}): {problem}; it takes {', '.join(sorted(allowed))}")
    try:
        if kind == "choice":
            return Choice(spec["values"])
        return _KINDS[kind](**spec)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"space entry {name!r}: {exc}") from None


class SearchSpace:
    """An ordered mapping of hyper-parameter name -> :class:`Distribution`.

    >>> space = SearchSpace({"lr": LogUniform(1e-4, 1), "momentum": OneMinusLogUniform(0.9, 0.999)})
    >>> sorted(space.sample(np.random.default_rng(0)))
    ['lr', 'momentum']
    """

    def __init__(self, distributions: Mapping[str, Any]) -> None:
        if not isinstance(distributions, Mapping) or not distributions:
            raise ValueError("a search space needs at least one hyper-parameter, e.g. {'lr': LogUniform(1e-3, 1)}")
        self.distributions: dict[str, Distribution] = {
            str(name): distribution_from_config(spec, str(name)) for name, spec in distributions.items()}

    def __iter__(self):
        return iter(self.distributions)

    def __len__(self) -> int:
        return len(self.distributions)

    def __getitem__(self, name: str) -> Distribution:
        return self.distributions[name]

    def items(self):
        return self.distributions.items()

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One point: each parameter drawn independently, in the space's order."""
        return {name: dist.sample(rng) for name, dist in self.distributions.items()}

    def grid(self, points: int) -> list[dict[str, Any]]:
        """The Cartesian product of each parameter's ``points``-value grid (every value of a choice)."""
        if isinstance(points, bool) or not isinstance(points, int) or points < 1:
            raise ValueError(f"grid points must be a positive integer, got {points!r}")
        axes = [dist.grid(points) for dist in self.distributions.values()]
        return [dict(zip(self.distributions, combo, strict=True)) for combo in product(*axes)]

    def narrowed(self, best: Sequence[Mapping[str, Any]], margin: float = 0.15) -> SearchSpace:
        """Coarse-to-fine (Ng week 3): each range shrunk to the span of the ``best`` points, plus ``margin``
        times its current span on each side; choices keep only the values the best points use."""
        if not best:
            raise ValueError("narrowing a search space needs at least one good point")
        return SearchSpace({name: dist.narrowed([point[name] for point in best], margin)
                            for name, dist in self.distributions.items()})

    def to_config(self) -> dict[str, dict[str, Any]]:
        return {name: dist.to_config() for name, dist in self.distributions.items()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_config() == other.to_config()

    def __repr__(self) -> str:
        return f"SearchSpace({self.to_config()})"
