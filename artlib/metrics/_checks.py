"""Argument checks shared by the metrics files (the measures' count and size arguments)."""

from __future__ import annotations

import math
from typing import Any

from artlib.errors import ArtlibError

__all__ = ["positive_int", "positive_float"]


def positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """``value`` as an int, if it is an integer (``3`` or ``3.0``) of at least ``minimum``.

    Args:
        value: The argument to check.
        name: Its name, for the message.
        minimum: The smallest allowed value.

    Returns:
        ``int(value)``.

    Raises:
        ArtlibError: ``value`` is not such an integer (a bool, a fraction, NaN, too small, not a number).
    """
    try:
        ok = not isinstance(value, bool) and int(value) == value and value >= minimum
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        wanted = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
        raise ArtlibError(f"{name} must be {wanted}; got {value!r}.")
    return int(value)


def positive_float(value: Any, name: str) -> float:
    """``value`` as a float, if it is a finite real number above 0.

    Args:
        value: The argument to check.
        name: Its name, for the message.

    Returns:
        ``float(value)``.

    Raises:
        ArtlibError: ``value`` is not a number, is 0 or below, or is NaN or infinite.
    """
    try:
        ok = not isinstance(value, bool) and math.isfinite(value) and value > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ArtlibError(f"{name} must be a positive number; got {value!r}.")
    return float(value)
