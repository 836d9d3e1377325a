"""Build the student version of the course notebooks: solutions out, a clear stub in.

Usage: python scripts/make_student.py [--out student] notebooks/*.ipynb

In every code cell, the lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION`` (both included)
become one line, ``raise NotImplementedError("Exercise 2 is not solved yet: ...")``, named after
the ``check(..., name="...")`` call of the cell (else numbered in order). Those cells lose their
outputs and execution counts; every other cell is copied untouched. A marker without its partner,
nested markers or a marker sharing its line with code stop the build with the notebook, cell and
line, and nothing is written.
"""

import argparse
import copy
import json
import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
MARKER = re.compile(r"^(?P<indent>\s*)#+\s*(?P<kind>BEGIN|END) SOLUTION\s*$")
CHECK_NAME = re.compile(r"""\bcheck\(.*?\bname\s*=\s*(?P<q>["'])(?P<name>.+?)(?P=q)""", re.S)
STUB = "{name} is not solved yet: write your solution here."


class MarkerError(ValueError):
    """A solution marker is missing its partner, nested, or not alone on its line."""


def strip_solution(source: str, name: str, where: str = "cell") -> str:
    """Replace each marked block of ``source`` by the "not solved yet" stub for ``name``."""
    out: list[str] = []
    begin_line = None
    for number, line in enumerate(source.split("\n"), start=1):
        match = MARKER.match(line)
        if match is None:
            if BEGIN in line or END in line:
                raise MarkerError(f"{where}, line {number}: a solution marker must be alone on "
                                  f"its line as '# {BEGIN}' or '# {END}', got {line.strip()!r}")
            if begin_line is None:
                out.append(line)
        elif match["kind"] == "BEGIN":
            if begin_line is not None:
                raise MarkerError(f"{where}, line {number}: '# {BEGIN}' inside the solution "
                                  f"opened at line {begin_line} (nested markers)")
            begin_line = number
            message = json.dumps(STUB.format(name=name), ensure_ascii=False)  # a Python literal
            out.append(f"{match['indent']}raise NotImplementedError({message})")
        else:
            if begin_line is None:
                raise MarkerError(f"{where}, line {number}: '# {END}' without a '# {BEGIN}' "
                                  f"before it")
            begin_line = None
    if begin_line is not None:
        raise MarkerError(f"{where}, line {begin_line}: '# {BEGIN}' is never closed by "
                          f"'# {END}'")
    return "\n".join(out)


def has_solution(cell) -> bool:
    """Whether a cell is an exercise cell (a code cell with a solution marker line)."""
    return cell.cell_type == "code" and (BEGIN in cell.source or END in cell.source)


def exercise_name(source: str, number: int, where: str = "cell") -> str:
    """The ``name=`` of the first ``check`` call outside the solution, else "Exercise <number>"."""
    match = CHECK_NAME.search(strip_solution(source, "", where))
    return match["name"] if match else f"Exercise {number}"


def make_student(nb: nbformat.NotebookNode, label: str = "notebook") -> nbformat.NotebookNode:
    """A copy of ``nb`` with solutions replaced by stubs and exercise outputs cleared."""
    student = copy.deepcopy(nb)
    number = 0
    for index, cell in enumerate(student.cells):
        if not has_solution(cell):
            continue
        number += 1
        where = f"{label}, cell {index}"
        cell.source = strip_solution(cell.source, exercise_name(cell.source, number, where), where)
        cell.outputs = []
        cell.execution_count = None
    return student


def build(paths: list[Path], out_dir: Path) -> list[Path]:
    """Write the student version of each notebook into ``out_dir``; all or nothing."""
    if not paths:
        raise ValueError("paths must name at least one notebook, got none")
    names = [path.name for path in paths]
    if len(set(names)) != len(names):
        raise ValueError(f"paths must have distinct file names, got {names}")
    students = [make_student(nbformat.read(path, as_version=4), label=str(path))
                for path in paths]  # every notebook is checked before anything is written
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, student in zip(paths, students):
        target = out_dir / path.name
        nbformat.write(student, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("student"),
                        help="output folder (default: student)")
    args = parser.parse_args(argv)
    try:
        written = build(args.notebooks, args.out)
    except MarkerError as error:
        print(f"make_student: malformed solution marker: {error}", file=sys.stderr)
        return 1
    print(f"make_student: wrote {len(written)} student notebook(s) to {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
