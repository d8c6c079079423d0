"""n_threads: the ALS and iALS half-steps solved by several threads give bit-for-bit the
fit of one thread (the rows are independent given the other side), bad values are refused,
and a worker's exception reaches the caller."""

import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial.linalg import for_each


@pytest.fixture(scope="module")
def data():
    return rt.datasets.make_synthetic(400, 250, n_factors=4, density=0.2, random_state=1).ratings


def als(n_threads, d=24):
    return rt.models.MatrixFactorization(
        n_factors=d, reg=0.5, n_epochs=3, random_state=0, n_threads=n_threads
    )


@pytest.mark.parametrize(
    "make",
    [
        als,
        lambda t: rt.models.ImplicitMF(32, n_epochs=2, random_state=0, n_threads=t),
        lambda t: rt.models.ImplicitMF(
            24, solver="cholesky", n_epochs=2, random_state=0, n_threads=t
        ),
    ],
)
def test_threads_give_the_one_thread_fit_bit_for_bit(data, make):
    fits = [make(t).fit(data) for t in (None, 1, 2, 3)]
    for fit in fits[1:]:
        np.testing.assert_array_equal(fit.user_factors_, fits[0].user_factors_)
        np.testing.assert_array_equal(fit.item_factors_, fits[0].item_factors_)
        np.testing.assert_array_equal(fit.history_, fits[0].history_)


def test_threads_solve_every_bucket(data):
    # a reference independent of the bucketing: each user's ridge regression on its own
    model = als(2).fit(data)
    V, lam = model.item_factors_, model.settings_["reg"]
    counts = np.bincount(data.users, minlength=data.n_users)
    w = counts ** model.settings_["reg_exponent"]
    # the last sweep's user step came before its item step: refit users from the final V
    X, _ = rt.linalg.RowGroups(data.users, data.items, data.n_users, data.n_items).solve_ridge(
        V,
        data.values - model.offset_ - model.user_bias_[data.users] - model.item_bias_[data.items],
        lam * w[:, None] * np.ones(V.shape[1]),
        n_threads=2,
    )
    for i in range(0, data.n_users, 37):
        mask = data.users == i
        F = V[data.items[mask]]
        y = (
            data.values[mask]
            - model.offset_
            - model.user_bias_[i]
            - model.item_bias_[data.items[mask]]
        )
        expected = np.linalg.solve(F.T @ F + lam * w[i] * np.eye(V.shape[1]), F.T @ y)
        np.testing.assert_allclose(X[i], expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("value,error", [(0, ValueError), (-2, ValueError), (1.5, TypeError)])
@pytest.mark.parametrize("cls", [rt.models.MatrixFactorization, rt.models.ImplicitMF])
def test_bad_n_threads_is_refused_naming_it(data, value, error, cls):
    with pytest.raises(error, match=f"{cls.__name__}: n_threads must be"):
        cls(n_threads=value).fit(data)


def test_n_threads_is_refused_for_the_gradient_solvers(data):
    with pytest.raises(ValueError, match="n_threads is used by solver='als' only"):
        rt.models.MatrixFactorization(solver="sgd", n_threads=2).fit(data)


def test_for_each_runs_every_item_and_reraises():
    out = np.zeros(50)

    def work(i, value):
        out[i] = value

    for_each(work, ((i, i * i) for i in range(50)), n_threads=3)
    np.testing.assert_array_equal(out, np.arange(50) ** 2)

    def fail(i):
        if i == 7:
            raise np.linalg.LinAlgError("system 7")

    with pytest.raises(np.linalg.LinAlgError, match="system 7"):
        for_each(fail, ((i,) for i in range(20)), n_threads=2)
