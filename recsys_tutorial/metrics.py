"""Accuracy metrics (RMSE, MAE) and top-k ranking metrics.

Rating metrics are exact global values over all test ratings (not averages of
per-batch or per-user values):

.. math::

    \\mathrm{RMSE} = \\sqrt{\\frac{1}{|T|} \\sum_{(i,j) \\in T} (R_{ij} - \\hat R_{ij})^2},
    \\qquad
    \\mathrm{MAE} = \\frac{1}{|T|} \\sum_{(i,j) \\in T} |R_{ij} - \\hat R_{ij}|.

Ranking metrics, as the book defines them.  For user :math:`i`:

* the candidates are the items *not* in ``train`` for :math:`i` (items the
  user already rated are never recommended again);
* the top-:math:`k` list :math:`L_i` is ``model.recommend(i, k)`` with those
  training items excluded (computed for all users at once, in blocks);
* the relevant items :math:`T_i` are :math:`i`'s items in ``test`` (with
  ``relevance_threshold=t``, only those rated :math:`\\ge t`);
* with :math:`h_r = 1` if the item at rank :math:`r` of :math:`L_i` is relevant,

  - precision@k :math:`= \\sum_r h_r / k` (divided by :math:`k` even when fewer
    than :math:`k` candidates exist),
  - recall@k :math:`= \\sum_r h_r / |T_i|`,
  - NDCG@k :math:`= \\sum_r h_r / \\log_2(r + 1)` divided by the same sum for
    the ideal list of :math:`\\min(k, |T_i|)` hits,
  - MAP@k (average precision) :math:`= \\sum_r h_r \\cdot \\mathrm{precision@}r / \\min(k, |T_i|)`;
* each metric is averaged over the users with at least one relevant item.
"""

from __future__ import annotations

import numpy as np

from .data import Ratings
from .utils import check_float, check_int, check_ratings

__all__ = [
    "rmse",
    "mae",
    "precision_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "map_at_k",
    "ranking_metrics",
]


def _check_pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D; got shapes {y_true.shape} and {y_pred.shape}"
        )
    if y_true.size != y_pred.size:
        raise ValueError(
            f"y_true and y_pred must have equal lengths; got {y_true.size} and {y_pred.size}"
        )
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty")
    for name, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                f"{name} must be finite; {int((~np.isfinite(arr)).sum())} values are NaN or inf"
            )
    return y_true, y_pred


def rmse(y_true, y_pred) -> float:
    """Root mean squared error over all pairs."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error over all pairs."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def _rows(ratings: Ratings):
    """CSR (indptr, indices) of the items of each user."""
    csr = ratings.to_csr()
    csr.sort_indices()
    return csr.indptr, csr.indices


def ranking_metrics(
    model, train: Ratings, test: Ratings, k: int = 10, relevance_threshold=None
) -> dict:
    """All four ranking metrics at once (one top-k list per user); see the module docstring.

    Returns
    -------
    dict
        ``{"precision": ..., "recall": ..., "ndcg": ..., "map": ..., "n_users": ...}``,
        where ``n_users`` counts the users with at least one relevant item.
    """
    train = check_ratings("train", train)
    test = check_ratings("test", test)
    k = check_int("k", k)
    if train.shape != test.shape:
        raise ValueError(
            "train and test must share their index spaces; "
            f"got shapes {train.shape} and {test.shape}"
        )
    if relevance_threshold is not None:
        relevance_threshold = check_float("relevance_threshold", relevance_threshold, -np.inf)
    if relevance_threshold is not None and not (test.values >= relevance_threshold).any():
        # checked here: an empty subset is not a valid Ratings, and its message would mislead
        raise ValueError(
            f"no test rating is >= relevance_threshold={relevance_threshold}; "
            "no user has a relevant item"
        )
    relevant = (
        test if relevance_threshold is None else test.subset(test.values >= relevance_threshold)
    )
    train_ptr, train_items = _rows(train)
    rel_ptr, rel_items = _rows(relevant)
    users = np.flatnonzero(np.diff(rel_ptr))
    if users.size == 0:
        raise ValueError("no user has a relevant item in test; nothing to average")
    top = _top_lists(
        model, train, users, k, (train_ptr.astype(np.int64), train_items.astype(np.int64))
    )
    # hits by membership of (user, item) keys among the relevant pairs: no loop over users
    n_items = np.int64(train.n_items)
    relevant_keys = (
        np.repeat(np.arange(train.n_users, dtype=np.int64), np.diff(rel_ptr)) * n_items + rel_items
    )
    hits = np.isin(users[:, None] * n_items + top, relevant_keys) & (top >= 0)
    hits = hits.astype(np.float64)
    n_relevant = np.diff(rel_ptr)[users]
    n_ideal = np.minimum(k, n_relevant)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal_dcg = np.cumsum(discounts)[n_ideal - 1]
    precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    n_hits = hits.sum(axis=1)
    return {
        "precision": float(np.mean(n_hits / k)),
        "recall": float(np.mean(n_hits / n_relevant)),
        "ndcg": float(np.mean((hits @ discounts) / ideal_dcg)),
        "map": float(np.mean((hits * precision_at_rank).sum(axis=1) / n_ideal)),
        "n_users": int(users.size),
    }


def _top_lists(model, train: Ratings, users: np.ndarray, k: int, exclude) -> np.ndarray:
    """Top-``k`` item lists (padded with -1) of ``users``, with their ``train`` items excluded."""
    if not hasattr(model, "_top_k"):
        raise TypeError(f"model must be a fitted recsys_tutorial model; got {type(model).__name__}")
    model._check_fitted()
    if (model.n_users_, model.n_items_) != train.shape:
        raise ValueError(
            f"the model was fitted on {model.n_users_} users x {model.n_items_} items, "
            "but train has "
            f"shape {train.shape}; fit it on train (or on data with train's index spaces)"
        )
    return model._top_k(users, k, exclude)[0]


def precision_at_k(model, train, test, k=10, relevance_threshold=None) -> float:
    """Mean over users of (relevant items in the top k) / k."""
    return float(ranking_metrics(model, train, test, k, relevance_threshold)["precision"])


def recall_at_k(model, train, test, k=10, relevance_threshold=None) -> float:
    """Mean over users of (relevant items in the top k) / (number of relevant items)."""
    return float(ranking_metrics(model, train, test, k, relevance_threshold)["recall"])


def ndcg_at_k(model, train, test, k=10, relevance_threshold=None) -> float:
    """Mean over users of the binary-gain DCG@k normalized by the ideal list's."""
    return float(ranking_metrics(model, train, test, k, relevance_threshold)["ndcg"])


def map_at_k(model, train, test, k=10, relevance_threshold=None) -> float:
    """Mean over users of the average precision at k, normalized by min(k, relevant)."""
    return float(ranking_metrics(model, train, test, k, relevance_threshold)["map"])
