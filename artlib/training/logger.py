"""TensorBoard scalars and image grids under ``run_dir/tensorboard``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before TensorFlow is imported)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.plotting import grid_array  # noqa: E402

__all__ = ["RunLogger", "as_grid"]


def as_grid(images: Any, *, columns: int | None = None) -> np.ndarray:
    """A batch of images in [0, 1] as one mosaic (``plotting.grid_array``), float (H, W, C).

    Args:
        images: ``(N, H, W)`` grayscale or ``(N, H, W, C)``, float in [0, 1] or uint8.
        columns: Images per row (default: about square).

    Returns:
        The grid, one image with 1-pixel white lines between the panels.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = images.astype(np.float32)
    if images.ndim == 3:
        images = images[..., np.newaxis]  # a batch of grayscale (n, h, w) -> (n, h, w, 1)
    return grid_array(images, ncols=columns)


class RunLogger:
    """Write scalars and image grids for TensorBoard under ``run_dir/tensorboard``.

    Example::

        with RunLogger("runs/gan") as logger:
            logger.scalars({"d_loss": 0.7, "g_loss": 1.2}, step=100)
            logger.images("samples", generated_images, step=100)   # one grid
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.log_dir = Path(run_dir) / "tensorboard"
        self._writer = tf.summary.create_file_writer(str(self.log_dir))

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        """Log one value per name at ``step``."""
        with self._writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(name, float(value), step=step)

    def images(self, name: str, images: Any, step: int, *, columns: int | None = None) -> None:
        """Log a batch of images in [0, 1] as a single grid picture (see :func:`as_grid`)."""
        grid = as_grid(images, columns=columns)
        with self._writer.as_default():
            tf.summary.image(name, grid[np.newaxis], step=step)

    def flush(self) -> None:
        """Push everything written so far to disk."""
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
