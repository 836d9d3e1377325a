"""Shared test set-up: the ``slow`` marker; the skip policy; a closing line that says what ran.

``pytest -m 'not slow'`` runs the unit tests alone (under a minute); ``slow`` marks every test
that executes notebooks or starts a kernel, a server or a browser. Measured with
``--durations=0``, every other test takes well under 2 s.

Skips: a test that cannot run here (no Chromium, no npm assets) skips with its reason, and pytest
prints the reasons (``-rs`` in pyproject.toml). Under ``CI=true`` nothing may skip: CI installs
everything first (``make test`` does), so a skip there means a missing install step, and the
test is reported as failed instead.
"""

import os

import matplotlib
import pytest

matplotlib.use("Agg")  # headless: tests never open a window

# Fixtures that start a kernel (offline_env: the guarded kernels of test_rerun_offline.py;
# executed_student), a JupyterLab server (lab_server, lab), a Sphinx build (site) or a browser
# (browser, served).
SLOW_FIXTURES = {"offline_env", "executed_student", "lab_server", "lab", "browser", "served", "site"}


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


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and CI=true allows no skip: {reason}"


def pytest_terminal_summary(terminalreporter):
    stats = terminalreporter.stats
    passed = stats.get("passed", [])
    cells = [r for r in passed if r.nodeid.endswith(".ipynb") or ".ipynb::" in r.nodeid]
    notebooks = {r.nodeid.split("::")[0] for r in cells}
    skipped = [r for r in stats.get("skipped", []) if not hasattr(r, "wasxfail")]
    terminalreporter.write_line(
        f"course: {len(notebooks)} notebooks re-executed under strict nbval "
        f"({len(cells)} cells passed), {len(passed) - len(cells)} unit tests passed, "
        f"{len(skipped)} skipped")
