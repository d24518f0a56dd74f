"""Pictures of images and training: mosaics, grids of panels, before/after rows, loss curves, GIFs.

Which file does what:

* ``pixels.py`` — ``as_images``: what a caller passes for display (arrays, tensors, lists; gray,
  RGB, RGBA; float, uint8, uint16) as a list of RGB float images, clipped with a warning.
* ``grid.py`` — ``grid_array``: a batch tiled into one mosaic image (an array, for
  ``save_image``, TensorBoard image summaries and GIF frames).
* ``figures.py`` — ``figure`` (the shared figure helper), ``image_grid``, ``compare_rows`` and
  ``loss_curves``: matplotlib figures that a notebook shows when they end a cell.
* ``charts.py`` — ``tradeoff``: measures against each other, one labelled point per model or setting
  (quality against novelty in notebook 09).
* ``save.py`` — ``save_figure`` and ``save_gif`` (the one GIF writer): atomic writes.

Everything works headless (CI, the command line, TensorBoard) and in notebooks alike, because it
never touches pyplot: figures are built from ``matplotlib.figure.Figure`` directly, so there is no
global figure state to leak, no backend to choose and nothing to ``close``. Nothing here imports
TensorFlow.

Pixels are floats in [0, 1]; ``uint8`` (0–255) is accepted too. Image shapes: ``(H, W)``,
``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` (RGBA, drawn over white) for one image;
``(N, H, W)``, ``(N, H, W, C)`` or a list of images for a batch. A 3-D array whose last axis is
longer than 4 is a batch of gray images.

Example:
    >>> fig = image_grid(images[:16], titles=[class_names[i] for i in labels[:16]])  # doctest: +SKIP
    >>> fig  # the last line of a notebook cell shows it  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

#: Each public name and the file that defines it. Imported on first use, as the rest of artlib: the command
#: line's grid arithmetic (``plotting.grid.square_columns``) loads NumPy alone, not matplotlib.
_HOMES = {"MAX_PANELS": "pixels", "figure": "figures", "grid_array": "grid", "square_columns": "grid",
          "image_grid": "figures", "compare_rows": "figures", "loss_curves": "figures", "save_figure": "save",
          "save_gif": "save", "tradeoff": "charts"}
_FILES = ("pixels", "grid", "figures", "charts", "save")

__all__ = [
    "MAX_PANELS",
    "figure",
    "grid_array",
    "square_columns",
    "image_grid",
    "compare_rows",
    "loss_curves",
    "save_figure",
    "save_gif",
    "tradeoff",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(f"artlib.plotting.{_HOMES[name]}"), name)
    elif name in _FILES:
        value = importlib.import_module(f"artlib.plotting.{name}")
    else:
        raise AttributeError(f"module 'artlib.plotting' has no attribute '{name}'")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES) | set(_FILES))
