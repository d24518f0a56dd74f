"""Turn what a caller passes for display (arrays, tensors, lists; gray, RGB, RGBA, uint8) into RGB float images."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from artlib.errors import ImageError

__all__ = ["MAX_PANELS", "as_images", "check_panels"]

MAX_PANELS = 256  # image_grid / compare_rows draw one panel per image; more is a mistake
_MAX_CHANNELS = 4  # a 3-D array whose last axis is longer than this is a batch of gray images


def _to_rgb(image: np.ndarray, name: str) -> np.ndarray:
    """One image (H, W[, C]) of any accepted dtype -> float32 (H, W, 3) in [0, 1] (before clipping)."""
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    elif image.dtype == np.uint16:
        image = image.astype(np.float32) / 65535.0
    elif image.dtype == bool or np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32)
    else:
        raise ImageError(
            f"{name}: expected float pixels in [0, 1] or uint8 (0-255); got dtype {image.dtype}."
        )
    if image.ndim == 2:
        image = image[..., None]  # (H, W) -> (H, W, 1)
    if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
        raise ImageError(
            f"{name}: expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); "
            f"got {image.shape}."
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ImageError(f"{name}: the image is empty (shape {image.shape}).")
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)  # gray -> RGB
    elif image.shape[-1] == 4:
        rgb, alpha = image[..., :3], image[..., 3:]
        image = rgb * alpha + (1.0 - alpha)  # RGBA over white
    return np.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0)


def as_images(images: Any, name: str = "images") -> list[np.ndarray]:
    """Turn a batch (array, tensor or list) into a list of float32 (H, W, 3) images in [0, 1] for display.

    Unlike :func:`artlib.imageio.as_batch`, which guards the models' inputs, this is lenient, as a
    picture should be: images of a list may differ in size, RGBA is drawn over white, uint16 is
    accepted, and pixels outside [0, 1] are clipped with a warning instead of an error.

    Args:
        images: A batch (N, H, W) or (N, H, W, C) with C in {1, 3, 4}, a list of images, or one image
            ((H, W), or (H, W, C) with C <= 4); float pixels in [0, 1], uint8 or uint16.
        name: What to call the input in messages.

    Returns:
        One float32 (H, W, 3) array in [0, 1] per image.

    Raises:
        ImageError: no images, an unsupported shape or dtype, or an empty image.
    """
    if isinstance(images, (list, tuple)):
        items = [np.asarray(x) for x in images]
    else:
        batch = np.asarray(images)
        if batch.ndim == 2 or (batch.ndim == 3 and batch.shape[-1] <= _MAX_CHANNELS):
            batch = batch[None]  # one image -> a batch of one
        if batch.ndim not in (3, 4):
            raise ImageError(
                f"{name}: expected a batch of shape (N, H, W) or (N, H, W, C), or one image; "
                f"got shape {batch.shape}."
            )
        items = list(batch)
    if not items:
        raise ImageError(f"{name}: there are no images to show.")
    out = [_to_rgb(x, f"{name}[{i}]") for i, x in enumerate(items)]
    low = min(float(x.min()) for x in out)
    high = max(float(x.max()) for x in out)
    if low < -0.01 or high > 1.01:
        hint = " For pixels in [-1, 1], pass (images + 1) / 2." if low < -0.01 else ""
        warnings.warn(
            f"{name}: pixel values span [{low:.3g}, {high:.3g}]; they are clipped to [0, 1] "
            f"for display.{hint}",
            stacklevel=3,
        )
    return [np.clip(x, 0.0, 1.0) for x in out]


def check_panels(count: int, name: str) -> None:
    """Refuse to draw more than :data:`MAX_PANELS` panels (one axes each: slow and unreadable).

    Raises:
        ImageError: ``count`` is above :data:`MAX_PANELS`.
    """
    if count > MAX_PANELS:
        raise ImageError(
            f"{name}: {count} images is too many to draw one panel each (at most {MAX_PANELS}); "
            "show a slice such as images[:64], or make one mosaic with grid_array()."
        )
