"""Slide metadata (scripts/slides.py), and the site and decks that scripts/build_site.py builds.

The site is built once here from the real notebooks with Sphinx (in a subprocess, as ``make site``
runs it) and read as files; tests/test_browser.py loads it in Chromium. Both need the npm assets
(``make assets``); without them these tests skip with that reason.
"""

import html
import re
import subprocess
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
ZH_NOTEBOOKS = sorted((ROOT / "notebooks" / "zh").glob("*.ipynb"))  # the Chinese edition
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
       "RU5ErkJggg==")
REMOTE = re.compile(r"^(https?:)?//", re.I)


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
        "slide", "-", "skip", "skip", "slide", "subslide", "-", "-",
        "subslide",   # a claim after a code cell: a slide of its own
        "-",          # its code (the first of two pieces) fits under it
        "subslide",   # code after code: one check per slide
        "subslide", "slide", "subslide", "-"]


def test_slide_text_keeps_the_claim_and_sends_the_rest_to_notes():
    shown, notes = slides.slide_text(
        "### 2.2 The loss\n\nThe squared loss of one prediction is\n\n$$\\ell = (y - \\hat y)^2 ,$$"
        "\n\nso the derivative is the error. More prose (J. Doe, *J. Econ. Rev.* 5).")
    assert shown == ("### 2.2 The loss\n\nThe squared loss of one prediction is\n\n"
                     "$$\\ell = (y - \\hat y)^2 ,$$")
    assert notes == "so the derivative is the error. More prose (J. Doe, *J. Econ. Rev.* 5)."
    assert slides.slide_text("**The gradient.** It is $X^\\top u / n$. Proof follows. Q.E.D.") == (
        "**The gradient.** It is $X^\\top u / n$.", "Proof follows. Q.E.D.")
    text = 'Data from Harrison, D. and "Hedonic prices. Air" (1978).'
    assert slides.first_sentence(text + " Then more.") == text
    shown, notes = slides.slide_text(
        "You can:\n\n- Fit a line. Then more.\n- Read curves.\n\nAside.")
    assert (shown, notes) == ("You can:\n\n- Fit a line.\n- Read curves.", "Aside.")
    marked = "## Title\n\nLong prose. <!-- slide -->The point.<!-- /slide --> More prose."
    assert slides.slide_text(marked) == ("## Title\n\nThe point.", "Long prose.  More prose.")
    assert slides.slide_text("<!-- notes -->\nSay this.") == ("", "Say this.")


def test_code_pieces_cut_at_statements_and_fit():
    blocks = ["\n".join(f"x{b}_{i} = {i}" for i in range(6)) for b in range(5)]  # 5 x 6 lines
    pieces = slides.code_pieces("\n\n".join(blocks))
    assert sorted(len(piece.splitlines()) for piece in pieces) == [6, 13, 13]  # at blank lines
    assert all(piece.startswith("x") for piece in pieces)
    method = "    def m{0}(self):\n" + "\n".join(f"        y = {{0}} + {i}" for i in range(5))
    source = "class A:\n" + "\n\n".join(method.format(k) for k in range(4))
    pieces = slides.code_pieces(source)
    assert len(pieces) == 2 and all(len(p.splitlines()) <= slides.CODE_LINES for p in pieces)
    assert pieces[1].startswith("    def m")  # a class cut between its methods
    assert slides.code_pieces("a = 1\nb = 2") == ["a = 1\nb = 2"]


def test_deck_cuts_cells_into_slides_and_notes():
    deck = slides.deck(_course_notebook())
    kinds = [(c.cell_type, c.metadata["slideshow"]["slide_type"]) for c in deck.cells]
    assert ("markdown", "notes") in kinds and ("code", "skip") not in kinds
    assert len({c.id for c in deck.cells}) == len(deck.cells)  # nbconvert needs unique ids
    long = [c for c in deck.cells if c.source.count("print(") > 1]
    assert [c.metadata["slideshow"]["slide_type"] for c in long] == ["-", "subslide"]
    assert sum(len(c.source.splitlines()) for c in long) == 30
    figure = [c for c in deck.cells if c.get("outputs")]
    assert len(figure) == 1 and figure[0].metadata["transient"] == {"remove_source": True}
    assert figure[0].metadata["slideshow"]["slide_type"] == "subslide"
    assert figure[0].outputs[0].metadata["slide_width"] == slides.FIGURE_HEIGHT  # 1x1 PNG
    notes = [c.source for c in deck.cells if c.metadata["slideshow"]["slide_type"] == "notes"]
    assert notes == ["It flattens after epoch 3."]


def test_apply_then_check(tmp_path):
    path = tmp_path / "nb.ipynb"
    nb = _course_notebook()
    nb.metadata["rise"] = {"scroll": True}  # RISE's scrolling slides: removed
    nbformat.write(nb, path)
    assert slides.main(["--check", str(path)]) == 1
    assert slides.main(["--apply", str(path)]) == 0
    text = path.read_text()
    assert slides.main(["--check", str(path)]) == 0
    assert slides.apply(path) is False and path.read_text() == text  # idempotent
    nb = nbformat.read(path, as_version=4)
    assert "rise" not in nb.metadata
    assert nb.cells[0].metadata["slideshow"] == {"slide_type": "slide"}
    assert nb.cells[0].source == _course_notebook().cells[0].source  # metadata only


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_notebook_has_slide_metadata(path):
    problems = slides.problems(nbformat.read(path, as_version=4))
    assert not problems, ("slide metadata differs from scripts/slides.py's rule; run "
                          "`python scripts/slides.py --apply notebooks/*.ipynb`:\n"
                          + "\n".join(problems[:10]))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_every_figure_cell_carries_alt_text(path):
    nb = nbformat.read(path, as_version=4)
    missing = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
               and any(key.startswith("image/") for out in cell.get("outputs", [])
                       for key in out.get("data", {}))
               and len(str(cell.metadata.get("alt", "")).strip()) < 20]
    assert not missing, f"{path.name}: figure cells without metadata 'alt' text: {missing}"


def test_figure_alt_is_the_cells_alt_metadata():
    nb = _course_notebook()
    nb.cells[10].metadata["alt"] = "Loss per epoch, falling and flat after epoch 3."
    assert build_site.figure_alt(nb, 10) == "Loss per epoch, falling and flat after epoch 3."
    del nb.cells[10].metadata["alt"]
    with pytest.raises(SystemExit, match="no metadata 'alt'"):
        build_site.figure_alt(nb, 10)


# The site, built from the real notebooks -----------------------------------------------------

def require_assets() -> None:
    """Skip, with the reason, where the npm assets are missing (``make test`` installs them)."""
    if not (build_site.NODE_MODULES / "mathjax" / "package.json").exists():
        pytest.skip("the site's npm assets are missing: run `make assets` (npm ci --prefix site)")


def build(kind: str, out: Path, notebooks=NOTEBOOKS) -> Path:
    """Run scripts/build_site.py as `make site` / `make slides` do; return the output folder."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_site.py"), kind,
                           "--out", str(out), *map(str, notebooks)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    require_assets()
    return build("site", tmp_path_factory.mktemp("web") / "site", NOTEBOOKS + ZH_NOTEBOOKS)


def _edition_links(page: Path) -> list[Path]:
    text = page.read_text(encoding="utf-8")
    return [(page.parent / href).resolve()
            for href in re.findall(r'class="edition-link"><a href="([^"]+)"', text)]


def test_both_editions_are_built_and_link_to_each_other(site):
    assert len(ZH_NOTEBOOKS) == len(NOTEBOOKS)
    for en_path, zh_path in zip(NOTEBOOKS, ZH_NOTEBOOKS):
        en_page = site / "notebooks" / f"{en_path.stem}.html"
        zh_page = site / "zh" / "notebooks" / f"{zh_path.stem}.html"
        assert _edition_links(en_page) == [zh_page.resolve()] and zh_page.exists()
        assert _edition_links(zh_page) == [en_page.resolve()]
        assert 'lang="zh-CN"' in zh_page.read_text(encoding="utf-8")[:500]
        zh_nb = nbformat.read(zh_path, as_version=4)
        title = next(c.source for c in zh_nb.cells if c.cell_type == "markdown"
                     and c.source.startswith("# ")).splitlines()[0][2:]
        assert html.escape(title, quote=False) in zh_page.read_text(encoding="utf-8")
    assert _edition_links(site / "index.html") == [(site / "zh" / "index.html").resolve()]
    assert _edition_links(site / "zh" / "index.html") == [(site / "index.html").resolve()]


def _page(site: Path, path: Path) -> str:
    return (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")


def _loaded(text: str) -> list[str]:
    """What a page loads: script, stylesheet, image, frame and media sources (not <a> links)."""
    tags = re.findall(r"<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*>", text)
    return [m.group(2) for tag in tags for m in re.finditer(r'\b(src|href)="([^"]*)"', tag)
            if not (tag.startswith("<link") and re.search(r'rel="(prev|next|index|search)"', tag))]


def test_one_page_per_notebook_with_its_stored_outputs(site):
    pages = sorted(p.name for p in (site / "notebooks").glob("*.html"))
    assert pages == [p.stem + ".html" for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        nb, page = nbformat.read(path, as_version=4), html.unescape(_page(site, path))
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
                lines = [line.strip() for line in text.splitlines() if line.strip()]
                if output.output_type == "stream" and lines:  # shown as stored, not re-run
                    assert lines[0] in page and lines[-1] in page, (path.name, lines[0])
        images = re.findall(r"<img [^>]*>", _page(site, path))
        stored = sum(1 for cell in nb.cells for output in cell.get("outputs", [])
                     if any(key.startswith("image/") for key in output.get("data", {})))
        assert len(images) == stored, path.name
        alts = [html.unescape(re.search(r'alt="([^"]*)"', img).group(1)) for img in images]
        expected = [cell.metadata["alt"] for cell in nb.cells for output in cell.get("outputs", [])
                    if any(key.startswith("image/") for key in output.get("data", {}))]
        assert alts == expected, path.name


def test_math_is_mathjax_3_from_the_site_itself(site):
    mathjax = site / "_static" / "mathjax" / "es5" / "tex-chtml-full.js"
    assert 'VERSION="3.2.2"' in mathjax.read_text(encoding="utf-8")  # what JupyterLab 4.6 runs
    for page in [site / "index.html", site / "search.html", *(site / "notebooks").glob("*.html")]:
        scripts = [src for src in _loaded(page.read_text(encoding="utf-8")) if "mathjax" in src]
        assert len(scripts) == 1, (page.name, scripts)
        assert (page.parent / scripts[0].split("?")[0]).resolve() == mathjax.resolve()
    config = re.search(r"window\.MathJax = (\{.*?\})</script>", _page(site, NOTEBOOKS[0]))
    assert config and '"inlineMath": [["$", "$"]' in config.group(1)  # as in JupyterLab


def test_nothing_loads_from_another_host(site):
    pages = list(site.rglob("*.html"))
    assert len(pages) >= len(NOTEBOOKS) + 3
    for page in pages:
        loaded = _loaded(page.read_text(encoding="utf-8"))
        assert loaded and not [url for url in loaded if REMOTE.match(url)], page
    for sheet in site.rglob("*.css"):
        urls = re.findall(r"""(?:url\(|@import\s+)["']?([^"')\s]+)""", sheet.read_text())
        assert not [url for url in urls if REMOTE.match(url)], sheet


def test_search_page_and_index(site):
    assert 'id="search-results"' in (site / "search.html").read_text(encoding="utf-8")
    index = (site / "searchindex.js").read_text(encoding="utf-8")
    for word in ("jacobian", "backpropag", "minibatch", "huber"):
        assert f'"{word}' in index, word  # stems of words from the notebooks


def test_each_page_links_its_notebook_for_download(site):
    for path in NOTEBOOKS:
        link = f'href="../_sources/notebooks/{path.name}"'
        assert link in _page(site, path), path.name
        assert (site / "_sources" / "notebooks" / path.name).read_bytes() == path.read_bytes()


def test_tables_keep_their_columns(site):
    page = _page(site, NOTEBOOKS[0])  # 01: the table of the chain rule's three cases
    table = re.search(r"<table.*?</table>", page, re.S).group(0)
    rows = re.findall(r"<tr.*?</tr>", table, re.S)
    widths = [len(re.findall(r"<t[hd]\b", row)) for row in rows]
    assert len(rows) == 4 and set(widths) == {6}, widths


def test_decks_of_both_editions_link_to_each_other(tmp_path):
    require_assets()
    out = build("slides", tmp_path / "slides", [NOTEBOOKS[0], ZH_NOTEBOOKS[0]])
    en = out / f"{NOTEBOOKS[0].stem}.slides.html"
    zh = out / "zh" / f"{ZH_NOTEBOOKS[0].stem}.slides.html"
    assert _edition_links(en) == [zh.resolve()] and _edition_links(zh) == [en.resolve()]
    assert "链式法则" in zh.read_text(encoding="utf-8")
    for url in _loaded(zh.read_text(encoding="utf-8")):
        assert url.startswith("data:") or (zh.parent / url.split("?")[0]).is_file(), url


def test_slides_load_only_their_own_files(tmp_path):
    require_assets()
    out = build("slides", tmp_path / "slides", NOTEBOOKS[:1])
    deck = (out / f"{NOTEBOOKS[0].stem}.slides.html").read_text(encoding="utf-8")
    loaded = _loaded(deck)
    assert not [url for url in loaded if REMOTE.match(url)], loaded
    for url in loaded:
        assert url.startswith("data:") or (out / url.split("?")[0]).is_file(), url
    assert "_static/mathjax/es5/tex-chtml-full.js" in loaded
    assert "_static/reveal.js/dist/reveal.js" in deck
    assert "width: 1280, height: 720" in deck and "RevealNotes" in deck
    assert '<aside class="notes">' in deck
    assert not re.search(r"class=\"jp-InputPrompt|In&nbsp;\[\d*\]:", deck)  # --no-prompt


def test_deck_keeps_stored_cuts_and_cuts_where_a_translation_grows():
    """A translated notebook carries its source's slide types (its Setup section is not called
    "Setup"); where its text makes a continued slide too tall, the deck starts a subslide."""
    cells = [new_markdown_cell("# 标题"), new_markdown_cell("## 准备工作"),
             new_code_cell("import torch"), new_markdown_cell("## 第一节\n\n短的一句。"),
             new_markdown_cell("很长的一句话，" * 150 + "于是：\n\n$$x$$")]  # shown whole
    for cell, kind in zip(cells, ["slide", "skip", "skip", "slide", "-"]):
        cell.metadata["slideshow"] = {"slide_type": kind}
    deck = slides.deck(new_notebook(cells=cells))
    kinds = [c.metadata["slideshow"]["slide_type"] for c in deck.cells]
    assert "import torch" not in [c.source for c in deck.cells]  # Setup stays skipped
    assert kinds[:3] == ["slide", "slide", "subslide"], kinds
