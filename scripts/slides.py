"""Give every notebook cell slideshow metadata, by one predictable rule, or check that it has it.

Usage:
    python scripts/slides.py --apply notebooks/*.ipynb   # write the metadata (idempotent)
    python scripts/slides.py --check notebooks/*.ipynb   # exit 1 naming each cell that differs

The metadata (``cell.metadata.slideshow.slide_type``) drives both the JupyterLab slideshow
extension (jupyterlab-rise) and ``jupyter nbconvert --to slides`` (``make slides``).

The rule, in order (the first that applies wins):

1. The title cell (a markdown cell starting with ``# ``) starts a ``slide``.
2. The Setup section (a ``## Setup`` heading and the cells up to the next heading) is ``skip``:
   presenters run all cells before they start, so the seeding does not take a slide.
3. A markdown cell starting with ``## `` starts a ``slide`` (a new section, left to right);
   one starting with ``### `` or ``**Exercise`` starts a ``subslide`` (a step within the
   section, top to bottom). These are where a presenter pauses.
4. Any other cell continues the current (sub)slide, unless it would make that (sub)slide taller
   than ``BUDGET`` lines (estimated below); then it starts a ``subslide``.
5. A code cell that continues a (sub)slide right after a markdown cell is a ``fragment``: the
   claim is shown first, its check in code appears on the next key press (so does an exercise's
   solution).

Height estimate, in lines of text on a 960x700 reveal.js slide: a markdown line counts one per
``WIDTH`` characters (a heading's twice: larger type), a display-math block three lines; a code cell counts its source lines
plus its text output lines, and ``IMAGE_LINES`` per image output. A cell taller than the budget
gets a (sub)slide of its own, and the notebook metadata ``rise.scroll`` (and ``make slides``)
lets such a slide scroll, so nothing is cut off.

Apply after the notebooks' final outputs are stored (outputs change the estimate); re-applying
changes nothing. ``--check`` expects exactly what ``--apply`` would write, so a change to a
notebook is followed by one ``--apply``, never by editing the metadata by hand.
"""

import argparse
import math
import re
import sys
import unicodedata
from pathlib import Path

import nbformat

BUDGET = 18        # lines of text that fit on one slide at the deck's font size
WIDTH = 70         # characters per line of markdown or output (a CJK character counts two)
IMAGE_LINES = 11   # a course figure (4.5 x 3 in at 100 dpi: 300 px) in lines of text
RISE_METADATA = {"scroll": True}

_EXERCISE = re.compile(r"^\*\*Exercise\b")


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line)


def _text_lines(text: str) -> int:
    """Lines of text once wrapped; a heading's characters and lines count double."""
    lines = 0
    for line in text.splitlines():
        scale = 2 if line.startswith("#") else 1
        lines += scale * max(1, math.ceil(scale * _width(line) / WIDTH))
    return lines


def cell_height(cell) -> int:
    """Estimated height of a cell on a slide, in lines of text."""
    if cell.cell_type != "code":
        source = cell.source
        blocks = len(re.findall(r"\$\$.+?\$\$", source, flags=re.S))
        source = re.sub(r"\$\$.+?\$\$", "", source, flags=re.S)
        return _text_lines(source) + 3 * blocks
    height = len(cell.source.splitlines())
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            height += _text_lines(output.text)
        elif output.output_type == "error":
            height += len(output.get("traceback", []))
        else:
            data = output.get("data", {})
            if any(key.startswith("image/") for key in data):
                height += IMAGE_LINES
            elif "text/plain" in data:
                height += _text_lines(data["text/plain"])
    return height


def _heading(cell) -> str | None:
    """'#', '##' or '###' when a markdown cell starts with such a heading, else None."""
    if cell.cell_type != "markdown":
        return None
    match = re.match(r"(#{1,3}) ", cell.source.lstrip())
    return match.group(1) if match else None


def slide_types(nb) -> list[str]:
    """The slide type of each cell of ``nb``, by the rule in this module's docstring."""
    types: list[str] = []
    used = 0                  # estimated lines on the current (sub)slide
    in_setup = False
    for index, cell in enumerate(nb.cells):
        heading = _heading(cell)
        height = cell_height(cell)
        if heading is not None:
            title = cell.source.lstrip().splitlines()[0][len(heading):].strip()
            in_setup = heading == "##" and title.lower() == "setup"
        if in_setup:
            types.append("skip")
            continue
        if heading == "#" or heading == "##":
            kind, used = "slide", height
        elif heading == "###" or (cell.cell_type == "markdown"
                                  and _EXERCISE.match(cell.source.lstrip())):
            kind, used = "subslide", height
        elif index == 0:
            kind, used = "slide", height
        elif used > 0 and used + height > BUDGET:
            kind, used = "subslide", height
        else:
            follows_markdown = types and nb.cells[index - 1].cell_type == "markdown"
            kind = "fragment" if cell.cell_type == "code" and follows_markdown else "-"
            used += height
        types.append(kind)
    return types


def apply(path: Path) -> bool:
    """Write the slide metadata into the notebook at ``path``; True when the file changed."""
    nb = nbformat.read(path, as_version=4)
    if not problems(nb):
        return False
    for cell, kind in zip(nb.cells, slide_types(nb)):
        cell.metadata["slideshow"] = {"slide_type": kind}
    nb.metadata["rise"] = dict(RISE_METADATA)
    nbformat.write(nb, path)
    return True


def problems(nb) -> list[str]:
    """What differs between the notebook's slide metadata and the rule (empty when all agree)."""
    found = []
    if nb.metadata.get("rise") != RISE_METADATA:
        found.append(f"notebook metadata 'rise' is not {RISE_METADATA}")
    for index, (cell, kind) in enumerate(zip(nb.cells, slide_types(nb))):
        have = cell.metadata.get("slideshow", {}).get("slide_type")
        if have != kind:
            first = cell.source.strip().splitlines()[0][:50] if cell.source.strip() else ""
            found.append(f"cell {index} ({first!r}): slide_type {have!r}, expected {kind!r}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--apply", action="store_true", help="write the slide metadata")
    mode.add_argument("--check", action="store_true", help="fail if any metadata differs")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    failed = False
    for path in args.notebooks:
        if args.apply:
            print(f"{path}: {'updated' if apply(path) else 'unchanged'}")
            continue
        found = problems(nbformat.read(path, as_version=4))
        for problem in found:
            print(f"{path}: {problem}")
        failed = failed or bool(found)
    if failed:
        print("run: python scripts/slides.py --apply notebooks/*.ipynb", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
