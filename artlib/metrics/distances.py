"""Distances between two sets of features: the Fréchet distance and the kernel distance (KID).

Both compare a set of samples with a set of real images through features (artlib's
classifier features, :func:`artlib.metrics.classifier_features`): the Fréchet distance
between Gaussians fitted to the two sets (the recipe of FID, but on this classifier's
features, not Inception's, so it is *not* FID and its numbers are not comparable with
published FIDs) and the kernel distance KID (Bińkowski et al. 2018), unbiased, which
does not need many samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artlib.errors import ArtlibError
from artlib.checks import positive_int, seed_value

__all__ = ["frechet_distance", "kernel_distance"]


def _as_features(features: Any, name: str) -> np.ndarray:
    """Check an (N, D) feature matrix with N ≥ 2 and return it as float64.

    Raises:
        ArtlibError: not 2-D, fewer than 2 rows, no columns, not numbers, or NaN/inf.
    """
    arr = np.asarray(features)
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ArtlibError(f"{name} must be an (N, D) array of features with N ≥ 2; got shape {arr.shape}.")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ArtlibError(f"{name} must hold real numbers; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ArtlibError(f"{name} holds NaN or infinite values.")
    return arr


def _feature_pair(features_a: Any, features_b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both feature sets checked, as float64, and of the same width (else an ArtlibError)."""
    a = _as_features(features_a, "features_a")
    b = _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ArtlibError(f"features_a and features_b must have the same width; got {a.shape[1]} and {b.shape[1]}.")
    return a, b


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (negative rounding clipped)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """Fréchet distance between Gaussians fitted to two sets of features.

    d² = ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½), the recipe of FID (Heusel et al.
    2017). On artlib's classifier features call it "Fréchet distance on
    classifier features", not FID: FID uses Inception-v3 features, and the
    numbers are on a different scale. It is biased upwards for small sets, so
    compare values computed from the same number of samples.

    ``Tr (Σa Σb)^½`` is computed as ``Tr (Σa^½ Σb Σa^½)^½`` with symmetric
    eigen-decompositions (``numpy.linalg.eigh``), which stays real and finite
    where ``scipy.linalg.sqrtm(Σa @ Σb)`` can return complex values or fail on
    singular, ill-conditioned covariances (e.g. features that are always 0);
    both agree wherever ``sqrtm`` is well-behaved (tested).

    Args:
        features_a: (N, D) features of one set (N ≥ 2), e.g. of samples.
        features_b: (M, D) features of the other set (M ≥ 2), e.g. of real images.

    Returns:
        A float ≥ 0; 0 for identical sets.

    Raises:
        ArtlibError: not 2-D, fewer than 2 rows, different widths, or NaN/inf.

    Example:
        >>> a = np.random.default_rng(0).normal(size=(5000, 2))
        >>> round(frechet_distance(a, a + [3.0, 4.0]), 1)  # shifted means: ‖Δμ‖² = 25
        25.0
    """
    a, b = _feature_pair(features_a, features_b)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))  # (D, D)
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _sqrt_psd(cov_a)
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)  # eigenvalues of Σa^½ Σb Σa^½ = those of Σa Σb
    trace_sqrt = float(np.sum(np.sqrt(np.clip(cross, 0.0, None))))
    distance = float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt)
    return max(distance, 0.0)  # rounding can give -1e-12 for identical sets


def kernel_distance(
    features_a: Any,
    features_b: Any,
    *,
    num_subsets: int = 10,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel distance (KID): unbiased squared MMD with a cubic polynomial kernel.

    k(x, y) = (x·y / D + 1)³ (Bińkowski et al. 2018, "Demystifying MMD GANs").
    For each of ``num_subsets`` random subsets of m = ``min(subset_size, N, M)``
    rows from each side (without replacement)::

        MMD² = Σ_{i≠j} k(a_i, a_j) / (m(m−1)) + Σ_{i≠j} k(b_i, b_j) / (m(m−1)) − 2 Σ_{i,j} k(a_i, b_j) / m²

    Unlike the Fréchet distance it is unbiased, so small sets give the right
    value on average (it can be slightly negative when the sets match).

    Args:
        features_a: (N, D) features, N ≥ 2.
        features_b: (M, D) features, M ≥ 2.
        num_subsets: How many random subsets to average (≥ 1).
        subset_size: Rows per subset (≥ 2; capped at N and M).
        seed: Seeds the subset choice.

    Returns:
        ``(mean, std)`` of MMD² over the subsets.

    Raises:
        ArtlibError: bad features (as :func:`frechet_distance`), ``num_subsets < 1``
            or ``subset_size < 2``.
    """
    seed = seed_value(seed)
    a, b = _feature_pair(features_a, features_b)
    num_subsets = positive_int(num_subsets, "num_subsets")
    subset_size = positive_int(subset_size, "subset_size", minimum=2)
    width = a.shape[1]
    m = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(num_subsets):
        x = a[rng.choice(len(a), m, replace=False)]  # (m, D)
        y = b[rng.choice(len(b), m, replace=False)]
        k_xx = (x @ x.T / width + 1.0) ** 3  # (m, m)
        k_yy = (y @ y.T / width + 1.0) ** 3
        k_xy = (x @ y.T / width + 1.0) ** 3
        off_diagonal = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values.append(off_diagonal - 2.0 * k_xy.mean())
    return float(np.mean(values)), float(np.std(values))
