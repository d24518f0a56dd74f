"""Argument checks for the Python API: a count or rate that makes no sense is an ArtlibError naming it."""

from __future__ import annotations

import math
import numbers
from typing import Any

from artlib.errors import ArtlibError

__all__ = ["positive_int", "positive_float", "unit_float", "seed_value", "pair", "size_pair"]


def positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """``value`` as an int, if it is a whole number (``3`` or ``3.0``) of at least ``minimum``.

    Args:
        value: The number to check.
        name: The argument's name, for the message.
        minimum: The smallest value that makes sense.

    Returns:
        ``int(value)``.

    Raises:
        ArtlibError: ``value`` is a bool, not a number, not whole, or below ``minimum``.
    """
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or int(value) != value or value < minimum):
        kind = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
        raise ArtlibError(f"{name} must be {kind}; got {value!r}")
    return int(value)


def positive_float(value: Any, name: str, *, zero: bool = False) -> float:
    """``value`` as a float, if it is a finite number above 0 (or 0 itself with ``zero``).

    Args:
        value: The number to check.
        name: The argument's name, for the message.
        zero: Allow 0 (e.g. a penalty weight that switches the penalty off).

    Returns:
        ``float(value)``.

    Raises:
        ArtlibError: ``value`` is a bool, not a number, NaN, infinite, negative, or 0 without ``zero``.
    """
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or value < 0 or (value == 0 and not zero)):
        kind = "a number ≥ 0" if zero else "a positive number"
        raise ArtlibError(f"{name} must be {kind}; got {value!r}")
    return float(value)


def unit_float(value: Any, name: str) -> float:
    """``value`` as a float, if it is a number in [0, 1] (a share, a mix, an amount of noise).

    Args:
        value: The number to check.
        name: The argument's name, for the message.

    Returns:
        ``float(value)``.

    Raises:
        ArtlibError: ``value`` is a bool, not a number, NaN, or outside [0, 1].
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:  # NaN fails too
        raise ArtlibError(f"{name} must be in [0, 1]; got {value}")
    return float(value)


def seed_value(value: Any, name: str = "seed") -> int:
    """``value`` as a random seed: a whole number ≥ 0 (``7`` or ``7.0``; not text, a fraction or a negative).

    Checked where a seed enters the Python API, so that ``seed="42"`` or ``seed=0.5`` is refused by name
    instead of failing inside NumPy or Keras (or being truncated) when the seed is first used.

    Raises:
        ArtlibError: ``value`` is not a whole number ≥ 0.
    """
    return positive_int(value, name, minimum=0)


def pair(value: Any, name: str, what: str) -> tuple[Any, Any]:
    """``value``'s two items, if it is a pair: a tuple, list or array of length 2 (text is not a pair).

    Args:
        value: The pair to check.
        name: The argument's name, for the message.
        what: What ``name`` must be, for the message: ``"(width, height) in inches"``.

    Returns:
        ``(value[0], value[1])``, unchecked.

    Raises:
        ArtlibError: ``value`` is text, has no length, or not a length of 2.
    """
    try:
        two = not isinstance(value, (str, bytes)) and len(value) == 2
    except TypeError:  # no length: a number, None, a 0-d array
        two = False
    if not two:
        raise ArtlibError(f"{name} must be {what}; got {value!r}")
    return value[0], value[1]


def size_pair(value: Any, name: str) -> tuple[int, int]:
    """``value`` as ``(height, width)``: one positive whole number for a square, or a pair of them.

    Args:
        value: ``16``, ``16.0``, ``(16, 24)`` or ``[16, 24]``.
        name: The argument's name, for the message.

    Returns:
        Two ints.

    Raises:
        ArtlibError: Not a number or a pair, or a side that is not a positive whole number.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = (value, value)
    height, width = pair(value, name, "a side in pixels or (height, width)")
    return positive_int(height, name), positive_int(width, name)
