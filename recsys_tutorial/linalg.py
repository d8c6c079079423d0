"""Batched linear algebra for the row-wise normal equations of ALS and the Gibbs sampler.

Both ALS (chapter 3) and Bayesian PMF (chapter 5) need, for every user
:math:`i` at once, the Gram matrix :math:`\\sum_{j \\in \\Omega_i} V_j V_j^\\top`
and the vector :math:`\\sum_{j \\in \\Omega_i} y_{ij} V_j`, and then the
solution of one small :math:`d \\times d` symmetric positive-definite system
per user.  Looping over users in Python would cost one interpreter round trip
per row; here each quantity is one sparse product or one batched LAPACK call.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["RowGroups", "solve_spd", "sample_gaussian"]


class RowGroups:
    """The observed entries grouped by row: for each row, its columns.

    Parameters
    ----------
    rows, cols : ndarray of int, shape (nnz,)
        Row and column index of each observed entry (users and items, or
        items and users for the other half-step).
    n_rows, n_cols : int

    Notes
    -----
    The sparse 0/1 pattern ``S`` (``n_rows x n_cols``) is built once; each
    Gram matrix is then ``S @ W`` where row ``j`` of ``W`` holds the upper
    triangle of :math:`F_j F_j^\\top`, i.e. :math:`O(|\\Omega| d^2 / 2)` work
    in one compiled call.
    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> None:
        # scipy's COO -> CSR conversion is a counting sort, O(nnz); carrying the
        # positions as data tells where each CSR entry came from
        csr = sp.csr_matrix((np.arange(rows.size), (rows, cols)), shape=(n_rows, n_cols))
        self.order = csr.data  # position in CSR order -> position in the input arrays
        self.n_rows, self.n_cols = n_rows, n_cols
        self.indptr, self.indices = csr.indptr, csr.indices
        self._pattern = sp.csr_matrix((np.ones(rows.size), self.indices, self.indptr), shape=(n_rows, n_cols))

    def matrix(self, values: np.ndarray) -> sp.csr_matrix:
        """The ``n_rows x n_cols`` CSR matrix with ``values`` (given in input order)."""
        return sp.csr_matrix((values[self.order], self.indices, self.indptr), shape=(self.n_rows, self.n_cols))

    def gram(self, F: np.ndarray) -> np.ndarray:
        """:math:`G_r = \\sum_{c \\in \\text{row } r} F_c F_c^\\top` for every row, shape (n_rows, k, k)."""
        k = F.shape[1]
        iu, ju = np.triu_indices(k)
        upper = self._pattern @ (F[:, iu] * F[:, ju])
        G = np.empty((self.n_rows, k, k))
        G[:, iu, ju] = upper
        G[:, ju, iu] = upper
        return G

    def weighted_sum(self, values: np.ndarray, F: np.ndarray) -> np.ndarray:
        """:math:`\\sum_{c \\in \\text{row } r} y_{rc} F_c` for every row, shape (n_rows, k)."""
        return self.matrix(values) @ F


def solve_spd(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve the batch of symmetric positive-definite systems ``A[r] x[r] = b[r]``.

    ``A`` has shape (n, k, k) and ``b`` shape (n, k); one LAPACK call solves all.
    """
    return np.linalg.solve(A, b[..., None])[..., 0]


def sample_gaussian(precision: np.ndarray, linear: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw :math:`x_r \\sim \\mathcal N(\\Lambda_r^{-1} b_r,\\ \\Lambda_r^{-1})` for every ``r`` at once.

    The Gaussian is given in canonical form, by its precision matrix
    :math:`\\Lambda_r` (``precision``, shape (n, k, k), symmetric positive
    definite) and its linear term :math:`b_r = \\Lambda_r \\mu_r` (``linear``,
    shape (n, k)): that is how the conditionals of the Gibbs sampler arrive.

    With the Cholesky factor :math:`\\Lambda_r = L_r L_r^\\top` and
    :math:`z_r \\sim \\mathcal N(0, I)`,

    .. math::

        x_r = \\Lambda_r^{-1} (b_r + L_r z_r)

    has mean :math:`\\Lambda_r^{-1} b_r` and covariance
    :math:`\\Lambda_r^{-1} L_r L_r^\\top \\Lambda_r^{-1} = \\Lambda_r^{-1}`, so one
    batched Cholesky factorization and one batched solve draw all ``n`` rows
    (no inverse is formed, no Python loop over rows).  The ``n * k`` standard
    normals are drawn from ``rng`` in one call, row after row.
    """
    L = np.linalg.cholesky(precision)
    z = rng.standard_normal(linear.shape)
    return solve_spd(precision, linear + np.einsum("rkl,rl->rk", L, z))
