"""Explanations of a factor model's score as a sum over the user's training items (chapter 8).

When a user's factors solve a regularized least-squares problem over their
own ratings (the user half-step of ALS or iALS), they are a *linear* function
of those ratings, and so is the score of every item: the score splits into
one additive term per item of the user's history plus a part that does not
depend on it.  :class:`Explanation` holds that split; the models compute it
(``MatrixFactorization.explain``, ``ImplicitMF.explain``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Explanation"]


@dataclass(frozen=True, eq=False)
class Explanation:
    """A score written as ``base + contributions.sum()``, one contribution per history item.

    Attributes
    ----------
    user, item : int
        The training user and the item whose score is explained.
    items : ndarray of int64
        The user's training items, by decreasing ``|contribution|`` (ties to
        the lower item index).
    contributions : ndarray of float64
        The additive contribution of each of ``items`` to the score.
    base : float
        The part of the score that is not a sum over the history (offset and
        biases; 0 for a model without them), the sum of ``base_terms``.
    base_terms : dict of str to float
        The named parts of ``base`` (e.g. ``offset``, ``user_bias``, ``item_bias``).
    score : float
        ``base + contributions.sum()`` (up to rounding): the score of ``item``
        for the user's factors refitted from their history, which the model
        documents.
    model_score : float
        The model's own unclipped score of ``(user, item)``; it equals ``score``
        when the fitted user factors are that refit (see the model's ``explain``).
    """

    user: int
    item: int
    items: np.ndarray
    contributions: np.ndarray
    base: float
    base_terms: dict = field(repr=False)
    score: float
    model_score: float

    @classmethod
    def from_parts(cls, user, item, items, contributions, base_terms, model_score):
        """Sort the history by ``|contribution|`` and add up the parts."""
        items = np.asarray(items, dtype=np.int64)
        contributions = np.asarray(contributions, dtype=np.float64)
        order = np.lexsort((items, -np.abs(contributions)))
        base_terms = {name: float(value) for name, value in base_terms.items()}
        base = float(sum(base_terms.values()))
        return cls(
            user=int(user),
            item=int(item),
            items=items[order],
            contributions=contributions[order],
            base=base,
            base_terms=base_terms,
            score=base + float(contributions.sum()),
            model_score=float(model_score),
        )
