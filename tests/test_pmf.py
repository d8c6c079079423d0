"""PMF: its MAP estimate is regularized MF with lambda = sigma^2 / sigma_prior^2."""

import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial.gradcheck import numerical_gradient
from recsys_tutorial.models import PMF, MatrixFactorization
from recsys_tutorial.objectives import pmf_log_posterior


@pytest.fixture(scope="module")
def synthetic():
    return rt.datasets.make_synthetic(
        40, 50, n_factors=2, density=0.3, sigma=0.5, random_state=1
    ).ratings


def centred(ratings, offset):
    return rt.Ratings(
        ratings.users,
        ratings.items,
        ratings.values - offset,
        n_users=ratings.n_users,
        n_items=ratings.n_items,
    )


@pytest.mark.parametrize("center", [False, True])
def test_map_and_mapped_mf_reach_the_same_solution(synthetic, center):
    sigma, sigma_u, sigma_v = 0.7, 0.9, 1.6
    pmf = PMF(
        n_factors=3,
        sigma=sigma,
        sigma_u=sigma_u,
        sigma_v=sigma_v,
        center=center,
        n_epochs=20,
        random_state=4,
    ).fit(synthetic)
    mf = MatrixFactorization(
        n_factors=3,
        solver="als",
        reg=sigma**2 / sigma_u**2,
        reg_item=sigma**2 / sigma_v**2,
        reg_exponent=0.0,
        biased=False,
        center=center,
        n_epochs=20,
        random_state=4,
    ).fit(synthetic)
    assert np.max(np.abs(pmf.user_factors_ - mf.user_factors_)) < 1e-8
    assert np.max(np.abs(pmf.item_factors_ - mf.item_factors_)) < 1e-8


@pytest.mark.parametrize("sigmas", [(0.5, 1.0, 1.0), (0.8, 0.6, 1.5)])
def test_map_estimate_is_a_stationary_point_of_the_log_posterior(synthetic, sigmas):
    # Independent of the lambda mapping: finite differences of the log-posterior
    # itself must vanish at the estimate (a wrong mapping, e.g. lambda =
    # sigma_u^2 / sigma^2, would leave a large gradient).
    sigma, sigma_u, sigma_v = sigmas
    pmf = PMF(
        n_factors=2,
        sigma=sigma,
        sigma_u=sigma_u,
        sigma_v=sigma_v,
        center=False,
        n_epochs=400,
        tol=1e-15,
        random_state=0,
    ).fit(synthetic)
    U, V = pmf.user_factors_, pmf.item_factors_

    def logpost(flat):
        return pmf_log_posterior(
            flat[: U.size].reshape(U.shape),
            flat[U.size :].reshape(V.shape),
            synthetic,
            sigma,
            sigma_u,
            sigma_v,
        )

    x = np.concatenate([U.ravel(), V.ravel()])
    grad = numerical_gradient(logpost, x, eps=1e-5)
    # away from the optimum the same check sees a large gradient, so it can fail
    assert np.abs(numerical_gradient(logpost, 1.2 * x, eps=1e-5)).max() > 1.0
    assert np.abs(grad).max() < 1e-4, f"largest |d log p / d theta| = {np.abs(grad).max():.2e}"


def test_history_is_the_log_posterior_and_increases(synthetic):
    pmf = PMF(n_factors=2, sigma=0.6, sigma_u=1.2, sigma_v=0.8, n_epochs=15, random_state=0).fit(
        synthetic
    )
    direct = pmf_log_posterior(
        pmf.user_factors_, pmf.item_factors_, centred(synthetic, pmf.offset_), 0.6, 1.2, 0.8
    )
    assert pmf.history_[-1] == pytest.approx(direct, rel=1e-10)
    assert pmf.log_posterior(synthetic) == pytest.approx(direct, rel=1e-12)
    assert np.all(np.diff(pmf.history_) >= -1e-9 * np.abs(pmf.history_[:-1]))


def test_the_mapping_and_its_validation():
    mf = PMF(n_factors=3, sigma=2.0, sigma_u=4.0, sigma_v=0.5).to_matrix_factorization()
    assert mf.reg == pytest.approx(0.25) and mf.reg_item == pytest.approx(16.0)
    assert mf.reg_exponent == 0.0 and mf.biased is False
    for kw, message in [
        (dict(sigma=0.0), r"sigma must be a finite real number in \(0, inf\)"),
        (dict(sigma_u=-1.0), "sigma_u must be a finite real number"),
        (dict(sigma_v=float("inf")), "sigma_v must be a finite real number"),
        (dict(sigma_u=1e-200), r"sigma_u=1e-200 give a penalty \(sigma/sigma_u\)\^2 = inf"),
        (dict(sigma=1e200), "not a positive finite number"),
        (dict(sigma=1e-200), r"\(sigma/sigma_u\)\^2 = 0"),
    ]:
        with pytest.raises(ValueError, match=message):
            PMF(**kw).to_matrix_factorization()


def test_save_load_and_fallback(tmp_path, synthetic):
    pmf = PMF(n_factors=2, random_state=0).fit(synthetic)
    pmf.save(tmp_path / "pmf.npz")
    loaded = PMF.load(tmp_path / "pmf.npz")
    users, items = np.arange(20), np.arange(20)
    assert np.array_equal(loaded.predict(users, items), pmf.predict(users, items))
    # an index beyond the training space is unknown: the training mean
    assert loaded.predict([10_000], [0])[0] == pytest.approx(synthetic.values.mean())
