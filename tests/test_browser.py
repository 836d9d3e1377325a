"""The site, a slide deck and JupyterLab, checked in a real browser (headless Debian Chromium).

Chromium and ChromeDriver come from Debian (``make system`` installs them, as root, before the
tests; no test installs anything). Where they are missing every test here skips with the reason,
and under CI=true a skip fails the run (tests/conftest.py). The site's pages are opened as files
with the browser's network switched off, and every request the page makes is recorded: a page
that needs the network fails. Each test saves screenshots (1280×800) into build/screenshots/.
To try the tests on copies of the notebooks, point COURSE_NOTEBOOKS_DIR at their folder.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_site_slides import build, require_assets  # noqa: E402

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "build" / "screenshots"
NOTEBOOKS_DIR = Path(os.environ.get("COURSE_NOTEBOOKS_DIR", ROOT / "notebooks"))
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
LAB_NOTEBOOK = NOTEBOOKS[0]
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--window-size=1280,800"]


def chrome(profile: Path, width: int, height: int, logs=("browser",)):
    """Headless Debian Chromium through Selenium with a width x height viewport, or a skip that
    says what is missing. The caller quits it."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed: run "
                    "`make system` as root (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium is not installed (see requirements.txt)")
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager: no usage statistics
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {kind: "ALL" for kind in logs})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(60)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1,
                            "mobile": False})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return driver


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Debian Chromium, its viewport 1280×800, with console and network logs."""
    driver = chrome(tmp_path_factory.mktemp("chromium-profile"), 1280, 800,
                    logs=("browser", "performance"))
    yield driver
    driver.quit()


@contextmanager
def offline(driver):
    """The browser's network switched off (file:// pages still load); then on again."""
    driver.set_network_conditions(offline=True, latency=0, download_throughput=-1,
                                  upload_throughput=-1)
    try:
        yield
    finally:
        driver.delete_network_conditions()


def _requests(driver) -> list[str]:
    """The URLs the browser requested since the last call (Chrome's performance log)."""
    events = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    return [event["params"]["request"]["url"] for event in events
            if event["method"] == "Network.requestWillBeSent"]


def _console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _open(driver, url: str) -> None:
    """Load ``url`` with fresh logs, then wait until MathJax 3 has typeset the page."""
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(url)
    driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const wait = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)
            ? MathJax.startup.promise.then(() => done(true)) : setTimeout(wait, 50);
        wait();""")


# Table cells that do not keep their content together (nbconvert's pages broke the shape tables
# one token per line): a cell of formulas or code only that runs over more than one line, or
# content (a formula as typeset, even where a scroll box clips it) wider than its cell. Prose in
# a narrow column may wrap. Lines are counted from the boxes of the cell's inline content.
BROKEN_CELLS = """
const boxes = cell => {
  const rects = [];
  const walk = node => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE && child.textContent.trim()) {
        const range = document.createRange();
        range.selectNodeContents(child);
        rects.push(...range.getClientRects());
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        const block = ['block', 'flex', 'list-item'].includes(getComputedStyle(child).display);
        if (child.matches('.math, mjx-container')) {  // a formula: one box, as typeset
          rects.push((child.querySelector('mjx-math') || child).getBoundingClientRect());
        } else if (block) walk(child);
        else rects.push(...child.getClientRects());
      }
    }
  };
  walk(cell);
  return rects.filter(r => r.height > 0).sort((a, b) => a.top - b.top);
};
const lines = rects => {
  let count = 0, bottom = -Infinity;
  for (const r of rects) {
    if (r.top >= bottom - 1) { count += 1; bottom = r.bottom; }
    else bottom = Math.max(bottom, r.bottom);
  }
  return count;
};
const formulaOnly = cell => {
  const rest = cell.cloneNode(true);
  rest.querySelectorAll('mjx-container, code').forEach(e => e.remove());
  return !!cell.querySelector('mjx-container, code') && !/[A-Za-z]{2,}/.test(rest.textContent);
};
return [...document.querySelectorAll('article table :is(td, th)')].filter(cell => {
  const rects = boxes(cell), box = cell.getBoundingClientRect();
  return (formulaOnly(cell) && lines(rects) > 1)
      || rects.some(r => r.right > box.right + 1 || r.left < box.left - 1);
}).map(cell => cell.textContent.trim());
"""

PAGE_STATE = """
const imgs = [...document.querySelectorAll('article img')];
return {
  tex: [...MathJax.startup.document.math].map(m => m.math),
  rendered: document.querySelectorAll('mjx-container').length,
  mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
  images: imgs.length,
  broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length,
  noAlt: imgs.filter(i => !(i.getAttribute('alt') || '').trim()).length,
  prev: [...document.querySelectorAll('a.left-prev')].map(a => a.getAttribute('href')),
  next: [...document.querySelectorAll('a.right-next')].map(a => a.getAttribute('href')),
  downloads: [...document.querySelectorAll('a[href*="_sources/"]')].map(a => a.getAttribute('href')),
};
"""

# Prose that became math: stray dollars pair up (JupyterLab's markdown renderer drops the
# backslash of `\$`, and MathJax then typesets what lies between two dollars).
PROSE = re.compile(r"\d{1,3}(,\d{3})+(?!\d)| and | [a-z]{3,} [a-z]{3,} ")


def prose_in_math(tex: list[str]) -> list[str]:
    """The typeset TeX strings that read as prose (words or a comma-grouped amount)."""
    plain = [re.sub(r"\\(text|mathrm|operatorname|mbox)\{[^}]*\}", "", t) for t in tex]
    return [t for t, p in zip(tex, plain) if PROSE.search(p)]


def _has_math(nb) -> bool:
    return any(c.cell_type == "markdown" and "$" in c.source for c in nb.cells)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site of all the notebooks, built as ``make site`` builds it."""
    require_assets()
    return build("site", tmp_path_factory.mktemp("web") / "site", NOTEBOOKS)


def _page_check(driver, url: str, shot: str) -> dict:
    with offline(driver):
        _open(driver, url)
        driver.save_screenshot(str(SCREENSHOTS / shot))
        state = driver.execute_script(PAGE_STATE)
        state["brokenCells"] = driver.execute_script(BROKEN_CELLS)
        state["requests"] = _requests(driver)
        state["errors"] = _console_errors(driver)
    return state


def test_site_index(browser, site):
    state = _page_check(browser, (site / "index.html").as_uri(), "site_index.png")
    links = browser.execute_script(
        "return [...document.querySelectorAll('.toctree-wrapper a')].map(a => a.getAttribute('href'))")
    assert links == [f"notebooks/{path.stem}.html" for path in NOTEBOOKS]
    assert state["next"] == [links[0]] and state["errors"] == []
    assert all(url.startswith("file://") for url in state["requests"]), state["requests"]


@pytest.mark.parametrize("position", range(len(NOTEBOOKS)),
                         ids=[path.stem[:2] for path in NOTEBOOKS])
def test_site_page(browser, site, position):
    """Offline; math typeset by MathJax 3 and none of it prose; figures with alt; tables whole."""
    path = NOTEBOOKS[position]
    nb = nbformat.read(path, as_version=4)
    state = _page_check(browser, (site / "notebooks" / f"{path.stem}.html").as_uri(),
                        f"site_{path.stem}.png")
    assert state["requests"] and all(url.startswith(("file://", "data:"))
                                      for url in state["requests"]), state["requests"]
    if _has_math(nb):
        assert state["rendered"] > 0 and state["rendered"] == len(state["tex"])
    assert state["mathErrors"] == [], "TeX that MathJax could not typeset"
    assert prose_in_math(state["tex"]) == [], (
        "prose typeset as math (stray dollar signs; write money as 'USD 4,400')")
    stored = sum(1 for c in nb.cells for o in c.get("outputs", [])
                 if any(k.startswith("image/") for k in o.get("data", {})))
    assert state["images"] == stored and state["broken"] == 0 and state["noAlt"] == 0, state
    assert state["brokenCells"] == [], "table cells that do not keep their formulas together"
    assert state["downloads"] == [f"../_sources/notebooks/{path.name}"]
    neighbours = [f"{p.stem}.html" for p in NOTEBOOKS]
    assert state["prev"] == ([neighbours[position - 1]] if position else ["../index.html"])
    assert state["next"] == neighbours[position + 1:position + 2]
    assert state["errors"] == []


def test_math_checks_on_a_small_notebook(browser, tmp_path):
    r"""The prose and table checks above, on notebooks made here: money written with `\$` is
    typeset as math and caught; written "USD 4,400" it is text; a six-column table stays whole."""
    require_assets()
    table = ("| case | x | u | y | chain rule | shapes |\n|---|---|---|---|---|---|\n"
             "| 1 | $\\mathbb{R}^n$ | scalar | scalar | $\\frac{\\partial y}{\\partial u}$ "
             "| $(1, n) = (1, 1)\\,(1, n)$ |\n")
    texts = {"dollars": "Errors of about \\$4,400 (test RMSE) on tracts whose median price is "
                        "about \\$20,600, so $R^2 \\approx 0.77$.",
             "usd": "Errors of about USD 4,400 (test RMSE) on tracts whose median price is "
                    "about USD 20,600, so $R^2 \\approx 0.77$."}
    paths = []
    for name, text in texts.items():
        paths.append(tmp_path / f"{name}.ipynb")
        nbformat.write(new_notebook(cells=[new_markdown_cell(f"# {name}"),
                                           new_markdown_cell(text), new_markdown_cell(table)]),
                       paths[-1])
    out = build("site", tmp_path / "site", paths)
    found = {}
    for name in texts:
        state = _page_check(browser, (out / "notebooks" / f"{name}.html").as_uri(),
                            f"synthetic_{name}.png")
        assert state["brokenCells"] == [] and state["mathErrors"] == [], state
        found[name] = prose_in_math(state["tex"])
    browser.execute_script(  # squeezed columns, as nbconvert's pages had them: the check sees it
        "document.head.insertAdjacentHTML('beforeend',"
        " '<style>article table { table-layout: fixed; width: 12em !important; }</style>')")
    assert "(1,n)=(1,1)(1,n)" in [re.sub(r"\s", "", cell)
                                  for cell in browser.execute_script(BROKEN_CELLS)]
    assert found["usd"] == []
    assert found["dollars"] == ["4,400 (test RMSE) on tracts whose median price is about "]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def served(site):
    """The site on a local HTTP server (Sphinx's search reads its pages with fetch())."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_search_works_without_the_internet(browser, served):
    browser.get_log("performance")
    browser.get_log("browser")
    browser.get(f"{served}/search.html?q=jacobian")
    for _ in range(100):
        results = browser.execute_script(
            "return [...document.querySelectorAll('#search-results ul.search li a')]"
            ".map(a => a.getAttribute('href'))")
        if results and "Search finished" in browser.find_element("id", "search-results").text:
            break
        time.sleep(0.1)
    browser.save_screenshot(str(SCREENSHOTS / "site_search.png"))
    assert any("01_chain_rule" in href for href in results), results
    requests = _requests(browser)
    assert requests and all(url.startswith((served, "data:")) for url in requests), requests
    assert _console_errors(browser) == []


def test_slides_advance(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    require_assets()
    out = build("slides", tmp_path / "slides", NOTEBOOKS[:1])
    with offline(browser):
        _open(browser, (out / f"{NOTEBOOKS[0].stem}.slides.html").as_uri())
        for _ in range(100):
            if browser.execute_script("return !!(window.Reveal && Reveal.isReady())"):
                break
            time.sleep(0.1)
        else:
            pytest.fail("reveal.js did not start")
        assert browser.execute_script("return Reveal.getTotalSlides()") > 1, (
            "one slide only: run `python scripts/slides.py --apply notebooks/*.ipynb`")
        assert browser.execute_script("return document.querySelectorAll('mjx-container').length")
        browser.save_screenshot(str(SCREENSHOTS / "slides_01_first.png"))
        start = browser.execute_script("return Reveal.getIndices()")
        body = browser.find_element("tag name", "body")
        for _ in range(10):  # fragments on the first slide take a key press each
            body.send_keys(Keys.ARROW_RIGHT)
            time.sleep(0.3)
            now = browser.execute_script("return Reveal.getIndices()")
            if now["h"] != start["h"]:
                break
        time.sleep(1)  # the slide transition
        browser.save_screenshot(str(SCREENSHOTS / "slides_01_next.png"))
        assert now["h"] == start["h"] + 1, (start, now)
        browser.execute_script("Reveal.next()")
        assert browser.execute_script("return Reveal.getIndices()") != now
        assert all(url.startswith(("file://", "data:")) for url in _requests(browser))
        assert _console_errors(browser) == []


def lab_menu(wait, top: str, item: str) -> None:
    """Click JupyterLab's menu bar entry ``top``, then its item ``item``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    wait.until(ec.element_to_be_clickable(
        (By.XPATH, f"//li[contains(@class,'lm-MenuBar-item')][.//div[text()='{top}']]"))
    ).click()
    wait.until(ec.element_to_be_clickable(
        (By.XPATH, f"//li[contains(@class,'lm-Menu-item')][.//div[text()='{item}']]"))
    ).click()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LAB_SETTINGS = {
    # Every cell in the DOM (no virtual scrolling), so the test sees every output; the kernel
    # starts without a "Select Kernel" dialog.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none", "autoStartDefaultKernel": True},
    # No news feed or update check: no network, no pop-up over the notebook.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.fixture
def lab(tmp_path):
    """JupyterLab from the project's venv on 127.0.0.1 with a token; shut down afterwards."""
    notebooks = tmp_path / "notebooks"  # a copy: autosave must not touch the real notebooks
    shutil.copytree(NOTEBOOKS_DIR, notebooks,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name, settings in LAB_SETTINGS.items():
        target = tmp_path / "settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings))
    venv_bin = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    token, port = os.urandom(16).hex(), _free_port()
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebooks}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                _get_json(f"{url}/api/status?token={token}")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail("JupyterLab exited: " + (tmp_path / "lab.log").read_text()[-2000:])
                time.sleep(0.1)
        else:
            pytest.fail("JupyterLab did not start in 60 s")
        yield url, token
    finally:
        if server.poll() is None:
            try:
                request = urllib.request.Request(f"{url}/api/shutdown?token={token}",
                                                 method="POST")
                urllib.request.urlopen(request, timeout=10).close()
                server.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=20)
        log.close()


def test_lab_runs_notebook_01(browser, lab):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, token = lab
    spec = _get_json(f"{url}/api/kernelspecs?token={token}")["kernelspecs"]["python3"]
    python = shutil.which(spec["spec"]["argv"][0],
                          path=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    assert Path(python).parent == Path(sys.executable).parent, "kernel outside the project venv"

    cells = nbformat.read(LAB_NOTEBOOK, 4).cells
    code_cells = sum(c.cell_type == "code" for c in cells)
    with_output = sum(c.cell_type == "code" and bool(c.get("outputs")) for c in cells)
    browser.get(f"{url}/lab/tree/{LAB_NOTEBOOK.name}?token={token}")
    wait = WebDriverWait(browser, 60)

    def kernel_connected(_) -> bool:
        sessions = _get_json(f"{url}/api/sessions?token={token}")
        return any(s["path"] == LAB_NOTEBOOK.name and s["kernel"]["connections"] > 0
                   and s["kernel"]["execution_state"] == "idle" for s in sessions)

    wait.until(kernel_connected)
    wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']")))

    menu = partial(lab_menu, wait)

    def prompts(driver) -> list[str]:
        return driver.execute_script(
            "return [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
            ".map(p => p.textContent.trim())")

    # Clear the stored outputs first, so that what is seen afterwards is this run's.
    menu("Edit", "Clear Outputs of All Cells")
    wait.until(lambda driver: all(p in ("[ ]:", "") for p in prompts(driver)))
    menu("Run", "Run All Cells")

    def finished(driver):
        now = prompts(driver)
        idle = driver.find_elements(
            By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']")
        return (len(now) == code_cells and idle
                and all(p.startswith("[") and p[1:-2].isdigit() for p in now))

    try:
        WebDriverWait(browser, 120, poll_frequency=0.5).until(finished)
    finally:
        browser.save_screenshot(str(SCREENSHOTS / "lab_01_run_all.png"))
    errors = browser.execute_script(
        "return [...document.querySelectorAll('.jp-OutputArea-output"
        "[data-mime-type=\"application/vnd.jupyter.stderr\"]')].map(e => e.textContent)")
    assert errors == [], "error or stderr output in JupyterLab:\n" + "\n".join(errors)[:3000]
    shown = browser.execute_script(
        "return [...document.querySelectorAll('.jp-CodeCell')]"
        ".filter(c => c.querySelector('.jp-OutputArea-output')).length")
    assert shown == with_output, "cells with output: not as many as stored in the notebook"
    browser.execute_script(
        "document.querySelector('.jp-WindowedPanel-outer, .jp-Notebook').scrollTop = 0")
    browser.save_screenshot(str(SCREENSHOTS / "lab_01_top.png"))
