"""course_utils.checks and course_utils.exercises: feedback that guides, and never the answer.

1. ``compare``: every feedback message, every equivalent form, odd objects never crash it, and
   (hypothesis) a wrong answer's message holds no number from which the reference could be solved.
2. The registry: each reference passes its own check, each known slip gets its hint, no answer is
   shared between exercises or passed by a simple guess, inputs are fresh and leave the random
   generators alone, and the process checks (one pass, one backward pass, a trainable leaf) work.
"""

import math
import random
import re
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from course_utils import autodiff as ad
from course_utils import checks, exercises
from course_utils.checks import assert_solved, check, compare, verdict
from course_utils.exercises import EXERCISES, exercise_inputs, reference

IDS = list(EXERCISES)


# ------------------------------------------------------------------ 1. compare: the messages

@pytest.mark.parametrize("answer, ref", [
    (3, 3.0),                                    # an int where a float is expected
    (Fraction(1, 2), 0.5),
    (Decimal("0.5"), 0.5),
    (np.float32(0.5), 0.5),
    (np.array(0.5), 0.5),
    (torch.tensor(0.5, dtype=torch.float16), 0.5),  # any float dtype
    (torch.tensor([0.5]), 0.5),                  # one number in a one-element tensor
    ([1, 2], torch.tensor([1.0, 2.0])),          # a list for a vector
    ((1.0, 2.0), torch.tensor([1.0, 2.0])),      # a tuple
    ([[1], [2]], torch.tensor([[1.0], [2.0]])),  # nested lists for a matrix
    ([torch.tensor(1.0), np.float64(2.0)], torch.tensor([1.0, 2.0])),
    (np.array([1, 2]), torch.tensor([1.0, 2.0])),  # numpy integers
    (torch.tensor([1, 2]), torch.tensor([1.0, 2.0])),  # torch integers
    (torch.tensor([1.0, 2.0], requires_grad=True) * 1, torch.tensor([1.0, 2.0])),
    (torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([1.0, 2.0])),
    ("  Reverse   MODE ", "reverse mode"),        # words: any case and spacing
], ids=lambda v: type(v).__name__)
def test_equivalent_forms_are_accepted(answer, ref):
    assert compare(answer, ref) == checks.Verdict(True, "correct")


@pytest.mark.parametrize("answer, ref, message", [
    (None, 1.0, "no answer yet"),
    (..., 1.0, "no answer yet"),
    (True, 1.0, "expected a number, got a bool (True)"),
    ("3", 3.0, "expected a number, got text (a str)"),
    (1 + 2j, 1.0, "expected a real number, got a complex one"),
    (object(), 1.0, "expected a number, a list of numbers or a tensor, got a object"),
    ({"a": 1}, 1.0, "got a dict"),
    (torch.tensor([True, False]), torch.tensor([1.0, 0.0]), "a tensor of booleans (a mask?)"),
    (torch.tensor([1 + 1j]), torch.tensor([1.0]), "a complex tensor"),
    (np.array(["1", "2"]), torch.tensor([1.0, 2.0]), "a numpy array of dtype <U1"),
    ([[1, 2], [3]], torch.ones(2, 2), "the list's items have different shapes"),
    (3, "reverse", "expected a word (a str), got a int"),
    ("forward", "reverse", "not this word"),
    (torch.tensor([1.0, 2.0]), torch.tensor([[1.0], [2.0]]),
     "wrong shape: got (2,), expected (2, 1) (the values are right: reshape)"),
    (torch.tensor([5.0, 6.0]), torch.tensor([[1.0], [2.0]]),
     "wrong shape: got (2,), expected (2, 1)"),
    (torch.arange(6.0).reshape(3, 2), torch.arange(6.0).reshape(3, 2).T,
     "(it is the transpose of the answer: mind the layout)"),
    (torch.ones(3), 1.0, "expected one number, got shape (3,)"),
    (torch.tensor([1.0, float("nan")]), torch.tensor([1.0, 2.0]),
     "the answer contains NaN or infinity (entries 1)"),
    (math.inf, 1.0, "the answer contains NaN or infinity"),
    (1.05, 1.0, "too large, by less than 10 %"),
    (0.95, 1.0, "too small, by less than 10 %"),
    (1.5, 1.0, "too large, by 10 % up to a factor of 2"),
    (0.6, 1.0, "too small, by 10 % up to a factor of 2"),
    (5.0, 1.0, "too large, by a factor between 2 and 10"),
    (0.2, 1.0, "too small, by a factor between 2 and 10"),
    (1000.0, 1.0, "too large, by about 3 orders of magnitude"),
    (-12.0, -1.0, "too large, by about 1 order of magnitude"),  # sizes compare magnitudes
    (1e-3, 1.0, "too small, by about 3 orders of magnitude"),
    (2.2e-309, 1.5, "too small, by about 309 orders of magnitude"),  # a subnormal float
    (1e308, 1e-308, "too large, by about 616 orders of magnitude"),
    (-1.0, 1.0, "the sign is wrong"),
    (-3.0, 1.0, "the sign is wrong; its size is too large, by a factor between 2 and 10"),
    (0, 1.0, "0 is not the answer"),
    (torch.tensor([2.0, 4.0]), torch.tensor([1.0, 2.0]),
     "every entry is off by the same factor, too large, by 10 % up to a factor of 2: a constant"),
    (torch.tensor([-1.0, -2.0]), torch.tensor([1.0, 2.0]), "every entry has the wrong sign"),
    (torch.tensor([-3.0, -6.0]), torch.tensor([1.0, 2.0]),
     "every entry has the wrong sign, and too large, by a factor between 2 and 10"),
    (torch.tensor([2.0, 1.0]), torch.tensor([1.0, 2.0]), "the right numbers, in the wrong places"),
    (torch.tensor([1.0, 2.0, 30.0]), torch.tensor([1.0, 2.0, 3.0]),
     "1 of 3 entries are off (2); too large in 2; overall off by more than the answer's own size"),
    (torch.tensor([1.0, -0.5, 3.3]), torch.tensor([1.0, 2.0, 3.0]),
     "2 of 3 entries are off (1, 2); the sign is wrong in 1; too large in 2; overall off by less"),
    (torch.tensor([[1.0, 2.0], [3.0, 4.1]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]),
     "1 of 4 entries are off ((1, 1)); too large in (1, 1); overall within 10 %"),
    (torch.arange(1.0, 11.0) * torch.tensor([1.5] * 8 + [1.0, 1.0]), torch.arange(1.0, 11.0),
     "8 of 10 entries are off (0, 1, 2, 3, 4, 5, ...)"),
])
def test_wrong_answers_are_told_what_is_wrong(answer, ref, message):
    result = compare(answer, ref)
    assert not result.ok and message in result.message, result.message


def test_a_known_slip_is_named_and_an_unknown_one_gets_the_hint():
    ref = torch.tensor([1.0, -2.0, 3.0])
    slips = {"looks like the notes' sign": -ref}
    assert compare(-ref, ref, mistakes=slips, hint="h") == checks.Verdict(
        False, "looks like the notes' sign")
    assert compare(ref + 1, ref, mistakes=slips, hint="mind the 1/n").message.endswith(
        ". Hint: mind the 1/n")


def test_half_precision_is_named_when_it_explains_the_error():
    result = compare(torch.tensor(1.001, dtype=torch.float16), 1.0, rtol=1e-6)
    assert "computed in half precision: use float32 or float64" in result.message


class Hostile(float):
    """A number that refuses to be converted."""

    def __float__(self):
        raise RuntimeError("no")


@pytest.mark.parametrize("answer", [Hostile(1.0), [Hostile(1.0)], torch.empty(0),
                                    torch.tensor([1e200, 2e200], dtype=torch.float64)])
def test_odd_objects_get_a_message_not_a_crash(answer):
    result = compare(answer, torch.tensor([1.0]))
    assert not result.ok and result.message


def test_the_tolerance_scales_with_the_reference_not_with_the_answer():
    """A wrong answer must not widen its own tolerance, nor a small one narrow it."""
    assert not compare(2.0, 1.0, rtol=0.5).ok      # off by 1 > 0.5 * 1
    assert compare(0.6, 1.0, rtol=0.5).ok          # off by 0.4 <= 0.5 * 1
    assert compare(1000.05, 1000.0, rtol=1e-4).ok
    assert not compare(1000.5, 1000.0, rtol=1e-4).ok
    # In a vector, entries are judged against the reference's scale (its largest entry).
    assert compare(torch.tensor([100.0, 0.005]), torch.tensor([100.0, 0.0]), rtol=1e-4).ok
    assert not compare(torch.tensor([100.0, 0.02]), torch.tensor([100.0, 0.0]), rtol=1e-4).ok


# The only figures a message may hold: the coarse size bins, and a count of orders of magnitude.
BINS = re.compile(r"(?:less than|within) 10 %|10 % up to a factor of 2|between 2 and 10|"
                  r"about \d+ orders? of magnitude")


def _numbers(message: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", message)


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).filter(
    lambda v: abs(v) > 1e-12)


@settings(max_examples=300, deadline=None)
@given(answer=finite, ref=finite)
def test_a_scalar_message_holds_no_figure_of_the_reference(answer, ref):
    """Only the coarse bins: the reference cannot be solved from the message."""
    result = compare(answer, ref)
    assert result.ok or _numbers(BINS.sub(" ", result.message)) == [], result.message


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=2, max_size=8), st.data())
def test_a_vector_message_names_only_entries_counts_and_coarse_sizes(ref, data):
    answer = data.draw(st.lists(finite, min_size=len(ref), max_size=len(ref)))
    result = compare(answer, torch.tensor(ref, dtype=torch.float64))
    counts = {str(i) for i in range(len(ref) + 1)}  # entry indices and counts of entries
    assert set(_numbers(BINS.sub(" ", result.message))) <= counts, result.message


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6).filter(lambda v: v == 0 or abs(v) > 1e-3),
                min_size=1, max_size=6))
def test_a_list_a_tuple_an_array_and_a_tensor_are_the_same_answer(values):
    """Including float32 copies: within 1e-6 of the reference's scale."""
    ref = torch.tensor(values, dtype=torch.float64)
    for form in (list(values), tuple(values), np.array(values), ref.float(), ref.numpy()):
        assert compare(form, ref, rtol=1e-6).ok


everything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.complex_numbers() | st.fractions(),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=2), inner, max_size=2), max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(everything)
@example(2.2e-309)  # 1 / ratio overflowed once: hypothesis found it
@example([1e200, -1e200])
def test_any_value_gets_a_verdict_never_an_exception(value):
    for ref in (1.5, torch.tensor([1.0, 2.0]), "reverse"):
        result = compare(value, ref)
        assert isinstance(result, checks.Verdict) and result.message


# ------------------------------------------------------------------------- 2. the registry

def test_every_notebook_has_at_least_four_exercises_and_06_has_seven():
    per_notebook = {nb: len(exercises.notebook_exercises(nb)) for nb in
                    ("01", "02", "03", "04", "05", "06")}
    assert all(count >= 4 for count in per_notebook.values()) and per_notebook["06"] == 7
    assert len(EXERCISES) == sum(per_notebook.values()) >= 24


@pytest.mark.parametrize("exercise", IDS)
def test_each_reference_passes_and_each_known_slip_gets_its_hint(exercise):
    assert compare(reference(exercise), reference(exercise), rtol=EXERCISES[exercise].rtol).ok
    for hint, value in exercises.mistakes(exercise).items():
        assert verdict(exercise, value).message == hint
    assert verdict(exercise, None).message == "no answer yet"


def test_no_answer_is_shared_between_exercises():
    for a in IDS:
        for b in IDS:
            if a != b:
                assert not verdict(a, reference(b), process=False).ok, (a, b)


def _guesses(shape: torch.Size) -> list:
    numbers = [0, 1, -1, 2, -2, 0.5, -0.5, 0.1, 0.01, 0.001, 3, 4, 5, 10, 100, 1000,
               1 / 3, 2 / 3, 0.25, 0.75, math.pi, math.e] + list(range(-10, 11))
    if shape == torch.Size([]):
        return numbers + [True, False]
    return [torch.full(shape, float(v)) for v in numbers[:12]] + [torch.randn(shape)]


@pytest.mark.parametrize("exercise", IDS)
def test_no_exercise_is_passed_by_a_simple_guess(exercise):
    shape = torch.as_tensor(reference(exercise)).shape
    torch.manual_seed(0)
    assert not any(verdict(exercise, guess, process=False).ok for guess in _guesses(shape))


@pytest.mark.parametrize("exercise", IDS)
def test_no_hint_states_the_reference(exercise):
    ref = torch.as_tensor(reference(exercise), dtype=torch.float64).flatten()
    texts = [EXERCISES[exercise].hint or ""] + list(exercises.mistakes(exercise))
    for value in ref[:5].tolist():
        for digits in range(3, 7):
            assert all(f"{abs(value):.{digits}g}" not in text for text in texts)


def test_inputs_are_fresh_and_leave_every_random_generator_alone():
    states = (torch.random.get_rng_state(), random.getstate(), np.random.get_state()[1].copy())
    for exercise in IDS:
        exercise_inputs(exercise)
        reference(exercise)
    assert torch.equal(torch.random.get_rng_state(), states[0])
    assert random.getstate() == states[1] and np.array_equal(np.random.get_state()[1], states[2])
    S, y, theta = exercise_inputs("03.1")
    S.zero_()
    assert not torch.equal(exercise_inputs("03.1")[0], S)


def test_an_unknown_exercise_or_notebook_is_refused_by_name():
    with pytest.raises(ValueError, match="exercise must be one of 01.1, .*, got '07.1'"):
        exercise_inputs("07.1")
    with pytest.raises(ValueError, match="notebook must be one of"):
        checks.progress_line("7")


def test_check_prints_the_verdict_and_the_progress(capsys):
    checks._solved.clear()
    check("04.3", reference("04.3"))
    check("04.1", torch.zeros(2, 1))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✓ Exercise 04.3 (the noise floor): correct"
    assert out[1] == "Notebook 04: 1 of 4 exercises solved"
    assert out[2].startswith("✗ Exercise 04.1 (the gradient by hand): ")
    assert out[3] == "Notebook 04: 1 of 4 exercises solved"


def test_reset_progress_starts_a_notebooks_count_afresh(capsys):
    check("04.3", reference("04.3"))
    check("05.1", reference("05.1"))
    checks.reset_progress("04")
    assert checks.progress_line("04") == "Notebook 04: 0 of 4 exercises solved"
    assert checks.progress_line("05").startswith("Notebook 05: 1 of 4")
    with pytest.raises(ValueError, match="notebook must be one of"):
        checks.reset_progress("4")


def test_assert_solved_raises_with_the_feedback_for_the_grader():
    assert_solved("04.3", reference("04.3"))
    with pytest.raises(AssertionError, match=r"^Exercise 04.3: no answer yet$"):
        assert_solved("04.3", ...)


def test_02_1_wants_one_pass_on_dual_numbers():
    (x1, x2), v = exercise_inputs("02.1")
    right = reference("02.1")
    assert "no operation ran on Dual numbers" in verdict("02.1", right).message
    exercise_inputs("02.1")
    answer = exercises._baydin(ad.Dual(x1, v[0]), ad.Dual(x2, v[1])).tangent
    assert verdict("02.1", answer).ok
    exercises._baydin(ad.Dual(x1, 1.0), ad.Dual(x2, 0.0))  # a second pass
    assert "ran 10 operations, 2 passes of baydin" in verdict("02.1", answer).message
    assert verdict("02.1", answer, process=False).ok


def test_02_3_wants_one_backward_pass():
    h, x, v = exercise_inputs("02.3")
    assert "no backward pass of ad.Var ran" in verdict("02.3", reference("02.3")).message
    xs = [ad.Var(value) for value in x]
    outputs = h(*xs)
    rows = []
    for out in outputs:  # three backward passes, one row each
        for x_i in xs:
            x_i.grad = 0.0
        out.backward()
        rows.append([x_i.grad for x_i in xs])
    answer = [sum(v_i * row[j] for v_i, row in zip(v, rows)) for j in range(len(x))]
    assert "it took 3 backward passes: one is enough" in verdict("02.3", answer).message
    assert verdict("02.3", answer, process=False).ok


def test_06_4_wants_one_backward_pass_per_micro_batch():
    X, y, w, b, sizes = exercise_inputs("06.4")
    (((X @ w + b - y) ** 2).mean() / 2).backward()  # the whole batch at once
    assert "in 1 backward pass(es)" in verdict("06.4", w.grad).message


def test_06_6_wants_a_trainable_leaf():
    right = reference("06.6")
    assert "give w itself" in verdict("06.6", right.tolist()).message
    assert "w no longer requires grad" in verdict("06.6", right.clone()).message
    recorded = torch.zeros_like(right, requires_grad=True) + right
    assert "autograd recorded the update (w has a grad_fn)" in verdict("06.6", recorded).message
    assert verdict("06.6", right.clone().requires_grad_()).ok
