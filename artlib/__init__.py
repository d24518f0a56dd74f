"""artlib: generative art with Keras 3 and TensorFlow — the package behind the notebook course.

Each topic is a subpackage (``artlib.autoencoder``, ``artlib.gan``, ``artlib.style`` …) and
the shared machinery is in small modules (``artlib.data``, ``artlib.imageio``,
``artlib.training`` …); the notebooks in ``notebooks/`` explain them and call them.
``import artlib`` is cheap: a module is imported the first time it is used
(``artlib.gan.sample(...)``), so the command line answers ``--help`` without TensorFlow.
Start with ``python -m artlib info``.
"""

from __future__ import annotations

import importlib
from typing import Any

from artlib import config  # first: selects the TensorFlow backend before Keras is imported
from artlib.errors import (
    ArtlibError,
    CheckpointError,
    DataError,
    ImageError,
    NonFiniteLossError,
    OfflineError,
)

__version__ = "0.1.0"

#: The modules and topic packages, imported on first use (PEP 562).
MODULES = (
    "atomic", "checks", "classes", "data", "errors", "imageio", "latent", "modelio", "net", "plotting", "patterns",  # shared
    "training", "metrics",                                                       # machinery, measures
    "autoencoder", "vae", "gan", "style", "fast_style", "arbitrary_style", "translate", "diffusion",  # topics
    "studio", "gallery", "cli",
)

__all__ = [
    "__version__", "config", *[m for m in MODULES if m not in ("config", "errors")], "errors",
    "ArtlibError", "ImageError", "DataError", "NonFiniteLossError", "CheckpointError", "OfflineError",
]


def __getattr__(name: str) -> Any:
    if name in MODULES:
        from artlib.quiet import tensorflow_import

        with tensorflow_import():  # the first module to import TensorFlow does it without its start-up lines
            module = importlib.import_module(f"artlib.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'artlib' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(MODULES))
