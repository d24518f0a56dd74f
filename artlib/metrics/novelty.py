"""Fidelity, diversity and class ambiguity of samples: precision, recall, density, coverage, class entropy.

The Fréchet distance and KID (:mod:`artlib.metrics.distances`) fold "how real do the
samples look" and "how much of the real data do they cover" into one number.
:func:`prdc` keeps them apart with k-nearest-neighbour balls in feature space:

* **precision** and **recall** (Kynkäänniemi et al. 2019, "Improved Precision and
  Recall Metric for Assessing Generative Models"): the share of samples that fall
  near real data, and the share of real data that falls near the samples;
* **density** and **coverage** (Naeem et al. 2020, "Reliable Fidelity and Diversity
  Metrics for Generative Models"): the same two questions asked in a way that
  outliers do not fool.

Each point's ball reaches its k-th nearest *other* point of its own set (:func:`knn_radii`).
:func:`class_entropy` measures how unsure a classifier is of the samples' classes —
what a creative adversarial network rewards: 0 when every sample is clearly of one
class, ln C (ln 10 ≈ 2.303 for Fashion-MNIST) when the classifier cannot tell at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artlib.checks import positive_int
from artlib.errors import ArtlibError
from artlib.metrics.distances import _as_features
from artlib.metrics.neighbours import nearest_neighbours

__all__ = ["PRDC_K", "knn_radii", "prdc", "class_entropies", "class_entropy"]

#: Neighbours per ball: the default of Naeem et al. 2020 (Kynkäänniemi et al. 2019 use 3).
PRDC_K = 5
_BLOCK_ENTRIES = 1 << 21  # real × fake distances per float64 block in prdc (16 MB at a time)
_EXACT_PAIRS = 1 << 15  # pairs per exact re-check of a distance near a ball's edge
_RADIUS_QUERIES = 256  # queries per nearest_neighbours block in knn_radii (under 80 MB for 10,000 points)
_PROBABILITY_TOLERANCE = 1e-3  # how far a row of probabilities may sum from 1


def _check_k(k: Any, sizes: dict[str, int]) -> int:
    """``k`` as an int, if each set has at least k + 1 points (else an ArtlibError naming the smallest)."""
    k = positive_int(k, "k")
    name, size = min(sizes.items(), key=lambda item: item[1])
    if k > size - 1:
        raise ArtlibError(
            f"k must be at most the number of rows of {name} minus one ({size - 1}), since each ball reaches "
            f"a point's k-th nearest other point; got k={k}. Pass a smaller k or more points."
        )
    return k


def knn_radii(features: Any, k: int = PRDC_K) -> np.ndarray:
    """Each point's distance to its k-th nearest other point of the same set: the radius of its k-NN ball.

    The point itself does not count (a duplicate does, at distance 0). Compute
    the real set's radii once and pass them to :func:`prdc` as ``real_radii``
    when the same real set meets many sets of samples.

    Args:
        features: (N, D) features, N ≥ k + 1.
        k: Which neighbour sets the radius (1 ≤ k ≤ N − 1).

    Returns:
        float64 (N,) euclidean distances.

    Raises:
        ArtlibError: not (N, D), NaN/inf, or k outside 1 … N − 1.

    Example:
        >>> knn_radii(np.array([[0.0], [1.0], [3.0]]), k=1)
        array([1., 1., 2.])
    """
    x = _as_features(features, "features")
    k = _check_k(k, {"features": len(x)})
    distances, _ = nearest_neighbours(x, x, k=k + 1, batch_size=_RADIUS_QUERIES)  # (N, k + 1): itself first, at 0
    return distances[:, k]


def _check_radii(radii: Any, count: int) -> np.ndarray:
    """``real_radii`` as float64 (count,), finite and ≥ 0 (else an ArtlibError)."""
    arr = np.asarray(radii)
    if arr.shape != (count,) or not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) \
            or np.any(arr < 0):
        raise ArtlibError(
            f"real_radii must be {count} finite distances ≥ 0, one per real point (from knn_radii with the "
            f"same k); got shape {arr.shape} and dtype {arr.dtype}."
        )
    return arr.astype(np.float64)


def prdc(real_features: Any, fake_features: Any, *, k: int = PRDC_K, real_radii: Any = None) -> dict[str, float]:
    """Precision, recall, density and coverage of fake points against real ones, with k-NN balls.

    B(x, r) is the open ball around x whose radius r is x's distance to its
    k-th nearest other point of its own set (:func:`knn_radii`). With N real
    points r_i and M fake points f_j (Naeem et al. 2020, their eq. 1–4)::

        precision = (1/M) Σ_j 1[f_j is in at least one real ball]      fidelity: do samples look real?
        recall    = (1/N) Σ_i 1[r_i is in at least one fake ball]      diversity: is all real data reached?
        density   = (1/(kM)) Σ_j Σ_i 1[f_j ∈ B(r_i, radius_i)]         fidelity that counts the balls
        coverage  = (1/N) Σ_i 1[some f_j ∈ B(r_i, radius_i)]           diversity that ignores fake outliers

    Precision, recall and coverage lie in [0, 1]; density is about 1 when both
    sets come from one distribution and can exceed 1 when samples crowd
    around a few real points. A few fake outliers inflate the fake balls and
    with them recall; coverage uses only the real balls, so it is the diversity
    measure to trust (Naeem et al.). Balls are open (``<``, as in Naeem et al.'s
    code; Kynkäänniemi et al. write ≤, which differs only on ties): for two
    identical sets of distinct points precision, recall and coverage are 1 and
    density is exactly 1.

    Distances are computed in float64 in blocks of at most 2²¹ real × fake
    pairs (16 MB), so 10,000 × 10,000 points are fine; pairs within rounding
    of a ball's edge are re-checked exactly, so the result equals a brute-force
    NumPy computation.

    Args:
        real_features: (N, D) features of real images, N ≥ k + 1.
        fake_features: (M, D) features of samples, M ≥ k + 1.
        k: Neighbours per ball (1 ≤ k ≤ min(N, M) − 1); 5 as in Naeem et al.
        real_radii: ``knn_radii(real_features, k)`` computed earlier, to skip
            that search; None computes it.

    Returns:
        ``{"precision", "recall", "density", "coverage"}``, floats.

    Raises:
        ArtlibError: features not (N, D) or with NaN/inf, different widths, a
            k outside 1 … min(N, M) − 1, or ``real_radii`` of the wrong shape.

    Example:
        >>> real = np.random.default_rng(0).normal(size=(500, 8))
        >>> scores = prdc(real, real + 100.0)  # far from every real point
        >>> scores["precision"], scores["coverage"]
        (0.0, 0.0)
    """
    real = _as_features(real_features, "real_features")
    fake = _as_features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ArtlibError(f"real_features and fake_features must have the same width; "
                          f"got {real.shape[1]} and {fake.shape[1]}.")
    k = _check_k(k, {"real_features": len(real), "fake_features": len(fake)})
    real_radii = knn_radii(real, k) if real_radii is None else _check_radii(real_radii, len(real))
    fake_radii = knn_radii(fake, k)

    center = real.mean(axis=0)  # centring shrinks the norms, and so the rounding of |a|² − 2a·b + |b|²
    real_c, fake_c = real - center, fake - center
    real_sq, fake_sq = np.einsum("ij,ij->i", real_c, real_c), np.einsum("ij,ij->i", fake_c, fake_c)
    real_r2, fake_r2 = real_radii**2, fake_radii**2
    # |computed − true| of a squared distance stays below (D + 2)·eps·(|a|² + |b|²); allow 8× that.
    margin = 8 * (real.shape[1] + 2) * np.finfo(np.float64).eps * (real_sq.max() + fake_sq.max())

    fake_in_real_ball = np.zeros(len(fake), bool)  # precision
    balls_per_fake = np.zeros(len(fake), np.int64)  # density
    real_covered = np.empty(len(real), bool)  # coverage
    real_in_fake_ball = np.empty(len(real), bool)  # recall
    rows = max(1, _BLOCK_ENTRIES // len(fake))
    for start in range(0, len(real), rows):
        stop = min(start + rows, len(real))
        squared = real_c[start:stop] @ fake_c.T  # (B, M) squared distances, built in place
        squared *= -2.0
        squared += real_sq[start:stop, None]
        squared += fake_sq[None, :]
        edge_r2 = real_r2[start:stop, None]  # (B, 1)
        in_real = squared < edge_r2  # (B, M): fake j in the ball of real i
        in_fake = squared < fake_r2[None, :]  # (B, M): real i in the ball of fake j
        unsure = ((squared > edge_r2 - margin) & (squared < edge_r2 + margin)) \
            | ((squared > fake_r2 - margin) & (squared < fake_r2 + margin))
        near_i, near_j = np.nonzero(unsure)  # pairs too close to an edge to trust the matrix product
        for at in range(0, len(near_i), _EXACT_PAIRS):
            i, j = near_i[at : at + _EXACT_PAIRS], near_j[at : at + _EXACT_PAIRS]
            exact = np.linalg.norm(real[start + i] - fake[j], axis=1)  # (P,) as knn_radii measures
            in_real[i, j] = exact < real_radii[start + i]
            in_fake[i, j] = exact < fake_radii[j]
        fake_in_real_ball |= in_real.any(axis=0)
        balls_per_fake += in_real.sum(axis=0)
        real_covered[start:stop] = in_real.any(axis=1)
        real_in_fake_ball[start:stop] = in_fake.any(axis=1)
    return {
        "precision": float(fake_in_real_ball.mean()),
        "recall": float(real_in_fake_ball.mean()),
        "density": float(balls_per_fake.sum() / (k * len(fake))),
        "coverage": float(real_covered.mean()),
    }


def class_entropies(probabilities: Any) -> np.ndarray:
    """The Shannon entropy (nats) of each row of class probabilities: how unsure the classifier is.

    H = −Σ_c p_c ln p_c, with p clipped at 1e-12 inside the logarithm (so a
    one-hot row gives exactly 0). It runs from 0 (certain of one class) to
    ln C for the uniform row (ln 10 ≈ 2.303 over the ten Fashion-MNIST
    classes); divide by ln C for a share of the maximum.

    Args:
        probabilities: (N, C) class probabilities (e.g. a softmax), N ≥ 2,
            C ≥ 2, each row ≥ 0 and summing to 1 (within 1e-3).

    Returns:
        float64 (N,) entropies in nats.

    Raises:
        ArtlibError: not (N, C) with N ≥ 2 and C ≥ 2, NaN/inf, negative values,
            or a row that does not sum to 1.

    Example:
        >>> class_entropies(np.array([[1.0, 0.0], [0.5, 0.5]])).round(4)  # certain; a coin toss
        array([0.    , 0.6931])
    """
    p = _as_features(probabilities, "probabilities")  # (N, C) float64, finite, N ≥ 2
    if p.shape[1] < 2 or np.any(p < 0):
        raise ArtlibError(f"probabilities must be ≥ 0, with at least 2 classes (columns); got shape {p.shape} "
                          f"and smallest value {p.min():.6g}.")
    sums = p.sum(axis=1)  # (N,)
    worst = int(np.argmax(np.abs(sums - 1.0)))
    if abs(sums[worst] - 1.0) > _PROBABILITY_TOLERANCE:
        raise ArtlibError(f"each row of probabilities must sum to 1 (a softmax, not logits); "
                          f"row {worst} sums to {sums[worst]:.6g}.")
    return np.sum(p * -np.log(np.clip(p, 1e-12, None)), axis=1)  # (N,); one-hot rows give +0.0, not -0.0


def class_entropy(probabilities: Any) -> float:
    """The mean Shannon entropy (nats) of the samples' class probabilities (:func:`class_entropies`).

    0 when every sample is clearly of one class; ln C (ln 10 ≈ 2.303 for ten
    classes) when the classifier finds every sample equally likely to be of any
    class. Real Fashion-MNIST test images score low (the classifier is mostly
    sure); samples made to be ambiguous, as a creative adversarial network's
    are, score high.

    Args:
        probabilities: (N, C) class probabilities, as :func:`class_entropies` takes them.

    Returns:
        A float in [0, ln C].

    Raises:
        ArtlibError: as :func:`class_entropies`.
    """
    return float(class_entropies(probabilities).mean())
