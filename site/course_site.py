"""The course site's Sphinx glue (an extension, listed in site/conf.py)."""


def jupyterlab_slug(text: str) -> str:
    """A heading's anchor as JupyterLab makes it: its text with spaces turned into hyphens."""
    return text.replace(" ", "-")


def setup(app):
    # MathJax on every page, as in JupyterLab, not only on pages where MyST found math: a pair of
    # stray dollars then shows here exactly as it shows there.
    app.set_html_assets_policy("always")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
