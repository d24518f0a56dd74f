"""artlib: generative art with Keras 3 and TensorFlow — the package behind the notebook course.

Each topic is a module (``artlib.data``, ``artlib.imageio`` …); the notebooks in
``notebooks/`` explain them and call them. Start with ``python -m artlib info``.
"""

from artlib import config  # first: selects the TensorFlow backend before Keras is imported
from artlib import atomic, data, errors, imageio, metrics, net, plotting, training
from artlib import autoencoder
from artlib import vae
from artlib import gan
from artlib import fast_style
from artlib import patterns, style
from artlib.errors import (
    ArtlibError,
    CheckpointError,
    DataError,
    ImageError,
    NonFiniteLossError,
    OfflineError,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # modules
    "config", "data", "imageio", "plotting", "metrics", "training", "net", "atomic", "errors",
    "autoencoder",
    "vae",
    "gan",
    "fast_style",
    "style", "patterns",
    # errors
    "ArtlibError", "ImageError", "DataError", "NonFiniteLossError", "CheckpointError", "OfflineError",
]
