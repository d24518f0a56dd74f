"""The exceptions artlib raises on bad input, in one place.

Every one is a ``ValueError`` (bad input is a value problem), so a caller who
does not care about the kind can catch ``ValueError``; a caller who does can
catch the specific class. Each message names the input and says what to do.
"""

from __future__ import annotations

import errno

__all__ = [
    "first_line",
    "ArtlibError",
    "ImageError",
    "DataError",
    "NonFiniteLossError",
    "CheckpointError",
    "OfflineError",
    "WriteError",
    "DiskFullError",
]


class ArtlibError(ValueError):
    """Base class of every error artlib raises on purpose."""


class ImageError(ArtlibError):
    """An image that cannot be used: corrupt, truncated, not an image, absurdly sized, or too small."""


class DataError(ArtlibError):
    """A dataset file that is missing, partial or corrupt (the message names the file)."""


class NonFiniteLossError(ArtlibError):
    """Training produced a NaN or infinite loss; the last good checkpoint is kept."""


class CheckpointError(ArtlibError):
    """A run directory or checkpoint that cannot be restored."""


class OfflineError(ArtlibError, ConnectionError):
    """A download was needed but artlib is offline (``ARTLIB_OFFLINE=1``) or the network failed."""


class WriteError(ArtlibError, OSError):
    """A file cannot be written where it was asked for (no permission, a read-only disk, a part of the
    path that is a file, a folder in the file's place); the previous file, if any, is unchanged.

    Args:
        message: What failed, naming the file, and what to do.
        code: The ``errno`` behind it (kept as ``.errno``).
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.errno = code


class DiskFullError(WriteError):
    """A write ran out of disk space (or quota); the previous file, if any, is unchanged.

    Args:
        message: What failed, naming the file, and what to do.
        code: ``errno.ENOSPC`` or ``errno.EDQUOT`` (kept as ``.errno``).
    """

    def __init__(self, message: str, code: int = errno.ENOSPC) -> None:
        super().__init__(message, code)


def first_line(err: BaseException, limit: int = 200) -> str:
    """The gist of an error for a one-line message: its first line, without TensorFlow's ``{{function_node …}}``
    prefix, cut at a word near ``limit`` characters (with an ellipsis); its class name if it says nothing."""
    import re

    text = re.sub(r"\{\{[^}]*\}\}\s*", "", str(err)).strip().splitlines()
    line = (text[0] if text else type(err).__name__).strip()
    return line if len(line) <= limit else line[:limit].rsplit(" ", 1)[0] + " …"
