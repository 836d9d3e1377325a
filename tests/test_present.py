"""`make present`, checked in a real browser (headless Debian Chromium) at 1280x720.

The test runs the Makefile's own recipe on a copy of the project (so that autosave cannot touch
the real notebooks), with the port and token given through JUPYTER_PORT and JUPYTER_TOKEN and no
display: the server has to start as the current user (root in containers, which needs
--allow-root), serve the presenting custom.css, open in the Simple Interface without the news
pop-up, switch to Presentation Mode with Alt+P, show text and code at projector sizes there, and
run a code cell while presenting. Nothing is installed here: without Chromium, ChromeDriver or
selenium the test skips with the reason (and under CI=true the skip fails, tests/conftest.py).
Screenshots go to build/screenshots/present_*.png.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # each test starts JupyterLab through make (5-30 s)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import SCREENSHOTS, chrome, lab_menu  # noqa: E402
NOTEBOOK = sorted((ROOT / "notebooks").glob("01_*.ipynb"))[0]
CSS = ROOT / "jupyter-config" / "present" / "custom" / "custom.css"
WIDTH, HEIGHT = 1280, 720
# Presentation Mode must show at least these (px); Lab's own are 17 and 16, its normal 14 and 13.
MIN_TEXT, MIN_CODE = 24, 22
# Computed font sizes (px) of what a class reads; each selector's first match in the notebook.
MEASURE = """
const notebook = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
const size = selector => {
  const element = notebook.querySelector(selector);
  return element ? parseFloat(getComputedStyle(element).fontSize) : null;
};
return {
  text: size('.jp-MarkdownCell .jp-RenderedMarkdown p'),
  list: size('.jp-MarkdownCell .jp-RenderedMarkdown li'),
  heading: size('.jp-MarkdownCell .jp-RenderedMarkdown h1'),
  code: size('.jp-CodeCell .cm-content'),
  output: size('.jp-CodeCell .jp-OutputArea-output pre'),
};"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium with a 1280x720 viewport (test_browser.chrome), or a stated skip."""
    driver = chrome(tmp_path_factory.mktemp("chromium-profile"), WIDTH, HEIGHT)
    yield driver
    driver.quit()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def present(tmp_path):
    """`make present` in a copy of the project, from this venv; yields (url, token, project)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "Makefile", project)
    shutil.copytree(ROOT / "jupyter-config", project / "jupyter-config")
    shutil.copytree(ROOT / "notebooks", project / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    venv = Path(sys.executable).parent.parent
    token, port = os.urandom(16).hex(), _free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in {"DISPLAY", "WAYLAND_DISPLAY", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
           and not key.startswith(("JUPYTER_", "JUPYTERLAB_"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", JUPYTER_PORT=str(port),
               JUPYTER_PORT_RETRIES="0", JUPYTER_TOKEN=token)
    log_path = tmp_path / "present.log"
    log = log_path.open("w")
    # -o: the venv is this one, already installed; make must not reinstall into it.
    server = subprocess.Popen(
        ["make", "--no-print-directory", f"VENV={venv}", "-o", f"{venv}/.installed", "present"],
        cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if server.poll() is not None:
                pytest.fail("make present exited:\n" + log_path.read_text()[-3000:])
            try:
                if _get(f"{url}/api/status?token={token}")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("make present did not serve in 60 s:\n" + log_path.read_text()[-3000:])
        yield url, token, project, log_path
    finally:
        _stop(server, f"{url}/api/shutdown?token={token}")
        log.close()


def _stop(server: subprocess.Popen, shutdown_url: str) -> None:
    """Shut JupyterLab down, then SIGTERM, then SIGKILL make's process group (make, Lab, kernels).

    A Lab stuck while shutting down ignores SIGTERM and would outlive make as an orphan."""
    try:
        urllib.request.urlopen(urllib.request.Request(shutdown_url, method="POST"),
                               timeout=10).close()
    except OSError:
        pass
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            try:
                os.killpg(server.pid, sig)
            except ProcessLookupError:
                return
        if sig == signal.SIGKILL:
            server.wait(timeout=20)
            return
        for _ in range(100):
            server.poll()  # reaps make once it exits
            try:
                os.killpg(server.pid, 0)
            except ProcessLookupError:
                return  # no process of the group is left
            time.sleep(0.2)


def test_present_server(present):
    """Served as the current user on 127.0.0.1 with the token, with the presenting custom.css."""
    url, token, project, log_path = present
    log = log_path.read_text()
    assert f"http://127.0.0.1:{url.rsplit(':', 1)[1]}/lab?token=" in log
    assert ("--allow-root" in log) == (os.geteuid() == 0), "--allow-root only as root"
    assert "--no-browser" in log, "no display, so no browser to open"
    assert _get(f"{url}/api/status")[0] == 403, "the API answers without the token"
    status, css = _get(f"{url}/custom/custom.css?token={token}")
    assert status == 200 and css == CSS.read_bytes()
    assert (project / "build" / "jupyter-present" / "custom" / "custom.css").exists()
    assert "Serving notebooks from local directory: " + str(project / "notebooks") in log


def test_present_in_browser(browser, present):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, token, _, _ = present
    cells = nbformat.read(NOTEBOOK, 4).cells
    # The first code cell that prints, and how many code cells run up to it (its prompt number).
    target = next(i for i, c in enumerate(cells) if c.cell_type == "code"
                  and any(o.get("name") == "stdout" for o in c.get("outputs", [])))
    count = sum(c.cell_type == "code" for c in cells[:target + 1])
    printed = next(o["text"] for o in cells[target].outputs if o.get("name") == "stdout")

    browser.get_log("browser")
    browser.get(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
    wait = WebDriverWait(browser, 60)
    idle = (By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']")
    wait.until(ec.presence_of_element_located(idle), "the kernel did not become idle")
    shell = browser.find_element(By.ID, "main")
    wait.until(lambda _: shell.get_attribute("data-shell-mode") == "single-document",
               "not in the Simple Interface: the shell's startMode override is not applied")
    assert browser.execute_script("return [innerWidth, innerHeight]") == [WIDTH, HEIGHT]
    assert "jp-mod-presentationMode" not in shell.get_attribute("class")
    # Cells attach to the page a few at a time; each carries its index in the notebook.
    cell = f".jp-Notebook .jp-Cell[data-windowed-list-index='{target}']"
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, cell)))
    # Markdown renders once its cell is attached: measure when everything measured is there.
    editing = wait.until(lambda driver: (lambda sizes: all(sizes.values()) and sizes)(
        driver.execute_script(MEASURE)))

    def keys(*modifiers_and_key) -> None:
        *modifiers, key = modifiers_and_key
        chain = ActionChains(browser)
        for modifier in modifiers:
            chain.key_down(modifier)
        chain.send_keys(key)
        for modifier in reversed(modifiers):
            chain.key_up(modifier)
        chain.perform()

    def menu(top: str, item: str) -> None:
        lab_menu(wait, top, item)

    def prompt(driver) -> str:
        return driver.execute_script("return document.querySelector(arguments[0])"
                                     ".textContent.trim()", f"{cell} .jp-InputPrompt")

    keys(Keys.ALT, "p")  # bound by jupyter-config/present to View > Presentation Mode
    wait.until(lambda _: "jp-mod-presentationMode" in shell.get_attribute("class"),
               "Alt+P did not switch Presentation Mode on")
    keys(Keys.CONTROL, "b")  # hide the file browser, as the README says, for the whole width
    presenting = browser.execute_script(MEASURE)
    browser.save_screenshot(str(SCREENSHOTS / "present_01_top.png"))

    # While presenting: clear the stored outputs, then run the cells down to the target with
    # Shift+Enter, as an instructor does; the target's output is this run's.
    menu("Edit", "Clear Outputs of All Cells")
    wait.until(lambda driver: prompt(driver) in ("[ ]:", ""))
    # Keys to the notebook, whose first cell is the active one (a click could land on a link).
    browser.execute_script("document.querySelector('.jp-Notebook').focus()")
    for _ in range(target + 1):
        keys(Keys.SHIFT, Keys.ENTER)
    try:
        WebDriverWait(browser, 120, poll_frequency=0.5).until(
            lambda driver: prompt(driver) == f"[{count}]:"
            and driver.find_elements(*idle), f"cell {target} did not run")
    finally:
        browser.execute_script(  # the output, or the cell when there is none
            "(document.querySelector(arguments[0] + ' .jp-OutputArea-output')"
            " || document.querySelector(arguments[0])).scrollIntoView({block: 'center'})", cell)
        time.sleep(0.5)
        browser.save_screenshot(str(SCREENSHOTS / "present_01_ran.png"))
    assert "jp-mod-presentationMode" in shell.get_attribute("class")
    shown = browser.execute_script(
        "const output = document.querySelector(arguments[0] + ' .jp-OutputArea-output pre');"
        "return output && [output.textContent, parseFloat(getComputedStyle(output).fontSize)]",
        cell)
    assert shown is not None, "the cell ran but shows no output"
    assert shown[0].strip() == printed.strip()
    assert shown[1] >= MIN_CODE
    code_overflow = browser.execute_script(
        "return [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .cm-scroller')]"
        ".filter(s => s.getBoundingClientRect().height > 0"
        " && s.scrollWidth > s.clientWidth + 1).length")

    assert "Jupyter news" not in browser.find_element(By.TAG_NAME, "body").text
    errors = [entry["message"] for entry in browser.get_log("browser")
              if entry["level"] == "SEVERE"]

    assert editing["text"] < MIN_TEXT and editing["code"] < MIN_CODE, (
        "larger type outside Presentation Mode too", editing)
    assert presenting["text"] >= MIN_TEXT and presenting["list"] >= MIN_TEXT, presenting
    assert presenting["code"] >= MIN_CODE and presenting["output"] >= MIN_CODE, presenting
    assert presenting["heading"] > presenting["text"], presenting
    assert code_overflow == 0, "code lines cut off at the right edge while presenting"
    assert errors == [], errors
