"""Tests for artlib.diffusion: the schedule against its closed form, q(x_t | x_0), the loss, a step that lowers it,
sampling (shapes, range, DDIM determinism, guidance 0 = unconditional), save/load in safe mode, exact resume
and the CLI on good and bad input.

Models are 8 channels wide and train on bright squares. Exact resume needs op determinism, which is
process-wide, so that scenario runs this file as a script in a subprocess (``python tests/test_diffusion.py
resume DIR``), as tests/test_gan.py does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli, run_python

HERE = Path(__file__).resolve()
TINY = {"width": 8, "batch_size": 8, "num_timesteps": 50}


def tiny_images(n: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Bright squares on black, uint8 (n, 28, 28), and a label per image (the square's quadrant)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    labels = np.zeros(n, np.int32)
    for i, (y, x) in enumerate(rng.integers(2, 16, size=(n, 2))):
        images[i, y:y + 10, x:x + 10] = 255
        labels[i] = 2 * (y >= 9) + (x >= 9)
    return images, labels


def tiny_train(run_dir, num_steps, **settings):
    from artlib import diffusion

    images, labels = tiny_images()
    return diffusion.train(run_dir, {**TINY, **settings}, images=images, labels=labels, num_steps=num_steps,
                           quiet=True)


# ----------------------------------------------------------------------------- the forward process
def test_cosine_schedule_matches_its_closed_form():
    from artlib import diffusion

    T, s = 1000, 0.008
    f = lambda t: np.cos((t / T + s) / (1 + s) * np.pi / 2) ** 2  # noqa: E731
    expected = f(np.arange(1, T + 1)) / f(0)
    schedule = diffusion.NoiseSchedule.cosine(T)
    ab = schedule.alpha_bars
    assert ab.shape == (T,) and np.all(np.diff(ab) < 0) and 0 < ab[-1] < 1e-4 and ab[0] > 0.9999
    unclipped = schedule.betas < 0.999
    np.testing.assert_allclose(ab[unclipped], expected[unclipped], rtol=1e-9)
    assert unclipped.sum() >= T - 2 and schedule.betas.max() <= 0.999  # only the very last steps are clipped
    np.testing.assert_allclose(np.cumprod(schedule.alphas), ab, rtol=1e-12)


def test_q_sample_is_the_closed_form_and_has_its_moments():
    import tensorflow as tf

    from artlib import diffusion

    schedule = diffusion.NoiseSchedule.cosine(1000)
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
    noise = rng.normal(size=x0.shape).astype(np.float32)
    t = np.array([1, 250, 500, 1000], np.int32)
    xt = diffusion.q_sample(tf.constant(x0), tf.constant(t), tf.constant(noise), schedule.tensor()).numpy()
    a = schedule.alpha_bars[t - 1].reshape(-1, 1, 1, 1)
    np.testing.assert_allclose(xt, np.sqrt(a) * x0 + np.sqrt(1 - a) * noise, rtol=1e-5, atol=2e-5)  # float32
    # Over many draws: mean √ᾱ x_0 and variance 1 − ᾱ at t = 500.
    many = rng.normal(size=(4000, 1, 1, 1)).astype(np.float32)
    draws = diffusion.q_sample(tf.fill((4000, 1, 1, 1), 0.8), tf.fill((4000,), 500), tf.constant(many),
                               schedule.tensor()).numpy()
    a500 = schedule.alpha_bars[499]
    assert abs(draws.mean() - np.sqrt(a500) * 0.8) < 0.05 and abs(draws.var() - (1 - a500)) < 0.05


def test_the_loss_is_the_noise_mse():
    from artlib import diffusion

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 3, 28, 28, 1)).astype(np.float32)
    assert float(diffusion.diffusion_loss(a, b)) == pytest.approx(float(np.mean((a - b) ** 2)), rel=1e-6)


# ----------------------------------------------------------------------------- the network and a step
def test_unet_shapes_and_an_untrained_model_predicts_no_noise():
    from artlib import diffusion

    model = diffusion.build_unet(8)
    x = np.random.default_rng(0).normal(size=(3, 28, 28, 1)).astype(np.float32)
    out = model([x, np.array([1, 500, 1000], np.int32), np.array([0, 9, diffusion.NULL_CLASS], np.int32)])
    assert out.shape == (3, 28, 28, 1) and float(np.abs(out).max()) == 0.0  # the last conv starts at zero
    with pytest.raises(ValueError, match="multiple of 8"):
        diffusion.build_unet(12)


def test_training_steps_lower_the_loss_on_a_fixed_evaluation_batch():
    import keras
    import tensorflow as tf

    from artlib import diffusion

    images, labels = tiny_images(16)
    x = images[..., None].astype(np.float32) / 127.5 - 1.0
    schedule = diffusion.NoiseSchedule.cosine(50)
    model = diffusion.build_unet(8, seed=0)
    ema = diffusion.build_unet(8, seed=0)
    ema.set_weights(model.get_weights())
    optimizer = keras.optimizers.Adam(2e-3)
    optimizer.build(model.trainable_variables)  # as diffusion.train does: the step is traced once, not twice
    step = diffusion.make_train_step(model, ema, optimizer, keras.random.SeedGenerator(0), schedule,
                                     ema_decay=0.9, class_dropout=0.1)
    rng = np.random.default_rng(2)
    t = tf.constant(rng.integers(1, 51, 16).astype(np.int32))
    noise = tf.constant(rng.normal(size=x.shape).astype(np.float32))
    noisy = diffusion.q_sample(tf.constant(x), t, noise, schedule.tensor())

    def evaluation_loss():
        return float(diffusion.diffusion_loss(noise, model([noisy, t, tf.constant(labels)])))

    before = evaluation_loss()
    losses = [float(step((x, labels))["loss"]) for _ in range(15)]
    assert all(np.isfinite(losses)) and evaluation_loss() < 0.8 * before
    moved = [not np.array_equal(a, b) for a, b in zip(ema.get_weights(), model.get_weights())]
    assert any(moved)  # the EMA trails the weights


# ----------------------------------------------------------------------------- runs and sampling
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("diffusion") / "run"
    result = tiny_train(run_dir, 6)
    return run_dir, result


def test_train_writes_the_run_and_a_model_that_reloads_to_the_same_outputs(trained):
    from artlib import diffusion

    run_dir, result = trained
    assert result.final_step == 6 and len(result["loss"]) == 6
    settings = json.loads((run_dir / "settings.json").read_text())
    assert settings["width"] == 8 and settings["num_timesteps"] == 50
    model, schedule = diffusion.load_model(run_dir)
    assert schedule.num_timesteps == 50
    again, _ = diffusion.load_model(run_dir)
    x = np.random.default_rng(0).normal(size=(2, 28, 28, 1)).astype(np.float32)
    args = [x, np.array([3, 40], np.int32), np.array([1, 10], np.int32)]
    np.testing.assert_array_equal(model(args).numpy(), again(args).numpy())


def test_a_sampler_without_its_schedule_or_with_a_wrong_path_is_an_artlib_error():
    from artlib import diffusion
    from artlib.errors import ArtlibError

    with pytest.raises(ArtlibError, match="schedule must be the model's NoiseSchedule .*got NoneType"):
        diffusion.ddim_sample(None, 2, schedule=None, steps=3)  # was an AttributeError
    schedule = diffusion.NoiseSchedule.cosine(50)
    for path, said in ((True, "return_path is a list of levels from 1 to 50 .* not True; ddim_sample's"),
                       ([51], "levels must be from 1 to 50; got 51"), ([-1], "a return_path level")):
        with pytest.raises(ArtlibError, match=said):  # were a TypeError and TensorFlow's InvalidArgumentError
            diffusion.ddpm_sample(None, 1, schedule=schedule, return_path=path)


def test_sampling_shapes_range_and_ddim_determinism(trained):
    from artlib import diffusion

    model, schedule = diffusion.load_model(trained[0])
    a = diffusion.ddim_sample(model, 3, schedule=schedule, steps=5, seed=4)
    b = diffusion.ddim_sample(model, 3, schedule=schedule, steps=5, seed=4)
    c = diffusion.ddim_sample(model, 3, schedule=schedule, steps=5, seed=5)
    assert a.shape == (3, 28, 28, 1) and a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    images, path = diffusion.ddim_sample(model, 2, schedule=schedule, steps=4, seed=0, return_path=True)
    assert path.shape == (4, 2, 28, 28, 1)
    np.testing.assert_array_equal(path[-1], images)
    full, steps = diffusion.ddpm_sample(model, 2, schedule=schedule, seed=1, return_path=[50, 25, 1])
    assert full.shape == (2, 28, 28, 1) and sorted(steps) == [1, 25, 50]
    np.testing.assert_array_equal(steps[1], full)
    np.testing.assert_array_equal(full, diffusion.ddpm_sample(model, 2, schedule=schedule, seed=1))
    assert list(diffusion.ddim_timesteps(50, 5)) == [50, 38, 26, 13, 1]
    with pytest.raises(ValueError, match="at most the schedule's 50"):
        diffusion.ddim_timesteps(50, 60)


def test_any_number_of_images_samples_a_batch_at_a_time_into_the_same_images(trained):
    """More images than ``batch_size`` go through the model in parts: the images are those of one call."""
    from artlib import diffusion

    model, schedule = diffusion.load_model(trained[0])
    for sampler, kw in ((diffusion.ddim_sample, dict(steps=4, eta=1.0, order=2, guidance=2.0, labels=[1, 2, 3] * 3)),
                        (diffusion.ddpm_sample, dict(return_path=[50, 1]))):
        whole, parts = (sampler(model, 9, schedule=schedule, seed=3, batch_size=b, **kw) for b in (9, 4))
        for a, b in (zip(whole, parts) if isinstance(whole, tuple) else [(whole, parts)]):
            for key in (a if isinstance(a, dict) else [None]):
                np.testing.assert_allclose(b if key is None else b[key], a if key is None else a[key], atol=1e-4)
    assert diffusion.SAMPLE_BATCH == 256


def test_ddim_eta_one_over_every_level_is_ancestral_ddpm_and_eta_zero_is_deterministic(trained):
    from artlib import diffusion

    model, schedule = diffusion.load_model(trained[0])
    # η = 1 on all T levels adds β̃_t of fresh noise per step: the DDPM step written another way.
    ddpm = diffusion.ddpm_sample(model, 3, schedule=schedule, seed=7, labels=2)
    ddim_eta1 = diffusion.ddim_sample(model, 3, schedule=schedule, steps=50, seed=7, labels=2, eta=1.0)
    np.testing.assert_allclose(ddim_eta1, ddpm, atol=2e-4)
    deterministic = diffusion.ddim_sample(model, 3, schedule=schedule, steps=50, seed=7, labels=2)
    assert np.abs(deterministic - ddpm).max() > 0.05  # η = 0 takes no fresh noise, so it ends elsewhere
    np.testing.assert_array_equal(deterministic, diffusion.ddim_sample(model, 3, schedule=schedule, steps=50, seed=7,
                                                                       labels=2, eta=0.0))
    half = diffusion.ddim_sample(model, 3, schedule=schedule, steps=10, seed=7, eta=0.5)
    np.testing.assert_array_equal(half, diffusion.ddim_sample(model, 3, schedule=schedule, steps=10, seed=7, eta=0.5))
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="eta must be in"):
            diffusion.ddim_sample(model, 1, schedule=schedule, steps=2, eta=bad)


class GaussianOracle:
    """The exact noise predictor when every pixel of the data is N(μ, s²): ε* = (x_t − √ᾱ_t D) / √(1 − ᾱ_t) with
    D = E[x_0 | x_t] = μ + √ᾱ_t s² (x_t − √ᾱ_t μ) / (ᾱ_t s² + 1 − ᾱ_t). Along the deterministic (η = 0) path the
    noise ξ of x_t = √ᾱ_t μ + √(ᾱ_t s² + 1 − ᾱ_t) ξ never changes, so a sampler's end point is known exactly."""

    def __init__(self, schedule, mu=0.1, s=0.3):
        import tensorflow as tf

        self.alpha_bars = tf.constant(np.concatenate([[1.0], schedule.alpha_bars]), tf.float32)
        self.mu, self.s = mu, s

    def __call__(self, inputs, training=False):
        import tensorflow as tf

        x, t, _ = inputs
        a = tf.reshape(tf.gather(self.alpha_bars, t), (-1, 1, 1, 1))
        d = self.mu + tf.sqrt(a) * self.s**2 * (x - tf.sqrt(a) * self.mu) / (a * self.s**2 + 1 - a)
        return (x - tf.sqrt(a) * d) / tf.sqrt(1 - a)

    def exact(self, start_noise, a_bar_top):
        """Where the deterministic path from ``start_noise`` at ᾱ_T ends, as images in [0, 1]."""
        xi = (start_noise - np.sqrt(a_bar_top) * self.mu) / np.sqrt(a_bar_top * self.s**2 + 1 - a_bar_top)
        return np.clip((self.mu + self.s * xi + 1) / 2, 0, 1)


def test_second_order_ddim_converges_at_second_order():
    import tensorflow as tf

    from artlib import diffusion

    schedule = diffusion.NoiseSchedule.cosine()
    oracle = GaussianOracle(schedule)
    start = tf.random.stateless_normal((2, 28, 28, 1), seed=(3, 0)).numpy().astype(np.float64)  # the sampler's noise
    exact = oracle.exact(start, schedule.alpha_bars[-1])
    error = {(order, steps): np.abs(diffusion.ddim_sample(oracle, 2, schedule=schedule, steps=steps, order=order,
                                                          seed=3) - exact).mean()
             for order in (1, 2) for steps in (25, 50, 100, 200)}  # (the last jump leaves a floor of ~1e-5)
    # Twice the steps: a first-order method halves its error, a second-order one quarters it (once the steps are
    # short enough; the jump into level 1, where λ shoots up, keeps it from doing so sooner).
    for steps in (50, 100):
        assert 1.6 < error[1, steps] / error[1, 2 * steps] < 2.4, error
    assert error[2, 100] / error[2, 200] > 3.2, error
    assert error[2, 200] < error[1, 200] / 3, error
    # ddim_sample's stated limit: on this deterministic path, 25 steps of order 2 overshoot on that jump.
    assert error[2, 25] > error[1, 25], error


@pytest.mark.parametrize("bad", [0, 3, True, np.True_, 2.0, 1.5, "2", None])
def test_ddim_order_other_than_1_or_2_is_refused(bad):
    from artlib import diffusion

    with pytest.raises(ValueError, match="order must be 1"):  # refused before the model is called
        diffusion.ddim_sample(None, 1, schedule=diffusion.NoiseSchedule.cosine(), steps=2, order=bad)


def test_second_order_with_fresh_noise_is_the_sde_dpm_solver_step(trained):
    """η = 1, order 2 against SDE-DPM-Solver++ 2M written in its own form (Lu et al. 2022, as k-diffusion does):
    x_s = (σ_s/σ_t) e^(−h) x_t + α_s (1 − e^(−2h)) (D + (D − D_last) / 2r) + σ_s √(1 − e^(−2h)) z, r = h_last / h,
    first order on the first jump; the last jump returns D."""
    import tensorflow as tf

    from artlib import diffusion

    model, schedule = diffusion.load_model(trained[0])
    ab = np.concatenate([[1.0], schedule.alpha_bars])
    levels = np.append(diffusion.ddim_timesteps(schedule.num_timesteps, 6), 0)
    x = tf.random.stateless_normal((3, 28, 28, 1), seed=(5, 0)).numpy().astype(np.float64)
    lam = lambda a: 0.5 * np.log(a / (1 - a))  # noqa: E731  λ, half the log signal-to-noise ratio
    last = None
    for t, s in zip(levels[:-1], levels[1:]):
        eps = model([x.astype(np.float32), np.full(3, t, np.int32), np.full(3, 2, np.int32)]).numpy()
        d = np.clip((x - np.sqrt(1 - ab[t]) * eps) / np.sqrt(ab[t]), -1, 1)
        if s == 0:
            x = d
            break
        h = lam(ab[s]) - lam(ab[t])
        moved = d if last is None else d + (d - last[0]) * h / (2 * last[1])
        z = tf.random.stateless_normal(x.shape, seed=tf.constant([5, t], tf.int32)).numpy()
        x = (np.sqrt(1 - ab[s]) / np.sqrt(1 - ab[t]) * np.exp(-h) * x + np.sqrt(ab[s]) * -np.expm1(-2 * h) * moved
             + np.sqrt(1 - ab[s]) * np.sqrt(-np.expm1(-2 * h)) * z)
        last = d, h
    images = diffusion.ddim_sample(model, 3, schedule=schedule, steps=6, labels=2, eta=1.0, order=2, seed=5)
    np.testing.assert_allclose(images, np.clip((x + 1) / 2, 0, 1), atol=2e-4)
    first = diffusion.ddim_sample(model, 3, schedule=schedule, steps=6, labels=2, eta=1.0, seed=5)
    assert np.abs(images - first).max() > 1e-2  # the correction changes the images: the comparison has teeth


def test_guidance_zero_is_the_unconditional_model(trained):
    from artlib import diffusion

    model, schedule = diffusion.load_model(trained[0])
    unconditional = diffusion.ddim_sample(model, 3, schedule=schedule, steps=5, seed=2)
    guided_zero = diffusion.ddim_sample(model, 3, schedule=schedule, steps=5, seed=2, labels=1, guidance=0.0)
    np.testing.assert_allclose(guided_zero, unconditional, atol=1e-5)
    conditional = diffusion.ddim_sample(model, 3, schedule=schedule, steps=5, seed=2, labels=1)
    guided_one = diffusion.ddim_sample(model, 3, schedule=schedule, steps=5, seed=2, labels=1, guidance=1.0)
    np.testing.assert_allclose(guided_one, conditional, atol=1e-5)  # w = 1 takes the one-call path
    # The mixing itself, at a weight that uses it: ε̃ = ε∅ + w (ε_c − ε∅).
    x = np.random.default_rng(3).normal(size=(2, 28, 28, 1)).astype(np.float32)
    t, c = np.array([40, 7], np.int32), np.array([1, 3], np.int32)
    e_c = model([x, t, c]).numpy()
    e_none = model([x, t, np.full(2, diffusion.NULL_CLASS, np.int32)]).numpy()
    assert np.abs(e_c - e_none).max() > 10 * 1e-7  # the class changes the prediction: a wrong mix would show
    np.testing.assert_allclose(diffusion.guided_noise(model, x, t, c, 2.5).numpy(), e_none + 2.5 * (e_c - e_none),
                               atol=1e-7)
    with pytest.raises(ValueError, match="guidance must be a number ≥ 0"):
        diffusion.ddim_sample(model, 1, schedule=schedule, steps=2, labels=1, guidance=-1)
    for bad in (12, -1, "hat", [1, 12]):
        with pytest.raises(ValueError, match="unknown Fashion-MNIST class .*; give a number or a name"):
            diffusion.ddim_sample(model, 2, schedule=schedule, steps=2, labels=bad)
    with pytest.raises(ValueError, match="labels must be one class for all 2 images or one per image; got 3"):
        diffusion.ddim_sample(model, 2, schedule=schedule, steps=2, labels=[1, 2, 3])
    by_number = diffusion.ddim_sample(model, 2, schedule=schedule, steps=2, seed=2, labels=[1, 9])
    np.testing.assert_array_equal(  # names as the command line takes them, and 10 for no class
        diffusion.ddim_sample(model, 2, schedule=schedule, steps=2, seed=2, labels=["trouser", "Ankle boot"]),
        by_number)
    np.testing.assert_array_equal(diffusion.ddim_sample(model, 2, schedule=schedule, steps=2, seed=2, labels=[10]),
                                  diffusion.ddim_sample(model, 2, schedule=schedule, steps=2, seed=2))


def test_num_images_keeps_the_first_images_and_their_labels():
    import importlib

    from artlib.errors import DataError

    module = importlib.import_module("artlib.diffusion.train")  # the package exports the function, not the module
    images, labels = tiny_images(24)
    x, y = module._training_data(images, labels, 10, 8)
    assert x.shape == (10, 28, 28, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0], images[:10] / 127.5 - 1.0, atol=1e-6)  # [0, 255] -> [-1, 1]
    np.testing.assert_array_equal(y, labels[:10])
    with pytest.raises(DataError, match="fewer than one batch"):
        module._training_data(images, labels, 4, 8)
    with pytest.raises(DataError, match="num_images is 30 but only 24 training images are there"):
        module._training_data(images, labels, 30, 8)  # as the GAN refuses it, not 24 silently


def test_bad_training_input_is_refused(tmp_path):
    from artlib import diffusion
    from artlib.errors import ArtlibError, CheckpointError, DataError

    images, labels = tiny_images()
    with pytest.raises(DataError, match="needs a class label"):
        diffusion.train(tmp_path / "a", TINY, images=images, num_steps=1)
    with pytest.raises(DataError, match="labels must be 0"):
        diffusion.train(tmp_path / "b", TINY, images=images, labels=labels + 20, num_steps=1)
    with pytest.raises(ArtlibError, match="unknown diffusion settings"):
        diffusion.DiffusionSettings(depth=3)
    with pytest.raises(ArtlibError, match="ema_decay must be in"):
        diffusion.DiffusionSettings(ema_decay=1.0)
    with pytest.raises(CheckpointError, match="not found"):
        diffusion.load_model(tmp_path / "nothing")


# ----------------------------------------------------------------------------- exact resume
def scenario_resume(out: Path) -> None:
    """Train 5 steps straight; and 2, then on to 5 from fresh models initialised from another seed.

    The checkpoints are compared, not the sample grids: the grid sampler is a grey stub here, as in
    tests/test_kill.py (its 20 DDIM steps, traced in each run, cost a quarter of the scenario). A grid
    reads only the EMA weights, which are compared; the trained fixture above draws real ones.
    """
    import importlib

    import tensorflow as tf

    from artlib import training

    train_module = importlib.import_module("artlib.diffusion.train")  # the module (the package exports its function)
    sampling = importlib.import_module("artlib.diffusion.sampling")
    sampling.ddim_sample = lambda model, n, **options: np.full((n, 28, 28, 1), 0.5, np.float32)

    tf.config.experimental.enable_op_determinism()
    tiny_train(out / "straight", 5)
    tiny_train(out / "resumed", 2)
    build_unet, train_loop, calls = train_module.build_unet, training.train_loop, []
    train_module.build_unet = lambda width, seed=0, name="u": build_unet(width, seed=seed + 99, name=name)

    def recorded(*args, **kwargs):
        result = train_loop(*args, **kwargs)
        calls.append(result["step"])
        return result

    training.train_loop = recorded
    tiny_train(out / "resumed", 5)
    (out / "calls.json").write_text(json.dumps(calls))


def test_stop_and_resume_equals_uninterrupted(tmp_path):
    import tensorflow as tf

    run_python(HERE, "resume", tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "2"}, check=True)

    def tensors(run):
        reader = tf.train.load_checkpoint(str(tmp_path / run / "checkpoints" / "ckpt-5"))
        return {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map() if "OBJECT_GRAPH" not in n}

    straight, resumed = tensors("straight"), tensors("resumed")
    assert set(straight) == set(resumed) and any(n.startswith("ema_model/") for n in straight)
    for name in straight:
        if not name.startswith("save_counter"):
            np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)
    assert json.loads((tmp_path / "calls.json").read_text()) == [[3, 4, 5]]


# ----------------------------------------------------------------------------- the command line
def test_cli_samples_and_draws_the_path(trained, tmp_path, capsys):
    from artlib import diffusion
    from artlib.__main__ import main

    run = str(trained[0])
    assert main(["diffusion", "sample", "--run-dir", run, "-n", "4", "--steps", "5", "--class", "2",
                 "--guidance", "2", "-o", str(tmp_path / "s.npz")]) == 0
    assert "4 samples of class 2 (Pullover) (5-step DDIM, eta 1, order 2)" in capsys.readouterr().out  # says which
    images = np.load(tmp_path / "s.npz")["images"]
    model, schedule = diffusion.load_model(trained[0])
    expected = diffusion.ddim_sample(model, 4, schedule=schedule, steps=5, labels=2, guidance=2.0, seed=0,
                                     eta=1.0, order=2)[..., 0]  # the command's defaults: η 1, order 2
    np.testing.assert_allclose(images, expected, atol=1e-6)
    assert main(["diffusion", "sample", "--run-dir", run, "-n", "4", "--steps", "5", "--eta", "0", "--seed", "3",
                 "--order", "1", "-o", str(tmp_path / "d.npz")]) == 0  # no --class: a class drawn for each image
    assert "4 samples of every class (5-step DDIM, eta 0, order 1)" in capsys.readouterr().out
    drawn = diffusion.drawn_classes(4, 3)
    assert drawn.dtype == np.int32 and drawn.min() >= 0 and drawn.max() <= 9
    np.testing.assert_array_equal(drawn, diffusion.drawn_classes(4, 3))
    expected = diffusion.ddim_sample(model, 4, schedule=schedule, steps=5, labels=drawn, seed=3)[..., 0]
    np.testing.assert_allclose(np.load(tmp_path / "d.npz")["images"], expected, atol=1e-6)
    assert main(["diffusion", "denoise-path", "--run-dir", run, "-n", "2", "--steps", "4",
                 "-o", str(tmp_path / "p.gif")]) == 0
    from PIL import Image

    assert Image.open(tmp_path / "p.gif").n_frames >= 2  # noise first, the image last (equal frames merge)
    assert main(["diffusion", "denoise-path", "--run-dir", run, "-n", "2", "--steps", "4",
                 "-o", str(tmp_path / "p.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "p.png")).shape[1] > 4 * 28  # a strip of the 4 steps
    schedule_levels = diffusion.load_model(trained[0])[1].num_timesteps
    assert main(["diffusion", "sample", "--run-dir", run, "-n", "1", "--steps", str(schedule_levels + 1),
                 "-o", str(tmp_path / "more.png")]) == 2  # more steps than levels: an error, not quietly fewer
    assert not (tmp_path / "more.png").exists()


@pytest.mark.parametrize("argv, message", [
    (["diffusion", "sample", "--class", "10", "-o", "x.png"], "unknown Fashion-MNIST class 10;"),
    (["diffusion", "sample", "--class", "1", "--guidance", "-1", "-o", "x.png"], "--guidance: -1 must be a number of"),
    (["diffusion", "sample", "--guidance", "inf", "-o", "x.png"], "--guidance: inf must be a number of at least 0"),
    (["diffusion", "sample", "--guidance", "lots", "-o", "x.png"], "--guidance: 'lots' is not a number"),
    (["diffusion", "sample", "-n", "0", "-o", "x.png"], "-n"),
    (["diffusion", "sample", "--eta", "1.5", "-o", "x.png"], "--eta: 1.5 must be in [0, 1]"),
    (["diffusion", "denoise-path", "--eta", "nan", "-o", "x.gif"], "--eta: nan must be in [0, 1]"),
    (["diffusion", "sample", "--eta", "some", "-o", "x.png"], "--eta: 'some' is not a number"),
    (["diffusion", "sample", "-o", "x.jpg"], ".npz"),
    (["diffusion", "sample", "--order", "3", "-o", "x.png"], "--order: 3 must be 1 or 2"),
    (["diffusion", "denoise-path", "--order", "two", "-o", "x.gif"], "--order: 'two' is not an integer"),
    (["diffusion", "train", "--steps", "0"], "--steps"),
])
def test_cli_bad_values_are_one_line_errors(tmp_path, argv, message):
    result = run_cli(*argv, cwd=tmp_path, env={"ARTLIB_FORBID_TENSORFLOW": "1"})
    assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_cli_a_missing_run_is_one_line(tmp_path):
    result = run_cli("diffusion", "sample", "--run-dir", str(tmp_path / "none"), "-o", str(tmp_path / "a.png"))
    assert result.returncode == 2 and "not found" in result.stderr and result.stderr.count("\n") == 1, result.stderr


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    if sys.argv[1] == "resume":
        scenario_resume(Path(sys.argv[2]))
