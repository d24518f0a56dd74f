"""Tests for artlib.vae: shapes, the loss against NumPy, training, the β sweep, exact resume, save/load, bad input.

Exact resume needs op determinism, which is process-wide, so that test runs this
file as a script in a fresh process (``python tests/test_vae.py resume <directory>``,
through conftest's :func:`run_python`), as tests/test_training.py does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import run_python

HERE = Path(__file__).resolve()


def tiny_images(n: int = 64, seed: int = 0) -> np.ndarray:
    """Blobs of varying position and size: structure a tiny VAE can learn in a few steps."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:28, :28]
    centers = rng.uniform(8, 20, size=(n, 2))
    radii = rng.uniform(3, 8, size=n)
    blobs = (yy - centers[:, 0, None, None]) ** 2 + (xx - centers[:, 1, None, None]) ** 2 < radii[:, None, None] ** 2
    return (blobs * 0.9 + 0.05).astype(np.float32)[..., np.newaxis]  # (n, 28, 28, 1)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ----------------------------------------------------------------------------- the loss against NumPy
def test_reconstruction_loss_is_bernoulli_nll_in_nats():
    from artlib.vae import reconstruction_loss

    rng = np.random.default_rng(1)
    images = rng.random((3, 28, 28, 1)).astype(np.float32)
    logits = rng.normal(0, 3, (3, 28, 28, 1)).astype(np.float32)
    p = sigmoid(logits.astype(np.float64))
    reference = -(images * np.log(p) + (1 - images) * np.log(1 - p)).sum(axis=(1, 2, 3))
    got = np.asarray(reconstruction_loss(images, logits))
    assert got.shape == (3,) and got.dtype == np.float32
    np.testing.assert_allclose(got, reference, rtol=1e-5)
    # Saturated logits stay finite where log(sigmoid) would give -inf: a logit of 80 on a black pixel
    # costs 80 nats; the 783 others, at logit 0 (p = ½), cost log 2 each.
    logits = np.zeros((1, 28, 28, 1), np.float32)
    logits[0, 0, 0, 0] = 80.0
    got = np.asarray(reconstruction_loss(np.zeros_like(logits), logits))[0]
    assert got == pytest.approx(80.0 + 783 * np.log(2.0), rel=1e-5)


def test_kl_divergence_closed_form_against_numpy_and_monte_carlo():
    from artlib.vae import kl_divergence

    mean = np.array([[0.0, 0.0], [1.0, -2.0], [0.5, 0.3]], np.float32)
    log_var = np.array([[0.0, 0.0], [0.0, 0.0], [np.log(4.0), np.log(0.25)]], np.float32)
    got = np.asarray(kl_divergence(mean, log_var))
    var = np.exp(log_var.astype(np.float64))
    reference = 0.5 * np.sum(var + mean**2 - 1.0 - np.log(var), axis=1)
    np.testing.assert_allclose(got, reference, rtol=1e-6)
    assert got[0] == 0.0 and got[1] == pytest.approx(2.5)  # ½(1² + 2²)
    # A Monte-Carlo estimate E_q[log q(z) - log p(z)] agrees with the closed form.
    rng = np.random.default_rng(0)
    z = mean[2] + np.sqrt(var[2]) * rng.standard_normal((200_000, 2))
    log_q = -0.5 * (((z - mean[2]) ** 2) / var[2] + np.log(2 * np.pi * var[2])).sum(axis=1)
    log_p = -0.5 * (z**2 + np.log(2 * np.pi)).sum(axis=1)
    assert np.mean(log_q - log_p) == pytest.approx(got[2], abs=0.02)


def test_sampling_is_the_reparameterization_trick():
    import keras
    import tensorflow as tf

    from artlib.vae import Sampling

    mean = tf.fill((50_000, 2), 1.0)
    log_var = tf.fill((50_000, 2), float(np.log(4.0)))
    z = np.asarray(Sampling(seed=3)(mean, log_var))
    assert z.mean() == pytest.approx(1.0, abs=0.03) and z.std() == pytest.approx(2.0, abs=0.03)
    # z = mean + exp(log_var / 2) · ε with ε from a generator seeded the same way.
    epsilon = np.asarray(keras.random.normal((50_000, 2), seed=keras.random.SeedGenerator(3)))
    np.testing.assert_allclose(z, 1.0 + 2.0 * epsilon, rtol=1e-5, atol=1e-5)
    again = Sampling(seed=3)
    assert np.array_equal(np.asarray(again(mean, log_var)), z)  # same seed, same draws
    assert not np.array_equal(np.asarray(again(mean, log_var)), z)  # the generator moves on
    # Gradients reach both parameters through z (that is the point of the trick).
    small_mean, small_log_var = tf.Variable(tf.zeros((4, 2))), tf.Variable(tf.zeros((4, 2)))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(Sampling(seed=0)(small_mean, small_log_var) ** 2)
    grads = tape.gradient(loss, [small_mean, small_log_var])
    assert all(g is not None and np.any(np.asarray(g) != 0) for g in grads)


def test_model_loss_terms_match_a_numpy_forward_pass():
    import keras

    from artlib import vae

    model = vae.build_vae(latent_dim=3, beta=2.0, seed=4)
    images = tiny_images(8)
    reconstruction, kl = (float(v) for v in model.loss_terms(images))
    z_mean, z_log_var = (np.asarray(v, np.float64) for v in model.encode(images))
    epsilon = np.asarray(keras.random.normal((8, 3), seed=keras.random.SeedGenerator(4)), np.float64)
    z = z_mean + np.exp(0.5 * z_log_var) * epsilon
    p = sigmoid(np.asarray(model.decoder(z.astype(np.float32)), np.float64))
    expected_reconstruction = -(images * np.log(p) + (1 - images) * np.log(1 - p)).sum(axis=(1, 2, 3)).mean()
    expected_kl = 0.5 * np.sum(np.exp(z_log_var) + z_mean**2 - 1 - z_log_var, axis=1).mean()
    assert reconstruction == pytest.approx(expected_reconstruction, rel=1e-4)
    assert kl == pytest.approx(expected_kl, rel=1e-4, abs=1e-5)
    # The reported metrics: loss = reconstruction + β·KL, neg_elbo = reconstruction + KL.
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    logs = {k: float(v) for k, v in model.test_step((images,)).items()}
    assert set(logs) == {"loss", "reconstruction", "kl", "neg_elbo"}
    assert logs["loss"] == pytest.approx(logs["reconstruction"] + 2.0 * logs["kl"], rel=1e-5)
    assert logs["neg_elbo"] == pytest.approx(logs["reconstruction"] + logs["kl"], rel=1e-5)


# ----------------------------------------------------------------------------- shapes and training
def test_builders_give_the_documented_shapes():
    from artlib import vae

    encoder, decoder = vae.build_encoder(5), vae.build_decoder(5, filters=(8, 16))
    z_mean, z_log_var = encoder(np.zeros((3, 28, 28, 1), np.float32))
    assert z_mean.shape == (3, 5) and z_log_var.shape == (3, 5)
    assert decoder(np.zeros((3, 5), np.float32)).shape == (3, 28, 28, 1)
    model = vae.build_vae(latent_dim=5, filters=(8, 16))
    out = np.asarray(model(tiny_images(4)))
    assert out.shape == (4, 28, 28, 1) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    assert model.latent_dim == 5
    images = np.asarray(vae.sample(model, 6, seed=1))
    assert images.shape == (6, 28, 28, 1) and np.array_equal(images, vae.sample(model, 6, seed=1))
    assert not np.array_equal(images, vae.sample(model, 6, seed=2))
    assert vae.reconstruct(model, (tiny_images(3)[..., 0] * 255).astype(np.uint8)).shape == (3, 28, 28, 1)


def test_interpolation_and_latent_map():
    from artlib import vae
    from artlib.latent import slerp

    model = vae.build_vae(latent_dim=2, seed=1)
    a, b = tiny_images(2)
    ends = np.asarray(model(np.stack([a, b])))  # the decoded z_means of both ends
    z_a, z_b = np.asarray(model.encode(np.stack([a, b]))[0], np.float64)
    t = np.linspace(0, 1, 5)
    paths = {"linear": (1 - t)[:, None] * z_a + t[:, None] * z_b, "spherical": slerp(z_a, z_b, t)}
    walks = {}
    for method, path in paths.items():
        walks[method] = vae.interpolate(model, a, b, num_steps=5, method=method)
        assert walks[method].shape == (5, 28, 28, 1) and walks[method].dtype == np.float32
        np.testing.assert_allclose(walks[method][[0, -1]], ends, atol=1e-5)
        np.testing.assert_allclose(walks[method], np.asarray(model.decode(path.astype(np.float32))), atol=1e-5)
    assert not np.allclose(paths["linear"][2], paths["spherical"][2])  # so the check above tells them apart
    z = np.array([[3.0, 0.0], [0.0, 3.0]])
    middle = slerp(z[0], z[1], np.array([0.5]))[0]
    assert np.linalg.norm(middle) == pytest.approx(3.0)  # slerp keeps the norm; a straight line would not
    grid = vae.latent_map(model, 4)
    assert grid.shape == (16, 28, 28, 1)
    # Row 0 is the top (largest z2), column 0 the left (smallest z1): corners are the 5 % / 95 % quantiles.
    q = 1.6448536
    corners = np.asarray(model.decode(np.array([[-q, q], [q, q], [-q, -q], [q, -q]], np.float32)))
    np.testing.assert_allclose(grid[[0, 3, 12, 15]], corners, atol=1e-5)


def test_training_lowers_the_loss_and_reports_nats(tmp_path):
    from artlib import training, vae

    model = vae.build_vae(latent_dim=2, filters=(8, 16), seed=0)
    result = vae.train(model, tiny_images(64), num_epochs=4, run_dir=tmp_path, batch_size=16,
                       learning_rate=3e-3, validation_images=tiny_images(32, seed=1), verbose=0)
    assert isinstance(result, training.TrainResult) and result.final_step == 4 and result.run_dir == tmp_path
    losses = result["neg_elbo"]
    assert result["epoch"] == [1, 2, 3, 4] and all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0]
    assert {"val_neg_elbo", "val_kl", "val_reconstruction"} <= set(result)
    run = training.RunDir(tmp_path)
    assert run.read_history()["neg_elbo"] == losses  # history.json: the same values, per epoch
    assert run.read_settings() == {"latent_dim": 2, "beta": 1.0, "num_images": 64, "batch_size": 16,
                                   "steps_per_epoch": 4, "learning_rate": 3e-3, "seed": 0, "num_epochs": 4}
    assert (tmp_path / "tensorboard").is_dir() and (tmp_path / "backup" / "backup.json").is_file()  # kept
    held_out = tiny_images(32, seed=1)
    scores = vae.evaluate(model, held_out, num_samples=4, batch_size=10)  # batches of 10, 10, 10, 2
    assert scores["neg_elbo"] == pytest.approx(scores["reconstruction"] + scores["kl"])
    # PSNR is the mean per-image PSNR of the deterministic reconstruction; active units count z_mean variances.
    mse = ((vae.reconstruct(model, held_out).astype(np.float64) - held_out) ** 2).mean(axis=(1, 2, 3))
    assert scores["psnr"] == pytest.approx(np.mean(10 * np.log10(1.0 / mse)), rel=1e-4)
    z_mean = np.asarray(model.encode(held_out)[0])
    assert scores["active_units"] == int(np.sum(np.var(z_mean, axis=0) > 0.01))
    assert scores["nll_bound"] <= scores["neg_elbo"] + 1.0  # 4 samples: a bound no looser than one sample's
    assert vae.evaluate(model, held_out, num_samples=4, batch_size=10) == scores  # deterministic by seed
    untrained = vae.evaluate(vae.build_vae(latent_dim=2, filters=(8, 16), seed=0), held_out)
    assert scores["neg_elbo"] < 0.8 * untrained["neg_elbo"] and scores["psnr"] > untrained["psnr"] + 1


def test_beta_sweep_trades_kl_for_reconstruction(tmp_path):
    from artlib import training, vae

    train_images, test_images = tiny_images(64), tiny_images(32, seed=1)
    rows = vae.beta_sweep(train_images, test_images, (0.1, 8.0), latent_dim=2, num_epochs=3, run_dir=tmp_path,
                          batch_size=16, seed=0)
    assert [row["beta"] for row in rows] == [0.1, 8.0]
    assert [row["vae"].beta for row in rows] == [0.1, 8.0] and all(row["vae"].latent_dim == 2 for row in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beta_0.1", "beta_8"]
    for name, beta in (("beta_0.1", 0.1), ("beta_8", 8.0)):  # each model has its own run directory
        run = training.RunDir(tmp_path / name)
        assert run.read_settings()["beta"] == beta and run.read_history()["epoch"] == [1, 2, 3]
    low, high = rows
    assert high["kl"] < 0.5 * low["kl"]  # a heavier KL weight pulls q(z|x) towards the prior
    assert high["reconstruction"] > low["reconstruction"]  # ... and pays for it in reconstruction
    assert vae.evaluate(low["vae"], test_images, seed=0)["kl"] == low["kl"]  # the row is evaluate's answer


def test_importance_weighted_bound_against_numpy():
    import keras

    from artlib import vae

    model = vae.build_vae(latent_dim=2, seed=2)
    images, k = tiny_images(6), 5
    scores = vae.evaluate(model, images, num_samples=k, seed=7)
    # Redo evaluate's draws with numpy densities: log w = log p(x|z) + log N(z; 0, I) - log N(z; μ, σ²).
    generator = keras.random.SeedGenerator(7)
    mean, log_var = (np.asarray(v, np.float64) for v in model.encode(images))
    std = np.exp(0.5 * log_var)
    log_w = []
    epsilon = np.asarray(keras.random.normal((k, *mean.shape), seed=generator), np.float64)  # (K, N, latent)
    for j in range(k):
        z = mean + std * epsilon[j]
        p = sigmoid(np.asarray(model.decoder(z.astype(np.float32)), np.float64))
        log_px = (images * np.log(p) + (1 - images) * np.log(1 - p)).sum(axis=(1, 2, 3))
        log_prior = (-0.5 * z**2 - 0.5 * np.log(2 * np.pi)).sum(axis=1)
        log_q = (-0.5 * ((z - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)).sum(axis=1)
        log_w.append(log_px + log_prior - log_q)
    log_w = np.stack(log_w, axis=1)
    top = log_w.max(axis=1)
    bound = top + np.log(np.exp(log_w - top[:, None]).mean(axis=1))
    assert scores["nll_bound"] == pytest.approx(-bound.mean(), rel=1e-4)


def test_train_feeds_fit_the_shared_epoch_order_scaled_to_floats(tmp_path):
    import keras

    from artlib import training, vae

    images = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1) * np.ones((1, 28, 28, 1), np.uint8)  # image i is i
    model = vae.build_vae(latent_dim=2, filters=(4, 8))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), run_eagerly=True)  # so that train_step sees numbers
    seen, train_step = [], model.train_step

    def recording_step(batch):
        seen.append(np.asarray(batch))
        return train_step(batch)

    model.train_step = recording_step
    vae.train(model, images, num_epochs=2, run_dir=tmp_path, batch_size=4, seed=9, steps_per_execution=2,
              verbose=0)
    assert len(seen) == 8  # 5 batches an epoch, rounded down to whole groups of 2: 4 per epoch
    assert all(batch.dtype == np.float32 and batch.shape == (4, 28, 28, 1) for batch in seen)
    for epoch in (0, 1):
        order = training.epoch_order(20, seed=9, epoch=epoch)[:16]
        got = np.concatenate(seen[4 * epoch : 4 * epoch + 4])[:, 0, 0, 0] * 255  # uint8 came as i / 255
        np.testing.assert_allclose(got, order, atol=1e-4)


def test_a_run_directory_refuses_another_recipe_and_says_where_it_resumes(tmp_path, capsys):
    from artlib import CheckpointError, modelio, vae

    vae.train(vae.build_vae(latent_dim=2, filters=(4, 8)), tiny_images(16), num_epochs=1, run_dir=tmp_path,
              batch_size=8, verbose=0)
    assert modelio.run_kind(tmp_path) == "VAE"  # what the command line checks other kinds of training against
    with pytest.raises(CheckpointError, match=r"other settings \(seed: 0 -> 1\)"):
        vae.train(vae.build_vae(latent_dim=2, filters=(4, 8)), tiny_images(16), num_epochs=2, run_dir=tmp_path,
                  batch_size=8, seed=1, verbose=0)
    import keras

    class StopAfterTwoEpochs(keras.callbacks.Callback):  # Ctrl-C once epoch 2 is backed up
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    def train(num_epochs, **options):
        return vae.train(vae.build_vae(latent_dim=2, filters=(4, 8)), tiny_images(16), num_epochs=num_epochs,
                         run_dir=tmp_path, batch_size=8, verbose=2, **options)

    capsys.readouterr()
    with pytest.raises(KeyboardInterrupt):  # what `vae train --epochs 3` shows, run again and stopped
        train(3, extra_callbacks=[StopAfterTwoEpochs()])
    assert f"Resuming from {tmp_path / 'backup'} (epoch 1 of 3)." in capsys.readouterr().out  # the finished
    # 1-epoch run goes on
    result = train(1)  # fewer epochs than the stopped run did: nothing trained, nothing forgotten
    assert result.final_step == 2 and result["epoch"] == [] and (tmp_path / "backup" / "backup.json").is_file()
    assert f"{tmp_path} is at epoch 2, past the 1 asked for: nothing to train (its backup stays at epoch 2)." \
        in capsys.readouterr().out
    assert train(3)["epoch"] == [3]  # and the whole run goes on from there
    assert f"Resuming from {tmp_path / 'backup'} (epoch 2 of 3)." in capsys.readouterr().out
    assert train(3)["epoch"] == []  # run again (a second Run All): the finished run is loaded, not trained again
    assert f"{tmp_path} has finished its 3 epochs: loaded from its backup, nothing to train (ask for more epochs " \
           "to go on)." in capsys.readouterr().out
    (tmp_path / "backup" / "backup.json").unlink()  # the finished run's weights without the file that names them
    with pytest.raises(CheckpointError, match=r"backup holds epoch-2.weights.h5, epoch-3.weights.h5 but not "
                                              r"backup.json, .* delete"):
        train(4)
    import shutil

    shutil.rmtree(tmp_path / "backup")  # a history without any backup: what an older artlib left after a run
    capsys.readouterr()
    assert train(1)["epoch"] == [1]  # trained from the first epoch, saying why
    assert f"{tmp_path} holds a history but no backup to resume from (deleted by hand, or by an older artlib when " \
           "the run finished): training from the first epoch again." in capsys.readouterr().out


@pytest.mark.slow
def test_fit_resumes_exactly_after_an_interruption(tmp_path):
    proc = run_python(HERE, "resume", tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "2"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["straight_epochs"] == [1, 2, 3] and info["interrupted_epochs"] == [1, 2]
    assert info["resumed_epochs"] == [3] and info["final_step"] == 3  # it went on after epoch 2 ...
    assert info["run_history_epochs"] == [1, 2, 3]  # ... and history.json holds both calls
    assert info["run_history_loss"] == info["straight_loss"]  # with the values of one run
    assert info["seed_states"] == 1  # Sampling's generator, restored from the backup with the weights
    with np.load(tmp_path / "weights.npz") as npz:
        n = len([k for k in npz.files if k.startswith("straight/")])
        straight, resumed, start = ([npz[f"{run}/{i}"] for i in range(n)] for run in ("straight", "resumed", "start"))
    assert all(np.array_equal(a, b) for a, b in zip(straight, resumed))
    assert not any(np.array_equal(a, b) for a, b in zip(start, resumed))  # the resumed model began elsewhere


def scenario_resume(out: Path) -> None:
    """Straight: 3 epochs. Resumed: stopped after epoch 2, then a fresh model (other seed) continues."""
    import keras
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    from artlib import training, vae

    images = tiny_images(48)

    class StopAfterSecondEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    def run(run_dir, seed, extra=()):  # seed: the initial weights and Sampling's generator, not in settings.json
        model = vae.build_vae(latent_dim=2, filters=(4, 8), seed=seed)
        start = [v.numpy() for v in model.variables]
        result = vae.train(model, images, num_epochs=3, run_dir=out / run_dir, batch_size=8, seed=0,
                           steps_per_execution=2, verbose=0, extra_callbacks=extra)
        return model, start, result

    straight, _, straight_result = run("straight", seed=0)
    epochs_seen = []
    counter = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch + 1))
    try:
        run("resumed", seed=0, extra=[counter, StopAfterSecondEpoch()])
        raise AssertionError("the interruption did not happen")
    except KeyboardInterrupt:
        pass
    resumed, start, result = run("resumed", seed=5)
    history = training.RunDir(out / "resumed").read_history()
    arrays = {f"straight/{i}": v.numpy() for i, v in enumerate(straight.variables)}
    arrays |= {f"resumed/{i}": v.numpy() for i, v in enumerate(resumed.variables)}
    arrays |= {f"start/{i}": a for i, a in enumerate(start)}
    np.savez(out / "weights.npz", **arrays)
    (out / "info.json").write_text(json.dumps({
        "straight_epochs": straight_result["epoch"], "interrupted_epochs": epochs_seen,
        "resumed_epochs": result["epoch"], "final_step": result.final_step,
        "run_history_epochs": history["epoch"], "run_history_loss": history["loss"],
        "straight_loss": straight_result["loss"], "seed_states": len(training.seed_states(resumed))}))


# ----------------------------------------------------------------------------- saving and loading
def test_keras_round_trip_with_safe_mode_gives_identical_outputs(tmp_path):
    import keras

    from artlib import vae

    model = vae.build_vae(latent_dim=3, beta=0.5, seed=1)
    vae.train(model, tiny_images(32), num_epochs=1, run_dir=tmp_path / "run", batch_size=16, verbose=0)
    images, z = tiny_images(5, seed=3), np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    for path in (vae.save_vae(model, tmp_path / "bare.keras"), tmp_path / "full.keras"):
        if path.name == "full.keras":
            model.save(path)  # the compiled model, optimizer included
        loaded = keras.saving.load_model(path, safe_mode=True)
        assert isinstance(loaded, vae.VAE) and loaded.beta == 0.5 and loaded.latent_dim == 3
        assert np.array_equal(np.asarray(loaded.encode(images)[0]), np.asarray(model.encode(images)[0]))
        assert np.array_equal(np.asarray(loaded.decode(z)), np.asarray(model.decode(z)))
    assert (tmp_path / "bare.keras").stat().st_size < (tmp_path / "full.keras").stat().st_size  # no optimizer
    assert isinstance(vae.load_vae(tmp_path / "bare.keras"), vae.VAE)


def test_shipped_model_loads_when_present():
    from artlib import vae

    path = vae.PRETRAINED_DIR / "vae_2d.keras"
    if not path.exists():
        pytest.skip("no shipped VAE in data/pretrained")
    from artlib import data

    model = vae.load_pretrained(latent_dim=2)
    assert isinstance(model, vae.VAE) and model.latent_dim == 2
    samples = vae.sample(model, 2)
    assert samples.shape == (2, 28, 28, 1) and samples.dtype == np.float32
    # data/README.md: -ELBO 270.44 nats on the full test set; an untrained VAE scores about 784·log 2 ≈ 543.
    _, (x_test, _) = data.load_fashion_mnist(verbose=False)
    scores = vae.evaluate(model, x_test[:500])
    assert scores["neg_elbo"] < 320 and scores["active_units"] == 2 and scores["psnr"] > 14


# ----------------------------------------------------------------------------- bad input
SHAPE = r"images must be a non-empty batch of 28×28 images, shape \(N, 28, 28, 1\); got shape "


@pytest.mark.parametrize("bad, words", [
    (np.zeros((4, 32, 32)), SHAPE + r"\(4, 32, 32\)"), (np.zeros((28, 28)), SHAPE + r"\(28, 28\)"),
    (np.zeros((0, 28, 28)), SHAPE + r"\(0, 28, 28\)"),
    (np.full((2, 28, 28), 2.0), r"images must hold pixels in \[0, 1\] or uint8 0–255; got values from 2 to 2"),
    (np.full((2, 28, 28), np.nan), r"images holds 1,568 NaN or infinite pixel value"),
    (np.array([["a"] * 28] * 28 * 2).reshape(2, 28, 28), r"images must hold uint8 .* got dtype <U1")])
def test_bad_images_raise_image_error(bad, words):
    from artlib import ImageError, vae

    with pytest.raises(ImageError, match=words):
        vae.as_images(bad)


def test_bad_arguments_raise_artlib_errors(tmp_path):
    from artlib import ArtlibError, DataError, vae

    model = vae.build_vae(latent_dim=3, filters=(4, 8))
    with pytest.raises(ArtlibError, match="latent_dim=3"):
        vae.latent_map(model)
    with pytest.raises(ArtlibError, match="method"):
        vae.interpolate(model, tiny_images(1)[0], tiny_images(1)[0], method="cubic")
    with pytest.raises(ArtlibError, match="latent_dim"):
        vae.build_vae(latent_dim=0)
    for filters in (32, (32,), "ab"):  # not a TypeError from len()
        with pytest.raises(ArtlibError, match="filters must be the channels of the two convolutions"):
            vae.build_vae(filters=filters)
    for beta in (-1.0, "1", float("nan")):  # text: not a TypeError from the comparison
        with pytest.raises(ArtlibError, match="beta"):
            vae.build_vae(beta=beta)
    with pytest.raises(DataError, match="VAE file .*missing.keras not found"):
        vae.load_vae(tmp_path / "missing.keras")
    (tmp_path / "corrupt.keras").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="corrupt.keras"):
        vae.load_vae(tmp_path / "corrupt.keras")
    (tmp_path / "not_a_vae.keras").unlink(missing_ok=True)
    vae.save_vae(vae.build_encoder(3, filters=(4, 8)), tmp_path / "not_a_vae.keras")
    with pytest.raises(DataError, match="not_a_vae.keras .*Functional, not an artlib VAE"):
        vae.load_vae(tmp_path / "not_a_vae.keras")
    with pytest.raises(ArtlibError, match="fewer than one batch"):
        vae.train(model, tiny_images(4), num_epochs=1, run_dir=tmp_path, batch_size=8)


@pytest.mark.parametrize("call, name", [
    (lambda vae, m, tmp: vae.train(m, tiny_images(8), num_epochs=0, run_dir=tmp), "num_epochs"),
    (lambda vae, m, tmp: vae.train(m, tiny_images(8), num_epochs=1, run_dir=tmp, batch_size=0), "batch_size"),
    (lambda vae, m, tmp: vae.train(m, tiny_images(8), num_epochs=1, run_dir=tmp, steps_per_execution=0),
     "steps_per_execution"),
    (lambda vae, m, tmp: vae.train(m, tiny_images(8), num_epochs=1, run_dir=tmp, learning_rate=0.0),
     "learning_rate"),
    (lambda vae, m, tmp: vae.evaluate(m, tiny_images(2), num_samples=0), "num_samples"),
    (lambda vae, m, tmp: vae.evaluate(m, tiny_images(2), batch_size=0), "batch_size"),
    (lambda vae, m, tmp: vae.reconstruct(m, tiny_images(2), batch_size=0), "batch_size"),
    (lambda vae, m, tmp: vae.sample(m, 0), "num_images"),
    (lambda vae, m, tmp: vae.sample(m, 2, temperature=0.0), "temperature"),
    (lambda vae, m, tmp: vae.interpolate(m, tiny_images(1)[0], tiny_images(1)[0], num_steps=1), "num_steps"),
    (lambda vae, m, tmp: vae.build_vae(latent_dim=2, filters=(0, 8)), "filters"),
    (lambda vae, m, tmp: vae.beta_sweep(tiny_images(8), tiny_images(2), [], latent_dim=2, num_epochs=1,
                                        run_dir=tmp), "betas"),
])
def test_zero_or_negative_sizes_raise_instead_of_meaning_a_default(call, name, tmp_path):
    from artlib import ArtlibError, vae

    model = vae.build_vae(latent_dim=2, filters=(4, 8))
    with pytest.raises(ArtlibError, match=name):
        call(vae, model, tmp_path)


def test_as_images_scales_uint8_and_keeps_floats():
    from artlib import vae

    pixels = np.array([0, 51, 255], np.uint8).reshape(3, 1, 1) * np.ones((3, 28, 28), np.uint8)
    images = vae.as_images(pixels)
    assert images.shape == (3, 28, 28, 1) and images.dtype == np.float32
    np.testing.assert_allclose(images[:, 0, 0, 0], [0.0, 0.2, 1.0], rtol=1e-6)
    compact = vae.as_images(pixels, keep_uint8=True)
    assert compact.dtype == np.uint8 and compact.shape == (3, 28, 28, 1)
    floats = tiny_images(2)
    assert np.array_equal(vae.as_images(floats[..., 0]), floats)


def test_cli_errors_exit_2_with_one_line(tmp_path, capsys):
    from artlib.__main__ import main

    assert main(["vae", "sample", "--model", str(tmp_path / "nope.keras"), "-o", str(tmp_path / "a.png")]) == 2
    assert "nope.keras" in capsys.readouterr().err
    (tmp_path / "exists.png").write_bytes(b"x")
    assert main(["vae", "sample", "-o", str(tmp_path / "exists.png")]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["vae", "train", "-o", str(tmp_path / "model.h5")]) == 2
    err = capsys.readouterr().err
    assert ".keras" in err and err.strip().count("\n") == 0


def test_cli_samples_a_saved_model(tmp_path, capsys):
    from PIL import Image

    from artlib import vae
    from artlib.__main__ import main

    vae.save_vae(vae.build_vae(latent_dim=2, filters=(4, 8)), tmp_path / "m.keras")
    assert main(["vae", "sample", "--model", str(tmp_path / "m.keras"), "-n", "9", "-o", str(tmp_path / "s.png")]) == 0
    assert main(["vae", "sample", "--model", str(tmp_path / "m.keras"), "--map", "--grid", "3",
                 "-o", str(tmp_path / "map.png")]) == 0
    assert main(["vae", "sample", "--model", str(tmp_path / "m.keras"), "--map", "--grid", "3", "--zoom", "1",
                 "-o", str(tmp_path / "map1.png")]) == 0
    with Image.open(tmp_path / "s.png") as grid, Image.open(tmp_path / "map.png") as latent:
        assert grid.size == (3 * (3 * 29 + 1),) * 2 and latent.size == (3 * 84, 3 * 84)  # drawn 3× (--zoom)
    with Image.open(tmp_path / "map1.png") as latent:
        assert latent.size == (84, 84)


def test_demo_part_trains_briefly_when_no_model_is_shipped(tmp_path, monkeypatch):
    from PIL import Image

    from artlib.gallery import _demo_vae

    monkeypatch.setenv("ARTLIB_MODE", "fast")
    from artlib import config
    from artlib.vae import io as vae_io

    monkeypatch.setattr(vae_io, "PRETRAINED_DIR", tmp_path / "nothing-here")  # what load_pretrained reads
    items = _demo_vae(tmp_path, seed=0)
    assert [name for name, _, _ in items] == ["vae_samples.png", "vae_latent_map.png"]
    assert "trained" in items[0][2]
    grid = config.choose(full=20, fast=12)
    # 64 samples: 8×8 cells of 28 px + 1 px padding, enlarged 3×; the map: grid² cells, no padding, 2×.
    expected = {"vae_samples.png": (3 * (8 * 29 + 1),) * 2, "vae_latent_map.png": (2 * 28 * grid,) * 2}
    for name, _, _ in items:
        with Image.open(tmp_path / name) as image:
            assert image.size == expected[name]


def test_latent_scatter_draws_one_group_per_class(tmp_path):
    from artlib import vae

    model = vae.build_vae(latent_dim=3, filters=(4, 8))
    labels = np.arange(20) % 4
    from PIL import Image

    images = tiny_images(20)
    fig = vae.latent_scatter(model, images, labels, path=tmp_path / "scatter.png", size=5.0)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == ["T-shirt/top", "Trouser", "Pullover", "Dress"]
    assert "principal component" in fig.axes[0].get_xlabel()  # latent_dim 3 -> PCA
    # Each class's points are the first two principal components of its z_means (up to each axis's sign).
    z = np.asarray(model.encode(images)[0], np.float64)
    centered = z - z.mean(axis=0)
    projected = centered @ np.linalg.svd(centered, full_matrices=False)[2][:2].T  # (20, 3) -> (20, 2)
    for k, points in enumerate(fig.axes[0].collections):
        np.testing.assert_allclose(np.abs(points.get_offsets()), np.abs(projected[labels == k]), atol=1e-4)
    with Image.open(tmp_path / "scatter.png") as saved:
        assert saved.format == "PNG" and saved.size[0] >= 5 * 72


if __name__ == "__main__":
    globals()[f"scenario_{sys.argv[1]}"](Path(sys.argv[2]))
