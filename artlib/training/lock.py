"""``run_lock``: one training at a time in a run directory, with a lock that dies with its process.

Two trainings writing into one folder would interleave their checkpoints,
history and samples. :func:`train_loop` and :func:`fit` therefore hold
``run_dir/.lock`` for the whole call, and a second training that points at the
same folder is refused at once with a :class:`CheckpointError` that says who
holds it (pid, host, start time: written into the file for the message only).

The lock is the operating system's advisory lock on the open file
(``fcntl.flock`` on Linux and macOS, ``msvcrt.locking`` on Windows). The kernel
drops it when the process ends in any way, a ``kill -9`` or a crashed kernel
included, so a dead training never leaves a stuck lock behind; the file itself
is deleted when the lock is released normally. Whoever takes the lock first deletes the hidden
temporary files that a killed run's atomic writes left in the folder (a sample grid cut off
half-way, say; :func:`artlib.atomic.remove_leftovers`): nothing else can be writing them then.

Inside one process the lock is re-entrant: a training that calls another loop
on the same folder (or a topic that holds it around the whole of its
``train``, loop and final model files together) just counts up; another thread
of the same process is refused like another process.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from artlib.atomic import remove_leftovers
from artlib.errors import CheckpointError

__all__ = ["LOCK_FILE", "run_lock"]

#: The lock file inside a run directory.
LOCK_FILE = ".lock"

# errno values that mean "someone else holds it" (flock: EWOULDBLOCK; Windows: EACCES or EDEADLOCK)
_HELD = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)}

if os.name == "nt":  # Windows (the tests run on Linux)
    import msvcrt

    _BYTE = 1 << 30  # lock a byte far past the text, so that others can still read who holds it

    def _try_lock(fd: int) -> None:
        os.lseek(fd, _BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, _BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@dataclass
class _Held:
    """A lock this process holds: its file descriptor (None where locking is not supported), count, thread."""

    fd: int | None
    count: int
    thread: int


_held: dict[Path, _Held] = {}  # resolved run directory -> this process's hold on it
_registry = threading.Lock()


def _holder(fd: int) -> str:
    """Who holds the lock, from the text the holder wrote into the file."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096).decode())
        return f"pid {info['pid']} on host {info['host']}, started at {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):  # it has only just taken the lock: nothing written yet
        return "its pid not written yet"


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` is still the file open as ``fd`` (a finishing holder deletes it)."""
    try:
        on_disk, opened = os.stat(path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (on_disk.st_dev, on_disk.st_ino) == (opened.st_dev, opened.st_ino)


def _acquire(run_dir: Path, path: Path) -> int | None:
    """Lock ``path`` for this process and write who holds it; None where the file system cannot lock.

    Raises:
        CheckpointError: Another process holds it.
    """
    for _ in range(10):  # a retry only follows a holder that finished in between
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:  # a folder, or a link to nowhere, where the lock file goes; or no writing here
            fix = ("delete it (a training makes it afresh)" if path.is_symlink() or path.exists() else
                   f"a training writes in its run folder: use one that can be written ({run_dir} cannot)")
            raise CheckpointError(f"cannot open {path}, the lock that keeps a second training out of {run_dir} "
                                  f"({err.strerror or err}); {fix}") from err
        try:
            _try_lock(fd)
        except OSError as err:
            if err.errno not in _HELD:
                os.close(fd)
                warnings.warn(f"cannot lock {path} ({err}); a second training pointed at {run_dir} "
                              "would not be stopped", RuntimeWarning, stacklevel=4)
                return None
            holder = _holder(fd)
            os.close(fd)
            raise CheckpointError(f"{run_dir} is in use by another training ({holder}); wait for it to "
                                  "finish, stop it, or pick another run directory (--run-dir)") from None
        if not _same_file(fd, path):  # locked the file of a holder that has just finished: lock the new one
            os.close(fd)
            continue
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(info).encode())
        return fd
    raise CheckpointError(f"{path} keeps being replaced; is something deleting it? Try again")


def _release(fd: int, path: Path) -> None:
    """Delete the lock file and drop the lock (in that order, so that nobody locks a deleted file unawares)."""
    if os.name != "nt":
        path.unlink(missing_ok=True)  # while still locked: who locked the old file sees it gone and retries
    _unlock(fd)
    os.close(fd)
    if os.name == "nt":  # Windows deletes no open file: one that another training has opened stays
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


@contextmanager
def run_lock(run_dir: str | Path) -> Iterator[Path]:
    """Hold ``run_dir``'s lock for the ``with`` block: one training at a time in a run directory.

    Creates the folder. Re-entrant within a thread: a nested ``run_lock`` on the
    same folder (by resolved path) only counts. The lock goes on return, on an
    exception and on Ctrl-C; if the process dies, the operating system drops it.

    Args:
        run_dir: The run directory.

    Yields:
        The run directory, resolved.

    Raises:
        CheckpointError: Another training (another process, or another thread of this one) holds it;
            the message names the folder and who holds it, and says what to do.

    Example::

        with training.run_lock("runs/gan"):      # the loop and the files after it, together
            training.train_loop(step, make_dataset, num_steps=1000, run_dir="runs/gan", state=state)
            modelio.save_model(generator, "runs/gan/generator.keras")
    """
    folder = Path(run_dir)
    if folder.is_symlink() and not folder.exists():
        raise CheckpointError(f"{run_dir} is a link to {os.readlink(folder)}, which does not exist; make that "
                              "folder, or pick another run directory (--run-dir)")
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    me = threading.get_ident()
    with _registry:
        held = _held.get(key)
        if held is not None and held.thread != me:
            raise CheckpointError(f"{run_dir} is in use by another training in this process (thread {held.thread}); "
                                  "wait for it to finish, or pick another run directory (--run-dir)")
        if held is None:
            held = _held[key] = _Held(_acquire(folder, key / LOCK_FILE), 0, me)
            if held.fd is not None:  # nobody else writes here now: a killed run's half-written files can go
                with suppress(OSError):  # housekeeping: a folder it may not clean is no reason to stop a training
                    remove_leftovers(key)
        held.count += 1
    try:
        yield key
    finally:
        with _registry:
            held.count -= 1
            if held.count == 0:
                del _held[key]
                if held.fd is not None:
                    _release(held.fd, key / LOCK_FILE)
