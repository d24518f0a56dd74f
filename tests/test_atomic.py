"""artlib.atomic: a file appears complete or not at all."""

import os
import stat

import pytest

from artlib.atomic import atomic_path, atomic_write_bytes, atomic_write_text


def test_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(target.parent) == ["out.txt"]


def test_failure_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            assert tmp.suffix == ".png" and tmp.parent == tmp_path  # same folder, same extension
            raise RuntimeError("crash while writing")
    assert target.read_bytes() == b"good"
    assert os.listdir(tmp_path) == ["out.png"]


def test_written_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "index.html", "<p>hi</p>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
