"""ImplicitMF, BPR, ItemKNN and EASE against brute-force computations on tiny data."""

import numpy as np
import pytest
from conftest import random_ratings

import recsys_tutorial as rt
from recsys_tutorial.models import BPR, EASE, ImplicitMF, ItemKNN
from recsys_tutorial.objectives import bpr_gradients, regularization_weights


def tiny(seed=0, m=12, n=15, density=0.35):
    return random_ratings(seed, m, n, density, empty_users=(3,), empty_items=(5,), timestamps=False)


def dense(r, values=False):
    """P (0/1 preferences) and R (values, 0 where unobserved) as dense m x n arrays."""
    P = np.zeros(r.shape)
    R = np.zeros(r.shape)
    P[r.users, r.items] = 1.0
    R[r.users, r.items] = r.values if values else 1.0
    return P, R


def dense_objective(U, V, r, alpha, reg, nu, use_values=False, weighting="observed"):
    """J = sum over all m*n pairs of c (p - U_i.V_j)^2 + penalties, term by term."""
    P, R = dense(r, use_values)
    C = 1.0 + alpha * R
    J = float(np.sum(C * (P - U @ V.T) ** 2))
    if weighting == "observed":
        wu = regularization_weights(r.user_counts(), nu)
        wv = regularization_weights(r.item_counts(), nu)
    else:  # the total confidence of each row's (column's) m*n terms
        wu, wv = C.sum(axis=1) ** nu, C.sum(axis=0) ** nu
    return J + reg * float(wu @ np.sum(U**2, 1) + wv @ np.sum(V**2, 1))


def dense_solve(F, r, alpha, reg, nu, by_user, use_values=False, weighting="observed"):
    """Each row's weighted least squares min_x sum_j c_j (p_j - x.F_j)^2 + reg w |x|^2, densely."""
    P, R = dense(r, use_values)
    C = 1.0 + alpha * R
    if not by_user:
        P, C = P.T, C.T
    counts = r.user_counts() if by_user else r.item_counts()
    w = regularization_weights(counts, nu) if weighting == "observed" else C.sum(axis=1) ** nu
    d = F.shape[1]
    rows = []
    for k in range(P.shape[0]):
        A = (F * C[k][:, None]).T @ F + reg * w[k] * np.eye(d)
        rows.append(np.linalg.solve(A, F.T @ (C[k] * P[k])))
    return np.array(rows)


IMF = {"n_factors": 3, "reg": 0.7, "alpha": 2.5, "reg_exponent": 0.5, "init_std": 0.3}


@pytest.mark.parametrize(
    "use_values,weighting", [(False, "observed"), (True, "observed"), (True, "all")]
)
def test_ials_half_steps_are_the_dense_weighted_least_squares(use_values, weighting):
    r = tiny()
    model = ImplicitMF(
        **IMF, n_epochs=1, solver="cholesky", use_values=use_values, reg_weighting=weighting,
        random_state=4,
    ).fit(r)  # fmt: skip
    rng = np.random.default_rng(4)  # the model's initialization, drawn in the same order
    rng.normal(0.0, 0.3, size=(r.n_users, 3))
    V0 = rng.normal(0.0, 0.3, size=(r.n_items, 3))
    V0[r.item_counts() == 0] = 0.0
    args = (IMF["alpha"], IMF["reg"], IMF["reg_exponent"])
    kw = {"use_values": use_values, "weighting": weighting}
    U1 = dense_solve(V0, r, *args, by_user=True, **kw)
    np.testing.assert_allclose(model.user_factors_, U1, rtol=0, atol=1e-10)
    V1 = dense_solve(model.user_factors_, r, *args, by_user=False, **kw)
    np.testing.assert_allclose(model.item_factors_, V1, rtol=0, atol=1e-10)


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
@pytest.mark.parametrize("weighting", ["observed", "all"])
def test_history_is_the_dense_objective(solver, weighting):
    r = tiny(seed=1)
    model = ImplicitMF(
        **IMF, n_epochs=4, solver=solver, reg_weighting=weighting, random_state=0
    ).fit(r)
    args = (IMF["alpha"], IMF["reg"], IMF["reg_exponent"])
    J = dense_objective(model.user_factors_, model.item_factors_, r, *args, weighting=weighting)
    assert model.history_[-1] == pytest.approx(J, rel=1e-10)
    assert model.objective(r) == pytest.approx(J, rel=1e-10)


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_fits_are_the_same_whatever_the_buckets(monkeypatch, solver):
    # rows are bucketed by length and solved bucket by bucket: one row per bucket and
    # rows of very different lengths in one bucket (much padding) give the same fit
    from recsys_tutorial.models import ials

    r = tiny(seed=5)
    whole = ImplicitMF(**IMF, n_epochs=3, solver=solver, random_state=0).fit(r)
    for name, value in (("_BUCKET_BYTES", 1), ("_BUCKET_RATIO", 100.0)):
        with monkeypatch.context() as patch:
            patch.setattr(ials, name, value)
            other = ImplicitMF(**IMF, n_epochs=3, solver=solver, random_state=0).fit(r)
        np.testing.assert_allclose(other.item_factors_, whole.item_factors_, rtol=0, atol=1e-12)
        args = (IMF["alpha"], IMF["reg"], IMF["reg_exponent"])
        J = dense_objective(other.user_factors_, other.item_factors_, r, *args)
        assert other.history_[-1] == pytest.approx(J, rel=1e-10), name


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_float32_fits_follow_the_float64_fit(solver):
    r = tiny(seed=6)
    exact = ImplicitMF(**IMF, n_epochs=5, solver=solver, random_state=0).fit(r)
    single = ImplicitMF(**IMF, n_epochs=5, solver=solver, dtype="float32", random_state=0).fit(r)
    assert single.user_factors_.dtype == single.item_factors_.dtype == np.float32
    assert exact.user_factors_.dtype == np.float64
    np.testing.assert_allclose(single.item_factors_, exact.item_factors_, rtol=0, atol=1e-4)
    assert single.history_[-1] == pytest.approx(exact.history_[-1], rel=1e-5)
    # its history is still the objective of its own factors
    J = dense_objective(
        single.user_factors_.astype(np.float64), single.item_factors_.astype(np.float64), r,
        IMF["alpha"], IMF["reg"], IMF["reg_exponent"],
    )  # fmt: skip
    assert single.history_[-1] == pytest.approx(J, rel=1e-5)


def test_cholesky_history_never_increases():
    r = tiny(seed=2)
    model = ImplicitMF(**IMF, n_epochs=10, solver="cholesky", random_state=0).fit(r)
    assert np.all(np.diff(model.history_) <= 1e-12 * model.history_[:-1])
    assert model.history_[-1] < 0.9 * model.history_[0]


def test_cg_converges_to_the_cholesky_solution():
    # CG solves a d x d system exactly in d steps (in exact arithmetic): with 2d steps per
    # half-step it must reproduce the exact solves, and with few steps come close in J
    r = tiny(seed=3)
    exact = ImplicitMF(**IMF, n_epochs=6, solver="cholesky", random_state=0).fit(r)
    many = ImplicitMF(**IMF, n_epochs=6, solver="cg", cg_steps=6, random_state=0).fit(r)
    np.testing.assert_allclose(many.user_factors_, exact.user_factors_, atol=1e-8)
    np.testing.assert_allclose(many.item_factors_, exact.item_factors_, atol=1e-8)
    few = ImplicitMF(**IMF, n_epochs=6, solver="cg", cg_steps=1, random_state=0).fit(r)
    assert few.history_[-1] == pytest.approx(exact.history_[-1], rel=0.05)


def test_bpr_step_is_minus_lr_times_the_gradient():
    # one epoch in one batch: exactly one SGD step on bpr_loss over the drawn triples
    r = tiny(seed=4)
    kw = {"n_factors": 3, "lr": 0.1, "reg": 0.02, "reg_bias": 0.05, "init_std": 0.3}
    model = BPR(**kw, n_epochs=1, batch_size=len(r), random_state=5).fit(r)
    rng = np.random.default_rng(5)
    U0 = rng.normal(0.0, 0.3, size=(r.n_users, 3))
    V0 = rng.normal(0.0, 0.3, size=(r.n_items, 3))
    U0[r.user_counts() == 0] = 0.0
    V0[r.item_counts() == 0] = 0.0
    order = rng.permutation(len(r))
    u, i = r.users[order], r.items[order]
    positives = np.sort(r.users * r.n_items + r.items)
    j = BPR._draw_negatives(u, r.n_items, positives, np.flatnonzero(r.item_counts() > 0), rng)
    assert not set(zip(u * 0 + u, j)) & set(zip(r.users, r.items))  # negatives are unrated items
    gU, gV, gb = bpr_gradients(U0, V0, np.zeros(r.n_items), u, i, j, 0.02, reg_bias=0.05)
    np.testing.assert_allclose(model.user_factors_, U0 - 0.1 * gU, atol=1e-13)
    np.testing.assert_allclose(model.item_factors_, V0 - 0.1 * gV, atol=1e-13)
    np.testing.assert_allclose(model.item_bias_, -0.1 * gb, atol=1e-13)


def test_bpr_learns_and_early_stopping_keeps_the_best_evaluation():
    r = random_ratings(0, 60, 50, 0.2, empty_users=(), empty_items=(), timestamps=False)
    train, val = rt.model_selection.train_test_split(r, 0.2, random_state=0)
    model = BPR(n_factors=4, lr=0.05, n_epochs=60, eval_every=2, patience=2, random_state=0)
    model.fit(train, eval_set=val)
    epochs, scores = model.eval_history_.T
    assert model.best_epoch_ == int(epochs[np.argmax(scores)])
    best = rt.metrics.ranking_metrics(model, train, val, 10)["ndcg"]
    assert best == pytest.approx(scores.max(), rel=1e-12)
    assert model.history_[-1] < model.history_[0]  # the pairwise loss goes down


def test_item_knn_against_brute_force():
    r = tiny(seed=6)
    k = 4
    model = ItemKNN(k).fit(r)
    P, _ = dense(r)
    n = r.n_items
    cos = np.zeros((n, n))
    for a in range(n):
        for b in range(n):
            na, nb = P[:, a].sum(), P[:, b].sum()
            cos[a, b] = P[:, a] @ P[:, b] / np.sqrt(na * nb) if na and nb else 0.0
    W = np.zeros((n, n))
    for a in range(n):
        others = sorted((b for b in range(n) if b != a), key=lambda b: (-cos[a, b], b))[:k]
        assert list(model.neighbors_[a]) == others
        W[a, others] = cos[a, others]
    users = np.arange(r.n_users)
    np.testing.assert_allclose(model._score_users(users), P @ W.T, atol=1e-12)


def test_ease_against_per_item_ridge_regressions():
    # column l of B is the ridge regression of item l on all the other items (so B_ll = 0)
    r = tiny(seed=7)
    lam = 3.0
    model = EASE(lam).fit(r)
    P, _ = dense(r)
    n = r.n_items
    B = np.zeros((n, n))
    for col in range(n):
        others = [j for j in range(n) if j != col]
        Xo = P[:, others]
        B[others, col] = np.linalg.solve(Xo.T @ Xo + lam * np.eye(n - 1), Xo.T @ P[:, col])
    np.testing.assert_allclose(model.item_weights_, B, atol=1e-12)
    np.testing.assert_allclose(model._score_users(np.arange(r.n_users)), P @ B, atol=1e-12)


def fitted_models(r):
    return [
        ImplicitMF(**IMF, n_epochs=3, random_state=0).fit(r),
        ImplicitMF(**IMF, n_epochs=3, solver="cholesky", random_state=0).fit(r),
        BPR(n_factors=3, n_epochs=3, random_state=0).fit(r),
        ItemKNN(5).fit(r),
        EASE(2.0).fit(r),
    ]


def test_random_state_makes_fits_identical():
    r = tiny(seed=8)
    for cls, kw in ((ImplicitMF, IMF), (BPR, {"n_factors": 3, "n_epochs": 3})):
        a, b = cls(**kw, random_state=3).fit(r), cls(**kw, random_state=3).fit(r)
        c = cls(**kw, random_state=4).fit(r)
        assert np.array_equal(a.user_factors_, b.user_factors_)
        assert np.array_equal(a.item_factors_, b.item_factors_)
        assert not np.array_equal(a.item_factors_, c.item_factors_)


def test_save_load_round_trip_and_unclipped_scores(tmp_path):
    r = tiny(seed=9)
    for model in fitted_models(r):
        path = tmp_path / f"{type(model).__name__}.npz"
        model.save(path)
        back = type(model).load(path)
        users = np.arange(r.n_users)
        assert np.array_equal(back._score_users(users), model._score_users(users))
        # predict returns the preference scores themselves, unknown user 3 and item 5 as documented
        pairs_u, pairs_i = np.repeat(users, r.n_items), np.tile(np.arange(r.n_items), r.n_users)
        scores = model._score_users(users)
        expected = scores[pairs_u, pairs_i]
        expected[pairs_i == 5] = 0.0
        np.testing.assert_array_equal(back.predict(pairs_u, pairs_i), expected)
        assert back.predict([500], [0])[0] == model._cold_user_scores()[0]


@pytest.mark.parametrize(
    "model,error,match",
    [
        (ImplicitMF(reg=0.0), ValueError, r"ImplicitMF: reg must be a finite real number in \(0"),
        (ImplicitMF(solver="lu"), ValueError, "ImplicitMF: solver must be one of 'cg', 'cholesky'"),
        (ImplicitMF(n_factors=2.5), TypeError, "ImplicitMF: n_factors must be an int"),
        (ImplicitMF(scaling="sqrt"), ValueError, "ImplicitMF: scaling must be one of"),
        (ImplicitMF(use_values=1), TypeError, "ImplicitMF: use_values must be a bool"),
        (ImplicitMF(init_std=0.0), ValueError, "ImplicitMF: init_std must be"),
        (BPR(lr=0.0), ValueError, r"BPR: lr must be a finite real number in \(0"),
        (BPR(batch_size=0), ValueError, r"BPR: batch_size must be an int in \[1"),
        (ItemKNN(0), ValueError, r"ItemKNN: n_neighbors must be an int in \[1"),
        (EASE(-1.0), ValueError, r"EASE: reg must be a finite real number in \(0"),
    ],
)
def test_bad_parameters_are_refused_naming_the_argument(model, error, match):
    with pytest.raises(error, match=match):
        model.fit(tiny())


def test_bpr_refuses_an_eval_set_of_another_shape():
    r = tiny()
    other = rt.Ratings([0], [0], [1.0], n_users=2, n_items=2)
    with pytest.raises(ValueError, match="eval_set must share"):
        BPR(n_epochs=1).fit(r, eval_set=other)
    with pytest.raises(TypeError, match="eval_set must be a recsys_tutorial.Ratings"):
        BPR(n_epochs=1).fit(r, eval_set=np.ones((2, 2)))
    # a bad hyperparameter is reported before the eval_set is looked at
    with pytest.raises(ValueError, match="BPR: lr must be"):
        BPR(lr=-1.0).fit(r, eval_set=other)


def test_bpr_early_stopping_scores_equal_a_fresh_evaluation_of_the_kept_factors():
    r = random_ratings(2, 50, 40, 0.25, empty_users=(), empty_items=(), timestamps=False)
    train, val = rt.model_selection.train_test_split(r, 0.2, random_state=1)
    model = BPR(n_factors=4, n_epochs=6, eval_every=1, patience=10, random_state=0)
    model.fit(train, eval_set=val)
    # patience never ran out: the kept epoch is the best, and its score is re-measured exactly
    epochs, scores = model.eval_history_.T
    assert epochs.tolist() == [1, 2, 3, 4, 5, 6]
    assert model.best_epoch_ == int(epochs[np.argmax(scores)])
    again = rt.metrics.ranking_metrics(model, train, val, 10)["ndcg"]
    assert again == scores.max()


@pytest.mark.parametrize(
    "model",
    [
        ImplicitMF(3, reg_exponent=500.0, random_state=0),
        ImplicitMF(3, alpha=1e300, random_state=0),
        ImplicitMF(3, reg=1e300, random_state=0),
        ImplicitMF(3, reg_exponent=500.0, solver="cholesky", random_state=0),
        BPR(3, lr=1e300, random_state=0),
        BPR(3, reg=1e300, random_state=0),
        BPR(3, init_std=1e200, random_state=0),
    ],
)
def test_overflowing_settings_stop_with_an_error_naming_the_parameters(model):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one clear error, not a trail of numpy warnings
        with pytest.raises(RuntimeError, match="non-finite.*(reg|lr)="):
            model.fit(tiny())
