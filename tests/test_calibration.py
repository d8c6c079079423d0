import numpy as np
import pytest
from scipy import integrate, stats

from recsys_tutorial.calibration import (
    crps_gaussian,
    log_predictive_density,
    pit,
    reliability_by_std,
)


def test_crps_matches_its_defining_integral():
    y, mean, std = np.array([3.0, 1.0, 4.5]), np.array([3.4, 2.9, 4.0]), np.array([0.9, 0.5, 1.3])
    brute = []
    for yk, mk, sk in zip(y, mean, std):

        def below(t, mk=mk, sk=sk):
            return stats.norm.cdf(t, mk, sk) ** 2

        def above(t, mk=mk, sk=sk):
            return (1 - stats.norm.cdf(t, mk, sk)) ** 2

        brute.append(integrate.quad(below, -np.inf, yk)[0] + integrate.quad(above, yk, np.inf)[0])
    assert crps_gaussian(y, mean, std) == pytest.approx(np.mean(brute), rel=1e-7)


def test_crps_tends_to_the_absolute_error_for_a_point_forecast():
    assert crps_gaussian([2.0], [3.5], [1e-9]) == pytest.approx(1.5, abs=1e-8)


def test_log_density_by_hand():
    y, m, s = 4.0, 3.0, 2.0
    expected = -np.log(s) - 0.5 * np.log(2 * np.pi) - 0.5 * ((y - m) / s) ** 2
    assert log_predictive_density([y, y], [m, m], [s, s]) == pytest.approx(expected)


def test_pit_is_uniform_and_reliability_exact_for_a_true_model():
    rng = np.random.default_rng(0)
    std = rng.uniform(0.3, 2.0, size=200_000)
    mean = rng.normal(size=std.size)
    y = rng.normal(mean, std)
    u = pit(y, mean, std)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    rel = reliability_by_std(y, mean, std, n_bins=4, levels=(0.5, 0.9))
    assert np.allclose(rel["coverage"], [0.5, 0.9], atol=0.01)
    assert np.allclose(rel["observed"] / rel["predicted"], 1, atol=0.01)
    assert np.all(np.diff(rel["predicted"]) > 0) and rel["edges"].size == 5
    # a model that claims one shared spread is miscalibrated within bins of the true spread
    # even though it covers right overall
    shared = np.full(std.size, np.sqrt(np.mean(std**2)))
    flat = reliability_by_std(y, mean, shared, n_bins=1)
    assert flat["observed"][0] == pytest.approx(flat["predicted"][0], rel=0.01)


def test_reliability_bins_by_hand():
    y = np.array([0.0, 0.0, 0.0, 0.0])
    mean = np.array([0.1, 3.0, 0.2, 0.0])
    std = np.array([1.0, 0.5, 2.0, 0.1])  # sorted: 0.1 (k=3), 0.5 (k=1) | 1.0 (k=0), 2.0 (k=2)
    rel = reliability_by_std(y, mean, std, n_bins=2, levels=(0.5,))
    assert np.allclose(rel["predicted"], [np.sqrt((0.01 + 0.25) / 2), np.sqrt(2.5)])
    assert np.allclose(rel["observed"], [np.sqrt(4.5), np.sqrt(0.025)])
    assert np.allclose(rel["coverage"][:, 0], [0.5, 1.0])
    assert np.allclose(rel["edges"], [0.1, 1.0, 2.0])


@pytest.mark.parametrize(
    "args, match",
    [
        (([1.0], [1.0], [0.0]), "std must be > 0"),
        (([1.0, 2.0], [1.0], [1.0]), "equal lengths"),
        (([np.nan], [1.0], [1.0]), "y must be finite"),
        (([[1.0]], [1.0], [1.0]), "y must be 1-D"),
        (([], [], []), "empty"),
    ],
)
def test_bad_input_is_named(args, match):
    with pytest.raises(ValueError, match=match):
        crps_gaussian(*args)


def test_reliability_checks_its_options():
    with pytest.raises(ValueError, match="n_bins"):
        reliability_by_std([1.0], [1.0], [1.0], n_bins=2)
    with pytest.raises(TypeError, match="n_bins"):
        reliability_by_std([1.0], [1.0], [1.0], n_bins=1.0)
    with pytest.raises(ValueError, match="levels"):
        reliability_by_std([1.0], [1.0], [1.0], n_bins=1, levels=(1.0,))
