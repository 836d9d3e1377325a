"""Figures that look the same on every run: fixed size, PNG, no dates or random ids."""

import logging
import os
from importlib import resources

import matplotlib.pyplot as plt
from matplotlib import font_manager

from course_utils import i18n

# Colour-blind-safe palette (Okabe and Ito, 2008); pair colours with markers where lines cross.
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

# The smallest text the style draws, in points. A 4.5 x 3 in figure at 100 dpi (450 px wide)
# fills a slide at about 2.2 times its size, and the widest course figure (about 900 px) at 1.3
# times, so 11 pt text shows at 14 pt or more: readable from the back of a room.
MIN_FONT_PT = 11
FONT_SIZES = {"font.size": MIN_FONT_PT, "axes.labelsize": MIN_FONT_PT,
              "xtick.labelsize": MIN_FONT_PT, "ytick.labelsize": MIN_FONT_PT,
              "legend.fontsize": MIN_FONT_PT, "legend.title_fontsize": MIN_FONT_PT,
              "axes.titlesize": MIN_FONT_PT + 1, "figure.titlesize": MIN_FONT_PT + 2}


# A subset of WenQuanYi Micro Hei (Apache-2.0, resources/fonts/): the 3,755 common characters
# of GB 2312 level 1 and every character of the Chinese edition (scripts/i18n.py font).
CJK_FONT = resources.files("course_utils").joinpath("resources", "fonts", "wqy-microhei-subset.ttf")
CJK_FAMILY = "WenQuanYi Micro Hei"


def use_course_style(figsize: tuple[float, float] = (4.5, 3.0), language: str = "en") -> None:
    """Set crisp, deterministic figure defaults for notebooks and headless runs.

    Text is at least ``MIN_FONT_PT`` points, for slides. Inline figures are PNG (nbval does
    not compare PNG bytes). If d2l switches the display to SVG (``d2l.set_figsize`` does),
    the SVG carries no date and no random ids, so stored outputs still reproduce exactly.
    ``language="zh"`` draws Chinese with the course's own CJK font, registered by path and
    listed before DejaVu Sans (which then draws what it lacks), and prints course_utils'
    messages in Chinese.
    """
    i18n.set_language(language)
    family = plt.rcParamsDefault["font.family"]
    if language == "zh":  # a list of families: matplotlib falls back glyph by glyph along it
        font_manager.fontManager.addfont(str(CJK_FONT))
        family = [CJK_FAMILY, "DejaVu Sans"]
        # The font has one weight: bold text is drawn regular, which findfont would log for
        # every bold label. (A missing glyph is a warning from elsewhere, and still shows.)
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    os.environ["SOURCE_DATE_EPOCH"] = "0"  # matplotlib writes this date into SVG/PDF
    plt.rcParams.update({
        "figure.figsize": figsize,
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "svg.hashsalt": "course",  # fixed clip-path ids in SVG output
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.prop_cycle": plt.cycler(color=COLORS),
        "font.family": family,
        **FONT_SIZES,
    })
    from IPython import get_ipython

    if get_ipython() is not None:  # in a notebook: inline figures as PNG
        from matplotlib_inline.backend_inline import set_matplotlib_formats
        set_matplotlib_formats("png")
