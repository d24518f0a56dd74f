"""Tests for artlib.gan: builders, the loss family against NumPy, steps, save/load, sampling, resume, CLI.

Exact resume needs op determinism, which is process-wide, so that test runs
this file as a script in a subprocess (``python tests/test_gan.py resume DIR``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve()
REPO = HERE.parent.parent
HANG_TIMEOUT = 600  # seconds; only catches a hung subprocess, never a speed check


def tiny_images(n: int = 48, seed: int = 0) -> np.ndarray:
    """Bright squares at random places on black: something a GAN can learn, uint8 (n, 28, 28)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for image, (y, x) in zip(images, rng.integers(2, 16, size=(n, 2))):
        image[y:y + 10, x:x + 10] = 255
    return images


def tiny_models(conditional: bool = False):
    from artlib import gan

    return (gan.build_generator(8, conditional=conditional, width=8),
            gan.build_discriminator(conditional=conditional, width=8))


TINY = {"latent_dim": 8, "batch_size": 16, "num_epochs": 1, "width": 8}


def tiny_train(run_dir, num_steps, **settings):
    """gan.train on 48 tiny images (3 batches an epoch) with narrow models."""
    from artlib import gan

    settings = gan.GANSettings(**{**TINY, **settings})
    return gan.train(run_dir, settings, images=tiny_images(), labels=np.arange(48) % 10, num_steps=num_steps,
                     quiet=True)


# ----------------------------------------------------------------------------- builders
@pytest.mark.parametrize("conditional", [False, True])
def test_builders_give_the_documented_shapes(conditional):
    import keras

    from artlib import gan

    z, labels = np.zeros((3, 100), np.float32), np.array([0, 4, 9])
    for generator, latent_dim in ((gan.build_tutorial_generator(conditional=conditional), 100),
                                  (gan.build_generator(conditional=conditional), 64)):
        inputs = [z[:, :latent_dim], labels] if conditional else z[:, :latent_dim]
        images = keras.ops.convert_to_numpy(generator(inputs))
        assert images.shape == (3, 28, 28, 1) and images.dtype == np.float32
        assert np.all(np.abs(images) <= 1.0)  # tanh
    for discriminator in (gan.build_tutorial_discriminator(conditional=conditional),
                          gan.build_discriminator(conditional=conditional)):
        x = np.zeros((3, 28, 28, 1), np.float32)
        assert discriminator([x, labels] if conditional else x).shape == (3, 1)


def test_tutorial_generator_matches_the_tutorial_size_and_artlib_is_smaller():
    from artlib import gan

    assert gan.build_tutorial_generator().count_params() == 2_330_944  # the TF tutorial's summary
    assert gan.build_tutorial_discriminator().count_params() == 212_865
    assert gan.build_generator().count_params() < gan.build_tutorial_generator().count_params() / 3


# ----------------------------------------------------------------------------- losses
def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_losses(loss, r, f):
    """The textbook formulas, written the obvious way."""
    if loss in ("minimax", "bce", "non_saturating"):
        d = -np.mean(np.log(np_sigmoid(r))) - np.mean(np.log(1 - np_sigmoid(f)))
        g = np.mean(np.log(1 - np_sigmoid(f))) if loss == "minimax" else -np.mean(np.log(np_sigmoid(f)))
    elif loss == "lsgan":
        d, g = 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2), 0.5 * np.mean((f - 1) ** 2)
    elif loss == "hinge":
        d, g = np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)), -np.mean(f)
    else:
        d, g = np.mean(f) - np.mean(r), -np.mean(f)
    return d, g


@pytest.mark.parametrize("loss", ["minimax", "bce", "non_saturating", "lsgan", "hinge", "wgan-gp"])
def test_losses_match_numpy(loss):
    from artlib import gan

    r = np.array([[2.0], [-0.5], [0.3], [4.0]], np.float32)
    f = np.array([[-3.0], [0.2], [1.5], [-0.1]], np.float32)
    d_expected, g_expected = np_losses(loss, r.astype(np.float64), f.astype(np.float64))
    np.testing.assert_allclose(float(gan.discriminator_loss(loss, r, f)), d_expected, rtol=1e-5)
    np.testing.assert_allclose(float(gan.generator_loss(loss, f)), g_expected, rtol=1e-5)


def test_minimax_saturates_and_non_saturating_does_not():
    """Where D rejects a fake (logit -6), minimax's gradient is ~σ(f) ≈ 0.0025, BCE's ≈ 1."""
    import tensorflow as tf

    from artlib import gan

    f = tf.Variable([[-6.0]])
    grads = {}
    for loss in ("minimax", "bce"):
        with tf.GradientTape() as tape:
            value = gan.generator_loss(loss, f)
        grads[loss] = abs(float(tape.gradient(value, f)[0, 0]))
    assert grads["minimax"] < 0.01 < 0.99 < grads["bce"]


def test_unknown_loss_is_an_error():
    from artlib import gan
    from artlib.errors import ArtlibError

    with pytest.raises(ArtlibError, match="unknown GAN loss 'wasserstein'"):
        gan.discriminator_loss("wasserstein", [[0.0]], [[0.0]])
    with pytest.raises(ArtlibError, match="unknown GAN loss"):
        gan.GANSettings(loss="nope")


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = <w, x> + b has gradient w everywhere, so the penalty is (‖w‖ − 1)²."""
    import keras

    from artlib import gan

    critic = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    rng = np.random.default_rng(0)
    real, fake = rng.random((4, 28, 28, 1), np.float32), rng.random((4, 28, 28, 1), np.float32)
    epsilon = rng.random((4, 1, 1, 1), np.float32)
    w = critic.layers[-1].kernel.numpy()
    expected = (np.linalg.norm(w) - 1.0) ** 2
    np.testing.assert_allclose(float(gan.gradient_penalty(critic, real, fake, epsilon)), expected, rtol=1e-4)


# ----------------------------------------------------------------------------- steps
@pytest.mark.parametrize("loss", ["minimax", "bce", "lsgan", "hinge", "wgan-gp"])
@pytest.mark.parametrize("conditional", [False, True])
def test_one_step_of_each_loss_updates_both_networks(loss, conditional):
    import keras

    from artlib import gan

    generator, discriminator = tiny_models(conditional)
    g_opt, d_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    seeds = keras.random.SeedGenerator(0)

    def step(batch):  # eagerly: the same code the tf.function runs, without tracing it ten times
        return gan.gan_step(generator, discriminator, g_opt, d_opt, batch, seeds, loss=loss)

    images = tiny_images(8).astype(np.float32)[..., None] / 127.5 - 1.0
    before = [v.numpy().copy() for v in generator.trainable_variables + discriminator.trainable_variables]
    losses = step((images, np.arange(8) % 10) if conditional else images)
    assert set(losses) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(float(v)) for v in losses.values())
    after = [v.numpy() for v in generator.trainable_variables + discriminator.trainable_variables]
    n_g = len(generator.trainable_variables)
    assert any(not np.array_equal(a, b) for a, b in zip(before[:n_g], after[:n_g])), "generator unchanged"
    assert any(not np.array_equal(a, b) for a, b in zip(before[n_g:], after[n_g:])), "discriminator unchanged"


def test_discriminator_loss_falls_on_tiny_data():
    import keras

    from artlib import gan

    generator, discriminator = tiny_models()
    step = gan.make_train_step(generator, discriminator, keras.optimizers.Adam(1e-3, beta_1=0.5),
                               keras.optimizers.Adam(1e-3, beta_1=0.5), keras.random.SeedGenerator(0))
    images = tiny_images(16).astype(np.float32)[..., None] / 127.5 - 1.0
    d_losses = [float(step(images)["d_loss"]) for _ in range(15)]
    assert np.mean(d_losses[-3:]) < d_losses[0] - 0.1, d_losses


def test_gan_model_fits_and_round_trips_through_keras_file(tmp_path):
    import keras

    from artlib import gan

    generator, discriminator = tiny_models(conditional=True)
    model = gan.GAN(generator, discriminator, loss="hinge", seed=3)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    images = tiny_images(32).astype(np.float32)[..., None] / 127.5 - 1.0
    history = model.fit(images, np.arange(32) % 10, batch_size=16, epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    z, labels = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32), np.array([1, 2, 3, 4])
    expected = model([z, labels]).numpy()
    model.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras", safe_mode=True, compile=False)
    assert isinstance(loaded, gan.GAN) and loaded.loss_name == "hinge" and loaded.conditional
    np.testing.assert_array_equal(loaded([z, labels]).numpy(), expected)


def test_gan_rejects_mixed_conditional_models():
    from artlib import gan
    from artlib.errors import ArtlibError

    generator, _ = tiny_models(conditional=True)
    _, discriminator = tiny_models(conditional=False)
    with pytest.raises(ArtlibError, match="both be conditional"):
        gan.GAN(generator, discriminator)


# ----------------------------------------------------------------------------- progressive growing
def test_progressive_fade_in_starts_from_the_smaller_picture():
    import keras

    from artlib import gan

    generator = gan.build_progressive_generator(8, width=8)
    outputs = generator(np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32))
    assert [tuple(o.shape) for o in outputs] == [(2, 7, 7, 1), (2, 14, 14, 1), (2, 28, 28, 1)]
    at_level_1 = keras.ops.convert_to_numpy(gan.progressive_images(outputs, 1, 1.0))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gan.progressive_images(outputs, 2, 0.0)), at_level_1,
                               atol=1e-6)  # alpha 0: the grown network draws what the smaller one did
    blurred = keras.ops.convert_to_numpy(gan.progressive_real(tiny_images(2)[..., None] / 255.0, 0))
    np.testing.assert_allclose(blurred[:, :4, :4], blurred[:, :1, :1].repeat(4, 1).repeat(4, 2))  # 4×4 blocks
    np.testing.assert_allclose(blurred.mean(), tiny_images(2).mean() / 255.0, rtol=1e-5)


# ----------------------------------------------------------------------------- runs, sampling
@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("gan") / "run"
    history = tiny_train(run_dir, 4)
    return run_dir, history


def test_train_writes_the_run_directory(trained_run):
    run_dir, history = trained_run
    assert history["step"] == [1, 2, 3, 4]
    for name in ("gan.json", "generator.keras", "history.json", "samples.gif", "losses.png",
                 "samples/step-000003.png", "samples/step-000004.png"):
        assert (run_dir / name).is_file(), name
    assert list((run_dir / "tensorboard").iterdir())


def test_generator_round_trips_safe_mode_and_samples_are_images(trained_run):
    from artlib import gan

    generator = gan.load_generator(trained_run[0])
    images = gan.sample(generator, 10, seed=5)
    assert images.shape == (10, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0 and images.std() > 0
    np.testing.assert_array_equal(images, gan.sample(gan.load_generator(trained_run[0]), 10, seed=5))
    assert not np.array_equal(images, gan.sample(generator, 10, seed=6))


def test_interpolation_starts_and_ends_at_its_latents(trained_run):
    from artlib import gan

    generator = gan.load_generator(trained_run[0])
    walks = gan.interpolate(generator, num_rows=2, num_steps=5, seed=1)
    assert walks.shape == (2, 5, 28, 28)
    ends = gan._latents(4, 8, 1)  # the end points interpolate() draws: a, b of row 0, then of row 1
    np.testing.assert_allclose(walks[0, 0], gan.sample(generator, latents=ends[:1])[0], atol=1e-5)
    np.testing.assert_allclose(walks[1, -1], gan.sample(generator, latents=ends[3:])[0], atol=1e-5)


def test_labels_are_checked(trained_run):
    from artlib import gan
    from artlib.errors import ArtlibError

    with pytest.raises(ArtlibError, match="unconditional GAN"):
        gan.sample(gan.load_generator(trained_run[0]), 4, label=3)
    generator, _ = tiny_models(conditional=True)
    with pytest.raises(ArtlibError, match="not a Fashion-MNIST class"):
        gan.sample(generator, 4, label=10)
    assert gan.sample(generator, 4, label=9).shape == (4, 28, 28)


def test_other_settings_in_the_same_run_dir_are_refused(trained_run):
    from artlib.errors import CheckpointError

    with pytest.raises(CheckpointError, match="other settings"):
        tiny_train(trained_run[0], 6, loss="lsgan")


def test_missing_or_damaged_generator_is_a_clear_error(tmp_path):
    from artlib import gan
    from artlib.errors import CheckpointError

    with pytest.raises(CheckpointError, match="gan train --run-dir"):
        gan.load_generator(tmp_path)
    (tmp_path / "generator.keras").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="damaged"):
        gan.load_generator(tmp_path)


# ----------------------------------------------------------------------------- CLI
def test_cli_sample_png_npz_and_interpolate(trained_run, tmp_path):
    from artlib.__main__ import main

    run = str(trained_run[0])
    assert main(["gan", "sample", "--run-dir", run, "-n", "6", "-o", str(tmp_path / "s.npz")]) == 0
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (6, 28, 28) and images.dtype == np.float32 and 0 <= images.min() <= images.max() <= 1
    assert main(["gan", "sample", "--run-dir", run, "-n", "4", "-o", str(tmp_path / "s.png")]) == 0
    assert main(["gan", "interpolate", "--run-dir", run, "--rows", "2", "--steps", "3",
                 "-o", str(tmp_path / "walk.gif")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0 and (tmp_path / "walk.gif").stat().st_size > 0


def test_cli_errors_exit_2_with_one_line(trained_run, tmp_path, capsys):
    from artlib.__main__ import main

    run = str(trained_run[0])
    cases = [
        (["gan", "sample", "--run-dir", str(tmp_path / "nothing"), "-o", str(tmp_path / "a.png")], "not found"),
        (["gan", "sample", "--run-dir", run, "--label", "3", "-o", str(tmp_path / "b.png")], "unconditional"),
        (["gan", "interpolate", "--run-dir", run, "-o", str(tmp_path / "c.jpg")], ".png or .gif"),
        (["gan", "train", "--loss", "nope", "--run-dir", str(tmp_path / "r")], "unknown GAN loss"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    (tmp_path / "exists.png").write_bytes(b"x")
    assert main(["gan", "sample", "--run-dir", run, "-o", str(tmp_path / "exists.png")]) == 2
    assert "--force" in capsys.readouterr().err


# ----------------------------------------------------------------------------- exact resume
def scenario_resume(out: Path) -> None:
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    tiny_train(out / "straight", 7, conditional=True)
    tiny_train(out / "resumed", 4, conditional=True)  # stop mid-epoch (3 steps an epoch)
    tiny_train(out / "resumed", 7, conditional=True)


def _checkpoint_tensors(run_dir: Path) -> dict[str, np.ndarray]:
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(run_dir / "checkpoints" / "ckpt-7"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name != "_CHECKPOINTABLE_OBJECT_GRAPH"}


def test_stop_and_resume_equals_uninterrupted(tmp_path):
    env = dict(os.environ, ARTLIB_OFFLINE="1", KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))
    proc = subprocess.run([sys.executable, str(HERE), "resume", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=HANG_TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    straight, resumed = _checkpoint_tensors(tmp_path / "straight"), _checkpoint_tensors(tmp_path / "resumed")
    assert set(straight) == set(resumed) and len(straight) > 20  # models, optimizers, RNG, step
    names = [n for n in straight if "optimizer" not in n]
    assert any("noise" in n for n in straight) and names
    for name in straight:
        if name.startswith("save_counter"):
            continue  # how many saves this object made: 4 and 3, as it should be
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)
    # The test can fail: ckpt-4 (where the resumed run stopped) differs from the end.
    import tensorflow as tf

    early = tf.train.load_checkpoint(str(tmp_path / "resumed" / "checkpoints" / "ckpt-4"))
    assert any(not np.array_equal(early.get_tensor(n), straight[n]) for n in names if n.startswith("generator/"))
    import json

    h_straight = json.loads((tmp_path / "straight" / "history.json").read_text())
    h_resumed = json.loads((tmp_path / "resumed" / "history.json").read_text())
    assert h_resumed["step"] == list(range(1, 8)) and h_resumed["d_loss"] == h_straight["d_loss"]


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    {"resume": scenario_resume}[sys.argv[1]](Path(sys.argv[2]))
