"""Explicit feedback as validated COO triplets.

A :class:`Ratings` object holds the observed entries of the feedback matrix
:math:`R \\in \\mathbb{R}^{m \\times n}`: for each observed pair
:math:`(i, j) \\in \\Omega` the user index ``i``, the item index ``j`` and the
value :math:`R_{ij}` (and optionally a timestamp).  Indices are 0-based and
dense: users are ``0 .. n_users - 1`` and items ``0 .. n_items - 1``.  When the
data come with raw identifiers (strings, database ids), :meth:`Ratings.from_ids`
(or :meth:`Ratings.from_pandas`) maps them to dense indices and keeps the maps
both ways, in an :class:`~recsys_tutorial.ids.IdMap`.

Raw ids keep the kind the data had: all integers (MovieLens' numeric ids) or
all strings, never a mix; :mod:`recsys_tutorial.ids` states the convention.

Every constructor validates its input and raises a :class:`ValueError` (or a
:class:`TypeError` for the wrong kind of input) that names the argument and the
problem.  Nothing is silently dropped: duplicate ``(user, item)`` pairs are an
error unless a policy is asked for explicitly.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import scipy.sparse as sp

from .ids import IdMap, as_id_array, as_raw_ids, ints_to_array, kind_of

__all__ = ["Ratings"]

_DUPLICATE_POLICIES = ("raise", "mean", "last")
_INT64_MAX = int(np.iinfo(np.int64).max)


# ------------------------------------------------------------------ indices and values
def _as_index_array(name: str, values: Any, *, hint: str = "") -> np.ndarray:
    """Return ``values`` as a 1-D int64 array, or raise naming ``name``.

    Any integer dtype is accepted (int8, uint32, ...) as long as every value fits
    in int64; an object array is accepted when it holds only Python/numpy ints.
    ``hint`` is appended to the message of a wrong-dtype :class:`TypeError`.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got an array of shape {arr.shape}")
    if arr.size == 0:  # np.asarray([]) is float64: an empty list is no wrong type
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind in "fO":  # a list of Python ints beyond int64 becomes floats or objects
        objects = as_id_array(values) if arr.dtype.kind == "f" else arr
        if all(kind_of(x) == "int" for x in objects):
            arr = ints_to_array(name, objects)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer indices; got dtype {arr.dtype}{hint}")
    if arr.dtype.kind == "u" and int(arr.max()) > _INT64_MAX:
        raise ValueError(
            f"{name} holds values beyond the int64 range (largest: {int(arr.max())}); "
            "indices and timestamps are stored as int64"
        )
    return arr.astype(np.int64, copy=False)


def _as_values(name: str, values: Any) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array of real numbers, or raise naming ``name``."""
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got an array of shape {values.shape}")
    if not (np.issubdtype(values.dtype, np.number) or values.size == 0) or values.dtype == bool:
        raise TypeError(f"{name} must be numbers; got dtype {values.dtype}")
    if np.iscomplexobj(values):
        raise TypeError(f"{name} must be real numbers; got complex values")
    return values.astype(np.float64, copy=False)


def _as_timestamps(name: str, values: Any) -> np.ndarray:
    """Integer timestamps as int64; datetimes are refused with the conversion to use."""
    if np.asarray(values).dtype.kind == "M":
        raise TypeError(
            f"{name} must be integers (e.g. Unix seconds); got dtype {np.asarray(values).dtype}: "
            "convert with values.astype('datetime64[s]').astype(np.int64)"
        )
    return _as_index_array(name, values)


def _check_size(name: str, size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(size).__name__}")
    size = int(size)
    if not 1 <= size <= _INT64_MAX:
        raise ValueError(f"{name} must be in [1, 2**63 - 1] (indices are int64); got {size}")
    return size


def _check_range(name: str, idx: np.ndarray, size: int | None, size_name: str) -> int:
    """Check that ``idx`` holds indices in ``[0, size)`` and return the size."""
    negative = idx < 0
    if negative.any():
        raise ValueError(
            f"{name} must be non-negative 0-based indices; {int(negative.sum())} are negative "
            f"(first: {int(idx[negative][0])})"
        )
    needed = int(idx.max()) + 1 if idx.size else 0
    if size is None:
        return needed
    size = _check_size(size_name, size)
    if size < needed:
        over = idx >= size
        raise ValueError(
            f"{name} has {int(over.sum())} indices out of range for {size_name}={size} "
            f"(largest: {needed - 1})"
        )
    return size


# ------------------------------------------------------------------------- Ratings
class Ratings:
    """Observed ratings :math:`\\{(i, j, R_{ij}) : (i, j) \\in \\Omega\\}` of an ``m x n`` matrix.

    Parameters
    ----------
    users, items : array_like of int, shape (nnz,)
        0-based user and item indices of each rating (any integer dtype whose
        values fit in int64).  Raw ids (strings, database ids) go through
        :meth:`from_ids` or :meth:`from_pandas` instead.
    values : array_like of float, shape (nnz,)
        The ratings :math:`R_{ij}`; must be finite.
    n_users, n_items : int, optional
        Sizes of the index spaces (``m`` and ``n``).  Default: one more than the
        largest index seen.  Give them when some users or items have no rating
        in this set (a test split, say) so that indices stay comparable.  At
        most 2**63 - 1; a huge space with few ratings is valid, but per-user
        arrays (``user_counts``, ``to_csr``, model factors) then cannot be
        allocated: number sparse raw ids densely with :meth:`from_ids` instead.
    timestamps : array_like of int, shape (nnz,), optional
        When each rating was made (e.g. Unix seconds).
    duplicates : {"raise", "mean", "last"}, default="raise"
        What to do when a ``(user, item)`` pair occurs more than once:
        ``"raise"`` refuses the input and says how many pairs repeat,
        ``"mean"`` keeps one rating with the mean value (and the latest
        timestamp), ``"last"`` keeps the one that comes last in the input.
    user_ids, item_ids : array_like, optional
        Raw identifiers: ``user_ids[i]`` is the raw id of user index ``i``, in any
        order, all distinct, all integers or all strings.  Set by :meth:`from_ids`;
        ``None`` when the indices are the ids.

    Attributes
    ----------
    users, items : ndarray of int64
    values : ndarray of float64
    timestamps : ndarray of int64 or None
    n_users, n_items : int
    user_ids, item_ids : ndarray or None
        The raw ids (read-only), integers (int64, or uint64 beyond its range) or
        strings, exactly as the data had them.

    Notes
    -----
    **Raw ids.**  Ids keep the kind the data had, and lookups take that kind
    only: MovieLens' ids are integers, so ``r.user_index(196)`` is user 196's
    index and ``r.user_index("196")`` is a :class:`TypeError` that says to pass
    ``196``.  Going there and back::

        u = r.user_index(196)                    # raw id -> index
        items = r.item_indices([242, 302])       # many raw ids -> indices
        r.item_ids_of(items)                     # indices (any shape) -> raw ids
        r.user_id(u)                             # index -> raw id (196)

    An unknown id is a :class:`KeyError` that names it; an index out of range
    a :class:`ValueError`.  Without raw ids (built from indices) the ids are the
    indices themselves.

    The arrays are read-only, so a ``Ratings`` can be shared by splits and
    models without copies and without surprises.  Entries are kept in the
    order given (after merging duplicates, in order of first occurrence).
    """

    def __init__(
        self,
        users: Any,
        items: Any,
        values: Any,
        n_users: int | None = None,
        n_items: int | None = None,
        *,
        timestamps: Any = None,
        duplicates: str = "raise",
        user_ids: Any = None,
        item_ids: Any = None,
    ) -> None:
        hint = (
            " — raw ids (strings, database ids, anything but 0-based indices) go through "
            "Ratings.from_ids(user_ids, item_ids, values), which numbers them 0..n-1"
        )
        users = _as_index_array("users", users, hint=hint)
        items = _as_index_array("items", items, hint=hint)
        values = _as_values("values", values)
        lengths = {"users": users.size, "items": items.size, "values": values.size}
        if timestamps is not None:
            timestamps = _as_timestamps("timestamps", timestamps)
            lengths["timestamps"] = timestamps.size
        if len(set(lengths.values())) != 1:
            raise ValueError(
                "users, items, values"
                + (", timestamps" if timestamps is not None else "")
                + f" must have equal lengths; got {lengths}"
            )
        if values.size == 0:
            raise ValueError("ratings are empty: users, items and values have length 0")
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValueError(
                f"values must be finite; {int(bad.sum())} are NaN or infinite "
                f"(first at position {int(np.flatnonzero(bad)[0])})"
            )
        if duplicates not in _DUPLICATE_POLICIES:
            raise ValueError(f"duplicates must be one of {_DUPLICATE_POLICIES}; got {duplicates!r}")

        self.n_users = _check_range("users", users, n_users, "n_users")
        self.n_items = _check_range("items", items, n_items, "n_items")
        users, items, values, timestamps = self._merge_duplicates(
            users, items, values, timestamps, duplicates
        )
        self.users, self.items, self.values = users, items, values
        self.timestamps = timestamps
        self._user_map = self._id_map("user", user_ids, self.n_users)
        self._item_map = self._id_map("item", item_ids, self.n_items)
        for arr in (self.users, self.items, self.values, self.timestamps):
            if arr is not None:
                arr.setflags(write=False)

    # ------------------------------------------------------------------ build
    def _merge_duplicates(self, users, items, values, timestamps, policy):
        # sort by (user, item), equal pairs in input order (both sorts are stable); the one
        # key users * n_items + items is faster to sort but wraps around in int64 for huge
        # index spaces (n_users = 10**12, say), where two keys are sorted instead
        if self.n_users * self.n_items <= _INT64_MAX:  # Python ints: no overflow here
            order = np.argsort(users * self.n_items + items, kind="stable")
        else:
            order = np.lexsort((items, users))
        sorted_users, sorted_items = users[order], items[order]
        repeated = (sorted_users[1:] == sorted_users[:-1]) & (sorted_items[1:] == sorted_items[:-1])
        if not repeated.any():
            return (
                users.copy(),
                items.copy(),
                values.copy(),
                (None if timestamps is None else timestamps.copy()),
            )
        n_pairs = int(np.count_nonzero(repeated & ~np.concatenate([[False], repeated[:-1]])))
        n_extra = int(repeated.sum())
        if policy == "raise":
            first = int(np.flatnonzero(repeated)[0]) + 1
            raise ValueError(
                f"{n_pairs} (user, item) pairs occur more than once ({n_extra} extra ratings; "
                f"first: user {sorted_users[first]}, item {sorted_items[first]}); "
                "pass duplicates='mean' or duplicates='last' to merge them"
            )
        # group id of each entry, in sorted order, then back in input order
        group_sorted = np.cumsum(np.concatenate([[True], ~repeated])) - 1
        group = np.empty_like(group_sorted)
        group[order] = group_sorted
        n_groups = int(group_sorted[-1]) + 1
        # keep groups in order of first occurrence in the input
        n = users.size
        first_pos = np.full(n_groups, n)
        np.minimum.at(first_pos, group, np.arange(n))
        if policy == "mean":
            counts = np.bincount(group, minlength=n_groups)
            merged = np.bincount(group, weights=values, minlength=n_groups) / counts
            new_ts = None
            if timestamps is not None:
                new_ts = np.full(n_groups, np.iinfo(np.int64).min)
                np.maximum.at(new_ts, group, timestamps)
        else:  # "last": the entry that comes last in the input wins
            last_pos = np.full(n_groups, -1)
            np.maximum.at(last_pos, group, np.arange(n))
            merged = values[last_pos]
            new_ts = None if timestamps is None else timestamps[last_pos]
        keep = np.argsort(first_pos, kind="stable")
        rep = first_pos[keep]
        return (
            users[rep].copy(),
            items[rep].copy(),
            merged[keep].astype(np.float64),
            None if new_ts is None else new_ts[keep].astype(np.int64),
        )

    @staticmethod
    def _id_map(kind: str, ids: Any, size: int) -> IdMap:
        if ids is None:
            return IdMap(kind, size=size)
        shape = np.shape(ids)
        if len(shape) != 1 or shape[0] != size:
            raise ValueError(
                f"{kind}_ids must be 1-D with one id per index ({size}); got shape {shape}"
            )
        return IdMap(kind, ids)

    @classmethod
    def from_ids(
        cls,
        user_ids: Any,
        item_ids: Any,
        values: Any,
        *,
        timestamps: Any = None,
        duplicates: str = "raise",
    ) -> Ratings:
        """Build ratings from the raw identifiers of each rating.

        Raw ids are all integers or all strings (see the class notes); they are
        mapped to dense 0-based indices in sorted order of the ids, so the
        mapping does not depend on the order of the rows.  The maps are kept:
        ``r.user_ids[i]`` is the raw id of index ``i`` and :meth:`user_index`
        goes the other way.

        Parameters
        ----------
        user_ids, item_ids : array_like of int or str, shape (nnz,)
            Raw user and item id of each rating.
        values, timestamps, duplicates
            As in :class:`Ratings`.
        """
        return cls._from_raw(
            as_raw_ids("user_ids", user_ids),
            as_raw_ids("item_ids", item_ids),
            values,
            timestamps,
            duplicates,
        )

    @classmethod
    def _from_raw(cls, raw_users, raw_items, values, timestamps, duplicates) -> Ratings:
        uniq_u, users = np.unique(raw_users, return_inverse=True)
        uniq_i, items = np.unique(raw_items, return_inverse=True)
        return cls(
            users.ravel(),
            items.ravel(),
            values,
            timestamps=timestamps,
            duplicates=duplicates,
            user_ids=uniq_u,
            item_ids=uniq_i,
        )

    @classmethod
    def from_pandas(
        cls,
        df: Any,
        *,
        user: Any = "user",
        item: Any = "item",
        rating: Any = "rating",
        timestamp: Any = None,
        duplicates: str = "raise",
    ) -> Ratings:
        """Build ratings from a pandas DataFrame with one row per rating.

        The user and item columns hold raw ids (integers or strings, as in
        :meth:`from_ids`); pandas is imported only here, so the package does not
        need it otherwise.

        Parameters
        ----------
        df : pandas.DataFrame
        user, item, rating : column label, default="user", "item", "rating"
            The columns of the raw user ids, raw item ids and rating values.
        timestamp : column label, optional
            A column of integer timestamps (e.g. Unix seconds).
        duplicates : {"raise", "mean", "last"}, default="raise"
            As in :class:`Ratings`.

        Raises
        ------
        ImportError
            If pandas is not installed.
        ValueError
            If a column is absent or has missing values, or the data are invalid
            as for :meth:`from_ids` (the message names the column).
        """
        try:
            import pandas as pd
        except ImportError as err:  # pragma: no cover - exercised only without pandas
            raise ImportError(
                "Ratings.from_pandas needs pandas, an optional dependency of recsys_tutorial; "
                "install it with `pip install pandas`, or pass the columns' arrays to "
                "Ratings.from_ids"
            ) from err
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}")
        roles = {"user": user, "item": item, "rating": rating}
        if timestamp is not None:
            roles["timestamp"] = timestamp
        columns = {}
        for role, label in roles.items():
            # compared one by one, so a tuple names one column of a MultiIndex and an
            # unhashable label (a list would select several columns) names none
            hashable = isinstance(label, Hashable)
            matches = sum(1 for column in df.columns if column == label) if hashable else 0
            if matches != 1:
                problem = "is not a column of df" if matches == 0 else "names several columns"
                raise ValueError(f"{role}={label!r} {problem}; df's columns are {list(df.columns)}")
            column = df[label]
            missing = column.isna().to_numpy()
            if missing.any():
                raise ValueError(
                    f"{role} column {label!r} has {int(missing.sum())} missing values (first "
                    f"at row {df.index[np.flatnonzero(missing)[0]]!r}); drop or fill them first"
                )
            columns[role] = column.to_numpy()
        name = {role: f"{role} column {label!r}" for role, label in roles.items()}
        return cls._from_raw(
            as_raw_ids(name["user"], columns["user"]),
            as_raw_ids(name["item"], columns["item"]),
            _as_values(name["rating"], columns["rating"]),
            None if timestamp is None else _as_timestamps(name["timestamp"], columns["timestamp"]),
            duplicates,
        )

    @classmethod
    def from_sparse(cls, matrix: Any, *, duplicates: str = "raise") -> Ratings:
        """Build ratings from the stored entries of a scipy sparse matrix.

        Every *stored* entry is a rating, including explicit zeros; the shape
        gives ``n_users`` and ``n_items``.  A matrix may store a pair more than
        once (a COO built from repeated triplets, a non-canonical CSR): those
        entries are refused or merged by ``duplicates``, as in :class:`Ratings`,
        never summed.
        """
        if not sp.issparse(matrix):
            raise TypeError(
                f"matrix must be a scipy.sparse matrix or array; got {type(matrix).__name__}"
            )
        coo = sp.coo_matrix(matrix)  # keeps repeated entries as they are stored
        if coo.nnz == 0:
            raise ValueError(f"matrix stores no entries (shape {coo.shape}): no ratings to hold")
        return cls(
            coo.row,
            coo.col,
            coo.data,
            n_users=coo.shape[0],
            n_items=coo.shape[1],
            duplicates=duplicates,
        )

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return int(self.values.size)

    def __repr__(self) -> str:
        return (
            f"Ratings({len(self)} ratings, {self.n_users} users x {self.n_items} items, "
            f"density {self.density:.4f})"
        )

    @property
    def user_ids(self) -> np.ndarray | None:
        """Raw id of each user index (read-only), or ``None`` when the indices are the ids."""
        return self._user_map.ids

    @property
    def item_ids(self) -> np.ndarray | None:
        """Raw id of each item index (read-only), or ``None`` when the indices are the ids."""
        return self._item_map.ids

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_users, n_items)``."""
        return (self.n_users, self.n_items)

    @property
    def density(self) -> float:
        """Fraction of the ``m x n`` entries that are observed, :math:`|\\Omega| / (mn)`."""
        return len(self) / (self.n_users * self.n_items)

    def user_counts(self) -> np.ndarray:
        """Number of ratings of each user, :math:`|\\Omega_i|`, shape ``(n_users,)``."""
        return np.bincount(self.users, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """Number of ratings of each item, :math:`|\\Omega^j|`, shape ``(n_items,)``."""
        return np.bincount(self.items, minlength=self.n_items)

    def to_csr(self) -> sp.csr_matrix:
        """The ratings as an ``n_users x n_items`` CSR matrix (row = user)."""
        return sp.csr_matrix((self.values, (self.users, self.items)), shape=self.shape)

    def to_csc(self) -> sp.csc_matrix:
        """The ratings as an ``n_users x n_items`` CSC matrix (column = item)."""
        return sp.csc_matrix((self.values, (self.users, self.items)), shape=self.shape)

    def subset(self, index: Any) -> Ratings:
        """The ratings at positions ``index`` (integer positions or a boolean mask).

        Integer positions follow numpy (``-1`` is the last rating); a position
        given twice is a repeated ``(user, item)`` pair and refused, as in
        :class:`Ratings`.  The index spaces (``n_users``, ``n_items``, raw id maps) are kept, so a
        subset's indices mean the same users and items as the full set's.

        Raises
        ------
        ValueError
            If ``index`` selects nothing (a ``Ratings`` holds at least one rating),
            is not 1-D, has positions out of range or a mask of the wrong length.
        """
        index = np.asarray(index)
        if index.ndim != 1:
            raise ValueError(f"index must be 1-D; got an array of shape {index.shape}")
        n = len(self)
        if index.dtype == bool:
            if index.shape != (n,):
                raise ValueError(f"a boolean index must have shape ({n},); got {index.shape}")
            index = np.flatnonzero(index)
            if index.size == 0:
                raise ValueError(
                    "index is an all-False mask: it selects no ratings, and a "
                    "Ratings holds at least one"
                )
        elif index.size == 0:
            raise ValueError(
                "index is empty: it selects no ratings, and a Ratings holds at least one"
            )
        elif index.dtype.kind not in "iu":
            raise TypeError(
                f"index must be integer positions or a boolean mask; got dtype {index.dtype}"
            )
        else:
            bad = (index >= n) | (index < -n)
            if bad.any():
                raise ValueError(
                    f"index has {int(bad.sum())} positions out of range for {n} ratings "
                    f"(first: {int(index[bad][0])})"
                )
        result = Ratings(
            self.users[index],
            self.items[index],
            self.values[index],
            n_users=self.n_users,
            n_items=self.n_items,
            timestamps=None if self.timestamps is None else self.timestamps[index],
        )
        result._user_map, result._item_map = self._user_map, self._item_map  # immutable: shared
        return result

    # ------------------------------------------------------------------ raw ids
    def user_index(self, raw_id: Any) -> int:
        """Dense index of the user with raw id ``raw_id`` (an int or a str, as the ids are)."""
        return self._user_map.index(raw_id)

    def item_index(self, raw_id: Any) -> int:
        """Dense index of the item with raw id ``raw_id`` (an int or a str, as the ids are)."""
        return self._item_map.index(raw_id)

    def user_indices(self, raw_ids: Any) -> np.ndarray:
        """Dense indices (int64, same shape) of many raw user ids; a :class:`KeyError`
        names the first unknown one."""
        return self._user_map.indices(raw_ids)

    def item_indices(self, raw_ids: Any) -> np.ndarray:
        """Dense indices (int64, same shape) of many raw item ids; a :class:`KeyError`
        names the first unknown one."""
        return self._item_map.indices(raw_ids)

    def user_id(self, index: Any) -> Any:
        """Raw id (a Python int or str) of user index ``index``."""
        return self._user_map.id(index)

    def item_id(self, index: Any) -> Any:
        """Raw id (a Python int or str) of item index ``index``."""
        return self._item_map.id(index)

    def user_ids_of(self, indices: Any) -> np.ndarray:
        """Raw ids (same shape) of an array of user indices."""
        return self._user_map.ids_of(indices)

    def item_ids_of(self, indices: Any) -> np.ndarray:
        """Raw ids (same shape) of an array of item indices, e.g. a top-k list."""
        return self._item_map.ids_of(indices)
