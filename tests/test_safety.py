"""Safety: no code loads pickles, and ``make lab`` serves on localhost with token auth on.

Unpickling runs code chosen by whoever wrote the file (``pickle``, ``torch.load``,
``pandas.read_pickle``, ``numpy.load(allow_pickle=True)``), so the course never does it: a scan of
course_utils, scripts and every notebook's code cells finds none of them. The ``make lab``
command is read from ``make -n`` and then started for real on a free port: it must listen on
127.0.0.1 only, refuse a request without the token, and accept the token it printed.
"""

import ast
import http.client
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
PICKLE_MODULES = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve",
                  "marshal"}
UNSAFE_CALLS = {"torch.load", "torch.serialization.load", "pandas.read_pickle", "joblib.load"}
COMMON_ALIASES = {"np": "numpy", "pd": "pandas"}


def unsafe_loads(source: str) -> list[str]:
    """The lines of ``source`` that import a pickle module or call a pickle-based loader."""
    tree = ast.parse(source)
    aliases = dict(COMMON_ALIASES)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name
                if alias.name.split(".")[0] in PICKLE_MODULES:
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                if (node.module.split(".")[0] in PICKLE_MODULES
                        or f"{node.module}.{alias.name}" in UNSAFE_CALLS
                        or alias.name == "read_pickle"):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        try:
            dotted = ast.unparse(node.func)
        except Exception:  # a call on a complex expression: not a module function
            continue
        head, _, rest = dotted.partition(".")
        name = ".".join(filter(None, [aliases.get(head, head), rest]))
        allow_pickle = next((k.value for k in node.keywords if k.arg == "allow_pickle"), None)
        if (name in UNSAFE_CALLS or name.startswith("torch.hub.")
                or name.split(".")[0] in PICKLE_MODULES or name.endswith("read_pickle")
                or (name == "numpy.load" and allow_pickle is not None
                    and not (isinstance(allow_pickle, ast.Constant)
                             and allow_pickle.value is False))):
            found.append(f"line {node.lineno}: {dotted}(...)")
    return found


def course_sources() -> list[tuple[str, str]]:
    """(where, Python source) for every module, script and notebook code cell of the course."""
    sources = [(str(p.relative_to(ROOT)), p.read_text()) for folder in ("course_utils", "scripts")
               for p in sorted((ROOT / folder).rglob("*.py"))]
    transform = TransformerManager().transform_cell  # turns %magics into Python
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        sources += [(f"{path.name} cell {i}", transform(cell.source))
                    for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    return sources


def test_the_scanner_finds_pickle_loads():
    bad = ["import pickle", "from joblib import load", "import torch\ntorch.load('m.pt')",
           "import torch as t\nt.load('m.pt')", "from torch import load",
           "import pandas as pd\npd.read_pickle('d.pkl')", "df = pd.read_pickle('d.pkl')",
           "import numpy as np\nnp.load('a.npy', allow_pickle=True)",
           "import numpy\nnumpy.load('a.npy', allow_pickle=flag)",
           "import torch\ntorch.hub.load('pytorch/vision', 'resnet18')",
           "import dill\ndill.loads(b'')"]
    good = ["import numpy as np\nnp.load('a.npy')", "np.load('a.npy', allow_pickle=False)",
            "import pandas as pd\npd.read_csv('d.csv')", "import torch\ntorch.save({}, 'm.pt')",
            "import json\njson.load(open('x.json'))"]
    for source in bad:
        assert unsafe_loads(source), source
    for source in good:
        assert not unsafe_loads(source), source


def test_no_code_loads_pickles():
    sources = course_sources()
    assert any(where.startswith("course_utils") for where, _ in sources)
    assert any(".ipynb" in where for where, _ in sources)
    found = [f"{where}, {hit}" for where, source in sources for hit in unsafe_loads(source)]
    assert not found, ("pickle-based loading runs arbitrary code; use CSV/JSON/.npy:\n"
                       + "\n".join(found))


def lab_command() -> list[str]:
    """The command ``make lab`` runs, as make expands it (``make -n`` prints, runs nothing)."""
    dry = subprocess.run(["make", "-n", "-s", "lab"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    lines = [line for line in dry.splitlines()
             if re.search(r"jupyter[ -](lab|server|notebook)", line)]
    assert len(lines) == 1, f"expected one jupyter command in `make -n lab`:\n{dry}"
    return shlex.split(lines[0])


def test_make_lab_binds_localhost_and_keeps_token_auth():
    command = lab_command()
    localhost = re.compile(r"--(ServerApp\.)?ip=(127\.0\.0\.1|localhost)")
    assert any(localhost.fullmatch(arg) for arg in command), f"not bound to 127.0.0.1: {command}"
    weakening = re.compile(r"token|password|xsrf|allow_origin|allow_remote|authenticat|"
                           r"ip=(0\.0\.0\.0|\*|::)", re.I)
    assert not [arg for arg in command if weakening.search(arg)], command
    makefile = (ROOT / "Makefile").read_text()
    assert "JUPYTER_TOKEN" not in makefile and "JUPYTER_CONFIG_DIR" not in makefile
    configs = [p for p in ROOT.rglob("jupyter_*config.*") if ".venv" not in p.parts]
    for config in configs:
        assert not re.search(r"token|password|disable_check_xsrf", config.read_text()), config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture
def lab_server(tmp_path):
    """``make lab``'s command on a free port, isolated from the user's Jupyter config."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = tmp_path / "server.log"
    command = lab_command() + [f"--port={port}", "--ServerApp.port_retries=0", "--no-browser"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI run as root; auth is unaffected
    with log.open("w") as sink:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, f"jupyter exited:\n{log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"jupyter did not start:\n{log.read_text()[-2000:]}"
            try:
                if get(port, "/api").status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        token = re.search(r"[?&]token=([0-9a-f]+)", log.read_text())
        yield server.pid, port, token.group(1) if token else None
    finally:
        if server.poll() is None:
            server.terminate()  # SIGTERM: the server shuts down without asking
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_make_lab_refuses_requests_without_its_token(lab_server):
    pid, port, token = lab_server
    try:
        import psutil  # installed with IPython; without it, only the HTTP checks run
    except ImportError:
        psutil = None
    if psutil and sys.platform.startswith("linux"):
        server = psutil.Process(pid)
        listening = {c.laddr.ip for p in [server, *server.children(recursive=True)]
                     for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}, f"listening on {listening}"
    assert get(port, "/api/contents").status == 403
    lab = get(port, "/lab")
    assert lab.status == 302 and "/login" in lab.getheader("Location", ""), lab.status
    assert token, "the server printed no token in its URL"
    assert get(port, f"/api/contents?token={token}").status == 200  # the printed link works
    assert get(port, "/api/contents?token=wrong").status == 403
