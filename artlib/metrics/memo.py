"""SampleMemo: an explicit store for the expensive parts of ``sample_report`` between calls."""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from artlib.checks import positive_int

__all__ = ["SampleMemo"]


class SampleMemo:
    """Keeps the expensive parts of :func:`~artlib.metrics.sample_report` between calls; pass it as ``memo=``.

    It remembers the classifier features of the training and reference images
    (keyed by the classifier and a hash of the images' contents), the
    near-copy threshold (keyed by the contents of both sets and the seed) and
    the k-NN radii of the real images that precision, recall, density and
    coverage compare with (keyed by the classifier, the reference images, the
    number of samples, the seed and k), so
    that measuring once per epoch, or one model after another, costs only the
    new samples. Results are the same with or without it. It holds the
    ``size`` most recent results (oldest dropped first) and only a weak
    reference to each classifier; :meth:`clear` empties it.

    Example:
        >>> from artlib.metrics import sample_report
        >>> memo = SampleMemo()
        >>> for samples in samples_per_epoch:  # doctest: +SKIP
        ...     report = sample_report(samples, x_train, memo=memo)
    """

    def __init__(self, size: int = 8) -> None:
        """Make an empty memo.

        Args:
            size: How many results to keep at most (≥ 1).

        Raises:
            ArtlibError: ``size`` is not a positive integer.
        """
        self.size = positive_int(size, "size")
        self.items: dict[tuple, tuple[weakref.ref | None, Any]] = {}

    @staticmethod
    def fingerprint(array: Any) -> tuple:
        """A key for an array's contents: its shape, dtype and a 128-bit BLAKE2 hash of its bytes."""
        arr = np.ascontiguousarray(array)
        return arr.shape, str(arr.dtype), hashlib.blake2b(arr.data, digest_size=16).hexdigest()

    def get(self, key: tuple, owner: Any, compute: Callable[[], Any]) -> Any:
        """The value remembered under ``key`` for ``owner``, or ``compute()`` remembered.

        Args:
            key: What the value depends on (built with :meth:`fingerprint`).
            owner: The object the value also depends on (a classifier; a new model
                at a recycled ``id`` is never confused with the old one), or None.
            compute: Makes the value when it is not remembered.

        Returns:
            The value.
        """
        hit = self.items.get(key)
        if hit is not None and (hit[0] is None or hit[0]() is owner):
            return hit[1]
        value = compute()
        if len(self.items) >= self.size:
            self.items.pop(next(iter(self.items)))
        self.items[key] = (None if owner is None else weakref.ref(owner), value)
        return value

    def clear(self) -> None:
        """Forget everything."""
        self.items.clear()
