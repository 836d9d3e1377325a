"""Put a questionnaire into a notebook: the questions for everyone, the model answers for teachers.

Usage: python scripts/questionnaire.py notebooks/NN_name.ipynb questionnaire.md

The markdown file has a "## Questionnaire" part (a line of instructions and 8 to 15 numbered
questions) and a "### Model answers" part (the answers, numbered alike). They become two markdown
cells after the notebook's exercises, just before its References, replacing a questionnaire
already there. The answers cell carries nbgrader's metadata of a manually graded answer worth 0
points (grade_id "questionnaire_NN"): the teacher's edition shows the model answers, and
`make student` (nbgrader generate_assignment) turns the cell into an empty one for the student's
own answers. Run `python scripts/slides.py --apply` afterwards.
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat

QUESTIONS, ANSWERS = "## Questionnaire", "### Model answers"


def answers_metadata(notebook: str) -> dict:
    """nbgrader's cell metadata for the model answers of notebook "NN"."""
    return {"grade": True, "solution": True, "locked": False, "points": 0,
            "grade_id": f"questionnaire_{notebook}", "schema_version": 3}


def split(text: str) -> tuple[str, str]:
    """The questions part and the model answers part of a questionnaire file."""
    head, sep, answers = text.partition(ANSWERS)
    if not head.lstrip().startswith(QUESTIONS) or not sep:
        raise ValueError(f"the file must start with {QUESTIONS!r} and contain {ANSWERS!r}")
    questions = re.findall(r"^\d+\. ", head, re.M)
    numbered = re.findall(r"^\d+\. ", answers, re.M)
    if not 8 <= len(questions) <= 15 or len(numbered) != len(questions):
        raise ValueError(f"expected 8 to 15 numbered questions and as many answers, got "
                         f"{len(questions)} questions and {len(numbered)} answers")
    return head.strip(), (sep + answers).strip()


def insert(nb: nbformat.NotebookNode, text: str, notebook: str) -> nbformat.NotebookNode:
    """The notebook with its questionnaire cells set from ``text`` (in place, and returned)."""
    questions, answers = split(text)
    cells = nb.cells
    old = [i for i, cell in enumerate(cells)
           if cell.cell_type == "markdown" and cell.source.startswith((QUESTIONS, ANSWERS))]
    for i in reversed(old):
        del cells[i]
    at = next((i for i, cell in enumerate(cells) if cell.cell_type == "markdown"
               and cell.source.startswith("## References")), len(cells))
    question_cell = nbformat.v4.new_markdown_cell(questions, id=f"questionnaire-{notebook}")
    answer_cell = nbformat.v4.new_markdown_cell(answers, id=f"questionnaire-{notebook}-answers")
    answer_cell.metadata["nbgrader"] = answers_metadata(notebook)
    cells[at:at] = [question_cell, answer_cell]
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("questionnaire", type=Path)
    args = parser.parse_args(argv)
    nb = nbformat.read(args.notebook, as_version=4)
    try:
        insert(nb, args.questionnaire.read_text(encoding="utf-8"), args.notebook.name[:2])
    except ValueError as error:
        print(f"questionnaire: {args.questionnaire}: {error}", file=sys.stderr)
        return 1
    nbformat.write(nb, args.notebook)
    print(f"questionnaire: {args.notebook} has the questionnaire of {args.questionnaire}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
