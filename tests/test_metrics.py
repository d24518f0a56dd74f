"""Tests for artlib.metrics: PSNR and SSIM against NumPy and scikit-image references.

Agreed tolerances:
* PSNR: 1e-9 dB against the NumPy formula and ``skimage.metrics.peak_signal_noise_ratio``
  (both are float64; artlib computes in float64 too).
* SSIM: 1e-5 absolute against ``skimage.metrics.structural_similarity`` with the matching
  settings (Gaussian window σ = 1.5 → 11×11, population covariance, data range 1).
  ``tf.image.ssim`` computes in float32; measured differences: at most 1.1e-6 on the
  images below, 4.1e-6 over 30 photo/noise cases up to 256×256 (median 3.6e-7).
"""

import numpy as np
import pytest
import tensorflow as tf
from skimage import data, metrics as skmetrics, transform

from artlib.metrics import psnr, ssim

SSIM_TOL = 1e-5


def _rng(seed=0):
    return np.random.default_rng(seed)


def _noisy(image, sigma, seed=0):
    return np.clip(image + _rng(seed).normal(0.0, sigma, image.shape), 0.0, 1.0)


def _psnr_reference(a, b, data_range=1.0):
    """The textbook formula for one image."""
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return 10.0 * np.log10(data_range**2 / mse)


def _ssim_skimage(a, b):
    kwargs = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
    if a.ndim == 3:
        kwargs["channel_axis"] = -1
    return skmetrics.structural_similarity(a, b, **kwargs)


@pytest.fixture(scope="module")
def camera():
    """Gray photo, downscaled to 96×128, float in [0, 1]."""
    return transform.resize(data.camera(), (96, 128), anti_aliasing=True)


@pytest.fixture(scope="module")
def astronaut():
    """RGB photo, downscaled to 64×64×3, float in [0, 1]."""
    return transform.resize(data.astronaut(), (64, 64), anti_aliasing=True)


# --- PSNR ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(16, 20), (16, 20, 1), (16, 20, 3)])
def test_psnr_single_image_matches_formula_and_skimage(shape):
    a = _rng(1).random(shape)
    b = _noisy(a, 0.1, seed=2)
    value = psnr(a, b)
    assert isinstance(value, float)
    assert value == pytest.approx(_psnr_reference(a, b), abs=1e-9)
    assert value == pytest.approx(skmetrics.peak_signal_noise_ratio(a, b, data_range=1), abs=1e-9)
    assert 15 < value < 30  # sigma 0.1 noise is about 20 dB


def test_psnr_known_value():
    clean = np.full((8, 8), 0.5)
    assert psnr(clean, clean + 0.1) == pytest.approx(20.0)  # MSE 0.01 -> 20 dB


@pytest.mark.parametrize("shape", [(4, 16, 20), (4, 16, 20, 3)])
def test_psnr_batch_is_per_image(shape):
    a = _rng(3).random(shape)
    b = np.stack([_noisy(x, s, seed=i) for i, (x, s) in enumerate(zip(a, [0.02, 0.05, 0.1, 0.2]))])
    values = psnr(a, b)
    assert isinstance(values, np.ndarray) and values.shape == (4,)
    np.testing.assert_allclose(values, [_psnr_reference(x, y) for x, y in zip(a, b)], atol=1e-9)
    assert np.all(np.diff(values) < 0)  # more noise, lower PSNR


def test_psnr_identical_is_inf_per_image():
    a = _rng(4).random((3, 12, 12, 3))
    b = a.copy()
    b[1] = _noisy(a[1], 0.1)
    values = psnr(a, b)
    assert np.isinf(values[0]) and np.isinf(values[2]) and np.isfinite(values[1])
    assert psnr(a[0], a[0]) == float("inf")


def test_psnr_data_range_and_dtypes():
    a = _rng(5).random((10, 10, 3))
    b = _noisy(a, 0.1)
    # The same images in [-1, 1] with data_range 2 give the same PSNR.
    assert psnr(2 * a - 1, 2 * b - 1, data_range=2.0) == pytest.approx(psnr(a, b), abs=1e-9)
    # uint8 is read as 0-255 and scaled to [0, 1].
    a8, b8 = np.round(a * 255).astype(np.uint8), np.round(b * 255).astype(np.uint8)
    assert psnr(a8, b8) == pytest.approx(_psnr_reference(a8 / 255, b8 / 255), abs=1e-9)
    assert psnr(a8, b8) == pytest.approx(skmetrics.peak_signal_noise_ratio(a8, b8), abs=1e-9)
    with pytest.raises(ValueError, match="uint8"):
        psnr(a8, b8, data_range=255)


def test_psnr_accepts_tensors():
    a = _rng(6).random((2, 12, 12, 3)).astype(np.float32)
    b = _noisy(a, 0.1).astype(np.float32)
    values = psnr(tf.constant(a), tf.constant(b))
    assert isinstance(values, np.ndarray)
    np.testing.assert_allclose(values, psnr(a, b), atol=1e-9)


@pytest.mark.parametrize("func", [psnr, ssim])
def test_shape_mismatch_is_a_clear_error(func):
    with pytest.raises(ValueError, match=r"same shape.*\(16, 16, 3\).*\(16, 16\)"):
        func(np.zeros((16, 16, 3)), np.zeros((16, 16)))


@pytest.mark.parametrize("func", [psnr, ssim])
@pytest.mark.parametrize("shape", [(16,), (1, 2, 16, 16, 3)])
def test_non_image_shapes_are_errors(func, shape):
    with pytest.raises(ValueError, match="Expected one image"):
        func(np.zeros(shape), np.zeros(shape))


@pytest.mark.parametrize("data_range", [0, -1.0])
def test_bad_data_range(data_range):
    with pytest.raises(ValueError, match="data_range"):
        psnr(np.zeros((8, 8)), np.ones((8, 8)), data_range=data_range)


# --- SSIM ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(32, 32), (24, 40, 3), (11, 11, 3)])
def test_ssim_random_images_match_skimage(shape):
    a = _rng(7).random(shape)
    b = 0.5 * a + 0.5 * _rng(8).random(shape)  # related, so SSIM is well away from 0
    value = ssim(a, b)
    assert isinstance(value, float)
    assert value == pytest.approx(_ssim_skimage(a, b), abs=SSIM_TOL)


@pytest.mark.parametrize("sigma", [0.05, 0.2])
def test_ssim_gray_photo_matches_skimage(camera, sigma):
    noisy = _noisy(camera, sigma)
    expected = _ssim_skimage(camera, noisy)
    assert ssim(camera, noisy) == pytest.approx(expected, abs=SSIM_TOL)  # (H, W)
    assert ssim(camera[..., None], noisy[..., None]) == pytest.approx(expected, abs=SSIM_TOL)  # (H, W, 1)


def test_ssim_rgb_photo_matches_skimage(astronaut):
    noisy = _noisy(astronaut, 0.1)
    assert ssim(astronaut, noisy) == pytest.approx(_ssim_skimage(astronaut, noisy), abs=SSIM_TOL)


def test_ssim_orders_noise_levels(camera):
    values = [ssim(camera, _noisy(camera, s)) for s in (0.02, 0.1, 0.3)]
    assert values[0] > values[1] > values[2]


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_ssim_batch_matches_single_images(astronaut, channels):
    if channels is None:
        clean = np.stack([astronaut.mean(-1)] * 3)  # (3, 64, 64): a batch of gray images
    else:
        clean = np.stack([astronaut[..., :channels]] * 3)  # (3, 64, 64, C)
    noisy = np.stack([_noisy(x, s, seed=i) for i, (x, s) in enumerate(zip(clean, [0.05, 0.1, 0.2]))])
    values = ssim(clean, noisy)
    assert isinstance(values, np.ndarray) and values.shape == (3,)
    np.testing.assert_allclose(values, [ssim(x, y) for x, y in zip(clean, noisy)], atol=1e-6)
    np.testing.assert_allclose(values, [_ssim_skimage(x, y) for x, y in zip(clean, noisy)], atol=SSIM_TOL)


def test_ssim_identical_is_one_and_accepts_tensors(astronaut):
    assert ssim(astronaut, astronaut) == pytest.approx(1.0, abs=1e-6)
    x = tf.constant(astronaut[None], tf.float32)
    values = ssim(x, x)
    assert isinstance(values, np.ndarray)
    np.testing.assert_allclose(values, [1.0], atol=1e-6)


def test_ssim_data_range():
    a = _rng(9).random((16, 16))
    b = _noisy(a, 0.1)
    assert ssim(255 * a, 255 * b, data_range=255.0) == pytest.approx(ssim(a, b), abs=SSIM_TOL)


@pytest.mark.parametrize("shape", [(10, 10), (10, 40, 3), (2, 40, 10, 1)])
def test_ssim_too_small_is_a_clear_error(shape):
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(np.zeros(shape), np.zeros(shape))
