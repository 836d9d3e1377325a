"""course_utils.widgets: sliders that redraw a figure in place, and a stored notebook without them."""

from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ipywidgets import FloatLogSlider, IntSlider, Output, SelectionSlider

from course_utils import widgets
from course_utils.widgets import WIDGET_VIEW, figure_bundle, slider_figure, sliders_text

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.fixture
def shown(monkeypatch):
    """Every display() call of course_utils.widgets, as (bundle, keyword arguments)."""
    calls = []
    monkeypatch.setattr(widgets, "display", lambda obj, **kw: calls.append((obj, kw)))
    return calls


def _line_figure():
    """A figure whose line has the slope that redraw is given, and the calls redraw received."""
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    ax.set(xlim=(0, 1), ylim=(0, 4))
    calls = []

    def redraw(slope):
        calls.append(slope)
        line.set_ydata([0, slope])

    return fig, redraw, calls


def test_shows_sliders_then_the_default_figure_and_redraws_it_in_place(shown):
    fig, redraw, calls = _line_figure()
    slope = IntSlider(value=1, min=0, max=4, description="slope")
    slider_figure(fig, redraw, {"slope": slope})

    assert slope.style.description_width == "initial"  # the label in full, not cut short
    assert calls == [1]  # drawn at the starting value before it is shown
    assert not plt.fignum_exists(fig.number)  # closed: the cell does not show it again
    (controls, controls_kw), (figure, figure_kw) = shown
    assert controls[WIDGET_VIEW]["model_id"]
    assert controls["text/plain"] == ("Sliders (they move when the notebook runs in Jupyter): "
                                      "slope = 1")
    assert controls_kw == {"raw": True}
    assert figure["text/plain"] == repr(fig) and figure["image/png"]
    display_id = figure_kw["display_id"]
    assert figure_kw == {"raw": True, "display_id": display_id}

    slope.value = 3
    assert calls == [1, 3] and len(shown) == 3
    moved, moved_kw = shown[-1]
    assert moved_kw == {"raw": True, "display_id": display_id, "update": True}
    assert moved["image/png"] != figure["image/png"]

    slope.value = 1  # back to the start: the same picture, byte for byte
    assert shown[-1][0]["image/png"] == figure["image/png"]


def test_a_label_width_that_is_set_is_kept(shown):
    fig, redraw, _ = _line_figure()
    slope = IntSlider(value=1, description="slope", style={"description_width": "40px"})
    slider_figure(fig, redraw, {"slope": slope})
    assert slope.style.description_width == "40px"


def test_the_figure_is_laid_out_once_and_drawn_whole_on_one_canvas(shown):
    import base64
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    fig = Figure(figsize=(3, 2), dpi=100)  # not from pyplot: no Agg canvas of its own
    ax = fig.add_subplot()
    (line,) = ax.plot([0, 1000], [0, 1000])
    ax.set(xlabel="x", ylabel="y", title="a title")
    slope = IntSlider(value=1)
    slider_figure(fig, lambda slope: line.set_ydata([0, slope]), {"slope": slope})
    assert isinstance(fig.canvas, FigureCanvasAgg)
    inside = ax.get_tightbbox(fig.canvas.get_renderer())  # ticks, labels and title
    assert fig.bbox.x0 <= inside.x0 and inside.x1 <= fig.bbox.x1
    assert fig.bbox.y0 <= inside.y0 and inside.y1 <= fig.bbox.y1
    png = base64.b64decode(shown[1][0]["image/png"])
    assert Image.open(io.BytesIO(png)).size == (300, 200)  # the whole figure, not a crop
    renderer = fig.canvas.get_renderer()
    slope.value = 2
    assert fig.canvas.get_renderer() is renderer  # kept between redraws, with its text cache


def test_axes_placed_by_hand_are_left_where_they_are(shown):
    import warnings

    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    ax = fig.add_axes((0, 0, 1, 1))  # as course_utils.graph.draw_graph places its axes
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tight_layout would warn: not compatible
        slider_figure(fig, lambda slope: None, {"slope": IntSlider()})
    assert tuple(ax.get_position().bounds) == (0, 0, 1, 1)


@settings(max_examples=30, deadline=None)
@given(moves=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 5)), max_size=8))
def test_each_move_redraws_once_with_every_sliders_current_value(moves):
    calls, shown = [], []
    original = widgets.display, widgets.figure_bundle
    widgets.display = lambda obj, **kw: shown.append(kw)
    widgets.figure_bundle = lambda fig: {"image/png": "", "text/plain": ""}
    try:
        sliders = {"a": IntSlider(value=0, max=5), "b": IntSlider(value=0, max=5)}
        slider_figure(plt.figure(), lambda a, b: calls.append((a, b)), sliders)
        expected = [(0, 0)]
        for name, value in moves:
            changed = sliders[name].value != value
            sliders[name].value = value
            if changed:
                expected.append((sliders["a"].value, sliders["b"].value))
    finally:
        widgets.display, widgets.figure_bundle = original
    assert calls == expected
    assert [kw.get("update", False) for kw in shown] == [False, False] + [True] * (len(calls) - 1)
    assert len({kw["display_id"] for kw in shown[1:]}) == 1


def test_sliders_text_names_each_slider_and_its_value():
    sliders = {"lr": FloatLogSlider(value=0.03, min=-3, max=0, description="learning rate"),
               "batch_size": SelectionSlider(options=[1, 10, 100], value=10),
               "delta": FloatLogSlider(value=1.0, min=-1, max=1, description="Huber δ")}
    assert sliders_text(sliders) == ("Sliders (they move when the notebook runs in Jupyter): "
                                     "learning rate = 0.03, batch_size = 10, Huber δ = 1")


@pytest.mark.parametrize("kwargs, name", [
    ({"fig": "figure"}, "fig"),
    ({"redraw": None}, "redraw"),
    ({"sliders": {}}, "sliders"),
    ({"sliders": [IntSlider()]}, "sliders"),
    ({"sliders": {"two words": IntSlider()}}, "name"),
    ({"sliders": {"slope": 3}}, "slope"),
    ({"sliders": {"slope": Output()}}, "slope"),  # a widget without a value
])
def test_slider_figure_rejects_bad_arguments_by_name(shown, kwargs, name):
    fig, redraw, _ = _line_figure()
    args = {"fig": fig, "redraw": redraw, "sliders": {"slope": IntSlider()}, **kwargs}
    with pytest.raises(ValueError, match=name):
        slider_figure(**args)
    assert shown == []
    plt.close(fig)


def test_figure_bundle_rejects_what_is_not_a_figure():
    with pytest.raises(ValueError, match="fig"):
        figure_bundle(plt.gca())
    plt.close("all")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_stored_notebooks_need_no_widget_state(path):
    """Widget state in the metadata makes nbconvert load a widget manager from a CDN."""
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                assert output["data"]["text/plain"].startswith("Sliders"), cell.source[:80]
