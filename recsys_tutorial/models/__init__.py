"""The models of the book; every one is a :class:`~recsys_tutorial.models.base.Recommender`."""

from .base import NotFittedError, Recommender
from .baseline import Baseline, GlobalMean, Popularity
from .mf import MatrixFactorization
from .bpmf import BayesianPMF
from .pmf import PMF

__all__ = ["Recommender", "NotFittedError", "GlobalMean", "Baseline", "Popularity", "MatrixFactorization", "PMF", "BayesianPMF"]
