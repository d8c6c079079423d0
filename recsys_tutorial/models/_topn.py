"""Top-k lists and ranking metrics from dense score rows, for all users at once.

:func:`recsys_tutorial.metrics.ranking_metrics` asks the model for one list
per user; when a model can score many users in one product
(``_score_users``), sorting the rows in bulk gives the same lists (ties to the
lower item index) much faster.  Early stopping of ``BPR`` uses it, and so does
``benchmarks/topn.py``; the tests check it against ``ranking_metrics``.
"""

from __future__ import annotations

import numpy as np

from ..data import Ratings

__all__ = ["top_k", "ranking_metrics_from_scores"]


def top_k(scores: np.ndarray, exclude_indptr, exclude_indices, k: int) -> np.ndarray:
    """The ``k`` best columns of each row of ``scores``, best first, ties to the lower index.

    ``exclude_indptr``/``exclude_indices`` give, CSR-style, the columns each row
    may not return (set to ``-inf`` in a copy).
    """
    scores = np.array(scores, dtype=np.float64)
    rows = np.repeat(np.arange(scores.shape[0]), np.diff(exclude_indptr))
    scores[rows, exclude_indices] = -np.inf
    k = min(k, scores.shape[1])
    # shortlist with argpartition, then a stable sort of -score breaks ties by column index
    if k < scores.shape[1]:
        kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]
        cols = np.argsort(-np.where(scores >= kth, scores, -np.inf), axis=1, kind="stable")[:, :k]
    else:
        cols = np.argsort(-scores, axis=1, kind="stable")
    return cols


def ranking_metrics_from_scores(
    score_users, train: Ratings, test: Ratings, k: int = 10, batch: int = 1024
) -> dict:
    """precision, recall, NDCG and MAP at ``k`` as :func:`~recsys_tutorial.metrics.ranking_metrics`.

    Parameters
    ----------
    score_users : callable
        ``score_users(users) -> ndarray (len(users), n_items)`` of scores.
    train, test : Ratings
        Training items are excluded; every test item is relevant.
    k : int
    batch : int
        Users scored per call (bounds the memory of the score rows).
    """
    train_csr, test_csr = train.to_csr(), test.to_csr()
    train_csr.sort_indices()
    test_csr.sort_indices()
    n_rel = np.diff(test_csr.indptr)
    users = np.flatnonzero(n_rel)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    totals = np.zeros(4)
    for start in range(0, users.size, batch):
        chunk = users[start : start + batch]
        seen = train_csr[chunk]
        cols = top_k(score_users(chunk), seen.indptr, seen.indices, k)
        relevant = test_csr[chunk].toarray() > 0
        hits = np.take_along_axis(relevant, cols, axis=1).astype(np.float64)
        n_hits, nr = hits.sum(axis=1), n_rel[chunk]
        n_ideal = np.minimum(k, nr)
        ideal = np.cumsum(discounts)[n_ideal - 1]
        precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, cols.shape[1] + 1)
        totals += (
            np.sum(n_hits / k),
            np.sum(n_hits / nr),
            np.sum((hits @ discounts[: cols.shape[1]]) / ideal),
            np.sum(np.sum(hits * precision_at_rank, axis=1) / n_ideal),
        )
    precision, recall, ndcg, ap = totals / users.size
    return {
        "precision": precision,
        "recall": recall,
        "ndcg": ndcg,
        "map": ap,
        "n_users": int(users.size),
    }
