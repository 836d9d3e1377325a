"""The grading round trip with nbgrader, as a teacher runs it: `make student`, `make grade`.

A copy of the course's set-up (Makefile, nbgrader_config.py) in a temporary folder, with notebook
04 cut down to what its exercises need (a cell of imports, then its Exercises, Questionnaire and
References: the real exercise cells with their nbgrader metadata), so that grading four students
takes a minute and not six notebooks' worth of training runs. Four submissions:

- the teacher's solved copy: full marks;
- the untouched student copy: zero;
- half solved (the first two exercises): half;
- one that raises in an exercise and loops forever in another: scored (the loop is interrupted
  after the timeout), the two solved exercises count.

The scores come out of nbgrader's CSV export, grading/grades.csv.
"""

import csv
import shutil

import nbformat

from test_student import NOTEBOOKS, ROOT, make

IMPORTS = ("import math\n\nimport torch\nfrom torch import nn\n\n"
           "from course_utils.checks import check\n"
           "from course_utils.regression import linreg, squared_loss")


def trimmed(path) -> nbformat.NotebookNode:
    """The notebook's title, a cell of imports, and everything from its Exercises on."""
    nb = nbformat.read(path, as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if c.source.startswith("## Exercises"))
    nb.cells = [nb.cells[0], nbformat.v4.new_code_cell(IMPORTS, id="imports")] + nb.cells[start:]
    return nb


def solved(teacher, student, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The student copy with some solution cells filled in: the teacher's, or given code."""
    sources = {c.metadata["nbgrader"]["grade_id"]: c.source for c in teacher.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in student.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            code = answers[grade_id]
            cell.source = (sources[grade_id] if code == "solution" else
                           cell.source.replace("answer = ...  # your answer", code))
    return student


def test_slow_grading_round_trip(tmp_path):
    (path,) = [p for p in NOTEBOOKS if p.name.startswith("04")]
    course = tmp_path / "course"
    (course / "notebooks").mkdir(parents=True)
    for name in ("Makefile", "nbgrader_config.py"):
        shutil.copy(ROOT / name, course / name)
    teacher = trimmed(path)
    nbformat.write(teacher, course / "notebooks" / path.name)
    make(course, "student")
    release = course / "build" / "release" / "notebooks" / path.name

    def student_copy():
        return nbformat.read(release, as_version=4)

    submissions = {
        "teacher": teacher,
        "untouched": student_copy(),
        "half": solved(teacher, student_copy(), {"ex04_1": "solution", "ex04_2": "solution"}),
        "wild": solved(teacher, student_copy(), {
            "ex04_1": "solution", "ex04_2": "raise ValueError('not today')",
            "ex04_3": "while True:\n    pass", "ex04_4": "solution"}),
    }
    for student, nb in submissions.items():
        folder = course / "grading" / "submitted" / student / "notebooks"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / path.name)

    make(course, "grade", GRADE_FLAGS="--Execute.timeout=20")

    with open(course / "grading" / "grades.csv", newline="") as f:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                  for row in csv.DictReader(f)}
    assert scores == {"teacher": (4.0, 4.0), "untouched": (0.0, 4.0), "half": (2.0, 4.0),
                      "wild": (2.0, 4.0)}
    graded = nbformat.read(course / "grading" / "autograded" / "wild" / "notebooks" / path.name,
                           as_version=4)
    errors = {c.metadata["nbgrader"]["grade_id"]: o.ename for c in graded.cells
              for o in c.get("outputs", []) if o.output_type == "error"
              and c.metadata.get("nbgrader", {}).get("solution")}
    assert errors == {"ex04_2": "ValueError", "ex04_3": "CellTimeoutError"}

