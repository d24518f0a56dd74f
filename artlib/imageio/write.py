"""Write an image file atomically, the format from its extension (NumPy + Pillow, no TensorFlow)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from artlib.atomic import atomic_path
from artlib.errors import ArtlibError, ImageError
from artlib.imageio.batch import channels_first, float_pixels

__all__ = ["SAVE_FORMATS", "save_image"]

#: File extension -> Pillow format for save_image.
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP",
                ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}


def save_image(path: str | os.PathLike, image: Any, *, quality: int = 95) -> Path:
    """Write an image file atomically; the format comes from the extension.

    Args:
        path: Where to write; ``.png``, ``.jpg``/``.jpeg``, ``.webp``, ``.bmp`` or
            ``.tif``/``.tiff``. Missing parent folders are created. An existing file
            is replaced only once the new one is complete.
        image: Float pixels in [0, 1] (a little past is clipped; beyond −0.5 or 1.5 is another scale and an
            error) or uint8 pixels, shaped H×W, H×W×1 or
            H×W×3, or a batch of one (1×H×W×C); NumPy array or ``tf.Tensor``.
        quality: JPEG/WebP quality, 1..100 (ignored by the lossless formats).

    Returns:
        The ``Path`` written.

    Raises:
        ImageError: Unknown extension, wrong shape or dtype, NaN/Inf pixels, or floats beyond −0.5 to 1.5
            (checked by :func:`~artlib.imageio.batch.float_pixels`, as every image artlib takes).
        ArtlibError: ``quality`` is not an integer in 1..100.

    Example:
        >>> save_image("out/gray.png", np.full((32, 32), 0.5))  # doctest: +SKIP
        PosixPath('out/gray.png')
    """
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise ArtlibError(f"quality must be an integer from 1 to 100, not {quality!r}")
    path = Path(path).expanduser()
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"Cannot save image '{path}': unknown extension {path.suffix!r}; "
                         f"use one of {', '.join(sorted(SAVE_FORMATS))}.")
    pixels = _to_uint8_pixels(image, f"Cannot save image '{path}':")
    pil = Image.fromarray(pixels)  # H×W -> "L", H×W×3 -> "RGB"
    options = {"JPEG": {"quality": int(quality)}, "WEBP": {"quality": int(quality)}}.get(fmt, {})
    with atomic_path(path) as tmp:  # a temp file beside it, renamed onto it when complete
        pil.save(tmp, format=fmt, **options)
    return path


def _to_uint8_pixels(image: Any, fail: str) -> np.ndarray:
    """Validate and convert to a uint8 H×W or H×W×3 array."""
    if hasattr(image, "numpy"):  # tf.Tensor, without needing TF to be imported first
        image = image.numpy()
    array = np.asarray(image)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]  # 1×H×W×C -> H×W×C
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]  # H×W×1 -> H×W
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] != 3) or array.size == 0:
        hint = (" It looks channels-first (C×H×W), as PyTorch keeps images: pass np.moveaxis(image, -3, -1)."
                if channels_first(array.shape) else " Save a batch one image at a time.")
        raise ImageError(f"{fail} shape {array.shape} is not an image; expected H×W, H×W×1, "
                         f"H×W×3 or a batch of one (1×H×W×C).{hint}")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if not (np.issubdtype(array.dtype, np.floating) or array.dtype == bool):
        raise ImageError(f"{fail} dtype {array.dtype} is ambiguous; give floats in [0, 1] or "
                         "uint8 in 0..255 (see to_float / to_uint8).")
    return np.round(float_pixels(array, f"{fail} the image", tolerance=0.5) * 255.0).astype(np.uint8)
