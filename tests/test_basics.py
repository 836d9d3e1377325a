"""course_utils.data and course_utils.regression: agreement with d2l (errors: test_validate.py)."""

import random

import torch
from d2l import torch as d2l

from course_utils.data import data_iter, synthetic_data
from course_utils.regression import linreg, sgd, squared_loss

TRUE_W = torch.tensor([2.0, -3.4])


def test_d2l_is_the_real_package():
    assert d2l.__name__ == "d2l.torch"
    assert d2l.__file__.endswith("d2l/torch.py")
    import d2l as d2l_package
    assert d2l_package.__version__ == "1.0.3"


def test_synthetic_data_matches_d2l_and_the_model():
    torch.manual_seed(0)
    X, y = synthetic_data(TRUE_W, 4.2, 1000)
    torch.manual_seed(0)
    X_ref, y_ref = d2l.synthetic_data(TRUE_W, 4.2, 1000)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    assert torch.equal(X, X_ref) and torch.equal(y, y_ref)
    noise = y - (X @ TRUE_W + 4.2).reshape(-1, 1)
    assert 0.008 < float(noise.std()) < 0.012  # noise sd 0.01


def test_linreg_squared_loss_sgd_match_d2l():
    torch.manual_seed(1)
    X, y = synthetic_data(TRUE_W, 4.2, 20)
    params = [torch.randn(2, 1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    ref = [p.detach().clone().requires_grad_() for p in params]
    l_ours = squared_loss(linreg(X, *params), y)
    l_ref = d2l.squared_loss(d2l.linreg(X, *ref), y)
    assert torch.equal(l_ours, l_ref)
    l_ours.sum().backward()
    l_ref.sum().backward()
    sgd(params, 0.03, 20)
    d2l.sgd(ref, 0.03, 20)
    for p, r in zip(params, ref):
        assert torch.equal(p, r)
        assert torch.equal(p.grad, torch.zeros_like(p))  # sgd zeroes the gradient


def test_sgd_step_is_the_mean_gradient_step():
    w = torch.tensor([1.0], requires_grad=True)
    (3 * w).sum().backward()  # summed loss over a "batch" of 3 identical examples
    w.grad *= 3
    sgd([w], lr=0.1, batch_size=3)
    assert torch.allclose(w.detach(), torch.tensor([1.0 - 0.1 * 3]))


def test_data_iter_covers_every_example_once_with_a_short_last_batch():
    random.seed(0)
    X = torch.arange(23.0).reshape(-1, 1)
    y = 10 * X
    batches = list(data_iter(5, X, y))
    assert [len(b[0]) for b in batches] == [5, 5, 5, 5, 3]
    seen = torch.cat([b[0] for b in batches]).flatten()
    assert sorted(seen.tolist()) == X.flatten().tolist()
    assert seen.tolist() != X.flatten().tolist()  # shuffled
    for Xb, yb in batches:
        assert torch.equal(yb, 10 * Xb)  # pairs stay together


def test_squared_loss_does_not_broadcast_a_column_against_a_row():
    y_hat, y = torch.zeros(4, 1), torch.arange(4.0)
    assert squared_loss(y_hat, y).shape == (4, 1)  # not (4, 4)
