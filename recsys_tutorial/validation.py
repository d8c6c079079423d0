"""Declared parameter constraints, checked in one place.

Every model lists, once, what each of its hyperparameters may be (the idea of
scikit-learn's ``_parameter_constraints``)::

    _parameter_constraints = {
        "n_factors": [Interval(int, 1, None)],
        "reg": [Interval(float, 0.0, None)],
        "solver": [Options("als", "sgd", "gd")],
        "verbose": [BOOLEAN],
        "random_state": [RANDOM_STATE],
    }

and the base class calls :func:`validate_params` at the start of every ``fit``.
A value passes when it satisfies *one* of the constraints of its list; the
error names the model, the parameter, what was allowed and what was given:
a :class:`TypeError` when no constraint accepts the value's type, a
:class:`ValueError` when the type is right but the value is not (out of its
interval, not one of the options, not finite).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["Interval", "Options", "BOOLEAN", "RANDOM_STATE", "NONE", "validate_params"]


class Interval:
    """Numbers of one kind in an interval.

    Parameters
    ----------
    kind : {int, float}
        ``int`` accepts Python and numpy integers; ``float`` accepts any real
        number (ints included), which must be finite.  Bools are never numbers here.
    left, right : number or None
        The bounds; ``None`` means unbounded on that side.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds belong to the interval.
    """

    def __init__(
        self, kind: type, left: float | None, right: float | None, *, closed: str = "both"
    ):
        if kind not in (int, float):
            raise ValueError(f"kind must be int or float; got {kind!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be 'both', 'left', 'right' or 'neither'; got {closed!r}")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def accepts_type(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind is int:
            return isinstance(value, (numbers.Integral, np.integer))
        return isinstance(value, (numbers.Real, np.integer, np.floating))

    def contains(self, value: Any) -> bool:
        if self.kind is float and not math.isfinite(float(value)):
            return False
        left_ok = self.left is None or (
            value >= self.left if self.closed in ("both", "left") else value > self.left
        )
        right_ok = self.right is None or (
            value <= self.right if self.closed in ("both", "right") else value < self.right
        )
        return bool(left_ok and right_ok)

    def normalize(self, value: Any) -> Any:
        return int(value) if self.kind is int else float(value)

    def __str__(self) -> str:
        name = "an int" if self.kind is int else "a finite real number"
        if self.left is None and self.right is None:
            return name
        lb = "[" if self.closed in ("both", "left") and self.left is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.right is not None else ")"
        left = "-inf" if self.left is None else f"{self.left:g}"
        right = "inf" if self.right is None else f"{self.right:g}"
        return f"{name} in {lb}{left}, {right}{rb}"


class Options:
    """One of a fixed set of values (strings, usually)."""

    def __init__(self, *values: Any):
        self.values = values

    def accepts_type(self, value: Any) -> bool:
        return isinstance(value, str) if all(isinstance(v, str) for v in self.values) else True

    def contains(self, value: Any) -> bool:
        return any(value == v and type(value) is type(v) for v in self.values)

    def normalize(self, value: Any) -> Any:
        return value

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class _Boolean:
    def accepts_type(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    contains = accepts_type

    def normalize(self, value: Any) -> bool:
        return bool(value)

    def __str__(self) -> str:
        return "a bool"


class _RandomState:
    def accepts_type(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        return value is None or isinstance(
            value, (numbers.Integral, np.integer, np.random.Generator)
        )

    def contains(self, value: Any) -> bool:
        return not isinstance(value, (numbers.Integral, np.integer)) or value >= 0

    def normalize(self, value: Any) -> Any:
        return int(value) if isinstance(value, (numbers.Integral, np.integer)) else value

    def __str__(self) -> str:
        return "None, a non-negative int or a numpy Generator"


class _None:
    def accepts_type(self, value: Any) -> bool:
        return value is None

    contains = accepts_type

    def normalize(self, value: Any) -> None:
        return None

    def __str__(self) -> str:
        return "None"


#: ``True`` or ``False`` (numpy bools too); ``"yes"`` or ``1`` are refused.
BOOLEAN = _Boolean()
#: ``None``, a non-negative int seed, or a ``numpy.random.Generator``.
RANDOM_STATE = _RandomState()
#: ``None`` (for parameters whose ``None`` has a documented meaning).
NONE = _None()


def validate_params(
    owner: str, params: dict[str, Any], constraints: dict[str, list]
) -> dict[str, Any]:
    """Check every parameter against its declared constraints; return normalized values.

    Normalized means plain Python types (``np.int64(5)`` becomes ``5``), so the
    values can be used, printed and saved alike.

    Raises
    ------
    TypeError
        No constraint accepts the value's type.
    ValueError
        A constraint accepts the type but not the value.
    """
    missing = set(params) - set(constraints)
    if missing:  # a programming error in a model, not a user error
        raise RuntimeError(f"{owner} declares no constraints for {sorted(missing)}")
    checked = {}
    for name, value in params.items():
        options = constraints[name]
        typed = [c for c in options if c.accepts_type(value)]
        allowed = " or ".join(str(c) for c in options)
        if not typed:
            raise TypeError(
                f"{owner}: {name} must be {allowed}; got {type(value).__name__} {value!r}"
            )
        for c in typed:
            if c.contains(value):
                checked[name] = c.normalize(value)
                break
        else:
            raise ValueError(f"{owner}: {name} must be {allowed}; got {value!r}")
    return checked
