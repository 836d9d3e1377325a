"""Linear regression: the model, the squared loss, the minibatch SGD step and the closed form."""

import warnings

import torch

from course_utils import validate


@validate.checked(validate.linreg)
def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
    """The linear model Xw + b for X of shape (n, d) and w of shape (d,) or (d, 1)."""
    return torch.matmul(X, w) + b


@validate.checked(validate.squared_loss)
def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Half the squared error per example, (y_hat - y)^2 / 2, in the shape of y_hat."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


@validate.checked(validate.sgd)
def sgd(params: list[torch.Tensor], lr: float, batch_size: int) -> None:
    """One minibatch SGD step on a summed loss: param -= lr * grad / batch_size.

    Pass the size of the batch actually used (``len(y)``), not the nominal one:
    the last batch of an epoch can be shorter.
    """
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


@validate.checked(validate.closed_form)
def closed_form(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares (w, b) minimising ||Xw + b - y||^2, by one SVD-based solve in float64.

    X is (n, d); y is (n,) or (n, 1), and w comes back as (d,) or (d, 1) to match, with b of
    shape () or (1,), so ``linreg(X, w, b)`` has the shape of y. Arrays and lists are converted;
    the result has the promoted dtype of X and y.

    Each column (and y) is divided by its largest |value| and centred, the bias being fitted by
    the means: the solve sees numbers near 1 whatever the scale (1e-160 or 1e160). A singular
    value below sqrt(d) * eps(X's dtype) times the largest (at least 1000 float64 eps, the
    solve's own rounding) counts as zero: rounding X to its dtype can move it that far, however
    many rows there are. Then the fit is not unique (constant or collinear columns, n <= d): a
    ``RuntimeWarning`` is issued and the solution whose weights, in those scaled units, have the
    least norm is returned (a constant column gets weight 0; units do not change the choice).
    """
    n, d = X.shape
    X64, y64 = X.detach().double(), y.detach().double().reshape(n, 1)
    x_scale, y_scale = X64.abs().amax(dim=0), y64.abs().amax(dim=0)
    x_scale, y_scale = (torch.where(s > 0, s, 1.0) for s in (x_scale, y_scale))  # 0: a zero column
    Xs, ys = X64 / x_scale, y64 / y_scale
    x_mean, y_mean = Xs.mean(dim=0), ys.mean()
    rcond = d ** 0.5 * max(torch.finfo(X.dtype).eps, 1000 * torch.finfo(torch.float64).eps)
    rcond = min(rcond, 0.5)  # LAPACK reads rcond >= 1 as eps
    fit = torch.linalg.lstsq(Xs - x_mean, ys - y_mean, rcond=rcond, driver="gelsd")
    if fit.rank < d:
        warnings.warn(f"X {tuple(X.shape)} has rank {int(fit.rank)} < {d} once centred (constant "
                      f"or collinear columns, or too few rows): rank-deficient, returning the "
                      f"minimum-norm least-squares solution", RuntimeWarning, stacklevel=3)
    dtype = torch.promote_types(X.dtype, y.dtype)
    w = (fit.solution * (y_scale / x_scale).reshape(d, 1)).to(dtype=dtype, device=X.device)
    b = (y_scale * (y_mean - x_mean @ fit.solution)).to(dtype=dtype, device=X.device)
    return (w.reshape(d), b.reshape(())) if y.dim() == 1 else (w, b)
