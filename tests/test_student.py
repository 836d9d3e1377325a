"""The exercises and their student version (``make student``, scripts/make_student.py).

1. The transformation on small in-memory notebooks: marked lines become one "not solved yet"
   stub, exercise outputs are cleared, every other cell is untouched, bad markers stop the build.
2. Every source notebook has at least three exercise cells, each checked by ``check`` and stored
   with a "✓ ... correct" verdict (the solutions are right).
3. The built student notebooks hold no solution code, and run top to bottom failing only in the
   exercise cells, each with the "not solved yet" error. This part executes every notebook once
   (about a minute or two): its tests have ``slow`` in their names, so ``-k "not slow"`` skips it.
"""

import copy
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MIN_EXERCISES = 3

_spec = importlib.util.spec_from_file_location("make_student", ROOT / "scripts" / "make_student.py")
ms = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ms)

v4 = nbformat.v4


def _exercise(body: str = "answer = 41 + 1", name: str | None = "Exercise A") -> str:
    call = f'check(answer, 42, name="{name}")' if name else "check(answer, 42)"
    return f"x = 1\n# BEGIN SOLUTION\n{body}\n# END SOLUTION\n{call}"


def _notebook(*cells) -> nbformat.NotebookNode:
    nb = v4.new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def _stub(name: str) -> str:
    return f'raise NotImplementedError("{name} is not solved yet: write your solution here.")'


# --------------------------------------------------------------------------- 1. the transformation

def test_marked_lines_become_one_stub_named_after_the_check_call():
    cell = v4.new_code_cell(_exercise("y = 41\nanswer = y + 1"), execution_count=7, outputs=[
        v4.new_output("stream", name="stdout", text="✓ Exercise A: correct\n")])
    student = ms.make_student(_notebook(cell))
    [out] = student.cells
    assert out.source == f'x = 1\n{_stub("Exercise A")}\ncheck(answer, 42, name="Exercise A")'
    assert out.outputs == [] and out.execution_count is None


def test_unnamed_exercises_are_numbered_in_order_and_indentation_is_kept():
    first = v4.new_code_cell(_exercise(name=None))
    named = v4.new_code_cell(_exercise(name="Warm-up"))
    nested = v4.new_code_cell("if True:\n    # BEGIN SOLUTION\n    answer = 42\n"
                              "    # END SOLUTION\n    check(answer, 42)")
    student = ms.make_student(_notebook(first, named, nested))
    assert _stub("Exercise 1") in student.cells[0].source
    assert _stub("Warm-up") in student.cells[1].source
    assert student.cells[2].source == f"if True:\n    {_stub('Exercise 3')}\n    check(answer, 42)"


def test_the_stub_raises_the_not_solved_yet_error():
    student = ms.make_student(_notebook(v4.new_code_cell(_exercise())))
    with pytest.raises(NotImplementedError, match="^Exercise A is not solved yet: write your"):
        exec(student.cells[0].source, {"check": None})


def test_a_name_with_quotes_still_gives_valid_python():
    cell = v4.new_code_cell("# BEGIN SOLUTION\nanswer = 1\n# END SOLUTION\n"
                            "check(answer, 1, name='The \"hard\" one')")
    source = ms.make_student(_notebook(cell)).cells[0].source
    with pytest.raises(NotImplementedError, match='The "hard" one is not solved yet'):
        exec(source, {"check": None})


def test_every_other_cell_is_untouched_and_the_source_is_not_modified():
    plain = v4.new_code_cell("print('hi')", execution_count=1, outputs=[
        v4.new_output("stream", name="stdout", text="hi\n")])
    plain.metadata["tags"] = ["nbval-ignore-output"]
    words = v4.new_markdown_cell("Write `# BEGIN SOLUTION` above your answer.")  # not code
    raw = v4.new_raw_cell("# BEGIN SOLUTION")
    exercise = v4.new_code_cell(_exercise(), execution_count=2)
    nb = _notebook(plain, words, raw, exercise)
    before = copy.deepcopy(nb)
    student = ms.make_student(nb)
    assert nb == before
    assert student.cells[:3] == before.cells[:3]
    assert student.metadata == before.metadata
    assert student.cells[3].metadata == before.cells[3].metadata
    assert student.cells[3].id == before.cells[3].id


@pytest.mark.parametrize("source, problem", [
    ("# BEGIN SOLUTION\nanswer = 1", "line 1: '# BEGIN SOLUTION' is never closed"),
    ("# END SOLUTION\nanswer = 1\n# BEGIN SOLUTION", "line 1: '# END SOLUTION' without"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\na = 1\n# END SOLUTION\n# END SOLUTION",
     "line 2: '# BEGIN SOLUTION' inside the solution opened at line 1 (nested"),
    ("# BEGIN SOLUTION\na = 1\n# END SOLUTION\n# END SOLUTION", "line 4: '# END SOLUTION' without"),
    ("answer = 1  # BEGIN SOLUTION\n# END SOLUTION", "line 1: a solution marker must be alone"),
], ids=["begin-without-end", "end-first", "nested", "end-twice", "marker-after-code"])
def test_malformed_markers_fail_loudly(source, problem):
    nb = _notebook(v4.new_markdown_cell("text"), v4.new_code_cell(source))
    with pytest.raises(ms.MarkerError, match=re.escape(f"demo.ipynb, cell 1, {problem}")):
        ms.make_student(nb, label="demo.ipynb")


def test_build_writes_nothing_when_one_notebook_is_malformed(tmp_path):
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(_notebook(v4.new_code_cell(_exercise())), good)
    nbformat.write(_notebook(v4.new_code_cell("# BEGIN SOLUTION\nanswer = 1")), bad)
    out = tmp_path / "student"
    with pytest.raises(ms.MarkerError, match="bad.ipynb, cell 0, line 1"):
        ms.build([good, bad], out)
    assert not out.exists()


def test_command_line_builds_and_exits_non_zero_on_bad_markers(tmp_path, capsys):
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(_notebook(v4.new_code_cell(_exercise())), good)
    nbformat.write(_notebook(v4.new_code_cell("# END SOLUTION")), bad)
    out = tmp_path / "student"
    assert ms.main([str(good), "--out", str(out)]) == 0
    assert _stub("Exercise A") in nbformat.read(out / "good.ipynb", as_version=4).cells[0].source
    assert ms.main([str(bad), "--out", str(out)]) == 1
    assert "malformed solution marker" in capsys.readouterr().err


# ------------------------------------------------------------ 2. the source notebooks' exercises

def _exercise_cells(nb) -> list[tuple[int, nbformat.NotebookNode]]:
    return [(i, cell) for i, cell in enumerate(nb.cells) if ms.has_solution(cell)]


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_checked_exercises_with_right_stored_solutions(path):
    nb = nbformat.read(path, as_version=4)
    exercises = _exercise_cells(nb)
    assert len(exercises) >= MIN_EXERCISES, \
        f"{path.name}: {len(exercises)} exercise cell(s), expected at least {MIN_EXERCISES}"
    names = []
    for number, (index, cell) in enumerate(exercises, start=1):
        after_solution = cell.source.split("END SOLUTION", 1)[-1]
        assert re.search(r"\bcheck\(", after_solution), \
            f"{path.name}, cell {index}: no check(...) call after '# END SOLUTION'"
        name = ms.exercise_name(cell.source, number)
        names.append(name)
        stdout = _stdout(cell)
        assert f"✓ {name}: correct" in stdout and "✗" not in stdout, \
            f"{path.name}, cell {index}: stored output is {stdout!r}, not '✓ {name}: correct'"
    assert len(set(names)) == len(names), f"{path.name}: exercise names repeat: {names}"


# ------------------------------------------------------------------- 3. the student notebooks

@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    """The student version of every notebook, built once for this module (like `make student`)."""
    out = tmp_path_factory.mktemp("student")
    ms.build(NOTEBOOKS, out)
    return out


def _solution_lines(source: str) -> list[str]:
    """The non-blank lines strictly between the markers."""
    lines, inside = [], False
    for line in source.split("\n"):
        match = ms.MARKER.match(line)
        if match:
            inside = match["kind"] == "BEGIN"
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_notebooks_hold_no_solution_code(path, student_dir):
    source = nbformat.read(path, as_version=4)
    student = nbformat.read(student_dir / path.name, as_version=4)
    assert len(student.cells) == len(source.cells)
    exercise_indices = {i for i, _ in _exercise_cells(source)}
    outside = {line.strip() for i, cell in enumerate(source.cells) if i not in exercise_indices
               for line in cell.source.split("\n")}  # lines the notebook shows anyway
    student_lines = {line.strip() for cell in student.cells for line in cell.source.split("\n")}
    for i, (src_cell, cell) in enumerate(zip(source.cells, student.cells)):
        if i not in exercise_indices:
            assert cell == src_cell, f"{path.name}, cell {i} changed"
            continue
        assert "SOLUTION" not in cell.source, f"{path.name}, cell {i}: a marker is left"
        assert "is not solved yet" in cell.source
        assert cell.outputs == [] and cell.execution_count is None
        leaked = [line for line in _solution_lines(src_cell.source)
                  if line in student_lines and line not in outside
                  and line not in src_cell.source.split("END SOLUTION", 1)[-1]]
        assert not leaked, f"{path.name}, cell {i}: solution lines left: {leaked}"


@pytest.fixture(scope="module")
def executed_student(student_dir):
    """Run each student notebook once, on demand, top to bottom, errors allowed; cached."""
    cache: dict[str, nbformat.NotebookNode] = {}

    def run(name: str) -> nbformat.NotebookNode:
        if name not in cache:
            nb = nbformat.read(student_dir / name, as_version=4)
            NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                           record_timing=False,
                           resources={"metadata": {"path": str(student_dir)}}).execute()
            cache[name] = nb
        return cache[name]

    return run


def _unexpected_failures(executed, source) -> list[str]:
    """What went wrong in a run of a student notebook: exercise cells must fail with their own
    "not solved yet" error, and no other cell may fail."""
    exercises = dict(_exercise_cells(source))
    failures = []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if index in exercises:
            number = list(exercises).index(index) + 1
            message = f"{ms.exercise_name(exercises[index].source, number)} is not solved yet"
            if len(errors) != 1 or errors[0].ename != "NotImplementedError" \
                    or not errors[0].evalue.startswith(message):
                got = [(e.ename, e.evalue) for e in errors]
                failures.append(f"cell {index} (exercise): expected NotImplementedError"
                                f" '{message}...', got {got}")
        elif errors:
            failures.append(f"cell {index}: {errors[0].ename}: {errors[0].evalue}")
    return failures


def test_slow_the_run_check_catches_a_cell_that_needs_a_solution(tmp_path):
    # Positive control: a cell after the exercise uses the solution's variable.
    source = _notebook(v4.new_code_cell("def check(*args, **kwargs):\n    return True"),
                       v4.new_code_cell(_exercise()), v4.new_code_cell("print(answer)"))
    student = ms.make_student(source)
    NotebookClient(student, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert _unexpected_failures(student, source) == ["cell 2: NameError: name 'answer' is "
                                                     "not defined"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_slow_student_notebooks_fail_only_in_exercise_cells(path, executed_student):
    failures = _unexpected_failures(executed_student(path.name),
                                    nbformat.read(path, as_version=4))
    assert not failures, f"{path.name}:\n" + "\n".join(failures)
