"""Weighted matrix factorization for implicit feedback, trained by iALS (chapter 7).

Hu, Koren & Volinsky (2008) treat every pair :math:`(i, j)` as data: the
preference :math:`p_{ij} = \\delta_{ij}` is 1 if user :math:`i` rated item
:math:`j` and 0 otherwise, weighted by a confidence :math:`c_{ij}` (1 for the
unobserved pairs).  The objective is :func:`recsys_tutorial.objectives.wmf_loss`,

.. math::

    J = \\sum_{i,j} c_{ij} (p_{ij} - U_i^\\top V_j)^2
        + \\lambda \\Big(\\sum_i w_i \\lVert U_i \\rVert^2
        + \\sum_j w_j \\lVert V_j \\rVert^2\\Big).

Fixing :math:`V`, :math:`J` is a quadratic in each :math:`U_i`, minimized at

.. math::

    \\Big(V^\\top V + \\sum_{j \\in \\Omega_i} (c_{ij} - 1) V_j V_j^\\top + \\lambda w_i I\\Big) U_i
    = \\sum_{j \\in \\Omega_i} c_{ij} V_j ,

the normal equations of iALS: the Gram matrix :math:`V^\\top V` carries all
:math:`n` items at once and is computed once per half-step; only user
:math:`i`'s observed items add a correction.  One sweep costs
:math:`O(|\\Omega| d^2 + (m + n) d^3)` with exact solves, or
:math:`O(s\\,(|\\Omega| d + (m + n) d^2))` with :math:`s` conjugate-gradient steps.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from ..data import Ratings
from ..linalg import RowGroups, cholesky_solve
from ..objectives import _SCALINGS, confidence, regularization_weights, wmf_loss
from ..utils import check_random_state, check_ratings
from ..validation import BOOLEAN, RANDOM_STATE, Interval, Options
from .base import FactorModel, row_dots
from .preference import PreferenceRecommender

__all__ = ["ImplicitMF"]

_SOLVERS = ("cg", "cholesky")

#: Observed pairs per block of the batched dot products: a block's gathered
#: rows (block x d doubles) stay in the CPU cache instead of going through memory.
_BLOCK_ELEMENTS = 1 << 16


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("rk,rk->r", a, b)


class _Side:
    """The data of one half-step: the rows solved for, grouped with their observed columns.

    ``weight`` is the CSR matrix of :math:`c_{ij} - 1` and ``target`` that of
    :math:`c_{ij} p_{ij} = c_{ij}`, both rows x columns.
    """

    def __init__(self, groups: RowGroups, c: np.ndarray, d: int) -> None:
        self.excess = c - 1.0  # in input order, for RowGroups.gram
        self.weight = groups.matrix(self.excess)
        self.target = groups.matrix(c)
        self.groups = groups
        indptr = self.weight.indptr
        self.counts = np.diff(indptr)
        # row blocks of about _BLOCK_ELEMENTS / d observed pairs each
        per_block = max(1, _BLOCK_ELEMENTS // d)
        cuts = np.searchsorted(indptr, np.arange(0, indptr[-1], per_block), side="right") - 1
        self.blocks = np.unique(np.append(cuts, groups.n_rows))

    def correction(self, F: np.ndarray, P: np.ndarray) -> np.ndarray:
        """:math:`\\sum_{j \\in \\Omega_i} (c_{ij} - 1) (V_j^\\top P_i) V_j` for every row ``i``.

        The dot products are taken on the observed pairs only (block by block),
        then one sparse product sums the weighted columns.
        """
        W = self.weight
        dots = np.empty(W.indices.size)
        for lo, hi in zip(self.blocks[:-1], self.blocks[1:]):
            a, b = W.indptr[lo], W.indptr[hi]
            dots[a:b] = _rowdot(F[W.indices[a:b]], np.repeat(P[lo:hi], self.counts[lo:hi], axis=0))
        return sp.csr_matrix((W.data * dots, W.indices, W.indptr), shape=W.shape) @ F


class ImplicitMF(PreferenceRecommender, FactorModel):
    """Weighted matrix factorization (WMF) of implicit feedback, trained by iALS.

    Minimizes :math:`J` of the module docstring by alternating exact (or
    conjugate-gradient) minimizations over all users, then all items.
    Scores are :math:`\\hat x_{ij} = U_i^\\top V_j`, a preference, not a star rating.

    Parameters
    ----------
    n_factors : int, default=64
        Number of latent factors :math:`d`.
    reg : float, default=5.0
        :math:`\\lambda > 0`.
    alpha : float, default=5.0
        :math:`\\alpha` of the confidence :math:`c_{ij} = 1 + \\alpha r_{ij}`
        of an observed pair.  (The ``implicit`` library, 0.7, uses
        :math:`c_{ij} = \\alpha r_{ij}`: its ``alpha=2`` is ``alpha=1`` here.)
    reg_exponent : float, default=0.5
        :math:`\\nu` of the row weights :math:`w_i = |\\Omega_i|^{\\nu}`:
        frequency-scaled regularization (Rendle et al. 2022) for
        :math:`\\nu > 0`, the plain penalty of Hu et al. for :math:`\\nu = 0`.
    n_epochs : int, default=15
        Sweeps (users, then items).
    solver : {"cg", "cholesky"}, default="cg"
        ``"cholesky"`` solves every user's (item's) normal equations exactly,
        forming each :math:`d \\times d` matrix (:math:`O(|\\Omega| d^2)` per
        half-step plus the factorizations, and :math:`(m + n) d^2` memory): the
        reference for small :math:`d`, tens of times slower than ``"cg"`` at
        :math:`d \\ge 64` on MovieLens 100K.  ``"cg"`` takes ``cg_steps``
        conjugate-gradient steps on all users at once, warm-started from the
        previous factors (Takács et al. 2011; the ``implicit`` library does
        the same), never forming the matrices: each step multiplies by
        :math:`V^\\top V` and adds the correction over the observed pairs,
        :math:`O(|\\Omega| d + m d^2)`.
    cg_steps : int, default=3
        Conjugate-gradient steps per half-step (``solver="cg"``).
    use_values : bool, default=False
        ``False``: every rating is a positive with :math:`r_{ij} = 1`, so
        :math:`c_{ij} = 1 + \\alpha`; this is the default because on MovieLens
        a rating of any value says the user watched the film, which is what a
        top-N list predicts (the protocol of chapter 6).  ``True``: the star
        value is :math:`r_{ij}` and a 5-star film weighs more than a 1-star one.
    scaling : {"linear", "log"}, default="linear"
        :math:`c = 1 + \\alpha r` or :math:`c = 1 + \\alpha \\log(1 + r / \\varepsilon)`.
    eps : float, default=1.0
        :math:`\\varepsilon` of the log scaling.
    init_std : float, default=0.01
        Factors start as :math:`\\mathcal N(0, \\text{init\\_std}^2)` draws.
    random_state : None, int or numpy Generator, default=None
        Seeds the initialization: an int makes fits identical.
    verbose : bool, default=False
        Print the objective after each epoch (to stdout).

    The defaults of ``n_factors``, ``reg``, ``alpha`` and ``reg_exponent`` are
    the best of the validation grid of ``benchmarks/topn.py``: NDCG@10 on a
    split of MovieLens 100K fold 0's *training* part, never on a test fold
    (``reg_exponent=0.5`` and the grid's region came from an earlier search on
    the same validation split).  Chapter 7 shows the grid.

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray
        :math:`U` (n_users, d) and :math:`V` (n_items, d).
    history_ : ndarray
        :math:`J` after each epoch (computed as in ``wmf_loss``, never over
        :math:`m n` terms).
    history_time_ : ndarray
        Seconds from the start of training to the end of each epoch.

    Notes
    -----
    :meth:`predict` returns the preference score :math:`U_i^\\top V_j` itself,
    unclipped (it is not a star rating).  Users and items without training
    ratings end with zero factors (their normal equations have a zero
    right-hand side), so they score 0: an unknown user's list is ordered by
    item index; fold its items in to do better (chapter 8).  They are also
    left out of :meth:`similar_items` / :meth:`similar_users`.
    """

    _fitted_attributes = ("user_factors_", "item_factors_", "history_", "history_time_")
    _parameter_constraints = {
        "n_factors": [Interval(int, 1, None)],
        "reg": [Interval(float, 0.0, None, closed="neither")],
        "alpha": [Interval(float, 0.0, None)],
        "reg_exponent": [Interval(float, 0.0, None)],
        "n_epochs": [Interval(int, 1, None)],
        "solver": [Options(*_SOLVERS)],
        "cg_steps": [Interval(int, 1, None)],
        "use_values": [BOOLEAN],
        "scaling": [Options(*_SCALINGS)],
        "eps": [Interval(float, 0.0, None, closed="neither")],
        # all-zero factors are a fixed point of iALS (every right-hand side is 0)
        "init_std": [Interval(float, 0.0, None, closed="neither")],
        "random_state": [RANDOM_STATE],
        "verbose": [BOOLEAN],
    }

    def __init__(
        self,
        n_factors=64,
        *,
        reg=5.0,
        alpha=5.0,
        reg_exponent=0.5,
        n_epochs=15,
        solver="cg",
        cg_steps=3,
        use_values=False,
        scaling="linear",
        eps=1.0,
        init_std=0.01,
        random_state=None,
        verbose=False,
    ):
        self.n_factors = n_factors
        self.reg = reg
        self.alpha = alpha
        self.reg_exponent = reg_exponent
        self.n_epochs = n_epochs
        self.solver = solver
        self.cg_steps = cg_steps
        self.use_values = use_values
        self.scaling = scaling
        self.eps = eps
        self.init_std = init_std
        self.random_state = random_state
        self.verbose = verbose

    @staticmethod
    def _feedback(ratings: Ratings, use_values: bool) -> Ratings:
        """The ratings whose values enter the confidence (all ones unless ``use_values``)."""
        if use_values:
            return ratings
        return Ratings(
            ratings.users, ratings.items, np.ones(len(ratings)), ratings.n_users, ratings.n_items
        )

    def _fit(self, ratings: Ratings, params: dict) -> None:
        # overflow is reported once, by the finiteness check of each epoch, not as numpy warnings
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._train(ratings, params)

    def _train(self, ratings: Ratings, p: dict) -> None:
        d = p["n_factors"]
        feedback = self._feedback(ratings, p["use_values"])
        c = confidence(feedback.values, p["alpha"], scaling=p["scaling"], eps=p["eps"])
        m, n = ratings.n_users, ratings.n_items
        users = _Side(RowGroups(ratings.users, ratings.items, m, n), c, d)
        items = _Side(RowGroups(ratings.items, ratings.users, n, m), c, d)
        wu = regularization_weights(self.user_counts_, p["reg_exponent"])
        wv = regularization_weights(self.item_counts_, p["reg_exponent"])
        rng = check_random_state(p["random_state"])
        U = rng.normal(0.0, p["init_std"], size=(m, d))
        V = rng.normal(0.0, p["init_std"], size=(n, d))
        U[self.user_counts_ == 0] = 0.0
        V[self.item_counts_ == 0] = 0.0
        total_confidence = float(c.sum())
        history, seconds = [], []
        t0 = time.perf_counter()
        for epoch in range(p["n_epochs"]):
            U, _ = self._half_step(users, V, U, p["reg"] * wu, p)
            V, partial = self._half_step(items, U, V, p["reg"] * wv, p)
            # J = sum_Omega c - sum_j V_j.(b_j + r_j) + lambda sum_i w_i |U_i|^2 (see _half_step)
            history.append(
                total_confidence + partial + p["reg"] * float(np.einsum("i,ik,ik->", wu, U, U))
            )
            seconds.append(time.perf_counter() - t0)
            if not (np.isfinite(history[-1]) and np.isfinite(U).all() and np.isfinite(V).all()):
                raise RuntimeError(
                    f"ImplicitMF: the factors became non-finite in epoch {epoch + 1}: the "
                    f"penalty or the confidence overflows float64 (reg={p['reg']}, "
                    f"reg_exponent={p['reg_exponent']}, alpha={p['alpha']}, "
                    f"init_std={p['init_std']}); use smaller values"
                )
            if p["verbose"]:
                print(f"epoch {epoch + 1:3d}: objective {history[-1]:.4f}")
        self.user_factors_, self.item_factors_ = U, V
        self.history_ = np.array(history)
        self.history_time_ = np.array(seconds)

    def _half_step(self, side: _Side, F: np.ndarray, X: np.ndarray, lam: np.ndarray, p: dict):
        """Minimize J over one side's rows given the other side's factors ``F``.

        Returns the new rows ``X`` and :math:`\\sum_r (x_r^\\top A_r x_r - 2 b_r^\\top x_r)`,
        the part of :math:`J` that depends on them (their penalty is inside :math:`A_r`),
        computed as :math:`-\\sum_r x_r^\\top (b_r + \\rho_r)` with the residual
        :math:`\\rho_r = b_r - A_r x_r` (zero up to rounding for exact solves); CG
        updates :math:`\\rho` as it goes, so this costs :math:`O(r d)`.
        """
        gram = F.T @ F
        b = side.target @ F

        def apply(P):  # A_r P_r for every row r at once, never forming A_r
            return P @ gram + lam[:, None] * P + side.correction(F, P)

        if p["solver"] == "cholesky":
            A = side.groups.gram(F, side.excess)
            A += gram
            diag = np.arange(F.shape[1])
            A[:, diag, diag] += lam[:, None]
            X = cholesky_solve(A, b)
            residual = b - np.einsum("rkl,rl->rk", A, X)
        else:
            X = X.copy()
            residual = b - apply(X)
            direction = residual.copy()
            rs = _rowdot(residual, residual)
            for _ in range(p["cg_steps"]):
                Ad = apply(direction)
                dAd = _rowdot(direction, Ad)
                # rows already solved (e.g. users without data: b = 0, x = 0) have dAd = 0
                step = np.divide(rs, dAd, out=np.zeros_like(rs), where=dAd > 0)
                X += step[:, None] * direction
                residual -= step[:, None] * Ad
                rs_new = _rowdot(residual, residual)
                beta = np.divide(rs_new, rs, out=np.zeros_like(rs), where=rs > 0)
                direction = residual + beta[:, None] * direction
                rs = rs_new
        return X, -float(np.einsum("rk,rk->", X, b + residual))

    def objective(self, ratings: Ratings) -> float:
        """:math:`J` of the current factors on ``ratings``, by :func:`.objectives.wmf_loss`."""
        self._check_fitted()
        p = self._validate_params()
        nu = p["reg_exponent"]
        feedback = self._feedback(check_ratings("ratings", ratings), p["use_values"])
        return wmf_loss(
            self.user_factors_, self.item_factors_, feedback, p["alpha"], p["reg"],
            scaling=p["scaling"], eps=p["eps"],
            user_weights=regularization_weights(feedback.user_counts(), nu),
            item_weights=regularization_weights(feedback.item_counts(), nu),
        )  # fmt: skip

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return row_dots(self.user_factors_[users], self.item_factors_)
