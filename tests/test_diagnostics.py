"""MCMC diagnostics on chains whose answer is known: iid draws, shifted chains, AR(1) chains."""

import numpy as np
import pytest
from scipy import stats

from recsys_tutorial import diagnostics as dg


def ar1_chains(rho, n_chains, n_draws, n_reps, seed):
    """Stationary AR(1) chains x_t = rho x_{t-1} + sqrt(1 - rho^2) e_t, x_0 ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n_chains, n_draws, n_reps))
    x = np.empty_like(noise)
    x[:, 0] = noise[:, 0]
    scale = np.sqrt(1.0 - rho**2)
    for t in range(1, n_draws):
        x[:, t] = rho * x[:, t - 1] + scale * noise[:, t]
    return x


def reference_split_rhat(draws):
    """Split R-hat written out with loops, straight from the formula (no shared code)."""
    chains = []
    for chain in draws:
        half = len(chain) // 2
        chains += [chain[:half], chain[len(chain) - half :]]
    m, n = len(chains), len(chains[0])
    means = [sum(c) / n for c in chains]
    grand = sum(means) / m
    between = n / (m - 1) * sum((mu - grand) ** 2 for mu in means)
    within = sum(sum((v - mu) ** 2 for v in c) / (n - 1) for c, mu in zip(chains, means)) / m
    return np.sqrt(((n - 1) / n * within + between / n) / within)


def test_split_rhat_matches_the_formula_written_out():
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(3, 11)) + np.array(
        [[0.0], [0.3], [-0.2]]
    )  # odd length: middle dropped
    assert dg.split_rhat(draws) == pytest.approx(reference_split_rhat(draws), rel=1e-12)


def test_split_rhat_known_answer_by_hand():
    # chains (0, 2, 4, 6): halves (0, 2) and (4, 6); means 1, 5; s^2 = 2 each; W = 2,
    # B = N/(M-1) sum (mean - 3)^2 = 2 * 8 = 16; var+ = (1/2) 2 + 16/2 = 9; R-hat = sqrt(9/2)
    assert dg.split_rhat([[0.0, 2.0, 4.0, 6.0]]) == pytest.approx(np.sqrt(4.5), rel=1e-12)


def test_rank_normalize_is_the_normal_score_of_pooled_ranks():
    draws = np.array([[3.0, 1.0, 2.0, 2.0], [10.0, -1.0, 0.0, 5.0]])
    z = dg.rank_normalize(draws)
    ranks = np.array([[6, 3, 4.5, 4.5], [8, 1, 2, 7]])  # pooled over both chains, ties averaged
    np.testing.assert_allclose(z, stats.norm.ppf((ranks - 0.375) / 8.25), rtol=1e-12)


def test_iid_chains_have_rhat_near_one_and_ess_near_the_number_of_draws():
    rng = np.random.default_rng(1)
    draws = rng.standard_normal((4, 1000, 50))  # 50 independent quantities at once
    assert np.all(dg.rhat(draws) < 1.01)
    assert np.all(np.abs(dg.split_rhat(draws) - 1.0) < 0.01)
    # mean over the 50 quantities within 5 % of the 4000 draws; each within 20 %
    for size in (dg.ess(draws), dg.ess_bulk(draws), dg.ess_tail(draws)):
        assert size.shape == (50,)
        assert abs(size.mean() / 4000 - 1.0) < 0.05
        assert np.all(np.abs(size / 4000 - 1.0) < 0.2)


def test_chains_with_different_means_have_large_rhat():
    rng = np.random.default_rng(2)
    draws = rng.standard_normal((4, 500))
    draws[3] += 3.0  # one chain stuck elsewhere
    assert dg.rhat(draws) > 1.3
    assert dg.split_rhat(draws) > 1.3
    assert dg.ess_bulk(draws) < 400  # far fewer than the 2000 draws


def test_folding_detects_chains_that_differ_only_in_scale():
    rng = np.random.default_rng(3)
    draws = rng.standard_normal((4, 1000))
    draws[3] *= 3.0  # same centre, three times the spread
    assert abs(dg.split_rhat(draws) - 1.0) < 0.01  # the plain statistic misses it
    assert dg.rhat(draws) > 1.05  # the folded, rank-normalized one does not


def test_a_drifting_chain_is_caught_by_splitting():
    # every chain drifts the same way: the chains agree with each other, their halves do not
    rng = np.random.default_rng(4)
    draws = rng.standard_normal((4, 1000)) + np.linspace(0.0, 3.0, 1000)
    assert dg.rhat(draws) > 1.2


@pytest.mark.parametrize("rho", [0.5, 0.9, -0.3])
def test_ar1_ess_matches_the_analytic_value(rho):
    # for a stationary AR(1) chain, tau = (1 + rho) / (1 - rho), so ESS = MN (1 - rho) / (1 + rho)
    draws = ar1_chains(rho, 4, 1000, 200, seed=5)
    expected = 4000 * (1 - rho) / (1 + rho)
    for size in (dg.ess(draws), dg.ess_bulk(draws)):
        # 200 replicates: the mean of the estimates within 5 % (a wrong tau, e.g. without the
        # factor 2 or without the pairing, is off by 30 % or more)
        assert abs(size.mean() / expected - 1.0) < 0.05
    assert np.all(dg.rhat(draws) < 1.05)
    # the tail indicators of an autocorrelated chain are autocorrelated too
    assert dg.ess_tail(draws).mean() < 4000 * (0.9 if rho > 0 else 1.5)


def test_trailing_axes_are_diagnosed_independently():
    rng = np.random.default_rng(6)
    draws = rng.standard_normal((4, 200, 2, 3))
    draws[3, :, 1, 2] += 5.0
    r = dg.rhat(draws)
    assert r.shape == (2, 3)
    for a in range(2):
        for b in range(3):
            assert r[a, b] == pytest.approx(dg.rhat(draws[:, :, a, b]), rel=1e-12)
            assert dg.ess_bulk(draws)[a, b] == pytest.approx(
                dg.ess_bulk(draws[:, :, a, b]), rel=1e-12
            )
    assert r[1, 2] > 1.5 and np.all(np.delete(r.ravel(), 5) < 1.05)


def test_results_do_not_depend_on_the_order_of_chains():
    rng = np.random.default_rng(7)
    draws = rng.standard_normal((3, 300)).cumsum(axis=1)
    for f in (dg.rhat, dg.ess, dg.ess_bulk, dg.ess_tail):
        assert f(draws) == pytest.approx(f(draws[::-1]), rel=1e-10)


def test_constant_draws_are_nan_and_documented_as_such():
    assert np.isnan(dg.rhat(np.ones((4, 10))))
    assert np.isnan(dg.ess(np.ones((4, 10))))
    # distinct constant chains: they disagree infinitely
    assert dg.split_rhat(np.repeat([[1.0], [2.0]], 10, axis=1)) == np.inf


@pytest.mark.parametrize(
    "draws, error, words",
    [
        (np.zeros(10), ValueError, "n_chains, n_draws"),
        (np.zeros((2, 3)), ValueError, "at least 4 draws"),
        (np.zeros((0, 10)), ValueError, "no chain"),
        (np.array([[0.0, 1.0, np.nan, 2.0]]), ValueError, "NaN or infinite"),
        (np.array([[0.0, 1.0, np.inf, 2.0]]), ValueError, "NaN or infinite"),
        (np.array([["a", "b", "c", "d"]]), TypeError, "real numeric"),
        (np.ones((2, 5), dtype=complex), TypeError, "real numeric"),
    ],
)
def test_bad_draws_raise_naming_the_problem(draws, error, words):
    for f in (dg.rhat, dg.split_rhat, dg.ess, dg.ess_bulk, dg.ess_tail, dg.rank_normalize):
        with pytest.raises(error, match=words):
            f(draws)
