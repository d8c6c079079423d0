"""Raw identifiers and the one-to-one maps between them and dense indices.

Data sets name users and items by raw ids (MovieLens user ``196``, a database
key, a user name); models work with dense indices ``0 .. n - 1``.  An
:class:`IdMap` holds one such map and looks ids up in both directions.

The convention, used by :class:`recsys_tutorial.Ratings` and the data sets:
raw ids keep the kind the data had.  They are either all integers (stored as
int64, or uint64 when some exceed int64) or all strings, never a mix, and they
are compared exactly.  Asking for an id of the other kind (the string ``"196"``
when the ids are integers) is a :class:`TypeError` that says which kind to pass.
Floats and booleans are refused as ids, because ``1``, ``1.0`` and ``True``
compare equal in Python and numpy, and ``np.unique`` would silently make them
one user.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["IdMap"]

_INT64_MAX = int(np.iinfo(np.int64).max)
_UINT64_MAX = int(np.iinfo(np.uint64).max)


def kind_of(x: Any) -> str:
    """The kind of one raw id: "int", "str", "float", "bool", "missing", or a type name."""
    if isinstance(x, (bool, np.bool_)):  # before int: bool is a subclass of int
        return "bool"
    if isinstance(x, (int, np.integer)):
        return "int"
    if isinstance(x, str):  # np.str_ too
        return "str"
    if x is None or type(x).__name__ in ("NAType", "NaTType"):
        return "missing"
    if isinstance(x, (float, np.floating)):
        return "missing" if math.isnan(x) else "float"
    return type(x).__name__


def plain(x: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (so messages show 196, not np.int64(196))."""
    return x.item() if isinstance(x, np.generic) else x


def describe(x: Any) -> str:
    """``x`` in words, for error messages: "the string '196'", "the float 1.0", ..."""
    x = plain(x)
    kind = kind_of(x)
    words = {"int": "integer", "str": "string", "missing": "missing value"}.get(kind, kind)
    return f"the {words} {x!r}" if kind != "missing" else f"a missing value ({x!r})"


def ints_to_array(name: str, arr: np.ndarray) -> np.ndarray:
    """Python/numpy ints (an object array) as int64, or uint64 when some exceed int64."""
    try:
        return arr.astype(np.int64)  # raises OverflowError rather than wrap
    except OverflowError:
        pass
    ints = [int(x) for x in arr]
    lo, hi = min(ints), max(ints)
    if lo >= -_INT64_MAX - 1 and hi <= _INT64_MAX:
        return np.array(ints, dtype=np.int64)
    if lo >= 0 and hi <= _UINT64_MAX:
        return np.array(ints, dtype=np.uint64)
    raise ValueError(
        f"{name} holds integers that fit neither int64 nor uint64 (range {lo} .. {hi})"
    )


def as_id_array(values: Any) -> np.ndarray:
    """``values`` as an array; a list or tuple as objects, since numpy would coerce a mixed
    list to one type (``[1, "1"]`` to two strings ``"1"``, ``[1, True]`` to ``[1, 1]``)."""
    if isinstance(values, (list, tuple)):
        return np.asarray(values, dtype=object)
    return np.asarray(values)


def as_raw_ids(name: str, values: Any) -> np.ndarray:
    """Return raw ids as a 1-D array of one kind: int64 (or uint64), or numpy strings.

    Repeats are allowed (these are the ids of each rating, or a query).  An object
    array (a pandas column, a list mixing numpy and Python scalars) is inspected
    element by element: it must hold only ints or only strings, without missing
    values.  Floats, booleans, bytes and mixes are refused, since equal-comparing
    values of different types (``1``, ``1.0``, ``True``) would merge distinct ids.
    """
    arr = as_id_array(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got an array of shape {arr.shape}")
    if arr.dtype.kind == "T":  # numpy's variable-width StringDType: inspect like objects
        arr = arr.astype(object)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind == "O":
        # the common cases (one kind throughout) from the set of types, in one fast pass;
        # only a mix or a float (which may be NaN, a missing value) needs each id classified
        types = set(map(type, arr))
        ints = all(issubclass(t, (int, np.integer)) and not issubclass(t, bool) for t in types)
        kinds = ["int"] if ints else ["str"] if all(issubclass(t, str) for t in types) else None
        if kinds is None:
            kinds = [kind_of(x) for x in arr]
        found = dict.fromkeys(kinds)  # in order of first appearance
        if "missing" in found:
            pos = kinds.index("missing")
            raise ValueError(f"{name} has a missing value ({plain(arr[pos])!r}) at position {pos}")
        if len(found) > 1:
            (k1, k2) = list(found)[:2]
            p1, p2 = kinds.index(k1), kinds.index(k2)
            raise TypeError(
                f"{name} mixes ids of different kinds: {describe(arr[p1])} at position {p1} "
                f"and {describe(arr[p2])} at position {p2}; raw ids are compared exactly, so "
                "make them all integers or all strings (e.g. with .astype(str))"
            )
        kind = kinds[0]
        if kind == "int":
            return ints_to_array(name, arr)
        if kind == "str":
            strings = arr.astype(str)
            # numpy's fixed-width strings drop trailing NULs, which would merge "a\0" and "a"
            if np.any(np.strings.str_len(strings) != np.fromiter(map(len, arr), np.int64)):
                raise ValueError(f"{name} has ids ending in NUL ('\\x00'), which numpy cannot keep")
            return strings
    else:
        kind = {"i": "int", "u": "int", "U": "str", "f": "float", "b": "bool", "S": "bytes"}.get(
            arr.dtype.kind, str(arr.dtype)
        )
        if kind == "int":
            if arr.dtype.kind == "u" and int(arr.max()) > _INT64_MAX:
                return arr.astype(np.uint64)
            return arr.astype(np.int64, copy=False)
        if kind == "str":
            return arr
    advice = {
        "float": "; if they are whole numbers convert them with .astype(np.int64) (a pandas "
        "column of ints with missing values turns into floats: drop or fill those first)",
        "bool": "; booleans would make at most two ids",
        "bytes": "; decode the bytes to str first",
    }.get(kind, "")
    raise TypeError(
        f"{name} must be integers or strings; got {kind} values (first: {plain(arr[0])!r}){advice}"
    )


class IdMap:
    """The one-to-one map between raw ids and the dense indices from 0 to ``size - 1``.

    Index ``k`` has raw id ``ids[k]``.  The ids may come in any order; lookups
    use a sorted copy and the positions that sort them, so finding ``q`` costs
    :math:`O(\\log n)` (a binary search) and never assumes the ids are sorted.

    Parameters
    ----------
    kind : str
        What the ids name (``"user"``, ``"item"``, ``"movie"``): used in messages.
    ids : array_like of int or str, optional
        The raw ids, one per index, all distinct, all integers or all strings
        (the convention of this module).  ``None``: the indices are the ids.
    size : int, optional
        Number of indices when ``ids`` is ``None``.

    Attributes
    ----------
    ids : ndarray of int64, uint64 or str, or None
        Read-only.  Integers are int64 unless some exceed its range (then uint64).
    size : int
    """

    def __init__(self, kind: str, ids: Any = None, size: int | None = None) -> None:
        self.kind = kind
        if ids is None:
            self.ids = None
            self.size = int(size)
            return
        ids = np.array(as_raw_ids(f"{kind}_ids", ids))  # a copy: it is made read-only
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        repeat = sorted_ids[1:] == sorted_ids[:-1]
        if repeat.any():
            raise ValueError(
                f"{kind}_ids must be unique; {int(repeat.sum())} repeat "
                f"(first: {plain(sorted_ids[1:][repeat][0])!r})"
            )
        for arr in (ids, order, sorted_ids):
            arr.setflags(write=False)
        self.ids, self.size = ids, int(ids.size)
        self._order, self._sorted = order, sorted_ids

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        what = "the indices themselves" if self.ids is None else self.id_kind
        return f"IdMap({self.size} {self.kind} ids: {what})"

    @property
    def id_kind(self) -> str:
        """``"integers"`` or ``"strings"``: the kind of id that lookups accept."""
        return "integers" if self.ids is None or self.ids.dtype.kind in "iu" else "strings"

    # ---------------------------------------------------------------- raw -> index
    def index(self, raw_id: Any) -> int:
        """Dense index of the raw id ``raw_id``.

        Raises
        ------
        TypeError
            If ``raw_id`` is not of the ids' kind (a string when they are integers, ...).
        KeyError
            If no index has that id.
        """
        if isinstance(raw_id, np.ndarray) and raw_id.ndim == 0:
            raw_id = raw_id[()]
        if isinstance(raw_id, (list, tuple, np.ndarray)):
            raise TypeError(
                f"one {self.kind} id expected; got a {type(raw_id).__name__}: look up many ids "
                f"at once with {self.kind}_indices / indices"
            )
        query = np.empty(1, dtype=object)
        query[0] = raw_id
        return int(self._find(query, scalar=True)[0])

    def indices(self, raw_ids: Any) -> np.ndarray:
        """Dense indices (int64, same shape) of an array of raw ids; all must be known."""
        query = as_id_array(raw_ids)
        return self._find(query.ravel(), scalar=False).reshape(query.shape)

    def _find(self, query: np.ndarray, scalar: bool) -> np.ndarray:
        if query.size == 0:
            return np.zeros(0, dtype=np.int64)
        want = "int" if self.id_kind == "integers" else "str"
        original = query
        try:
            query = as_raw_ids(f"{self.kind} ids", query)
        except (TypeError, ValueError):
            query = np.asarray(query, dtype=object)  # reported element by element below
        if query.dtype.kind not in ("iu" if want == "int" else "U"):
            pos = next((k for k, x in enumerate(query) if kind_of(x) != want), None)
            if pos is not None:
                raise TypeError(self._wrong_kind(query[pos], pos, scalar))
            # integers, some beyond 64 bits: those cannot be ids, the others are looked up
            dtype = np.uint64 if self.ids is not None and self.ids.dtype == np.uint64 else np.int64
            info = np.iinfo(dtype)
            fits = np.array([int(info.min) <= int(x) <= int(info.max) for x in query])
            query = np.array([int(x) if ok else 0 for x, ok in zip(query, fits)], dtype=dtype)
            found, result = self._locate(query)
            found &= fits
        else:
            found, result = self._locate(query)
        if not found.all():
            first = plain(original[np.flatnonzero(~found)[0]])
            if self.ids is None:
                where = f"(ids are the indices 0..{self.size - 1})"
                raise KeyError(f"no {self.kind} with id {first!r} {where}")
            if scalar:
                raise KeyError(f"no {self.kind} with raw id {first!r}")
            raise KeyError(
                f"{int((~found).sum())} of the {found.size} {self.kind} ids are unknown "
                f"(first: {first!r})"
            )
        return result

    def _locate(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each id of ``query`` (ints or strings, as the ids) is found, and its index."""
        if self.size == 0:
            return np.zeros(query.size, dtype=bool), np.zeros(query.size, dtype=np.int64)
        if self.ids is None:
            found = (query >= 0) & (query < self.size)
            return found, np.where(found, query, 0).astype(np.int64)
        # int64 and uint64 only meet through float64 in numpy, which rounds above 2**53,
        # so a query of the other signedness is compared in the ids' dtype after masking
        # the values that dtype cannot hold (those are never found)
        dtype = self.ids.dtype
        comparable = np.ones(query.size, dtype=bool)
        if dtype.kind in "iu" and query.dtype != dtype:
            if dtype == np.int64:  # a uint64 query
                comparable = query <= np.uint64(_INT64_MAX)
            else:  # uint64 ids, an int64 query
                comparable = query >= 0
            query = np.where(comparable, query, 0).astype(dtype)
        pos = np.minimum(np.searchsorted(self._sorted, query), self.size - 1)
        return comparable & (self._sorted[pos] == query), self._order[pos]

    def _wrong_kind(self, x: Any, pos: int, scalar: bool) -> str:
        x = plain(x)
        where = "" if scalar else f" at position {pos}"
        message = f"{self.kind} ids are {self.id_kind}; got {describe(x)}{where}"
        if self.ids is None:
            message = (
                f"{self.kind} ids are the integer indices 0..{self.size - 1} (the ratings "
                f"were built without raw ids); got {describe(x)}{where}"
            )
        kind = kind_of(x)
        if self.id_kind == "integers" and kind in ("str", "float"):
            try:  # suggest the integer only when the value is exactly one ("196", 196.0)
                as_int = int(x) if kind == "str" or float(x).is_integer() else None
            except (ValueError, OverflowError):
                as_int = None
            if as_int is not None:
                message += f" — pass {as_int}"
        elif self.id_kind == "strings" and kind == "int":
            message += f" — pass {str(int(x))!r}"
        return message

    # ---------------------------------------------------------------- index -> raw
    def id(self, index: Any) -> Any:
        """Raw id of index ``index``, as a Python ``int`` or ``str``."""
        if isinstance(index, np.ndarray) and index.ndim == 0:
            index = index[()]
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be an int; got {type(index).__name__}")
        if not 0 <= index < self.size:
            raise ValueError(f"index {index} is out of range for {self.size} {self.kind}s")
        return int(index) if self.ids is None else self.ids[int(index)].item()

    def ids_of(self, indices: Any) -> np.ndarray:
        """Raw ids (same shape) of an array of indices, e.g. the items of a top-k list."""
        arr = np.asarray(indices)
        if arr.size == 0:  # np.asarray([]) is float64: an empty list is no wrong type
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"indices must hold integer indices; got dtype {arr.dtype}")
        bad = (arr < 0) | (arr >= self.size)
        if bad.any():
            raise ValueError(
                f"indices has {int(bad.sum())} values out of range for {self.size} "
                f"{self.kind}s (first: {int(arr[bad][0])})"
            )
        arr = arr.astype(np.int64)  # exact: every value is in [0, size)
        return arr if self.ids is None else self.ids[arr]
