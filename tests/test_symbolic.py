"""recsys_tutorial.symbolic: the SymPy objectives agree with each other and with the numpy ones."""

import numpy as np
import pytest
import scipy.stats
import sympy as sp

import recsys_tutorial as rt
from recsys_tutorial import symbolic as sym

# Small instances: (m, n, d, observed pairs).  Each has a missing entry; most have a user
# with no rating at all (and one an item with none), the cases a careless sum gets wrong.
INSTANCES = [
    (2, 2, 1, [(0, 0), (0, 1)]),  # user 1 has no rating
    (2, 3, 2, [(0, 0), (0, 2), (1, 1)]),
    (3, 2, 2, [(0, 0), (0, 1), (1, 0)]),  # user 2 has no rating
    (3, 3, 1, [(0, 0), (1, 1), (1, 2), (0, 2)]),  # user 2 has no rating
    (3, 3, 2, [(0, 0), (0, 1), (1, 0), (1, 2)]),  # user 2 has no rating
    (2, 3, 2, [(0, 0), (1, 0), (1, 1)]),  # item 2 has no rating
]


def random_numbers(inst, seed):
    rng = np.random.default_rng(seed)
    U = rng.normal(size=(inst.m, inst.d))
    V = rng.normal(size=(inst.n, inst.d))
    R = rng.integers(1, 6, size=(inst.m, inst.n)).astype(float)
    return U, V, R


def test_lazy_import_from_the_package():
    assert rt.symbolic is sym


@pytest.mark.parametrize("m, n, d, pairs", INSTANCES)
def test_autodiff_gradient_equals_the_closed_form_and_the_matrix_form(m, n, d, pairs):
    inst = sym.mf_symbols(m, n, d, mask=pairs)
    autodiff = sym.mf_gradient_autodiff(inst)
    assert sym.prove_equal(autodiff, sym.mf_gradient_closed_form(inst))
    assert sym.prove_equal(autodiff, sym.mf_gradient_matrix_form(inst))


@pytest.mark.parametrize("weights", ["symbols", ([2, 3, 1], [5, 1])])
def test_gradient_forms_agree_with_row_weights(weights):
    inst = sym.mf_symbols(3, 2, 2, mask=[(0, 0), (0, 1), (1, 1)], weights=weights)
    autodiff = sym.mf_gradient_autodiff(inst)
    assert sym.prove_equal(autodiff, sym.mf_gradient_closed_form(inst))
    assert sym.prove_equal(autodiff, sym.mf_gradient_matrix_form(inst))


def test_gradient_of_a_user_without_ratings_is_the_regularizer_only():
    inst = sym.mf_symbols(3, 2, 2, mask=[(0, 0), (0, 1), (1, 0)])
    grad_u, _ = sym.mf_gradient_autodiff(inst)
    # worked by hand: L contains U_2 only through lambda_U (U_{2,0}^2 + U_{2,1}^2)
    assert sym.prove_equal(grad_u[2, :], 2 * inst.reg_u * inst.U[2, :])


def test_loss_contains_only_the_observed_ratings():
    inst = sym.mf_symbols(2, 3, 2, mask=[(0, 0), (0, 2), (1, 1)])
    free = sym.mf_loss(inst).free_symbols
    observed = {inst.R[i, j] for i, j in inst.omega}
    assert observed <= free
    assert not (set(inst.R) - observed) & free
    assert sym.mf_residuals(inst)[0, 1] == 0


def test_loss_by_hand_for_one_rating():
    inst = sym.mf_symbols(1, 1, 1, mask=[(0, 0)])
    u, v, r = inst.U[0, 0], inst.V[0, 0], inst.R[0, 0]
    expected = (r - u * v) ** 2 + inst.reg_u * u**2 + inst.reg_v * v**2
    assert sym.prove_equal(sym.mf_loss(inst), expected)


@pytest.mark.parametrize("m, n, d, pairs", INSTANCES)
def test_symbolic_loss_and_gradient_equal_the_numpy_ones(m, n, d, pairs):
    inst = sym.mf_symbols(m, n, d, mask=pairs)
    U, V, R = random_numbers(inst, seed=m * 100 + n * 10 + d)
    R_with_gaps = R.copy()
    R_with_gaps[np.asarray(inst.mask.tolist()) == 0] = np.nan  # unobserved: no value at all
    values = inst.values(U, V, R_with_gaps, reg_u=0.3, reg_v=1.7)
    ratings = inst.to_ratings(R)
    assert len(ratings) == len(pairs)
    expected = rt.objectives.mf_loss(U, V, ratings, 0.3, 1.7)
    assert sym.evaluate(sym.mf_loss(inst), values) == pytest.approx(expected, rel=1e-12)
    grad_u, grad_v = sym.evaluate(sym.mf_gradient_closed_form(inst), values)
    num_u, num_v = rt.objectives.mf_gradients(U, V, ratings, 0.3, 1.7)
    np.testing.assert_allclose(grad_u, num_u, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_v, num_v, rtol=1e-12, atol=1e-12)


def test_symbolic_loss_with_weights_equals_the_numpy_one():
    wu, wv = [2.0, 1.0, 4.0], [1.0, 3.0]
    inst = sym.mf_symbols(3, 2, 2, mask=[(0, 0), (0, 1), (1, 0)], weights=(wu, wv))
    U, V, R = random_numbers(inst, seed=5)
    expected = rt.objectives.mf_loss(
        U, V, inst.to_ratings(R), 0.4, 0.9, user_weights=np.array(wu), item_weights=np.array(wv)
    )
    got = sym.evaluate(sym.mf_loss(inst), inst.values(U, V, R, reg_u=0.4, reg_v=0.9))
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("m, n, d, pairs", INSTANCES[:4])
@pytest.mark.parametrize("side", ["user", "item"])
def test_normal_equation_solution_zeroes_the_gradient(m, n, d, pairs, side):
    inst = sym.mf_symbols(m, n, d, mask=pairs)
    for index in range(m if side == "user" else n):
        assert sym.als_solution_zeroes_gradient(inst, index, side)


@pytest.mark.parametrize("weights", ["symbols", ([3, 1, 2], [2, 5, 1])])
def test_normal_equations_with_row_weights_zero_the_weighted_gradient(weights):
    # count-scaled penalty (chapter 3): A_i = sum V_j V_j^T + lambda_U w_i I
    inst = sym.mf_symbols(3, 3, 2, mask=[(0, 0), (0, 2), (1, 1), (2, 0), (2, 1)], weights=weights)
    for side, count in (("user", 3), ("item", 3)):
        for index in range(count):
            assert sym.als_solution_zeroes_gradient(inst, index, side)
    A, _ = sym.als_normal_equations(inst, 1, "user")
    V1 = inst.item(1)
    assert sym.prove_equal(A, V1 * V1.T + inst.reg_u * inst.user_weights[1] * sp.eye(2))


def test_normal_equations_by_hand_and_numerically():
    inst = sym.mf_symbols(2, 3, 2, mask=[(0, 0), (0, 2), (1, 1)])
    A, b = sym.als_normal_equations(inst, 0, "user")
    V0, V2 = inst.item(0), inst.item(2)
    assert sym.prove_equal(A, V0 * V0.T + V2 * V2.T + inst.reg_u * sp.eye(2))
    assert sym.prove_equal(b, inst.R[0, 0] * V0 + inst.R[0, 2] * V2)
    # numerically: the solution is where the numpy gradient of that user's row vanishes
    U, V, R = random_numbers(inst, seed=11)
    values = inst.values(U, V, R, reg_u=0.5, reg_v=0.5)
    x = sym.evaluate(sym.als_solution(inst, 0, "user"), values).ravel()
    U[0] = x
    grad_u, _ = rt.objectives.mf_gradients(U, V, inst.to_ratings(R), 0.5, 0.5)
    np.testing.assert_allclose(grad_u[0], 0.0, atol=1e-12)
    assert np.abs(grad_u[1]).max() > 1e-3  # user 1 was not solved


def test_normal_equations_of_an_item_and_an_empty_row():
    inst = sym.mf_symbols(3, 2, 1, mask=[(0, 1), (1, 1)])
    A, b = sym.als_normal_equations(inst, 1, "item")
    u0, u1 = inst.U[0, 0], inst.U[1, 0]
    assert sym.prove_equal(A, sp.Matrix([[u0**2 + u1**2 + inst.reg_v]]))
    assert sym.prove_equal(b, sp.Matrix([[inst.R[0, 1] * u0 + inst.R[1, 1] * u1]]))
    # item 0 has no rating: A = lambda_V I, b = 0, and the minimizer is 0
    assert sym.prove_equal(sym.als_solution(inst, 0, "item"), sp.zeros(1, 1))


@pytest.mark.parametrize("m, n, d, pairs", INSTANCES)
def test_pmf_log_posterior_equals_the_numpy_one(m, n, d, pairs):
    inst = sym.mf_symbols(m, n, d, mask=pairs)
    U, V, R = random_numbers(inst, seed=m + 7 * n + 31 * d)
    values = inst.values(U, V, R, sigma=0.8, sigma_u=1.3, sigma_v=0.6)
    expected = rt.objectives.pmf_log_posterior(U, V, inst.to_ratings(R), 0.8, 1.3, 0.6)
    assert sym.evaluate(sym.pmf_log_posterior(inst), values) == pytest.approx(expected, rel=1e-12)


def test_pmf_terms_equal_scipy_densities():
    inst = sym.mf_symbols(3, 2, 2, mask=[(0, 0), (1, 0), (1, 1)])
    U, V, R = random_numbers(inst, seed=3)
    values = inst.values(U, V, R, sigma=0.7, sigma_u=1.1, sigma_v=2.0)
    log_lik = sum(scipy.stats.norm.logpdf(R[i, j], U[i] @ V[j], 0.7) for i, j in inst.omega)
    log_u = sum(
        scipy.stats.multivariate_normal.logpdf(U[i], np.zeros(2), 1.1**2 * np.eye(2))
        for i in range(3)
    )
    log_v = sum(
        scipy.stats.multivariate_normal.logpdf(V[j], np.zeros(2), 2.0**2 * np.eye(2))
        for j in range(2)
    )
    assert sym.evaluate(sym.pmf_log_likelihood(inst), values) == pytest.approx(log_lik, rel=1e-12)
    got_u, got_v = sym.evaluate(sym.pmf_log_priors(inst), values)
    assert got_u == pytest.approx(log_u, rel=1e-12)
    assert got_v == pytest.approx(log_v, rel=1e-12)


def test_map_objective_is_the_mf_loss_up_to_scale_and_constant():
    # sigma^2 log p(U, V | R) = -1/2 [L with lambda = sigma^2 / sigma_U^2] + terms free of U, V, R
    inst = sym.mf_symbols(2, 2, 2, mask=[(0, 0), (1, 0), (1, 1)])
    scaled = inst.sigma**2 * sym.pmf_log_posterior(inst)
    loss = sym.mf_loss(inst).subs(sym.pmf_regularization(inst))
    rest = sp.expand(sp.expand_log(sp.expand(scaled + loss / 2)))
    assert rest.free_symbols <= {inst.sigma, inst.sigma_u, inst.sigma_v}
    # and the constant is the one written out by hand (|Omega| = 3, m d = n d = 4)
    s, su, sv = inst.sigma, inst.sigma_u, inst.sigma_v
    by_hand = -(s**2) * (
        sp.Rational(3, 2) * sp.log(2 * sp.pi * s**2)
        + 2 * sp.log(2 * sp.pi * su**2)
        + 2 * sp.log(2 * sp.pi * sv**2)
    )
    assert sym.prove_equal(rest, by_hand)


def test_vector_gaussian_with_scalar_variance_is_isotropic():
    x = sp.Matrix(sp.symbols("x0:3", real=True))
    s = sp.Symbol("s", positive=True)
    by_hand = -sp.Rational(3, 2) * sp.log(2 * sp.pi * s**2) - (x.T * x)[0, 0] / (2 * s**2)
    assert sym.prove_equal(sym.gaussian_log_pdf(x, 0, s**2 * sp.eye(3)), by_hand)


def test_prove_equal_rejects_unequal_expressions():
    inst = sym.mf_symbols(2, 2, 1, mask=[(0, 0), (1, 1)])
    loss = sym.mf_loss(inst)
    assert sym.prove_equal(loss, sp.expand(loss))
    assert not sym.prove_equal(loss, loss + inst.reg_u)
    grad_u, grad_v = sym.mf_gradient_closed_form(inst)
    assert not sym.prove_equal((grad_u, grad_v), (grad_u, 2 * grad_v))
    # forgetting the mask (summing over all i, j) is a different loss
    R, P = inst.R, sym.mf_prediction(inst)
    dense = sum((R[i, j] - P[i, j]) ** 2 for i in range(2) for j in range(2)) + sym.mf_penalty(inst)
    assert not sym.prove_equal(loss, dense)
    with pytest.raises(AssertionError, match="not equal"):
        sym.prove_equal(loss, loss + 1, raise_error=True)
    with pytest.raises(AssertionError, match="flat entry 1"):
        sym.prove_equal(sp.Matrix([1, 2]), sp.Matrix([1, 3]), raise_error=True)
    with pytest.raises(ValueError, match="shapes"):
        sym.prove_equal(sp.Matrix([1, 2]), sp.Matrix([[1, 2]]))


def test_mask_forms_agree_and_bad_masks_are_refused():
    pairs = [(0, 1), (1, 0)]
    a = sym.mf_symbols(2, 2, 1, mask=pairs)
    b = sym.mf_symbols(2, 2, 1, mask=np.array([[0, 1], [1, 0]]))
    c = sym.mf_symbols(2, 2, 1, mask=sp.Matrix([[0, 1], [1, 0]]))
    assert a.mask == b.mask == c.mask
    assert a.omega == [(0, 1), (1, 0)]  # row by row
    assert sym.mf_symbols(2, 2, 1).omega == [(0, 0), (0, 1), (1, 0), (1, 1)]
    with pytest.raises(ValueError, match="out of range"):
        sym.mf_symbols(2, 2, 1, mask=[(2, 0)])
    with pytest.raises(ValueError, match="twice"):
        sym.mf_symbols(2, 2, 1, mask=[(0, 0), (0, 0)])
    with pytest.raises(ValueError, match="shape"):
        sym.mf_symbols(2, 2, 1, mask=np.ones((3, 2)))
    with pytest.raises(ValueError, match="0 and 1"):
        sym.mf_symbols(2, 2, 1, mask=np.full((2, 2), 2))
    with pytest.raises(ValueError, match="d must be"):
        sym.mf_symbols(2, 2, 0)
    with pytest.raises(TypeError, match="m must be an int"):
        sym.mf_symbols(2.0, 2, 1)
    with pytest.raises(ValueError, match="side"):
        sym.als_normal_equations(a, 0, side="users")
    with pytest.raises(ValueError, match="index"):
        sym.als_normal_equations(a, 2)
    with pytest.raises(ValueError, match="R must have shape"):
        a.values(R=np.ones((3, 3)))


def test_evaluate_names_missing_symbols():
    inst = sym.mf_symbols(1, 1, 1)
    with pytest.raises(ValueError, match="without a number"):
        sym.evaluate(sym.mf_loss(inst), inst.values(U=[[1.0]], V=[[2.0]]))
