"""Matrix factorization trained by gradient descent, SGD or alternating least squares.

All three solvers minimize the same objective (:func:`recsys_tutorial.objectives.mf_loss`):

.. math::

    J = \\sum_{(i,j) \\in \\Omega} (R_{ij} - \\hat R_{ij})^2
        + \\lambda \\Big(\\sum_i w_i \\lVert U_i \\rVert^2 + \\sum_j w_j \\lVert V_j \\rVert^2\\Big)
        + \\lambda_b \\Big(\\sum_i w_i b_i^2 + \\sum_j w_j c_j^2\\Big),

with :math:`\\hat R_{ij} = \\mu + b_i + c_j + U_i^\\top V_j` (``biased=True``,
:math:`\\mu` the training mean, kept fixed), :math:`\\hat R_{ij} = \\mu + U_i^\\top V_j`
(``biased=False, center=True``) or :math:`\\hat R_{ij} = U_i^\\top V_j` (``biased=False``,
the model of chapter 2), and row weights :math:`w_i = |\\Omega_i|^{\\nu}`
(``reg_exponent`` :math:`\\nu`): :math:`\\nu = 0` is the plain penalty,
:math:`\\nu = 1` the count-scaled one of ALS-WR and Spark MLlib, and the
classic per-rating SGD update of Funk and Surprise (``reg`` applied at every
rating of a user) is exactly :math:`\\nu = 1`.
"""

from __future__ import annotations

import itertools
import time
import warnings
from typing import ClassVar

import numpy as np

from ..data import Ratings
from ..linalg import RowGroups
from ..objectives import _sum_of_squares, mf_gradients, mf_loss, regularization_weights
from ..utils import check_random_state
from ..validation import BOOLEAN, NONE, RANDOM_STATE, Interval, Options
from .base import ConvergenceWarning, FactorModel, row_dots

__all__ = ["MatrixFactorization", "SOLVER_DEFAULTS"]

#: The solver-dependent defaults: a ``None`` argument takes its solver's value
#: here, and :meth:`MatrixFactorization.get_params` shows the value filled in.
#: The penalty means the same for every solver (``reg_exponent`` is shared).
#: ``benchmarks/tune.py`` chose them on training data only: fitted on 80 % of the
#: training part of the book's fixed split of MovieLens 100K, scored by RMSE on the
#: other 20 % (the test split is never used).  Grids: ALS ``n_factors`` in
#: {2, 5, 10, 20} times ``reg`` in {0.3, ..., 4.8} (factor 2) at ``reg_exponent=0.5``
#: and {0.025, ..., 0.4} at ``reg_exponent=1``; SGD ``reg`` in {0.5, 1, 2} times ``lr``
#: in {0.01, 0.02, 0.04}; GD ``reg`` in {0.5, 1, 2} times ``lr`` in {5e-4, ..., 4e-3};
#: for SGD and GD the best grid point that also trains stably on the whole training part
#: (GD's lr=2e-3 scores better on validation but diverges there).  ``n_epochs`` is not
#: searched.
SOLVER_DEFAULTS = {
    "als": {"n_factors": 5, "reg": 1.2, "n_epochs": 10, "lr": None, "batch_size": None},
    "sgd": {"n_factors": 10, "reg": 1.0, "n_epochs": 20, "lr": 0.02, "batch_size": 1024},
    "gd": {"n_factors": 10, "reg": 1.0, "n_epochs": 100, "lr": 1e-3, "batch_size": None},
}

#: Ratio of the objective to its starting value beyond which a trainer has diverged.
_EXPLODED = 1e3

#: SGD warns when its objective has risen this many epochs in a row.
_RISING_EPOCHS = 3


class MatrixFactorization(FactorModel):
    """Matrix factorization :math:`R \\approx \\mu + b 1^\\top + 1 c^\\top + U V^\\top`.

    A hyperparameter left at ``None`` takes its solver's default from
    :data:`SOLVER_DEFAULTS`, and :meth:`get_params` shows the value filled in
    before any fit; the values used are in ``settings_`` after :meth:`fit`.

    Parameters
    ----------
    n_factors : int or None, default=None
        Number of latent factors :math:`d` (``None``: the solver's default).  The
        solver defaults of ``n_factors``, ``reg`` and ``lr`` were chosen on validation
        data carved from the training part; :data:`SOLVER_DEFAULTS` gives the grids.
    solver : {"als", "sgd", "gd"}, default="als"
        ``"als"``: alternating least squares; each half-step solves the normal
        equations :math:`(\\sum_{j \\in \\Omega_i} \\tilde V_j \\tilde V_j^\\top + \\Lambda_i) x_i
        = \\sum_{j \\in \\Omega_i} y_{ij} \\tilde V_j`
        of every user at once (then every item), where :math:`\\tilde V_j = (V_j, 1)`
        carries the bias.  ``"sgd"``: stochastic gradient descent; for each
        rating :math:`e = R_{ij} - \\hat R_{ij}` and

        .. math::

            U_i \\leftarrow U_i + \\eta\\,(e V_j - \\lambda \\tfrac{w_i}{|\\Omega_i|} U_i),\\quad
            V_j \\leftarrow V_j + \\eta\\,(e U_i - \\lambda \\tfrac{w_j}{|\\Omega^j|} V_j),

        (and likewise the biases), the factor 2 of the gradient folded into
        :math:`\\eta`.  Summed over an epoch these per-rating penalties give
        exactly :math:`J`.  Ratings are visited in a fresh random order every
        epoch, in mini-batches of ``batch_size`` whose updates are computed at
        the same parameters and summed (``batch_size=1`` is the textbook
        one-rating-at-a-time loop).  ``"gd"``: full-batch gradient descent,
        :math:`\\theta \\leftarrow \\theta - \\eta \\nabla J`.
    reg : float or None, default=None
        :math:`\\lambda_U`, the L2 weight of the user factors, and of the item
        factors too unless ``reg_item`` is given.  It means the same penalty
        :math:`J` whatever the solver.
    reg_item : float or None, default=None
        :math:`\\lambda_V`, when it differs from :math:`\\lambda_U` (as in PMF
        with :math:`\\sigma_U \\ne \\sigma_V`).
    reg_bias : float or None, default=None
        :math:`\\lambda_b`, the L2 weight of the biases (``None``: ``reg``).
    reg_exponent : float, default=0.5
        :math:`\\nu` in the row weights :math:`w_i = |\\Omega_i|^{\\nu}`, shared by
        every solver (frequency-scaled regularization; chosen by ``benchmarks/tune.py``
        on validation data from the training part, where the best ALS setting at
        :math:`\\nu = 0.5` beat the best at :math:`\\nu = 1`; see :data:`SOLVER_DEFAULTS`).
    lr : float or None, default=None
        Learning rate :math:`\\eta` (``"sgd"`` and ``"gd"`` only; the two are
        different algorithms, so their stable steps differ).
    n_epochs : int or None, default=None
        Passes over the data (ALS: one pass = users then items); with ``tol``,
        the most it may make.
    tol : float or None, default=None
        Convergence test: stop once an epoch lowers :math:`J` by less than
        ``tol`` times its value, and warn (:class:`~recsys_tutorial.models.base.ConvergenceWarning`)
        when ``n_epochs`` run out first.  ``None``: run exactly ``n_epochs``.
    batch_size : int or None, default=None
        Ratings per SGD step (``"sgd"`` only).
    biased : bool, default=True
        Learn the biases :math:`b, c` around the training mean :math:`\\mu`.
    center : bool, default=False
        With ``biased=False``: model :math:`R - \\mu` rather than :math:`R`
        (``biased=True`` always includes :math:`\\mu`).
    init_std : float, default=0.1
        Factors start as :math:`\\mathcal N(0, \\text{init\\_std}^2)` draws; it must be
        positive (all-zero factors are a saddle point no solver leaves).
    random_state : None, int or numpy Generator, default=None
        Seeds the initialization and the SGD order: an int makes fits identical.
    verbose : bool, default=False
        Print the objective after each epoch (to stdout).

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray
        :math:`U` (n_users, d) and :math:`V` (n_items, d).
    user_bias_, item_bias_ : ndarray
        :math:`b` and :math:`c` (zeros when ``biased=False``).
    history_ : ndarray
        :math:`J` after each epoch.
    history_time_ : ndarray
        Wall-clock seconds from the start of training to the end of each
        epoch (machine-dependent; for plotting :math:`J` against time).
    settings_ : dict
        The hyperparameters the fit used, defaults filled in.

    Notes
    -----
    Users and items without a training rating keep zero factors and biases,
    so their prediction is the fallback: :math:`\\mu + c_j` for an unknown
    user, :math:`\\mu + b_i` for an unknown item, :math:`\\mu` for both (and
    :math:`\\mu` whenever either is unknown when ``biased=False``).
    Gradient solvers stop with a ``RuntimeError`` naming the learning rate
    when the objective becomes non-finite or grows a thousandfold, and SGD
    warns (:class:`~recsys_tutorial.models.base.ConvergenceWarning`) when it
    rises several epochs in a row; ALS stops with a ``ValueError`` naming the
    regularization when its normal equations are singular.
    """

    _fitted_attributes = (
        "user_factors_", "item_factors_", "user_bias_", "item_bias_", "offset_", "history_",
        "history_time_", "settings_",
    )  # fmt: skip
    _parameter_constraints: ClassVar[dict[str, list]] = {
        "n_factors": [Interval(int, 1, None), NONE],
        "solver": [Options(*SOLVER_DEFAULTS)],
        "reg": [Interval(float, 0.0, None), NONE],
        "reg_item": [Interval(float, 0.0, None), NONE],
        "reg_bias": [Interval(float, 0.0, None), NONE],
        "reg_exponent": [Interval(float, 0.0, None)],
        "lr": [Interval(float, 0.0, None, closed="neither"), NONE],
        "n_epochs": [Interval(int, 1, None), NONE],
        "tol": [Interval(float, 0.0, None, closed="neither"), NONE],
        "batch_size": [Interval(int, 1, None), NONE],
        "biased": [BOOLEAN],
        "center": [BOOLEAN],
        "init_std": [Interval(float, 0.0, None, closed="neither")],
        "random_state": [RANDOM_STATE],
        "verbose": [BOOLEAN],
    }

    def __init__(
        self,
        n_factors=None,
        *,
        solver="als",
        reg=None,
        reg_item=None,
        reg_bias=None,
        reg_exponent=0.5,
        lr=None,
        n_epochs=None,
        tol=None,
        batch_size=None,
        biased=True,
        center=False,
        init_std=0.1,
        random_state=None,
        verbose=False,
    ):
        self.n_factors = n_factors
        self.solver = solver
        self.reg = reg
        self.reg_item = reg_item
        self.reg_bias = reg_bias
        self.reg_exponent = reg_exponent
        self.lr = lr
        self.n_epochs = n_epochs
        self.tol = tol
        self.batch_size = batch_size
        self.biased = biased
        self.center = center
        self.init_std = init_std
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------------- setup
    def get_params(self, deep: bool = True) -> dict:
        """Hyperparameters as :meth:`fit` will use them: ``None`` shows its solver's default.

        ``reg_item`` and ``reg_bias`` stay ``None`` when they follow ``reg``.
        """
        params = super().get_params(deep)
        defaults = (
            SOLVER_DEFAULTS.get(params["solver"]) if isinstance(params["solver"], str) else None
        )
        if defaults is not None:
            for name, value in defaults.items():
                if params[name] is None:
                    params[name] = value
        return params

    def _check_params(self, p: dict) -> None:
        for name in ("lr", "batch_size"):
            if p["solver"] == "als" and getattr(self, name) is not None:
                raise ValueError(
                    f"MatrixFactorization: {name} is not used by solver='als'; leave it None"
                )
        if p["solver"] == "gd" and self.batch_size is not None:
            raise ValueError(
                "MatrixFactorization: batch_size is not used by solver='gd' (it uses all "
                "ratings); leave it None"
            )

    def _settings(self, p: dict) -> dict:
        """The values the fit uses: validated parameters, ``reg_item``/``reg_bias`` filled in."""
        s = {
            name: p[name]
            for name in ("n_factors", "reg", "reg_exponent", "n_epochs", "tol", "init_std")
        }
        s["reg_item"] = p["reg"] if p["reg_item"] is None else p["reg_item"]
        s["reg_bias"] = p["reg"] if p["reg_bias"] is None else p["reg_bias"]
        if p["solver"] != "als":
            s["lr"] = p["lr"]
        if p["solver"] == "sgd":
            s["batch_size"] = p["batch_size"]
        return s

    def _fit(self, ratings: Ratings, params: dict) -> None:
        s = self._settings(params)
        self.settings_ = s
        rng = check_random_state(params["random_state"])
        d = s["n_factors"]
        U = rng.normal(0.0, s["init_std"], size=(ratings.n_users, d))
        V = rng.normal(0.0, s["init_std"], size=(ratings.n_items, d))
        # rows without data stay exactly zero: that is the fallback prediction
        U[self.user_counts_ == 0] = 0.0
        V[self.item_counts_ == 0] = 0.0
        self.user_factors_, self.item_factors_ = U, V
        self.user_bias_ = np.zeros(ratings.n_users)
        self.item_bias_ = np.zeros(ratings.n_items)
        # the constant every prediction starts from: mu, or 0 for the plain model
        self.offset_ = self.global_mean_ if (self.biased or self.center) else 0.0
        prepare, step = {
            "als": (self._als_prepare, self._als_epoch),
            "sgd": (self._sgd_prepare, self._sgd_epoch),
            "gd": (lambda ratings, s: None, self._gd_epoch),
        }[self.solver]
        t0 = time.perf_counter()
        state = prepare(ratings, s)
        start = self.objective(ratings)
        history, seconds = [], []
        for epoch in range(s["n_epochs"]):
            value = step(ratings, s, rng, state)  # ALS returns J at no cost; the others None
            history.append(self.objective(ratings) if value is None else value)
            seconds.append(time.perf_counter() - t0)
            if self.verbose:
                print(f"epoch {epoch + 1:3d}: objective {history[-1]:.4f}")
            self._check_progress(history, start, epoch, s)
            if (
                s["tol"] is not None
                and len(history) > 1
                and history[-2] - history[-1] < s["tol"] * abs(history[-1])
            ):
                break
        else:
            if s["tol"] is not None:
                last_change = (
                    (history[-2] - history[-1]) / abs(history[-1])
                    if len(history) > 1
                    else float("nan")
                )
                warnings.warn(
                    f"MatrixFactorization ({self.solver}) stopped after n_epochs={s['n_epochs']} "
                    f"before its objective settled (last relative change "
                    f"{last_change:.2g} > tol={s['tol']:g}); raise n_epochs",
                    ConvergenceWarning,
                    stacklevel=3,
                )
        self.history_ = np.array(history)
        self.history_time_ = np.array(seconds)

    def _check_progress(self, history: list, start: float, epoch: int, s: dict) -> None:
        """Stop a diverging trainer with the likely cause; warn when SGD keeps climbing."""
        value = history[-1]
        if self.solver == "als":
            if not np.isfinite(value) or not np.all(np.isfinite(self.user_factors_)):
                raise RuntimeError(
                    f"als produced non-finite factors at epoch {epoch + 1}: the ratings' scale "
                    f"(up to {max(abs(self.rating_min_), abs(self.rating_max_)):.3g}) overflows "
                    "the normal equations; rescale the ratings"
                )
            return
        if not (np.isfinite(value) and value <= _EXPLODED * start):
            raise RuntimeError(
                f"{self.solver} diverged at epoch {epoch + 1}: the objective went from "
                f"{start:.4g} to {value:.4g}. The learning rate lr={s['lr']} is too large "
                f"for this data; try a smaller one (e.g. lr={s['lr'] / 10:g})."
            )
        recent = history[-(_RISING_EPOCHS + 1) :]
        if len(recent) == _RISING_EPOCHS + 1 and all(b > a for a, b in itertools.pairwise(recent)):
            warnings.warn(
                f"{self.solver}: the objective rose for {_RISING_EPOCHS} epochs in a row (epoch "
                f"{epoch + 1}: {value:.4g}); lr={s['lr']} is probably too large",
                ConvergenceWarning,
                stacklevel=4,
            )

    def objective(self, ratings: Ratings) -> float:
        """The training objective :math:`J` of the current parameters on ``ratings``."""
        with np.errstate(over="ignore", invalid="ignore"):
            return mf_loss(
                self.user_factors_, self.item_factors_, ratings, **self._objective_terms()
            )

    def _row_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The regularization weights w_i and w_j of the training users and items."""
        nu = self.settings_["reg_exponent"]
        return regularization_weights(self.user_counts_, nu), regularization_weights(
            self.item_counts_, nu
        )

    def _objective_terms(self) -> dict:
        """Keyword arguments of mf_loss/mf_gradients that describe this model's J."""
        s = self.settings_
        wu, wv = self._row_weights()
        terms = dict(
            reg_u=s["reg"], reg_v=s["reg_item"], mean=self.offset_, user_weights=wu, item_weights=wv
        )
        if self.biased:
            terms.update(
                user_bias=self.user_bias_, item_bias=self.item_bias_, reg_bias=s["reg_bias"]
            )
        return terms

    # ---------------------------------------------------------------- solvers
    def _als_prepare(self, ratings, s):
        return (
            RowGroups(ratings.users, ratings.items, ratings.n_users, ratings.n_items),
            RowGroups(ratings.items, ratings.users, ratings.n_items, ratings.n_users),
            *self._row_weights(),
        )

    def _als_epoch(self, ratings, s, rng, state):
        """One ALS sweep: exact minimization over all users, then over all items."""
        by_user, by_item, wu, wv = state
        values = ratings.values - self.offset_
        d = s["n_factors"]

        def half_step(groups, F, offset, weights, reg, side):
            """Minimize J over one side's rows; return them and sum(y^2) - sum_r x_r . b_r."""
            # with biases, the features get a column of ones whose coefficient is the bias
            if self.biased:
                F = np.hstack([F, np.ones((F.shape[0], 1))])
            penalty = np.full(d + self.biased, reg)
            if self.biased:
                penalty[-1] = s["reg_bias"]
            y = values - offset
            with np.errstate(all="ignore"):
                try:
                    X, b = groups.solve_ridge(F, y, weights[:, None] * penalty)
                    singular = not np.all(np.isfinite(X))
                except np.linalg.LinAlgError:
                    singular = True
            if singular:
                raise ValueError(
                    f"MatrixFactorization: the ALS normal equations of the {side} are singular: "
                    f"reg={reg:g}"
                    + (f", reg_bias={s['reg_bias']:g}" if self.biased else "")
                    + f" is too small for n_factors={d} (a {side[:-1]} with fewer ratings than "
                    "factors needs a positive penalty), or the ratings' scale overflows; "
                    "increase the regularization"
                )
            return X, _sum_of_squares(y) - float(np.einsum("rk,rk->", X, b))

        X, _ = half_step(
            by_user, self.item_factors_, self.item_bias_[ratings.items], wu, s["reg"], "users"
        )
        self.user_factors_ = X[:, :d]
        if self.biased:
            self.user_bias_ = X[:, d].copy()
        X, partial = half_step(
            by_item, self.user_factors_, self.user_bias_[ratings.users], wv, s["reg_item"], "items"
        )
        self.item_factors_ = X[:, :d]
        if self.biased:
            self.item_bias_ = X[:, d].copy()
        # With A x = b at the optimum, sum_Omega e^2 + (item penalties) = sum y^2 - sum_j x_j . b_j,
        # so J costs O(n d) here instead of another pass over the ratings (tests check it
        # against objectives.mf_loss).
        user_penalty = s["reg"] * float(
            np.einsum("i,ik,ik->", wu, self.user_factors_, self.user_factors_)
        )
        user_penalty += (
            s["reg_bias"] * float(np.einsum("i,i,i->", wu, self.user_bias_, self.user_bias_))
            if self.biased
            else 0.0
        )
        return partial + user_penalty

    def _sgd_prepare(self, ratings, s):
        # per-rating share of each row's penalty: summed over a row's ratings it gives w_i
        wu, wv = self._row_weights()
        share_u = wu / np.maximum(self.user_counts_, 1)
        share_v = wv / np.maximum(self.item_counts_, 1)
        return (
            s["reg"] * share_u,
            s["reg_item"] * share_v,
            s["reg_bias"] * share_u,
            s["reg_bias"] * share_v,
        )

    def _sgd_epoch(self, ratings, s, rng, state):
        """One pass of mini-batch SGD over the ratings in a fresh random order."""
        reg_u, reg_v, reg_b, reg_c = state
        lr, bs = s["lr"], s["batch_size"]
        U, V, b, c = self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_
        m, n, d = U.shape[0], V.shape[0], U.shape[1]
        cols = np.arange(d)
        order = rng.permutation(len(ratings))
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, order.size, bs):
                idx = order[start : start + bs]
                i, j = ratings.users[idx], ratings.items[idx]
                Ui, Vj = U[i], V[j]
                err = ratings.values[idx] - self.offset_ - np.einsum("kf,kf->k", Ui, Vj)
                if self.biased:
                    err -= b[i] + c[j]
                    b += np.bincount(i, lr * (err - reg_b[i] * b[i]), minlength=m)
                    c += np.bincount(j, lr * (err - reg_c[j] * c[j]), minlength=n)
                # summing the per-rating updates of a batch row by row (bincount on flat indices)
                step_u = lr * (err[:, None] * Vj - reg_u[i, None] * Ui)
                step_v = lr * (err[:, None] * Ui - reg_v[j, None] * Vj)
                U += np.bincount(
                    (i[:, None] * d + cols).ravel(), step_u.ravel(), minlength=m * d
                ).reshape(m, d)
                V += np.bincount(
                    (j[:, None] * d + cols).ravel(), step_v.ravel(), minlength=n * d
                ).reshape(n, d)

    def _gd_epoch(self, ratings, s, rng, state):
        """One step of full-batch gradient descent on :math:`J`."""
        with np.errstate(over="ignore", invalid="ignore"):
            grads = mf_gradients(
                self.user_factors_, self.item_factors_, ratings, **self._objective_terms()
            )
            self.user_factors_ = self.user_factors_ - s["lr"] * grads[0]
            self.item_factors_ = self.item_factors_ - s["lr"] * grads[1]
            if self.biased:
                self.user_bias_ = self.user_bias_ - s["lr"] * grads[2]
                self.item_bias_ = self.item_bias_ - s["lr"] * grads[3]

    # ---------------------------------------------------------------- predict
    def _score(self, users, items, known_u, known_i):
        both = known_u & known_i
        dot = np.einsum("kf,kf->k", self.user_factors_[users], self.item_factors_[items])
        if not self.biased:
            return np.where(both, self.offset_ + dot, self.global_mean_)
        return (
            self.global_mean_
            + np.where(known_u, self.user_bias_[users], 0.0)
            + np.where(known_i, self.item_bias_[items], 0.0)
            + np.where(both, dot, 0.0)
        )

    def _score_users(self, users):
        # users are training indices; unknown items have zero factors and biases, but
        # without biases their fallback is the global mean, not the offset
        scores = self.offset_ + row_dots(self.user_factors_[users], self.item_factors_)
        if self.biased:
            scores += self.user_bias_[users, None] + self.item_bias_
            return scores
        known_u = self.user_counts_[users] > 0
        scores[~known_u] = self.global_mean_
        scores[:, self.item_counts_ == 0] = self.global_mean_
        return scores

    # ------------------------------------------------------------- fold in
    def fold_in(self, items, values) -> tuple[np.ndarray, float]:
        """The factors (and bias) of a new user from a few ratings, the item side kept fixed.

        This is exactly the ALS user half-step for one more user: with
        :math:`\\tilde V_j = (V_j, 1)` (or :math:`V_j` without biases),
        :math:`y_j = R_j - \\mu - c_j` and :math:`w = n^{\\nu}` for the
        :math:`n` given ratings,

        .. math::

            \\Big(\\sum_j \\tilde V_j \\tilde V_j^\\top
                + w\\,\\mathrm{diag}(\\lambda_U, \\lambda_b)\\Big)
            \\binom{x}{b} = \\sum_j y_j \\tilde V_j .

        Parameters
        ----------
        items : array_like of int
            Training item indices the new user rated (each at most once).
        values : array_like of float
            The ratings, same length.

        Returns
        -------
        factors : ndarray (d,)
        bias : float
            0.0 for a model without biases.  The new user's predicted rating of item
            ``j`` is ``offset_ + bias + item_bias_[j] + factors @ item_factors_[j]``
            (:meth:`score_new_user` computes it for every item).
        """
        self._check_fitted()
        items = self._check_rows("items", items, self.n_items_)
        values = np.asarray(values, dtype=np.float64)
        if values.shape != items.shape:
            raise ValueError(
                f"items and values must have equal lengths; got {items.size} and {values.size}"
            )
        if items.size == 0:
            raise ValueError("items is empty: fold_in needs at least one rating")
        if np.unique(items).size != items.size:
            raise ValueError("items must not repeat: one rating per item")
        if not np.all(np.isfinite(values)):
            raise ValueError("values must be finite")
        s = self.settings_
        F = self.item_factors_[items]
        if self.biased:
            F = np.hstack([F, np.ones((items.size, 1))])
        y = values - self.offset_ - (self.item_bias_[items] if self.biased else 0.0)
        weight = regularization_weights(np.array([items.size]), s["reg_exponent"])[0]
        penalty = np.full(F.shape[1], s["reg"])
        if self.biased:
            penalty[-1] = s["reg_bias"]
        A = F.T @ F + np.diag(weight * penalty)
        x = np.linalg.solve(A, F.T @ y)
        d = self.item_factors_.shape[1]
        return x[:d], float(x[d]) if self.biased else 0.0

    def score_new_user(self, factors, bias: float = 0.0) -> np.ndarray:
        """Unclipped scores of every item for a folded-in user (see :meth:`fold_in`)."""
        self._check_fitted()
        factors = np.asarray(factors, dtype=np.float64)
        if factors.shape != (self.item_factors_.shape[1],):
            raise ValueError(
                f"factors must have shape ({self.item_factors_.shape[1]},); got {factors.shape}"
            )
        scores = self.offset_ + bias + self.item_factors_ @ factors
        return scores + self.item_bias_ if self.biased else scores
