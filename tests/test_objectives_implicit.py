"""WMF and BPR objectives: the Gram-trick loss equals the dense sum; gradients pass gradcheck."""

import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial.gradcheck import check_gradient
from recsys_tutorial.objectives import (
    bpr_gradients,
    bpr_loss,
    confidence,
    regularization_weights,
    wmf_gradients,
    wmf_loss,
)


def tiny_ratings(seed=0, m=7, n=9, density=0.35):
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    mask[2, :] = False  # a user without feedback
    users, items = np.nonzero(mask)
    values = rng.integers(1, 6, size=users.size).astype(float)
    return rt.Ratings(users, items, values, n_users=m, n_items=n)


def dense_wmf(U, V, r, alpha, reg, reg_item, scaling, eps, wu, wv):
    """The definition, term by term over all m*n pairs."""
    total = 0.0
    obs = {(u, i): v for u, i, v in zip(r.users, r.items, r.values)}
    for u in range(r.n_users):
        for i in range(r.n_items):
            x = U[u] @ V[i]
            if (u, i) in obs:
                v = obs[(u, i)]
                c = 1 + alpha * (v if scaling == "linear" else np.log(1 + v / eps))
                total += c * (1 - x) ** 2
            else:
                total += x**2
    total += reg * sum(wu[u] * U[u] @ U[u] for u in range(r.n_users))
    total += reg_item * sum(wv[i] * V[i] @ V[i] for i in range(r.n_items))
    return total


CASES = [
    {"alpha": 2.0, "reg": 0.3, "scaling": "linear", "eps": 1.0, "nu": 0.0, "reg_item": None},
    {"alpha": 0.7, "reg": 0.1, "scaling": "log", "eps": 0.5, "nu": 1.0, "reg_item": 0.4},
    {"alpha": 0.0, "reg": 0.0, "scaling": "linear", "eps": 1.0, "nu": 0.5, "reg_item": None},
]


@pytest.mark.parametrize("case", CASES)
def test_wmf_loss_equals_the_dense_sum_over_all_pairs(case):
    r = tiny_ratings()
    rng = np.random.default_rng(1)
    U, V = rng.normal(size=(r.n_users, 3)), rng.normal(size=(r.n_items, 3))
    wu = regularization_weights(r.user_counts(), case["nu"])
    wv = regularization_weights(r.item_counts(), case["nu"])
    reg_item = case["reg"] if case["reg_item"] is None else case["reg_item"]
    got = wmf_loss(
        U,
        V,
        r,
        case["alpha"],
        case["reg"],
        reg_item=case["reg_item"],
        scaling=case["scaling"],
        eps=case["eps"],
        user_weights=wu,
        item_weights=wv,
    )
    want = dense_wmf(
        U, V, r, case["alpha"], case["reg"], reg_item, case["scaling"], case["eps"], wu, wv
    )
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_wmf_gradients_pass_gradcheck(case):
    r = tiny_ratings(seed=2)
    rng = np.random.default_rng(3)
    U, V = rng.normal(size=(r.n_users, 2)), rng.normal(size=(r.n_items, 2))
    wu = regularization_weights(r.user_counts(), case["nu"])
    wv = regularization_weights(r.item_counts(), case["nu"])
    kw = {
        "reg_item": case["reg_item"],
        "scaling": case["scaling"],
        "eps": case["eps"],
        "user_weights": wu,
        "item_weights": wv,
    }
    a, reg = case["alpha"], case["reg"]
    assert (
        check_gradient(
            lambda X: wmf_loss(X, V, r, a, reg, **kw),
            lambda X: wmf_gradients(X, V, r, a, reg, **kw)[0],
            U,
        )
        < 1e-6
    )
    assert (
        check_gradient(
            lambda X: wmf_loss(U, X, r, a, reg, **kw),
            lambda X: wmf_gradients(U, X, r, a, reg, **kw)[1],
            V,
        )
        < 1e-6
    )


def test_confidence_formulas_and_bad_input():
    np.testing.assert_allclose(confidence([1.0, 4.0], 2.0), [3.0, 9.0])
    np.testing.assert_allclose(
        confidence([1.0, 4.0], 2.0, scaling="log", eps=2.0),
        [1 + 2 * np.log(1.5), 1 + 2 * np.log(3.0)],
    )
    with pytest.raises(ValueError, match="scaling"):
        confidence([1.0], 1.0, scaling="sqrt")
    with pytest.raises(ValueError, match="alpha"):
        confidence([1.0], -1.0)
    with pytest.raises(ValueError, match="values must be >= 0"):
        confidence([-1.0], 1.0)


def triples(seed=0, m=5, n=6, t=20):
    rng = np.random.default_rng(seed)
    return rng.integers(0, m, t), rng.integers(0, n, t), rng.integers(0, n, t)


def test_bpr_loss_is_the_definition():
    rng = np.random.default_rng(4)
    U, V, b = rng.normal(size=(5, 3)), rng.normal(size=(6, 3)), rng.normal(size=6)
    users, pos, neg = triples()
    want = 0.0
    for u, i, j in zip(users, pos, neg):
        x = U[u] @ V[i] + b[i] - U[u] @ V[j] - b[j]
        want += -np.log(1 / (1 + np.exp(-x))) + 0.1 * (U[u] @ U[u] + V[i] @ V[i] + V[j] @ V[j])
        want += 0.3 * (b[i] ** 2 + b[j] ** 2)
    assert bpr_loss(U, V, b, users, pos, neg, 0.1, reg_bias=0.3) == pytest.approx(want, rel=1e-12)
    # a huge margin must not overflow: -log sigma(-1000) = 1000
    big = bpr_loss(np.ones((1, 1)), np.array([[0.0], [1000.0]]), None, [0], [0], [1], 0.0)
    assert big == pytest.approx(1000.0)


@pytest.mark.parametrize("with_bias", [True, False])
def test_bpr_gradients_pass_gradcheck(with_bias):
    rng = np.random.default_rng(5)
    U, V, b = rng.normal(size=(5, 3)), rng.normal(size=(6, 3)), rng.normal(size=6)
    b = b if with_bias else None
    users, pos, neg = triples(seed=6)
    kw = {"reg_bias": 0.2}
    grads = lambda U_, V_, b_: bpr_gradients(U_, V_, b_, users, pos, neg, 0.05, **kw)
    loss = lambda U_, V_, b_: bpr_loss(U_, V_, b_, users, pos, neg, 0.05, **kw)
    assert check_gradient(lambda X: loss(X, V, b), lambda X: grads(X, V, b)[0], U) < 1e-6
    assert check_gradient(lambda X: loss(U, X, b), lambda X: grads(U, X, b)[1], V) < 1e-6
    if with_bias:
        assert check_gradient(lambda X: loss(U, V, X), lambda X: grads(U, V, X)[2], b) < 1e-6
    else:
        assert len(grads(U, V, b)) == 2


def test_bpr_bad_input_is_named():
    U, V = np.zeros((2, 2)), np.zeros((3, 2))
    with pytest.raises(ValueError, match="neg must be indices"):
        bpr_loss(U, V, None, [0], [1], [3], 0.1)
    with pytest.raises(ValueError, match="equal lengths"):
        bpr_loss(U, V, None, [0, 1], [1], [2], 0.1)
    with pytest.raises(ValueError, match="item_bias"):
        bpr_loss(U, V, np.zeros(2), [0], [1], [2], 0.1)
