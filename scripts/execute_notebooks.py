"""Execute notebooks top to bottom in a fresh kernel and store the outputs they produce.

Usage: python scripts/execute_notebooks.py notebooks/01_*.ipynb ...

The kernel runs in the notebook's folder, as under nbval, so relative paths agree. Widget state
is not stored (nbclient stores it by default): with it in the metadata, nbconvert's pages would
load a widget manager from a CDN; without it, a slider shows as its one line of text.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                            store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.write(nb, path)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"executing {arg}", flush=True)
        execute(Path(arg))
