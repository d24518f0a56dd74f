"""matplotlib figures that Jupyter shows without pyplot: image grids, before/after rows, loss curves."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.textpath import TextPath

from artlib.checks import pair, positive_float
from artlib.errors import ArtlibError
from artlib.plotting.grid import square_columns
from artlib.plotting.pixels import as_images, check_panels
from artlib.plotting.save import PathLike, save_figure

__all__ = ["figure", "image_grid", "compare_rows", "loss_curves"]

DEFAULT_PANEL_SIZE = 1.5  # inches per image panel when there is room
MAX_FIGURE_WIDTH = 10.0  # inches; wider grids get smaller panels unless size= is given
_LABEL_FONTSIZE = 9


class _NotebookFigure(Figure):
    """A ``Figure`` that Jupyter can show without pyplot.

    IPython displays an object through a formatter registered for its type or, failing that,
    through the object's ``_repr_png_`` method. matplotlib's ``Figure`` has no ``_repr_png_``;
    the formatter for it is registered only when the inline backend is activated, which happens
    when pyplot is imported (or ``%matplotlib inline`` runs). This subclass adds ``_repr_png_``:
    make it the last line of a cell and it shows, with or without pyplot. Where the inline
    backend is active, its own formatter (e.g. retina settings) takes precedence.
    """

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

    Args:
        figsize: (width, height) in inches.

    Returns:
        An empty ``Figure``; the last line of a notebook cell shows it.

    Raises:
        ArtlibError: ``figsize`` is not two positive numbers.
    """
    width, height = (positive_float(side, "figsize") for side in pair(figsize, "figsize", "(width, height) in inches"))
    return _NotebookFigure(figsize=(width, height), layout="constrained")


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
        ImageError: no images, an unsupported shape or dtype, or more than 256 images.
        ArtlibError: ``titles`` of the wrong length, ``ncols < 1`` or ``size`` not positive.

    Example:
        >>> fig = image_grid(np.random.rand(8, 28, 28), titles=list("abcdefgh"))
        >>> len(fig.axes)  # 3 columns x 3 rows, the last one left blank
        9
    """
    items = as_images(images)
    check_panels(len(items), "images")
    if ncols is None:
        ncols = square_columns(len(items))
    if int(ncols) != ncols or ncols < 1:
        raise ArtlibError(f"ncols must be a positive integer; got {ncols!r}.")
    ncols = min(int(ncols), len(items))
    if titles is not None:
        titles = [str(t) for t in titles]
        if len(titles) != len(items):
            raise ArtlibError(f"titles has {len(titles)} entries for {len(items)} images; give one per image.")
    if size is not None:
        size = positive_float(size, "size (inches)")
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
        ArtlibError: ``rows`` is empty or not a dict, or ``size`` is not positive.
        ImageError: a row has no images, more than 256 panels in all, or an image has an
            unsupported shape or dtype.

    Example:
        >>> x = np.random.rand(4, 28, 28)
        >>> fig = compare_rows({"clean": x, "noisy": np.clip(x + 0.2, 0, 1)})
        >>> len(fig.axes)
        8
    """
    if not isinstance(rows, Mapping) or not rows:
        raise ArtlibError("rows must be a non-empty dict of label -> images, e.g. {'clean': x, 'noisy': y}.")
    labels = [str(label) for label in rows]
    cells: list[list[np.ndarray | None]] = [as_images(v, f"rows[{k!r}]") for k, v in rows.items()]
    check_panels(len(cells) * max(len(r) for r in cells), "rows")
    if size is not None:
        size = positive_float(size, "size (inches)")
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
        ArtlibError: no curves, an empty or non-1-D curve, or ``smooth`` that is
            not a non-negative integer.

    Example:
        >>> fig = loss_curves({"loss": [1.0, 0.5, 0.3, 0.25]}, smooth=2)
    """
    history = getattr(history, "history", history)  # a keras.callbacks.History
    if not isinstance(history, Mapping) or not history:
        raise ArtlibError('history must be a non-empty dict of name -> values, e.g. {"loss": [0.9, 0.5]}.')
    if isinstance(smooth, bool) or int(smooth) != smooth or smooth < 0:
        raise ArtlibError(f"smooth is a moving-average window in steps (an integer >= 0); got {smooth!r}.")
    curves = {}
    for name, values in history.items():
        y = np.asarray(values, dtype=np.float64)
        if y.ndim != 1 or y.size == 0:
            raise ArtlibError(f"history[{name!r}] must be a non-empty list of numbers; got shape {y.shape}.")
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
