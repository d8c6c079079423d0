"""explain(user, item): the score split over the user's history, against dense brute force."""

import numpy as np
import pytest
from conftest import random_ratings

import recsys_tutorial as rt
from recsys_tutorial.models import Explanation


@pytest.fixture
def data():
    """30 users x 40 items; user 3 and item 5 have no rating."""
    return random_ratings(seed=3)


def history(data, user):
    mine = data.users == user
    order = np.argsort(data.items[mine])
    return data.items[mine][order], data.values[mine][order]


def check_parts(e: Explanation, items, expected_by_item, base, score):
    """Same items and contributions (in any order), sorted by |contribution|, parts add up."""
    assert isinstance(e, Explanation)
    assert sorted(e.items.tolist()) == sorted(items.tolist())
    got = dict(zip(e.items.tolist(), e.contributions.tolist()))
    for item, value in zip(items.tolist(), expected_by_item):
        assert got[item] == pytest.approx(value, rel=1e-9, abs=1e-12)
    magnitudes = np.abs(e.contributions)
    assert np.all(magnitudes[:-1] >= magnitudes[1:])
    assert e.base == pytest.approx(base, rel=1e-12, abs=1e-12)
    assert e.base == pytest.approx(sum(e.base_terms.values()), rel=1e-15, abs=1e-15)
    assert e.score == pytest.approx(e.base + e.contributions.sum(), rel=1e-12)
    assert e.score == pytest.approx(score, rel=1e-10)


def mf_brute_force(model, data, user, item):
    """Dense normal equations of the user's half-step and each history item's term by a loop."""
    s = model.settings_
    items, values = history(data, user)
    V = model.item_factors_
    d = V.shape[1]
    ones = np.ones((items.size, 1))
    Vt = np.hstack([V[items], ones]) if model.biased else V[items]
    y = values - model.offset_ - (model.item_bias_[items] if model.biased else 0.0)
    w = items.size ** s["reg_exponent"]
    penalty = [s["reg"]] * d + ([s["reg_bias"]] if model.biased else [])
    W = np.linalg.inv(Vt.T @ Vt + w * np.diag(penalty))
    terms = [float(V[item] @ W[:d] @ Vt[k]) * y[k] for k in range(items.size)]
    x = W @ Vt.T @ y
    user_bias = x[d] if model.biased else 0.0
    base = model.offset_ + (user_bias + model.item_bias_[item] if model.biased else 0.0)
    return items, terms, base, base + V[item] @ x[:d], x


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="als"),
        dict(solver="als", biased=False),
        dict(solver="als", biased=False, center=True, reg_exponent=1.0),
        dict(solver="sgd"),
        dict(solver="gd"),
    ],
)
def test_mf_explanation_is_the_decomposition_of_the_refitted_user(data, params):
    model = rt.models.MatrixFactorization(n_factors=3, n_epochs=4, random_state=0, **params)
    model.fit(data)
    for user, item in [(0, 2), (7, 39), (12, 0)]:
        items, terms, base, score, x = mf_brute_force(model, data, user, item)
        e = model.explain(user, item)
        assert (e.user, e.item) == (user, item)
        check_parts(e, items, terms, base, score)
        # the refit is fold_in of the user's own ratings
        factors, bias = model.fold_in(*history(data, user))
        np.testing.assert_allclose(np.r_[factors, bias][: x.size], x, rtol=1e-9, atol=1e-12)
        assert e.score == pytest.approx(model.score_new_user(factors, bias)[item], rel=1e-12)
        fitted = model.offset_ + model.user_factors_[user] @ model.item_factors_[item]
        if model.biased:
            fitted += model.user_bias_[user] + model.item_bias_[item]
        assert e.model_score == pytest.approx(fitted, rel=1e-12)
        assert set(e.base_terms) == (
            {"offset", "user_bias", "item_bias"} if model.biased else {"offset"}
        )


def test_mf_parts_add_up_to_the_model_s_score_when_users_are_half_step_solutions(data):
    model = rt.models.MatrixFactorization(n_factors=3, n_epochs=4, random_state=0).fit(data)
    e = model.explain(0, 2)
    assert abs(e.model_score - e.score) > 1e-6  # ALS's users lag one item step behind
    for user in range(data.n_users):
        if model.user_counts_[user]:
            model.user_factors_[user], model.user_bias_[user] = model.fold_in(*history(data, user))
    for user, item in [(0, 2), (7, 39), (12, 0)]:
        e = model.explain(user, item)
        assert e.model_score == pytest.approx(e.score, rel=1e-12)


def ials_brute_force(model, data, user, item):
    """Hu et al.'s s^u_tj c_uj with the dense n x n confidence matrix C^u."""
    p = model.get_params()
    items, values = history(data, user)
    r = values if p["use_values"] else np.ones(items.size)
    c_all = np.ones(data.n_items)
    c_all[items] = 1 + p["alpha"] * (r if p["scaling"] == "linear" else np.log(1 + r / p["eps"]))
    V = model.item_factors_.astype(np.float64)
    C = np.diag(c_all)
    s = items.size if p["reg_weighting"] == "observed" else c_all.sum()
    lam = p["reg"] * s ** p["reg_exponent"]
    W = np.linalg.inv(V.T @ C @ V + lam * np.eye(V.shape[1]))
    terms = [float(V[item] @ W @ V[j]) * c_all[j] for j in items]
    preference = np.zeros(data.n_items)
    preference[items] = 1.0
    x = W @ V.T @ C @ preference
    return items, terms, V[item] @ x, x


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(solver="cholesky", alpha=2.0, reg_exponent=0.0),
        dict(use_values=True, reg_weighting="all"),
        dict(use_values=True, scaling="log", eps=2.0, dtype="float32"),
    ],
)
def test_ials_explanation_is_hu_koren_volinsky_s(data, params):
    model = rt.models.ImplicitMF(n_factors=3, n_epochs=4, random_state=0, **params).fit(data)
    for user, item in [(0, 2), (7, 39), (12, 0)]:
        items, terms, score, x = ials_brute_force(model, data, user, item)
        e = model.explain(user, item)
        check_parts(e, items, terms, 0.0, score)
        assert e.base_terms == {}
        factors, bias = model.fold_in(*history(data, user))
        assert bias == 0.0
        np.testing.assert_allclose(factors, x, rtol=1e-9, atol=1e-12)


def test_ials_parts_add_up_to_the_model_s_score_when_users_are_half_step_solutions(data):
    model = rt.models.ImplicitMF(n_factors=3, n_epochs=4, random_state=0).fit(data)
    for user in range(data.n_users):
        if model.user_counts_[user]:
            model.user_factors_[user] = model.fold_in(*history(data, user))[0]
    for user, item in [(0, 2), (7, 39), (12, 0)]:
        e = model.explain(user, item)
        assert e.model_score == pytest.approx(e.score, rel=1e-12)


def test_ties_in_the_history_go_to_the_lower_item():
    e = Explanation.from_parts(0, 1, [9, 4, 7, 2], [0.5, -1.0, -0.5, 0.25], {"a": 1.0}, 0.0)
    assert e.items.tolist() == [4, 7, 9, 2]
    assert e.contributions.tolist() == [-1.0, -0.5, 0.5, 0.25]
    assert e.score == 1.0 + 0.5 - 1.0 - 0.5 + 0.25


@pytest.mark.parametrize("cls", [rt.models.MatrixFactorization, rt.models.ImplicitMF])
def test_explain_refuses_what_it_cannot_explain(data, cls):
    model = cls(n_factors=2, n_epochs=2, random_state=0).fit(data)
    with pytest.raises(ValueError, match="user 3 has no training ratings"):
        model.explain(3, 0)
    with pytest.raises(ValueError, match="item 5 has no training ratings"):
        model.explain(0, 5)
    with pytest.raises(ValueError, match=r"user must be in \[0, 30\)"):
        model.explain(30, 0)
    with pytest.raises(ValueError, match=r"item must be in \[0, 40\)"):
        model.explain(0, -1)
    with pytest.raises(TypeError, match="item must be an int index"):
        model.explain(0, [1, 2])
    with pytest.raises(rt.models.NotFittedError):
        cls().explain(0, 0)


@pytest.mark.parametrize("cls", [rt.models.MatrixFactorization, rt.models.ImplicitMF])
def test_explain_survives_save_and_load(data, cls, tmp_path):
    model = cls(n_factors=2, n_epochs=2, random_state=0).fit(data)
    model.save(tmp_path / "m.npz")
    again = cls.load(tmp_path / "m.npz")
    a, b = model.explain(7, 2), again.explain(7, 2)
    assert np.array_equal(a.items, b.items) and np.array_equal(a.contributions, b.contributions)
