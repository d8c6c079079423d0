"""Small validation helpers shared by the modules (one place for each check)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .data import Ratings

__all__ = [
    "check_random_state",
    "check_int",
    "check_float",
    "check_ratings",
    "check_indices",
]


def check_random_state(random_state: Any) -> np.random.Generator:
    """Turn ``None``, an int seed or a ``Generator`` into a ``numpy.random.Generator``.

    An int seed makes every draw reproducible bit for bit.
    """
    if random_state is None or isinstance(random_state, (numbers.Integral, np.integer)):
        if isinstance(random_state, bool):
            raise TypeError("random_state must be None, an int or a numpy Generator; got a bool")
        if random_state is not None and random_state < 0:
            raise ValueError(f"random_state must be a non-negative int; got {random_state}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise TypeError(
        f"random_state must be None, an int or a numpy Generator; got {type(random_state).__name__}"
    )


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int ``>= minimum`` or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def check_float(
    name: str,
    value: Any,
    minimum: float = 0.0,
    *,
    strict: bool = False,
    maximum: float | None = None,
) -> float:
    """Return ``value`` as a finite float in range or raise naming ``name``.

    ``strict=True`` excludes ``minimum`` itself.
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if value < minimum or (strict and value == minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value}")
    return value


def check_ratings(name: str, ratings: Any) -> Ratings:
    """Make sure ``ratings`` is a :class:`~recsys_tutorial.Ratings`."""
    if not isinstance(ratings, Ratings):
        raise TypeError(
            f"{name} must be a recsys_tutorial.Ratings; got {type(ratings).__name__} "
            "(build one with rt.Ratings(users, items, values))"
        )
    return ratings


def check_indices(name: str, values: Any) -> np.ndarray:
    """Return non-negative integer indices as a 1-D int64 array (a scalar becomes length 1)."""
    arr = np.atleast_1d(np.asarray(values))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a scalar or 1-D; got shape {arr.shape}")
    if arr.size and (arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must hold integer indices; got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be non-negative indices; got {int(arr.min())}")
    return arr
