"""The site, a slide deck and JupyterLab, checked in a real browser (headless Debian Chromium).

Chromium and ChromeDriver are installed by ``scripts/ensure_chromium.sh`` when missing (root and
apt-get needed); where that cannot happen, every test here is skipped with the reason. Each test
saves screenshots into build/screenshots/ so a failing run can be looked at. To try the tests on
copies of the notebooks, point COURSE_NOTEBOOKS_DIR at their folder.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import build_site  # noqa: E402

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "build" / "screenshots"
NOTEBOOKS_DIR = Path(os.environ.get("COURSE_NOTEBOOKS_DIR", ROOT / "notebooks"))
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
LAB_NOTEBOOK = NOTEBOOKS[0]
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage",
                "--window-size=1280,900"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, ChromeDriver and a CJK font, installed when missing, or a skip."""
    missing = not (CHROMIUM.exists() and CHROMEDRIVER.exists())
    can_install = os.geteuid() == 0 and shutil.which("apt-get") is not None
    if missing and not can_install:
        pytest.skip("Chromium is missing and cannot be installed here (needs root and "
                    "apt-get): run scripts/ensure_chromium.sh as root")
    if can_install:
        done = subprocess.run(["bash", str(ROOT / "scripts" / "ensure_chromium.sh")],
                              capture_output=True, text=True)
        if done.returncode != 0 and missing:
            pytest.skip("installing Debian's chromium and chromium-driver failed: "
                        + done.stderr.strip()[-500:])


@pytest.fixture(scope="session")
def browser(chromium, tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium is not installed (see requirements.txt)")
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager: no usage statistics
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """The site (all notebooks) and the first notebook's deck, built and served on localhost."""
    web = tmp_path_factory.mktemp("web")
    if not (build_site.VENDOR.exists() or shutil.which("npm")):
        pytest.skip("npm is needed once to fetch the site's JavaScript (MathJax, reveal.js)")
    build_site.build("site", NOTEBOOKS, web / "site")
    build_site.build("slides", NOTEBOOKS[:1], web / "slides")
    handler = partial(QuietHandler, directory=str(web))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _typeset(driver) -> None:
    """Wait until MathJax has typeset everything queued so far."""
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "MathJax.Hub.Queue(() => done(true));")


def _page_check(driver, url: str, shot: str) -> dict:
    driver.get(url)
    _typeset(driver)
    driver.save_screenshot(str(SCREENSHOTS / shot))
    return driver.execute_script("""
        const imgs = [...document.querySelectorAll('img')];
        return {
          math: document.querySelectorAll('.mjx-chtml').length,
          mathErrors: [...document.querySelectorAll('.mjx-merror')].map(e => e.textContent),
          images: imgs.length,
          broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length,
          noAlt: imgs.filter(i => !(i.getAttribute('alt') || '').trim()).length,
          prev: [...document.querySelectorAll('a[rel=prev]')].map(a => a.getAttribute('href')),
          next: [...document.querySelectorAll('a[rel=next]')].map(a => a.getAttribute('href')),
        };""")


def _has_math(nb) -> bool:
    return any(c.cell_type == "markdown" and "$" in c.source for c in nb.cells)


def _image_outputs(nb) -> int:
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if any(k.startswith("image/") for k in o.get("data", {})))


def test_site_index(browser, served):
    browser.get_log("browser")
    page = _page_check(browser, f"{served}/site/index.html", "site_index.png")
    links = browser.execute_script(
        "return [...document.querySelectorAll('ol.series a')].map(a => a.getAttribute('href'))")
    assert links == [path.stem + ".html" for path in NOTEBOOKS]
    assert page["mathErrors"] == []
    assert _console_errors(browser) == []


@pytest.mark.parametrize("position", range(len(NOTEBOOKS)),
                         ids=[path.stem[:2] for path in NOTEBOOKS])
def test_site_page(browser, served, position):
    path = NOTEBOOKS[position]
    nb = nbformat.read(path, as_version=4)
    browser.get_log("browser")
    page = _page_check(browser, f"{served}/site/{path.stem}.html", f"site_{path.stem}.png")
    if _has_math(nb):
        assert page["math"] > 0, "MathJax rendered no math"
    assert page["mathErrors"] == [], "TeX that MathJax could not typeset"
    assert page["images"] >= _image_outputs(nb)
    assert page["broken"] == 0 and page["noAlt"] == 0, page
    neighbours = [p.stem + ".html" for p in NOTEBOOKS]
    assert page["prev"] == ([neighbours[position - 1]] * 2 if position > 0 else [])
    assert page["next"] == ([neighbours[position + 1]] * 2 if position + 1 < len(NOTEBOOKS)
                            else [])
    assert _console_errors(browser) == []


def test_slides_advance(browser, served):
    from selenium.webdriver.common.keys import Keys

    deck = NOTEBOOKS[0].stem + ".slides.html"
    browser.get_log("browser")
    browser.get(f"{served}/slides/{deck}")
    for _ in range(100):
        if browser.execute_script("return !!(window.Reveal && Reveal.isReady())"):
            break
        time.sleep(0.1)
    else:
        pytest.fail("reveal.js did not start")
    _typeset(browser)
    assert browser.execute_script("return Reveal.getTotalSlides()") > 1, (
        "one slide only: run `python scripts/slides.py --apply notebooks/*.ipynb`")
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
    assert _console_errors(browser) == []


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

    def menu(top: str, item: str) -> None:
        wait.until(ec.element_to_be_clickable(
            (By.XPATH, f"//li[contains(@class,'lm-MenuBar-item')][.//div[text()='{top}']]"))
        ).click()
        wait.until(ec.element_to_be_clickable(
            (By.XPATH, f"//li[contains(@class,'lm-Menu-item')][.//div[text()='{item}']]"))
        ).click()

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
