"""Baselines: the global mean, and global mean plus regularized user and item biases."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..data import Ratings
from ..validation import RANDOM_STATE, Interval
from .base import Recommender

__all__ = ["GlobalMean", "Baseline", "Popularity"]


class _CountsOnly(Recommender):
    """A model whose fit is what every model records anyway: the mean and the counts.

    Parameters
    ----------
    random_state : None, default=None
        Accepted so that every model shares the interface; nothing is drawn.
    """

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _fit(self, ratings: Ratings, params: dict) -> None:
        pass  # Recommender.fit has stored global_mean_, user_counts_ and item_counts_


class GlobalMean(_CountsOnly):
    """Predict the mean training rating :math:`\\mu` for every pair.

    Parameters
    ----------
    random_state : None, default=None
        Accepted so that every model shares the interface; nothing is drawn.
    """

    def _score(self, users, items, known_u, known_i):
        return np.full(users.size, self.global_mean_)

    def _score_users(self, users):
        return np.full((users.size, self.n_items_), self.global_mean_)


class Baseline(Recommender):
    """Global mean plus user and item biases, :math:`\\hat R_{ij} = \\mu + b_i + c_j`.

    The biases minimize

    .. math::

        \\sum_{(i,j) \\in \\Omega} (R_{ij} - \\mu - b_i - c_j)^2
        + \\lambda_u \\sum_i b_i^2 + \\lambda_c \\sum_j c_j^2

    by alternating exact minimizations (each is a closed form, so the
    objective never increases):

    .. math::

        b_i \\leftarrow
        \\frac{\\sum_{j \\in \\Omega_i} (R_{ij} - \\mu - c_j)}{\\lambda_u + |\\Omega_i|},
        \\qquad
        c_j \\leftarrow
        \\frac{\\sum_{i \\in \\Omega^j} (R_{ij} - \\mu - b_i)}{\\lambda_c + |\\Omega^j|}.

    The regularization shrinks the bias of a user or item with few ratings
    towards zero: with :math:`\\lambda` ratings' worth of prior weight on "no bias".

    Parameters
    ----------
    reg_user : float, default=5.0
        :math:`\\lambda_u \\ge 0`.
    reg_item : float, default=2.0
        :math:`\\lambda_c \\ge 0`.  Both defaults were chosen by
        ``benchmarks/tune.py`` on training data only: the grid
        :math:`\\{0, 2, 5, 10, 15, 25\\}^2` fitted on 80 % of the training part of the
        book's fixed split of MovieLens 100K and scored by RMSE on the other 20 % (the
        validation part; the test split is never used).  The valley is flat: (5, 5) scores
        about 0.001 worse.  Surprise's ``BaselineOnly`` uses 15 and 10.
    n_epochs : int, default=10
        Number of alternating sweeps (users then items).
    random_state : None, default=None
        Accepted so that every model shares the interface; nothing is drawn.

    Attributes
    ----------
    user_bias_, item_bias_ : ndarray
        :math:`b` and :math:`c`; zero for users/items without training ratings,
        which is the fallback for unknown users and items.
    history_ : ndarray
        The objective after each sweep.
    """

    _fitted_attributes = ("user_bias_", "item_bias_", "history_")
    _parameter_constraints: ClassVar[dict[str, list]] = {
        "reg_user": [Interval(float, 0.0, None)],
        "reg_item": [Interval(float, 0.0, None)],
        "n_epochs": [Interval(int, 1, None)],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, reg_user=5.0, *, reg_item=2.0, n_epochs=10, random_state=None):
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.n_epochs = n_epochs
        self.random_state = random_state

    def _fit(self, ratings: Ratings, params: dict) -> None:
        reg_user, reg_item, n_epochs = params["reg_user"], params["reg_item"], params["n_epochs"]
        users, items = ratings.users, ratings.items
        centred = ratings.values - self.global_mean_
        n_u, n_i = self.user_counts_, self.item_counts_
        b = np.zeros(ratings.n_users)
        c = np.zeros(ratings.n_items)
        history = []
        for _ in range(n_epochs):
            b = np.bincount(users, centred - c[items], minlength=ratings.n_users) / np.maximum(
                reg_user + n_u, 1e-300
            )
            c = np.bincount(items, centred - b[users], minlength=ratings.n_items) / np.maximum(
                reg_item + n_i, 1e-300
            )
            err = centred - b[users] - c[items]
            history.append(
                float(np.sum(err**2) + reg_user * np.sum(b**2) + reg_item * np.sum(c**2))
            )
        self.user_bias_, self.item_bias_ = b, c
        self.history_ = np.array(history)

    def _score(self, users, items, known_u, known_i):
        return (
            self.global_mean_
            + np.where(known_u, self.user_bias_[users], 0.0)
            + np.where(known_i, self.item_bias_[items], 0.0)
        )


class Popularity(_CountsOnly):
    """Rank items by how many training ratings they have (a ranking baseline).

    Every user gets the same list: the most-rated items they have not rated.
    It predicts no ratings (:meth:`predict` raises); use it with the ranking
    metrics of :mod:`recsys_tutorial.metrics`.  Ties go to the lower item index.

    Parameters
    ----------
    random_state : None, default=None
        Accepted so that every model shares the interface; nothing is drawn.
    """

    def predict(self, users, items):
        raise TypeError(
            "Popularity ranks items by their rating counts; it does not predict ratings"
        )

    def _score(self, users, items, known_u, known_i):
        return np.where(known_i, self.item_counts_[items], 0).astype(np.float64)

    def _score_users(self, users):
        return np.broadcast_to(self.item_counts_.astype(np.float64), (users.size, self.n_items_))
