"""Keep TensorFlow's C++ start-up lines off the user's terminal and notebook; let everything else through.

TensorFlow 2.21 writes lines such as ``WARNING: All log messages before absl::InitializeLog()
is called are written to STDERR`` and ``I0000 … port.cc:153] oneDNN custom operations are on``
straight to file descriptor 2 on some CPUs (AVX-512), and ``TF_CPP_MIN_LOG_LEVEL`` does not
silence them. :class:`QuietStderr` puts a pipe in front of descriptor 2 for the life of a command
and drops the lines written in TensorFlow's log formats; every other byte (artlib's messages,
progress bars, a traceback) reaches the terminal unchanged. It needs ``select()`` on a pipe,
so it is used on POSIX systems only (Linux, macOS, Colab).

Where it is used: the command line runs every command inside one (:func:`artlib.cli.run`), and
:func:`tensorflow_import` wraps the first import of TensorFlow in a Python session — the lazy
import of an artlib module (``from artlib import gan``) and :func:`artlib.config.devices` — so
that a notebook's first cell shows the mode, not TensorFlow's start-up lines in red.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import sys
import threading
from collections.abc import Iterator

__all__ = ["QuietStderr", "is_noise", "tensorflow_import"]

_NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\] "  # absl: I0000 00:00:17.5  123 port.cc:153]
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] [\w./-]+:\d+\] "  # TF: 2026-12-02 10:00:00.1: I x.cc:1]
    rb"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags)"
)
_FLUSH_AFTER = 0.1  # seconds: a partial line (a progress bar) waits at most this long


def is_noise(line: bytes) -> bool:
    """True for a line in one of TensorFlow's C++ log formats (info, warning or error; not fatal)."""
    return _NOISE.match(line) is not None


class QuietStderr:
    """A context manager that filters TensorFlow's log lines out of file descriptor 2.

    Example::

        with QuietStderr():
            import tensorflow  # its start-up lines are dropped; a traceback would still show
    """

    def __init__(self) -> None:
        self._saved: int | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> QuietStderr:
        sys.stderr.flush()
        read_end, write_end = os.pipe()
        self._saved = os.dup(2)
        os.dup2(write_end, 2)
        os.close(write_end)
        self._thread = threading.Thread(target=self._pump, args=(read_end, self._saved), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stderr.flush()
        os.dup2(self._saved, 2)  # closes the pipe's last write end: the pump reads EOF
        self._thread.join(timeout=5)
        os.close(self._saved)

    @staticmethod
    def _pump(read_end: int, out: int) -> None:
        pending = b""
        try:
            while True:
                ready, _, _ = select.select([read_end], [], [], _FLUSH_AFTER)
                if not ready:  # quiet for a moment: a partial line is a progress bar or a prompt
                    if pending and not is_noise(pending):
                        os.write(out, pending)
                        pending = b""
                    continue
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = re.split(rb"(?<=[\n\r])", pending)
                kept = b"".join(line for line in lines if not is_noise(line))
                if kept:
                    os.write(out, kept)
            if pending and not is_noise(pending):
                os.write(out, pending)
        except OSError:  # the terminal went away: nothing left to show
            pass
        finally:
            os.close(read_end)


@contextlib.contextmanager
def tensorflow_import() -> Iterator[None]:
    """Filter descriptor 2 with :class:`QuietStderr` while the code inside may import TensorFlow first.

    A no-op where TensorFlow is imported already (nothing is printed again), off POSIX, or with
    ``ARTLIB_DEBUG=1`` (to see every line). Example::

        with tensorflow_import():
            import tensorflow as tf
    """
    from artlib import config

    if "tensorflow" in sys.modules or os.name != "posix" or config.is_debug():
        yield
        return
    with QuietStderr():
        yield
