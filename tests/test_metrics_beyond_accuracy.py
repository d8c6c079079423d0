"""Beyond-accuracy metrics of top-N lists against known answers and pure-Python loops."""

from math import log2, sqrt

import numpy as np
import pytest
import scipy.sparse as sp

import recsys_tutorial as rt
from recsys_tutorial.metrics import catalog_coverage, gini_index, intra_list_diversity, novelty


# ------------------------------------------------------------ brute-force references
def loop_counts(lists, n_items):
    counts = [0] * n_items
    for row in lists:
        for item in row:
            if item >= 0:
                counts[item] += 1
    return counts


def loop_gini(lists, n_items):
    """The mean-absolute-difference form: sum_j sum_l |c_j - c_l| / (2 n^2 mean c)."""
    counts = loop_counts(lists, n_items)
    total = sum(abs(a - b) for a in counts for b in counts)
    mean = sum(counts) / n_items
    return total / (2 * n_items**2 * mean)


def loop_novelty(lists, train):
    raters = {}
    for user, item in zip(train.users.tolist(), train.items.tolist()):
        raters.setdefault(item, set()).add(user)
    bits = [-log2(len(raters[item]) / train.n_users) for row in lists for item in row if item >= 0]
    return sum(bits) / len(bits)


def loop_cosine_distance(x, y):
    dot = sum(a * b for a, b in zip(x, y))
    nx, ny = sqrt(sum(a * a for a in x)), sqrt(sum(b * b for b in y))
    if nx == 0 or ny == 0:
        return 1.0  # the documented convention for an all-zero row
    return 1.0 - dot / (nx * ny)


def loop_ild(lists, features):
    per_list = []
    for row in lists:
        items = [j for j in row if j >= 0]
        distances = [
            loop_cosine_distance(features[a], features[b])
            for pos, a in enumerate(items)
            for b in items[pos + 1 :]
        ]
        per_list.append(sum(distances) / len(distances))
    return sum(per_list) / len(per_list)


@pytest.fixture
def random_lists():
    """40 lists of 6 distinct items out of 25, a few padded with -1 at the end."""
    rng = np.random.default_rng(1)
    lists = np.array([rng.choice(25, size=6, replace=False) for _ in range(40)])
    lists[3, 4:] = -1
    lists[10, 5:] = -1
    return lists


# ------------------------------------------------------------------ known answers
def test_coverage_and_gini_known_answers():
    n = 8
    every_item_once = np.arange(n).reshape(4, 2)
    assert catalog_coverage(every_item_once, n) == 1.0
    assert gini_index(every_item_once, n) == pytest.approx(0.0, abs=1e-15)
    # every list the same two items: coverage 2/8; counts (0 x6, 5, 5)
    same = np.tile([3, 6], (5, 1))
    assert catalog_coverage(same, n) == 2 / n
    # sorted counts 0,...,0,5,5 at ranks 7 and 8: (2*7-9)*5 + (2*8-9)*5 = 60, over 8 * 10
    assert gini_index(same, n) == pytest.approx(60 / 80, rel=1e-15)
    # one item in every slot: G = (n - 1) / n
    one = np.full((7, 1), 2)
    assert gini_index(one, n) == pytest.approx((n - 1) / n, rel=1e-15)
    assert catalog_coverage(one, n) == 1 / n
    # a 1-D array is one list
    assert catalog_coverage(np.array([0, 1, 2]), 6) == 0.5


def test_novelty_known_answer():
    # 4 users; item 0 rated by all, item 1 by two, item 2 by one
    train = rt.Ratings([0, 1, 2, 3, 0, 1, 2], [0, 0, 0, 0, 1, 1, 2], np.ones(7), n_items=4)
    assert novelty([[0]], train) == 0.0
    assert novelty([[1, 2]], train) == pytest.approx((1.0 + 2.0) / 2, rel=1e-15)
    # padding counts for nothing; the pooled mean is over the 3 filled slots
    assert novelty([[0, 1], [2, -1]], train) == pytest.approx((0 + 1 + 2) / 3, rel=1e-15)
    with pytest.raises(ValueError, match="item 3, which has no rating in train"):
        novelty([[0, 3]], train)
    with pytest.raises(TypeError, match="train must be a recsys_tutorial.Ratings"):
        novelty([[0]], np.ones((4, 4)))


def test_intra_list_diversity_known_answers():
    genres = np.array(
        [
            [1, 0, 0],  # 0
            [0, 1, 0],  # 1
            [1, 0, 0],  # 2: same genre as 0
            [1, 1, 0],  # 3
            [0, 0, 0],  # 4: no genre
            [0, 0, 0],  # 5: no genre
        ]
    )
    assert intra_list_diversity([[0, 2]], genres) == 0.0
    assert intra_list_diversity([[0, 1]], genres) == 1.0
    # 0 and 3: cosine 1/sqrt(2)
    assert intra_list_diversity([[0, 3]], genres) == pytest.approx(1 - 1 / sqrt(2), rel=1e-14)
    # all-zero rows share nothing with anything, each other included
    assert intra_list_diversity([[4, 5]], genres) == 1.0
    assert intra_list_diversity([[0, 4]], genres) == 1.0
    # the mean over lists of the mean over pairs: list 1 has pairs (0,2)=0, (0,1)=1, (2,1)=1
    assert intra_list_diversity([[0, 2, -1], [0, 2, 1]], genres) == pytest.approx(
        (0.0 + 2 / 3) / 2, rel=1e-15
    )
    # bool and sparse features give the same answer
    for form in (genres.astype(bool), sp.csr_matrix(genres)):
        assert intra_list_diversity([[0, 3], [1, 4]], form) == intra_list_diversity(
            [[0, 3], [1, 4]], genres
        )


# ---------------------------------------------------------------- brute force
def test_against_pure_python_loops(random_lists):
    n = 25
    lists = random_lists.tolist()
    assert catalog_coverage(random_lists, n) == sum(c > 0 for c in loop_counts(lists, n)) / n
    assert gini_index(random_lists, n) == pytest.approx(loop_gini(lists, n), rel=1e-12)
    rng = np.random.default_rng(2)
    features = (rng.random((n, 5)) < 0.4).astype(float)
    features[7] = 0.0  # an item without features
    features[11] = rng.normal(size=5)  # any real row works
    assert intra_list_diversity(random_lists, features) == pytest.approx(
        loop_ild(lists, features.tolist()), rel=1e-12
    )
    # every item rated by someone: users 0..29, each item by a random subset
    users, items = np.nonzero(rng.random((30, n)) < 0.3)
    users, items = np.r_[users, np.arange(n) % 30], np.r_[items, np.arange(n)]
    keys = np.unique(users * n + items)
    train = rt.Ratings(keys // n, keys % n, np.ones(keys.size), n_users=30, n_items=n)
    assert novelty(random_lists, train) == pytest.approx(loop_novelty(lists, train), rel=1e-12)


def test_on_a_model_s_lists(make_ratings):
    """The lists of ``recommend`` as they come, -1 padding included (9 candidates for k = 12)."""
    train = make_ratings(seed=4, n_users=25, n_items=30, density=0.6, empty_items=())
    model = rt.models.Popularity().fit(train)
    lists = model.recommend(np.arange(train.n_users), k=12)[0]
    assert (lists == -1).any()
    as_python = lists.tolist()
    n = train.n_items
    assert catalog_coverage(lists, n) == sum(c > 0 for c in loop_counts(as_python, n)) / n
    assert gini_index(lists, n) == pytest.approx(loop_gini(as_python, n), rel=1e-12)
    assert novelty(lists, train) == pytest.approx(loop_novelty(as_python, train), rel=1e-12)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("lists", "error", "match"),
    [
        (np.zeros((2, 2, 2), dtype=int), ValueError, "lists must be 1-D"),
        (np.zeros((0, 3), dtype=int), ValueError, "lists is empty"),
        (np.array([[0.0, 1.0]]), TypeError, "lists must hold integer item indices"),
        (np.array([[0, 10]]), ValueError, r"lists must hold item indices in \[0, 10\)"),
        (np.array([[0, -2]]), ValueError, "or the padding -1; got -2"),
        (np.array([[-1, -1]]), ValueError, "lists holds no item"),
        (np.array([[1, 2], [3, 3]]), ValueError, "list 1 does"),
    ],
)
def test_bad_lists_are_refused(lists, error, match):
    features = np.eye(10)
    train = rt.Ratings(np.arange(10), np.arange(10), np.ones(10))
    for call in (
        lambda: catalog_coverage(lists, 10),
        lambda: gini_index(lists, 10),
        lambda: novelty(lists, train),
        lambda: intra_list_diversity(lists, features),
    ):
        with pytest.raises(error, match=match):
            call()


def test_bad_other_arguments_are_refused():
    with pytest.raises(TypeError, match="n_items must be an int"):
        catalog_coverage([[0]], 2.0)
    with pytest.raises(ValueError, match="n_items must be >= 1"):
        gini_index([[0]], 0)
    with pytest.raises(ValueError, match="list 1 holds 1 item"):
        intra_list_diversity([[0, 1], [2, -1]], np.eye(3))
    with pytest.raises(ValueError, match="features must be 2-D"):
        intra_list_diversity([[0, 1]], np.ones(3))
    with pytest.raises(ValueError, match="features must be finite"):
        intra_list_diversity([[0, 1]], np.array([[1.0], [np.nan]]))
    with pytest.raises(TypeError, match="features must be numeric"):
        intra_list_diversity([[0, 1]], np.array([["a"], ["b"]]))
