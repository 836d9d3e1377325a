"""The exercises, the questionnaires and the student edition (`make student`, nbgrader).

1. The teacher's edition (notebooks/): every exercise is a statement, a solution cell and a
   locked nbgrader test cell worth 1 point, registered in course_utils.exercises and stored with a
   "correct" verdict; questionnaires have 8 to 15 questions and as many model answers, in a 0-point
   manually graded answer cell (scripts/questionnaire.py puts them there).
2. The student edition, made by nbgrader's generate_assignment: the solutions, the hidden tests
   and the model answers are gone, the solution markers and a placeholder stay, nothing else
   changes. `make student` writes only the notebooks that student/ lacks.
3. The copy attack: each student notebook runs top to bottom in one kernel (no cell fails, every
   check says "no answer yet"); after each cell, every value and expression it shows, then every
   number and code span of the markdown and of the outputs, is tried as the answer of every one
   of the course's exercises. Not one may pass.

Parts 2 and 3 run nbgrader or kernels: their tests have ``slow`` in their names.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils import exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "scripts"))
import questionnaire  # noqa: E402

v4 = nbformat.v4


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _exercise_cells(nb) -> list[tuple[str, int]]:
    """(exercise id, index of its solution cell) in notebook order."""
    found = []
    for i, cell in enumerate(nb.cells):
        match = re.search(r'exercise_inputs\("(\d\d\.\d+)"\)', cell.source)
        if _meta(cell).get("solution") and cell.cell_type == "code" and match:
            found.append((match[1], i))
    return found


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


# ------------------------------------------------------------------- 1. the teacher's edition

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_every_exercise_is_a_statement_a_solution_and_a_locked_test(path):
    nb = nbformat.read(path, as_version=4)
    found = _exercise_cells(nb)
    assert [key for key, _ in found] == exercises.notebook_exercises(path.stem[:2])
    for key, i in found:
        solution, test = nb.cells[i], nb.cells[i + 1]
        statement = [c.source for c in nb.cells[:i] if c.cell_type == "markdown"
                     and c.source.startswith("**Exercise ")][-1]
        assert statement.startswith(f"**Exercise {key} (")
        assert nb.cells[i - 1].cell_type == "markdown"
        assert _meta(solution) == {"grade": False, "solution": True, "locked": False,
                                   "schema_version": 3, "grade_id": f"ex{key.replace('.', '_')}"}
        assert re.search(r"^# BEGIN SOLUTION\n(.+\n)+# END SOLUTION$", solution.source, re.M)
        assert _meta(test) == {"grade": True, "solution": False, "locked": True, "points": 1,
                               "schema_version": 3,
                               "grade_id": f"ex{key.replace('.', '_')}_check"}
        assert test.source.startswith(f'check("{key}", answer)\n### BEGIN HIDDEN TESTS\n')
        assert f'assert_solved("{key}", answer)\n### END HIDDEN TESTS' in test.source
        title = exercises.get(key).title
        assert _stdout(test).startswith(f"✓ Exercise {key} ({title}): correct\n")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_the_exercises_and_questionnaire_close_the_notebook(path):
    nb = nbformat.read(path, as_version=4)
    headings = [c.source.split("\n")[0] for c in nb.cells
                if c.cell_type == "markdown" and c.source.startswith("## ")]
    tail = headings[headings.index("## Exercises"):]
    assert tail in (["## Exercises", "## References"],
                    ["## Exercises", "## Questionnaire", "## References"])
    # nbgrader reads any line with these words as a marker: prose must not contain them.
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert not re.search(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS)", cell.source)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem[:2] in ("04", "06")]
                         + [p for p in NOTEBOOKS if p.stem[:2] not in ("04", "06")],
                         ids=lambda p: p.stem[:2])
def test_a_questionnaire_has_its_model_answers_in_a_teachers_cell(path):
    nb = nbformat.read(path, as_version=4)
    at = [i for i, c in enumerate(nb.cells) if c.source.startswith("## Questionnaire")]
    if path.stem[:2] not in ("04", "06") and not at:
        pytest.skip("its questionnaire is written elsewhere and inserted by the lead")
    (i,) = at
    questions, answers = nb.cells[i], nb.cells[i + 1]
    assert questionnaire.split(questions.source + "\n\n" + answers.source)
    assert answers.source.startswith("### Model answers")
    assert _meta(answers) == questionnaire.answers_metadata(path.stem[:2])


def test_questionnaire_script_inserts_and_replaces_before_the_references(tmp_path):
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("## Exercises"),
                                v4.new_markdown_cell("## References\n\n- a book")])
    numbered = "\n".join(f"{k}. Why {k}?" for k in range(1, 9))
    text = f"## Questionnaire\n\nAnswer.\n\n{numbered}\n\n### Model answers\n\n{numbered}\n"
    path, quiz = tmp_path / "07_x.ipynb", tmp_path / "07.md"
    nbformat.write(nb, path)
    quiz.write_text(text)
    for _ in range(2):  # a second run replaces the first
        assert questionnaire.main([str(path), str(quiz)]) == 0
    cells = nbformat.read(path, as_version=4).cells
    assert [c.source[:20] for c in cells] == ["## Exercises", "## Questionnaire\n\nAn",
                                             "### Model answers\n\n1", "## References\n\n- a b"]
    assert cells[2].metadata["nbgrader"]["grade_id"] == "questionnaire_07"
    quiz.write_text(text.replace("8. Why 8?", ""))
    assert questionnaire.main([str(path), str(quiz)]) == 1  # 7 questions, 8 answers


def test_make_lab_switches_off_nbgrader_in_jupyterlab():
    """nbgrader's Validate button says "passes all the tests" on an unsolved student notebook (its
    checks never raise, its hidden tests are not there) and its formgrader is not how this course
    grades (make grade): jupyter-config/, which make lab and make lab-student use, turns off every
    nbgrader extension that its installation turned on."""
    enabled = {}
    for path in (Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d").glob("*.json"):
        enabled.update(json.loads(path.read_text())["ServerApp"]["jpserver_extensions"])
    installed = [name for name, on in enabled.items() if on and name.startswith("nbgrader")]
    config = ROOT / "jupyter-config"
    ours = json.loads((config / "jupyter_server_config.json").read_text())
    assert installed and all(ours["ServerApp"]["jpserver_extensions"][name] is False
                             for name in installed)
    page = json.loads((config / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"] == {"@jupyter/nbgrader": True}


# ------------------------------------------------------------------- 2. the student edition

def _course_copy(tmp: Path, notebooks: list[Path]) -> Path:
    """A copy of the course's nbgrader set-up (Makefile, nbgrader_config.py) with notebooks."""
    (tmp / "notebooks").mkdir(parents=True)
    for path in notebooks:
        shutil.copy(path, tmp / "notebooks" / path.name)
    for name in ("Makefile", "nbgrader_config.py"):
        shutil.copy(ROOT / name, tmp / name)
    return tmp


def _environment() -> dict:
    """The kernels and nbgrader's helpers (alembic) from this Python, course_utils from ROOT."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def make(course: Path, *targets: str, **variables: str) -> str:
    """Run the course's Makefile in ``course`` with this Python's environment; its stdout."""
    venv = BIN.parent
    command = ["make", "--no-print-directory", "-C", str(course), *targets, f"VENV={venv}",
               "-o", f"{venv}/.installed"]
    command += [f"{key}={value}" for key, value in variables.items()]
    result = subprocess.run(command, capture_output=True, text=True, env=_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def student_edition(tmp_path_factory) -> Path:
    """`make student` on a copy of the course: the student notebooks' folder."""
    course = _course_copy(tmp_path_factory.mktemp("course"), NOTEBOOKS)
    make(course, "student")
    return course / "student"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_slow_the_student_edition_lacks_solutions_hidden_tests_and_model_answers(
        path, student_edition):
    teacher = nbformat.read(path, as_version=4)
    student = nbformat.read(student_edition / path.name, as_version=4)
    assert [c.id for c in student.cells] == [c.id for c in teacher.cells]
    solutions = dict(_exercise_cells(teacher))
    for i, (t, s) in enumerate(zip(teacher.cells, student.cells)):
        assert s.get("outputs", []) == [] and s.get("execution_count") is None
        if i in solutions.values():
            head = t.source.split("# BEGIN SOLUTION")[0]
            stub = "# BEGIN SOLUTION\nanswer = ...  # your answer\n# END SOLUTION"
            assert s.source == head + stub
        elif _meta(t).get("grade") and t.cell_type == "code":
            assert s.source == t.source.split("\n### BEGIN HIDDEN TESTS")[0]
        elif t.source.startswith("### Model answers"):
            assert s.source.startswith("*Your answers:") and "1." not in s.source
        else:
            assert s.source == t.source, f"cell {i} changed"


def test_slow_make_student_writes_what_is_missing_and_never_overwrites(tmp_path):
    first = min(NOTEBOOKS, key=lambda p: p.stat().st_size)
    course = _course_copy(tmp_path, [first])
    student = course / "student" / first.name
    assert make(course, "student").strip().endswith(f"wrote student/{first.name}")
    assert "same  student/" in make(course, "student")
    student.write_text(student.read_text().replace("answer = ...", "answer = 42"))
    edited = student.read_text()
    out = make(course, "student")
    assert f"kept  student/{first.name}: it differs" in out and student.read_text() == edited
    student.unlink()
    assert f"wrote student/{first.name}" in make(course, "student")


# ---------------------------------------------------------------------- 3. the copy attack

ATTACK = '''
def _copy_attack(candidates, exercise_ids):
    import ast, contextlib, io, json, signal, warnings
    import torch
    from course_utils.checks import as_numbers, verdict
    from course_utils.exercises import reference

    sizes = {key: torch.as_tensor(reference(key)).numel() for key in exercise_ids}

    def give_up(*_):
        raise TimeoutError
    signal.signal(signal.SIGALRM, give_up)
    hits, tried = [], 0
    for kind, text in candidates:
        try:
            signal.alarm(10)
            with contextlib.redirect_stdout(io.StringIO()), \\
                    contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = (eval(text, globals()) if kind == "expr" else json.loads(text)
                         if kind == "json" else ast.literal_eval(text))
        except BaseException:
            continue
        finally:
            signal.alarm(0)
        tried += 1
        try:  # an answer of another size cannot pass: skip the checker (a shortcut, not a rule)
            size = as_numbers(value)[0].numel()
        except Exception:
            size = None
        for exercise in exercise_ids:
            if size not in (None, sizes[exercise]):
                continue
            if verdict(exercise, value, process=False).ok:
                hits.append([exercise, text])
    print(json.dumps({"tried": tried, "hits": hits}))
'''


def code_candidates(source: str) -> list[str]:
    """What a code cell shows, as expressions to evaluate after it ran: every expression that
    calls nothing (so evaluating it cannot change the notebook's state), assigned names and
    right-hand sides included, outside function bodies and comprehensions (their names are not
    bound). A call's value is seen through the name it is assigned to, or in the outputs."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
                             ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            return
        if isinstance(node, ast.expr) and not isinstance(node, ast.Starred) and not any(
                isinstance(inner, ast.Call) for inner in ast.walk(node)):
            found.append(ast.get_source_segment(source, node))
        if isinstance(node, ast.JoinedStr):
            return  # an f-string's pieces (Python 3.12+ gives them positions) are not expressions
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return list(dict.fromkeys(text for text in found if text))


NUMBER = re.compile(r"[-−]?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+−]?\d+)?")
TIMES_TEN = re.compile(r"(\d+(?:\.\d+)?)\s*\\times\s*10\^\{?([-−]?\d+)\}?")
LIST = re.compile(r"\[(?:[-+0-9.,eE\s]|\[[-+0-9.,eE\s]*\])+\]")  # a list, or a list of lists
CODE_SPAN = re.compile(r"`([^`\n]+)`")


def text_candidates(text: str) -> list[tuple[str, str]]:
    """Numbers (also "5 \\times 10^{-5}" and lists of numbers) and code spans in a text."""
    plain = text.replace("−", "-")
    found = [("json", json.dumps(float(m.replace(",", "")))) for m in NUMBER.findall(plain)]
    found += [("json", json.dumps(float(a) * 10 ** int(b))) for a, b in TIMES_TEN.findall(plain)]
    found += [("literal", m) for m in LIST.findall(plain)]
    found += [("expr", m) for m in CODE_SPAN.findall(text)]
    return found


def _output_text(cell) -> str:
    return "\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                     for o in cell.get("outputs", []))


def copy_attack(path: Path, ids: list[str]) -> tuple[dict, nbformat.NotebookNode]:
    """Run the student notebook at ``path`` with the attack after each cell; the hits."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    report = {"tried": 0, "hits": []}
    cells = list(nb.cells)
    scratch = len(cells)  # nbclient stores each executed cell at its index: the attack's own slot
    nb.cells.append(v4.new_code_cell())

    def run(source: str) -> str:
        cell = v4.new_code_cell(source)
        client.execute_cell(cell, scratch, store_history=False)
        return _stdout(cell)

    def attack(candidates: list[tuple[str, str]]) -> None:
        result = json.loads(run(f"_copy_attack({candidates!r}, {ids!r})").splitlines()[-1])
        report["tried"] += result["tried"]
        report["hits"] += result["hits"]

    with client.setup_kernel():
        run(ATTACK)
        for index, cell in enumerate(cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
                attack([("expr", text) for text in code_candidates(cell.source)])
        shown = [text for c in cells for text in
                 ([c.source] if c.cell_type == "markdown" else [_output_text(c)])]
        attack([item for text in shown for item in text_candidates(text)])
    nb.cells = cells
    return report, nb


def test_the_candidates_are_what_a_student_sees():
    source = ("lr = 0.03\nw, b = train(X, y)\nprint(f'{w:.2f}')\n"
              "def f(x):\n    return x * secret\nanswer = [v * 2 for v in data]")
    assert code_candidates(source) == ["lr", "0.03", "w, b", "w", "b", "train", "X", "y",
                                       "print", "f'{w:.2f}'", "answer"]
    assert text_candidates("about $5 \\times 10^{-5}$, `lr / 2`, [1.5, -2]") == [
        ("json", "5.0"), ("json", "10.0"), ("json", "-5.0"), ("json", "2.0"), ("json", "1.5"),
        ("json", "-2.0"), ("json", "5e-05"), ("literal", "[1.5, -2]"), ("expr", "lr / 2")]
    matrix = "[[1., 2.],\n [3., 4.]]"
    assert ("literal", matrix) in text_candidates(f"tensor({matrix})")


@pytest.fixture(scope="module")
def attacked(student_edition):
    """The copy attack on each student notebook, run once on demand; cached."""
    cache = {}

    def run(name: str):
        if name not in cache:
            cache[name] = copy_attack(student_edition / name, list(exercises.EXERCISES))
        return cache[name]
    return run


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_slow_copying_what_the_student_notebook_shows_passes_no_exercise(path, attacked):
    report, _ = attacked(path.name)
    assert report["tried"] > 100, report  # the attack did try what the notebook shows
    assert report["hits"] == [], f"{path.name}: answers in plain view: {report['hits']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_slow_the_student_notebook_runs_and_every_check_waits_for_an_answer(path, attacked):
    _, nb = attacked(path.name)
    errors = [(i, o.ename, o.evalue) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors == []
    verdicts = [_stdout(c).splitlines()[0] for c in nb.cells if _meta(c).get("grade")
                and c.cell_type == "code"]
    ids = exercises.notebook_exercises(path.stem[:2])
    assert verdicts == [f"✗ Exercise {key} ({exercises.get(key).title}): no answer yet"
                        for key in ids]


def test_slow_the_attack_finds_an_answer_left_in_plain_view(tmp_path):
    """Positive control: a cell that computes the reference in view is caught."""
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell("The noise floor is about 0.00125."),
        v4.new_code_cell("import torch\nfrom course_utils import exercises\n"
                         "sigma, n = exercises.exercise_inputs('04.3')\nfloor = sigma ** 2 / 2"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "leak.ipynb")
    report, _ = copy_attack(tmp_path / "leak.ipynb", ["04.3", "04.1"])
    assert ["04.3", "sigma ** 2 / 2"] in report["hits"] and ["04.3", "floor"] in report["hits"]
    assert ["04.3", "0.00125"] in report["hits"]
    assert all(hit[0] == "04.3" for hit in report["hits"])
