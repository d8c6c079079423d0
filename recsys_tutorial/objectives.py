"""The objectives of the book, in numpy: MF loss and gradients, PMF log-posterior.

Everything here is a direct transcription of a formula in the chapters and is
the single implementation the trainers call.  Sums run over the observed pairs
:math:`\\Omega` only, never over the whole matrix.

Matrix factorization (chapter 2) minimizes

.. math::

    L(U, V) = \\sum_{(i,j) \\in \\Omega} (R_{ij} - \\hat R_{ij})^2
        + \\lambda_U \\sum_i w_i \\lVert U_i \\rVert^2
        + \\lambda_V \\sum_j w_j \\lVert V_j \\rVert^2,

with :math:`\\hat R_{ij} = U_i^\\top V_j` (plus :math:`\\mu + b_i + c_j` when
biases are used, each bias regularized by ``reg_bias`` with the same row
weights).  The weights :math:`w_i` are 1 unless given: ALS-WR and Spark use
the rating counts, :math:`w_i = |\\Omega_i|`; see :func:`regularization_weights`.
"""

from __future__ import annotations

import numpy as np

from .data import Ratings
from .utils import check_float, check_ratings

__all__ = [
    "regularization_weights",
    "predict_observed",
    "mf_loss",
    "mf_gradients",
    "pmf_log_posterior",
]


def regularization_weights(counts: np.ndarray, exponent: float) -> np.ndarray:
    """Row weights :math:`w_i = |\\Omega_i|^{\\nu}` of the regularizer.

    ``exponent`` :math:`\\nu = 0` is the plain L2 penalty (every row weighs 1),
    :math:`\\nu = 1` scales each row's penalty by its number of ratings (ALS-WR,
    Zhou et al. 2008; Spark MLlib), and values in between interpolate
    (frequency-scaled regularization, Rendle et al. 2022).  Rows with no
    rating get weight 1: they have no data term, and their parameters are zero.
    """
    exponent = check_float("exponent", exponent, 0.0)
    return np.maximum(np.asarray(counts, dtype=np.float64), 1.0) ** exponent


def _check_factors(U, V, ratings):
    ratings = check_ratings("ratings", ratings)
    U = np.asarray(U, dtype=np.float64)
    V = np.asarray(V, dtype=np.float64)
    if U.ndim != 2 or V.ndim != 2:
        raise ValueError(f"U and V must be 2-D; got shapes {U.shape} and {V.shape}")
    if U.shape[1] != V.shape[1]:
        raise ValueError(
            f"U and V must have the same number of columns; got {U.shape} and {V.shape}"
        )
    if U.shape[0] != ratings.n_users or V.shape[0] != ratings.n_items:
        raise ValueError(
            f"U must have n_users={ratings.n_users} rows and V n_items={ratings.n_items}; "
            f"got {U.shape[0]} and {V.shape[0]}"
        )
    return U, V, ratings


def _check_vector(name, value, size):
    if value is None:
        return np.ones(size)
    value = np.asarray(value, dtype=np.float64)
    if value.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},); got {value.shape}")
    return value


def _check_biases(user_bias, item_bias, ratings):
    if (user_bias is None) != (item_bias is None):
        raise ValueError("give both user_bias and item_bias, or neither")
    if user_bias is None:
        return None, None
    return (
        _check_vector("user_bias", user_bias, ratings.n_users),
        _check_vector("item_bias", item_bias, ratings.n_items),
    )


def predict_observed(U, V, ratings, *, mean=0.0, user_bias=None, item_bias=None) -> np.ndarray:
    """Predictions :math:`\\hat R_{ij}` at the observed pairs of ``ratings``, in their order."""
    U, V, ratings = _check_factors(U, V, ratings)
    user_bias, item_bias = _check_biases(user_bias, item_bias, ratings)
    # np.take gathers rows several times faster than fancy indexing U[users]
    pred = np.einsum(
        "ij,ij->i", np.take(U, ratings.users, axis=0), np.take(V, ratings.items, axis=0)
    )
    pred += mean
    if user_bias is not None:
        pred += user_bias[ratings.users] + item_bias[ratings.items]
    return pred


def _sum_of_squares(x) -> float:
    """sum(x**2); einsum rather than x @ x, which hands long vectors to a multithreaded
    BLAS whose thread start-up costs more than the sum itself (and far more on a busy machine)."""
    return float(np.einsum("k,k->", x, x))


def _penalty(X, reg, weights):
    return reg * float(np.einsum("i,ij,ij->", weights, X, X))


def mf_loss(
    U,
    V,
    ratings: Ratings,
    reg_u: float,
    reg_v: float,
    *,
    mean: float = 0.0,
    user_bias=None,
    item_bias=None,
    reg_bias: float = 0.0,
    user_weights=None,
    item_weights=None,
) -> float:
    """The regularized squared error over the observed pairs.

    .. math::

        L = \\sum_{(i,j) \\in \\Omega} (R_{ij} - \\hat R_{ij})^2
            + \\lambda_U \\sum_i w_i \\lVert U_i \\rVert^2
            + \\lambda_V \\sum_j w_j \\lVert V_j \\rVert^2
            \\;[+\\, \\lambda_b (\\textstyle\\sum_i w_i b_i^2 + \\sum_j w_j c_j^2)]

    Parameters
    ----------
    U, V : ndarray, shapes (n_users, d) and (n_items, d)
    ratings : Ratings
    reg_u, reg_v : float
        :math:`\\lambda_U, \\lambda_V \\ge 0`.
    mean, user_bias, item_bias : optional
        :math:`\\mu`, :math:`b` (n_users,) and :math:`c` (n_items,) of the biased
        model :math:`\\hat R_{ij} = \\mu + b_i + c_j + U_i^\\top V_j`; without
        them :math:`\\hat R_{ij} = U_i^\\top V_j + \\mu` (``mean`` defaults to 0).
    reg_bias : float
        :math:`\\lambda_b`, used only with biases.
    user_weights, item_weights : ndarray, optional
        Row weights :math:`w_i, w_j` (default 1), see :func:`regularization_weights`.
    """
    U, V, ratings = _check_factors(U, V, ratings)
    reg_u, reg_v = check_float("reg_u", reg_u), check_float("reg_v", reg_v)
    user_bias, item_bias = _check_biases(user_bias, item_bias, ratings)
    wu = _check_vector("user_weights", user_weights, ratings.n_users)
    wv = _check_vector("item_weights", item_weights, ratings.n_items)
    err = ratings.values - predict_observed(
        U, V, ratings, mean=mean, user_bias=user_bias, item_bias=item_bias
    )
    loss = _sum_of_squares(err) + _penalty(U, reg_u, wu) + _penalty(V, reg_v, wv)
    if user_bias is not None:
        reg_bias = check_float("reg_bias", reg_bias)
        loss += reg_bias * float(
            np.einsum("i,i,i->", wu, user_bias, user_bias)
            + np.einsum("j,j,j->", wv, item_bias, item_bias)
        )
    return loss


def _sum_rows(index, values, n_rows):
    """Row sums :math:`\\sum_{k : index_k = r} values_k` for every row ``r`` (values 1-D or 2-D)."""
    if values.ndim == 1:
        return np.bincount(index, weights=values, minlength=n_rows)
    d = values.shape[1]
    flat = (index[:, None] * d + np.arange(d)).ravel()
    return np.bincount(flat, weights=values.ravel(), minlength=n_rows * d).reshape(n_rows, d)


def mf_gradients(
    U,
    V,
    ratings: Ratings,
    reg_u: float,
    reg_v: float,
    *,
    mean: float = 0.0,
    user_bias=None,
    item_bias=None,
    reg_bias: float = 0.0,
    user_weights=None,
    item_weights=None,
):
    """Gradients of :func:`mf_loss` (same arguments).

    .. math::

        \\frac{\\partial L}{\\partial U_i}
        = -2 \\sum_{j \\in \\Omega_i} e_{ij} V_j + 2 \\lambda_U w_i U_i,
        \\qquad
        \\frac{\\partial L}{\\partial V_j}
        = -2 \\sum_{i \\in \\Omega^j} e_{ij} U_i + 2 \\lambda_V w_j V_j,

    with :math:`e_{ij} = R_{ij} - \\hat R_{ij}`; with biases also
    :math:`\\partial L / \\partial b_i = -2 \\sum_{j \\in \\Omega_i} e_{ij} + 2 \\lambda_b w_i b_i`
    and its item twin.

    Returns
    -------
    tuple of ndarray
        ``(dL/dU, dL/dV)``, shaped like ``U`` and ``V``; with biases
        ``(dL/dU, dL/dV, dL/db, dL/dc)``.
    """
    U, V, ratings = _check_factors(U, V, ratings)
    reg_u, reg_v = check_float("reg_u", reg_u), check_float("reg_v", reg_v)
    user_bias, item_bias = _check_biases(user_bias, item_bias, ratings)
    wu = _check_vector("user_weights", user_weights, ratings.n_users)
    wv = _check_vector("item_weights", item_weights, ratings.n_items)
    users, items = ratings.users, ratings.items
    err = ratings.values - predict_observed(
        U, V, ratings, mean=mean, user_bias=user_bias, item_bias=item_bias
    )
    grad_u = -2.0 * _sum_rows(users, err[:, None] * V[items], ratings.n_users)
    grad_u += 2.0 * reg_u * wu[:, None] * U
    grad_v = -2.0 * _sum_rows(items, err[:, None] * U[users], ratings.n_items)
    grad_v += 2.0 * reg_v * wv[:, None] * V
    if user_bias is None:
        return grad_u, grad_v
    reg_bias = check_float("reg_bias", reg_bias)
    grad_b = -2.0 * _sum_rows(users, err, ratings.n_users) + 2.0 * reg_bias * wu * user_bias
    grad_c = -2.0 * _sum_rows(items, err, ratings.n_items) + 2.0 * reg_bias * wv * item_bias
    return grad_u, grad_v, grad_b, grad_c


def pmf_log_posterior(
    U, V, ratings: Ratings, sigma: float, sigma_u: float, sigma_v: float
) -> float:
    """Log-posterior of PMF up to the evidence, with every other constant kept.

    .. math::

        \\log p(R, U, V) =
            \\sum_{(i,j) \\in \\Omega} \\log \\mathcal N(R_{ij} \\mid U_i^\\top V_j, \\sigma^2)
            + \\sum_i \\log \\mathcal N(U_i \\mid 0, \\sigma_U^2 I)
            + \\sum_j \\log \\mathcal N(V_j \\mid 0, \\sigma_V^2 I)

    which equals :math:`\\log p(U, V \\mid R) + \\log p(R)`: the posterior is
    *proportional* to likelihood times priors, and the evidence
    :math:`\\log p(R)` does not depend on :math:`U, V`.  Written out,

    .. math::

        -\\frac{1}{2\\sigma^2} \\sum_{\\Omega} (R_{ij} - U_i^\\top V_j)^2
        - \\frac{1}{2\\sigma_U^2} \\sum_i \\lVert U_i \\rVert^2
        - \\frac{1}{2\\sigma_V^2} \\sum_j \\lVert V_j \\rVert^2
        - \\frac{|\\Omega|}{2} \\log 2\\pi\\sigma^2
        - \\frac{md}{2} \\log 2\\pi\\sigma_U^2
        - \\frac{nd}{2} \\log 2\\pi\\sigma_V^2 .

    Parameters
    ----------
    U, V : ndarray, shapes (n_users, d) and (n_items, d)
    ratings : Ratings
    sigma, sigma_u, sigma_v : float
        Standard deviations (not variances) of the noise and of the priors.
    """
    U, V, ratings = _check_factors(U, V, ratings)
    sigma = check_float("sigma", sigma, 0.0, strict=True)
    sigma_u = check_float("sigma_u", sigma_u, 0.0, strict=True)
    sigma_v = check_float("sigma_v", sigma_v, 0.0, strict=True)
    err = ratings.values - predict_observed(U, V, ratings)
    log_lik = -0.5 * _sum_of_squares(err) / sigma**2 - 0.5 * len(ratings) * np.log(
        2 * np.pi * sigma**2
    )
    log_prior_u = -0.5 * float(np.sum(U * U)) / sigma_u**2 - 0.5 * U.size * np.log(
        2 * np.pi * sigma_u**2
    )
    log_prior_v = -0.5 * float(np.sum(V * V)) / sigma_v**2 - 0.5 * V.size * np.log(
        2 * np.pi * sigma_v**2
    )
    return log_lik + log_prior_u + log_prior_v
