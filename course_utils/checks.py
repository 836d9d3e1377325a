"""Instant feedback on exercise answers that never prints the expected answer.

In the course notebooks an exercise cell looks like this::

    # BEGIN SOLUTION
    grad = ...                      # the student's work goes here
    # END SOLUTION
    check(grad, expected, name="Exercise 1")

``make student`` replaces the lines between the markers with a "not solved yet" error.
"""

import numbers

import numpy as np
import torch

PASS, FAIL = "✓", "✗"


def _as_tensor(value) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, np.ndarray) or (isinstance(value, numbers.Number)
                                         and not isinstance(value, bool)):
        return torch.as_tensor(value)
    return None


def _verdict(answer, expected, atol: float, rtol: float) -> str | None:
    """None when the answer is right, else what is wrong with it (no expected values)."""
    if answer is None or answer is Ellipsis:
        return "no answer yet"
    want = _as_tensor(expected)
    if want is None:  # a word, a bool, a tuple of choices: compared exactly
        if type(answer) is not type(expected) and not (
                isinstance(answer, str) and isinstance(expected, str)):
            return f"expected a {type(expected).__name__}, got a {type(answer).__name__}"
        if isinstance(expected, str):
            return None if answer.strip().lower() == expected.lower() else "not this one"
        return None if answer == expected else "not this one"
    got = _as_tensor(answer)
    if got is None:
        return f"expected a number or a tensor, got a {type(answer).__name__}"
    if got.shape != want.shape:
        return f"wrong shape: got {tuple(got.shape)}, expected {tuple(want.shape)}"
    if want.is_floating_point() and not got.is_floating_point():
        return f"wrong dtype: got {got.dtype}, expected a floating-point tensor"
    got, want = got.double(), want.double()
    if torch.isnan(got).any():
        return "the answer contains NaN"
    err = (got - want).abs()
    bad = err > atol + rtol * want.abs()
    if bad.any():
        # The error relative to the answer's scale says "how far off" without giving it away.
        scale = float(want.abs().max())
        size = f"{float(err.max()) / scale:.2%} of the answer's scale" if scale > 0 \
            else f"{float(err.max()):.3g}"
        return f"{int(bad.sum())} of {bad.numel()} value(s) off, by up to {size}"
    return None


def check(answer, expected, *, name: str = "Answer", atol: float = 1e-6,
          rtol: float = 1e-4, hint: str | None = None) -> None:
    """Print whether ``answer`` matches ``expected``, and what is wrong if it does not.

    Nothing is returned, so a check on a cell's last line shows only its verdict.

    Tensors, arrays and numbers are compared by shape, dtype kind and value (within
    ``atol + rtol * |expected|``); anything else (a word, a bool, a tuple) exactly, with
    words compared case-insensitively.
    """
    problem = _verdict(answer, expected, atol, rtol)
    if problem is None:
        print(f"{PASS} {name}: correct")
    else:
        print(f"{FAIL} {name}: {problem}" + (f". Hint: {hint}" if hint else ""))
