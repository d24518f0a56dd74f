"""Packaging: a wheel (``pip install .``, ``pip install git+URL``) holds every subpackage and the shipped data,
and not the scripts that made the data (``scripts/make_*.py``).

The wheel is built offline from a copy of the sources (setuptools' ``build/`` folder would otherwise
collect stale files from earlier builds in the checkout), then unpacked and imported from a fresh
interpreter, as an installed artlib would be.
"""

from __future__ import annotations

import shutil
import textwrap
import zipfile
from pathlib import Path

import pytest
from conftest import run_python

from artlib import config

pytestmark = pytest.mark.slow  # building the wheel takes several seconds

REPO = config.REPO_ROOT
SHIPPED = ("pretrained", "fashion-mnist-subset", "paintings")  # the folders of data/ that artlib reads


def _files(folder: Path) -> list[str]:
    """Every file under ``folder``, as POSIX paths relative to it (caches left out)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not (REPO / "pyproject.toml").is_file():
        pytest.skip("needs the source checkout (pyproject.toml)")
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("artlib", "data"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    run_python("-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", work / "dist", source,
               env={"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}, check=True)
    (built,) = (work / "dist").glob("artlib-*.whl")
    return built


def test_wheel_holds_the_shipped_models_and_data_byte_for_byte(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for folder in SHIPPED:
            expected = _files(REPO / "data" / folder)
            assert expected, f"data/{folder} is empty"
            for name in expected:
                member = f"artlib/_shipped/{folder}/{name}"
                assert member in names, f"{member} is missing from the wheel"
                assert archive.read(member) == (REPO / "data" / folder / name).read_bytes(), member
        assert archive.read("artlib/_shipped/README.md") == (REPO / "data" / "README.md").read_bytes()
        shipped = {n for n in names if n.startswith("artlib/_shipped/")}
        assert shipped == {"artlib/_shipped/README.md"} | {
            f"artlib/_shipped/{folder}/{name}" for folder in SHIPPED for name in _files(REPO / "data" / folder)}


def test_wheel_holds_no_build_script(wheel):
    with zipfile.ZipFile(wheel) as archive:
        scripts = [n for n in archive.namelist() if Path(n).name.startswith("make_") and n.endswith(".py")]
    assert not scripts, f"build scripts belong in scripts/, not in the wheel: {scripts}"
    assert sorted(p.name for p in (REPO / "scripts").glob("make_*.py")) == [
        "make_fashion_classifier.py", "make_fashion_denoisers.py", "make_fashion_mnist_subset.py",
        "make_photo_denoiser.py"]


def test_wheel_holds_every_module_of_every_subpackage(wheel):
    in_checkout = {f"artlib/{name}" for name in _files(REPO / "artlib") if name.endswith(".py")}
    assert {"artlib/__init__.py", "artlib/imageio/__init__.py", "artlib/plotting/__init__.py"} <= in_checkout
    with zipfile.ZipFile(wheel) as archive:
        code = {n for n in archive.namelist()
                if n.startswith("artlib/") and n.endswith(".py") and not n.startswith("artlib/_shipped/")}
        top_level = {n.split("/")[0] for n in archive.namelist() if not n.startswith("artlib-")}
    missing = sorted(in_checkout - code)
    assert not missing, f"not in the wheel (add the package to pyproject.toml): {missing}"
    assert code == in_checkout
    assert top_level == {"artlib"}  # no tests/, notebooks/ or data/ at the top of site-packages


def test_installed_wheel_finds_its_own_shipped_data(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    code = textwrap.dedent(f"""
        from pathlib import Path
        import artlib
        from artlib import config, data
        site = Path({str(site)!r})
        assert Path(artlib.__file__).parent == site / "artlib", artlib.__file__
        assert config.SHIPPED_DIR == site / "artlib" / "_shipped", config.SHIPPED_DIR
        assert config.PRETRAINED_DIR == site / "artlib" / "_shipped" / "pretrained"
        assert (config.PRETRAINED_DIR / "vae_2d.keras").is_file()
        assert data.default_sources()[-1].folder == site / "artlib" / "_shipped" / "fashion-mnist-subset"
        (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(
            sources=[data.Source("shipped-subset", data.SHIPPED_DIR)], verbose=False)
        assert x_train.shape == (6000, 28, 28) and x_test.shape == (1000, 28, 28)
        assert data.PAINTINGS_DIR == site / "artlib" / "_shipped" / "paintings"
        assert data.load_painting("starry_night", max_dim=64).shape == (51, 64, 3)
        print("ok")
    """)
    # The unpacked wheel comes first on sys.path; run from an empty folder, away from the checkout.
    result = run_python("-c", code, env={"PYTHONPATH": str(site)}, cwd=tmp_path, check=True)
    assert result.stdout.strip() == "ok"
