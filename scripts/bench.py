"""Benchmark the notebooks: time and peak memory in fresh kernels, against a bare-imports floor.

Usage: python scripts/bench.py [--runs 3] [--json build/bench.json] [notebooks/*.ipynb]

Each round executes every notebook top to bottom in a fresh kernel (cwd = its folder, as under
nbval), and, just before it, its *floor*: a fresh kernel that only runs the notebook's import
statements (the top-level ones of its code cells, found with ``ast``; notebooks with the same
imports share one floor per round). Cells run as under nbval: NBVAL_SKIP cells are left out.
A time is the wall time from launching the kernel to the reply of its last cell, so both include
the kernel's start-up. Peak memory is the kernel process's peak resident set size
(VmHWM from /proc, read just before shutdown). Medians over the rounds go in a Markdown table, then
the series total against the summed floors and the targets: total <= 1.5 x floor, peak <= 1.5 GB.
The slowest cells of each notebook are listed under the table, as a first profile.

Exit status 1 if a notebook fails to run; missing a target is reported, not an error.
"""

import argparse
import ast
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient
from nbval.plugin import find_comment_markers, find_metadata_tags

TIME_RATIO_TARGET = 1.5
PEAK_TARGET_MB = 1.5 * 1024
SLOW_CELL_S = 0.5  # cells faster than this are not listed as slow


@dataclass
class Run:
    seconds: float
    peak_mb: float | None
    cell_seconds: dict[int, float] = field(default_factory=dict)


def import_lines(nb: nbformat.NotebookNode) -> list[str]:
    """The import statements at the top level of the notebook's code cells, in order, once each.

    Imports nested in functions, ``if`` or ``try`` blocks are left out: they may not run.
    """
    lines: list[str] = []
    transform = TransformerManager().transform_cell  # turns %magics into Python
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(transform(cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and ast.unparse(node) not in lines:
                lines.append(ast.unparse(node))
    return lines


def nbval_options(cell) -> dict[str, bool]:
    """nbval's options for a code cell (``skip``, ``check``, ``check_exception``), read by nbval's
    own functions as nbval reads them: the cell's tags, overridden by its comment markers."""
    options = dict(find_metadata_tags(cell.metadata))
    options.update(find_comment_markers(cell.source))
    return options


def as_tested(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` that runs as under nbval: skipped cells out, expected errors allowed."""
    nb = nbformat.from_dict(nb)
    for index, cell in enumerate(nb.cells):
        options = nbval_options(cell) if cell.cell_type == "code" else {}
        if options.get("skip"):
            nb.cells[index] = nbformat.v4.new_raw_cell(cell.source)  # not run; cell numbers stay
        elif options.get("check_exception"):  # the tag nbclient understands
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), "raises-exception"]
    return nb


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident set size of a live process (Linux VmHWM), in MB; None where unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_kernel(nb: nbformat.NotebookNode, cwd: Path) -> Run:
    """Execute ``nb`` in a fresh kernel; wall time from launch to last reply, and peak memory."""
    client = NotebookClient(nb, timeout=1800, kernel_name="python3", record_timing=False,
                            shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(cwd)}})
    cell_seconds: dict[int, float] = {}
    start = time.perf_counter()
    with client.setup_kernel(stderr=subprocess.DEVNULL):  # no kernel start-up warnings
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell_start = time.perf_counter()
            client.execute_cell(cell, index)
            cell_seconds[index] = time.perf_counter() - cell_start
        seconds = time.perf_counter() - start
        peak = peak_rss_mb(client.km.provisioner.process.pid)
    return Run(seconds, peak, cell_seconds)


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "n/a" if value is None else format(value, spec)


def first_line(source: str) -> str:
    line = next((s for s in source.splitlines() if s.strip() and not s.startswith("#")), "")
    return line if len(line) <= 60 else line[:57] + "..."


def measure(notebooks: dict[Path, nbformat.NotebookNode], floors: dict[Path, str], rounds: int
            ) -> tuple[dict[Path, list[Run]], dict[str, list[Run]], dict[Path, str]]:
    """Rounds of (floor, notebook) runs; the runs by notebook, by floor, and the failures."""
    runs: dict[Path, list[Run]] = {path: [] for path in notebooks}
    floor_runs: dict[str, list[Run]] = {src: [] for src in floors.values()}
    failed: dict[Path, str] = {}
    for round_ in range(1, rounds + 1):
        measured_floors: set[str] = set()
        for path, nb in notebooks.items():
            if path in failed:
                continue
            src = floors[path]
            try:
                if src not in measured_floors:
                    floor_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src)])
                    floor_runs[src].append(run_kernel(floor_nb, path.parent))
                    measured_floors.add(src)
                run = run_kernel(nbformat.from_dict(nb), path.parent)
            except Exception as error:  # a cell error, a dead kernel or a timeout
                message = str(error).strip().splitlines() or [type(error).__name__]
                failed[path] = message[-1][:120]
                print(f"  round {round_}: {path.name} FAILED: {failed[path]}", flush=True)
                continue
            runs[path].append(run)
            print(f"  round {round_}: {path.name} {run.seconds:.1f} s (floor "
                  f"{floor_runs[src][-1].seconds:.1f} s), peak {fmt(run.peak_mb, '.0f')} MB",
                  flush=True)
    return runs, floor_runs, failed


def report(notebooks, floors, runs, floor_runs, failed, rounds: int) -> None:
    """Print the Markdown table, the targets' verdicts and the slowest cells."""
    rows, total, total_floor, worst_peak = [], 0.0, 0.0, 0.0
    for path in notebooks:
        floor = median([r.seconds for r in floor_runs[floors[path]]])
        floor_peak = median([r.peak_mb for r in floor_runs[floors[path]]])
        if path in failed or not runs[path] or floor is None:
            rows.append(f"| {path.stem} | failed: {failed.get(path, 'no run')} | | | | | |")
            continue
        times = [r.seconds for r in runs[path]]
        seconds, peak = median(times), max((r.peak_mb or 0.0) for r in runs[path])
        total, total_floor, worst_peak = total + seconds, total_floor + floor, max(worst_peak, peak)
        rows.append(f"| {path.stem} | {seconds:.1f} | {min(times):.1f}–{max(times):.1f} "
                    f"| {floor:.1f} | {seconds / floor:.2f} | {peak:.0f} "
                    f"| {fmt(floor_peak, '.0f')} |")
    print("\n| notebook | time (s) | range (s) | floor (s) | ratio | peak memory (MB) "
          "| floor peak (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    if total_floor:
        print(f"| **series** | **{total:.1f}** | | **{total_floor:.1f}** "
              f"| **{total / total_floor:.2f}** | **{worst_peak:.0f}** (max) | |")
    print(f"\nMedian of {rounds} fresh-kernel runs per notebook on {os.cpu_count()} CPUs "
          f"({platform.machine()}, Python {platform.python_version()}); a time runs from kernel "
          "launch to the last cell's reply; the floor is a fresh kernel running only the "
          "notebook's imports; peak memory is the kernel's peak RSS. "
          "Reproduce: `make bench` (options: `RUNS=5`, `NB=notebooks/04_….ipynb`).\n")
    if total_floor:
        time_ok = total <= TIME_RATIO_TARGET * total_floor and not failed
        peak_ok = worst_peak <= PEAK_TARGET_MB and not failed
        print(f"target time: series {total:.1f} s <= {TIME_RATIO_TARGET} x floor "
              f"{total_floor:.1f} s = {TIME_RATIO_TARGET * total_floor:.1f} s: "
              f"{'met' if time_ok else 'MISSED'}")
        print(f"target memory: peak {worst_peak:.0f} MB <= {PEAK_TARGET_MB:.0f} MB per kernel: "
              f"{'met' if peak_ok else 'MISSED'}")

    print(f"\nslowest cells (median s, {SLOW_CELL_S} s or more; what to profile first):")
    for path, nb in notebooks.items():
        if not runs[path]:
            continue
        cells = {i: median([r.cell_seconds[i] for r in runs[path]])
                 for i in runs[path][0].cell_seconds}
        slow = sorted(((s, i) for i, s in cells.items() if s >= SLOW_CELL_S), reverse=True)[:3]
        listed = "; ".join(f"cell {i} {s:.1f} s `{first_line(nb.cells[i].source)}`"
                           for s, i in slow)
        print(f"  {path.stem}: {listed or 'none'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        default=sorted(Path("notebooks").glob("*.ipynb")))
    parser.add_argument("--runs", type=int, default=3, help="fresh-kernel runs per notebook")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    notebooks = {path: as_tested(nbformat.read(path, as_version=4)) for path in args.notebooks}
    floors = {path: "\n".join(import_lines(nb)) for path, nb in notebooks.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"benchmark: {len(notebooks)} notebooks x {args.runs} runs, each after its imports "
          f"floor; {os.cpu_count()} CPUs, load average {fmt(load, '.2f')} at start", flush=True)
    runs, floor_runs, failed = measure(notebooks, floors, args.runs)
    report(notebooks, floors, runs, floor_runs, failed, args.runs)

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            str(path): {"runs": [r.__dict__ for r in runs[path]],
                        "floor": [r.__dict__ for r in floor_runs[floors[path]]],
                        "floor_imports": floors[path], "failed": failed.get(path)}
            for path in notebooks}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
