"""Every notebook survives "Run all" twice in one kernel with the network blocked.

Students re-run cells and classrooms lose their network. Each notebook runs top to bottom twice
in the same kernel, whose ``sitecustomize`` makes any socket connection or name lookup raise
``RuntimeError("network access attempted during the course: ...")``. No cell may fail, and
every text output nbval compares must be the same in both passes. Exempt are cells tagged
``nbval-ignore-output`` (timings), and cells tagged ``rerun-continues`` whose code says in a
comment that running them again continues (e.g. training from where it stopped). Which cells
run and which are compared, the rewrites and the comparison itself are nbval's own
(``nbval.plugin``), so "the same" means here what it means under ``make test``. The kernel
talks to this test through ZeroMQ, which is C code and does not go through Python's ``socket``
module, so the guard leaves it alone. A positive control shows that the guard really blocks,
and that the real d2l still imports under it.
"""

import copy
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbclient import NotebookClient
from nbval.plugin import IPyNbCell, coalesce_streams, get_sanitize_patterns, nocolors

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from bench import as_tested, nbval_options  # noqa: E402  (the benchmark runs cells the same way)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MESSAGE = "network access attempted during the course"
# What nbval 0.11 leaves out of a comparison when run without --nbdime (IPyNbFile.skip_compare).
SKIP_COMPARE = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")

GUARD = f'''"""Test-only network guard: every socket connection or name lookup raises."""
import socket

NETWORK_GUARD = True


def _refuse(what, args):
    raise RuntimeError(f"{MESSAGE}: {{what}}{{args!r}}")


def _connect(self, address):
    _refuse("socket.connect", (address,))


def _connect_ex(self, address):
    _refuse("socket.connect_ex", (address,))


def _create_connection(address, *args, **kwargs):
    _refuse("socket.create_connection", (address,))


def _getaddrinfo(host, port, *args, **kwargs):
    _refuse("socket.getaddrinfo", (host, port))


def _gethostbyname(host, *args):
    _refuse("socket.gethostbyname", (host,))


socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex
socket.create_connection = _create_connection
socket.getaddrinfo = _getaddrinfo
socket.gethostbyname = socket.gethostbyname_ex = _gethostbyname
'''

PROBE = (
    "import socket, sitecustomize\n"
    "assert sitecustomize.NETWORK_GUARD and socket.socket.connect.__name__ == '_connect', "
    "'the network guard is not active in this kernel'"
)


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory):
    """Environment for a kernel whose Python refuses every network connection."""
    guard_dir = tmp_path_factory.mktemp("network_guard")
    (guard_dir / "sitecustomize.py").write_text(GUARD)
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(guard_dir), env.get("PYTHONPATH")]))
    return env


class Comparison:
    """nbval's own comparison of a cell's outputs (``IPyNbCell.compare_outputs``), with the
    rewrites of tests/nbval_sanitize.cfg read by nbval's parser, outside a pytest collection."""

    compare_outputs, sanitize, colors = IPyNbCell.compare_outputs, IPyNbCell.sanitize, nocolors

    def __init__(self):
        rules = get_sanitize_patterns((ROOT / "tests" / "nbval_sanitize.cfg").read_text())
        self.parent = SimpleNamespace(skip_compare=SKIP_COMPARE, sanitize_patterns=dict(rules))

    def format_output_compare(self, key, left, right):
        self.comparison_traceback.append(f"{key}: first run {left!r}\n  second run {right!r}")

    def difference(self, first, second) -> str | None:
        """None if nbval accepts ``second``'s outputs against ``first``'s, else what differs."""
        same = self.compare_outputs(coalesce_streams(copy.deepcopy(second.outputs)),
                                    coalesce_streams(copy.deepcopy(first.outputs)))
        return None if same else "\n".join(self.comparison_traceback)


def run_passes(nb, cwd: Path, env: dict, passes: int, probe: bool = True) -> list[list]:
    """Run the cells nbval runs ``passes`` times in one kernel; their outputs after each pass."""
    nb = as_tested(nb)  # cells nbval skips become raw cells; expected errors are allowed
    if probe:
        nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    client = NotebookClient(nb, timeout=600, kernel_name="python3", shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(cwd)}})
    results = []
    with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):
        for number in range(1, passes + 1):
            for index, cell in cells:
                try:
                    client.execute_cell(cell, index)
                except Exception as error:
                    pytest.fail(f"pass {number}, cell {index} failed:\n{error}", pytrace=False)
            results.append(copy.deepcopy([cell for _, cell in cells]))
    return results


def test_guard_blocks_the_network_and_d2l_still_imports(offline_env):
    """Positive control: under the guard, urlopen and raw sockets fail with the message."""
    cells = [
        "from d2l import torch as d2l\nprint(d2l.__name__)",
        "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=5)",
        "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)",
        "import socket\nsocket.socket().connect(('93.184.215.14', 80))",
        "import socket\nsocket.socket().connect_ex(('127.0.0.1', 9))",
        "import socket\nsocket.getaddrinfo('pypi.org', 443)",
        "import requests\nrequests.get('https://example.com', timeout=5)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    for cell in nb.cells[1:]:
        cell.metadata["tags"] = ["raises-exception"]
    (outputs,) = run_passes(nb, ROOT / "notebooks", offline_env, passes=1)
    assert outputs[0].outputs[0].text == "d2l.torch\n"
    for cell in outputs[1:-1]:  # the last one is the probe
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors, f"no error from:\n{cell.source}"
        # urllib and requests wrap the RuntimeError in their own errors; the message survives
        assert MESSAGE in errors[0].evalue or MESSAGE in "\n".join(errors[0].traceback), (
            f"{cell.source!r} failed, but not because of the guard: {errors[0].ename}")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_reruns_offline_with_the_same_results(path, offline_env):
    nb = nbformat.read(path, as_version=4)
    first, second = run_passes(nb, path.parent, offline_env, passes=2)
    comparison = Comparison()
    differences = []
    for before, after in zip(first, second):
        if "rerun-continues" in before.metadata.get("tags", []):
            assert re.search(r"#.*continu", before.source, re.I), (
                f"{path.name}: a cell tagged rerun-continues must say so in a comment:\n"
                f"{before.source[:200]}")
            continue
        if not nbval_options(before).get("check", True):  # e.g. nbval-ignore-output
            continue
        difference = comparison.difference(before, after)
        if difference:
            head = before.source.splitlines()[0] if before.source else ""
            differences.append(f"cell `{head[:60]}`:\n{difference[:2000]}")
    assert not differences, (
        f"{path.name}: a second 'Run all' in the same kernel prints something else "
        "(re-initialise what a cell trains and re-seed before it, or tag a cell that "
        "deliberately continues `rerun-continues` and say so in a comment):\n\n"
        + "\n\n".join(differences))


def test_cells_are_run_and_compared_by_nbvals_rules():
    """The markers, rewrites and comparison above are nbval's, with nbval's exact rules."""
    code = nbformat.v4.new_code_cell
    skipped, ignored, raising = code("# NBVAL_SKIP\n1"), code("1"), code("# NBVAL_RAISES_EXCEPTION")
    ignored.metadata["tags"] = ["nbval-ignore-output"]
    not_a_marker = code("# NBVAL_SKIP: slow")  # nbval reads a marker only as a whole comment
    nb = as_tested(nbformat.v4.new_notebook(cells=[skipped, ignored, raising, not_a_marker]))
    assert [c.cell_type for c in nb.cells] == ["raw", "code", "code", "code"]
    assert nbval_options(ignored) == {"check": False}
    assert nb.cells[2].metadata["tags"] == ["raises-exception"]  # what nbclient lets fail

    def cell(*outputs):
        return code(outputs=[nbformat.v4.new_output(kind, **fields) for kind, fields in outputs])

    def result(text, png="iVBO"):
        return ("execute_result",
                {"data": {"text/plain": text, "image/png": png}, "execution_count": 1})

    compare = Comparison().difference
    assert compare(cell(("stream", {"name": "stdout", "text": "a\nb\n"})),
                   cell(("stream", {"name": "stdout", "text": "a\n"}),
                        ("stream", {"name": "stdout", "text": "b\n"}))) is None  # coalesced
    assert compare(cell(result("<f at 0x7f3a12345678>")),
                   cell(result("<f at 0x7f00aa00bb00>"))) is None  # tests/nbval_sanitize.cfg
    assert compare(cell(result("1.0", png="iVBOa")), cell(result("1.0", png="iVBOb"))) is None
    assert "text/plain" in compare(cell(result("1.0")), cell(result("1.1")))
    assert "Missing output fields" in compare(cell(result("1.0")), cell())
