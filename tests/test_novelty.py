"""Tests for artlib.metrics.novelty: precision, recall, density, coverage and class entropy.

Each measure is checked against a brute-force NumPy version written here (the full
distance matrix by broadcasting, then explicit loops over the definitions of
Kynkäänniemi et al. 2019 and Naeem et al. 2020), on cases whose answer is known, and
inside ``sample_report`` on real test images against noise.
"""

import math

import numpy as np
import pytest
import scipy.stats

from artlib import data as artlib_data
from artlib import metrics
from artlib.errors import ArtlibError


def _brute_radii(points, k):
    """Distance of each point to its k-th nearest other point: full matrix, self excluded."""
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)  # (N, N)
    np.fill_diagonal(distances, np.inf)
    return np.sort(distances, axis=1)[:, k - 1]


def _brute_prdc(real, fake, k):
    """The four definitions, one loop each, over the full real × fake distance matrix."""
    real_radii, fake_radii = _brute_radii(real, k), _brute_radii(fake, k)
    distances = np.linalg.norm(real[:, None] - fake[None], axis=-1)  # (N, M)
    n, m = distances.shape
    precision = sum(any(distances[i, j] < real_radii[i] for i in range(n)) for j in range(m)) / m
    recall = sum(any(distances[i, j] < fake_radii[j] for j in range(m)) for i in range(n)) / n
    density = sum(distances[i, j] < real_radii[i] for i in range(n) for j in range(m)) / (k * m)
    coverage = sum(any(distances[i, j] < real_radii[i] for j in range(m)) for i in range(n)) / n
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_prdc_matches_brute_force(seed, k):
    rng = np.random.default_rng(seed)
    width = 2 + seed  # 2 … 5 features
    real = rng.normal(size=(60, width))  # continuous random points: no ties
    fake = rng.normal(0.4, 1.3, size=(45, width)).astype(np.float32)  # another distribution, and float32
    scores = metrics.prdc(real, fake, k=k)
    expected = _brute_prdc(real, fake.astype(np.float64), k)
    assert set(scores) == {"precision", "recall", "density", "coverage"}
    assert all(type(value) is float for value in scores.values())
    assert scores == pytest.approx(expected, rel=1e-12)
    assert 0 < scores["precision"] < 1 and 0 < scores["coverage"] < 1  # the sets overlap only in part


def test_prdc_exact_at_ball_edges():
    """Points on a shifted grid tie at the edges of many balls: the result still equals the brute force."""
    rng = np.random.default_rng(7)
    real = rng.integers(0, 4, (70, 3)) * 0.1 + 1000.0  # far from 0: the matrix product rounds
    fake = rng.integers(0, 4, (50, 3)) * 0.1 + 1000.0
    for k in (2, 6):
        assert metrics.prdc(real, fake, k=k) == pytest.approx(_brute_prdc(real, fake, k), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_knn_radii_match_brute_force_and_can_be_reused(seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.normal(size=(80, 4)), rng.normal(size=(30, 4))
    radii = metrics.knn_radii(real, 3)
    assert radii.shape == (80,) and radii.dtype == np.float64
    np.testing.assert_allclose(radii, _brute_radii(real, 3), rtol=1e-12)
    assert metrics.knn_radii(real) == pytest.approx(_brute_radii(real, metrics.PRDC_K), rel=1e-12)  # default k 5
    assert metrics.prdc(real, fake, k=3, real_radii=radii) == metrics.prdc(real, fake, k=3)
    # Radii given are used as given: all zero, no real ball holds anything.
    zero = metrics.prdc(real, fake, k=3, real_radii=np.zeros(80))
    assert zero["precision"] == zero["density"] == zero["coverage"] == 0.0
    np.testing.assert_array_equal(metrics.knn_radii(np.array([[0.0], [1.0], [3.0]]), 1), [1.0, 1.0, 2.0])


def test_prdc_identical_and_far_apart_sets():
    real = np.random.default_rng(3).normal(size=(200, 6))
    same = metrics.prdc(real, real.copy())
    # Each real ball (open) holds the point itself and its k − 1 nearer neighbours: k fakes per ball.
    assert same == {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}
    far = metrics.prdc(real, real + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_density_exceeds_one_when_samples_crowd_one_real_point():
    """A real point at the centre of five: every ball holds it, so fakes piled on it score density 6 / k = 3."""
    angles = 2 * np.pi * np.arange(5) / 5
    real = np.concatenate([[[0.0, 0.0]], np.stack([np.cos(angles), np.sin(angles)], axis=1)])  # (6, 2)
    fake = np.zeros((10, 2))  # ten samples, all on the centre
    scores = metrics.prdc(real, fake, k=2)  # each rim point's 2nd neighbour: a rim point 1.18 away
    assert scores["density"] == pytest.approx(3.0)
    assert scores["precision"] == 1.0 and scores["coverage"] == 1.0
    assert scores["recall"] == 0.0  # the piled-up fakes' balls have radius 0: they reach nothing
    assert scores == pytest.approx(_brute_prdc(real, fake, 2))


def test_class_entropy_known_values_and_scipy():
    one_hot = np.eye(10)[[3, 1, 4, 1, 5]]  # (5, 10)
    assert metrics.class_entropy(one_hot) == 0.0 and not np.signbit(metrics.class_entropies(one_hot)).any()
    uniform = np.full((4, 10), 0.1)
    assert metrics.class_entropy(uniform) == pytest.approx(math.log(10), rel=1e-12)
    probabilities = np.random.default_rng(4).dirichlet(np.full(10, 0.3), size=50)  # (50, 10), some near 0
    per_sample = metrics.class_entropies(probabilities)
    assert per_sample.shape == (50,) and per_sample.dtype == np.float64
    np.testing.assert_allclose(per_sample, scipy.stats.entropy(probabilities, axis=1), rtol=1e-9, atol=1e-9)
    hand = [-sum(p * math.log(p) for p in row if p > 0) for row in probabilities]
    assert metrics.class_entropy(probabilities) == pytest.approx(np.mean(hand), rel=1e-9)
    assert 0 < metrics.class_entropy(probabilities) < math.log(10)
    assert metrics.class_entropy(probabilities.astype(np.float32)) == pytest.approx(np.mean(hand), rel=1e-5)


GOOD = np.random.default_rng(5).normal(size=(12, 3))


@pytest.mark.parametrize("real, fake, kwargs, match", [
    (np.where(np.eye(12, 3) > 0, np.nan, GOOD), GOOD, {}, "real_features holds NaN"),
    (GOOD, np.full((12, 3), np.inf), {}, "fake_features holds NaN or infinite"),
    (GOOD[:, 0], GOOD, {}, r"real_features must be an \(N, D\) array"),
    (GOOD, GOOD[:, :2], {}, "same width; got 3 and 2"),
    (GOOD, GOOD[:5], {}, r"k must be at most the number of rows of fake_features minus one \(4\)"),
    (GOOD, GOOD, {"k": 12}, r"minus one \(11\)"),
    (GOOD, GOOD, {"k": 0}, "k must be a positive integer"),
    (GOOD, GOOD, {"k": 2.5}, "k must be a positive integer"),
    (GOOD, GOOD, {"real_radii": np.ones(11)}, "real_radii must be 12 finite distances"),
    (GOOD, GOOD, {"real_radii": np.full(12, np.nan)}, "real_radii must be 12 finite distances"),
    (GOOD, GOOD, {"real_radii": -np.ones(12)}, "real_radii must be 12 finite distances"),
])
def test_prdc_bad_input(real, fake, kwargs, match):
    with pytest.raises(ArtlibError, match=match):
        metrics.prdc(real, fake, **kwargs)


def test_knn_radii_and_class_entropy_bad_input():
    with pytest.raises(ArtlibError, match=r"k must be at most the number of rows of features minus one \(2\)"):
        metrics.knn_radii(np.zeros((3, 2)), k=3)
    with pytest.raises(ArtlibError, match="must hold real numbers"):
        metrics.knn_radii(np.array([["a", "b"], ["c", "d"]]), k=1)
    for bad, match in [(np.full(10, 0.1), r"probabilities must be an \(N, D\) array"),
                       (np.ones((3, 1)), "at least 2 classes"), (np.array([[0.5, np.nan]] * 2), "NaN"),
                       (np.array([[1.5, -0.5]] * 2), "≥ 0"), (np.array([[0.2, 0.2], [2.0, 3.0]]), "row 1 sums to 5"),
                       (np.array([[True, False]] * 2), "real numbers")]:
        with pytest.raises(ArtlibError, match=match):
            metrics.class_entropies(bad)


# --- in the sample report ------------------------------------------------------------------


@pytest.fixture(scope="module")
def subset():
    """The shipped Fashion-MNIST subset (uint8): the same data on every machine."""
    return artlib_data.load_fashion_mnist(sources=[artlib_data.Source("shipped-subset", artlib_data.SHIPPED_DIR)],
                                          verbose=False)


def test_sample_report_real_images_against_noise(subset):
    (x_train, _), (x_test, _) = subset
    classifier = metrics.load_fashion_classifier(verbose=False)
    train, real, reference = x_train[:300], x_test[:150], x_test[150:450]
    memo = metrics.SampleMemo()
    report = metrics.sample_report(real, train, classifier=classifier, reference_images=reference, memo=memo, seed=1)
    noise = np.random.default_rng(6).random((150, 28, 28)).astype(np.float32)
    noisy = metrics.sample_report(noise, train, classifier=classifier, reference_images=reference, memo=memo, seed=1)
    for r in (report, noisy):
        assert {"precision", "recall", "density", "coverage", "class_entropy", "class_coverage"} <= set(r)
        assert all(0.0 <= r[key] <= 1.0 for key in ("precision", "recall", "coverage"))
        assert r["density"] >= 0.0 and 0.0 <= r["class_entropy"] <= math.log(10) and r["prdc_k"] == 5
        assert (r["num_samples"], r["num_reference"]) == (150, 300)  # what the distances were measured against
    assert report["precision"] > 0.8 and report["coverage"] > 0.8 and 0.7 < report["density"] < 1.3
    # Noise collapses to one spot in feature space (measured: precision 1.0, density 0.2, coverage
    # 0.007): the spot falls in one wide real ball, so precision is fooled — the outlier problem that
    # density and coverage were made for (Naeem et al. 2020). Only those two and recall are checked.
    assert noisy["coverage"] < 0.1 and noisy["density"] < 0.5 and noisy["recall"] < 0.1
    assert noisy["class_entropy"] > report["class_entropy"]  # the classifier is less sure of noise
    # Every number is the documented function of the documented pieces: the seeded subset of the
    # reference images as large as the samples, and the classifier's probabilities.
    features, probabilities = metrics.classifier_outputs(classifier, real)
    chosen = np.random.default_rng(1).permutation(300)[:150]
    reference_features = metrics.classifier_features(classifier, reference)
    expected = metrics.prdc(reference_features[chosen], features, k=5)
    assert {key: report[key] for key in expected} == expected
    assert report["class_entropy"] == pytest.approx(metrics.class_entropy(probabilities), rel=1e-12)
    radii_keys = [key for key in memo.items if key[0] == "radii"]
    assert len(radii_keys) == 1  # both reports had 150 samples: the real set's radii were found once


def test_sample_report_few_samples_shrink_k(subset):
    (x_train, _), (x_test, _) = subset
    classifier = metrics.load_fashion_classifier(verbose=False)
    few = metrics.sample_report(x_test[:3], x_train[:50], classifier=classifier, reference_images=x_test[3:40])
    assert few["prdc_k"] == 2  # 3 samples: each has only 2 others
    assert all(0.0 <= few[key] <= 1.0 for key in ("precision", "recall", "coverage"))
    two = metrics.sample_report(x_test[:6], x_train[:50], classifier=classifier, reference_images=x_test[6:8])
    assert two["prdc_k"] == 1  # 2 reference images: the real set has 2 points
