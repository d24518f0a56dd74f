"""Settings for the whole course: fast or full mode, offline mode, data paths, seeds.

This module is the only place in artlib that reads the environment:

* ``ARTLIB_FAST=1``    shrink epochs, steps and image sizes (CI, a quick look).
* ``ARTLIB_OFFLINE=1`` never open a network connection; use offline routes only.
* ``ARTLIB_DATA_DIR``  a folder holding the Fashion-MNIST ``*.gz`` files.
* ``ARTLIB_CACHE_DIR`` where downloads are cached (default: the Keras cache, ``~/.keras``).
* ``ARTLIB_DEBUG=1``   the command line shows TensorFlow's own start-up messages.

The values are read when asked for, not at import, so a notebook or a test can
change them at any time. Fast mode changes sizes, never code paths::

    NUM_EPOCHS = artlib.config.choose(full=30, fast=1)
"""

from __future__ import annotations

import os
import platform
import random
from pathlib import Path
from typing import Any, TypeVar

# Keras 3 must pick its backend before it is first imported; artlib uses TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's C++ start-up chatter hides what a learner needs to read.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = [
    "REPO_URL",
    "is_fast",
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


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def is_fast() -> bool:
    """True when ``ARTLIB_FAST`` is set: small sizes so everything runs in CI in minutes."""
    return _flag("ARTLIB_FAST")


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
    """True when ``ARTLIB_DEBUG`` is set: the command line shows TensorFlow's own start-up messages."""
    return _flag("ARTLIB_DEBUG")


def is_ci() -> bool:
    """True when running under a CI service (``CI`` set), e.g. to skip interactive output."""
    return _flag("CI")


def choose(full: T, fast: T) -> T:
    """Return ``fast`` in fast mode and ``full`` otherwise.

    Args:
        full: The value worth showing (documented run time in each notebook).
        fast: The small value for CI and a quick first look.

    Returns:
        One of the two values; the code path is the same either way.
    """
    return fast if is_fast() else full


def set_seed(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python, NumPy and TensorFlow/Keras in one call.

    Args:
        seed: Any non-negative integer.
        deterministic: Also turn on TensorFlow op determinism, so the same
            program gives bitwise the same result (slower on some ops; it is
            process-wide and cannot be turned off again).
    """
    import numpy as np

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
