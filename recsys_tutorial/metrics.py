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

Beyond-accuracy metrics describe the top-:math:`N` lists themselves, whatever
the test data: ``lists`` is an int array (n_lists, k) of item indices, as
returned by ``model.recommend(users, k)[0]`` (a 1-D array is one list).  The
padding item ``-1`` that ``recommend`` puts where fewer than :math:`k` items
were candidates is an empty slot and counts for nothing; any other index must
lie in :math:`[0, n)`, and no list may repeat an item.  With :math:`L_u` the
items of list :math:`u` and :math:`c_j` the number of lists holding item :math:`j`:

* catalogue coverage :math:`= |\\bigcup_u L_u| / n` (:func:`catalog_coverage`);
* Gini index of :math:`c_1, \\dots, c_n` (:func:`gini_index`);
* novelty, the mean self-information :math:`-\\log_2 (|\\Omega^j| / m)` of the
  listed items (:func:`novelty`);
* intra-list diversity, the mean over lists of the mean pairwise distance
  :math:`1 - \\cos(x_a, x_b)` between the listed items' feature rows
  (:func:`intra_list_diversity`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

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
    "catalog_coverage",
    "gini_index",
    "novelty",
    "intra_list_diversity",
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


# ------------------------------------------------------------ beyond accuracy
def _check_lists(lists, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """``lists`` as a 2-D int64 array and the mask of its non-padding slots, or an error."""
    arr = np.asarray(lists)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"lists must be 1-D (one list) or 2-D (n_lists, k); got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"lists is empty (shape {arr.shape})")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"lists must hold integer item indices; got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.min() < -1 or arr.max() >= n_items:
        bad = int(arr.min()) if arr.min() < -1 else int(arr.max())
        raise ValueError(
            f"lists must hold item indices in [0, {n_items}) or the padding -1; got {bad}"
        )
    valid = arr >= 0
    if not valid.any():
        raise ValueError("lists holds no item (every slot is the padding -1)")
    # a repeat shows as two equal neighbours once each row is sorted (padding -1s excepted)
    ordered = np.sort(arr, axis=1)
    repeats = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    if repeats.any():
        row = int(np.flatnonzero(repeats.any(axis=1))[0])
        raise ValueError(f"lists must not repeat an item within a list; list {row} does")
    return arr, valid


def _item_counts(lists, n_items) -> np.ndarray:
    """:math:`c_j`, the number of lists that hold item :math:`j`, for every item."""
    n_items = check_int("n_items", n_items)
    arr, valid = _check_lists(lists, n_items)
    return np.bincount(arr[valid], minlength=n_items)


def catalog_coverage(lists, n_items) -> float:
    """Catalogue coverage: the fraction of the :math:`n` items recommended at least once.

    .. math::

        \\mathrm{coverage} = \\frac{|\\bigcup_u L_u|}{n},

    1 when every item appears in some list, :math:`k / n` at least when every
    user gets the same :math:`k` items.

    Parameters
    ----------
    lists : array_like of int, shape (n_lists, k) or (k,)
        Item indices of the top-:math:`k` lists (``-1``: an empty slot).
    n_items : int
        :math:`n`, the size of the catalogue (``model.n_items_``).

    Returns
    -------
    float in :math:`(0, 1]`
    """
    return float(np.count_nonzero(_item_counts(lists, n_items)) / n_items)


def gini_index(lists, n_items) -> float:
    """Gini coefficient of how often each of the :math:`n` items is recommended.

    With :math:`c_j` the number of lists holding item :math:`j` (items never
    recommended count with :math:`c_j = 0`) and :math:`\\bar c` their mean,

    .. math::

        G = \\frac{\\sum_{j=1}^n \\sum_{l=1}^n |c_j - c_l|}{2 n^2 \\bar c}
          = \\frac{\\sum_{r=1}^n (2r - n - 1)\\, c_{(r)}}{n \\sum_j c_j},

    where :math:`c_{(1)} \\le \\dots \\le c_{(n)}` are the counts in increasing
    order (the second form costs a sort, not :math:`n^2` terms).  :math:`G = 0`
    when every item is recommended equally often; when one item takes every
    slot, :math:`G = (n - 1)/n`, which tends to 1 for large catalogues.

    Parameters
    ----------
    lists : array_like of int, shape (n_lists, k) or (k,)
        Item indices of the top-:math:`k` lists (``-1``: an empty slot).
    n_items : int
        :math:`n`, the size of the catalogue (``model.n_items_``).

    Returns
    -------
    float in :math:`[0, 1)`
    """
    counts = np.sort(_item_counts(lists, n_items)).astype(np.float64)
    n = counts.size
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) @ counts) / (n * counts.sum()))


def novelty(lists, train: Ratings) -> float:
    """Mean self-information of the recommended items, in bits.

    An item that a fraction :math:`p_j = |\\Omega^j| / m` of the :math:`m` users
    of ``train`` rated carries :math:`-\\log_2 p_j` bits of surprise; novelty is
    its mean over every filled slot of every list,

    .. math::

        \\mathrm{novelty} = \\frac{1}{\\sum_u |L_u|} \\sum_u \\sum_{j \\in L_u}
            -\\log_2 \\frac{|\\Omega^j|}{m},

    0 for an item every user rated, :math:`\\log_2 m` for an item one user
    rated.  Lists of popular items score low.

    Parameters
    ----------
    lists : array_like of int, shape (n_lists, k) or (k,)
        Item indices of the top-:math:`k` lists (``-1``: an empty slot).
    train : Ratings
        The training data the popularity :math:`|\\Omega^j|` is counted in
        (:math:`m` = ``train.n_users``).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When a list holds an item without training ratings: its self-information
        would be infinite.  Keep such items out of the lists
        (``recommend(..., filter_items=...)``).
    """
    train = check_ratings("train", train)
    arr, valid = _check_lists(lists, train.n_items)
    listed = arr[valid]
    popularity = train.item_counts()[listed]
    if (popularity == 0).any():
        item = int(listed[popularity == 0][0])
        raise ValueError(
            f"lists holds item {item}, which has no rating in train: its self-information "
            "-log2(0) is infinite; leave items without training ratings out of the lists"
        )
    return float(np.mean(-np.log2(popularity / train.n_users)))


def intra_list_diversity(lists, features) -> float:
    """Mean over lists of the mean pairwise feature distance of the listed items.

    With :math:`x_j` row :math:`j` of ``features`` (e.g. an item's 0/1 genre
    vector) and the cosine distance
    :math:`\\mathrm{dist}(a, b) = 1 - x_a^\\top x_b / (\\lVert x_a \\rVert \\lVert x_b \\rVert)`,

    .. math::

        \\mathrm{ILD} = \\frac{1}{|\\mathcal U|} \\sum_{u \\in \\mathcal U}
            \\frac{2}{|L_u| (|L_u| - 1)} \\sum_{a, b \\in L_u,\\ a < b} \\mathrm{dist}(a, b),

    the mean over the lists of the mean over their unordered pairs of items.
    It is 0 for lists of items with proportional features (same genres) and 1
    for lists of items with disjoint 0/1 features.  An all-zero feature row
    (an item with no genre) has no direction: it is taken to share nothing with
    any item, so its distance to every other item (another all-zero row
    included) is 1: normalizing the rows leaves a zero row at zero, and its
    cosine with anything is 0 (as in scikit-learn's ``cosine_similarity``).

    Parameters
    ----------
    lists : array_like of int, shape (n_lists, k) or (k,)
        Item indices of the top-:math:`k` lists (``-1``: an empty slot); every
        list must hold at least two items.
    features : array_like of float or scipy sparse matrix, shape (n_items, n_features)
        One row per item, finite.

    Returns
    -------
    float in :math:`[0, 2]` (in :math:`[0, 1]` for non-negative features)
    """
    if sp.issparse(features):
        features = features.toarray()
    X = np.asarray(features)
    if X.ndim != 2:
        raise ValueError(f"features must be 2-D (n_items, n_features); got shape {X.shape}")
    if X.dtype == bool:
        X = X.astype(np.float64)
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"features must be numeric; got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError("features must be finite; it holds NaN or inf")
    arr, valid = _check_lists(lists, X.shape[0])
    sizes = valid.sum(axis=1)
    if (sizes < 2).any():
        row = int(np.flatnonzero(sizes < 2)[0])
        raise ValueError(
            f"lists: list {row} holds {int(sizes[row])} item(s); diversity needs at least two"
        )
    norms = np.linalg.norm(X, axis=1)
    unit = X / np.where(norms > 0, norms, 1.0)[:, None]  # zero rows stay zero: cosine 0
    rows = np.where(valid[:, :, None], unit[np.maximum(arr, 0)], 0.0)  # padding -> zero rows
    cosines = np.einsum("uaf,ubf->uab", rows, rows)
    pairs = valid[:, :, None] & valid[:, None, :]
    pairs &= ~np.eye(arr.shape[1], dtype=bool)  # ordered pairs a != b: each pair twice
    distance_sums = np.where(pairs, 1.0 - cosines, 0.0).sum(axis=(1, 2))
    return float(np.mean(distance_sums / (sizes * (sizes - 1))))
