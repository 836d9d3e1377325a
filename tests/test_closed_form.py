"""course_utils.regression.closed_form: accuracy in float32 and float64, shapes, clear errors."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.data import load_boston_housing
from course_utils.regression import closed_form, linreg


def boston(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw (unscaled) Boston features without B, and MEDV."""
    df = load_boston_housing()
    X = torch.tensor(df.drop(columns=["B", "MEDV"]).to_numpy(), dtype=dtype)
    return X, torch.tensor(df["MEDV"].to_numpy(), dtype=dtype)


def reference(X: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """[w; b] by numpy's float64 SVD least squares on exactly the values given."""
    A = np.c_[X.double().numpy(), np.ones(len(X))]
    return np.linalg.lstsq(A, y.double().numpy().ravel(), rcond=None)[0]


def theta(w: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    return np.r_[w.double().numpy().ravel(), b.double().numpy().ravel()]


def test_boston_is_badly_conditioned():
    X, _ = boston(torch.float64)
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    assert 1e4 < float(torch.linalg.cond(A)) < 2e4
    assert float(torch.linalg.cond(A.T @ A)) > 1 / torch.finfo(torch.float32).eps


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-10), (torch.float32, 1e-6)])
def test_accurate_on_raw_boston(dtype, rtol):
    X, y = boston(dtype)
    w, b = closed_form(X, y)
    assert w.dtype == b.dtype == dtype
    ref = reference(X, y)  # the float64 answer for these (possibly float32-rounded) data
    np.testing.assert_allclose(theta(w, b), ref, rtol=rtol)


def test_float32_beats_the_explicit_inverse():
    X, y = boston(torch.float32)
    A = torch.cat([X, torch.ones(len(X), 1)], dim=1)
    naive = torch.linalg.inv(A.T @ A) @ A.T @ y
    ref = reference(X, y)
    ours = theta(*closed_form(X, y))
    assert np.abs(ours / ref - 1).max() < 1e-6 < np.abs(naive.double().numpy() / ref - 1).max()


def test_shapes_follow_y_and_fit_linreg():
    X, y = boston(torch.float64)
    w, b = closed_form(X, y)
    assert w.shape == (12,) and b.shape == ()
    assert linreg(X, w, b).shape == y.shape
    w2, b2 = closed_form(X, y.reshape(-1, 1))
    assert w2.shape == (12, 1) and b2.shape == (1,)
    assert linreg(X, w2, b2).shape == (len(y), 1)
    assert torch.equal(w2.flatten(), w) and torch.equal(b2, b.reshape(1))


def test_numpy_input_gives_tensors_of_its_dtype():
    X, y = boston(torch.float64)
    w, b = closed_form(X.numpy(), y.numpy())
    assert isinstance(w, torch.Tensor) and w.dtype == torch.float64
    np.testing.assert_allclose(theta(w, b), reference(X, y), rtol=1e-10)


def test_mixed_dtypes_promote():
    X, y = boston(torch.float32)
    w, b = closed_form(X, y.double())
    assert w.dtype == b.dtype == torch.float64


@pytest.mark.parametrize("X, y, message", [
    (torch.ones(5, 2), torch.ones(4), "same number of rows"),
    (torch.ones(0, 2), torch.ones(0), "at least one row"),
    (torch.ones(5, 0), torch.ones(5), "at least one row and one column"),
    (torch.ones(5), torch.ones(5), r"X of shape \(n, d\)"),
    (torch.ones(5, 2, 1), torch.ones(5), r"X of shape \(n, d\)"),
    (torch.ones(5, 2), torch.ones(5, 2), r"y of shape \(n,\) or \(n, 1\)"),
    (torch.ones(5, 2, dtype=torch.int64), torch.ones(5), "floating-point"),
    (torch.tensor([[1.0], [float("nan")]]), torch.ones(2), "finite"),
    (torch.ones(2, 1), torch.tensor([1.0, float("inf")]), "finite"),
])
def test_bad_input_raises_value_error(X, y, message):
    with pytest.raises(ValueError, match=message):
        closed_form(X, y)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_collinear_columns_warn_and_give_minimum_norm(dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(50, 1, generator=g, dtype=dtype)
    X = torch.cat([x, 3 * x, torch.randn(50, 1, generator=g, dtype=dtype)], dim=1)
    y = X @ torch.tensor([1.0, 3.0, -2.0], dtype=dtype) + 0.5
    with pytest.warns(RuntimeWarning, match="rank-deficient"):
        w, b = closed_form(X, y)
    A = torch.cat([X, torch.ones(50, 1, dtype=dtype)], dim=1).double()
    expected = torch.linalg.pinv(A, rtol=1e-6) @ y.double()
    np.testing.assert_allclose(theta(w, b), expected.numpy(), rtol=1e-5, atol=1e-5)
    assert torch.allclose(linreg(X, w, b), y, atol=1e-4)  # it still fits exactly


@pytest.mark.parametrize("X", [
    torch.cat([torch.arange(6.0).reshape(-1, 1), torch.full((6, 1), 7.0)], dim=1),  # constant
    torch.randn(3, 4, generator=torch.Generator().manual_seed(1)),  # n <= d
    torch.ones(1, 1),  # a single example
])
def test_rank_deficient_cases_warn(X):
    y = torch.arange(float(len(X)))
    with pytest.warns(RuntimeWarning, match="minimum-norm"):
        w, b = closed_form(X, y)
    assert torch.isfinite(w).all() and torch.isfinite(b).all()


def test_full_rank_does_not_warn():
    X, y = boston(torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        closed_form(X, y)


@st.composite
def problems(draw):
    """A random full-rank regression problem: n > d + 1, columns on different scales."""
    seed = draw(st.integers(0, 2**32 - 1))
    d = draw(st.integers(1, 6))
    n = draw(st.integers(d + 2, 40))
    g = torch.Generator().manual_seed(seed)
    scales = 10.0 ** torch.randint(-2, 3, (d,), generator=g)
    X = (torch.randn(n, d, generator=g, dtype=torch.float64) + 2) * scales
    y = torch.randn(n, generator=g, dtype=torch.float64) * 5 + 1
    return X, y


@settings(max_examples=60, deadline=None)
@given(problems())
def test_residual_is_orthogonal_to_the_columns_of_X_and_1(problem):
    X, y = problem
    w, b = closed_form(X, y)
    r = y - linreg(X, w, b)
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    # normal equations A^T r = 0, relative to the sizes of A's columns and of y
    scale = torch.linalg.vector_norm(A, dim=0) * torch.linalg.vector_norm(y)
    assert (torch.abs(A.T @ r) <= 1e-9 * scale).all()


@settings(max_examples=60, deadline=None)
@given(problems(), st.floats(-100, 100))
def test_noise_free_data_is_recovered_and_shifting_y_shifts_b(problem, shift):
    X, y = problem
    w_true = torch.linspace(-2, 2, X.shape[1], dtype=X.dtype)
    w, b = closed_form(X, X @ w_true + 3.0)
    assert torch.allclose(w, w_true, atol=1e-8) and abs(float(b) - 3.0) < 1e-7
    w1, b1 = closed_form(X, y)
    w2, b2 = closed_form(X, y + shift)
    assert torch.allclose(w1, w2, atol=1e-9) and abs(float(b2 - b1) - shift) < 1e-7
