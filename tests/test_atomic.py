"""artlib.atomic: a file appears complete or not at all, a full disk included."""

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest

import artlib.atomic
from artlib.atomic import (atomic_path, atomic_write_bytes, atomic_write_text, check_writable, plan_outputs,
                           refuse_overwrite, remove_leftovers)
from artlib.errors import ArtlibError, DiskFullError, WriteError


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


_CUT_OFF = []  # killed_write's with-blocks, kept unended: ending one (or letting it be collected) deletes its file


def killed_write(target: Path) -> Path:
    """The temporary file that a write killed half-way leaves: atomic_path's own, its with-block never ended."""
    writing = atomic_path(target)
    _CUT_OFF.append(writing)
    tmp = writing.__enter__()
    tmp.write_bytes(b"half of it")
    return tmp


def test_what_killed_writes_left_is_removed_by_name_and_nothing_else(tmp_path):
    run = tmp_path / "run"
    left = [killed_write(run / "history.json"), killed_write(run / "samples" / "step-000004.png"),
            killed_write(run / "generator.keras"), killed_write(run / "model.weights.h5")]
    kept = [run / "step-000001.png", run / "notes.tmp.png", run / ".keep", run / "samples" / ".step-1.tmp.png",
            run / "samples" / "step-000002.png", run / "deeper" / "still" / left[1].name]
    for path in kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"mine")
    (run / "link").symlink_to(left[0])  # a link is never followed or deleted
    assert sorted(remove_leftovers(run)) == sorted(left)
    assert not any(path.exists() for path in left) and all(path.read_bytes() == b"mine" for path in kept)
    assert (run / "link").is_symlink() and remove_leftovers(run) == []


def test_written_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "index.html", "<p>hi</p>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


# --- a full disk -------------------------------------------------------------------------------
# The temporary file atomic_path hands out is made a link to /dev/full, where every write fails
# with ENOSPC from the kernel itself: whichever writer runs (Python, Pillow, NumPy, Keras) meets
# a real full disk, and only the temporary file is affected.

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")


@pytest.fixture
def disk_full(tmp_path, monkeypatch):
    """Make every temporary file atomic_path creates under ``tmp_path`` a link to /dev/full."""
    make = tempfile.mkstemp

    def full_mkstemp(*args, **kwargs):
        fd, name = make(*args, **kwargs)
        if Path(kwargs.get("dir", "")).is_relative_to(tmp_path):
            os.close(fd)
            os.unlink(name)
            os.symlink("/dev/full", name)
            fd = os.open(name, os.O_WRONLY)
        return fd, name

    monkeypatch.setattr(artlib.atomic.tempfile, "mkstemp", full_mkstemp)
    return tmp_path


def _write_text(target):
    atomic_write_text(target, "new " * 5000)


def _write_bytes(target):
    atomic_write_bytes(target, b"new")


def _save_image(target):
    from artlib.imageio import save_image

    save_image(target, np.linspace(0.0, 1.0, 64 * 64 * 3).reshape(64, 64, 3))


def _save_npz(target):  # what `gan sample -o x.npz` and `translate apply -o x.npz` do
    with atomic_path(target) as tmp:
        np.savez_compressed(tmp, images=np.zeros((4, 28, 28), np.float32))


def _save_model(target):
    import keras

    from artlib import modelio

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    modelio.save_model(model, target)


@needs_dev_full
@pytest.mark.parametrize("write, name", [(_write_text, "notes.txt"), (_write_bytes, "data.bin"),
                                         (_save_image, "grid.png"), (_save_npz, "samples.npz"),
                                         (_save_model, "model.keras")])
def test_a_full_disk_is_a_clear_error_and_keeps_the_previous_file(disk_full, write, name):
    target = disk_full / "out" / name
    target.parent.mkdir()
    target.write_bytes(b"the previous file")
    with pytest.raises(DiskFullError, match=f"cannot write {re.escape(str(target))}: no space left on device "
                                            r"\(the disk is full\); the previous file is unchanged") as caught:
        write(target)
    assert isinstance(caught.value, ArtlibError)  # the command line prints it as one line
    assert isinstance(caught.value, OSError) and caught.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"the previous file"
    assert os.listdir(target.parent) == [name]  # no temporary file left


@needs_dev_full
def test_a_full_disk_with_no_previous_file_writes_nothing(disk_full):
    target = disk_full / "new.txt"
    with pytest.raises(DiskFullError, match="nothing was written"):
        atomic_write_text(target, "text")
    assert os.listdir(disk_full) == []


def test_no_space_for_the_temporary_file_itself_is_a_disk_full_error(tmp_path, monkeypatch):
    def no_inodes(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artlib.atomic.tempfile, "mkstemp", no_inodes)
    with pytest.raises(DiskFullError, match="out.txt: no space left"):
        atomic_write_text(tmp_path / "out.txt", "text")
    assert os.listdir(tmp_path) == []


def test_a_writer_that_wraps_the_no_space_error_is_still_understood(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(DiskFullError, match="the previous file is unchanged"):
        with atomic_path(target):
            try:
                raise OSError(errno.ENOSPC, "No space left on device")
            except OSError as err:
                raise RuntimeError("the writer's own error") from err
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.bin"]


def test_other_os_errors_pass_unchanged(tmp_path):
    raised = PermissionError(errno.EACCES, "Permission denied")
    with pytest.raises(PermissionError) as caught:
        with atomic_path(tmp_path / "out.bin"):
            raise raised
    assert caught.value is raised and not isinstance(caught.value, ArtlibError)  # the same error, not re-worded
    assert os.listdir(tmp_path) == []  # and nothing half-written left


# ----------------------------------------------------------------------------- nowhere to write
def test_a_place_where_nothing_can_be_written_is_a_clear_error_and_writes_nothing(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("a file, not a folder")
    (tmp_path / "taken.png").mkdir()
    for inside, code in ((a_file / "out.txt", errno.EEXIST), (a_file / "sub" / "out.txt", errno.ENOTDIR)):
        with pytest.raises(WriteError, match=f"cannot write {re.escape(str(inside))}: a part of its path is a file, "
                                             "not a folder; nothing was written") as caught:
            atomic_write_text(inside, "text")
        assert isinstance(caught.value, ArtlibError) and isinstance(caught.value, OSError)  # one line; an OSError
        assert caught.value.errno == code
    with pytest.raises(WriteError, match="taken.png: a folder of that name is in the way"):
        atomic_write_bytes(tmp_path / "taken.png", b"png")
    assert sorted(os.listdir(tmp_path)) == ["notes.txt", "taken.png"] and not os.listdir(tmp_path / "taken.png")
    assert a_file.read_text() == "a file, not a folder"


@pytest.mark.parametrize("step", ["mkstemp", "replace"])
def test_no_permission_to_write_keeps_the_previous_file(tmp_path, monkeypatch, step):
    target = tmp_path / "grid.png"
    target.write_bytes(b"the previous file")

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(artlib.atomic.tempfile if step == "mkstemp" else artlib.atomic.os, step, denied)
    with pytest.raises(WriteError, match=f"cannot write {re.escape(str(target))}: permission denied; the previous "
                                         "file is unchanged") as caught:
        atomic_write_bytes(target, b"new")
    assert not isinstance(caught.value, DiskFullError) and caught.value.errno == errno.EACCES
    monkeypatch.undo()
    assert target.read_bytes() == b"the previous file" and os.listdir(tmp_path) == ["grid.png"]  # no temporary left


def test_check_writable_finds_the_nearest_folder_and_leaves_nothing(tmp_path, monkeypatch):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    assert check_writable(tmp_path / "new" / "deeper" / "out.png") == tmp_path / "new" / "deeper" / "out.png"
    assert check_writable(tmp_path / "run", folder=True) == tmp_path / "run"
    assert os.listdir(tmp_path) == ["notes.txt"]  # no probe left, no folder made
    with pytest.raises(WriteError, match="notes.txt/run/out.png: a part of its path is a file"):
        check_writable(a_file / "run" / "out.png")
    with pytest.raises(WriteError, match="cannot use .*notes.txt as a folder: it is a file"):
        check_writable(a_file, folder=True)
    with pytest.raises(WriteError, match="a folder of that name is in the way"):
        check_writable(tmp_path, folder=False)
    assert check_writable(a_file) == a_file  # an existing file may be replaced (the caller asks about --force)
    (tmp_path / "runs").symlink_to(tmp_path / "gone")
    for folder in (True, False):  # had passed, and the lock's mkdir failed with a traceback after TensorFlow loaded
        with pytest.raises(WriteError, match=r"cannot use .*runs: it is a link to .*gone, which does not exist"):
            check_writable(tmp_path / "runs", folder=folder)
    (tmp_path / "runs").unlink()

    def read_only(*args, **kwargs):  # what root meets on a read-only or virtual file system
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(artlib.atomic.tempfile, "mkstemp", read_only)
    with pytest.raises(WriteError, match="out.png: the disk is read-only; nothing was written"):
        check_writable(tmp_path / "sub" / "out.png")


def test_refuse_overwrite_before_any_work(tmp_path):
    """An existing file unless forced, a folder in the file's place always: said before a model is saved or exported."""
    (tmp_path / "net.onnx").write_bytes(b"old")
    (tmp_path / "x.keras").mkdir()
    assert refuse_overwrite(tmp_path / "new.onnx", False) == tmp_path / "new.onnx"
    assert refuse_overwrite(tmp_path / "net.onnx", True) == tmp_path / "net.onnx"
    with pytest.raises(ArtlibError, match=r"'.*net.onnx' exists; pass --force \(force=True\) to overwrite it"):
        refuse_overwrite(tmp_path / "net.onnx", False)
    for force in (False, True):
        with pytest.raises(WriteError, match="x.keras: a folder of that name is in the way"):
            refuse_overwrite(tmp_path / "x.keras", force)


def test_plan_outputs_refuses_a_shared_target_an_existing_file_and_a_place_it_cannot_write(tmp_path, monkeypatch):
    """The one check of every command that writes many files (fast and arbitrary style, translation)."""
    out = tmp_path / "out"
    pairs = [(out / "a.png", "in/a.png"), (out / "b.png", "in/b.png")]
    assert plan_outputs(pairs) == {out / "a.png": "in/a.png", out / "b.png": "in/b.png"}  # in order; nothing made
    assert list(plan_outputs(reversed(pairs))) == [out / "b.png", out / "a.png"] and not out.exists()
    with pytest.raises(ArtlibError, match=r"'in/a.png' and 'in/a.jpg' would both be written to '.*out/a.png'; "
                                          "rename one or apply them separately"):
        plan_outputs([*pairs, (out / "a.png", "in/a.jpg")], force=True)  # force does not make one file hold two
    out.mkdir()
    (out / "b.png").write_bytes(b"an earlier result")
    with pytest.raises(ArtlibError, match=r"'.*out/b.png' exists; pass --force \(force=True\) to overwrite it"):
        plan_outputs(pairs)
    assert list(plan_outputs(pairs, force=True)) == [out / "a.png", out / "b.png"]
    (out / "a.png").mkdir()
    with pytest.raises(WriteError, match="a.png: a folder of that name is in the way"):
        plan_outputs(pairs, force=True)
    probes = []
    mkstemp = tempfile.mkstemp
    monkeypatch.setattr(artlib.atomic.tempfile, "mkstemp", lambda **kw: probes.append(kw["dir"]) or mkstemp(**kw))
    plan_outputs([(tmp_path / "many" / f"{i}.png", i) for i in range(50)] + [(tmp_path / "x.png", "x")])
    assert probes == [tmp_path, tmp_path]  # a probe per folder (the nearest that exists), not one per file
    (tmp_path / "notes.txt").write_text("a file")
    with pytest.raises(WriteError, match="notes.txt/c.png: a part of its path is a file"):
        plan_outputs([(tmp_path / "notes.txt" / "c.png", "c")])
