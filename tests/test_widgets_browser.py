"""The notebooks' sliders in JupyterLab: after Run All, moving a slider redraws its figure.

Uses the Chromium, browser and JupyterLab fixtures of tests/test_browser.py (skipped where
Chromium cannot be installed). Screenshots of a 1280x720 window, before and after each move, go
into build/screenshots/ (named in MOVES: slider-*.png is notebook 06's Huber δ).
"""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from test_browser import (NOTEBOOKS, SCREENSHOTS, browser,  # noqa: F401 (fixtures)
                          lab)

# The code cell that holds the slider labelled `label`, and its figure's src, in the page.
CELL_OF = """
const label = [...document.querySelectorAll('.widget-label')]
  .find(l => l.textContent.trim() === arguments[0]);
return label ? label.closest('.jp-CodeCell') : null;"""
FIGURE_SRC = "return arguments[0].querySelector('.jp-OutputArea-output img').getAttribute('src');"
OUTPUTS = "return arguments[0].querySelectorAll('.jp-OutputArea-output').length;"
READOUT = """
const label = [...arguments[0].querySelectorAll('.widget-label')]
  .find(l => l.textContent.trim() === arguments[1]);
return label.closest('.widget-slider').querySelector('.widget-readout').textContent.trim();"""


def _menu(wait, top: str, item: str) -> None:
    wait.until(ec.element_to_be_clickable(
        (By.XPATH, f"//li[contains(@class,'lm-MenuBar-item')][.//div[text()='{top}']]"))).click()
    wait.until(ec.element_to_be_clickable(
        (By.XPATH, f"//li[contains(@class,'lm-Menu-item')][.//div[text()='{item}']]"))).click()


def _prompts(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
        ".map(p => p.textContent.trim())")


def _run_all(driver, wait) -> None:
    """Clear the stored outputs, run every cell, and wait until each has run and the kernel idles."""
    wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']")))
    _menu(wait, "Edit", "Clear Outputs of All Cells")
    wait.until(lambda driver: all(p in ("[ ]:", "") for p in _prompts(driver)))
    _menu(wait, "Run", "Run All Cells")

    def finished(driver) -> bool:
        idle = driver.find_elements(
            By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']")
        return bool(idle) and all(p.startswith("[") and p[1:-2].isdigit()
                                  for p in _prompts(driver))

    WebDriverWait(driver, 240, poll_frequency=0.5).until(finished)


def _move(driver, cell, label: str, presses: int, readout: str, shot: str) -> tuple[str, str]:
    """Press an arrow key on the slider `label` (right if presses > 0, else left) abs(presses)
    times; return the figure's src before and after."""
    driver.execute_script(  # the sliders at the top of the window, the figure under them
        "arguments[0].querySelector('.jp-OutputArea').scrollIntoView({block: 'start'});", cell)
    handle = cell.find_element(
        By.XPATH, f".//div[contains(@class,'widget-slider')][.//label[normalize-space()="
                  f"'{label}']]//div[contains(@class,'noUi-handle')]")
    before = driver.execute_script(FIGURE_SRC, cell)
    driver.save_screenshot(str(SCREENSHOTS / f"{shot}-before.png"))
    for _ in range(abs(presses)):  # send_keys focuses the handle first: no click, no drag
        handle.send_keys(Keys.ARROW_RIGHT if presses > 0 else Keys.ARROW_LEFT)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(READOUT, cell, label) == readout,
                                    f"the slider {label!r} did not move to {readout}")
    # One redraw per key press: wait until the picture has changed and then stays the same.
    shown = [before]

    def settled(d) -> bool:
        shown.append(d.execute_script(FIGURE_SRC, cell))
        return shown[-1] != before and shown[-1] == shown[-2]

    WebDriverWait(driver, 30, poll_frequency=1.5).until(
        settled, f"the figure under the slider {label!r} did not change")
    driver.save_screenshot(str(SCREENSHOTS / f"{shot}-after.png"))
    return before, shown[-1]


# notebook -> the sliders to move: (label, arrow-key presses, right if > 0, the value then
# shown, screenshot name)
MOVES = {"06": [("Huber δ", 5, "3.16", "slider"), ("learning rate η", 2, "0.3", "knobs")],
         "03": [("learning rate η", 1, "0.1", "boston-knobs")],
         "02": [("sweep step", -2, "3", "sweep")]}


@pytest.mark.parametrize("number", list(MOVES))
def test_moving_a_slider_redraws_its_figure_in_place(browser, lab, number):
    notebook = next(path for path in NOTEBOOKS if path.name.startswith(f"{number}_"))
    url, token = lab
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",  # a 1280x720 viewport
                            {"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": False})
    assert browser.execute_script("return [innerWidth, innerHeight]") == [1280, 720]
    try:
        browser.get(f"{url}/lab/tree/{notebook.name}?token={token}")
        wait = WebDriverWait(browser, 60)
        _run_all(browser, wait)

        for label, presses, readout, shot in MOVES[number]:
            cell = browser.execute_script(CELL_OF, label)
            assert cell is not None, f"no slider labelled {label!r} after Run All"
            outputs = browser.execute_script(OUTPUTS, cell)
            before, after = _move(browser, cell, label, presses, readout, shot)
            assert before.startswith("data:image/png;base64,")
            assert after.startswith("data:image/png;base64,") and after != before
            assert browser.execute_script(OUTPUTS, cell) == outputs  # replaced, not added
        errors = browser.execute_script(
            "return [...document.querySelectorAll('.jp-OutputArea-output"
            "[data-mime-type=\"application/vnd.jupyter.stderr\"]')].map(e => e.textContent)")
        assert errors == [], "stderr output in JupyterLab:\n" + "\n".join(errors)[:3000]
    finally:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",  # as test_browser set it
                                {"width": 1280, "height": 800, "deviceScaleFactor": 1,
                                 "mobile": False})
