"""Bayesian PMF: the Gibbs sampler's pieces against direct formulas; the fitted model's contract."""

import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial.linalg import RowGroups, sample_gaussian
from recsys_tutorial.models.bpmf import (
    BIAS_NU0,
    BayesianPMF,
    bias_augmented,
    normal_wishart_posterior,
    row_conditionals,
    sample_normal_wishart,
    sample_wishart,
)


@pytest.fixture(scope="module")
def small():
    """A small synthetic problem, split, with a fitted model that has seen an eval set."""
    data = rt.datasets.make_synthetic(
        60, 80, n_factors=3, density=0.25, sigma=0.4, mean=3.0, random_state=3
    )
    train, test = rt.model_selection.train_test_split(data.ratings, test_size=0.2, random_state=0)
    model = BayesianPMF(n_factors=3, n_samples=40, burn_in=10, alpha=2.0, random_state=0).fit(
        train, eval_set=test
    )
    return train, test, model


def stacked_sample_predictions(model, users, items):
    """Per-sample U_i . V_j for each pair, shape (n_kept, n_pairs).

    A direct computation, not batched over the pairs.
    """
    return np.stack(
        [
            np.sum(U[users] * V[items], axis=1)
            for U, V in zip(model.user_samples_, model.item_samples_)
        ]
    )


# ------------------------------------------------------------ sampler pieces
def test_row_conditional_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    m, n, d, alpha = 5, 7, 3, 1.7
    users = np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 3, 1])
    items = np.array([1, 4, 6, 2, 0, 4, 1, 2, 3, 5, 6])
    residuals = rng.normal(size=users.size)
    V = rng.normal(size=(n, d))
    prior_mean = rng.normal(size=d)
    A = rng.normal(size=(d, d))
    prior_precision = A @ A.T + d * np.eye(d)
    precision, linear = row_conditionals(
        RowGroups(users, items, m, n), V, residuals, alpha, prior_mean, prior_precision
    )
    for i in range(m):
        # Lambda_i* = Lambda_U + alpha sum_{j in Omega_i} V_j V_j^T ;
        # mu_i* = Lambda_i*^-1 (alpha sum R_ij V_j + Lambda_U mu_U)
        Lam = prior_precision.copy()
        rhs = prior_precision @ prior_mean
        for k in range(users.size):
            if users[k] == i:
                Lam += alpha * np.outer(V[items[k]], V[items[k]])
                rhs += alpha * residuals[k] * V[items[k]]
        np.testing.assert_allclose(precision[i], Lam, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            np.linalg.solve(precision[i], linear[i]), np.linalg.solve(Lam, rhs), rtol=1e-10
        )
    # user 4 has no rating: its conditional is the prior
    np.testing.assert_allclose(precision[4], prior_precision)
    # the item side: the same function with the roles swapped
    U = rng.normal(size=(m, d))
    precision_items, _ = row_conditionals(
        RowGroups(items, users, n, m), U, residuals, alpha, prior_mean, prior_precision
    )
    j = 4  # rated by users 0 and 2
    expected = prior_precision + alpha * (np.outer(U[0], U[0]) + np.outer(U[2], U[2]))
    np.testing.assert_allclose(precision_items[j], expected, rtol=1e-12)


def test_batched_gaussian_draws_have_the_canonical_mean_and_covariance():
    rng = np.random.default_rng(1)
    d, n_draws = 3, 40_000
    A = rng.normal(size=(d, d))
    precision = A @ A.T + 0.5 * np.eye(d)
    linear = rng.normal(size=d)
    draws = sample_gaussian(
        np.broadcast_to(precision, (n_draws, d, d)).copy(),
        np.tile(linear, (n_draws, 1)),
        np.random.default_rng(2),
    )
    covariance = np.linalg.inv(precision)
    mean = covariance @ linear
    # standard errors of the sample mean and sample covariance entries
    se_mean = np.sqrt(np.diag(covariance) / n_draws)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4 * se_mean)
    se_cov = np.sqrt((covariance**2 + np.outer(np.diag(covariance), np.diag(covariance))) / n_draws)
    assert np.all(np.abs(np.cov(draws.T) - covariance) < 4 * se_cov)


def test_normal_wishart_posterior_matches_the_completed_square_form():
    rng = np.random.default_rng(4)
    N, d = 25, 3
    X = rng.normal(1.0, 2.0, size=(N, d))
    mu0, beta0, nu0 = np.array([0.5, -1.0, 2.0]), 3.0, 4.5
    B = rng.normal(size=(d, d))
    W0 = B @ B.T + np.eye(d)
    mu_star, beta_star, nu_star, W_star = normal_wishart_posterior(X, mu0, beta0, nu0, W0)
    assert beta_star == beta0 + N and nu_star == nu0 + N
    np.testing.assert_allclose(mu_star, (beta0 * mu0 + X.sum(axis=0)) / (beta0 + N), rtol=1e-12)
    # Independent route: multiplying prior and likelihood and completing the square gives
    # W*^-1 = W0^-1 + sum_k x_k x_k^T + beta0 mu0 mu0^T - beta* mu* mu*^T
    # (no centred scatter matrix, no beta0 N / (beta0 + N) factor).
    expected_inv = (
        np.linalg.inv(W0)
        + X.T @ X
        + beta0 * np.outer(mu0, mu0)
        - beta_star * np.outer(mu_star, mu_star)
    )
    np.testing.assert_allclose(np.linalg.inv(W_star), expected_inv, rtol=1e-10)
    np.testing.assert_array_equal(W_star, W_star.T)


def test_wishart_draws_have_the_documented_moments():
    # scale W, nu degrees of freedom: E[Lambda] = nu W, Var[Lambda_kl] = nu (W_kl^2 + W_kk W_ll)
    rng = np.random.default_rng(5)
    d, nu, n_draws = 3, 5.5, 20_000
    B = rng.normal(size=(d, d))
    W = 0.3 * (B @ B.T + np.eye(d))
    draws = np.stack([sample_wishart(W, nu, rng) for _ in range(n_draws)])
    variance = nu * (W**2 + np.outer(np.diag(W), np.diag(W)))
    assert np.all(np.abs(draws.mean(axis=0) - nu * W) < 4 * np.sqrt(variance / n_draws))
    np.testing.assert_allclose(draws.var(axis=0), variance, rtol=0.1)


def test_normal_wishart_draws_have_the_documented_moments():
    # Lambda ~ W(W, nu): E[Lambda] = nu W; mu | Lambda ~ N(m, (beta Lambda)^-1): E[mu] = m and,
    # by the law of total covariance, Cov[mu] = E[(beta Lambda)^-1] = W^-1 / (beta (nu - d - 1)).
    rng = np.random.default_rng(6)
    d, nu, beta, n_draws = 2, 10.0, 3.0, 20_000
    W = np.array([[0.5, 0.2], [0.2, 0.3]])
    m = np.array([1.0, -2.0])
    draws = [sample_normal_wishart(m, beta, W, nu, rng) for _ in range(n_draws)]
    means = np.array([mean for mean, _ in draws])
    precisions = np.array([precision for _, precision in draws])
    covariance = np.linalg.inv(W) / (beta * (nu - d - 1))
    assert np.all(np.abs(means.mean(axis=0) - m) < 4 * np.sqrt(np.diag(covariance) / n_draws))
    np.testing.assert_allclose(np.cov(means.T), covariance, rtol=0.1)
    np.testing.assert_allclose(precisions.mean(axis=0), nu * W, rtol=0.05)


# ------------------------------------------------------------------ biases
def _log_joint_terms_of_user(x, i, users, items, R, mu, c, V, alpha, mu_u, lam_u, mu_b, lam_b):
    """The terms of the biased model's log-joint that contain user i's x = (U_i, b_i),
    written out one rating at a time (no augmented vectors)."""
    u, b = x[:-1], x[-1]
    total = -0.5 * (u - mu_u) @ lam_u @ (u - mu_u) - 0.5 * lam_b * (b - mu_b) ** 2
    for k in range(users.size):
        if users[k] == i:
            mean = mu + b + c[items[k]] + u @ V[items[k]]
            total -= 0.5 * alpha * (R[k] - mean) ** 2
    return total


def test_joint_factor_and_bias_conditional_matches_the_log_joint():
    # log N(x | P^-1 l, P^-1) = -x^T P x / 2 + l^T x + const: the conditional's precision P is
    # minus the Hessian of the log-joint in x and its linear term l the gradient at x = 0; the
    # log-joint is quadratic in x, so central differences give both up to rounding
    rng = np.random.default_rng(7)
    m, n, d, alpha, mu = 4, 6, 2, 1.3, 3.2
    users = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 0])
    items = np.array([0, 2, 5, 1, 2, 0, 3, 4, 5, 4])
    R = rng.normal(3.0, 1.0, size=users.size)
    V, c = rng.normal(size=(n, d)), rng.normal(size=n)
    A = rng.normal(size=(d, d))
    mu_u, lam_u = rng.normal(size=d), A @ A.T + np.eye(d)
    mu_b, lam_b = 0.4, 2.5
    F, prior_mean, prior_precision = bias_augmented(V, mu_u, lam_u, mu_b, lam_b)
    precision, linear = row_conditionals(
        RowGroups(users, items, m, n), F, R - mu - c[items], alpha, prior_mean, prior_precision
    )
    eye = np.eye(d + 1)
    for i in range(m):

        def f(x, i=i):
            return _log_joint_terms_of_user(
                x, i, users, items, R, mu, c, V, alpha, mu_u, lam_u, mu_b, lam_b
            )

        hessian = np.array(
            [
                [(f(ea + eb) - f(ea - eb) - f(eb - ea) + f(-ea - eb)) / 4.0 for eb in eye]
                for ea in eye
            ]
        )
        gradient = np.array([(f(e) - f(-e)) / 2.0 for e in eye])
        np.testing.assert_allclose(precision[i], -hessian, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(linear[i], gradient, rtol=1e-9, atol=1e-9)
    # user 3 has no rating: the prior, the bias independent of the factors
    np.testing.assert_allclose(precision[3][:d, :d], lam_u)
    assert precision[3][d, d] == lam_b and np.all(precision[3][:d, d] == 0)


def test_bias_hyperparameters_follow_the_normal_gamma_update():
    # Normal-Gamma(m0 = 0, kappa0 = beta0, shape a0 = nu0 / 2, rate r0 = 1 / (2 w0)) after N
    # observations (Murphy 2007, "Conjugate Bayesian analysis of the Gaussian", sec. 3):
    # kappa_N = kappa0 + N, m_N = N xbar / kappa_N, a_N = a0 + N / 2,
    # r_N = r0 + sum (x - xbar)^2 / 2 + kappa0 N xbar^2 / (2 kappa_N)
    from scipy import stats

    rng = np.random.default_rng(9)
    N, beta0, w0 = 40, 2.0, 1.5
    b = rng.normal(0.3, 0.5, size=N)
    mu_star, beta_star, nu_star, W_star = normal_wishart_posterior(
        b[:, None], np.zeros(1), beta0, BIAS_NU0, w0 * np.eye(1)
    )
    xbar = b.mean()
    assert beta_star == beta0 + N
    assert mu_star[0] == pytest.approx(N * xbar / (beta0 + N), rel=1e-12)
    assert nu_star / 2 == BIAS_NU0 / 2 + N / 2
    rate = 1 / (2 * w0) + 0.5 * np.sum((b - xbar) ** 2) + beta0 * N * xbar**2 / (2 * (beta0 + N))
    assert 1 / (2 * W_star[0, 0]) == pytest.approx(rate, rel=1e-12)
    # and a one-dimensional Wishart draw is that Gamma: W(w, nu) = Gamma(nu / 2, scale 2 w)
    draws = [sample_wishart(W_star, nu_star, rng)[0, 0] for _ in range(4000)]
    gamma = stats.gamma(a=nu_star / 2, scale=1 / rate)
    assert stats.kstest(draws, gamma.cdf).pvalue > 1e-3


@pytest.fixture(scope="module")
def with_biases():
    """Ratings drawn from the biased model (strong biases, rank 2), split, and the truth."""
    rng = np.random.default_rng(8)
    m, n, d = 50, 60, 2
    U, V = rng.normal(0, 0.6, size=(m, d)), rng.normal(0, 0.6, size=(n, d))
    b, c = rng.normal(0, 0.7, size=m), rng.normal(0, 0.7, size=n)
    users, items = np.nonzero(rng.random((m, n)) < 0.4)
    values = (
        3.0 + b[users] + c[items] + np.sum(U[users] * V[items], axis=1)
        + rng.normal(0, 0.3, size=users.size)
    )  # fmt: skip
    data = rt.Ratings(users, items, values, n_users=m, n_items=n)
    train, test = rt.model_selection.train_test_split(data, test_size=0.2, random_state=0)
    return train, test, b, c


def test_biased_model_recovers_the_biases_and_predicts_their_posterior_mean(with_biases):
    train, test, b, c = with_biases
    kwargs = {"n_factors": 2, "n_samples": 200, "burn_in": 80, "random_state": 0}
    model = BayesianPMF(biased=True, **kwargs).fit(train)
    # the biases are identified up to a shift shared with mu: correlations, not values
    assert np.corrcoef(model.user_bias_, b)[0, 1] > 0.95
    assert np.corrcoef(model.item_bias_, c)[0, 1] > 0.95
    np.testing.assert_array_equal(model.user_bias_, model.user_bias_samples_.mean(axis=0))
    # the prediction is mu + the mean over samples of b_i + c_j + U_i . V_j, computed directly
    per_sample = (
        model.user_bias_samples_[:, test.users]
        + model.item_bias_samples_[:, test.items]
        + stacked_sample_predictions(model, test.users, test.items)
    )
    low, high = train.values.min(), train.values.max()
    mean, std = model.predict(test.users, test.items, return_std=True)
    np.testing.assert_allclose(
        mean, np.clip(model.offset_ + per_sample.mean(axis=0), low, high), rtol=1e-12
    )
    np.testing.assert_allclose(
        std, np.sqrt(per_sample.var(axis=0) + np.mean(1 / model.alpha_samples_)), rtol=1e-10
    )
    # the residual noise is learnt: sigma = 0.3, alpha about 11
    assert 8.0 < np.mean(model.alpha_samples_) < 14.0
    # rank 2 without biases cannot hold rank 2 plus two bias columns: the biased model wins
    plain = BayesianPMF(**kwargs).fit(train)
    assert np.all(plain.user_bias_samples_ == 0) and np.all(plain.item_bias_ == 0)
    biased_rmse = rt.metrics.rmse(test.values, mean)
    assert biased_rmse < 0.45 < rt.metrics.rmse(test.values, plain.predict(test.users, test.items))


def test_sampled_alpha_follows_its_conditional_given_the_biased_state(with_biases):
    # each kept alpha is drawn from Gamma(a0 + n/2, rate b0 + SSE/2) given the same sweep's
    # (U, V, b, c), the SSE taken with the biases; its CDF value under that Gamma (the PIT) is
    # then uniform and independent of the earlier draws, whatever the chain's mixing
    from scipy import stats

    from recsys_tutorial.models.bpmf import ALPHA_PRIOR

    train, _, _, _ = with_biases
    model = BayesianPMF(n_factors=2, n_samples=300, burn_in=0, biased=True, random_state=0)
    model.fit(train)
    a0, b0 = ALPHA_PRIOR
    pit = []
    for U, V, b, c, alpha in zip(
        model.user_samples_,
        model.item_samples_,
        model.user_bias_samples_,
        model.item_bias_samples_,
        model.alpha_samples_,
    ):
        fitted = model.offset_ + b[train.users] + c[train.items]
        fitted += np.sum(U[train.users] * V[train.items], axis=1)
        sse = np.sum((train.values - fitted) ** 2)
        pit.append(stats.gamma(a0 + len(train) / 2, scale=1 / (b0 + sse / 2)).cdf(alpha))
    assert stats.kstest(pit, "uniform").pvalue > 1e-3


def test_biased_fallbacks_add_the_known_sides_mean_bias(with_biases):
    train, _, _, _ = with_biases
    keep = (train.users != 5) & (train.items != 7)
    train = train.subset(np.flatnonzero(keep))
    model = BayesianPMF(n_factors=2, n_samples=30, burn_in=10, biased=True, random_state=0)
    model.fit(train)
    assert np.all(model.user_bias_samples_[:, 5] == 0)
    assert np.all(model.item_bias_samples_[:, 7] == 0)
    mu, b, c = model.offset_, model.user_bias_, model.item_bias_
    users = np.array([5, 0, 5, 99, 0])
    items = np.array([0, 7, 7, 0, 999])
    mean, std = model.predict(users, items, return_std=True)
    expected = np.clip(
        [mu + c[0], mu + b[0], mu, mu + c[0], mu + b[0]], train.values.min(), train.values.max()
    )
    np.testing.assert_allclose(mean, expected, rtol=1e-12)
    np.testing.assert_array_equal(std, np.full(5, train.values.std()))
    # the top-N path scores the unknown user by mu + c_j too, and the known user's unknown
    # item by mu + b_i
    rows = model._score_users(np.array([5, 0]))
    np.testing.assert_allclose(rows[0], mu + c, rtol=1e-12)
    assert rows[1, 7] == pytest.approx(mu + b[0], rel=1e-12)


# ------------------------------------------------------------------- model
def test_same_seed_is_identical_and_another_seed_differs(small):
    train, test, model = small
    again = BayesianPMF(n_factors=3, n_samples=40, burn_in=10, alpha=2.0, random_state=0).fit(train)
    np.testing.assert_array_equal(
        again.predict(test.users, test.items), model.predict(test.users, test.items)
    )
    np.testing.assert_array_equal(again.user_samples_, model.user_samples_)
    # the eval set is only watched: fitting without it draws exactly the same chain
    np.testing.assert_array_equal(again.history_, model.history_)
    other = BayesianPMF(n_factors=3, n_samples=40, burn_in=10, alpha=2.0, random_state=1).fit(train)
    assert not np.array_equal(
        other.predict(test.users, test.items), model.predict(test.users, test.items)
    )


def test_shapes_and_histories(small):
    train, test, model = small
    assert model.user_samples_.shape == (30, train.n_users, 3)
    assert model.item_samples_.shape == (30, train.n_items, 3)
    assert model.alpha_samples_.shape == (30,) and np.all(model.alpha_samples_ == 2.0)
    assert model.history_.shape == (40,) and model.history_time_.shape == (40,)
    assert model.history_eval_sample_.shape == (40,) and model.history_eval_.shape == (30,)
    mean, std = model.predict(test.users, test.items, return_std=True)
    assert mean.shape == std.shape == (len(test),)
    assert model.predict(0, 1).shape == (1,)
    # the last running-mean RMSE is the RMSE of predict
    assert model.history_eval_[-1] == pytest.approx(rt.metrics.rmse(test.values, mean), rel=1e-12)
    # the histories score the last sweep's own sample, clipped like predict
    last_train = model.offset_ + stacked_sample_predictions(model, train.users, train.items)[-1]
    low, high = train.values.min(), train.values.max()
    assert model.history_[-1] == pytest.approx(
        rt.metrics.rmse(train.values, np.clip(last_train, low, high)), rel=1e-12
    )
    last_test = model.offset_ + stacked_sample_predictions(model, test.users, test.items)[-1]
    assert model.history_eval_sample_[-1] == pytest.approx(
        rt.metrics.rmse(test.values, np.clip(last_test, low, high)), rel=1e-12
    )
    no_eval = BayesianPMF(n_factors=3, n_samples=5, burn_in=1, random_state=0).fit(train)
    assert no_eval.history_eval_.size == 0 and no_eval.history_eval_sample_.size == 0
    assert no_eval.settings_["nu0"] == 3.0


def test_prediction_is_the_mean_of_per_sample_dot_products(small):
    train, test, model = small
    per_sample = stacked_sample_predictions(model, test.users, test.items)
    expected = np.clip(
        model.offset_ + per_sample.mean(axis=0), train.values.min(), train.values.max()
    )
    mean, std = model.predict(test.users, test.items, return_std=True)
    np.testing.assert_allclose(mean, expected, rtol=1e-12)
    np.testing.assert_allclose(
        std, np.sqrt(per_sample.var(axis=0) + np.mean(1 / model.alpha_samples_)), rtol=1e-10
    )
    # E[U^T V] != E[U]^T E[V]: the dot product of the mean factors is a different prediction
    plug_in = model.offset_ + np.sum(
        model.user_factors_[test.users] * model.item_factors_[test.items], axis=1
    )
    assert np.max(np.abs(plug_in - model.offset_ - per_sample.mean(axis=0))) > 1e-3


def test_predictions_are_clipped_to_the_training_range(small):
    train, _, model = small
    users, items = (
        np.repeat(np.arange(train.n_users), train.n_items),
        np.tile(np.arange(train.n_items), train.n_users),
    )
    raw = model._predict_unclipped(users, items)
    low, high = train.values.min(), train.values.max()
    assert raw.min() < low or raw.max() > high  # otherwise this test could not fail
    pred = model.predict(users, items)
    assert pred.min() >= low and pred.max() <= high
    np.testing.assert_array_equal(pred, np.clip(raw, low, high))


def test_unknown_users_and_items_get_the_training_mean():
    data = rt.datasets.make_synthetic(
        30, 40, n_factors=2, density=0.3, mean=3.0, random_state=0
    ).ratings
    keep = (data.users != 5) & (data.items != 7)
    train = data.subset(np.flatnonzero(keep))
    assert train.n_users == 30 and train.n_items == 40  # user 5 and item 7 exist but have no rating
    model = BayesianPMF(n_factors=2, n_samples=30, burn_in=10, alpha=4.0, random_state=0).fit(train)
    assert np.all(model.user_samples_[:, 5] == 0) and np.all(model.item_samples_[:, 7] == 0)
    users = np.array([5, 0, 5, 99, 0, 1])
    items = np.array([0, 7, 7, 0, 999, 2])
    mean, std = model.predict(users, items, return_std=True)
    np.testing.assert_array_equal(mean[:5], np.full(5, train.values.mean()))
    np.testing.assert_array_equal(std[:5], np.full(5, train.values.std()))
    # a known pair is predicted by the model, more confidently than the fallback
    assert mean[5] != train.values.mean() and std[5] < 0.7 * train.values.std()
    # one user against every item (the recommend path): item 7 falls back, the others are
    # model means
    every = model.predict(np.zeros(40, dtype=int), np.arange(40))
    expected = np.clip(
        model.offset_
        + stacked_sample_predictions(model, np.zeros(40, dtype=int), np.arange(40)).mean(axis=0),
        train.values.min(),
        train.values.max(),
    )
    expected[7] = train.values.mean()
    np.testing.assert_allclose(every, expected, rtol=1e-12)


def test_recommend_ranks_by_the_posterior_mean(small):
    train, _, model = small
    user = 3
    scores = model.offset_ + stacked_sample_predictions(
        model, np.full(train.n_items, user), np.arange(train.n_items)
    ).mean(axis=0)
    # predict for one user against every item (the one-user shortcut) gives the same numbers
    low, high = train.values.min(), train.values.max()
    np.testing.assert_allclose(
        model.predict(np.full(train.n_items, user), np.arange(train.n_items)),
        np.clip(scores, low, high),
        rtol=1e-12,
    )
    seen = train.items[train.users == user]
    scores[seen] = -np.inf
    top, _ = model.recommend(user, k=5)
    assert not set(top) & set(seen)
    np.testing.assert_array_equal(top, np.argsort(-scores, kind="stable")[:5])


def test_save_load_round_trip_is_exact(small, tmp_path):
    _train, test, model = small
    path = tmp_path / "bpmf.npz"
    model.save(path)
    loaded = BayesianPMF.load(path)
    assert loaded.get_params() == model.get_params()
    for name in BayesianPMF._fitted_attributes:
        a, b = getattr(model, name), getattr(loaded, name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b, name
    for kwargs in ({}, {"return_std": True}):
        np.testing.assert_array_equal(
            loaded.predict(test.users, test.items, **kwargs),
            model.predict(test.users, test.items, **kwargs),
        )
    np.testing.assert_array_equal(loaded.recommend(0, 10)[0], model.recommend(0, 10)[0])


@pytest.mark.parametrize("alpha", [4.0, "sample"])
def test_synthetic_accuracy_and_calibration(alpha):
    # sigma = 0.5, so the true alpha is 1 / sigma^2 = 4; "sample" has to learn it.
    # Density 0.3 gives ~96 training ratings per user: with density 0.1 the factor
    # uncertainty alone adds ~0.14 to the RMSE (and the model reports it in std).
    data = rt.datasets.make_synthetic(300, 400, n_factors=5, density=0.3, sigma=0.5, random_state=0)
    train, test = rt.model_selection.train_test_split(data.ratings, test_size=0.2, random_state=0)
    model = BayesianPMF(n_factors=5, n_samples=60, burn_in=10, alpha=alpha, random_state=0).fit(
        train
    )
    mean, std = model.predict(test.users, test.items, return_std=True)
    assert rt.metrics.rmse(test.values, mean) <= 1.1 * data.sigma
    coverage = np.mean(np.abs(test.values - mean) <= 1.645 * std)
    assert 0.85 <= coverage <= 0.95, coverage
    # calibrated in the mean too: the average predictive variance (factor uncertainty
    # + noise) is the mean squared error, which exceeds sigma^2 by the estimation error
    assert np.mean(std**2) == pytest.approx(np.mean((test.values - mean) ** 2), rel=0.08)
    if alpha == "sample":
        assert model.alpha_samples_.std() > 0
        assert model.alpha_samples_.mean() == pytest.approx(1 / data.sigma**2, rel=0.1)


@pytest.mark.parametrize("init", ["random", "map"])
def test_both_starting_points_converge(init):
    data = rt.datasets.make_synthetic(100, 120, n_factors=2, density=0.3, sigma=0.3, random_state=2)
    train, test = rt.model_selection.train_test_split(data.ratings, test_size=0.2, random_state=0)
    model = BayesianPMF(n_factors=2, n_samples=60, burn_in=20, init=init, random_state=0).fit(
        train, eval_set=test
    )
    if init == "random":
        assert (
            model.history_[0] > 0.8 * train.values.std()
        )  # the first sweep is still near the origin
    else:
        assert model.history_[0] < 0.5 * train.values.std()  # the MAP start already fits
    assert model.history_[-1] < 0.5 * train.values.std()
    assert model.history_eval_[-1] <= 1.15 * data.sigma
    np.testing.assert_array_equal(
        BayesianPMF(n_factors=2, n_samples=60, burn_in=20, init=init, random_state=0)
        .fit(train)
        .history_,
        model.history_,
    )


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_samples": 10, "burn_in": 10}, "n_samples"),
        ({"n_samples": 5, "burn_in": 8}, "burn_in"),
        ({"n_samples": 0}, "n_samples"),
        ({"burn_in": -1}, "burn_in"),
        ({"n_factors": -2}, "n_factors"),
        ({"alpha": -1.0}, "alpha"),
        ({"alpha": "learn"}, "alpha"),
        ({"beta0": 0.0}, "beta0"),
        ({"w0": -1.0}, "w0"),
        ({"nu0": 1.0, "n_factors": 3}, "nu0"),
        ({"init": "svd"}, "init"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(small, kwargs, name):
    train, _, _ = small
    params = {"n_factors": 2, "n_samples": 3, "burn_in": 1, **kwargs}
    model = BayesianPMF(**params)
    with pytest.raises(ValueError, match=name):
        model.fit(train)
    assert not hasattr(model, "global_mean_")  # nothing was fitted


def test_bad_inputs_raise(small):
    train, _, model = small
    with pytest.raises(TypeError, match="eval_set"):
        BayesianPMF(n_samples=3, burn_in=1).fit(train, eval_set=[1, 2, 3])
    with pytest.raises(TypeError, match="random_state"):
        BayesianPMF(n_samples=3, burn_in=1, random_state="seed").fit(train)
    with pytest.raises(ValueError, match="equal lengths"):
        model.predict([0, 1], [0], return_std=True)
    with pytest.raises(TypeError, match="return_std"):
        model.predict([0], [0], return_std="yes")
    with pytest.raises(rt.models.NotFittedError):
        BayesianPMF().predict([0], [0])


def test_rows_without_ratings_take_no_part_in_the_sampler():
    # They integrate out of the model exactly, so padding the index space with empty
    # users and items must leave the chain of the others unchanged (init="random"
    # draws only for rows with data, and so does every sweep).
    data = rt.datasets.make_synthetic(40, 50, n_factors=2, density=0.3, random_state=7).ratings
    padded = rt.Ratings(data.users, data.items, data.values, n_users=55, n_items=58)
    kwargs = dict(n_factors=2, n_samples=8, burn_in=2, init="random", random_state=0)
    plain, wide = BayesianPMF(**kwargs).fit(data), BayesianPMF(**kwargs).fit(padded)
    np.testing.assert_allclose(
        wide.user_samples_[:, :40], plain.user_samples_, rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        wide.item_samples_[:, :50], plain.item_samples_, rtol=1e-10, atol=1e-12
    )
    assert np.all(wide.user_samples_[:, 40:] == 0) and np.all(wide.item_samples_[:, 50:] == 0)


def test_verbose_prints_to_stdout_only_when_asked(small, capsys):
    train, test, _ = small
    BayesianPMF(n_factors=2, n_samples=3, burn_in=1, random_state=0).fit(train, eval_set=test)
    assert capsys.readouterr() == ("", "")
    BayesianPMF(n_factors=2, n_samples=3, burn_in=1, random_state=0, verbose=True).fit(
        train, eval_set=test
    )
    out, err = capsys.readouterr()
    assert err == "" and len(out.splitlines()) == 3 and "posterior mean" in out.splitlines()[-1]


def test_fit_warns_when_the_kept_sweeps_still_drift(movielens):
    """The default 20-sweep burn-in on MovieLens leaves a drifting chain; a long one does not."""
    train, _ = rt.model_selection.train_test_split(movielens, 0.2, random_state=0)
    with pytest.warns(rt.models.ConvergenceWarning, match="burn_in=20 is shorter"):
        short = rt.models.BayesianPMF(n_factors=5, n_samples=60, burn_in=20, random_state=0).fit(
            train
        )
    assert short.burn_in_rhat_ > rt.models.bpmf.BURN_IN_RHAT_LIMIT
    # the independent check of the same drift: the kept halves' mean training RMSE differ
    kept = short.history_[20:]
    assert abs(kept[:20].mean() - kept[20:].mean()) > 3 * kept.std() / np.sqrt(kept.size)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", rt.models.ConvergenceWarning)
        long = rt.models.BayesianPMF(n_factors=5, n_samples=260, burn_in=160, random_state=0).fit(
            train
        )
    assert long.burn_in_rhat_ <= rt.models.bpmf.BURN_IN_RHAT_LIMIT
