"""Item-based baselines of top-N recommendation: item-kNN and EASE (chapter 7).

Both read only *which* items each user rated: the 0/1 matrix
:math:`X \\in \\{0, 1\\}^{m \\times n}` with :math:`X_{ij} = \\delta_{ij}`
(every rating a positive), and score a user's unseen items by an
item-item weight matrix :math:`W`, :math:`s_u = X_u W`.  They are the bar a
learned model has to clear on top-N lists.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ..data import Ratings
from ..validation import RANDOM_STATE, Interval
from .preference import PreferenceRecommender

__all__ = ["ItemKNN", "EASE"]

#: Items per block when the item-item similarities are computed (a block is block x n doubles).
_BLOCK = 512


def _binary(ratings: Ratings) -> sp.csr_matrix:
    X = sp.csr_matrix((np.ones(len(ratings)), (ratings.users, ratings.items)), shape=ratings.shape)
    X.sum_duplicates()
    return X


class ItemKNN(PreferenceRecommender):
    """Item-based k-nearest neighbours with cosine similarity (Sarwar et al. 2001).

    The cosine similarity of items :math:`j` and :math:`l` over their sets of users,

    .. math::

        s_{lj} = \\frac{|\\Omega^l \\cap \\Omega^j|}{\\sqrt{|\\Omega^l|\\,|\\Omega^j|}}
               = \\frac{(X^\\top X)_{lj}}{\\lVert X_{:l} \\rVert \\lVert X_{:j} \\rVert},

    is kept for the ``n_neighbors`` most similar items :math:`j \\ne l` of each
    item :math:`l` (its neighbourhood :math:`N_k(l)`, ties to the lower index),
    and user :math:`u` scores a candidate item :math:`l` by the summed
    similarity of the neighbours of :math:`l` that the user has:

    .. math::

        \\hat x_{ul} = \\sum_{j \\in \\Omega_u \\cap N_k(l)} s_{lj},
        \\qquad \\hat x_u = X_u W^\\top, \\quad W_{lj} = s_{lj} [j \\in N_k(l)].

    (Summing instead over the neighbourhoods of the user's items,
    :math:`X_u W`, ranks worse on MovieLens 100K: chapter 7.)

    Parameters
    ----------
    n_neighbors : int, default=100
        :math:`k`, the neighbourhood size (at most ``n_items - 1`` are kept).
    random_state : None, int or numpy Generator, default=None
        Accepted so that every model shares the interface; nothing is drawn.

    Attributes
    ----------
    neighbors_ : ndarray of int64, shape (n_items, k)
        Row :math:`l` holds :math:`N_k(l)`, most similar first.
    similarities_ : ndarray, shape (n_items, k)
        The matching :math:`s_{lj}`.
    """

    _fitted_attributes = ("neighbors_", "similarities_")
    _parameter_constraints = {
        "n_neighbors": [Interval(int, 1, None)],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, n_neighbors=100, *, random_state=None):
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def _fit(self, ratings: Ratings, params: dict) -> None:
        n = ratings.n_items
        k = min(params["n_neighbors"], n - 1)
        if k < 1:
            raise ValueError(f"ItemKNN needs ratings with at least 2 items; got n_items={n}")
        X = _binary(ratings)
        XT = X.T.tocsr()
        norms = np.sqrt(self.item_counts_.astype(np.float64))
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        neighbors = np.empty((n, k), dtype=np.int64)
        similarities = np.empty((n, k))
        for lo in range(0, n, _BLOCK):
            hi = min(lo + _BLOCK, n)
            S = (XT[lo:hi] @ X).toarray() * inv[lo:hi, None] * inv[None, :]
            S[np.arange(hi - lo), np.arange(lo, hi)] = -np.inf  # an item is not its own neighbour
            # a stable sort of -s orders ties by item index
            top = np.argsort(-S, axis=1, kind="stable")[:, :k]
            neighbors[lo:hi] = top
            similarities[lo:hi] = np.take_along_axis(S, top, axis=1)
        self.neighbors_, self.similarities_ = neighbors, similarities

    def _weights(self) -> sp.csr_matrix:
        """:math:`W_{lj} = s_{lj} [j \\in N_k(l)]`, sparse n x n (row l: the neighbours of l)."""
        n, k = self.neighbors_.shape
        return sp.csr_matrix(
            (self.similarities_.ravel(), self.neighbors_.ravel(), np.arange(0, n * k + 1, k)),
            shape=(n, n),
        )

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return (self._seen_matrix(users) @ self._weights().T).toarray()


class EASE(PreferenceRecommender):
    """Embarrassingly shallow autoencoder (Steck 2019): a closed-form item-item model.

    :math:`B` minimizes :math:`\\lVert X - X B \\rVert_F^2 + \\lambda \\lVert B \\rVert_F^2`
    subject to :math:`\\operatorname{diag}(B) = 0` (an item may not predict itself).
    With :math:`P = (X^\\top X + \\lambda I)^{-1}`, the Lagrangian gives

    .. math::

        B = I - P \\operatorname{diag}(1 / \\operatorname{diag} P),
        \\qquad B_{jl} = -P_{jl} / P_{ll} \\ (j \\ne l), \\quad B_{ll} = 0,

    and user :math:`u` scores :math:`\\hat x_u = X_u B`.  The cost is one
    :math:`n \\times n` inverse, :math:`O(n^3)` time and :math:`O(n^2)` memory,
    independent of the number of users (fine for thousands of items, not millions).

    Parameters
    ----------
    reg : float, default=500.0
        :math:`\\lambda > 0` (with :math:`\\lambda = 0` the Gram matrix of
        an unrated item, or of linearly dependent items, is singular).
    random_state : None, int or numpy Generator, default=None
        Accepted so that every model shares the interface; nothing is drawn.

    Attributes
    ----------
    item_weights_ : ndarray, shape (n_items, n_items)
        :math:`B`.
    """

    _fitted_attributes = ("item_weights_",)
    _parameter_constraints = {
        "reg": [Interval(float, 0.0, None, closed="neither")],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, reg=500.0, *, random_state=None):
        self.reg = reg
        self.random_state = random_state

    def _fit(self, ratings: Ratings, params: dict) -> None:
        reg = params["reg"]
        X = _binary(ratings)
        G = (X.T @ X).toarray()
        G[np.diag_indices_from(G)] += reg
        # G is symmetric positive definite (lambda > 0): invert through its Cholesky factor
        P = scipy.linalg.cho_solve(scipy.linalg.cho_factor(G, lower=True), np.eye(G.shape[0]))
        B = -P / np.diag(P)[None, :]
        B[np.diag_indices_from(B)] = 0.0
        self.item_weights_ = B

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self._seen_matrix(users) @ self.item_weights_)
