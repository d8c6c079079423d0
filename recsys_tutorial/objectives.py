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

Implicit feedback (chapter 7) has two objectives of its own: weighted matrix
factorization over *all* :math:`m n` pairs (:func:`wmf_loss`, computed without
forming them) and the pairwise BPR criterion over sampled triples
(:func:`bpr_loss`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from .data import Ratings
from .utils import check_float, check_ratings

__all__ = [
    "regularization_weights",
    "predict_observed",
    "mf_loss",
    "mf_gradients",
    "pmf_log_posterior",
    "confidence",
    "wmf_loss",
    "wmf_gradients",
    "bpr_loss",
    "bpr_gradients",
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


#: pairs whose factor rows predict_observed gathers at a time (8 MB per side at d = 16)
_PAIR_CHUNK = 1 << 16


def predict_observed(U, V, ratings, *, mean=0.0, user_bias=None, item_bias=None) -> np.ndarray:
    """Predictions :math:`\\hat R_{ij}` at the observed pairs of ``ratings``, in their order."""
    U, V, ratings = _check_factors(U, V, ratings)
    user_bias, item_bias = _check_biases(user_bias, item_bias, ratings)
    pred = np.empty(len(ratings))
    # Gathering U_i and V_j for every pair at once would take 2 nnz d floats (10 GB for
    # 10 million ratings at d = 64, far above the O(nnz + (m + n) d) the trainers need), so
    # the pairs go in chunks; each dot is the same einsum loop over one row either way, so
    # the result does not depend on the chunk size (tested).
    for start in range(0, len(ratings), _PAIR_CHUNK):
        chunk = slice(start, start + _PAIR_CHUNK)
        # np.take gathers rows several times faster than fancy indexing U[users]
        np.einsum(
            "ij,ij->i",
            np.take(U, ratings.users[chunk], axis=0),
            np.take(V, ratings.items[chunk], axis=0),
            out=pred[chunk],
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


# ------------------------------------------------------------------ implicit feedback
_SCALINGS = ("linear", "log")


def confidence(values, alpha: float, *, scaling: str = "linear", eps: float = 1.0) -> np.ndarray:
    """Confidence :math:`c_{ij}` of each observed pair (Hu, Koren & Volinsky 2008).

    .. math::

        c_{ij} = 1 + \\alpha r_{ij} \\quad (\\text{"linear"}), \\qquad
        c_{ij} = 1 + \\alpha \\log(1 + r_{ij} / \\varepsilon) \\quad (\\text{"log"}).

    Unobserved pairs have confidence 1 (and preference 0).

    Parameters
    ----------
    values : array_like
        :math:`r_{ij} \\ge 0` of the observed pairs.
    alpha : float
        :math:`\\alpha \\ge 0`.
    scaling : {"linear", "log"}, default="linear"
    eps : float, default=1.0
        :math:`\\varepsilon > 0` of the log scaling.
    """
    alpha = check_float("alpha", alpha)
    eps = check_float("eps", eps, 0.0, strict=True)
    if scaling not in _SCALINGS:
        raise ValueError(f"scaling must be one of {_SCALINGS}; got {scaling!r}")
    values = np.asarray(values, dtype=np.float64)
    if values.size and values.min() < 0:
        raise ValueError(f"values must be >= 0 to give a confidence; got {values.min()}")
    return 1.0 + alpha * (values if scaling == "linear" else np.log1p(values / eps))


def _wmf_setup(U, V, ratings, alpha, reg, reg_item, scaling, eps, user_weights, item_weights):
    U, V, ratings = _check_factors(U, V, ratings)
    reg_u = check_float("reg", reg)
    reg_v = reg_u if reg_item is None else check_float("reg_item", reg_item)
    wu = _check_vector("user_weights", user_weights, ratings.n_users)
    wv = _check_vector("item_weights", item_weights, ratings.n_items)
    c = confidence(ratings.values, alpha, scaling=scaling, eps=eps)
    return U, V, ratings, reg_u, reg_v, wu, wv, c


def wmf_loss(
    U,
    V,
    ratings: Ratings,
    alpha: float,
    reg: float,
    *,
    reg_item=None,
    scaling: str = "linear",
    eps: float = 1.0,
    user_weights=None,
    item_weights=None,
) -> float:
    """Weighted matrix factorization over all pairs, without forming them.

    With preference :math:`p_{ij} = \\delta_{ij}` (1 on the observed pairs,
    0 elsewhere), confidence :math:`c_{ij}` from :func:`confidence` on
    :math:`\\Omega` and 1 elsewhere, and :math:`x_{ij} = U_i^\\top V_j`,

    .. math::

        L = \\sum_{i=1}^{m} \\sum_{j=1}^{n} c_{ij} (p_{ij} - x_{ij})^2
            + \\lambda_U \\sum_i w_i \\lVert U_i \\rVert^2
            + \\lambda_V \\sum_j w_j \\lVert V_j \\rVert^2 .

    The sum has :math:`m n` terms, but splitting every pair into "weight 1,
    preference 0" plus a correction on :math:`\\Omega` gives

    .. math::

        L = \\operatorname{tr}\\big((U^\\top U)(V^\\top V)\\big)
            + \\sum_{(i,j) \\in \\Omega}
              \\big[(c_{ij} - 1) x_{ij}^2 - 2 c_{ij} x_{ij} + c_{ij}\\big]
            + \\text{penalties},

    since :math:`\\sum_{i,j} x_{ij}^2 = \\lVert U V^\\top \\rVert_F^2
    = \\operatorname{tr}(U^\\top U\\, V^\\top V)`: :math:`O((m + n) d^2 + |\\Omega| d)`
    work instead of :math:`O(m n d)`.

    Parameters
    ----------
    U, V : ndarray, shapes (n_users, d) and (n_items, d)
    ratings : Ratings
        The observed pairs; their values :math:`r_{ij}` enter the confidence
        (pass values of 1 to treat every rating alike).
    alpha : float
        :math:`\\alpha` of the confidence.
    reg : float
        :math:`\\lambda_U`, and :math:`\\lambda_V` unless ``reg_item`` is given.
    reg_item : float, optional
        :math:`\\lambda_V`.
    scaling, eps :
        See :func:`confidence`.
    user_weights, item_weights : ndarray, optional
        Row weights :math:`w_i, w_j` (default 1); frequency-scaled
        regularization (Rendle et al. 2022) uses :func:`regularization_weights`.
    """
    U, V, ratings, reg_u, reg_v, wu, wv, c = _wmf_setup(
        U, V, ratings, alpha, reg, reg_item, scaling, eps, user_weights, item_weights
    )
    x = predict_observed(U, V, ratings)
    gram_term = float(np.einsum("kl,kl->", U.T @ U, V.T @ V))  # tr(A B) for symmetric A, B
    correction = float(np.einsum("k,k->", (c - 1.0) * x - 2.0 * c, x)) + float(c.sum())
    return gram_term + correction + _penalty(U, reg_u, wu) + _penalty(V, reg_v, wv)


def wmf_gradients(
    U,
    V,
    ratings: Ratings,
    alpha: float,
    reg: float,
    *,
    reg_item=None,
    scaling: str = "linear",
    eps: float = 1.0,
    user_weights=None,
    item_weights=None,
):
    """Gradients of :func:`wmf_loss` (same arguments), by the same Gram trick.

    .. math::

        \\frac{\\partial L}{\\partial U_i} = 2 \\Big( (V^\\top V) U_i
            + \\sum_{j \\in \\Omega_i} \\big[(c_{ij} - 1) x_{ij} - c_{ij}\\big] V_j
            + \\lambda_U w_i U_i \\Big),

    and symmetrically for :math:`V_j` with :math:`U^\\top U` and :math:`\\Omega^j`.

    Returns
    -------
    tuple of ndarray
        ``(dL/dU, dL/dV)``.
    """
    U, V, ratings, reg_u, reg_v, wu, wv, c = _wmf_setup(
        U, V, ratings, alpha, reg, reg_item, scaling, eps, user_weights, item_weights
    )
    users, items = ratings.users, ratings.items
    e = (c - 1.0) * predict_observed(U, V, ratings) - c
    grad_u = 2.0 * (
        U @ (V.T @ V)
        + _sum_rows(users, e[:, None] * V[items], ratings.n_users)
        + reg_u * wu[:, None] * U
    )
    grad_v = 2.0 * (
        V @ (U.T @ U)
        + _sum_rows(items, e[:, None] * U[users], ratings.n_items)
        + reg_v * wv[:, None] * V
    )
    return grad_u, grad_v


def _check_triples(U, V, item_bias, users, pos, neg):
    U = np.asarray(U, dtype=np.float64)
    V = np.asarray(V, dtype=np.float64)
    if U.ndim != 2 or V.ndim != 2 or U.shape[1] != V.shape[1]:
        raise ValueError(
            f"U and V must be 2-D with the same number of columns; got {U.shape} and {V.shape}"
        )
    if item_bias is not None:
        item_bias = _check_vector("item_bias", item_bias, V.shape[0])
    arrays = []
    m, n = U.shape[0], V.shape[0]
    for name, idx, size in (("users", users, m), ("pos", pos, n), ("neg", neg, n)):
        idx = np.asarray(idx)
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise ValueError(
                f"{name} must be a 1-D integer array; got dtype {idx.dtype}, shape {idx.shape}"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= size):
            raise ValueError(
                f"{name} must be indices in [0, {size}); got values in [{idx.min()}, {idx.max()}]"
            )
        arrays.append(idx.astype(np.int64, copy=False))
    if not arrays[0].size == arrays[1].size == arrays[2].size:
        lengths = [a.size for a in arrays]
        raise ValueError(f"users, pos and neg must have equal lengths; got {lengths}")
    return U, V, item_bias, *arrays


def _bpr_margin(U, V, item_bias, users, pos, neg):
    """x_uij = U_u . (V_i - V_j) (+ b_i - b_j), and the gathered rows it used."""
    Uu, Vi, Vj = U[users], V[pos], V[neg]
    x = np.einsum("kf,kf->k", Uu, Vi - Vj)
    if item_bias is not None:
        x += item_bias[pos] - item_bias[neg]
    return x, Uu, Vi, Vj


def _bpr_row_gradients(g, Uu, Vi, Vj, reg, reg_bias, item_bias, pos, neg, has_bias):
    """Per-triple gradient pieces of the BPR loss (dL/dx_uij = g), before summing rows."""
    du = g[:, None] * (Vi - Vj) + 2.0 * reg * Uu
    dvi = g[:, None] * Uu + 2.0 * reg * Vi
    dvj = -g[:, None] * Uu + 2.0 * reg * Vj
    if not has_bias:
        return du, dvi, dvj, None, None
    return du, dvi, dvj, g + 2.0 * reg_bias * item_bias[pos], -g + 2.0 * reg_bias * item_bias[neg]


def bpr_loss(U, V, item_bias, users, pos, neg, reg: float, *, reg_bias=None) -> float:
    """The BPR criterion of Rendle et al. (2009) over given triples, as a loss to minimize.

    For each triple :math:`(u, i, j)`, user :math:`u` is taken to prefer the
    observed item :math:`i` to the sampled item :math:`j`; with
    :math:`\\hat x_{ui} = U_u^\\top V_i + b_i` and
    :math:`\\hat x_{uij} = \\hat x_{ui} - \\hat x_{uj}`,

    .. math::

        L = -\\sum_{(u,i,j)} \\log \\sigma(\\hat x_{uij})
            + \\lambda \\sum_{(u,i,j)} \\big(\\lVert U_u \\rVert^2 + \\lVert V_i \\rVert^2
            + \\lVert V_j \\rVert^2\\big)
            + \\lambda_b \\sum_{(u,i,j)} (b_i^2 + b_j^2),

    :math:`\\sigma(x) = 1 / (1 + e^{-x})`.  The penalty is counted once per
    triple (a parameter in many triples is penalized more), which is what
    the SGD updates of LearnBPR apply: the gradient of a mini-batch's loss
    is exactly the summed per-triple update.

    Parameters
    ----------
    U, V : ndarray, shapes (n_users, d) and (n_items, d)
    item_bias : ndarray of shape (n_items,) or None
        :math:`b`; ``None`` for the model without biases.
    users, pos, neg : ndarray of int, same length
        The triples :math:`(u, i, j)`.
    reg : float
        :math:`\\lambda \\ge 0`.
    reg_bias : float, optional
        :math:`\\lambda_b` (default: ``reg``).
    """
    U, V, item_bias, users, pos, neg = _check_triples(U, V, item_bias, users, pos, neg)
    reg = check_float("reg", reg)
    reg_bias = reg if reg_bias is None else check_float("reg_bias", reg_bias)
    x, Uu, Vi, Vj = _bpr_margin(U, V, item_bias, users, pos, neg)
    # -log sigma(x) = log(1 + e^{-x}), evaluated without overflow
    loss = float(np.logaddexp(0.0, -x).sum())
    squares = sum(float(np.einsum("kf,kf->", X, X)) for X in (Uu, Vi, Vj))
    loss += reg * squares
    if item_bias is not None:
        loss += reg_bias * float(_sum_of_squares(item_bias[pos]) + _sum_of_squares(item_bias[neg]))
    return loss


def bpr_gradients(U, V, item_bias, users, pos, neg, reg: float, *, reg_bias=None):
    """Gradients of :func:`bpr_loss` (same arguments).

    With :math:`g = \\partial L / \\partial \\hat x_{uij} = -\\sigma(-\\hat x_{uij})`,
    each triple contributes

    .. math::

        \\frac{\\partial L}{\\partial U_u} \\mathrel{+}= g (V_i - V_j) + 2\\lambda U_u, \\quad
        \\frac{\\partial L}{\\partial V_i} \\mathrel{+}= g U_u + 2\\lambda V_i, \\quad
        \\frac{\\partial L}{\\partial V_j} \\mathrel{+}= -g U_u + 2\\lambda V_j,

    and :math:`\\partial L / \\partial b_i \\mathrel{+}= g + 2\\lambda_b b_i`,
    :math:`\\partial L / \\partial b_j \\mathrel{+}= -g + 2\\lambda_b b_j`.

    Returns
    -------
    tuple of ndarray
        ``(dL/dU, dL/dV, dL/db)``; without biases ``(dL/dU, dL/dV)``.
    """
    U, V, item_bias, users, pos, neg = _check_triples(U, V, item_bias, users, pos, neg)
    reg = check_float("reg", reg)
    reg_bias = reg if reg_bias is None else check_float("reg_bias", reg_bias)
    x, Uu, Vi, Vj = _bpr_margin(U, V, item_bias, users, pos, neg)
    g = -expit(-x)  # the logistic function, without overflow for large |x|
    du, dvi, dvj, dbi, dbj = _bpr_row_gradients(
        g, Uu, Vi, Vj, reg, reg_bias, item_bias, pos, neg, item_bias is not None
    )
    m, n = U.shape[0], V.shape[0]
    grad_u = _sum_rows(users, du, m)
    grad_v = _sum_rows(pos, dvi, n) + _sum_rows(neg, dvj, n)
    if item_bias is None:
        return grad_u, grad_v
    return grad_u, grad_v, _sum_rows(pos, dbi, n) + _sum_rows(neg, dbj, n)
