"""Tests for artlib.gan: builders, the loss family against NumPy, steps, save/load, sampling, resume, CLI.

Exact resume needs op determinism, which is process-wide, so those tests run
this file as a script in a subprocess (``python tests/test_gan.py resume DIR``,
``... progressive-resume DIR``) through conftest's :func:`run_python`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_python

HERE = Path(__file__).resolve()


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


def tiny_train(run_dir, num_steps, *, num_images=48, max_seconds=None, **settings):
    """gan.train on ``num_images`` tiny images (48: 3 batches an epoch) with narrow models."""
    from artlib import gan

    settings = gan.GANSettings(**{**TINY, **settings})
    return gan.train(run_dir, settings, images=tiny_images(num_images), labels=np.arange(num_images) % 10,
                     num_steps=num_steps, quiet=True, max_seconds=max_seconds)


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
        if conditional:  # the label changes the picture drawn from the same z
            other = keras.ops.convert_to_numpy(generator([z[:, :latent_dim], labels[::-1]]))
            assert np.abs(other - images).max() > 1e-4
    for discriminator in (gan.build_tutorial_discriminator(conditional=conditional),
                          gan.build_discriminator(conditional=conditional)):
        x = np.random.default_rng(0).random((3, 28, 28, 1), np.float32)
        logits = keras.ops.convert_to_numpy(discriminator([x, labels] if conditional else x, training=False))
        assert logits.shape == (3, 1) and logits.dtype == np.float32
        if conditional:
            other = keras.ops.convert_to_numpy(discriminator([x, labels[::-1]], training=False))
            assert np.abs(other - logits).max() > 1e-6  # the projection term sees the label


def test_builders_refuse_sizes_that_make_no_sense():
    from artlib import gan
    from artlib.errors import ArtlibError

    with pytest.raises(ArtlibError, match="latent_dim must be a positive integer; got 0"):
        gan.build_generator(0)
    with pytest.raises(ArtlibError, match="width must be an integer ≥ 2; got 1"):
        gan.build_generator(8, width=1)
    with pytest.raises(ArtlibError, match="width must be a positive integer; got -4"):
        gan.build_discriminator(width=-4)
    with pytest.raises(ArtlibError, match="dropout"):
        gan.build_tutorial_discriminator(dropout=1.0)


def test_the_generator_upsamples_by_resize_convolution_or_transposed_convolution():
    import keras

    from artlib import gan
    from artlib.errors import ArtlibError

    def kinds(model):
        return {type(layer).__name__ for layer in model.layers}

    resized, transposed = gan.build_generator(8, width=8), gan.build_generator(8, width=8, upsample="transpose")
    assert {"UpSampling2D"} <= kinds(resized) and "Conv2DTranspose" not in kinds(resized)  # the default
    assert "Conv2DTranspose" in kinds(transposed) and "UpSampling2D" not in kinds(transposed)
    z = np.random.default_rng(0).normal(size=(2, 8)).astype(np.float32)
    for generator in (resized, transposed):
        assert keras.ops.convert_to_numpy(generator(z)).shape == (2, 28, 28, 1)
    # Weights at width 64: the Dense layer's 401,408 and two 3×3 convolutions (73,728 + 18,432) against 4×4
    # transposed ones (131,072 + 32,768); both with the same batch norms and last convolution.
    difference = (131_072 + 32_768) - (73_728 + 18_432)
    assert gan.build_generator(upsample="transpose").count_params() - gan.build_generator().count_params() == difference
    with pytest.raises(ArtlibError, match="upsample must be one of 'resize', 'transpose'; got 'bilinear'"):
        gan.build_generator(8, upsample="bilinear")
    with pytest.raises(ArtlibError, match="upsample must be one of"):
        gan.GANSettings(upsample="bilinear")


def test_a_run_written_before_the_upsample_setting_reads_as_transposed_and_resumes_so(tmp_path):
    import json

    from artlib import gan
    from artlib.errors import CheckpointError

    assert gan.GANSettings()["upsample"] == "resize"
    tiny_train(tmp_path, 1, upsample="transpose")
    written = json.loads((tmp_path / "settings.json").read_text())
    del written["upsample"]  # as a run directory from before the setting existed wrote it
    (tmp_path / "settings.json").write_text(json.dumps(written))
    assert gan.load_settings(tmp_path)["upsample"] == "transpose"
    with pytest.raises(CheckpointError, match="other settings"):
        tiny_train(tmp_path, 2)  # today's default would rebuild another generator: refused, not mixed
    assert tiny_train(tmp_path, 2, upsample="transpose").final_step == 2  # resumed with what it trained with
    assert json.loads((tmp_path / "settings.json").read_text())["upsample"] == "transpose"


def test_what_upsamples_by_transposed_convolution_says_so():
    import keras

    from artlib import gan
    from artlib.cli.gan import _upsample_of

    # The tutorial's generator has transposed convolutions whatever is asked, so its runs never differ by it.
    assert gan.tutorial_settings()["upsample"] == gan.GANSettings(arch="tutorial", upsample="resize")["upsample"] \
        == "transpose"
    # The shipped runs of notebook 09 were trained before the setting: read as transposed, and built so.
    nine = gan.INNOVATION_DIR / "nine"
    assert gan.load_settings(nine)["upsample"] == "transpose"
    assert any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in gan.load_generator(nine).layers)
    assert gan.load_settings(gan.PRETRAINED_DIR)["upsample"] == "resize"  # the shipped generator: today's
    # `gan train` run again in a run directory resumes it with its own upsampling; a new one gets the default.
    assert _upsample_of(str(nine)) == "transpose" and _upsample_of(str(gan.PRETRAINED_DIR)) == "resize"
    assert _upsample_of("no/such/run") == "resize"


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
    if loss in ("minimax", "bce"):  # d_real, d_fake are mean sigmoid outputs
        assert 0 < float(losses["d_real"]) < 1 and 0 < float(losses["d_fake"]) < 1
    after = [v.numpy() for v in generator.trainable_variables + discriminator.trainable_variables]
    n_g = len(generator.trainable_variables)
    assert any(not np.array_equal(a, b) for a, b in zip(before[:n_g], after[:n_g])), "generator unchanged"
    assert any(not np.array_equal(a, b) for a, b in zip(before[n_g:], after[n_g:])), "discriminator unchanged"


def test_discriminator_loss_falls_on_tiny_data():
    import keras

    from artlib import gan

    generator, discriminator = tiny_models()
    g_optimizer, d_optimizer = keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5)
    g_optimizer.build(generator.trainable_variables)  # as gan.train does: the step is traced once, not twice
    d_optimizer.build(discriminator.trainable_variables)
    step = gan.make_train_step(generator, discriminator, g_optimizer, d_optimizer, keras.random.SeedGenerator(0))
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


def test_fade_in_weights_and_what_each_alpha_draws():
    import keras

    from artlib import gan
    from artlib.errors import ArtlibError

    assert [gan.fade_in_alpha(0, i, 10) for i in range(3)] == [1.0, 1.0, 1.0]  # nothing to fade from
    np.testing.assert_allclose([gan.fade_in_alpha(1, i, 10) for i in range(10)],
                               [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert gan.fade_in_alpha(2, 1, 2) == 1.0  # the shortest fade: one step at alpha 0
    outputs = [keras.ops.convert_to_numpy(o) for o in
               gan.build_progressive_generator(8, width=8)(np.ones((2, 8), np.float32))]
    new = outputs[1].repeat(2, 1).repeat(2, 2)  # the 14×14 head shown at 28×28
    old = outputs[0].repeat(4, 1).repeat(4, 2)  # the 7×7 head shown at 28×28
    np.testing.assert_allclose(gan.progressive_images(outputs, 1, 1.0), new, atol=1e-6)
    np.testing.assert_allclose(gan.progressive_images(outputs, 1, 0.0), old, atol=1e-6)
    np.testing.assert_allclose(gan.progressive_images(outputs, 1, 0.25), 0.25 * new + 0.75 * old, atol=1e-6)
    with pytest.raises(ArtlibError, match="level must be 0, 1 or 2"):
        gan.progressive_images(outputs, 3, 1.0)


def test_fade_in_steps_sets_the_length_of_the_fade_and_zero_skips_it(tmp_path):
    import json

    from artlib import gan
    from artlib.errors import ArtlibError

    assert [gan.fade_in_alpha(1, i, 10, 0) for i in range(3)] == [1.0, 1.0, 1.0]  # the new level at once
    np.testing.assert_allclose([gan.fade_in_alpha(2, i, 10, 4) for i in range(6)], [0, 0.25, 0.5, 0.75, 1, 1])
    assert [gan.fade_in_alpha(1, i, 10, None) for i in range(6)] == [gan.fade_in_alpha(1, i, 10) for i in range(6)]
    assert gan.fade_in_alpha(0, 0, 10, 5) == 1.0  # level 0 has nothing to fade from
    for bad in (-1, 1.5, True):
        with pytest.raises(ArtlibError, match="fade_in_steps must be an integer"):
            gan.fade_in_alpha(1, 0, 10, bad)
    with pytest.raises(ArtlibError, match="fade_in_steps must be an integer"):
        gan.train_progressive(tiny_images(8), steps_per_level=2, batch_size=4, fade_in_steps=-1)
    # Without a fade, the 28×28 level starts from its own head: its first snapshot differs from the faded run's.
    kwargs = dict(steps_per_level=2, batch_size=4, latent_dim=8, seed=1, num_samples=2, quiet=True)
    _, faded = gan.train_progressive(tiny_images(8), run_dir=tmp_path / "faded", **kwargs)
    _, jumped = gan.train_progressive(tiny_images(8), run_dir=tmp_path / "jumped", fade_in_steps=0, **kwargs)
    np.testing.assert_array_equal(faded[0], jumped[0])  # level 0 is the same either way
    assert not np.array_equal(faded[2], jumped[2])
    assert json.loads((tmp_path / "jumped" / "28x28" / "settings.json").read_text())["fade_in_steps"] == 0
    assert "fade_in_steps" not in json.loads((tmp_path / "faded" / "28x28" / "settings.json").read_text())


def test_train_progressive_trains_every_head_from_its_seed(tmp_path):
    import json

    import keras

    from artlib import gan
    from artlib.errors import ArtlibError

    generator, snapshots = gan.train_progressive(tiny_images(32), steps_per_level=6, batch_size=8, latent_dim=8,
                                                 seed=3, num_samples=4, run_dir=tmp_path, quiet=True)
    assert len(snapshots) == 3
    for snapshot in snapshots:
        assert snapshot.shape == (4, 28, 28) and snapshot.dtype == np.float32
        assert 0 <= snapshot.min() and snapshot.max() <= 1
    # Each level's picture has that level's resolution: 4×4 blocks at 7×7, 2×2 blocks at 14×14.
    np.testing.assert_array_equal(snapshots[0], snapshots[0][:, ::4, ::4].repeat(4, 1).repeat(4, 2))
    np.testing.assert_array_equal(snapshots[1], snapshots[1][:, ::2, ::2].repeat(2, 1).repeat(2, 2))
    assert not np.array_equal(snapshots[2], snapshots[2][:, ::2, ::2].repeat(2, 1).repeat(2, 2))
    keras.utils.set_random_seed(3)
    untrained = gan.build_progressive_generator(8)  # the same start as train_progressive's
    for size in gan.PROGRESSIVE_SIZES:
        before = untrained.get_layer(f"to_image_{size}").kernel.numpy()
        after = generator.get_layer(f"to_image_{size}").kernel.numpy()
        change = np.abs(after - before).max()
        assert 0 < change < 0.01, (size, change)  # trained a few Adam(2e-4) steps from the same weights
    # One run directory a level, written by training.train_loop.
    for size in gan.PROGRESSIVE_SIZES:
        run = tmp_path / f"{size}x{size}"
        history = json.loads((run / "history.json").read_text())
        assert history["step"] == [1, 2, 3, 4, 5, 6] and set(history) == {"step", "d_loss", "g_loss"}
        assert np.all(np.isfinite(history["d_loss"] + history["g_loss"]))
        assert (run / "checkpoints" / "ckpt-6.index").is_file() and (run / "losses.png").is_file()
    d_loss = json.loads((tmp_path / "7x7" / "history.json").read_text())["d_loss"]
    assert np.mean(d_loss[-2:]) < d_loss[0] - 0.1, d_loss  # the discriminator learns the blurred squares
    with pytest.raises(ArtlibError, match="steps_per_level must be a positive integer; got 0"):
        gan.train_progressive(tiny_images(8), steps_per_level=0)


def test_train_progressive_resumes_exactly_after_an_interruption(tmp_path):
    """Killed after step 2 of the 14×14 level, then restarted from other initial weights: the checkpoints
    of the finished level and of the interrupted one give the uninterrupted run's weights and snapshots."""
    import json

    run_python(HERE, "progressive-resume", tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "2"}, check=True)
    straight = _checkpoint_tensors(tmp_path / "straight" / "28x28", 4)
    resumed = _checkpoint_tensors(tmp_path / "resumed" / "28x28", 4)
    assert set(straight) == set(resumed) and any(n.startswith("generator/") for n in straight)
    for name in straight:
        if not name.startswith("save_counter"):
            np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)
    with np.load(tmp_path / "straight.npz") as a, np.load(tmp_path / "resumed.npz") as b:
        for level in range(3):
            np.testing.assert_array_equal(b[f"level_{level}"], a[f"level_{level}"])
    interrupted = _checkpoint_tensors(tmp_path / "resumed" / "14x14", 2)  # the test can fail: it differs
    assert any(not np.array_equal(interrupted[n], straight[n]) for n in straight if n.startswith("generator/"))
    # The restart only restored 7×7, went on at step 3 of 14×14 and trained 28×28 from the start.
    assert json.loads((tmp_path / "calls.json").read_text()) == [[], [3, 4], [1, 2, 3, 4]]


# ----------------------------------------------------------------------------- runs, sampling
@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("gan") / "run"
    history = tiny_train(run_dir, 4)
    return run_dir, history


def test_train_writes_the_run_directory(trained_run):
    import json

    import tensorflow as tf
    from PIL import Image

    from artlib import gan

    run_dir, result = trained_run
    assert result.stopped == "done" and result.final_step == 4 and result.run_dir == run_dir
    assert result["step"] == [1, 2, 3, 4]
    assert set(result) == {"step", "d_loss", "g_loss", "d_real", "d_fake"}
    for name in ("settings.json", "generator.keras", "history.json", "samples.gif", "losses.png"):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "gan.json").exists()
    assert json.loads((run_dir / "history.json").read_text()) == result.history
    assert gan.load_settings(run_dir) == gan.GANSettings(**TINY)
    # A grid at each save (every epoch of 3 steps, and at the end), and one GIF frame per grid.
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == ["step-000003.png", "step-000004.png"]
    grid = np.asarray(Image.open(run_dir / "samples" / "step-000004.png"))
    gif = Image.open(run_dir / "samples.gif")
    assert gif.n_frames == 2 and gif.size == grid.shape[1::-1]
    tags = {value.tag for path in (run_dir / "tensorboard").rglob("events.out.tfevents.*")
            for event in tf.compat.v1.train.summary_iterator(str(path)) for value in event.summary.value}
    assert {"d_loss", "g_loss"} <= tags and any("samples" in tag for tag in tags), tags


def test_generator_round_trips_safe_mode_and_samples_are_images(trained_run):
    from artlib import gan, latent

    generator = gan.load_generator(trained_run[0])
    images = gan.sample(generator, 10, seed=5)
    assert images.shape == (10, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_allclose(images, gan.to_unit(generator(latent.latents(10, 8, 5), training=False)))
    np.testing.assert_array_equal(images, gan.sample(gan.load_generator(trained_run[0]), 10, seed=5))
    assert not np.array_equal(images, gan.sample(generator, 10, seed=6))


def test_interpolation_starts_and_ends_at_its_latents(trained_run):
    from artlib import gan, latent

    generator = gan.load_generator(trained_run[0])
    walks = gan.interpolate(generator, num_rows=2, num_steps=5, seed=1)
    assert walks.shape == (2, 5, 28, 28)
    ends = latent.latents(4, 8, 1)  # the end points interpolate() draws: a, b of row 0, then of row 1
    np.testing.assert_allclose(walks[0, 0], gan.sample(generator, latents=ends[:1])[0], atol=1e-5)
    np.testing.assert_allclose(walks[1, -1], gan.sample(generator, latents=ends[3:])[0], atol=1e-5)
    middle = latent.slerp(ends[0], ends[1], np.array([0.5], np.float32)).astype(np.float32)
    np.testing.assert_allclose(walks[0, 2], gan.sample(generator, latents=middle)[0], atol=1e-5)


def test_labels_are_checked(trained_run):
    from artlib import gan
    from artlib.errors import ArtlibError

    with pytest.raises(ArtlibError, match="unconditional GAN"):
        gan.sample(gan.load_generator(trained_run[0]), 4, label=3)
    generator, _ = tiny_models(conditional=True)
    for bad in (10, -1, "hat"):
        with pytest.raises(ArtlibError, match=f"unknown Fashion-MNIST class {bad!r}; give a number or a name"):
            gan.sample(generator, 4, label=bad)
    boots = gan.sample(generator, 4, label=9)
    assert boots.shape == (4, 28, 28)
    np.testing.assert_array_equal(gan.sample(generator, 4, label="Ankle boot"), boots)  # a class by name
    np.testing.assert_array_equal(gan.interpolate(generator, num_rows=1, num_steps=2, label="ankle-boot"),
                                  gan.interpolate(generator, num_rows=1, num_steps=2, label=9))
    for call in (lambda: gan.sample(str(trained_run[0]), 4), lambda: gan.interpolate(None)):
        with pytest.raises(ArtlibError, match=r"generator must be a Keras model: load a run's with "
                                              r"gan.load_generator\(run_dir\)"):
            call()


def test_settings_given_as_numpy_numbers_are_stored_as_python_ones_that_json_writes():
    import json

    from artlib import diffusion, gan

    numpy_values = dict(latent_dim=np.int64(16), batch_size=np.int32(8), num_images=np.int64(64),
                        learning_rate=np.float32(5e-4), creative_weight=np.float32(0.5),
                        creative_start=np.int64(3), creative_warmup=np.uint8(2))
    settings = gan.GANSettings(**numpy_values)
    assert json.loads(json.dumps(settings)) == gan.GANSettings(**{k: v.item() for k, v in numpy_values.items()})
    assert all(type(settings[k]) in (int, float) for k in numpy_values)
    assert gan.GANSettings(freeze_d=np.int64(1), init_from="run")["freeze_d"] == 1
    steps = diffusion.DiffusionSettings(num_steps=np.int64(10), width=np.int32(8), learning_rate=np.float32(1e-3))
    assert json.loads(json.dumps(steps))["num_steps"] == 10


def test_other_settings_in_the_same_run_dir_are_refused(trained_run):
    from artlib.errors import CheckpointError

    with pytest.raises(CheckpointError, match="other settings"):
        tiny_train(trained_run[0], 6, loss="lsgan")


def test_time_budget_stops_early_and_the_next_call_resumes(tmp_path):
    """A tiny max_seconds stops after the first step; calling again runs the next one, not the first again."""
    import json

    huge = 10 ** 9
    run_dir = tmp_path / "budget"
    first = tiny_train(run_dir, huge, max_seconds=1e-3)
    assert first.stopped == "max_seconds" and first.final_step == 1 and first["step"] == [1]
    assert (run_dir / "generator.keras").is_file() and (run_dir / "checkpoints" / "ckpt-1.index").is_file()
    second = tiny_train(run_dir, huge, max_seconds=1e-3)
    assert second.stopped == "max_seconds" and second["step"] == [2]  # resumed at 1, did not start over
    whole = json.loads((run_dir / "history.json").read_text())
    assert whole["step"] == [1, 2] and whole["d_loss"] == first["d_loss"] + second["d_loss"]


def test_a_run_directory_with_the_old_gan_json_still_loads_and_is_checked(tmp_path):
    import json

    from artlib import gan
    from artlib.errors import CheckpointError

    assert gan.load_settings(gan.PRETRAINED_DIR) == gan.GANSettings()  # the shipped run's settings.json
    (tmp_path / "gan.json").write_text(json.dumps(dict(gan.GANSettings(**TINY))))  # written before settings.json
    (tmp_path / "history.json").write_text('{"step": [1, 2], "d_loss": [1.4, 1.3]}')  # the run had trained
    assert gan.load_settings(tmp_path) == gan.GANSettings(**TINY)
    with pytest.raises(CheckpointError, match="other settings"):
        tiny_train(tmp_path, 2, loss="lsgan")
    assert gan.load_settings(tmp_path) == gan.GANSettings(**TINY)  # now also as settings.json
    assert json.loads((tmp_path / "settings.json").read_text()) == dict(gan.GANSettings(**TINY))
    with pytest.raises(CheckpointError, match="no settings.json"):
        gan.load_settings(tmp_path / "nothing")


def test_missing_or_damaged_generator_is_a_clear_error(tmp_path):
    from artlib import gan
    from artlib.errors import CheckpointError

    with pytest.raises(CheckpointError, match="gan train --run-dir"):
        gan.load_generator(tmp_path)
    (tmp_path / "generator.keras").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="corrupt"):
        gan.load_generator(tmp_path)
    gan.build_discriminator(width=4).save(tmp_path / "generator.keras")  # a model, but not a generator
    with pytest.raises(CheckpointError, match="not a GAN generator"):
        gan.load_generator(tmp_path)


def test_a_missing_shipped_generator_is_a_data_error(tmp_path, monkeypatch):
    from artlib.errors import DataError
    from artlib.gan import run

    monkeypatch.setattr(run, "PRETRAINED_DIR", tmp_path)
    with pytest.raises(DataError, match="the shipped GAN generator is missing or damaged"):
        run.load_generator()


def test_counts_and_rates_that_make_no_sense_are_refused(trained_run, tmp_path):
    from artlib import gan
    from artlib.errors import ArtlibError

    for bad, message in (({"batch_size": 0}, "batch_size must be a positive integer; got 0"),
                         ({"num_images": 0}, "num_images must be a positive integer; got 0"),
                         ({"num_epochs": -1}, "num_epochs must be a positive integer; got -1"),
                         ({"learning_rate": 0.0}, "learning_rate must be a positive number; got 0.0"),
                         ({"gp_weight": -1.0}, "gp_weight must be a number ≥ 0; got -1.0"),
                         ({"beta_1": 1.0}, r"beta_1 must be in \[0, 1\); got 1.0")):
        with pytest.raises(ArtlibError, match=message):
            gan.GANSettings(**bad)
    for kwargs, message in (({"num_steps": 0}, "num_steps must be a positive integer; got 0"),
                            ({"max_seconds": 0}, "max_seconds must be a positive number; got 0")):
        with pytest.raises(ArtlibError, match=message):
            tiny_train(tmp_path / "bad", **{"num_steps": 5, **kwargs})
    assert not (tmp_path / "bad").exists()  # refused before anything was written
    generator = gan.load_generator(trained_run[0])
    with pytest.raises(ArtlibError, match="n must be a positive integer; got 0"):
        gan.sample(generator, 0)
    with pytest.raises(ArtlibError, match="latents must have shape"):
        gan.sample(generator, latents=np.zeros((2, 5), np.float32))
    with pytest.raises(ArtlibError, match="num_rows must be a positive integer; got 0"):
        gan.interpolate(generator, num_rows=0)


# ----------------------------------------------------------------------------- CLI
def test_cli_sample_png_npz_and_interpolate(trained_run, tmp_path):
    from artlib.__main__ import main

    run = str(trained_run[0])
    assert main(["gan", "sample", "--run-dir", run, "-n", "6", "-o", str(tmp_path / "s.npz")]) == 0
    from PIL import Image

    from artlib import gan, plotting

    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (6, 28, 28) and images.dtype == np.float32
    np.testing.assert_array_equal(images, gan.sample(gan.load_generator(trained_run[0]), 6, seed=0))
    assert main(["gan", "sample", "--run-dir", run, "-n", "4", "-o", str(tmp_path / "s.png")]) == 0
    grid = plotting.grid_array(images[:4, ..., None], ncols=2)  # the CLI's layout of 4 samples, drawn 3× (--zoom)
    np.testing.assert_allclose(np.asarray(Image.open(tmp_path / "s.png"))[1::3, 2::3] / 255, grid, atol=1 / 255)
    assert main(["gan", "sample", "--run-dir", run, "-n", "4", "--zoom", "1", "-o", str(tmp_path / "s1.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "s1.png")).shape[:2] == grid.shape[:2]
    assert main(["gan", "interpolate", "--run-dir", run, "--rows", "2", "--steps", "3",
                 "-o", str(tmp_path / "walk.gif")]) == 0
    walk = Image.open(tmp_path / "walk.gif")
    assert walk.n_frames == 4  # 3 images there and 1 back (0 1 2 1), then the loop starts again
    assert walk.size == plotting.grid_array(images[:2, ..., None], ncols=2, zoom=3).shape[1::-1]  # one image a walk


def test_cli_errors_exit_2_with_one_line(trained_run, tmp_path, capsys):
    from artlib.__main__ import main

    run = str(trained_run[0])
    cases = [
        (["gan", "sample", "--run-dir", str(tmp_path / "nothing"), "-o", str(tmp_path / "a.png")], "not found"),
        (["gan", "sample", "--run-dir", run, "--label", "3", "-o", str(tmp_path / "b.png")], "unconditional"),
        (["gan", "interpolate", "--run-dir", run, "-o", str(tmp_path / "c.jpg")], ".gif"),
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
    """Train 7 steps straight; and 4 steps, then on to 7 from fresh models initialised from another seed."""
    import json

    import tensorflow as tf

    from artlib import training
    from artlib.gan import run

    tf.config.experimental.enable_op_determinism()
    tiny_train(out / "straight", 7, conditional=True)
    tiny_train(out / "resumed", 4, conditional=True)  # stop mid-epoch (3 steps an epoch)
    build_models, train_loop, calls = run.build_models, training.train_loop, []
    # The second call starts from different weights: only restoring the checkpoint makes it match.
    run.build_models = lambda settings: build_models({**settings, "seed": int(settings["seed"]) + 99})

    def recorded_train_loop(*args, **kwargs):
        result = train_loop(*args, **kwargs)
        calls.append(result["step"])  # the steps this call ran
        return result

    training.train_loop = recorded_train_loop
    tiny_train(out / "resumed", 7, conditional=True)
    (out / "calls.json").write_text(json.dumps(calls))


def scenario_progressive_resume(out: Path) -> None:
    """train_progressive straight; and killed after step 2 of 14×14, then restarted from other initial weights."""
    import json

    import keras
    import tensorflow as tf

    from artlib import training
    from artlib.gan import progressive

    tf.config.experimental.enable_op_determinism()
    kwargs = {"steps_per_level": 4, "batch_size": 8, "latent_dim": 8, "seed": 3, "num_samples": 4, "quiet": True}
    _, snapshots = progressive.train_progressive(tiny_images(32), run_dir=out / "straight", **kwargs)
    np.savez(out / "straight.npz", **{f"level_{i}": s for i, s in enumerate(snapshots)})
    train_loop, calls = training.train_loop, []

    class Killed(Exception):
        pass

    def killed_train_loop(step_fn, make_dataset, *, run_dir, num_steps, **rest):
        if Path(run_dir).name != "14x14":
            return train_loop(step_fn, make_dataset, run_dir=run_dir, num_steps=num_steps, **rest)
        train_loop(step_fn, make_dataset, run_dir=run_dir, num_steps=2, **rest)  # its last checkpoint: ckpt-2
        raise Killed

    training.train_loop = killed_train_loop
    try:
        progressive.train_progressive(tiny_images(32), run_dir=out / "resumed", **kwargs)
    except Killed:
        pass
    build = progressive.build_progressive_generator

    def from_other_weights(*args, **kw):  # the restart builds G (and then D) from another seed
        keras.utils.set_random_seed(99)
        return build(*args, **kw)

    progressive.build_progressive_generator = from_other_weights

    def recorded_train_loop(*args, **kw):
        result = train_loop(*args, **kw)
        calls.append(result["step"])  # the steps this call ran
        return result

    training.train_loop = recorded_train_loop
    _, snapshots = progressive.train_progressive(tiny_images(32), run_dir=out / "resumed", **kwargs)
    np.savez(out / "resumed.npz", **{f"level_{i}": s for i, s in enumerate(snapshots)})
    (out / "calls.json").write_text(json.dumps(calls))


def _checkpoint_tensors(run_dir: Path, step: int = 7) -> dict[str, np.ndarray]:
    """Every tensor in ``run_dir``'s checkpoint ``ckpt-<step>``, by name."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(run_dir / "checkpoints" / f"ckpt-{step}"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name != "_CHECKPOINTABLE_OBJECT_GRAPH"}


def test_stop_and_resume_equals_uninterrupted(tmp_path):
    run_python(HERE, "resume", tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "2"}, check=True)
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
    assert json.loads((tmp_path / "calls.json").read_text()) == [[5, 6, 7]]  # resumed at 4, not started over


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    {"resume": scenario_resume, "progressive-resume": scenario_progressive_resume}[sys.argv[1]](Path(sys.argv[2]))


def test_the_command_line_offers_exactly_the_generators_upsamplings():
    """`gan train --upsample` lists its choices without importing TensorFlow; they must be artlib's own."""
    import argparse

    from artlib.cli import gan as cli_gan
    from artlib.gan.models import UPSAMPLING

    parser = argparse.ArgumentParser()
    cli_gan.register(parser.add_subparsers())
    train = next(a for a in parser._subparsers._group_actions[0].choices["gan"]._subparsers._group_actions[0]
                 .choices["train"]._actions if a.dest == "upsample")
    assert tuple(train.choices) == UPSAMPLING
