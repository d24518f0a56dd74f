"""The shared test harness: never touch the network, always the TensorFlow backend, one subprocess runner.

Tests that need a fresh process (exact resume, the command line, import costs) call
:func:`run_python` or :func:`run_cli`; both run offline in fast mode with a hang guard
(a generous timeout that catches a hang, never a speed check) and return the
``subprocess.CompletedProcess`` with text ``stdout``/``stderr``.
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


def subprocess_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a test subprocess gets: this one, offline, fast mode, plus ``extra``."""
    env = dict(os.environ, ARTLIB_OFFLINE="1", ARTLIB_FAST="1", ARTLIB_MODE="fast", KERAS_BACKEND="tensorflow")
    env.pop("ARTLIB_DEBUG", None)
    env.update(extra or {})
    return env


def run_python(*args: str, env: Mapping[str, str] | None = None, cwd: str | Path = REPO,
               timeout: float = HANG_TIMEOUT, check: bool = False) -> subprocess.CompletedProcess:
    """Run ``python ARGS…`` (this interpreter) in a fresh process; ``env`` adds variables."""
    result = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                            env=subprocess_env(env), cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise AssertionError(f"python {' '.join(map(str, args))} exited {result.returncode}:\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def run_cli(*args: str, env: Mapping[str, str] | None = None, cwd: str | Path = REPO,
            timeout: float = HANG_TIMEOUT) -> subprocess.CompletedProcess:
    """Run ``python -m artlib ARGS…`` as a user would."""
    return run_python("-m", "artlib", *args, env=env, cwd=cwd, timeout=timeout)


@pytest.fixture(name="run_cli")
def run_cli_fixture():
    """:func:`run_cli` as a fixture, for tests that prefer not to import from conftest."""
    return run_cli
