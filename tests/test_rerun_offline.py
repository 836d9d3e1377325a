"""Every notebook survives "Run all" twice in one kernel with the network blocked.

Students re-run cells and classrooms lose their network. Each notebook runs top to bottom twice
in the same kernel, whose ``sitecustomize`` makes any socket connection or name lookup raise
``RuntimeError("network access attempted during the course: ...")``. No cell may fail, and
every text output nbval compares must be the same in both passes. Exempt are cells tagged
``nbval-ignore-output`` (timings), and cells tagged ``rerun-continues`` whose code says in a
comment that running them again continues (e.g. training from where it stopped). The kernel
talks to this test through ZeroMQ, which is C code and does not go through Python's ``socket``
module, so the guard leaves it alone. A positive control shows that the guard really blocks,
and that the real d2l still imports under it.
"""

import configparser
import copy
import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from bench import nbval_markers as markers  # noqa: E402  (how the benchmark reads them too)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MESSAGE = "network access attempted during the course"
COMPARED = ("text/plain", "text/html", "text/latex", "image/svg+xml")  # as nbval compares

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


def sanitizers() -> list[tuple[re.Pattern, str]]:
    """The rewrites nbval applies before comparing (tests/nbval_sanitize.cfg), in order."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def compared_text(cell, rules) -> str:
    """What nbval compares of a cell's outputs, as text: streams coalesced, rewrites applied."""
    parts: list[str] = []
    previous_stream = None
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            if output.name == previous_stream:
                parts[-1] += output.text
            else:
                parts.append(f"[{output.name}]\n{output.text}")
            previous_stream = output.name
            continue
        previous_stream = None
        if output.output_type == "error":
            parts.append(f"[error] {output.ename}: {output.evalue}")
        else:
            for mime in COMPARED:
                if mime in output.get("data", {}):
                    parts.append(f"[{output.output_type} {mime}]\n{output.data[mime]}")
    text = "\n".join(parts)
    for regex, replace in rules:
        text = regex.sub(replace, text)
    return text


def run_passes(nb, cwd: Path, env: dict, passes: int, probe: bool = True) -> list[list]:
    """Run every code cell ``passes`` times in one kernel; the cells' outputs after each pass."""
    nb = copy.deepcopy(nb)
    if probe:
        nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    cells = [(i, c) for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and "nbval-skip" not in markers(c)]
    for _, cell in cells:
        cell.metadata.setdefault("tags", []).extend(markers(cell) & {"raises-exception"})
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
    rules = sanitizers()
    differences = []
    for before, after in zip(first, second):
        marks = markers(before)
        if "rerun-continues" in marks:
            assert re.search(r"#.*continu", before.source, re.I), (
                f"{path.name}: a cell tagged rerun-continues must say so in a comment:\n"
                f"{before.source[:200]}")
            continue
        if "nbval-ignore-output" in marks:
            continue
        old, new = compared_text(before, rules), compared_text(after, rules)
        if old != new:
            diff = difflib.unified_diff(old.splitlines(), new.splitlines(), "first run",
                                        "second run", lineterm="", n=1)
            head = before.source.splitlines()[0] if before.source else ""
            differences.append(f"cell `{head[:60]}`:\n" + "\n".join(list(diff)[:20]))
    assert not differences, (
        f"{path.name}: a second 'Run all' in the same kernel prints something else "
        "(re-initialise what a cell trains and re-seed before it, or tag a cell that "
        "deliberately continues `rerun-continues` and say so in a comment):\n\n"
        + "\n\n".join(differences))
