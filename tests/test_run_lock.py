"""Tests for artlib.training.run_lock: one training at a time in a run directory, never a stuck lock.

Another process holds a folder through :data:`HOLDER`, a script that loads
``artlib/training/lock.py`` on its own (no TensorFlow, so it starts at once),
takes the lock and waits on its stdin. Whether a folder is free is asked from
another thread (:func:`is_free`): a lock this thread still holds, in the
registry or in the kernel, refuses it, so the check cannot pass by re-entrancy.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import HANG_TIMEOUT, REPO, run_cli, subprocess_env
from test_cli import one_line_error
from test_training import tiny_data, tiny_model, tiny_training

pytestmark = pytest.mark.skipif(os.name == "nt", reason="the holder is killed with SIGKILL")

HOLDER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("lock", sys.argv[2])  # lock.py alone: no TensorFlow to import
lock = sys.modules["lock"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lock)
with lock.run_lock(sys.argv[1]):
    sys.stdin.readline()  # hold it until stdin closes (or the process is killed)
"""


@pytest.fixture
def holder(tmp_path):
    """Start a process that holds ``tmp_path / "run"``; yields ``(process, run_dir)``, ends it after."""
    run_dir = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(run_dir), str(REPO / "artlib/training/lock.py")],
                             stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env())
    try:
        deadline = time.monotonic() + HANG_TIMEOUT  # a hang guard, not a speed check
        while _holder_info(run_dir).get("pid") != child.pid:
            assert child.poll() is None, child.stderr.read()
            assert time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.02)
        yield child, run_dir
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=HANG_TIMEOUT)
        child.stdin.close()
        child.stderr.close()


def _holder_info(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / ".lock").read_text())
    except (OSError, ValueError):
        return {}


def is_free(run_dir: Path) -> bool:
    """Whether another thread of this process can take ``run_dir``'s lock now."""
    from artlib.errors import CheckpointError
    from artlib.training import run_lock

    def take() -> bool:
        try:
            with run_lock(run_dir):
                return True
        except CheckpointError:
            return False

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(take).result(timeout=HANG_TIMEOUT)


def tiny_loop(run_dir: Path, *, num_steps: int = 2, seed: int = 0, step_fn=None):
    """Train the tiny denoiser of test_training a few steps into ``run_dir``."""
    from artlib.training import shuffled_batches, train_loop

    model, optimizer, noise, step = tiny_training(seed)
    data = tiny_data()
    return train_loop(step_fn or step, lambda epoch: shuffled_batches(data, 8, seed=epoch), num_steps=num_steps,
                      run_dir=run_dir, state={"model": model, "optimizer": optimizer, "noise": noise},
                      summary=False, quiet=True)


def tiny_fit(run_dir: Path | None):
    from artlib.training import fit

    model = tiny_model(0)
    model.compile(optimizer="adam", loss="mse")
    return fit(model, (tiny_data(16), tiny_data(16)), num_epochs=1, batch_size=8, run_dir=run_dir, verbose=0)


# ----------------------------------------------------------------------------- another process
@pytest.mark.parametrize("train", [tiny_loop, tiny_fit], ids=["train_loop", "fit"])
def test_a_second_training_is_refused_at_once_naming_the_folder_and_the_holder(holder, train):
    from artlib.errors import CheckpointError

    child, run_dir = holder
    before = sorted(p.name for p in run_dir.iterdir())
    with pytest.raises(CheckpointError) as info:
        train(run_dir)
    message = str(info.value)
    assert message.startswith(f"{run_dir} is in use by another training (pid {child.pid} on host ")
    assert "started at 2" in message and "--run-dir" in message and "\n" not in message
    assert sorted(p.name for p in run_dir.iterdir()) == before == [".lock"]  # nothing written, lock file kept
    assert _holder_info(run_dir)["pid"] == child.pid and child.poll() is None
    assert not is_free(run_dir)


def test_a_killed_holder_leaves_no_stuck_lock(holder):
    child, run_dir = holder
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=HANG_TIMEOUT)
    assert _holder_info(run_dir)["pid"] == child.pid  # the dead run's file is still there ...
    result = tiny_loop(run_dir)  # ... but its lock went with it
    assert result.final_step == 2 and (run_dir / "checkpoints" / "ckpt-2.index").exists()
    assert not (run_dir / ".lock").exists() and is_free(run_dir)


def test_whoever_takes_the_lock_removes_what_a_killed_run_left_half_written(holder):
    from test_atomic import killed_write

    from artlib.errors import CheckpointError

    child, run_dir = holder
    grid = killed_write(run_dir / "samples" / "step-000002.png")  # the holder's, cut off half-way
    with pytest.raises(CheckpointError):
        tiny_loop(run_dir)
    assert grid.exists()  # refused: the holder might still be writing it
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=HANG_TIMEOUT)
    assert tiny_loop(run_dir).final_step == 2 and not grid.exists()
    assert list((run_dir / "samples").iterdir()) == []


def test_a_folder_that_cannot_be_cleaned_still_trains_and_leaves_no_lock(tmp_path, monkeypatch):
    import artlib.training.lock

    def refuse(folder):
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr(artlib.training.lock, "remove_leftovers", refuse)
    assert tiny_loop(tmp_path / "run").final_step == 2
    assert not (tmp_path / "run" / ".lock").exists() and is_free(tmp_path / "run")


def test_the_lock_file_is_deleted_and_free_when_the_holder_finishes(holder):
    child, run_dir = holder
    child.stdin.close()  # the holder's with-block ends
    assert child.wait(timeout=HANG_TIMEOUT) == 0
    assert not (run_dir / ".lock").exists() and is_free(run_dir)


# ----------------------------------------------------------------------------- this process
def test_the_lock_is_released_after_a_normal_return(tmp_path):
    assert tiny_loop(tmp_path).final_step == 2
    assert is_free(tmp_path) and not (tmp_path / ".lock").exists()
    assert tiny_fit(tmp_path).final_step == 1
    assert is_free(tmp_path) and not (tmp_path / ".lock").exists()
    assert tiny_fit(None).run_dir is None  # no run directory: nothing to lock


def test_a_run_folder_or_lock_file_in_an_odd_state_is_a_checkpoint_error(tmp_path):
    """A link to nowhere as the run folder, a folder or a link to nowhere as its lock: tracebacks before."""
    from artlib.errors import CheckpointError

    (tmp_path / "run").symlink_to(tmp_path / "gone" / "run")
    with pytest.raises(CheckpointError, match=r"run is a link to .*gone/run, which does not exist; make that folder"):
        tiny_loop(tmp_path / "run")
    for odd in ("folder", "link"):
        run_dir = tmp_path / odd
        run_dir.mkdir()
        if odd == "folder":
            (run_dir / ".lock").mkdir()
        else:
            (run_dir / ".lock").symlink_to(tmp_path / "gone" / "lock")
        with pytest.raises(CheckpointError, match=r"cannot open .*\.lock, the lock that keeps a second training "
                                                  r"out of .* \(.*\); delete it \(a training makes it afresh\)"):
            tiny_loop(run_dir)


def test_a_read_only_run_folder_is_named_as_such_not_its_missing_lock(tmp_path, monkeypatch):
    """A shared read-only copy of a run: there is no lock file to delete; the folder is what cannot be written."""
    import errno
    import os

    from artlib.errors import CheckpointError

    (tmp_path / "run").mkdir()
    real_open = os.open

    def read_only(path, flags, *args):
        if str(path).endswith(".lock") and flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(CheckpointError, match=r"\(Read-only file system\); a training writes in its run folder: use "
                                              r"one that can be written \(.*run cannot\)$"):
        tiny_loop(tmp_path / "run")


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_the_lock_is_released_after_an_exception_in_the_loop(tmp_path, error):
    calls = []

    def failing_step(batch):
        calls.append(batch)
        if len(calls) == 2:
            assert not is_free(tmp_path)  # held while training
            raise error("stopped in step 2")
        return {"loss": 1.0}

    with pytest.raises(error, match="stopped in step 2"):
        tiny_loop(tmp_path, num_steps=5, step_fn=failing_step)
    assert len(calls) == 2 and is_free(tmp_path) and not (tmp_path / ".lock").exists()
    assert tiny_loop(tmp_path, num_steps=3).final_step == 3  # the next call trains


def test_the_lock_is_reentrant_in_one_thread(tmp_path):
    from artlib.errors import CheckpointError
    from artlib.training import run_lock

    with run_lock(tmp_path) as held:
        assert held == tmp_path.resolve() and _holder_info(tmp_path)["pid"] == os.getpid()
        spelled_otherwise = tmp_path / ".." / tmp_path.name  # the same folder by its resolved path
        assert tiny_loop(spelled_otherwise).final_step == 2  # a loop inside: no deadlock, no refusal
        assert tiny_loop(tmp_path / "level", num_steps=1).final_step == 1  # a sub-folder is another run
        assert not is_free(tmp_path) and is_free(tmp_path / "level")  # the outer hold is still there
        with ThreadPoolExecutor(1) as pool:  # another thread hears who holds it
            with pytest.raises(CheckpointError, match=re.escape(f"{tmp_path} is in use by another training "
                                                                "in this process (thread ")):
                pool.submit(lambda: tiny_loop(tmp_path)).result(timeout=HANG_TIMEOUT)
    assert is_free(tmp_path) and not (tmp_path / ".lock").exists()


def test_a_lock_taken_before_its_holder_wrote_its_name_is_still_refused(tmp_path):
    import fcntl

    from artlib.errors import CheckpointError
    from artlib.training import run_lock

    fd = os.open(tmp_path / ".lock", os.O_RDWR | os.O_CREAT)  # another open file: flock refuses this thread
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(CheckpointError, match=re.escape(f"{tmp_path} is in use by another training "
                                                            "(its pid not written yet)")):
            with run_lock(tmp_path):
                pass
    finally:
        os.close(fd)
    assert is_free(tmp_path)


def test_a_lock_file_deleted_by_a_finishing_holder_is_not_trusted(tmp_path, monkeypatch):
    from artlib.training import lock, run_lock

    real, calls = lock._try_lock, []

    def lock_then_lose_the_file(fd):  # the holder finished between our open and our lock: it deleted the file
        real(fd)
        calls.append(fd)
        if len(calls) == 1:
            (tmp_path / ".lock").unlink()

    monkeypatch.setattr(lock, "_try_lock", lock_then_lose_the_file)
    with run_lock(tmp_path):
        assert len(calls) == 2 and _holder_info(tmp_path)["pid"] == os.getpid()  # locked the new file
        assert not is_free(tmp_path)
    assert is_free(tmp_path)


def test_a_file_system_that_cannot_lock_warns_and_trains(tmp_path, monkeypatch):
    from artlib.training import lock

    def unsupported(fd):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock, "_try_lock", unsupported)
    with pytest.warns(RuntimeWarning, match="cannot lock .*would not be stopped"):
        assert tiny_loop(tmp_path).final_step == 2
    assert not lock._held  # nothing left registered


# ----------------------------------------------------------------------------- the command line
@pytest.mark.slow
def test_the_cli_refuses_a_held_run_directory_in_one_line(holder):
    child, run_dir = holder
    result = run_cli("gan", "train", "--run-dir", str(run_dir), "--steps", "1")
    one_line_error(result, f"{run_dir} is in use by another training (pid {child.pid} ", "--run-dir")
    assert sorted(p.name for p in run_dir.iterdir()) == [".lock"]
