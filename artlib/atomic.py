"""Atomic file writes: a file appears complete or not at all, never half-written.

Write to a temporary file in the target's folder, then ``os.replace`` it onto
the target (atomic on POSIX and Windows). If anything fails, or the process is
killed, the target keeps its previous content and the temporary file is removed
(or, after a kill, left as a hidden ``.NAME-XXXXXXXX.tmp.EXT`` file, which
:func:`remove_leftovers` deletes: a training does so in its run directory once it holds the
folder's lock, see :func:`artlib.training.run_lock`).

A full disk (or an exhausted quota) is reported as :class:`~artlib.errors.DiskFullError`, which names
the file and says that the previous one is unchanged, whichever writer ran out of space
(Pillow, Keras, NumPy, plain ``write``): it is an :class:`~artlib.errors.ArtlibError`, so the
command line prints one line, and an ``OSError`` with ``errno`` ``ENOSPC`` (or ``EDQUOT``),
so code that catches ``OSError`` still does. A place where no file can be written at all (no
permission, a read-only disk, a part of the path that is a file, a folder where the file should go)
is a :class:`~artlib.errors.WriteError` of the same kind, raised when the folder, the temporary
file or the final rename fails; :func:`check_writable` finds it before any work is done (the
command line checks every output and run directory so, before TensorFlow loads), and
:func:`plan_outputs` checks the many files of one command alike.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from artlib.errors import ArtlibError, DiskFullError, WriteError  # raised here; defined with the other errors

__all__ = ["DiskFullError", "WriteError", "atomic_path", "atomic_write_bytes", "atomic_write_text", "check_writable",
           "refuse_overwrite", "plan_outputs", "remove_leftovers"]

#: The name :func:`atomic_path` gives its temporary file: ``.`` + the target's name without its
#: extensions + ``-`` + mkstemp's eight random characters + ``.tmp`` + the target's extensions.
_TEMPORARY_NAME = re.compile(r"\..+-[a-z0-9_]{8}\.tmp(\.[^/]*)?")

_NO_SPACE = {errno.ENOSPC: "no space left on device (the disk is full)"}
if hasattr(errno, "EDQUOT"):  # not on Windows
    _NO_SPACE[errno.EDQUOT] = "disk quota exceeded"


def _no_space(err: BaseException) -> int | None:
    """The ENOSPC/EDQUOT errno behind ``err``, following causes and contexts (writers wrap errors), or None."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in _NO_SPACE:
            return err.errno
        err = err.__cause__ or err.__context__
    return None


#: How the errors of a place that cannot be written read, by errno (others: the system's own words).
_CANNOT_WRITE = {errno.EACCES: "permission denied", errno.EPERM: "not permitted here",
                 errno.EROFS: "the disk is read-only", errno.ENOTDIR: "a part of its path is a file, not a folder",
                 errno.EISDIR: "a folder of that name is in the way",
                 errno.EEXIST: "a part of its path is a file, not a folder",  # os.mkdir's word for it
                 errno.ENOENT: "no file can be made there", errno.ENAMETOOLONG: "the name is too long"}


def _cannot_write(target: Path, err: OSError) -> WriteError:
    """The :class:`WriteError` (or :class:`DiskFullError`) that says why ``target`` could not be written."""
    kept = "the previous file is unchanged" if target.is_file() else "nothing was written"
    code = _no_space(err)
    if code is not None:
        return DiskFullError(f"cannot write {target}: {_NO_SPACE[code]}; {kept}. Free some space "
                             "(or write somewhere else) and try again.", code)
    reason = _CANNOT_WRITE.get(err.errno, (err.strerror or str(err)).lower())
    return WriteError(f"cannot write {target}: {reason}; {kept}. Write somewhere else.", err.errno)


def refuse_overwrite(target: str | os.PathLike, force: bool) -> Path:
    """``target`` as a Path, before any work: an existing file there is an error unless ``force`` (artlib never
    replaces one unasked), and a folder in the file's place always is.

    Raises:
        ArtlibError: ``target`` is an existing file and ``force`` is False.
        WriteError: ``target`` is a folder (:func:`check_writable`'s message).
    """
    target = Path(target)
    if target.is_dir():
        check_writable(target)  # raises, saying a folder is in the way
    if not force and target.exists():
        raise ArtlibError(f"'{target}' exists; pass --force (force=True) to overwrite it")
    return target


def check_writable(target: str | os.PathLike, *, folder: bool = False) -> Path:
    """Check, writing nothing that stays, that a file (or, with ``folder``, a folder) can be made at ``target``.

    The nearest folder on the path that exists must be a folder in which a file can be created (tried
    with a temporary file, removed at once: permissions alone do not tell, e.g. for root on a read-only
    or virtual file system); ``target`` itself must not be a folder (a file) or a file (a folder).
    Missing folders on the way are not made here.

    Returns:
        ``target`` as a ``Path``.

    Raises:
        WriteError: Nothing could be written there (the message says why).
    """
    target = Path(target).expanduser()
    if target.is_symlink() and not target.exists():
        raise WriteError(f"cannot use {target}: it is a link to {os.readlink(target)}, which does not exist. Make "
                         "that, or name another place.", errno.ENOENT)
    if folder and target.exists() and not target.is_dir():
        raise WriteError(f"cannot use {target} as a folder: it is a file. Name a folder.", errno.ENOTDIR)
    if not folder and target.is_dir():
        raise _cannot_write(target, OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
    place = target if folder else target.parent
    while not place.exists() and place != place.parent:
        place = place.parent
    if not place.is_dir():
        raise _cannot_write(target, OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))
    try:
        fd, probe = tempfile.mkstemp(dir=place, prefix=".artlib-write-check-")
    except OSError as err:
        raise _cannot_write(target, err) from None
    os.close(fd)
    os.unlink(probe)
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` atomically.

    The temporary name keeps the target's extensions, so writers that choose the
    format from the file name (Pillow, matplotlib) still work, and Keras's
    ``save_weights``, which wants the name to end in ``.weights.h5``.

    Raises:
        DiskFullError: The disk or quota ran out while making the folder, the temporary file or
            writing it (the target keeps its previous content; the temporary file is removed).
        WriteError: The folder, the temporary file or the rename failed for another reason (no
            permission, a read-only disk, a file in the folder's place, a folder in the file's).
            Other errors of the writer itself pass unchanged.

    Example:
        >>> with atomic_path("out/grid.png") as tmp:  # doctest: +SKIP
        ...     figure.savefig(tmp)
    """
    target = Path(target)
    tmp = None
    try:
        try:  # the place: the folder and a temporary file in it
            target.parent.mkdir(parents=True, exist_ok=True)
            extensions = "".join(target.suffixes)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name.removesuffix(extensions)}-",
                                       suffix=f".tmp{extensions}")
            os.close(fd)
        except OSError as err:
            raise _cannot_write(target, err) from err
        yield Path(tmp)
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
            os.replace(tmp, target)
        except OSError as err:
            raise _cannot_write(target, err) from err
    except WriteError:
        raise
    except Exception as err:  # the writer's own: only running out of space is put in other words
        if _no_space(err) is None:
            raise
        raise _cannot_write(target, err) from err
    finally:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(target: str | os.PathLike, payload: bytes) -> Path:
    """Write ``payload`` to ``target`` atomically and return the path.

    Raises:
        DiskFullError: The disk is full (``target`` keeps its previous content).
    """
    with atomic_path(target) as tmp:
        tmp.write_bytes(payload)
    return Path(target)


def atomic_write_text(target: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically and return the path.

    Raises:
        DiskFullError: The disk is full (``target`` keeps its previous content).
    """
    return atomic_write_bytes(target, text.encode("utf-8"))


def plan_outputs(pairs: Iterable[tuple[str | os.PathLike, Any]], *, force: bool = False) -> dict[Path, Any]:
    """The files one command will write, checked before any work: ``{target: what it is made from}``, in order.

    Args:
        pairs: ``(target, source)`` for every file to write; the source only names it in messages.
        force: Whether existing targets may be replaced.

    Returns:
        The targets (as ``Path``) and their sources, in the order given.

    Raises:
        ArtlibError: Two sources would be written to one file (``a.png`` and ``a.jpg`` both to ``a.png``:
            the first result would be lost), or a target exists and ``force`` is False.
        WriteError: A target cannot be written (see :func:`check_writable`).
    """
    planned: dict[Path, Any] = {}
    for target, source in pairs:
        target = Path(target)
        if target in planned:
            raise ArtlibError(f"'{planned[target]}' and '{source}' would both be written to '{target}'; "
                              "rename one or apply them separately")
        planned[refuse_overwrite(target, force)] = source
    probed: set[Path] = set()
    for target in planned:  # a probe per folder, not per file; a folder in a file's place is told by name
        if target.parent not in probed or target.is_dir():
            check_writable(target)
            probed.add(target.parent)
    return planned


def remove_leftovers(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed :func:`atomic_path` writes left in ``folder``.

    ``folder`` and the folders directly in it are searched (a run directory and its
    ``samples/``), and only names that :func:`atomic_path` makes are deleted, never through a
    link. Call it only while nothing else writes there: a training does, once it holds the run
    directory's lock.

    Returns:
        The files deleted.
    """
    folder = Path(folder)
    removed = []
    for place in (folder, *(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())):
        for path in place.glob(".*.tmp*"):
            if _TEMPORARY_NAME.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed
