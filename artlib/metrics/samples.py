"""Measuring generated 28×28 samples: quality, coverage and novelty, in one report.

* quality: the Fréchet distance and KID (:mod:`artlib.metrics.distances`) between the
  samples' classifier features and those of real images the generator never saw, and
  precision, recall, density and coverage in that feature space (:mod:`artlib.metrics.novelty`);
* coverage: how many of the ten classes the samples fall into, how confidently, and how
  unsure the classifier is of their classes (class entropy);
* novelty: each sample's nearest training image, in pixels and in features, and the
  share of samples that are near-copies of a training image.

:class:`~artlib.metrics.memo.SampleMemo` lets a caller who measures again and again (once per epoch, once
per model) keep the expensive parts — the training and reference images' features, the
near-copy threshold and the reference images' k-NN radii — between calls, by passing it
as ``memo=``; nothing is kept without one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from artlib.errors import ArtlibError
from artlib.checks import positive_float, positive_int, seed_value
from artlib.metrics.classifier import classifier_outputs, fashion_batch, load_fashion_classifier
from artlib.metrics.distances import frechet_distance, kernel_distance
from artlib.metrics.memo import SampleMemo
from artlib.metrics.neighbours import nearest_neighbours
from artlib.metrics.novelty import PRDC_K, class_entropy, knn_radii, prdc

__all__ = [
    "CONFIDENT_PROBABILITY",
    "COVERED_SHARE",
    "NEAR_COPY_PERCENTILE",
    "near_copy_threshold",
    "sample_report",
    "timed_report",
    "neighbour_rows",
]

#: A sample is "confidently" of class k when the classifier gives k at least this probability.
CONFIDENT_PROBABILITY = 0.5
#: A class is covered when at least this share of all samples is confidently of that class
#: (under a third of its fair share, 1/10, on the balanced Fashion-MNIST: a classifier that
#: confuses shirts with T-shirts still finds every class in real test images).
COVERED_SHARE = 0.03
#: Near-copy threshold: this percentile of real unseen images' distances to their nearest
#: training image, so that about 1 % of real test images count as near-copies.
NEAR_COPY_PERCENTILE = 1.0
_NEAR_COPY_CALIBRATION_SIZE = 1000  # reference images used to calibrate the threshold


def _pixel_neighbours(images: Any, train_images: Any) -> tuple[np.ndarray, np.ndarray]:
    """Nearest training image of each image in pixel space (pixels in [0, 1]).

    uint8 training images are searched as they are (0–255, with the queries scaled
    to match): no float copy of 60,000 images is made.

    Args:
        images: The queries, as :func:`~artlib.metrics.fashion_batch` takes them.
        train_images: The training images, likewise.

    Returns:
        ``(distances, indices)``: float64 (N,) euclidean distances over the 784
        pixels in [0, 1], and int64 (N,) indices into ``train_images``.
    """
    queries = fashion_batch(images, "images")
    queries = queries.reshape(len(queries), -1)  # (N, 28, 28, 1) → (N, 784)
    train = fashion_batch(train_images, "train_images", keep_uint8=True)
    train = train.reshape(len(train), -1)  # (M, 28, 28, 1) → (M, 784)
    if train.dtype == np.uint8:
        distances, indices = nearest_neighbours(queries * np.float32(255), train)
        return distances[:, 0] / 255.0, indices[:, 0]
    distances, indices = nearest_neighbours(queries, train)
    return distances[:, 0], indices[:, 0]


def near_copy_threshold(
    train_images: Any,
    reference_images: Any,
    *,
    percentile: float = NEAR_COPY_PERCENTILE,
    max_images: int = _NEAR_COPY_CALIBRATION_SIZE,
    seed: int = 0,
) -> float:
    """The pixel distance below which a sample counts as a near-copy of a training image.

    It is the ``percentile``-th percentile of the distances from real images
    the model never saw (``reference_images``, e.g. the test set; up to
    ``max_images`` of them, chosen with ``seed``) to their nearest training
    image: with the default 1, only 1 % of real unseen images are that close
    to a training image. Distances are euclidean over the 784 pixels in [0, 1].

    Args:
        train_images: ``N×28×28`` training images (uint8 or float in [0, 1]).
        reference_images: ``M×28×28`` real images that are not in the training set.
        percentile: In (0, 100).
        max_images: How many reference images to use at most (≥ 1).
        seed: Chooses them.

    Returns:
        The threshold, a float ≥ 0.

    Raises:
        ArtlibError: bad images, a percentile outside (0, 100) or a non-positive ``max_images``.
    """
    seed = seed_value(seed)
    if isinstance(percentile, bool) or not isinstance(percentile, (int, float, np.number)) \
            or not 0 < percentile < 100:
        raise ArtlibError(f"percentile must be between 0 and 100; got {percentile!r}.")
    max_images = positive_int(max_images, "max_images")
    references = fashion_batch(reference_images, "reference_images", keep_uint8=True)  # (M, 28, 28, 1)
    if len(references) > max_images:
        references = references[np.random.default_rng(seed).choice(len(references), max_images, replace=False)]
    distances, _ = _pixel_neighbours(references, train_images)
    return float(np.percentile(distances, percentile))


def sample_report(
    images: Any,
    train_images: Any,
    *,
    classifier: Any = None,
    reference_images: Any = None,
    seed: int = 0,
    near_copy_distance: float | None = None,
    memo: SampleMemo | None = None,
) -> dict[str, Any]:
    """Measure a set of generated images: quality, coverage, confidence and novelty.

    * **Quality**: ``"frechet"`` (Fréchet distance on classifier features) and
      ``"kid"`` ± ``"kid_std"`` (kernel distance), both against
      ``reference_images``; lower is closer to real images. The Fréchet
      distance depends on the number of samples: compare equal counts.
    * **Fidelity and diversity** in the same feature space (:func:`~artlib.metrics.novelty.prdc`,
      k = :data:`~artlib.metrics.novelty.PRDC_K` = 5): ``"precision"`` (share
      of samples near real images), ``"recall"`` (share of real images near
      the samples), ``"density"`` (about 1 for real images, above 1 when
      samples crowd around a few real images) and ``"coverage"`` (share of
      real images with a sample among their k nearest neighbours: Naeem et
      al.'s feature-space coverage, not ``"class_coverage"``). The real set is
      a subset of the reference images of the samples' size (all of them if
      there are fewer), chosen with ``seed``, so reports with equal sample
      counts share it. With fewer than k + 1 samples (or reference images) k
      shrinks to that count − 1 (rough numbers); ``"prdc_k"`` says which k was used.
    * **Coverage**: ``"class_histogram"``, the share of samples whose most
      probable class is k (a collapsed generator piles up in a few bins);
      ``"class_coverage"``, the share of the 10 classes that are covered: at
      least :data:`COVERED_SHARE` (3 %) of all samples are classified as that
      class with probability ≥ :data:`CONFIDENT_PROBABILITY` (0.5);
      ``"confidence"``, the mean of the highest class probability;
      ``"class_entropy"``, the mean entropy of the class probabilities in nats
      (:func:`~artlib.metrics.novelty.class_entropy`: 0 when the classifier is
      sure of every sample, ln 10 ≈ 2.303 when it cannot tell at all).
    * **Novelty**: each sample's nearest training image in pixels
      (``"nn_indices_pixel"``, mean distance ``"pixel_nn_distance"``) and in
      classifier features (``"nn_indices_feature"``, ``"feature_nn_distance"``).
      A sample is a **near-copy** when it is closer (in pixels) to a training
      image than all but 1 % of real test images are to theirs
      (:func:`near_copy_threshold`, stored as ``"near_copy_distance"``);
      ``"near_copy_share"`` is the share of near-copies. Real unseen images
      score about 0.01; a generator that memorised its training set scores near 1.

    Args:
        images: The samples, ``N×28×28`` (or ``×1``), uint8 or float in [0, 1]
            (N ≥ 2; a few hundred or more for stable numbers).
        train_images: The images the generator was trained on.
        classifier: Default: :func:`load_fashion_classifier`'s shipped model.
        reference_images: Real images the generator never saw; default the
            Fashion-MNIST test set from :func:`artlib.data.load_fashion_mnist`.
        seed: Seeds KID's subsets, the threshold's calibration images and the
            real images that precision, recall, density and coverage compare with.
        near_copy_distance: Use this pixel distance (> 0) as the near-copy
            threshold instead of calibrating it on ``reference_images``.
        memo: A :class:`SampleMemo` that keeps the training and reference
            features, the threshold and the real images' k-NN radii for the next
            call; None computes everything.

    Returns:
        A dict with the floats ``"frechet"``, ``"kid"``, ``"kid_std"``,
        ``"precision"``, ``"recall"``, ``"density"``, ``"coverage"``,
        ``"class_coverage"``, ``"confidence"``, ``"class_entropy"``, ``"near_copy_share"``,
        ``"near_copy_distance"``, ``"pixel_nn_distance"``, ``"feature_nn_distance"``,
        the ints ``"num_samples"``, ``"num_reference"`` (the real images the distances are to: 10,000 for
        Fashion-MNIST's test set, 1,000 where only the shipped subset was found) and ``"prdc_k"``, the arrays
        ``"class_histogram"`` (10,),
        ``"nn_indices_pixel"`` (N,), ``"nn_indices_feature"`` (N,),
        ``"nn_distances_pixel"`` (N,) and ``"nn_distances_feature"`` (N,).

    Raises:
        ArtlibError: bad images (shape, dtype, range), fewer than 2 samples, or a
            ``near_copy_distance`` that is not a positive number.
        DataError: no classifier given and the shipped one is missing or corrupt.
    """
    seed = seed_value(seed)
    samples = fashion_batch(images)  # (N, 28, 28, 1) float32 in [0, 1]
    if len(samples) < 2:
        raise ArtlibError(f"sample_report needs at least 2 images; got {len(samples)}.")
    train = fashion_batch(train_images, "train_images", keep_uint8=True)  # (M, 28, 28, 1)
    if reference_images is not None:
        reference_images = fashion_batch(reference_images, "reference_images", keep_uint8=True)
    if near_copy_distance is not None:
        near_copy_distance = positive_float(near_copy_distance, "near_copy_distance")
    shipped = classifier is None  # the shipped classifier: remembered by name, so a memo serves every call
    if shipped:
        classifier = load_fashion_classifier(verbose=False) if memo is None else \
            memo.get(("classifier", "shipped"), None, lambda: load_fashion_classifier(verbose=False))
    if reference_images is None:
        from artlib import data

        (_, _), (test_images, _) = data.load_fashion_mnist(verbose=False)
        reference_images = fashion_batch(test_images, "reference_images", keep_uint8=True)
    reference = reference_images  # (R, 28, 28, 1)

    def remember(key: tuple, owner: Any, compute: Callable[[], Any]) -> Any:
        return compute() if memo is None else memo.get(key, owner, compute)

    def features_of(batch: np.ndarray) -> np.ndarray:
        key = ("features", "shipped" if shipped else id(classifier), SampleMemo.fingerprint(batch))
        return remember(key, None if shipped else classifier, lambda: classifier_outputs(classifier, batch)[0])

    sample_features, probabilities = classifier_outputs(classifier, samples)  # (N, D), (N, 10)
    train_features = features_of(train)  # (M, D)
    reference_features = features_of(reference)
    kid, kid_std = kernel_distance(sample_features, reference_features, seed=seed)
    real_count = min(len(samples), len(reference_features))  # the real set is as large as the samples
    chosen = np.random.default_rng(seed).permutation(len(reference_features))[:real_count]
    real_features = reference_features[chosen]  # (n, D)
    k = min(PRDC_K, real_count - 1, len(samples) - 1)  # ≥ 1: kernel_distance needs 2 of each
    key = ("radii", "shipped" if shipped else id(classifier), SampleMemo.fingerprint(reference), real_count, seed, k)
    real_radii = remember(key, None if shipped else classifier, lambda: knn_radii(real_features, k))
    fidelity = prdc(real_features, sample_features, k=k, real_radii=real_radii)

    confident = probabilities.max(axis=1) >= CONFIDENT_PROBABILITY  # (N,)
    predicted = probabilities.argmax(axis=1)  # (N,)
    histogram = np.bincount(predicted, minlength=10) / len(samples)  # (10,)
    confident_share = np.bincount(predicted[confident], minlength=10) / len(samples)  # (10,)

    if near_copy_distance is None:
        key = ("threshold", SampleMemo.fingerprint(train), SampleMemo.fingerprint(reference), seed)
        near_copy_distance = remember(key, None, lambda: near_copy_threshold(train, reference, seed=seed))
    pixel_d, pixel_i = _pixel_neighbours(samples, train)  # (N,), (N,)
    feature_d, feature_i = nearest_neighbours(sample_features, train_features)  # (N, 1), (N, 1)
    return {
        "num_samples": len(samples),
        "num_reference": len(reference),
        "frechet": frechet_distance(sample_features, reference_features),
        "kid": kid,
        "kid_std": kid_std,
        **fidelity,
        "prdc_k": k,
        "class_coverage": float(np.mean(confident_share >= COVERED_SHARE)),
        "confidence": float(probabilities.max(axis=1).mean()),
        "class_entropy": class_entropy(probabilities),
        "class_histogram": histogram,
        "near_copy_share": float(np.mean(pixel_d < near_copy_distance)),
        "near_copy_distance": float(near_copy_distance),
        "pixel_nn_distance": float(pixel_d.mean()),
        "feature_nn_distance": float(feature_d.mean()),
        "nn_indices_pixel": pixel_i,
        "nn_indices_feature": feature_i[:, 0],
        "nn_distances_pixel": pixel_d,
        "nn_distances_feature": feature_d[:, 0],
    }


def timed_report(draw: Callable[[int], Any], count: int, train_images: Any, *, warm_up: int = 0,
                 **report_options: Any) -> tuple[np.ndarray, float, dict[str, Any]]:
    """Draw ``count`` samples with ``draw``, time the drawing, and measure the samples with :func:`sample_report`.

    How the notebooks and ``benchmarks/generative_benchmark.py`` put samplers side by side: the same
    count, the same reference images, one report each.

    Args:
        draw: ``draw(k)`` returns ``k`` images (a sampler with its settings bound, e.g.
            ``lambda k: gan.sample(generator, k, seed=0)``).
        count: How many samples to draw and measure (≥ 1).
        train_images: The training set, as for :func:`sample_report`.
        warm_up: Draw this many first, untimed (the first call traces the sampler's graphs);
            0 times everything, tracing included.
        **report_options: :func:`sample_report`'s keyword arguments (``reference_images=``, ``memo=``, ``seed=`` …).

    Returns:
        ``(images, seconds per image, report)``.

    Raises:
        ArtlibError: ``count`` below 1 or a negative ``warm_up``; and what :func:`sample_report` raises.
    """
    count = positive_int(count, "count")
    warm_up = positive_int(warm_up, "warm_up", minimum=0)
    if warm_up:
        draw(warm_up)
    start = time.perf_counter()
    images = np.asarray(draw(count))
    seconds = (time.perf_counter() - start) / count
    return images, seconds, sample_report(images, train_images, **report_options)


def neighbour_rows(
    images: Any,
    train_images: Any,
    report: dict[str, Any] | None = None,
    *,
    count: int = 8,
    order: str = "first",
) -> dict[str, np.ndarray]:
    """Rows for ``artlib.plotting.compare_rows``: samples above their nearest training images.

    Example:
        >>> report = sample_report(samples, x_train)  # doctest: +SKIP
        >>> plotting.compare_rows(neighbour_rows(samples, x_train, report, order="closest"))  # doctest: +SKIP

    Args:
        images: The samples, as given to :func:`sample_report`.
        train_images: The training images, as given to :func:`sample_report`.
        report: Its result; without one, only the pixel-space neighbours are
            searched (no classifier needed).
        count: How many samples (columns) to show at most.
        order: ``"first"`` (the first ``count`` samples), ``"closest"`` (the most
            copy-like: smallest pixel distance first) or ``"farthest"``.

    Returns:
        ``{"sample": (count, 28, 28), "nearest in pixels": …, "nearest in features": …}``
        (the last row only with a ``report``), float32 pixels in [0, 1].

    Raises:
        ArtlibError: bad images, ``count < 1``, an unknown ``order``, or a report
            for another number of samples.
    """
    samples = fashion_batch(images)[..., 0]  # (N, 28, 28)
    train = fashion_batch(train_images, "train_images", keep_uint8=True)  # (M, 28, 28, 1)
    count = positive_int(count, "count")
    if order not in ("first", "closest", "farthest"):
        raise ArtlibError(f"order must be 'first', 'closest' or 'farthest'; got {order!r}.")
    if report is None:
        (pixel_d, pixel_i), feature_i = _pixel_neighbours(samples, train), None
    else:
        pixel_d, pixel_i = report["nn_distances_pixel"], report["nn_indices_pixel"]
        feature_i = report["nn_indices_feature"]
        if len(pixel_i) != len(samples):
            raise ArtlibError(f"report is for {len(pixel_i)} samples but images holds {len(samples)}.")
    if order == "first":
        chosen = np.arange(len(samples))
    else:
        chosen = np.argsort(pixel_d, kind="stable")
        chosen = chosen if order == "closest" else chosen[::-1]
    chosen = chosen[:count]
    rows = {
        "sample": samples[chosen],
        "nearest in pixels": fashion_batch(train[pixel_i[chosen]], "train_images")[..., 0],
    }
    if feature_i is not None:
        rows["nearest in features"] = fashion_batch(train[feature_i[chosen]], "train_images")[..., 0]
    return rows
