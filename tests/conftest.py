"""Shared test set-up: the ``slow`` marker, and a closing line that says what ran.

``pytest -m 'not slow'`` runs the unit tests alone (under a minute); ``slow`` marks every test
that executes notebooks or starts a kernel, a server or a browser. Measured with
``--durations=0``, every other test takes well under 2 s.
"""

import matplotlib
import pytest

matplotlib.use("Agg")  # headless: tests never open a window

# Fixtures that start a kernel (offline_env: the guarded kernels of test_rerun_offline.py;
# executed_student), a JupyterLab server (lab_server, lab) or a browser (browser, served).
SLOW_FIXTURES = {"offline_env", "executed_student", "lab_server", "lab", "browser", "served"}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: executes notebooks or starts a kernel, a server or a browser "
                   "(skip with -m 'not slow')")


def pytest_collection_modifyitems(items):
    """Mark slow: nbval's notebook cells, tests named *slow*, tests using a SLOW_FIXTURES one."""
    for item in items:
        if (item.path.suffix == ".ipynb" or "slow" in item.name
                or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter):
    passed = terminalreporter.stats.get("passed", [])
    cells = [r for r in passed if r.nodeid.endswith(".ipynb") or ".ipynb::" in r.nodeid]
    notebooks = {r.nodeid.split("::")[0] for r in cells}
    terminalreporter.write_line(
        f"course: {len(notebooks)} notebooks re-executed under strict nbval "
        f"({len(cells)} cells passed), {len(passed) - len(cells)} unit tests passed")
