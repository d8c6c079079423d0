"""What the implicit-feedback models share: they score preferences, not stars.

``ImplicitMF``, ``BPR``, ``ItemKNN`` and ``EASE`` learn which items a user is
likely to pick, from the *set* of items each user rated (every rating is a
positive unless a model says otherwise).  Their scores rank items for a user;
they are not on the 1-5 star scale, so :meth:`PreferenceRecommender.predict`
returns them unclipped.

Each subclass implements ``_score_users(users)``, the dense rows of scores of
in-range user indices, and gets the pairwise ``_score`` of
:class:`~recsys_tutorial.models.base.Recommender` from it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Recommender

__all__ = ["PreferenceRecommender"]


class PreferenceRecommender(Recommender):
    """Base of the models that score preferences (chapter 7).

    Fallbacks: an item without training ratings (or beyond the training index
    space) scores 0 for every user; a user without training ratings gets
    :meth:`_cold_user_scores` (zeros unless the model says otherwise).
    """

    def predict(self, users, items) -> np.ndarray:
        """Preference scores for the pairs ``(users[k], items[k])``, unclipped.

        A higher score means the item ranks higher in the user's list; the
        value is not a star rating (see the class docstring for the
        fallbacks of unknown users and items).
        """
        users, items = self._checked_pairs(users, items)
        return self._predict_unclipped(users, items)

    def _score(self, users, items, known_u, known_i):
        scores = np.zeros(users.size)
        if known_u.any():
            # one dense row per distinct user, then pick the requested items from it
            distinct, where = np.unique(users[known_u], return_inverse=True)
            scores[known_u] = self._score_users(distinct)[where, items[known_u]]
        if (~known_u).any():
            scores[~known_u] = self._cold_user_scores()[items[~known_u]]
        scores[~known_i] = 0.0
        return scores

    def _score_users(self, users: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Scores of every item for each of ``users`` (in range), shape (len(users), n_items)."""
        raise NotImplementedError

    def _cold_user_scores(self) -> np.ndarray:
        """Item scores for a user without training ratings (default: all zero)."""
        return np.zeros(self.n_items_)

    def _seen_matrix(self, users: np.ndarray | None = None) -> sp.csr_matrix:
        """The 0/1 matrix of training items of ``users`` (all users when None), CSR."""
        X = sp.csr_matrix(
            (np.ones(self.seen_indices_.size), self.seen_indices_, self.seen_indptr_),
            shape=(self.n_users_, self.n_items_),
        )
        return X if users is None else X[np.asarray(users)]
