"""Execute notebooks top to bottom in a fresh kernel and store the outputs they produce.

Usage: python scripts/execute_notebooks.py notebooks/01_*.ipynb ...

The kernel runs in the notebook's folder, as under nbval, so relative paths agree.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.write(nb, path)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"executing {arg}", flush=True)
        execute(Path(arg))
