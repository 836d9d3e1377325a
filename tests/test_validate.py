"""Bad input to a course_utils helper gets a ValueError naming the argument, when the helper is
called; arrays, lists and integer-like sizes are converted; the lesson bodies stay plain."""

import ast
import inspect
import random
import textwrap

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from course_utils import data, regression
from course_utils.data import data_iter, load_boston_housing, synthetic_data
from course_utils.regression import closed_form, linreg, sgd, squared_loss

W, X, Y = torch.tensor([2.0, -3.4]), torch.zeros(4, 2), torch.zeros(4, 1)
LESSON = [data.synthetic_data, data.data_iter, regression.linreg, regression.squared_loss,
          regression.sgd]


def with_grad(*shape) -> torch.Tensor:
    p = torch.zeros(*shape, requires_grad=True)
    p.grad = torch.ones(*shape)
    return p


@pytest.mark.parametrize("call, name", [
    (lambda: synthetic_data(W, 4.2, -1), "num_examples"),
    (lambda: synthetic_data(W, 4.2, 2.5), "num_examples"),
    (lambda: synthetic_data(W, 4.2, True), "num_examples"),
    (lambda: synthetic_data(W.reshape(1, 2), 4.2, 5), "w"),
    (lambda: synthetic_data(W.double(), 4.2, 5), "w"),
    (lambda: synthetic_data("ab", 4.2, 5), "w"),
    (lambda: synthetic_data(W, None, 5), "b"),
    (lambda: synthetic_data(W, torch.ones(2), 5), "b"),
    (lambda: synthetic_data(W, float("nan"), 5), "b"),
    (lambda: data_iter(0, X, Y), "batch_size"),
    (lambda: data_iter(-2, X, Y), "batch_size"),
    (lambda: data_iter(2.0, X, Y), "batch_size"),
    (lambda: data_iter(True, X, Y), "batch_size"),
    (lambda: data_iter(np.bool_(True), X, Y), "batch_size"),
    (lambda: data_iter(torch.tensor(True), X, Y), "batch_size"),
    (lambda: data_iter(torch.tensor(2.0), X, Y), "batch_size"),
    (lambda: data_iter(2, X, torch.zeros(3, 1)), "features and labels"),
    (lambda: data_iter(2, torch.tensor(1.0), Y), "features"),
    (lambda: data_iter(2, X, None), "labels"),
    (lambda: linreg(X, torch.zeros(3, 1), 0.0), "w"),
    (lambda: linreg(X, torch.zeros(2, 2), 0.0), "w"),
    (lambda: linreg(torch.zeros(4), torch.zeros(4), 0.0), "X"),
    (lambda: linreg(X, torch.zeros(2, 1), torch.zeros(4)), "b"),
    (lambda: linreg(X, torch.zeros(2, 1), torch.zeros(1, 1)), "b"),
    (lambda: linreg(X, torch.zeros(2, 1), True), "b"),
    (lambda: linreg(X.double(), torch.zeros(2, 1), 0.0), "X and w"),
    (lambda: linreg(X.long(), torch.zeros(2, 1), 0.0), "X"),
    (lambda: linreg("X", torch.zeros(2, 1), 0.0), "X"),
    (lambda: linreg(X, None, 0.0), "w"),
    (lambda: squared_loss(torch.zeros(4, 1), torch.zeros(5)), "y_hat and y"),
    (lambda: squared_loss(torch.zeros(4, 1), torch.zeros(4, 1).double()), "y_hat and y"),
    (lambda: squared_loss(torch.zeros(4, 1), ["a"] * 4), "y"),
    (lambda: squared_loss(None, Y), "y_hat"),
    (lambda: sgd([torch.zeros(2, requires_grad=True)], 0.1, 2), r"params\[0\]"),
    (lambda: sgd([with_grad(2), "w"], 0.1, 2), r"params\[1\]"),
    (lambda: sgd(with_grad(2), 0.1, 2), "params"),
    (lambda: sgd([with_grad(2)], 0.1, 0), "batch_size"),
    (lambda: sgd([with_grad(2)], -0.1, 2), "lr"),
    (lambda: sgd([with_grad(2)], "0.1", 2), "lr"),
    (lambda: closed_form("abc", Y), "X"),
    (lambda: closed_form(None, Y), "X"),
    (lambda: load_boston_housing(3), "path"),
    (lambda: load_boston_housing("no/such/file.csv"), "path"),
])
def test_bad_input_gets_a_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must "):
        call()


def test_a_generator_is_checked_when_called_not_at_its_first_next():
    with pytest.raises(ValueError, match="^batch_size"):
        data_iter(0, X, Y)  # no next(): the error comes from the call itself


@pytest.mark.parametrize("batch_size", [3, np.int64(3), np.int32(3), torch.tensor(3)])
def test_integer_like_batch_sizes_are_accepted_as_d2l_does(batch_size):
    features, labels = torch.arange(7.0), torch.arange(7.0)
    assert [len(y) for _, y in data_iter(batch_size, features, labels)] == [3, 3, 1]
    p = with_grad(2)
    sgd([p], 0.5, batch_size)
    assert torch.allclose(p.detach(), torch.full((2,), -0.5 / 3))
    assert synthetic_data(W, 4.2, batch_size)[0].shape == (3, 2)


def test_arrays_and_lists_are_converted_to_the_tensors_dtype():
    w = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
    y_hat = linreg(np.ones((3, 2)), w, np.float64(0.5))
    assert torch.equal(y_hat, torch.full((3, 1), 3.5, dtype=torch.float64))
    assert linreg([[1, 2]], [1.0, 1.0], 0).dtype == torch.get_default_dtype()
    loss = squared_loss(torch.zeros(2, 1), [1, 3])
    assert loss.dtype == torch.float32 and torch.equal(loss.flatten(), torch.tensor([0.5, 4.5]))
    assert torch.equal(squared_loss(np.zeros(2), np.ones(2)), torch.full((2,), 0.5).double())
    X_list, y_list = next(data_iter(2, [[1.0], [2.0]], np.array([1, 2])))
    assert isinstance(X_list, torch.Tensor) and isinstance(y_list, torch.Tensor)


def test_gradients_flow_through_the_checks():
    w = torch.ones(2, 1, requires_grad=True)
    squared_loss(linreg(torch.ones(3, 2), w, 0.0), torch.zeros(3)).sum().backward()
    assert torch.equal(w.grad, torch.full((2, 1), 6.0))
    params = (p for p in [w])  # a generator, like model.parameters(), is read once
    sgd(params, 0.1, 3)
    assert torch.allclose(w.detach(), torch.full((2, 1), 0.8)) and torch.equal(w.grad, 0 * w)


@pytest.mark.parametrize("fn", LESSON, ids=lambda f: f.__name__)
def test_lesson_bodies_are_plain_and_keep_their_signature(fn):
    """The checks live in the decorator: the body notebook 04 shows raises nothing itself."""
    (node,) = ast.parse(textwrap.dedent(inspect.getsource(fn))).body
    assert [ast.unparse(d) for d in node.decorator_list] == [
        f"validate.checked(validate.{fn.__name__})"]
    assert not any(isinstance(n, (ast.Raise, ast.If)) for n in ast.walk(node))
    assert inspect.signature(fn) == inspect.signature(fn.__wrapped__)
    assert fn.__doc__ == fn.__wrapped__.__doc__


@given(st.integers(1, 30), st.integers(0, 40), st.sampled_from([int, np.int64, torch.tensor]))
def test_data_iter_partitions_the_data_for_any_integer_like_batch_size(batch_size, n, kind):
    random.seed(0)
    features = torch.arange(float(n))
    batches = list(data_iter(kind(batch_size), features, -features))
    assert all(torch.equal(y, -X) for X, y in batches)
    sizes = [min(batch_size, n - i) for i in range(0, n, batch_size)]
    assert [len(X) for X, _ in batches] == sizes
    seen = torch.cat([X for X, _ in batches] or [torch.zeros(0)])
    assert sorted(seen.tolist()) == features.tolist()
