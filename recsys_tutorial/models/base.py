"""What every model shares: parameters, validation, prediction, top-k lists, save/load.

Conventions (scikit-learn style): hyperparameters are set in ``__init__`` only
and stored unchanged; :meth:`fit` learns state into attributes ending in
``_`` and returns ``self``; a model fitted with the same ``random_state`` on
the same data is identical bit for bit.

A user (item) is *known* when it has at least one rating in the training data.
Predictions for unknown users or items fall back on what the model knows: the
global mean plus the bias of whichever side is known (see each model).
"""

from __future__ import annotations

import inspect
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Ratings
from ..utils import check_indices, check_int, check_ratings

__all__ = ["Recommender", "NotFittedError"]

_FORMAT = "recsys_tutorial.model/1"


class NotFittedError(RuntimeError):
    """Raised when a model is used before :meth:`fit`."""


class Recommender:
    """Base class of the rating predictors.

    Subclasses implement ``_fit(ratings)`` (learning the fitted arrays) and
    ``_score(users, items)``, the unclipped prediction for index arrays of
    *known range* (unknown rows are handled here).
    """

    #: attributes (beyond the common ones) that :meth:`save` stores
    _fitted_attributes: tuple[str, ...] = ()

    # ----------------------------------------------------------- parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyperparameters as given to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> "Recommender":
        """Set hyperparameters (validated at the next :meth:`fit`)."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; valid: {valid}")
            setattr(self, name, value)
        return self

    def clone(self) -> "Recommender":
        """A new unfitted model with the same hyperparameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        def differs(value, default):
            try:
                return bool(value is not default and value != default)
            except (TypeError, ValueError):  # e.g. arrays, whose == is elementwise
                return True

        changed = [
            f"{name}={getattr(self, name)!r}"
            for name, p in sig.parameters.items()
            if name != "self" and differs(getattr(self, name), p.default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # ------------------------------------------------------------------ fit
    def fit(self, ratings: Ratings) -> "Recommender":
        """Learn from ``ratings``; returns ``self``."""
        ratings = check_ratings("ratings", ratings)
        self.n_users_, self.n_items_ = ratings.n_users, ratings.n_items
        self.global_mean_ = float(ratings.values.mean())
        self.rating_min_ = float(ratings.values.min())
        self.rating_max_ = float(ratings.values.max())
        self.user_counts_ = ratings.user_counts()
        self.item_counts_ = ratings.item_counts()
        csr = ratings.to_csr()
        csr.sort_indices()
        # training items of each user, to exclude them from recommendations
        self.seen_indptr_, self.seen_indices_ = csr.indptr.astype(np.int64), csr.indices.astype(np.int64)
        self._fit(ratings)
        return self

    def _fit(self, ratings: Ratings) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "global_mean_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(ratings) first")

    def _known(self, idx: np.ndarray, counts: np.ndarray) -> np.ndarray:
        known = idx < counts.size
        known[known] = counts[idx[known]] > 0
        return known

    # -------------------------------------------------------------- predict
    def predict(self, users, items) -> np.ndarray:
        """Predicted ratings for the pairs ``(users[k], items[k])``.

        Predictions are clipped to the range of the training ratings.
        Unknown users or items (no training rating, or an index beyond the
        training index space) get the model's fallback (see the class docstring).
        """
        self._check_fitted()
        users = check_indices("users", users)
        items = check_indices("items", items)
        if users.size != items.size:
            raise ValueError(f"users and items must have equal lengths; got {users.size} and {items.size}")
        return np.clip(self._predict_unclipped(users, items), self.rating_min_, self.rating_max_)

    def _predict_unclipped(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        known_u = self._known(users, self.user_counts_)
        known_i = self._known(items, self.item_counts_)
        # unknown rows are scored as row 0 and then zeroed by the subclass via the masks
        return self._score(np.where(known_u, users, 0), np.where(known_i, items, 0), known_u, known_i)

    def _score(self, users, items, known_u, known_i) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------ recommend
    def recommend(self, user: int, k: int = 10, exclude=None) -> np.ndarray:
        """The ``k`` items with the highest predicted rating for ``user``, best first.

        Parameters
        ----------
        user : int
        k : int
        exclude : array_like of int, optional
            Items that may not be recommended.  Default: the items ``user``
            rated in the training data.  Pass ``[]`` to allow every item.

        Returns
        -------
        ndarray of int64
            ``min(k, number of candidates)`` item indices.  Scores are not
            clipped, so that items above the top of the rating scale stay
            ordered; ties go to the lower item index.  A model that scores
            every item alike (``GlobalMean``) therefore returns the lowest
            indices, which in MovieLens are popular 1995 films: measure such
            a model's lists with that in mind (chapter 6).
        """
        self._check_fitted()
        user = self._check_user(user)
        k = check_int("k", k)
        if exclude is None:
            exclude = self.seen_indices_[self.seen_indptr_[user] : self.seen_indptr_[user + 1]]
        else:
            exclude = check_indices("exclude", exclude)
        items = np.arange(self.n_items_)
        scores = self._predict_unclipped(np.full(self.n_items_, user), items)
        scores[exclude[exclude < self.n_items_]] = -np.inf
        n_candidates = self.n_items_ - np.unique(exclude[exclude < self.n_items_]).size
        k = min(k, n_candidates)
        if k == 0:
            return np.empty(0, dtype=np.int64)
        # shortlist every item scoring at least the k-th best score (argpartition alone would
        # cut a tie at the boundary arbitrarily), then sort it by -score with ties by item index
        if k < scores.size:
            kth_best = -np.partition(-scores, k - 1)[k - 1]
            top = np.flatnonzero(scores >= kth_best)
        else:
            top = items
        order = np.lexsort((top, -scores[top]))
        return top[order][:k].astype(np.int64)

    def _check_user(self, user) -> int:
        if isinstance(user, bool) or not isinstance(user, (int, np.integer)):
            raise TypeError(f"user must be an int index; got {type(user).__name__}")
        if not 0 <= user < self.n_users_:
            raise ValueError(f"user must be in [0, {self.n_users_}); got {user}")
        return int(user)

    # ------------------------------------------------------------ save/load
    _common_attributes = (
        "n_users_", "n_items_", "global_mean_", "rating_min_", "rating_max_",
        "user_counts_", "item_counts_", "seen_indptr_", "seen_indices_",
    )  # fmt: skip

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to ``path`` (a ``.npz`` file, no pickle), atomically."""
        self._check_fitted()
        path = Path(path)
        arrays = {}
        scalars = {}
        for name in self._common_attributes + self._fitted_attributes:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                arrays[name] = value
            else:
                scalars[name] = value
        meta = {"format": _FORMAT, "class": type(self).__name__, "params": self.get_params(), "scalars": scalars}
        try:
            meta_json = json.dumps(meta)
        except TypeError as exc:
            raise ValueError(f"cannot save: a hyperparameter is not JSON-serializable ({exc})") from None
        buffer = io.BytesIO()
        np.savez(buffer, __meta__=np.array(meta_json), **arrays)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(buffer.getvalue())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Recommender":
        """Read a model written by :meth:`save` (the same class)."""
        # np.load would return a bare array for a .npy file and complain about pickles
        # for any other file; say plainly that it is not a saved model instead
        if Path(path).is_file() and not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is not a saved recsys_tutorial model (not an .npz archive)")
        with np.load(path, allow_pickle=False) as data:
            if "__meta__" not in data.files:
                raise ValueError(f"{path} is not a saved recsys_tutorial model (no metadata)")
            meta = json.loads(str(data["__meta__"]))
            if meta.get("format") != _FORMAT:
                raise ValueError(f"{path} has format {meta.get('format')!r}; expected {_FORMAT!r}")
            if meta["class"] != cls.__name__:
                raise ValueError(f"{path} holds a {meta['class']}, not a {cls.__name__}; use {meta['class']}.load")
            model = cls(**meta["params"])
            for name, value in meta["scalars"].items():
                setattr(model, name, value)
            for name in data.files:
                if name != "__meta__":
                    setattr(model, name, data[name])
        return model
