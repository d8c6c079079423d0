"""The Bayesian PMF sampler validated end to end.

Two checks beyond the piece-by-piece formulas of ``test_bpmf.py``:

* the Wishart draw's first *and second* moments, every covariance
  :math:`\\operatorname{Cov}(\\Lambda_{ij}, \\Lambda_{kl}) = \\nu (W_{ik} W_{jl} + W_{il} W_{jk})`
  (a wrong Bartlett factor can keep the mean right and only show here);
* Geweke's (2004) "getting it right" test of the whole Gibbs sweep built from
  the module's public pieces: a chain that alternates one sweep (parameters
  given data) with a fresh draw of the data given the parameters has the
  *prior* as its stationary distribution if, and only if (for the statistics
  looked at), every conditional is right.  Its averages are compared with those
  of independent prior draws, with the chain's standard errors from its
  effective sample size.

Tolerances are in standard errors (4 to 4.5 for about a dozen to thirty
statistics at once: a correct sampler fails with probability below about 1e-3).
Broken copies of ``models/bpmf.py`` fail them: alpha dropped from the row
precision (the chain diverges), :math:`W^*` returned where its inverse belongs
(max |z| 620), the posterior degrees of freedom one too few (max |z| 7.6), and
a Bartlett diagonal set to :math:`\\sqrt{\\nu - k}` instead of drawn (the mean
test passes, the second moments fail); the correct code gives max |z| 2.5.
``test_geweke_fails_a_wrong_conditional`` keeps two of these as a power check.

The same test for ``BayesianPMF(biased=True)``: the sweep draws each row's factors and bias
jointly (:func:`~recsys_tutorial.models.bpmf.bias_augmented`) and the biases' Normal-Gamma
hyperparameters; 21 statistics, max |z| 2.0 at 8000 iterations (seed 2: 1.9).  A bias prior
precision replaced by 1 gives max |z| 10, a bias prior mean replaced by 0 gives 5.4 (1500
iterations).
"""

import numpy as np
import pytest

from recsys_tutorial import diagnostics
from recsys_tutorial.linalg import RowGroups, sample_gaussian
from recsys_tutorial.models.bpmf import (
    bias_augmented,
    normal_wishart_posterior,
    row_conditionals,
    sample_normal_wishart,
    sample_wishart,
)


# ------------------------------------------------------------------ Wishart
def test_wishart_draws_have_the_right_mean_and_every_second_moment():
    rng = np.random.default_rng(10)
    d, nu, n_draws = 3, 5.5, 20_000
    B = rng.normal(size=(d, d))
    W = 0.3 * (B @ B.T + np.eye(d))
    draws = np.stack([sample_wishart(W, nu, rng) for _ in range(n_draws)])
    iu, ju = np.triu_indices(d)
    x = draws[:, iu, ju]  # the d (d + 1) / 2 distinct entries, (n_draws, 6)

    # mean: E[Lambda] = nu W, each entry within 4 standard errors
    se_mean = x.std(axis=0, ddof=1) / np.sqrt(n_draws)
    assert np.all(np.abs(x.mean(axis=0) - nu * W[iu, ju]) <= 4 * se_mean + 1e-12)

    # second moments: Cov(L_ij, L_kl) = nu (W_ik W_jl + W_il W_jk) for every pair of entries;
    # the sample covariance is the mean of the products of deviations, whose standard error is
    # the standard deviation of those products over sqrt(n)
    dev = x - x.mean(axis=0)
    products = dev[:, :, None] * dev[:, None, :]  # (n_draws, 6, 6)
    estimate = products.mean(axis=0)
    se = products.std(axis=0, ddof=1) / np.sqrt(n_draws)
    expected = nu * (
        W[iu[:, None], iu[None, :]] * W[ju[:, None], ju[None, :]]
        + W[iu[:, None], ju[None, :]] * W[ju[:, None], iu[None, :]]
    )
    z = (estimate - expected) / se
    assert np.all(np.abs(z) < 4.5), np.round(z, 1)


# ------------------------------------------------------------- Geweke's test
D = 2
ALPHA = 3.0  # the rating noise precision; far from 1, so a dropped alpha shows
BETA0, NU0, MU0 = 2.0, 8.0, np.zeros(D)  # nu0 > d + 3: the statistics below have 4th moments
W0 = 0.25 * np.eye(D)
N_USERS, N_ITEMS = 4, 5
_U, _I = np.divmod(np.arange(N_USERS * N_ITEMS), N_ITEMS)
_OBSERVED = np.ones(_U.size, dtype=bool)
_OBSERVED[[3, 7, 14]] = False  # a few missing pairs, so rows have different Gram matrices
USERS, ITEMS = _U[_OBSERVED], _I[_OBSERVED]


def _prior_side(n_rows, rng):
    """(mu, Lambda) ~ NW(mu0, beta0, W0, nu0), then n_rows rows ~ N(mu, Lambda^-1)."""
    mu, lam = sample_normal_wishart(MU0, BETA0, W0, NU0, rng)
    rows = sample_gaussian(
        np.broadcast_to(lam, (n_rows, D, D)).copy(), np.tile(lam @ mu, (n_rows, 1)), rng
    )
    return mu, lam, rows


def _ratings(U, V, rng):
    """R_ij ~ N(U_i . V_j, 1 / alpha) for the observed pairs."""
    return np.einsum("kd,kd->k", U[USERS], V[ITEMS]) + rng.standard_normal(USERS.size) / np.sqrt(
        ALPHA
    )


def _statistics(mu_u, lam_u, U, mu_v, lam_v, V):
    """Test functions g(theta): entries, squares, predictions, hyperparameters."""
    return np.array(
        [
            U[0, 0],
            U[1, 1] ** 2,
            U[0] @ V[0],
            U[2] @ V[4],
            mu_u[0],
            lam_u[0, 0],
            lam_u[0, 1],
            V[3, 1],
            V[1, 0] ** 2,
            mu_v[1],
            lam_v[1, 1],
            np.log(np.linalg.det(lam_v)),
        ]
    )


def _sweep(U, V, R, rng, by_user, by_item, posterior, conditionals):
    """One Gibbs sweep in the order of BayesianPMF: hyper U, U, hyper V, V."""
    mu_star, beta_star, nu_star, W_star = posterior(U, MU0, BETA0, NU0, W0)
    mu_u, lam_u = sample_normal_wishart(mu_star, beta_star, W_star, nu_star, rng)
    U = sample_gaussian(*conditionals(by_user, V, R, ALPHA, mu_u, lam_u), rng)
    mu_star, beta_star, nu_star, W_star = posterior(V, MU0, BETA0, NU0, W0)
    mu_v, lam_v = sample_normal_wishart(mu_star, beta_star, W_star, nu_star, rng)
    V = sample_gaussian(*conditionals(by_item, U, R, ALPHA, mu_v, lam_v), rng)
    return (mu_u, lam_u, U, mu_v, lam_v, V)


# the biased model (``biased=True``): Normal-Gamma priors on the biases, with more degrees of
# freedom than the model's BIAS_NU0 = 1 so that the squares below have finite variance
NU0_BIAS, W0_BIAS = 6.0, 0.5 * np.eye(1)


def _prior_biases(n_rows, rng):
    """(mu_b, lambda_b) ~ NW(0, beta0, W0_BIAS, NU0_BIAS); n_rows biases ~ N(mu_b, 1/lambda_b)."""
    mu, lam = sample_normal_wishart(np.zeros(1), BETA0, W0_BIAS, NU0_BIAS, rng)
    return mu[0], lam[0, 0], mu[0] + rng.standard_normal(n_rows) / np.sqrt(lam[0, 0])


def _bias_statistics(mu_b, lam_b, b, mu_c, lam_c, c, U, V):
    return np.array(
        [b[0], b[1] ** 2, c[2], c[4] ** 2, mu_b, lam_b, mu_c, np.log(lam_c),
         b[3] + c[1] + U[3] @ V[1]]
    )  # fmt: skip


def _biased_sweep(U, V, b, c, R, rng, by_user, by_item, augment):
    """One sweep of BayesianPMF(biased=True): hyper U, hyper b, (U, b), hyper V, hyper c, (V, c)."""

    def side(groups, F, X, bias, residuals):
        mu, lam = sample_normal_wishart(
            *_reordered(normal_wishart_posterior(X, MU0, BETA0, NU0, W0)), rng
        )
        mu_b, lam_b = sample_normal_wishart(
            *_reordered(
                normal_wishart_posterior(bias[:, None], np.zeros(1), BETA0, NU0_BIAS, W0_BIAS)
            ),
            rng,
        )
        F1, mean, precision = augment(F, mu, lam, mu_b[0], lam_b[0, 0])
        X1 = sample_gaussian(*row_conditionals(groups, F1, residuals, ALPHA, mean, precision), rng)
        return mu, lam, X1[:, :D], mu_b[0], lam_b[0, 0], X1[:, D]

    mu_u, lam_u, U, mu_b, lam_b, b = side(by_user, V, U, b, R - c[ITEMS])
    mu_v, lam_v, V, mu_c, lam_c, c = side(by_item, U, V, c, R - b[USERS])
    return (mu_u, lam_u, U, mu_v, lam_v, V), (mu_b, lam_b, b, mu_c, lam_c, c)


def _reordered(posterior):
    """normal_wishart_posterior's (mu*, beta*, nu*, W*) in sample_normal_wishart's order."""
    mu_star, beta_star, nu_star, W_star = posterior
    return mu_star, beta_star, W_star, nu_star


def geweke_z_scores(
    n_iter,
    seed,
    posterior=normal_wishart_posterior,
    conditionals=row_conditionals,
    biased=False,
    augment=bias_augmented,
):
    """z-scores of (successive-conditional mean - marginal-conditional mean) per statistic."""
    rng = np.random.default_rng(seed)

    def prior_draw():
        users, items = _prior_side(N_USERS, rng), _prior_side(N_ITEMS, rng)
        if not biased:
            return _statistics(*users, *items)
        biases = (*_prior_biases(N_USERS, rng), *_prior_biases(N_ITEMS, rng))
        return np.concatenate(
            [_statistics(*users, *items), _bias_statistics(*biases, users[2], items[2])]
        )

    # marginal-conditional simulator: independent draws from the prior
    marginal = np.array([prior_draw() for _ in range(n_iter)])
    # successive-conditional simulator: theta_0 from the prior, then sweep | R and R | theta
    by_user = RowGroups(USERS, ITEMS, N_USERS, N_ITEMS)
    by_item = RowGroups(ITEMS, USERS, N_ITEMS, N_USERS)
    _, _, U = _prior_side(N_USERS, rng)
    _, _, V = _prior_side(N_ITEMS, rng)
    b, c = _prior_biases(N_USERS, rng)[2], _prior_biases(N_ITEMS, rng)[2]
    if not biased:
        b, c = np.zeros(N_USERS), np.zeros(N_ITEMS)
    R = _ratings(U, V, rng) + b[USERS] + c[ITEMS]
    successive = np.empty_like(marginal)
    for t in range(n_iter):
        if biased:
            state, biases = _biased_sweep(U, V, b, c, R, rng, by_user, by_item, augment)
            b, c = biases[2], biases[5]
            successive[t] = np.concatenate(
                [_statistics(*state), _bias_statistics(*biases, state[2], state[5])]
            )
        else:
            state = _sweep(U, V, R, rng, by_user, by_item, posterior, conditionals)
            successive[t] = _statistics(*state)
        U, V = state[2], state[5]
        R = _ratings(U, V, rng) + b[USERS] + c[ITEMS]
    ess = diagnostics.ess(successive[None])  # the chain's draws are autocorrelated
    se = np.sqrt(successive.var(axis=0) / ess + marginal.var(axis=0) / n_iter)
    return (successive.mean(axis=0) - marginal.mean(axis=0)) / se


def test_geweke_getting_it_right():
    z = geweke_z_scores(8000, seed=0)
    assert np.all(np.abs(z) < 4.0), np.round(z, 1)


def test_geweke_getting_it_right_with_biases():
    """The biased sweep: joint (factors, bias) rows and Normal-Gamma bias hyperparameters."""
    z = geweke_z_scores(8000, seed=1, biased=True)
    assert np.all(np.abs(z) < 4.0), np.round(z, 1)


def test_geweke_fails_a_wrong_bias_conditional():
    """Power with biases: a bias prior precision replaced by 1 fails."""

    def unit_bias_precision(F, prior_mean, prior_precision, bias_mean, bias_precision):
        return bias_augmented(F, prior_mean, prior_precision, bias_mean, 1.0)

    z = geweke_z_scores(1500, seed=0, biased=True, augment=unit_bias_precision)
    assert np.max(np.abs(z)) > 6.0, np.round(z, 1)


@pytest.mark.parametrize("broken", ["alpha", "scale"])
def test_geweke_fails_a_wrong_conditional(broken):
    """The test has power: a dropped alpha, or W* where its inverse belongs, fails it."""

    def no_alpha(groups, F, residuals, alpha, prior_mean, prior_precision):
        return row_conditionals(groups, F, residuals, 1.0, prior_mean, prior_precision)

    def inverse_scale(X, mu0, beta0, nu0, W0):
        mu_star, beta_star, nu_star, W_star = normal_wishart_posterior(X, mu0, beta0, nu0, W0)
        return mu_star, beta_star, nu_star, np.linalg.inv(W_star)

    kwargs = {"conditionals": no_alpha} if broken == "alpha" else {"posterior": inverse_scale}
    z = geweke_z_scores(2000, seed=0, **kwargs)
    assert np.max(np.abs(z)) > 6.0, np.round(z, 1)
