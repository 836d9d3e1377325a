"""Argument checks for the helpers of ``data`` and ``regression``, kept out of the lesson code.

Each helper is decorated with ``@checked(rule)``: before the call, ``rule(**arguments)`` raises a
``ValueError`` naming a bad argument and what was expected, and returns the arguments it converted
(arrays and lists to tensors, integer-like sizes to ``int``). The helper's body stays the plain
d2l code that notebook 04 shows, and a generator such as ``data_iter`` is checked when called,
not at its first ``next()``.
"""

import functools
import inspect
import math
import numbers
import operator
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import torch


def checked(rule: Callable[..., dict]) -> Callable[[Callable], Callable]:
    """Decorator: run ``rule`` on the bound arguments, then the function on what it returns."""
    def decorate(fn: Callable) -> Callable:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            bound.arguments.update(rule(**bound.arguments))
            return fn(*bound.args, **bound.kwargs)
        return wrapper
    return decorate


def fail(name: str, expected: str, got: object) -> NoReturn:
    """Raise the ValueError "<name> must be <expected>, got <what it got>"."""
    if isinstance(got, torch.Tensor):
        got = f"a {got.dtype} tensor of shape {tuple(got.shape)}"
    else:
        got = f"{type(got).__name__} {got!r}"[:80]
    raise ValueError(f"{name} must be {expected}, got {got}")


def index(name: str, value: object, minimum: int) -> int:
    """An int >= minimum from anything integer-like (np.int64, a 0-d integer tensor); no bools."""
    is_bool = isinstance(value, bool) or getattr(value, "dtype", None) == torch.bool
    try:
        number = None if is_bool else operator.index(value)
    except TypeError:
        number = None
    if number is None or number < minimum:
        fail(name, f"an integer >= {minimum}", value)
    return number


def real(name: str, value: object) -> float:
    """A finite real number (a Python or numpy number, or a one-element tensor); no bools."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        fail(name, "a finite real number", value)
    return float(value)


def as_tensor(name: str, value: object, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A tensor as it is; an array, a list or a number converted (to dtype, if given)."""
    if isinstance(value, torch.Tensor):
        return value
    try:
        out = torch.as_tensor(value, dtype=dtype)
    except (TypeError, ValueError, RuntimeError):
        fail(name, "a tensor, an array or a (nested) list of numbers", value)
    if out.dtype == torch.bool or out.is_complex():
        fail(name, "real numbers", value)
    return out


def tensors(**values: object) -> dict[str, torch.Tensor]:
    """The values as floating-point tensors of one dtype.

    Tensors keep theirs (they must be floating-point and agree); arrays, lists and numbers are
    converted to it, or, if no value is a tensor, to the dtype ``torch.as_tensor`` gives them
    (torch's default float dtype for integers).
    """
    given = {name: v for name, v in values.items() if isinstance(v, torch.Tensor)}
    for name, v in given.items():
        if not v.is_floating_point():
            fail(name, "a floating-point tensor", v)
    if len({v.dtype for v in given.values()}) > 1:
        found = ", ".join(f"{name} {v.dtype}" for name, v in given.items())
        raise ValueError(f"{' and '.join(given)} must share one dtype, got {found}")
    dtype = next(iter(given.values())).dtype if given else None
    out = {name: as_tensor(name, v, dtype) for name, v in values.items()}
    out = {name: t if t.is_floating_point() else t.to(torch.get_default_dtype())
           for name, t in out.items()}
    if dtype is None and out:
        dtype = functools.reduce(torch.promote_types, (t.dtype for t in out.values()))
        out = {name: t.to(dtype) for name, t in out.items()}
    return out


# One rule per helper: it takes the helper's arguments and returns the converted ones.

def synthetic_data(w, b, num_examples) -> dict:
    w = as_tensor("w", w, torch.get_default_dtype())
    if w.dim() != 1 or w.dtype != torch.get_default_dtype():
        fail("w", f"a 1-D tensor of weights of dtype {torch.get_default_dtype()} (that of X)", w)
    return {"w": w, "b": real("b", b), "num_examples": index("num_examples", num_examples, 0)}


def data_iter(batch_size, features, labels) -> dict:
    out = {"features": as_tensor("features", features), "labels": as_tensor("labels", labels)}
    for name in out:
        if out[name].dim() == 0:
            fail(name, "a tensor with one row per example", out[name])
    if len(out["features"]) != len(out["labels"]):
        raise ValueError(f"features and labels must have the same length, "
                         f"got {len(out['features'])} and {len(out['labels'])}")
    return {"batch_size": index("batch_size", batch_size, 1), **out}


def linreg(X, w, b) -> dict:
    if isinstance(b, bool):
        fail("b", "a number or a tensor of shape () or (1,)", b)
    out = tensors(X=X, w=w) if isinstance(b, numbers.Real) else tensors(X=X, w=w, b=b)
    X, w = out["X"], out["w"]
    if X.dim() != 2:
        fail("X", "a tensor of shape (n, d)", X)
    if w.shape not in ((X.shape[1],), (X.shape[1], 1)):
        fail("w", f"of shape (d,) or (d, 1) with d = {X.shape[1]} (the columns of X)", w)
    if "b" in out and out["b"].shape not in ((), (1,)):
        fail("b", "a number or a tensor of shape () or (1,)", out["b"])
    return out


def squared_loss(y_hat, y) -> dict:
    out = tensors(y_hat=y_hat, y=y)
    if out["y_hat"].numel() != out["y"].numel():
        raise ValueError(f"y_hat and y must hold one value per example, got shapes "
                         f"{tuple(out['y_hat'].shape)} and {tuple(out['y'].shape)}")
    return out


def sgd(params, lr, batch_size) -> dict:
    if isinstance(params, torch.Tensor) or not hasattr(params, "__iter__"):
        fail("params", "a list of tensors", params)
    params = list(params)
    for i, param in enumerate(params):
        if not isinstance(param, torch.Tensor) or not param.is_floating_point():
            fail(f"params[{i}]", "a floating-point tensor", param)
        if param.grad is None:
            raise ValueError(f"params[{i}] must have a gradient (call backward() first), got None")
    if real("lr", lr) <= 0:
        fail("lr", "a positive number", lr)
    return {"params": params, "lr": real("lr", lr),
            "batch_size": index("batch_size", batch_size, 1)}


def closed_form(X, y) -> dict:
    X, y = tensors(X=X)["X"], tensors(y=y)["y"]  # each keeps its dtype: the result promotes
    if X.dim() != 2 or 0 in X.shape:
        fail("X", "a tensor of shape (n, d) with n, d >= 1", X)
    if y.shape not in ((len(X),), (len(X), 1)):
        fail("y", f"of shape (n,) or (n, 1) with n = {len(X)} (the rows of X)", y)
    for name, t in {"X": X, "y": y}.items():
        if not torch.isfinite(t).all():
            fail(name, "finite (no NaN or inf)", t)
    return {"X": X, "y": y}


def load_boston_housing(path) -> dict:
    if path is not None and not isinstance(path, (str, os.PathLike)):
        fail("path", "None (the package's copy) or the path of a CSV file", path)
    if path is not None and not Path(path).is_file():
        raise ValueError(f"path must name an existing file, got {str(path)!r} (no file there)")
    return {}
