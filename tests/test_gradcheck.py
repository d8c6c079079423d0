"""gradcheck: central differences catch wrong gradients and leave right ones alone."""

import numpy as np
import pytest

from recsys_tutorial.gradcheck import GradientCheck, check_gradient, numerical_gradient


def quadratic(seed=0, size=6):
    """f(x) = 1/2 x'Ax + b'x with A symmetric, whose gradient Ax + b is known exactly."""
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(size, size))
    A = M + M.T
    b = rng.normal(size=size)
    return (lambda x: 0.5 * x @ A @ x + b @ x), (lambda x: A @ x + b), rng.normal(size=size)


def test_numerical_gradient_of_a_quadratic_is_exact():
    # central differences have no truncation error on a quadratic: only rounding is left
    f, grad, x = quadratic()
    np.testing.assert_allclose(numerical_gradient(f, x), grad(x), rtol=1e-8, atol=1e-8)


def test_numerical_gradient_keeps_the_shape_of_x():
    # f(X) = sum of squares of a matrix: gradient 2X, same 2-D shape
    X = np.arange(6.0).reshape(2, 3)
    g = numerical_gradient(lambda Z: float(np.sum(Z**2)), X)
    assert g.shape == (2, 3)
    np.testing.assert_allclose(g, 2 * X, atol=1e-6)


def test_check_gradient_is_tiny_for_a_correct_gradient():
    f, grad, x = quadratic(seed=1)
    err = check_gradient(f, grad, x)
    assert isinstance(err, GradientCheck) and isinstance(err, float)
    assert 0.0 <= err < 1e-8


def test_check_gradient_finds_a_wrong_entry():
    f, grad, x = quadratic(seed=2)
    true = grad(x)

    def wrong(z):
        g = grad(z)
        g[3] += 0.5 + abs(g[3])  # far more than rounding noise, at index 3 only
        return g

    err = check_gradient(f, wrong, x)
    assert err > 0.1
    assert err.index == (3,)
    assert err.numeric == pytest.approx(true[3], rel=1e-6)
    assert err.analytic == pytest.approx(true[3] + 0.5 + abs(true[3]), rel=1e-12)
    assert "(3,)" in repr(err)


def test_check_gradient_finds_a_missing_factor_in_a_matrix():
    # f(X) = sum(X^2); claiming the gradient is X (the factor 2 dropped) is off by 50 percent
    X = np.array([[1.0, -2.0], [0.5, 4.0]])
    err = check_gradient(lambda Z: float(np.sum(Z**2)), lambda Z: Z, X)
    assert err == pytest.approx(0.5, rel=1e-6)
    assert len(err.index) == 2


def test_check_gradient_does_not_modify_x():
    f, grad, x = quadratic(seed=3)
    before = x.copy()

    def grad_that_scribbles(z):
        g = grad(z)
        z[:] = 0.0  # a careless gradient that overwrites its argument
        return g

    check_gradient(f, grad_that_scribbles, x)
    np.testing.assert_array_equal(x, before)
    numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)


def test_check_gradient_rejects_a_gradient_of_the_wrong_shape():
    f, grad, x = quadratic()
    with pytest.raises(ValueError, match="shape"):
        check_gradient(f, lambda z: grad(z)[:-1], x)
    with pytest.raises(ValueError, match="shape"):
        check_gradient(f, lambda z: grad(z)[None, :], x)


def test_check_gradient_rejects_non_finite_values_and_bad_settings():
    with (
        np.errstate(divide="ignore", invalid="ignore"),
        pytest.raises(ValueError, match="not finite"),
    ):
        check_gradient(lambda z: float(np.sum(np.log(z))), lambda z: 1 / z, np.array([1.0, 0.0]))
    f, grad, x = quadratic()
    with pytest.raises(ValueError, match="eps"):
        check_gradient(f, grad, x, eps=0.0)
    with pytest.raises(ValueError, match="floor"):
        check_gradient(f, grad, x, floor=-1.0)


def test_zero_gradients_are_compared_against_the_floor():
    # a function that does not depend on x[1]: both gradients are exactly 0 there
    err = check_gradient(
        lambda z: float(z[0] ** 2), lambda z: np.array([2 * z[0], 0.0]), np.array([1.5, 7.0])
    )
    assert err < 1e-8
