"""recsys_tutorial: the companion package of *Recommender Systems from First Principles*.

One implementation of each idea the book teaches, imported by its chapters::

    import recsys_tutorial as rt
    r = rt.datasets.load_movielens_100k()
    train, test = rt.model_selection.train_test_split(r, test_size=0.2, random_state=0)
    model = rt.models.MatrixFactorization(solver="als", random_state=0).fit(train)
    rt.metrics.rmse(test.values, model.predict(test.users, test.items))

``symbolic`` (SymPy) and ``plotting`` (matplotlib) are imported on first use,
so the numerical core needs only numpy and scipy.
"""

import importlib

from . import (
    calibration,
    datasets,
    diagnostics,
    external,
    gradcheck,
    ids,
    linalg,
    metrics,
    model_selection,
    models,
    objectives,
    significance,
    validation,
)
from .data import Ratings

__version__ = "0.1.0"

__all__ = [
    "Ratings",
    "calibration",
    "datasets",
    "diagnostics",
    "external",
    "gradcheck",
    "ids",
    "linalg",
    "metrics",
    "model_selection",
    "models",
    "objectives",
    "plotting",
    "significance",
    "symbolic",
    "validation",
]

_LAZY = {"symbolic", "plotting"}


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
