"""Argument checks for the Python API: a count or rate that makes no sense is an ArtlibError naming it."""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any

from artlib.errors import ArtlibError

__all__ = ["positive_int", "positive_float", "unit_float", "MAX_SEED", "seed_value", "sequence", "pair",
           "size_pair", "memory_bytes", "memory_budget", "fits_in_memory"]


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


def unit_float(value: Any, name: str, *, zero: bool = True, one: bool = True) -> float:
    """``value`` as a float, if it is a number in [0, 1] (a share, a mix, an amount of noise).

    Args:
        value: The number to check.
        name: The argument's name, for the message.
        zero: Allow 0 itself (else the interval is open there: (0, 1]).
        one: Allow 1 itself (else [0, 1)).

    Returns:
        ``float(value)``.

    Raises:
        ArtlibError: ``value`` is a bool, not a number, NaN, or outside the interval; the message gives it.
    """
    inside = (isinstance(value, numbers.Real) and not isinstance(value, bool)
              and (0.0 <= value if zero else 0.0 < value) and (value <= 1.0 if one else value < 1.0))  # NaN: False
    if not inside:
        interval = f"{'[' if zero else '('}0, 1{']' if one else ')'}"
        raise ArtlibError(f"{name} must be in {interval}; got {value!r}")
    return float(value)


#: The largest seed: TensorFlow's stateless ops take seeds as int32.
MAX_SEED = 2**31 - 1


def seed_value(value: Any, name: str = "seed") -> int:
    """``value`` as a random seed: a whole number from 0 to :data:`MAX_SEED` (``7`` or ``7.0``).

    Checked where a seed enters the Python API, so that ``seed="42"``, ``0.5``, ``-1`` or ``2**40`` is
    refused by name instead of failing inside NumPy, Keras or TensorFlow (or being truncated) when the seed
    is first used.

    Args:
        value: The seed to check.
        name: The argument's name, for the message.

    Returns:
        ``int(value)``.

    Raises:
        ArtlibError: ``value`` is not a whole number from 0 to :data:`MAX_SEED`.
    """
    seed = positive_int(value, name, minimum=0)
    if seed > MAX_SEED:
        raise ArtlibError(f"{name} must be an integer ≥ 0 and ≤ {MAX_SEED} (2**31 - 1); got {value!r}")
    return seed


def sequence(value: Any, name: str, what: str, length: int) -> tuple[Any, ...]:
    """``value``'s items, if it is a tuple, list or array of ``length`` items (text is not a sequence).

    Args:
        value: The sequence to check.
        name: The argument's name, for the message.
        what: What ``name`` must be, for the message: ``"one number per style (2)"``.
        length: How many items it must have.

    Returns:
        The items as a tuple, unchecked.

    Raises:
        ArtlibError: ``value`` is text, has no length, or another length.
    """
    try:
        fits = not isinstance(value, (str, bytes)) and len(value) == length
    except TypeError:  # no length: a number, None, a 0-d array
        fits = False
    if not fits:
        raise ArtlibError(f"{name} must be {what}; got {value!r:.80}")
    return tuple(value[i] for i in range(length))


def pair(value: Any, name: str, what: str) -> tuple[Any, Any]:
    """``value``'s two items, if it is a pair (:func:`sequence` of length 2), e.g. ``(width, height)``.

    Raises:
        ArtlibError: ``value`` is text, has no length, or not a length of 2.
    """
    first, second = sequence(value, name, what, 2)
    return first, second


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


def memory_bytes() -> int | None:
    """This machine's memory in bytes, or its container's limit where that is smaller (Colab, Docker).

    Returns:
        The byte count, or None where it cannot be read (Windows, an unusual system): then nothing is refused.
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or not these names
        return None
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):  # cgroup v2, v1
        try:
            limit = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if limit.isdigit() and 0 < int(limit) < total:
            total = int(limit)
    return total if total > 0 else None


def _gib(num_bytes: float) -> str:
    return f"{num_bytes / 2**30:,.1f} GiB" if num_bytes >= 2**30 else f"{num_bytes / 2**20:,.0f} MiB"


def memory_budget() -> float | None:
    """What :func:`fits_in_memory` allows work's own arrays: half of :func:`memory_bytes` (None: not known)."""
    total = memory_bytes()
    return None if total is None else total / 2


def fits_in_memory(num_bytes: float, what: str, fix: str) -> None:
    """Refuse, before anything is allocated, work whose arrays would need more than half of :func:`memory_bytes`.

    Past that a notebook's kernel dies or the machine swaps for minutes; an error that names the size is
    better. Half leaves room for Python, TensorFlow and whatever else runs.

    Args:
        num_bytes: The estimated peak of the work's own arrays.
        what: The work, for the message: ``"gan.sample(n=10,000,000)"``.
        fix: What to do instead: ``"ask for fewer, in several calls with other seeds"``.

    Raises:
        ArtlibError: ``num_bytes`` is more than half of this machine's memory.
    """
    budget = memory_budget()
    if budget is not None and num_bytes > budget:
        raise ArtlibError(f"{what} would need about {_gib(num_bytes)} of memory, more than half of this machine's "
                          f"{_gib(memory_bytes())}; {fix}")
