"""Tests for artlib.autoencoder: damage models, builders, training, resume, evaluation, CLI.

Exact resume needs op determinism, which is process-wide, so that test runs this
file as a script in a fresh process (``python tests/test_autoencoder.py resume <directory>``,
through conftest's :func:`run_python`), as tests/test_vae.py does.
"""

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_python

from artlib import autoencoder as ae
from artlib import data, metrics
from artlib.autoencoder.damage import split_seed
from artlib.errors import ArtlibError, DataError, ImageError

import keras  # noqa: E402  (after artlib: the TensorFlow backend)
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve()


def shapes(count=64, size=28, channels=1, seed=0):
    """Tiny synthetic "garments": bright rectangles on black, float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, size, size, channels), np.float32)
    for image in images:
        top, left = rng.integers(2, size // 2, 2)
        image[top : top + rng.integers(6, size // 2), left : left + rng.integers(6, size // 2)] = rng.uniform(0.5, 1)
    return images


# ----------------------------------------------------------------------------- damage models
def test_gaussian_noise_statistics_and_seeds():
    gray = np.full((16, 28, 28, 1), 0.5, np.float32)
    noisy = ae.gaussian_noise(gray, (0, 1), sigma=0.1).numpy()
    assert noisy.shape == gray.shape and noisy.dtype == np.float32
    assert abs(noisy.mean() - 0.5) < 0.005 and abs(noisy.std() - 0.1) < 0.005
    assert np.array_equal(noisy, ae.gaussian_noise(gray, (0, 1), sigma=0.1).numpy())  # same seed, same noise
    assert not np.array_equal(noisy, ae.gaussian_noise(gray, (0, 2), sigma=0.1).numpy())
    clipped = ae.gaussian_noise(gray, (0, 1), sigma=2.0).numpy()
    assert clipped.min() == 0.0 and clipped.max() == 1.0  # clipped to [0, 1]
    per_image = ae.gaussian_noise(gray, (0, 3), sigma=(0.0, 0.3)).numpy().std(axis=(1, 2, 3))
    assert per_image.min() < 0.1 < per_image.max() < 0.3 + 0.02  # σ drawn per image from the range


@pytest.mark.parametrize("damage", ["gaussian_noise", "salt_and_pepper_noise", "speckle_noise", "box_mask"])
def test_a_seed_is_two_integers_or_one_and_anything_else_is_refused_by_name(damage):
    import tensorflow as tf

    function = getattr(ae, damage)
    gray = np.random.default_rng(0).uniform(0.2, 0.8, (2, 8, 8, 1)).astype(np.float32)  # a box of 0.5 shows
    pair = function(gray, (5, 0)).numpy()
    for one in (5, np.int64(5)):  # one integer s is the pair (s, 0)
        np.testing.assert_array_equal(function(gray, one).numpy(), pair)
    np.testing.assert_array_equal(function(gray, tf.constant([5, 0])).numpy(), pair)
    assert not np.array_equal(function(gray, 6).numpy(), pair)
    for bad in (None, 1.5, "5", True, (1, 2, 3), (0.5, 1.0)):
        with pytest.raises(ArtlibError, match="seed must be an integer or two integers"):
            function(gray, bad)


def test_salt_and_pepper_statistics():
    gray = np.full((8, 64, 64, 1), 0.5, np.float32)
    damaged = ae.salt_and_pepper_noise(gray, (1, 2), amount=0.2).numpy()
    hit = damaged != 0.5
    assert abs(hit.mean() - 0.2) < 0.01
    assert set(np.unique(damaged[hit])) == {0.0, 1.0} and abs((damaged[hit] == 1).mean() - 0.5) < 0.03


def test_speckle_is_multiplicative():
    images = np.concatenate([np.full((4, 64, 64, 1), 0.2), np.full((4, 64, 64, 1), 0.6)]).astype(np.float32)
    noisy = ae.speckle_noise(images, (3, 4), sigma=0.2).numpy()
    assert noisy[:4].std() == pytest.approx(0.2 * 0.2, rel=0.05)
    assert noisy[4:].std() == pytest.approx(0.6 * 0.2, rel=0.05)
    assert np.array_equal(ae.speckle_noise(np.zeros((1, 8, 8, 1)), (0, 0)).numpy(), np.zeros((1, 8, 8, 1)))


def test_box_mask_hides_boxes_of_the_promised_size():
    images = np.ones((32, 28, 28, 1), np.float32)
    masked = ae.box_mask(images, (5, 6), num_boxes=1, max_fraction=0.5, fill=0.0).numpy()
    hidden = (masked == 0).reshape(32, -1).sum(axis=1)
    assert np.all(hidden >= 6 * 6) and np.all(hidden <= 15 * 15)  # sides in [7, 14] px, rounded to pixels
    for image in masked[..., 0] == 0:  # each hidden area is one rectangle
        rows, cols = np.flatnonzero(image.any(1)), np.flatnonzero(image.any(0))
        assert image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].all()


def test_low_resolution_matches_bicubic_of_block_means():
    images = shapes(4)
    blurred = ae.low_resolution(images, factor=2).numpy()
    small = images.reshape(4, 14, 2, 14, 2, 1).mean(axis=(2, 4))  # NumPy 2×2 block means
    reference = np.clip(tf.image.resize(small, (28, 28), method="bicubic").numpy(), 0, 1)
    np.testing.assert_allclose(blurred, reference, atol=1e-5)
    flat = np.full((1, 28, 28, 1), 0.3, np.float32)
    np.testing.assert_allclose(ae.low_resolution(flat).numpy(), flat, atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda x: ae.low_resolution(x, factor=0),
    lambda x: ae.box_mask(x, (0, 0), num_boxes=0),
    lambda x: ae.box_mask(x, (0, 0), max_fraction=-0.5),
])
def test_damage_parameters_of_zero_or_below_raise(call):
    with pytest.raises(ArtlibError, match="must be a positive (?:integer|number); got"):
        call(np.zeros((1, 8, 8, 1), np.float32))


def test_make_noise_and_unknown_kind():
    noise_fn = ae.make_noise("gaussian", sigma=0.2)
    assert np.array_equal(noise_fn(np.zeros((1, 8, 8, 1)), (0, 1)).numpy(),
                          ae.gaussian_noise(np.zeros((1, 8, 8, 1)), (0, 1), 0.2).numpy())
    with pytest.raises(ArtlibError, match="unknown noise kind 'blur'"):
        ae.make_noise("blur")
    with pytest.raises(ArtlibError, match="gaussian noise takes sigma; not sgma"):  # at once, not at the first batch
        ae.make_noise("gaussian", sgma=0.1)
    with pytest.raises(ArtlibError, match="boxes noise takes num_boxes, max_fraction, fill; not factor"):
        ae.make_noise("boxes", factor=2)
    assert ae.make_noise("boxes", num_boxes=2, fill=0.0).__name__ == "boxes(num_boxes=2, fill=0.0)"


@pytest.mark.parametrize("kind, params, words", [
    ("gaussian", {"sigma": -0.1}, "sigma must be a number ≥ 0; got -0.1"),
    ("gaussian", {"sigma": float("nan")}, "sigma must be a number ≥ 0"),
    ("gaussian", {"sigma": "0.2"}, "sigma must be a number ≥ 0"),
    ("speckle", {"sigma": (0.5, 0.1)}, "sigma's range must run from low to high"),
    ("speckle", {"sigma": (0.1,)}, "sigma must be one number or a \\(low, high\\) range"),
    ("speckle", {"sigma": np.array([0.1, 0.2, 0.3])}, "sigma must be one number or a \\(low, high\\) range"),
    ("gaussian", {"sigma": (-0.1, 0.2)}, "sigma must be a number ≥ 0; got -0.1"),
    ("salt_and_pepper", {"amount": 1.5}, "amount must be in \\[0, 1\\]; got 1.5"),
    ("boxes", {"max_fraction": 2}, "max_fraction must be in \\[0.25, 1\\] .*; got 2"),
    ("boxes", {"max_fraction": 0.1}, "max_fraction must be in \\[0.25, 1\\] .*; got 0.1"),
    ("boxes", {"fill": -1}, "fill must be in \\[0, 1\\]; got -1"),
])
def test_a_damage_value_that_makes_no_sense_is_refused_when_the_noise_is_made(kind, params, words):
    with pytest.raises(ArtlibError, match=words):  # at once: make_noise tries the value on a tiny batch
        ae.make_noise(kind, **params)
    with pytest.raises(ArtlibError, match=words):  # and the function itself, called directly
        ae.NOISE_MODELS[kind](np.zeros((1, 8, 8, 1), np.float32), (0, 0), **params)
    assert ae.make_noise("gaussian", sigma=(0.0, 0.0))(np.full((1, 4, 4, 1), 0.5), 0).numpy().max() == 0.5
    assert ae.make_noise("low_resolution", factor=14)(np.zeros((1, 28, 28, 1)), 0).shape == (1, 28, 28, 1)  # tried big


def test_a_sigma_range_may_be_an_array_of_two():
    noise = ae.make_noise("gaussian", sigma=np.array([0.2, 0.2]))  # as a tuple would be: σ drawn from [0.2, 0.2]
    damaged = noise(np.full((2, 16, 16, 1), 0.5, np.float32), 0).numpy()
    assert abs(float(np.std(damaged - 0.5)) - 0.2) < 0.03


# ----------------------------------------------------------------------------- data pipeline
def test_train_feeds_fit_the_shared_epoch_order_with_fresh_noise_per_batch(tmp_path):
    from artlib import training

    images = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1) * np.ones((1, 8, 8, 1), np.uint8)  # image i is i
    model = ae.build_denoiser((8, 8, 1), filters=2, depth=1)
    seen, train_step, compile_ = [], model.train_step, model.compile

    def recording_step(batch):
        seen.append(tuple(np.asarray(part) for part in batch))
        return train_step(batch)

    model.train_step = recording_step
    model.compile = lambda **kwargs: compile_(**kwargs, run_eagerly=True)  # so that train_step sees numbers
    noise = ae.make_noise("gaussian", sigma=0.1)
    result = ae.train(model, images, noise=noise, num_epochs=2, batch_size=4, steps_per_execution=2, seed=9,
                      run_dir=tmp_path, verbose=0)
    assert result["epoch"] == [1, 2] and result.final_step == 2 and len(result["loss"]) == 2
    assert len(seen) == 8  # 5 batches an epoch, rounded down to whole groups of 2: 4 per epoch
    for step, (noisy, clean) in enumerate(seen):
        assert noisy.dtype == clean.dtype == np.float32 and noisy.shape == clean.shape == (4, 8, 8, 1)
        epoch, index = divmod(step, 4)
        order = training.epoch_order(20, seed=9, epoch=epoch)[4 * index : 4 * index + 4]
        np.testing.assert_allclose(clean[:, 0, 0, 0] * 255, order, atol=1e-4)  # uint8 came as i / 255
        np.testing.assert_array_equal(noisy, ae.gaussian_noise(clean, (9, step), 0.1).numpy())  # keyed on the step
    settings = training.RunDir(tmp_path).read_settings()
    assert settings["noise"] == "gaussian(sigma=0.1)" and settings["steps_per_epoch"] == 4
    assert settings["model"] == "denoiser" and settings["seed"] == 9


def test_train_steps_per_epoch_and_a_short_data_set():
    model = ae.build_denoiser((8, 8, 1), filters=2, depth=1)
    images = np.random.default_rng(0).random((40, 8, 8, 1), np.float32)
    result = ae.train(model, images, num_epochs=1, batch_size=4, steps_per_epoch=6, steps_per_execution=4,
                      verbose=0)
    assert int(model.optimizer.iterations) == 6 and model.steps_per_execution == 2  # 6 kept: groups of 2
    ae.train(model, images, num_epochs=1, batch_size=4, steps_per_execution=4, verbose=0)
    assert int(model.optimizer.iterations) == 8 and result.run_dir is None  # 10 batches -> 2 groups of 4
    with pytest.raises(DataError, match="fewer than one batch"):
        ae.train(model, images[:3], batch_size=4, verbose=0)
    with pytest.raises(DataError, match="steps_per_epoch 11 needs 44 images"):
        ae.train(model, images, batch_size=4, steps_per_epoch=11, verbose=0)
    with pytest.raises(ImageError, match="images must hold pixels in"):
        ae.train(model, images * 2.0, batch_size=4, verbose=0)


def test_a_run_directory_refuses_another_recipe(tmp_path):
    from artlib import CheckpointError

    images = np.random.default_rng(0).random((16, 8, 8, 1), np.float32)
    ae.train(ae.build_denoiser((8, 8, 1), filters=2, depth=1), images, num_epochs=1, batch_size=8,
             run_dir=tmp_path, verbose=0)
    with pytest.raises(CheckpointError, match=r"other settings \(noise: 'gaussian\(sigma=\(0.0, 0.55\)\)' -> "
                                              r"'boxes\(\)'\)"):
        ae.train(ae.build_denoiser((8, 8, 1), filters=2, depth=1), images, noise=ae.make_noise("boxes"),
                 num_epochs=2, batch_size=8, run_dir=tmp_path, verbose=0)


def test_as_images_scales_uint8_and_adds_a_channel():
    pixels = np.array([[[0, 51], [255, 102]]], np.uint8)  # (1, 2, 2)
    images = ae.as_images(pixels)
    assert images.dtype == np.float32 and images.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(images[0, ..., 0], [[0.0, 0.2], [1.0, 0.4]], atol=1e-7)
    for bad, message in [(np.zeros((2, 2)), "non-empty batch"), (np.full((1, 2, 2), 1.5), "pixels in"),
                         (np.full((1, 2, 2), np.nan), "NaN")]:
        with pytest.raises(ImageError, match=message):
            ae.as_images(bad, "x_train")


# ----------------------------------------------------------------------------- models
@pytest.mark.parametrize("build, shape", [
    (ae.build_tutorial_autoencoder, (28, 28, 1)),
    (lambda: ae.build_denoiser(filters=4), (28, 28, 1)),
    (lambda: ae.build_denoiser((32, 32, 3), filters=4), (32, 32, 3)),
    (lambda: ae.build_autoencoder(8, filters=4), (28, 28, 1)),
])
def test_builders_give_images_back(build, shape):
    model = build()
    out = model(np.random.default_rng(0).random((2, *shape), np.float32)).numpy()
    assert out.shape == (2, *shape) and out.dtype == np.float32


def test_denoiser_is_residual_and_clipped():
    """With its correction set to zero the U-Net returns its input; a correction is clipped to [0, 1]."""
    model = ae.build_denoiser((16, 16, 3), filters=4)
    correction = model.get_layer("correction")
    kernel, bias = correction.get_weights()
    images = np.random.default_rng(1).random((2, 16, 16, 3)).astype(np.float32)
    correction.set_weights([np.zeros_like(kernel), np.zeros_like(bias)])
    np.testing.assert_allclose(model(images).numpy(), images, atol=1e-6)
    correction.set_weights([np.zeros_like(kernel), np.full_like(bias, 0.5)])  # +0.5 everywhere
    np.testing.assert_allclose(model(images).numpy(), np.minimum(images + 0.5, 1.0), atol=1e-6)


def test_autoencoder_code_is_quantized_to_bits():
    model = ae.build_autoencoder(6, bits=3, filters=4)
    codes = model.get_layer("encoder")(shapes(5)).numpy()
    assert codes.shape == (5, 6)
    np.testing.assert_allclose(codes * 7, np.round(codes * 7), atol=1e-5)  # multiples of 1/(2³ - 1)


def test_a_small_code_does_not_collapse_to_one_value_in_training():
    # Regression: a sigmoid code without batch norm saturated within Adam's first steps, and every image
    # got the same code (0 bits of entropy; the decoder drew the mean image).
    images = shapes(512, seed=3)
    model = ae.build_autoencoder(4, filters=32, seed=0)
    ae.train(model, images, noise=lambda clean, seed: clean, num_epochs=1, steps_per_epoch=64, batch_size=8,
             verbose=0, seed=0)
    codes = model.get_layer("encoder").predict(images, verbose=0)
    assert codes.std(axis=0).max() > 0.02, "the code no longer depends on the image"
    assert ae.latent_bits(model, images)["entropy"] > 1


@pytest.mark.parametrize("build, message", [
    (lambda: ae.build_denoiser(filters=0), "filters must be a positive (?:integer|number); got 0"),
    (lambda: ae.build_denoiser(depth=-1), "depth must be a positive (?:integer|number); got -1"),
    (lambda: ae.build_autoencoder(0), "latent_dim must be a positive (?:integer|number); got 0"),
    (lambda: ae.build_autoencoder(8, bits=0), "bits must be a positive (?:integer|number); got 0"),
    (lambda: ae.build_photo_denoiser(filters=0), "filters must be a positive (?:integer|number); got 0"),
])
def test_builders_reject_sizes_of_zero_or_below(build, message):
    with pytest.raises(ArtlibError, match=message):
        build()


def test_tutorial_model_is_the_tutorials():
    model = ae.build_tutorial_autoencoder()
    assert model.count_params() == 3217  # 160 + 1160 + 584 + 1168 + 145, as in the TF tutorial


def test_quantized_latent_rounds_at_inference_and_adds_noise_in_training():
    layer = ae.QuantizedLatent(bits=2, seed=0)
    codes = np.array([[0.0, 0.2, 0.5, 0.9, 1.0]], np.float32)
    np.testing.assert_allclose(layer(codes).numpy(), np.round(codes * 3) / 3, atol=1e-6)
    noisy = layer(np.tile(codes, (100, 1)), training=True).numpy()
    assert np.all(np.abs(noisy - codes) <= 0.5 / 3 + 1e-6) and noisy.std(axis=0).min() > 0.05


def test_photo_denoiser_any_size_and_grayscale():
    model = ae.build_photo_denoiser(filters=4)
    image = np.random.default_rng(0).random((30, 21, 3)).astype(np.float32)
    out = ae.denoise_photo(model, image, sigma=0.1)
    assert out.shape == (30, 21, 3) and out.dtype == np.float32
    assert ae.denoise_photo(model, image[..., 0]).shape == (30, 21, 3)  # grayscale → RGB, σ estimated
    with pytest.raises(ImageError, match="at least 8×8"):
        ae.denoise_photo(model, image[:5, :5])
    for sigma in (-0.1, "0.1", float("nan")):  # text: not a TypeError from the comparison
        with pytest.raises(ArtlibError, match=r"sigma \(the noise level on \[0, 1\] pixels\) must be a number ≥ 0"):
            ae.denoise_photo(model, image, sigma=sigma)
    fashion = ae.build_denoiser(filters=4, depth=1)  # one 28×28×1 input: not for photos
    with pytest.raises(ArtlibError, match=r"is not a photo denoiser: it takes \(None, 28, 28, 1\), not a photo"):
        ae.denoise_photo(fashion, image, sigma=0.1)


def test_estimate_sigma_of_a_flat_picture_is_zero_and_a_tiny_one_is_refused():
    import warnings

    rng = np.random.default_rng(0)
    noisy = np.clip(0.5 + rng.normal(0, 0.1, (64, 64, 3)), 0, 1).astype(np.float32)
    assert ae.estimate_sigma(noisy) == pytest.approx(0.1, rel=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warnings on the way (they reached the command line's stderr)
        for flat in (np.zeros((16, 800, 3), np.float32), np.full((40, 40), 0.7, np.float32)):
            assert ae.estimate_sigma(flat) == 0.0  # one colour: no noise to measure (skimage gives NaN)
    with pytest.raises(ImageError, match=r"at least 8×8 pixels; got shape \(1, 1, 3\)"):
        ae.estimate_sigma(np.zeros((1, 1, 3), np.float32))
    as_uint8 = np.round(noisy * 255).astype(np.uint8)  # on [0, 1] pixels whatever the dtype (was 0-255 units)
    assert ae.estimate_sigma(as_uint8) == pytest.approx(ae.estimate_sigma(noisy), abs=0.005)


def test_a_noise_level_on_0_255_pixels_is_refused():
    model = ae.build_photo_denoiser(filters=4)
    with pytest.raises(ArtlibError, match=r"at most 1; got 25 \(a level on 0-255 pixels\? pass 25 / 255\)"):
        ae.denoise_photo(model, np.full((16, 16, 3), 0.5, np.float32), sigma=25)


def test_photo_self_ensemble_turns_every_view_back():
    model = ae.build_photo_denoiser(filters=4)
    correction = model.get_layer("correction")
    correction.set_weights([np.zeros_like(w) for w in correction.get_weights()])  # the model returns its input
    image = np.random.default_rng(2).random((30, 21, 3)).astype(np.float32)  # odd, non-square: padded
    np.testing.assert_allclose(ae.denoise_photo(model, image, 0.1, ensemble=True), image, atol=1e-6)
    model = ae.build_photo_denoiser(filters=4)  # random weights: not rotation-invariant
    plain, averaged = ae.denoise_photo(model, image, 0.1), ae.denoise_photo(model, image, 0.1, ensemble=True)
    assert averaged.shape == plain.shape and np.abs(averaged - plain).max() > 1e-4


def test_photo_patches_are_crops_of_the_photos():
    photo = np.rint(data.load_sample_photo("astronaut", max_dim=64) * 255).astype(np.uint8)
    patches = ae.photo_patches(["astronaut"], patch_size=16, count=6, max_dim=64, seed=1)
    assert patches.shape == (6, 16, 16, 3) and patches.dtype == np.uint8
    windows = np.lib.stride_tricks.sliding_window_view(photo, (16, 16, 3))[..., 0, :, :, :]  # (49, 49, 16, 16, 3)
    for patch in patches:  # each patch is one window of the photo, or its mirror image
        assert any((windows == p).all(axis=(-3, -2, -1)).any() for p in (patch, patch[:, ::-1]))
    with pytest.raises(ArtlibError, match="patch_size 80 is larger than a photo"):
        ae.photo_patches(["astronaut"], patch_size=80, count=2, max_dim=64)
    with pytest.raises(ArtlibError, match="count must be a positive (?:integer|number); got 0"):
        ae.photo_patches(["astronaut"], count=0)


def test_photo_noise_hands_over_its_level():
    images = np.full((4, 8, 8, 3), 0.5, np.float32)
    noisy, sigma_map = ae.photo.noise_with_level((0.0, 0.2))(images, (2, 5))
    np.testing.assert_array_equal(noisy.numpy(), ae.gaussian_noise(images, (2, 5), (0.0, 0.2)).numpy())
    assert sigma_map.shape == (4, 8, 8, 1) and np.ptp(sigma_map.numpy()[0]) == 0  # one σ per image
    levels = sigma_map.numpy()[:, 0, 0, 0]
    assert np.all((levels >= 0) & (levels <= 0.2)) and np.unique(levels).size == 4


def test_train_photo_denoiser_lowers_the_loss():
    keras.utils.set_random_seed(0)
    model, history = ae.train_photo_denoiser(ae.build_photo_denoiser(filters=8), photos=["astronaut", "rocket"],
                                             sigma=(0.1, 0.2), patch_size=16, count=256, num_epochs=4,
                                             batch_size=16, learning_rate=3e-3, verbose=0)
    assert model.name == "photo_denoiser" and len(history["loss"]) == 4
    assert history["loss"][-1] < history["loss"][0]
    clean = ae.photo_patches(["astronaut", "rocket"], patch_size=16, count=64, seed=7) / np.float32(255)
    noisy, sigma_map = ae.photo.noise_with_level(0.15)(clean, (7, 0))
    denoised = model.predict([noisy, sigma_map], verbose=0)
    noisy_mse, denoised_mse = np.mean((noisy.numpy() - clean) ** 2), np.mean((denoised - clean) ** 2)
    assert denoised_mse < 0.8 * noisy_mse  # on new crops it removes a fifth of the noise or more


def test_evaluate_photo_denoiser_psnrs_are_metrics_psnr():
    model = ae.build_photo_denoiser(filters=4)
    rows = ae.evaluate_photo_denoiser(model, sigma=0.1, max_dim=64, seed=3)
    assert [row["photo"] for row in rows] == list(ae.HELD_OUT_PHOTOS)
    for i, row in enumerate(rows):  # the same photo, noise draw and denoiser, measured here
        clean = data.load_sample_photo(row["photo"], max_dim=64)
        noisy = ae.gaussian_noise(clean[np.newaxis], (3, i), 0.1).numpy()[0]
        assert row["noisy"] == pytest.approx(metrics.psnr(clean, noisy), abs=1e-6)
        assert row["artlib"] == pytest.approx(metrics.psnr(clean, ae.denoise_photo(model, noisy, 0.1)), abs=1e-6)
        assert row["nlm_h"] in (0.4, 0.6, 0.8, 1.0) and row["non-local means"] > row["noisy"]
    with pytest.raises(ArtlibError, match="sigma must be a positive (?:integer|number); got 0"):
        ae.evaluate_photo_denoiser(model, sigma=0)


def test_save_load_safe_mode_identical_outputs(tmp_path):
    x = shapes(4)
    models = {"tutorial": ae.build_tutorial_autoencoder(), "denoiser": ae.build_denoiser(filters=4),
              "autoencoder": ae.build_autoencoder(8, filters=4)}
    for name, model in models.items():
        model.compile(optimizer="adam", loss="mse")
        ae.save_model(model, tmp_path / f"{name}.keras")  # architecture and weights, no optimizer
        loaded = ae.load_model(tmp_path / f"{name}.keras")  # safe_mode=True inside
        np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    photo = ae.build_photo_denoiser(filters=4)
    photo.save(tmp_path / "photo.keras")
    image = np.random.default_rng(1).random((20, 24, 3)).astype(np.float32)
    np.testing.assert_array_equal(ae.denoise_photo(photo, image, 0.1),
                                  ae.denoise_photo(ae.load_photo_denoiser(tmp_path / "photo.keras"), image, 0.1))


def test_load_model_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="missing.keras not found"):
        ae.load_model(tmp_path / "missing.keras")
    (tmp_path / "broken.keras").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match=r"broken.keras is corrupt or not a .keras file \(a .keras file is a zip "
                                        r"archive; this one is not\)") as caught:
        ae.load_model(tmp_path / "broken.keras")
    assert "not found" not in str(caught.value)  # Keras's words for it, of a file that is there
    (tmp_path / "empty.keras").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty.keras is empty \(a .keras file is a zip archive\)"):
        ae.load_model(tmp_path / "empty.keras")


# ----------------------------------------------------------------------------- training
def test_training_reduces_the_loss(tmp_path):
    keras.utils.set_random_seed(0)
    model = ae.build_denoiser(filters=8)
    history = ae.train(model, shapes(128), num_epochs=4, batch_size=16, learning_rate=3e-3,
                       run_dir=tmp_path / "run", verbose=0)
    assert len(history["loss"]) == 4 and history["loss"][-1] < 0.7 * history["loss"][0]
    assert any((tmp_path / "run" / "tensorboard").rglob("*tfevents*"))
    trained = [w.copy() for w in model.get_weights()]
    keras.utils.set_random_seed(1)  # a second Run All: the same call on a model with other initial weights
    again = ae.build_denoiser(filters=8)
    assert ae.train(again, shapes(128), num_epochs=4, batch_size=16, learning_rate=3e-3, run_dir=tmp_path / "run",
                    verbose=0)["epoch"] == []  # nothing trained: the finished run's backup was loaded
    assert all(np.array_equal(a, b) for a, b in zip(again.get_weights(), trained, strict=True))


@pytest.mark.parametrize("option, value", [("num_epochs", 0), ("batch_size", 0), ("steps_per_epoch", 0),
                                           ("learning_rate", -1e-3), ("steps_per_execution", 0)])
def test_train_rejects_zero_or_below(option, value):
    with pytest.raises(ArtlibError, match=f"{option} must be a positive (?:integer|number); got {value}"):
        ae.train(ae.build_denoiser(filters=2, depth=1), shapes(16), **{option: value}, verbose=0)


@pytest.mark.slow
def test_fit_resumes_exactly_at_an_epoch_boundary(tmp_path):
    """Stopped after epoch 2 of 4, restarted with other initial weights: it ends with bitwise the same weights."""
    proc = run_python(HERE, "resume", tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "2"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["straight_epochs"] == [1, 2, 3, 4] and info["interrupted_epochs"] == [1, 2]
    assert info["resumed_epochs"] == [3, 4] and info["final_step"] == 4  # it went on after epoch 2 ...
    assert info["run_history_epochs"] == [1, 2, 3, 4]  # ... and history.json holds both calls
    assert info["run_history_loss"] == info["straight_loss"]  # with the values of one run
    with np.load(tmp_path / "weights.npz") as npz:
        n, m = info["model_count"], info["count"]
        straight, resumed = ([npz[f"{run}/{i}"] for i in range(m)] for run in ("straight", "resumed"))
        start, straight_start = ([npz[f"{run}/{i}"] for i in range(n)] for run in ("start", "straight_start"))
    assert all(np.array_equal(a, b) for a, b in zip(straight, resumed))  # model and optimizer
    assert any(not np.array_equal(a, 0) for a in straight[n:])  # optimizer moments were restored too
    kernels = [i for i, name in enumerate(info["names"]) if name.endswith("kernel")]
    assert not any(np.array_equal(straight_start[i], start[i]) for i in kernels)  # the restart began elsewhere,
    assert not any(np.array_equal(a, b) for a, b in zip(start, resumed[:n]))  # so without the backup it would differ


def scenario_resume(out):
    """Straight: 4 epochs. Resumed: stopped after epoch 2, then a fresh model (other initial weights) continues."""
    from artlib import training

    tf.config.experimental.enable_op_determinism()
    images = (np.random.default_rng(0).random((48, 8, 8, 1)) > 0.5).astype(np.float32)

    class StopAfterSecondEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    def run(run_dir, weights_seed, extra=()):  # weights_seed: the initial weights, not in settings.json
        keras.utils.set_random_seed(weights_seed)
        model = ae.build_denoiser((8, 8, 1), filters=2, depth=1)
        start = [v.numpy() for v in model.variables]
        result = ae.train(model, images, num_epochs=4, batch_size=8, steps_per_execution=2, seed=0,
                          run_dir=out / run_dir, verbose=0, extra_callbacks=extra)
        return model, start, result

    straight, straight_start, straight_result = run("straight", 0)
    epochs_seen = []
    counter = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch + 1))
    try:
        run("resumed", 0, [counter, StopAfterSecondEpoch()])
        raise AssertionError("the interruption did not happen")
    except KeyboardInterrupt:
        pass
    resumed, start, result = run("resumed", 5)
    history = training.RunDir(out / "resumed").read_history()

    def variables(model):
        return [v.numpy() for v in [*model.variables, *model.optimizer.variables]]

    arrays = {f"straight/{i}": v for i, v in enumerate(variables(straight))}
    arrays |= {f"resumed/{i}": v for i, v in enumerate(variables(resumed))}
    arrays |= {f"start/{i}": a for i, a in enumerate(start)}
    arrays |= {f"straight_start/{i}": a for i, a in enumerate(straight_start)}
    np.savez(out / "weights.npz", **arrays)
    (out / "info.json").write_text(json.dumps({
        "straight_epochs": straight_result["epoch"], "interrupted_epochs": epochs_seen,
        "resumed_epochs": result["epoch"], "final_step": result.final_step,
        "run_history_epochs": history["epoch"], "run_history_loss": history["loss"],
        "straight_loss": straight_result["loss"], "count": len(variables(straight)),
        "model_count": len(straight.variables), "names": [v.path for v in straight.variables]}))


# ----------------------------------------------------------------------------- evaluation
def test_classical_denoisers_shapes_and_tuning():
    clean = shapes(6)
    noisy = ae.gaussian_noise(clean, (0, 0), 0.2).numpy()
    for method in ae.CLASSICAL_DENOISERS:
        grid = ae.CLASSICAL_DENOISERS[method]["fast"]
        out = ae.classical_denoise(method, noisy, 0.2, grid[0])
        assert out.shape == noisy.shape and out.dtype == np.float32
        assert np.mean(metrics.psnr(clean, out)) > np.mean(metrics.psnr(clean, noisy)), method
        alone = ae.classical_denoise(method, noisy[2:3], 0.2, grid[0])  # each image is denoised alone
        np.testing.assert_allclose(out[2:3], alone, atol=1e-5, err_msg=method)
    tuned = ae.tune_classical(noisy, clean, 0.2, methods=["gaussian filter"])
    scores = {p: np.mean(metrics.psnr(clean, ae.classical_denoise("gaussian filter", noisy, 0.2, p)))
              for p in ae.CLASSICAL_DENOISERS["gaussian filter"]["fast"]}  # ARTLIB_FAST: the fast grid
    assert tuned["gaussian filter"][0] == max(scores, key=scores.get)
    assert tuned["gaussian filter"][1] == pytest.approx(max(scores.values()))
    with pytest.raises(ArtlibError, match="unknown classical denoiser"):
        ae.classical_denoise("bm3d", noisy, 0.2, None)


@pytest.mark.parametrize("method, param, sigma, words", [
    ("median", 0, 0.2, "the median's window side must be a positive integer; got 0"),
    ("median", 2.5, 0.2, "window side must be a positive integer; got 2.5"),
    ("gaussian filter", None, 0.2, "the gaussian filter's parameter must be a positive number; got None"),
    ("total variation", -0.1, 0.2, "the total variation's parameter must be a positive number"),
    ("non-local means", 0.7, -0.2, "sigma must be a number ≥ 0; got -0.2"),
    ("wavelet", ("Haar", 1.0), 0.2, "the wavelet denoiser takes"),
    ("wavelet", 1.0, 0.2, "the wavelet denoiser takes"),
    ("wavelet", ["VisuShrink", 0], 0.2, "the wavelet's σ scale must be a positive number; got 0"),
])
def test_a_classical_parameter_that_does_not_fit_its_method_is_an_artlib_error(method, param, sigma, words):
    noisy = shapes(2)
    with pytest.raises(ArtlibError, match=words):
        ae.classical_denoise(method, noisy, sigma, param)
    ok = ae.classical_denoise("wavelet", noisy, 0.2, ["VisuShrink", 0.5])  # a pair read back from JSON is a list
    assert ok.shape == noisy.shape


def test_restore_refuses_what_is_not_a_model_and_images_the_model_does_not_take():
    gray = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Identity()])
    with pytest.raises(ArtlibError, match="model must be a Keras model.*got NoneType"):
        ae.restore(None, shapes(2, size=16))
    with pytest.raises(ImageError, match="this model takes images of 16×16×1 .*got 16×16×3"):
        ae.restore(gray, shapes(2, size=16, channels=3))
    with pytest.raises(ImageError, match="takes images of 16×16×1 .*got 20×20×1"):
        ae.restore(gray, shapes(2, size=20))
    any_size = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Identity()])
    assert ae.restore(any_size, shapes(2, size=20)).shape == (2, 20, 20, 1)
    with pytest.raises(ImageError, match="takes images of any×any×1"):
        ae.restore(any_size, shapes(2, size=20, channels=3))


def test_evaluate_denoisers_rows_against_numpy():
    clean, validation = shapes(12, seed=1), shapes(12, seed=2)
    identity = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Identity()])
    rows = ae.evaluate_denoisers({"identity": identity}, clean, validation_images=validation,
                                 sigmas=(0.2,), methods=["median", "wavelet"])
    assert [r["method"] for r in rows] == ["noisy input", "identity", "median", "wavelet"]
    noisy = np.clip(clean + 0.2 * tf.random.stateless_normal(clean.shape, split_seed((0, 0))[1]).numpy(), 0, 1)
    mse = ((noisy - clean) ** 2).mean(axis=(1, 2, 3))
    assert rows[0]["psnr"] == pytest.approx(np.mean(10 * np.log10(1 / mse)), abs=1e-3)
    assert rows[1]["psnr"] == pytest.approx(rows[0]["psnr"], abs=1e-4)  # the identity changes nothing
    table = ae.format_table(rows, value="both")
    lines = table.split("\n")
    assert len(lines) == 6 and "σ = 0.2" in lines[0]  # header, rule, one line per method
    best = max(rows[1:], key=lambda r: r["psnr"])
    bold = f"| {best['method']} | **{best['psnr']:.2f} / {best['ssim']:.3f}** |"  # the best PSNR, in bold
    assert [line for line in lines if "**" in line] == [bold]
    with pytest.raises(ArtlibError, match="value must be one of psnr, ssim, both; got 'mse'"):
        ae.format_table(rows, value="mse")


# ----------------------------------------------------------------------------- compression
def test_latent_bits_fixed_and_entropy():
    model = ae.build_autoencoder(6, bits=4, filters=4)
    x = shapes(32)
    bits = ae.latent_bits(model, x)
    assert bits["fixed"] == 6 * 4
    codes = np.rint(model.get_layer("encoder").predict(x, verbose=0) * 15).astype(int)
    reference = 0.0
    for column in codes.T:  # NumPy entropy of each latent number
        _, counts = np.unique(column, return_counts=True)
        reference -= np.sum(counts / 32 * np.log2(counts / 32))
    assert bits["entropy"] == pytest.approx(reference) and 0 <= bits["entropy"] <= bits["fixed"]
    rows = ae.rate_distortion({6: model}, x)
    assert rows[0]["latent_dim"] == 6 and rows[0]["fixed_bits"] == 24


def test_jpeg_rate_distortion_counts_bytes():
    rows = ae.jpeg_rate_distortion(shapes(8), qualities=(10, 90))
    for row in rows:
        assert row["file_bits"] == pytest.approx(row["payload_bits"] + 8 * row["header_bytes"])
        assert 100 < row["header_bytes"] < 1000
    assert rows[1]["psnr"] > rows[0]["psnr"] and rows[1]["payload_bits"] > rows[0]["payload_bits"]


def test_jpeg_round_trip_decodes_each_image_alone():
    gray = shapes(3)
    from PIL import Image

    decoded, sizes, headers = ae.jpeg_round_trip(gray, 90)
    assert decoded.shape == (3, 28, 28, 1) and decoded.dtype == np.float32
    for image, out, size, header in zip(gray, decoded, sizes, headers):  # against Pillow by hand
        buffer = io.BytesIO()
        Image.fromarray(np.rint(image[..., 0] * 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
        file = buffer.getvalue()
        sos = file.index(b"\xff\xda")  # start of scan; its header's length follows the marker
        assert size == len(file) and header == sos + 2 + int.from_bytes(file[sos + 2 : sos + 4], "big") + 2
        np.testing.assert_array_equal(out[..., 0], np.asarray(Image.open(io.BytesIO(file)), np.float32) / 255)
    assert np.abs(decoded - gray.reshape(decoded.shape)).mean() < 0.02   # quality 90: close to the input
    low = ae.jpeg_round_trip(gray, 5)[0]
    assert np.abs(low - gray.reshape(low.shape)).mean() > np.abs(decoded - gray.reshape(decoded.shape)).mean()
    rgb = np.random.default_rng(0).uniform(0, 1, (2, 16, 24, 3)).astype(np.float32)
    assert ae.jpeg_round_trip(rgb, 50)[0].shape == (2, 16, 24, 3)
    for quality in (0, 96):
        with pytest.raises(ArtlibError, match=f"JPEG quality must be an integer from 1 to 95; got {quality}"):
            ae.jpeg_round_trip(gray, quality)


# ----------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def photo_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "photo.keras"
    ae.build_photo_denoiser(filters=4).save(path)
    return path


def test_cli_denoise_grayscale_photo(tmp_path, photo_model):
    from PIL import Image

    from artlib.__main__ import main

    gray = (np.random.default_rng(0).random((40, 50)) * 255).astype(np.uint8)
    Image.fromarray(gray).save(tmp_path / "gray.png")
    out = tmp_path / "out.png"
    assert main(["denoise", str(tmp_path / "gray.png"), "-o", str(out), "--model", str(photo_model)]) == 0
    assert Image.open(out).size == (50, 40)
    assert main(["denoise", str(tmp_path / "gray.png"), "-o", str(out), "--model", str(photo_model)]) == 2
    assert main(["denoise", str(tmp_path / "gray.png"), "-o", str(out), "--model", str(photo_model),
                 "--sigma", "0.1", "--force"]) == 0
    averaged = np.asarray(Image.open(out))  # self-ensemble: the default
    assert main(["denoise", str(tmp_path / "gray.png"), "-o", str(out), "--model", str(photo_model),
                 "--sigma", "0.1", "--force", "--no-ensemble"]) == 0
    assert np.asarray(Image.open(out)).shape == averaged.shape and np.any(np.asarray(Image.open(out)) != averaged)


def test_cli_denoise_bad_input(tmp_path, photo_model, capsys):
    from PIL import Image

    from artlib.__main__ import main

    Image.new("RGB", (6, 6)).save(tmp_path / "tiny.png")
    (tmp_path / "notes.png").write_text("not a picture")
    (tmp_path / "broken.keras").write_bytes(b"nonsense")
    Image.new("RGB", (32, 32)).save(tmp_path / "ok.png")
    cases = [
        [str(tmp_path / "missing.png"), "-o", str(tmp_path / "a.png"), "--model", str(photo_model)],
        [str(tmp_path / "tiny.png"), "-o", str(tmp_path / "b.png"), "--model", str(photo_model)],
        [str(tmp_path / "notes.png"), "-o", str(tmp_path / "c.png"), "--model", str(photo_model)],
        [str(tmp_path / "ok.png"), "-o", str(tmp_path / "d.txt"), "--model", str(photo_model)],
        [str(tmp_path / "ok.png"), "-o", str(tmp_path / "e.png"), "--model", str(tmp_path / "broken.keras")],
        [str(tmp_path / "ok.png"), "-o", str(tmp_path / "f.png"), "--sigma", "3", "--model", str(photo_model)],
    ]
    for argv in cases:
        try:
            code = main(["denoise", *argv])
        except SystemExit as exit_:  # argparse rejects a bad option value itself
            code = exit_.code
        assert code == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


if __name__ == "__main__":
    globals()[f"scenario_{sys.argv[1]}"](Path(sys.argv[2]))
