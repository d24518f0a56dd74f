"""Nearest neighbours in memory-bounded blocks: the search that novelty and k-NN measures share.

:func:`nearest_neighbours` finds each query's k nearest references (euclidean) with
float32 matrix products in blocks, then recomputes the best candidates' distances
exactly in float64, so 10,000 queries against 60,000 references stay within a few tens
of MB. :mod:`artlib.metrics.samples` (nearest training images) and
:mod:`artlib.metrics.novelty` (k-NN radii) both use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artlib.checks import positive_int
from artlib.errors import ArtlibError

__all__ = ["nearest_neighbours"]

_REFERENCE_BLOCK = 8192  # references per float32 product in nearest_neighbours (≤ 32 MB at a time)


def nearest_neighbours(
    queries: Any, references: Any, *, k: int = 1, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest references (euclidean) of each query, in memory-bounded blocks.

    Images are flattened, so pass images (``N×28×28``, any numeric dtype, used
    as given) or features (``N×D``). Candidates are found with float32 matrix
    products in blocks of ``batch_size`` queries × 8192 references (≤ 32 MB at
    a time, so 60,000 references are fine), then the distances of the best
    candidates are recomputed exactly in float64.

    Args:
        queries: (N, ...) query vectors or images.
        references: (M, ...) reference vectors or images, the same shape after axis 0.
        k: Neighbours per query (1 ≤ k ≤ M).
        batch_size: Queries per block.

    Returns:
        ``(distances, indices)``, each of shape (N, k), nearest first:
        float64 euclidean distances and int64 indices into ``references``.

    Raises:
        ArtlibError: empty inputs, mismatched shapes, NaN/inf, a bad ``k`` or
            a non-positive ``batch_size``.

    Example:
        >>> refs = np.array([[0.0, 0.0], [10.0, 0.0]])
        >>> nearest_neighbours(np.array([[9.0, 1.0]]), refs)[1]
        array([[1]])
    """
    q, r = np.asarray(queries), np.asarray(references)
    if q.ndim < 2 or r.ndim < 2 or len(q) == 0 or len(r) == 0 or q.shape[1:] != r.shape[1:]:
        raise ArtlibError(
            "queries and references must be non-empty batches of the same item shape; "
            f"got shapes {q.shape} and {r.shape}."
        )
    for arr, name in ((q, "queries"), (r, "references")):
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype,
                                                                                         np.complexfloating):
            raise ArtlibError(f"{name} must hold real numbers; got dtype {arr.dtype}.")
        if np.issubdtype(arr.dtype, np.inexact) and not np.all(np.isfinite(arr)):
            raise ArtlibError(f"{name} must not hold NaN or infinite values.")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(r):
        raise ArtlibError(f"k must be an integer between 1 and the number of references ({len(r)}); got {k!r}.")
    k, batch_size = int(k), positive_int(batch_size, "batch_size")
    q = q.reshape(len(q), -1)  # (N, ...) → (N, P)
    r = r.reshape(len(r), -1)  # (M, ...) → (M, P)
    candidates = min(len(r), k + 8)  # float32 rounding can swap near-ties: re-rank a few extra exactly
    center = r.mean(axis=0, dtype=np.float64)  # centring shrinks the norms, and so float32 cancellation
    distances = np.empty((len(q), k))
    indices = np.empty((len(q), k), np.int64)
    for start in range(0, len(q), batch_size):
        q64 = q[start : start + batch_size].astype(np.float64)  # (B, P)
        q32 = (q64 - center).astype(np.float32)
        q_norms = np.einsum("ij,ij->i", q32, q32)[:, None]  # (B, 1)
        best_d = np.full((len(q32), 0), np.inf, np.float32)
        best_i = np.empty((len(q32), 0), np.int64)
        for r_start in range(0, len(r), _REFERENCE_BLOCK):
            r32 = (r[r_start : r_start + _REFERENCE_BLOCK] - center).astype(np.float32)  # (≤8192, P)
            squared = q_norms - 2.0 * (q32 @ r32.T) + np.einsum("ij,ij->i", r32, r32)  # (B, ≤8192)
            best_d = np.concatenate([best_d, squared], axis=1)
            block_i = np.broadcast_to(np.arange(r_start, r_start + len(r32)), squared.shape)
            best_i = np.concatenate([best_i, block_i], axis=1)
            if best_d.shape[1] > candidates:
                keep = np.argpartition(best_d, candidates - 1, axis=1)[:, :candidates]
                best_d = np.take_along_axis(best_d, keep, axis=1)
                best_i = np.take_along_axis(best_i, keep, axis=1)
        best_i = np.sort(best_i, axis=1)  # (B, C); ties then go to the lowest index, like np.argmin
        exact = np.stack(
            [np.linalg.norm(q64 - r[best_i[:, c]].astype(np.float64), axis=1) for c in range(best_i.shape[1])],
            axis=1,
        )  # (B, C) float64
        order = np.argsort(exact, axis=1, kind="stable")[:, :k]
        distances[start : start + batch_size] = np.take_along_axis(exact, order, axis=1)
        indices[start : start + batch_size] = np.take_along_axis(best_i, order, axis=1)
    return distances, indices
