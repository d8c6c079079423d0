"""Bayesian personalized ranking (Rendle et al. 2009), trained by mini-batch SGD (chapter 7).

BPR learns from pairs: a user :math:`u` prefers an item :math:`i` they rated
to an item :math:`j` they did not.  With scores
:math:`\\hat x_{ui} = U_u^\\top V_i + b_i`, it minimizes
:func:`recsys_tutorial.objectives.bpr_loss`,

.. math::

    L = -\\sum_{(u,i,j)} \\log \\sigma(\\hat x_{ui} - \\hat x_{uj}) + \\text{penalties},

over triples drawn by uniform negative sampling: :math:`(u, i)` runs over
the training pairs (each once per epoch, in a fresh random order) and
:math:`j` is drawn uniformly from the items with training ratings that
:math:`u` has not rated.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import expit

from ..data import Ratings
from ..metrics import ranking_metrics
from ..objectives import _bpr_margin, _bpr_row_gradients, _sum_rows
from ..utils import check_random_state, check_ratings
from ..validation import BOOLEAN, NONE, RANDOM_STATE, Interval
from .base import FactorModel, row_dots
from .preference import PreferenceRecommender

__all__ = ["BPR"]

#: Newton steps of :meth:`BPR.fold_in` at most (it converges quadratically, in a few) ...
_FOLD_IN_STEPS = 50
#: ... stopping once a step changes no factor by more than this relative amount.
_FOLD_IN_TOL = 1e-12

#: Redraws of negatives that hit one of the user's positives before giving up
#: (only a user who rated nearly every item needs more than a few).
_MAX_REDRAWS = 20


class BPR(PreferenceRecommender, FactorModel):
    """Matrix factorization with item biases trained on the BPR criterion.

    Each mini-batch of triples takes one gradient step on its part of
    :math:`L`: with :math:`g = -\\sigma(-\\hat x_{uij})`,

    .. math::

        U_u \\leftarrow U_u - \\eta\\,\\big(g (V_i - V_j) + 2\\lambda U_u\\big),\\quad
        V_i \\leftarrow V_i - \\eta\\,(g U_u + 2\\lambda V_i),\\quad
        V_j \\leftarrow V_j - \\eta\\,(-g U_u + 2\\lambda V_j),

    :math:`b_i \\leftarrow b_i - \\eta (g + 2\\lambda_b b_i)`,
    :math:`b_j \\leftarrow b_j - \\eta (-g + 2\\lambda_b b_j)`, all computed at
    the same parameters and summed over the batch (``batch_size=1`` is
    LearnBPR, one triple at a time).

    Parameters
    ----------
    n_factors : int, default=64
        :math:`d`.
    lr : float, default=0.05
        :math:`\\eta`.
    reg : float, default=0.01
        :math:`\\lambda`, per triple (see ``bpr_loss``).
    reg_bias : float or None, default=None
        :math:`\\lambda_b` (``None``: ``reg``).
    n_epochs : int, default=30
        Passes over the training pairs.
    batch_size : int, default=1024
        Triples per step.
    init_std : float, default=0.1
        Factors start as :math:`\\mathcal N(0, \\text{init\\_std}^2)`; biases at 0.
    eval_every : int, default=5
        With ``fit(train, eval_set=val)``: epochs between evaluations of
        NDCG@10 on ``val`` (training items excluded), by
        :func:`recsys_tutorial.metrics.ranking_metrics` (all users in one batch).
    patience : int, default=3
        Evaluations without improvement before training stops; the
        parameters of the best evaluation are kept.
    random_state : None, int or numpy Generator, default=None
        Seeds the initialization, the order of the pairs and the negatives.
    verbose : bool, default=False
        Print the loss (and the validation NDCG) per epoch, to stdout.

    The defaults of ``n_factors``, ``lr`` and ``reg`` are the best of the
    validation grid of ``benchmarks/topn.py`` (NDCG@10 on a split of MovieLens
    100K fold 0's training part, never a test fold); ``n_epochs`` and
    ``batch_size`` were read off the validation curve of an early-stopping
    run on the same split (it flattens after about 20 epochs).

    Attributes
    ----------
    user_factors_, item_factors_, item_bias_ : ndarray
        :math:`U`, :math:`V` and :math:`b`.
    history_ : ndarray
        :math:`L` per epoch, summed over the epoch's triples, each evaluated
        at the parameters of its batch's step (a running estimate).
    eval_history_ : ndarray
        ``(epoch, NDCG@10)`` rows of the validation evaluations (empty without ``eval_set``).
    best_epoch_ : int
        The epoch whose parameters were kept (``n_epochs`` without ``eval_set``).

    Notes
    -----
    :meth:`predict` returns the score :math:`\\hat x_{ui}` itself, unclipped
    (a preference, not a star rating).  A user without training ratings
    scores :math:`b_i` (an item-bias ranking); an item without training
    ratings is never drawn and scores 0.  :meth:`similar_items` and
    :meth:`similar_users` compare the factors :math:`V` and :math:`U` (the
    biases are not part of the embedding).  A negative that
    turns out to be one of the user's positives is redrawn (up to 20 times,
    enough unless a user rated nearly every item; only then can a triple keep
    a positive as its negative).
    """

    _fitted_attributes = (
        "user_factors_",
        "item_factors_",
        "item_bias_",
        "history_",
        "eval_history_",
        "best_epoch_",
    )
    _parameter_constraints: ClassVar[dict[str, list]] = {
        "n_factors": [Interval(int, 1, None)],
        "lr": [Interval(float, 0.0, None, closed="neither")],
        "reg": [Interval(float, 0.0, None)],
        "reg_bias": [Interval(float, 0.0, None), NONE],
        "n_epochs": [Interval(int, 1, None)],
        "batch_size": [Interval(int, 1, None)],
        # all-zero factors are a saddle point: every factor gradient is 0 there
        "init_std": [Interval(float, 0.0, None, closed="neither")],
        "eval_every": [Interval(int, 1, None)],
        "patience": [Interval(int, 1, None)],
        "random_state": [RANDOM_STATE],
        "verbose": [BOOLEAN],
    }

    def __init__(
        self,
        n_factors=64,
        *,
        lr=0.05,
        reg=0.01,
        reg_bias=None,
        n_epochs=30,
        batch_size=1024,
        init_std=0.1,
        eval_every=5,
        patience=3,
        random_state=None,
        verbose=False,
    ):
        self.n_factors = n_factors
        self.lr = lr
        self.reg = reg
        self.reg_bias = reg_bias
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.init_std = init_std
        self.eval_every = eval_every
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, ratings: Ratings, eval_set: Ratings | None = None) -> BPR:
        """Learn from ``ratings``; with ``eval_set``, stop early on its NDCG@10."""
        if eval_set is not None:
            self._validate_params()  # bad hyperparameters first, as for every model
            eval_set = check_ratings("eval_set", eval_set)
            ratings = check_ratings("ratings", ratings)
            if eval_set.shape != ratings.shape:
                raise ValueError(
                    f"eval_set must share the index spaces of ratings {ratings.shape}; "
                    f"got {eval_set.shape}"
                )
        self._eval_set = eval_set
        try:
            return super().fit(ratings)
        finally:
            del self._eval_set

    def _fit(self, ratings: Ratings, params: dict) -> None:
        # overflow is reported once, by the finiteness check of each epoch, not as numpy warnings
        with np.errstate(over="ignore", invalid="ignore"):
            self._train(ratings, params)

    def _train(self, ratings: Ratings, params: dict) -> None:
        d, lr, reg = params["n_factors"], params["lr"], params["reg"]
        reg_bias = reg if params["reg_bias"] is None else params["reg_bias"]
        n_epochs, batch_size = params["n_epochs"], params["batch_size"]
        init_std = params["init_std"]
        eval_every, patience = params["eval_every"], params["patience"]
        rng = check_random_state(params["random_state"])
        m, n = ratings.n_users, ratings.n_items
        U = rng.normal(0.0, init_std, size=(m, d))
        V = rng.normal(0.0, init_std, size=(n, d))
        U[self.user_counts_ == 0] = 0.0
        V[self.item_counts_ == 0] = 0.0
        b = np.zeros(n)
        users, items = ratings.users, ratings.items
        positives = np.sort(users * n + items)  # sorted keys u*n + i of the training pairs
        candidates = np.flatnonzero(self.item_counts_ > 0)
        eval_set = self._eval_set
        history, evaluations = [], []
        best_score, best_epoch, best_params, since_best = -np.inf, 0, None, 0
        for epoch in range(1, n_epochs + 1):
            order = rng.permutation(len(ratings))
            total = 0.0
            for start in range(0, order.size, batch_size):
                idx = order[start : start + batch_size]
                u, i = users[idx], items[idx]
                j = self._draw_negatives(u, n, positives, candidates, rng)
                x, Uu, Vi, Vj = _bpr_margin(U, V, b, u, i, j)
                g = -expit(-x)
                du, dvi, dvj, dbi, dbj = _bpr_row_gradients(
                    g, Uu, Vi, Vj, reg, reg_bias, b, i, j, True
                )
                total += float(np.logaddexp(0.0, -x).sum())
                total += reg * sum(float(np.einsum("kf,kf->", X, X)) for X in (Uu, Vi, Vj))
                total += reg_bias * float(
                    np.einsum("k,k->", b[i], b[i]) + np.einsum("k,k->", b[j], b[j])
                )
                U -= lr * _sum_rows(u, du, m)
                V -= lr * (_sum_rows(i, dvi, n) + _sum_rows(j, dvj, n))
                b -= lr * (_sum_rows(i, dbi, n) + _sum_rows(j, dbj, n))
            history.append(total)
            if not (np.isfinite(total) and np.isfinite(U).all() and np.isfinite(V).all()):
                raise RuntimeError(
                    f"BPR: the loss became non-finite in epoch {epoch}: the steps diverged; "
                    f"lower lr={params['lr']}, reg={params['reg']} (lr * reg must stay well "
                    f"below 1) or init_std={params['init_std']}"
                )
            message = f"epoch {epoch:3d}: loss {total:.4f}"
            stop = False
            if eval_set is not None and (epoch % eval_every == 0 or epoch == n_epochs):
                # the batched top-N path of every model, on the current parameters
                self.user_factors_, self.item_factors_, self.item_bias_ = U, V, b
                score = ranking_metrics(self, ratings, eval_set, 10)["ndcg"]
                evaluations.append((epoch, score))
                message += f"  validation NDCG@10 {score:.4f}"
                if score > best_score:
                    best_score, best_epoch, best_params, since_best = (
                        score,
                        epoch,
                        (U.copy(), V.copy(), b.copy()),
                        0,
                    )
                else:
                    since_best += 1
                    stop = since_best >= patience
            if params["verbose"]:
                print(message)
            if stop:
                break
        if best_params is not None:  # early stopping keeps the best evaluation's parameters
            U, V, b = best_params
        self.best_epoch_ = best_epoch if best_params is not None else len(history)
        self.user_factors_, self.item_factors_, self.item_bias_ = U, V, b
        self.history_ = np.array(history)
        self.eval_history_ = np.array(evaluations, dtype=np.float64).reshape(-1, 2)

    @staticmethod
    def _draw_negatives(u, n, positives, candidates, rng):
        """Uniform items from ``candidates``, redrawn where they are one of the user's positives."""
        j = candidates[rng.integers(0, candidates.size, size=u.size)]
        for _ in range(_MAX_REDRAWS):
            keys = u * n + j
            pos = np.minimum(np.searchsorted(positives, keys), positives.size - 1)
            clash = positives[pos] == keys
            if not clash.any():
                break
            j[clash] = candidates[rng.integers(0, candidates.size, size=int(clash.sum()))]
        return j

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return row_dots(self.user_factors_[users], self.item_factors_) + self.item_bias_

    def _cold_user_scores(self) -> np.ndarray:
        return self.item_bias_.copy()

    # ------------------------------------------------------------- fold in
    def fold_in(self, items, values=None) -> tuple[np.ndarray, float]:
        """The factors of a new user from the items they picked, item side fixed.

        A new user's part of the BPR objective, in expectation over the
        negatives that training draws (uniformly from the items with training
        ratings :math:`N` outside the given items :math:`P`, one per positive),
        is a function of their factors :math:`x` alone:

        .. math::

            f(x) = \\sum_{i \\in P} \\frac{1}{|N|} \\sum_{j \\in N}
                \\log\\big(1 + e^{-(\\hat x_i - \\hat x_j)}\\big)
                + |P|\\,\\lambda \\lVert x \\rVert^2,
            \\qquad \\hat x_i = V_i^\\top x + b_i ,

        (the penalty :math:`\\lambda \\lVert U_u \\rVert^2` of each of the user's
        :math:`|P|` triples).  It is convex, strictly so for :math:`\\lambda > 0`,
        so instead of a few noisy SGD steps ``fold_in`` minimizes it exactly,
        by Newton's method from :math:`x = 0` with a backtracking line search
        (at most 50 steps; no random draw, so no seed).  The gradient and
        Hessian need only the :math:`|P| \\times |N|` matrix of pair weights:
        with :math:`g_{ij} = -\\sigma(-(\\hat x_i - \\hat x_j)) / |N|`,
        :math:`\\nabla f = V_P^\\top g \\mathbf 1 - V_N^\\top g^\\top \\mathbf 1 + 2|P|\\lambda x`.
        Training reached its factors by SGD on sampled triples with the items
        moving too, so a training user's ``user_factors_`` approximate this
        minimizer rather than equal it.

        Parameters
        ----------
        items : array_like of int
            Training item indices of the new user's positives (each at most once).
        values : array_like of float, optional
            Checked but not used: BPR, as in :meth:`fit`, treats every given item
            as a positive whatever its value.

        Returns
        -------
        factors : ndarray (d,)
        bias : float
            Always 0.0 (BPR has item biases only); see :meth:`score_new_user`.
        """
        self._check_fitted()
        items, _ = self._check_new_ratings("items", items, values, self.n_items_, required=False)
        negative = self.item_counts_ > 0
        negative[items] = False
        V = self.item_factors_
        p = self._validate_params()
        x = _minimize_bpr_user(
            V[items], self.item_bias_[items], V[negative], self.item_bias_[negative], p["reg"]
        )
        return x, 0.0

    def score_new_user(self, factors, bias: float = 0.0) -> np.ndarray:
        """Scores :math:`V x + b` (+ ``bias``, a constant) of every item for folded-in factors."""
        self._check_fitted()
        factors = np.asarray(factors, dtype=np.float64)
        d = self.item_factors_.shape[1]
        if factors.shape != (d,):
            raise ValueError(f"factors must have shape ({d},); got {factors.shape}")
        return bias + self.item_factors_ @ factors + self.item_bias_


def _bpr_user_objective(x, V_pos, b_pos, V_neg, b_neg, reg, derivatives=True):
    """:math:`f(x)` of :meth:`BPR.fold_in`, and with ``derivatives`` its gradient and Hessian."""
    margins = (V_pos @ x + b_pos)[:, None] - (V_neg @ x + b_neg)[None, :]
    n_pos, n_neg = margins.shape
    value = float(np.logaddexp(0.0, -margins).sum()) / n_neg + n_pos * reg * float(x @ x)
    if not derivatives:
        return value
    below = expit(-margins)  # sigma(-margin)
    g = -below / n_neg  # d f / d margin
    grad = V_pos.T @ g.sum(axis=1) - V_neg.T @ g.sum(axis=0) + 2 * n_pos * reg * x
    h = below * (1.0 - below) / n_neg  # d^2 f / d margin^2 = sigma(m) sigma(-m) / |N|
    cross = V_pos.T @ h @ V_neg
    hess = (
        (V_pos.T * h.sum(axis=1)) @ V_pos
        + (V_neg.T * h.sum(axis=0)) @ V_neg
        - cross
        - cross.T
        + 2 * n_pos * reg * np.eye(x.size)
    )
    return value, grad, hess


def _minimize_bpr_user(V_pos, b_pos, V_neg, b_neg, reg) -> np.ndarray:
    """Newton's method with backtracking on :math:`f` of :meth:`BPR.fold_in`, from 0."""
    x = np.zeros(V_pos.shape[1])
    if V_neg.shape[0] == 0:  # no item to rank below the positives: only the penalty is left
        return x
    value, grad, hess = _bpr_user_objective(x, V_pos, b_pos, V_neg, b_neg, reg)
    for _ in range(_FOLD_IN_STEPS):
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:  # singular only when reg = 0
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        slope = float(grad @ step)
        t = 1.0
        # halve the step until it decreases f enough (Armijo); near the minimum the
        # decrease drowns in rounding, so a change within rounding of f is accepted too
        rounding = 8 * np.finfo(float).eps * abs(value)
        while True:
            trial = x - t * step
            if (
                _bpr_user_objective(trial, V_pos, b_pos, V_neg, b_neg, reg, False)
                <= (value - 0.25 * t * slope + rounding)
                or t < 1e-10
            ):
                break
            t *= 0.5
        x = trial
        if np.max(np.abs(t * step)) <= _FOLD_IN_TOL * (1.0 + np.max(np.abs(x))):
            break
        value, grad, hess = _bpr_user_objective(x, V_pos, b_pos, V_neg, b_neg, reg)
    return x
