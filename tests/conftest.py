"""Shared fixtures of the package tests.

Fixtures
--------
movielens
    MovieLens 100K as a :class:`recsys_tutorial.Ratings` (session-scoped, loaded
    once).  The loader reads ``$RECSYS_TUTORIAL_DATA/ml-100k/``; run the tests
    with ``RECSYS_TUTORIAL_DATA=/path/to/data`` on a machine without internet.
make_ratings
    A factory: ``make_ratings(seed=0, n_users=30, n_items=40, density=0.3, ...)``
    returns small random 1-5 star ``Ratings`` (see :func:`random_ratings`).
small_ratings
    ``make_ratings()`` with its defaults: 30 users x 40 items, about 30% observed,
    user 3 and item 5 without any rating, distinct timestamps.

Every draw is seeded, so every test sees the same data on every run.
"""

from __future__ import annotations

import numpy as np
import pytest

import recsys_tutorial as rt


def random_ratings(
    seed: int = 0,
    n_users: int = 30,
    n_items: int = 40,
    density: float = 0.3,
    *,
    empty_users: tuple[int, ...] = (3,),
    empty_items: tuple[int, ...] = (5,),
    timestamps: bool = True,
) -> rt.Ratings:
    """Random integer ratings 1..5 on a random ``density`` fraction of the cells.

    Parameters
    ----------
    seed : int
        Seeds every draw.
    n_users, n_items : int
        Sizes of the index spaces (kept even when the last rows/columns are empty).
    density : float
        Probability that a cell is observed.
    empty_users, empty_items : tuple of int
        Users and items given no rating at all (to exercise the unknown-user and
        unknown-item fallbacks).
    timestamps : bool
        Attach timestamps: a random permutation of ``10**9 + 0 .. nnz - 1``, so all
        distinct (orders by time are then unambiguous).
    """
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[list(empty_users), :] = False
    mask[:, list(empty_items)] = False
    users, items = np.nonzero(mask)
    # shuffle the rows so that no test can rely on the input being sorted by user
    perm = rng.permutation(users.size)
    users, items = users[perm], items[perm]
    values = rng.integers(1, 6, size=users.size).astype(np.float64)
    stamps = 10**9 + rng.permutation(users.size) if timestamps else None
    return rt.Ratings(users, items, values, n_users=n_users, n_items=n_items, timestamps=stamps)


@pytest.fixture(scope="session")
def movielens() -> rt.Ratings:
    """MovieLens 100K (100,000 ratings, 943 users x 1,682 movies), loaded once per session."""
    return rt.datasets.load_movielens_100k()


@pytest.fixture
def make_ratings():
    """The :func:`random_ratings` factory (call it with a seed and sizes)."""
    return random_ratings


@pytest.fixture
def small_ratings() -> rt.Ratings:
    """``random_ratings()``: 30 x 40, user 3 and item 5 unrated, distinct timestamps."""
    return random_ratings()
