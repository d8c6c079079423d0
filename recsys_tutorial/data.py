"""Explicit feedback as validated COO triplets.

A :class:`Ratings` object holds the observed entries of the feedback matrix
:math:`R \\in \\mathbb{R}^{m \\times n}`: for each observed pair
:math:`(i, j) \\in \\Omega` the user index ``i``, the item index ``j`` and the
value :math:`R_{ij}` (and optionally a timestamp).  Indices are 0-based and
dense: users are ``0 .. n_users - 1`` and items ``0 .. n_items - 1``.  When the
data come with raw identifiers (strings, database ids), :meth:`Ratings.from_ids`
maps them to dense indices and keeps the maps both ways.

Every constructor validates its input and raises a :class:`ValueError` (or a
:class:`TypeError` for the wrong kind of input) that names the argument and the
problem.  Nothing is silently dropped: duplicate ``(user, item)`` pairs are an
error unless a policy is asked for explicitly.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["Ratings"]

_DUPLICATE_POLICIES = ("raise", "mean", "last")


def _as_index_array(name: str, values: Any) -> np.ndarray:
    """Return ``values`` as a 1-D int64 array, or raise naming ``name``."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got an array of shape {arr.shape}")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise TypeError(f"{name} must hold integer indices; got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


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
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"{size_name} must be an int; got {type(size).__name__}")
    size = int(size)
    if size < needed:
        over = idx >= size
        raise ValueError(
            f"{name} has {int(over.sum())} indices out of range for {size_name}={size} "
            f"(largest: {needed - 1})"
        )
    return size


class Ratings:
    """Observed ratings :math:`\\{(i, j, R_{ij}) : (i, j) \\in \\Omega\\}` of an ``m x n`` matrix.

    Parameters
    ----------
    users, items : array_like of int, shape (nnz,)
        0-based user and item indices of each rating.
    values : array_like of float, shape (nnz,)
        The ratings :math:`R_{ij}`; must be finite.
    n_users, n_items : int, optional
        Sizes of the index spaces (``m`` and ``n``).  Default: one more than the
        largest index seen.  Give them when some users or items have no rating
        in this set (a test split, say) so that indices stay comparable.
    timestamps : array_like of int, shape (nnz,), optional
        When each rating was made (e.g. Unix seconds).
    duplicates : {"raise", "mean", "last"}, default "raise"
        What to do when a ``(user, item)`` pair occurs more than once:
        ``"raise"`` refuses the input and says how many pairs repeat,
        ``"mean"`` keeps one rating with the mean value (and the latest
        timestamp), ``"last"`` keeps the one that comes last in the input.
    user_ids, item_ids : array_like, optional
        Raw identifiers: ``user_ids[i]`` is the raw id of user index ``i``.
        Set by :meth:`from_ids`; ``None`` when the indices are the ids.

    Attributes
    ----------
    users, items : ndarray of int64
    values : ndarray of float64
    timestamps : ndarray of int64 or None
    n_users, n_items : int

    Notes
    -----
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
        users = _as_index_array("users", users)
        items = _as_index_array("items", items)
        values = np.asarray(values)
        if values.ndim != 1:
            raise ValueError(f"values must be 1-D; got an array of shape {values.shape}")
        if not (np.issubdtype(values.dtype, np.number) or values.size == 0) or values.dtype == bool:
            raise TypeError(f"values must be numbers; got dtype {values.dtype}")
        if np.iscomplexobj(values):
            raise TypeError("values must be real numbers; got complex values")
        values = values.astype(np.float64, copy=False)
        lengths = {"users": users.size, "items": items.size, "values": values.size}
        if timestamps is not None:
            timestamps = _as_index_array("timestamps", timestamps)
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
        self.user_ids = self._check_ids("user_ids", user_ids, self.n_users)
        self.item_ids = self._check_ids("item_ids", item_ids, self.n_items)
        for arr in (self.users, self.items, self.values, self.timestamps):
            if arr is not None:
                arr.setflags(write=False)

    # ------------------------------------------------------------------ build
    def _merge_duplicates(self, users, items, values, timestamps, policy):
        key = users * self.n_items + items
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        repeated = sorted_key[1:] == sorted_key[:-1]
        if not repeated.any():
            return users.copy(), items.copy(), values.copy(), (
                None if timestamps is None else timestamps.copy()
            )
        n_pairs = np.unique(sorted_key[1:][repeated]).size
        n_extra = int(repeated.sum())
        if policy == "raise":
            first = int(sorted_key[1:][repeated][0])
            raise ValueError(
                f"{n_pairs} (user, item) pairs occur more than once ({n_extra} extra ratings; "
                f"first: user {first // self.n_items}, item {first % self.n_items}); "
                "pass duplicates='mean' or duplicates='last' to merge them"
            )
        # group id of each entry, in sorted order, then back in input order
        group_sorted = np.cumsum(np.concatenate([[True], ~repeated])) - 1
        group = np.empty_like(group_sorted)
        group[order] = group_sorted
        n_groups = int(group_sorted[-1]) + 1
        # keep groups in order of first occurrence in the input
        first_pos = np.full(n_groups, len(key))
        np.minimum.at(first_pos, group, np.arange(len(key)))
        if policy == "mean":
            counts = np.bincount(group, minlength=n_groups)
            merged = np.bincount(group, weights=values, minlength=n_groups) / counts
            new_ts = None
            if timestamps is not None:
                new_ts = np.full(n_groups, np.iinfo(np.int64).min)
                np.maximum.at(new_ts, group, timestamps)
        else:  # "last": the entry that comes last in the input wins
            last_pos = np.full(n_groups, -1)
            np.maximum.at(last_pos, group, np.arange(len(key)))
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
    def _check_ids(name: str, ids: Any, size: int) -> np.ndarray | None:
        if ids is None:
            return None
        ids = np.array(ids)  # a copy: it is made read-only below
        if ids.ndim != 1 or ids.size != size:
            raise ValueError(f"{name} must be 1-D with one id per index ({size}); got shape {ids.shape}")
        if np.unique(ids).size != ids.size:
            raise ValueError(f"{name} must be unique; {ids.size - np.unique(ids).size} repeat")
        ids.setflags(write=False)
        return ids

    @classmethod
    def from_ids(
        cls,
        user_ids: Sequence[Any],
        item_ids: Sequence[Any],
        values: Any,
        *,
        timestamps: Any = None,
        duplicates: str = "raise",
    ) -> "Ratings":
        """Build ratings from raw identifiers (strings or ints).

        Raw ids are mapped to dense 0-based indices in sorted order of the
        ids, so the mapping does not depend on the order of the rows.  The
        maps are kept: ``r.user_ids[i]`` is the raw id of index ``i`` and
        :meth:`user_index` goes the other way.
        """
        raw_u = np.asarray(user_ids)
        raw_i = np.asarray(item_ids)
        for name, raw in (("user_ids", raw_u), ("item_ids", raw_i)):
            if raw.ndim != 1:
                raise ValueError(f"{name} must be 1-D; got an array of shape {raw.shape}")
            if raw.dtype.kind == "f":
                raise TypeError(f"{name} must be strings or integers; got dtype {raw.dtype}")
            if raw.dtype == object and any(x is None for x in raw):
                raise ValueError(f"{name} contains None")
        uniq_u, users = np.unique(raw_u, return_inverse=True)
        uniq_i, items = np.unique(raw_i, return_inverse=True)
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
    def from_sparse(cls, matrix: Any) -> "Ratings":
        """Build ratings from the stored entries of a scipy sparse matrix.

        Every *stored* entry is a rating, including explicit zeros; the shape
        gives ``n_users`` and ``n_items``.
        """
        if not sp.issparse(matrix):
            raise TypeError(f"matrix must be a scipy.sparse matrix or array; got {type(matrix).__name__}")
        coo = sp.coo_matrix(matrix)  # repeated entries are refused by __init__, not summed
        return cls(coo.row, coo.col, coo.data, n_users=coo.shape[0], n_items=coo.shape[1])

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return int(self.values.size)

    def __repr__(self) -> str:
        return (
            f"Ratings({len(self)} ratings, {self.n_users} users x {self.n_items} items, "
            f"density {self.density:.4f})"
        )

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

    def subset(self, index: Any) -> "Ratings":
        """The ratings at positions ``index`` (integer positions or a boolean mask).

        The index spaces (``n_users``, ``n_items``, raw id maps) are kept, so a
        subset's indices mean the same users and items as the full set's.
        """
        index = np.asarray(index)
        if index.dtype == bool:
            if index.shape != (len(self),):
                raise ValueError(f"a boolean index must have shape ({len(self)},); got {index.shape}")
            index = np.flatnonzero(index)
        elif not np.issubdtype(index.dtype, np.integer):
            raise TypeError(f"index must be integer positions or a boolean mask; got dtype {index.dtype}")
        return Ratings(
            self.users[index],
            self.items[index],
            self.values[index],
            n_users=self.n_users,
            n_items=self.n_items,
            timestamps=None if self.timestamps is None else self.timestamps[index],
            user_ids=self.user_ids,
            item_ids=self.item_ids,
        )

    def user_index(self, raw_id: Any) -> int:
        """Dense index of the user with raw id ``raw_id``."""
        return self._lookup("user", self.user_ids, raw_id, self.n_users)

    def item_index(self, raw_id: Any) -> int:
        """Dense index of the item with raw id ``raw_id``."""
        return self._lookup("item", self.item_ids, raw_id, self.n_items)

    @staticmethod
    def _lookup(kind: str, ids: np.ndarray | None, raw_id: Any, size: int) -> int:
        if ids is None:
            if isinstance(raw_id, (int, np.integer)) and not isinstance(raw_id, bool) and 0 <= raw_id < size:
                return int(raw_id)
            raise KeyError(f"no {kind} with id {raw_id!r} (ids are the indices 0..{size - 1})")
        pos = int(np.searchsorted(ids, raw_id))
        if pos < ids.size and ids[pos] == raw_id:
            return pos
        raise KeyError(f"no {kind} with raw id {raw_id!r}")
