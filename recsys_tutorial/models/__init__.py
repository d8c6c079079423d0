"""The models of the book; every one is a :class:`~recsys_tutorial.models.base.Recommender`."""

from .base import ConvergenceWarning, FactorModel, NotFittedError, Recommender
from .baseline import Baseline, GlobalMean, Popularity
from .bpmf import BayesianPMF
from .bpr import BPR
from .explanation import Explanation
from .ials import ImplicitMF
from .mf import MatrixFactorization
from .neighbors import EASE, ItemKNN
from .pmf import PMF

__all__ = [
    "Recommender",
    "FactorModel",
    "NotFittedError",
    "ConvergenceWarning",
    "Explanation",
    "GlobalMean",
    "Baseline",
    "Popularity",
    "MatrixFactorization",
    "PMF",
    "BayesianPMF",
    "ImplicitMF",
    "BPR",
    "ItemKNN",
    "EASE",
]
