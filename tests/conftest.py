"""Shared test set-up, and a closing line that says how many notebooks and tests ran."""

import matplotlib

matplotlib.use("Agg")  # headless: tests never open a window


def pytest_terminal_summary(terminalreporter):
    passed = terminalreporter.stats.get("passed", [])
    cells = [r for r in passed if r.nodeid.endswith(".ipynb") or ".ipynb::" in r.nodeid]
    notebooks = {r.nodeid.split("::")[0] for r in cells}
    terminalreporter.write_line(
        f"course: {len(notebooks)} notebooks re-executed under strict nbval "
        f"({len(cells)} cells passed), {len(passed) - len(cells)} unit tests passed")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: executes notebooks again in fresh kernels (skip with -m 'not slow')")
