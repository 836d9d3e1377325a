"""Feedback on exercise answers that guides without giving the answer away.

An exercise cell takes its inputs from the package and leaves the student's work in ``answer``;
the cell below it checks it::

    S, y, theta = exercise_inputs("03.1")
    answer = ...                            # the student's work
    check("03.1", answer)

The reference is computed inside the package (``course_utils.exercises``), never in a cell the
student reads. A wrong answer is told what is wrong: its type, its shape, which entries, the sign,
the direction (too large or too small) and a coarse size (within 10 %, within a factor of 2,
between 2 and 10, orders of magnitude), never a figure from which the answer could be solved;
when it matches a known slip, the hint names the slip. Equivalent forms are accepted: an int
where a float is expected, a list or tuple for a vector, numpy or torch in any real dtype,
``fractions.Fraction``, and for words any case and spacing.
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch

from course_utils import exercises, i18n
from course_utils.i18n import _

PASS, FAIL = "✓", "✗"
LOW_PRECISION = (torch.float16, torch.bfloat16)
MAX_LISTED = 6  # entries named in one message

_solved: dict[str, bool] = {}  # exercise id -> the verdict of its last check in this kernel


@dataclass(frozen=True)
class Verdict:
    """Whether an answer is right, and if not what is wrong with it (never the answer)."""

    ok: bool
    message: str


class _Unreadable(Exception):
    """The answer cannot be read as numbers; the message says why."""


def _kind(value) -> str:
    return type(value).__name__


def as_numbers(value) -> tuple[torch.Tensor, bool]:
    """The answer as a float64 tensor, and whether it was computed in half precision.

    Raises ``_Unreadable`` with a message for a student when it is not numbers.
    """
    if isinstance(value, (bool, np.bool_)):
        raise _Unreadable(_("expected a number, got a bool ({value}): True and False are not "
                            "numbers here").format(value=value))
    if isinstance(value, (str, bytes)):
        raise _Unreadable(_("expected a number, got text (a str): write the number itself"))
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        raise _Unreadable(_("expected a real number, got a complex one"))
    if isinstance(value, numbers.Number):  # int, float, Fraction, Decimal, numpy scalars
        return torch.tensor(float(value), dtype=torch.float64), isinstance(value, np.float16)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise _Unreadable(_("expected numbers, got a numpy array of dtype {dtype}").format(
                dtype=value.dtype))
        return torch.from_numpy(value.astype(np.float64)), value.dtype == np.float16
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bool:
            raise _Unreadable(_("expected numbers, got a tensor of booleans (a mask?)"))
        if value.is_complex():
            raise _Unreadable(_("expected real numbers, got a complex tensor"))
        if value.is_sparse:
            value = value.to_dense()
        return value.detach().cpu().double(), value.dtype in LOW_PRECISION
    if isinstance(value, (list, tuple)):
        items = [as_numbers(item) for item in value]
        shapes = {tuple(t.shape) for t, _ in items}
        if len(shapes) > 1:
            raise _Unreadable(_("the {kind}'s items have different shapes {shapes}").format(
                kind=_kind(value), shapes=sorted(shapes)))
        if not items:
            return torch.zeros(0, dtype=torch.float64), False
        return torch.stack([t for t, _ in items]), any(low for _, low in items)
    raise _Unreadable(_("expected a number, a list of numbers or a tensor, got a {kind}").format(
        kind=_kind(value)))


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()


def _entries(mask: torch.Tensor) -> str:
    """The indices where mask is true, as the student would index them: 3 or (1, 0)."""
    found = [tuple(i) if len(i) > 1 else i[0] for i in mask.nonzero().tolist()]
    listed = ", ".join(str(i) for i in found[:MAX_LISTED])
    return listed + (", ..." if len(found) > MAX_LISTED else "")


def _size(got: float, want: float) -> str:
    """A coarse phrase for how a size ``got`` compares with ``want`` (both positive, unequal)."""
    gap = math.log10(got) - math.log10(want)  # logarithms: no overflow for extreme ratios
    direction = _("too large") if gap > 0 else _("too small")
    far = abs(gap)
    if far <= math.log10(1.1):
        return _("{direction}, by less than 10 %").format(direction=direction)
    if far <= math.log10(2):
        return _("{direction}, by 10 % up to a factor of 2").format(direction=direction)
    if far < 1:
        return _("{direction}, by a factor between 2 and 10").format(direction=direction)
    orders = round(far)
    return (_("{direction}, by about {orders} orders of magnitude") if orders > 1
            else _("{direction}, by about {orders} order of magnitude")).format(
        direction=direction, orders=orders)


def _scalar_problem(a: float, r: float) -> str:
    if r == 0:
        return _("too large") if a > r else _("too small")
    if a == 0:
        return _("0 is not the answer")
    if (a > 0) != (r > 0):
        return (_("the sign is wrong") if abs(abs(a) / abs(r) - 1) < 1e-12
                else _("the sign is wrong; its size is {size}").format(size=_size(abs(a), abs(r))))
    return _size(abs(a), abs(r))


def _tensor_problem(a: torch.Tensor, r: torch.Tensor, bad: torch.Tensor) -> str:
    n_bad, n = int(bad.sum()), bad.numel()
    a_flat, r_flat = a.flatten(), r.flatten()
    norm_a, norm_r = a_flat.norm().item(), r_flat.norm().item()
    if n > 1 and 0 < norm_a < math.inf and 0 < norm_r < math.inf:
        cosine = (a_flat @ r_flat).item() / (norm_a * norm_r)
        if cosine > 1 - 1e-9:
            return _("every entry is off by the same factor, {size}: a constant too many or "
                     "too few (1/n, ½, 2, the learning rate?)").format(size=_size(norm_a, norm_r))
        if cosine < -1 + 1e-9:
            return (_("every entry has the wrong sign") if abs(norm_a / norm_r - 1) < 1e-9
                    else _("every entry has the wrong sign, and {size}").format(
                        size=_size(norm_a, norm_r)))
        if torch.allclose(a_flat.sort().values, r_flat.sort().values, rtol=1e-6, atol=0):
            return _("the right numbers, in the wrong places")
    parts = [_("{n_bad} of {n} entries are off ({entries})").format(
        n_bad=n_bad, n=n, entries=_entries(bad))]
    flipped = bad & (torch.sign(a) != torch.sign(r)) & (r != 0)
    if flipped.any():
        parts.append(_("the sign is wrong in {entries}").format(entries=_entries(flipped)))
    same = bad & ~flipped
    for template, mask in ((_("too large in {entries}"), same & (a.abs() > r.abs())),
                           (_("too small in {entries}"), same & (a.abs() < r.abs()))):
        if mask.any():
            parts.append(template.format(entries=_entries(mask)))
    error = (a_flat - r_flat).norm().item() / norm_r if norm_r > 0 else math.inf
    parts.append(_("overall within 10 % of the answer's size") if error <= 0.1
                 else _("overall off by less than the answer's own size") if error <= 1
                 else _("overall off by more than the answer's own size"))
    # TRANSLATORS: the separator between the parts of one message ("3 of 4 entries are off
    # (0, 1, 2); too large in 0").
    return _("; ").join(parts)


def compare(answer, reference, *, rtol: float = 1e-6, mistakes: dict | None = None,
            hint: str | None = None) -> Verdict:
    """Compare an answer with a reference (a number, a tensor or a word).

    Numbers agree within ``rtol * max |reference|`` entry by entry: relative to the
    reference's size, never to the answer's. ``mistakes`` maps a hint to the value a known slip
    gives; ``hint`` is said when the answer is wrong in an unknown way.
    """
    if answer is None or answer is Ellipsis:
        return Verdict(False, _("no answer yet"))
    if isinstance(reference, str):
        if not isinstance(answer, str):
            return Verdict(False, _("expected a word (a str), got a {kind}").format(
                kind=_kind(answer)))
        ok = _words(answer) == _words(reference)
        return Verdict(ok, _("correct") if ok else _with_hint(_("not this word"), hint))
    try:
        got, low_precision = as_numbers(answer)
    except _Unreadable as problem:
        return Verdict(False, str(problem))
    except Exception as error:  # anything else an odd object raises: say so, never crash
        return Verdict(False, _("could not read the answer as numbers ({kind}: {error})").format(
            kind=_kind(error), error=error))
    want = torch.as_tensor(reference, dtype=torch.float64)
    close = _closeness(want, rtol)
    if want.dim() == 0 and got.numel() == 1:
        got = got.reshape(())
    if got.shape != want.shape:
        problem = (_("expected one number, got shape {shape}").format(shape=tuple(got.shape))
                   if want.dim() == 0 else
                   _("wrong shape: got {shape}, expected {expected}").format(
                       shape=tuple(got.shape), expected=tuple(want.shape)))
        if got.numel() == want.numel() and bool(close(got.reshape(want.shape), want).all()):
            problem = _("{problem} (the values are right: reshape)").format(problem=problem)
        elif got.dim() == 2 and got.T.shape == want.shape and bool(close(got.T, want).all()):
            problem = _("{problem} (it is the transpose of the answer: mind the layout)").format(
                problem=problem)
        return Verdict(False, problem)
    if not torch.isfinite(got).all():
        return Verdict(False, _("the answer contains NaN or infinity (entries {entries})").format(
            entries=_entries(~torch.isfinite(got))) if got.dim()
            else _("the answer contains NaN or infinity"))
    bad = ~close(got, want)
    if not bad.any():
        return Verdict(True, _("correct"))
    for slip, value in (mistakes or {}).items():
        slip_value = torch.as_tensor(value, dtype=torch.float64)
        if slip_value.shape == want.shape and bool(close(got, slip_value).all()):
            return Verdict(False, _(slip))
    problem = (_scalar_problem(got.item(), want.item()) if want.dim() == 0
               else _tensor_problem(got, want, bad))
    if low_precision:
        problem = _("{problem}; it was computed in half precision: use float32 or float64").format(
            problem=problem)
    return Verdict(False, _with_hint(problem, hint))


def _with_hint(problem: str, hint: str | None) -> str:
    """``problem``, followed by the exercise's hint (in the current language) if it has one."""
    return _("{problem}. Hint: {hint}").format(problem=problem, hint=_(hint)) if hint else problem


def _closeness(want: torch.Tensor, rtol: float):
    """Agreement within rtol times the reference's largest |entry|, for every entry."""
    tolerance = rtol * (want.abs().max().item() if want.numel() else 0.0)

    def close(got: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (got - target).abs() <= tolerance
    return close


def verdict(exercise: str, answer, *, process: bool = True) -> Verdict:
    """The verdict on an answer to a registered exercise ("03.1").

    With ``process=False`` only the value is judged, not how it was computed (one pass, a
    leaf tensor, ...).
    """
    ex = exercises.get(exercise)
    result = compare(answer, exercises.reference(exercise), rtol=ex.rtol,
                     mistakes=exercises.mistakes(exercise), hint=ex.hint)
    if result.ok and process and ex.process is not None:
        problem = ex.process(answer)
        if problem is not None:
            return Verdict(False, problem)
    return result


def _notebook_ids(notebook: str) -> list[str]:
    """The exercise ids of notebook "NN"; a ValueError names the known notebooks."""
    ids = exercises.notebook_exercises(notebook)
    if not ids:
        raise ValueError(f"notebook must be one of "
                         f"{sorted({key.split('.')[0] for key in exercises.EXERCISES})}, "
                         f"got {notebook!r}")
    return ids


def progress_line(notebook: str) -> str:
    """The notebook's progress, e.g. "Notebook 03: 2 of 4 exercises solved", from this kernel."""
    ids = _notebook_ids(notebook)
    solved = sum(_solved.get(key, False) for key in ids)
    return _("Notebook {notebook}: {solved} of {total} exercises solved").format(
        notebook=notebook, solved=solved, total=len(ids))


def reset_progress(notebook: str) -> None:
    """Count notebook "NN"'s exercises afresh: its Exercises section starts with this, so that
    the progress lines of a notebook run top to bottom are the same on every run."""
    for key in _notebook_ids(notebook):
        _solved.pop(key, None)


def check(exercise: str, answer) -> None:
    """Print whether ``answer`` solves the exercise, what is wrong if not, and the progress."""
    ex = exercises.get(exercise)
    result = verdict(exercise, answer)
    _solved[exercise] = result.ok
    print(_("{mark} Exercise {exercise} ({title}): {message}").format(
        mark=PASS if result.ok else FAIL, exercise=exercise, title=_(ex.title),
        message=result.message))
    print(progress_line(exercise.split(".")[0]))


def assert_solved(exercise: str, answer) -> None:
    """Raise AssertionError with the feedback unless ``answer`` solves the exercise (grading).

    The feedback is in English whatever the language: graders read it.
    """
    language = i18n.language()
    i18n.set_language("en")
    try:
        result = verdict(exercise, answer)
    finally:
        i18n.set_language(language)
    if not result.ok:
        raise AssertionError(f"Exercise {exercise}: {result.message}")
