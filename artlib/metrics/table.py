"""Several :func:`~artlib.metrics.sample_report` results side by side, as one plain-text table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from artlib.errors import ArtlibError

__all__ = ["REPORT_COLUMNS", "report_table"]

#: The columns :func:`report_table` shows by default: (report key, heading, format).
REPORT_COLUMNS = (
    ("frechet", "Fréchet ↓", "{:.2f}"),
    ("precision", "precision", "{:.2f}"),
    ("recall", "recall", "{:.2f}"),
    ("coverage", "coverage", "{:.2f}"),
    ("class_entropy", "class entropy", "{:.2f}"),
    ("pixel_nn_distance", "to nearest training image", "{:.2f}"),
    ("near_copy_share", "near-copies", "{:.1%}"),
)


def report_table(reports: Mapping[str, Mapping[str, Any]],
                 columns: Sequence[tuple[str, str, str]] = REPORT_COLUMNS) -> str:
    """One row per report, one column per measure, aligned for ``print``.

    Args:
        reports: ``{row name: sample_report(...)}`` (any mapping with the columns' keys; extra
            numbers, e.g. seconds, may be added to a report before).
        columns: ``(key, heading, format)`` for each column, e.g. ``("frechet", "Fréchet", "{:.2f}")``.

    Returns:
        The table as text, a header line, a rule and one line per report.

    Raises:
        ArtlibError: ``reports`` is not a mapping, holds no reports, or a report lacks one of the columns' keys.
    """
    if not isinstance(reports, Mapping):
        raise ArtlibError(f"report_table takes {{row name: report}} (a dict); got {type(reports).__name__}")
    if not reports:
        raise ArtlibError("report_table needs at least one report")
    for name, report in reports.items():
        missing = [key for key, _, _ in columns if key not in report]
        if missing:
            raise ArtlibError(f"the report {name!r} has no {', '.join(missing)}")
    cells = [[str(name)] + [fmt.format(report[key]) for key, _, fmt in columns] for name, report in reports.items()]
    header = [""] + [heading for _, heading, _ in columns]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    lines = ["  ".join(text.ljust(w) if i == 0 else text.rjust(w) for i, (text, w) in enumerate(zip(row, widths)))
             for row in [header, *cells]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
