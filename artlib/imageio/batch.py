"""The one check for a batch of images passed to the Python API: float32 (N, H, W, C) in [0, 1] (NumPy only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from artlib.checks import pair, positive_float, positive_int
from artlib.errors import ImageError

__all__ = ["as_array", "as_batch", "float_pixels"]


def as_array(images: Any, name: str = "images") -> np.ndarray:
    """``np.asarray(images)``, with an :class:`ImageError` naming ``name`` where NumPy cannot make one array.

    Args:
        images: An array, or nested lists of pixels.
        name: What to call it in the message.

    Returns:
        The array (not copied when ``images`` is one).

    Raises:
        ImageError: Nested lists of unequal lengths.
    """
    try:
        return np.asarray(images)
    except ValueError as err:  # nested lists of unequal lengths
        raise ImageError(f"{name} must be an array of images of one size; got {type(images).__name__} "
                         f"that NumPy cannot make into one ({err})") from None


def as_batch(images: Any, *, name: str = "images", shape: Sequence[int] | None = None,
             channels: int | None = None, keep_uint8: bool = False, tolerance: float = 0.0) -> np.ndarray:
    """Check a batch of images and return it as float32 ``(N, H, W, C)`` with pixels in [0, 1].

    ``(N, H, W)`` gets a channel axis; uint8 is scaled from 0–255 (or kept as uint8 with
    ``keep_uint8``, which saves memory for a large training set).

    Args:
        images: uint8 (0–255) or float pixels in [0, 1], shaped ``(N, H, W)`` or ``(N, H, W, C)``;
            a NumPy array, a ``tf.Tensor`` or nested lists.
        name: What to call the input in an error message.
        shape: The required ``(H, W)``, e.g. ``(28, 28)`` for Fashion-MNIST models.
        channels: The required ``C``.
        keep_uint8: Return uint8 input as uint8 (still ``(N, H, W, C)``).
        tolerance: Floats may overshoot [0, 1] by this much (then they are clipped).

    Returns:
        float32 ``(N, H, W, C)`` in [0, 1] (uint8 with ``keep_uint8`` and uint8 input).

    Raises:
        ImageError: One ``H×W×3`` (or ``×4``) image instead of a batch, an empty batch or an image with
            no pixels (a size of 0), another rank, shape or channel count (the message lists the accepted
            shapes), nested lists of unequal lengths, a dtype that is not uint8 or float (other integers
            too: convert them first), NaN or infinite pixels, or floats outside [0, 1] (the message names the
            input and says what to pass instead).
        ArtlibError: ``shape`` is not two positive sizes, ``channels`` is not positive, or
            ``tolerance`` is negative.

    Example:
        >>> as_batch(np.full((2, 28, 28), 255, np.uint8), shape=(28, 28)).shape
        (2, 28, 28, 1)
    """
    if shape is not None:
        shape = tuple(positive_int(side, "each side of shape") for side in pair(shape, "shape", "two positive sizes (H, W)"))
    if channels is not None:
        channels = positive_int(channels, "channels")
    tolerance = positive_float(tolerance, "tolerance", zero=True)
    array = as_array(images, name)
    if array.ndim == 3 and array.shape[-1] in (3, 4) and min(array.shape[:2]) > 4:  # no gray batch is 3 px wide
        raise ImageError(f"{name} of shape {array.shape} looks like one colour image, not a batch of gray ones "
                         f"{array.shape[-1]} pixels wide: pass image[None] for a batch of one")
    if array.ndim == 3:
        array = array[..., np.newaxis]  # (N, H, W) -> (N, H, W, 1)
    wrong_shape = shape is not None and array.shape[1:3] != tuple(shape)
    wrong_channels = channels is not None and array.shape[-1:] != (channels,)
    if array.ndim != 4 or array.size == 0 or wrong_shape or wrong_channels:
        raise ImageError(_shape_message(name, shape, channels, np.shape(images)))
    if array.dtype == np.uint8:
        return array if keep_uint8 else array.astype(np.float32) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        hint = (" Convert it: images.astype(np.uint8) for 0–255 values, or divide by the largest value (65535 "
                "for 16-bit) for floats." if np.issubdtype(array.dtype, np.integer) else "")
        raise ImageError(f"{name} must hold uint8 (0–255) or float pixels in [0, 1]; got dtype {array.dtype}.{hint}")
    return float_pixels(array, name, tolerance=tolerance)


def float_pixels(pixels: Any, name: str = "images", *, tolerance: float = 0.0, fix: str | None = None) -> np.ndarray:
    """Float pixels as float32, once they are finite and in [0, 1]: the value check of every image artlib takes.

    Args:
        pixels: Float (or bool) pixels, any shape.
        name: What to call them in an error message.
        tolerance: How far past [0, 1] they may go (a network's overshoot), clipped back; further is
            another scale (0–255 or [-1, 1]) and an error, since clipping it would paint white or black.
        fix: What to do about pixels of another scale (default: what to pass instead, for an array).

    Returns:
        float32 pixels in [0, 1], the shape of ``pixels``.

    Raises:
        ImageError: NaN or infinite pixels, or pixels beyond the tolerance (the message says what to pass).
    """
    array = np.asarray(pixels, dtype=np.float32)
    finite = np.isfinite(array)
    if not finite.all():
        raise ImageError(f"{name} holds {array.size - int(finite.sum()):,} NaN or infinite pixel value(s); pixels "
                         "must be in [0, 1] (or uint8 0–255)")
    low, high = float(array.min()), float(array.max())
    if low < -tolerance or high > 1 + tolerance:
        hint = fix or ("They look like [-1, 1] pixels: pass (images + 1) / 2." if high <= 1 + tolerance
                       else "Pass uint8 images, or floats scaled to [0, 1] (0–255 floats: divide by 255).")
        past = f" (up to {tolerance:g} past is clipped)" if tolerance else ""
        raise ImageError(f"{name} must hold pixels in [0, 1]{past} or uint8 0–255; got values from {low:.3g} to "
                         f"{high:.3g}. {hint}")
    return np.clip(array, 0.0, 1.0) if tolerance else array


def _shape_message(name: str, shape: Sequence[int] | None, channels: int | None, got: tuple[int, ...]) -> str:
    """The error for a batch of the wrong shape: what was passed, and every shape :func:`as_batch` accepts.

    ``(N, H, W, C)`` always; ``(N, H, W)``, a grayscale batch, too unless ``channels`` asks for more than one.
    """
    height, width = (str(size) for size in shape) if shape is not None else ("H", "W")
    wanted = f"{height}×{width} " if shape is not None else ""
    sentences = [f"{name} must be a non-empty batch of {wanted}images, shape (N, {height}, {width}, "
                 f"{channels or 'C'}); got shape {got}"]
    if channels in (None, 1):
        sentences.append(f"A grayscale batch (N, {height}, {width}) is accepted too")
    if channels_first(got):
        sentences.append("It looks channels-first (N, C, H, W), as PyTorch keeps images: pass "
                         "np.moveaxis(images, 1, -1)")
    return ". ".join(sentences) + ("." if len(sentences) > 1 else "")


def channels_first(shape: tuple[int, ...]) -> bool:
    """Whether ``shape`` looks like images stored channels first, ``(C, H, W)`` or ``(N, C, H, W)`` with C 1 or 3."""
    return len(shape) in (3, 4) and shape[-3] in (1, 3) and shape[-1] not in (1, 3, 4) and min(shape[-2:]) > 4
