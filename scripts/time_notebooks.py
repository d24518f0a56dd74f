"""Time every notebook in a mode, as a teacher's Run All would, and write the table into docs/teaching.md.

    .venv/bin/python scripts/time_notebooks.py --mode lesson                 # every notebook, lesson mode
    .venv/bin/python scripts/time_notebooks.py --mode fast 04_gan 06_neural_style_transfer
    .venv/bin/python scripts/time_notebooks.py --table                       # only rewrite the table from the records

Each notebook runs top to bottom in a fresh kernel (nbclient), offline, with solutions off (as Run All) and
in a fresh runs folder (so nothing resumes a run from before). The wall time, the outcome and the machine
(CPU model, cores, load average before the run) are added to ``docs/notebook_times.json``; the table
between the ``times`` markers in ``docs/teaching.md`` is rebuilt from those records, the latest run of
each notebook and mode. A notebook or mode that was never timed shows "not measured".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RECORDS = ROOT / "docs" / "notebook_times.json"
GUIDE = ROOT / "docs" / "teaching.md"
BEGIN, END = "<!-- times:begin (scripts/time_notebooks.py writes this table) -->", "<!-- times:end -->"
MODES = ("fast", "lesson", "full")
LESSON_LIMIT_S = 600  # a class period: ≤ 10 minutes on 2 CPU cores


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{cpu}, {os.cpu_count()} cores, {simd}, no GPU"


def run_one(path: Path, mode: str, timeout: int, keep: Path | None = None) -> dict:
    import nbformat
    from kernel_client import slice_kernel_client_waits  # scripts/: a missed wake-up must not add an hour
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    slice_kernel_client_waits()

    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    runs = tempfile.mkdtemp(prefix=f"artlib-times-{path.stem}-")
    os.environ.update(ARTLIB_MODE=mode, ARTLIB_OFFLINE="1", ARTLIB_RUNS_DIR=runs, KERAS_BACKEND="tensorflow")
    for name in ("ARTLIB_FAST", "ARTLIB_SOLUTIONS"):
        os.environ.pop(name, None)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    start, outcome = time.perf_counter(), "ok"
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    except CellTimeoutError:
        outcome = f"a cell passed {timeout} s"
    except CellExecutionError as err:
        outcome = "error: " + str(err).strip().splitlines()[-1][:200]
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    seconds = time.perf_counter() - start
    if keep is not None:  # the executed notebook, outputs and all, to look at its pictures
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, keep / f"{path.stem}.{mode}.ipynb")
    return dict(notebook=path.stem, mode=mode, seconds=round(seconds, 1), outcome=outcome, machine=machine(),
                load_before=None if load is None else round(load, 2), date=time.strftime("%Y-%m-%d"))


def load_records() -> list[dict]:
    return json.loads(RECORDS.read_text()) if RECORDS.exists() else []


def table(records: list[dict]) -> str:
    latest: dict[tuple[str, str], dict] = {}
    for r in records:
        latest[(r["notebook"], r["mode"])] = r
    names = sorted({p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")} | {n for n, _ in latest})

    def cell(name: str, mode: str) -> str:
        r = latest.get((name, mode))
        if r is None:
            return "not measured"
        minutes = f"{r['seconds'] / 60:.1f} min" if r["seconds"] >= 60 else f"{r['seconds']:.0f} s"
        return minutes if r["outcome"] == "ok" else f"{minutes}, **{r['outcome']}**"

    lines = ["| notebook | fast | lesson | full |", "|---|---:|---:|---:|"]
    lines += [f"| {n} | " + " | ".join(cell(n, m) for m in MODES) + " |" for n in names]
    machines = sorted({r["machine"] for r in latest.values()})
    lines += ["", "Measured by `.venv/bin/python scripts/time_notebooks.py --mode MODE` (Run All in a fresh kernel, offline, "
              "solutions off, a fresh runs folder) on: " + "; ".join(machines) + "." if machines else ""]
    return "\n".join(lines)


def write_table(records: list[dict]) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{GUIDE} has no times markers")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    GUIDE.write_text(f"{head}{BEGIN}\n{table(records)}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook stems or files (default: all)")
    parser.add_argument("--mode", choices=MODES, help="the mode to time in")
    parser.add_argument("--timeout", type=int, default=3600, help="most seconds for one cell (default %(default)s)")
    parser.add_argument("--table", action="store_true", help="only rebuild docs/teaching.md's table")
    parser.add_argument("--keep", type=Path, default=None, help="also save each executed notebook in this folder")
    args = parser.parse_args(argv)
    records = load_records()
    if not args.table:
        if args.mode is None:
            parser.error("--mode is required unless --table")
        paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
        if args.notebooks:
            wanted = {Path(n).stem for n in args.notebooks}
            paths = [p for p in paths if p.stem in wanted]
        for path in paths:
            print(f"{path.stem} ({args.mode}) ...", end=" ", flush=True)
            record = run_one(path, args.mode, args.timeout, args.keep)
            over = args.mode == "lesson" and record["seconds"] > LESSON_LIMIT_S
            print(f"{record['seconds']:.0f} s, {record['outcome']}" + (" — over the 10-minute lesson" if over else ""),
                  flush=True)
            records.append(record)
            RECORDS.write_text(json.dumps(records, indent=1) + "\n")
    write_table(records)
    print(f"table written to {GUIDE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
