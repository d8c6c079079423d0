"""What every model shares: parameters, validation, prediction, top-k lists, save/load.

Conventions (scikit-learn style): hyperparameters are set in ``__init__`` only
and stored unchanged; each model declares what they may be once, in
``_parameter_constraints`` (see :mod:`recsys_tutorial.validation`), and
:meth:`Recommender.fit` checks them before any work; fitting learns state
into attributes ending in ``_`` and returns ``self``; a model fitted with the
same ``random_state`` on the same data is identical bit for bit.

A user (item) is *known* when it has at least one rating in the training data.
Predictions for unknown users or items fall back on what the model knows: the
global mean plus the bias of whichever side is known (see each model).

Top-N lists come from one batched path (:meth:`Recommender.recommend`): a
block of users is scored against every item at once (``_score_users``), the
excluded items are masked, and the best ``k`` are selected per row, ties going
to the lower item index.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..data import Ratings
from ..utils import check_indices, check_int, check_ratings
from ..validation import RANDOM_STATE, Options, validate_params

__all__ = ["Recommender", "FactorModel", "NotFittedError", "ConvergenceWarning"]

_FORMAT = "recsys_tutorial.model/2"

#: Score blocks of at most this many floats (users x items) at a time, so that
#: top-N lists for every user of a large catalogue never need an m x n array.
_BLOCK = 1 << 22


class NotFittedError(RuntimeError):
    """Raised when a model is used before :meth:`~Recommender.fit`."""


class ConvergenceWarning(UserWarning):
    """A trainer stopped before its own convergence test said it was done."""


def _encode_param(name: str, value: Any) -> Any:
    """A hyperparameter as JSON: numpy scalars as Python numbers, a Generator as its state."""
    if isinstance(value, np.random.Generator):
        return {"__generator__": value.bit_generator.state}
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(
        f"cannot save: hyperparameter {name}={value!r} is not a number, string, bool or None"
    )


def _decode_param(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__generator__"}:
        state = value["__generator__"]
        bit_generator = getattr(np.random, str(state.get("bit_generator")), None)
        if not (
            isinstance(bit_generator, type) and issubclass(bit_generator, np.random.BitGenerator)
        ):
            raise ValueError(f"unknown bit generator {state.get('bit_generator')!r}")
        generator = np.random.Generator(bit_generator())
        generator.bit_generator.state = state
        return generator
    return value


def row_dots(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """:math:`A B^\\top` by einsum's own loops, not BLAS.

    Each entry is then computed the same way whatever the number of rows, so
    the scores of one user equal that user's row of a batch to the last bit
    (a BLAS product picks different kernels for one row and for many, and the
    last-bit differences would reorder near-ties between the two paths).
    """
    return np.einsum("ud,nd->un", A, B)


def _select_top(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best entries of each row of ``scores``, best first, ties to the lower column.

    Entries equal to ``-inf`` are not candidates: where a row has fewer than
    ``k`` others, its list is padded with item ``-1`` and score ``-inf``.
    """
    n_rows, n_cols = scores.shape
    k_eff = min(k, n_cols)
    rows = np.arange(n_rows)[:, None]
    if k_eff < n_cols:
        top = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
        kth = scores[rows, top].min(axis=1)
        # argpartition cuts a tie at the k-th score arbitrarily: redo those rows by a
        # stable sort, which keeps tied columns in increasing order
        cut = np.flatnonzero((scores >= kth[:, None]).sum(axis=1) > k_eff)
        if cut.size:
            top[cut] = np.argsort(-scores[cut], axis=1, kind="stable")[:, :k_eff]
    else:
        top = np.broadcast_to(np.arange(n_cols), (n_rows, n_cols))
    top_scores = scores[rows, top]
    order = np.lexsort((top, -top_scores), axis=-1)
    items = np.take_along_axis(top, order, axis=1).astype(np.int64)
    best = np.take_along_axis(top_scores, order, axis=1)
    items[np.isneginf(best)] = -1
    if k > k_eff:
        items = np.hstack([items, np.full((n_rows, k - k_eff), -1, dtype=np.int64)])
        best = np.hstack([best, np.full((n_rows, k - k_eff), -np.inf)])
    return items, best


def _one_or_all(items: np.ndarray, scores: np.ndarray, one: bool):
    """A batch of top lists as returned: its single row without padding when one query was given."""
    if one:
        valid = items[0] >= 0
        return items[0][valid], scores[0][valid]
    return items, scores


def _ranges(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR rows ``rows``: (position of each entry in ``rows``, index into ``indices``)."""
    starts, ends = indptr[rows], indptr[rows + 1]
    lengths = ends - starts
    owner = np.repeat(np.arange(rows.size), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return owner, np.repeat(starts, lengths) + offsets


class Recommender:
    """Base class of every model.

    Subclasses declare ``_parameter_constraints`` (one entry per ``__init__``
    argument), implement ``_fit(ratings, params)`` (``params``: the validated
    hyperparameters as plain Python values) and
    ``_score(users, items, known_u, known_i)``, the unclipped prediction for
    index arrays of *known range* (unknown rows arrive as index 0 with their
    mask ``False``).  ``_score_users(users)`` (scores of whole rows) may be
    overridden where it is cheaper than pairs.
    """

    #: what each hyperparameter may be; see :mod:`recsys_tutorial.validation`
    _parameter_constraints: ClassVar[dict[str, list]] = {"random_state": [RANDOM_STATE]}
    #: attributes (beyond the common ones) that :meth:`save` stores
    _fitted_attributes: tuple[str, ...] = ()

    # ----------------------------------------------------------- parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyperparameters, as :meth:`fit` will use them."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Recommender:
        """Set hyperparameters (validated at the next :meth:`fit`)."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; valid: {valid}")
            setattr(self, name, value)
        return self

    def clone(self) -> Recommender:
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

    def _validate_params(self) -> dict[str, Any]:
        """The hyperparameters checked against the declared constraints (plain Python values)."""
        params = validate_params(
            type(self).__name__, self.get_params(), self._parameter_constraints
        )
        self._check_params(params)
        return params

    def _check_params(self, params: dict[str, Any]) -> None:
        """Checks that involve several parameters (override; raise ``ValueError``)."""

    # ------------------------------------------------------------------ fit
    def fit(self, ratings: Ratings) -> Recommender:
        """Learn from ``ratings``; returns ``self``."""
        params = self._validate_params()  # bad hyperparameters fail before any work
        ratings = check_ratings("ratings", ratings)
        self.n_users_, self.n_items_ = ratings.n_users, ratings.n_items
        self.global_mean_ = float(ratings.values.mean())
        self.rating_min_ = float(ratings.values.min())
        self.rating_max_ = float(ratings.values.max())
        csr = ratings.to_csr()
        csr.sort_indices()
        # training items of each user, to exclude them from recommendations
        self.seen_indptr_, self.seen_indices_ = (
            csr.indptr.astype(np.int64),
            csr.indices.astype(np.int64),
        )
        if "seen_values_" in self._fitted_attributes:
            # models that explain a score by the user's ratings keep the values too
            self.seen_values_ = np.asarray(csr.data, dtype=np.float64)
        self._set_counts()
        self._fit(ratings, params)
        return self

    def _set_counts(self) -> None:
        """Rating counts of every user and item, from the stored training pattern."""
        self.user_counts_ = np.diff(self.seen_indptr_)
        self.item_counts_ = np.bincount(self.seen_indices_, minlength=self.n_items_)

    def _fit(self, ratings: Ratings, params: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "global_mean_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(ratings) first"
            )

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
        users, items = self._checked_pairs(users, items)
        return np.clip(self._predict_unclipped(users, items), self.rating_min_, self.rating_max_)

    def _checked_pairs(self, users, items) -> tuple[np.ndarray, np.ndarray]:
        """``users`` and ``items`` as equal-length index arrays of a fitted model, or an error."""
        self._check_fitted()
        users = check_indices("users", users)
        items = check_indices("items", items)
        if users.size != items.size:
            raise ValueError(
                f"users and items must have equal lengths; got {users.size} and {items.size}"
            )
        return users, items

    def _predict_unclipped(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        known_u = self._known(users, self.user_counts_)
        known_i = self._known(items, self.item_counts_)
        # unknown rows are scored as row 0 and then zeroed by the subclass via the masks
        return self._score(
            np.where(known_u, users, 0), np.where(known_i, items, 0), known_u, known_i
        )

    def _score(self, users, items, known_u, known_i) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        """Unclipped scores of ``users`` (training indices) against every item.

        Shape ``(len(users), n_items)``.
        """
        grid_users = np.repeat(users, self.n_items_)
        grid_items = np.tile(np.arange(self.n_items_), users.size)
        return self._predict_unclipped(grid_users, grid_items).reshape(users.size, self.n_items_)

    # ------------------------------------------------------------ recommend
    def recommend(self, users, k: int = 10, *, exclude_seen: bool = True, filter_items=None):
        """The ``k`` best-scoring items for one user or for each of an array of users.

        Parameters
        ----------
        users : int or array_like of int
            Training user indices.
        k : int, default=10
        exclude_seen : bool, default=True
            Leave out the items each user rated in the training data.
        filter_items : array_like of int, optional
            Items never to recommend (to anyone), on top of ``exclude_seen``.

        Returns
        -------
        items : ndarray of int64
            Shape ``(k,)`` for one user (shorter when fewer than ``k`` items are
            candidates), ``(n_users, k)`` for an array, where rows with fewer
            than ``k`` candidates are padded with ``-1``.
        scores : ndarray of float64
            The model's unclipped scores of those items (``-inf`` for padding),
            so that items above the top of the rating scale stay ordered.

        Notes
        -----
        Ties go to the lower item index.  A model that scores every item alike
        (``GlobalMean``) therefore returns the lowest indices, which in MovieLens
        are popular 1995 films: measure such a model's lists with that in mind.
        """
        self._check_fitted()
        users, one = self._check_queries("users", users, self.n_users_)
        k = check_int("k", k)
        if not isinstance(exclude_seen, (bool, np.bool_)):
            raise TypeError(f"exclude_seen must be a bool; got {type(exclude_seen).__name__}")
        banned = None
        if filter_items is not None:
            banned = check_indices("filter_items", filter_items)
            if banned.size and banned.max() >= self.n_items_:
                raise ValueError(
                    f"filter_items must be in [0, {self.n_items_}); got {int(banned.max())}"
                )
        exclude = (self.seen_indptr_, self.seen_indices_) if exclude_seen else None
        items, scores = self._top_k(users, k, exclude, banned)
        return _one_or_all(items, scores, one)

    def _top_k(self, users, k, exclude=None, banned=None):
        """Top-``k`` lists of ``users``; ``exclude`` is a CSR (indptr, indices) of per-user bans."""
        items = np.empty((users.size, k), dtype=np.int64)
        scores = np.empty((users.size, k))
        block = max(1, _BLOCK // max(self.n_items_, 1))
        for start in range(0, users.size, block):
            chunk = users[start : start + block]
            s = np.array(self._score_users(chunk), dtype=np.float64)  # a copy we may mask
            if np.isnan(s).any():
                raise RuntimeError(
                    f"{type(self).__name__} produced NaN scores; the fit has diverged"
                )
            if banned is not None:
                s[:, banned] = -np.inf
            if exclude is not None:
                owner, pos = _ranges(exclude[0], chunk)
                s[owner, exclude[1][pos]] = -np.inf
            items[start : start + block], scores[start : start + block] = _select_top(s, k)
        return items, scores

    @classmethod
    def _check_queries(cls, name: str, queries, size: int) -> tuple[np.ndarray, bool]:
        """One index or an array of them, as (1-D index array, whether one was given)."""
        one = np.ndim(queries) == 0
        if one and (
            isinstance(queries, (bool, np.bool_)) or not isinstance(queries, (int, np.integer))
        ):
            raise TypeError(
                f"{name} must be an int index or an array of them; got {type(queries).__name__}"
            )
        return cls._check_rows(name, queries, size), one

    @staticmethod
    def _check_rows(name: str, rows, size: int) -> np.ndarray:
        rows = check_indices(name, rows)
        if rows.size and rows.max() >= size:
            raise ValueError(f"{name} must be in [0, {size}); got {int(rows.max())}")
        return rows

    # ------------------------------------------------------------ save/load
    _common_attributes = (
        "n_users_", "n_items_", "global_mean_", "rating_min_", "rating_max_",
        "seen_indptr_", "seen_indices_",
    )  # fmt: skip

    def _derived_attributes(self) -> None:
        """Recompute what :meth:`save` does not store (override and call super)."""
        self._set_counts()

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to ``path``, atomically.

        The file is a compressed ``.npz`` archive without pickles: one array
        per fitted array attribute, and ``__meta__``, a JSON document with the
        format version, the class, the hyperparameters (a ``Generator`` as its
        bit-generator state), the scalar attributes, and the name, shape and
        dtype of every array.  What can be recomputed (rating counts, posterior
        means) is not stored.
        """
        self._check_fitted()
        path = Path(path)
        arrays, scalars = {}, {}
        for name in self._common_attributes + self._fitted_attributes:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                arrays[name] = value
            elif isinstance(value, dict):
                scalars[name] = {
                    key: _encode_param(f"{name}[{key!r}]", v) for key, v in value.items()
                }
            else:
                scalars[name] = _encode_param(name, value)
        meta = {
            "format": _FORMAT,
            "class": type(self).__name__,
            "params": {name: _encode_param(name, v) for name, v in self.get_params().items()},
            "scalars": scalars,
            "arrays": {name: [list(a.shape), a.dtype.str] for name, a in arrays.items()},
        }
        buffer = io.BytesIO()
        np.savez_compressed(buffer, __meta__=np.array(json.dumps(meta)), **arrays)
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
    def load(cls, path: str | os.PathLike) -> Recommender:
        """Read a model written by :meth:`save` (the same class), checking what it reads.

        Raises
        ------
        ValueError
            The file is not a saved model of this class, is corrupted or truncated,
            or its contents do not match its metadata (a missing or unexpected
            array, a wrong shape or dtype, unknown hyperparameters).
        """
        # np.load would return a bare array for a .npy file and complain about pickles
        # for any other file; say plainly that it is not a saved model instead
        if Path(path).is_file() and not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is not a saved recsys_tutorial model (not an .npz archive)")
        try:
            with np.load(path, allow_pickle=False) as data:
                if "__meta__" not in data.files:
                    raise ValueError(f"{path} is not a saved recsys_tutorial model (no metadata)")
                meta = json.loads(str(data["__meta__"]))
                if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
                    found = meta.get("format") if isinstance(meta, dict) else None
                    raise ValueError(f"{path} has format {found!r}; expected {_FORMAT!r}")
                if meta.get("class") != cls.__name__:
                    raise ValueError(
                        f"{path} holds a {meta.get('class')}, not a {cls.__name__}; "
                        f"use {meta.get('class')}.load"
                    )
                arrays = {name: data[name] for name in data.files if name != "__meta__"}
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            KeyError,
            json.JSONDecodeError,
        ) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise ValueError(
                f"{path} is corrupted or truncated ({type(exc).__name__}: {exc})"
            ) from None
        return cls._from_meta(path, meta, arrays)

    @classmethod
    def _from_meta(cls, path, meta: dict, arrays: dict) -> Recommender:
        expected = set(cls._common_attributes + cls._fitted_attributes)
        params, scalars, listed = meta.get("params"), meta.get("scalars"), meta.get("arrays")
        if not (
            isinstance(params, dict) and isinstance(scalars, dict) and isinstance(listed, dict)
        ):
            # the file's content is malformed, not an argument's type: ValueError, as for
            # every other defect of a saved file
            raise ValueError(f"{path}: malformed metadata")  # noqa: TRY004
        if set(params) != set(cls._param_names()):
            raise ValueError(
                f"{path}: hyperparameters {sorted(params)} do not match {cls.__name__}'s"
            )
        if set(scalars) | set(listed) != expected or set(scalars) & set(listed):
            raise ValueError(
                f"{path}: stored attributes {sorted(set(scalars) | set(listed))} "
                f"do not match {cls.__name__}'s {sorted(expected)}"
            )
        if set(arrays) != set(listed):
            raise ValueError(
                f"{path}: arrays {sorted(arrays)} do not match the metadata {sorted(listed)}"
            )
        for name, (shape, dtype) in listed.items():
            if list(arrays[name].shape) != shape or arrays[name].dtype.str != dtype:
                raise ValueError(
                    f"{path}: array {name} has shape {arrays[name].shape} and dtype "
                    f"{arrays[name].dtype}; the metadata says {tuple(shape)} and {dtype}"
                )
        try:
            model = cls(**{name: _decode_param(v) for name, v in params.items()})
            model._validate_params()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: invalid hyperparameters ({exc})") from None
        for name, value in scalars.items():
            setattr(model, name, value)
        for name, value in arrays.items():
            setattr(model, name, value)
        model._derived_attributes()
        return model


class FactorModel(Recommender):
    """A model with user and item embeddings ``user_factors_`` (m, d) and ``item_factors_`` (n, d).

    Adds neighbour queries in the embedding space (:meth:`similar_items`,
    :meth:`similar_users`) and cold start by folding in: every factor model
    has ``fold_in(items, values) -> (factors, bias)``, the factors of a new
    user from a few ratings with the item side kept fixed, and
    ``score_new_user(factors, bias=0.0)``, that user's unclipped scores of every
    item; :meth:`recommend_new_user` chains them into a top-:math:`k` list.
    """

    def fold_in(self, items, values):  # pragma: no cover - every factor model overrides it
        """The factors and bias of a new user from ratings ``values`` of ``items``."""
        raise NotImplementedError

    def score_new_user(self, factors, bias: float = 0.0):  # pragma: no cover - overridden
        """Unclipped scores of every item for factors returned by :meth:`fold_in`."""
        raise NotImplementedError

    def recommend_new_user(self, items, values=None, k: int = 10, *, exclude_seen: bool = True):
        """The top-``k`` list of a new user who rated ``items``: fold in, score, select.

        ``fold_in(items, values)``, then ``score_new_user`` of its result; the
        given items are left out when ``exclude_seen`` (as :meth:`recommend`
        leaves out a training user's items), and ties go to the lower index.

        Parameters
        ----------
        items : array_like of int
            Training item indices the new user rated.
        values : array_like of float, optional
            Their ratings (see the model's ``fold_in`` for when they may be omitted).
        k : int, default=10
        exclude_seen : bool, default=True

        Returns
        -------
        (items, scores) : ndarrays of shapes (k,)
            Best first (shorter when fewer than ``k`` items are candidates).
        """
        k = check_int("k", k)
        if not isinstance(exclude_seen, (bool, np.bool_)):
            raise TypeError(f"exclude_seen must be a bool; got {type(exclude_seen).__name__}")
        factors, bias = self.fold_in(items, values)
        scores = np.array(self.score_new_user(factors, bias), dtype=np.float64)
        if exclude_seen:
            scores[check_indices("items", items)] = -np.inf
        top, best = _select_top(scores[None, :], k)
        return _one_or_all(top, best, True)

    def _check_new_ratings(self, name: str, rows, values, size: int, *, required: bool = True):
        """The ratings of a new row as (indices, values), checked; ``values=None`` means ones.

        ``name`` names the indices (``"items"`` for a new user, ``"users"`` for a
        new item) in the errors.
        """
        self._check_fitted()
        rows = self._check_rows(name, rows, size)
        if values is None:
            if required:
                raise ValueError(f"values is required: the ratings of the given {name}")
            values = np.ones(rows.size)
        values = np.asarray(values)
        if values.dtype == bool or not np.issubdtype(values.dtype, np.number):
            raise TypeError(f"values must be numbers; got dtype {values.dtype}")
        values = values.astype(np.float64)
        if values.shape != rows.shape:
            raise ValueError(
                f"{name} and values must have equal lengths; got {rows.size} and {values.size}"
            )
        if rows.size == 0:
            raise ValueError(f"{name} is empty: fold_in needs at least one rating")
        if np.unique(rows).size != rows.size:
            raise ValueError(f"{name} must not repeat: one rating per {name[:-1]}")
        if not np.all(np.isfinite(values)):
            raise ValueError("values must be finite")
        return rows, values

    def _history(self, user, item) -> tuple[np.ndarray, np.ndarray]:
        """A training user's items and values, for explaining that user's score of ``item``."""
        self._check_fitted()
        for name, value, size in (("user", user, self.n_users_), ("item", item, self.n_items_)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int index; got {type(value).__name__}")
            if not 0 <= value < size:
                raise ValueError(f"{name} must be in [0, {size}); got {value}")
        if self.user_counts_[user] == 0:
            raise ValueError(f"user {user} has no training ratings: there is no history to explain")
        if self.item_counts_[item] == 0:
            raise ValueError(
                f"item {item} has no training ratings: its score is the model's fallback, "
                "not a function of the user's history"
            )
        start, stop = self.seen_indptr_[user], self.seen_indptr_[user + 1]
        return self.seen_indices_[start:stop], self.seen_values_[start:stop]

    def similar_items(self, items, k: int = 10, *, metric: str = "cosine"):
        """The ``k`` items closest to ``items`` in the item embedding.

        Parameters
        ----------
        items : int or array_like of int
        k : int, default=10
        metric : {"cosine", "dot"}, default="cosine"
            Cosine similarity :math:`V_j^\\top V_l / (\\lVert V_j\\rVert \\lVert V_l\\rVert)`,
            or the raw dot product :math:`V_j^\\top V_l` (which favours items
            with long vectors, often the popular ones).

        Returns
        -------
        (neighbours, similarities) : ndarrays
            Shapes ``(k,)`` for one item, ``(n, k)`` for an array (padded with
            ``-1`` / ``-inf``).  The query itself and items without training
            ratings are excluded; ties go to the lower index.
        """
        self._check_fitted()
        return self._similar("items", items, self.item_factors_, self.item_counts_, k, metric)

    def similar_users(self, users, k: int = 10, *, metric: str = "cosine"):
        """The ``k`` users nearest ``users`` in the user embedding (see :meth:`similar_items`)."""
        self._check_fitted()
        return self._similar("users", users, self.user_factors_, self.user_counts_, k, metric)

    def _similar(self, name, queries, F, counts, k, metric):
        queries, one = self._check_queries(name, queries, F.shape[0])
        k = check_int("k", k)
        validate_params(
            type(self).__name__, {"metric": metric}, {"metric": [Options("cosine", "dot")]}
        )
        norms = np.linalg.norm(F, axis=1)
        usable = (counts > 0) & (norms > 0)
        if not usable[queries].all():
            bad = int(queries[~usable[queries]][0])
            raise ValueError(
                f"{name[:-1]} {bad} has no training ratings, so it has no factors to compare"
            )
        G = F / np.where(norms > 0, norms, 1.0)[:, None] if metric == "cosine" else F
        sims = row_dots(G[queries], G)
        sims[:, ~usable] = -np.inf
        sims[np.arange(queries.size), queries] = -np.inf
        neighbours, values = _select_top(sims, k)
        return _one_or_all(neighbours, values, one)
