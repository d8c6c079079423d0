"""What every model shares: parameters, cloning, the not-fitted guard, validation, save/load."""

import os
import zipfile

import numpy as np
import pytest

import recsys_tutorial as rt
from recsys_tutorial.models import Baseline, GlobalMean, NotFittedError, Popularity
from recsys_tutorial.models import base as base_module

COMMON_ATTRIBUTES = (
    "n_users_", "n_items_", "global_mean_", "rating_min_", "rating_max_",
    "user_counts_", "item_counts_", "seen_indptr_", "seen_indices_",
)  # fmt: skip


def all_pairs(n_users, n_items):
    """Every (user, item) pair of an n_users x n_items grid, as two index arrays."""
    users, items = np.divmod(np.arange(n_users * n_items), n_items)
    return users, items


# ------------------------------------------------------------------- parameters
def test_get_params_returns_the_constructor_arguments():
    model = Baseline(reg_user=1.5, n_epochs=3)
    assert model.get_params() == {
        "reg_user": 1.5,
        "reg_item": 2.0,
        "n_epochs": 3,
        "random_state": None,
    }
    assert GlobalMean(random_state=4).get_params() == {"random_state": 4}


def test_set_params_changes_them_and_refuses_unknown_names():
    model = Baseline()
    assert model.set_params(reg_item=0.25, n_epochs=2) is model
    assert model.get_params()["reg_item"] == 0.25 and model.n_epochs == 2
    with pytest.raises(ValueError, match=r"Baseline has no parameter 'reg'; valid: \['reg_user'"):
        model.set_params(reg=1.0)


def test_clone_is_a_new_unfitted_model_with_the_same_parameters(small_ratings):
    model = Baseline(reg_user=2.0, n_epochs=4).fit(small_ratings)
    twin = model.clone()
    assert type(twin) is Baseline and twin is not model
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "user_bias_") and not hasattr(twin, "global_mean_")
    twin.set_params(reg_user=9.0)
    assert model.reg_user == 2.0  # independent of the original
    # a clone fitted on the same data is the same model
    np.testing.assert_array_equal(model.clone().fit(small_ratings).user_bias_, model.user_bias_)


def test_repr_shows_the_parameters_that_differ_from_the_defaults():
    assert repr(Baseline()) == "Baseline()"
    assert repr(Baseline(reg_item=1.0, n_epochs=3)) == "Baseline(reg_item=1.0, n_epochs=3)"


# ------------------------------------------------------------- fit and not fitted
def test_fit_returns_self_and_fitting_is_deterministic(small_ratings):
    model = Baseline(random_state=0)
    assert model.fit(small_ratings) is model
    again = Baseline(random_state=0).fit(small_ratings)
    for name in ("user_bias_", "item_bias_", "history_"):
        assert np.array_equal(getattr(model, name), getattr(again, name))


@pytest.mark.parametrize("model_class", [GlobalMean, Baseline, Popularity])
def test_a_model_used_before_fit_raises_not_fitted_error(model_class, tmp_path):
    model = model_class()
    calls = [lambda: model.recommend(0, k=3), lambda: model.save(tmp_path / "m.npz")]
    if model_class is not Popularity:  # Popularity refuses predict for a different reason
        calls.append(lambda: model.predict([0], [0]))
    for call in calls:
        with pytest.raises(NotFittedError, match=f"this {model_class.__name__} is not fitted yet"):
            call()
    assert issubclass(NotFittedError, RuntimeError)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            {"reg_user": -1.0},
            ValueError,
            r"Baseline: reg_user must be a finite real number in \[0, inf\); got -1.0",
        ),
        ({"reg_item": np.nan}, ValueError, "reg_item must be a finite real number .* got nan"),
        ({"reg_item": "5"}, TypeError, "reg_item must be a finite real number .* got str '5'"),
        ({"n_epochs": 0}, ValueError, r"n_epochs must be an int in \[1, inf\); got 0"),
        ({"n_epochs": 2.5}, TypeError, "n_epochs must be an int"),
        ({"n_epochs": True}, TypeError, "n_epochs must be an int"),
    ],
)
def test_bad_hyperparameters_are_refused_at_fit_naming_the_argument(
    small_ratings, params, error, match
):
    with pytest.raises(error, match=match):
        Baseline(**params).fit(small_ratings)


def test_bad_data_and_indices_are_refused_naming_the_argument(small_ratings):
    with pytest.raises(TypeError, match="ratings must be a recsys_tutorial.Ratings"):
        Baseline().fit(np.ones((3, 3)))
    model = Baseline().fit(small_ratings)
    with pytest.raises(TypeError, match="users must hold integer indices; got dtype float64"):
        model.predict([0.0, 1.0], [0, 1])
    with pytest.raises(TypeError, match="items must hold integer indices"):
        model.predict([0, 1], ["a", "b"])
    with pytest.raises(ValueError, match="items must be non-negative indices; got -2"):
        model.predict([0, 1], [0, -2])
    with pytest.raises(ValueError, match="users and items must have equal lengths; got 2 and 3"):
        model.predict([0, 1], [0, 1, 2])
    with pytest.raises(ValueError, match="users must be a scalar or 1-D"):
        model.predict([[0, 1]], [0, 1])
    with pytest.raises(ValueError, match=r"users must be in \[0, 30\); got 30"):
        model.recommend(30)
    with pytest.raises(ValueError, match=r"users must be in \[0, 30\); got 31"):
        model.recommend([0, 31])
    with pytest.raises(TypeError, match="users must be an int index or an array of them"):
        model.recommend(1.0)
    with pytest.raises(ValueError, match="k must be >= 1"):
        model.recommend(0, k=0)
    with pytest.raises(TypeError, match="filter_items must hold integer indices"):
        model.recommend(0, filter_items=[0.5])
    with pytest.raises(ValueError, match=r"filter_items must be in \[0, 40\); got 40"):
        model.recommend(0, filter_items=[40])
    with pytest.raises(TypeError, match="exclude_seen must be a bool"):
        model.recommend(0, exclude_seen="no")
    assert model.predict([], []).shape == (0,)


# ---------------------------------------------------------------------- save/load
@pytest.mark.parametrize(
    "model",
    [GlobalMean(), Baseline(reg_user=1.25, reg_item=0.5, n_epochs=7), Popularity()],
    ids=["GlobalMean", "Baseline", "Popularity"],
)
def test_save_load_round_trip_is_exact(small_ratings, tmp_path, model):
    model.fit(small_ratings)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = type(model).load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    for name in COMMON_ATTRIBUTES + type(model)._fitted_attributes:
        original, restored = getattr(model, name), getattr(loaded, name)
        if isinstance(original, np.ndarray):
            assert restored.dtype == original.dtype and np.array_equal(restored, original), name
        else:
            assert type(restored) is type(original) and restored == original, name
    # predictions on every pair, including indices beyond the training space, and top lists
    users, items = all_pairs(small_ratings.n_users + 2, small_ratings.n_items + 2)
    if not isinstance(model, Popularity):
        assert np.array_equal(loaded.predict(users, items), model.predict(users, items))
    for user in range(small_ratings.n_users):
        for got, want in zip(loaded.recommend(user, k=10), model.recommend(user, k=10)):
            assert np.array_equal(got, want)


def test_saved_file_is_an_npz_without_pickle(small_ratings, tmp_path):
    path = tmp_path / "baseline.npz"
    Baseline().fit(small_ratings).save(path)
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as data:
        for name in data.files:
            assert data[name].dtype != object  # reading every member works without pickle
        assert {"user_bias_", "item_bias_", "history_", "__meta__"} <= set(data.files)


def test_save_is_atomic_and_leaves_no_temporary_file(small_ratings, tmp_path, monkeypatch):
    folder = tmp_path / "models"
    path = folder / "m.npz"
    first = Baseline(n_epochs=1).fit(small_ratings)
    first.save(path)  # the folder is created
    assert os.listdir(folder) == ["m.npz"]
    original_bytes = path.read_bytes()

    # a failure at the last step (the rename) keeps the previous file and cleans up
    def broken_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(base_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        Baseline(n_epochs=5).fit(small_ratings).save(path)
    assert os.listdir(folder) == ["m.npz"] and path.read_bytes() == original_bytes
    monkeypatch.undo()

    # an overwrite replaces the file
    second = Baseline(n_epochs=5).fit(small_ratings)
    second.save(path)
    assert os.listdir(folder) == ["m.npz"]
    assert np.array_equal(Baseline.load(path).history_, second.history_)


def test_load_refuses_the_wrong_class_and_foreign_files(small_ratings, tmp_path):
    path = tmp_path / "baseline.npz"
    Baseline().fit(small_ratings).save(path)
    with pytest.raises(ValueError, match="holds a Baseline, not a GlobalMean; use Baseline.load"):
        GlobalMean.load(path)
    foreign = tmp_path / "arrays.npz"
    np.savez(foreign, a=np.arange(3))
    with pytest.raises(ValueError, match="is not a saved recsys_tutorial model"):
        Baseline.load(foreign)
    for name, write in (
        ("array.npy", lambda p: np.save(p, np.arange(3))),
        ("notes.txt", lambda p: p.write_text("not a model")),
    ):
        write(tmp_path / name)
        with pytest.raises(
            ValueError, match="is not a saved recsys_tutorial model .not an .npz archive"
        ):
            Baseline.load(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        Baseline.load(tmp_path / "missing.npz")
    other_format = tmp_path / "other.npz"
    np.savez(other_format, __meta__=np.array('{"format": "something/9", "class": "Baseline"}'))
    with pytest.raises(ValueError, match="has format 'something/9'"):
        Baseline.load(other_format)


def test_save_refuses_parameters_it_cannot_write(small_ratings, tmp_path):
    model = Baseline().fit(small_ratings)
    model.reg_user = [1.0]  # set behind validation's back
    with pytest.raises(ValueError, match=r"hyperparameter reg_user=\[1.0\] is not a number"):
        model.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------- known / unknown rows in the base class
class MaskEcho(rt.models.Recommender):
    """A test model whose score encodes what the base class told it: 1 + known_u + 2 known_i."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _fit(self, ratings, params):
        pass

    def _score(self, users, items, known_u, known_i):
        # unknown rows must arrive as index 0, so that subclasses can index their arrays
        assert np.all(users[~known_u] == 0) and np.all(items[~known_i] == 0)
        return 1.0 + known_u + 2.0 * known_i


def test_the_base_class_marks_users_and_items_without_training_ratings_as_unknown(small_ratings):
    model = MaskEcho().fit(small_ratings)  # user 3 and item 5 have no rating; sizes 30 x 40
    users = np.array([0, 3, 30, 0, 0, 3, 2000])
    items = np.array([0, 0, 0, 5, 40, 5, 2000])
    # known user +1, known item +2
    np.testing.assert_array_equal(model.predict(users, items), [4.0, 3.0, 3.0, 2.0, 2.0, 1.0, 1.0])
