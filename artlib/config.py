"""Settings for the whole course: fast or full mode, offline mode, data paths, seeds.

This module is the only place in artlib that reads artlib's settings from the environment (the command
line also checks ``KERAS_BACKEND``, and sets ``ARTLIB_DEBUG`` for ``--verbose``):

* ``ARTLIB_MODE``      ``fast`` (CI, about a minute a notebook), ``lesson`` (a class period: each
                       notebook in ≤ 10 minutes on 2 CPU cores, short demonstration runs) or ``full``
                       (the default: the best results). ``ARTLIB_FAST=1`` means ``fast``.
* ``ARTLIB_RUNS_DIR``  where notebooks keep their run folders (default ``runs`` in the current folder:
                       in Jupyter, the notebook's own).
* ``ARTLIB_SOLUTIONS=1`` run the exercises' solution cells (the tests set it; Run All skips them).
* ``ARTLIB_OFFLINE=1`` never open a network connection; use offline routes only.
* ``ARTLIB_DATA_DIR``  a folder holding the Fashion-MNIST ``*.gz`` files.
* ``ARTLIB_CACHE_DIR`` where downloads are cached (default: the Keras cache, ``~/.keras``).
* ``ARTLIB_DEBUG=1``   the command line shows TensorFlow's own start-up messages.

The values are read when asked for, not at import, so a notebook or a test can
change them at any time. Modes change sizes, never code paths::

    NUM_EPOCHS = artlib.config.choose(full=30, lesson=5, fast=1)
"""

from __future__ import annotations

import os
import platform
import random
from pathlib import Path
from typing import Any, TypeVar

# Keras 3 must pick its backend before it is first imported; artlib uses TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's C++ log lines hide what a learner needs to read: its start-up chatter, and lines logged as
# errors that are not, such as Grappler's "remapper failed: INVALID_ARGUMENT" (TensorFlow 2.21 logs it for
# every gradient through a convolution and a LeakyReLU, and then runs the graph correctly). 3 keeps only fatal
# lines; every failure that matters still reaches Python as an exception.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__all__ = [
    "REPO_URL",
    "MODES",
    "mode",
    "is_fast",
    "is_lesson",
    "describe_mode",
    "runs_dir",
    "run_solutions",
    "accelerator",
    "is_offline",
    "data_dir",
    "cache_dir",
    "choose",
    "set_seed",
    "versions",
    "devices",
    "describe_machine",
    "is_debug",
]

#: Where the course lives; the notebooks' Colab badges and install cells use this URL.
REPO_URL = "https://github.com/artlib-course/artlib"
#: The repository root (holds ``data/``) when artlib runs from a checkout.
REPO_ROOT = Path(__file__).resolve().parent.parent


def _shipped_dir() -> Path:
    inside = Path(__file__).resolve().parent / "_shipped"  # an installed wheel: package data
    return inside if inside.is_dir() else REPO_ROOT / "data"  # a checkout or an editable install


#: The shipped models and data (``pretrained/``, ``fashion-mnist-subset/``): the package's own copy
#: once installed from a wheel, else the checkout's ``data/`` folder.
SHIPPED_DIR = _shipped_dir()
#: The shipped trained models (see ``data/README.md``).
PRETRAINED_DIR = SHIPPED_DIR / "pretrained"

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}


#: The words a yes/no variable may hold for "no" (unset or empty is "no" too).
_FALSE = ("0", "false", "no", "off")


def _flag(name: str, *, strict: bool = True) -> bool:
    """A yes/no environment variable: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (or unset).

    Raises:
        ArtlibError: Another word, when ``strict`` (artlib's own variables: ``ARTLIB_OFFLINE=2`` must not
            quietly mean "online"); other programs' variables (``CI``) are read leniently.
    """
    value = os.environ.get(name, "").strip().lower()
    if strict and value and value not in _TRUE and value not in _FALSE:
        from artlib.errors import ArtlibError

        raise ArtlibError(f"{name}={value!r} is neither yes nor no; use 1 (or true, yes, on) or 0 (or false, no, off)")
    return value in _TRUE


#: The three modes, smallest first.
MODES = ("fast", "lesson", "full")


def mode(choice: str | None = None) -> str:
    """The mode: ``ARTLIB_MODE`` (``fast``, ``lesson`` or ``full``), else ``fast`` if ``ARTLIB_FAST`` is set, else ``full``.

    Args:
        choice: ``None`` or ``"auto"`` reads the mode as above; ``"fast"``, ``"lesson"`` or ``"full"`` sets it
            for this process (``ARTLIB_MODE``, which :func:`choose` and :func:`runs_dir` read), as a notebook's
            parameters cell does with ``MODE = config.mode("lesson")``.

    Raises:
        ArtlibError: ``ARTLIB_MODE`` or ``choice`` holds another word (the message lists the three).
    """
    if choice is not None and str(choice).strip().lower() != "auto":
        wanted = str(choice).strip().lower()
        if wanted not in MODES:
            from artlib.errors import ArtlibError

            raise ArtlibError(f"mode {choice!r} is not a mode; use one of {', '.join(MODES)}, "
                              "or 'auto' for ARTLIB_MODE")
        os.environ["ARTLIB_MODE"] = wanted
    value = os.environ.get("ARTLIB_MODE", "").strip().lower()
    if value:
        if value not in MODES:
            from artlib.errors import ArtlibError

            raise ArtlibError(f"ARTLIB_MODE={value!r} is not a mode; use one of {', '.join(MODES)}")
        return value
    return "fast" if _flag("ARTLIB_FAST") else "full"


def is_fast() -> bool:
    """True in fast mode (``ARTLIB_MODE=fast`` or ``ARTLIB_FAST=1``): small sizes so everything runs in CI in minutes."""
    return mode() == "fast"


def is_lesson() -> bool:
    """True in lesson mode (``ARTLIB_MODE=lesson``): each notebook within a class period on a CPU."""
    return mode() == "lesson"


def run_solutions() -> bool:
    """True when ``ARTLIB_SOLUTIONS`` is set: the exercises' solution cells run (the tests set it; Run All skips them)."""
    return _flag("ARTLIB_SOLUTIONS")


def runs_dir(*parts: str) -> Path:
    """A stable folder for run directories: ``ARTLIB_RUNS_DIR`` (default ``./runs``) / ``parts`` / the mode.

    The same notebook in the same mode always gets the same folder, so a run resumes after a kernel
    restart and TensorBoard (``--logdir runs``) shows every run; the mode keeps a lesson run from
    resuming a full one with other settings.

    Args:
        parts: Sub-folders, e.g. ``"04_gan"``.

    Returns:
        The folder (created).

    Raises:
        WriteError: The folder cannot be made or written in (``ARTLIB_RUNS_DIR`` names a file, a place
            without permission, or a read-only copy); the message names the variable.
    """
    value = os.environ.get("ARTLIB_RUNS_DIR", "").strip()
    root = Path(value).expanduser() if value else Path.cwd() / "runs"
    folder = root.joinpath(*parts, mode())
    fix = (f"point ARTLIB_RUNS_DIR (now {value!r}) at a folder that can be written" if value
           else "set ARTLIB_RUNS_DIR to a folder that can be written")
    from artlib.errors import WriteError

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WriteError(f"cannot make {folder} for the runs ({err.strerror or err}); {fix}", err.errno) from err
    from artlib.atomic import check_writable

    try:  # a folder that is already there may still be read-only (a class's shared copy of finished runs)
        check_writable(folder, folder=True)
    except WriteError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        raise WriteError(f"cannot write in {folder} for the runs ({reason}); {fix}", err.errno) from err
    return folder


def accelerator() -> str:
    """``"tpu"``, ``"gpu"`` or ``"cpu"``: what TensorFlow will compute on (imports TensorFlow)."""
    dev = devices()
    return "tpu" if dev["tpus"] else "gpu" if dev["gpus"] else "cpu"


def describe_mode() -> str:
    """One line a notebook prints first: the mode, what it means, and the hardware it picked sizes for."""
    meaning = {"fast": "tiny sizes for a quick check (CI); pictures are rough",
               "lesson": "sized for a class period (≤ 10 minutes a notebook on 2 CPU cores), short demonstration runs",
               "full": "the sizes worth showing; see docs/teaching.md for the times"}[mode()]
    where = accelerator()
    extra = " — a GPU/TPU is present, so sizes marked for it grow" if where != "cpu" else ""
    return f"mode: {mode()} ({meaning}); computing on {where.upper()}{extra}"


def is_offline() -> bool:
    """True when ``ARTLIB_OFFLINE`` is set: artlib opens no network connection at all."""
    return _flag("ARTLIB_OFFLINE")


def data_dir() -> Path | None:
    """The folder named by ``ARTLIB_DATA_DIR``, or None when it is not set."""
    value = os.environ.get("ARTLIB_DATA_DIR", "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Where downloads are cached: ``ARTLIB_CACHE_DIR``, else ``KERAS_HOME``, else ``~/.keras``."""
    value = os.environ.get("ARTLIB_CACHE_DIR") or os.environ.get("KERAS_HOME")
    return Path(value).expanduser() if value else Path.home() / ".keras"


def is_debug() -> bool:
    """True when ``ARTLIB_DEBUG`` is set: TensorFlow's own start-up messages are shown (:mod:`artlib.quiet`)."""
    return _flag("ARTLIB_DEBUG")


def is_ci() -> bool:
    """True when running under a CI service (``CI`` set), e.g. to skip interactive output."""
    return _flag("CI", strict=False)


_UNSET: Any = object()


def choose(full: T, fast: T, lesson: T = _UNSET, *, gpu: T = _UNSET) -> T:
    """The value for the current mode: ``fast``, ``lesson`` or ``full``.

    Args:
        full: The value worth showing (the default mode).
        fast: The small value for CI and a quick first look.
        lesson: The value for a class period; ``full`` where not given (library defaults).
        gpu: A bigger value used instead of ``full`` when a GPU or TPU is present (asking imports
            TensorFlow; not given: the same sizes everywhere). Lesson mode keeps ``lesson`` on any
            hardware: its times are measured on 2 CPU cores, and a class period is a class period.

    Returns:
        One of the values; the code path is the same either way.
    """
    current = mode()
    if current == "fast":
        return fast
    if current == "lesson":
        return full if lesson is _UNSET else lesson
    if gpu is not _UNSET and accelerator() != "cpu":
        return gpu
    return full


def set_seed(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python, NumPy and TensorFlow/Keras in one call.

    Args:
        seed: Any non-negative integer.
        deterministic: Also turn on TensorFlow op determinism, so the same
            program gives bitwise the same result (slower on some ops; it is
            process-wide and cannot be turned off again).

    Raises:
        ArtlibError: ``seed`` is not a whole number ≥ 0.
    """
    import numpy as np

    from artlib.checks import seed_value

    seed = seed_value(seed)
    random.seed(seed)
    np.random.seed(seed)
    import keras

    keras.utils.set_random_seed(seed)
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def versions() -> dict[str, str]:
    """Versions of Python and the libraries artlib stands on."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in ("artlib", "tensorflow", "tensorflow-cpu", "keras", "numpy", "pillow",
                 "scikit-image", "matplotlib"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def devices() -> dict[str, Any]:
    """What TensorFlow will compute on: CPU model and cores, and any GPUs or TPUs."""
    from artlib.quiet import tensorflow_import

    with tensorflow_import():  # often a notebook's first import of TensorFlow: without its start-up lines
        import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_cores": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "tpus": [d.name for d in tf.config.list_logical_devices("TPU")],
    }


def describe_machine() -> str:
    """One line naming the machine a measurement was taken on: CPU, cores, GPUs and the current load.

    Benchmarks print it first, so that a figure is never read without its machine.
    """
    dev = devices()
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"{dev['cpu']}, {dev['cpu_cores']} cores, GPUs: {', '.join(dev['gpus']) or 'none'}{load}"
