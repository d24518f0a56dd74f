"""The command line: help, info that tells the truth, the demo gallery, bad input → exit 2."""

import subprocess
import sys

import pytest

from artlib import data
from artlib.__main__ import main


def run_cli(*args, env_extra=None, tmp_path=None):
    import os

    env = dict(os.environ, ARTLIB_OFFLINE="1", ARTLIB_FAST="1", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "artlib", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "info" in result.stdout and "demo" in result.stdout


def test_info_tells_the_truth_about_data_and_weights(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARTLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ARTLIB_OFFLINE", "1")
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert data.describe_fashion_mnist_source() in out
    assert "random-weight VGG19" in out
    assert "tensorflow" in out and "keras" in out and "fast mode" in out
    # Point the data dir somewhere that has the files: info must follow.
    folder = tmp_path / "fm"
    folder.mkdir()
    for name in data.FASHION_MNIST_FILES.values():
        (folder / name).write_bytes((data.SHIPPED_DIR / name).read_bytes())
    monkeypatch.setenv("ARTLIB_DATA_DIR", str(folder))
    main(["info"])
    assert f"ARTLIB_DATA_DIR ({folder})" in capsys.readouterr().out


def test_demo_writes_a_gallery_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "gallery"
    result = run_cli("demo", "--out", str(out))
    assert result.returncode == 0, result.stderr
    index = (out / "index.html").read_text()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs and all(name in index for name in pngs)
    assert str(out.resolve()) in result.stdout
    from PIL import Image

    for name in pngs:
        with Image.open(out / name) as im:
            assert im.width > 100 and im.height > 100
    again = run_cli("demo", "--out", str(out))
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0 and "--force" in again.stderr
    assert "Traceback" not in again.stderr


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        main(["paint-me-a-picture"])
    assert exc.value.code == 2
