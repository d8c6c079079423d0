"""Batched linear algebra for the row-wise normal equations of ALS and the Gibbs sampler.

Both ALS (chapter 3) and Bayesian PMF (chapter 5) need, for every user
:math:`i` at once, the Gram matrix :math:`\\sum_{j \\in \\Omega_i} V_j V_j^\\top`
and the vector :math:`\\sum_{j \\in \\Omega_i} y_{ij} V_j`, and then the
solution of one small :math:`d \\times d` symmetric positive-definite system
per user.  Looping over users in Python would cost one interpreter round trip
per row; here each quantity is a few compiled calls.

Two implementations of each, chosen by the size :math:`k` of the systems
(``method="auto"``), because the cheap one for small :math:`k` is the slow one
for large :math:`k` (``benchmarks/als_rate.py`` measures both):

* Gram matrices.  ``"sparse"``: one sparse product of the 0/1 pattern with the
  :math:`k(k+1)/2` products :math:`F_{cl} F_{cm}` of every column: few calls,
  but scipy's sparse kernel runs at a small fraction of the machine's dense
  rate.  ``"batched"``: rows sorted by their number of entries and cut into
  buckets of nearly equal length; each bucket's factor rows are gathered into
  a dense ``(rows, length, k)`` block (short rows padded with a zero factor row,
  which adds nothing) and multiplied by its transpose, one dense matrix product
  per row in a single stacked call that runs at BLAS speed.
* Solves.  ``"lu"``: numpy's batched LU solve (one call for all rows).
  ``"cholesky"``: LAPACK's ``posv`` (Cholesky, half the flops of LU) row after
  row, whose per-call overhead only pays for itself at larger :math:`k`.
"""

from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

__all__ = ["RowGroups", "for_each", "solve_spd", "sample_gaussian"]

#: ``method="auto"`` uses the batched Gram matrices from this k on, and Cholesky from
#: ``_CHOLESKY_MIN_K``; below, the sparse product and the batched LU solve are faster
#: (crossovers measured with benchmarks/als_rate.py on MovieLens 100K, one thread).
_BATCHED_MIN_K = 16
_CHOLESKY_MIN_K = 24
#: A bucket spans row lengths within this ratio of its shortest row (padding <= 12.5%) ...
_BUCKET_RATIO = 1.125
#: ... and holds at most this many padded entries (its gathered block: 32 MB at k = 64).
_BUCKET_ENTRIES = 1 << 16


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
    The sparse 0/1 pattern ``S`` (``n_rows x n_cols``) is built once; the
    ``"sparse"`` Gram matrices are then ``S @ W`` where row ``j`` of ``W``
    holds the upper triangle of :math:`F_j F_j^\\top`, i.e.
    :math:`O(|\\Omega| d^2 / 2)` work in one compiled call.  The row buckets of
    the ``"batched"`` path (padded column indices, :math:`O(|\\Omega|)`
    memory) are built on first use and kept.
    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> None:
        # scipy's COO -> CSR conversion is a counting sort, O(nnz); carrying the
        # positions as data tells where each CSR entry came from
        csr = sp.csr_matrix((np.arange(rows.size), (rows, cols)), shape=(n_rows, n_cols))
        self.order = csr.data  # position in CSR order -> position in the input arrays
        self.n_rows, self.n_cols = n_rows, n_cols
        self.indptr, self.indices = csr.indptr, csr.indices
        self._pattern = sp.csr_matrix(
            (np.ones(rows.size), self.indices, self.indptr), shape=(n_rows, n_cols)
        )
        self._buckets = None  # built on the first batched Gram computation

    def matrix(self, values: np.ndarray) -> sp.csr_matrix:
        """The ``n_rows x n_cols`` CSR matrix with ``values`` (given in input order)."""
        return sp.csr_matrix(
            (values[self.order], self.indices, self.indptr), shape=(self.n_rows, self.n_cols)
        )

    def gram(self, F: np.ndarray, method: str = "auto") -> np.ndarray:
        """:math:`G_r = \\sum_{c \\in \\text{row } r} F_c F_c^\\top` for every row: (n_rows, k, k).

        ``method``: ``"sparse"``, ``"batched"`` or ``"auto"`` (batched from
        ``k = 16`` on); the results agree to rounding (see the module notes).
        Rows without entries get a zero matrix.
        """
        if method == "auto":
            method = "batched" if F.shape[1] >= _BATCHED_MIN_K else "sparse"
        if method == "sparse":
            return self._gram_sparse(F)
        if method == "batched":
            return self._gram_batched(F)
        raise ValueError(f"method must be 'auto', 'sparse' or 'batched'; got {method!r}")

    def solve_ridge(
        self, F: np.ndarray, y: np.ndarray, diagonal: np.ndarray, n_threads: int | None = None
    ) -> tuple:
        """Solve each row's normal equations :math:`(G_r + \\mathrm{diag}(\\delta_r)) x_r = b_r`.

        With :math:`G_r` as in :meth:`gram`, :math:`b_r = \\sum_{c \\in \\text{row } r} y_{rc} F_c`
        (:meth:`weighted_sum`) and ``diagonal`` :math:`\\delta` of shape
        (n_rows, k), positive: the ridge-regression step of ALS for every row.

        Returns
        -------
        (X, b) : ndarrays of shape (n_rows, k)
            The solutions and the right-hand sides.

        Notes
        -----
        Where the batched Gram path applies (``k >= 16``), the rows are solved
        bucket by bucket, so that only one bucket's :math:`k \\times k`
        matrices exist at a time: memory :math:`O(\\text{nnz} + (m + n) k)`
        rather than :math:`O(m k^2)` (3.3 GB for 100,000 rows at ``k = 64``).
        Otherwise it is ``solve_spd(gram(F) + diag, weighted_sum(y, F))``.

        Given the other side's factors ``F``, the rows' systems are independent,
        so with ``n_threads`` the buckets are solved by that many threads
        (:func:`for_each`); the solutions are bit-for-bit those of one thread.
        The sparse path (``k < 16``) ignores it.
        """
        k = F.shape[1]
        b = self.weighted_sum(y, F)
        diag = np.arange(k)
        # rows without entries have no equation: x = 0 (a zero penalty cannot make them singular)
        X = np.zeros((self.n_rows, k))
        if k < _BATCHED_MIN_K:
            rated = np.flatnonzero(np.diff(self.indptr))
            A = self.gram(F, method="sparse")[rated]
            A[:, diag, diag] += diagonal[rated]
            _refuse_singular(A, diagonal[rated])
            X[rated] = solve_spd(A, b[rated])
            return X, b
        padded = self._padded(F)

        def solve_bucket(rows, columns):
            A = _block_gram(padded, columns)
            # the diagonals as a writable strided view: cheaper than fancy indexing, same sums
            np.einsum("rii->ri", A)[...] += diagonal[rows]
            _refuse_singular(A, diagonal[rows])
            X[rows] = solve_spd(A, b[rows], overwrite_a=True)  # A is this bucket's temporary

        for_each(solve_bucket, self.buckets(), n_threads)
        return X, b

    def _gram_sparse(self, F: np.ndarray) -> np.ndarray:
        k = F.shape[1]
        iu, ju = np.triu_indices(k)
        upper = self._pattern @ (F[:, iu] * F[:, ju])
        G = np.empty((self.n_rows, k, k))
        G[:, iu, ju] = upper
        G[:, ju, iu] = upper
        return G

    def _gram_batched(self, F: np.ndarray) -> np.ndarray:
        k = F.shape[1]
        G = np.zeros((self.n_rows, k, k))  # rows without entries are in no bucket: G = 0
        for rows, block_gram in self._bucket_grams(F):
            G[rows] = block_gram
        return G

    def _bucket_grams(self, F: np.ndarray):
        """Yield ``(rows, G[rows])`` bucket by bucket (rows with entries only)."""
        padded = self._padded(F)
        for rows, columns in self.buckets():
            yield rows, _block_gram(padded, columns)

    def buckets(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The rows with entries, in buckets of similar length: ``(rows, padded columns)``.

        ``columns`` has shape (rows, length); index ``n_cols`` pads the shorter rows.
        Built on first use and kept.
        """
        if self._buckets is None:
            self._buckets = self._make_buckets()
        return self._buckets

    def _padded(self, F: np.ndarray) -> np.ndarray:
        # index n_cols is the padding: a zero row, whose outer product adds exactly nothing
        padded = np.zeros((self.n_cols + 1, F.shape[1]))
        padded[: self.n_cols] = F
        return padded

    def _make_buckets(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Rows in buckets of similar length, each with its padded (rows, length) column indices."""
        counts = np.diff(self.indptr)
        order = np.argsort(counts, kind="stable")
        sorted_counts = counts[order]
        buckets = []
        start = int(np.searchsorted(sorted_counts, 1))  # rows without entries keep G = 0
        while start < order.size:
            shortest = sorted_counts[start]
            stop = int(np.searchsorted(sorted_counts, shortest * _BUCKET_RATIO, side="right"))
            stop = max(stop, start + 1)
            length = int(sorted_counts[stop - 1])
            stop = min(stop, start + max(1, _BUCKET_ENTRIES // length))
            length = int(sorted_counts[stop - 1])
            rows = order[start:stop]
            offsets = np.arange(length)
            positions = self.indptr[rows, None] + offsets
            inside = offsets < counts[rows, None]
            columns = np.where(inside, self.indices[np.where(inside, positions, 0)], self.n_cols)
            buckets.append((rows, columns.astype(np.intp)))
            start = stop
        return buckets

    def weighted_sum(self, values: np.ndarray, F: np.ndarray) -> np.ndarray:
        """:math:`\\sum_{c \\in \\text{row } r} y_{rc} F_c` for every row, shape (n_rows, k)."""
        return self.matrix(values) @ F


def _block_gram(padded: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """:math:`G_r = B_r^\\top B_r` for the gathered blocks :math:`B_r` = ``padded[columns[r]]``."""
    # (rows, length, k), gathered; take() along one axis is a plainer copy loop than
    # fancy indexing, and faster for the short rows that dominate the buckets
    block = np.take(padded, columns, axis=0)
    return np.matmul(block.transpose(0, 2, 1), block)


def for_each(function, items, n_threads: int | None = None) -> None:
    """Call ``function(*item)`` for every item, in ``n_threads`` threads if given.

    For work that splits into independent pieces writing disjoint outputs
    (the row buckets of an ALS half-step).  numpy's stacked matrix products and
    LAPACK calls release the GIL, so the threads run in parallel.  With
    ``n_threads`` set, BLAS itself is held to one thread for the duration
    (``threadpoolctl``): the parallelism is over pieces, not inside each
    product, so every piece runs the same single-threaded kernels whatever
    ``n_threads`` is, and the results do not depend on it.  ``None`` calls the
    pieces in order in this thread and leaves BLAS alone.  ``items`` may be a
    generator: it is consumed in this thread (a piece's inputs are prepared
    there), at most ``2 n_threads`` pieces ahead of the workers, so memory
    stays that of a few pieces.
    """
    if n_threads is None:
        for item in items:
            function(*item)
        return
    # imported here: only thread control needs it, and it is pinned in requirements.txt
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), ThreadPoolExecutor(max_workers=n_threads) as pool:
        pending = collections.deque()
        for item in items:
            pending.append(pool.submit(function, *item))
            if len(pending) >= 2 * n_threads:
                pending.popleft().result()  # re-raises the worker's exception here
        while pending:
            pending.popleft().result()


def _refuse_singular(A: np.ndarray, diagonal: np.ndarray) -> None:
    """Raise ``LinAlgError`` if a system ``A[r]`` is singular in floating point.

    Only a row whose ridge term is negligible next to its Gram matrix can be:
    those rows (none, with any usable penalty) get a Cholesky factorization, and a
    pivot that vanishes next to the diagonal's scale means that the "solution"
    would be rounding noise.
    """
    scale = np.diagonal(A, axis1=1, axis2=2).max(axis=1)
    suspect = np.flatnonzero(diagonal.min(axis=1) <= 1e-10 * scale)
    if suspect.size == 0:
        return
    with np.errstate(all="ignore"):
        try:
            pivots = np.diagonal(np.linalg.cholesky(A[suspect]), axis1=1, axis2=2) ** 2
        except np.linalg.LinAlgError:
            pivots = None
    if pivots is None or np.any(pivots <= 1e-13 * scale[suspect, None]):
        raise np.linalg.LinAlgError("a system of the batch is singular in floating point")


def solve_spd(
    A: np.ndarray, b: np.ndarray, method: str = "auto", overwrite_a: bool = False
) -> np.ndarray:
    """Solve the batch of symmetric positive-definite systems ``A[r] x[r] = b[r]``.

    ``A`` has shape (n, k, k) and ``b`` shape (n, k); neither is modified.
    ``method``: ``"lu"`` (numpy's batched LU solve, one call), ``"cholesky"``
    (LAPACK ``posv`` per row: :math:`k^3/3` flops instead of :math:`2k^3/3`,
    and a ``LinAlgError`` naming the row if a matrix is not positive definite)
    or ``"auto"`` (Cholesky from ``k = 24`` on).

    ``overwrite_a=True`` lets the Cholesky path factor ``A`` in place (its
    contents are then destroyed): a caller that owns a temporary batch saves
    the copy, which at ``k = 64`` costs about a quarter of the solve's time
    (``benchmarks/als_rate.py``).  The solution is bit-for-bit the same.
    """
    if method == "auto":
        method = "cholesky" if A.shape[-1] >= _CHOLESKY_MIN_K else "lu"
    if method == "lu":
        return np.linalg.solve(A, b[..., None])[..., 0]
    if method != "cholesky":
        raise ValueError(f"method must be 'auto', 'lu' or 'cholesky'; got {method!r}")
    # posv overwrites its matrix with the factor; a float64 C-ordered A is factored in place
    work = A if overwrite_a else A.copy()
    x = np.array(b, dtype=np.float64, copy=True)
    posv = lapack.get_lapack_funcs("posv", (work,))
    for r in range(work.shape[0]):
        # work[r] is symmetric, so its transpose (a Fortran-ordered view) is the same matrix
        # and posv factors it in place, without a copy
        _, x[r], info = posv(work[r].T, x[r], lower=1, overwrite_a=1, overwrite_b=1)
        if info != 0:
            raise np.linalg.LinAlgError(
                f"system {r} is not positive definite (LAPACK posv info={info})"
                if info > 0
                else f"LAPACK posv rejected argument {-info} of system {r}"
            )
    return x


def sample_gaussian(
    precision: np.ndarray, linear: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw :math:`x_r \\sim \\mathcal N(\\Lambda_r^{-1} b_r,\\ \\Lambda_r^{-1})` for all ``r``.

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
