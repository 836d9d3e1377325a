"""Every slide of every deck measured in real Chromium at a 1280×720 window (a projector).

``make slides`` builds the decks (scripts/build_site.py, cut by scripts/slides.py). Here each
deck is built from the real notebooks, opened offline, and every slide is shown in turn and
measured in the page: nothing may leave the slide or scroll inside it, code must display at
>= 18 px and other text at >= 22 px after reveal.js's scaling, figures must show their smallest
text at >= 14 pt, every section must carry speaker notes, and no ``In [n]:`` prompt may show.
The browser and its skips are tests/test_browser.py's.
"""

import re
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import (NOTEBOOKS, SCREENSHOTS, _console_errors, _open,  # noqa: E402
                          browser, offline)  # noqa: F401  (browser: a fixture)
from test_site_slides import build, require_assets  # noqa: E402

from course_utils.plotting import MIN_FONT_PT  # noqa: E402

WINDOW = (1280, 720)
MIN_CODE_PX, MIN_BODY_PX, MIN_FIGURE_PT = 18, 22, 14

# Shows every slide in turn (no transitions) and measures it. Returns, per slide: its indices,
# what leaves the slide or scrolls, the smallest code and body text, its figures' displayed and
# natural widths, its speaker notes, and prompts. Text inside a formula is measured as the
# formula's container (sub- and superscripts are smaller by design).
MEASURE = """
const done = arguments[arguments.length - 1];
const imagesLoaded = () => [...document.images].every(i => i.complete);
const run = () => {
  Reveal.configure({transition: 'none', backgroundTransition: 'none'});
  const out = [];
  for (const slide of Reveal.getSlides()) {
    const {h, v} = Reveal.getIndices(slide);
    Reveal.slide(h, v);
    Reveal.layout();
    const scale = Reveal.getScale();
    const box = document.querySelector('.reveal .slides').getBoundingClientRect();
    const shown = [...slide.querySelectorAll('*')].filter(e =>
        !e.closest('aside.notes')
        && !(e.closest('mjx-container') && e.tagName !== 'MJX-CONTAINER'));
    const label = e => (e.tagName.toLowerCase() + ' ' + (e.textContent || e.alt || '')
                        .trim().slice(0, 60)).trim();
    const beyond = (r, b) => r.right > b.right + 1 || r.left < b.left - 1
                             || r.bottom > b.bottom + 1 || r.top < b.top - 1;
    const clipping = shown.filter(e => getComputedStyle(e).overflow !== 'visible');
    const outside = [], scrolls = [];
    for (const e of [slide, ...shown]) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (beyond(r, box)) outside.push(label(e));
      // cut off (or scrolled) inside a box that clips its content
      const clip = clipping.find(c => c !== e && c.contains(e)
                                      && beyond(r, c.getBoundingClientRect()));
      if (clip) scrolls.push(label(clip));
    }
    let code = Infinity, body = Infinity, smallest = '';
    const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!node.textContent.trim() || parent.closest('aside.notes')) continue;
      const element = parent.closest('mjx-container') || parent;
      const px = parseFloat(getComputedStyle(element).fontSize) * scale;
      if (element.closest('pre, code, .jp-CodeCell')) code = Math.min(code, px);
      else if (px < body) { body = px; smallest = label(element); }
    }
    const figures = [...slide.querySelectorAll('img')].map(i =>
        ({displayed: i.getBoundingClientRect().width, natural: i.naturalWidth}));
    out.push({h, v, outside, scrolls, code, body, smallest, figures,
              notes: slide.querySelectorAll('aside.notes').length,
              prompts: slide.querySelectorAll('.jp-InputPrompt, .jp-OutputPrompt').length
                       + (/(In|Out)\\s*\\[\\d*\\]:/.test(slide.innerText) ? 1 : 0)});
  }
  Reveal.slide(0, 0);
  done(out);
};
const wait = () => (window.Reveal && Reveal.isReady() && imagesLoaded())
    ? run() : setTimeout(wait, 50);
wait();
"""


# Both editions' decks: the Chinese ones (scripts/i18n.py) carry the English slide cuts.
DECKS = NOTEBOOKS + sorted((NOTEBOOKS[0].parent / "zh").glob("*.ipynb"))


def deck_file(decks: Path, path: Path) -> Path:
    return decks / ("zh" if path.parent.name == "zh" else "") / f"{path.stem}.slides.html"


def name(path: Path) -> str:
    return ("zh/" if path.parent.name == "zh" else "") + path.stem[:2]


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> Path:
    require_assets()
    return build("slides", tmp_path_factory.mktemp("decks") / "slides", DECKS)


@pytest.fixture
def window(browser):
    """The browser's viewport at 1280×720 for one test, then back to test_browser's 1280×800."""
    metrics = {"deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": WINDOW[0], "height": WINDOW[1], **metrics})
    yield browser
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 1280, "height": 800, **metrics})


def smallest_figure_font(cell) -> float:
    """The smallest font size (pt) a figure cell can draw: the course style's, or a smaller
    ``fontsize=`` / ``labelsize=`` written in the cell."""
    written = [float(size) for size in re.findall(
        r"\b(?:font)?(?:size|labelsize)\s*=\s*(\d+(?:\.\d+)?)\b", cell.source)]
    return min([MIN_FONT_PT, *[size for size in written if size < 30]])


def measure(driver, deck: Path) -> list[dict]:
    with offline(driver):
        _open(driver, deck.as_uri())
        return driver.execute_async_script(MEASURE)


@pytest.fixture(scope="module")
def measured(decks, browser) -> dict:
    """Every deck's slides, measured once (about 3 s a deck)."""
    metrics = {"deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": WINDOW[0], "height": WINDOW[1], **metrics})
    try:
        result = {}
        for path in DECKS:
            start = time.perf_counter()
            result[path] = measure(browser, deck_file(decks, path))
            result[path, "errors"] = _console_errors(browser)
            print(f"{path.stem}: {len(result[path])} slides in {time.perf_counter() - start:.1f} s")
        return result
    finally:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 1280, "height": 800, **metrics})


def test_every_slide_fits_a_projector(measured):
    """No slide overflows or scrolls; code >= 18 px and text >= 22 px as displayed."""
    slides = [(name(path), s) for path in DECKS for s in measured[path]]
    for _, s in slides:  # a slide without code (or without other text): JSON's null
        s["code"], s["body"] = s["code"] or float("inf"), s["body"] or float("inf")
    bad = [(name, s["h"], s["v"], s["outside"][:3], s["scrolls"][:3]) for name, s in slides
           if s["outside"] or s["scrolls"]]
    code = min(s["code"] for _, s in slides)
    body = min(s["body"] for _, s in slides)
    small = [(name, s["h"], s["v"], round(s["code"], 1), round(s["body"], 1), s["smallest"])
             for name, s in slides if s["code"] < MIN_CODE_PX or s["body"] < MIN_BODY_PX]
    print(f"{len(bad)} of {len(slides)} slides overflowing; smallest code {code:.1f} px, "
          f"smallest body text {body:.1f} px")
    assert not bad, f"{len(bad)} of {len(slides)} slides overflowing: " + "\n".join(map(str, bad))
    assert not small, f"text below {MIN_CODE_PX}/{MIN_BODY_PX} px: {small[:10]}"


def test_figures_are_readable_from_the_back(measured):
    """Each figure's smallest text, at its displayed size, is >= 14 pt."""
    too_small = []
    for path in DECKS:
        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 if {"image/png", "image/svg+xml"} & set(o.get("data", {}))]
        figures = [f for s in measured[path] for f in s["figures"]]
        assert len(figures) == len(cells), path.name
        for cell, figure in zip(cells, figures):
            shown = figure["displayed"] / figure["natural"] * smallest_figure_font(cell)
            if shown < MIN_FIGURE_PT:
                too_small.append(f"{path.stem[:2]}: {cell.source.splitlines()[0][:40]!r} "
                                 f"smallest text at {shown:.1f} pt")
    assert not too_small, ("figure text too small on a slide; drop the cell's small fontsize= "
                           f"(the course style draws {MIN_FONT_PT} pt): {too_small}")


def test_speaker_notes_and_no_prompts(measured):
    for path in DECKS:
        slides = measured[path]
        sections = sorted({s["h"] for s in slides})
        with_notes = {s["h"] for s in slides if s["notes"]}
        assert with_notes == set(sections), (path.name, "sections without speaker notes",
                                             sorted(set(sections) - with_notes))
        assert not [s for s in slides if s["prompts"]], f"{path.name}: In/Out prompts shown"
        assert measured[path, "errors"] == []


def test_screenshots(decks, window):
    """A code slide, a math slide and a figure slide of 03, saved for a person to look at."""
    deck = decks / f"{NOTEBOOKS[2].stem}.slides.html"
    with offline(window):
        _open(window, deck.as_uri())
        found = window.execute_script("""
            Reveal.configure({transition: 'none'});
            const pick = test => { const s = Reveal.getSlides().find(test);
                                   return s ? Reveal.getIndices(s) : null; };
            return {code: pick(s => s.querySelector('.jp-CodeCell .highlight')
                                    && s.querySelectorAll('pre').length > 1),
                    math: pick(s => s.querySelector('mjx-container[display="true"]')),
                    figure: pick(s => s.querySelector('img'))};""")
        for name, where in found.items():
            assert where, name
            window.execute_script("Reveal.slide(arguments[0], arguments[1]); Reveal.layout();",
                                  where["h"], where["v"])
            time.sleep(0.2)
            window.save_screenshot(str(SCREENSHOTS / f"slide-{name}.png"))
