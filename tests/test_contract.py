"""The contract every model keeps, checked on every model (scikit-learn's estimator checks, small).

Adding a model means adding one entry to ``MODELS``: a factory that returns a
fast-to-fit instance.  Each test is parametrized over the list.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
from conftest import random_ratings

import recsys_tutorial as rt
from recsys_tutorial.models import FactorModel, NotFittedError
from recsys_tutorial.validation import Interval, Options

MODELS = {
    "GlobalMean": lambda **kw: rt.models.GlobalMean(**kw),
    "Baseline": lambda **kw: rt.models.Baseline(n_epochs=3, **kw),
    "Popularity": lambda **kw: rt.models.Popularity(**kw),
    "MF-als": lambda **kw: rt.models.MatrixFactorization(
        solver="als", n_factors=3, n_epochs=3, **kw
    ),
    "MF-sgd": lambda **kw: rt.models.MatrixFactorization(
        solver="sgd", n_factors=3, n_epochs=3, **kw
    ),
    "MF-gd": lambda **kw: rt.models.MatrixFactorization(solver="gd", n_factors=3, n_epochs=3, **kw),
    "MF-plain": lambda **kw: rt.models.MatrixFactorization(
        n_factors=2, biased=False, n_epochs=3, **kw
    ),
    "PMF": lambda **kw: rt.models.PMF(n_factors=3, n_epochs=3, **kw),
    "BayesianPMF": lambda **kw: rt.models.BayesianPMF(n_factors=2, n_samples=4, burn_in=1, **kw),
    "BayesianPMF-biased": lambda **kw: rt.models.BayesianPMF(
        n_factors=2, n_samples=4, burn_in=1, biased=True, **kw
    ),
    "ImplicitMF": lambda **kw: rt.models.ImplicitMF(n_factors=3, n_epochs=3, **kw),
    "ImplicitMF-cholesky": lambda **kw: rt.models.ImplicitMF(
        n_factors=3, n_epochs=3, solver="cholesky", **kw
    ),
    "BPR": lambda **kw: rt.models.BPR(n_factors=3, n_epochs=3, **kw),
    "ItemKNN": lambda **kw: rt.models.ItemKNN(n_neighbors=5, **kw),
    "EASE": lambda **kw: rt.models.EASE(reg=2.0, **kw),
}
# the implicit-feedback models predict unclipped preference scores, not stars: their
# fallbacks are tested by test_preference_scores_and_their_documented_fallbacks
PREFERENCE_MODELS = ["ImplicitMF", "ImplicitMF-cholesky", "BPR", "ItemKNN", "EASE"]
RATING_MODELS = [n for n in MODELS if n != "Popularity" and n not in PREFERENCE_MODELS]
PREDICTING = RATING_MODELS + PREFERENCE_MODELS  # Popularity only ranks


@pytest.fixture
def data():
    """30 users x 40 items; user 3 and item 5 have no rating."""
    return random_ratings(seed=3)


def fitted_arrays(model):
    """Every fitted attribute of ``model`` (name -> value), for comparing two fits."""
    return {
        name: getattr(model, name) for name in model._common_attributes + model._fitted_attributes
    }


def assert_same_state(a, b):
    for (name, x), y in zip(fitted_arrays(a).items(), fitted_arrays(b).values()):
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), name
        elif name == "history_time_" or name.endswith("time_"):
            continue
        elif isinstance(x, float) and np.isnan(x):
            assert isinstance(y, float) and np.isnan(y), name
        else:
            assert x == y, name


def without_times(model):
    """``model`` with its wall-clock history zeroed (the one state two equal fits may not share)."""
    if hasattr(model, "history_time_"):
        model.history_time_ = np.zeros_like(model.history_time_)
    return model


# ---------------------------------------------------------------- parameters
@pytest.mark.parametrize("name", MODELS)
def test_get_set_params_and_clone_round_trip(name):
    model = MODELS[name](random_state=7)
    params = model.get_params()
    twin = model.clone()
    assert type(twin) is type(model) and twin is not model and twin.get_params() == params
    assert type(model)(**params).get_params() == params
    assert model.set_params(**params) is model and model.get_params() == params
    with pytest.raises(ValueError, match="has no parameter 'no_such_thing'"):
        model.set_params(no_such_thing=1)


@pytest.mark.parametrize("name", MODELS)
def test_every_constructor_parameter_is_declared_and_later_ones_are_keyword_only(name):
    import inspect

    cls = type(MODELS[name]())
    signature = inspect.signature(cls.__init__)
    names = [p for p in signature.parameters if p != "self"]
    assert set(names) == set(cls._parameter_constraints)
    kinds = [signature.parameters[p].kind for p in names[1:]]
    assert all(kind is inspect.Parameter.KEYWORD_ONLY for kind in kinds)


@pytest.mark.parametrize("name", MODELS)
def test_fit_returns_self_and_leaves_hyperparameters_untouched(name, data):
    model = MODELS[name](random_state=np.int64(0))
    before = {key: value for key, value in vars(model).items()}
    assert model.fit(data) is model
    for key, value in before.items():
        assert getattr(model, key) is value, key


@pytest.mark.parametrize("name", MODELS)
def test_an_int_or_a_generator_seed_makes_fits_bit_identical_and_refit_equals_a_fresh_fit(
    name, data
):
    a = without_times(MODELS[name](random_state=0).fit(data))
    b = without_times(MODELS[name](random_state=0).fit(data))
    assert_same_state(a, b)
    c = without_times(MODELS[name](random_state=np.random.default_rng(5)).fit(data))
    d = without_times(MODELS[name](random_state=np.random.default_rng(5)).fit(data))
    assert_same_state(c, d)
    # refitting a fitted model on other data, then on the first data, equals a fresh fit
    other = random_ratings(seed=11, n_users=12, n_items=9)
    e = MODELS[name](random_state=0).fit(other)
    assert_same_state(without_times(e.fit(data)), a)


@pytest.mark.parametrize("name", MODELS)
def test_a_model_used_before_fit_raises_not_fitted_error(name, tmp_path):
    model = MODELS[name]()
    calls = [lambda: model.recommend(0), lambda: model.save(tmp_path / "m.npz")]
    if name in PREDICTING:
        calls.append(lambda: model.predict([0], [0]))
    if isinstance(model, FactorModel):
        calls += [lambda: model.similar_items(0), lambda: model.similar_users(0)]
    for call in calls:
        with pytest.raises(NotFittedError, match="is not fitted yet"):
            call()


# -------------------------------------------------------------- predictions
@pytest.mark.parametrize("name", RATING_MODELS)
def test_predictions_have_the_documented_shape_range_and_fallback(name, data):
    model = MODELS[name](random_state=0).fit(data)
    users, items = np.array([0, 1, 2, 0]), np.array([0, 1, 2, 3])
    pred = model.predict(users, items)
    assert pred.shape == (4,) and pred.dtype == np.float64
    assert np.all((pred >= data.values.min()) & (pred <= data.values.max()))
    assert model.predict([], []).shape == (0,)
    # user 3 and item 5 have no training rating; 30 and 40 are beyond the index space
    both_unknown = model.predict([3, 30, 3], [5, 40, 40])
    np.testing.assert_allclose(both_unknown, data.values.mean(), rtol=0, atol=1e-12)
    # an unknown user on a known item: the mean plus the item's bias where the model has one
    unknown_user = model.predict([3, 30], [0, 0])
    assert unknown_user[0] == unknown_user[1]
    item_bias = getattr(model, "item_bias_", np.zeros(data.n_items))
    if name == "MF-plain" or name == "PMF" or name == "BayesianPMF":
        item_bias = np.zeros(data.n_items)  # models without biases fall back on the mean
    np.testing.assert_allclose(
        unknown_user[0], np.clip(data.values.mean() + item_bias[0], 1, 5), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("name", PREFERENCE_MODELS)
def test_preference_scores_and_their_documented_fallbacks(name, data):
    """predict is the unclipped score row; unknown items score 0, unknown users the cold row."""
    model = MODELS[name](random_state=0).fit(data)
    users = np.repeat(np.arange(data.n_users), data.n_items)
    items = np.tile(np.arange(data.n_items), data.n_users)
    pred = model.predict(users, items)
    assert pred.shape == (users.size,) and pred.dtype == np.float64
    rows = model._score_users(np.arange(data.n_users))
    known_items = np.isin(items, data.items)
    np.testing.assert_allclose(
        pred[known_items], rows[users, items][known_items], rtol=1e-12, atol=1e-12
    )
    assert np.all(pred[items == 5] == 0.0)  # item 5 has no training rating
    assert model.predict([0], [40])[0] == 0.0  # beyond the training index space
    # user 3 has no training rating, and 30 is beyond the space: both get the cold-user row
    cold = model.predict([3] * 4 + [30] * 4, [0, 1, 2, 5] * 2)
    np.testing.assert_array_equal(cold[:4], cold[4:])
    expected = model._cold_user_scores()[[0, 1, 2, 5]]
    expected[3] = 0.0
    np.testing.assert_array_equal(cold[:4], expected)
    if name == "BPR":  # its documented cold-user ranking: the item biases
        np.testing.assert_array_equal(cold[:3], model.item_bias_[:3])
    else:  # the others: a user with no items scores every item 0
        assert np.all(cold == 0.0)
    # not clipped to the star range: these scores live on their own scale
    assert pred.min() < data.values.min() or pred.max() > data.values.max() or name == "EASE"


@pytest.mark.parametrize("name", MODELS)
def test_batch_recommend_equals_the_one_user_calls(name, data):
    model = MODELS[name](random_state=0).fit(data)
    users = np.arange(data.n_users)
    for kwargs in ({}, {"exclude_seen": False}, {"filter_items": [0, 7, 39]}):
        items, scores = model.recommend(users, k=6, **kwargs)
        assert items.shape == scores.shape == (data.n_users, 6)
        assert items.dtype == np.int64 and scores.dtype == np.float64
        for user in users:
            one_items, one_scores = model.recommend(int(user), k=6, **kwargs)
            assert one_items.shape == (6,)
            np.testing.assert_array_equal(one_items, items[user])
            np.testing.assert_array_equal(one_scores, scores[user])
            assert np.all(np.diff(one_scores) <= 0)  # best first
            if kwargs.get("exclude_seen", True):
                seen = data.items[data.users == user]
                assert not np.isin(one_items, seen).any()
            assert not np.isin(one_items, kwargs.get("filter_items", [])).any()


@pytest.mark.parametrize("name", MODELS)
def test_recommend_scores_are_the_models_own_scores(name, data):
    model = MODELS[name](random_state=0).fit(data)
    items, scores = model.recommend(np.array([0, 2]), k=5, exclude_seen=False)
    if name != "Popularity":
        for row, user in enumerate([0, 2]):
            expected = model._predict_unclipped(np.full(5, user), items[row])
            np.testing.assert_allclose(scores[row], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", [n for n in MODELS if isinstance(MODELS[n](), FactorModel)])
def test_similar_items_and_users_against_brute_force(name, data):
    model = MODELS[name](random_state=0).fit(data)
    for kind, F, counts in (
        ("items", model.item_factors_, model.item_counts_),
        ("users", model.user_factors_, model.user_counts_),
    ):
        method = getattr(model, f"similar_{kind}")
        query = 0
        for metric in ("cosine", "dot"):
            got, sims = method(query, k=4, metric=metric)
            scores = []
            for j in range(F.shape[0]):
                if j == query or counts[j] == 0 or not np.any(F[j]):
                    continue
                dot = float(F[query] @ F[j])
                value = (
                    dot / (np.linalg.norm(F[query]) * np.linalg.norm(F[j]))
                    if metric == "cosine"
                    else dot
                )
                scores.append((-value, j))
            expected = [j for _, j in sorted(scores)[:4]]
            assert got.tolist() == expected, (kind, metric)
            np.testing.assert_allclose(sims, [-v for v, _ in sorted(scores)[:4]], rtol=1e-10)
        batch, _ = method(np.array([0, 1]), k=4)
        assert batch.shape == (2, 4) and batch[0].tolist() == method(0, k=4)[0].tolist()
        unrated = 5 if kind == "items" else 3
        with pytest.raises(ValueError, match=f"{kind[:-1]} {unrated} has no training ratings"):
            method(unrated)
        with pytest.raises(ValueError, match="metric must be one of 'cosine', 'dot'"):
            method(0, metric="euclid")


# -------------------------------------------------------------- save / load
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("seed", [0, np.int64(3), "generator"])
def test_save_load_is_exact_for_every_kind_of_hyperparameter(name, seed, data, tmp_path):
    random_state = np.random.default_rng(1) if seed == "generator" else seed
    model = MODELS[name](random_state=random_state).fit(data)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = type(model).load(path)
    assert type(loaded) is type(model)
    params, loaded_params = model.get_params(), loaded.get_params()
    assert params.keys() == loaded_params.keys()
    for key, value in params.items():
        if isinstance(value, np.random.Generator):
            assert loaded_params[key].bit_generator.state == value.bit_generator.state
        else:
            assert loaded_params[key] == value and type(loaded_params[key]) in (
                type(value),
                int,
                float,
            )
    assert_same_state(model, loaded)
    users = np.repeat(np.arange(32), 42)
    items = np.tile(np.arange(42), 32)
    if name in PREDICTING:
        np.testing.assert_array_equal(loaded.predict(users, items), model.predict(users, items))
    for got, want in zip(loaded.recommend(np.arange(30), k=5), model.recommend(np.arange(30), k=5)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["Baseline", "MF-als", "BayesianPMF", "BayesianPMF-biased"])
def test_load_refuses_corrupted_truncated_and_tampered_files(name, data, tmp_path):
    model = MODELS[name](random_state=0).fit(data)
    path = tmp_path / "model.npz"
    model.save(path)
    raw = path.read_bytes()
    cls = type(model)

    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated.npz"):
        cls.load(truncated)

    # flip bytes inside the compressed data of the first array: a CRC/zlib error
    corrupted = tmp_path / "corrupted.npz"
    with zipfile.ZipFile(path) as zf:
        info = next(i for i in zf.infolist() if i.filename != "__meta__.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 8
    damaged = bytearray(raw)
    for pos in range(start, min(start + 16, start + info.compress_size)):
        damaged[pos] ^= 0xFF
    corrupted.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="corrupted.npz"):
        cls.load(corrupted)

    def rewrite(target, edit_meta=None, extra=None, drop=None):
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        meta = json.loads(str(arrays.pop("__meta__")))
        if edit_meta:
            edit_meta(meta)
        arrays.update(extra or {})
        for key in drop or ():
            arrays.pop(key)
        buffer = io.BytesIO()
        np.savez(buffer, __meta__=np.array(json.dumps(meta)), **arrays)
        target.write_bytes(buffer.getvalue())
        return target

    # a name from the file may not shadow a method nor override a hyperparameter
    shadow = rewrite(
        tmp_path / "shadow.npz",
        edit_meta=lambda m: m["arrays"].update(predict=[[2], "<f8"]),
        extra={"predict": np.zeros(2)},
    )
    with pytest.raises(ValueError, match="do not match"):
        cls.load(shadow)
    override = rewrite(
        tmp_path / "override.npz", edit_meta=lambda m: m["scalars"].update(random_state=3)
    )
    with pytest.raises(ValueError, match="do not match"):
        cls.load(override)
    missing_name = fitted_arrays(model)
    array_name = next(k for k, v in missing_name.items() if isinstance(v, np.ndarray))
    missing = rewrite(tmp_path / "missing.npz", drop=[array_name])
    with pytest.raises(ValueError, match="do not match the metadata"):
        cls.load(missing)
    reshaped = rewrite(
        tmp_path / "reshaped.npz",
        extra={array_name: np.zeros(3, dtype=missing_name[array_name].dtype)},
    )
    with pytest.raises(ValueError, match=f"array {array_name} has shape"):
        cls.load(reshaped)
    bad_param = rewrite(
        tmp_path / "badparam.npz", edit_meta=lambda m: m["params"].update(random_state=-4)
    )
    with pytest.raises(ValueError, match="invalid hyperparameters"):
        cls.load(bad_param)


# ------------------------------------------------------------------ silence
@pytest.mark.parametrize("name", MODELS)
def test_fitting_prints_nothing_unless_verbose(name, data):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        model = MODELS[name](random_state=0).fit(data)
        model.recommend(np.arange(3))
    assert out.getvalue() == "" and err.getvalue() == ""
    if "verbose" in model.get_params():
        out = io.StringIO()
        with redirect_stdout(out):
            MODELS[name](random_state=0, verbose=True).fit(data)
        assert out.getvalue() != ""


# ------------------------------------------------------------- bad arguments
def bad_values(constraints):
    """Values each declared constraint list must refuse: a wrong type, and out-of-range values."""
    yield object()
    for c in constraints:
        if isinstance(c, Interval):
            if c.left is not None:
                yield (c.left - 1) if c.kind is int else c.left - abs(c.left) - 1.0
                if c.closed in ("right", "neither"):
                    yield c.kind(c.left)
            if c.right is not None:
                yield (c.right + 1) if c.kind is int else c.right * 2 + 1.0
            if c.kind is float:
                yield float("nan")
        elif isinstance(c, Options):
            yield "no-such-option"


def accepted_by_another(value, constraints):
    return any(c.accepts_type(value) and c.contains(value) for c in constraints)


@pytest.mark.parametrize("name", MODELS)
def test_every_parameter_refuses_bad_values_naming_itself(name, data):
    model = MODELS[name]()
    for param, constraints in type(model)._parameter_constraints.items():
        for value in bad_values(constraints):
            if accepted_by_another(value, constraints):
                continue
            bad = MODELS[name]().set_params(**{param: value})
            with pytest.raises(
                (TypeError, ValueError), match=f"{type(model).__name__}: {param} must be"
            ):
                bad.fit(data)


@pytest.mark.parametrize("name", MODELS)
def test_bad_data_and_indices_are_refused(name, data):
    with pytest.raises(TypeError, match="ratings must be a recsys_tutorial.Ratings"):
        MODELS[name]().fit(np.ones((3, 3)))
    model = MODELS[name](random_state=0).fit(data)
    with pytest.raises(ValueError, match=r"users must be in \[0, 30\)"):
        model.recommend([0, 30])
    with pytest.raises(TypeError, match="users must hold integer indices"):
        model.recommend(np.array([0.5]))
    with pytest.raises(ValueError, match="k must be >= 1"):
        model.recommend(0, k=0)
    if name in PREDICTING:
        with pytest.raises(ValueError, match="users and items must have equal lengths"):
            model.predict([0, 1], [0])


# -------------------------------------------- the degenerate cases found when tried
def test_degenerate_values_work_or_are_refused_naming_the_parameter(data, tmp_path):
    # a zero bias penalty with unrated items: the unrated rows have no equation to solve
    model = rt.models.MatrixFactorization(solver="als", reg_bias=0.0, n_factors=2, random_state=0)
    model.fit(data)
    assert np.all(np.isfinite(model.user_factors_)) and model.item_bias_[5] == 0.0
    # a penalty too small for users with fewer ratings than factors
    with pytest.raises(ValueError, match=r"normal equations of the users are singular: reg=1e-300"):
        rt.models.MatrixFactorization(solver="als", reg=1e-300, n_factors=50).fit(data)
    with pytest.raises(ValueError, match="init_std must be a finite real number in \\(0, inf\\)"):
        rt.models.MatrixFactorization(init_std=0.0).fit(data)
    with pytest.raises(
        ValueError, match=r"BayesianPMF: w0 must be a finite real number in \[1e-08, 1e\+08\]"
    ):
        rt.models.BayesianPMF(w0=1e-300).fit(data)
    with pytest.raises(TypeError, match="BayesianPMF: verbose must be a bool"):
        rt.models.BayesianPMF(verbose="yes").fit(data)
    # numpy scalars and Generators are accepted, and the model can still be saved
    numpyish = rt.models.MatrixFactorization(
        n_factors=np.int64(3), reg=np.float32(0.5), random_state=np.random.default_rng(0)
    ).fit(data)
    numpyish.save(tmp_path / "m.npz")
    loaded = rt.models.MatrixFactorization.load(tmp_path / "m.npz")
    assert loaded.n_factors == 3 and loaded.get_params()["reg"] == pytest.approx(0.5)


def test_reg_means_the_same_penalty_for_every_solver(data):
    """Given the same hyperparameters, each solver run to convergence reaches J's same optimum."""
    common = dict(n_factors=2, reg=2.0, random_state=0)
    als = rt.models.MatrixFactorization(solver="als", n_epochs=300, tol=1e-13, **common).fit(data)
    gd = rt.models.MatrixFactorization(
        solver="gd", lr=2e-3, n_epochs=20000, tol=1e-13, **common
    ).fit(data)
    assert als.settings_["reg_exponent"] == gd.settings_["reg_exponent"] == 0.5
    assert gd.history_[-1] == pytest.approx(als.history_[-1], rel=1e-6)
    assert als.objective(data) == pytest.approx(gd.objective(data), rel=1e-6)


def test_convergence_tests_stop_early_or_warn(data):
    model = rt.models.MatrixFactorization(n_factors=2, n_epochs=500, tol=1e-6, random_state=0).fit(
        data
    )
    assert len(model.history_) < 500
    h = model.history_
    assert h[-2] - h[-1] < 1e-6 * abs(h[-1]) <= h[-3] - h[-2]
    with pytest.warns(rt.models.ConvergenceWarning, match="stopped after n_epochs=2"):
        rt.models.MatrixFactorization(n_factors=2, n_epochs=2, tol=1e-12, random_state=0).fit(data)
    with pytest.warns(rt.models.ConvergenceWarning, match="n_epochs=3"):
        rt.models.PMF(n_factors=2, n_epochs=3, random_state=0).fit(data)
    pmf = rt.models.PMF(n_factors=2, random_state=0).fit(data)  # the default converges: no warning
    assert len(pmf.history_) < 300


def test_sgd_warns_when_its_objective_keeps_rising(data):
    model = rt.models.MatrixFactorization(
        solver="sgd", lr=0.3, n_epochs=30, batch_size=1, random_state=0
    )
    # it may go on to diverge (RuntimeError); the warning came first
    warns = pytest.warns(rt.models.ConvergenceWarning, match="rose for 3 epochs in a row")
    with warns, contextlib.suppress(RuntimeError):
        model.fit(data)


def test_als_and_the_sampler_name_the_cause_when_the_data_overflow():
    huge = rt.Ratings([0, 0, 1, 1, 2], [0, 1, 0, 1, 1], [1e200, -1e200, 3e200, 1e200, -2e200])
    with pytest.raises((RuntimeError, ValueError), match="scale"):
        rt.models.MatrixFactorization(solver="als", n_factors=2, random_state=0).fit(huge)
    with pytest.raises(RuntimeError, match="ratings' scale"):
        rt.models.BayesianPMF(n_factors=2, n_samples=3, burn_in=1, random_state=0).fit(huge)


def test_raw_ids_end_to_end_from_a_movielens_user_to_titles(movielens):
    """MovieLens user 196 -> recommendations -> raw movie ids -> titles, no index bookkeeping."""
    model = rt.models.MatrixFactorization(random_state=0).fit(movielens)
    movies = rt.datasets.load_movielens_100k_movies()
    user = movielens.user_index(196)
    items, _scores = model.recommend(user, k=5)
    raw_items = movielens.item_ids_of(items)
    titles = movies.titles_of(raw_items)
    assert len(titles) == 5 and all(isinstance(t, str) and t for t in titles)
    # the way back: each raw id maps to the index it came from, and none was rated by 196
    assert [movielens.item_index(raw) for raw in raw_items] == items.tolist()
    rated = set(movielens.item_ids_of(movielens.items[movielens.users == user]).tolist())
    assert not rated & set(raw_items.tolist())
    with pytest.raises(TypeError, match="pass 196"):
        movielens.user_index("196")


@pytest.mark.parametrize("biased", [True, False])
def test_fold_in_of_a_training_user_is_the_als_user_half_step(data, biased):
    """Folding in a training user's own ratings reproduces the ALS user half-step to 1e-10."""
    from recsys_tutorial.linalg import RowGroups
    from recsys_tutorial.objectives import regularization_weights

    model = rt.models.MatrixFactorization(
        n_factors=3, biased=biased, center=True, n_epochs=4, random_state=0
    ).fit(data)
    s = model.settings_
    # the package's own half-step (the code path of ALS), for every user at once
    F = model.item_factors_
    if biased:
        F = np.hstack([F, np.ones((data.n_items, 1))])
    y = data.values - model.offset_ - (model.item_bias_[data.items] if biased else 0.0)
    penalty = np.full(F.shape[1], s["reg"])
    if biased:
        penalty[-1] = s["reg_bias"]
    weights = regularization_weights(data.user_counts(), s["reg_exponent"])
    groups = RowGroups(data.users, data.items, data.n_users, data.n_items)
    X, _ = groups.solve_ridge(F, y, weights[:, None] * penalty)
    for user in (0, 1, 7):
        mine = data.users == user
        factors, bias = model.fold_in(data.items[mine], data.values[mine])
        np.testing.assert_allclose(factors, X[user, :3], rtol=0, atol=1e-10)
        assert bias == pytest.approx(X[user, 3] if biased else 0.0, abs=1e-10)
        scores = model.score_new_user(factors, bias)
        expected = model.offset_ + bias + model.item_factors_ @ factors
        np.testing.assert_allclose(scores, expected + (model.item_bias_ if biased else 0.0))


def test_pmf_fold_in_is_the_map_of_the_new_user(data):
    pmf = rt.models.PMF(n_factors=2, sigma=1.0, sigma_u=0.7, sigma_v=0.7, random_state=0).fit(data)
    items, values = np.array([0, 2, 9]), np.array([4.0, 1.0, 5.0])
    V = pmf.item_factors_[items]
    lam = (1.0 / 0.7) ** 2
    expected = np.linalg.solve(V.T @ V + lam * np.eye(2), V.T @ (values - pmf.offset_))
    factors, bias = pmf.fold_in(items, values)
    np.testing.assert_allclose(factors, expected, rtol=1e-12)
    assert bias == 0.0
    np.testing.assert_allclose(
        pmf.score_new_user(factors)[pmf.item_counts_ > 0],
        (pmf.offset_ + pmf.item_factors_ @ expected)[pmf.item_counts_ > 0],
        rtol=1e-12,
    )


# ---------------------------------------------------------------- fold in
FACTOR_MODELS = [n for n in MODELS if isinstance(MODELS[n](), FactorModel)]


@pytest.mark.parametrize("name", FACTOR_MODELS)
def test_every_factor_model_folds_in_a_new_user_and_recommends_to_them(name, data):
    model = MODELS[name](random_state=0).fit(data)
    items, values = np.array([0, 7, 12, 30]), np.array([5.0, 1.0, 4.0, 2.0])
    factors, bias = model.fold_in(items, values)
    d = model.item_factors_.shape[1]
    sampled = isinstance(model, rt.models.BayesianPMF)  # one draw per kept sample
    n_kept = model.user_samples_.shape[0] if sampled else None
    assert isinstance(factors, np.ndarray) and factors.shape == ((n_kept, d) if sampled else (d,))
    if sampled and model.biased:
        assert isinstance(bias, np.ndarray) and bias.shape == (n_kept,)
    else:
        assert isinstance(bias, float)
    assert np.all(np.isfinite(factors)) and np.all(np.isfinite(bias))
    again = model.fold_in(items, values)  # a seeded model folds in the same way every time
    assert np.array_equal(again[0], factors) and np.array_equal(again[1], bias)
    scores = model.score_new_user(factors, bias)
    assert scores.shape == (data.n_items,) and np.all(np.isfinite(scores))
    if sampled:
        # the mean over samples of each sample's score mu + b + c_j + V_j x (biases if any)
        per_sample = [
            model.offset_ + b_s + c_s + V_s @ x_s
            for x_s, b_s, c_s, V_s in zip(
                factors,
                np.broadcast_to(bias, n_kept),
                model.item_bias_samples_,
                model.item_samples_,
            )
        ]
        known = model.item_counts_ > 0
        np.testing.assert_allclose(scores[known], np.mean(per_sample, axis=0)[known], rtol=1e-12)
        # non-vacuous for the biased model: its item biases move the scores
        assert np.any(model.item_bias_samples_ != 0) == model.biased
    top, top_scores = model.recommend_new_user(items, values, k=6)
    # brute force: every item but the given ones, best first, ties to the lower index
    candidates = [j for j in range(data.n_items) if j not in set(items.tolist())]
    expected = sorted(candidates, key=lambda j: (-scores[j], j))[:6]
    assert top.tolist() == expected
    np.testing.assert_array_equal(top_scores, scores[expected])
    kept_in, _ = model.recommend_new_user(items, values, k=data.n_items, exclude_seen=False)
    assert kept_in.size == data.n_items and set(items.tolist()) <= set(kept_in.tolist())


@pytest.mark.parametrize("name", FACTOR_MODELS)
def test_fold_in_refuses_bad_ratings_naming_the_argument(name, data):
    model = MODELS[name](random_state=0).fit(data)
    with pytest.raises(ValueError, match="items is empty"):
        model.fold_in([], [])
    with pytest.raises(ValueError, match="items must not repeat"):
        model.fold_in([1, 1], [3.0, 4.0])
    with pytest.raises(ValueError, match=r"items must be in \[0, 40\)"):
        model.fold_in([40], [3.0])
    with pytest.raises(ValueError, match="items must be non-negative"):
        model.fold_in([-1], [3.0])
    with pytest.raises(TypeError, match="items must hold integer indices"):
        model.fold_in([1.5], [3.0])
    with pytest.raises(ValueError, match="values must be finite"):
        model.fold_in([1], [np.nan])
    with pytest.raises(ValueError, match="items and values must have equal lengths"):
        model.fold_in([1, 2], [3.0])
    with pytest.raises(TypeError, match="values must be numbers"):
        model.fold_in([1], ["a"])
    with pytest.raises(ValueError, match="k must be >= 1"):
        model.recommend_new_user([1], [3.0], k=0)
    with pytest.raises(ValueError, match="factors must have shape"):
        model.score_new_user(np.zeros(99))
    with pytest.raises(NotFittedError):
        MODELS[name]().fold_in([1], [3.0])
