"""Build the course site (``make site``) and the reveal.js slide decks (``make slides``).

Usage:
    python scripts/build_site.py site   [--out build/site]   [notebooks/*.ipynb notebooks/zh/*.ipynb]
    python scripts/build_site.py slides [--out build/slides] [notebooks/*.ipynb notebooks/zh/*.ipynb]

Both editions are built, the Chinese one into ``zh/`` under the English one, each page, deck and
index linking to its counterpart.

The site is Sphinx with myst-nb and sphinx-book-theme, configured in ``site/conf.py``; the decks
are nbconvert's ``SlidesExporter`` on ``scripts/slides.py``'s cut of each notebook (slide text,
speaker notes, code in pieces, figures on slides of their own), with no prompts, on a 1280x720
canvas. Both show the outputs stored in the notebooks: nothing is re-executed.

What the tools do not give, and this script does:

- the Sphinx source folder: ``site/`` plus the notebooks, each figure cell given alt text
  (``figure_alt``: the figure cell's ``alt`` metadata; Jupyter stores no alt text of its own),
  and MathJax 3 copied from ``site/node_modules`` (``npm ci --prefix site``, versions and hashes
  in ``site/package-lock.json``);
- the download link serving the repository's notebook itself, not the staged copy;
- for the decks, every script local (nbconvert's defaults load MathJax 2, require.js, jQuery and
  reveal.js from CDNs) and MathJax 3 configured as JupyterLab configures it.
"""

import argparse
import shutil
import sys
from pathlib import Path

import jinja2
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slides  # noqa: E402  (scripts/slides.py: the slide rule)

ROOT = Path(__file__).resolve().parent.parent
SITE_CONFIG = ROOT / "site"
NODE_MODULES = SITE_CONFIG / "node_modules"

# What a page needs of each npm package (globs inside the package folder).
ASSETS = {
    "mathjax": ["LICENSE", "es5/tex-chtml-full.js", "es5/input/tex/extensions/**/*",
                "es5/output/chtml/fonts/woff-v2/*", "es5/ui/**/*", "es5/a11y/**/*", "es5/sre/**/*"],
    "reveal.js": ["LICENSE", "dist/reveal.js", "dist/reveal.css", "dist/theme/*.css",
                  "dist/theme/fonts/**/*", "plugin/notes/notes.js"],
    "requirejs": ["require.js"],
    "jquery": ["LICENSE.txt", "dist/jquery.min.js"],
}
# MathJax as JupyterLab 4.6 configures it (every TeX package, `$` delimiters, escapes); it
# typesets every slide once at load.
MATHJAX_CONFIG = """<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']],
  displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
  processEscapes: true, processEnvironments: true}};
</script>
<script defer src="_static/mathjax/es5/tex-chtml-full.js"></script>"""
# The decks' canvas and type. reveal.js scales the 1280x720 canvas to the window (by 1/1.02 at a
# 1280x720 window, for its margin), so 24 px body text shows at 23.5 px and 19 px code at 18.6 px:
# at least the 22 and 18 px the slide test asks for. Code and text outputs wrap rather than run
# off the slide; tables keep their columns; a figure takes the width scripts/slides.py gives it.
SLIDE_WIDTH, SLIDE_HEIGHT, SLIDE_MARGIN = 1280, 720, 0.02
BODY_PX, CODE_PX = 24, 19
SLIDES_CSS = f"""
:root {{ --jp-code-font-size: {CODE_PX}px; --jp-content-font-size1: {BODY_PX}px;
         --jp-ui-font-size1: {BODY_PX}px; --jp-code-line-height: 1.3; }}
.reveal {{ font-size: {BODY_PX}px; }}
.reveal .slides section {{ padding: 0; }}
.reveal .jp-RenderedHTMLCommon {{ font-size: {BODY_PX}px; line-height: 1.4; padding-right: 0; }}
.reveal .jp-MarkdownOutput.jp-RenderedHTMLCommon {{ overflow: visible; }}
.reveal .jp-RenderedHTMLCommon :is(p, li) {{ font-size: {BODY_PX}px; line-height: 1.4;
                                             margin: 0 0 0.35em 0; }}
.reveal .jp-RenderedHTMLCommon h1 {{ font-size: 44px; line-height: 1.3; margin: 0 0 0.4em; }}
.reveal .jp-RenderedHTMLCommon h2 {{ font-size: 36px; line-height: 1.3; margin: 0 0 0.4em; }}
.reveal .jp-RenderedHTMLCommon h3 {{ font-size: 30px; line-height: 1.3; margin: 0 0 0.3em; }}
.reveal .jp-RenderedHTMLCommon h4 {{ font-size: 26px; line-height: 1.3; margin: 0 0 0.3em; }}
.reveal .jp-RenderedHTMLCommon :is(h1, h2, h3, h4) {{ text-transform: none; }}
.reveal .jp-RenderedHTMLCommon code {{ font-size: {CODE_PX}px; }}
.reveal .jp-RenderedHTMLCommon table {{ font-size: {BODY_PX}px; table-layout: auto;
                                        margin: 0.3em 0; }}
.reveal .jp-RenderedHTMLCommon :is(td, th) {{ padding: 0.2em 0.5em; }}
.reveal .jp-OutputArea .jp-RenderedHTMLCommon table {{ font-size: {CODE_PX}px; }}
.reveal .jp-Cell {{ padding: 0.2em 0; }}
.reveal .highlight {{ margin: 0; }}
.reveal pre, .reveal .highlight > pre, .reveal div.jp-OutputArea-output > pre {{
  font-size: {CODE_PX}px; line-height: 1.3; white-space: pre-wrap; overflow-wrap: anywhere;
  width: 100%; box-sizing: border-box; margin: 0; }}
.reveal .jp-OutputArea-output img {{ display: block; margin: 0 auto; max-width: 100%;
                                     height: auto; max-height: {SLIDE_HEIGHT - 60}px; }}
"""
SLIDES_TEMPLATE = """{%- extends 'reveal/index.html.j2' -%}
{% block html_head_js_mathjax %}""" + MATHJAX_CONFIG + """{% endblock html_head_js_mathjax %}
{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}
{% block html_head_css %}{{ super() }}<link rel="icon" href="data:,">
<style>""" + SLIDES_CSS + """</style>
{% endblock html_head_css %}
{% macro alt(output) -%}
<img alt="{{ output.metadata.get('alt', '') | escape_html }}" {% if output.metadata.slide_width -%}
width="{{ output.metadata.slide_width }}" {% endif %}{% endmacro %}
{% block data_png scoped %}{{ super() | replace('<img ', alt(output), 1) }}{% endblock data_png %}
{% block data_jpg scoped %}{{ super() | replace('<img ', alt(output), 1) }}{% endblock data_jpg %}
{% block data_svg scoped %}{{ super() | replace('<img ', alt(output), 1) }}{% endblock data_svg %}
{% block footer_js %}
<script>
require(["{{ resources.reveal.url_prefix }}/dist/reveal.js",
         "{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"],
        function (Reveal, RevealNotes) {
  Reveal.initialize({controls: true, progress: true, history: true, slideNumber: "c/t",
                     transition: "slide", plugins: [RevealNotes], """ + (
    f"width: {SLIDE_WIDTH}, height: {SLIDE_HEIGHT}, margin: {SLIDE_MARGIN}") + """});
  window.Reveal = Reveal;  // for tests and presenters' consoles (require.js keeps it private)
});
</script>
{% endblock footer_js %}
"""


def copy_assets(static: Path, names: list[str]) -> None:
    """Copy the files a page needs from each npm package into ``static/<name>``."""
    for name in names:
        source, target = NODE_MODULES / name, static / name
        if not (source / "package.json").exists():
            raise SystemExit(f"{source} is missing: run `npm ci --prefix site` (or `make assets`)")
        shutil.rmtree(target, ignore_errors=True)
        for pattern in ASSETS[name]:
            for path in source.glob(pattern):
                if path.is_file():
                    destination = target / path.relative_to(source)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, destination)


def figure_alt(nb, index: int) -> str:
    """Alt text for the image outputs of code cell ``index``: the cell's ``alt`` metadata, which
    every figure cell carries (tests/test_site_slides.py checks it)."""
    alt = nb.cells[index].metadata.get("alt")
    if not isinstance(alt, str) or not alt.strip():
        raise SystemExit(f"code cell {index} draws a figure but has no metadata 'alt' text")
    return alt


def _figure_cells(nb):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(
                key.startswith("image/") for output in cell.get("outputs", [])
                for key in output.get("data", {})):
            yield index, cell


# The two editions: notebooks/ (English) and notebooks/zh/ (Chinese, scripts/i18n.py). Each
# page, deck and index links to its counterpart in the other edition; the Chinese site and decks
# are built into zh/ under the English ones.
EDITIONS = {"en": ("notebooks", "", "English", "en"), "zh": ("notebooks/zh", "zh", "中文版", "zh_CN")}
ZH_SETTINGS = {"html_title": "自动微分与线性回归", "project": "自动微分与线性回归（PyTorch实现）",
               "author": "课程作者，依据《动手学深度学习》（zh.d2l.ai）",
               "copyright": "课程作者；正文CC BY-SA 4.0，代码MIT"}


def edition_of(path: Path) -> str:
    return "zh" if path.parent.name == "zh" else "en"


def edition_link(language: str, href: str) -> str:
    """A link to the other edition, as a markdown cell's raw HTML."""
    other = "en" if language == "zh" else "zh"
    label = EDITIONS[other][2]
    return (f'<p class="edition-link"><a href="{href}" hreflang="{other}" lang="{other}">'
            f"{label}</a></p>")


def build_site(notebooks: list[Path], out: Path) -> Path:
    """Stage ``site/`` and the notebooks, run Sphinx into ``out``; return the index page. The
    Chinese notebooks among ``notebooks`` are built as a second site in ``out/zh``."""
    from sphinx.cmd.build import build_main

    shutil.rmtree(out, ignore_errors=True)
    for language in ("en", "zh"):
        chosen = [path for path in notebooks if edition_of(path) == language]
        if not chosen:
            continue
        target = out / EDITIONS[language][1]
        source = out.parent / f"{out.name}-source-{language}"
        shutil.rmtree(source, ignore_errors=True)
        shutil.copytree(SITE_CONFIG, source, ignore=shutil.ignore_patterns(
            "node_modules", "package*.json", "__pycache__", "index*.md"))
        index = (SITE_CONFIG / ("index.zh.md" if language == "zh" else "index.md")).read_text()
        other_index = "../index.html" if language == "zh" else "zh/index.html"
        (source / "index.md").write_text(
            index.replace("\n\n", f"\n\n{edition_link(language, other_index)}\n\n", 1))
        copy_assets(source / "_static", ["mathjax"])
        (source / "notebooks").mkdir()
        for path in chosen:
            nb = nbformat.read(path, as_version=4)
            for index_, cell in _figure_cells(nb):  # myst-nb's cell-level image options
                cell.metadata.setdefault("mystnb", {}).setdefault("image", {})["alt"] = (
                    figure_alt(nb, index_))
            other = "../../notebooks/" if language == "zh" else "../zh/notebooks/"
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                edition_link(language, f"{other}{path.stem}.html")))
            nbformat.write(nb, source / "notebooks" / path.name)
        status = build_main(["-b", "html", "-q", "-W", "--keep-going",
                             "-D", f"language={EDITIONS[language][3]}",
                             *(f"-D{k}={v}" for k, v in ZH_SETTINGS.items() if language == "zh"),
                             "-d",
                             str(out.parent / f"{out.name}-doctrees-{language}"),
                             str(source), str(target)])
        if status:
            raise SystemExit(f"sphinx-build failed ({status})")
        for path in chosen:  # the download link: the repository's notebook, byte for byte
            shutil.copyfile(path, target / "_sources" / "notebooks" / path.name)
    return out / "index.html"


def build_slides(notebooks: list[Path], out: Path) -> list[Path]:
    """One reveal.js deck per notebook in ``out``, loading only files under ``out``."""
    from nbconvert import SlidesExporter

    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out / "_static", ["mathjax", "requirejs", "jquery", "reveal.js"])
    exporter = SlidesExporter(
        template_name="reveal", template_file="course_slides.html.j2",
        extra_loaders=[jinja2.DictLoader({"course_slides.html.j2": SLIDES_TEMPLATE})],
        require_js_url="_static/requirejs/require.js",
        jquery_url="_static/jquery/dist/jquery.min.js",
        reveal_url_prefix="_static/reveal.js", reveal_theme="white",
        exclude_input_prompt=True, exclude_output_prompt=True)
    written = []
    for path in notebooks:
        language = edition_of(path)
        target = out / EDITIONS[language][1]
        if language == "zh":
            copy_assets(target / "_static", ["mathjax", "requirejs", "jquery", "reveal.js"])
        nb = nbformat.read(path, as_version=4)
        for index, cell in _figure_cells(nb):
            for output in cell.outputs:
                output.setdefault("metadata", {})["alt"] = figure_alt(nb, index)
        deck = slides.deck(nb)
        other = "../" if language == "zh" else "zh/"  # on the title slide
        deck.cells[0].source += "\n\n" + edition_link(language, f"{other}{path.stem}.slides.html")
        body, _ = exporter.from_notebook_node(deck, resources={"metadata": {"name": path.stem}})
        written.append(target / f"{path.stem}.slides.html")
        written[-1].write_text(body, encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["site", "slides"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, help="output folder (default build/site, build/slides)")
    args = parser.parse_intermixed_args(argv)
    notebooks = sorted(args.notebooks or [*(ROOT / "notebooks").glob("*.ipynb"),
                                          *(ROOT / "notebooks" / "zh").glob("*.ipynb")])
    out = (args.out or ROOT / "build" / args.kind).resolve()
    if args.kind == "site":
        print(f"wrote {build_site(notebooks, out)}")
    else:
        for page in build_slides(notebooks, out):
            print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
