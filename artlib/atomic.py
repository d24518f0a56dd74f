"""Atomic file writes: a file appears complete or not at all, never half-written.

Write to a temporary file in the target's folder, then ``os.replace`` it onto
the target (atomic on POSIX and Windows). If anything fails, or the process is
killed, the target keeps its previous content and the temporary file is removed
(or, after a kill, left as an ignorable hidden ``.NAME-*.tmp`` file).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` atomically.

    The temporary name keeps the target's extension, so writers that choose the
    format from the file name (Pillow, matplotlib) still work.

    Example:
        >>> with atomic_path("out/grid.png") as tmp:  # doctest: +SKIP
        ...     figure.savefig(tmp)
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=f".tmp{target.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(target: str | os.PathLike, payload: bytes) -> Path:
    """Write ``payload`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(payload)
    return Path(target)


def atomic_write_text(target: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically and return the path."""
    return atomic_write_bytes(target, text.encode("utf-8"))
