"""Is one recommender really better than another?  Paired comparisons with their uncertainty.

Two models scored on the same splits give *paired* results: what matters is
the distribution of their difference, not of each score.  Two tools:

* :func:`corrected_resampled_ttest`: the per-fold differences of a
  cross-validation (or of repeated random splits), with the variance correction
  of Nadeau and Bengio (*Machine Learning* 52, 2003).  The training parts of
  different folds overlap, so the fold differences are positively correlated
  and the plain paired t-test, which assumes them independent, is too
  confident.  Nadeau and Bengio replace the variance of the mean,
  :math:`\\hat\\sigma^2 / J`, by

  .. math::

      \\Big(\\frac1J + \\frac{n_{\\text{test}}}{n_{\\text{train}}}\\Big)\\hat\\sigma^2,

  where :math:`J` is the number of splits and :math:`\\hat\\sigma^2` the sample
  variance of the differences.  For :math:`k`-fold cross-validation
  :math:`n_{\\text{test}}/n_{\\text{train}} = 1/(k - 1)`; the correction was derived
  for random resampling and is the usual heuristic for :math:`k`-fold
  (Bouckaert and Frank, PAKDD 2004).  With five folds it multiplies the standard
  error by :math:`\\sqrt{1 + 5/4} = 1.5`.
* :func:`paired_bootstrap_rmse`: one test set, resampled by *user* (a user's
  ratings are not independent of each other), giving the sampling distribution
  of :math:`\\text{RMSE}_A - \\text{RMSE}_B`.  It says how much the difference
  would move with another set of users, not with another training set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .utils import check_float, check_int, check_random_state

__all__ = [
    "BootstrapResult",
    "PairedTestResult",
    "corrected_resampled_ttest",
    "paired_bootstrap_rmse",
]


@dataclass(frozen=True)
class PairedTestResult:
    """What :func:`corrected_resampled_ttest` found (differences are A - B)."""

    mean_difference: float
    std_error: float  #: corrected standard error of ``mean_difference``
    t: float
    df: int  #: degrees of freedom, J - 1
    p_value: float  #: two-sided
    ci_low: float
    ci_high: float
    confidence: float


@dataclass(frozen=True)
class BootstrapResult:
    """What :func:`paired_bootstrap_rmse` found (differences are RMSE_A - RMSE_B)."""

    difference: float  #: on the test set as given
    std_error: float  #: standard deviation of the bootstrap differences
    ci_low: float  #: percentile interval
    ci_high: float
    p_value: float  #: two-sided, 2 min(P*(diff <= 0), P*(diff >= 0)), at least 1 / n_resamples
    confidence: float
    differences: np.ndarray  #: the n_resamples bootstrap differences


def _scores(name: str, values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    arr = arr.astype(float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one score per split); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _confidence(confidence) -> float:
    confidence = check_float("confidence", confidence, 0.0, strict=True)
    if confidence >= 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    return confidence


def corrected_resampled_ttest(
    scores_a, scores_b, test_train_ratio: float, confidence: float = 0.95
) -> PairedTestResult:
    """Nadeau-Bengio corrected resampled t-test of paired per-split scores.

    Parameters
    ----------
    scores_a, scores_b : array_like, shape (J,)
        The two models' scores on the same ``J >= 2`` splits, in the same order.
    test_train_ratio : float
        :math:`n_{\\text{test}} / n_{\\text{train}}` of one split: ``1 / (k - 1)`` for
        k-fold cross-validation, ``0.2 / 0.8`` for 80/20 random splits.  ``0``
        gives the uncorrected paired t-test (``scipy.stats.ttest_rel``).
    confidence : float in (0, 1)
        Of the interval for the mean difference.

    Returns
    -------
    PairedTestResult
        With :math:`d_j = a_j - b_j`, :math:`\\bar d` their mean and
        :math:`\\hat\\sigma^2` their sample variance (``ddof=1``):
        ``std_error`` :math:`= \\sqrt{(1/J + n_{\\text{test}}/n_{\\text{train}})\\hat\\sigma^2}`,
        ``t`` :math:`= \\bar d / \\text{std\\_error}` on :math:`J - 1` degrees of freedom,
        ``p_value`` :math:`= 2 P(T_{J-1} \\ge |t|)` and the interval
        :math:`\\bar d \\pm t_{J-1, (1+c)/2}\\,\\text{std\\_error}`.

    Raises
    ------
    ValueError
        Different lengths, fewer than two splits, non-finite scores, or
        differences that are all equal up to rounding (the t statistic is then undefined: the
        models differ by the same amount on every split, or not at all).
    """
    a, b = _scores("scores_a", scores_a), _scores("scores_b", scores_b)
    if a.shape != b.shape:
        raise ValueError(f"scores_a and scores_b must be paired: got {a.size} and {b.size} scores")
    if a.size < 2:
        raise ValueError(f"need at least 2 splits to estimate a variance; got {a.size}")
    ratio = check_float("test_train_ratio", test_train_ratio, 0.0)
    confidence = _confidence(confidence)
    diff = a - b
    n = diff.size
    variance = diff.var(ddof=1)
    # a spread at the rounding level of the scores is no spread: a - b of two score vectors
    # that differ by a constant varies in the last bits
    rounding = 8 * np.finfo(float).eps * max(np.abs(a).max(), np.abs(b).max())
    if np.ptp(diff) <= rounding:
        raise ValueError(
            "the per-split differences are all equal, so their variance is 0 and the t statistic "
            f"is undefined (difference {diff[0]!r} on every split)"
        )
    mean = float(diff.mean())
    se = float(np.sqrt((1.0 / n + ratio) * variance))
    t = mean / se
    p = float(2.0 * stats.t.sf(abs(t), n - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
    return PairedTestResult(mean, se, t, n - 1, p, mean - half, mean + half, confidence)


def paired_bootstrap_rmse(
    y_true,
    pred_a,
    pred_b,
    users,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    random_state=None,
) -> BootstrapResult:
    """User-level paired bootstrap of :math:`\\text{RMSE}_A - \\text{RMSE}_B` on one test set.

    Each resample draws :math:`U` users with replacement from the :math:`U`
    users of the test set and keeps all their ratings (a user drawn twice counts
    twice); both models are scored on the same resample.  With
    :math:`w_u` the number of times user :math:`u` is drawn, :math:`S^A_u` the
    sum of A's squared errors on :math:`u`'s ratings and :math:`n_u` their number,

    .. math::

        \\text{RMSE}_A^* = \\sqrt{\\sum_u w_u S^A_u \\Big/ \\sum_u w_u n_u},

    and likewise for B.

    Parameters
    ----------
    y_true, pred_a, pred_b : array_like, shape (n,)
        Held-out ratings and the two models' predictions of them.
    users : array_like of int, shape (n,)
        The user of each rating (the resampling unit).
    n_resamples : int
    confidence : float in (0, 1)
        Of the percentile interval.
    random_state : None, int or numpy Generator

    Returns
    -------
    BootstrapResult
    """
    y = _scores("y_true", y_true)
    a, b = _scores("pred_a", pred_a), _scores("pred_b", pred_b)
    users = np.asarray(users)
    if users.dtype == bool or not np.issubdtype(users.dtype, np.integer):
        raise TypeError(f"users must hold integer ids; got dtype {users.dtype}")
    for name, arr in (("pred_a", a), ("pred_b", b), ("users", users)):
        if arr.shape != y.shape:
            raise ValueError(f"{name} must have the shape of y_true {y.shape}; got {arr.shape}")
    if y.size == 0:
        raise ValueError("y_true is empty")
    n_resamples = check_int("n_resamples", n_resamples, minimum=2)
    confidence = _confidence(confidence)
    rng = check_random_state(random_state)

    _, user_index = np.unique(users, return_inverse=True)
    n_users = int(user_index.max()) + 1
    sse_a = np.bincount(user_index, (y - a) ** 2, n_users)
    sse_b = np.bincount(user_index, (y - b) ** 2, n_users)
    counts = np.bincount(user_index, minlength=n_users).astype(float)

    def difference(weights):
        n = weights @ counts
        return np.sqrt(weights @ sse_a / n) - np.sqrt(weights @ sse_b / n)

    observed = float(difference(np.ones(n_users)))
    # resample in blocks: a (block, n_users) weight matrix at a time bounds the memory
    diffs = np.empty(n_resamples)
    block = max(1, 2_000_000 // n_users)
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        drawn = rng.integers(0, n_users, size=(size, n_users))
        # w_u per resample: count the draws of each row, offset so that rows do not mix
        flat = (drawn + n_users * np.arange(size)[:, None]).ravel()
        weights = np.bincount(flat, minlength=size * n_users).reshape(size, n_users).astype(float)
        diffs[start : start + size] = difference(weights)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(diffs, [tail, 1.0 - tail])
    p = 2.0 * min(np.mean(diffs <= 0.0), np.mean(diffs >= 0.0))
    p = float(min(1.0, max(p, 1.0 / n_resamples)))
    return BootstrapResult(
        observed, float(diffs.std(ddof=1)), float(low), float(high), p, confidence, diffs
    )
