"""Splits, cross-validation and grid search."""

from typing import ClassVar

import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial.model_selection import (
    cross_validate,
    grid_search,
    kfold,
    leave_k_out,
    temporal_split,
    train_test_split,
)
from recsys_tutorial.models import Baseline, GlobalMean


def keys(r):
    """Each rating as the integer key user * n_items + item (unique: no repeated pairs)."""
    return r.users * r.n_items + r.items


def positions(part, whole):
    """Positions in ``whole`` of the ratings of ``part``, checking values and timestamps agree."""
    where = {key: pos for pos, key in enumerate(keys(whole).tolist())}
    pos = np.array([where[key] for key in keys(part).tolist()], dtype=np.int64)
    np.testing.assert_array_equal(part.values, whole.values[pos])
    if whole.timestamps is not None:
        np.testing.assert_array_equal(part.timestamps, whole.timestamps[pos])
    return pos


def assert_partition(train, test, whole):
    """train and test are disjoint, their union is ``whole``, and index spaces are kept."""
    assert train.shape == test.shape == whole.shape
    p_train, p_test = positions(train, whole), positions(test, whole)
    assert np.intersect1d(p_train, p_test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([p_train, p_test])), np.arange(len(whole)))
    return p_train, p_test


# ------------------------------------------------------------------ train/test
@pytest.mark.parametrize("test_size, n_test", [(0.2, 65), (0.25, 81), (0.6, 195), (10, 10), (1, 1)])
def test_train_test_split_sizes_and_partition(small_ratings, test_size, n_test):
    r = small_ratings
    assert len(r) == 325  # the fixture's size, which n_test above is computed from:
    # 0.2 * 325 = 65, 0.25 * 325 = 81.25 -> 81, 0.6 * 325 = 195; ints are counts
    train, test = train_test_split(r, test_size=test_size, random_state=0)
    assert len(test) == n_test and len(train) == len(r) - n_test
    assert_partition(train, test, r)


def test_train_test_split_is_seeded(small_ratings):
    a = train_test_split(small_ratings, 0.3, random_state=5)
    b = train_test_split(small_ratings, 0.3, random_state=5)
    c = train_test_split(small_ratings, 0.3, random_state=6)
    for x, y in zip(a, b):
        assert np.array_equal(x.users, y.users) and np.array_equal(x.items, y.items)
    assert not np.array_equal(keys(a[1]), keys(c[1]))
    # a Generator is accepted too and gives the same split as its seed
    d = train_test_split(small_ratings, 0.3, random_state=np.random.default_rng(5))
    assert np.array_equal(keys(d[1]), keys(a[1]))


@pytest.mark.parametrize(
    "test_size, error, match",
    [
        (0.0, ValueError, "test_size must be > 0"),
        (1.5, ValueError, "test_size must be <= 1"),
        (1.0, ValueError, "both parts must be non-empty"),
        (0.001, ValueError, "leaves 0 of 325 ratings in test"),
        (325, ValueError, "both parts must be non-empty"),
        (0, ValueError, "test_size must be >= 1"),
        ("0.2", TypeError, "test_size must be an int"),
    ],
)
def test_train_test_split_rejects_bad_sizes(small_ratings, test_size, error, match):
    with pytest.raises(error, match=match):
        train_test_split(small_ratings, test_size=test_size, random_state=0)


def test_splits_reject_what_is_not_ratings():
    with pytest.raises(TypeError, match="ratings must be a recsys_tutorial.Ratings"):
        train_test_split(np.ones((3, 3)))
    with pytest.raises(TypeError, match="ratings must be a recsys_tutorial.Ratings"):
        next(kfold([(0, 0, 1.0)]))
    with pytest.raises(TypeError, match="random_state must be None, an int or a numpy Generator"):
        train_test_split(rt.Ratings([0, 1], [0, 1], [1, 2]), test_size=1, random_state=1.5)


# -------------------------------------------------------------------------- kfold
@pytest.mark.parametrize("n_splits", [2, 5, 7])
def test_kfold_puts_every_rating_in_exactly_one_test_fold(small_ratings, n_splits):
    r = small_ratings
    times_in_test = np.zeros(len(r), dtype=int)
    sizes = []
    for train, test in kfold(r, n_splits=n_splits, random_state=3):
        _p_train, p_test = assert_partition(train, test, r)  # train is the complement
        times_in_test[p_test] += 1
        sizes.append(len(test))
    assert len(sizes) == n_splits
    np.testing.assert_array_equal(times_in_test, 1)
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == len(r)


def test_kfold_is_seeded_and_validates(small_ratings):
    first = [keys(test) for _, test in kfold(small_ratings, 4, random_state=1)]
    again = [keys(test) for _, test in kfold(small_ratings, 4, random_state=1)]
    other = [keys(test) for _, test in kfold(small_ratings, 4, random_state=2)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    with pytest.raises(ValueError, match="n_splits must be >= 2"):
        next(kfold(small_ratings, 1))
    with pytest.raises(ValueError, match="n_splits=4 is more than the 3 ratings"):
        next(kfold(rt.Ratings([0, 1, 2], [0, 1, 2], [1, 2, 3]), 4))


# -------------------------------------------------------------------- leave-k-out
def varied_counts(seed=0, n_users=25, n_items=30):
    """Ratings where user u has min(u, n_items) ratings: some users have <= k, some more."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        chosen = rng.choice(n_items, size=min(u, n_items), replace=False)
        users += [u] * chosen.size
        items += chosen.tolist()
    perm = rng.permutation(len(users))
    stamps = rng.integers(0, 10**6, size=len(users))  # may repeat across users, rarely within one
    return rt.Ratings(
        np.array(users)[perm],
        np.array(items)[perm],
        rng.integers(1, 6, len(users))[perm],
        n_users=n_users,
        n_items=n_items,
        timestamps=stamps,
    )


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("latest", [False, True])
def test_leave_k_out_holds_out_k_of_each_user_with_more_than_k(k, latest):
    r = varied_counts()
    train, test = leave_k_out(r, k=k, random_state=0, latest=latest)
    assert_partition(train, test, r)
    counts = r.user_counts()
    expected = np.where(counts > k, k, 0)
    np.testing.assert_array_equal(test.user_counts(), expected)
    # every user of the test part is known to a model fitted on the train part
    assert np.all(train.user_counts()[test.users] > 0)


def test_leave_k_out_latest_holds_out_the_most_recent_ratings():
    r = varied_counts(seed=4)
    k = 2
    _, test = leave_k_out(r, k=k, random_state=0, latest=True)
    held = set(keys(test).tolist())
    # brute force: sort each user's ratings by time, newest first, and take k
    expected = set()
    for u in range(r.n_users):
        mine = [(int(t), int(key)) for t, key, uu in zip(r.timestamps, keys(r), r.users) if uu == u]
        if len(mine) > k:
            stamps = sorted((t for t, _ in mine), reverse=True)
            assert stamps[k - 1] > stamps[k], "the fixture must have no tie at the cut"
            expected |= {key for _, key in sorted(mine, reverse=True)[:k]}
    assert held == expected


def test_leave_k_out_latest_with_ties_holds_out_no_older_rating():
    # user 0: times 5, 9, 9, 9, 1 -> two of the three 9s are held out (chosen at random);
    # user 1: times 3, 4, 2 -> 4 and 3
    r = rt.Ratings(
        [0, 0, 0, 0, 0, 1, 1, 1],
        [0, 1, 2, 3, 4, 0, 1, 2],
        [1, 2, 3, 4, 5, 1, 2, 3],
        timestamps=[5, 9, 9, 9, 1, 3, 4, 2],
    )
    seen = set()
    for seed in range(20):
        _train, test = leave_k_out(r, k=2, random_state=seed, latest=True)
        mine = test.users == 0
        assert mine.sum() == 2 and np.all(test.timestamps[mine] == 9)
        assert sorted(test.timestamps[~mine].tolist()) == [3, 4]
        seen.add(tuple(sorted(test.items[mine].tolist())))
    assert len(seen) > 1  # the tie is broken differently by different seeds


def test_leave_k_out_random_is_seeded_and_validates():
    r = varied_counts()
    a = keys(leave_k_out(r, 2, random_state=1)[1])
    assert np.array_equal(a, keys(leave_k_out(r, 2, random_state=1)[1]))
    assert not np.array_equal(a, keys(leave_k_out(r, 2, random_state=2)[1]))
    with pytest.raises(ValueError, match="k must be >= 1"):
        leave_k_out(r, 0)
    with pytest.raises(ValueError, match="no user has more than k=30 ratings"):
        leave_k_out(r, 30)
    no_time = rt.Ratings(r.users, r.items, r.values)
    with pytest.raises(ValueError, match="latest=True needs ratings with timestamps"):
        leave_k_out(no_time, 1, latest=True)


# ---------------------------------------------------------------- temporal split
def test_temporal_split_tests_on_the_future(small_ratings):
    r = small_ratings
    train, test = temporal_split(r, test_size=0.25)
    assert_partition(train, test, r)
    assert len(test) == round(0.25 * len(r))
    assert test.timestamps.min() >= train.timestamps.max()
    # with ties at the cut, the earlier position goes to train (a stable order)
    tied = rt.Ratings([0, 1, 2, 3], [0, 0, 0, 0], [1, 2, 3, 4], timestamps=[2, 7, 7, 1])
    train, test = temporal_split(tied, test_size=0.25)
    assert test.users.tolist() == [2] and test.timestamps.min() >= train.timestamps.max()


def test_temporal_split_validates(small_ratings):
    with pytest.raises(ValueError, match="temporal_split needs ratings with timestamps"):
        temporal_split(rt.Ratings([0, 1], [0, 1], [1, 2]))
    with pytest.raises(ValueError, match="test_size must be > 0"):
        temporal_split(small_ratings, 0.0)
    with pytest.raises(ValueError, match="both parts must be non-empty"):
        temporal_split(small_ratings, 1.0)


# ------------------------------------------- unknown users and items after a split
def test_baseline_falls_back_for_users_and_items_missing_from_the_train_split(make_ratings):
    r = make_ratings(seed=2, n_users=40, n_items=60, density=0.04)
    train, test = train_test_split(r, test_size=0.3, random_state=0)
    model = Baseline().fit(train)
    known_u, known_i = train.user_counts() > 0, train.item_counts() > 0
    cold_u, cold_i = ~known_u[test.users], ~known_i[test.items]
    # the data are sparse enough that the split leaves cold users and cold items in test
    assert (cold_u & ~cold_i).any() and (~cold_u & cold_i).any()
    mu = train.values.mean()
    # the documented fallback: global mean plus whichever bias is known
    expected = (
        mu
        + np.where(cold_u, 0.0, model.user_bias_[test.users])
        + np.where(cold_i, 0.0, model.item_bias_[test.items])
    )
    expected = np.clip(expected, train.values.min(), train.values.max())
    np.testing.assert_allclose(model.predict(test.users, test.items), expected, rtol=0, atol=1e-12)
    # the pairs where both sides are cold get the global mean alone
    both = cold_u & cold_i
    assert both.any()
    np.testing.assert_allclose(model.predict(test.users[both], test.items[both]), mu, atol=1e-12)


def test_temporal_split_users_appearing_only_later_are_predicted_with_the_fallback():
    # user 2 and item 3 rate/are rated only in the last (test) period
    r = rt.Ratings(
        [0, 0, 1, 1, 2, 0], [0, 1, 1, 2, 0, 3], [5, 3, 4, 2, 1, 4], timestamps=[1, 2, 3, 4, 10, 11]
    )
    train, test = temporal_split(r, test_size=2 / 6)
    model = Baseline(reg_user=1.0, reg_item=1.0).fit(train)
    mu = np.mean([5, 3, 4, 2])
    pred = model.predict(test.users, test.items)  # (2, 0) and (0, 3)
    np.testing.assert_allclose(
        pred, [mu + model.item_bias_[0], mu + model.user_bias_[0]], atol=1e-12
    )


# --------------------------------------------------------------- cross_validate
def test_cross_validate_matches_fitting_each_fold_by_hand(small_ratings):
    r = small_ratings
    template = Baseline(reg_user=2.0, reg_item=4.0, n_epochs=5)
    scores = cross_validate(
        template, r, cv=4, metrics=("rmse", "mae", "precision@5"), random_state=3
    )
    assert set(scores) == {"test_rmse", "test_mae", "test_precision@5", "fit_time", "predict_time"}
    by_hand = {"rmse": [], "mae": [], "precision@5": []}
    for train, test in kfold(r, 4, random_state=3):
        fitted = Baseline(reg_user=2.0, reg_item=4.0, n_epochs=5).fit(train)
        err = test.values - fitted.predict(test.users, test.items)
        by_hand["rmse"].append(np.sqrt(np.sum(err**2) / err.size))
        by_hand["mae"].append(np.sum(np.abs(err)) / err.size)
        by_hand["precision@5"].append(rt.metrics.precision_at_k(fitted, train, test, k=5))
    for name, values in by_hand.items():
        assert scores[f"test_{name}"].shape == (4,)
        np.testing.assert_allclose(scores[f"test_{name}"], values, rtol=1e-12)
    assert np.all(scores["fit_time"] >= 0) and np.all(scores["predict_time"] >= 0)
    # the template was cloned, never fitted
    assert not hasattr(template, "global_mean_")


def test_cross_validate_accepts_explicit_splits(small_ratings):
    r = small_ratings
    splits = [train_test_split(r, 0.2, random_state=s) for s in (10, 11, 12)]
    scores = cross_validate(GlobalMean(), r, cv=splits, metrics=["rmse"])
    expected = [
        np.sqrt(np.mean((test.values - train.values.mean()) ** 2)) for train, test in splits
    ]
    np.testing.assert_allclose(scores["test_rmse"], expected, rtol=1e-12)
    # a generator of splits works too
    gen_scores = cross_validate(GlobalMean(), r, cv=(s for s in splits), metrics=["rmse"])
    np.testing.assert_array_equal(gen_scores["test_rmse"], scores["test_rmse"])


def test_cross_validate_ranking_only_never_asks_for_rating_predictions(small_ratings):
    # Popularity.predict raises, so this passes only if no rating prediction is made
    scores = cross_validate(
        rt.models.Popularity(), small_ratings, cv=3, metrics=["ndcg@10"], random_state=0
    )
    assert np.all(scores["predict_time"] >= 0)
    assert np.all((scores["test_ndcg@10"] >= 0) & (scores["test_ndcg@10"] <= 1))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"metrics": ["rmse", "accuracy"]}, ValueError, "unknown metric 'accuracy'"),
        ({"metrics": ["precision@k"]}, ValueError, "unknown metric 'precision@k'"),
        ({"metrics": ["recall@0"]}, ValueError, "unknown metric 'recall@0'"),
        ({"metrics": []}, ValueError, "metrics is empty"),
        ({"cv": [(1, 2)]}, TypeError, "cv must be an int or an iterable of"),
        ({"cv": []}, ValueError, "cv gave no splits"),
        ({"cv": 1}, ValueError, "n_splits must be >= 2"),
    ],
)
def test_cross_validate_rejects_bad_arguments(small_ratings, kwargs, error, match):
    with pytest.raises(error, match=match):
        cross_validate(GlobalMean(), small_ratings, **kwargs)


# ------------------------------------------------------------------ grid_search
class RecordingBaseline(Baseline):
    """A Baseline that records every rating it is fitted on and every pair it scores."""

    fitted_keys: ClassVar[list] = []
    scored_pairs: ClassVar[list] = []

    def fit(self, ratings):
        RecordingBaseline.fitted_keys.append(keys(ratings))
        return super().fit(ratings)

    def predict(self, users, items):
        RecordingBaseline.scored_pairs.append((np.asarray(users), np.asarray(items)))
        return super().predict(users, items)


def test_grid_search_picks_the_best_mean_cv_score_and_sees_only_its_data(
    small_ratings, monkeypatch
):
    train, _held_out = train_test_split(small_ratings, 0.25, random_state=0)
    monkeypatch.setattr(RecordingBaseline, "fitted_keys", [])
    monkeypatch.setattr(RecordingBaseline, "scored_pairs", [])
    grid = {"reg_user": [0.0, 3.0, 30.0], "reg_item": [0.5, 8.0]}
    result = grid_search(RecordingBaseline(n_epochs=4), grid, train, cv=3, random_state=1)

    # recompute every combination's mean CV RMSE independently, on the same folds
    means = {}
    for reg_user in grid["reg_user"]:
        for reg_item in grid["reg_item"]:
            scores = cross_validate(
                Baseline(reg_user=reg_user, reg_item=reg_item, n_epochs=4),
                train,
                cv=3,
                metrics=["rmse"],
                random_state=1,
            )["test_rmse"]
            means[(reg_user, reg_item)] = scores.mean()
    best = min(means, key=means.get)
    first, second = sorted(means.values())[:2]
    assert first < second  # a unique winner
    assert result.best_params == {"reg_user": best[0], "reg_item": best[1]}
    assert result.best_score == pytest.approx(means[best], rel=1e-12)
    assert len(result.results) == 6
    for row in result.results:
        key = (row["params"]["reg_user"], row["params"]["reg_item"])
        assert row["mean"] == pytest.approx(means[key], rel=1e-12) and row["scores"].shape == (3,)
    # the best model: the template's other parameters, the best ones, refitted on all of train
    assert result.best_model.n_epochs == 4
    refit = Baseline(reg_user=best[0], reg_item=best[1], n_epochs=4).fit(train)
    np.testing.assert_array_equal(result.best_model.user_bias_, refit.user_bias_)
    np.testing.assert_array_equal(result.best_model.item_bias_, refit.item_bias_)

    # it never touched the held-out ratings: every fit and every scored pair is inside train
    train_keys = set(keys(train).tolist())
    assert len(RecordingBaseline.fitted_keys) == 6 * 3 + 1
    for fitted in RecordingBaseline.fitted_keys:
        assert set(fitted.tolist()) <= train_keys
    assert RecordingBaseline.fitted_keys[-1].size == len(train)
    for users, items in RecordingBaseline.scored_pairs:
        assert set((users * train.n_items + items).tolist()) <= train_keys


def test_grid_search_maximizes_ranking_metrics(small_ratings):
    grid = {"reg_item": [0.0, 1000.0]}
    result = grid_search(Baseline(), grid, small_ratings, cv=3, metric="ndcg@5", random_state=0)
    means = [row["mean"] for row in result.results]
    assert means[0] != means[1]
    assert result.best_score == max(means)
    assert result.best_params == result.results[int(np.argmax(means))]["params"]


@pytest.mark.parametrize(
    "grid, error, match",
    [
        ({}, ValueError, "param_grid must be a non-empty dict"),
        ([("reg_user", [1.0])], ValueError, "param_grid must be a non-empty dict"),
        ({"reg_user": []}, ValueError, r"param_grid\['reg_user'\] is empty"),
        ({"learning_rate": [0.1]}, ValueError, "Baseline has no parameter 'learning_rate'"),
    ],
)
def test_grid_search_rejects_bad_grids(small_ratings, grid, error, match):
    with pytest.raises(error, match=match):
        grid_search(Baseline(), grid, small_ratings, cv=2, random_state=0)


def test_cross_validate_passes_the_relevance_threshold_and_returns_the_models(small_ratings):
    splits = list(kfold(small_ratings, 3, random_state=0))
    scores = cross_validate(
        rt.models.Baseline(),
        small_ratings,
        cv=splits,
        metrics=["precision@5", "rmse"],
        relevance_threshold=4,
        return_models=True,
    )
    assert len(scores["models"]) == 3
    for (train, test), model, value in zip(splits, scores["models"], scores["test_precision@5"]):
        # the returned models are fitted on their folds, and the threshold reached the metric
        assert model.n_users_ == train.n_users and np.array_equal(
            model.user_counts_, train.user_counts()
        )
        assert value == pytest.approx(
            rt.metrics.precision_at_k(model, train, test, 5, relevance_threshold=4)
        )
    unthresholded = cross_validate(
        rt.models.Baseline(), small_ratings, cv=splits, metrics=["precision@5"]
    )
    assert "models" not in unthresholded
    assert not np.allclose(unthresholded["test_precision@5"], scores["test_precision@5"])
