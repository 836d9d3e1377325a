"""Re-run strict nbval over the notebooks N times and count the rounds that pass.

Usage: python scripts/stress.py [--rounds 10] [--jobs 1] [notebooks/ or notebook paths]

Each round is one ``pytest`` run of the notebooks with the project's strict nbval options (from
pyproject.toml), so every cell starts from a fresh kernel exactly as under ``make test``. With
``--jobs 2`` a round splits the notebooks between two pytest processes running side by side
(faster on two cores; both must pass). The log of a failing round is kept in build/stress/.
Exit status 0 only when every round passed.
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG_DIR = ROOT / "build" / "stress"
SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors|skipped)")


def pytest_command(paths: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-rfE", "--no-header", *paths]


def notebooks_of(paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in map(Path, paths):
        path = path.resolve()
        found += sorted(map(str, path.glob("*.ipynb"))) if path.is_dir() else [str(path)]
    return found


def run_round(groups: list[list[str]]) -> tuple[bool, dict[str, int], list[str], str]:
    """Run one round; success, counts by outcome, failing test ids and the combined log."""
    procs = [subprocess.Popen(pytest_command(group), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, cwd=ROOT) for group in groups]
    outputs = [proc.communicate()[0] for proc in procs]
    counts: dict[str, int] = {}
    failing: list[str] = []
    for output in outputs:
        last = [line for line in output.splitlines() if " in " in line and SUMMARY.search(line)]
        for number, outcome in SUMMARY.findall(last[-1] if last else ""):
            outcome = "errors" if outcome == "error" else outcome
            counts[outcome] = counts.get(outcome, 0) + int(number)
        failing += [line.split(" ", 1)[1].split(" - ")[0] for line in output.splitlines()
                    if line.startswith(("FAILED ", "ERROR "))]
    ok = all(proc.returncode == 0 for proc in procs) and counts.get("passed", 0) > 0
    return ok, counts, failing, "\n".join(outputs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", default=["notebooks"])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=1, help="pytest processes per round")
    args = parser.parse_args()
    if args.rounds < 1 or args.jobs < 1:
        parser.error("--rounds and --jobs must be at least 1")
    notebooks = notebooks_of(args.paths)
    if not notebooks:
        parser.error(f"no notebooks in {args.paths}")
    jobs = min(args.jobs, len(notebooks))
    groups = [notebooks[i::jobs] for i in range(jobs)]

    print(f"stress: {args.rounds} rounds of strict nbval over {len(notebooks)} notebooks "
          f"({jobs} pytest process{'es' if jobs > 1 else ''} per round)", flush=True)
    passed, start = 0, time.perf_counter()
    for round_ in range(1, args.rounds + 1):
        round_start = time.perf_counter()
        ok, counts, failing, log = run_round(groups)
        seconds = time.perf_counter() - round_start
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        status = "PASS" if ok else "FAIL"
        print(f"round {round_:2d}/{args.rounds}: {status}  {summary or 'no summary'}  "
              f"({seconds:.0f} s)", flush=True)
        if ok:
            passed += 1
            continue
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log_path = LOG_DIR / f"round_{round_:02d}.log"
        log_path.write_text(log)
        log_path = log_path.relative_to(ROOT)
        for test_id in failing[:10]:
            print(f"    failed: {test_id}")
        print(f"    log: {log_path}")
    minutes = (time.perf_counter() - start) / 60
    print(f"\nstress: {passed} of {args.rounds} rounds passed ({minutes:.1f} min)")
    return 0 if passed == args.rounds else 1


if __name__ == "__main__":
    sys.exit(main())
