"""The preprocessing steps the course teaches: dtype and range conversions, resizing, crops, augmentation (TensorFlow).

Each helper takes a NumPy array or a ``tf.Tensor`` (also inside ``tf.data`` pipelines) and gives back the
same kind: NumPy in, NumPy out; tensor in, tensor out. Pixels are float32 in [0, 1] unless a name says
[-1, 1] (``to_minus_one_one``).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from artlib import config  # noqa: F401  first: it sets KERAS_BACKEND and quiets TensorFlow's start-up
from artlib.checks import positive_int, size_pair, unit_float
from artlib.errors import ArtlibError, ImageError
from artlib.imageio.read import fit_size

import tensorflow as tf  # noqa: E402  (after artlib.config)

__all__ = ["to_float", "to_uint8", "to_minus_one_one", "from_minus_one_one", "resize", "resize_max_dim",
           "center_crop", "random_crop", "augment", "stateless_seed"]


def _like(result: tf.Tensor, original: Any) -> Any:
    """NumPy in, NumPy out; tensor in, tensor out."""
    return result if tf.is_tensor(original) else result.numpy()


def _tensor(images: Any) -> tf.Tensor:
    """Pixels as a tensor of their own dtype; None, a string or a ragged list is an ImageError."""
    if tf.is_tensor(images):
        return images
    try:
        array = np.asarray(images)
    except ValueError:  # a ragged list
        array = np.empty(0, object)
    if array.dtype.kind not in "biuf":  # None, strings, ragged lists: no pixels
        raise ImageError(f"expected pixels (a NumPy array, tensor or nested list of numbers); "
                         f"got {type(images).__name__}")
    return tf.convert_to_tensor(array)


def _float_tensor(images: Any) -> tf.Tensor:
    images = _tensor(images)
    dtype = images.dtype
    if dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    if dtype == tf.uint16:
        return tf.cast(images, tf.float32) / 65535.0
    if dtype.is_floating or dtype == tf.bool:
        return tf.cast(images, tf.float32)
    raise ImageError(f"pixels of dtype {dtype.name} are ambiguous; use floats in [0, 1] or "
                     "uint8 in 0..255.")


def _height_width(images: tf.Tensor) -> tuple[Any, Any]:
    """Static (height, width) where known, else scalar tensors (inside tf.function)."""
    if images.shape.rank is not None and images.shape.rank < 3:
        raise ImageError(f"expected an H×W×C image or an N×H×W×C batch, got shape {images.shape}")
    dynamic = tf.shape(images)
    h, w = images.shape[-3], images.shape[-2]
    return (dynamic[-3] if h is None else h), (dynamic[-2] if w is None else w)


def _check_crop(images: tf.Tensor, h: int, w: int, what: str) -> None:
    height, width = _height_width(images)
    if isinstance(height, int) and isinstance(width, int):
        if h > height or w > width:
            raise ImageError(f"cannot {what} {h}×{w} (height×width) from an image of "
                             f"{height}×{width}; use a smaller size or resize first.")
    else:  # shapes known only when the graph runs (tf.function, tf.data)
        tf.debugging.assert_less_equal(tf.constant([h, w]), tf.stack([height, width]),
                                       message=f"cannot {what} {h}×{w}: the image is smaller")


def stateless_seed(seed: Any) -> tf.Tensor:
    """A stateless seed as TensorFlow's random ops take it: an int64 pair.

    Args:
        seed: Two integers (a list, a tuple, an array or a tensor, as a training pipeline passes
            ``(seed, step)``), or one integer ``s``, meaning ``(s, 0)``.

    Returns:
        An int64 tensor of shape ``(2,)``.

    Raises:
        ArtlibError: ``seed`` is None, a bool, a float, a string, or not two integers.
    """
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        seed = (int(seed), 0)
    elif seed is None or isinstance(seed, (bool, float, str, bytes)):
        raise ArtlibError(f"seed must be an integer or two integers (a stateless seed); got {seed!r}")
    seed = tf.convert_to_tensor(seed)
    if not (seed.dtype.is_integer and seed.shape.is_compatible_with([2])):
        raise ArtlibError(f"seed must be an integer or two integers (a stateless seed); got {seed.dtype.name} "
                          f"of shape {seed.shape}")
    return tf.cast(seed, tf.int64)


def to_float(images: Any) -> Any:
    """uint8 pixels 0..255 -> float32 in [0, 1]; floats pass through (as float32).

    Also: uint16 is divided by 65535, bool becomes 0.0/1.0.

    Args:
        images: Pixels of any shape (NumPy array or ``tf.Tensor``).

    Returns:
        float32 pixels, the same shape and kind (NumPy or tensor) as ``images``.

    Raises:
        ImageError: other integer dtypes (is ``255`` white or out of range?).

    Example:
        >>> to_float(np.array([0, 255], np.uint8))
        array([0., 1.], dtype=float32)
    """
    return _like(_float_tensor(images), images)


def to_uint8(images: Any) -> Any:
    """Float pixels in [0, 1] -> uint8 0..255 (clipped, rounded); uint8 passes through.

    Args:
        images: Pixels of any shape (NumPy array or ``tf.Tensor``).

    Returns:
        uint8 pixels, the same shape and kind as ``images``.

    Raises:
        ImageError: NaN or infinite values (checked when running eagerly).

    Example:
        >>> to_uint8(np.array([0.0, 0.5, 1.2]))
        array([  0, 128, 255], dtype=uint8)
    """
    x = _float_tensor(images)
    if tf.executing_eagerly() and not bool(tf.reduce_all(tf.math.is_finite(x))):
        raise ImageError("cannot convert to uint8: the pixels hold NaN or infinite values")
    return _like(tf.cast(tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0), tf.uint8), images)


def to_minus_one_one(images: Any) -> Any:
    """Pixels in [0, 1] (or uint8) -> float32 in [-1, 1], the range a tanh output has.

    Args:
        images: Pixels of any shape (NumPy array or ``tf.Tensor``).

    Returns:
        float32 pixels in [-1, 1], the same shape and kind as ``images``.

    Example:
        >>> to_minus_one_one(np.array([0.0, 0.5, 1.0]))
        array([-1.,  0.,  1.], dtype=float32)
    """
    return _like(_float_tensor(images) * 2.0 - 1.0, images)


def from_minus_one_one(images: Any) -> Any:
    """Pixels in [-1, 1] -> float32 in [0, 1], clipped (undoes ``to_minus_one_one``).

    Args:
        images: Pixels of any shape (NumPy array or ``tf.Tensor``).

    Returns:
        float32 pixels in [0, 1], the same shape and kind as ``images``.

    Example:
        >>> from_minus_one_one(np.array([-1.5, 0.0, 1.0]))
        array([0. , 0.5, 1. ], dtype=float32)
    """
    x = (_float_tensor(images) + 1.0) / 2.0
    return _like(tf.clip_by_value(x, 0.0, 1.0), images)


def resize(image: Any, size: Sequence[int]) -> Any:
    """Resize to exactly (height, width), antialiased (the aspect ratio may change).

    Args:
        image: H×W×C image or N×H×W×C batch; uint8 or float pixels.
        size: (height, width) in pixels.

    Returns:
        float32 pixels in [0, 1], shape (height, width, C) (or N×height×width×C).

    Raises:
        ArtlibError: ``size`` is not positive.

    Example:
        >>> resize(np.zeros((40, 60, 3)), (20, 20)).shape
        (20, 20, 3)
    """
    height, width = size_pair(size, "size")
    x = _float_tensor(image)
    _height_width(x)  # rank check
    x = tf.image.resize(x, (height, width), method="bilinear", antialias=True)
    return _like(tf.clip_by_value(x, 0.0, 1.0), image)


def resize_max_dim(image: Any, max_dim: int) -> Any:
    """Resize so the long side is exactly ``max_dim``, keeping the aspect ratio.

    Unlike ``load_image(..., max_dim=)``, this also enlarges a smaller image.

    Args:
        image: H×W×C image or N×H×W×C batch; uint8 or float pixels.
        max_dim: Long side of the result in pixels.

    Returns:
        float32 pixels in [0, 1]; e.g. 300×400×3 with max_dim=200 -> 150×200×3.

    Raises:
        ArtlibError: ``max_dim`` is below 1.

    Example:
        >>> resize_max_dim(np.zeros((300, 400, 3)), 200).shape
        (150, 200, 3)
    """
    if not tf.is_tensor(max_dim):  # a tensor inside a tf.function is taken as it is
        max_dim = positive_int(max_dim, "max_dim")
    x = _float_tensor(image)
    height, width = _height_width(x)
    if isinstance(height, int) and isinstance(width, int):  # static shape: static result shape
        new_hw = fit_size((height, width), max_dim)
    else:
        scale = tf.cast(max_dim, tf.float64) / tf.cast(tf.maximum(height, width), tf.float64)
        new_hw = tf.maximum(tf.cast(tf.round(tf.cast([height, width], tf.float64) * scale),
                                    tf.int32), 1)
    x = tf.image.resize(x, new_hw, method="bilinear", antialias=True)
    return _like(tf.clip_by_value(x, 0.0, 1.0), image)


def center_crop(image: Any, size: int | Sequence[int]) -> Any:
    """Cut the central ``size`` window out of an image (or every image of a batch).

    Args:
        image: H×W×C image or N×H×W×C batch (dtype kept).
        size: An int for a square, or (height, width).

    Returns:
        Shape (height, width, C) (or N×height×width×C).

    Raises:
        ImageError: ``size`` is larger than the image.

    Example:
        >>> center_crop(np.zeros((40, 60, 3)), 32).shape
        (32, 32, 3)
    """
    h, w = size_pair(size, "size")
    x = _tensor(image)
    _check_crop(x, h, w, "center-crop")
    height, width = _height_width(x)
    top, left = (height - h) // 2, (width - w) // 2
    return _like(x[..., top:top + h, left:left + w, :], image)  # ...×h×w×C


def random_crop(image: Any, size: int | Sequence[int], seed: int | Sequence[int]) -> Any:
    """Cut a random ``size`` window; the same seed always gives the same window.

    Args:
        image: H×W×C image (a batch N×H×W×C gets the same window for all images).
        size: An int for a square, or (height, width).
        seed: An int or a pair of ints (``tf.image.stateless_random_crop``'s seed).

    Returns:
        Shape (height, width, C) (or N×height×width×C), dtype kept.

    Raises:
        ImageError: ``size`` is larger than the image.

    Example:
        >>> random_crop(np.zeros((40, 60, 3)), (20, 30), seed=7).shape
        (20, 30, 3)
    """
    h, w = size_pair(size, "size")
    x = _tensor(image)
    _check_crop(x, h, w, "random-crop")
    shape = tf.shape(x)
    crop_shape = tf.concat([shape[:-3], [h, w], shape[-1:]], axis=0)  # [N,] h, w, C
    return _like(tf.image.stateless_random_crop(x, crop_shape, seed=stateless_seed(seed)), image)


def augment(image: Any, seed: int | Sequence[int], *, crop_fraction: float = 0.9) -> Any:
    """Random horizontal flip plus a small random crop resized back: a shifted, zoomed view.

    Stateless: the same image and seed always give the same result; pass a new
    seed (e.g. ``(epoch, step)``) for a new variation.

    Args:
        image: H×W×C image (an N×H×W×C batch flips per image, crops all alike).
        seed: An int or a pair of ints.
        crop_fraction: Side of the crop as a fraction of the image side (0, 1].

    Returns:
        float32 pixels in [0, 1], same shape as ``image``.

    Raises:
        ArtlibError: ``crop_fraction`` is outside (0, 1], or ``seed`` is not an int or a pair.

    Example:
        >>> augment(np.zeros((32, 32, 3)), seed=(1, 2)).shape
        (32, 32, 3)
    """
    crop_fraction = unit_float(crop_fraction, "crop_fraction", zero=False)
    x = _float_tensor(image)
    height, width = _height_width(x)
    flip_seed, crop_seed = tf.unstack(tf.random.experimental.stateless_split(stateless_seed(seed), 2))
    x = tf.image.stateless_random_flip_left_right(x, seed=flip_seed)
    hw = tf.cast([height, width], tf.float32)
    crop_hw = tf.maximum(tf.cast(tf.round(hw * crop_fraction), tf.int32), 1)
    shape = tf.shape(x)
    x = tf.image.stateless_random_crop(x, tf.concat([shape[:-3], crop_hw, shape[-1:]], 0),
                                       seed=crop_seed)  # [N,] ch×cw×C
    x = tf.image.resize(x, tf.stack([height, width]), method="bilinear", antialias=True)
    return _like(tf.clip_by_value(x, 0.0, 1.0), image)  # back to [N,] H×W×C
