"""Linear regression: the model, the squared loss, the minibatch SGD step and the closed form."""

import warnings

import torch


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
    """The linear model Xw + b for X of shape (n, d) and w of shape (d,) or (d, 1)."""
    if X.dim() != 2 or w.dim() not in (1, 2) or w.shape[0] != X.shape[1]:
        raise ValueError(f"expected X of shape (n, d) and w of shape (d,) or (d, 1), "
                         f"got X {tuple(X.shape)} and w {tuple(w.shape)}")
    return torch.matmul(X, w) + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Half the squared error per example, (y_hat - y)^2 / 2, in the shape of y_hat."""
    if y_hat.numel() != y.numel():
        raise ValueError(f"y_hat and y must hold one value per example, "
                         f"got shapes {tuple(y_hat.shape)} and {tuple(y.shape)}")
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: list[torch.Tensor], lr: float, batch_size: int) -> None:
    """One minibatch SGD step on a summed loss: param -= lr * grad / batch_size.

    Pass the size of the batch actually used (``len(y)``), not the nominal one:
    the last batch of an epoch can be shorter.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    with torch.no_grad():
        for param in params:
            if param.grad is None:
                raise ValueError("a parameter has no gradient: call backward() first")
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def closed_form(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares (w, b) minimising ||Xw + b - y||^2, solved stably (not by (X^T X)^-1).

    The bias is absorbed as in the normal equation: A = [X, 1], theta = [w; b]. X is (n, d);
    y is (n,) or (n, 1), and w comes back as (d,) or (d, 1) to match, with b of shape () or
    (1,), so ``linreg(X, w, b)`` has the shape of y. Floating-point tensors only (numpy arrays
    are converted with ``torch.as_tensor``); the result has the promoted dtype of X and y.

    The solve runs in float64 on centred, unit-norm columns (an SVD-based least squares), so a
    float32 X as badly conditioned as raw Boston (cond [X, 1] ~ 1e4) gives w to float32 accuracy.
    If [X, 1] has rank < d + 1 (collinear or constant columns, or n <= d), the solution is not
    unique: a ``RuntimeWarning`` is issued and the minimum-norm theta, pinv([X, 1]) y, is returned.
    """
    X, y = (torch.as_tensor(t) if not isinstance(t, torch.Tensor) else t for t in (X, y))
    if not (X.is_floating_point() and y.is_floating_point()):
        raise ValueError(f"X and y must be floating-point, got {X.dtype} and {y.dtype}")
    if X.dim() != 2 or y.dim() not in (1, 2) or (y.dim() == 2 and y.shape[1] != 1):
        raise ValueError(f"expected X of shape (n, d) and y of shape (n,) or (n, 1), "
                         f"got X {tuple(X.shape)} and y {tuple(y.shape)}")
    n, d = X.shape
    if y.shape[0] != n:
        raise ValueError(f"X and y must have the same number of rows, got {n} and {y.shape[0]}")
    if n == 0 or d == 0:
        raise ValueError(f"X must have at least one row and one column, got {tuple(X.shape)}")
    if not (torch.isfinite(X).all() and torch.isfinite(y).all()):
        raise ValueError("X and y must hold finite numbers (no NaN or inf)")
    dtype = torch.promote_types(X.dtype, y.dtype)
    # Rank tolerance at the input's precision: float32 data that is collinear only up to
    # float32 rounding is still collinear.
    rtol = max(n, d + 1) * torch.finfo(dtype).eps
    X64, y64 = X.detach().double(), y.detach().double().reshape(n, 1)
    x_mean, y_mean = X64.mean(dim=0), y64.mean()
    Z = X64 - x_mean
    norms = torch.linalg.vector_norm(Z, dim=0)
    Z = Z / torch.where(norms > 0, norms, 1.0)
    s = torch.linalg.svdvals(Z)
    if s[0] == 0 or s[-1] <= rtol * s[0] or n <= d:
        A = torch.cat([X64, torch.ones(n, 1, dtype=torch.float64, device=X.device)], dim=1)
        warnings.warn(f"[X, 1] is rank-deficient (X {tuple(X.shape)} has constant, collinear or "
                      f"too few rows); returning the minimum-norm least-squares solution",
                      RuntimeWarning, stacklevel=2)
        theta = torch.linalg.pinv(A, rtol=rtol) @ y64
        w64, b64 = theta[:d], theta[d:]
    else:
        w64 = torch.linalg.lstsq(Z, y64 - y_mean, driver="gelsd").solution / norms.reshape(d, 1)
        b64 = (y_mean - x_mean @ w64).reshape(1)
    w, b = w64.to(dtype=dtype, device=X.device), b64.to(dtype=dtype, device=X.device)
    return (w.reshape(d), b.reshape(())) if y.dim() == 1 else (w, b)
