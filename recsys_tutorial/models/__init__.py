"""The models of the book; every one is a :class:`~recsys_tutorial.models.base.Recommender`."""

from .base import NotFittedError, Recommender
from .baseline import Baseline, GlobalMean, Popularity
from .mf import MatrixFactorization
from .bpmf import BayesianPMF
from .pmf import PMF
from .ials import ImplicitMF
from .bpr import BPR
from .neighbors import EASE, ItemKNN

__all__ = ["Recommender", "NotFittedError", "GlobalMean", "Baseline", "Popularity", "MatrixFactorization", "PMF", "BayesianPMF",
           "ImplicitMF", "BPR", "ItemKNN", "EASE"]
