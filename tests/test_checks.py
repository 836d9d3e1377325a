"""course_utils.checks: specific verdicts, and never the expected answer."""

import numpy as np
import pytest
import torch

from course_utils.checks import check


@pytest.mark.parametrize("answer, expected, verdict", [
    (torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]), "correct"),
    (np.array([1.0, 2.0]), torch.tensor([1.0, 2.0]), "correct"),
    (3.0000001, 3.0, "correct"),
    (torch.tensor([1.0, 2.0]), torch.tensor([[1.0], [2.0]]), "wrong shape: got (2,), expected (2, 1)"),
    (torch.tensor([1, 2]), torch.tensor([1.0, 2.0]), "wrong dtype"),
    (torch.tensor([1.0, 2.5]), torch.tensor([1.0, 2.0]), "1 of 2 value(s) off, by up to 25.00% of the answer's scale"),
    (torch.tensor([0.5]), torch.tensor([0.0]), "off, by up to 0.5"),
    (torch.tensor([float("nan")]), torch.tensor([1.0]), "NaN"),
    ([1.0, 2.0], torch.tensor([1.0, 2.0]), "expected a number or a tensor, got a list"),
    (None, 1.0, "no answer yet"),
    ("Reverse ", "reverse", "correct"),
    ("forward", "reverse", "not this one"),
    (True, False, "not this one"),
    (1, True, "expected a bool, got a int"),
])
def test_verdicts(capsys, answer, expected, verdict):
    assert check(answer, expected, name="Q") is None
    out = capsys.readouterr().out
    ok = verdict == "correct"
    assert verdict in out
    assert out.startswith("✓ Q" if ok else "✗ Q")


def test_a_wrong_answer_does_not_reveal_the_expected_value(capsys):
    check(torch.tensor([0.0]), torch.tensor([123.456]), name="Q", hint="mind the sign")
    out = capsys.readouterr().out
    assert "123" not in out and "Hint: mind the sign" in out


def test_tolerance_is_relative_to_the_expected_size(capsys):
    check(torch.tensor([1000.05]), torch.tensor([1000.0]), rtol=1e-4, atol=0)
    assert capsys.readouterr().out.startswith("✓")
    check(torch.tensor([1000.5]), torch.tensor([1000.0]), rtol=1e-4, atol=0)
    assert capsys.readouterr().out.startswith("✗")


def test_the_tolerance_scales_with_the_reference_not_with_the_answer(capsys):
    """A wrong answer must not widen its own tolerance, nor a small one narrow it."""
    check(torch.tensor([2.0]), torch.tensor([1.0]), rtol=0.5, atol=0)  # off by 1 > 0.5 * 1
    assert capsys.readouterr().out.startswith("✗")
    check(torch.tensor([0.6]), torch.tensor([1.0]), rtol=0.5, atol=0)  # off by 0.4 <= 0.5 * 1
    assert capsys.readouterr().out.startswith("✓")
