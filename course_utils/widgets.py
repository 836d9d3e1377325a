"""Sliders that redraw a figure in a running notebook, and a plain figure everywhere else.

``slider_figure`` displays the sliders, then the figure drawn at their starting values as an
ordinary PNG output; each move of a slider redraws the figure and replaces that PNG in place
(an ``update_display_data`` message, so no output is added). A run without a browser (nbval,
nbconvert, the static site and slides) therefore stores the default figure as an ordinary image,
and the sliders as one fixed line of text naming them and their starting values. No widget state
is needed to read the stored notebook.
"""

import uuid
from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
from IPython.core.pylabtools import print_figure
from IPython.display import display
from ipywidgets import HBox, Layout, ValueWidget
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_utils.i18n import _

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def figure_bundle(fig: Figure) -> dict[str, str]:
    """``fig`` as a display bundle: a PNG of the whole figure, and its repr as the text.

    Not cropped to its contents as the inline backend does (``bbox_inches="tight"``): a crop
    draws the figure twice at two sizes, each time with a new renderer, whose text cache
    (log-axis tick labels are math text) starts empty; uncropped, redraws are about 4x faster.
    """
    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {fig!r}")
    return {"image/png": print_figure(fig, "png", bbox_inches=None, base64=True),
            "text/plain": repr(fig)}


def sliders_text(sliders: Mapping[str, ValueWidget]) -> str:
    """One line naming each slider and its value: ``Sliders (...): Huber δ = 1``."""
    parts = []
    for name, slider in sliders.items():
        value = f"{slider.value:g}" if isinstance(slider.value, float) else slider.value
        parts.append(f"{slider.description or name} = {value}")
    # TRANSLATORS: the separator between two sliders ("Huber δ = 1, lr = 0.03").
    return _("Sliders (they move when the notebook runs in Jupyter): {sliders}").format(
        sliders=_(", ").join(parts))


def slider_figure(fig: Figure, redraw: Callable[..., None],
                  sliders: Mapping[str, ValueWidget]) -> None:
    """Show ``sliders`` above ``fig``; a move calls ``redraw(**values)`` and replaces the figure.

    ``redraw`` changes ``fig`` in place and is called once with the starting values before the
    figure is shown; a figure of subplots without a layout engine then gets ``tight_layout``
    once. ``fig`` is closed in pyplot, so the cell does not show it a second time.
    Slider labels are shown in full unless a slider's style sets their width.
    """
    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {fig!r}")
    if not callable(redraw):
        raise ValueError(f"redraw must be a callable taking the sliders' values, got {redraw!r}")
    if not isinstance(sliders, Mapping) or not sliders:
        raise ValueError(f"sliders must be a non-empty mapping of name to slider, got {sliders!r}")
    for name, slider in sliders.items():
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f"sliders: each name must be a Python identifier, got {name!r}")
        if not isinstance(slider, ValueWidget):
            raise ValueError(f"sliders[{name!r}] must be an ipywidgets slider, got {slider!r}")

    def values() -> dict:
        return {name: slider.value for name, slider in sliders.items()}

    for slider in sliders.values():
        if not slider.style.description_width:  # the default width cuts long labels short
            slider.style.description_width = "initial"
    redraw(**values())
    plt.close(fig)
    if not isinstance(fig.canvas, FigureCanvasAgg):  # Figure(): one canvas, kept for redraws
        FigureCanvasAgg(fig)
    if fig.get_layout_engine() is None and all(ax.get_subplotspec() for ax in fig.axes):
        fig.tight_layout()  # once: labels and titles inside the uncropped figure
    controls = HBox(list(sliders.values()), layout=Layout(flex_flow="row wrap"))
    view = controls._repr_mimebundle_()[WIDGET_VIEW]
    display({WIDGET_VIEW: view, "text/plain": sliders_text(sliders)}, raw=True)
    display_id = uuid.uuid4().hex
    display(figure_bundle(fig), raw=True, display_id=display_id)

    def on_move(_change) -> None:
        redraw(**values())
        display(figure_bundle(fig), raw=True, display_id=display_id, update=True)

    for slider in sliders.values():
        slider.observe(on_move, names="value")
