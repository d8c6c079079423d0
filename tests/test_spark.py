"""The Spark MLlib ALS adapter: Spark's factors, pulled back into a MatrixFactorization.

Needs pyspark and a Java runtime; without them these tests are skipped, except
under CI (``CI=true``), where a missing dependency is a failure.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial.objectives import mf_loss

IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (java on PATH or JAVA_HOME)"
    return None


MISSING = _missing()
if MISSING and IN_CI:
    raise RuntimeError(f"the Spark tests must run under CI, but {MISSING}")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

RANK, REG = 3, 0.05


@pytest.fixture(scope="module")
def spark():
    session = rt.external.spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def ratings():
    """Synthetic ratings from a rank-3 model, plus one user and one item without ratings."""
    data = rt.datasets.make_synthetic(
        60, 40, n_factors=RANK, density=0.3, sigma=0.3, random_state=0
    )
    r = data.ratings
    return rt.Ratings(r.users, r.items, r.values, n_users=61, n_items=41)


@pytest.fixture(scope="module")
def fitted(spark, ratings):
    return rt.external.spark_als(
        ratings, rank=RANK, reg_param=REG, max_iter=30, spark=spark, seed=1
    )


def test_the_model_holds_spark_factors_for_the_known_rows(fitted, ratings):
    assert isinstance(fitted, rt.models.MatrixFactorization)
    assert fitted.user_factors_.shape == (61, RANK) and fitted.item_factors_.shape == (41, RANK)
    assert fitted.user_factors_.dtype == np.float64
    # the user and item without ratings have no Spark factor: zero rows, the fallback
    assert not fitted.user_factors_[60].any() and not fitted.item_factors_[40].any()
    assert np.all(np.linalg.norm(fitted.user_factors_[:60], axis=1) > 0)
    # the equivalent hyperparameters are this package's ALS-WR convention
    s = fitted.settings_
    assert (s["reg"], s["reg_item"], s["reg_exponent"], s["n_factors"]) == (REG, REG, 1.0, RANK)
    assert fitted.biased is False and fitted.center is False and fitted.offset_ == 0.0
    assert set(fitted.spark_seconds_) == {"session", "load", "fit", "collect"}


def test_predictions_are_the_dot_products_of_the_factors(fitted, ratings):
    U, V = fitted.user_factors_, fitted.item_factors_
    users = np.array([0, 5, 59, 60, 3])
    items = np.array([1, 39, 7, 2, 40])
    expected = np.array([U[u] @ V[i] for u, i in zip(users, items)])
    lo, hi = ratings.values.min(), ratings.values.max()
    expected = np.clip(expected, lo, hi)
    # the unknown user (60) and the unknown item (40) get the global mean
    expected[[3, 4]] = ratings.values.mean()
    np.testing.assert_allclose(fitted.predict(users, items), expected, rtol=0, atol=1e-12)


def test_spark_reg_param_is_the_count_scaled_penalty(fitted, ratings):
    # Spark's last half-step solves for the users given the items, so each user's factor must
    # satisfy the normal equations (V_i^T V_i + reg * |Omega_i| I) u = V_i^T r_i of the
    # count-scaled penalty (and not those of the plain one), to float32 precision.
    U, V = fitted.user_factors_, fitted.item_factors_
    worst_scaled = worst_plain = 0.0
    for i in range(60):
        mask = ratings.users == i
        Vi, ri = V[ratings.items[mask]], ratings.values[mask]
        rhs = Vi.T @ ri
        scaled = (Vi.T @ Vi + REG * mask.sum() * np.eye(RANK)) @ U[i] - rhs
        plain = (Vi.T @ Vi + REG * np.eye(RANK)) @ U[i] - rhs
        worst_scaled = max(worst_scaled, np.abs(scaled).max() / np.abs(rhs).max())
        worst_plain = max(worst_plain, np.abs(plain).max() / np.abs(rhs).max())
    assert worst_scaled < 1e-5  # float32 factors: relative rounding about 6e-8 per entry
    assert worst_plain > 1e-2


def test_spark_reaches_the_package_als_optimum(fitted, ratings):
    ours = rt.models.MatrixFactorization(
        n_factors=RANK,
        solver="als",
        reg=REG,
        reg_exponent=1.0,
        biased=False,
        n_epochs=300,
        init_std=0.3,
        random_state=0,
    ).fit(ratings)
    weights = np.maximum(ratings.user_counts(), 1), np.maximum(ratings.item_counts(), 1)
    j_spark = mf_loss(
        fitted.user_factors_,
        fitted.item_factors_,
        ratings,
        REG,
        REG,
        user_weights=weights[0],
        item_weights=weights[1],
    )
    # the model's objective is mf_loss with its own settings: the same number
    assert fitted.history_[-1] == pytest.approx(j_spark, rel=1e-12)
    assert ours.history_[-1] == pytest.approx(ours.objective(ratings), rel=1e-9)
    # both are (local) minima of the same J: equal to well within the 0.5% the chapter states
    assert j_spark == pytest.approx(ours.history_[-1], rel=1e-3)


def test_implicit_preferences_give_scores_and_no_explicit_objective(spark, ratings):
    clicks = rt.Ratings(ratings.users, ratings.items, np.ones(len(ratings)), n_users=60, n_items=40)
    model = rt.external.spark_als(
        clicks, rank=RANK, reg_param=REG, max_iter=5, spark=spark, implicit_prefs=True, alpha=2.0
    )
    assert np.isnan(model.history_[-1])
    items, _ = model.recommend(0, k=5)
    scores = model.item_factors_ @ model.user_factors_[0]
    assert items.shape == (5,) and np.all(np.diff(scores[items]) <= 0)
    seen = set(clicks.items[clicks.users == 0].tolist())
    assert not seen & set(items.tolist())


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"rank": 0}, ValueError, "rank"),
        ({"reg_param": 0.0}, ValueError, "reg_param must be > 0"),
        ({"max_iter": 1.5}, TypeError, "max_iter must be an int"),
        ({"seed": "a"}, TypeError, "seed must be an int"),
        ({"implicit_prefs": 1}, TypeError, "implicit_prefs must be a bool"),
        ({"alpha": -1.0}, ValueError, "alpha must be >= 0"),
    ],
)
def test_bad_arguments_are_refused_before_spark_starts(ratings, kwargs, error, match):
    with pytest.raises(error, match=match):
        rt.external.spark_als(ratings, spark=object(), **kwargs)


def test_a_fresh_session_writes_nothing_to_stderr(tmp_path):
    # JVM start-up, a fit and shutdown in a new interpreter: stdout and stderr stay empty
    script = textwrap.dedent(
        """
        import recsys_tutorial as rt
        data = rt.datasets.make_synthetic(20, 15, n_factors=2, density=0.5, random_state=0)
        model = rt.external.spark_als(data.ratings, rank=2, max_iter=3, master="local[1]")
        rt.external.spark_session().stop()
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,  # the return code is asserted with stderr as the message
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""
