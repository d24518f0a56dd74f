"""Tile a batch of images into one mosaic image: an array for save_image, TensorBoard and GIF frames."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from artlib.checks import positive_int
from artlib.errors import ArtlibError, ImageError
from artlib.plotting.pixels import as_images

__all__ = ["grid_array", "square_columns"]


def square_columns(count: int) -> int:
    """Columns of the squarest grid of ``count`` panels filled row by row: ⌈√count⌉ (10 panels: 4, 3, 3)."""
    return math.ceil(math.sqrt(count))


def grid_array(
    images: Any,
    ncols: int | None = None,
    pad: int = 1,
    pad_value: float | Sequence[float] = 1.0,
    zoom: int = 1,
) -> np.ndarray:
    """Tile a batch of images into one mosaic image (an array, not a figure).

    The mosaic has ``pad`` pixels of ``pad_value`` between the images and
    around the border; cells after the last image are filled with
    ``pad_value``. Use it for ``save_image``, TensorBoard image summaries and
    GIF frames.

    Args:
        images: A batch (N, H, W) or (N, H, W, C) with C in {1, 3, 4}, a list of
            images of one size, or a single image. Float pixels in [0, 1] or uint8.
        ncols: Images per row; default ``ceil(sqrt(N))``, capped at N.
        pad: Pixels between images and around the border (0 for none).
        pad_value: Gray level of the padding in [0, 1], or an (r, g, b) triple.
        zoom: Draw the mosaic this many times larger, each pixel a ``zoom``×``zoom`` block (28-pixel
            Fashion-MNIST images are hard to see at 1).

    Returns:
        A float32 array of shape (rows·(H + pad) + pad, ncols·(W + pad) + pad, 3), times ``zoom`` in
        height and width, with values in [0, 1].

    Raises:
        ImageError: no images, an unsupported shape or dtype, or images of different sizes.
        ArtlibError: ``ncols < 1``, ``pad < 0``, ``zoom < 1`` or a bad ``pad_value``.

    Example:
        >>> grid_array(np.zeros((6, 28, 28)), ncols=3).shape  # 2 rows of 3
        (59, 88, 3)
    """
    items = as_images(images)
    sizes = {x.shape[:2] for x in items}
    if len(sizes) > 1:
        raise ImageError(
            f"images must all have the same height and width for a mosaic; got sizes {sorted(sizes)}."
        )
    if ncols is None:
        ncols = square_columns(len(items))
    ncols = min(positive_int(ncols, "ncols"), len(items))
    pad = positive_int(pad, "pad", minimum=0)
    zoom = positive_int(zoom, "zoom")
    try:  # NumPy would read "0.5" as a number: text is refused with the rest
        fill = np.asarray(pad_value, dtype=np.float32) if not isinstance(pad_value, (str, bytes, bool)) else None
    except (TypeError, ValueError):  # None, ragged lists
        fill = None
    if fill is None or fill.shape not in ((), (3,)) or not np.all((fill >= 0) & (fill <= 1)):
        raise ArtlibError(f"pad_value must be a number in [0, 1] or an (r, g, b) triple; got {pad_value!r}.")

    height, width = items[0].shape[:2]
    nrows = math.ceil(len(items) / ncols)
    mosaic = np.empty((nrows * (height + pad) + pad, ncols * (width + pad) + pad, 3), np.float32)
    mosaic[...] = fill
    for index, image in enumerate(items):
        row, col = divmod(index, ncols)
        top, left = pad + row * (height + pad), pad + col * (width + pad)
        mosaic[top : top + height, left : left + width] = image
    return mosaic.repeat(zoom, axis=0).repeat(zoom, axis=1) if zoom > 1 else mosaic
