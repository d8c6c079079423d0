"""Scoring Gaussian predictive distributions: log density, CRPS, PIT and binned reliability.

A model that returns, for each held-out rating :math:`y_k`, a predictive mean
:math:`m_k` and standard deviation :math:`s_k` (``BayesianPMF.predict(...,
return_std=True)``) claims :math:`y_k \\sim \\mathcal N(m_k, s_k^2)`.  With
:math:`z_k = (y_k - m_k) / s_k`, :math:`\\phi` and :math:`\\Phi` the standard normal
density and distribution function (Gneiting & Raftery 2007):

* **log predictive density** :math:`\\frac1K \\sum_k \\log \\mathcal N(y_k \\mid m_k, s_k^2)
  = \\frac1K \\sum_k \\big(-\\log s_k - \\tfrac12 \\log 2\\pi - \\tfrac12 z_k^2\\big)`
  (:func:`log_predictive_density`; higher is better);
* **CRPS**, :math:`\\int (F_k(t) - \\mathbf 1[t \\ge y_k])^2\\,dt`, in closed form for a
  Gaussian :math:`s_k \\big(z_k (2\\Phi(z_k) - 1) + 2\\phi(z_k) - 1/\\sqrt\\pi\\big)`, averaged
  (:func:`crps_gaussian`; in stars, lower is better; it reduces to the absolute error as
  :math:`s_k \\to 0`);
* **PIT** :math:`u_k = \\Phi(z_k)` (:func:`pit`): uniform on :math:`[0, 1]` when the
  predictive distributions are right (a U-shaped histogram means too narrow, a hump too wide);
* **reliability by predicted spread** (:func:`reliability_by_std`): the pairs sorted
  into bins of equal size by :math:`s_k`, and per bin the root mean predicted variance, the
  root mean squared error and the coverage of central intervals.  Calibration is a
  statement conditional on what the model predicted, so the bins must be formed from the
  prediction, never from the realized :math:`y_k` (binned by :math:`y_k`, even a perfect
  model shows under-coverage at the extremes).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

__all__ = ["crps_gaussian", "log_predictive_density", "pit", "reliability_by_std"]


def _check(y, mean, std):
    arrays = []
    for name, value in (("y", y), ("mean", mean), ("std", std)):
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D; got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite; {int((~np.isfinite(arr)).sum())} are not")
        arrays.append(arr)
    y, mean, std = arrays
    if not y.size == mean.size == std.size:
        raise ValueError(
            f"y, mean and std must have equal lengths; got {y.size}, {mean.size}, {std.size}"
        )
    if y.size == 0:
        raise ValueError("y is empty")
    if np.any(std <= 0):
        raise ValueError(f"std must be > 0; {int((std <= 0).sum())} values are not")
    return y, mean, std


def log_predictive_density(y, mean, std) -> float:
    """Mean of :math:`\\log \\mathcal N(y_k \\mid m_k, s_k^2)` over the pairs (nats)."""
    y, mean, std = _check(y, mean, std)
    return float(np.mean(stats.norm.logpdf(y, loc=mean, scale=std)))


def crps_gaussian(y, mean, std) -> float:
    """Mean continuous ranked probability score of Gaussian predictions (units of ``y``)."""
    y, mean, std = _check(y, mean, std)
    z = (y - mean) / std
    per_pair = std * (z * special.erf(z / np.sqrt(2)) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))
    return float(np.mean(per_pair))


def pit(y, mean, std) -> np.ndarray:
    """Probability integral transform :math:`\\Phi((y_k - m_k) / s_k)` of each pair."""
    y, mean, std = _check(y, mean, std)
    return stats.norm.cdf(y, loc=mean, scale=std)


def reliability_by_std(y, mean, std, n_bins=5, levels=(0.5, 0.9)) -> dict:
    """Bin the pairs by predicted ``std`` (equal counts) and compare claim and outcome per bin.

    Parameters
    ----------
    y, mean, std : array_like, shape (K,)
    n_bins : int
        Bins of (nearly) equal size over the pairs sorted by ``std`` (ties keep their order).
    levels : sequence of float in (0, 1)
        Central-interval probabilities :math:`p`; the interval is
        :math:`m_k \\pm \\Phi^{-1}(\\tfrac{1 + p}{2})\\, s_k`.

    Returns
    -------
    dict of ndarray
        ``"predicted"`` (n_bins,): :math:`\\sqrt{\\text{mean } s_k^2}` per bin;
        ``"observed"`` (n_bins,): :math:`\\sqrt{\\text{mean } (y_k - m_k)^2}` per bin;
        ``"coverage"`` (n_bins, len(levels)): fraction inside each interval;
        ``"edges"`` (n_bins + 1,): the smallest ``std`` of each bin and the largest overall.
    """
    y, mean, std = _check(y, mean, std)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)):
        raise TypeError(f"n_bins must be an int; got {type(n_bins).__name__}")
    if not 1 <= n_bins <= y.size:
        raise ValueError(f"n_bins must be in [1, {y.size}] (the number of pairs); got {n_bins}")
    levels = np.asarray(levels, dtype=np.float64)
    if levels.ndim != 1 or levels.size == 0 or np.any((levels <= 0) | (levels >= 1)):
        raise ValueError(f"levels must be a non-empty 1-D sequence in (0, 1); got {levels}")
    order = np.argsort(std, kind="stable")
    bins = np.array_split(order, n_bins)
    z = stats.norm.ppf(0.5 + levels / 2)
    inside = np.abs(y - mean)[:, None] <= z[None, :] * std[:, None]
    return {
        "predicted": np.array([np.sqrt(np.mean(std[b] ** 2)) for b in bins]),
        "observed": np.array([np.sqrt(np.mean((y[b] - mean[b]) ** 2)) for b in bins]),
        "coverage": np.array([inside[b].mean(axis=0) for b in bins]),
        "edges": np.array([std[b[0]] for b in bins] + [std[order[-1]]]),
    }
