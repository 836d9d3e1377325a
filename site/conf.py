"""Sphinx configuration of the course site (`make site`; scripts/build_site.py stages the sources).

The notebooks are shown with the outputs stored in them (myst-nb never executes them here), in
sphinx-book-theme, and everything a page loads is in the built folder: MathJax 3 from npm (see
site/package.json), the theme's own fonts and scripts, Sphinx's search index. No page fetches
anything from another host.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

project = "Automatic differentiation and linear regression, in PyTorch"
author = "the course authors, after Dive into Deep Learning (d2l.ai)"
copyright = "the course authors; prose CC BY-SA 4.0, code MIT"
language = "en"  # a second edition is a second build with -D language=zh_CN

extensions = ["myst_nb", "course_site"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# Notebooks: stored outputs, never re-executed; no ipywidgets JavaScript from a CDN.
nb_execution_mode = "off"
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
myst_heading_slug_func = "course_site.jupyterlab_slug"  # `[...](#The-short-last-batch)` works
suppress_warnings = ["mystnb.unknown_mime_type"]

# Math as JupyterLab 4.6 renders it: MathJax 3.2.2 with every TeX package, `$`/`$$` delimiters
# found anywhere in the page text (not only inside MyST's math nodes), escapes processed. So a
# markdown cell that looks wrong in JupyterLab (e.g. `\$` money, whose backslash the markdown
# renderer drops) looks just as wrong here, and the browser test sees it.
mathjax_path = "mathjax/es5/tex-chtml-full.js"  # relative to _static; staged from site/node_modules
mathjax3_config = {
    "tex": {"inlineMath": [["$", "$"], ["\\(", "\\)"]],
            "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
            "processEscapes": True, "processEnvironments": True},
}
myst_update_mathjax = False  # keep the settings above (myst would limit MathJax to math nodes)

html_theme = "sphinx_book_theme"
html_title = "Autodiff and linear regression"
html_favicon = "favicon.svg"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_sourcelink_suffix = ""  # the download link serves notebooks/NN_name.ipynb itself
html_last_updated_fmt = None
html_theme_options = {
    "use_download_button": True,
    "navbar_persistent": [],  # search is in the sidebar; pydata 0.20 would add a second box
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
html_context = {"default_mode": "light"}  # figures are drawn on white; the top button switches
