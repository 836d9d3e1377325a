"""Slide metadata (scripts/slides.py) and the static site builder (scripts/build_site.py)."""

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import build_site  # noqa: E402
import slides  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
       "RU5ErkJggg==")


def _figure_cell(title: str = "Loss per epoch"):
    cell = new_code_cell(f"ax.plot(x, y)\nax.set_title('{title}');")
    data = {"image/png": PNG, "text/plain": "<Figure>"}
    cell.outputs = [new_output("display_data", data=data)]
    return cell


def _course_notebook(number: int = 1):
    return new_notebook(cells=[
        new_markdown_cell(f"# 0{number} · Title {number} (标题)\n\nWhat notebook {number} teaches."),
        new_markdown_cell("**Learning objectives.** After this notebook you can:\n\n- do $x^2$"),
        new_markdown_cell("## Setup\n\nSeeds."),
        new_code_cell("import torch"),
        new_markdown_cell("## 1 A section (一节)"),
        new_markdown_cell("### A step"),
        new_markdown_cell("A claim: $$f'(x) = 2x.$$"),
        new_code_cell("print(1)"),
        new_markdown_cell("Another paragraph."),
        new_code_cell("\n".join(f"print({i})" for i in range(30))),
        _figure_cell(),
        new_markdown_cell("The figure shows the loss falling. It flattens after epoch 3."),
        new_markdown_cell("## Exercises"),
        new_markdown_cell("**Exercise 1.** Do it."),
        new_code_cell("# BEGIN SOLUTION\nanswer = 1\n# END SOLUTION\ncheck(answer, 1)"),
    ])


def test_slide_rule():
    assert slides.slide_types(_course_notebook()) == [
        "slide", "-", "skip", "skip", "slide", "subslide", "-", "fragment", "-",
        "subslide",   # 30 lines of code: over the budget, so a subslide of its own
        "subslide",   # the figure would overflow the 30-line slide
        "-", "slide", "subslide", "fragment"]


def test_apply_then_check(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_course_notebook(), path)
    assert slides.main(["--check", str(path)]) == 1
    assert slides.main(["--apply", str(path)]) == 0
    text = path.read_text()
    assert slides.main(["--check", str(path)]) == 0
    assert slides.apply(path) is False and path.read_text() == text  # idempotent
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["rise"] == {"scroll": True}
    assert nb.cells[0].metadata["slideshow"] == {"slide_type": "slide"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_notebook_has_slide_metadata(path):
    problems = slides.problems(nbformat.read(path, as_version=4))
    assert not problems, ("slide metadata differs from scripts/slides.py's rule; run "
                          "`python scripts/slides.py --apply notebooks/*.ipynb`:\n"
                          + "\n".join(problems[:10]))


def test_figure_alt_takes_title_and_description():
    nb = _course_notebook()
    alt = build_site.figure_alt(nb, 10)
    assert alt == ("Figure: Loss per epoch. The figure shows the loss falling. "
                   "It flattens after epoch 3.")
    nb.cells[10].metadata["alt"] = "Written by hand."
    assert build_site.figure_alt(nb, 10) == "Written by hand."


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A site built from three small notebooks, without the (downloaded) JavaScript assets."""
    monkeypatch.setattr(build_site, "copy_assets", lambda static, names: None)
    paths = []
    for number in (1, 2, 3):
        paths.append(tmp_path / f"0{number}_nb.ipynb")
        nbformat.write(_course_notebook(number), paths[-1])
    build_site.build("site", paths, tmp_path / "site")
    return tmp_path / "site"


def test_site_index_lists_the_series(site):
    index = (site / "index.html").read_text()
    assert re.findall(r'<a href="(0\d_nb\.html)">', index) == [
        "01_nb.html", "02_nb.html", "03_nb.html"]
    assert "What notebook 2 teaches." in index and "Learning objectives" in index


def _links(page: Path, rel: str) -> list[str]:
    anchors = re.findall(r"<a [^>]*>", page.read_text())
    return [re.search(r'href="([^"]*)"', a).group(1) for a in anchors if f'rel="{rel}"' in a]


def test_site_pages_link_prev_next_and_have_alt(site):
    assert _links(site / "02_nb.html", "prev") == ["01_nb.html"] * 2  # top and bottom
    assert _links(site / "02_nb.html", "next") == ["03_nb.html"] * 2
    assert _links(site / "01_nb.html", "prev") == [] == _links(site / "03_nb.html", "next")
    middle = (site / "02_nb.html").read_text()
    images = re.findall(r"<img [^>]*>", middle)
    assert images and all('alt="Figure: Loss per epoch.' in img for img in images)


def test_site_loads_nothing_from_other_hosts(site):
    for page in site.glob("*.html"):
        text = page.read_text()
        loaded = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]*)"', text)
        loaded += re.findall(r"import\s+\w+\s+from\s+'([^']*)'", text)
        assert loaded and not [url for url in loaded if re.match(r"(https?:)?//", url)], page
