"""The shared test harness: never touch the network, always the TensorFlow backend, one subprocess runner.

Tests that need a fresh process (exact resume, the command line, import costs) call
:func:`run_python` or :func:`run_cli`; both run offline in fast mode with a hang guard
(a generous timeout that catches a hang, never a speed check) and return the
``subprocess.CompletedProcess`` with text ``stdout``/``stderr``. A test file run as a script
(its scenarios) is forked from a zygote that has TensorFlow imported (``tests/zygote.py``):
as fresh as a new process, without the import's seconds. ``ARTLIB_TEST_ZYGOTE=0`` turns that off.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

os.environ["ARTLIB_OFFLINE"] = "1"
os.environ["KERAS_BACKEND"] = "tensorflow"

REPO = Path(__file__).resolve().parent.parent
HANG_TIMEOUT = 600  # seconds; only catches a hung subprocess


def load_script(name: str):
    """``scripts/NAME.py`` as a module (the repository's tools are not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kernel_client = load_script("kernel_client")
kernel_client.slice_kernel_client_waits()  # each worker collects tests/ (so imports this file) before it runs a notebook


def subprocess_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a test subprocess gets: this one, offline, fast mode, plus ``extra``."""
    env = dict(os.environ, ARTLIB_OFFLINE="1", ARTLIB_FAST="1", ARTLIB_MODE="fast", KERAS_BACKEND="tensorflow")
    env.pop("ARTLIB_DEBUG", None)
    env.update(extra or {})
    return env


def run_python(*args: str, env: Mapping[str, str] | None = None, cwd: str | Path = REPO,
               timeout: float = HANG_TIMEOUT, check: bool = False) -> subprocess.CompletedProcess:
    """Run ``python ARGS…`` (this interpreter) in a fresh process; ``env`` adds variables.

    ``python SCRIPT.py …`` (a test file's scenarios) is forked from :class:`Zygote`, which has
    TensorFlow and Keras imported already; anything else (``-c``, ``-m``) is a new interpreter.
    """
    argv = [str(a) for a in args]
    if argv and argv[0].endswith(".py") and Zygote.usable():
        result = Zygote.get().run(argv, subprocess_env(env), cwd, timeout)
    else:
        result = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                                env=subprocess_env(env), cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise AssertionError(f"python {' '.join(argv)} exited {result.returncode}:\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


class Zygote:
    """``tests/zygote.py``, one per test process: runs scenario scripts in forks that skip the TensorFlow import."""

    _running: Zygote | None = None

    @staticmethod
    def usable() -> bool:
        return sys.platform.startswith("linux") and os.environ.get("ARTLIB_TEST_ZYGOTE", "1") != "0"

    @classmethod
    def get(cls) -> Zygote:
        if cls._running is None or cls._running.process.poll() is not None:
            cls._running = cls()
        return cls._running

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("zygote.py"))],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        env=subprocess_env(), cwd=REPO)
        self.pending = b""

    def _answer(self, deadline: float) -> dict:
        import json
        import select
        import time

        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"the test zygote ended (status {self.process.wait()})")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def run(self, argv: list[str], env: dict[str, str], cwd: str | Path,
            timeout: float) -> subprocess.CompletedProcess:
        import json
        import signal
        import tempfile
        import time

        with tempfile.TemporaryDirectory(prefix="artlib-zygote-") as folder:
            out, err = Path(folder, "stdout"), Path(folder, "stderr")
            request = {"argv": argv, "env": env, "cwd": str(cwd), "stdout": str(out), "stderr": str(err)}
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
            deadline = time.monotonic() + timeout
            pid = self._answer(deadline)["pid"]
            try:
                status = self._answer(deadline)["status"]
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                self._answer(time.monotonic() + 60)
                raise subprocess.TimeoutExpired([sys.executable, *argv], timeout,
                                                out.read_text(errors="replace"), err.read_text(errors="replace"))
            return subprocess.CompletedProcess([sys.executable, *argv], status, out.read_text(errors="replace"),
                                               err.read_text(errors="replace"))


def run_cli(*args: str, env: Mapping[str, str] | None = None, cwd: str | Path = REPO,
            timeout: float = HANG_TIMEOUT) -> subprocess.CompletedProcess:
    """Run ``python -m artlib ARGS…`` as a user would."""
    return run_python("-m", "artlib", *args, env=env, cwd=cwd, timeout=timeout)


@pytest.fixture(name="run_cli")
def run_cli_fixture():
    """:func:`run_cli` as a fixture, for tests that prefer not to import from conftest."""
    return run_cli
