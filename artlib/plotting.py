"""Pictures of images and training: grids, before/after strips, loss curves, GIFs.

Everything here works headless (CI, the command line, TensorBoard) and in
notebooks alike, because it never touches pyplot: figures are built from
``matplotlib.figure.Figure`` directly, so there is no global figure state to
leak, no backend to choose and nothing to ``close``.

How a figure shows in Jupyter: IPython displays an object through a formatter
registered for its type or, failing that, through the object's
``_repr_png_`` method. matplotlib's ``Figure`` has no ``_repr_png_``; the
formatter for it is registered only when the inline backend is activated,
which happens when pyplot is imported (or ``%matplotlib inline`` runs). So
the functions here return a small ``Figure`` subclass that adds
``_repr_png_``: make it the last line of a cell and it shows, with or without
pyplot. Where the inline backend is active, its own formatter (e.g. retina
settings) takes precedence.

Pixels are floats in [0, 1]; ``uint8`` (0–255) is accepted too. Image shapes:
``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` (RGBA, drawn over
white) for one image; ``(N, H, W)``, ``(N, H, W, C)`` or a list of images for a
batch. A 3-D array whose last axis is longer than 4 is a batch of gray images.

Example:
    >>> fig = image_grid(images[:16], titles=[class_names[i] for i in labels[:16]])  # doctest: +SKIP
    >>> fig  # the last line of a notebook cell shows it  # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np
from matplotlib.figure import Figure
from matplotlib.textpath import TextPath

from artlib.atomic import atomic_path

__all__ = [
    "figure",
    "grid_array",
    "image_grid",
    "compare_rows",
    "loss_curves",
    "save_figure",
    "save_gif",
]

PathLike = Union[str, "os.PathLike[str]"]

MAX_PANELS = 256  # image_grid / compare_rows draw one panel per image; more is a mistake
DEFAULT_PANEL_SIZE = 1.5  # inches per image panel when there is room
MAX_FIGURE_WIDTH = 10.0  # inches; wider grids get smaller panels unless size= is given
_MAX_CHANNELS = 4  # a 3-D array whose last axis is longer than this is a batch of gray images
_LABEL_FONTSIZE = 9


class _NotebookFigure(Figure):
    """A ``Figure`` that Jupyter can show without pyplot (see the module docstring)."""

    def __repr__(self) -> str:  # "<Figure size 600x350 with 1 Axes>", like any Figure
        return super().__repr__().replace(type(self).__name__, "Figure", 1)

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.05)
        return buffer.getvalue()


def figure(figsize: tuple[float, float] = (6.5, 4)) -> Figure:
    """A new figure (constrained layout) that Jupyter shows and :func:`save_figure` saves, without pyplot.

    For the charts the topic modules draw themselves (a rate–distortion curve, a latent map)::

        fig = plotting.figure((6, 4))
        ax = fig.subplots()
    """
    return _NotebookFigure(figsize=figsize, layout="constrained")


# --- turning inputs into lists of RGB float images ------------------------------------


def _to_rgb(image: np.ndarray, name: str) -> np.ndarray:
    """One image (H, W[, C]) of any accepted dtype -> float32 (H, W, 3) in [0, 1]."""
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    elif image.dtype == np.uint16:
        image = image.astype(np.float32) / 65535.0
    elif image.dtype == bool or np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32)
    else:
        raise ValueError(
            f"{name}: expected float pixels in [0, 1] or uint8 (0-255); got dtype {image.dtype}."
        )
    if image.ndim == 2:
        image = image[..., None]  # (H, W) -> (H, W, 1)
    if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"{name}: expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); "
            f"got {image.shape}."
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name}: the image is empty (shape {image.shape}).")
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)  # gray -> RGB
    elif image.shape[-1] == 4:
        rgb, alpha = image[..., :3], image[..., 3:]
        image = rgb * alpha + (1.0 - alpha)  # RGBA over white
    return np.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0)


def _as_images(images: Any, name: str = "images") -> list[np.ndarray]:
    """A batch (array, tensor or list) -> a list of float32 (H, W, 3) images in [0, 1]."""
    if isinstance(images, (list, tuple)):
        items = [np.asarray(x) for x in images]
    else:
        batch = np.asarray(images)
        if batch.ndim == 2 or (batch.ndim == 3 and batch.shape[-1] <= _MAX_CHANNELS):
            batch = batch[None]  # one image -> a batch of one
        if batch.ndim not in (3, 4):
            raise ValueError(
                f"{name}: expected a batch of shape (N, H, W) or (N, H, W, C), or one image; "
                f"got shape {batch.shape}."
            )
        items = list(batch)
    if not items:
        raise ValueError(f"{name}: there are no images to show.")
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


def _check_panels(count: int, name: str) -> None:
    if count > MAX_PANELS:
        raise ValueError(
            f"{name}: {count} images is too many to draw one panel each (at most {MAX_PANELS}); "
            "show a slice such as images[:64], or make one mosaic with grid_array()."
        )


# --- mosaics as arrays ----------------------------------------------------------------


def grid_array(
    images: Any,
    ncols: int | None = None,
    pad: int = 1,
    pad_value: float | Sequence[float] = 1.0,
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

    Returns:
        A float32 array of shape (rows·(H + pad) + pad, ncols·(W + pad) + pad, 3)
        with values in [0, 1].

    Raises:
        ValueError: no images, an unsupported shape or dtype, images of
            different sizes, ``ncols < 1``, ``pad < 0`` or a bad ``pad_value``.

    Example:
        >>> grid_array(np.zeros((6, 28, 28)), ncols=3).shape  # 2 rows of 3
        (59, 88, 3)
    """
    items = _as_images(images)
    sizes = {x.shape[:2] for x in items}
    if len(sizes) > 1:
        raise ValueError(
            f"images must all have the same height and width for a mosaic; got sizes {sorted(sizes)}."
        )
    if ncols is None:
        ncols = math.ceil(math.sqrt(len(items)))
    if int(ncols) != ncols or ncols < 1:
        raise ValueError(f"ncols must be a positive integer; got {ncols!r}.")
    if int(pad) != pad or pad < 0:
        raise ValueError(f"pad must be a non-negative integer; got {pad!r}.")
    ncols, pad = min(int(ncols), len(items)), int(pad)
    fill = np.asarray(pad_value, dtype=np.float32)
    if fill.shape not in ((), (3,)) or not np.all((fill >= 0) & (fill <= 1)):
        raise ValueError(f"pad_value must be a number in [0, 1] or an (r, g, b) triple; got {pad_value!r}.")

    height, width = items[0].shape[:2]
    nrows = math.ceil(len(items) / ncols)
    mosaic = np.empty((nrows * (height + pad) + pad, ncols * (width + pad) + pad, 3), np.float32)
    mosaic[...] = fill
    for index, image in enumerate(items):
        row, col = divmod(index, ncols)
        top, left = pad + row * (height + pad), pad + col * (width + pad)
        mosaic[top : top + height, left : left + width] = image
    return mosaic


# --- figures ----------------------------------------------------------------------------


def _text_width(text: str, fontsize: float) -> float:
    """Width of a one-line label in inches, measured without drawing it."""
    if not text.strip():
        return 0.0
    try:
        return TextPath((0, 0), text, size=fontsize).get_extents().width / 72  # points -> inches
    except (ValueError, RuntimeError):  # e.g. malformed mathtext: estimate instead
        return 0.6 * fontsize * len(text) / 72


def _panel_table(
    cells: list[list[np.ndarray | None]],
    cell_size: float | None,
    titles: list[list[str]] | None = None,
    row_labels: Sequence[str] | None = None,
) -> Figure:
    """A figure with one image panel per cell, no axes clutter, optional titles and row labels."""
    nrows, ncols = len(cells), max(len(row) for row in cells)
    aspect = max(x.shape[0] / x.shape[1] for row in cells for x in row if x is not None)
    title_space = 0.25 if titles else 0.0  # inches per row
    label_space = 0.0  # inches for the row labels: their measured width plus the label pad
    if row_labels:
        label_space = max(_text_width(s, _LABEL_FONTSIZE + 1) for s in row_labels) + 0.15
    if cell_size is None:  # 1.5 in per panel, shrunk so that the figure stays ~10 in wide
        cell_size = min(DEFAULT_PANEL_SIZE, (MAX_FIGURE_WIDTH - label_space) / ncols)
    gap = 0.04  # inches between panels (the layout's padding), so that panels keep their size
    figsize = (ncols * (cell_size + gap) + label_space, nrows * (cell_size * aspect + title_space + gap))
    fig = _NotebookFigure(figsize=figsize, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.02, hspace=0.02)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for r in range(nrows):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            image = cells[r][c] if c < len(cells[r]) else None
            if image is None:
                ax.set_facecolor("none")
                continue
            ax.imshow(image, vmin=0.0, vmax=1.0)
            if titles and c < len(titles[r]) and titles[r][c]:
                ax.set_title(titles[r][c], fontsize=_LABEL_FONTSIZE, pad=3)
        if row_labels:
            axes[r, 0].set_ylabel(
                row_labels[r], rotation=0, ha="right", va="center",
                fontsize=_LABEL_FONTSIZE + 1, labelpad=6,
            )
    return fig


def image_grid(
    images: Any,
    ncols: int | None = None,
    titles: Sequence[Any] | None = None,
    size: float | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Show a batch of images as a grid of panels, with optional titles.

    Args:
        images: A batch (N, H, W[, C]), a list of images (sizes may differ) or
            one image; float pixels in [0, 1] or uint8. At most 256 images.
        ncols: Panels per row; default ``ceil(sqrt(N))``, capped at N.
        titles: One title per image (e.g. class names), or None.
        size: Width of one panel in inches; default 1.5, smaller for many
            columns so that the figure stays about 10 inches wide.
        path: If given, also save the figure there as PNG (atomically).

    Returns:
        The matplotlib ``Figure``; the last line of a notebook cell shows it.

    Raises:
        ValueError: no images, an unsupported shape or dtype, more than 256
            images, ``titles`` of the wrong length, or ``ncols < 1``.

    Example:
        >>> fig = image_grid(np.random.rand(8, 28, 28), titles=list("abcdefgh"))
        >>> len(fig.axes)  # 3 columns x 3 rows, the last one left blank
        9
    """
    items = _as_images(images)
    _check_panels(len(items), "images")
    if ncols is None:
        ncols = math.ceil(math.sqrt(len(items)))
    if int(ncols) != ncols or ncols < 1:
        raise ValueError(f"ncols must be a positive integer; got {ncols!r}.")
    ncols = min(int(ncols), len(items))
    if titles is not None:
        titles = [str(t) for t in titles]
        if len(titles) != len(items):
            raise ValueError(f"titles has {len(titles)} entries for {len(items)} images; give one per image.")
    if size is not None and not size > 0:
        raise ValueError(f"size must be a positive number of inches; got {size!r}.")
    cells = [items[i : i + ncols] for i in range(0, len(items), ncols)]
    row_titles = [titles[i : i + ncols] for i in range(0, len(items), ncols)] if titles else None
    fig = _panel_table(cells, size, titles=row_titles)
    if path is not None:
        save_figure(fig, path)
    return fig


def compare_rows(
    rows: Mapping[str, Any],
    path: PathLike | None = None,
    size: float | None = None,
) -> Figure:
    """Before/after strips: one labelled row of images per entry.

    Args:
        rows: Row label -> images, in display order, e.g.
            ``{"clean": x, "noisy": y, "denoised": z}``. Each value is a batch,
            a list of images or one image. Rows may differ in image size and count.
        path: If given, also save the figure there as PNG (atomically).
        size: Width of one panel in inches; default 1.5, smaller for many
            columns so that the figure stays about 10 inches wide.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ValueError: ``rows`` is empty, a row has no images or more than 256
            panels in all, or an image has an unsupported shape or dtype.

    Example:
        >>> x = np.random.rand(4, 28, 28)
        >>> fig = compare_rows({"clean": x, "noisy": np.clip(x + 0.2, 0, 1)})
        >>> len(fig.axes)
        8
    """
    if not isinstance(rows, Mapping) or not rows:
        raise ValueError("rows must be a non-empty dict of label -> images, e.g. {'clean': x, 'noisy': y}.")
    labels = [str(label) for label in rows]
    cells: list[list[np.ndarray | None]] = [_as_images(v, f"rows[{k!r}]") for k, v in rows.items()]
    _check_panels(len(cells) * max(len(r) for r in cells), "rows")
    if size is not None and not size > 0:
        raise ValueError(f"size must be a positive number of inches; got {size!r}.")
    fig = _panel_table(cells, size, row_labels=labels)
    if path is not None:
        save_figure(fig, path)
    return fig


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps (fewer at the start), skipping NaN/inf."""
    finite = np.isfinite(values)
    total = np.concatenate([[0.0], np.cumsum(np.where(finite, values, 0.0))])
    count = np.concatenate([[0], np.cumsum(finite)])
    end = np.arange(1, len(values) + 1)
    start = np.maximum(0, end - window)
    n = count[end] - count[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (total[end] - total[start]) / n, np.nan)


def loss_curves(
    history: Mapping[str, Sequence[float]] | Any,
    path: PathLike | None = None,
    smooth: int = 0,
    log_scale: bool = False,
    title: str | None = None,
    xlabel: str = "step",
    size: tuple[float, float] = (6.0, 3.5),
) -> Figure:
    """Plot one or more training curves against the step number.

    Args:
        history: Name -> values per step, e.g. ``{"generator": g, "discriminator": d}``,
            or a Keras ``History`` (its ``.history`` dict is used; pass
            ``xlabel="epoch"``). Curves may have different lengths.
        path: If given, also save the figure there as PNG (atomically).
        smooth: Moving-average window in steps; 0 or 1 draws the raw values.
            When smoothing, the raw values stay visible as a faint line.
        log_scale: Use a logarithmic y axis (non-positive values are left out).
        title: An optional title above the plot.
        xlabel: Label of the x axis.
        size: Figure size in inches (width, height).

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ValueError: no curves, an empty or non-1-D curve, or ``smooth`` that is
            not a non-negative integer.

    Example:
        >>> fig = loss_curves({"loss": [1.0, 0.5, 0.3, 0.25]}, smooth=2)
    """
    history = getattr(history, "history", history)  # a keras.callbacks.History
    if not isinstance(history, Mapping) or not history:
        raise ValueError('history must be a non-empty dict of name -> values, e.g. {"loss": [0.9, 0.5]}.')
    if isinstance(smooth, bool) or int(smooth) != smooth or smooth < 0:
        raise ValueError(f"smooth is a moving-average window in steps (an integer >= 0); got {smooth!r}.")
    curves = {}
    for name, values in history.items():
        y = np.asarray(values, dtype=np.float64)
        if y.ndim != 1 or y.size == 0:
            raise ValueError(f"history[{name!r}] must be a non-empty list of numbers; got shape {y.shape}.")
        curves[str(name)] = y

    fig = _NotebookFigure(figsize=size, layout="constrained")
    ax = fig.subplots()
    for index, (name, y) in enumerate(curves.items()):
        steps = np.arange(len(y))
        color = f"C{index % 10}"
        if smooth > 1:
            ax.plot(steps, y, color=color, alpha=0.25, linewidth=1)
            ax.plot(steps, _moving_average(y, int(smooth)), color=color, linewidth=1.8,
                    label=f"{name} (mean of {int(smooth)})")
        else:
            ax.plot(steps, y, color=color, linewidth=1.5, label=name)
    if log_scale:
        ax.set_yscale("log", nonpositive="mask")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("value" if len(curves) > 1 else next(iter(curves)))
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if len(curves) > 1 or smooth > 1:
        ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    if path is not None:
        save_figure(fig, path)
    return fig


# --- saving -------------------------------------------------------------------------------


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
        ValueError: the extension names no format matplotlib can write.

    Example:
        >>> save_figure(image_grid(np.random.rand(4, 8, 8)), "out/grid.png")  # doctest: +SKIP
        PosixPath('out/grid.png')
    """
    path = Path(path).expanduser()
    fmt = path.suffix.lstrip(".").lower()
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(
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

    Returns:
        The path written, as a ``Path``.

    Raises:
        ValueError: no frames, frames of different sizes or unsupported
            shapes, or ``fps`` not positive.

    Example:
        >>> frames = [grid_array(sample(epoch)) for epoch in range(10)]  # doctest: +SKIP
        >>> save_gif(frames, "out/training.gif", fps=4)  # doctest: +SKIP
    """
    from PIL import Image

    items = _as_images(frames, "frames")
    sizes = {x.shape[:2] for x in items}
    if len(sizes) > 1:
        raise ValueError(f"frames must all have the same height and width; got sizes {sorted(sizes)}.")
    if not fps > 0:
        raise ValueError(f"fps must be positive; got {fps!r}.")
    pictures = [Image.fromarray(np.round(x * 255.0).astype(np.uint8)) for x in items]
    options: dict[str, Any] = {"duration": int(round(1000.0 / fps))}
    if loop is not None:
        options["loop"] = int(loop)
    path = Path(path).expanduser()
    with atomic_path(path) as tmp:
        pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:], **options)
    return path
