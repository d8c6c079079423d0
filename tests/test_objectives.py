"""objectives: the numpy MF loss, gradients and PMF log-posterior against naive references."""

import numpy as np
import pytest
import scipy.stats

import recsys_tutorial as rt
from recsys_tutorial.gradcheck import check_gradient
from recsys_tutorial.objectives import (
    mf_gradients,
    mf_loss,
    pmf_log_posterior,
    predict_observed,
    regularization_weights,
)

# (m, n, d, density): from tiny to rectangular; every case gets a user and an item with no rating
SHAPES = [(4, 3, 1, 0.6), (7, 5, 2, 0.5), (12, 20, 3, 0.3), (25, 9, 4, 0.25)]


def make_problem(m, n, d, density, seed):
    """Random ratings (user 1 and item 2 never rated) and random factors and biases."""
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    mask[1, :] = False
    mask[:, 2] = False
    mask[0, 0] = True  # never empty
    users, items = np.nonzero(mask)
    values = rng.integers(1, 6, size=users.size).astype(float)
    ratings = rt.Ratings(users, items, values, n_users=m, n_items=n)
    params = dict(
        U=rng.normal(size=(m, d)),
        V=rng.normal(size=(n, d)),
        b=rng.normal(size=m),
        c=rng.normal(size=n),
        wu=rng.uniform(0.5, 3.0, size=m),
        wv=rng.uniform(0.5, 3.0, size=n),
    )
    return ratings, params


def naive_loss(
    U, V, ratings, reg_u, reg_v, mean=0.0, b=None, c=None, reg_bias=0.0, wu=None, wv=None
):
    """The loss by a double loop over all (i, j), with a data term only when (i, j) is in Omega."""
    m, n = ratings.n_users, ratings.n_items
    wu = np.ones(m) if wu is None else wu
    wv = np.ones(n) if wv is None else wv
    observed = {
        (int(i), int(j)): float(r) for i, j, r in zip(ratings.users, ratings.items, ratings.values)
    }
    loss = 0.0
    for i in range(m):
        for j in range(n):
            if (i, j) in observed:
                pred = mean + sum(U[i, k] * V[j, k] for k in range(U.shape[1]))
                if b is not None:
                    pred += b[i] + c[j]
                loss += (observed[(i, j)] - pred) ** 2
    for i in range(m):
        loss += reg_u * wu[i] * sum(x * x for x in U[i])
        if b is not None:
            loss += reg_bias * wu[i] * b[i] ** 2
    for j in range(n):
        loss += reg_v * wv[j] * sum(x * x for x in V[j])
        if b is not None:
            loss += reg_bias * wv[j] * c[j] ** 2
    return loss


def naive_gradients(
    U, V, ratings, reg_u, reg_v, mean=0.0, b=None, c=None, reg_bias=0.0, wu=None, wv=None
):
    """dL/dU_i = -2 sum_{j in Omega_i} e_ij V_j + 2 lambda_U w_i U_i (and twins), by loops."""
    m, n = ratings.n_users, ratings.n_items
    wu = np.ones(m) if wu is None else wu
    wv = np.ones(n) if wv is None else wv
    gU, gV = 2 * reg_u * wu[:, None] * U, 2 * reg_v * wv[:, None] * V
    gb = 2 * reg_bias * wu * b if b is not None else None
    gc = 2 * reg_bias * wv * c if b is not None else None
    for i, j, r in zip(ratings.users, ratings.items, ratings.values):
        pred = mean + U[i] @ V[j] + (b[i] + c[j] if b is not None else 0.0)
        e = r - pred
        gU[i] -= 2 * e * V[j]
        gV[j] -= 2 * e * U[i]
        if b is not None:
            gb[i] -= 2 * e
            gc[j] -= 2 * e
    return (gU, gV) if b is None else (gU, gV, gb, gc)


VARIANTS = ["plain", "mean", "biases", "weights", "biases+weights"]


def variant_kwargs(variant, p):
    """Keyword arguments of mf_loss/mf_gradients and of the naive references for one variant."""
    pkg, ref = {}, {}
    if "mean" in variant or "biases" in variant:
        pkg["mean"] = ref["mean"] = 3.2
    if "biases" in variant:
        pkg.update(user_bias=p["b"], item_bias=p["c"], reg_bias=0.4)
        ref.update(b=p["b"], c=p["c"], reg_bias=0.4)
    if "weights" in variant:
        pkg.update(user_weights=p["wu"], item_weights=p["wv"])
        ref.update(wu=p["wu"], wv=p["wv"])
    return pkg, ref


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_loss_and_gradients_equal_the_naive_double_loop(shape, variant):
    ratings, p = make_problem(*shape, seed=sum(shape[:3]))
    pkg, ref = variant_kwargs(variant, p)
    expected = naive_loss(p["U"], p["V"], ratings, 0.3, 0.7, **ref)
    assert mf_loss(p["U"], p["V"], ratings, 0.3, 0.7, **pkg) == pytest.approx(expected, rel=1e-12)
    got = mf_gradients(p["U"], p["V"], ratings, 0.3, 0.7, **pkg)
    want = naive_gradients(p["U"], p["V"], ratings, 0.3, 0.7, **ref)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_gradients_pass_the_finite_difference_check(shape, variant):
    ratings, p = make_problem(*shape, seed=100 + sum(shape[:3]))
    pkg, _ = variant_kwargs(variant, p)
    m, n, d = shape[0], shape[1], shape[2]
    biased = "user_bias" in pkg
    rest = {k: v for k, v in pkg.items() if k not in ("user_bias", "item_bias")}

    # one flat parameter vector theta = (U, V[, b, c]) so every partial derivative is checked
    def unpack(theta):
        U = theta[: m * d].reshape(m, d)
        V = theta[m * d : (m + n) * d].reshape(n, d)
        if not biased:
            return U, V, {}
        b = theta[(m + n) * d : (m + n) * d + m]
        c = theta[(m + n) * d + m :]
        return U, V, dict(user_bias=b, item_bias=c)

    def f(theta):
        U, V, bias = unpack(theta)
        return mf_loss(U, V, ratings, 0.3, 0.7, **bias, **rest)

    def grad(theta):
        U, V, bias = unpack(theta)
        return np.concatenate(
            [g.ravel() for g in mf_gradients(U, V, ratings, 0.3, 0.7, **bias, **rest)]
        )

    parts = [p["U"].ravel(), p["V"].ravel()] + ([p["b"], p["c"]] if biased else [])
    theta = np.concatenate(parts)
    # eps = 1e-4, not the default 1e-6: along one coordinate the loss is a quadratic, so
    # central differences have no truncation error and only rounding, ~1e-16 |L| / eps,
    # remains; with |L| in the hundreds the default step leaves too little margin
    assert check_gradient(f, grad, theta, eps=1e-4) < 1e-6


def test_users_and_items_without_ratings_get_only_the_regularizer_gradient():
    ratings, p = make_problem(7, 5, 2, 0.5, seed=1)
    assert ratings.user_counts()[1] == 0 and ratings.item_counts()[2] == 0
    gU, gV = mf_gradients(p["U"], p["V"], ratings, 0.3, 0.7)
    np.testing.assert_allclose(gU[1], 2 * 0.3 * p["U"][1], rtol=1e-15)
    np.testing.assert_allclose(gV[2], 2 * 0.7 * p["V"][2], rtol=1e-15)
    gU, gV = mf_gradients(p["U"], p["V"], ratings, 0.0, 0.0)
    assert np.all(gU[1] == 0) and np.all(gV[2] == 0)


def test_adding_a_rating_adds_exactly_its_squared_error():
    # Unobserved entries have no value to change; what the loss "sees" is Omega. Adding one
    # pair to Omega must add exactly (R_ij - U_i.V_j)^2 and change the gradient of rows i, j only.
    ratings, p = make_problem(12, 20, 3, 0.3, seed=4)
    U, V = p["U"], p["V"]
    i, j, value = 1, 2, 4.0  # user 1 and item 2 had no rating
    assert not np.any((ratings.users == i) & (ratings.items == j))
    more = rt.Ratings(
        np.append(ratings.users, i),
        np.append(ratings.items, j),
        np.append(ratings.values, value),
        n_users=ratings.n_users,
        n_items=ratings.n_items,
    )
    term = (value - sum(U[i, k] * V[j, k] for k in range(3))) ** 2
    diff = mf_loss(U, V, more, 0.3, 0.7) - mf_loss(U, V, ratings, 0.3, 0.7)
    assert diff == pytest.approx(term, rel=1e-9)
    before, after = mf_gradients(U, V, ratings, 0.3, 0.7), mf_gradients(U, V, more, 0.3, 0.7)
    changed_u = np.flatnonzero(np.any(before[0] != after[0], axis=1))
    changed_v = np.flatnonzero(np.any(before[1] != after[1], axis=1))
    assert changed_u.tolist() == [i] and changed_v.tolist() == [j]


def test_order_of_ratings_does_not_matter():
    ratings, p = make_problem(12, 20, 3, 0.3, seed=8)
    perm = np.random.default_rng(0).permutation(len(ratings))
    shuffled = ratings.subset(perm)
    assert mf_loss(p["U"], p["V"], shuffled, 0.3, 0.7) == pytest.approx(
        mf_loss(p["U"], p["V"], ratings, 0.3, 0.7), rel=1e-12
    )


def test_regularization_weights():
    counts = np.array([0, 1, 4, 9])
    np.testing.assert_array_equal(regularization_weights(counts, 0.0), [1, 1, 1, 1])
    np.testing.assert_array_equal(regularization_weights(counts, 1.0), [1, 1, 4, 9])
    np.testing.assert_allclose(regularization_weights(counts, 0.5), [1, 1, 2, 3])
    with pytest.raises(ValueError, match="exponent"):
        regularization_weights(counts, -1.0)


def test_predict_observed_by_hand():
    ratings = rt.Ratings([0, 1], [1, 0], [5.0, 1.0], n_users=2, n_items=2)
    U = np.array([[1.0, 2.0], [3.0, 4.0]])
    V = np.array([[0.5, -1.0], [2.0, 1.0]])
    # (0,1): 1*2 + 2*1 = 4; (1,0): 3*0.5 - 4 = -2.5; with mean 1 and biases b=(1,2), c=(10,20)
    np.testing.assert_allclose(predict_observed(U, V, ratings), [4.0, -2.5])
    got = predict_observed(U, V, ratings, mean=1.0, user_bias=[1.0, 2.0], item_bias=[10.0, 20.0])
    np.testing.assert_allclose(got, [4.0 + 1 + 1 + 20, -2.5 + 1 + 2 + 10])


@pytest.mark.parametrize("shape", SHAPES)
def test_pmf_log_posterior_is_a_sum_of_gaussian_log_densities(shape):
    ratings, p = make_problem(*shape, seed=200 + sum(shape[:3]))
    U, V = p["U"], p["V"]
    sigma, sigma_u, sigma_v = 0.9, 1.4, 0.6
    log_lik = sum(
        scipy.stats.norm.logpdf(r, loc=U[i] @ V[j], scale=sigma)
        for i, j, r in zip(ratings.users, ratings.items, ratings.values)
    )
    # every row has a prior, rated or not; a scalar variance on a vector means covariance s^2 I
    log_prior = sum(scipy.stats.norm.logpdf(U.ravel(), scale=sigma_u)) + sum(
        scipy.stats.norm.logpdf(V.ravel(), scale=sigma_v)
    )
    expected = log_lik + log_prior
    assert pmf_log_posterior(U, V, ratings, sigma, sigma_u, sigma_v) == pytest.approx(
        expected, rel=1e-9
    )


def test_pmf_log_posterior_is_minus_the_scaled_mf_loss_plus_a_constant():
    # sigma^2 log p = -1/2 L(lambda = sigma^2/sigma_U^2) + C: the difference between two
    # parameter values is the same whichever way it is computed
    ratings, p = make_problem(7, 5, 2, 0.5, seed=9)
    rng = np.random.default_rng(1)
    U2, V2 = rng.normal(size=p["U"].shape), rng.normal(size=p["V"].shape)
    s, su, sv = 0.8, 1.5, 2.5
    lam_u, lam_v = s**2 / su**2, s**2 / sv**2
    d_post = pmf_log_posterior(U2, V2, ratings, s, su, sv) - pmf_log_posterior(
        p["U"], p["V"], ratings, s, su, sv
    )
    d_loss = mf_loss(U2, V2, ratings, lam_u, lam_v) - mf_loss(p["U"], p["V"], ratings, lam_u, lam_v)
    assert s**2 * d_post == pytest.approx(-0.5 * d_loss, rel=1e-9)


def test_input_validation_names_the_problem():
    ratings, p = make_problem(7, 5, 2, 0.5, seed=2)
    U, V = p["U"], p["V"]
    with pytest.raises(ValueError, match="n_users=7"):
        mf_loss(U[:-1], V, ratings, 0.1, 0.1)
    with pytest.raises(ValueError, match="n_items=5"):
        mf_gradients(U, V[:-1], ratings, 0.1, 0.1)
    with pytest.raises(ValueError, match="same number of columns"):
        mf_loss(U, V[:, :1], ratings, 0.1, 0.1)
    with pytest.raises(ValueError, match="2-D"):
        mf_loss(U.ravel(), V, ratings, 0.1, 0.1)
    with pytest.raises(ValueError, match="give both user_bias and item_bias"):
        mf_loss(U, V, ratings, 0.1, 0.1, user_bias=p["b"])
    with pytest.raises(ValueError, match="give both user_bias and item_bias"):
        mf_gradients(U, V, ratings, 0.1, 0.1, item_bias=p["c"])
    with pytest.raises(ValueError, match="user_bias must have shape"):
        mf_loss(U, V, ratings, 0.1, 0.1, user_bias=p["b"][:-1], item_bias=p["c"])
    with pytest.raises(ValueError, match="reg_u must be >= 0"):
        mf_loss(U, V, ratings, -0.1, 0.1)
    with pytest.raises(ValueError, match="reg_v must be >= 0"):
        mf_gradients(U, V, ratings, 0.1, -1.0)
    with pytest.raises(ValueError, match="reg_bias must be >= 0"):
        mf_loss(U, V, ratings, 0.1, 0.1, user_bias=p["b"], item_bias=p["c"], reg_bias=-1.0)
    with pytest.raises(ValueError, match="item_weights must have shape"):
        mf_loss(U, V, ratings, 0.1, 0.1, item_weights=np.ones(3))
    with pytest.raises(TypeError, match="ratings must be a recsys_tutorial.Ratings"):
        mf_loss(U, V, ratings.to_csr(), 0.1, 0.1)
    with pytest.raises(ValueError, match="sigma_u must be > 0"):
        pmf_log_posterior(U, V, ratings, 1.0, 0.0, 1.0)


def test_predict_observed_in_chunks_is_bitwise_the_same(monkeypatch):
    from recsys_tutorial import objectives

    rng = np.random.default_rng(7)
    pairs = rng.choice(40 * 30, size=1000, replace=False)
    ratings = rt.Ratings(pairs // 30, pairs % 30, rng.normal(size=1000))
    U, V = rng.normal(size=(40, 6)), rng.normal(size=(30, 6))
    whole = predict_observed(U, V, ratings)
    # a brute-force reference: one dot per pair
    expected = [U[i] @ V[j] for i, j in zip(ratings.users, ratings.items, strict=True)]
    np.testing.assert_allclose(whole, expected, rtol=1e-12)
    monkeypatch.setattr(objectives, "_PAIR_CHUNK", 7)  # many chunks, a ragged last one
    np.testing.assert_array_equal(predict_observed(U, V, ratings), whole)


def test_predict_observed_memory_is_not_nnz_times_d():
    import tracemalloc

    rng = np.random.default_rng(8)
    nnz, d = 400_000, 16
    pairs = rng.choice(1000 * 800, size=nnz, replace=False)
    ratings = rt.Ratings(pairs // 800, pairs % 800, np.ones(nnz))
    U, V = rng.normal(size=(1000, d)), rng.normal(size=(800, d))
    tracemalloc.start()
    try:
        predict_observed(U, V, ratings)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    gathered = 2 * nnz * d * 8  # both sides' rows for every pair at once: 102 MB
    assert peak < gathered / 3, f"peak {peak / 1e6:.0f} MB"
