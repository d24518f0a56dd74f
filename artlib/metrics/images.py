"""PSNR and SSIM per image, with the course's settings (pixels in [0, 1], ``tf.image.ssim`` defaults).

The definitions, used by every notebook and benchmark that reports them:

* pixels in [0, 1], so ``data_range=1.0``; ``uint8`` images are scaled to
  [0, 1] first;
* PSNR = 10 · log10(data_range² / MSE), the MSE taken over every pixel and
  channel of one image; identical images give ``inf``;
* SSIM is ``tf.image.ssim`` with its defaults: an 11×11 Gaussian window with
  σ = 1.5, k1 = 0.01, k2 = 0.03, averaged over the valid (unpadded) positions
  and the channels. It matches ``skimage.metrics.structural_similarity(...,
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`` to about
  1e-6 (``tests/test_metrics.py`` checks it).

Shapes, the same for both measures:

* ``(H, W)``: one grayscale image → a float;
* ``(H, W, C)`` with C ≤ 4: one image with channels → a float;
* ``(N, H, W)`` with W > 4: a batch of grayscale images → an array of N values;
* ``(N, H, W, C)``: a batch → an array of N values.

Both accept NumPy arrays or TensorFlow tensors and return NumPy values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artlib.checks import positive_float
from artlib.errors import ImageError

__all__ = ["psnr", "ssim", "SSIM_FILTER_SIZE"]

#: SSIM's window size (``tf.image.ssim``'s default); images must be at least this big.
SSIM_FILTER_SIZE = 11
_MAX_CHANNELS = 4  # a 3-D array whose last axis is longer than this is a batch of gray images


def _to_float(x: Any, name: str, data_range: float) -> np.ndarray:
    """NumPy float64 copy of an image or batch; uint8 is scaled to [0, 1].

    Args:
        x: The image or batch (NumPy array or tensor).
        name: What to call it in an error message.
        data_range: The caller's data range (must be 1.0 for uint8 input).

    Returns:
        A float64 array of the same shape.

    Raises:
        ImageError: ``x`` is uint8 with a data range other than 1, does not hold numbers, holds NaN or
            infinite values, or spans more than twice ``data_range`` (pixels of another scale, e.g. 0–255
            floats with the default 1.0).
    """
    arr = np.asarray(x)
    if arr.dtype == np.uint8:
        if data_range != 1.0:
            raise ImageError(
                f"{name} is uint8 (0-255); artlib scales uint8 images to [0, 1] itself, "
                f"so leave data_range at 1.0 (got {data_range})."
            )
        return arr.astype(np.float64) / 255.0
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ImageError(f"{name} must hold real numbers (got dtype {arr.dtype}).")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():  # a NaN score would pass for a number in a table
        raise ImageError(f"{name} holds {int(np.size(arr) - np.isfinite(arr).sum())} NaN or infinite pixel value(s)")
    low, high = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if high - low > 2 * data_range:  # another scale, not noise past the edges: the score would mean nothing
        raise ImageError(f"{name} holds values from {low:.4g} to {high:.4g}, far wider than data_range={data_range:g}; "
                         "for 0-255 pixels pass uint8 images (scaled for you) or data_range=255.")
    return arr


def _prepare(a: Any, b: Any, data_range: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """Check a pair of images (or batches) and reshape both to (N, H, W, C).

    Args:
        a: The reference image or batch.
        b: The measured image or batch.
        data_range: The distance between the lowest and highest pixel value.

    Returns:
        ``(a, b, batched)``: float64 (N, H, W, C) arrays, and whether the input was a batch.

    Raises:
        ArtlibError: ``data_range`` is not a positive, finite number.
        ImageError: bad dtypes, different shapes, a shape that is not an image, or no pixels.
    """
    data_range = positive_float(data_range, "data_range")
    a = _to_float(a, "a", data_range)
    b = _to_float(b, "b", data_range)
    if a.shape != b.shape:
        raise ImageError(f"The two images must have the same shape; got a {a.shape} and b {b.shape}.")
    if a.ndim == 2:  # (H, W): one gray image
        a, b, batched = a[None, ..., None], b[None, ..., None], False
    elif a.ndim == 3 and a.shape[-1] <= _MAX_CHANNELS:  # (H, W, C): one image
        a, b, batched = a[None], b[None], False
    elif a.ndim == 3:  # (N, H, W): a batch of gray images
        a, b, batched = a[..., None], b[..., None], True
    elif a.ndim == 4:  # (N, H, W, C)
        batched = True
    else:
        raise ImageError(
            "Expected one image (H, W) or (H, W, C), or a batch (N, H, W) or (N, H, W, C); "
            f"got shape {a.shape}."
        )
    if a.size == 0:
        raise ImageError(f"The images are empty (shape {a.shape}).")
    return a, b, batched


def psnr(a: Any, b: Any, data_range: float = 1.0) -> np.ndarray | float:
    """Peak signal-to-noise ratio in decibels, per image (higher is closer).

    Args:
        a: A reference image or batch, pixels in [0, 1] (NumPy or tf tensor; see
            the module docstring for the accepted shapes).
        b: The image or batch to measure, the same shape as ``a``.
        data_range: The distance between the lowest and highest possible pixel
            value (1.0 for [0, 1] pixels, 2.0 for [-1, 1]).

    Returns:
        A float for one image, or a float64 array of shape (N,) for a batch;
        ``inf`` where the two images are identical.

    Raises:
        ImageError: the shapes differ or are not image shapes.
        ArtlibError: ``data_range`` is not positive.

    Example:
        >>> clean = np.full((8, 8), 0.5)
        >>> round(psnr(clean, clean + 0.1), 2)  # MSE = 0.01
        20.0
    """
    a, b, batched = _prepare(a, b, data_range)
    mse = np.mean((a - b) ** 2, axis=(1, 2, 3))  # (N,)
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(data_range**2 / mse)  # mse == 0 -> inf
    return values if batched else float(values[0])


def ssim(a: Any, b: Any, data_range: float = 1.0) -> np.ndarray | float:
    """Structural similarity (SSIM), per image: 1.0 for identical images.

    Computed by ``tf.image.ssim`` with its defaults (11×11 Gaussian window,
    σ = 1.5, k1 = 0.01, k2 = 0.03), averaged over positions and channels.

    Args:
        a: A reference image or batch, pixels in [0, 1] (NumPy or tf tensor; see
            the module docstring for the accepted shapes). Both sides must be
            at least 11 pixels high and wide.
        b: The image or batch to measure, the same shape as ``a``.
        data_range: The distance between the lowest and highest possible pixel
            value (1.0 for [0, 1] pixels).

    Returns:
        A float for one image, or a float64 array of shape (N,) for a batch,
        each in [-1, 1].

    Raises:
        ImageError: the shapes differ or are not image shapes, or an image is
            smaller than 11×11 pixels.
        ArtlibError: ``data_range`` is not positive.

    Example:
        >>> x = np.random.default_rng(0).random((32, 32, 3))
        >>> ssim(x, x)
        1.0
    """
    a, b, batched = _prepare(a, b, data_range)
    height, width = a.shape[1:3]
    if height < SSIM_FILTER_SIZE or width < SSIM_FILTER_SIZE:
        raise ImageError(
            f"SSIM needs images of at least {SSIM_FILTER_SIZE}x{SSIM_FILTER_SIZE} pixels "
            f"(its window size); got {height}x{width}. Use PSNR for smaller images, "
            "or upscale both images first."
        )
    import tensorflow as tf

    values = tf.image.ssim(
        tf.constant(a, tf.float32), tf.constant(b, tf.float32), max_val=float(data_range)
    )  # (N,)
    values = values.numpy().astype(np.float64)
    return values if batched else float(values[0])
