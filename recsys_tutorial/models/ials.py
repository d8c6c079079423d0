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
from functools import partial
from typing import ClassVar

import numpy as np

from ..data import Ratings
from ..linalg import RowGroups, for_each, solve_spd
from ..objectives import _SCALINGS, confidence, regularization_weights, wmf_loss
from ..utils import check_random_state, check_ratings
from ..validation import BOOLEAN, NONE, RANDOM_STATE, Interval, Options
from .base import FactorModel, row_dots
from .explanation import Explanation
from .preference import PreferenceRecommender

__all__ = ["ImplicitMF"]

_SOLVERS = ("cg", "cholesky")

#: A bucket holds rows whose numbers of observed pairs are within this ratio of
#: its shortest row's (so padding adds at most 25% work) ...
_BUCKET_RATIO = 1.25
#: ... and a gathered block of at most this many bytes, so that it stays in the
#: CPU's L2 cache while the bucket's CG steps use it again and again.
_BUCKET_BYTES = 1 << 20


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("rk,rk->r", a, b)


class _Side:
    """The data of one half-step: the rows solved for, grouped with their observed columns.

    Rows are sorted by their number of observed pairs and cut into buckets of
    nearly equal length; bucket :math:`b` holds ``rows``, ``columns`` (rows x
    L, the observed columns of each row, padded with the index ``n_cols`` of
    a zero factor row), ``weights`` (the matching :math:`c_{ij} - 1`) and
    ``targets`` (:math:`c_{ij} p_{ij} = c_{ij}`), both 0 where padded.
    Gathering the other side's factors ``F[columns]`` gives a dense
    (rows, L, d) block :math:`G`, on which every per-row sum over the
    observed pairs is one stacked matrix product.
    """

    def __init__(self, groups: RowGroups, c: np.ndarray, d: int, dtype) -> None:
        self.n_rows, self.n_cols = groups.n_rows, groups.n_cols
        indptr, indices = groups.indptr, groups.indices
        c_csr = c[groups.order]  # in CSR order
        counts = np.diff(indptr)
        order = np.argsort(counts, kind="stable")
        sorted_counts = counts[order]
        max_entries = max(1, _BUCKET_BYTES // (d * np.dtype(dtype).itemsize))
        self.buckets = []
        start = int(np.searchsorted(sorted_counts, 1))  # rows without pairs: no correction
        while start < order.size:
            limit = sorted_counts[start] * _BUCKET_RATIO
            stop = int(np.searchsorted(sorted_counts, limit, side="right"))
            stop = min(stop, start + max(1, max_entries // int(sorted_counts[stop - 1])))
            rows = order[start:stop]
            offsets = np.arange(sorted_counts[stop - 1])
            inside = offsets < counts[rows, None]
            positions = np.where(inside, indptr[rows, None] + offsets, 0)
            columns = np.where(inside, indices[positions], self.n_cols).astype(np.intp)
            weights = np.where(inside, c_csr[positions] - 1.0, 0).astype(dtype)
            targets = np.where(inside, c_csr[positions], 0).astype(dtype)
            self.buckets.append((rows, columns, weights, targets))
            start = stop

    def padded(self, F: np.ndarray) -> np.ndarray:
        """``F`` with a zero row appended at index ``n_cols``, the padding of ``columns``."""
        padded = np.zeros((self.n_cols + 1, F.shape[1]), dtype=F.dtype)
        padded[: self.n_cols] = F
        return padded


def _apply_normal_matrix(gram, lam, G, weights, P):
    """:math:`A_r P_r = (F^\\top F + \\lambda w_r I) P_r` + the correction, for a block's rows."""
    out = P @ gram
    out += lam * P
    out += _correction(G, weights, P)
    return out


def _correction(G: np.ndarray, weights: np.ndarray, P: np.ndarray) -> np.ndarray:
    """:math:`\\sum_{j \\in \\Omega_i} (c_{ij} - 1) (V_j^\\top P_i) V_j` for the rows of a block.

    Two stacked matrix-vector products with the block :math:`G` (rows, L, d):
    the dots :math:`t = G_i P_i` over the observed pairs, then
    :math:`G_i^\\top (w_i \\odot t)`.
    """
    dots = np.matmul(G, P[:, :, None])[:, :, 0]
    return np.matmul((weights * dots)[:, None, :], G)[:, 0, :]


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
        :math:`\\nu` of the row weights :math:`w_i = s_i^{\\nu}`:
        frequency-scaled regularization (Rendle et al. 2022) for
        :math:`\\nu > 0`, the plain penalty of Hu et al. for :math:`\\nu = 0`.
    reg_weighting : {"observed", "all"}, default="observed"
        What :math:`s_i` counts.  ``"observed"``: the row's observed pairs,
        :math:`s_i = |\\Omega_i|` (as ALS-WR).  ``"all"``: the total confidence
        of the row's terms in :math:`J`, over all :math:`n` columns,
        :math:`s_i = \\sum_j c_{ij} = n + \\sum_{j \\in \\Omega_i} (c_{ij} - 1)`
        (for items, :math:`m` + ...): Rendle et al.'s weights
        :math:`(|\\Omega_i| + \\alpha_0 n)^{\\nu}`, which are these up to a
        constant factor when their unobserved weight is :math:`\\alpha_0 = 1 / \\alpha`.
    n_epochs : int, default=15
        Sweeps (users, then items).
    solver : {"cg", "cholesky"}, default="cg"
        ``"cholesky"`` solves every user's (item's) normal equations exactly
        (:func:`recsys_tutorial.linalg.solve_spd`), forming each
        :math:`d \\times d` matrix, one bucket of users at a time
        (:math:`O(|\\Omega| d^2)` per half-step plus the factorizations): the
        reference, several times slower than ``"cg"`` at :math:`d = 64` on
        MovieLens 100K, with the same rankings.  ``"cg"`` takes ``cg_steps``
        conjugate-gradient steps on every user, warm-started from the
        previous factors (Takács et al. 2011; the ``implicit`` library does
        the same), never forming the matrices: each step multiplies by
        :math:`V^\\top V` and adds the correction over the observed pairs,
        :math:`O(|\\Omega| d + m d^2)`.  Users are solved in buckets of users
        with about as many ratings: a bucket's factor rows are gathered into
        a block small enough to stay in the CPU cache, which all of its CG
        steps reuse (two stacked matrix-vector products per step).
    cg_steps : int, default=3
        Conjugate-gradient steps per half-step (``solver="cg"``).
    dtype : {"float64", "float32"}, default="float64"
        The precision of the factors and of the training arithmetic.
        ``"float32"`` halves the memory traffic and is about twice as fast (the
        ``implicit`` library computes in float32); on fold 1 of MovieLens 100K
        its NDCG@10 differs from float64's in the fourth decimal.  The
        brute-force checks of the tests use ``"float64"``.  Scores and
        predictions are returned as float64 either way.
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
    n_threads : int or None, default=None
        Solve each half-step's buckets of rows in this many threads, BLAS held
        to one thread meanwhile (:func:`recsys_tutorial.linalg.for_each`); the
        rows are independent given the other side, so the result is bit-for-bit
        the same for every ``n_threads``.  ``None`` runs in the calling thread.

    The defaults of ``n_factors``, ``reg``, ``alpha`` and ``reg_exponent`` are
    the best of the validation grid of ``benchmarks/topn.py`` (d in {64, 128}, alpha
    in {0, 1, 2, 5}, reg from 1 to 12): NDCG@10 on a
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
    seen_values_ : ndarray
        The training values in the order of ``seen_indices_`` (each user's
        items), so that :meth:`explain` needs no data argument.

    Notes
    -----
    :meth:`predict` returns the preference score :math:`U_i^\\top V_j` itself,
    unclipped (it is not a star rating).  Users and items without training
    ratings end with zero factors (their normal equations have a zero
    right-hand side), so they score 0: an unknown user's list is ordered by
    item index; fold its items in to do better (chapter 8).  They are also
    left out of :meth:`similar_items` / :meth:`similar_users`.
    """

    _fitted_attributes = (
        "user_factors_", "item_factors_", "history_", "history_time_", "seen_values_",
    )  # fmt: skip
    _parameter_constraints: ClassVar[dict[str, list]] = {
        "n_factors": [Interval(int, 1, None)],
        "reg": [Interval(float, 0.0, None, closed="neither")],
        "alpha": [Interval(float, 0.0, None)],
        "reg_exponent": [Interval(float, 0.0, None)],
        "reg_weighting": [Options("observed", "all")],
        "n_epochs": [Interval(int, 1, None)],
        "solver": [Options(*_SOLVERS)],
        "cg_steps": [Interval(int, 1, None)],
        "dtype": [Options("float64", "float32")],
        "use_values": [BOOLEAN],
        "scaling": [Options(*_SCALINGS)],
        "eps": [Interval(float, 0.0, None, closed="neither")],
        # all-zero factors are a fixed point of iALS (every right-hand side is 0)
        "init_std": [Interval(float, 0.0, None, closed="neither")],
        "random_state": [RANDOM_STATE],
        "verbose": [BOOLEAN],
        "n_threads": [Interval(int, 1, None), NONE],
    }

    def __init__(
        self,
        n_factors=64,
        *,
        reg=5.0,
        alpha=5.0,
        reg_exponent=0.5,
        reg_weighting="observed",
        n_epochs=15,
        solver="cg",
        cg_steps=3,
        dtype="float64",
        use_values=False,
        scaling="linear",
        eps=1.0,
        init_std=0.01,
        random_state=None,
        verbose=False,
        n_threads=None,
    ):
        self.n_factors = n_factors
        self.reg = reg
        self.alpha = alpha
        self.reg_exponent = reg_exponent
        self.reg_weighting = reg_weighting
        self.n_epochs = n_epochs
        self.solver = solver
        self.cg_steps = cg_steps
        self.dtype = dtype
        self.use_values = use_values
        self.scaling = scaling
        self.eps = eps
        self.init_std = init_std
        self.random_state = random_state
        self.verbose = verbose
        self.n_threads = n_threads

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
        dtype = np.dtype(p["dtype"])
        users = _Side(RowGroups(ratings.users, ratings.items, m, n), c, d, dtype)
        items = _Side(RowGroups(ratings.items, ratings.users, n, m), c, d, dtype)
        wu, wv = self._penalty_weights(ratings, c, p)
        rng = check_random_state(p["random_state"])
        # drawn in float64 whatever the dtype, so float32 starts from the rounded same point
        U = rng.normal(0.0, p["init_std"], size=(m, d)).astype(dtype)
        V = rng.normal(0.0, p["init_std"], size=(n, d)).astype(dtype)
        U[self.user_counts_ == 0] = 0.0
        V[self.item_counts_ == 0] = 0.0
        total_confidence = float(c.sum())
        history, seconds = [], []
        t0 = time.perf_counter()
        for epoch in range(p["n_epochs"]):
            U, _ = self._half_step(users, V, U, (p["reg"] * wu).astype(dtype), p)
            V, partial = self._half_step(items, U, V, (p["reg"] * wv).astype(dtype), p)
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

        Every row's system is its own, so the rows are solved bucket by bucket:
        a bucket's block of gathered factor rows is used by all of its CG steps
        while it is still in the CPU cache.  Rows without observed pairs have
        :math:`b_r = 0` and keep :math:`x_r = 0`.
        """
        gram = F.T @ F
        X = X.copy()
        b = np.zeros_like(X)  # rows without observed pairs: b = 0
        residual = np.zeros_like(X)
        padded = side.padded(F)

        def solve_bucket(rows, columns, weights, targets):
            G = padded[columns]  # (rows, L, d): the bucket's factor rows, gathered
            lam_r = lam[rows, None]
            # b_r = sum_j c_rj F_j, from the block while it is in the cache
            b[rows] = np.matmul(targets[:, None, :], G)[:, 0, :]
            if p["solver"] == "cholesky":
                A = np.matmul(G.transpose(0, 2, 1), weights[:, :, None] * G) + gram
                diag = np.arange(F.shape[1])
                A[:, diag, diag] += lam_r
                x = solve_spd(A, b[rows])
                residual[rows] = b[rows] - np.einsum("rkl,rl->rk", A, x)
                X[rows] = x
                return
            # A_r P_r for the bucket's rows, never forming A_r
            apply = partial(_apply_normal_matrix, gram, lam_r, G, weights)
            x = X[rows]
            r = b[rows] - apply(x)
            direction = r.copy()
            rs = _rowdot(r, r)
            for _ in range(p["cg_steps"]):
                Ad = apply(direction)
                dAd = _rowdot(direction, Ad)
                # rows already solved have dAd = 0
                step = (rs / np.where(dAd > 0, dAd, np.inf))[:, None]
                x += step * direction
                Ad *= step
                r -= Ad
                rs_new = _rowdot(r, r)
                direction *= (rs_new / np.where(rs > 0, rs, np.inf))[:, None]
                direction += r
                rs = rs_new
            X[rows], residual[rows] = x, r

        for_each(solve_bucket, side.buckets, p["n_threads"])
        return X, -float(np.einsum("rk,rk->", X, b + residual, dtype=np.float64))

    @staticmethod
    def _penalty_weights(ratings: Ratings, c: np.ndarray, p: dict) -> tuple:
        """The row weights :math:`w_i = s_i^{\\nu}` of users and items (see ``reg_weighting``)."""
        if p["reg_weighting"] == "observed":
            su, sv = ratings.user_counts(), ratings.item_counts()
        else:
            m, n = ratings.shape
            su = n + np.bincount(ratings.users, c - 1.0, minlength=m)
            sv = m + np.bincount(ratings.items, c - 1.0, minlength=n)
        nu = p["reg_exponent"]
        return regularization_weights(su, nu), regularization_weights(sv, nu)

    def objective(self, ratings: Ratings) -> float:
        """:math:`J` of the current factors on ``ratings``, by :func:`.objectives.wmf_loss`."""
        self._check_fitted()
        p = self._validate_params()
        feedback = self._feedback(check_ratings("ratings", ratings), p["use_values"])
        c = confidence(feedback.values, p["alpha"], scaling=p["scaling"], eps=p["eps"])
        wu, wv = self._penalty_weights(feedback, c, p)
        return wmf_loss(
            self.user_factors_, self.item_factors_, feedback, p["alpha"], p["reg"],
            scaling=p["scaling"], eps=p["eps"], user_weights=wu, item_weights=wv,
        )  # fmt: skip

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return row_dots(self.user_factors_[users], self.item_factors_)

    # ------------------------------------------------------------- fold in
    def _new_row_system(self, name, rows, values, other):
        """One new row's normal equations against the fixed factors ``other`` (float64).

        Returns ``(rows, G, c, A)``: the validated indices, their factor rows
        :math:`G = F_{\\text{rows}}`, the confidences :math:`c_j` and
        :math:`A = F^\\top F + \\sum_j (c_j - 1) F_j F_j^\\top + \\lambda w I`, the
        matrix of the iALS half-step, whose solution is :math:`A^{-1} G^\\top c`.
        """
        p = self._validate_params()
        rows, values = self._check_new_ratings(name, rows, values, other.shape[0], required=False)
        r = values if p["use_values"] else np.ones(rows.size)
        c = confidence(r, p["alpha"], scaling=p["scaling"], eps=p["eps"])
        # the row weight of fit (_penalty_weights) for a row with these observed pairs
        s = rows.size if p["reg_weighting"] == "observed" else other.shape[0] + float((c - 1).sum())
        lam = p["reg"] * regularization_weights(np.array([s]), p["reg_exponent"])[0]
        F = other.astype(np.float64)
        G = F[rows]
        A = F.T @ F + (G.T * (c - 1.0)) @ G + lam * np.eye(F.shape[1])
        return rows, G, c, A

    def fold_in(self, items, values=None) -> tuple[np.ndarray, float]:
        """The factors of a new user from the items they picked, the item factors kept fixed.

        Exactly the iALS user half-step (``solver="cholesky"``) for one more user:
        with the confidences :math:`c_j` of the given items (from ``values`` as
        in :meth:`fit`) and the user's row weight :math:`w` of ``reg_weighting``,

        .. math::

            x = \\Big(V^\\top V + \\sum_j (c_j - 1) V_j V_j^\\top + \\lambda w I\\Big)^{-1}
                \\sum_j c_j V_j ,

        computed in float64 whatever ``dtype``.

        Parameters
        ----------
        items : array_like of int
            Training item indices of the new user's positives (each at most once).
        values : array_like of float, optional
            Their feedback values :math:`r_j \\ge 0`.  As in :meth:`fit`, they enter
            the confidence only with ``use_values=True``; otherwise every given
            item is a positive with :math:`r_j = 1` (``None``: all ones).

        Returns
        -------
        factors : ndarray (d,)
        bias : float
            Always 0.0 (the model has no biases); see :meth:`score_new_user`.
        """
        self._check_fitted()
        _, G, c, A = self._new_row_system("items", items, values, self.item_factors_)
        return solve_spd(A[None], (G.T @ c)[None])[0], 0.0

    def fold_in_item(self, users, values=None) -> tuple[np.ndarray, float]:
        """The factors of a new item from the users who picked it (the item half-step).

        The twin of :meth:`fold_in` with the roles of users and items swapped;
        returns ``(factors, 0.0)``, scored by :meth:`score_new_item`.
        """
        self._check_fitted()
        _, G, c, A = self._new_row_system("users", users, values, self.user_factors_)
        return solve_spd(A[None], (G.T @ c)[None])[0], 0.0

    def _check_new_factors(self, factors) -> np.ndarray:
        self._check_fitted()
        factors = np.asarray(factors, dtype=np.float64)
        d = self.item_factors_.shape[1]
        if factors.shape != (d,):
            raise ValueError(f"factors must have shape ({d},); got {factors.shape}")
        return factors

    def score_new_user(self, factors, bias: float = 0.0) -> np.ndarray:
        """Scores :math:`V x` (+ ``bias``, a constant) of every item for folded-in factors."""
        return bias + self.item_factors_.astype(np.float64) @ self._check_new_factors(factors)

    def score_new_item(self, factors, bias: float = 0.0) -> np.ndarray:
        """Scores :math:`U y` (+ ``bias``) of a folded-in item for every user."""
        return bias + self.user_factors_.astype(np.float64) @ self._check_new_factors(factors)

    # ------------------------------------------------------------- explain
    def explain(self, user, item) -> Explanation:
        """The score of ``item`` for ``user`` as a sum over the user's training items.

        The explanation of Hu, Koren & Volinsky (2008): the user half-step gives
        :math:`x_u = W^u \\sum_{j \\in \\Omega_u} c_{uj} V_j` with the user's own
        weighted item-item metric
        :math:`W^u = (V^\\top C^u V + \\lambda w_u I)^{-1}` (:math:`C^u` the diagonal
        of the user's confidences, 1 off :math:`\\Omega_u`), so

        .. math::

            \\hat p_{ut} = V_t^\\top x_u = \\sum_{j \\in \\Omega_u} s^u_{tj}\\, c_{uj},
            \\qquad s^u_{tj} = V_t^\\top W^u V_j ,

        one term per item of the history and no ``base`` (0).  The similarity
        :math:`s^u_{tj}` is the user's: the same two items may be close for one
        user and not for another.

        The parts add up to the score of the user factors that solve the
        half-step exactly against the current item factors (:meth:`fold_in` of
        the user's items), reported as ``score``.  iALS ends each epoch with
        the item half-step, and ``solver="cg"`` solves each user's system only
        approximately, so ``model_score`` (the fitted factors' score) differs
        from it by what the last steps changed.

        Parameters
        ----------
        user : int
            A training user with at least one rating.
        item : int
            An item with training ratings.

        Returns
        -------
        Explanation
        """
        history, values = self._history(user, item)
        _, G, c, A = self._new_row_system("items", history, values, self.item_factors_)
        similarity = np.linalg.solve(A, G.T).T @ self.item_factors_[item].astype(np.float64)
        model_score = self._predict_unclipped(np.array([user]), np.array([item]))[0]
        return Explanation.from_parts(user, item, history, similarity * c, {}, model_score)
