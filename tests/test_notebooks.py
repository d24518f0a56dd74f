"""Notebook hygiene: the skeleton every notebook shares, committed clean.

Executing them is nbmake's job (``pytest --nbmake notebooks``, fast mode); this file
checks what a reviewer would: no outputs, a title, a Colab badge and an install cell
that point at the same repository, one ``parameters`` cell, numbered file names.
"""

import inspect
import json
import re
from pathlib import Path

import pytest

from artlib import config

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_skeleton(path):
    cells = load(path)["cells"]
    title = source(cells[0])
    assert cells[0]["cell_type"] == "markdown" and title.startswith("# "), "first cell: a title"
    badge = f"https://colab.research.google.com/github/{config.REPO_URL.removeprefix('https://github.com/')}"
    assert f"{badge}/blob/main/notebooks/{path.name}" in title, "the Colab badge opens this very notebook"
    install = source(cells[1])
    assert cells[1]["cell_type"] == "code" and "google.colab" in install, "second cell: the Colab install cell"
    assert config.REPO_URL in install, "the install cell clones config.REPO_URL"
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert tagged[0] is cells[2], "the parameters cell comes right after the install cell"
    assert "config.choose(" in source(tagged[0]) or "is_fast()" in source(tagged[0])
    assert any("Exercise" in source(c) for c in cells if c["cell_type"] == "markdown"), "ends with exercises"


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
