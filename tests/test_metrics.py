"""Metrics: RMSE/MAE, and the ranking metrics against hand computations and a naive reference."""

from math import log2

import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial.metrics import (
    mae,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    rmse,
)


# ------------------------------------------------------------------ RMSE and MAE
def test_rmse_and_mae_by_hand():
    y_true = [1.0, 2.0, 3.0, 4.0]
    y_pred = [2.0, 2.0, 5.0, 0.0]
    # errors -1, 0, -2, 4: squares 1 + 0 + 4 + 16 = 21, absolute values 1 + 0 + 2 + 4 = 7
    assert rmse(y_true, y_pred) == pytest.approx(np.sqrt(21 / 4), rel=1e-15)
    assert mae(y_true, y_pred) == pytest.approx(7 / 4, rel=1e-15)
    assert rmse([3.0], [3.0]) == 0.0 and mae([3.0], [3.0]) == 0.0
    assert isinstance(rmse(y_true, y_pred), float) and isinstance(mae(y_true, y_pred), float)


def test_rmse_and_mae_against_numpy_formulas():
    rng = np.random.default_rng(0)
    for n in (1, 7, 1000):
        y_true, y_pred = rng.normal(size=n), rng.normal(size=n)
        # the RMSE is the Euclidean norm of the error vector over sqrt(n)
        assert rmse(y_true, y_pred) == pytest.approx(
            np.linalg.norm(y_true - y_pred) / np.sqrt(n), rel=1e-12
        )
        assert mae(y_true, y_pred) == pytest.approx(
            np.linalg.norm(y_true - y_pred, ord=1) / n, rel=1e-12
        )
        # RMSE >= MAE (power-mean inequality)
        assert rmse(y_true, y_pred) >= mae(y_true, y_pred)


@pytest.mark.parametrize("metric", [rmse, mae])
@pytest.mark.parametrize(
    "y_true, y_pred, match",
    [
        ([1.0, 2.0], [1.0], "y_true and y_pred must have equal lengths; got 2 and 1"),
        ([[1.0, 2.0]], [[1.0, 2.0]], "y_true and y_pred must be 1-D"),
        ([], [], "y_true and y_pred are empty"),
        ([1.0, np.nan], [1.0, 2.0], "y_true must be finite; 1 values are NaN or inf"),
        ([1.0, 2.0], [np.inf, -np.inf], "y_pred must be finite; 2 values are NaN or inf"),
    ],
)
def test_rmse_and_mae_validate_their_input(metric, y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        metric(y_true, y_pred)


# ------------------------------------------------------------- ranking metrics
class TableModel(rt.models.Recommender):
    """A stand-in model that scores items by a fixed table (``table[user, item]``).

    The base class turns those scores into top-k lists (ties by lower index);
    every block of users scored is recorded so that tests can check what the
    metric asked for.
    """

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _fit(self, ratings, params):
        self.calls = []

    def _score_users(self, users):
        self.calls.append(users.tolist())
        return self.table[users]


def table_model(scores, train):
    """A :class:`TableModel` fitted on ``train`` that scores by ``scores``."""
    model = TableModel().fit(train)
    model.table = np.asarray(scores, dtype=float)
    return model


# Four users, six items.
#   train: user 0 rated items 0, 1; user 1 item 5; user 2 item 0; user 3 item 1
#   test:  user 0 rated items 2 (5 stars), 4 (3 stars), 5 (4 stars); user 1 item 3 (2 stars);
#          user 3 item 4 (2 stars); user 2 has no test item, so it never counts
HAND_TRAIN = rt.Ratings([0, 0, 1, 2, 3], [0, 1, 5, 0, 1], [4, 3, 2, 5, 4], n_users=4, n_items=6)
HAND_TEST = rt.Ratings([0, 0, 0, 1, 3], [2, 4, 5, 3, 4], [5, 3, 4, 2, 2], n_users=4, n_items=6)
HAND_SCORES = [
    [9, 8, 7, 6.5, 1, 5],  # user 0: candidates 2, 3, 5, 4 in this order (0 and 1 are excluded)
    [1, 2, 3, 4, 5, 6],  # user 1: candidates 4, 3, 2, 1, 0 (5 is excluded)
    [0, 0, 0, 0, 0, 0],  # user 2: never asked
    [0, 0, 0, 0, 0, 0],  # user 3: all tied, so by index: 0, 2, 3, 4, 5 (1 is excluded)
]
L3 = log2(3)  # the discount of rank 2 is 1 / log2(3); of rank 1, 1 / log2(2) = 1


def hand_expected(k, threshold):
    """The four metrics worked out by hand for the table above."""
    if k == 3 and threshold is None:
        # user 0: top [2, 3, 5], hits [1, 0, 1], relevant {2, 4, 5}
        #   P = 2/3, R = 2/3, DCG = 1 + 1/log2(4) = 1.5, ideal (3 hits) = 1 + 1/log2(3) + 1/2,
        #   AP = (P@1 + P@3) / min(3, 3) = (1 + 2/3) / 3 = 5/9
        # user 1: top [4, 3, 2], hits [0, 1, 0], relevant {3}
        #   P = 1/3, R = 1, DCG = 1/log2(3), ideal (1 hit) = 1, AP = (1/2) / 1 = 1/2
        # user 3: top [0, 2, 3], no hit: all four are 0
        return dict(
            precision=(2 / 3 + 1 / 3 + 0) / 3,
            recall=(2 / 3 + 1 + 0) / 3,
            ndcg=(1.5 / (1 + 1 / L3 + 0.5) + 1 / L3 + 0) / 3,
            map=(5 / 9 + 1 / 2 + 0) / 3,
            n_users=3,
        )
    if k == 3 and threshold == 4:
        # only user 0 has an item rated >= 4 in test: relevant {2, 5}
        #   top [2, 3, 5], hits [1, 0, 1]: P = 2/3, R = 2/2, DCG = 1.5,
        #   ideal (2 hits) = 1 + 1/log2(3), AP = (1 + 2/3) / min(3, 2) = 5/6
        return dict(precision=2 / 3, recall=1.0, ndcg=1.5 / (1 + 1 / L3), map=5 / 6, n_users=1)
    if k == 10 and threshold is None:
        # fewer candidates than k: the lists are shorter, precision still divides by 10
        # user 0: top [2, 3, 5, 4], hits [1, 0, 1, 1]: P = 3/10, R = 1,
        #   DCG = 1 + 1/2 + 1/log2(5), ideal = 1 + 1/log2(3) + 1/2, AP = (1 + 2/3 + 3/4) / 3 = 29/36
        # user 1: top [4, 3, 2, 1, 0], hit at rank 2: P = 1/10, R = 1, NDCG = 1/log2(3), AP = 1/2
        # user 3: top [0, 2, 3, 4, 5], hit at rank 4: P = 1/10, R = 1, NDCG = 1/log2(5), AP = 1/4
        return dict(
            precision=(3 / 10 + 1 / 10 + 1 / 10) / 3,
            recall=1.0,
            ndcg=((1.5 + 1 / log2(5)) / (1.5 + 1 / L3) + 1 / L3 + 1 / log2(5)) / 3,
            map=(29 / 36 + 1 / 2 + 1 / 4) / 3,
            n_users=3,
        )
    if k == 1 and threshold is None:
        # user 0: top [2], a hit: P = 1, R = 1/3, NDCG = 1 (ideal: 1 hit), AP = 1 / min(1, 3) = 1
        # users 1 and 3: top [4] and [0], misses
        return dict(precision=1 / 3, recall=1 / 9, ndcg=1 / 3, map=1 / 3, n_users=3)
    raise AssertionError("no hand computation for this case")


@pytest.mark.parametrize("k, threshold", [(3, None), (3, 4), (10, None), (1, None)])
def test_ranking_metrics_on_a_case_worked_out_by_hand(k, threshold):
    model = table_model(HAND_SCORES, HAND_TRAIN)
    got = ranking_metrics(model, HAND_TRAIN, HAND_TEST, k=k, relevance_threshold=threshold)
    expected = hand_expected(k, threshold)
    assert got["n_users"] == expected["n_users"]
    for name in ("precision", "recall", "ndcg", "map"):
        assert got[name] == pytest.approx(expected[name], rel=1e-12), name
    # each single-metric function gives the same number
    assert precision_at_k(model, HAND_TRAIN, HAND_TEST, k, threshold) == pytest.approx(
        expected["precision"], rel=1e-12
    )
    assert recall_at_k(model, HAND_TRAIN, HAND_TEST, k, threshold) == pytest.approx(
        expected["recall"], rel=1e-12
    )
    assert ndcg_at_k(model, HAND_TRAIN, HAND_TEST, k, threshold) == pytest.approx(
        expected["ndcg"], rel=1e-12
    )
    assert map_at_k(model, HAND_TRAIN, HAND_TEST, k, threshold) == pytest.approx(
        expected["map"], rel=1e-12
    )


def test_ranking_metrics_ask_for_k_items_excluding_each_users_training_items():
    model = table_model(HAND_SCORES, HAND_TRAIN)
    ranking_metrics(model, HAND_TRAIN, HAND_TEST, k=3)
    # users with a relevant item only (not user 2), scored in one block; the exclusion of
    # each user's training items is what the hand-worked cases above check
    assert model.calls == [[0, 1, 3]]


# ------------------------------------------------------- naive reference implementation
def reference_metrics(scores, train, test, k, threshold=None):
    """The ranking metrics straight from their definitions, one user at a time.

    Candidates: items without a training rating of the user; top-k: candidates by
    decreasing score, ties by lower index; relevant: the user's test items (rated
    >= threshold if given); users without a relevant item are skipped.
    """
    seen = {u: set() for u in range(train.n_users)}
    for u, j in zip(train.users.tolist(), train.items.tolist()):
        seen[u].add(j)
    relevant = {u: set() for u in range(test.n_users)}
    for u, j, v in zip(test.users.tolist(), test.items.tolist(), test.values.tolist()):
        if threshold is None or v >= threshold:
            relevant[u].add(j)
    per_user = []
    for u in range(train.n_users):
        if not relevant[u]:
            continue
        candidates = [j for j in range(train.n_items) if j not in seen[u]]
        ranked = sorted(candidates, key=lambda j: (-scores[u][j], j))[:k]
        hits = [1 if j in relevant[u] else 0 for j in ranked]
        n_rel = len(relevant[u])
        precision = sum(hits) / k
        recall = sum(hits) / n_rel
        dcg = sum(h / log2(rank + 1) for rank, h in enumerate(hits, start=1))
        idcg = sum(1 / log2(rank + 1) for rank in range(1, min(k, n_rel) + 1))
        ap, found = 0.0, 0
        for rank, h in enumerate(hits, start=1):
            if h:
                found += 1
                ap += found / rank
        per_user.append((precision, recall, dcg / idcg, ap / min(k, n_rel)))
    means = np.mean(per_user, axis=0)
    return dict(
        precision=means[0], recall=means[1], ndcg=means[2], map=means[3], n_users=len(per_user)
    )


def random_instance(seed, n_users=15, n_items=12):
    """Random train/test ratings with the awkward cases built in.

    User 0 rated all items but one in train (fewer candidates than most k); user 1
    has no test rating; score levels are few, so ties are common.
    """
    rng = np.random.default_rng(seed)
    part = rng.choice(3, size=(n_users, n_items), p=[0.5, 0.3, 0.2])  # 0 none, 1 train, 2 test
    part[0, :] = 1
    part[0, rng.integers(n_items)] = 2
    part[1, part[1] == 2] = 1
    sets = []
    for code in (1, 2):
        users, items = np.nonzero(part == code)
        values = rng.integers(1, 6, size=users.size)
        sets.append(rt.Ratings(users, items, values, n_users=n_users, n_items=n_items))
    scores = rng.integers(0, 4, size=(n_users, n_items)).astype(float)
    return sets[0], sets[1], scores


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 3, 7, 20])
@pytest.mark.parametrize("threshold", [None, 4])
def test_ranking_metrics_match_a_naive_reference_on_random_data(seed, k, threshold):
    train, test, scores = random_instance(seed)
    got = ranking_metrics(
        table_model(scores, train), train, test, k=k, relevance_threshold=threshold
    )
    expected = reference_metrics(scores, train, test, k, threshold)
    # users without any relevant item are left out of the average
    assert got["n_users"] == expected["n_users"] < train.n_users
    for name in ("precision", "recall", "ndcg", "map"):
        assert got[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-15), name


def test_ranking_metrics_of_a_real_model_match_the_reference_with_its_own_scores(make_ratings):
    r = make_ratings(seed=5, n_users=25, n_items=200, density=0.1)
    train, test = rt.model_selection.train_test_split(r, 0.3, random_state=0)
    model = rt.models.Baseline(reg_user=2.0, reg_item=2.0).fit(train)
    # the model ranks by mu + b_i + c_j (unclipped); unrated items all have c_j = 0: many ties
    scores = model.global_mean_ + model.user_bias_[:, None] + model.item_bias_[None, :]
    for k in (5, 50):
        got = ranking_metrics(model, train, test, k=k)
        expected = reference_metrics(scores, train, test, k)
        for name in ("precision", "recall", "ndcg", "map", "n_users"):
            assert got[name] == pytest.approx(expected[name], rel=1e-12), (k, name)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"k": 0}, ValueError, "k must be >= 1"),
        ({"k": 2.0}, TypeError, "k must be an int"),
        ({"relevance_threshold": 6}, ValueError, "no test rating is >= relevance_threshold=6"),
        ({"relevance_threshold": "4"}, TypeError, "relevance_threshold must be a real number"),
    ],
)
def test_ranking_metrics_validate_their_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ranking_metrics(table_model(HAND_SCORES, HAND_TRAIN), HAND_TRAIN, HAND_TEST, **kwargs)


def test_ranking_metrics_need_ratings_with_shared_index_spaces():
    wider = rt.Ratings(HAND_TEST.users, HAND_TEST.items, HAND_TEST.values, n_users=4, n_items=7)
    with pytest.raises(ValueError, match="train and test must share their index spaces"):
        ranking_metrics(table_model(HAND_SCORES, HAND_TRAIN), HAND_TRAIN, wider)
    with pytest.raises(TypeError, match="test must be a recsys_tutorial.Ratings"):
        ranking_metrics(table_model(HAND_SCORES, HAND_TRAIN), HAND_TRAIN, [(0, 2, 5.0)])
