"""GlobalMean, Baseline and Popularity: what they fit, predict and recommend."""

import numpy as np
import pytest
import scipy.sparse as sp

import recsys_tutorial as rt
from recsys_tutorial.models import Baseline, GlobalMean, Popularity


def exact_biases(ratings, reg_user, reg_item):
    """Minimizer of sum_Omega (R_ij - mu - b_i - c_j)^2 + reg_user |b|^2 + reg_item |c|^2.

    With the design matrix A = [E_user | E_item] (one-hot rows, one per rating) the
    objective is |y - A x|^2 + x^T D x with y = R - mu, x = [b; c], D = diag(reg),
    so the minimizer solves the normal equations (A^T A + D) x = A^T y.
    """
    nnz, m, n = len(ratings), ratings.n_users, ratings.n_items
    rows = np.arange(nnz)
    A = sp.hstack(
        [
            sp.csr_matrix((np.ones(nnz), (rows, ratings.users)), shape=(nnz, m)),
            sp.csr_matrix((np.ones(nnz), (rows, ratings.items)), shape=(nnz, n)),
        ]
    ).tocsc()
    D = sp.diags(np.r_[np.full(m, reg_user), np.full(n, reg_item)])
    y = ratings.values - ratings.values.mean()
    x = sp.linalg.spsolve((A.T @ A + D).tocsc(), A.T @ y)
    b, c = x[:m], x[m:]
    residual = y - A @ x
    objective = residual @ residual + reg_user * b @ b + reg_item * c @ c
    return b, c, objective


def brute_force_top_k(scores, k, exclude):
    """Items by decreasing score, ties by lower index, without ``exclude``."""
    excluded = set(np.asarray(exclude).tolist())
    candidates = [j for j in range(len(scores)) if j not in excluded]
    return sorted(candidates, key=lambda j: (-scores[j], j))[:k]


# ------------------------------------------------------------------- GlobalMean
def test_global_mean_predicts_the_mean_everywhere(small_ratings):
    r = small_ratings
    model = GlobalMean().fit(r)
    mean = np.sum(r.values) / len(r)
    assert model.global_mean_ == pytest.approx(mean, rel=1e-14)
    # known pairs, the unrated user 3 and item 5, and indices beyond the training space
    users = np.array([0, 3, 3, 29, 100, 0])
    items = np.array([0, 5, 1, 39, 2, 400])
    np.testing.assert_allclose(model.predict(users, items), mean, rtol=1e-14)
    # all items tie, so the top list is the lowest unrated indices
    seen = set(r.items[r.users == 0].tolist())
    assert model.recommend(0, k=4)[0].tolist() == [j for j in range(r.n_items) if j not in seen][:4]


# --------------------------------------------------------------------- Baseline
@pytest.mark.parametrize("reg_user, reg_item", [(3.0, 7.0), (0.5, 0.5), (25.0, 1.0)])
def test_baseline_reaches_the_exact_minimizer_of_its_objective(small_ratings, reg_user, reg_item):
    r = small_ratings
    model = Baseline(reg_user=reg_user, reg_item=reg_item, n_epochs=200).fit(r)
    b, c, objective = exact_biases(r, reg_user, reg_item)
    assert model.global_mean_ == pytest.approx(r.values.mean(), rel=1e-14)
    np.testing.assert_allclose(model.user_bias_, b, rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.item_bias_, c, rtol=0, atol=1e-10)
    # history_ records the objective itself, and it never increases (each half-sweep is
    # an exact minimization); the tolerance is rounding error, relative to the start
    assert model.history_.shape == (200,)
    assert model.history_[-1] == pytest.approx(objective, rel=1e-10)
    assert np.all(np.diff(model.history_) <= 1e-12 * model.history_[0])
    # the unrated user 3 and item 5 have zero bias
    assert model.user_bias_[3] == 0.0 and model.item_bias_[5] == 0.0


def test_baseline_history_decreases_from_the_first_sweeps(small_ratings):
    h = Baseline(reg_user=1.0, reg_item=1.0, n_epochs=6).fit(small_ratings).history_
    assert h.shape == (6,) and np.all(np.diff(h) <= 1e-12 * h[0])
    assert h[-1] < h[0]  # the first sweep is not yet the optimum


def test_baseline_5fold_rmse_on_movielens_beats_surprise_baseline_only(movielens):
    # Surprise's BaselineOnly: 0.944 on 5-fold CV of MovieLens 100K (its README table)
    scores = rt.model_selection.cross_validate(
        Baseline(),
        movielens,
        cv=rt.model_selection.kfold(movielens, 5, random_state=0),
        metrics=["rmse"],
    )
    assert scores["test_rmse"].shape == (5,)
    assert scores["test_rmse"].mean() <= 0.944
    # and it does beat the global mean clearly (about 1.12 on MovieLens 100K)
    mean_only = rt.model_selection.cross_validate(
        GlobalMean(), movielens, cv=5, metrics=["rmse"], random_state=0
    )
    assert mean_only["test_rmse"].mean() > scores["test_rmse"].mean() + 0.1


def test_predictions_are_clipped_to_the_training_range(small_ratings):
    # ratings with strong user and item effects: 3 + 1.5 s_i + 1.5 t_j with s, t in {-1, 0, 1},
    # clipped to 1..5, so that the fitted mu + b_i + c_j leaves [1, 5] for the extreme pairs
    rng = np.random.default_rng(0)
    s, t = (
        rng.integers(-1, 2, size=small_ratings.n_users),
        rng.integers(-1, 2, size=small_ratings.n_items),
    )
    values = np.clip(
        np.round(3 + 1.5 * s[small_ratings.users] + 1.5 * t[small_ratings.items]), 1, 5
    )
    r = rt.Ratings(small_ratings.users, small_ratings.items, values, n_users=30, n_items=40)
    model = Baseline(reg_user=0.0, reg_item=0.0, n_epochs=20).fit(r)
    users, items = np.divmod(np.arange(r.n_users * r.n_items), r.n_items)
    raw = model.global_mean_ + model.user_bias_[users] + model.item_bias_[items]
    assert raw.max() > 5 and raw.min() < 1
    pred = model.predict(users, items)
    np.testing.assert_array_equal(pred, np.clip(raw, 1.0, 5.0))
    # the range is the training data's, not a fixed 1..5 scale
    shifted = rt.Ratings(
        r.users, r.items, r.values * 10.0 + 3.0, n_users=r.n_users, n_items=r.n_items
    )
    pred = Baseline(reg_user=0.0, reg_item=0.0).fit(shifted).predict(users, items)
    assert pred.min() == 13.0 and pred.max() == 53.0


def test_unknown_users_and_items_get_the_documented_fallback(small_ratings):
    r = small_ratings  # user 3 and item 5 have no rating; the index spaces are 30 x 40
    model = Baseline(reg_user=2.0, reg_item=2.0).fit(r)
    mu, b, c = model.global_mean_, model.user_bias_, model.item_bias_
    lo, hi = r.values.min(), r.values.max()
    cases = [
        (0, 1, mu + b[0] + c[1]),  # both known
        (3, 1, mu + c[1]),  # unrated user: global mean + item bias
        (0, 5, mu + b[0]),  # unrated item: global mean + user bias
        (3, 5, mu),  # neither
        (30, 1, mu + c[1]),  # user index beyond the training space
        (0, 40, mu + b[0]),  # item index beyond the training space
        (1000, 4000, mu),
    ]
    users, items, expected = map(np.array, zip(*cases))
    np.testing.assert_allclose(
        model.predict(users, items), np.clip(expected, lo, hi), rtol=0, atol=1e-12
    )
    # scalar arguments are accepted and give one prediction
    assert model.predict(3, 1).shape == (1,)


# --------------------------------------------------------------------- recommend
def test_recommend_returns_the_best_unseen_items_best_first(small_ratings):
    r = small_ratings
    model = Baseline(reg_user=2.0, reg_item=2.0).fit(r)
    for user in (0, 3, 17):
        scores = model.global_mean_ + model.user_bias_[user] + model.item_bias_
        seen = r.items[r.users == user]
        top, _ = model.recommend(user, k=7)
        assert top.dtype == np.int64 and top.shape == (7,)
        assert top.tolist() == brute_force_top_k(scores, 7, seen)
        assert not set(top.tolist()) & set(seen.tolist())
        assert np.all(np.diff(scores[top]) <= 0)  # best first
        # exclude= replaces the default: [] allows the seen items, a list removes those
        assert model.recommend(user, k=7, exclude_seen=False)[0].tolist() == brute_force_top_k(
            scores, 7, []
        )
        banned = brute_force_top_k(scores, 3, seen)
        assert model.recommend(user, k=5, exclude_seen=False, filter_items=banned)[
            0
        ].tolist() == brute_force_top_k(scores, 5, banned)
        # items beyond the index space in exclude are ignored
        assert model.recommend(user, k=5, exclude_seen=False, filter_items=[])[
            0
        ].tolist() == brute_force_top_k(scores, 5, [])


def test_recommend_breaks_ties_by_lower_index_and_stops_at_the_candidates():
    # items 0..199; items 3, 10 and 150 are rated, the others are unknown and all tie at c = 0
    users = [0, 0, 1, 1, 2]
    items = [3, 10, 150, 10, 3]
    r = rt.Ratings(users, items, [5.0, 4.0, 1.0, 5.0, 4.0], n_users=4, n_items=200)
    model = Baseline(reg_user=1.0, reg_item=1.0).fit(r)
    scores = model.global_mean_ + model.user_bias_[3] + model.item_bias_
    for k in (1, 2, 5, 60, 150, 199, 200):
        assert model.recommend(3, k=k)[0].tolist() == brute_force_top_k(scores, k, []), k
    # k beyond the candidates: every candidate, no more
    assert model.recommend(0, k=500)[0].size == 198
    everything = np.arange(200)
    assert model.recommend(0, k=3, exclude_seen=False, filter_items=everything)[0].size == 0


def test_popularity_ranks_by_training_counts_with_ties_by_index(make_ratings):
    r = make_ratings(seed=8, n_users=40, n_items=300, density=0.02)
    model = Popularity().fit(r)
    counts = r.item_counts()
    assert len(np.unique(counts)) < 10  # many ties, at every cut
    for user, k in ((0, 5), (1, 40), (2, 120), (3, 299)):
        seen = r.items[r.users == user]
        assert model.recommend(user, k=k)[0].tolist() == brute_force_top_k(counts, k, seen)
    with pytest.raises(TypeError, match="does not predict ratings"):
        model.predict([0], [0])
