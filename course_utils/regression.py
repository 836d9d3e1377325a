"""Linear regression: the model, the squared loss and the minibatch SGD step."""

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
