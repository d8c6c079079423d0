"""linalg: the batched Gram matrices and Cholesky solves agree with the sparse/LU paths
and with a row-by-row reference, including rows with no entry and with one entry."""

import numpy as np
import pytest

from recsys_tutorial import linalg
from recsys_tutorial.linalg import RowGroups, solve_spd


def random_groups(seed: int, n_rows: int = 300, n_cols: int = 120):
    """Random entries with row lengths from 0 to about 100 (rows 0-4 empty, 5-9 single)."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    lengths = np.concatenate([[0] * 5, [1] * 5, rng.integers(2, 100, n_rows - 10)])
    for r, length in enumerate(rng.permutation(lengths)):
        rows.append(np.full(length, r))
        cols.append(rng.choice(n_cols, size=length, replace=False))
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    shuffle = rng.permutation(rows.size)  # input order need not be grouped
    return (
        RowGroups(rows[shuffle], cols[shuffle], n_rows, n_cols),
        rows[shuffle],
        cols[shuffle],
        rng,
    )


def reference_gram(rows, cols, n_rows, F):
    G = np.zeros((n_rows, F.shape[1], F.shape[1]))
    for r, c in zip(rows, cols):
        G[r] += np.outer(F[c], F[c])
    return G


@pytest.mark.parametrize("k", [1, 3, 16, 64])
def test_batched_and_sparse_gram_equal_the_row_by_row_sums(k):
    groups, rows, cols, rng = random_groups(k)
    F = rng.normal(size=(120, k))
    expected = reference_gram(rows, cols, 300, F)
    counts = np.bincount(rows, minlength=300)
    assert (counts == 0).sum() == 5 and (counts == 1).sum() >= 5
    for method in ("sparse", "batched", "auto"):
        G = groups.gram(F, method=method)
        assert G.shape == (300, k, k)
        np.testing.assert_allclose(G, expected, rtol=1e-10, atol=1e-10)
        assert not G[counts == 0].any()  # empty rows: exactly zero
    np.testing.assert_allclose(
        groups.gram(F, "batched"), groups.gram(F, "sparse"), rtol=0, atol=1e-10
    )


def test_buckets_cover_each_nonempty_row_once_with_bounded_padding():
    groups, rows, cols, _ = random_groups(5)
    buckets = groups._make_buckets()
    covered = np.concatenate([r for r, _ in buckets])
    counts = np.bincount(rows, minlength=300)
    assert np.array_equal(np.sort(covered), np.flatnonzero(counts > 0))
    padded = sum(c.size for _, c in buckets)
    assert padded <= 1.125 * rows.size + 2 * len(buckets)  # ratio 1.125, plus integer rounding
    for bucket_rows, columns in buckets:
        for r, line in zip(bucket_rows, columns):
            real = line[line < 120]
            assert np.array_equal(np.sort(real), np.sort(cols[rows == r]))
            assert np.all(line[real.size :] == 120)  # padding only at the end


@pytest.mark.parametrize("k", [4, 24, 64])
def test_cholesky_and_lu_solves_agree(k):
    rng = np.random.default_rng(k)
    X = rng.normal(size=(50, 2 * k, k))
    A = X.transpose(0, 2, 1) @ X + 0.1 * np.eye(k)
    b = rng.normal(size=(50, k))
    A_before, b_before = A.copy(), b.copy()
    x_lu = solve_spd(A, b, method="lu")
    x_chol = solve_spd(A, b, method="cholesky")
    np.testing.assert_allclose(x_chol, x_lu, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.einsum("rkl,rl->rk", A, x_chol), b, atol=1e-9)
    assert np.array_equal(A, A_before) and np.array_equal(b, b_before)  # inputs untouched
    np.testing.assert_array_equal(solve_spd(A, b), x_chol if k >= 24 else x_lu)


def test_cholesky_in_place_is_the_copying_solve_bit_for_bit():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(20, 80, 64))
    A = X.transpose(0, 2, 1) @ X + 0.1 * np.eye(64)
    b = rng.normal(size=(20, 64))
    expected = solve_spd(A, b, method="cholesky")
    work = A.copy()
    x = solve_spd(work, b, method="cholesky", overwrite_a=True)
    np.testing.assert_array_equal(x, expected)
    # the factor took A's place: its lower triangle is L with L L^T = A
    L = np.tril(work.transpose(0, 2, 1))
    np.testing.assert_allclose(L @ L.transpose(0, 2, 1), A, rtol=1e-12, atol=1e-9)


def test_cholesky_refuses_a_matrix_that_is_not_positive_definite():
    A = np.stack([np.eye(3), np.diag([1.0, -1.0, 1.0])])
    with pytest.raises(np.linalg.LinAlgError, match="system 1 is not positive definite"):
        solve_spd(A, np.ones((2, 3)), method="cholesky")


def test_unknown_methods_are_refused():
    groups, *_ = random_groups(0)
    with pytest.raises(ValueError, match="method must be 'auto', 'sparse' or 'batched'"):
        groups.gram(np.ones((120, 2)), method="dense")
    with pytest.raises(ValueError, match="method must be 'auto', 'lu' or 'cholesky'"):
        solve_spd(np.eye(2)[None], np.ones((1, 2)), method="qr")


@pytest.mark.parametrize("k", [3, 32])
def test_solve_ridge_solves_each_rows_normal_equations(k):
    groups, rows, cols, rng = random_groups(10 + k)
    F = rng.normal(size=(120, k))
    y = rng.normal(size=rows.size)
    diagonal = rng.uniform(0.5, 2.0, size=(300, k))
    X, b = groups.solve_ridge(F, y, diagonal)
    # reference: each row's least-squares problem with its own ridge, solved on its own
    for r in range(300):
        mask = rows == r
        Fr, yr = F[cols[mask]], y[mask]
        expected_b = Fr.T @ yr
        expected_x = np.linalg.solve(Fr.T @ Fr + np.diag(diagonal[r]), expected_b)
        np.testing.assert_allclose(b[r], expected_b, atol=1e-10)
        np.testing.assert_allclose(X[r], expected_x, rtol=1e-9, atol=1e-10)


def test_solve_ridge_is_the_old_computation_bit_for_bit_below_the_threshold():
    # small k keeps the original sparse-product + LU path, so chapters' numbers do not move
    groups, rows, _, rng = random_groups(3)
    k = linalg._BATCHED_MIN_K - 1
    F = rng.normal(size=(120, k))
    y = rng.normal(size=rows.size)
    diagonal = np.full((300, k), 0.7)
    A = groups.gram(F, method="sparse")
    A[:, np.arange(k), np.arange(k)] += diagonal
    old = np.linalg.solve(A, groups.weighted_sum(y, F)[..., None])[..., 0]
    np.testing.assert_array_equal(groups.solve_ridge(F, y, diagonal)[0], old)


def test_als_at_d_32_gives_the_same_fit_on_the_old_and_new_paths(monkeypatch):
    import recsys_tutorial as rt

    data = rt.datasets.make_synthetic(150, 90, n_factors=4, density=0.3, random_state=0)

    def fit():
        model = rt.models.MatrixFactorization(n_factors=32, reg=0.5, n_epochs=5, random_state=0)
        return model.fit(data.ratings)

    new = fit()
    monkeypatch.setattr(linalg, "_BATCHED_MIN_K", 10**9)  # the sparse product and LU solve
    monkeypatch.setattr(linalg, "_CHOLESKY_MIN_K", 10**9)
    old = fit()
    np.testing.assert_allclose(new.history_, old.history_, rtol=1e-10)
    np.testing.assert_allclose(new.user_factors_, old.user_factors_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(new.item_factors_, old.item_factors_, rtol=1e-7, atol=1e-9)
