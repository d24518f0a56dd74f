"""A fork server for the tests' scenario scripts: TensorFlow and Keras imported once, a fork per script.

conftest's :func:`~conftest.run_python` starts one per pytest worker (``python tests/zygote.py``) and
sends it each ``python SCRIPT ARGS…`` it is asked to run, as a JSON line on stdin::

    {"argv": [SCRIPT, ARG, …], "env": {…}, "cwd": DIR, "stdout": FILE, "stderr": FILE}

For each, the zygote forks a child that runs SCRIPT as ``__main__`` with that ``sys.argv``,
environment, working directory and output files, as ``python SCRIPT ARGS…`` would, and answers
with two JSON lines: ``{"pid": PID}`` at once and ``{"status": CODE}`` when the child has ended
(a negative code: killed by that signal).

Importing TensorFlow and Keras runs nothing in TensorFlow (no eager context, no runtime, no threads
of its own), so a child starts exactly as a fresh process does — its devices, determinism and
strategy still unset — without paying the three or four seconds of the import again.
``tests/test_kill.py`` forks the same way after the same imports. TensorFlow's C++ log level is read
at import: children get artlib's level 3 (fatal lines only), unless the test set another.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as artlib.config sets it
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402,F401
import tensorflow  # noqa: E402,F401


def child(request: dict) -> None:
    """Become ``python SCRIPT ARGS…`` as the request asks, run it, and exit with its status (never returns)."""
    code = 1
    try:
        for fd, name in ((1, "stdout"), (2, "stderr")):
            target = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # not the zygote's request pipe
        os.close(null)
        sys.stdin = open(0, closefd=False)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        script, *args = request["argv"]
        sys.argv = [script, *args]
        sys.path[0] = os.path.dirname(os.path.abspath(script))  # as `python SCRIPT` sets it
        try:
            runpy.run_path(script, run_name="__main__")
            code = 0
        except SystemExit as done:
            if done.code is None or isinstance(done.code, int):
                code = done.code or 0
            else:
                print(done.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001  (as the interpreter would: the traceback on stderr, status 1)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()  # nothing of the zygote's own output may reach a child
        pid = os.fork()
        if pid == 0:
            child(request)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(json.dumps({"status": code}), flush=True)


if __name__ == "__main__":
    serve()
