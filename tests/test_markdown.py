"""What a student reads in the notebooks' markdown renders as written, and quotes real results.

- Dollar signs: JupyterLab, nbconvert and the site hand markdown to MathJax with ``$`` as the
  inline-math delimiter, and markdown drops the backslash of ``\\$`` before MathJax runs, so a
  "\\$4,400" pairs with the next dollar and the words between become garbled italics. Money is
  written without a dollar sign; every ``$`` opens or closes math.
- Numbers: a decimal number in the prose must be a number the notebook's own code or stored
  outputs show (equal after rounding to the digits the prose gives), so a quoted result cannot
  drift from the result.
"""

import re
from pathlib import Path

import nbformat
import pytest

_FOLDER = Path(__file__).parents[1] / "notebooks"
NOTEBOOKS = sorted(_FOLDER.glob("*.ipynb")) + sorted(_FOLDER.glob("zh/*.ipynb"))  # both editions

FENCED = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE_MATH = re.compile(r"\$([^$]+?)\$")
# Inside math, these are notation, not prose: commands, \text{...} and its relatives.
MATH_WORDS = re.compile(r"\\(?:text|mathrm|operatorname|mathbf|mathcal|textbf|emph)\s*\{[^}]*\}|\\[A-Za-z]+")
PROSE_RUN = re.compile(r"\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b")


def markdown_cells(path: Path) -> list[tuple[int, str]]:
    cells = nbformat.read(path, as_version=4).cells
    return [(i, c.source) for i, c in enumerate(cells) if c.cell_type == "markdown"]


def prose(text: str) -> str:
    """Markdown without fenced code and code spans: what MathJax scans for dollars."""
    return CODE_SPAN.sub(" ", FENCED.sub(" ", text))


def dollar_problems(text: str) -> list[str]:
    problems = []
    if "\\$" in text:
        problems.append("writes \\$ (markdown drops the backslash; the dollar becomes math)")
    for paragraph in re.split(r"\n\s*\n", DISPLAY_MATH.sub(" ", prose(text))):
        if paragraph.count("$") % 2:
            problems.append(f"an odd number of $ in the paragraph {paragraph[:60]!r}")
        for span in INLINE_MATH.findall(paragraph):
            run = PROSE_RUN.search(MATH_WORDS.sub(" ", span))
            if run:
                problems.append(f"prose {run.group()!r} inside the inline math ${span[:50]}$")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: ("zh/" if p.parent.name == "zh" else "") + p.stem[:2])
def test_markdown_dollars_are_math_delimiters_only(path):
    problems = [f"cell {i}: {p}" for i, text in markdown_cells(path) for p in dollar_problems(text)]
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("text", [
    "Prices run from \\$5,000 to \\$50,000.",          # the escaped dollar
    "A house at $4,400 and more.",                     # a lone dollar
    "From $5,000 to $50,000, in $1000s.",              # an odd count
    "From $5,000 to the median price of $21,200.",     # paired, but prose inside math
])
def test_dollar_check_catches_money_written_with_dollars(text):
    assert dollar_problems(text)


@pytest.mark.parametrize("text", [
    "The model $\\hat{y} = \\mathbf{X}\\mathbf{w} + b$ and the loss $\\ell(\\mathbf{w}, b)$.",
    "Prices are in thousands of dollars (USD 4,400 is `4.4`); code like `x = '$'` is code.",
    "$$\\text{RMSE} = \\sqrt{\\frac{1}{n} \\sum_i (\\hat{y}_i - y_i)^2}$$",
    "$\\text{the mean of the squared residuals}$ is notation, not prose.",
])
def test_dollar_check_accepts_math_and_money_without_dollars(text):
    assert dollar_problems(text) == []


# A decimal: 0.05, 4.40, 1.5e-3, 6,666.7 (not a version such as 2.14.1, nor a plain integer).
DECIMAL = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+)(?:[eE]([-+−]?\d+))?(?![\w.]*\d)")
# A whole number that states a ratio or a share: "170 times", "78-fold", "41 %", "12×".
RATIO = re.compile(r"(?<![\w.,])(\d+)(?=\s*(?:times\b|-fold\b|fold\b|%|×|x\b))")
NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")
URL = re.compile(r"https?://\S+|arXiv:\S+|doi:\S+", re.I)
# Section numbers are names, not results: "## 1.4 Backpropagation", "section 1.4".
SECTION = re.compile(r"^#+\s*[\d.]+|\b[Ss]ections?\s+\d+(?:\.\d+)*", re.M)
# Numbers that are facts about the world, not results of the notebook, with the reason.
NOT_RESULTS = {
}


def quoted_numbers(text: str) -> list[str]:
    """Decimals and ratios in a markdown cell's prose and math, not in URLs or fenced code."""
    text = SECTION.sub(" ", URL.sub(" ", FENCED.sub(" ", text)))
    return [m.group(0) for pattern in (DECIMAL, RATIO) for m in pattern.finditer(text)]


def shown_numbers(cells) -> list[float]:
    """Every number in the code cells' sources and stored text outputs."""
    texts = []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        texts.append(cell.source)
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") if out.output_type == "stream"
                         else out.get("data", {}).get("text/plain", ""))
    values = []
    for token in NUMBER.findall("\n".join(texts)):
        try:
            values.append(float(token.replace(",", "")))
        except ValueError:
            pass
    return values


def matches(quoted: str, shown: list[float]) -> bool:
    """The quoted number equals a shown one rounded to the quoted number's digits."""
    mantissa, _, exponent = quoted.replace(",", "").replace("−", "-").partition("e")
    mantissa, _, exp2 = mantissa.partition("E")
    exponent = exponent or exp2
    decimals = len(mantissa.partition(".")[2])
    value = float(mantissa)
    scale = 10.0 ** int(exponent) if exponent else 1.0
    return any(abs(s / scale - value) <= 0.5 * 10.0 ** -decimals + 1e-12 * abs(value)
               or abs(abs(s) / scale - value) <= 0.5 * 10.0 ** -decimals + 1e-12 * abs(value)
               for s in shown)


def unbacked_numbers(path: Path) -> list[str]:
    cells = nbformat.read(path, as_version=4).cells
    shown = shown_numbers(cells)
    problems = []
    in_references = False
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        if re.match(r"#+\s", cell.source):
            in_references = bool(re.match(r"#+\s*(References|参考文献)", cell.source))
        if in_references:
            continue  # citations: years, pages, volume numbers
        for quoted in quoted_numbers(cell.source):
            if quoted not in NOT_RESULTS.get(path.stem[:2], {}) and not matches(quoted, shown):
                problems.append(f"cell {i}: {quoted}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: ("zh/" if p.parent.name == "zh" else "") + p.stem[:2])
def test_numbers_in_the_prose_are_the_notebooks_own(path):
    problems = unbacked_numbers(path)
    assert not problems, (
        f"{path.name}: these numbers in the markdown appear in no code cell or stored output "
        f"(print the result they quote, or correct them):\n" + "\n".join(problems))


def test_number_check_fails_when_a_quoted_result_drifts():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("The test RMSE is 4.40, the slope about 0.8, 5 times more."),
        nbformat.v4.new_code_cell("print(rmse)", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="RMSE 4.4012, slope 0.7964, 5.2x\n")]),
    ])
    cells = nb.cells
    shown = shown_numbers(cells)
    assert all(matches(q, shown) for q in quoted_numbers(cells[0].source))
    assert quoted_numbers(cells[0].source) == ["4.40", "0.8", "5"]
    cells[1].outputs[0].text = "RMSE 4.4312, slope 0.7964, 6.1x\n"
    assert not matches("4.40", shown_numbers(cells))
    assert not matches("5", shown_numbers(cells))


def test_number_check_reads_grouped_and_exponent_numbers_whole():
    cell = nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
        "stream", name="stdout", text="steps in all: 6,666; error 1.5e-03; ratio .25\n")])
    assert shown_numbers([cell]) == [6666.0, 0.0015, 0.25]
    assert matches("6,666", shown_numbers([cell])) and not matches("6,667", shown_numbers([cell]))


# What the lesson must not talk about: the test harness and the machine it runs on.
HARNESS = re.compile(r"\bnbval\b|\bpytest\b|\bCI\b|stored (?:bytes|SVG|outputs?)|update_display_data"
                     r"|\d-core|busy machine|\bkB\b|/work/|/tmp/|/home/|/root/", re.I)


def harness_talk(text: str) -> list[str]:
    return [m.group(0) for m in HARNESS.finditer(prose(text))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: ("zh/" if p.parent.name == "zh" else "") + p.stem[:2])
def test_markdown_is_for_students_not_for_the_test_harness(path):
    found = [f"cell {i}: {hit}" for i, text in markdown_cells(path) for hit in harness_talk(text)]
    assert not found, f"{path.name}: put these in code comments or CONTRIBUTING.md:\n" + "\n".join(found)


def test_harness_check_catches_harness_talk():
    assert harness_talk("nbval compares the stored SVG, so on a busy 2-core machine") == [
        "nbval", "stored SVG", "2-core"]
    assert harness_talk("The loss falls; `pytest` is code, not prose.") == []
