"""Finite-difference gradient checking.

A gradient derived by hand is checked against central differences

.. math::

    \\frac{\\partial f}{\\partial x_k}
    \\approx \\frac{f(x + \\varepsilon e_k) - f(x - \\varepsilon e_k)}{2\\varepsilon},

whose error is :math:`O(\\varepsilon^2)`.  The comparison uses the relative
error :math:`|g_k - \\tilde g_k| / \\max(|g_k|, |\\tilde g_k|, \\text{floor})`, so
that it means the same for large and small entries; the floor keeps entries
that are both (nearly) zero from dividing noise by noise.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .utils import check_float

__all__ = ["GradientCheck", "check_gradient", "numerical_gradient"]


def numerical_gradient(f: Callable[[np.ndarray], float], x, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x`` (any shape)."""
    eps = check_float("eps", eps, 0.0, strict=True)
    x = np.array(x, dtype=np.float64)  # a private copy that we perturb in place
    grad = np.empty_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        orig = flat[k]
        flat[k] = orig + eps
        f_plus = float(f(x))
        flat[k] = orig - eps
        f_minus = float(f(x))
        flat[k] = orig
        gflat[k] = (f_plus - f_minus) / (2.0 * eps)
    return grad


class GradientCheck(float):
    """The maximum relative error (a float) with where it occurred.

    Attributes
    ----------
    index : tuple
        Index into ``x`` of the worst entry.
    analytic, numeric : float
        The two gradient values there.
    """

    index: tuple
    analytic: float
    numeric: float

    def __new__(cls, error, index, analytic, numeric):
        obj = super().__new__(cls, error)
        obj.index, obj.analytic, obj.numeric = index, analytic, numeric
        return obj

    def __repr__(self) -> str:
        return (
            f"GradientCheck(max_rel_error={float(self):.3e} at {self.index}: "
            f"analytic {self.analytic:.10g}, numeric {self.numeric:.10g})"
        )


def check_gradient(
    f: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], np.ndarray],
    x,
    eps: float = 1e-6,
    floor: float = 1e-8,
) -> GradientCheck:
    """Compare ``grad(x)`` with central differences of ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        Scalar function of one array.
    grad : callable
        Its claimed gradient, returning an array shaped like ``x``.
    x : array_like
        The point (not modified).
    eps : float
        Finite-difference step.
    floor : float
        Smallest denominator of the relative error.

    Returns
    -------
    GradientCheck
        A float, the maximum relative error over all entries, carrying the
        worst entry's ``index`` and its ``analytic`` and ``numeric`` values.
    """
    floor = check_float("floor", floor, 0.0, strict=True)
    x = np.array(x, dtype=np.float64)
    analytic = np.asarray(grad(x.copy()), dtype=np.float64)
    if analytic.shape != x.shape:
        raise ValueError(f"grad(x) must have the shape of x {x.shape}; got {analytic.shape}")
    numeric = numerical_gradient(f, x, eps)
    rel = np.abs(analytic - numeric) / np.maximum(
        np.maximum(np.abs(analytic), np.abs(numeric)), floor
    )
    if not np.all(np.isfinite(rel)):
        raise ValueError("the gradient or the function is not finite at x")
    worst = np.unravel_index(int(np.argmax(rel)), x.shape)
    return GradientCheck(
        float(rel[worst]),
        tuple(int(k) for k in worst),
        float(analytic[worst]),
        float(numeric[worst]),
    )
