"""Save a figure, or write frames as an animated GIF (the one GIF writer), atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from artlib.atomic import atomic_path
from artlib.checks import positive_float, positive_int, sequence
from artlib.errors import ArtlibError, ImageError
from artlib.plotting.pixels import as_images

__all__ = ["save_figure", "save_gif"]

PathLike = Union[str, "os.PathLike[str]"]


def save_figure(fig: Figure, path: PathLike, dpi: int = 100) -> Path:
    """Save a figure atomically: a complete file appears, or none at all.

    Args:
        fig: A matplotlib ``Figure`` (any, not only artlib's).
        path: Where to write; the format comes from the extension (``.png``,
            ``.pdf``, ``.svg``, ``.jpg`` …). Missing folders are created.
        dpi: Dots per inch (raster formats).

    Returns:
        The path written, as a ``Path``.

    Raises:
        ImageError: the extension names no format matplotlib can write.
        ArtlibError: ``fig`` is not a figure, or ``dpi`` is not positive.

    Example:
        >>> save_figure(image_grid(np.random.rand(4, 8, 8)), "out/grid.png")  # doctest: +SKIP
        PosixPath('out/grid.png')
    """
    if not isinstance(fig, Figure):
        raise ArtlibError(f"save_figure saves a matplotlib Figure (e.g. plotting.image_grid's); got "
                          f"{type(fig).__name__}")
    dpi = positive_float(dpi, "dpi")
    path = Path(path).expanduser()
    fmt = path.suffix.lstrip(".").lower()
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ImageError(
            f"Cannot tell the image format of {str(path)!r}; end the name with one of "
            f"{', '.join('.' + f for f in sorted(supported))}."
        )
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.05)
    return path


def save_gif(
    frames: Any,
    path: PathLike,
    fps: float = 10.0,
    loop: int | None = 0,
    *,
    durations: Sequence[float] | None = None,
) -> Path:
    """Write frames (e.g. a grid per epoch from ``grid_array``) as an animated GIF.

    Consecutive identical frames are merged by Pillow into one longer frame.

    Args:
        frames: A batch (N, H, W[, C]) or a list of images of one size; float
            pixels in [0, 1] or uint8.
        path: Where to write (``.gif``); missing folders are created, the write
            is atomic.
        fps: Frames per second (GIF stores durations in 1/100 s).
        loop: How many times to repeat; 0 loops forever, None plays once.
        durations: Milliseconds per frame, one per frame (e.g. copied from a GIF being
            re-rendered); overrides ``fps``.

    Returns:
        The path written, as a ``Path``.

    Raises:
        ImageError: no frames, frames of different sizes or unsupported shapes.
        ArtlibError: ``path`` does not end in ``.gif``, ``fps`` or a duration not positive, ``durations``
            not one per frame, or ``loop`` negative.

    Example:
        >>> frames = [grid_array(sample(epoch)) for epoch in range(10)]  # doctest: +SKIP
        >>> save_gif(frames, "out/training.gif", fps=4)  # doctest: +SKIP
    """
    if Path(path).suffix.lower() != ".gif":
        raise ArtlibError(f"a GIF's file name must end in .gif; got {Path(path).name!r}")
    items = as_images(frames, "frames")
    sizes = {x.shape[:2] for x in items}
    if len(sizes) > 1:
        raise ImageError(f"frames must all have the same height and width; got sizes {sorted(sizes)}.")
    fps = positive_float(fps, "fps")
    if loop is not None:
        loop = positive_int(loop, "loop (0: forever; None: play once)", minimum=0)
    if durations is not None:
        durations = [positive_float(d, "each of durations (milliseconds)") for d in sequence(
            durations, "durations", f"{len(items)} positive numbers of milliseconds, one per frame", len(items))]
    pictures = [Image.fromarray(np.round(x * 255.0).astype(np.uint8)) for x in items]
    per_frame = [int(round(d)) for d in durations] if durations is not None else int(round(1000.0 / fps))
    options: dict[str, Any] = {"duration": per_frame}
    if loop is not None:
        options["loop"] = int(loop)
    path = Path(path).expanduser()
    with atomic_path(path) as tmp:
        pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:], **options)
    return path
