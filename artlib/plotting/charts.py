"""Measure charts: quality against novelty, one point per model or setting (notebook 09, benchmarks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from artlib.errors import ArtlibError
from artlib.plotting.figures import figure
from artlib.plotting.save import PathLike, save_figure

__all__ = ["AXIS_LABELS", "tradeoff"]

#: How a chart names the ``metrics.sample_report`` values, with the direction that is "more".
AXIS_LABELS = {
    "frechet": "Fréchet distance ↓ better imitation",
    "kid": "kernel distance ↓ better imitation",
    "precision": "precision ↑ more realistic",
    "recall": "recall ↑ more of the data covered",
    "density": "density",
    "coverage": "coverage ↑ more of the data covered",
    "class_entropy": "class entropy (nats) ↑ more ambiguous",
    "pixel_nn_distance": "distance to nearest training image ↑ newer",
    "feature_nn_distance": "feature distance to nearest training image ↑ newer",
    "near_copy_share": "near-copy share ↓ fewer copies",
}


def _value(report: Mapping[str, Any], key: str, name: str) -> float:
    try:
        value = float(report[key])
    except KeyError:
        raise ArtlibError(f"report {name!r} has no {key!r}; give the keys of metrics.sample_report") from None
    except (TypeError, ValueError):
        raise ArtlibError(f"report {name!r} has {key!r} = {report[key]!r}, not a number") from None
    return value


def tradeoff(
    reports: Mapping[str, Mapping[str, Any]],
    x: str = "frechet",
    ys: Sequence[str] = ("class_entropy", "pixel_nn_distance"),
    *,
    reference: Mapping[str, Any] | None = None,
    reference_label: str = "real images",
    title: str | None = None,
    path: PathLike | None = None,
) -> Figure:
    """One panel per measure in ``ys`` against ``x``: a line through the reports, each point labelled.

    The chart of notebook 09's creative sweep: quality (Fréchet distance) against novelty
    (class entropy, distance to the nearest training image), one point per creative weight,
    in the order given.

    Args:
        reports: Point label -> a ``metrics.sample_report`` (any mapping with the keys named).
        x: The key along the horizontal axis.
        ys: One panel per key, on its vertical axis.
        reference: A report of real images: each panel draws its ``ys`` value as a dashed line.
        reference_label: That line's label.
        title: Above the panels.
        path: If given, also save the figure there as PNG (atomically).

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ArtlibError: No reports or no ``ys``, a key a report lacks, or a value that is not a number.
    """
    if not isinstance(reports, Mapping) or not reports:
        raise ArtlibError("reports must be a non-empty dict of label -> sample report")
    ys = [ys] if isinstance(ys, str) else list(ys)
    if not ys:
        raise ArtlibError("ys must name at least one measure, e.g. ('class_entropy',)")
    xs = np.array([_value(r, x, name) for name, r in reports.items()])
    fig = figure((5.0 * len(ys), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(ys)))
    for ax, key in zip(axes, ys):
        values = np.array([_value(r, key, name) for name, r in reports.items()])
        ax.plot(xs, values, "o-", color="tab:purple")
        ax.margins(0.12)  # room for the labels of the outer points
        for name, px, py in zip(reports, xs, values):
            ax.annotate(str(name), (px, py), textcoords="offset points", xytext=(5, 5), fontsize=9)
        if reference is not None:
            level = _value(reference, key, reference_label)
            ax.axhline(level, color="gray", ls="--", lw=1, label=reference_label)
            ax.legend(loc="best", fontsize=8, frameon=False)
        ax.set_xlabel(AXIS_LABELS.get(x, x))
        ax.set_ylabel(AXIS_LABELS.get(key, key))
    if title:
        fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig
