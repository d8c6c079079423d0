"""Splitting ratings for evaluation, cross-validation and grid search.

Every split returns :class:`~recsys_tutorial.Ratings` that keep the full index
spaces (``n_users``, ``n_items``), so an index means the same user or item in
train and test.  A random split may leave a user or an item with no rating in
the training part; a model fitted on it treats that user or item as
*unknown* and predicts its fallback (the global mean plus whichever bias is
known).  :func:`leave_k_out` never does this to users: it holds out ratings
only from users who keep at least one in training.

All splits are deterministic given ``random_state``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import metrics as _metrics
from .data import Ratings
from .utils import check_float, check_int, check_random_state, check_ratings

__all__ = [
    "train_test_split",
    "kfold",
    "leave_k_out",
    "temporal_split",
    "cross_validate",
    "grid_search",
    "GridSearchResult",
]


def train_test_split(
    ratings: Ratings, test_size: float = 0.2, random_state=None
) -> tuple[Ratings, Ratings]:
    """Split ratings uniformly at random into train and test.

    Parameters
    ----------
    ratings : Ratings
    test_size : float in (0, 1) or int
        Fraction of ratings (rounded to the nearest count) or number of
        ratings in the test part; both parts must be non-empty.
    random_state : None, int or numpy Generator
    """
    ratings = check_ratings("ratings", ratings)
    n = len(ratings)
    if isinstance(test_size, (float, np.floating)):
        check_float("test_size", test_size, 0.0, strict=True, maximum=1.0)
        n_test = round(float(test_size) * n)
    else:
        n_test = check_int("test_size", test_size)
    if not 0 < n_test < n:
        raise ValueError(
            f"test_size={test_size} leaves {n_test} of {n} ratings in test; "
            "both parts must be non-empty"
        )
    perm = check_random_state(random_state).permutation(n)
    return ratings.subset(np.sort(perm[n_test:])), ratings.subset(np.sort(perm[:n_test]))


def kfold(
    ratings: Ratings, n_splits: int = 5, random_state=None
) -> Iterator[tuple[Ratings, Ratings]]:
    """K-fold cross-validation: each rating is in exactly one test fold.

    The ratings are shuffled once and cut into ``n_splits`` folds whose sizes
    differ by at most one; fold ``k`` is the test part of split ``k`` and the
    other folds its training part.

    Yields
    ------
    (train, test) : tuple of Ratings
    """
    ratings = check_ratings("ratings", ratings)
    n_splits = check_int("n_splits", n_splits, 2)
    if n_splits > len(ratings):
        raise ValueError(f"n_splits={n_splits} is more than the {len(ratings)} ratings")
    perm = check_random_state(random_state).permutation(len(ratings))
    folds = np.array_split(perm, n_splits)
    for k in range(n_splits):
        test_mask = np.zeros(len(ratings), dtype=bool)
        test_mask[folds[k]] = True
        yield ratings.subset(~test_mask), ratings.subset(test_mask)


def leave_k_out(
    ratings: Ratings, k: int = 1, random_state=None, *, latest: bool = False
) -> tuple[Ratings, Ratings]:
    """Per-user leave-k-out: hold out ``k`` ratings of every user who has more than ``k``.

    Users with ``k`` or fewer ratings keep them all in train, so every user of
    the test part is known to a model fitted on the train part.

    Parameters
    ----------
    k : int
        Ratings held out per user.
    latest : bool
        Hold out each user's ``k`` most recent ratings (needs timestamps; ties
        broken at random) instead of ``k`` random ones.
    """
    ratings = check_ratings("ratings", ratings)
    k = check_int("k", k)
    if latest and ratings.timestamps is None:
        raise ValueError("latest=True needs ratings with timestamps")
    rng = check_random_state(random_state)
    noise = rng.random(len(ratings))
    time_key = ratings.timestamps if latest else np.zeros(len(ratings))
    # sort by user, then newest first (or random); the first k of each user go to test
    order = np.lexsort((noise, -time_key, ratings.users))
    counts = ratings.user_counts()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(ratings)) - starts[ratings.users[order]]
    in_test = np.zeros(len(ratings), dtype=bool)
    in_test[order] = (rank < k) & (counts[ratings.users[order]] > k)
    if not in_test.any():
        raise ValueError(f"no user has more than k={k} ratings; nothing to hold out")
    return ratings.subset(~in_test), ratings.subset(in_test)


def temporal_split(ratings: Ratings, test_size: float = 0.2) -> tuple[Ratings, Ratings]:
    """Train on the past, test on the future: the latest ``test_size`` fraction is test.

    Ratings are ordered by timestamp (ties by position); users and items that
    appear only in the future are unknown to a model fitted on the past, as
    they would be in production.
    """
    ratings = check_ratings("ratings", ratings)
    if ratings.timestamps is None:
        raise ValueError("temporal_split needs ratings with timestamps")
    check_float("test_size", test_size, 0.0, strict=True, maximum=1.0)
    n_test = round(float(test_size) * len(ratings))
    if not 0 < n_test < len(ratings):
        raise ValueError(
            f"test_size={test_size} leaves {n_test} ratings in test; both parts must be non-empty"
        )
    order = np.argsort(ratings.timestamps, kind="stable")
    in_test = np.zeros(len(ratings), dtype=bool)
    in_test[order[-n_test:]] = True
    return ratings.subset(~in_test), ratings.subset(in_test)


def _splits(ratings, cv, random_state):
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return list(kfold(ratings, cv, random_state))
    splits = list(cv)
    for k, pair in enumerate(splits):
        if not (
            isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, Ratings) for p in pair)
        ):
            raise TypeError(
                f"cv must be an int or an iterable of (train, test) Ratings pairs; item {k} is not"
            )
    if not splits:
        raise ValueError("cv gave no splits")
    return splits


_RANKING = ("precision", "recall", "ndcg", "map")


def _parse_metric(metric: str) -> tuple[str, int | None]:
    """("rmse", None), ("mae", None) or (ranking name, k) for "precision@k" etc."""
    if metric in ("rmse", "mae"):
        return metric, None
    name, _, k = str(metric).partition("@")
    if name in _RANKING and k.isdigit() and int(k) > 0:
        return name, int(k)
    raise ValueError(
        f"unknown metric {metric!r}; "
        "use 'rmse', 'mae' or 'precision@k', 'recall@k', 'ndcg@k', 'map@k'"
    )


def _scores(
    parsed: dict, model, train: Ratings, test: Ratings, relevance_threshold=None
) -> dict[str, float]:
    """The named metrics of a fitted model on one split (each top-k list computed once per k)."""
    out = {}
    if any(k is None for _, k in parsed.values()):
        pred = model.predict(test.users, test.items)
        for metric, (name, k) in parsed.items():
            if k is None:
                out[metric] = (
                    _metrics.rmse(test.values, pred)
                    if name == "rmse"
                    else _metrics.mae(test.values, pred)
                )
    for k in sorted({k for _, k in parsed.values() if k is not None}):
        ranking = _metrics.ranking_metrics(model, train, test, k, relevance_threshold)
        for metric, (name, kk) in parsed.items():
            if kk == k:
                out[metric] = float(ranking[name])
    return out


def cross_validate(
    model,
    ratings: Ratings,
    cv: int | Iterable[tuple[Ratings, Ratings]] = 5,
    metrics: Iterable[str] = ("rmse", "mae"),
    random_state=None,
    *,
    relevance_threshold: float | None = None,
    return_models: bool = False,
) -> dict:
    """Fit a fresh copy of ``model`` on each training fold and score it on the test fold.

    Parameters
    ----------
    model : Recommender
        An unfitted template; it is cloned for every fold (never changed).
    ratings : Ratings
    cv : int or iterable of (train, test)
        Number of :func:`kfold` folds (with ``random_state``), or the splits.
    metrics : iterable of str
        ``"rmse"``, ``"mae"``, and ranking metrics ``"precision@k"``,
        ``"recall@k"``, ``"ndcg@k"``, ``"map@k"`` (for any k, see
        :mod:`recsys_tutorial.metrics`).
    random_state : None or int
        Seeds the folds when ``cv`` is an int.
    relevance_threshold : float, optional
        For the ranking metrics: only held-out ratings ``>= relevance_threshold``
        are relevant (default: every held-out rating).
    return_models : bool
        Also return the fitted model of each fold (``"models"``), to compute
        further metrics without fitting again.

    Returns
    -------
    dict
        ``"test_<metric>"`` arrays of per-fold scores, ``"fit_time"`` and
        ``"predict_time"`` (the time to score the test fold: predictions and
        top-k lists) in seconds per fold.  Rating predictions are made only
        when "rmse" or "mae" is asked for, so a ranking-only model such as
        :class:`~recsys_tutorial.models.Popularity` can be evaluated too.
        With ``return_models``, ``"models"`` is the list of fitted models.
    """
    ratings = check_ratings("ratings", ratings)
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics is empty; name at least one")
    parsed = {m: _parse_metric(m) for m in metrics}  # unknown names fail before any fit
    results: dict[str, list] = {f"test_{m}": [] for m in metrics}
    results["fit_time"], results["predict_time"] = [], []
    models = []
    for train, test in _splits(ratings, cv, random_state):
        fitted = model.clone()
        t0 = time.perf_counter()
        fitted.fit(train)
        t1 = time.perf_counter()
        scores = _scores(parsed, fitted, train, test, relevance_threshold)
        if (
            return_models
        ):  # otherwise let each fold's model go (a BayesianPMF keeps ~27 MB of samples)
            models.append(fitted)
        results["fit_time"].append(t1 - t0)
        # predict_time covers the rating metrics and the top-k lists alike
        results["predict_time"].append(time.perf_counter() - t1)
        for m in metrics:
            results[f"test_{m}"].append(scores[m])
    out = {key: np.array(values) for key, values in results.items()}
    if return_models:
        out["models"] = models
    return out


@dataclass
class GridSearchResult:
    """What :func:`grid_search` found."""

    best_params: dict
    best_score: float
    #: one dict per combination: its parameters, mean and per-fold scores
    results: list = field(default_factory=list)
    #: the model with ``best_params``, refitted on all the ratings searched
    best_model: Any = None


def grid_search(
    model,
    param_grid: dict[str, Iterable],
    ratings: Ratings,
    cv: int = 3,
    metric: str = "rmse",
    random_state=None,
) -> GridSearchResult:
    """Exhaustive search over ``param_grid`` by cross-validation on ``ratings`` only.

    Pass only the *training* data: the validation folds are carved from it,
    so the test set of the final evaluation never influences the choice.

    Parameters
    ----------
    model : Recommender
        Template; each combination is ``model.clone().set_params(**combo)``.
    param_grid : dict of name -> list of values
    ratings : Ratings
        Training data.
    cv : int
        Number of validation folds.
    metric : str
        As in :func:`cross_validate`; lower is better for "rmse" and "mae",
        higher for ranking metrics.
    random_state : None or int
        Seeds the folds (the same folds for every combination).
    """
    ratings = check_ratings("ratings", ratings)
    if not isinstance(param_grid, dict) or not param_grid:
        raise ValueError("param_grid must be a non-empty dict of parameter name -> list of values")
    names = list(param_grid)
    grids = [list(param_grid[name]) for name in names]
    for name, values in zip(names, grids):
        if not values:
            raise ValueError(f"param_grid[{name!r}] is empty")
    lower_is_better = metric in ("rmse", "mae")
    splits = _splits(ratings, cv, random_state)
    results = []
    for combo in itertools.product(*grids):
        params = dict(zip(names, combo))
        scores = cross_validate(model.clone().set_params(**params), ratings, splits, [metric])[
            f"test_{metric}"
        ]
        results.append({"params": params, "mean": float(scores.mean()), "scores": scores})
    pick = min if lower_is_better else max
    best = pick(results, key=lambda row: row["mean"])
    best_model = model.clone().set_params(**best["params"]).fit(ratings)
    return GridSearchResult(best["params"], best["mean"], results, best_model)
