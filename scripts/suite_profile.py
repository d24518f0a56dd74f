"""Where the test command's time goes: each test's wall and CPU time, summed by kind and by file.

    .venv/bin/python scripts/suite_profile.py                 # the whole command, as `make test` runs it
    .venv/bin/python scripts/suite_profile.py tests/test_gan.py notebooks/04_gan.ipynb

Runs pytest with the test command's settings (fast mode, offline, solutions on, two workers, a fresh runs
folder) and a small plugin (this file) that records, in every worker, each test's wall time (setup, call and
teardown) and the CPU time of its own process. It prints:

* each worker's busy time and the span from its first test's start to its last test's end (an idle tail shows
  as a span much longer than the busy time, or as one worker ending long before the other);
* the time by kind: the notebooks (their kernels are other processes), the tests that waited on a process of
  their own (a scenario forked from the zygote, or a fresh interpreter: CPU much below wall), and the tests
  that worked in the worker itself;
* the files that took longest, and the slowest tests.

The README's account of the suite's time ("Reliability", "A slower machine") was measured so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The environment variable naming the folder where each worker writes its records.
OUT_VARIABLE = "ARTLIB_SUITE_PROFILE_DIR"
#: A test (of more than 0.2 s) counts as waiting on another process when its own CPU time is below this share of
#: its wall time.
WAITING_SHARE = 0.5


# ----------------------------------------------------------------------------- the plugin (in each worker)
_rows: list[dict] = []


def _hookwrapper(function):
    import pytest

    return pytest.hookimpl(hookwrapper=True)(function)


@_hookwrapper
def pytest_runtest_protocol(item, nextitem):
    before, start = os.times(), time.time()
    yield
    after = os.times()
    _rows.append({"id": item.nodeid, "start": start, "wall": time.time() - start,
                  "cpu": after.user - before.user + after.system - before.system})


def pytest_sessionfinish(session):
    folder = os.environ.get(OUT_VARIABLE)
    if folder and _rows:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        Path(folder, f"{worker}.json").write_text(json.dumps(_rows))


# ----------------------------------------------------------------------------- the report
def kind(row: dict) -> str:
    if row["id"].split("::")[0].endswith(".ipynb"):
        return "notebooks"
    waited = row["wall"] > 0.2 and row["cpu"] < WAITING_SHARE * row["wall"]  # a quick test's clock is noise
    return "waiting on a process of its own" if waited else "in the worker"


def report(workers: dict[str, list[dict]], pytest_seconds: float) -> None:
    rows = [row for worker_rows in workers.values() for row in worker_rows]
    start = min(row["start"] for row in rows)
    total = sum(row["wall"] for row in rows)
    print(f"pytest {pytest_seconds:.0f} s; {len(rows)} tests; the workers' time in tests {total:.0f} s")
    for worker, worker_rows in sorted(workers.items()):
        first = min(row["start"] for row in worker_rows) - start
        last = max(row["start"] + row["wall"] for row in worker_rows) - start
        print(f"  {worker}: {len(worker_rows)} tests, busy {sum(r['wall'] for r in worker_rows):.0f} s "
              f"from {first:.0f} s to {last:.0f} s")
    by_kind: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    by_file: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for row in rows:
        for table, key in ((by_kind, kind(row)), (by_file, row["id"].split("::")[0])):
            table[key][0] += row["wall"]
            table[key][1] += row["cpu"]
            table[key][2] += 1
    print("by kind (wall s, CPU s of the worker's own process, tests):")
    for key, (wall, cpu, count) in sorted(by_kind.items(), key=lambda item: -item[1][0]):
        print(f"  {wall:7.0f} {cpu:7.0f} {count:5d}  {key}")
    print("the 15 longest files:")
    for key, (wall, cpu, count) in sorted(by_file.items(), key=lambda item: -item[1][0])[:15]:
        print(f"  {wall:7.1f} {cpu:7.1f} {count:5d}  {key}")
    print("the 10 slowest tests:")
    for row in sorted(rows, key=lambda r: -r["wall"])[:10]:
        print(f"  {row['wall']:7.1f} {row['cpu']:7.1f}  {row['id']}")


def main(argv: list[str]) -> int:
    targets = argv or ["notebooks", "tests"]
    with tempfile.TemporaryDirectory(prefix="artlib-suite-profile-") as out, \
            tempfile.TemporaryDirectory(prefix="artlib-runs-") as runs:
        env = {**os.environ, "KERAS_BACKEND": "tensorflow", "ARTLIB_OFFLINE": "1", "ARTLIB_MODE": "fast",
               "ARTLIB_SOLUTIONS": "1", "ARTLIB_RUNS_DIR": runs, OUT_VARIABLE: out,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))}
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "suite_profile",
                                "-n", "auto", "--nbmake", *targets], cwd=ROOT, env=env)
        seconds = time.perf_counter() - started
        workers = {path.stem: json.loads(path.read_text()) for path in Path(out).glob("*.json")}
    if not workers:
        print("no test ran: nothing to profile", file=sys.stderr)
        return code or 1
    report(workers, seconds)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
