"""The style package's check of what callers pass: an image batch (whole numbers: artlib.checks.positive_int)."""

from __future__ import annotations

from typing import Any

from artlib import config  # noqa: F401  (first: selects the TensorFlow backend)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import imageio  # noqa: E402
from artlib.errors import ImageError  # noqa: E402


def as_image_batch(images: Any, *, name: str = "images") -> tf.Tensor:
    """One image or a batch of them as a float32 RGB ``N×H×W×3`` tensor in [0, 1]; grayscale becomes RGB.

    Args:
        images: ``H×W`` (grayscale), ``H×W×C`` or ``N×H×W×C`` pixels with C = 1 (grayscale, repeated
            into three channels) or 3 (RGB): floats in [0, 1] or uint8 (0–255).
        name: What to call the input in an error message.

    Returns:
        float32 tensor ``N×H×W×3`` (``1×H×W×3`` for one image).

    Raises:
        ImageError: Another shape, NaN pixels or floats outside [0, 1] (see :func:`artlib.imageio.as_batch`;
            overshoots of float arithmetic, up to 1e-4, are clipped).
    """
    array = imageio.as_array(images, name)
    if array.ndim == 2:
        array = array[..., np.newaxis]  # H×W -> H×W×1
    if array.ndim == 3:
        array = array[np.newaxis]  # H×W×C -> 1×H×W×C
    if array.ndim == 4 and array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)  # grayscale -> RGB
    return tf.constant(imageio.as_batch(array, name=name, channels=3, tolerance=1e-4))


def as_image(image: Any, *, name: str = "image") -> np.ndarray:
    """One image as a float32 RGB ``H×W×3`` array in [0, 1], converted as :func:`as_image_batch` converts.

    Raises:
        ImageError: As :func:`as_image_batch`, or a batch of more than one image.
    """
    batch = as_image_batch(image, name=name)
    if batch.shape[0] != 1:
        raise ImageError(f"{name} must be one image, not a batch of {batch.shape[0]}")
    return batch[0].numpy()
