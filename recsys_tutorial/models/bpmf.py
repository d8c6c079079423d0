"""Bayesian probabilistic matrix factorization (Salakhutdinov & Mnih, ICML 2008): a Gibbs sampler.

The model of chapter 5.  With :math:`\\mu` the training mean and
:math:`\\tilde R_{ij} = R_{ij} - \\mu` the centred ratings,

.. math::

    \\tilde R_{ij} \\mid U, V &\\sim \\mathcal N(U_i^\\top V_j,\\ \\alpha^{-1})
        \\quad\\text{for } (i, j) \\in \\Omega, \\\\
    U_i \\mid \\mu_U, \\Lambda_U &\\sim \\mathcal N(\\mu_U,\\ \\Lambda_U^{-1}), \\qquad
    V_j \\mid \\mu_V, \\Lambda_V \\sim \\mathcal N(\\mu_V,\\ \\Lambda_V^{-1}), \\\\
    (\\mu_U, \\Lambda_U) &\\sim \\mathcal{NW}(\\mu_0, \\beta_0, W_0, \\nu_0), \\qquad
    (\\mu_V, \\Lambda_V) \\sim \\mathcal{NW}(\\mu_0, \\beta_0, W_0, \\nu_0).

**Wishart parametrization.**  :math:`\\Lambda \\sim \\mathcal W(W, \\nu)` has density
:math:`\\propto |\\Lambda|^{(\\nu - d - 1)/2} \\exp(-\\tfrac12 \\operatorname{tr}(W^{-1}\\Lambda))`
on :math:`d \\times d` positive-definite matrices, mean :math:`\\nu W`, and needs
:math:`\\nu > d - 1`: :math:`W` is the *scale* matrix (not its inverse) and
:math:`\\nu` the degrees of freedom, as in ``scipy.stats.wishart(df=nu, scale=W)``
and Bishop's PRML (2.155).  The Normal-Wishart prior is
:math:`p(\\mu, \\Lambda) = \\mathcal N(\\mu \\mid \\mu_0, (\\beta_0\\Lambda)^{-1})\\,
\\mathcal W(\\Lambda \\mid W_0, \\nu_0)`.

**Hyperparameter conditional.**  Given the :math:`N` rows :math:`x_1, \\dots, x_N`
of :math:`U` (or :math:`V`), with :math:`\\bar x = \\frac1N \\sum_k x_k` and
:math:`\\bar S = \\frac1N \\sum_k (x_k - \\bar x)(x_k - \\bar x)^\\top`, the
posterior is Normal-Wishart again, :math:`\\mathcal{NW}(\\mu_0^*, \\beta_0^*, W_0^*, \\nu_0^*)`:

.. math::

    \\beta_0^* = \\beta_0 + N, \\qquad \\nu_0^* = \\nu_0 + N, \\qquad
    \\mu_0^* = \\frac{\\beta_0 \\mu_0 + N \\bar x}{\\beta_0 + N}, \\\\
    (W_0^*)^{-1} = W_0^{-1} + N \\bar S + \\frac{\\beta_0 N}{\\beta_0 + N}
        (\\mu_0 - \\bar x)(\\mu_0 - \\bar x)^\\top

(:func:`normal_wishart_posterior`); one draws :math:`\\Lambda_U \\sim \\mathcal W(W_0^*, \\nu_0^*)`
(:func:`sample_wishart`, Bartlett decomposition), then
:math:`\\mu_U \\sim \\mathcal N(\\mu_0^*, (\\beta_0^* \\Lambda_U)^{-1})`
(both in :func:`sample_normal_wishart`).

**Row conditional.**  Given :math:`V` and :math:`(\\mu_U, \\Lambda_U)` the users are
independent, and

.. math::

    U_i \\mid \\text{rest} \\sim \\mathcal N\\big(\\mu_i^*, [\\Lambda_i^*]^{-1}\\big), \\qquad
    \\Lambda_i^* = \\Lambda_U + \\alpha \\sum_{j \\in \\Omega_i} V_j V_j^\\top, \\qquad
    \\mu_i^* = [\\Lambda_i^*]^{-1}
    \\Big(\\alpha \\sum_{j \\in \\Omega_i} \\tilde R_{ij} V_j + \\Lambda_U \\mu_U\\Big)

(:func:`row_conditionals`); the items likewise with the roles swapped.  All
rows are drawn at once: the Gram matrices come from
:meth:`~recsys_tutorial.linalg.RowGroups.gram` and the draws from one batched
Cholesky factorization and solve (:func:`~recsys_tutorial.linalg.sample_gaussian`).

One Gibbs sweep: :math:`(\\mu_U, \\Lambda_U) \\mid U`,
:math:`U \\mid V, \\mu_U, \\Lambda_U, \\alpha`, :math:`(\\mu_V, \\Lambda_V) \\mid V`,
:math:`V \\mid U, \\mu_V, \\Lambda_V, \\alpha`, and, when it is sampled,
:math:`\\alpha \\mid U, V`.

**Biases** (``biased=True``).  The model gains a user bias :math:`b_i` and an item
bias :math:`c_j` with hierarchical priors of their own (:math:`\\mu` stays fixed at
the training mean; :math:`\\mu_b` and :math:`\\mu_c` absorb any remaining offset):

.. math::

    R_{ij} \\mid U, V, b, c &\\sim \\mathcal N(\\mu + b_i + c_j + U_i^\\top V_j,\\ \\alpha^{-1}),
        \\\\
    b_i \\mid \\mu_b, \\lambda_b &\\sim \\mathcal N(\\mu_b, \\lambda_b^{-1}), \\qquad
    c_j \\mid \\mu_c, \\lambda_c \\sim \\mathcal N(\\mu_c, \\lambda_c^{-1}), \\\\
    (\\mu_b, \\lambda_b) &\\sim \\mathcal{NW}(0, \\beta_0, w_0, 1), \\qquad
    (\\mu_c, \\lambda_c) \\sim \\mathcal{NW}(0, \\beta_0, w_0, 1).

A one-dimensional Normal-Wishart is the Normal-Gamma prior:
:math:`\\mathcal W(w, \\nu)` on a scalar is :math:`\\text{Gamma}(\\nu/2, \\text{rate } 1/(2w))`,
so :math:`\\lambda_b \\sim \\text{Gamma}(1/2, 1/(2 w_0))` (mean :math:`w_0`, weak) and
:math:`\\mu_b \\mid \\lambda_b \\sim \\mathcal N(0, (\\beta_0\\lambda_b)^{-1})`.  Its
conditional given the biases of the rows with ratings is therefore the formula above with
:math:`d = 1` (:data:`BIAS_NU0`; the same :func:`normal_wishart_posterior`), that is
:math:`\\text{Gamma}(\\tfrac12 + \\tfrac N2,\\ \\tfrac1{2w_0} + \\tfrac12 N \\bar S +
\\tfrac{\\beta_0 N}{2(\\beta_0 + N)} \\bar b^2)` for :math:`\\lambda_b`.

*Joint row conditional.*  Write :math:`x_i = (U_i, b_i) \\in \\mathbb R^{d+1}` and
:math:`f_j = (V_j, 1)`: then :math:`\\mu + b_i + c_j + U_i^\\top V_j = \\mu + c_j + x_i^\\top f_j`,
and the prior of :math:`x_i` is Gaussian with mean :math:`(\\mu_U, \\mu_b)` and the
block-diagonal precision :math:`\\operatorname{diag}(\\Lambda_U, \\lambda_b)` (independent
priors).  Collecting the terms of the log-joint that contain :math:`x_i`,

.. math::

    -\\tfrac\\alpha2 \\sum_{j \\in \\Omega_i} (R_{ij} - \\mu - c_j - x_i^\\top f_j)^2
    - \\tfrac12 (x_i - m)^\\top P (x_i - m),

a quadratic in :math:`x_i`, shows that :math:`x_i \\mid \\text{rest}` is Gaussian with

.. math::

    \\Lambda_i^* = P + \\alpha \\sum_{j \\in \\Omega_i} f_j f_j^\\top, \\qquad
    \\Lambda_i^* \\mu_i^* = \\alpha \\sum_{j \\in \\Omega_i} (R_{ij} - \\mu - c_j) f_j + P m:

the row conditional above with :math:`V` widened by a column of ones, the prior by the
bias's, and the residuals :math:`R_{ij} - \\mu - c_j` (:func:`bias_augmented`, then
:func:`row_conditionals`).  The user's factors and bias are drawn *jointly*, which
mixes better than alternating them (they are correlated a posteriori whenever the
:math:`V_j` of a user's items have a nonzero mean).  The items likewise, with
:math:`(V_j, c_j)`, :math:`(U_i, 1)` and :math:`R_{ij} - \\mu - b_i`.  The noise precision's
conditional is the one above with the residuals :math:`R_{ij} - \\mu - b_i - c_j - U_i^\\top V_j`.

The biased sweep: :math:`(\\mu_U, \\Lambda_U) \\mid U`, :math:`(\\mu_b, \\lambda_b) \\mid b`,
:math:`(U, b) \\mid V, c, \\ldots`, :math:`(\\mu_V, \\Lambda_V) \\mid V`,
:math:`(\\mu_c, \\lambda_c) \\mid c`, :math:`(V, c) \\mid U, b, \\ldots`, then :math:`\\alpha`.
"""

from __future__ import annotations

import time
import warnings
from typing import ClassVar

import numpy as np

from ..data import Ratings
from ..diagnostics import rhat
from ..linalg import RowGroups, sample_gaussian
from ..metrics import rmse
from ..utils import check_indices, check_random_state, check_ratings
from ..validation import BOOLEAN, NONE, RANDOM_STATE, Interval, Options
from .base import ConvergenceWarning, FactorModel, row_dots
from .mf import SOLVER_DEFAULTS, MatrixFactorization

__all__ = [
    "BayesianPMF",
    "BURN_IN_RHAT_LIMIT",
    "normal_wishart_posterior",
    "sample_wishart",
    "sample_normal_wishart",
    "row_conditionals",
    "bias_augmented",
    "sample_row_prior",
    "BIAS_NU0",
]

_INITS = ("map", "random")

#: ``fit`` warns when the rank-normalized split R-hat of the training RMSE over the kept
#: sweeps exceeds this (a stationary chain gives about 1; Vehtari et al. 2021 advise 1.01 for
#: final results on several chains, which one chain's few hundred sweeps cannot resolve).
BURN_IN_RHAT_LIMIT = 1.1
#: Kept sweeps needed before that diagnostic is computed (each half-chain needs a few draws).
_MIN_KEPT_FOR_RHAT = 8

#: Gamma(shape, rate) prior of the noise precision when ``alpha="sample"``: weak
#: (mean 1, variance 1); with thousands of ratings the data dominate it.
ALPHA_PRIOR = (1.0, 1.0)

#: The noise precision of the first sweep when ``alpha="sample"`` (the paper's
#: fixed value).  Drawing it from the residuals of the starting point instead
#: would, for a random start near zero, give :math:`\\alpha \\approx 1/\\operatorname{Var}(R)`:
#: a likelihood so weak that the chain lingers near the origin for many sweeps.
ALPHA_START = 2.0

#: The MAP starting point of ``init="map"``: ``MatrixFactorization(solver="als",
#: biased=False, center=True)`` with these settings (the penalties of the ALS
#: defaults of chapter 3).  On MovieLens 100K the final RMSE hardly depends on
#: them (within 0.002 for reg in 0.5-1.5).
MAP_INIT = {
    "reg": SOLVER_DEFAULTS["als"]["reg"],
    "reg_exponent": 0.5,
    "n_epochs": 10,
}


#: Degrees of freedom of the biases' hyperprior :math:`\\mathcal{NW}(0, \\beta_0, w_0, \\nu)`
#: with ``biased=True``: the least a one-dimensional Wishart allows up to 0 and an integer,
#: i.e. the precision :math:`\\lambda_b \\sim \\text{Gamma}(1/2, \\text{rate } 1/(2 w_0))`,
#: as weak as the factors' :math:`\\nu_0 = d`.  With hundreds of users and items the
#: biases' own spread decides :math:`\\lambda_b`.
BIAS_NU0 = 1.0


# ----------------------------------------------------------------- the pieces
def normal_wishart_posterior(
    X: np.ndarray, mu0: np.ndarray, beta0: float, nu0: float, W0: np.ndarray
) -> tuple[np.ndarray, float, float, np.ndarray]:
    """Parameters :math:`(\\mu_0^*, \\beta_0^*, W_0^*, \\nu_0^*)` of the Normal-Wishart posterior.

    The posterior given the rows of ``X`` as observations.

    Parameters
    ----------
    X : ndarray, shape (N, d)
        The rows :math:`x_k` (the current user or item factors), ``N >= 1``.
    mu0, beta0, nu0, W0
        The prior :math:`\\mathcal{NW}(\\mu_0, \\beta_0, W_0, \\nu_0)`; ``W0`` is the
        Wishart scale matrix (see the module docstring).

    Returns
    -------
    mu_star : ndarray (d,)
    beta_star, nu_star : float
    W_star : ndarray (d, d)
        The scale matrix :math:`W_0^*` (the inverse of the matrix in the formula).
    """
    N = X.shape[0]
    x_bar = X.mean(axis=0)
    deviations = X - x_bar
    scatter = deviations.T @ deviations  # N * S_bar
    diff = mu0 - x_bar
    W_star_inv = np.linalg.inv(W0) + scatter + (beta0 * N / (beta0 + N)) * np.outer(diff, diff)
    W_star = np.linalg.inv(W_star_inv)
    W_star = 0.5 * (W_star + W_star.T)  # symmetric to the last bit, for the Cholesky factorization
    mu_star = (beta0 * mu0 + N * x_bar) / (beta0 + N)
    return mu_star, beta0 + N, nu0 + N, W_star


def sample_wishart(W: np.ndarray, nu: float, rng: np.random.Generator) -> np.ndarray:
    """Draw :math:`\\Lambda \\sim \\mathcal W(W, \\nu)` by the Bartlett decomposition.

    ``W`` is the scale matrix; the mean is :math:`\\nu W`.

    With :math:`W = L L^\\top` and the lower-triangular :math:`A` whose diagonal
    entries are :math:`A_{kk} = \\sqrt{c_k}`, :math:`c_k \\sim \\chi^2_{\\nu - k}`
    (:math:`k = 0, \\dots, d - 1`), and whose entries below the diagonal are
    independent standard normals, :math:`\\Lambda = L A A^\\top L^\\top`.
    Requires :math:`\\nu > d - 1`.
    """
    d = W.shape[0]
    L = np.linalg.cholesky(W)
    A = np.zeros((d, d))
    A[np.diag_indices(d)] = np.sqrt(rng.chisquare(nu - np.arange(d)))
    below = np.tril_indices(d, -1)
    A[below] = rng.standard_normal(below[0].size)
    LA = L @ A
    return LA @ LA.T


def sample_normal_wishart(
    loc: np.ndarray, beta: float, W: np.ndarray, nu: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw :math:`(\\mu, \\Lambda) \\sim \\mathcal{NW}(m, \\beta, W, \\nu)` (``loc`` is :math:`m`).

    First :math:`\\Lambda \\sim \\mathcal W(W, \\nu)` (:func:`sample_wishart`), then
    :math:`\\mu \\sim \\mathcal N(m, (\\beta\\Lambda)^{-1})`.  Marginally :math:`\\mu`
    has mean :math:`m` and covariance
    :math:`E[(\\beta\\Lambda)^{-1}] = W^{-1} / (\\beta(\\nu - d - 1))` (for :math:`\\nu > d + 1`).

    Returns
    -------
    mean : ndarray (d,)
    precision : ndarray (d, d)
    """
    precision = sample_wishart(W, nu, rng)
    mean = sample_gaussian((beta * precision)[None], (beta * precision @ loc)[None], rng)[0]
    return mean, precision


def row_conditionals(
    groups: RowGroups,
    F: np.ndarray,
    residuals: np.ndarray,
    alpha: float,
    prior_mean: np.ndarray,
    prior_precision: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Canonical parameters of every row's Gaussian conditional, all rows at once.

    For row :math:`i` of ``groups`` (a user, with ``F`` the item factors; or an
    item, with ``F`` the user factors):

    .. math::

        \\Lambda_i^* = \\Lambda + \\alpha \\sum_{j \\in \\Omega_i} F_j F_j^\\top, \\qquad
        b_i = \\alpha \\sum_{j \\in \\Omega_i} \\tilde R_{ij} F_j + \\Lambda \\mu,

    so that the conditional is :math:`\\mathcal N([\\Lambda_i^*]^{-1} b_i, [\\Lambda_i^*]^{-1})`.

    Parameters
    ----------
    groups : RowGroups
    F : ndarray (n_cols, d)
    residuals : ndarray (nnz,)
        :math:`\\tilde R_{ij}` in the order of the arrays ``groups`` was built from.
    alpha : float
    prior_mean, prior_precision : ndarray (d,), (d, d)
        :math:`\\mu` and :math:`\\Lambda` of the rows' Gaussian prior.

    Returns
    -------
    precision : ndarray (n_rows, d, d)
    linear : ndarray (n_rows, d)
    """
    precision = alpha * groups.gram(F) + prior_precision
    linear = alpha * groups.weighted_sum(residuals, F) + prior_precision @ prior_mean
    return precision, linear


def bias_augmented(
    F: np.ndarray,
    prior_mean: np.ndarray,
    prior_precision: np.ndarray,
    bias_mean: float,
    bias_precision: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pieces of the joint conditional of a row's factors and bias, :math:`(X_i, b_i)`.

    With :math:`f_j = (F_j, 1)` the rating's mean is :math:`\\mu + c_j + (X_i, b_i)^\\top
    f_j`, and the independent priors :math:`X_i \\sim \\mathcal N(\\mu_X, \\Lambda_X^{-1})`,
    :math:`b_i \\sim \\mathcal N(\\mu_b, \\lambda_b^{-1})` make one Gaussian prior with mean
    :math:`(\\mu_X, \\mu_b)` and precision :math:`\\operatorname{diag}(\\Lambda_X, \\lambda_b)`.
    Passed to :func:`row_conditionals` with the residuals :math:`R_{ij} - \\mu - c_j`, they
    give the joint conditional of the module docstring.

    Returns
    -------
    F_augmented : ndarray (n_cols, d + 1)
        ``F`` with a column of ones.
    mean : ndarray (d + 1,)
    precision : ndarray (d + 1, d + 1)
    """
    d = F.shape[1]
    precision = np.zeros((d + 1, d + 1))
    precision[:d, :d] = prior_precision
    precision[d, d] = bias_precision
    F_augmented = np.hstack([F, np.ones((F.shape[0], 1))])
    return F_augmented, np.append(prior_mean, bias_mean), precision


def sample_row_prior(
    X: np.ndarray,
    F: np.ndarray,
    settings: dict,
    rng: np.random.Generator,
    bias: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw one side's hyperparameters given its rows: the rows' prior for the next draw.

    :math:`(\\mu_X, \\Lambda_X) \\mid X` from the Normal-Wishart posterior
    (:func:`normal_wishart_posterior`, :func:`sample_normal_wishart`) with the prior
    :math:`\\mathcal{NW}(\\mu_0 \\mathbf 1, \\beta_0, w_0 I, \\nu_0)` of ``settings``; with
    ``bias``, then :math:`(\\mu_b, \\lambda_b) \\mid b` from its one-dimensional case
    (:data:`BIAS_NU0`), and the joint prior of :math:`(X_i, b_i)` with ``F`` widened by a
    column of ones (:func:`bias_augmented`).  The draws come from ``rng`` in that order.
    The Gibbs sweep calls it for each side, :meth:`BayesianPMF.fold_in` for each kept sample.

    Parameters
    ----------
    X : ndarray (N, d)
        The current rows with ratings (users or items).
    F : ndarray (n_cols, d)
        The other side's factors, passed through (widened when ``bias`` is given).
    settings : dict
        ``mu0``, ``beta0``, ``nu0`` and ``w0`` (``BayesianPMF.settings_``).
    rng : numpy Generator
    bias : ndarray (N,), optional
        The current biases of the same rows; ``None`` for a model without biases.

    Returns
    -------
    F : ndarray (n_cols, d) or (n_cols, d + 1)
    prior_mean : ndarray (d,) or (d + 1,)
    prior_precision : ndarray (d, d) or (d + 1, d + 1)
        The arguments ``F``, ``prior_mean`` and ``prior_precision`` of :func:`row_conditionals`.
    """
    d = X.shape[1]
    mu0, W0 = np.full(d, settings["mu0"]), settings["w0"] * np.eye(d)
    posterior = normal_wishart_posterior(X, mu0, settings["beta0"], settings["nu0"], W0)
    mu_star, beta_star, nu_star, W_star = posterior
    mu, Lam = sample_normal_wishart(mu_star, beta_star, W_star, nu_star, rng)
    if bias is None:
        return F, mu, Lam
    # the one-dimensional case of the same Normal-Wishart update: Normal-Gamma
    posterior = normal_wishart_posterior(
        bias[:, None], np.zeros(1), settings["beta0"], BIAS_NU0, settings["w0"] * np.eye(1)
    )
    m_star, b_star, n_star, w_star = posterior
    mu_b, lam_b = sample_normal_wishart(m_star, b_star, w_star, n_star, rng)
    return bias_augmented(F, mu, Lam, mu_b[0], lam_b[0, 0])


def _pair_dots(U: np.ndarray, V: np.ndarray, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    return np.einsum("kf,kf->k", U[users], V[items])


# ---------------------------------------------------------------------- model
class BayesianPMF(FactorModel):
    """Bayesian PMF: posterior predictive means from a Gibbs sampler.

    Parameters
    ----------
    n_factors : int, default=10
        :math:`d`.
    n_samples : int, default=350
        Number of Gibbs sweeps in total, burn-in included.
    burn_in : int, default=200
        The first ``burn_in`` sweeps are discarded; predictions average the
        remaining ``n_samples - burn_in`` samples (so ``n_samples > burn_in``).
        Both defaults come from training-data diagnostics on MovieLens 100K
        (``benchmarks/tune.py --models bpmf``: 4 chains of 400 sweeps on the
        book's 80 % training part, no held-out rating used): 200 is the first
        burn-in (in steps of 50) after which the rank-normalized split R-hat
        over the chains of the training log-likelihood, of :math:`\\alpha` and
        of the 99th percentile of 2000 pair predictions is below 1.05, and after which
        each chain alone passes the drift check of ``burn_in_rhat_``; the 150
        kept sweeps give one chain a bulk effective sample size of about 100
        for the median prediction (the script's target: a Monte Carlo error of
        a tenth of the posterior standard deviation).  Other data need their
        own diagnostics: watch ``history_`` and ``burn_in_rhat_``, or run
        several chains and :mod:`recsys_tutorial.diagnostics`.
    random_state : None, int or numpy Generator, default=None
        Seeds the initialization and every draw: an int makes fits identical bit for bit.
    alpha : float or "sample", default="sample"
        Precision of the rating noise, :math:`\\alpha = 1 / \\sigma^2`.  A float
        fixes it; the paper uses ``alpha=2`` (:math:`\\sigma \\approx 0.71` stars).
        ``"sample"`` (the default) learns it: :math:`\\alpha` gets the prior
        :math:`\\text{Gamma}(a_0, b_0)` (shape, rate; :data:`ALPHA_PRIOR`, weak) and
        is drawn at the end of every sweep (the first sweep uses
        :data:`ALPHA_START`) from its conditional
        :math:`\\text{Gamma}(a_0 + |\\Omega|/2,\\ b_0
        + \\tfrac12 \\sum_\\Omega (\\tilde R_{ij} - U_i^\\top V_j)^2)`.
        On MovieLens 100K it settles near 1.6 (:math:`\\sigma \\approx 0.79`): the
        paper's fixed :math:`\\alpha = 2` trusts every rating more than the data do.
    beta0 : float, default=2.0
        :math:`\\beta_0 \\in [10^{-8}, 10^8]` of the Normal-Wishart hyperprior (paper: 2).
    nu0 : float or None, default=None
        :math:`\\nu_0 > d - 1` (``None``: :math:`d`, as in the paper).
    w0 : float, default=1.0
        :math:`W_0 = w_0 I` (paper: :math:`I`), :math:`w_0 \\in [10^{-8}, 10^8]`.
    mu0 : float, default=0.0
        :math:`\\mu_0 = \\mu_0 \\mathbf 1` (paper: 0).
    init : {"random", "map"}, default="random"
        Starting point.  ``"random"`` (the default): independent
        :math:`\\mathcal N(0, 0.1^2)` entries for the rows with ratings.  ``"map"``:
        the factors of ``MatrixFactorization(solver="als", biased=False, center=True)``
        fitted to the ratings with the settings of :data:`MAP_INIT`, as in the
        paper.  The burn-in default was derived for the random start; the chain
        starting at the MAP point moves away from it, towards the less regularized
        stationary distribution, for longer (on the first of the 5 MovieLens folds its
        kept sweeps still drift at ``burn_in=200``: split R-hat 1.24), so a MAP start
        needs its own diagnostics and a longer burn-in; chapter 5 compares the two.
        With ``biased=True`` the MAP start takes the biases too, from the same fit with
        ``biased=True``.
    biased : bool, default=False
        Add a user bias :math:`b_i` and an item bias :math:`c_j` to the model,
        :math:`R_{ij} \\sim \\mathcal N(\\mu + b_i + c_j + U_i^\\top V_j, \\alpha^{-1})`, with
        hierarchical Normal-Gamma priors (see the module docstring): each user's
        :math:`(U_i, b_i)` and each item's :math:`(V_j, c_j)` are drawn jointly, and the
        biases' hyperparameters :math:`(\\mu_b, \\lambda_b)`, :math:`(\\mu_c, \\lambda_c)` once
        per sweep.  :math:`\\mu` stays the training mean.  ``False`` draws exactly the chain
        of the unbiased model (the same random stream).
    verbose : bool, default=False
        Print the training RMSE (and the ``eval_set`` RMSE) after every sweep, to stdout.

    Attributes
    ----------
    user_samples_, item_samples_ : ndarray, shape (n_kept, n_users, d), (n_kept, n_items, d)
        The kept samples of :math:`U` and :math:`V`, ``n_kept = n_samples - burn_in``.
        All of them are stored because the predictive mean of a pair is the mean of
        the per-sample dot products, :math:`\\frac1S \\sum_s U_i^{(s)\\top} V_j^{(s)}`,
        which is not the dot product of the mean factors
        (:math:`E[U_i^\\top V_j] \\ne E[U_i]^\\top E[V_j]`); for MovieLens 100K with
        the defaults that is 150 x (943 + 1682) x 10 float64, about 32 MB.
    user_bias_samples_, item_bias_samples_ : ndarray, shape (n_kept, n_users), (n_kept, n_items)
        The kept samples of the biases :math:`b` and :math:`c` (zeros unless ``biased``).
    user_bias_, item_bias_ : ndarray (n_users,), (n_items,)
        Their posterior means; a pair's prediction is
        :math:`\\mu + \\bar b_i + \\bar c_j + \\frac1S \\sum_s U_i^{(s)\\top} V_j^{(s)}`.
    alpha_samples_ : ndarray (n_kept,)
        :math:`\\alpha` of each kept sample (constant unless ``alpha="sample"``).
    user_factors_, item_factors_ : ndarray
        Posterior means of :math:`U` and :math:`V` (for embeddings and plots; not
        used to predict).
    offset_ : float
        :math:`\\mu`, the training mean the model is centred on.
    rating_std_ : float
        Standard deviation of the training ratings (the predictive standard
        deviation reported for unknown users or items).
    history_ : ndarray (n_samples,)
        Training RMSE of each sweep's *current sample* (:math:`\\mu + b_i + c_j + U_i^\\top V_j`
        with that sweep's factors, clipped like :meth:`predict`), burn-in included.
    history_eval_ : ndarray (n_samples - burn_in,)
        With ``fit(ratings, eval_set=test)``: RMSE on ``test`` of the *running
        posterior mean* after each kept sample (its last entry is the RMSE of
        :meth:`predict` on ``test``); empty without ``eval_set``.
    history_eval_sample_ : ndarray (n_samples,)
        RMSE on ``eval_set`` of each single sample, burn-in included (empty
        without ``eval_set``): compare it with ``history_eval_`` to see what
        averaging buys.
    history_time_ : ndarray (n_samples,)
        Wall-clock seconds from the start of sampling (after the initialization)
        to the end of each sweep.
    burn_in_rhat_ : float
        Rank-normalized split R-hat of the training RMSE over the kept sweeps, as one
        chain (nan with fewer than 8 kept sweeps); above :data:`BURN_IN_RHAT_LIMIT`
        ``fit`` warns that the burn-in was too short (a ``ConvergenceWarning``).
    settings_ : dict
        The values the fit used, defaults filled in.

    Notes
    -----
    With the defaults (:math:`d = 10`, 350 sweeps of which 200 burn-in, sampled
    :math:`\\alpha`, random start; burn-in and sweeps from training-data
    diagnostics, see ``burn_in``) the 5-fold RMSE on MovieLens 100K
    (``kfold(ratings, 5, random_state=0)``, ``random_state=0``) is 0.899, and no
    fold warns (``burn_in_rhat_`` at most 1.03).  :math:`d` and the hyperpriors are
    the paper's kind of setting, not tuned here.

    Users and items without a training rating carry no information about
    anything else in the model, so they are left out of the sampler (which is
    exact: they integrate out) and keep zero factors and biases.  A pair with an unknown
    user or item is predicted by the training mean :math:`\\mu` plus the posterior mean
    bias of whichever side is known (``biased=True``; without biases, :math:`\\mu`), with
    predictive standard deviation ``rating_std_``.
    """

    _fitted_attributes = (
        "user_samples_", "item_samples_", "user_bias_samples_", "item_bias_samples_",
        "alpha_samples_",
        "offset_", "rating_std_", "history_", "history_eval_", "history_eval_sample_",
        "history_time_", "burn_in_rhat_", "settings_",
    )  # fmt: skip

    _parameter_constraints: ClassVar[dict[str, list]] = {
        "n_factors": [Interval(int, 1, None)],
        "n_samples": [Interval(int, 1, None)],
        "burn_in": [Interval(int, 0, None)],
        "random_state": [RANDOM_STATE],
        "alpha": [Interval(float, 0.0, None, closed="neither"), Options("sample")],
        # W0 = w0 I and beta0 scale precisions: values this far from 1 overflow the
        # Wishart and Cholesky computations long before they mean anything
        "beta0": [Interval(float, 1e-8, 1e8)],
        "nu0": [Interval(float, 0.0, None, closed="neither"), NONE],
        "w0": [Interval(float, 1e-8, 1e8)],
        "mu0": [Interval(float, None, None)],
        "init": [Options(*_INITS)],
        "biased": [BOOLEAN],
        "verbose": [BOOLEAN],
    }

    def __init__(
        self,
        n_factors=10,
        *,
        n_samples=350,
        burn_in=200,
        random_state=None,
        alpha="sample",
        beta0=2.0,
        nu0=None,
        w0=1.0,
        mu0=0.0,
        init="random",
        biased=False,
        verbose=False,
    ):
        self.n_factors = n_factors
        self.n_samples = n_samples
        self.burn_in = burn_in
        self.random_state = random_state
        self.alpha = alpha
        self.beta0 = beta0
        self.nu0 = nu0
        self.w0 = w0
        self.mu0 = mu0
        self.init = init
        self.biased = biased
        self.verbose = verbose

    # ----------------------------------------------------------------- setup
    def _check_params(self, p: dict) -> None:
        if p["n_samples"] <= p["burn_in"]:
            raise ValueError(
                "BayesianPMF: n_samples must exceed burn_in (the samples after the burn-in are "
                f"the ones kept); got n_samples={p['n_samples']}, burn_in={p['burn_in']}"
            )
        d = p["n_factors"]
        if p["nu0"] is not None and p["nu0"] <= d - 1:
            raise ValueError(
                f"BayesianPMF: nu0 must be > n_factors - 1 = {d - 1} (Wishart degrees of freedom); "
                f"got {p['nu0']}"
            )

    def _settings(self, p: dict) -> dict:
        s = dict(p)
        s["nu0"] = float(p["n_factors"]) if p["nu0"] is None else p["nu0"]
        s["w0"], s["beta0"] = float(p["w0"]), float(p["beta0"])
        del s["random_state"], s["verbose"]
        return s

    def fit(self, ratings: Ratings, eval_set: Ratings | None = None) -> BayesianPMF:
        """Run the sampler on ``ratings``; returns ``self``.

        Parameters
        ----------
        ratings : Ratings
        eval_set : Ratings, optional
            Held-out ratings whose RMSE is recorded after every sweep
            (``history_eval_``, ``history_eval_sample_``); they are never used to fit.
        """
        self._eval_set = None if eval_set is None else check_ratings("eval_set", eval_set)
        try:
            return super().fit(ratings)
        finally:
            del self._eval_set

    def _initial_factors(self, ratings: Ratings, s: dict, rng: np.random.Generator):
        """Starting ``(U, V, b, c)``; the biases start at 0 unless taken from the MAP fit."""
        d = s["n_factors"]
        if s["init"] == "map":
            mf = MatrixFactorization(
                n_factors=d, solver="als", biased=s["biased"], center=True, random_state=rng,
                **MAP_INIT,
            ).fit(ratings)  # fmt: skip
            return (
                mf.user_factors_.copy(), mf.item_factors_.copy(),
                mf.user_bias_.copy(), mf.item_bias_.copy(),
            )  # fmt: skip
        # draws for the known rows only: rows without data change nothing, not even the
        # random stream
        known_users, known_items = self.user_counts_ > 0, self.item_counts_ > 0
        U, V = np.zeros((ratings.n_users, d)), np.zeros((ratings.n_items, d))
        U[known_users] = rng.normal(0.0, 0.1, size=(int(known_users.sum()), d))
        V[known_items] = rng.normal(0.0, 0.1, size=(int(known_items.sum()), d))
        return U, V, np.zeros(ratings.n_users), np.zeros(ratings.n_items)

    # ------------------------------------------------------------------ Gibbs
    def _fit(self, ratings: Ratings, params: dict) -> None:
        s = self._settings(params)
        self.settings_ = s
        rng = check_random_state(params["random_state"])
        d, n_kept = s["n_factors"], s["n_samples"] - s["burn_in"]
        self.offset_ = self.global_mean_
        self.rating_std_ = float(ratings.values.std())
        biased = s["biased"]

        users, items = ratings.users, ratings.items
        residuals = ratings.values - self.offset_
        by_user = RowGroups(users, items, ratings.n_users, ratings.n_items)
        by_item = RowGroups(items, users, ratings.n_items, ratings.n_users)
        known_users, known_items = self.user_counts_ > 0, self.item_counts_ > 0

        U, V, b, c = self._initial_factors(ratings, s, rng)
        U[~known_users] = 0.0  # rows without data take no part (see the Notes)
        V[~known_items] = 0.0
        b[~known_users] = 0.0
        c[~known_items] = 0.0

        evaluating = self._eval_set is not None
        if evaluating:
            ev = self._eval_set
            ev_known = self._known(ev.users, self.user_counts_) & self._known(
                ev.items, self.item_counts_
            )
            ev_users, ev_items = ev.users[ev_known], ev.items[ev_known]
            ev_sum = np.zeros(ev_users.size)

        def clip(x):
            return np.clip(x, self.rating_min_, self.rating_max_)

        def eval_prediction(fitted_known):
            pred = np.full(len(ev), self.global_mean_)
            pred[ev_known] = self.offset_ + fitted_known
            return clip(pred)

        def draw_side(groups, F, X, bias, known, residuals):
            """Sample (mu, Lambda) | X, then every known row of X | F, mu, Lambda.

            With biases, also (mu_b, lambda_b) | bias, and each row's (X_i, bias_i) jointly;
            ``residuals`` then already exclude the other side's bias.
            """
            F, mu, Lam = sample_row_prior(X[known], F, s, rng, bias[known] if biased else None)
            precision, linear = row_conditionals(groups, F, residuals, alpha, mu, Lam)
            X = np.zeros((X.shape[0], F.shape[1]))
            try:
                X[known] = sample_gaussian(precision[known], linear[known], rng)
            except np.linalg.LinAlgError:
                X[known] = np.nan
            if not np.all(np.isfinite(X)):
                raise RuntimeError(
                    f"BayesianPMF: the Gibbs sampler produced non-finite factors at sweep "
                    f"{sweep + 1}: the ratings' scale (spread {self.rating_std_:.3g}) or the "
                    f"hyperpriors (w0={s['w0']:g}, beta0={s['beta0']:g}) make the conditionals "
                    "degenerate; rescale the ratings or use hyperpriors near the defaults"
                )
            if biased:
                return X[:, :d], X[:, d].copy()
            return X, bias

        user_samples = np.empty((n_kept, ratings.n_users, d))
        item_samples = np.empty((n_kept, ratings.n_items, d))
        user_bias_samples = np.empty((n_kept, ratings.n_users))
        item_bias_samples = np.empty((n_kept, ratings.n_items))
        alpha_samples = np.empty(n_kept)
        history, eval_mean, eval_sample, seconds = [], [], [], []
        sampling_alpha = s["alpha"] == "sample"
        alpha = ALPHA_START if sampling_alpha else s["alpha"]
        t0 = time.perf_counter()
        for sweep in range(s["n_samples"]):
            U, b = draw_side(
                by_user, V, U, b, known_users, residuals - c[items] if biased else residuals
            )
            V, c = draw_side(
                by_item, U, V, c, known_items, residuals - b[users] if biased else residuals
            )
            fitted = _pair_dots(U, V, users, items)  # the model's mean minus mu
            if biased:
                fitted += b[users] + c[items]
            if sampling_alpha:
                # alpha | U, V closes the sweep, so that (U, V, alpha) is one state of the chain
                a0, b0 = ALPHA_PRIOR
                sse = float(np.sum((residuals - fitted) ** 2))
                alpha = rng.gamma(a0 + 0.5 * len(ratings), 1.0 / (b0 + 0.5 * sse))
            history.append(rmse(ratings.values, clip(self.offset_ + fitted)))
            kept = sweep - s["burn_in"]
            if kept >= 0:
                user_samples[kept], item_samples[kept], alpha_samples[kept] = U, V, alpha
                user_bias_samples[kept], item_bias_samples[kept] = b, c
            if evaluating:
                ev_dots = _pair_dots(U, V, ev_users, ev_items)
                if biased:
                    ev_dots += b[ev_users] + c[ev_items]
                eval_sample.append(rmse(ev.values, eval_prediction(ev_dots)))
                if kept >= 0:
                    ev_sum += ev_dots
                    eval_mean.append(rmse(ev.values, eval_prediction(ev_sum / (kept + 1))))
            seconds.append(time.perf_counter() - t0)
            if self.verbose:
                line = f"sweep {sweep + 1:4d}: train RMSE (this sample) {history[-1]:.4f}"
                if evaluating:
                    line += f", eval RMSE (this sample) {eval_sample[-1]:.4f}"
                    if kept >= 0:
                        line += f", eval RMSE (posterior mean) {eval_mean[-1]:.4f}"
                print(line)

        self.user_samples_, self.item_samples_ = user_samples, item_samples
        self.user_bias_samples_, self.item_bias_samples_ = user_bias_samples, item_bias_samples
        self.alpha_samples_ = alpha_samples
        self._derived_means()
        self.history_ = np.array(history)
        self.history_eval_ = np.array(eval_mean)
        self.history_eval_sample_ = np.array(eval_sample)
        self.history_time_ = np.array(seconds)
        self._check_burn_in(s)

    def _check_burn_in(self, s: dict) -> None:
        """Warn when the kept sweeps still drift: the burn-in was shorter than the chain needed.

        The diagnostic is the rank-normalized split R-hat
        (:func:`~recsys_tutorial.diagnostics.rhat`) of the training RMSE of the kept sweeps,
        taken as one chain: it compares the first and
        the second half of what was kept, which agree once the chain is stationary.
        """
        kept = self.history_[s["burn_in"] :]
        self.burn_in_rhat_ = (
            float(rhat(kept[None, :])) if kept.size >= _MIN_KEPT_FOR_RHAT else np.nan
        )
        if self.burn_in_rhat_ > BURN_IN_RHAT_LIMIT:
            warnings.warn(
                f"BayesianPMF: the training RMSE of the kept sweeps still drifts (split R-hat "
                f"{self.burn_in_rhat_:.2f} > {BURN_IN_RHAT_LIMIT}): burn_in={s['burn_in']} "
                "is shorter than this chain needs; raise burn_in and n_samples",
                ConvergenceWarning,
                stacklevel=5,  # _check_burn_in < _fit < Recommender.fit < fit < the caller
            )

    def _derived_means(self) -> None:
        """Posterior means of the factors and biases (not stored by :meth:`save`)."""
        self.user_factors_ = self.user_samples_.mean(axis=0)
        self.item_factors_ = self.item_samples_.mean(axis=0)
        self.user_bias_ = self.user_bias_samples_.mean(axis=0)
        self.item_bias_ = self.item_bias_samples_.mean(axis=0)

    def _derived_attributes(self) -> None:
        super()._derived_attributes()
        self._derived_means()

    def _score_users(self, users):
        # the posterior mean of U_i . V_j averaged over samples: one contraction per sample
        total = np.zeros((users.size, self.n_items_))
        for U, V in zip(self.user_samples_, self.item_samples_):
            total += row_dots(U[users], V)
        # mu + mean b_i + mean c_j (exactly mu without biases, whose samples are zeros); rows
        # without ratings keep zero biases, so an unknown user's fallback is mu + mean c_j
        base = self.offset_ + self.user_bias_[users, None] + self.item_bias_[None, :]
        scores = base + total / self.user_samples_.shape[0]
        unknown_users, unknown_items = self.user_counts_[users] == 0, self.item_counts_ == 0
        scores[unknown_users] = base[unknown_users]
        scores[:, unknown_items] = base[:, unknown_items]
        return scores

    # ---------------------------------------------------------------- fold in
    def fold_in(self, items, values, *, random_state=None) -> tuple[np.ndarray, np.ndarray | float]:
        """Draws of a new user's factors (and bias), one from its conditional at each kept sample.

        For each kept sample :math:`s` (factors :math:`U^{(s)}, V^{(s)}`, biases
        :math:`b^{(s)}, c^{(s)}` and noise precision :math:`\\alpha^{(s)}`), first the
        user hyperparameters :math:`(\\mu_U, \\Lambda_U) \\sim p(\\mu_U, \\Lambda_U \\mid U^{(s)})`
        and, with ``biased=True``, :math:`(\\mu_b, \\lambda_b) \\sim p(\\mu_b, \\lambda_b \\mid
        b^{(s)})` (:func:`sample_row_prior`; the training users with ratings), then the new
        user's row from the Gibbs conditional of a training user's row given the ratings
        :math:`R_j` of the given items.  Without biases that row is :math:`x`,

        .. math::

            x^{(s)} \\sim \\mathcal N\\big([\\Lambda^*]^{-1} b^*, [\\Lambda^*]^{-1}\\big), \\quad
            \\Lambda^* = \\Lambda_U + \\alpha^{(s)} \\sum_j V_j^{(s)} V_j^{(s)\\top}, \\quad
            b^* = \\alpha^{(s)} \\sum_j (R_j - \\mu) V_j^{(s)} + \\Lambda_U \\mu_U;

        with biases it is :math:`(x, b)`, drawn jointly from the same formulas with
        :math:`f_j = (V_j^{(s)}, 1)` in place of :math:`V_j^{(s)}`, the prior precision
        :math:`\\operatorname{diag}(\\Lambda_U, \\lambda_b)` and mean :math:`(\\mu_U, \\mu_b)`, and
        the residuals :math:`R_j - \\mu - c_j^{(s)}` (:func:`bias_augmented`, as in the module
        docstring).  The precisions and linear terms come from :func:`row_conditionals` for
        one more row, and all :math:`S` rows are drawn by one
        :func:`~recsys_tutorial.linalg.sample_gaussian` call after the hyperparameters, in
        the order of the samples.  The rest of each sample is held fixed: the new user's
        ratings do not feed back into :math:`V`, :math:`c`, :math:`\\alpha` or the
        hyperparameters, which with hundreds of training users they would hardly move.

        Parameters
        ----------
        items : array_like of int
            Training item indices the new user rated (each at most once).
        values : array_like of float
            The ratings, same length.
        random_state : None, int or numpy Generator, default=None
            Seeds the draws.  ``None`` uses the model's own ``random_state``: a
            fresh generator seeded with it when it is an int (so that a seeded
            model folds the same ratings in to the same draws every time), the
            generator itself when it is one, fresh entropy when it is ``None``.

        Returns
        -------
        factors : ndarray, shape (n_kept, d)
            One draw of :math:`x` per kept sample (not their mean: the predictive mean of
            a score is the mean over samples of each sample's score).
        bias : ndarray, shape (n_kept,), or float
            With ``biased=True`` the draws of :math:`b` that go with ``factors`` row by
            row; otherwise 0.0.  :meth:`score_new_user` averages the samples.
        """
        self._check_fitted()
        items, values = self._check_new_ratings("items", items, values, self.n_items_)
        rng = check_random_state(self.random_state if random_state is None else random_state)
        s = self.settings_
        biased = s["biased"]
        n_kept, d = self.user_samples_.shape[0], self.user_samples_.shape[2]
        known = self.user_counts_ > 0
        # the new user as the only row of a pattern over its own items, F = V[items]
        one_row = RowGroups(
            np.zeros(items.size, dtype=np.int64), np.arange(items.size), 1, items.size
        )
        centred = values - self.offset_
        width = d + 1 if biased else d
        precision, linear = np.empty((n_kept, width, width)), np.empty((n_kept, width))
        for k in range(n_kept):
            U, V = self.user_samples_[k], self.item_samples_[k]
            user_bias = self.user_bias_samples_[k][known] if biased else None
            F, mean, prior = sample_row_prior(U[known], V[items], s, rng, user_bias)
            residuals = centred - self.item_bias_samples_[k][items] if biased else centred
            P, b = row_conditionals(one_row, F, residuals, self.alpha_samples_[k], mean, prior)
            precision[k], linear[k] = P[0], b[0]
        X = sample_gaussian(precision, linear, rng)
        if biased:
            return X[:, :d], X[:, d].copy()
        return X, 0.0

    def score_new_user(self, factors, bias=0.0) -> np.ndarray:
        """Posterior-mean scores of every item for the draws of :meth:`fold_in`.

        The average over the kept samples of each sample's score (as :meth:`predict`
        averages), unclipped:

        .. math::

            \\frac1S \\sum_s \\big(\\mu + b^{(s)} + c_j^{(s)} + V_j^{(s)\\top} x^{(s)}\\big),

        with :math:`c^{(s)} = 0` without biases.  Items without training ratings get
        :math:`\\mu` plus the mean of ``bias`` (:math:`\\mu` without biases), the fallback
        of :meth:`predict` for a known user.

        Parameters
        ----------
        factors : array_like, shape (n_kept, d)
        bias : array_like, shape (n_kept,), or float, default=0.0
            The draws of :math:`b` of :meth:`fold_in`: shape (n_kept,) for a model with
            ``biased=True`` (required there), a float (added to every score) otherwise.
        """
        self._check_fitted()
        factors = np.asarray(factors, dtype=np.float64)
        shape = self.user_samples_.shape[::2]
        if factors.shape != shape:
            raise ValueError(
                f"factors must have shape {shape} (one row per kept sample, as fold_in "
                f"returns); got {factors.shape}"
            )
        bias = np.asarray(bias, dtype=np.float64)
        biased = self.settings_["biased"]
        if biased and bias.shape != shape[:1]:
            raise ValueError(
                f"bias must have shape {shape[:1]} for a model with biased=True (one draw per "
                f"kept sample, as fold_in returns); got {bias.shape}"
            )
        if not biased and bias.ndim != 0:
            raise ValueError(
                f"bias must be a float for a model without biases; got shape {bias.shape}"
            )
        # the mean over samples of mu + b + c_j + V_j x: the item biases' mean is item_bias_
        dots = np.einsum("snd,sd->n", self.item_samples_, factors) / len(factors)
        base = self.offset_ + float(bias.mean())
        scores = base + self.item_bias_ + dots
        scores[self.item_counts_ == 0] = base if biased else self.global_mean_
        return scores

    # ---------------------------------------------------------------- predict
    def _sample_moments(self, users, items, with_variance: bool):
        """Per pair, the mean over kept samples of :math:`U_i^{(s)\\top} V_j^{(s)}` and (optionally)
        the variance of :math:`b_i^{(s)} + c_j^{(s)} + U_i^{(s)\\top} V_j^{(s)}`."""
        n_kept = self.user_samples_.shape[0]
        one_user = users.size >= max(2, self.n_items_ // 4) and np.all(users == users[0])
        if one_user and not with_variance:
            # one user against many items (recommend): one contraction over all samples and
            # items costs O(S n d) without gathering S copies of the pairs' rows
            user_rows = self.user_samples_[:, users[0]]
            every_item = np.einsum("snd,sd->n", self.item_samples_, user_rows) / n_kept
            return every_item[items], None
        total = np.zeros(users.size)
        for U, V in zip(self.user_samples_, self.item_samples_):
            total += _pair_dots(U, V, users, items)
        mean = total / n_kept
        if not with_variance:
            return mean, None
        # a second pass (not E[x^2] - E[x]^2) keeps the small variance accurate; without
        # biases their samples are zeros and the terms below are the dot products exactly
        mean_total = self.user_bias_[users] + self.item_bias_[items] + mean
        squares = np.zeros(users.size)
        for U, V, b, c in zip(
            self.user_samples_, self.item_samples_, self.user_bias_samples_, self.item_bias_samples_
        ):
            squares += (b[users] + c[items] + _pair_dots(U, V, users, items) - mean_total) ** 2
        return mean, squares / n_kept

    def _score(self, users, items, known_u, known_i):
        both = known_u & known_i
        mean, _ = self._sample_moments(users[both], items[both], with_variance=False)
        # mu plus the known sides' mean biases (exactly mu without biases)
        score = (
            self.offset_
            + np.where(known_u, self.user_bias_[users], 0.0)
            + np.where(known_i, self.item_bias_[items], 0.0)
        )
        score[both] += mean
        return score

    def predict(self, users, items, return_std: bool = False):
        """Posterior predictive mean :math:`\\mu + \\frac1S \\sum_s (b_i^{(s)} + c_j^{(s)}
        + U_i^{(s)\\top} V_j^{(s)})` (the biases are zero unless ``biased``).

        Clipped to the training range.

        Parameters
        ----------
        users, items : array_like of int
        return_std : bool
            Also return the predictive standard deviation of a new rating,

            .. math::

                \\sqrt{\\operatorname{Var}_s\\big[b_i^{(s)} + c_j^{(s)}
                + U_i^{(s)\\top} V_j^{(s)}\\big] + \\frac1S \\sum_s 1/\\alpha^{(s)}},

            the spread of the kept samples' predictions (posterior uncertainty about
            the factors) plus the rating noise :math:`\\sigma^2 = 1/\\alpha` (law of
            total variance).  It is computed from unclipped samples and does not
            account for the clipping of the mean.  Unknown users or items get
            ``rating_std_``.

        Returns
        -------
        mean : ndarray
        std : ndarray, only with ``return_std=True``
        """
        if not isinstance(return_std, (bool, np.bool_)):
            raise TypeError(f"return_std must be a bool; got {type(return_std).__name__}")
        prediction = super().predict(users, items)
        if not return_std:
            return prediction
        # validated by predict above
        users, items = check_indices("users", users), check_indices("items", items)
        both = self._known(users, self.user_counts_) & self._known(items, self.item_counts_)
        _, variance = self._sample_moments(users[both], items[both], with_variance=True)
        std = np.full(users.size, self.rating_std_)
        std[both] = np.sqrt(variance + np.mean(1.0 / self.alpha_samples_))
        return prediction, std
