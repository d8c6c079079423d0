"""Paired comparisons: the corrected t-test against scipy and hand arithmetic; the user bootstrap
against a loop over resamples and against the spread of independent test sets."""

import numpy as np
import pytest
from scipy import stats

from recsys_tutorial.significance import corrected_resampled_ttest, paired_bootstrap_rmse

A = np.array([0.91, 0.93, 0.92, 0.90, 0.94])
B = np.array([0.90, 0.90, 0.90, 0.90, 0.90])  # differences 0.01, 0.03, 0.02, 0.00, 0.04


def test_zero_ratio_is_scipys_paired_t_test():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.9, 0.01, 7), rng.normal(0.9, 0.01, 7)
    ours = corrected_resampled_ttest(a, b, 0.0, confidence=0.9)
    ref = stats.ttest_rel(a, b)
    ci = ref.confidence_interval(0.9)
    assert ours.t == pytest.approx(ref.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert ours.df == ref.df == 6
    assert (ours.ci_low, ours.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_five_fold_numbers_by_hand():
    # mean 0.02; sample variance (1 + 1 + 0 + 4 + 4) 1e-4 / 4 = 2.5e-4; ratio 1/4 for 5 folds:
    # se = sqrt((1/5 + 1/4) 2.5e-4) = sqrt(1.125e-4)
    res = corrected_resampled_ttest(A, B, 1 / 4)
    se = np.sqrt(1.125e-4)
    assert res.mean_difference == pytest.approx(0.02, rel=1e-12)
    assert res.std_error == pytest.approx(se, rel=1e-12)
    assert res.t == pytest.approx(0.02 / se, rel=1e-12)
    assert res.p_value == pytest.approx(2 * stats.t.sf(0.02 / se, 4), rel=1e-12)
    half = 2.7764451051977987 * se  # t_{4, 0.975}, from a table
    assert (res.ci_low, res.ci_high) == pytest.approx((0.02 - half, 0.02 + half), rel=1e-9)


def test_the_correction_divides_the_plain_t_by_sqrt_of_one_plus_j_times_ratio():
    plain = corrected_resampled_ttest(A, B, 0.0)
    for ratio in (0.25, 0.2 / 0.8, 1.0):
        corrected = corrected_resampled_ttest(A, B, ratio)
        assert corrected.t == pytest.approx(plain.t / np.sqrt(1 + 5 * ratio), rel=1e-12)
        assert corrected.p_value > plain.p_value


def test_swapping_the_models_flips_the_sign_only():
    ab, ba = corrected_resampled_ttest(A, B, 0.25), corrected_resampled_ttest(B, A, 0.25)
    assert ba.t == pytest.approx(-ab.t) and ba.p_value == pytest.approx(ab.p_value)
    assert (ba.ci_low, ba.ci_high) == pytest.approx((-ab.ci_high, -ab.ci_low))


@pytest.mark.parametrize(
    "args, error, words",
    [
        ((A, B[:4], 0.25), ValueError, "paired"),
        ((A[:1], B[:1], 0.25), ValueError, "at least 2"),
        ((A, A - 0.01, 0.25), ValueError, "all equal"),
        ((A, A, 0.25), ValueError, "all equal"),
        ((A, B, -0.1), ValueError, "test_train_ratio"),
        ((A, np.r_[B[:4], np.nan], 0.25), ValueError, "scores_b contains NaN"),
        ((A.reshape(5, 1), B, 0.25), ValueError, "1-D"),
        ((["a"] * 5, B, 0.25), TypeError, "scores_a"),
        ((A, B, "x"), TypeError, "test_train_ratio"),
    ],
)
def test_ttest_bad_input(args, error, words):
    with pytest.raises(error, match=words):
        corrected_resampled_ttest(*args)


def test_ttest_bad_confidence():
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="confidence"):
            corrected_resampled_ttest(A, B, 0.25, confidence=bad)


# ------------------------------------------------------------------ bootstrap
def synthetic_test_set(n_users, per_user, rng, user_effect=0.5):
    """Ratings whose errors share a per-user component (so users, not ratings, are the unit)."""
    users = np.repeat(np.arange(n_users) * 3 + 7, per_user)  # ids need not be 0..U-1
    y = rng.integers(1, 6, users.size).astype(float)
    shared = np.repeat(rng.normal(0, user_effect, n_users), per_user)
    pred_a = y + shared + rng.normal(0, 0.8, users.size)
    pred_b = y + 0.7 * shared + rng.normal(0, 0.8, users.size)
    return y, pred_a, pred_b, users


def rmse(y, p):
    return np.sqrt(np.mean((y - p) ** 2))


def test_bootstrap_equals_a_loop_over_resampled_users():
    rng = np.random.default_rng(1)
    y, a, b, users = synthetic_test_set(12, 3, rng)
    res = paired_bootstrap_rmse(y, a, b, users, n_resamples=50, random_state=5)
    assert res.difference == pytest.approx(rmse(y, a) - rmse(y, b), rel=1e-12)
    ids = np.unique(users)
    drawn = np.random.default_rng(5).integers(0, ids.size, size=(50, ids.size))
    for k in range(50):
        rows = np.concatenate([np.flatnonzero(users == ids[u]) for u in drawn[k]])
        expected = rmse(y[rows], a[rows]) - rmse(y[rows], b[rows])
        assert res.differences[k] == pytest.approx(expected, rel=1e-10, abs=1e-14)
    assert res.std_error == pytest.approx(np.std(res.differences, ddof=1))
    low, high = np.quantile(res.differences, [0.025, 0.975])
    assert (res.ci_low, res.ci_high) == pytest.approx((low, high))


def test_bootstrap_standard_error_matches_the_spread_over_fresh_test_sets():
    # the spread of the observed difference over 300 independent test sets is the truth the
    # bootstrap estimates from one set; with errors shared within a user, resampling single
    # ratings instead of users underestimates it (by about 25 % here), which the test shows too
    rng = np.random.default_rng(2)
    observed = [
        paired_bootstrap_rmse(
            *synthetic_test_set(100, 20, rng, 1.0), n_resamples=2, random_state=0
        ).difference
        for _ in range(300)
    ]
    truth = np.std(observed, ddof=1)
    by_user, by_rating = [], []
    for seed in range(5):
        y, a, b, users = synthetic_test_set(100, 20, rng, 1.0)
        by_user.append(paired_bootstrap_rmse(y, a, b, users, 500, random_state=seed).std_error)
        by_rating.append(
            paired_bootstrap_rmse(y, a, b, np.arange(y.size), 500, random_state=seed).std_error
        )
    assert np.mean(by_user) == pytest.approx(truth, rel=0.12)
    assert np.mean(by_rating) < 0.85 * truth


def test_bootstrap_identical_models_and_a_clear_winner():
    rng = np.random.default_rng(3)
    y, a, _, users = synthetic_test_set(100, 4, rng)
    same = paired_bootstrap_rmse(y, a, a, users, n_resamples=200, random_state=0)
    assert same.difference == 0 and np.all(same.differences == 0) and same.p_value == 1.0
    far = paired_bootstrap_rmse(y, y + 1.0, y + 0.1, users, n_resamples=200, random_state=0)
    assert far.ci_low > 0.5 and far.p_value == pytest.approx(1 / 200)


def test_bootstrap_same_seed_same_result():
    y, a, b, users = synthetic_test_set(30, 3, np.random.default_rng(4))
    one = paired_bootstrap_rmse(y, a, b, users, n_resamples=100, random_state=9)
    two = paired_bootstrap_rmse(
        y, a, b, users, n_resamples=100, random_state=np.random.default_rng(9)
    )
    np.testing.assert_array_equal(one.differences, two.differences)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"pred_a": np.zeros(3)}, ValueError, "pred_a must have the shape"),
        ({"users": np.zeros(4)}, TypeError, "users must hold integer"),
        ({"y_true": np.array([1.0, np.nan, 2.0, 3.0])}, ValueError, "y_true contains NaN"),
        ({"n_resamples": 1}, ValueError, "n_resamples"),
        ({"confidence": 1.0}, ValueError, "confidence"),
        ({"random_state": "x"}, TypeError, "random_state"),
    ],
)
def test_bootstrap_bad_input(kwargs, error, words):
    args = {
        "y_true": np.arange(4.0),
        "pred_a": np.arange(4.0),
        "pred_b": np.ones(4),
        "users": np.array([0, 0, 1, 2]),
    }
    args.update(kwargs)
    with pytest.raises(error, match=words):
        paired_bootstrap_rmse(**args)
