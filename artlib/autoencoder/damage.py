"""Damage models: noise, masks and low resolution for the restorers to undo, as tf.data-friendly functions.

Each damage model is ``noise_fn(images, seed) -> damaged`` of a float batch
``(N, H, W, C)`` in [0, 1] and a stateless seed (two integers, or one integer ``s``
for ``(s, 0)``); the result is clipped to [0, 1]. The training pipeline calls them with ``seed = (seed, step)``,
so every batch gets fresh noise that is nevertheless reproducible (and the same
after a resume).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from artlib.checks import pair, positive_float, positive_int, unit_float
from artlib.errors import ArtlibError
from artlib.imageio.preprocess import stateless_seed

__all__ = ["NOISE_MODELS", "gaussian_noise", "salt_and_pepper_noise", "speckle_noise", "box_mask",
           "low_resolution", "make_noise", "split_seed", "sigma_per_image"]


def sigma_per_image(sigma: float | tuple[float, float], images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """The noise level of each image of a batch.

    Args:
        sigma: A constant σ, or a ``(low, high)`` range to draw σ from uniformly per image.
        images: The batch ``(N, H, W, C)`` (only its size is used).
        seed: Stateless seed of the draw, two integers.

    Returns:
        float32 σ: a scalar for a constant, else ``(N, 1, 1, 1)``.

    Raises:
        ArtlibError: A negative, NaN or infinite σ, or a range that is not two such numbers, low ≤ high
            (a tensor σ is taken as it is).
    """
    if isinstance(sigma, (tuple, list)) or (isinstance(sigma, np.ndarray) and sigma.ndim > 0):
        low, high = (positive_float(value, "sigma", zero=True)
                     for value in pair(sigma, "sigma", "one number or a (low, high) range"))
        if low > high:
            raise ArtlibError(f"sigma's range must run from low to high; got {sigma!r}")
        batch = tf.shape(images)[0]
        return tf.random.stateless_uniform([batch, 1, 1, 1], seed, low, high)
    if not tf.is_tensor(sigma):
        sigma = positive_float(sigma, "sigma", zero=True)
    return tf.cast(sigma, tf.float32)


def split_seed(seed: Any) -> tuple[tf.Tensor, tf.Tensor]:
    """Two independent stateless seeds derived from one.

    Args:
        seed: Stateless seed, two integers or one (see :func:`artlib.imageio.stateless_seed`).

    Returns:
        Two int64 seeds of shape ``(2,)``.

    Raises:
        ArtlibError: ``seed`` is not an integer or two integers.
    """
    seed = stateless_seed(seed)
    pair = tf.random.experimental.stateless_split(seed, num=2)
    return pair[0], pair[1]


def gaussian_noise(images: Any, seed: Any, sigma: float | tuple[float, float] = 0.2) -> tf.Tensor:
    """Add Gaussian noise of standard deviation σ and clip to [0, 1].

    Args:
        images: Float batch ``(N, H, W, C)`` in [0, 1].
        seed: Stateless seed, two integers or one (same seed, same noise).
        sigma: σ on [0, 1] pixels, or a ``(low, high)`` range to draw σ per image.

    Returns:
        The noisy batch, same shape, float32 in [0, 1].

    Raises:
        ArtlibError: ``seed`` is not an integer or two integers, or ``sigma`` is negative or not a number
            or range.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    seed_sigma, seed_noise = split_seed(seed)
    noise = tf.random.stateless_normal(tf.shape(images), seed_noise)
    return tf.clip_by_value(images + sigma_per_image(sigma, images, seed_sigma) * noise, 0.0, 1.0)


def salt_and_pepper_noise(images: Any, seed: Any, amount: float = 0.1) -> tf.Tensor:
    """Set a share ``amount`` of the pixels to 0 or 1 (half each), as ``skimage.util.random_noise``.

    Args:
        images: Float batch ``(N, H, W, C)`` in [0, 1].
        seed: Stateless seed, two integers or one.
        amount: Share of pixels replaced, in [0, 1].

    Returns:
        The damaged batch, same shape, float32 in [0, 1].

    Raises:
        ArtlibError: ``seed`` is not an integer or two integers, or ``amount`` is outside [0, 1].
    """
    if not tf.is_tensor(amount):
        amount = unit_float(amount, "amount")
    images = tf.convert_to_tensor(images, tf.float32)
    seed_where, seed_which = split_seed(seed)
    hit = tf.random.stateless_uniform(tf.shape(images), seed_where) < amount
    salt = tf.cast(tf.random.stateless_uniform(tf.shape(images), seed_which) < 0.5, tf.float32)
    return tf.where(hit, salt, images)


def speckle_noise(images: Any, seed: Any, sigma: float | tuple[float, float] = 0.2) -> tf.Tensor:
    """Multiplicative noise ``x + x·σ·n`` with n ~ N(0, 1), clipped (``skimage``'s "speckle").

    Args:
        images: Float batch ``(N, H, W, C)`` in [0, 1].
        seed: Stateless seed, two integers or one.
        sigma: σ, or a ``(low, high)`` range drawn per image.

    Returns:
        The noisy batch, same shape, float32 in [0, 1].

    Raises:
        ArtlibError: ``seed`` is not an integer or two integers, or ``sigma`` is negative or not a number
            or range.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    seed_sigma, seed_noise = split_seed(seed)
    noise = tf.random.stateless_normal(tf.shape(images), seed_noise)
    return tf.clip_by_value(images * (1.0 + sigma_per_image(sigma, images, seed_sigma) * noise), 0.0, 1.0)


def box_mask(images: Any, seed: Any, num_boxes: int = 1, max_fraction: float = 0.5,
             fill: float = 0.5) -> tf.Tensor:
    """Hide ``num_boxes`` random rectangles per image under a flat ``fill`` (for inpainting).

    Each box's sides are drawn uniformly between 1/4 and ``max_fraction`` of the
    image's sides, its position uniformly inside the image.

    Args:
        images: Float batch ``(N, H, W, C)`` in [0, 1].
        seed: Stateless seed, two integers or one.
        num_boxes: Boxes per image.
        max_fraction: Largest box side as a fraction of the image side, from 1/4 (every box that
            size) to 1.
        fill: The gray level of the hidden pixels.

    Returns:
        The masked batch, same shape, float32 in [0, 1].

    Raises:
        ArtlibError: ``num_boxes`` is 0 or below, ``max_fraction`` is not in [1/4, 1], ``fill`` is outside
            [0, 1], or ``seed`` is not an integer or two.
    """
    positive_int(num_boxes, "num_boxes")
    if not 0.25 <= positive_float(max_fraction, "max_fraction") <= 1:  # the smallest side drawn is 1/4
        raise ArtlibError(f"max_fraction must be in [0.25, 1] (a box's sides are drawn from 1/4 of the image's up "
                          f"to it); got {max_fraction!r}")
    fill = unit_float(fill, "fill")
    seed = stateless_seed(seed)
    images = tf.convert_to_tensor(images, tf.float32)
    shape = tf.shape(images)
    height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    u = tf.random.stateless_uniform([shape[0], num_boxes, 4], seed)  # (N, boxes, 4) in [0, 1)
    box_h = height * (0.25 + (max_fraction - 0.25) * u[..., 0])
    box_w = width * (0.25 + (max_fraction - 0.25) * u[..., 1])
    top = (height - box_h) * u[..., 2]
    left = (width - box_w) * u[..., 3]
    rows = tf.range(height)[None, None, :, None]  # (1, 1, H, 1)
    cols = tf.range(width)[None, None, None, :]  # (1, 1, 1, W)
    inside = ((rows >= top[..., None, None]) & (rows < (top + box_h)[..., None, None])
              & (cols >= left[..., None, None]) & (cols < (left + box_w)[..., None, None]))  # (N, boxes, H, W)
    hidden = tf.reduce_any(inside, axis=1)[..., None]  # (N, H, W, 1)
    return tf.where(hidden, tf.constant(fill, tf.float32), images)


def low_resolution(images: Any, seed: Any = None, factor: int = 2) -> tf.Tensor:
    """Shrink by ``factor`` (area average) and enlarge back with bicubic interpolation.

    The result is the *bicubic baseline* of super-resolution (e.g. 14→28 for
    Fashion-MNIST); a model trained to restore it does better than bicubic.

    Args:
        images: Float batch ``(N, H, W, C)`` in [0, 1], H and W divisible by ``factor``.
        seed: Ignored (the damage is deterministic); there so that every damage
            model has the same signature.
        factor: The down-scaling factor.

    Returns:
        The blurred batch, same shape, float32 in [0, 1].

    Raises:
        ArtlibError: ``factor`` is 0 or below.
    """
    del seed
    positive_int(factor, "factor")
    images = tf.convert_to_tensor(images, tf.float32)
    size = tf.shape(images)[1:3]
    small = tf.image.resize(images, size // factor, method="area")
    return tf.clip_by_value(tf.image.resize(small, size, method="bicubic"), 0.0, 1.0)


#: Damage name -> function ``(images, seed, **params) -> damaged``.
NOISE_MODELS: dict[str, Callable[..., tf.Tensor]] = {
    "gaussian": gaussian_noise,
    "salt_and_pepper": salt_and_pepper_noise,
    "speckle": speckle_noise,
    "boxes": box_mask,
    "low_resolution": low_resolution,
}


def make_noise(kind: str, **params: Any) -> Callable[[Any, Any], tf.Tensor]:
    """A damage function ``noise_fn(images, seed)`` with its parameters fixed.

    Args:
        kind: A key of :data:`NOISE_MODELS` (``"gaussian"``, ``"salt_and_pepper"``,
            ``"speckle"``, ``"boxes"``, ``"low_resolution"``).
        **params: That function's parameters, e.g. ``sigma=0.2`` or ``sigma=(0.0, 0.5)``.

    Returns:
        ``noise_fn(images, seed) -> damaged``, named after the kind and its parameters.

    Raises:
        ArtlibError: An unknown kind, a parameter that kind does not take, or a value it refuses (a
            misspelt ``sgma`` or a ``sigma=-1`` would otherwise fail only when the first batch is damaged).

    Example:
        >>> noisy = make_noise("gaussian", sigma=0.3)(np.zeros((2, 28, 28, 1)), seed=(0, 1))
    """
    if kind not in NOISE_MODELS:
        raise ArtlibError(f"unknown noise kind {kind!r}; choose one of {', '.join(NOISE_MODELS)}")
    function = NOISE_MODELS[kind]
    takes = list(inspect.signature(function).parameters)[2:]  # after (images, seed)
    unknown = sorted(set(params) - set(takes))
    if unknown:
        raise ArtlibError(f"{kind} noise takes {', '.join(takes) or 'no parameters'}; not {', '.join(unknown)}")

    function(tf.zeros((1, 64, 64, 1)), (0, 0), **params)  # a bad value (sigma=-1) fails here, not at the first batch

    def noise_fn(images: Any, seed: Any) -> tf.Tensor:
        return function(images, seed, **params)

    noise_fn.__name__ = f"{kind}({', '.join(f'{k}={v}' for k, v in params.items())})"
    return noise_fn
