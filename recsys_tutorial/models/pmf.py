"""Probabilistic matrix factorization (Salakhutdinov & Mnih, 2007): the MAP estimate.

The model of chapter 4:

.. math::

    R_{ij} \\mid U, V \\sim \\mathcal N(U_i^\\top V_j, \\sigma^2) \\text{ for } (i, j) \\in \\Omega,
    \\qquad U_i \\sim \\mathcal N(0, \\sigma_U^2 I),
    \\qquad V_j \\sim \\mathcal N(0, \\sigma_V^2 I).

Its log-posterior is, up to a constant,
:math:`-\\frac{1}{2\\sigma^2}\\big[\\sum_\\Omega (R_{ij} - U_i^\\top V_j)^2 + \\lambda_U \\sum_i
\\lVert U_i\\rVert^2 + \\lambda_V \\sum_j \\lVert V_j \\rVert^2\\big]` with
:math:`\\lambda_U = \\sigma^2/\\sigma_U^2` and :math:`\\lambda_V = \\sigma^2/\\sigma_V^2`, so the
MAP estimate *is* regularized matrix factorization with those weights, plain
(unweighted, :math:`\\nu = 0`) penalties and no biases.  :class:`PMF` is therefore
not a second trainer: it maps its parameters onto :class:`MatrixFactorization`
and fits that.  The priors stay fixed during training (feeding a posterior back
in as the next prior would count the data twice).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..data import Ratings
from ..objectives import pmf_log_posterior
from ..validation import BOOLEAN, NONE, RANDOM_STATE, Interval, Options
from .base import FactorModel, row_dots
from .mf import SOLVER_DEFAULTS, MatrixFactorization

__all__ = ["PMF"]


class PMF(FactorModel):
    """MAP estimate of probabilistic matrix factorization.

    Parameters
    ----------
    n_factors : int, default=4
        :math:`d`.
    sigma, sigma_u, sigma_v : float, default=1.0, 0.5, 0.5
        Standard deviations of the rating noise and of the Gaussian priors of
        the user and item factors.  They enter the MAP estimate only through
        :math:`\\lambda_U = \\sigma^2 / \\sigma_U^2` and
        :math:`\\lambda_V = \\sigma^2 / \\sigma_V^2`.
        The defaults give :math:`\\lambda_U = \\lambda_V = 4`, chosen with
        ``n_factors=4`` by ``benchmarks/tune.py`` on training data only: the grid
        :math:`\\sigma_U = \\sigma_V \\in \\{0.35, 0.5, 0.71, 1\\}` (:math:`\\lambda` = 8, 4,
        2, 1) times :math:`d \\in \\{2, 4, 8\\}`, fitted on 80 % of the training part of
        the book's fixed split of MovieLens 100K and scored by RMSE on the other 20 %.
    center : bool, default=True
        Model :math:`R - \\mu` (the training mean), as is usual for ratings on
        a 1-5 scale; ``False`` models :math:`R` itself, as in the derivation.
    solver, n_epochs, tol, lr, batch_size, init_std, random_state, verbose
        Passed to :class:`MatrixFactorization` (``None`` takes its defaults
        for the solver).  The MAP estimate is the optimum, so PMF trains until
        an epoch changes the objective by less than ``tol`` (default=1e-9)
        relative to its value, at most ``n_epochs`` (default=300) times, and warns if
        that is not enough.  Defaults: ``solver="als"``, ``lr=None``,
        ``batch_size=None``, ``init_std=0.1``, ``random_state=None``,
        ``verbose=False``.

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray
        The MAP estimates of :math:`U` and :math:`V`.
    history_ : ndarray
        The log-posterior (up to the evidence, every other constant kept:
        :func:`~recsys_tutorial.objectives.pmf_log_posterior`) after each epoch;
        it equals :math:`-J / (2\\sigma^2)` plus the prior and likelihood constants.
    """

    _fitted_attributes = ("user_factors_", "item_factors_", "offset_", "history_")
    _parameter_constraints: ClassVar[dict[str, list]] = {
        "n_factors": [Interval(int, 1, None)],
        "sigma": [Interval(float, 0.0, None, closed="neither")],
        "sigma_u": [Interval(float, 0.0, None, closed="neither")],
        "sigma_v": [Interval(float, 0.0, None, closed="neither")],
        "center": [BOOLEAN],
        "solver": [Options(*SOLVER_DEFAULTS)],
        "n_epochs": [Interval(int, 1, None)],
        "tol": [Interval(float, 0.0, None, closed="neither")],
        "lr": [Interval(float, 0.0, None, closed="neither"), NONE],
        "batch_size": [Interval(int, 1, None), NONE],
        "init_std": [Interval(float, 0.0, None, closed="neither")],
        "random_state": [RANDOM_STATE],
        "verbose": [BOOLEAN],
    }

    def __init__(
        self,
        n_factors=4,
        *,
        sigma=1.0,
        sigma_u=0.5,
        sigma_v=0.5,
        center=True,
        solver="als",
        n_epochs=300,
        tol=1e-9,
        lr=None,
        batch_size=None,
        init_std=0.1,
        random_state=None,
        verbose=False,
    ):
        self.n_factors = n_factors
        self.sigma = sigma
        self.sigma_u = sigma_u
        self.sigma_v = sigma_v
        self.center = center
        self.solver = solver
        self.n_epochs = n_epochs
        self.tol = tol
        self.lr = lr
        self.batch_size = batch_size
        self.init_std = init_std
        self.random_state = random_state
        self.verbose = verbose

    def _penalties(self, p: dict) -> tuple[float, float]:
        """:math:`\\lambda_U = (\\sigma/\\sigma_U)^2` and :math:`\\lambda_V`.

        Refused when they over- or underflow.
        """
        lams = []
        for name in ("sigma_u", "sigma_v"):
            with np.errstate(over="ignore", under="ignore"):
                ratio = np.float64(p["sigma"]) / np.float64(p[name])
                lam = ratio * ratio  # numpy floats overflow to inf where Python's raise
            if not (np.isfinite(lam) and lam > 0):
                raise ValueError(
                    f"PMF: sigma={p['sigma']:g} and {name}={p[name]:g} give a penalty "
                    f"(sigma/{name})^2 = {lam:g}, which is not a positive finite number; "
                    "use standard deviations on the scale of the ratings"
                )
            lams.append(float(lam))
        return lams[0], lams[1]

    def _check_params(self, p: dict) -> None:
        self._penalties(p)

    def to_matrix_factorization(self) -> MatrixFactorization:
        """The unfitted :class:`MatrixFactorization` whose minimizer is this PMF's MAP estimate."""
        p = self._validate_params()
        reg, reg_item = self._penalties(p)
        return MatrixFactorization(
            n_factors=self.n_factors,
            solver=self.solver,
            reg=reg,
            reg_item=reg_item,
            reg_exponent=0.0,  # a fixed Gaussian prior per row: the plain penalty
            lr=self.lr,
            n_epochs=self.n_epochs,
            tol=self.tol,
            batch_size=self.batch_size,
            biased=False,
            center=self.center,
            init_std=self.init_std,
            random_state=self.random_state,
            verbose=self.verbose,
        )

    def _fit(self, ratings: Ratings, params: dict) -> None:
        mf = self.to_matrix_factorization()
        mf.fit(ratings)
        self.user_factors_ = mf.user_factors_
        self.item_factors_ = mf.item_factors_
        self.offset_ = mf.offset_
        # log p(R - offset, U, V) = -J / (2 sigma^2) + the Gaussian normalizing constants
        d = self.user_factors_.shape[1]

        # log(2 pi s^2) as log(2 pi) + 2 log(s): no overflow for extreme (valid) scales
        def log_norm(s):
            return np.log(2 * np.pi) + 2 * np.log(s)

        constant = -0.5 * (
            len(ratings) * log_norm(params["sigma"])
            + ratings.n_users * d * log_norm(params["sigma_u"])
            + ratings.n_items * d * log_norm(params["sigma_v"])
        )
        self.history_ = -mf.history_ / (2 * params["sigma"] ** 2) + constant

    def log_posterior(self, ratings: Ratings) -> float:
        """The fitted factors' log-posterior on ``ratings``.

        See :func:`~recsys_tutorial.objectives.pmf_log_posterior`.
        """
        self._check_fitted()
        centred = Ratings(
            ratings.users,
            ratings.items,
            ratings.values - self.offset_,
            n_users=ratings.n_users,
            n_items=ratings.n_items,
        )
        return pmf_log_posterior(
            self.user_factors_, self.item_factors_, centred, self.sigma, self.sigma_u, self.sigma_v
        )

    def _score(self, users, items, known_u, known_i):
        dot = np.einsum("kf,kf->k", self.user_factors_[users], self.item_factors_[items])
        return np.where(known_u & known_i, self.offset_ + dot, self.global_mean_)

    def _score_users(self, users):
        scores = self.offset_ + row_dots(self.user_factors_[users], self.item_factors_)
        scores[self.user_counts_[users] == 0] = self.global_mean_
        scores[:, self.item_counts_ == 0] = self.global_mean_
        return scores

    def fold_in(self, items, values) -> np.ndarray:
        """The MAP factors of a new user from a few ratings, the item factors kept fixed.

        With :math:`\\lambda_U = \\sigma^2/\\sigma_U^2`, the posterior mode of
        :math:`U_{\\text{new}}` given the ratings :math:`R_j` of the items :math:`j`:
        :math:`(\\sum_j V_j V_j^\\top + \\lambda_U I)^{-1} \\sum_j (R_j - \\mu) V_j`, the
        user half-step of PMF's ALS for one more user.  See
        :meth:`MatrixFactorization.fold_in` for the arguments.
        """
        factors, _ = self._as_matrix_factorization().fold_in(items, values)
        return factors

    def _as_matrix_factorization(self) -> MatrixFactorization:
        """The fitted :class:`MatrixFactorization` this PMF's factors and penalties define."""
        self._check_fitted()
        mf = self.to_matrix_factorization()
        for name in self._common_attributes:
            setattr(mf, name, getattr(self, name))
        mf._set_counts()
        mf.user_factors_, mf.item_factors_, mf.offset_ = (
            self.user_factors_,
            self.item_factors_,
            self.offset_,
        )
        mf.user_bias_, mf.item_bias_ = np.zeros(self.n_users_), np.zeros(self.n_items_)
        mf.settings_ = mf._settings(mf._validate_params())
        return mf
