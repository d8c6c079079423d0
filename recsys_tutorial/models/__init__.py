"""The models of the book; every one is a :class:`~recsys_tutorial.models.base.Recommender`."""

from .base import ConvergenceWarning, FactorModel, NotFittedError, Recommender
from .baseline import Baseline, GlobalMean, Popularity
from .bpmf import BayesianPMF
from .mf import MatrixFactorization
from .pmf import PMF

__all__ = [
    "Recommender",
    "FactorModel",
    "NotFittedError",
    "ConvergenceWarning",
    "GlobalMean",
    "Baseline",
    "Popularity",
    "MatrixFactorization",
    "PMF",
    "BayesianPMF",
]
