"""Procedural style images: shapes, ranges, seeds, distinct looks, the same composition at any size."""

import numpy as np
import pytest

from artlib import patterns


@pytest.mark.parametrize("name", sorted(patterns.PATTERNS))
def test_pattern_shape_range_and_seed(name):
    image = patterns.make_pattern(name, (40, 56), seed=3)
    assert image.shape == (40, 56, 3) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert image.std() > 0.05  # a picture, not a flat colour
    np.testing.assert_array_equal(image, patterns.make_pattern(name, (40, 56), seed=3))
    assert np.abs(image - patterns.make_pattern(name, (40, 56), seed=4)).mean() > 0.02


def test_at_least_four_distinct_patterns():
    images = {n: patterns.make_pattern(n, 48) for n in patterns.PATTERNS}
    assert len(images) >= 4
    means = np.array([im.reshape(-1, 3).mean(0) for im in images.values()])
    for i in range(len(means)):
        for j in range(i + 1, len(means)):
            a, b = list(images.values())[i], list(images.values())[j]
            assert np.abs(a - b).mean() > 0.1 or np.abs(means[i] - means[j]).max() > 0.1


@pytest.mark.parametrize("name", ["swirls", "mosaic", "waves"])
def test_same_composition_at_two_sizes(name):
    small = patterns.make_pattern(name, 32, seed=1)
    large = patterns.make_pattern(name, 96, seed=1)
    shrunk = large.reshape(32, 3, 32, 3, 3).mean(axis=(1, 3))  # 96×96 -> 32×32 by 3×3 blocks
    other = patterns.make_pattern(name, 32, seed=2)
    same = np.corrcoef(small.ravel(), shrunk.ravel())[0, 1]
    different = np.corrcoef(other.ravel(), shrunk.ravel())[0, 1]
    assert same > different + 0.1


def test_bad_name_and_size():
    with pytest.raises(ValueError, match="swirls"):
        patterns.make_pattern("starry", 32)
    with pytest.raises(ValueError, match="at least 8"):
        patterns.make_pattern("waves", 4)
    from artlib.errors import ArtlibError

    for bad, message in ((16.5, "pattern size must be a positive integer; got 16.5"),
                         ((16,), r"a side in pixels or \(height, width\); got \(16,\)"),
                         (None, "got None"), ("16", "got '16'")):
        with pytest.raises(ArtlibError, match=message):
            patterns.make_pattern("waves", bad)
    for bad in (None, -1, 1.5):
        with pytest.raises(ArtlibError, match=f"seed must be an integer ≥ 0; got {bad}"):
            patterns.make_pattern("waves", 16, seed=bad)
    np.testing.assert_array_equal(patterns.make_pattern("waves", 16.0), patterns.make_pattern("waves", np.int64(16)))
