"""Ratings: construction, id maps, sparse views, subsets, immutability and validation."""

import numpy as np
import pytest
import scipy.sparse as sp

import recsys_tutorial as rt


def triples(r):
    """The ratings as a sorted list of (user, item, value) tuples (order-free comparison)."""
    return sorted(zip(r.users.tolist(), r.items.tolist(), r.values.tolist()))


# ----------------------------------------------------------------- construction
def test_construction_from_indices_infers_or_keeps_the_index_spaces():
    r = rt.Ratings([2, 0, 2], [1, 3, 0], [4, 5, 1])
    assert r.users.dtype == np.int64 and r.items.dtype == np.int64
    assert r.values.dtype == np.float64
    np.testing.assert_array_equal(r.users, [2, 0, 2])  # order of the input is kept
    np.testing.assert_array_equal(r.items, [1, 3, 0])
    np.testing.assert_array_equal(r.values, [4.0, 5.0, 1.0])
    assert r.timestamps is None and r.user_ids is None and r.item_ids is None
    # inferred sizes: one more than the largest index
    assert (r.n_users, r.n_items) == (3, 4) and r.shape == (3, 4) and len(r) == 3
    assert r.density == pytest.approx(3 / 12)
    np.testing.assert_array_equal(r.user_counts(), [1, 0, 2])
    np.testing.assert_array_equal(r.item_counts(), [1, 1, 0, 1])

    wide = rt.Ratings([2, 0, 2], [1, 3, 0], [4, 5, 1], n_users=10, n_items=7)
    assert wide.shape == (10, 7) and wide.density == pytest.approx(3 / 70)
    assert wide.user_counts().shape == (10,) and wide.item_counts().shape == (7,)


def test_from_ids_with_string_ids_maps_both_ways():
    raw_users = ["bob", "alice", "bob", "carol"]
    raw_items = ["y", "x", "x", "z"]
    r = rt.Ratings.from_ids(raw_users, raw_items, [1, 2, 3, 4], timestamps=[5, 6, 7, 8])
    # ids are numbered in sorted order: alice=0, bob=1, carol=2; x=0, y=1, z=2
    np.testing.assert_array_equal(r.user_ids, ["alice", "bob", "carol"])
    np.testing.assert_array_equal(r.item_ids, ["x", "y", "z"])
    np.testing.assert_array_equal(r.users, [1, 0, 1, 2])
    np.testing.assert_array_equal(r.items, [1, 0, 0, 2])
    np.testing.assert_array_equal(r.timestamps, [5, 6, 7, 8])
    assert r.user_index("carol") == 2 and r.user_index("alice") == 0
    assert r.item_index("y") == 1
    # the maps are inverse to each other
    assert list(r.user_ids[r.users]) == raw_users
    assert list(r.item_ids[r.items]) == raw_items
    assert all(r.user_index(u) == k for k, u in enumerate(r.user_ids))
    with pytest.raises(KeyError, match="dave"):
        r.user_index("dave")
    with pytest.raises(KeyError, match="'w'"):
        r.item_index("w")


def test_from_ids_with_int_ids_and_index_lookup_without_ids():
    r = rt.Ratings.from_ids([10, 3, 10, 42], [7, 7, 100, 1], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(r.user_ids, [3, 10, 42])
    np.testing.assert_array_equal(r.item_ids, [1, 7, 100])
    np.testing.assert_array_equal(r.users, [1, 0, 1, 2])
    np.testing.assert_array_equal(r.items, [1, 1, 2, 0])
    assert r.shape == (3, 3)
    assert r.user_index(42) == 2 and r.item_index(100) == 2 and r.item_index(1) == 0
    with pytest.raises(KeyError):
        r.user_index(5)  # between two ids: searchsorted lands on 10, which is not 5
    with pytest.raises(KeyError):
        r.user_index(1000)  # past the last id

    plain = rt.Ratings([0, 1], [1, 0], [1.0, 2.0])
    assert plain.user_index(1) == 1
    with pytest.raises(KeyError, match="0..1"):
        plain.user_index(2)


def test_from_ids_rejects_float_ids_and_none():
    float_ids = r"user_ids must be integers or strings; got float values \(first: 1.5\)"
    with pytest.raises(TypeError, match=float_ids):
        rt.Ratings.from_ids([1.5, 2.0], [1, 2], [1, 2])
    with pytest.raises(ValueError, match=r"item_ids has a missing value \(None\) at position 1"):
        rt.Ratings.from_ids([1, 2], ["a", None], [1, 2])
    with pytest.raises(ValueError, match="user_ids must be 1-D"):
        rt.Ratings.from_ids([[1, 2]], [1, 2], [1, 2])


def test_explicit_id_maps_are_checked():
    with pytest.raises(ValueError, match="user_ids must be 1-D with one id per index"):
        rt.Ratings([0, 1], [0, 0], [1, 2], user_ids=["a"])
    with pytest.raises(ValueError, match="item_ids must be unique; 1 repeat"):
        rt.Ratings([0, 1], [0, 1], [1, 2], item_ids=["a", "a"])


# ------------------------------------------------------------------ sparse views
def test_csr_and_csc_hold_the_ratings_and_round_trip():
    r = rt.Ratings([0, 2, 2, 1], [3, 0, 3, 1], [4.0, 0.0, 2.5, 1.0], n_users=4, n_items=5)
    dense = np.zeros((4, 5))
    dense[0, 3], dense[2, 0], dense[2, 3], dense[1, 1] = 4.0, 0.0, 2.5, 1.0
    csr, csc = r.to_csr(), r.to_csc()
    assert sp.issparse(csr) and csr.format == "csr" and csr.shape == (4, 5)
    assert sp.issparse(csc) and csc.format == "csc" and csc.shape == (4, 5)
    np.testing.assert_array_equal(csr.toarray(), dense)
    np.testing.assert_array_equal(csc.toarray(), dense)
    # the rating 0.0 is an observed entry: it must stay stored
    assert csr.nnz == 4 and csc.nnz == 4
    for matrix in (csr, csc, sp.coo_matrix(csr)):
        back = rt.Ratings.from_sparse(matrix)
        assert back.shape == r.shape  # the empty last user and item are kept
        assert triples(back) == triples(r)
    with pytest.raises(TypeError, match="matrix must be a scipy.sparse"):
        rt.Ratings.from_sparse(dense)


def test_csr_of_a_random_set_matches_a_dense_fill(make_ratings):
    r = make_ratings(seed=11)
    dense = np.zeros(r.shape)
    for u, i, v in zip(r.users, r.items, r.values):
        dense[u, i] = v
    np.testing.assert_array_equal(r.to_csr().toarray(), dense)
    assert triples(rt.Ratings.from_sparse(r.to_csc())) == triples(r)


# ------------------------------------------------------------------------ subset
def test_subset_keeps_index_spaces_id_maps_and_timestamps():
    r = rt.Ratings.from_ids(
        ["u1", "u2", "u3", "u2"], ["a", "b", "c", "c"], [1, 2, 3, 4], timestamps=[10, 20, 30, 40]
    )
    for index in ([1, 3], np.array([False, True, False, True])):
        sub = r.subset(index)
        assert sub.shape == r.shape == (3, 3)  # u3 and a are gone but keep their indices
        np.testing.assert_array_equal(sub.user_ids, r.user_ids)
        np.testing.assert_array_equal(sub.item_ids, r.item_ids)
        np.testing.assert_array_equal(sub.users, r.users[[1, 3]])
        np.testing.assert_array_equal(sub.items, r.items[[1, 3]])
        np.testing.assert_array_equal(sub.values, [2.0, 4.0])
        np.testing.assert_array_equal(sub.timestamps, [20, 40])
        assert sub.user_index("u3") == 2  # the map still knows users absent from the subset
    with pytest.raises(ValueError, match=r"boolean index must have shape \(4,\)"):
        r.subset(np.array([True, False]))
    with pytest.raises(TypeError, match="index must be integer positions or a boolean mask"):
        r.subset(np.array([0.0, 1.0]))


# ------------------------------------------------------------------ immutability
def test_arrays_are_read_only_and_the_callers_arrays_are_untouched():
    users = np.array([0, 1, 2], dtype=np.int64)  # already the target dtypes: no implicit copy
    items = np.array([1, 1, 0], dtype=np.int64)
    values = np.array([3.0, 4.0, 5.0])
    stamps = np.array([7, 8, 9], dtype=np.int64)
    r = rt.Ratings(users, items, values, timestamps=stamps)
    for arr in (r.users, r.items, r.values, r.timestamps):
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1
    # the caller's arrays are neither frozen nor aliased
    for arr in (users, items, values, stamps):
        assert arr.flags.writeable
    values[0] = 99.0
    users[0] = 2
    assert r.values[0] == 3.0 and r.users[0] == 0


def test_id_maps_and_merged_arrays_are_read_only_too():
    user_ids = np.array(["a", "b"])
    r = rt.Ratings([0, 1, 0], [0, 0, 0], [1, 2, 3], user_ids=user_ids, duplicates="last")
    assert user_ids.flags.writeable  # the caller's id array was copied, not frozen
    for arr in (r.users, r.items, r.values, r.user_ids):
        assert not arr.flags.writeable


# -------------------------------------------------------------------- rejections
@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([0, 1], [0], [1.0, 2.0]), {}, r"must have equal lengths; got \{'users': 2, 'items': 1"),
        (([0, 1], [0, 1], [1.0]), {}, "must have equal lengths"),
        (([0, 1], [0, 1], [1.0, 2.0]), {"timestamps": [5]}, "timestamps must have equal lengths"),
        (
            ([0, 1], [0, 1], [1.0, np.nan]),
            {},
            r"values must be finite; 1 are NaN or infinite \(first at position 1\)",
        ),
        (
            ([0, 1, 2], [0, 1, 2], [np.inf, 1.0, -np.inf]),
            {},
            r"values must be finite; 2 are NaN or infinite \(first at position 0\)",
        ),
        (
            ([0, -1, -2], [0, 1, 2], [1, 2, 3]),
            {},
            r"users must be non-negative 0-based indices; 2 are negative \(first: -1\)",
        ),
        (
            ([0, 1], [-3, 1], [1, 2]),
            {},
            r"items must be non-negative 0-based indices; 1 are negative",
        ),
        (
            ([0, 5, 7], [0, 1, 2], [1, 2, 3]),
            {"n_users": 5},
            r"users has 2 indices out of range for n_users=5 \(largest: 7\)",
        ),
        (
            ([0, 1], [0, 4], [1, 2]),
            {"n_items": 4},
            r"items has 1 indices out of range for n_items=4",
        ),
        (([], [], []), {}, "ratings are empty"),
        (([[0, 1]], [[0, 1]], [[1, 2]]), {}, "users must be 1-D"),
        (([0, 1], [0, 1], [[1, 2]]), {}, "values must be 1-D"),
        (
            ([0, 1], [0, 1], [1, 2]),
            {"duplicates": "first"},
            r"duplicates must be one of \('raise', 'mean', 'last'\); got 'first'",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        rt.Ratings(*args, **kwargs)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([0.0, 1.0], [0, 1], [1, 2]), {}, "users must hold integer indices; got dtype float64"),
        (([0, 1], [0.5, 1.0], [1, 2]), {}, "items must hold integer indices"),
        (([True, False], [0, 1], [1, 2]), {}, "users must hold integer indices; got dtype bool"),
        (([0, 1], [0, 1], [1, 2]), {"timestamps": [1.5, 2.5]}, "timestamps must hold integer"),
        (([0, 1], [0, 1], ["a", "b"]), {}, "values must be numbers"),
        (([0, 1], [0, 1], [1 + 1j, 2]), {}, "values must be real numbers"),
        (([0, 1], [0, 1], [1, 2]), {"n_users": 2.0}, "n_users must be an int"),
    ],
)
def test_wrong_kinds_of_input_raise_type_error(args, kwargs, match):
    with pytest.raises(TypeError, match=match):
        rt.Ratings(*args, **kwargs)


def test_duplicate_pairs_are_refused_and_counted():
    # (0, 1) three times and (2, 0) twice: 2 repeated pairs, 3 extra ratings
    users = [0, 2, 0, 1, 2, 0]
    items = [1, 0, 1, 1, 0, 1]
    counted = r"^2 \(user, item\) pairs occur more than once \(3 extra ratings"
    with pytest.raises(ValueError, match=counted):
        rt.Ratings(users, items, [1, 2, 3, 4, 5, 6])
    with pytest.raises(ValueError, match="duplicates='mean' or duplicates='last'"):
        rt.Ratings.from_ids(["a", "a"], ["x", "x"], [1, 2])
    # positions repeated in a subset are duplicates too
    with pytest.raises(ValueError, match=r"1 \(user, item\) pairs occur more than once"):
        rt.Ratings([0, 1], [0, 1], [1, 2]).subset([0, 0])


# Input used by the two merge policies.  Pairs and the positions where they occur:
#   (0, 1) at 0, 2, 4 with values 1, 4, 3 and timestamps 10, 30, 20
#   (1, 0) at 1, 5    with values 2, 5    and timestamps 50, 40
#   (2, 2) at 3       with value 5        and timestamp 7
# Order of first occurrence: (0, 1), (1, 0), (2, 2).
DUP_USERS = [0, 1, 0, 2, 0, 1]
DUP_ITEMS = [1, 0, 1, 2, 1, 0]
DUP_VALUES = [1.0, 2.0, 4.0, 5.0, 3.0, 5.0]
DUP_STAMPS = [10, 50, 30, 7, 20, 40]


def test_duplicates_mean_averages_values_and_keeps_the_latest_timestamp():
    r = rt.Ratings(DUP_USERS, DUP_ITEMS, DUP_VALUES, timestamps=DUP_STAMPS, duplicates="mean")
    np.testing.assert_array_equal(r.users, [0, 1, 2])
    np.testing.assert_array_equal(r.items, [1, 0, 2])
    # (1 + 4 + 3) / 3 = 8/3, (2 + 5) / 2 = 3.5, 5
    np.testing.assert_allclose(r.values, [8 / 3, 3.5, 5.0], rtol=1e-15)
    # the latest of (10, 30, 20) is 30, of (50, 40) is 50
    np.testing.assert_array_equal(r.timestamps, [30, 50, 7])
    assert r.timestamps.dtype == np.int64 and r.values.dtype == np.float64
    assert r.shape == (3, 3)


def test_duplicates_last_keeps_the_last_entry_in_input_order():
    r = rt.Ratings(DUP_USERS, DUP_ITEMS, DUP_VALUES, timestamps=DUP_STAMPS, duplicates="last")
    np.testing.assert_array_equal(r.users, [0, 1, 2])
    np.testing.assert_array_equal(r.items, [1, 0, 2])
    # last occurrences: position 4 (value 3, time 20) and position 5 (value 5, time 40);
    # "last" is input order, not time: the timestamp 20 is kept although 30 is later
    np.testing.assert_array_equal(r.values, [3.0, 5.0, 5.0])
    np.testing.assert_array_equal(r.timestamps, [20, 40, 7])


def test_duplicate_policies_without_timestamps_and_without_duplicates():
    r = rt.Ratings(DUP_USERS, DUP_ITEMS, DUP_VALUES, duplicates="mean")
    assert r.timestamps is None
    np.testing.assert_allclose(r.values, [8 / 3, 3.5, 5.0], rtol=1e-15)
    # with no repeated pair a policy changes nothing
    clean = rt.Ratings([1, 0], [0, 1], [2.0, 3.0], duplicates="last")
    np.testing.assert_array_equal(clean.users, [1, 0])
    np.testing.assert_array_equal(clean.values, [2.0, 3.0])


def test_repr_reports_size_and_density():
    r = rt.Ratings([0, 1], [0, 1], [1, 2], n_users=2, n_items=4)
    assert repr(r) == "Ratings(2 ratings, 2 users x 4 items, density 0.2500)"


# ================================================================ raw ids end to end
# The reference for every lookup below is a plain dict built from the ids, so the
# binary search of IdMap is checked against a structure that assumes nothing.
def reference_map(ids):
    return {raw: k for k, raw in enumerate(ids)}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["int", "negative int", "uint64", "str"])
def test_lookups_are_right_whatever_the_order_of_the_ids(seed, kind):
    rng = np.random.default_rng(seed)
    n = 50
    pool = {
        "int": rng.choice(10_000, size=2 * n, replace=False),
        "negative int": rng.choice(10_000, size=2 * n, replace=False) - 5_000,
        "uint64": np.uint64(2**63)
        + rng.choice(10_000, size=2 * n, replace=False).astype(np.uint64),
        "str": np.array([f"id{v}" for v in rng.choice(10_000, size=2 * n, replace=False)]),
    }[kind]
    ids, absent = pool[:n], pool[n:]  # ids in random (unsorted) order; absent: never ids
    users = rng.integers(0, n, size=200)
    r = rt.Ratings(users, np.arange(200), np.ones(200), n_users=n, user_ids=ids)
    ref = reference_map(ids.tolist())
    assert not np.all(ids[:-1] <= ids[1:])  # the case the old searchsorted got wrong
    for raw, k in ref.items():
        assert r.user_index(raw) == k
        assert r.user_id(k) == raw and type(r.user_id(k)) is type(raw)
    query = rng.choice(ids, size=(4, 7))
    expected = np.vectorize(ref.__getitem__, otypes=[np.int64])(query)
    np.testing.assert_array_equal(r.user_indices(query), expected)
    np.testing.assert_array_equal(r.user_ids_of(expected), query)
    np.testing.assert_array_equal(r.user_ids_of(r.users), ids[users])
    for raw in absent[:10].tolist():
        with pytest.raises(KeyError, match="no user with raw id"):
            r.user_index(raw)
    with pytest.raises(KeyError, match="1 of the 3 user ids are unknown"):
        r.user_indices([ids[0], absent[0], ids[1]])


def test_movielens_ids_are_integers_and_strings_get_a_helpful_type_error(movielens):
    r = movielens
    # u.data's first line is "196 242 3 881250949": user 196 rated movie 242
    u, i = r.user_index(196), r.item_index(242)
    assert (r.users == u).sum() == 39  # awk '$1==196' u.data | wc -l
    first = np.flatnonzero((r.users == u) & (r.items == i))
    assert first.tolist() == [0] and r.values[0] == 3.0 and r.timestamps[0] == 881250949
    assert r.user_id(u) == 196 and type(r.user_id(u)) is int
    assert r.user_index(np.int64(196)) == r.user_index(np.uint16(196)) == u
    assert r.user_index(np.array(196)) == u  # a 0-d array is one id
    helpful = r"^user ids are integers; got the string '196' — pass 196$"
    with pytest.raises(TypeError, match=helpful):
        r.user_index("196")
    with pytest.raises(TypeError, match=r"got the float 196\.0 — pass 196$"):
        r.user_index(196.0)
    for not_an_int in ("abc", "²", 196.5):  # no integer to suggest
        with pytest.raises(TypeError, match=f"got the (string|float) {not_an_int!r}$"):
            r.user_index(not_an_int)
    with pytest.raises(TypeError, match="user ids are integers; got the bool True$"):
        r.user_index(True)
    with pytest.raises(TypeError, match=r"item ids are integers; got a missing value \(None\)"):
        r.item_index(None)
    with pytest.raises(TypeError, match=r"got the string '242' at position 1 — pass 242"):
        r.item_indices([1, "242"])
    with pytest.raises(
        TypeError,
        match="one user id expected; got a list: look up many ids at once with user_indices",
    ):
        r.user_index([196])
    with pytest.raises(KeyError, match="no user with raw id 0"):
        r.user_index(0)  # MovieLens ids start at 1
    with pytest.raises(KeyError, match="no user with raw id 100000000000000000000"):
        r.user_index(10**20)  # beyond 64 bits: the right kind, but unknown


def test_string_ids_refuse_integers_and_say_what_to_pass():
    r = rt.Ratings.from_ids(["b", "a", "10"], ["x", "y", "x"], [1, 2, 3])
    assert r.user_index("10") == 0 and r.user_id(0) == "10" and type(r.user_id(0)) is str
    helpful = r"^user ids are strings; got the integer 10 — pass '10'$"
    with pytest.raises(TypeError, match=helpful):
        r.user_index(10)
    with pytest.raises(TypeError, match="user ids are strings; got the integer 10 at position 1"):
        r.user_indices(np.array(["a", 10], dtype=object))
    # numpy's variable-width strings are strings too
    query = np.array(["b", "a"], dtype=np.dtypes.StringDType())
    np.testing.assert_array_equal(r.user_indices(query), [2, 1])


def test_without_raw_ids_the_indices_are_the_ids():
    r = rt.Ratings([0, 2], [1, 0], [1.0, 2.0])
    assert r.user_index(2) == 2 and r.user_id(2) == 2
    np.testing.assert_array_equal(r.user_indices([[2, 0]]), [[2, 0]])
    np.testing.assert_array_equal(r.item_ids_of([1, 0]), [1, 0])
    with pytest.raises(
        TypeError,
        match=r"indices 0\.\.2 \(the ratings were built without raw ids\)"
        r"; got the string '1' — pass 1",
    ):
        r.user_index("1")
    with pytest.raises(KeyError, match=r"no item with id -1 \(ids are the indices 0\.\.1\)"):
        r.item_index(-1)


def test_index_to_raw_id_validates_the_indices():
    r = rt.Ratings.from_ids([5, 7], [1, 1], [1, 2])
    assert [r.user_id(k) for k in (0, 1)] == [5, 7] and r.item_id(np.int32(0)) == 1
    np.testing.assert_array_equal(
        r.user_ids_of(np.array([[1, 0], [0, 0]], dtype=np.uint8)), [[7, 5], [5, 5]]
    )
    assert r.user_ids_of([]).shape == (0,) and r.user_indices([]).shape == (0,)
    with pytest.raises(ValueError, match="index 2 is out of range for 2 users"):
        r.user_id(2)
    with pytest.raises(ValueError, match="index -1 is out of range"):
        r.user_id(-1)
    with pytest.raises(TypeError, match="index must be an int; got bool"):
        r.user_id(True)
    with pytest.raises(ValueError, match=r"indices has 2 values out of range for 2 users \(first"):
        r.user_ids_of([2, 0, -1])
    with pytest.raises(TypeError, match="indices must hold integer indices; got dtype float64"):
        r.item_ids_of([0.0])


def test_round_trip_from_raw_ids_to_indices_and_back():
    rng = np.random.default_rng(5)
    raw_users = rng.choice(["ann", "bo", "cy", "dee", "ed"], size=40)
    raw_items = rng.choice([101, 7, 55, 3000], size=40)
    pairs = sorted(set(zip(raw_users.tolist(), raw_items.tolist())))
    raw_users = np.array([p[0] for p in pairs])
    raw_items = np.array([p[1] for p in pairs])
    r = rt.Ratings.from_ids(raw_users, raw_items, np.arange(len(pairs)))
    np.testing.assert_array_equal(r.user_indices(raw_users), r.users)
    np.testing.assert_array_equal(r.item_indices(raw_items), r.items)
    np.testing.assert_array_equal(r.user_ids_of(r.users), raw_users)
    np.testing.assert_array_equal(r.item_ids_of(r.items), raw_items)
    assert r.item_ids.dtype == np.int64 and r.user_ids.dtype.kind == "U"
    # the numbering depends on the ids only, not on the order of the rows
    perm = rng.permutation(len(pairs))
    shuffled = rt.Ratings.from_ids(raw_users[perm], raw_items[perm], np.arange(len(pairs))[perm])
    np.testing.assert_array_equal(shuffled.user_ids, sorted(set(raw_users)))
    np.testing.assert_array_equal(shuffled.item_ids, sorted(set(raw_items.tolist())))
    assert triples(shuffled) == triples(r)


# ------------------------------------------------------- distinct raw ids stay distinct
def test_numpy_unique_would_merge_equal_comparing_ids_of_different_types():
    # the premise of the refusals below: np.unique keeps one of 1, 1.0 and True
    assert np.unique(np.array([1, 1.0, True], dtype=object)).size == 1


@pytest.mark.parametrize(
    "raw, match",
    [
        (
            [1, "1"],
            (
                r"user_ids mixes ids of different kinds: the integer 1 at position 0 and "
                r"the string '1' at position 1"
            ),
        ),
        ([1, 1.0], "the integer 1 at position 0 and the float 1.0 at position 1"),
        ([1, True], "the integer 1 at position 0 and the bool True at position 1"),
        (["a", b"a"], "the string 'a' at position 0 and the bytes b'a' at position 1"),
    ],
)
def test_mixed_kinds_of_ids_are_refused(raw, match):
    # a plain list too: np.asarray would turn [1, "1"] into two strings "1" and [1, True] into
    # [1, 1], merging two users before any check could see them
    assert np.unique(np.asarray(raw)).size == 1 or raw[1] == b"a"
    with pytest.raises(TypeError, match=match):
        rt.Ratings.from_ids(raw, [0, 1], [1, 2])
    with pytest.raises(TypeError, match=match):
        rt.Ratings.from_ids(np.array(raw, dtype=object), [0, 1], [1, 2])
    with pytest.raises(TypeError, match=match):
        rt.Ratings([0, 1], [0, 0], [1, 2], user_ids=np.array(raw, dtype=object))


@pytest.mark.parametrize(
    "raw, error, match",
    [
        ([True, False], TypeError, "user_ids must be integers or strings; got bool values"),
        (np.array([b"a", b"b"]), TypeError, "got bytes values .* decode the bytes to str"),
        (np.array([1.0, 2.0], dtype=object), TypeError, r"got float values \(first: 1\.0\)"),
        (np.array([1, np.nan], dtype=object), ValueError, r"missing value \(nan\) at position 1"),
        (np.array(["a\0", "a"], dtype=object), ValueError, "ids ending in NUL"),
        (np.array([-1, 2**64 - 1], dtype=object), ValueError, "fit neither int64 nor uint64"),
    ],
)
def test_ids_that_cannot_stay_distinct_are_refused(raw, error, match):
    with pytest.raises(error, match=match):
        rt.Ratings.from_ids(raw, [0, 1], [1, 2])


def test_ids_of_one_kind_in_different_representations_are_the_same_id():
    # np.int64(3) and 3 are the same integer; np.str_("a") and "a" the same string
    r = rt.Ratings.from_ids(np.array([np.int64(3), 3, 4], dtype=object), [0, 1, 0], [1, 2, 3])
    np.testing.assert_array_equal(r.user_ids, [3, 4]) and r.user_ids.dtype == np.int64
    s = rt.Ratings.from_ids(
        np.array([np.str_("a"), "a", "01", "1"], dtype=object), [0, 1, 0, 0], [1, 2, 3, 4]
    )
    np.testing.assert_array_equal(s.user_ids, ["01", "1", "a"])  # "01" and "1" stay two users
    np.testing.assert_array_equal(s.users, [2, 2, 0, 1])


def test_ids_beyond_int64_are_kept_exactly_as_uint64():
    big = [2**64 - 1, 2**63, 0]
    r = rt.Ratings.from_ids(np.array(big, dtype=object), [0, 0, 0], [1, 2, 3])
    assert r.user_ids.dtype == np.uint64
    assert [r.user_index(v) for v in big] == [2, 1, 0]
    assert r.user_id(2) == 2**64 - 1
    # int64 and uint64 meet through float64 in numpy: 2**64 - 1 and 2**64 - 2 would be equal
    np.testing.assert_array_equal(r.user_indices(np.array([2**63, 0], dtype=np.uint64)), [1, 0])
    with pytest.raises(KeyError, match="no user with raw id 18446744073709551614"):
        r.user_index(2**64 - 2)
    with pytest.raises(KeyError, match=r"1 of the 2 user ids are unknown \(first: -1\)"):
        r.user_indices(np.array([0, -1]))
    small = rt.Ratings.from_ids([5, 6], [0, 0], [1, 2])
    with pytest.raises(KeyError, match="first: 9223372036854775813"):
        small.user_indices(np.array([5, 2**63 + 5], dtype=np.uint64))


def test_explicit_id_maps_of_the_wrong_kind_are_refused():
    with pytest.raises(TypeError, match=r"item_ids must be integers or strings; got float"):
        rt.Ratings([0, 1], [0, 1], [1, 2], item_ids=[0.5, 1.5])
    with pytest.raises(ValueError, match=r"user_ids must be unique; 1 repeat \(first: 'a'\)"):
        rt.Ratings([0, 1], [0, 1], [1, 2], user_ids=np.array(["a", "a"], dtype=object))


def test_movielens_titles_by_raw_id(movielens):
    movies = rt.datasets.load_movielens_100k_movies()
    # known lines of u.item: "1|Toy Story (1995)|...", "50|Star Wars (1977)|...",
    # "100|Fargo (1996)|...", "242|Kolya (1996)|..."
    assert movies.title(50) == "Star Wars (1977)"
    assert movies.title(np.int64(1)) == "Toy Story (1995)"
    np.testing.assert_array_equal(
        movies.titles_of([[100, 242]]), [["Fargo (1996)", "Kolya (1996)"]]
    )
    assert movies.index(50) == 49 and movies.indices([1, 1682]).tolist() == [0, 1681]
    # from a user's raw id to the titles of the movies they rated, with no index arithmetic:
    # user 196 rated movie 242 (Kolya) first in u.data
    rated = movielens.items[movielens.users == movielens.user_index(196)]
    assert movies.titles_of(movielens.item_ids_of(rated))[0] == "Kolya (1996)"
    with pytest.raises(TypeError, match="movie ids are integers; got the string '50' — pass 50"):
        movies.title("50")
    with pytest.raises(KeyError, match="no movie with raw id 1683"):
        movies.title(1683)


# ------------------------------------------------------------------- from_pandas
def raw_triples(r):
    """The ratings as a sorted list of (raw user, raw item, value): independent of numbering."""
    return sorted(
        zip(r.user_ids_of(r.users).tolist(), r.item_ids_of(r.items).tolist(), r.values.tolist())
    )


def test_from_pandas_reads_the_named_columns():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "userId": [196, 186, 196, 22],
            "movieId": [242, 302, 377, 377],
            "stars": [3, 3, 1, 5],
            "ts": [881250949, 891717742, 878887116, 880606923],
            "other": ["x", "y", "z", "w"],
        },
        index=[10, 11, 12, 13],
    )
    r = rt.Ratings.from_pandas(df, user="userId", item="movieId", rating="stars", timestamp="ts")
    expected = sorted(zip(df.userId.tolist(), df.movieId.tolist(), df.stars.astype(float)))
    assert raw_triples(r) == expected
    np.testing.assert_array_equal(r.user_ids, [22, 186, 196])  # raw ids kept as integers
    assert r.user_ids.dtype == np.int64 and r.user_index(196) == 2
    np.testing.assert_array_equal(r.timestamps, df.ts)  # rows keep their order
    assert (
        rt.Ratings.from_pandas(
            df.rename(columns={"userId": "user", "movieId": "item", "stars": "rating"})
        ).timestamps
        is None
    )


@pytest.mark.parametrize("dtype", ["str", "object", "category", "string[python]"])
def test_from_pandas_with_string_ids_of_every_pandas_flavour(dtype):
    pd = pytest.importorskip("pandas")
    users = ["ann", "bo", "ann", "1"]
    df = pd.DataFrame(
        {
            "user": pd.Series(users, dtype=dtype),
            "item": pd.Series(["x", "x", "y", "x"], dtype=dtype),
            "rating": [4.5, 2.0, 3.0, 1.0],
        }
    )
    r = rt.Ratings.from_pandas(df)
    assert raw_triples(r) == sorted(zip(users, ["x", "x", "y", "x"], [4.5, 2.0, 3.0, 1.0]))
    assert r.user_index("1") == 0 and r.user_ids.dtype.kind == "U"


def test_from_pandas_nullable_integers_and_duplicates():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "user": pd.array([1, 2, 1], dtype="Int64"),
            "item": pd.array([5, 5, 5], dtype="UInt8"),
            "rating": pd.array([1.0, 2.0, 4.0], dtype="Float64"),
        }
    )
    with pytest.raises(ValueError, match="1 \\(user, item\\) pairs occur more than once"):
        rt.Ratings.from_pandas(df)
    r = rt.Ratings.from_pandas(df, duplicates="mean")
    assert raw_triples(r) == [(1, 5, 2.5), (2, 5, 2.0)]


def test_from_pandas_refuses_bad_columns_naming_them():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "user": [1, 2],
            "item": ["a", "b"],
            "rating": [1.0, 2.0],
            "when": pd.to_datetime([0, 1], unit="s"),
        },
        index=["r1", "r2"],
    )
    with pytest.raises(
        ValueError,
        match=r"user='uid' is not a column of df; df's columns are "
        r"\['user', 'item', 'rating', 'when'\]",
    ):
        rt.Ratings.from_pandas(df, user="uid")
    twice = pd.concat([df, df[["user"]]], axis=1)
    with pytest.raises(ValueError, match="user='user' names several columns"):
        rt.Ratings.from_pandas(twice)
    with_gap = df.assign(rating=[1.0, None])
    with pytest.raises(
        ValueError,
        match=r"rating column 'rating' has 1 missing values \(first "
        r"at row 'r2'\); drop or fill them first",
    ):
        rt.Ratings.from_pandas(with_gap)
    with pytest.raises(ValueError, match="item column 'item' has 1 missing values"):
        rt.Ratings.from_pandas(df.assign(item=["a", None]))
    mixed = df.assign(user=pd.Series([1, "1"], dtype=object, index=df.index))
    with pytest.raises(TypeError, match="user column 'user' mixes ids of different kinds"):
        rt.Ratings.from_pandas(mixed)
    with pytest.raises(
        TypeError,
        match=r"user column 'user' must be integers or strings; got "
        r"float values",
    ):
        rt.Ratings.from_pandas(df.assign(user=[1.0, 2.0]))
    with pytest.raises(TypeError, match="rating column 'rating' must be numbers"):
        rt.Ratings.from_pandas(df.assign(rating=["good", "bad"]))
    with pytest.raises(
        TypeError,
        match=r"timestamp column 'when' must be integers \(e\.g\. Unix "
        r"seconds\); got dtype datetime64",
    ):
        rt.Ratings.from_pandas(df, timestamp="when")
    with pytest.raises(TypeError, match="df must be a pandas DataFrame; got dict"):
        rt.Ratings.from_pandas({"user": [1], "item": [1], "rating": [1.0]})


def test_from_pandas_without_pandas_says_how_to_get_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match=r"needs pandas.*pip install pandas.*Ratings\.from_ids"):
        rt.Ratings.from_pandas(object())


# ------------------------------------------------------------------- from_sparse
def test_from_sparse_merges_repeated_entries_as_its_error_suggests():
    # a COO built from triplets stores (0, 1) twice and (1, 0) once; never summed
    coo = sp.coo_matrix(([1.0, 2.0, 4.0], ([0, 1, 0], [1, 0, 1])), shape=(2, 3))
    with pytest.raises(ValueError, match="pass duplicates='mean' or duplicates='last'"):
        rt.Ratings.from_sparse(coo)
    mean = rt.Ratings.from_sparse(coo, duplicates="mean")
    assert triples(mean) == [(0, 1, 2.5), (1, 0, 2.0)] and mean.shape == (2, 3)
    last = rt.Ratings.from_sparse(coo, duplicates="last")
    assert triples(last) == [(0, 1, 4.0), (1, 0, 2.0)]
    # a non-canonical CSR (row 0 stores column 2 twice) is read the same way
    csr = sp.csr_matrix(
        (np.array([5.0, 1.0, 3.0]), np.array([2, 2, 0]), np.array([0, 2, 3])), shape=(2, 4)
    )
    assert not csr.has_canonical_format
    assert triples(rt.Ratings.from_sparse(csr, duplicates="mean")) == [(0, 2, 3.0), (1, 0, 3.0)]
    with pytest.raises(ValueError, match="duplicates must be one of"):
        rt.Ratings.from_sparse(coo, duplicates="sum")
    with pytest.raises(ValueError, match=r"matrix stores no entries \(shape \(3, 2\)\)"):
        rt.Ratings.from_sparse(sp.csr_matrix((3, 2)))


# ------------------------------------------------ integer dtypes and huge index spaces
@pytest.mark.parametrize(
    "dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.uint64]
)
def test_any_integer_dtype_gives_the_same_ratings(dtype):
    users, items = [3, 0, 120], [7, 1, 0]
    r = rt.Ratings(
        np.array(users, dtype=dtype),
        np.array(items, dtype=dtype),
        [1, 2, 3],
        timestamps=np.array([5, 6, 7], dtype=dtype),
    )
    assert r.users.dtype == r.items.dtype == r.timestamps.dtype == np.int64
    assert triples(r) == sorted(zip(users, items, [1.0, 2.0, 3.0])) and r.shape == (121, 8)


def test_integers_beyond_int64_are_refused_not_wrapped():
    too_big = np.array([0, 2**63], dtype=np.uint64)  # astype(int64) would make it -2**63
    with pytest.raises(
        ValueError,
        match=r"users holds values beyond the int64 range \(largest: "
        r"9223372036854775808\)",
    ):
        rt.Ratings(too_big, [0, 1], [1, 2])
    with pytest.raises(ValueError, match="timestamps holds values beyond the int64 range"):
        rt.Ratings([0, 1], [0, 1], [1, 2], timestamps=too_big)
    with pytest.raises(ValueError, match="users holds values beyond the int64 range"):
        rt.Ratings([0, 2**63], [0, 1], [1, 2])  # Python ints: numpy would make them floats
    with pytest.raises(ValueError, match=r"n_users must be in \[1, 2\*\*63 - 1\]"):
        rt.Ratings([0], [0], [1], n_users=2**63)
    with pytest.raises(
        ValueError,
        match=r"n_items must be in \[1, 2\*\*63 - 1\] \(indices "
        r"are int64\); got 0",
    ):
        rt.Ratings([0], [0], [1], n_items=0)


def test_raw_ids_that_are_not_indices_point_to_from_ids():
    for bad, dtype in ((["196", "186"], "<U3"), ([1.0, 2.0], "float64")):
        with pytest.raises(
            TypeError,
            match=rf"users must hold integer indices; got dtype {dtype} "
            r"— raw ids .* go through Ratings\.from_ids",
        ):
            rt.Ratings(bad, [0, 1], [1, 2])
    with pytest.raises(TypeError, match="items must hold integer indices; got dtype object"):
        rt.Ratings([0, 1], np.array(["a", 1], dtype=object), [1, 2])
    # an object array of ints is indices all the same
    assert triples(rt.Ratings(np.array([1, 0], dtype=object), [0, 0], [1, 2])) == [
        (0, 0, 2.0),
        (1, 0, 1.0),
    ]


def test_huge_index_spaces_do_not_overflow_the_duplicate_check():
    # users * n_items + items wraps around 2**64: with n_items = 2**32 the pairs (0, 5) and
    # (2**32, 5) share that key, so a one-key check would call two distinct pairs a duplicate
    keys = np.array([0, 2**32]) * 2**32 + np.array([5, 5])  # int64 arithmetic wraps silently
    assert keys[0] == keys[1]
    r = rt.Ratings([0, 2**32], [5, 5], [1.0, 2.0], n_items=2**32)
    assert triples(r) == [(0, 5, 1.0), (2**32, 5, 2.0)] and r.shape == (2**32 + 1, 2**32)
    # and true duplicates in a space of 10**12 x 10**8 are found and merged correctly
    rng = np.random.default_rng(3)
    users = rng.choice([0, 10**12 - 1, 123_456_789_012], size=60)
    items = rng.choice([0, 10**8 - 1, 77], size=60)
    values = rng.integers(1, 6, size=60).astype(float)
    merged = rt.Ratings(users, items, values, n_users=10**12, n_items=10**8, duplicates="mean")
    groups = {}
    for u, i, v in zip(users.tolist(), items.tolist(), values.tolist()):
        groups.setdefault((u, i), []).append(v)
    assert triples(merged) == sorted((u, i, float(np.mean(v))) for (u, i), v in groups.items())
    n_repeated = sum(len(v) > 1 for v in groups.values())
    with pytest.raises(ValueError, match=rf"^{n_repeated} \(user, item\) pairs occur more than"):
        rt.Ratings(users, items, values, n_users=10**12, n_items=10**8)


# ------------------------------------------------------------------ empty selections
def test_empty_and_out_of_range_selections_are_refused_naming_index():
    r = rt.Ratings([0, 1, 2], [0, 1, 0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="index is empty: it selects no ratings"):
        r.subset([])
    with pytest.raises(ValueError, match="index is empty"):
        r.subset(np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match="index is an all-False mask: it selects no ratings"):
        r.subset(r.values > 10)
    with pytest.raises(
        ValueError,
        match=r"index has 2 positions out of range for 3 ratings "
        r"\(first: 3\)",
    ):
        r.subset([3, 0, -4])
    with pytest.raises(ValueError, match=r"index must be 1-D; got an array of shape \(\)"):
        r.subset(1)
    with pytest.raises(ValueError, match=r"index must be 1-D; got an array of shape \(1, 2\)"):
        r.subset([[0, 1]])
    # numpy's negative positions count from the end; unsigned positions are positions
    assert triples(r.subset([-1])) == [(2, 0, 3.0)]
    assert triples(r.subset(np.array([2, 0], dtype=np.uint8))) == [(0, 0, 1.0), (2, 0, 3.0)]


def test_from_pandas_column_labels_of_any_hashable_kind():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        [[1, 10, 4.0], [2, 10, 5.0]],
        columns=pd.MultiIndex.from_tuples([("id", "u"), ("id", "i"), ("r", "")]),
    )
    r = rt.Ratings.from_pandas(df, user=("id", "u"), item=("id", "i"), rating=("r", ""))
    assert raw_triples(r) == [(1, 10, 4.0), (2, 10, 5.0)]
    numbered = pd.DataFrame({0: ["a", "b"], 1: ["x", "x"], 2: [1.0, 2.0]})
    assert raw_triples(rt.Ratings.from_pandas(numbered, user=0, item=1, rating=2)) == [
        ("a", "x", 1.0),
        ("b", "x", 2.0),
    ]
    with pytest.raises(ValueError, match=r"user=\[0, 1\] is not a column of df"):
        rt.Ratings.from_pandas(numbered, user=[0, 1], item=1, rating=2)


@pytest.mark.parametrize("policy", ["mean", "last"])
def test_merging_is_the_same_in_small_and_huge_index_spaces(policy):
    # small spaces sort one int64 key, huge ones two keys: the results must not differ
    rng = np.random.default_rng(8)
    users, items = rng.integers(0, 6, size=80), rng.integers(0, 5, size=80)
    values, stamps = rng.integers(1, 6, size=80), rng.permutation(80)
    small = rt.Ratings(users, items, values, timestamps=stamps, duplicates=policy)
    huge = rt.Ratings(
        users, items, values, n_users=2**40, n_items=2**30, timestamps=stamps, duplicates=policy
    )
    for name in ("users", "items", "values", "timestamps"):
        np.testing.assert_array_equal(getattr(huge, name), getattr(small, name))
    # and both match a dict built in input order (first occurrence fixes the order)
    groups = {}
    for u, i, v in zip(users.tolist(), items.tolist(), values.tolist()):
        groups.setdefault((u, i), []).append(v)
    merged = [np.mean(v) if policy == "mean" else v[-1] for v in groups.values()]
    np.testing.assert_array_equal(small.users, [u for u, _ in groups])
    np.testing.assert_allclose(small.values, merged, rtol=1e-15)


def test_id_map_on_its_own():
    from recsys_tutorial.ids import IdMap

    m = IdMap("movie", np.array([30, 10, 20], dtype=np.int16))
    assert len(m) == 3 and repr(m) == "IdMap(3 movie ids: integers)" and m.ids.dtype == np.int64
    assert [m.index(v) for v in (30, 10, 20)] == [0, 1, 2] and m.id(1) == 10
    assert repr(IdMap("user", size=4)) == "IdMap(4 user ids: the indices themselves)"
    empty = IdMap("tag", [])
    assert len(empty) == 0 and empty.indices([]).shape == (0,)
    with pytest.raises(KeyError, match="no tag with raw id 3"):
        empty.index(3)
    with pytest.raises(ValueError, match="must be 1-D"):
        IdMap("tag", [["a"]])
