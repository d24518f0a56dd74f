"""The one definition of what every notebook shares: its Colab badge, install cell and Colab metadata.

    python scripts/notebook_skeleton.py          # check every notebook (exit 1 naming the ones that differ)
    python scripts/notebook_skeleton.py --write  # rewrite their badge line, install cell and metadata

``tests/test_notebooks.py`` checks every notebook against these functions, so a change here is made in one
place and written into all twelve notebooks by ``--write``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from artlib.config import REPO_URL  # noqa: E402  (no TensorFlow: config imports nothing heavy)

NOTEBOOKS = ROOT / "notebooks"
#: Notebooks whose training or stylizing runs several times faster on a GPU: Colab opens them with one.
GPU_NOTEBOOKS = ("04_gan", "05_gan_variants", "06_neural_style_transfer", "07_fast_style_transfer",
                 "08_arbitrary_style_transfer", "09_imitation_to_innovation", "10_diffusion", "11_studio")

INSTALL_CELL = f'''# Colab only: fetch the course and install artlib, with its shipped models, next to Colab's own TensorFlow.
# On your own machine this cell does nothing (`make demo` / `make test` set up .venv).
import sys

REPO_URL = "{REPO_URL}"
if "google.colab" in sys.modules:
    import subprocess
    from pathlib import Path

    if not Path("/content/artlib/pyproject.toml").exists():
        subprocess.run(["git", "clone", "--depth", "1", REPO_URL, "/content/artlib"], check=True)
    # --no-deps keeps Colab's TensorFlow and Keras; the two packages named are the only ones Colab lacks.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "/content/artlib"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "PyWavelets", "ipywidgets"], check=True)
    import artlib  # fails here, with pip's message above, if the install did not work

    print("artlib", artlib.__version__, "installed from", REPO_URL)'''


def badge(name: str) -> str:
    """The Colab badge (Markdown) that opens ``notebooks/<name>.ipynb`` from the course repository."""
    repo = REPO_URL.removeprefix("https://github.com/")
    return ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{repo}/blob/main/notebooks/{name}.ipynb)")


def colab_metadata(name: str) -> dict:
    """The notebook-level metadata Colab reads: its name and, where a GPU helps, the accelerator."""
    meta: dict = {"colab": {"name": f"{name}.ipynb", "provenance": []}}
    if name in GPU_NOTEBOOKS:
        meta["colab"]["gpuType"] = "T4"
        meta["accelerator"] = "GPU"
    return meta


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def problems(path: Path) -> list[str]:
    """What in ``path`` differs from the definition (empty when it matches)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells, name, found = nb["cells"], path.stem, []
    if badge(name) not in source(cells[0]):
        found.append("the title cell lacks this notebook's Colab badge")
    if cells[1]["cell_type"] != "code" or source(cells[1]) != INSTALL_CELL:
        found.append("the second cell is not the install cell")
    for key, value in colab_metadata(name).items():
        if nb["metadata"].get(key) != value:
            found.append(f"metadata {key!r} differs")
    return found


def write(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells, name = nb["cells"], path.stem
    title = re.sub(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)", badge(name), source(cells[0]))
    if badge(name) not in title:
        title = title.rstrip("\n") + "\n\n" + badge(name)
    cells[0]["source"] = title.splitlines(keepends=True)
    install = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": INSTALL_CELL.splitlines(keepends=True)}
    if cells[1]["cell_type"] == "code" and "google.colab" in source(cells[1]):
        cells[1] = {k: install.get(k, v) for k, v in cells[1].items()}  # keeps the cell's id and key order
    else:
        cells.insert(1, install)
    nb["metadata"].pop("accelerator", None)
    nb["metadata"].update(colab_metadata(name))
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if "--write" in argv:
        for path in paths:
            write(path)
    bad = {p.name: problems(p) for p in paths if problems(p)}
    for name, found in bad.items():
        print(f"{name}: {'; '.join(found)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
