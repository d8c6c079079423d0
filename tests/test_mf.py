"""MatrixFactorization: the three solvers minimize the objective they claim to minimize."""

import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial.models import MatrixFactorization
from recsys_tutorial.objectives import mf_gradients, mf_loss, regularization_weights


def small_ratings(seed=0, m=30, n=40, density=0.3, empty_user=True, empty_item=True):
    """Random 1..5 ratings; optionally one user and one item without any rating."""
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    if empty_user:
        mask[3, :] = False
    if empty_item:
        mask[:, 5] = False
    users, items = np.nonzero(mask)
    values = rng.integers(1, 6, size=users.size).astype(float)
    return rt.Ratings(users, items, values, n_users=m, n_items=n)


def objective_terms(model, ratings):
    """The keyword arguments of mf_loss/mf_gradients for a fitted model, rebuilt from scratch."""
    s = model.settings_
    wu = regularization_weights(ratings.user_counts(), s["reg_exponent"])
    wv = regularization_weights(ratings.item_counts(), s["reg_exponent"])
    kw = dict(
        reg_u=s["reg"], reg_v=s["reg_item"], mean=model.offset_, user_weights=wu, item_weights=wv
    )
    if model.biased:
        kw.update(user_bias=model.user_bias_, item_bias=model.item_bias_, reg_bias=s["reg_bias"])
    return kw


def objective_of(model, ratings):
    """J of a fitted model, recomputed from scratch with objectives.mf_loss."""
    return mf_loss(
        model.user_factors_, model.item_factors_, ratings, **objective_terms(model, ratings)
    )


ALS_VARIANTS = [
    dict(biased=True),
    dict(biased=False),
    dict(biased=False, center=True),
    dict(biased=True, reg=0.3, reg_item=2.0, reg_bias=0.7, reg_exponent=0.0),
    dict(biased=True, reg_exponent=1.0, reg=0.05),
]


@pytest.mark.parametrize("kw", ALS_VARIANTS)
def test_als_history_is_the_objective_and_never_increases(kw):
    r = small_ratings()
    model = MatrixFactorization(solver="als", n_factors=3, n_epochs=8, random_state=1, **kw).fit(r)
    # history_ comes from the normal equations (sum y^2 - x.b); it must be J itself
    assert model.history_[-1] == pytest.approx(objective_of(model, r), rel=1e-10)
    assert model.objective(r) == pytest.approx(model.history_[-1], rel=1e-10)
    # every half-step is an exact minimization, so J cannot go up
    assert np.all(np.diff(model.history_) <= 1e-9 * model.history_[:-1])


@pytest.mark.parametrize("kw", ALS_VARIANTS)
def test_als_item_step_solves_the_normal_equations(kw):
    # After an epoch the items were solved last: dJ/dV (and dJ/dc) must vanish.
    r = small_ratings(seed=2)
    model = MatrixFactorization(solver="als", n_factors=3, n_epochs=3, random_state=0, **kw).fit(r)
    grads = mf_gradients(model.user_factors_, model.item_factors_, r, **objective_terms(model, r))
    scale = np.abs(grads[0]).max()  # the user gradient is not zero after the item step
    assert scale > 1e-3
    assert np.abs(grads[1]).max() < 1e-9 * max(1.0, scale)
    if model.biased:
        assert np.abs(grads[3]).max() < 1e-9 * max(1.0, scale)


def naive_sgd(ratings, d, lr, reg, reg_bias, n_epochs, init_std, seed, biased, reg_exponent):
    """Textbook SGD, one rating at a time, drawing random numbers in the model's order."""
    rng = np.random.default_rng(seed)
    m, n = ratings.n_users, ratings.n_items
    U = rng.normal(0.0, init_std, size=(m, d))
    V = rng.normal(0.0, init_std, size=(n, d))
    nu, ni = ratings.user_counts(), ratings.item_counts()
    U[nu == 0] = 0.0
    V[ni == 0] = 0.0
    b, c = np.zeros(m), np.zeros(n)
    mu = ratings.values.mean() if biased else 0.0
    for _ in range(n_epochs):
        for k in rng.permutation(len(ratings)):
            i, j, y = ratings.users[k], ratings.items[k], ratings.values[k]
            shrink_u = max(nu[i], 1) ** reg_exponent / max(nu[i], 1)
            shrink_v = max(ni[j], 1) ** reg_exponent / max(ni[j], 1)
            e = y - mu - U[i] @ V[j] - (b[i] + c[j] if biased else 0.0)
            if biased:
                b[i], c[j] = (
                    b[i] + lr * (e - reg_bias * shrink_u * b[i]),
                    c[j] + lr * (e - reg_bias * shrink_v * c[j]),
                )
            U[i], V[j] = (
                U[i] + lr * (e * V[j] - reg * shrink_u * U[i]),
                V[j] + lr * (e * U[i] - reg * shrink_v * V[j]),
            )
    return U, V, b, c


@pytest.mark.parametrize("biased,reg_exponent", [(True, 1.0), (False, 0.0), (True, 0.5)])
def test_sgd_with_batch_size_one_is_textbook_sgd(biased, reg_exponent):
    r = small_ratings(seed=3, m=12, n=15)
    kw = dict(
        n_factors=2,
        lr=0.03,
        reg=0.1,
        reg_bias=0.2,
        n_epochs=3,
        init_std=0.3,
        biased=biased,
        reg_exponent=reg_exponent,
    )
    model = MatrixFactorization(solver="sgd", batch_size=1, random_state=7, **kw).fit(r)
    U, V, b, c = naive_sgd(r, 2, 0.03, 0.1, 0.2, 3, 0.3, 7, biased, reg_exponent)
    np.testing.assert_allclose(model.user_factors_, U, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.item_factors_, V, rtol=1e-12, atol=1e-12)
    if biased:
        np.testing.assert_allclose(model.user_bias_, b, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(model.item_bias_, c, rtol=1e-12, atol=1e-12)


def test_sgd_and_gd_decrease_the_objective_they_report():
    r = small_ratings(seed=4)
    for solver, kw in (("sgd", dict(lr=0.01, batch_size=8)), ("gd", dict(lr=2e-3))):
        model = MatrixFactorization(
            solver=solver, n_factors=3, n_epochs=30, random_state=0, **kw
        ).fit(r)
        assert model.history_[-1] == pytest.approx(objective_of(model, r), rel=1e-12)
        assert model.history_[-1] < 0.9 * model.history_[0]
    # full-batch GD with a small step is a descent method: monotone
    assert np.all(np.diff(model.history_) < 0)


def test_gd_step_is_minus_lr_times_the_gradient():
    r = small_ratings(seed=5, empty_user=False, empty_item=False)
    kw = dict(n_factors=2, reg=0.2, reg_exponent=0.0, biased=False, init_std=0.5)
    one = MatrixFactorization(solver="gd", lr=1e-3, n_epochs=1, random_state=3, **kw).fit(r)
    rng = np.random.default_rng(3)  # the model's initialization, drawn in the same order
    U0 = rng.normal(0.0, 0.5, size=(r.n_users, 2))
    V0 = rng.normal(0.0, 0.5, size=(r.n_items, 2))
    gU, gV = mf_gradients(U0, V0, r, 0.2, 0.2)
    np.testing.assert_allclose(one.user_factors_, U0 - 1e-3 * gU, rtol=1e-13)
    np.testing.assert_allclose(one.item_factors_, V0 - 1e-3 * gV, rtol=1e-13)


@pytest.mark.parametrize("solver", ["gd", "sgd"])
def test_divergence_stops_with_an_error_naming_the_learning_rate(solver):
    r = small_ratings(seed=6)
    model = MatrixFactorization(solver=solver, lr=5.0, n_factors=3, n_epochs=50, random_state=0)
    # no floating-point warning may escape either
    with np.errstate(all="raise"), pytest.raises(RuntimeError, match=r"lr=5\.0 is too large"):
        model.fit(r)


@pytest.mark.parametrize("solver", ["als", "sgd", "gd"])
def test_random_state_makes_fits_identical(solver):
    r = small_ratings(seed=7)
    a = MatrixFactorization(solver=solver, n_epochs=5, random_state=11).fit(r)
    b = MatrixFactorization(solver=solver, n_epochs=5, random_state=11).fit(r)
    c = MatrixFactorization(solver=solver, n_epochs=5, random_state=12).fit(r)
    assert np.array_equal(a.user_factors_, b.user_factors_)
    assert np.array_equal(a.item_factors_, b.item_factors_)
    assert not np.array_equal(a.item_factors_, c.item_factors_)


@pytest.mark.parametrize("solver", ["als", "sgd", "gd"])
def test_rows_without_ratings_fall_back(solver):
    r = small_ratings(seed=8)  # user 3 and item 5 have no rating
    model = MatrixFactorization(solver=solver, n_epochs=5, random_state=0).fit(r)
    assert not model.user_factors_[3].any() and not model.item_factors_[5].any()
    assert model.user_bias_[3] == 0 and model.item_bias_[5] == 0
    mu = r.values.mean()
    lo, hi = r.values.min(), r.values.max()
    # unknown user: mu + item bias; unknown item: mu + user bias; index beyond the space: same
    pred = model.predict([3, 0, 3, 500, 0], [0, 5, 5, 0, 900])
    expected = [
        mu + model.item_bias_[0],
        mu + model.user_bias_[0],
        mu,
        mu + model.item_bias_[0],
        mu + model.user_bias_[0],
    ]
    np.testing.assert_allclose(pred, np.clip(expected, lo, hi))


def test_unbiased_fallback_is_the_global_mean():
    r = small_ratings(seed=9)
    model = MatrixFactorization(solver="als", biased=False, n_epochs=3, random_state=0).fit(r)
    np.testing.assert_allclose(model.predict([3, 0], [0, 5]), r.values.mean())


def test_predictions_are_clipped_and_scores_are_not():
    r = small_ratings(seed=10)
    model = MatrixFactorization(
        solver="als", n_factors=8, reg=1e-3, reg_exponent=0.0, n_epochs=10, random_state=0
    ).fit(r)
    users = np.repeat(np.arange(r.n_users), r.n_items)
    items = np.tile(np.arange(r.n_items), r.n_users)
    pred = model.predict(users, items)
    raw = model._predict_unclipped(users, items)
    assert pred.min() >= 1.0 and pred.max() <= 5.0
    assert raw.min() < 1.0 or raw.max() > 5.0  # a barely regularized model overshoots somewhere


def test_recommend_and_similar_items_against_brute_force():
    r = small_ratings(seed=11)
    model = MatrixFactorization(solver="als", n_factors=4, n_epochs=5, random_state=0).fit(r)
    user = 0
    seen = set(r.items[r.users == user])
    scores = {
        j: model._predict_unclipped(np.array([user]), np.array([j]))[0]
        for j in range(r.n_items)
        if j not in seen
    }
    brute = sorted(scores, key=lambda j: (-scores[j], j))[:7]
    assert list(model.recommend(user, k=7)[0]) == brute
    everything = model.recommend(user, k=7, exclude_seen=False)[0]
    assert len(everything) == 7 and set(everything) >= set()  # allowed to include seen items
    V = model.item_factors_
    item = 1
    cos = {
        j: V[j] @ V[item] / (np.linalg.norm(V[j]) * np.linalg.norm(V[item]))
        for j in range(r.n_items)
        if j != item and r.item_counts()[j] > 0
    }
    assert list(model.similar_items(item, k=5)[0]) == sorted(cos, key=lambda j: (-cos[j], j))[:5]
    with pytest.raises(ValueError, match="item 5 has no training ratings"):
        model.similar_items(5)


@pytest.mark.parametrize("solver", ["als", "sgd", "gd"])
def test_save_load_round_trip_is_exact(tmp_path, solver):
    r = small_ratings(seed=12)
    model = MatrixFactorization(solver=solver, n_epochs=4, random_state=0).fit(r)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = MatrixFactorization.load(path)
    assert loaded.get_params() == model.get_params()
    assert loaded.settings_ == model.settings_
    for name in ("user_factors_", "item_factors_", "user_bias_", "item_bias_", "history_"):
        assert np.array_equal(getattr(loaded, name), getattr(model, name))
    users, items = np.arange(30) % r.n_users, np.arange(30) % r.n_items
    assert np.array_equal(loaded.predict(users, items), model.predict(users, items))
    assert np.array_equal(loaded.recommend(0, 5)[0], model.recommend(0, 5)[0])


def test_settings_take_solver_defaults_and_reject_bad_values():
    r = small_ratings(seed=13)
    for solver, defaults in rt.models.mf.SOLVER_DEFAULTS.items():
        model = MatrixFactorization(solver=solver, random_state=0)
        # get_params shows, before any fit, the values the fit will use
        params = model.get_params()
        for name, value in defaults.items():
            assert params[name] == value, (solver, name)
        assert params["reg_exponent"] == 0.5  # one penalty convention for every solver
        model.set_params(n_epochs=1).fit(r)
        for name, value in defaults.items():
            if name != "n_epochs" and value is not None:
                assert model.settings_[name] == value
        assert model.n_factors is None  # the attribute keeps what was given
    bad = [
        (
            dict(solver="newton"),
            ValueError,
            "solver must be one of 'als', 'sgd', 'gd'; got 'newton'",
        ),
        (dict(n_factors=0), ValueError, r"n_factors must be an int in \[1, inf\) or None; got 0"),
        (dict(n_factors=2.5), TypeError, "n_factors must be an int"),
        (dict(reg=-1.0), ValueError, r"reg must be a finite real number in \[0, inf\)"),
        (dict(solver="sgd", lr=0.0), ValueError, r"lr must be a finite real number in \(0, inf\)"),
        (dict(solver="als", lr=0.1), ValueError, "lr is not used by solver='als'"),
        (dict(solver="gd", batch_size=10), ValueError, "batch_size is not used by solver='gd'"),
        (dict(reg_exponent=float("nan")), ValueError, "reg_exponent must be a finite real number"),
        (dict(biased="yes"), TypeError, "biased must be a bool"),
        (dict(verbose="yes"), TypeError, "verbose must be a bool"),
        (dict(init_std=0.0), ValueError, "init_std must be a finite real number in \\(0, inf\\)"),
        (dict(random_state="seed"), TypeError, "random_state must be"),
    ]
    for kw, exc, message in bad:
        with pytest.raises(exc, match=message):
            MatrixFactorization(**kw).fit(r)
    with pytest.raises(TypeError, match="ratings must be a recsys_tutorial.Ratings"):
        MatrixFactorization().fit([(0, 1, 5.0)])


def test_als_recovers_a_low_rank_model():
    data = rt.datasets.make_synthetic(
        300, 400, n_factors=3, density=0.15, sigma=0.3, random_state=0
    )
    train, test = rt.model_selection.train_test_split(data.ratings, 0.2, random_state=0)
    model = MatrixFactorization(
        solver="als",
        n_factors=3,
        reg=0.5,
        reg_exponent=0.0,
        biased=False,
        n_epochs=30,
        random_state=0,
    ).fit(train)
    err = rt.metrics.rmse(test.values, model.predict(test.users, test.items))
    # noise alone costs sigma = 0.3; the signal U V^T has variance d = 3, so a model that
    # had not found the structure would be far above (global mean: about sqrt(3.09) = 1.76)
    assert err < 1.15 * data.sigma


@pytest.mark.parametrize("solver,bound", [("als", 0.915), ("sgd", 0.935)])
def test_movielens_5fold_rmse_with_defaults(movielens, solver, bound):
    # The targets on 5-fold CV (Surprise SVD: 0.934 on the same protocol).
    scores = rt.model_selection.cross_validate(
        MatrixFactorization(solver=solver, random_state=0), movielens, cv=5, random_state=0
    )
    assert scores["test_rmse"].mean() <= bound
