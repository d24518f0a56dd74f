"""Argument checks shared by the autoencoder files: a count or size of 0 or below is an error."""

from __future__ import annotations

from numbers import Real

from artlib.errors import ArtlibError


def positive(name: str, value: float) -> None:
    """Raise unless ``value`` is above 0.

    Args:
        name: The argument's name, for the message.
        value: Its value.

    Raises:
        ArtlibError: ``value`` is 0 or below (or not a number).
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not value > 0:
        raise ArtlibError(f"{name} must be a number above 0; got {value!r}")
