"""course_utils.regression.closed_form: accurate in every dtype, at every size and scale; warns
(and returns the minimum-norm solution) only when the fit is not unique; clear errors."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course_utils.data import load_boston_housing
from course_utils.regression import closed_form, linreg

SHORT = [torch.float16, torch.bfloat16]


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


def no_warning(X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return closed_form(X, y)


def test_boston_is_badly_conditioned():
    X, _ = boston(torch.float64)
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    assert 1e4 < float(torch.linalg.cond(A)) < 2e4
    assert float(torch.linalg.cond(A.T @ A)) > 1 / torch.finfo(torch.float32).eps


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-10), (torch.float32, 1e-6)])
def test_accurate_on_raw_boston(dtype, rtol):
    X, y = boston(dtype)
    w, b = no_warning(X, y)
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


@pytest.mark.parametrize("dtype", SHORT)
def test_short_dtypes_fit_without_a_false_warning(dtype):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(5000, 2, generator=g).to(dtype)
    y = (X.double() @ torch.tensor([2.0, -3.4], dtype=torch.float64) + 4.2).to(dtype)
    w, b = no_warning(X, y)
    assert w.dtype == b.dtype == dtype
    # the float64 answer for the rounded data, itself rounded once to the dtype
    ref = reference(X, y)
    np.testing.assert_allclose(theta(w, b), ref, rtol=torch.finfo(dtype).eps)
    np.testing.assert_allclose(ref, [2.0, -3.4, 4.2], rtol=0.02)


def test_millions_of_float32_rows_fit_without_a_false_warning():
    n, g = 2_000_000, torch.Generator().manual_seed(1)
    x = torch.randn(n, 1, generator=g)
    X = torch.cat([x, x + 0.3 * torch.randn(n, 1, generator=g), torch.rand(n, 1, generator=g)], 1)
    y = X @ torch.tensor([1.5, -2.0, 0.5]) + 3.0 + 0.01 * torch.randn(n, generator=g)
    w, b = no_warning(X, y)
    A = torch.cat([X, torch.ones(n, 1)], dim=1).double()  # well-conditioned: normal equations
    ref = torch.linalg.solve(A.T @ A, A.T @ y.double())   # in float64 are exact enough here
    np.testing.assert_allclose(theta(w, b), ref.numpy(), rtol=1e-6)


def test_extreme_column_scales_are_exact():
    # Columns at 2^±530 (about 1e±160), y and b at 2^-200 (about 1e-60):
    # every value is an integer times a power of two, so y = Xw + b holds exactly.
    g = torch.Generator().manual_seed(2)
    k = torch.tensor([530.0, -530.0, 0.0], dtype=torch.float64)
    X = torch.randint(-9, 10, (40, 3), generator=g).double() * 2 ** k
    w_true = torch.tensor([3.0, -1.0, 2.0], dtype=torch.float64) * 2 ** (-200 - k)
    b_true = 5.0 * 2.0 ** -200
    w, b = no_warning(X, X @ w_true + b_true)
    assert torch.isfinite(w).all() and torch.isfinite(b)
    expected = theta(w_true, torch.tensor(b_true, dtype=torch.float64))
    np.testing.assert_allclose(theta(w, b), expected, rtol=1e-12)


@pytest.mark.parametrize("dtype, n", [(torch.bfloat16, 50), (torch.float16, 5000),
                                      (torch.float32, 50), (torch.float64, 50),
                                      (torch.float64, 2_000_000)])
def test_collinear_columns_warn_and_give_the_minimum_norm_solution(dtype, n):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, generator=g, dtype=torch.float64)
    X = torch.cat([x, 3 * x, torch.randn(n, 1, generator=g, dtype=torch.float64)], 1).to(dtype)
    y = (X.double() @ torch.tensor([1.0, 3.0, -2.0], dtype=torch.float64) + 0.5).to(dtype)
    with pytest.warns(RuntimeWarning, match="rank-deficient"):
        w, b = closed_form(X, y)
    # Columns 1 and 2 are the same once divided by their largest |value| (up to the rounding of
    # 3x to the dtype), so the minimum-norm answer shares their effect equally in those units:
    # w1 max|x| = w2 max|3x|, i.e. w1 = 3 w2; and w1 x + w2 (3x) must equal x + 9x: w = (5, 5/3).
    rtol = max(1e-5, 4 * torch.finfo(dtype).eps)
    np.testing.assert_allclose(theta(w, b), [5.0, 5 / 3, -2.0, 0.5], rtol=rtol, atol=rtol)


def test_minimum_norm_solution_matches_numpy_on_the_scaled_columns():
    g = torch.Generator().manual_seed(3)
    x, z = torch.randn(30, 1, generator=g, dtype=torch.float64), torch.rand(30, 1, generator=g)
    # column 1 is column 0 at another scale and sign; column 3 is constant
    X = torch.cat([100 * x, -2 * x, z.double() + 5, torch.full((30, 1), 7.0)], dim=1)
    y = torch.randn(30, generator=g, dtype=torch.float64)
    with pytest.warns(RuntimeWarning, match="minimum-norm"):
        w, b = closed_form(X, y)
    scale = X.abs().amax(dim=0)
    S = (X / scale - (X / scale).mean(dim=0)).numpy()
    z_ref = np.linalg.lstsq(S, (y - y.mean()).numpy(), rcond=1e-10)[0]
    np.testing.assert_allclose(w.numpy(), z_ref / scale.numpy(), rtol=1e-10, atol=1e-14)
    assert abs(w[3]) < 1e-14  # a constant column gets no weight: the bias carries it
    r = (y - linreg(X, w, b)).numpy()
    assert np.abs(S.T @ r).max() < 1e-12 and abs(r.sum()) < 1e-12  # still a least-squares fit


@pytest.mark.parametrize("X", [
    torch.cat([torch.arange(6.0).reshape(-1, 1), torch.full((6, 1), 0.1)], dim=1),  # constant
    torch.randn(3, 4, generator=torch.Generator().manual_seed(1)),  # n <= d
    torch.ones(1, 1),  # a single example
])
def test_rank_deficient_cases_warn(X):
    y = torch.arange(float(len(X)))
    with pytest.warns(RuntimeWarning, match="minimum-norm"):
        w, b = closed_form(X, y)
    assert torch.isfinite(w).all() and torch.isfinite(b).all()
    assert torch.allclose(linreg(X, w, b), y, atol=1e-5)  # these y can be fitted exactly


def test_shapes_follow_y_and_fit_linreg():
    X, y = boston(torch.float64)
    w, b = closed_form(X, y)
    assert w.shape == (12,) and b.shape == ()
    assert linreg(X, w, b).shape == y.shape
    w2, b2 = closed_form(X, y.reshape(-1, 1))
    assert w2.shape == (12, 1) and b2.shape == (1,)
    assert linreg(X, w2, b2).shape == (len(y), 1)
    assert torch.equal(w2.flatten(), w) and torch.equal(b2, b.reshape(1))


def test_arrays_and_lists_give_tensors():
    X, y = boston(torch.float64)
    w, b = closed_form(X.numpy(), y.numpy())
    assert isinstance(w, torch.Tensor) and w.dtype == torch.float64
    np.testing.assert_allclose(theta(w, b), reference(X, y), rtol=1e-10)
    w, b = closed_form([[0.0], [1.0], [2.0]], [1, 3, 5])
    assert w.dtype == torch.get_default_dtype() and torch.allclose(w, torch.tensor([2.0]))


def test_mixed_dtypes_promote():
    X, y = boston(torch.float32)
    w, b = closed_form(X, y.double())
    assert w.dtype == b.dtype == torch.float64


@pytest.mark.parametrize("X, y, name", [
    ("abc", torch.ones(3), "X"),
    (None, torch.ones(3), "X"),
    (torch.ones(3, 1), None, "y"),
    (torch.ones(5, 2), torch.ones(4), "y"),
    (torch.ones(0, 2), torch.ones(0), "X"),
    (torch.ones(5, 0), torch.ones(5), "X"),
    (torch.ones(5), torch.ones(5), "X"),
    (torch.ones(5, 2, 1), torch.ones(5), "X"),
    (torch.ones(5, 2), torch.ones(5, 2), "y"),
    (torch.ones(5, 2, dtype=torch.int64), torch.ones(5), "X"),
    (torch.ones(5, 2, dtype=torch.complex64), torch.ones(5), "X"),
    (np.array([["a"], ["b"]]), torch.ones(2), "X"),
    (torch.tensor([[1.0], [float("nan")]]), torch.ones(2), "X"),
    (torch.ones(2, 1), torch.tensor([1.0, float("inf")]), "y"),
])
def test_bad_input_raises_a_value_error_naming_the_argument(X, y, name):
    with pytest.raises(ValueError, match=rf"^{name} must "):
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


@settings(max_examples=80, deadline=None)
@given(st.sampled_from([torch.float16, torch.bfloat16, torch.float32, torch.float64]),
       st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(0, 20))
def test_exact_data_is_recovered_exactly_in_every_dtype_and_scale(dtype, seed, d, extra_rows):
    """Integer data times powers of two: y = Xw + b is exact in the dtype, so the fit is too."""
    g = torch.Generator().manual_seed(seed)
    n = 3 * d + 2 + extra_rows
    top = 500 if dtype == torch.float64 else 4  # float16 reaches 65504 only
    k = torch.randint(-top, top + 1, (d,), generator=g).double()
    X = torch.randint(-8, 9, (n, d), generator=g).double() * 2 ** k
    S = X / X.abs().amax(dim=0)
    s = torch.linalg.svdvals(S - S.mean(dim=0))
    assume(s[-1] > 0.1 * s[0])  # well-conditioned, even for bfloat16's 3 digits
    signs = torch.randint(0, 2, (d,), generator=g) * 2 - 1
    w_true = (torch.randint(1, 5, (d,), generator=g) * signs).double() * 2 ** -k
    b_true = float(torch.randint(1, 9, (), generator=g) * signs[0])
    y = X @ w_true + b_true  # |y| <= 4 * 8 * 4 + 8: an integer that every dtype holds
    w, b = no_warning(X.to(dtype), y.to(dtype))
    if dtype == torch.float64:
        expected = theta(w_true, torch.tensor(b_true, dtype=torch.float64))
        np.testing.assert_allclose(theta(w, b), expected, rtol=1e-12, atol=1e-12)
    else:
        assert torch.equal(w, w_true.to(dtype)) and float(b) == b_true
