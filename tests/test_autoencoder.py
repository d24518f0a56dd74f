"""Tests for artlib.autoencoder: damage models, builders, training, resume, evaluation, CLI."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from artlib import autoencoder as ae
from artlib import metrics
from artlib.errors import ArtlibError, DataError, ImageError

import keras  # noqa: E402  (after artlib: the TensorFlow backend)
import tensorflow as tf  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


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


def test_make_noise_and_unknown_kind():
    noise_fn = ae.make_noise("gaussian", sigma=0.2)
    assert np.array_equal(noise_fn(np.zeros((1, 8, 8, 1)), (0, 1)).numpy(),
                          ae.gaussian_noise(np.zeros((1, 8, 8, 1)), (0, 1), 0.2).numpy())
    with pytest.raises(ArtlibError, match="unknown noise kind 'blur'"):
        ae.make_noise("blur")


# ----------------------------------------------------------------------------- data pipeline
def test_restoration_dataset_fresh_noise_and_resume_position():
    images = (shapes(20) * 255).astype(np.uint8)
    stream = ae.restoration_dataset(images, ae.make_noise("gaussian", sigma=0.1), batch_size=8, seed=3)
    batches = [(n.numpy(), c.numpy()) for n, c in stream.take(6)]  # 2 batches per epoch
    noisy, clean = batches[0]
    assert noisy.shape == clean.shape == (8, 28, 28, 1) and noisy.dtype == np.float32
    assert 0 <= noisy.min() and noisy.max() <= 1
    assert any(np.array_equal(clean[0], image) for image in images[..., :] / np.float32(255))
    assert not np.array_equal(batches[0][1], batches[2][1])  # a new order each epoch
    assert not np.array_equal(batches[0][0] - batches[0][1], batches[2][0] - batches[2][1])  # new noise
    resumed = ae.restoration_dataset(images, ae.make_noise("gaussian", sigma=0.1), batch_size=8, seed=3,
                                     start_epoch=1)
    for (n, c), (n2, c2) in zip(batches[2:], resumed.take(4)):
        assert np.array_equal(n, n2.numpy()) and np.array_equal(c, c2.numpy())
    with pytest.raises(DataError, match="fewer than one batch"):
        ae.restoration_dataset(images[:4], ae.make_noise("gaussian"), batch_size=8)


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
    assert out.shape == (2, *shape) and out.min() >= 0 and out.max() <= 1


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


def test_photo_self_ensemble_turns_every_view_back():
    model = ae.build_photo_denoiser(filters=4)
    correction = model.get_layer("correction")
    correction.set_weights([np.zeros_like(w) for w in correction.get_weights()])  # the model returns its input
    image = np.random.default_rng(2).random((30, 21, 3)).astype(np.float32)  # odd, non-square: padded
    np.testing.assert_allclose(ae.denoise_photo(model, image, 0.1, ensemble=True), image, atol=1e-6)
    model = ae.build_photo_denoiser(filters=4)  # random weights: not rotation-invariant
    plain, averaged = ae.denoise_photo(model, image, 0.1), ae.denoise_photo(model, image, 0.1, ensemble=True)
    assert averaged.shape == plain.shape and np.abs(averaged - plain).max() > 1e-4


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
    with pytest.raises(DataError, match="missing.keras does not exist"):
        ae.load_model(tmp_path / "missing.keras")
    (tmp_path / "broken.keras").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="broken.keras is corrupt"):
        ae.load_model(tmp_path / "broken.keras")


# ----------------------------------------------------------------------------- training
def test_training_reduces_the_loss(tmp_path):
    keras.utils.set_random_seed(0)
    model = ae.build_denoiser(filters=8)
    history = ae.train(model, shapes(128), num_epochs=4, batch_size=16, learning_rate=3e-3,
                       run_dir=tmp_path / "run", verbose=0)
    assert len(history["loss"]) == 4 and history["loss"][-1] < 0.7 * history["loss"][0]
    assert any((tmp_path / "run" / "tensorboard").rglob("*tfevents*"))
    assert not (tmp_path / "run" / "backup").exists()  # deleted when fit completed


RESUME_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
    import keras
    from artlib import autoencoder as ae
    out = sys.argv[1]
    images = (np.random.default_rng(0).random((48, 8, 8, 1)) > 0.5).astype(np.float32)

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    def run(run_dir, extra=()):
        keras.utils.set_random_seed(0)
        model = ae.build_denoiser((8, 8, 1), filters=2, depth=1)
        history = ae.train(model, images, num_epochs=4, batch_size=8, steps_per_execution=2,
                           run_dir=f"{out}/{run_dir}", verbose=0, extra_callbacks=extra)
        return model, history

    straight, _ = run("straight")
    try:
        run("resumed", [Stop()])
    except KeyboardInterrupt:
        pass
    resumed, history = run("resumed")
    variables = lambda m: [v.numpy() for v in [*m.variables, *m.optimizer.variables]]
    np.savez(f"{out}/weights.npz", *variables(straight), *variables(resumed))
    json.dump({"epochs_after_resume": len(history["loss"]), "count": len(variables(straight))},
              open(f"{out}/info.json", "w"))
""")


def test_fit_resumes_exactly_at_an_epoch_boundary(tmp_path):
    """Stopped after epoch 2 of 4 and restarted, training ends with bitwise the same weights."""
    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT)
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, cwd=REPO, capture_output=True)
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["epochs_after_resume"] == 2  # it really resumed, at epoch 3
    with np.load(tmp_path / "weights.npz") as npz:
        arrays = [npz[f"arr_{i}"] for i in range(2 * info["count"])]
    straight, resumed = arrays[: info["count"]], arrays[info["count"] :]
    assert all(np.array_equal(a, b) for a, b in zip(straight, resumed))
    assert any(not np.array_equal(a, 0) for a in straight[-4:])  # optimizer moments were restored too


# ----------------------------------------------------------------------------- evaluation
def test_classical_denoisers_shapes_and_tuning():
    clean = shapes(6)
    noisy = ae.gaussian_noise(clean, (0, 0), 0.2).numpy()
    for method in ae.CLASSICAL_DENOISERS:
        grid = ae.CLASSICAL_DENOISERS[method]["fast"]
        out = ae.classical_denoise(method, noisy, 0.2, grid[0])
        assert out.shape == noisy.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
        assert np.mean(metrics.psnr(clean, out)) > np.mean(metrics.psnr(clean, noisy)), method
    tuned = ae.tune_classical(noisy, clean, 0.2, methods=["gaussian filter"])
    assert tuned["gaussian filter"][0] in ae.CLASSICAL_DENOISERS["gaussian filter"]["fast"]
    with pytest.raises(ArtlibError, match="unknown classical denoiser"):
        ae.classical_denoise("bm3d", noisy, 0.2, None)


def test_evaluate_denoisers_rows_against_numpy():
    clean, validation = shapes(12, seed=1), shapes(12, seed=2)
    identity = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Identity()])
    rows = ae.evaluate_denoisers({"identity": identity}, clean, validation_images=validation,
                                 sigmas=(0.2,), methods=["median", "wavelet"])
    assert [r["method"] for r in rows] == ["noisy input", "identity", "median", "wavelet"]
    noisy = np.clip(clean + 0.2 * tf.random.stateless_normal(clean.shape, ae._seeds((0, 0))[1]).numpy(), 0, 1)
    mse = ((noisy - clean) ** 2).mean(axis=(1, 2, 3))
    assert rows[0]["psnr"] == pytest.approx(np.mean(10 * np.log10(1 / mse)), abs=1e-3)
    assert rows[1]["psnr"] == pytest.approx(rows[0]["psnr"], abs=1e-4)  # the identity changes nothing
    table = ae.format_table(rows, value="both")
    assert table.count("\n") == 5 and "σ = 0.2" in table and "**" in table


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
    decoded, sizes, headers = ae.jpeg_round_trip(gray, 90)
    assert decoded.shape == (3, 28, 28, 1) and decoded.dtype == np.float32
    assert 0 <= decoded.min() and decoded.max() <= 1 and np.all(sizes > headers) and np.all(headers > 100)
    assert np.abs(decoded - gray.reshape(decoded.shape)).mean() < 0.02   # quality 90: close to the input
    low = ae.jpeg_round_trip(gray, 5)[0]
    assert np.abs(low - gray.reshape(low.shape)).mean() > np.abs(decoded - gray.reshape(decoded.shape)).mean()
    rgb = np.random.default_rng(0).uniform(0, 1, (2, 16, 24, 3)).astype(np.float32)
    assert ae.jpeg_round_trip(rgb, 50)[0].shape == (2, 16, 24, 3)


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
        assert main(["denoise", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
