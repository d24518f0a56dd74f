"""Notebook hygiene: the skeleton every notebook shares, committed clean.

Executing them is nbmake's job (``pytest --nbmake notebooks``, fast mode, with ``ARTLIB_SOLUTIONS=1`` so the
solutions run too); this file checks what a reviewer would: no outputs, a title, the Colab badge, install
cell and metadata of ``scripts/notebook_skeleton.py`` (the one definition), one ``parameters`` cell that
names the mode, solutions that Run All skips, stable run folders, numbered file names.
"""

import inspect
import json
import re
from pathlib import Path

import pytest
from conftest import kernel_client, load_script

from artlib import config

ROOT = Path(__file__).resolve().parent.parent
skeleton = load_script("notebook_skeleton")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_the_foundation_notebooks_exist():
    names = [p.name for p in NOTEBOOKS]
    assert "00_start_here.ipynb" in names and "01_images_as_tensors.ipynb" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_numbered_and_committed_without_outputs(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)
    nb = load(path)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: a code cell has outputs"
            assert cell.get("execution_count") is None, f"{path.name}: a code cell has an execution count"
    ids = [cell.get("id") for cell in nb["cells"]]  # nbformat 4.5 wants one (reading adds missing ones silently)
    assert all(isinstance(i, str) and i for i in ids), f"{path.name}: a cell without an id"
    assert len(set(ids)) == len(ids), f"{path.name}: two cells share an id"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_skeleton(path):
    cells = load(path)["cells"]
    title = source(cells[0])
    assert cells[0]["cell_type"] == "markdown" and title.startswith("# "), "first cell: a title"
    assert skeleton.problems(path) == [], "badge, install cell and metadata: scripts/notebook_skeleton.py --write"
    assert config.REPO_URL in source(cells[1]) and f"notebooks/{path.name}" in title
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert tagged[0] is cells[2], "the parameters cell comes right after the install cell"
    params = source(tagged[0])
    assert "RUN_SOLUTIONS = config.run_solutions()" in params, "the parameters cell holds the solutions switch"
    assert "print(config.describe_mode())" in params, "the notebook says on screen which mode it runs in"
    assert "is_fast()" not in params.replace("FAST = config.is_fast()", ""), "sizes come from config.choose"
    assert any("Exercise" in source(c) for c in cells if c["cell_type"] == "markdown"), "ends with exercises"


def _first_statement(code):
    lines = [ln for ln in code.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return lines[0] if lines else ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_are_tagged_hidden_and_skipped_on_run_all(path):
    cells = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    solutions = [c for c in cells if "solution" in c.get("metadata", {}).get("tags", [])]
    assert solutions, "the exercises have solution cells, tagged 'solution'"
    for cell in solutions:
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True, "a solution starts hidden"
        assert _first_statement(source(cell)) == "if RUN_SOLUTIONS:", "a solution runs only when asked"
    for cell in cells:
        if cell not in solutions:
            assert not re.match(r"#\s*(Solution|Exercise)", source(cell)), "an untagged solution cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_live_in_a_stable_folder(path):
    code = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "code")
    assert "mkdtemp" not in code and "TemporaryDirectory" not in code, "a fresh folder each session cannot resume"
    if re.search(r"\bWORK\b", code):
        assert f'WORK = config.runs_dir("{path.stem}")' in code, "runs go under config.runs_dir(<notebook>)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_calls_the_library_instead_of_redefining_it(path):
    code = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "code")
    assert "import artlib" in code or "from artlib" in code
    defined = set(re.findall(r"^def (\w+)", code, flags=re.M))
    import artlib

    public = set(artlib.__all__)
    for name in artlib.__all__:  # every topic module exported by the package
        public |= set(getattr(getattr(artlib, name), "__all__", []) if inspect.ismodule(getattr(artlib, name)) else [])
    assert not defined & public, f"{path.name} re-implements {defined & public}"



def test_the_kernel_client_waits_in_short_polls_within_the_callers_timeout():
    import asyncio
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    sliced_get_msg = kernel_client.sliced_get_msg

    assert AsyncZMQSocketChannel.get_msg.sliced  # installed for the notebooks' runs
    now, asked = [0.0], []

    async def missed_wake_up(channel, timeout):  # a reply arrives at 0.3 s; a poll sees it only when it times out
        asked.append(timeout)
        now[0] += timeout
        if now[0] >= 0.3:
            return {"msg_type": "execute_reply"}
        raise Empty

    get_msg = sliced_get_msg(missed_wake_up, slice_s=0.1, clock=lambda: now[0])
    assert asyncio.run(get_msg(None, 300.0)) == {"msg_type": "execute_reply"}
    assert now[0] == pytest.approx(0.3) and asked == [0.1, 0.1, 0.1]  # taken within a slice, not at 300 s
    now[0], asked[:] = -10.0, []  # the reply comes 10.3 s in: too late for a caller who waits 10.25 s
    with pytest.raises(Empty):
        asyncio.run(get_msg(None, 10.25))
    assert sum(asked) == pytest.approx(10.25) and max(asked) == pytest.approx(0.1)  # the caller's timeout holds
    now[0], asked[:] = -0.5, []
    assert asyncio.run(get_msg(None, None))["msg_type"] == "execute_reply" and len(asked) == 8  # no timeout: slices


def test_the_suite_profile_sorts_tests_by_kind_and_shows_each_workers_span(capsys):
    """scripts/suite_profile.py's report, on records made up here."""
    profile = load_script("suite_profile")
    workers = {"gw0": [{"id": "notebooks/04_gan.ipynb::04_gan.ipynb", "start": 100.0, "wall": 30.0, "cpu": 0.1},
                       {"id": "tests/test_kill.py::test_killed[gan]", "start": 130.0, "wall": 12.0, "cpu": 0.5}],
               "gw1": [{"id": "tests/test_gan.py::test_a", "start": 101.0, "wall": 8.0, "cpu": 7.5},
                       {"id": "tests/test_gan.py::test_b", "start": 109.0, "wall": 0.01, "cpu": 0.0}]}
    profile.report(workers, 50.0)
    out = capsys.readouterr().out
    assert "4 tests; the workers' time in tests 50 s" in out
    assert "gw0: 2 tests, busy 42 s from 0 s to 42 s" in out and "gw1: 2 tests, busy 8 s from 1 s to 9 s" in out
    kinds = dict(re.findall(r"^\s+(\d+)\s+\d+\s+\d+\s+(notebooks|waiting on a process of its own|in the worker)$",
                            out, re.M)[i][::-1] for i in range(3))
    assert kinds == {"notebooks": "30", "waiting on a process of its own": "12", "in the worker": "8"}
