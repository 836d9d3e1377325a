"""Build the static site (``make site``) and the reveal.js slide decks (``make slides``).

Usage:
    python scripts/build_site.py site   [--out build/site]   [notebooks/*.ipynb]
    python scripts/build_site.py slides [--out build/slides] [notebooks/*.ipynb]

Both use the outputs stored in the notebooks (nothing is re-executed) and nbconvert's own
exporters: ``HTMLExporter`` with the ``lab`` template for the site, ``SlidesExporter`` (what
``jupyter nbconvert --to slides`` runs) for the decks, cut by the slide metadata that
``scripts/slides.py --apply`` writes.

Everything a page loads is local, so the site and the decks work offline and from a file
server: nbconvert's defaults load MathJax, require.js, jQuery, mermaid and reveal.js from CDNs.
Those files come from the npm registry instead, as the exact package versions in ``ASSETS``
(``npm pack``, then checked against the pinned sha512), cached in ``build/vendor`` and copied
into ``<out>/_static``. MathJax is 2.7.9 because nbconvert's templates configure MathJax 2
(``MathJax.Hub``); only its CommonHTML output with the TeX web fonts is copied (about 6 MB, not
63). reveal.js is 4.6.1, the last 4.x, the major version nbconvert's reveal template is written
for. Mermaid is not loaded (the course has no mermaid cells).

The site adds to nbconvert's pages: an index (the series, each notebook's title, overview and
objectives, taken from its first cells), previous/next links on every page, and alt text on
every figure. Output images have none in Jupyter, so each gets ``figure_alt``: the title that the
cell's code gives the plot, then the first sentences of the markdown cell after it (or before
it) that describe it.
"""

import argparse
import base64
import hashlib
import html
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter, SlidesExporter
from nbconvert.filters.markdown import markdown2html

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "build" / "vendor"

# npm package -> (version, sha512 integrity as the npm registry publishes it)
ASSETS = {
    "mathjax": ("2.7.9", "NOGEDTIM9+MrsqnjPEjVGNx4q0GQxqm61yQwSK+/5S59i26wId5IC5gNu9/bu8+CC"
                         "Vl5p9G2IHcAl/wJa+5+BQ=="),
    "reveal.js": ("4.6.1", "1CW0auaXNPmwmvQ7TwpszwVxMi2Xr5cTS3J3EBC/HHgbPF32Dn7aiu/LKWDOGjMbaD"
                           "wKQiGmfqcoGQ74HUHCMw=="),
    "requirejs": ("2.3.7", "DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhB"
                           "a0JPVHJ0pyBkM1z+pDsw=="),
    "jquery": ("3.7.1", "m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdA"
                        "DVD7CkUUizgkpLfg=="),
}
# What of each package a page needs (globs inside the package folder).
ASSET_FILES = {
    "mathjax": ["MathJax.js", "LICENSE", "config/TeX-AMS_CHTML-full.js", "config/Safe.js",
                "extensions/**/*",
                "jax/input/TeX/**/*", "jax/element/**/*", "jax/output/CommonHTML/**/*",
                "fonts/HTML-CSS/TeX/woff/**/*", "localization/**/*"],
    "reveal.js": ["LICENSE", "dist/reveal.js", "dist/reveal.css", "dist/theme/*.css",
                  "dist/theme/fonts/**/*", "plugin/notes/notes.js"],
    "requirejs": ["require.js"],
    "jquery": ["LICENSE.txt", "dist/jquery.min.js"],
}
MATHJAX_URL = "_static/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
NO_FAVICON = '<link rel="icon" href="data:,">'  # no request for /favicon.ico (a 404 in the log)

# Shared by the site and slide templates: figure alt text, no mermaid, no favicon request.
_COMMON_BLOCKS = """
{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}
{% block html_head_css %}{{ super() }}""" + NO_FAVICON + """{{ resources.course_css }}
{% endblock html_head_css %}
{% macro alt(output) -%}
<img alt="{{ output.metadata.get('alt', '') | escape_html }}" {% endmacro %}
{% block data_png scoped %}{{ super() | replace('<img ', alt(output), 1) }}{% endblock data_png %}
{% block data_jpg scoped %}{{ super() | replace('<img ', alt(output), 1) }}{% endblock data_jpg %}
{% block data_svg scoped %}{{ super() | replace('<img ', alt(output), 1) }}{% endblock data_svg %}
"""
TEMPLATES = {
    "course_site.html.j2": "{%- extends 'lab/index.html.j2' -%}" + _COMMON_BLOCKS + """
{% block body_header %}{{ super() }}{{ resources.course_nav }}{% endblock body_header %}
{% block body_footer %}{{ resources.course_nav }}{{ super() }}{% endblock body_footer %}
""",
    # The deck's Reveal object as window.Reveal (require.js keeps it private), for tests and
    # presenters' consoles.
    "course_slides.html.j2": "{%- extends 'reveal/index.html.j2' -%}" + _COMMON_BLOCKS + """
{% block footer_js %}{{ super() }}
<script>
require(["{{ resources.reveal.url_prefix }}/dist/reveal.js"], function (Reveal) {
  window.Reveal = Reveal;
});
</script>
{% endblock footer_js %}
""",
}
SITE_CSS = """<style>
nav.course-nav { display: flex; justify-content: space-between; gap: 1em; padding: 0.6em 1em;
  margin: 0.5em 0; border-top: 1px solid #ccc; border-bottom: 1px solid #ccc; font-size: 15px; }
nav.course-nav a { text-decoration: none; }
</style>"""
# Code in the decks at 16px instead of nbconvert's 19px: a 100-character line (the course's
# limit) then fits the 960px slide.
SLIDES_CSS = "<style>:root { --jp-code-font-size: 16px; }</style>"
INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{favicon}
<style>
body {{ font-family: system-ui, sans-serif; max-width: 50em; margin: 2em auto; padding: 0 1em;
  line-height: 1.5; color: #222; }}
li.notebook {{ margin-bottom: 1.5em; }}
li.notebook > a {{ font-size: 1.2em; font-weight: 600; }}
</style>
<script src="{mathjax}"></script>
</head>
<body>
<main>
<h1>{title}</h1>
{intro}
<p>Work through the notebooks in order. Each page shows a notebook with the outputs its code
produced; the notebooks themselves, to run and change, are in the course repository.</p>
<ol class="series">
{items}
</ol>
</main>
</body>
</html>
"""


def _integrity(path: Path) -> str:
    return base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def vendor(name: str) -> Path:
    """The unpacked npm package ``name`` at its pinned version (downloaded once, then cached)."""
    version, integrity = ASSETS[name]
    folder = VENDOR / f"{name}-{version}"
    if (folder / "package.json").exists():
        return folder
    VENDOR.mkdir(parents=True, exist_ok=True)
    tarball = VENDOR / f"{name}-{version}.tgz"
    if not tarball.exists():
        if shutil.which("npm") is None:
            raise SystemExit(f"npm is needed once to fetch {name}@{version} into {VENDOR}")
        subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", str(VENDOR),
                        "--silent"], check=True, stdout=subprocess.DEVNULL)
    if _integrity(tarball) != integrity:
        tarball.unlink()
        raise SystemExit(f"{name}@{version}: the downloaded tarball's sha512 is not the pinned one")
    staging = VENDOR / f"{name}-{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(staging, filter="data")
    (staging / "package").rename(folder)
    staging.rmdir()
    return folder


def copy_assets(static: Path, names: list[str]) -> None:
    """Copy the files a page needs from each vendored package into ``static/<name>``."""
    for name in names:
        source, target = vendor(name), static / name
        shutil.rmtree(target, ignore_errors=True)
        for pattern in ASSET_FILES[name]:
            for path in source.glob(pattern):
                if path.is_file():
                    destination = target / path.relative_to(source)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, destination)


def _plain(markdown: str) -> str:
    """Markdown as one line of plain text (for alt attributes)."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", markdown)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\$\$?|\\[()\[\]]|[*`#>{}]", "", text)
    text = re.sub(r"\\[,;:! ]", " ", text)           # TeX spacing
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)     # \eta -> eta
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", "", text)  # _emphasis_, keep x_max
    return " ".join(text.split())


def _sentences(text: str, limit: int = 300) -> str:
    """The first sentences of ``text`` that fit in ``limit`` characters (at least one)."""
    parts = re.split(r"(?<=[.!?])\s+", text)
    kept = parts[0]
    for part in parts[1:]:
        if len(kept) + 1 + len(part) > limit:
            break
        kept += " " + part
    return kept[:limit]


_TITLE = re.compile(r"""(?:(?:set_title|suptitle|title)\(\s*|\btitle\s*=\s*)"""
                    r"""[rf]?(["'])(.+?)\1""")
_DESCRIBES = re.compile(r"\b(figure|plot|graph|curve|shows?|drawn|draws|axis|axes)\b", re.I)


def figure_alt(nb, index: int) -> str:
    """Alt text for the image outputs of code cell ``index``: its plot title and description."""
    cell = nb.cells[index]
    if isinstance(cell.metadata.get("alt"), str):
        return cell.metadata["alt"]
    titles = [_plain(match.group(2)) for match in _TITLE.finditer(cell.source)]
    beside = [nb.cells[i] for i in (index + 1, index - 1)
              if 0 <= i < len(nb.cells) and nb.cells[i].cell_type == "markdown"]
    describing = [c for c in beside if _DESCRIBES.search(c.source)] or beside
    description = _sentences(_plain(describing[0].source)) if describing else ""
    title = "Figure: " + "; ".join(titles) + "." if titles else "Figure."
    return f"{title} {description}".strip()


def add_alt_text(nb) -> None:
    """Store ``figure_alt`` in the metadata of every image output (in memory only)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if any(key.startswith("image/") for key in output.get("data", {})):
                output.setdefault("metadata", {})["alt"] = figure_alt(nb, index)


def notebook_title(nb, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            return cell.source.lstrip().splitlines()[0][2:].strip()
    return path.stem


def _overview(nb) -> str:
    """The title cell's text after its heading, and the learning objectives, as markdown."""
    parts = []
    for cell in nb.cells[:4]:
        if cell.cell_type != "markdown":
            continue
        source = cell.source.strip()
        if source.startswith("# "):
            parts.append(source.split("\n", 1)[1].strip() if "\n" in source else "")
        elif source.lower().startswith("**learning objectives"):
            parts.append(source)
    return "\n\n".join(part for part in parts if part)


def _nav(pages: list[tuple[str, str]], position: int) -> str:
    links = []
    if position > 0:
        href, title = pages[position - 1]
        links.append(f'<a rel="prev" href="{href}">← {html.escape(title)}</a>')
    else:
        links.append("<span></span>")
    links.append('<a href="index.html">Contents</a>')
    if position + 1 < len(pages):
        href, title = pages[position + 1]
        links.append(f'<a rel="next" href="{href}">{html.escape(title)} →</a>')
    else:
        links.append("<span></span>")
    return f'<nav class="course-nav" aria-label="Course pages">{"".join(links)}</nav>'


def _exporter(kind: str):
    loader = jinja2.DictLoader(TEMPLATES)
    common = {"mathjax_url": MATHJAX_URL, "require_js_url": "_static/requirejs/require.js",
              "jquery_url": "_static/jquery/dist/jquery.min.js", "extra_loaders": [loader]}
    if kind == "site":
        return HTMLExporter(template_name="lab", template_file="course_site.html.j2", **common)
    return SlidesExporter(template_name="reveal", template_file="course_slides.html.j2",
                          reveal_url_prefix="_static/reveal.js", reveal_theme="white",
                          reveal_scroll=True, **common)


def build(kind: str, notebooks: list[Path], out: Path) -> list[Path]:
    """Write the site or the decks for ``notebooks`` into ``out``; return the pages written."""
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out / "_static", ["mathjax", "requirejs"]
                + (["jquery", "reveal.js"] if kind == "slides" else []))
    books = [(path, nbformat.read(path, as_version=4)) for path in sorted(notebooks)]
    suffix = ".html" if kind == "site" else ".slides.html"
    pages = [(path.stem + suffix, notebook_title(nb, path)) for path, nb in books]
    exporter = _exporter(kind)
    written = []
    for position, (path, nb) in enumerate(books):
        add_alt_text(nb)
        nb.metadata["title"] = pages[position][1]
        css = SITE_CSS if kind == "site" else SLIDES_CSS
        resources = {"course_nav": _nav(pages, position), "course_css": css,
                     "metadata": {"name": path.stem}}
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        target = out / pages[position][0]
        target.write_text(body, encoding="utf-8")
        written.append(target)
    if kind == "site":
        written.append(write_index(out, books, pages))
    return written


def write_index(out: Path, books, pages) -> Path:
    readme = ROOT / "README.md"
    first = readme.read_text(encoding="utf-8").splitlines()[0] if readme.exists() else ""
    title = first[2:].strip() if first.startswith("# ") else "Course notebooks"
    items = []
    for (path, nb), (href, name) in zip(books, pages):
        items.append(f'<li class="notebook"><a href="{href}">{html.escape(name)}</a>\n'
                     f"{markdown2html(_overview(nb))}</li>")
    intro = ("<p>A short course in Jupyter notebooks, after the &ldquo;Dive into Deep Learning"
             "&rdquo; lectures: every formula is stated in mathematics and checked in code right "
             "after it.</p>")
    page = INDEX.format(title=html.escape(title), favicon=NO_FAVICON, mathjax=MATHJAX_URL,
                        intro=intro, items="\n".join(items))
    target = out / "index.html"
    target.write_text(page, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["site", "slides"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, help="output folder (default build/site, build/slides)")
    args = parser.parse_intermixed_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    out = args.out or ROOT / "build" / args.kind
    for page in build(args.kind, notebooks, out):
        print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
