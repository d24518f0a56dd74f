"""Images in and out, and the preprocessing steps the course teaches.

Pixels are float32 in [0, 1] unless a name says [-1, 1] (``to_minus_one_one``).

Which file does what:

* ``read.py`` — ``load_image``: a path, bytes, a binary file object or an http(s) URL to an
  H×W×3 float32 array; every Pillow mode converted, EXIF rotation applied, bad files rejected
  with an ``ImageError`` that names them (NumPy + Pillow).
* ``write.py`` — ``save_image``: atomic writes, the format from the extension (NumPy + Pillow).
* ``batch.py`` — ``as_batch``: the one check for a batch of images passed to the Python API (NumPy);
  ``as_array``, the array of it with an error naming the input.
* ``preprocess.py`` — ``to_float``, ``to_uint8``, ``to_minus_one_one``, ``from_minus_one_one``,
  ``resize``, ``resize_max_dim``, ``center_crop``, ``random_crop``, ``augment``: NumPy in, NumPy
  out; tensor in, tensor out; usable inside ``tf.data`` (TensorFlow).

Loading, saving and checking images never imports TensorFlow, so the command line can check a
user's files before it pays for TensorFlow's start-up; the preprocessing helpers are imported
the first time one of them is used (``artlib.imageio.resize``).
"""

from __future__ import annotations

import importlib
from typing import Any

from artlib.errors import ImageError
from artlib.imageio.batch import as_array, as_batch
from artlib.imageio.read import (
    DEFAULT_MAX_ASPECT,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    READ_FORMATS,
    ImageSource,
    load_image,
)
from artlib.imageio.write import SAVE_FORMATS, save_image

#: The preprocessing helpers, in ``preprocess.py``: loaded with TensorFlow on first use (PEP 562).
_PREPROCESSING = (
    "resize_max_dim",
    "resize",
    "center_crop",
    "random_crop",
    "to_float",
    "to_uint8",
    "to_minus_one_one",
    "from_minus_one_one",
    "augment",
    "stateless_seed",
)

__all__ = [
    "ImageError",
    "ImageSource",
    "load_image",
    "as_array",
    "as_batch",
    "save_image",
    "READ_FORMATS",
    "SAVE_FORMATS",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ASPECT",
    *_PREPROCESSING,
]


def __getattr__(name: str) -> Any:
    if name in _PREPROCESSING:
        value = getattr(importlib.import_module("artlib.imageio.preprocess"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'artlib.imageio' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
