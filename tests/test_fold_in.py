"""Fold-in beyond the contract: each model's exact answer against an independent computation."""

import numpy as np
import pytest
from conftest import random_ratings
from scipy.optimize import minimize

import recsys_tutorial as rt
from recsys_tutorial.linalg import RowGroups
from recsys_tutorial.models.bpmf import normal_wishart_posterior, sample_normal_wishart
from recsys_tutorial.models.ials import _Side
from recsys_tutorial.objectives import confidence, regularization_weights


@pytest.fixture
def data():
    """30 users x 40 items; user 3 and item 5 have no rating."""
    return random_ratings(seed=3)


def rows_of(data, side, index):
    """The (other side's indices, values) of one user (side="user") or item."""
    mine = (data.users if side == "user" else data.items) == index
    return (data.items if side == "user" else data.users)[mine], data.values[mine]


# ------------------------------------------------------------------------ iALS
@pytest.mark.parametrize(
    "params",
    [dict(), dict(use_values=True, reg_weighting="all", alpha=2.0), dict(scaling="log")],
)
def test_ials_fold_in_is_the_cholesky_half_step_of_fit(data, params):
    """Folding in a training user (item) reproduces the package's exact half-step to 1e-10."""
    model = rt.models.ImplicitMF(n_factors=3, n_epochs=3, random_state=0, **params).fit(data)
    p = model.get_params()
    p["solver"] = "cholesky"
    feedback = model._feedback(data, p["use_values"])
    c = confidence(feedback.values, p["alpha"], scaling=p["scaling"], eps=p["eps"])
    wu, wv = model._penalty_weights(feedback, c, p)
    m, n, d = data.n_users, data.n_items, 3
    U, V = model.user_factors_, model.item_factors_
    users = _Side(RowGroups(data.users, data.items, m, n), c, d, np.float64)
    items = _Side(RowGroups(data.items, data.users, n, m), c, d, np.float64)
    X_users, _ = model._half_step(users, V, U, p["reg"] * wu, p)
    X_items, _ = model._half_step(items, U, V, p["reg"] * wv, p)
    for index in (0, 1, 7):
        factors, bias = model.fold_in(*rows_of(data, "user", index))
        np.testing.assert_allclose(factors, X_users[index], rtol=0, atol=1e-10)
        assert bias == 0.0
        factors, bias = model.fold_in_item(*rows_of(data, "item", index))
        np.testing.assert_allclose(factors, X_items[index], rtol=0, atol=1e-10)
        np.testing.assert_allclose(model.score_new_item(factors), U @ factors, rtol=1e-12)
    # without use_values, values do not matter (as in fit); None means all positives
    if not p["use_values"]:
        a = model.fold_in([0, 4], [5.0, 1.0])[0]
        assert np.array_equal(a, model.fold_in([0, 4])[0])


# -------------------------------------------------------------------------- MF
@pytest.mark.parametrize("biased", [True, False])
def test_mf_fold_in_item_is_the_als_item_half_step(data, biased):
    model = rt.models.MatrixFactorization(
        n_factors=3, biased=biased, center=True, reg_item=0.7, n_epochs=3, random_state=0
    ).fit(data)
    s = model.settings_
    F = model.user_factors_
    if biased:
        F = np.hstack([F, np.ones((data.n_users, 1))])
    y = data.values - model.offset_ - (model.user_bias_[data.users] if biased else 0.0)
    penalty = np.full(F.shape[1], s["reg_item"])
    if biased:
        penalty[-1] = s["reg_bias"]
    weights = regularization_weights(data.item_counts(), s["reg_exponent"])
    groups = RowGroups(data.items, data.users, data.n_items, data.n_users)
    X, _ = groups.solve_ridge(F, y, weights[:, None] * penalty)
    for item in (0, 1, 7):
        factors, bias = model.fold_in_item(*rows_of(data, "item", item))
        np.testing.assert_allclose(factors, X[item, :3], rtol=0, atol=1e-10)
        assert bias == pytest.approx(X[item, 3] if biased else 0.0, abs=1e-10)
        expected = model.offset_ + bias + model.user_factors_ @ factors
        if biased:
            expected += model.user_bias_
        known = model.user_counts_ > 0
        np.testing.assert_allclose(model.score_new_item(factors, bias)[known], expected[known])
    with pytest.raises(ValueError, match=r"users must be in \[0, 30\)"):
        model.fold_in_item([30], [4.0])
    with pytest.raises(ValueError, match="values is required"):
        model.fold_in([1, 2], None)


def test_pmf_fold_in_item_is_the_map_of_the_new_item(data):
    pmf = rt.models.PMF(n_factors=2, sigma=1.0, sigma_u=0.7, sigma_v=0.5, random_state=0).fit(data)
    users, values = np.array([0, 2, 9]), np.array([4.0, 1.0, 5.0])
    U = pmf.user_factors_[users]
    lam_v = (1.0 / 0.5) ** 2
    expected = np.linalg.solve(U.T @ U + lam_v * np.eye(2), U.T @ (values - pmf.offset_))
    factors, bias = pmf.fold_in_item(users, values)
    np.testing.assert_allclose(factors, expected, rtol=1e-12)
    assert bias == 0.0


# ------------------------------------------------------------------------- BPR
def loop_bpr_objective(x, model, positives):
    """f(x) of BPR.fold_in by explicit loops over the (positive, negative) pairs."""
    V, b, reg = model.item_factors_, model.item_bias_, model.reg
    negatives = [j for j in range(model.n_items_) if model.item_counts_[j] > 0]
    negatives = [j for j in negatives if j not in set(positives)]
    total = 0.0
    for i in positives:
        for j in negatives:
            margin = float(V[i] @ x + b[i] - V[j] @ x - b[j])
            total += np.log1p(np.exp(-margin)) / len(negatives)
    return total + len(positives) * reg * float(x @ x)


@pytest.mark.parametrize("reg", [0.01, 0.5])
def test_bpr_fold_in_minimizes_the_expected_objective(data, reg):
    model = rt.models.BPR(n_factors=3, n_epochs=5, reg=reg, random_state=0).fit(data)
    positives = [0, 7, 12, 30]
    x, bias = model.fold_in(positives)
    assert bias == 0.0
    reference = minimize(
        loop_bpr_objective, np.zeros(3), args=(model, positives), method="Nelder-Mead",
        options=dict(xatol=1e-10, fatol=1e-14, maxiter=20000),
    )  # fmt: skip
    np.testing.assert_allclose(x, reference.x, atol=1e-6)
    assert loop_bpr_objective(x, model, positives) <= reference.fun + 1e-12
    # its gradient vanishes: central differences of the loop objective
    h = 1e-6
    gradient = [
        (
            loop_bpr_objective(x + h * e, model, positives)
            - loop_bpr_objective(x - h * e, model, positives)
        )
        / (2 * h)
        for e in np.eye(3)
    ]
    np.testing.assert_allclose(gradient, 0.0, atol=1e-7)
    scores = model.score_new_user(x)
    np.testing.assert_allclose(scores, model.item_factors_ @ x + model.item_bias_, rtol=1e-12)


def test_bpr_fold_in_of_every_item_has_nothing_to_rank_below(data):
    model = rt.models.BPR(n_factors=3, n_epochs=2, random_state=0).fit(data)
    everything = np.flatnonzero(model.item_counts_ > 0)
    assert np.array_equal(model.fold_in(everything)[0], np.zeros(3))


# ----------------------------------------------------------------- BayesianPMF
def test_bpmf_fold_in_draws_from_each_sample_s_conditional(data):
    """Replay the documented draws: hyperparameters per sample, then one batch of normals."""
    model = rt.models.BayesianPMF(n_factors=2, n_samples=6, burn_in=2, random_state=0).fit(data)
    items, values = np.array([0, 7, 12]), np.array([5.0, 1.0, 4.0])
    factors, bias = model.fold_in(items, values, random_state=42)
    assert factors.shape == (4, 2) and bias == 0.0
    rng = np.random.default_rng(42)
    s = model.settings_
    known = model.user_counts_ > 0
    precisions, linears = [], []
    for U, V, alpha in zip(model.user_samples_, model.item_samples_, model.alpha_samples_):
        mu_star, beta_star, nu_star, W_star = normal_wishart_posterior(
            U[known], np.full(2, s["mu0"]), s["beta0"], s["nu0"], s["w0"] * np.eye(2)
        )
        mu, Lam = sample_normal_wishart(mu_star, beta_star, W_star, nu_star, rng)
        G = V[items]
        precision = Lam + alpha * sum(np.outer(g, g) for g in G)
        linear = alpha * sum((r - model.offset_) * g for r, g in zip(values, G)) + Lam @ mu
        precisions.append(precision)
        linears.append(linear)
    z = rng.standard_normal((4, 2))
    for k in range(4):
        # x = P^{-1} (b + L z) with P = L L^T, by a dense inverse
        L = np.linalg.cholesky(precisions[k])
        expected = np.linalg.inv(precisions[k]) @ (linears[k] + L @ z[k])
        np.testing.assert_allclose(factors[k], expected, rtol=1e-10)
    # score_new_user averages the samples' scores
    scores = model.score_new_user(factors)
    expected = model.offset_ + np.mean(
        [model.item_samples_[k] @ factors[k] for k in range(4)], axis=0
    )
    known_items = model.item_counts_ > 0
    np.testing.assert_allclose(scores[known_items], expected[known_items], rtol=1e-12)
    assert np.all(scores[~known_items] == model.global_mean_)
    # seeds: the same seed, the same draws; the model's own int seed by default
    assert np.array_equal(model.fold_in(items, values, random_state=42)[0], factors)
    assert np.array_equal(
        model.fold_in(items, values)[0], model.fold_in(items, values, random_state=0)[0]
    )
    assert not np.array_equal(model.fold_in(items, values, random_state=1)[0], factors)
    with pytest.raises(ValueError, match=r"factors must have shape \(4, 2\)"):
        model.score_new_user(factors[0])


def test_biased_bpmf_fold_in_draws_factors_and_bias_jointly_per_sample(data):
    """Replay the draws of a biased model by dense formulas: the Normal-Gamma hyperparameters of
    the biases by hand, then the joint (x, b) conditional with f_j = (V_j, 1) and R_j - mu - c_j.
    """
    model = rt.models.BayesianPMF(
        n_factors=2, n_samples=6, burn_in=2, biased=True, random_state=0
    ).fit(data)
    items, values = np.array([0, 7, 12]), np.array([5.0, 1.0, 4.0])
    factors, bias = model.fold_in(items, values, random_state=42)
    assert factors.shape == (4, 2) and bias.shape == (4,)
    rng = np.random.default_rng(42)
    s = model.settings_
    known = model.user_counts_ > 0
    precisions, linears = [], []
    for k in range(4):
        U, V, alpha = model.user_samples_[k], model.item_samples_[k], model.alpha_samples_[k]
        b, c = model.user_bias_samples_[k][known], model.item_bias_samples_[k]
        mu_star, beta_star, nu_star, W_star = normal_wishart_posterior(
            U[known], np.full(2, s["mu0"]), s["beta0"], s["nu0"], s["w0"] * np.eye(2)
        )
        mu, Lam = sample_normal_wishart(mu_star, beta_star, W_star, nu_star, rng)
        # Normal-Gamma: lambda_b ~ Gamma((1 + N)/2, rate 1/(2 w0) + N S/2
        # + beta0 N b_bar^2 / (2 (beta0 + N))), drawn as a scaled chi-square,
        # then mu_b ~ N(N b_bar / (beta0 + N), 1 / ((beta0 + N) lambda_b))
        N, beta0 = b.size, s["beta0"]
        rate = 1 / (2 * s["w0"]) + 0.5 * np.sum((b - b.mean()) ** 2)
        rate += beta0 * N / (2 * (beta0 + N)) * b.mean() ** 2
        lam_b = rng.chisquare(1.0 + N) / (2 * rate)
        mu_b = N * b.mean() / (beta0 + N) + rng.standard_normal() / np.sqrt((beta0 + N) * lam_b)
        prior = np.zeros((3, 3))
        prior[:2, :2], prior[2, 2] = Lam, lam_b
        mean = np.append(mu, mu_b)
        precision, linear = prior.copy(), prior @ mean
        for j, r in zip(items, values):
            f = np.append(V[j], 1.0)
            precision += alpha * np.outer(f, f)
            linear += alpha * (r - model.offset_ - c[j]) * f
        precisions.append(precision)
        linears.append(linear)
    z = rng.standard_normal((4, 3))
    for k in range(4):
        L = np.linalg.cholesky(precisions[k])
        expected = np.linalg.inv(precisions[k]) @ (linears[k] + L @ z[k])
        np.testing.assert_allclose(factors[k], expected[:2], rtol=1e-9)
        assert bias[k] == pytest.approx(expected[2], rel=1e-9)
    # score_new_user: the mean over samples of mu + b + c_j + V_j x, with the item biases
    assert np.any(model.item_bias_samples_ != 0)
    scores = model.score_new_user(factors, bias)
    expected = np.mean(
        [
            model.offset_
            + bias[k]
            + model.item_bias_samples_[k]
            + model.item_samples_[k] @ factors[k]
            for k in range(4)
        ],
        axis=0,
    )
    known_items = model.item_counts_ > 0
    np.testing.assert_allclose(scores[known_items], expected[known_items], rtol=1e-12)
    np.testing.assert_allclose(scores[~known_items], model.offset_ + bias.mean(), rtol=1e-12)
    # recommend_new_user chains them: the best items the user did not rate, ties to the lower index
    top, top_scores = model.recommend_new_user(items, values, k=5)
    candidates = [j for j in range(data.n_items) if j not in set(items.tolist())]
    own = model.score_new_user(*model.fold_in(items, values))
    assert top.tolist() == sorted(candidates, key=lambda j: (-own[j], j))[:5]
    np.testing.assert_array_equal(top_scores, own[top])
    # the bias must come with the factors, one per sample
    for wrong in (0.0, bias[:3], np.zeros((4, 1))):
        with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
            model.score_new_user(factors, wrong)
    unbiased = rt.models.BayesianPMF(n_factors=2, n_samples=6, burn_in=2, random_state=0).fit(data)
    with pytest.raises(ValueError, match="bias must be a float"):
        unbiased.score_new_user(factors, bias)


def test_biased_bpmf_fold_in_of_a_training_user_matches_its_own_predictions():
    """With strong item biases, folding in a training user's own ratings gives scores close to
    that user's posterior-mean predictions; without the item biases they would not be."""
    rng = np.random.default_rng(8)
    m, n = 40, 50
    U, V = rng.normal(0, 0.5, size=(m, 2)), rng.normal(0, 0.5, size=(n, 2))
    b, c = rng.normal(0, 0.7, size=m), rng.normal(0, 1.0, size=n)
    users, items = np.nonzero(rng.random((m, n)) < 0.5)
    values = 3.0 + b[users] + c[items] + np.sum(U[users] * V[items], axis=1)
    values += rng.normal(0, 0.3, size=users.size)
    train = rt.Ratings(users, items, values, n_users=m, n_items=n)
    model = rt.models.BayesianPMF(
        n_factors=2, n_samples=120, burn_in=40, biased=True, random_state=0
    ).fit(train)
    for user in (0, 1, 2):
        mine = users == user
        factors, bias = model.fold_in(items[mine], values[mine], random_state=user)
        scores = model.score_new_user(factors, bias)
        own = model.offset_ + model.user_bias_[user] + model.item_bias_
        own += np.mean(
            np.einsum("snd,sd->sn", model.item_samples_, model.user_samples_[:, user]), 0
        )
        # the fold-in draws come from the same conditional as the user's own samples did
        assert np.corrcoef(scores, own)[0, 1] > 0.99
        assert np.max(np.abs(scores - own)) < 0.15
        assert bias.mean() == pytest.approx(model.user_bias_[user], abs=0.1)
        # the item biases carry much of it: scores without them would track far worse
        assert np.corrcoef(scores - model.item_bias_, own)[0, 1] < 0.7
