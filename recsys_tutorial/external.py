"""Run other libraries' models on this package's splits, for side-by-side comparisons.

Only `Surprise <https://surpriselib.com>`_ (``scikit-surprise``) for now; it is
imported when first used, so the package itself does not depend on it.
Feeding both libraries the *same* train/test pairs (rather than each library
drawing its own folds) is what makes their scores comparable.
"""

from __future__ import annotations

import time
from typing import Iterable

import numpy as np

from . import metrics
from .data import Ratings
from .utils import check_ratings

__all__ = ["surprise_fit_predict", "surprise_cross_validate"]


def _surprise():
    try:
        import surprise
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("this comparison needs scikit-surprise: pip install scikit-surprise") from exc
    return surprise


def surprise_fit_predict(algo, train: Ratings, test: Ratings) -> tuple[np.ndarray, float, float]:
    """Fit a Surprise algorithm on ``train`` and predict ``test``.

    Users and items are passed to Surprise as their indices (as strings, its
    raw ids); the rating scale is the range of the training ratings, to which
    Surprise clips its predictions, as this package's models do.

    Returns
    -------
    (predictions, fit_seconds, predict_seconds)
        ``predictions`` in the order of ``test``.
    """
    surprise = _surprise()
    train = check_ratings("train", train)
    test = check_ratings("test", test)
    reader = surprise.Reader(rating_scale=(float(train.values.min()), float(train.values.max())))
    dataset = surprise.Dataset(reader)
    trainset = dataset.construct_trainset(
        [(str(u), str(i), float(v), None) for u, i, v in zip(train.users, train.items, train.values)]
    )
    testset = [(str(u), str(i), float(v)) for u, i, v in zip(test.users, test.items, test.values)]
    t0 = time.perf_counter()
    algo.fit(trainset)
    t1 = time.perf_counter()
    predictions = np.array([p.est for p in algo.test(testset)])
    return predictions, t1 - t0, time.perf_counter() - t1


def surprise_cross_validate(make_algo, splits: Iterable[tuple[Ratings, Ratings]]) -> dict[str, np.ndarray]:
    """Like :func:`recsys_tutorial.model_selection.cross_validate` for a Surprise algorithm.

    Parameters
    ----------
    make_algo : callable
        Returns a new, unfitted Surprise algorithm (called once per split),
        e.g. ``lambda: surprise.SVD(random_state=0)``.
    splits : iterable of (train, test)
        The same splits the package's models are evaluated on.

    Returns
    -------
    dict
        ``test_rmse``, ``test_mae``, ``fit_time``, ``predict_time`` per split.
    """
    out = {"test_rmse": [], "test_mae": [], "fit_time": [], "predict_time": []}
    for train, test in splits:
        pred, fit_time, predict_time = surprise_fit_predict(make_algo(), train, test)
        out["test_rmse"].append(metrics.rmse(test.values, pred))
        out["test_mae"].append(metrics.mae(test.values, pred))
        out["fit_time"].append(fit_time)
        out["predict_time"].append(predict_time)
    return {key: np.array(values) for key, values in out.items()}
