"""Slides from the notebooks' source: where each slide starts, and what a slide shows of a cell.

Usage:
    python scripts/slides.py --apply notebooks/*.ipynb   # write the slide metadata (idempotent)
    python scripts/slides.py --check notebooks/*.ipynb   # exit 1 naming each cell that differs

As in d2l's slides, a slide carries the one idea, its code and its figure; the rest of the prose
is for the presenter, in the reveal.js speaker notes (key S). Everything below is read from the
source of the cells, never from the height of their outputs, so re-running a notebook changes no
cut. ``--apply`` writes ``cell.metadata.slideshow.slide_type`` (what nbconvert's slides and
JupyterLab read); ``deck(nb)`` applies the rest when ``make slides`` builds the decks.

What a slide shows of a markdown cell (``slide_text``):

1. Its headings, always.
2. Where the author marked slide text with ``<!-- slide -->`` ... ``<!-- /slide -->`` (HTML
   comments: invisible in JupyterLab, on the site and in nbconvert), that text and nothing else.
3. Otherwise its display math (``$$...$$``), images and tables, and its claim: the first sentence
   of its first paragraph (a bold lead-in such as ``**The gradient.**`` and the sentence after it);
   the whole paragraph when it leads into a display formula or, ending in a colon, into a list,
   whose items then show their first sentences.
4. Every other paragraph goes to the slide's speaker notes. A cell that starts with
   ``<!-- notes -->`` is speaker notes whole (slide type ``notes``).

Where slides start (``slide_types``, the metadata):

5. The title cell (``# ``) starts a ``slide``; the Setup section (``## Setup`` up to the next
   heading) is ``skip``: presenters run it before they start.
6. ``## `` starts a ``slide`` (a section, left to right); ``###``, ``####`` and ``**Exercise``
   start a ``subslide`` (a step within the section, top to bottom).
7. A markdown cell after a code cell starts a ``subslide`` (one claim per slide), and so does a
   code cell after a code cell (one check per slide).
8. Any other cell continues the (sub)slide when the estimated height of what the slide shows
   (its slide text, and the first piece of code) stays within ``BUDGET`` pixels of the
   1280x720 canvas; otherwise it starts a ``subslide``.

Within a cell (``deck``):

9. A code cell longer than ``CODE_LINES`` lines is cut into consecutive subslides before a
   statement, into as few pieces as fit, then at the cheapest places (top-level statements
   before nested ones, after a blank line before not), then as even as can be.
10. Its outputs stay under its code when they are short text (at most ``OUTPUT_LINES`` lines) and
    fit; figures, HTML tables and longer text get a subslide of their own (the code not repeated),
    a figure scaled to fill the slide (``FIGURE_WIDTH`` x ``FIGURE_HEIGHT`` at most).

Apply after adding, removing or editing cells; re-applying changes nothing. ``--check`` expects
exactly what ``--apply`` would write, so a change to a notebook is followed by one ``--apply``,
never by editing the metadata by hand.
"""

import argparse
import ast
import base64
import copy
import math
import re
import struct
import sys
import unicodedata
from pathlib import Path

import nbformat

# Heights in CSS pixels of the 1280x720 canvas, at the fonts of build_site.SLIDES_CSS.
BUDGET = 620           # what fits under reveal.js's margins
CODE_LINES = 16        # longest piece of code on one slide
OUTPUT_LINES = 8       # longest text output kept under its code
CODE_LINE, CODE_CHARS, CODE_PAD = 25, 96, 24
BODY_LINE, BODY_CHARS = 34, 80
HEADING = {1: (74, 34), 2: (58, 44), 3: (48, 56), 4: (42, 64)}   # level: (line px, chars)
MATH_ROW, TABLE_ROW = 48, 40
FIGURE_WIDTH, FIGURE_HEIGHT = 1240, 640

_EXERCISE = re.compile(r"^\*\*Exercise\b")
_MARKED = re.compile(r"<!--\s*slide\s*-->(.*?)<!--\s*/slide\s*-->", re.S)
_NOTES = re.compile(r"^\s*<!--\s*notes\s*-->")
_HEADING = re.compile(r"^(#{1,6}) ")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
# A sentence ends at . ! ? (or a bold lead-in's .**) before a space and a capital, a digit,
# markup or math; not after an initial ("D.") or a common abbreviation.
_SENTENCE_END = re.compile(r"(?<=[.!?])(\*\*|\*|_)?\s+(?=[A-Z0-9*`$(\[\"'\0])")
_SENTENCE_END_ZH = re.compile(r"[。！？](\*\*|\*)?(?=.)")  # Chinese: no space follows
_ABBREVIATION = re.compile(r"(\b[A-Z]|\be\.g|\bi\.e|\betc|\bcf|\bvs|\bFig|\bEq|\bal|\bNo)\.$")


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line)


# What a slide shows of a markdown cell ----------------------------------------------------

def _blocks(text: str) -> list[str]:
    """Markdown blocks: paragraphs, lists, tables; a heading line, ``$$`` math and a fence whole."""
    blocks: list[str] = []
    current: list[str] = []
    fence = None

    def close():
        if current:
            blocks.append("\n".join(current))
            current.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if fence:
            current.append(line)
            if stripped.startswith(fence) or (fence == "$$" and stripped.endswith("$$")):
                fence = None
                close()
        elif stripped.startswith(("```", "~~~")) or (stripped.startswith("$$") and not (
                len(stripped) > 2 and stripped.endswith("$$"))):
            close()
            fence = "$$" if stripped.startswith("$$") else stripped[:3]
            current.append(line)
        elif not stripped:
            close()
        elif _HEADING.match(stripped) or (stripped.startswith("$$") and stripped.endswith("$$")):
            close()
            blocks.append(line)
        else:
            current.append(line)
    close()
    # Display math inside a paragraph ("A claim: $$f'(x) = 2x.$$") is a block of its own.
    split = []
    for block in blocks:
        if not block.lstrip().startswith("$$") and "$$" in block:
            split.extend(p.strip() for p in re.split(r"(\$\$.+?\$\$)", block, flags=re.S)
                         if p.strip())
        else:
            split.append(block)
    return split


def _kind(block: str) -> str:
    first = block.lstrip()
    if _HEADING.match(first):
        return "heading"
    if first.startswith("$$"):
        return "math"
    if first.startswith("|"):
        return "table"
    if first.startswith(("![", "<img", "<figure")):
        return "image"
    if _LIST_ITEM.match(block):
        return "list"
    return "paragraph"


def first_sentence(text: str) -> str:
    """The first sentence of a paragraph (a bold lead-in ``**The gradient.**`` and the next)."""
    protected = re.sub(r"\$[^$]+\$|`[^`]+`|\([^()]*\)|(?<!\*)\*[^*\s][^*]*\*(?!\*)|\"[^\"]*\"",
                       lambda m: "\0" * len(m.group()), text)  # math, code, (...), *...*, "..."
    lead = re.match(r"\*\*[^*]+[.:]\*\*\s+|\*\*[^*]+\*\*[：。]", text)  # English, Chinese
    start = lead.end() if lead else 0
    ends = [m.end() for m in _SENTENCE_END.finditer(protected, start)
            if not _ABBREVIATION.search(protected[:m.start()])][:1]
    ends += [m.end() for m in _SENTENCE_END_ZH.finditer(protected, start)][:1]
    return text[:min(ends)].rstrip() if ends else text.strip()


def slide_text(source: str) -> tuple[str, str]:
    """(what the slide shows, what goes to the speaker notes) of a markdown cell's source."""
    if _NOTES.match(source):
        return "", _NOTES.sub("", source).strip()
    blocks = _blocks(source)
    headings = [b for b in blocks if _kind(b) == "heading"]
    if _MARKED.search(source):
        marked = [m.strip() for m in _MARKED.findall(source)]
        rest = [b for b in _blocks(_MARKED.sub("", source)) if _kind(b) != "heading"]
        return "\n\n".join(headings + marked), "\n\n".join(rest)
    shown, notes = [], []
    claimed, list_follows = False, False
    for index, block in enumerate(blocks):
        kind = _kind(block)
        following = _kind(blocks[index + 1]) if index + 1 < len(blocks) else None
        if kind in ("heading", "math", "table", "image"):
            shown.append(block)
        elif kind == "list" and list_follows:
            items = re.split(r"\n(?=\s*(?:[-*+]|\d+[.)])\s)", block)
            shown.append("\n".join(_LIST_ITEM.match(item).group() + first_sentence(
                " ".join(item[_LIST_ITEM.match(item).end():].split())) for item in items))
            list_follows = False
        elif not claimed and kind == "paragraph":
            claimed = True
            sentence = first_sentence(block)
            whole = sentence == block.strip()
            leads_in = following == "math" or (block.rstrip().endswith((":", "："))
                                               and following == "list")
            if leads_in or whole:
                shown.append(block)
                list_follows = following == "list" and block.rstrip().endswith((":", "："))
            else:
                shown.append(sentence)
                notes.append(block.strip()[len(sentence):].strip())
        else:
            notes.append(block)
    return "\n\n".join(shown), "\n\n".join(n for n in notes if n)


def markdown_height(text: str) -> int:
    """Estimated height in canvas pixels of markdown shown on a slide."""
    height = 0
    for block in _blocks(text):
        kind = _kind(block)
        if kind == "heading":
            level = len(_HEADING.match(block.lstrip()).group(1))
            line, chars = HEADING[min(level, 4)]
            height += line * max(1, math.ceil(_width(block) / chars))
        elif kind == "math":
            rows = block.count("\\\\") + 1
            height += MATH_ROW * rows + 16 * block.count("\\frac")
        elif kind == "table":
            height += TABLE_ROW * len(block.splitlines())
        elif kind == "image":
            height += FIGURE_HEIGHT // 2
        else:
            plain = re.sub(r"\$[^$]+\$|`[^`]+`", lambda m: "x" * (len(m.group()) // 2), block)
            for line in re.split(r"\n(?=\s*(?:[-*+]|\d+[.)])\s)", plain) if kind == "list" \
                    else [" ".join(plain.split())]:
                height += BODY_LINE * max(1, math.ceil(_width(" ".join(line.split())) / BODY_CHARS))
        height += 12  # the space between blocks
    return height


# Where a code cell is cut ------------------------------------------------------------------

def _cut_costs(lines: list[str]) -> dict[int, int]:
    """Lines a piece may start at, with the cost of cutting there: before a top-level statement
    0 after a blank line (else 1); before a statement nested in a class or function body 2 more
    per level (a class's methods, shown without the class line)."""
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:  # IPython magics: cut after blank lines only
        return {i: 0 for i in range(1, len(lines)) if not lines[i - 1].strip() and lines[i].strip()}
    starts: list[tuple[int, int]] = []

    def visit(body, depth):
        for node in body:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            starts.append((first - 1, depth))
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                visit(node.body, depth + 1)

    visit(tree.body, 0)
    costs: dict[int, int] = {}
    for start, depth in starts:
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1  # the comment above a statement goes with it
        if start > 0:
            cost = 2 * depth + (0 if not lines[start - 1].strip() else 1)
            costs[start] = min(cost, costs.get(start, cost))
    return costs


def code_pieces(source: str, limit: int = CODE_LINES) -> list[str]:
    """``source`` cut into pieces of at most ``limit`` lines (where unavoidable, a piece runs
    longer rather than cutting inside a statement), fewest pieces, then cheapest cuts, then most
    even; blank lines at the cuts are dropped."""
    lines = source.rstrip().splitlines()
    if len(lines) <= limit:
        return [source.rstrip()]
    costs = _cut_costs(lines)
    cuts = sorted(costs) + [len(lines)]
    # best[i]: (pieces, cost, longest piece, previous cut) for a cut before line i
    best = {0: (0, 0, 0, None)}
    for end in cuts:
        options = [(pieces + 1, cost + costs.get(start, 0), max(longest, end - start), start)
                   for start, (pieces, cost, longest, _) in best.items() if start < end]
        fitting = [option for option in options if end - option[3] <= limit]
        best[end] = min(fitting) if fitting else max(options, key=lambda option: option[3])
    bounds, end = [], len(lines)
    while end:
        bounds.append(end)
        end = best[end][3]
    bounds.append(0)
    bounds.reverse()
    pieces = ["\n".join(lines[a:b]).strip("\n") for a, b in zip(bounds, bounds[1:])]
    return [piece for piece in pieces if piece.strip()]


def code_height(code: str) -> int:
    lines = code.splitlines() or [""]
    return CODE_PAD + CODE_LINE * sum(max(1, math.ceil(_width(line) / CODE_CHARS))
                                      for line in lines)


def _output_text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join(output.get("traceback", []))
    return output.get("data", {}).get("text/plain", "")


def _outputs_height(outputs) -> int:
    return sum(CODE_PAD + CODE_LINE * len(_output_text(o).splitlines()) for o in outputs)


def _is_large(output) -> bool:
    data = output.get("data", {})
    if any(key.startswith("image/") or key == "text/html" for key in data):
        return True
    return len(_output_text(output).splitlines()) > OUTPUT_LINES


# Where slides start ------------------------------------------------------------------------

def _heading(cell) -> int:
    """The level of the heading a markdown cell starts with (0 when none)."""
    if cell.cell_type != "markdown":
        return 0
    match = _HEADING.match(cell.source.lstrip())
    return len(match.group(1)) if match else 0


def shown_height(cell) -> int:
    """Estimated height of what a slide shows of a cell: its slide text, or its first piece of
    code."""
    if cell.cell_type == "markdown":
        return markdown_height(slide_text(cell.source)[0])
    return code_height(code_pieces(cell.source)[0])


def slide_types(nb) -> list[str]:
    """The slide type of each cell of ``nb``, by rules 5-8 of this module's docstring."""
    types: list[str] = []
    used = 0           # estimated height of the current (sub)slide
    in_setup = False
    previous = None    # the type of the last cell shown ("markdown" or "code")
    for index, cell in enumerate(nb.cells):
        level = _heading(cell)
        if level:
            title = cell.source.lstrip().splitlines()[0][level:].strip()
            in_setup = level == 2 and title.lower() == "setup"
        if in_setup:
            types.append("skip")
            continue
        if cell.cell_type == "markdown" and _NOTES.match(cell.source):
            types.append("notes")
            continue
        height = shown_height(cell)
        if index == 0 or level in (1, 2):
            kind, used = "slide", height
        elif level >= 3 or (cell.cell_type == "markdown"
                            and _EXERCISE.match(cell.source.lstrip())):
            kind, used = "subslide", height
        elif previous == "code" or used + height > BUDGET:
            kind, used = "subslide", height
        else:
            kind, used = "-", used + height
        previous = cell.cell_type
        types.append(kind)
    return types


# The deck -----------------------------------------------------------------------------------

_SVG_SIZE = re.compile(
    r"<svg\b[^>]*?\bwidth=\"([\d.]+)(pt|px)?\"[^>]*?\bheight=\"([\d.]+)(pt|px)?\"")


def image_size(output) -> tuple[float, float] | None:
    """The natural size in CSS pixels of a PNG or SVG output (None for other outputs)."""
    data = output.get("data", {})
    if "image/png" in data:
        return struct.unpack(">II", base64.b64decode(data["image/png"][:64])[16:24])
    match = _SVG_SIZE.search(data.get("image/svg+xml", ""))
    if match:
        scale = 4 / 3 if match.group(2) == "pt" else 1
        return float(match.group(1)) * scale, float(match.group(3)) * scale
    return None


def figure_width(output) -> int | None:
    """The width at which a figure fills a slide (``FIGURE_WIDTH`` x ``FIGURE_HEIGHT``)."""
    size = image_size(output)
    if not size:
        return None
    width, height = size
    return min(FIGURE_WIDTH, round(FIGURE_HEIGHT * width / height))


def deck(nb):
    """A copy of ``nb`` cut for nbconvert's slides: markdown cells as their slide text plus a
    ``notes`` cell, long code cells in pieces, large outputs on slides of their own."""
    out = copy.deepcopy(nb)
    cells = []
    # The stored cuts (``--apply`` wrote them; a translated notebook carries its source's),
    # where a translation makes a continued slide too tall for BUDGET, cut there too.
    kinds = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in nb.cells]
    kinds = kinds if None not in kinds else slide_types(nb)
    used = 0
    for index, (cell, kind) in enumerate(zip(nb.cells, kinds)):
        if kind not in ("skip", "notes"):
            height = shown_height(cell)
            if kind == "-" and used + height > BUDGET:
                kinds[index] = "subslide"
            used = used + height if kinds[index] == "-" else height
    for cell, kind in zip(nb.cells, kinds):
        cell = copy.deepcopy(cell)
        cell.metadata["slideshow"] = {"slide_type": kind}
        if kind == "skip":
            continue
        if cell.cell_type == "markdown":
            shown, notes = slide_text(cell.source)
            if shown:
                cells.append(cell)
                cell.source = shown
            if notes:
                cells.append(nbformat.v4.new_markdown_cell(
                    notes, metadata={"slideshow": {"slide_type": "notes"}}))
                cells[-1].id = f"{cell.id}-notes"
            continue
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        pieces = code_pieces(cell.source)
        outputs = cell.get("outputs", [])
        for number, piece in enumerate(pieces):
            part = copy.deepcopy(cell)
            part.source, part.outputs = piece, []
            if number:
                part.id = f"{cell.id}-{number}"
                part.metadata["slideshow"] = {"slide_type": "subslide"}
            cells.append(part)
        for output in outputs:
            width = figure_width(output)
            if width:
                output.setdefault("metadata", {})["slide_width"] = width
        lead = 0  # the short text outputs at the top stay under the code when they fit
        while lead < len(outputs) and not _is_large(outputs[lead]):
            lead += 1
        if lead and code_height(pieces[-1]) + _outputs_height(outputs[:lead]) <= BUDGET - 100:
            cells[-1].outputs, outputs = outputs[:lead], outputs[lead:]
        groups: list[list] = []  # rule 10: the rest on slides of their own, the code not repeated
        for output in outputs:
            if _is_large(output) or not groups or _is_large(groups[-1][-1]):
                groups.append([output])
            else:
                groups[-1].append(output)
        for number, group in enumerate(groups):
            shown = copy.deepcopy(cell)
            shown.outputs, shown.id = group, f"{cell.id}-outputs-{number}"
            shown.metadata["slideshow"] = {"slide_type": "subslide"}
            shown.metadata["transient"] = {"remove_source": True}
            cells.append(shown)
    out.cells = cells
    return out


def apply(path: Path) -> bool:
    """Write the slide metadata into the notebook at ``path``; True when the file changed."""
    nb = nbformat.read(path, as_version=4)
    if not problems(nb):
        return False
    for cell, kind in zip(nb.cells, slide_types(nb)):
        cell.metadata["slideshow"] = {"slide_type": kind}
    nb.metadata.pop("rise", None)  # RISE's scrolling slides: no longer used
    nbformat.write(nb, path)
    return True


def problems(nb) -> list[str]:
    """What differs between the notebook's slide metadata and the rule (empty when all agree)."""
    found = []
    if "rise" in nb.metadata:
        found.append("notebook metadata 'rise' (RISE's settings) is no longer used")
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
