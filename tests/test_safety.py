"""Safety: no code loads pickles, and ``make lab`` serves on localhost with token auth on.

Unpickling runs code chosen by whoever wrote the file (``pickle``, ``torch.load``,
``pandas.read_pickle``, ``numpy.load(allow_pickle=True)``), so the course never does it: a scan of
course_utils, scripts and every notebook's code cells finds none of them. The ``make lab``
command is read from ``make -n`` (for the environment running the tests) and then started for
real on a free port, as root too where the tests run as root: it must listen on 127.0.0.1 only,
refuse a request without the token, accept the token it printed, and serve JupyterLab with the
news pop-up turned off.
"""

import ast
import fnmatch
import http.client
import json
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


def lab_command(target: str = "lab", **variables: str) -> tuple[dict[str, str], list[str]]:
    """The environment variables and command ``make lab`` (or ``make present``) sets and runs, as
    make expands them for the environment running these tests (``make -n`` runs nothing)."""
    assignments = [f"VENV={sys.prefix}", *(f"{k}={v}" for k, v in variables.items())]
    dry = subprocess.run(["make", "-n", "-s", target, *assignments], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    lines = [line for line in dry.replace("\\\n", " ").splitlines()
             if re.search(r"jupyter[ -](lab|server|notebook)", line)]
    assert len(lines) == 1, f"expected one jupyter command in `make -n {target}`:\n{dry}"
    words = shlex.split(lines[0])
    env = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return env, words


def project_files(pattern: str) -> list[Path]:
    """Files of the project matching ``pattern``, outside any virtual or conda environment
    (whatever its name: .venv, .venv313, a conda prefix) and outside npm's and git's folders."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders
                         if name not in {".git", "node_modules"}
                         and not (Path(folder, name, "pyvenv.cfg").exists()
                                  or Path(folder, name, "conda-meta").is_dir())]
        found += [Path(folder, name) for name in files if fnmatch.fnmatch(name, pattern)]
    return found


def test_project_files_skip_every_environment(tmp_path, monkeypatch):
    for venv in (".venv", ".venv313", "envs/conda"):
        config = tmp_path / venv / "etc" / "jupyter" / "jupyter_server_config.json"
        config.parent.mkdir(parents=True)
        config.write_text('{"ServerApp": {"token": ""}}')
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / ".venv313" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "envs" / "conda" / "conda-meta").mkdir()
    (tmp_path / "jupyter_lab_config.py").write_text("c.ServerApp.ip = '127.0.0.1'\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert project_files("jupyter_*config.*") == [tmp_path / "jupyter_lab_config.py"]


@pytest.mark.parametrize("target", ["lab", "present", "lab-zh"])
def test_make_lab_binds_localhost_and_keeps_token_auth(target):
    env, command = lab_command(target)
    localhost = re.compile(r"--(ServerApp\.)?ip=(127\.0\.0\.1|localhost)")
    assert any(localhost.fullmatch(arg) for arg in command), f"not bound to 127.0.0.1: {command}"
    weakening = re.compile(r"token|password|xsrf|allow_origin|allow_remote|authenticat|"
                           r"ip=(0\.0\.0\.0|\*|::)", re.I)
    assert not [arg for arg in command if weakening.search(arg)], command
    # lab adds config folders, never replaces the user's; present replaces it only by its own,
    # generated under build/, that holds the presentation CSS (custom.css is read only there).
    assert set(env) <= {"JUPYTER_CONFIG_PATH", "JUPYTER_CONFIG_DIR"}, env
    if target in ("lab", "lab-zh"):
        assert "JUPYTER_CONFIG_DIR" not in env
    if "JUPYTER_CONFIG_DIR" in env:
        assert Path(env["JUPYTER_CONFIG_DIR"]).is_relative_to(ROOT / "build"), env
    assert "JUPYTER_TOKEN" not in (ROOT / "Makefile").read_text()
    configs = project_files("jupyter_*config.*") + [
        path for folder in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if folder
        for path in Path(folder).rglob("*") if path.is_file()]
    assert any(path.name == "default_setting_overrides.json" for path in configs)
    for config in configs:
        assert not re.search(r"token|password|xsrf|allow_origin|allow_remote|ip\b",
                             config.read_text(), re.I), config


def test_make_lab_runs_as_root_and_opens_no_browser_without_a_display():
    _, command = lab_command(DISPLAY="", WAYLAND_DISPLAY="")
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    assert ("--allow-root" in command) == as_root, command
    assert "--no-browser" in command or sys.platform == "darwin", command
    _, with_display = lab_command(DISPLAY=":0")
    assert "--no-browser" not in with_display, with_display


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
    yield from serve(tmp_path, "lab")


@pytest.fixture
def lab_zh_server(tmp_path):
    yield from serve(tmp_path, "lab-zh")


def serve(tmp_path, target):
    """``make lab``'s (or ``make lab-zh``'s) command on a free port, isolated from the user's
    Jupyter config; as root where the tests run as root (``make lab`` adds --allow-root)."""
    port = free_port()
    variables, command = lab_command(target, DISPLAY="", WAYLAND_DISPLAY="")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    env.update(variables, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = tmp_path / "server.log"
    command += [f"--port={port}", "--ServerApp.port_retries=0"]
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


def _settings(port: int, token: str, plugin: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", f"/lab/api/settings/{plugin}?token={token}")
    response = connection.getresponse()
    settings = json.loads(response.read())
    connection.close()
    assert response.status == 200
    return {name: spec.get("default") for name, spec in settings["schema"]["properties"].items()}


def test_make_lab_refuses_requests_without_its_token(lab_server):
    pid, port, token = lab_server
    try:
        import psutil  # installed with IPython; without it, only the HTTP checks run
    except ImportError:
        psutil = None
    if psutil and sys.platform.startswith("linux"):
        server = psutil.Process(pid)

        def sockets(process):  # a short-lived child may exit between listing and asking
            try:
                return process.net_connections(kind="inet")
            except psutil.NoSuchProcess:
                return []
        listening = {c.laddr.ip for p in [server, *server.children(recursive=True)]
                     for c in sockets(p) if c.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}, f"listening on {listening}"
    assert get(port, "/api/contents").status == 403
    lab = get(port, "/lab")
    assert lab.status == 302 and "/login" in lab.getheader("Location", ""), lab.status
    assert token, "the server printed no token in its URL"
    assert get(port, f"/api/contents?token={token}").status == 200  # the printed link works
    assert get(port, "/api/contents?token=wrong").status == 403


def test_make_lab_turns_the_news_pop_up_off(lab_server):
    """JupyterLab's "get notified about Jupyter news?" question does not interrupt a class: the
    settings API serves the project's default (fetchNews "false"), not the schema's "none"."""
    _, port, token = lab_server
    assert token and get(port, f"/api/status?token={token}").status == 200
    defaults = _settings(port, token, "@jupyterlab/apputils-extension:notification")
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults


def test_make_lab_zh_opens_the_chinese_edition_in_a_chinese_interface(lab_zh_server):
    """`make lab-zh`: JupyterLab's locale defaults to zh_CN (jupyter-config/zh), the zh-CN
    language pack is installed, and the file browser shows notebooks/zh/."""
    _, port, token = lab_zh_server
    assert token
    assert _settings(port, token, "@jupyterlab/translation-extension:plugin")["locale"] == "zh_CN"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", f"/lab/api/translations/zh_CN?token={token}")
    pack = json.loads(connection.getresponse().read())
    connection.close()
    assert pack["data"].get("jupyterlab", {}).get("", {}).get("language") == "zh-CN", \
        str(pack)[:300]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", f"/api/contents?token={token}")
    names = {item["name"] for item in json.loads(connection.getresponse().read())["content"]}
    connection.close()
    assert names == {path.name for path in (ROOT / "notebooks" / "zh").glob("*.ipynb")}
    # The news setting of jupyter-config/ still applies.
    assert _settings(port, token, "@jupyterlab/apputils-extension:notification")["fetchNews"] \
        == "false"
