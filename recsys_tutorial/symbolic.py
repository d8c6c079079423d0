"""SymPy builders: the book's objectives for small instances, written out symbol by symbol.

The chapters prove each derivation step by building the objective of a small
problem (two or three users and items, one or two factors) entry by entry and
asking SymPy to check the closed form the text derives::

    import recsys_tutorial as rt
    sym = rt.symbolic
    inst = sym.mf_symbols(3, 2, 2, mask=[(0, 0), (0, 1), (1, 0)])   # user 2 has no rating
    L = sym.mf_loss(inst)
    assert sym.prove_equal(sym.mf_gradient_autodiff(inst), sym.mf_gradient_closed_form(inst))

Everything is exact (symbols, rationals); nothing here uses numpy except the
conversions to and from numbers (:meth:`MFInstance.values`, :func:`evaluate`,
:meth:`MFInstance.to_ratings`), which let a test compare a symbolic expression
with the numpy implementation in :mod:`recsys_tutorial.objectives`.

Indices are 0-based, as in the package: :math:`U_{i,k}` is entry ``U[i, k]``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import sympy as sp

__all__ = [
    "MFInstance",
    "mf_symbols",
    "mf_prediction",
    "mf_residuals",
    "mf_data_term",
    "mf_penalty",
    "mf_loss",
    "matrix_gradient",
    "mf_gradient_autodiff",
    "mf_gradient_closed_form",
    "mf_gradient_matrix_form",
    "NormalEquations",
    "als_normal_equations",
    "als_solution",
    "als_solution_zeroes_gradient",
    "gaussian_log_pdf",
    "pmf_log_likelihood",
    "pmf_log_priors",
    "pmf_log_posterior",
    "pmf_regularization",
    "prove_equal",
    "evaluate",
]

_SIDES = ("user", "item")


# --------------------------------------------------------------------------- instance
@dataclass(frozen=True)
class MFInstance:
    """The symbols of one small matrix factorization problem.

    Build it with :func:`mf_symbols`.

    Attributes
    ----------
    U : sympy.Matrix, shape (m, d)
        User factors; entry ``U[i, k]`` is the real symbol :math:`U_{i,k}`.
    V : sympy.Matrix, shape (n, d)
        Item factors :math:`V_{j,k}`.
    R : sympy.Matrix, shape (m, n)
        Ratings :math:`R_{i,j}`, a symbol for *every* entry; only the observed
        ones appear in the objectives, which is how the book's claim "the
        loss ignores unobserved entries" becomes checkable
        (``R[i, j] not in loss.free_symbols``).
    mask : sympy.Matrix, shape (m, n)
        :math:`\\delta_{ij}`: 1 where :math:`(i, j) \\in \\Omega`, else 0.
    reg_u, reg_v : sympy.Symbol
        :math:`\\lambda_U, \\lambda_V` (positive).
    sigma, sigma_u, sigma_v : sympy.Symbol
        :math:`\\sigma, \\sigma_U, \\sigma_V` of PMF (positive standard deviations).
    user_weights, item_weights : tuple of sympy expressions
        Row weights :math:`w_i, w_j` of the regularizer (1 unless asked for).
    """

    U: sp.Matrix
    V: sp.Matrix
    R: sp.Matrix
    mask: sp.Matrix
    reg_u: sp.Symbol
    reg_v: sp.Symbol
    sigma: sp.Symbol
    sigma_u: sp.Symbol
    sigma_v: sp.Symbol
    user_weights: tuple
    item_weights: tuple

    # ------------------------------------------------------------ shape
    @property
    def m(self) -> int:
        """Number of users."""
        return self.U.rows

    @property
    def n(self) -> int:
        """Number of items."""
        return self.V.rows

    @property
    def d(self) -> int:
        """Number of factors."""
        return self.U.cols

    @property
    def omega(self) -> list[tuple[int, int]]:
        """The observed pairs :math:`\\Omega`, row by row."""
        return [(i, j) for i in range(self.m) for j in range(self.n) if self.mask[i, j]]

    def items_of(self, i: int) -> list[int]:
        """:math:`\\Omega_i`, the items user ``i`` rated."""
        return [j for j in range(self.n) if self.mask[i, j]]

    def users_of(self, j: int) -> list[int]:
        """:math:`\\Omega^j`, the users who rated item ``j``."""
        return [i for i in range(self.m) if self.mask[i, j]]

    def user(self, i: int) -> sp.Matrix:
        """:math:`U_i` as a ``d x 1`` column vector."""
        return self.U[i, :].T

    def item(self, j: int) -> sp.Matrix:
        """:math:`V_j` as a ``d x 1`` column vector."""
        return self.V[j, :].T

    # ------------------------------------------------------ conversions
    def values(self, U=None, V=None, R=None, **scalars: Any) -> dict:
        """A substitution dictionary from numbers, for :func:`evaluate` or ``expr.subs``.

        Parameters
        ----------
        U, V : array_like, shapes (m, d) and (n, d), optional
        R : array_like, shape (m, n), optional
            Only the observed entries are used (the others may be anything,
            NaN included): no objective contains the unobserved symbols.
        **scalars
            Any of ``reg_u, reg_v, sigma, sigma_u, sigma_v`` as numbers.
        """
        subs: dict = {}
        for name, symbols, value in (("U", self.U, U), ("V", self.V, V)):
            if value is not None:
                rows = _nested(name, value, symbols.shape)
                subs.update(
                    {
                        symbols[a, b]: sp.Float(rows[a][b], 17)
                        for a in range(symbols.rows)
                        for b in range(symbols.cols)
                    }
                )
        if R is not None:
            rows = _nested("R", R, self.R.shape)
            subs.update({self.R[i, j]: sp.Float(rows[i][j], 17) for i, j in self.omega})
        allowed = ("reg_u", "reg_v", "sigma", "sigma_u", "sigma_v")
        for name, value in scalars.items():
            if name not in allowed:
                raise TypeError(f"unknown scalar {name!r}; expected one of {allowed}")
            subs[getattr(self, name)] = sp.Float(float(value), 17)
        return subs

    def to_ratings(self, R):
        """The observed entries of ``R`` (numeric, ``m x n``), as :class:`~recsys_tutorial.Ratings`.

        Only the entries in :math:`\\Omega` are read, so the unobserved ones may be anything.
        """
        from .data import Ratings

        rows = _nested("R", R, self.R.shape)
        pairs = self.omega
        if not pairs:
            raise ValueError(
                "the mask is empty: there are no observed entries to turn into ratings"
            )
        users, items = [i for i, _ in pairs], [j for _, j in pairs]
        values = [float(rows[i][j]) for i, j in pairs]
        return Ratings(users, items, values, n_users=self.m, n_items=self.n)


def _nested(name, value, shape) -> list:
    """``value`` as nested Python lists of the given 2-D shape, or raise naming ``name``."""
    rows = value.tolist() if hasattr(value, "tolist") else [list(row) for row in value]
    if len(rows) != shape[0] or any(len(row) != shape[1] for row in rows):
        got = (len(rows), len(rows[0]) if rows else 0)
        raise ValueError(f"{name} must have shape {shape}; got {got}")
    return rows


def _check_size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value}")
    return value


def _mask_matrix(mask, m: int, n: int) -> sp.Matrix:
    """The 0/1 mask from None (all observed), an m x n 0/1 array or Matrix, or (i, j) pairs."""
    if mask is None:
        return sp.ImmutableMatrix(sp.ones(m, n))
    if hasattr(mask, "shape"):  # numpy array or sympy Matrix: the 0/1 matrix delta_ij itself
        if tuple(mask.shape) != (m, n):
            raise ValueError(
                f"mask given as a matrix must have shape ({m}, {n}); got {tuple(mask.shape)}"
            )
        rows = mask.tolist()
        if any(v not in (0, 1) for row in rows for v in row):
            raise ValueError("mask given as a matrix must hold only 0 and 1")
        return sp.ImmutableMatrix(m, n, lambda i, j: int(rows[i][j]))
    out = sp.zeros(m, n)
    for entry in mask:  # any other iterable: the observed pairs (i, j)
        entry = tuple(entry)
        if len(entry) != 2:
            raise ValueError(
                f"mask must be a list of (i, j) pairs or an ({m}, {n}) 0/1 array; "
                f"got entry {entry!r}"
            )
        i, j = (int(v) for v in entry)
        if not (0 <= i < m and 0 <= j < n):
            raise ValueError(f"mask pair {(i, j)} is out of range for m={m}, n={n}")
        if out[i, j]:
            raise ValueError(f"mask pair {(i, j)} is listed twice")
        out[i, j] = 1
    return sp.ImmutableMatrix(out)


def mf_symbols(m: int, n: int, d: int, mask=None, *, weights=None) -> MFInstance:
    """Symbols of a small MF instance with ``m`` users, ``n`` items and ``d`` factors.

    Parameters
    ----------
    m, n, d : int
        Sizes (keep them small: the objectives are written out in full).
    mask : None, list of (i, j) pairs, or 0/1 array
        The observed set :math:`\\Omega`: ``None`` observes every entry; a
        Python list (or other iterable) lists the observed pairs; a numpy
        array or ``sympy.Matrix`` of shape ``(m, n)`` is :math:`\\delta_{ij}` itself.
    weights : None, "symbols", or (user_weights, item_weights)
        Row weights :math:`w_i, w_j` of the regularizer: ``None`` gives 1,
        ``"symbols"`` positive symbols :math:`w_i, \\tilde w_j` (for the
        count-scaled penalty of chapter 3), or two sequences of numbers.

    Returns
    -------
    MFInstance
    """
    m, n, d = _check_size("m", m), _check_size("n", n), _check_size("d", d)
    mask_matrix = _mask_matrix(mask, m, n)
    # immutable, so that an instance cannot be changed behind the expressions built from it
    U = sp.ImmutableMatrix(m, d, lambda i, k: sp.Symbol(f"U_{{{i},{k}}}", real=True))
    V = sp.ImmutableMatrix(n, d, lambda j, k: sp.Symbol(f"V_{{{j},{k}}}", real=True))
    R = sp.ImmutableMatrix(m, n, lambda i, j: sp.Symbol(f"R_{{{i},{j}}}", real=True))
    if weights is None:
        wu, wv = (sp.Integer(1),) * m, (sp.Integer(1),) * n
    elif isinstance(weights, str):
        if weights != "symbols":
            raise ValueError(
                f"weights must be None, 'symbols' or (user_weights, item_weights); got {weights!r}"
            )
        wu = tuple(sp.Symbol(f"w_{{{i}}}", positive=True) for i in range(m))
        wv = tuple(sp.Symbol(f"\\tilde{{w}}_{{{j}}}", positive=True) for j in range(n))
    else:
        wu, wv = (tuple(sp.sympify(w) for w in side) for side in weights)
        if len(wu) != m or len(wv) != n:
            raise ValueError(
                f"weights must give {m} user weights and {n} item weights; "
                f"got {len(wu)} and {len(wv)}"
            )
    return MFInstance(
        U=U, V=V, R=R, mask=mask_matrix,
        reg_u=sp.Symbol("lambda_U", positive=True),
        reg_v=sp.Symbol("lambda_V", positive=True),
        sigma=sp.Symbol("sigma", positive=True),
        sigma_u=sp.Symbol("sigma_U", positive=True),
        sigma_v=sp.Symbol("sigma_V", positive=True),
        user_weights=wu, item_weights=wv,
    )  # fmt: skip


def _dot(A: sp.Matrix, a: int, B: sp.Matrix, b: int) -> sp.Expr:
    """Inner product of row ``a`` of ``A`` and row ``b`` of ``B`` (e.g. :math:`U_i^\\top V_j`)."""
    return (A[a, :] * B[b, :].T)[0, 0]


def _check_instance(instance) -> MFInstance:
    if not isinstance(instance, MFInstance):
        raise TypeError(
            f"instance must be an MFInstance (from mf_symbols); got {type(instance).__name__}"
        )
    return instance


def _check_side(side: str) -> str:
    if side not in _SIDES:
        raise ValueError(f"side must be 'user' or 'item'; got {side!r}")
    return side


# --------------------------------------------------------------------------- MF loss
def mf_prediction(instance: MFInstance) -> sp.Matrix:
    """:math:`\\hat R = U V^\\top`, every entry (observed or not)."""
    inst = _check_instance(instance)
    return inst.U * inst.V.T


def mf_residuals(instance: MFInstance) -> sp.Matrix:
    """:math:`E = M \\odot (R - U V^\\top)`: the residuals on :math:`\\Omega`, 0 elsewhere.

    The mask multiplies entry by entry, so the unobserved :math:`R_{ij}`
    vanish from the expression.
    """
    inst = _check_instance(instance)
    return inst.mask.multiply_elementwise(inst.R - mf_prediction(inst))


def mf_data_term(instance: MFInstance) -> sp.Expr:
    """:math:`\\sum_{(i,j) \\in \\Omega} (R_{ij} - U_i^\\top V_j)^2`, one term per observed pair."""
    inst = _check_instance(instance)
    return sp.Add(*[(inst.R[i, j] - _dot(inst.U, i, inst.V, j)) ** 2 for i, j in inst.omega])


def mf_penalty(instance: MFInstance) -> sp.Expr:
    """The penalty over all rows, rated or not.

    .. math::

        \\lambda_U \\sum_{i=1}^m w_i \\lVert U_i \\rVert^2
        + \\lambda_V \\sum_{j=1}^n w_j \\lVert V_j \\rVert^2
    """
    inst = _check_instance(instance)
    user = sp.Add(*[inst.user_weights[i] * _dot(inst.U, i, inst.U, i) for i in range(inst.m)])
    item = sp.Add(*[inst.item_weights[j] * _dot(inst.V, j, inst.V, j) for j in range(inst.n)])
    return inst.reg_u * user + inst.reg_v * item


def mf_loss(instance: MFInstance) -> sp.Expr:
    """The regularized MF loss of chapter 2 (numpy: :func:`recsys_tutorial.objectives.mf_loss`).

    .. math::

        L(U, V) = \\sum_{(i,j) \\in \\Omega} (R_{ij} - U_i^\\top V_j)^2
            + \\lambda_U \\sum_{i=1}^m w_i \\lVert U_i \\rVert^2
            + \\lambda_V \\sum_{j=1}^n w_j \\lVert V_j \\rVert^2

    The data term runs over :math:`\\Omega` only; the penalties over every row.
    """
    return mf_data_term(instance) + mf_penalty(instance)


# --------------------------------------------------------------------------- gradients
def matrix_gradient(expr: sp.Expr, X: sp.Matrix) -> sp.Matrix:
    """:math:`\\partial\\, \\text{expr} / \\partial X`: the partial derivatives, shaped as ``X``."""
    return X.applyfunc(lambda x: sp.diff(expr, x))


def mf_gradient_autodiff(
    instance: MFInstance, loss: sp.Expr | None = None
) -> tuple[sp.Matrix, sp.Matrix]:
    """:math:`(\\partial L / \\partial U, \\partial L / \\partial V)`, differentiating each entry.

    ``loss`` defaults to :func:`mf_loss`; pass another expression (e.g. the
    data term alone) to differentiate that instead.
    """
    inst = _check_instance(instance)
    loss = mf_loss(inst) if loss is None else loss
    return matrix_gradient(loss, inst.U), matrix_gradient(loss, inst.V)


def mf_gradient_closed_form(instance: MFInstance) -> tuple[sp.Matrix, sp.Matrix]:
    """The gradient as the book derives it, row by row.

    .. math::

        \\frac{\\partial L}{\\partial U_i}
            = -2 \\sum_{j \\in \\Omega_i} (R_{ij} - U_i^\\top V_j)\\, V_j
            + 2 \\lambda_U w_i U_i, \\qquad
        \\frac{\\partial L}{\\partial V_j}
            = -2 \\sum_{i \\in \\Omega^j} (R_{ij} - U_i^\\top V_j)\\, U_i
            + 2 \\lambda_V w_j V_j .

    A user without ratings (:math:`\\Omega_i = \\emptyset`) keeps only the
    regularizer's term.  Rows of the returned matrices are the gradients of
    the rows :math:`U_i` and :math:`V_j`.
    """
    inst = _check_instance(instance)

    def residual(i, j):
        return inst.R[i, j] - _dot(inst.U, i, inst.V, j)

    rows_u = [
        -2 * sum((residual(i, j) * inst.V[j, :] for j in inst.items_of(i)), sp.zeros(1, inst.d))
        + 2 * inst.reg_u * inst.user_weights[i] * inst.U[i, :]
        for i in range(inst.m)
    ]
    rows_v = [
        -2 * sum((residual(i, j) * inst.U[i, :] for i in inst.users_of(j)), sp.zeros(1, inst.d))
        + 2 * inst.reg_v * inst.item_weights[j] * inst.V[j, :]
        for j in range(inst.n)
    ]
    return sp.Matrix.vstack(*rows_u), sp.Matrix.vstack(*rows_v)


def mf_gradient_matrix_form(instance: MFInstance) -> tuple[sp.Matrix, sp.Matrix]:
    """The gradient in matrix form.

    With :math:`M` the 0/1 mask and :math:`W_U = \\operatorname{diag}(w_i)`,
    :math:`W_V = \\operatorname{diag}(w_j)` (identities unless row weights are given):

    .. math::

        \\frac{\\partial L}{\\partial U}
            = -2\\, \\big(M \\odot (R - U V^\\top)\\big) V + 2 \\lambda_U W_U U,
        \\qquad
        \\frac{\\partial L}{\\partial V}
            = -2\\, \\big(M \\odot (R - U V^\\top)\\big)^\\top U + 2 \\lambda_V W_V V .
    """
    inst = _check_instance(instance)
    E = mf_residuals(inst)
    WU, WV = sp.diag(*inst.user_weights), sp.diag(*inst.item_weights)
    grad_u = -2 * E * inst.V + 2 * inst.reg_u * WU * inst.U
    grad_v = -2 * E.T * inst.U + 2 * inst.reg_v * WV * inst.V
    return grad_u, grad_v


# --------------------------------------------------------------------------- ALS
class NormalEquations(NamedTuple):
    """The linear system :math:`A x = b` of one row in an ALS half-step."""

    A: sp.Matrix  #: d x d, symmetric positive definite when the regularization weight is > 0
    b: sp.Matrix  #: d x 1


def als_normal_equations(instance: MFInstance, index: int, side: str = "user") -> NormalEquations:
    """Normal equations of one row with the other side held fixed.

    For user ``i`` (``side="user"``), setting :math:`\\partial L / \\partial U_i = 0` gives

    .. math::

        A_i = \\sum_{j \\in \\Omega_i} V_j V_j^\\top + \\lambda_U w_i I, \\qquad
        b_i = \\sum_{j \\in \\Omega_i} R_{ij} V_j, \\qquad A_i U_i = b_i,

    and for item ``j`` (``side="item"``) the twin with :math:`U_i`,
    :math:`\\Omega^j`, :math:`\\lambda_V` and :math:`w_j`.
    """
    inst = _check_instance(instance)
    side = _check_side(side)
    if side == "user":
        count, others, reg, weights = inst.m, inst.items_of, inst.reg_u, inst.user_weights
        vector, rating = inst.item, lambda k, o: inst.R[k, o]
    else:
        count, others, reg, weights = inst.n, inst.users_of, inst.reg_v, inst.item_weights
        vector, rating = inst.user, lambda k, o: inst.R[o, k]
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < count:
        raise ValueError(f"index must be an int in [0, {count}) for side={side!r}; got {index!r}")
    A = reg * weights[index] * sp.eye(inst.d)
    b = sp.zeros(inst.d, 1)
    for o in others(index):
        A += vector(o) * vector(o).T
        b += rating(index, o) * vector(o)
    return NormalEquations(A, b)


def als_solution(instance: MFInstance, index: int, side: str = "user") -> sp.Matrix:
    """:math:`A^{-1} b`, the exact minimizer of the loss over one row (``d x 1``)."""
    A, b = als_normal_equations(instance, index, side)
    # Cramer's rule keeps the entries as single fractions, which SymPy checks quickly
    return A.adjugate() * b / A.det()


def als_solution_zeroes_gradient(instance: MFInstance, index: int, side: str = "user") -> bool:
    """True when substituting :func:`als_solution` into the row's gradient gives exactly 0.

    The gradient is the autodiff one of :func:`mf_loss`, so this checks the
    normal equations against the loss itself, not against their own derivation.
    """
    inst = _check_instance(instance)
    side = _check_side(side)
    x = als_solution(inst, index, side)
    grad_u, grad_v = mf_gradient_autodiff(inst)
    grad, params = (grad_u, inst.U) if side == "user" else (grad_v, inst.V)
    row, symbols = grad[index, :], params[index, :]
    at_solution = row.subs({s: x[k] for k, s in enumerate(symbols)}, simultaneous=True)
    return prove_equal(at_solution, sp.zeros(1, inst.d))


# --------------------------------------------------------------------------- PMF
def gaussian_log_pdf(x, mean, cov) -> sp.Expr:
    """:math:`\\log \\mathcal N(x \\mid \\text{mean}, \\text{cov})` with every constant written out.

    Scalar ``x``: ``cov`` is the variance :math:`s^2` and the result is
    :math:`-\\tfrac12 \\log(2\\pi s^2) - (x - \\text{mean})^2 / (2 s^2)`.
    Column-vector ``x`` (``k x 1`` Matrix): ``cov`` is the ``k x k`` covariance
    :math:`\\Sigma` and the result is :math:`-\\tfrac12 \\log\\det(2\\pi\\Sigma)
    - \\tfrac12 (x - \\mu)^\\top \\Sigma^{-1} (x - \\mu)`,
    :math:`\\mu` the mean.
    A scalar variance :math:`s^2` on a vector means :math:`\\Sigma = s^2 I`:
    pass ``s**2 * sympy.eye(k)``.
    """
    if isinstance(x, sp.MatrixBase):
        if x.cols != 1:
            raise ValueError(f"x must be a column vector (k x 1); got shape {x.shape}")
        if not isinstance(cov, sp.MatrixBase) or cov.shape != (x.rows, x.rows):
            raise ValueError(
                f"cov must be a {x.rows} x {x.rows} Matrix for a vector x; got {cov!r}"
            )
        mean = sp.zeros(x.rows, 1) if mean == 0 else mean
        diff = x - mean
        return -sp.log((2 * sp.pi * cov).det()) / 2 - (diff.T * cov.inv() * diff)[0, 0] / 2
    if isinstance(cov, sp.MatrixBase):
        # a matrix is a valid cov, only not with a scalar x: a mismatch of values, as in
        # the vector case above, so ValueError
        raise ValueError("cov must be a scalar variance for a scalar x")  # noqa: TRY004
    return -sp.log(2 * sp.pi * cov) / 2 - (x - mean) ** 2 / (2 * cov)


def pmf_log_likelihood(instance: MFInstance) -> sp.Expr:
    """The log-likelihood of the observed ratings under PMF's Gaussian noise.

    .. math::

        \\sum_{(i,j) \\in \\Omega} \\log \\mathcal N(R_{ij} \\mid U_i^\\top V_j, \\sigma^2)
    """
    inst = _check_instance(instance)
    variance = inst.sigma**2
    return sp.Add(
        *[
            gaussian_log_pdf(inst.R[i, j], _dot(inst.U, i, inst.V, j), variance)
            for i, j in inst.omega
        ]
    )


def pmf_log_priors(instance: MFInstance) -> tuple[sp.Expr, sp.Expr]:
    """The log-priors of the user and of the item factors, as a pair.

    .. math::

        \\Big(\\sum_{i=1}^m \\log \\mathcal N(U_i \\mid 0, \\sigma_U^2 I),\\;
               \\sum_{j=1}^n \\log \\mathcal N(V_j \\mid 0, \\sigma_V^2 I)\\Big)

    Every row has a prior, rated or not; the covariance of a vector prior
    with scalar variance :math:`\\sigma_U^2` is :math:`\\sigma_U^2 I`.
    """
    inst = _check_instance(instance)
    cov_u, cov_v = inst.sigma_u**2 * sp.eye(inst.d), inst.sigma_v**2 * sp.eye(inst.d)
    log_u = sp.Add(*[gaussian_log_pdf(inst.user(i), 0, cov_u) for i in range(inst.m)])
    log_v = sp.Add(*[gaussian_log_pdf(inst.item(j), 0, cov_v) for j in range(inst.n)])
    return log_u, log_v


def pmf_log_posterior(instance: MFInstance) -> sp.Expr:
    """The PMF log-posterior up to the evidence.

    .. math::

        \\log p(R \\mid U, V) + \\log p(U) + \\log p(V) = \\log p(U, V \\mid R) + \\log p(R)

    The log-posterior up to the evidence :math:`\\log p(R)`, which does not
    depend on :math:`U, V`; the numpy twin is
    :func:`recsys_tutorial.objectives.pmf_log_posterior`.
    """
    log_u, log_v = pmf_log_priors(instance)
    return pmf_log_likelihood(instance) + log_u + log_v


def pmf_regularization(instance: MFInstance) -> dict:
    """The substitution that makes MAP estimation of PMF equal to MF.

    :math:`\\lambda_U = \\sigma^2/\\sigma_U^2` and :math:`\\lambda_V = \\sigma^2/\\sigma_V^2`,
    as a dictionary for ``expr.subs``.
    """
    inst = _check_instance(instance)
    variance = inst.sigma**2
    return {inst.reg_u: variance / inst.sigma_u**2, inst.reg_v: variance / inst.sigma_v**2}


# --------------------------------------------------------------------------- proofs
def _as_entries(value) -> tuple[tuple, list]:
    """Shape and flat list of entries of a scalar, a Matrix, or a tuple/list of those."""
    if isinstance(value, (tuple, list)):
        parts = [_as_entries(v) for v in value]
        return tuple(shape for shape, _ in parts), [e for _, entries in parts for e in entries]
    if isinstance(value, sp.MatrixBase):
        return value.shape, list(value)
    if hasattr(value, "shape") and getattr(value, "shape", ()) != ():
        raise TypeError(
            f"convert arrays to sympy.Matrix before comparing; got {type(value).__name__}"
        )
    return (), [sp.sympify(value)]


def _is_zero(expr: sp.Expr) -> bool:
    """Decide ``expr == 0``, trying the cheap exact methods before ``simplify``."""
    expr = sp.expand(expr)
    if expr == 0:
        return True
    # rational functions (e.g. an ALS solution A^{-1} b substituted into a gradient):
    # over a common denominator the numerator must expand to 0
    numerator, _ = sp.fraction(sp.together(expr))
    if sp.expand(numerator) == 0:
        return True
    # log(2 pi sigma^2) against log(2) + log(pi) + 2 log(sigma): expand the logs
    # (valid because the symbols are declared positive)
    return sp.simplify(sp.expand_log(expr, force=False)) == 0


def prove_equal(lhs, rhs, *, raise_error: bool = False) -> bool:
    """True when ``lhs - rhs`` simplifies to 0 (entry by entry for matrices).

    Parameters
    ----------
    lhs, rhs : sympy expression, Matrix, or tuple/list of those
        Both sides must have the same structure and shapes.
    raise_error : bool
        If True, raise ``AssertionError`` naming the first entry that differs
        (and the non-zero difference) instead of returning False.

    Returns
    -------
    bool
        ``True`` when every difference is identically 0, else ``False``.

    Raises
    ------
    ValueError
        If the two sides have different shapes.
    """
    shape_l, left = _as_entries(lhs)
    shape_r, right = _as_entries(rhs)
    if shape_l != shape_r:
        raise ValueError(f"lhs and rhs have different shapes: {shape_l} and {shape_r}")
    for k, (a, b) in enumerate(zip(left, right)):
        if not _is_zero(a - b):
            if raise_error:
                where = "" if shape_l == () else f" at flat entry {k}"
                raise AssertionError(f"not equal{where}: lhs - rhs = {sp.simplify(a - b)}")
            return False
    return True


def evaluate(expr, values: Mapping):
    """Substitute numbers (e.g. from :meth:`MFInstance.values`) and return a float or a numpy array.

    Raises ``ValueError`` if a symbol is left without a value.
    """
    import numpy as np

    def one(e):
        e = sp.sympify(e).xreplace(dict(values))
        if e.free_symbols:
            names = sorted(str(s) for s in e.free_symbols)
            raise ValueError(f"values leave symbols without a number: {names[:5]}")
        return float(sp.N(e, 17))

    if isinstance(expr, sp.MatrixBase):
        return np.array([[one(expr[a, b]) for b in range(expr.cols)] for a in range(expr.rows)])
    if isinstance(expr, (tuple, list)):
        return tuple(evaluate(e, values) for e in expr)
    return one(expr)
