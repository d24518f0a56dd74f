"""Tests for artlib.training: exact resume, atomic checkpoints, NaN guard, fit backup, strategy, TensorBoard.

Op determinism and logical devices are process-wide, so the tests that need
them run this file as a script in a fresh process (conftest's :func:`run_python`)::

    python tests/test_training.py <scenario> <directory>

and compare what the scenario wrote into ``<directory>``.
"""

from __future__ import annotations

import gc
import json
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import HANG_TIMEOUT, REPO, run_python, subprocess_env

HERE = Path(__file__).resolve()
QUIET_TF = {"TF_CPP_MIN_LOG_LEVEL": "2"}

STEPS_PER_EPOCH = 5  # 40 examples, batch 8


# ----------------------------------------------------------------------------- shared helpers
def run_scenario(name: str, directory: Path) -> None:
    """Run one scenario below in a fresh Python process; fail with its output if it fails."""
    run_python(HERE, name, directory, env=QUIET_TF, check=True)


def tiny_data(n: int = 40) -> np.ndarray:
    return np.random.default_rng(0).random((n, 4), dtype=np.float32)


def tiny_model(seed: int):
    """Dense -> Dropout -> Dense on 4 numbers: weights, an inner seed generator, nothing else."""
    import keras

    keras.utils.set_random_seed(seed)  # the initial weights
    return keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dropout(0.25, seed=seed),
        keras.layers.Dense(4),
    ])


def tiny_training(seed: int):
    """A fresh model, Adam, a noise seed generator and a denoising step, as after a restart."""
    import keras
    import tensorflow as tf

    model = tiny_model(seed)
    optimizer = keras.optimizers.Adam(1e-2)
    noise = keras.random.SeedGenerator(seed)

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            noisy = batch + 0.1 * keras.random.normal(batch.shape, seed=noise)
            loss = tf.reduce_mean((model(noisy, training=True) - batch) ** 2)
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return {"loss": loss}

    return model, optimizer, noise, step


def tiny_gan(seed: int):
    """A GAN in miniature: two models, two optimizers, latent noise; its step and its state."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)])
    discriminator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    g_optimizer, d_optimizer = keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2)
    latent = keras.random.SeedGenerator(seed)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(real):
        z = keras.random.normal((real.shape[0], 2), seed=latent)
        with tf.GradientTape() as d_tape:
            fake = generator(z)
            d_real, d_fake = discriminator(real), discriminator(fake)
            d_loss = bce(tf.ones_like(d_real), d_real) + bce(tf.zeros_like(d_fake), d_fake)
        d_vars = discriminator.trainable_variables
        d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
        with tf.GradientTape() as g_tape:
            d_fake = discriminator(generator(z))
            g_loss = bce(tf.ones_like(d_fake), d_fake)
        g_vars = generator.trainable_variables
        g_optimizer.apply(g_tape.gradient(g_loss, g_vars), g_vars)
        return {"d_loss": d_loss, "g_loss": g_loss}

    state = {"generator": generator, "discriminator": discriminator, "g_optimizer": g_optimizer,
             "d_optimizer": d_optimizer, "latent": latent}
    return state, step


def gan_snapshot(state) -> list[np.ndarray]:
    return [v.numpy() for name in sorted(state) for v in
            ([state[name].state] if name == "latent" else state[name].variables)]


def snapshot(model, optimizer, noise) -> list[np.ndarray]:
    """Every number a resumed run must match: weights, inner RNG states, optimizer, noise RNG."""
    return [v.numpy() for v in [*model.variables, *optimizer.variables, noise.state]]


# ----------------------------------------------------------------------------- scenarios (subprocess)
def scenario_exact_resume(out: Path) -> None:
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    from artlib.training import shuffled_batches, train_loop

    data = tiny_data()

    def make_dataset(epoch):
        return shuffled_batches(data, 8, seed=7 + epoch)

    def train(run_dir, num_steps, seed, *, resume_from=None, with_noise=True, slow=False, **hooks):
        model, optimizer, noise, step = tiny_training(seed)
        state = {"model": model, "optimizer": optimizer, **({"noise": noise} if with_noise else {})}

        def slow_step(batch):  # for the time budget: each step takes at least 0.2 s
            time.sleep(0.2)
            return step(batch)

        result = train_loop(slow_step if slow else step, make_dataset, num_steps=num_steps,
                            run_dir=out / run_dir, state=state, steps_per_epoch=STEPS_PER_EPOCH,
                            save_every=3, log_every=2, max_to_keep=10, resume_from=resume_from,
                            summary=False, quiet=True, **hooks)
        train.last = result
        return snapshot(model, optimizer, noise), result["step"]

    results, steps = {}, {}
    model, optimizer, noise, _ = tiny_training(0)
    optimizer.build(model.trainable_variables)  # zeros in Adam's moments, iteration 0
    results["initial"] = snapshot(model, optimizer, noise)
    results["straight"], steps["straight"] = train("straight", 12, seed=0)
    # Stop mid-epoch (step 7 = epoch 1, batch 2), restart with fresh objects seeded differently.
    train("mid_epoch", 7, seed=0)
    results["mid_epoch"], steps["mid_epoch"] = train("mid_epoch", 12, seed=1)
    # Stop at an epoch boundary (step 5).
    train("boundary", 5, seed=0)
    results["boundary"], steps["boundary"] = train("boundary", 12, seed=2)
    # Start from a checkpoint that is not the newest one: ckpt-3 of the finished run.
    results["old_ckpt"], steps["old_ckpt"] = train(
        "old_ckpt", 12, seed=3, resume_from=str(out / "straight" / "checkpoints" / "ckpt-3"))
    # A time budget stops it early (at a step that is no multiple of save_every, most likely) ...
    train("timed", 12, seed=0, slow=True, max_seconds=0.9)
    steps["timed_stop"] = [train.last.final_step, train.last.stopped]
    results["timed"], steps["timed"] = train("timed", 12, seed=4)
    # ... and so does a target; the resumed call's stop_when sees the whole run's history.
    seen = []
    train("target", 12, seed=0, stop_when=lambda step, history: step == 6)
    steps["target_stop"] = [train.last.final_step, train.last.stopped]
    results["target"], steps["target"] = train(
        "target", 12, seed=5, stop_when=lambda step, history: seen.append(list(history["step"])) and False)
    steps["target_seen_last"] = seen[-1]
    # Control: the same stop and restart, but the noise generator left out of the checkpoint.
    train("no_rng", 7, seed=0, with_noise=False)
    results["no_rng"], _ = train("no_rng", 12, seed=1, with_noise=False)

    # A GAN-like step with two models and two optimizers, stopped at step 3.
    def train_gan(run_dir, num_steps, seed):
        state, step = tiny_gan(seed)
        result = train_loop(step, make_dataset, num_steps=num_steps, run_dir=out / run_dir, state=state,
                            save_every=4, summary=False, quiet=True)
        return gan_snapshot(state), result["step"]

    results["gan_straight"], _ = train_gan("gan_straight", 8, seed=0)
    train_gan("gan_resumed", 3, seed=0)
    results["gan_resumed"], steps["gan_resumed"] = train_gan("gan_resumed", 8, seed=1)

    np.savez(out / "results.npz", **{f"{k}/{i}": a for k, arrays in results.items()
                                     for i, a in enumerate(arrays)})
    (out / "steps.json").write_text(json.dumps(steps))


def scenario_fit_backup(out: Path) -> None:
    import keras
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    from artlib.training import callbacks

    x, y = tiny_data(32), tiny_data(32)[:, ::-1].copy()

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("stopped after epoch 2")

    def fit(run_dir, seed, extra=(), keras_backup=False):
        model = tiny_model(seed)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        before = [v.numpy() for v in model.variables]
        chosen = callbacks(out / run_dir, tensorboard=False)
        if keras_backup:  # control: Keras's own callback, which leaves out Dropout's RNG state
            chosen[-1] = keras.callbacks.BackupAndRestore(str(out / run_dir / "backup"))
        history = model.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0,
                            callbacks=chosen + list(extra))
        return model, before, history

    def interrupted_then_resumed(run_dir, keras_backup=False):
        try:
            fit(run_dir, seed=0, extra=[Interrupt()], keras_backup=keras_backup)
            raise AssertionError("the interruption did not happen")
        except KeyboardInterrupt:
            pass
        backup_existed = (out / run_dir / "backup").is_dir()
        model, before, history = fit(run_dir, seed=5, keras_backup=keras_backup)
        return model, before, history, backup_existed

    straight, _, _ = fit("straight", seed=0)
    resumed, before, history, backup_existed = interrupted_then_resumed("resumed")
    keras_only, *_ = interrupted_then_resumed("keras_only", keras_backup=True)

    arrays = {f"{name}/{i}": v.numpy() for name, model in
              [("straight", straight), ("resumed", resumed), ("keras_only", keras_only)]
              for i, v in enumerate(model.variables)}
    arrays |= {f"before/{i}": a for i, a in enumerate(before)}
    np.savez(out / "results.npz", **arrays)
    (out / "info.json").write_text(json.dumps({"backup_existed": backup_existed,
                                               "epochs_after_resume": history.epoch}))  # counted from 0


def scenario_mirrored(out: Path) -> None:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    import keras

    from artlib.training import shuffled_batches, train_loop

    data = tiny_data()

    def run(strategy, run_dir):
        with strategy.scope():  # build models and optimizers under the scope
            model = tiny_model(0)
            optimizer = keras.optimizers.Adam(1e-2)
            optimizer.build(model.trainable_variables)  # building it inside strategy.run fails

        @tf.function
        def step(batch):
            def replica_step(x):
                with tf.GradientTape() as tape:
                    per_example = tf.reduce_mean((model(x, training=False) - x) ** 2, axis=-1)
                    loss = tf.reduce_sum(per_example) / 8  # divide by the global batch size
                optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
                return loss

            return {"loss": strategy.reduce("SUM", strategy.run(replica_step, args=(batch,)), axis=None)}

        def make_dataset(epoch):
            return strategy.experimental_distribute_dataset(shuffled_batches(data, 8, seed=epoch))

        result = train_loop(step, make_dataset, num_steps=2, run_dir=out / run_dir,
                            state={"model": model, "optimizer": optimizer},
                            steps_per_epoch=STEPS_PER_EPOCH, save_every=1, summary=False, quiet=True)
        return result, model, optimizer

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    mirrored, model, optimizer = run(strategy, "run")
    single, reference, _ = run(tf.distribute.get_strategy(), "single")
    np.savez(out / "weights.npz", **{f"mirrored/{i}": w for i, w in enumerate(model.get_weights())},
             **{f"single/{i}": w for i, w in enumerate(reference.get_weights())})
    (out / "info.json").write_text(json.dumps({
        "strategy": type(strategy).__name__, "replicas": strategy.num_replicas_in_sync,
        "loss": mirrored["loss"], "single_loss": single["loss"],
        "optimizer_steps": int(optimizer.iterations.numpy())}))


def scenario_fit_entry(out: Path) -> None:
    """artlib's fit: straight; interrupted after epoch 2 and resumed; resumed without its backup.json; and a
    finished 2-epoch run called again (loaded, nothing trained), then asked for 4 (it goes on)."""
    import keras
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    from artlib.training import fit

    x = tiny_data(40)

    def noisy(clean, seed):  # a denoiser's per-batch map: stateless noise keyed by (seed, step)
        return clean + 0.1 * tf.random.stateless_normal(tf.shape(clean), seed), clean

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("stopped after epoch 2")

    def run(run_dir, seed, extra=(), num_epochs=4):
        model = tiny_model(seed)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        result = fit(model, x, num_epochs=num_epochs, batch_size=8, seed=3, run_dir=out / run_dir, map_fn=noisy,
                     settings={"recipe": "tiny", "num_epochs": num_epochs}, extra_callbacks=extra, verbose=0)
        return model, result

    def interrupt(run_dir):
        try:
            run(run_dir, seed=0, extra=[Interrupt()])
            raise AssertionError("the interruption did not happen")
        except KeyboardInterrupt:
            pass
        backup = out / run_dir / "backup"
        files = sorted(p.name for p in backup.iterdir())
        (backup / "training_metadata.json").unlink(missing_ok=True)  # Keras's private file: never needed
        return files

    straight, straight_result = run("straight", seed=0)
    info = {"backup_files": interrupt("resumed")}
    resumed, result = run("resumed", seed=5)  # other initial weights and Dropout seed: only the backup helps
    interrupt("no_backup")
    shutil.rmtree(out / "no_backup" / "backup")  # without it, nothing resumes (its files alone are refused)
    from_scratch, scratch_result = run("no_backup", seed=5)
    finished, _ = run("extended", seed=0, num_epochs=2)
    again, again_result = run("extended", seed=7, num_epochs=2)  # a second Run All: other initial weights
    extended, extended_result = run("extended", seed=5)  # then 4 epochs asked for
    info |= {"again_epochs": again_result["epoch"], "again_final_step": again_result.final_step,
             "extended_epochs": extended_result["epoch"]}
    history = json.loads((out / "resumed" / "history.json").read_text())
    info |= {"straight_epochs": straight_result["epoch"], "resumed_epochs": result["epoch"],
             "final_step": result.final_step, "run_history_epochs": history["epoch"],
             "run_history_loss": history["loss"], "straight_loss": straight_result["loss"],
             "scratch_epochs": scratch_result["epoch"], "backup_left": (out / "resumed" / "backup").exists()}
    (out / "info.json").write_text(json.dumps(info))
    np.savez(out / "results.npz", **{f"{name}/{i}": v.numpy() for name, model in
                                     [("straight", straight), ("resumed", resumed), ("scratch", from_scratch),
                                      ("finished", finished), ("again", again), ("extended", extended)]
                                     for i, v in enumerate(model.variables)})


BIG = 25_000_000  # float32 numbers: 100 MB, so that each save takes a while


def scenario_saver(out: Path) -> None:
    """Save checkpoints 1, 2, 3 ... of a big variable, every value equal to the step, forever."""
    import tensorflow as tf

    from artlib.training import Checkpointer

    big = tf.Variable(tf.zeros([BIG]))
    small = tf.Variable(tf.zeros([3]))
    checkpointer = Checkpointer(out, big=big, small=small, max_to_keep=2)
    for step in range(1, 1000):
        big.assign(tf.fill([BIG], float(step)))
        small.assign(tf.fill([3], float(step)))
        checkpointer.step.assign(step)
        print(f"saving {step}", flush=True)
        checkpointer.save()
        print(f"saved {step}", flush=True)


# ----------------------------------------------------------------------------- exact resume
@pytest.fixture(scope="module")
def resume_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("resume")
    run_scenario("exact_resume", out)
    with np.load(out / "results.npz") as npz:
        results: dict[str, list[np.ndarray]] = {}
        for key in sorted(npz.files, key=lambda k: (k.split("/")[0], int(k.split("/")[1]))):
            results.setdefault(key.split("/")[0], []).append(npz[key])
    return results, json.loads((out / "steps.json").read_text())


def _all_equal(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b))


def test_the_save_interval_is_an_epoch_up_to_250_steps_and_not_every_step_of_one_batch_epochs():
    from artlib import training

    assert [training.save_interval(n) for n in (1, 2, 117, 250, 937)] == [50, 2, 117, 250, 250]


@pytest.mark.slow
@pytest.mark.parametrize("run", ["mid_epoch", "boundary", "old_ckpt", "timed", "target"])
def test_resume_is_bitwise_exact(resume_results, run):
    results, steps = resume_results
    straight = results["straight"]
    assert len(straight) == len(results[run]) == 16  # 4 weights, Dropout's seed, Adam's 10, the noise seed
    for i, (want, got) in enumerate(zip(straight, results[run])):
        assert want.dtype == got.dtype and np.array_equal(want, got), f"array {i} differs after resume"
    assert steps["straight"] == list(range(1, 13))
    first = {"mid_epoch": 8, "boundary": 6, "old_ckpt": 4, "timed": steps["timed_stop"][0] + 1, "target": 7}[run]
    assert steps[run] == list(range(first, 13))  # it resumed (with other seeds), it did not start again


@pytest.mark.slow
def test_max_seconds_and_stop_when_stop_early_at_a_checkpoint(resume_results):
    _, steps = resume_results
    final, why = steps["timed_stop"]
    assert why == "max_seconds" and 1 <= final <= 6  # 0.9 s at >= 0.2 s a step
    assert steps["target_stop"] == [6, "stop_when"]
    assert steps["target_seen_last"] == list(range(1, 13))  # stop_when gets the whole run's history


@pytest.mark.slow
def test_resume_is_bitwise_exact_with_two_models_and_optimizers(resume_results):
    results, steps = resume_results
    straight, resumed = results["gan_straight"], results["gan_resumed"]
    assert len(straight) == 2 * 2 + 2 * 6 + 1  # weights, Adam's variables, latent RNG
    assert _all_equal(straight, resumed)
    assert steps["gan_resumed"] == list(range(4, 9))  # it went on after ckpt-3, with other seeds


def test_resume_test_is_sensitive(resume_results):
    results, _ = resume_results
    # Training changed every kind of state but the learning rate, so equality above means something ...
    initial, straight = results["initial"], results["straight"]
    assert sum(not np.array_equal(a, b) for a, b in zip(initial, straight)) >= len(straight) - 1
    # ... and a checkpoint without the noise generator's state does not resume exactly.
    assert not _all_equal(results["no_rng"], straight)


# ----------------------------------------------------------------------------- checkpoints
def test_checkpointer_restores_everything_into_fresh_objects(tmp_path):
    import tensorflow as tf

    from artlib.errors import ArtlibError
    from artlib.training import Checkpointer

    model, optimizer, noise, step = tiny_training(0)
    tf_rng = tf.random.Generator.from_seed(1)
    for _ in range(3):
        step(tf.constant(tiny_data(8)))
    tf_rng.normal([2])
    saved = Checkpointer(tmp_path, model=model, optimizer=optimizer, noise=noise, tf_rng=tf_rng)
    saved.step.assign(3)
    path = saved.save()
    assert path.endswith("ckpt-3") and saved.latest == path

    model2, optimizer2, noise2, step2 = tiny_training(9)  # unbuilt optimizer: restored lazily
    tf_rng2 = tf.random.Generator.from_seed(2)
    loaded = Checkpointer(tmp_path, model=model2, optimizer=optimizer2, noise=noise2, tf_rng=tf_rng2)
    assert loaded.restore() == 3
    assert np.array_equal(tf_rng.state.numpy(), tf_rng2.state.numpy())
    assert _all_equal([v.numpy() for v in [*model.variables, noise.state]],
                      [v.numpy() for v in [*model2.variables, noise2.state]])
    assert not optimizer2.built
    optimizer2.build(model2.trainable_variables)  # the first step would do this
    assert _all_equal([v.numpy() for v in optimizer.variables],
                      [v.numpy() for v in optimizer2.variables])
    loaded.assert_restored()
    with pytest.raises(TypeError, match="cannot checkpoint"):
        Checkpointer(tmp_path, thing=object())
    for keep in (0, "3", 2.5):  # text: not a TypeError from the comparison
        with pytest.raises(ArtlibError, match="max_to_keep must be a positive integer"):
            Checkpointer(tmp_path, model=model, max_to_keep=keep)


def _counter_checkpointer(run_dir, value: float = 0.0):
    import tensorflow as tf

    from artlib.training import Checkpointer

    weights = tf.Variable(tf.fill([1000], value))
    return Checkpointer(run_dir, weights=weights), weights


def _save_steps(run_dir, steps):
    checkpointer, weights = _counter_checkpointer(run_dir)
    for step in steps:
        weights.assign(weights * 0 + float(step))
        checkpointer.step.assign(step)
        checkpointer.save()
    return checkpointer


@pytest.mark.parametrize("damage", ["truncate_data", "garble_data", "garble_index", "delete_data"])
def test_unreadable_newest_checkpoint_falls_back(tmp_path, damage):
    newest = _save_steps(tmp_path, [1, 2]).latest
    data_file = Path(newest + ".data-00000-of-00001")
    index_file = Path(newest + ".index")
    if damage == "truncate_data":
        data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size // 2])
    elif damage == "garble_data":
        raw = bytearray(data_file.read_bytes())
        raw[len(raw) // 2: len(raw) // 2 + 16] = b"\xff" * 16
        data_file.write_bytes(bytes(raw))
    elif damage == "garble_index":
        index_file.write_bytes(b"not a checkpoint index" * 10)
    else:
        data_file.unlink()

    checkpointer, weights = _counter_checkpointer(tmp_path)
    with pytest.warns(RuntimeWarning, match=r"checkpoint .*ckpt-2 \(.*\) cannot be read; resuming from the "
                                            r"older .*ckpt-1$"):
        assert checkpointer.restore() == 1
    assert checkpointer.restored_path.endswith("ckpt-1")
    assert np.all(weights.numpy() == 1.0)


def test_no_readable_checkpoint_is_an_error(tmp_path):
    from artlib.errors import CheckpointError

    for path in _save_steps(tmp_path, [1, 2]).checkpoints:
        Path(path + ".index").write_bytes(b"garbage")
    checkpointer, _ = _counter_checkpointer(tmp_path)
    with pytest.raises(CheckpointError, match=r"no checkpoint in .*checkpoints could "
                                                                          r"be read \(.*ckpt-2 \(.*\); .*ckpt-1 \(.*\)\); "
                                                                          r"delete .*checkpoints to start over$"):
        checkpointer.restore()  # one line, for the command line's one-line error


def test_an_explicit_checkpoint_that_cannot_be_read_does_not_fall_back(tmp_path):
    from artlib.errors import CheckpointError

    Path(_save_steps(tmp_path, [1, 2]).checkpoints[-1] + ".index").write_bytes(b"garbage")  # ckpt-1 stays good
    checkpointer, weights = _counter_checkpointer(tmp_path)
    with pytest.raises(CheckpointError, match=r"ckpt-2"):
        checkpointer.restore(str(tmp_path / "checkpoints" / "ckpt-2"))
    with pytest.warns(RuntimeWarning, match="resuming from the older"):  # asked for none: the good one is found
        assert checkpointer.restore() == 1 and np.all(weights.numpy() == 1.0)


@pytest.mark.parametrize("damage", ["deleted", "garbage", "empty", "names none"])
def test_a_damaged_list_of_checkpoints_still_finds_them(tmp_path, damage, recwarn):
    """TensorFlow's ``checkpoint`` file only names the checkpoints: without it a run had started over silently
    (and a shorter run then overwrote the longer one's results); empty, it was a traceback."""
    _save_steps(tmp_path, [1, 2])
    state = tmp_path / "checkpoints" / "checkpoint"
    if damage == "deleted":
        state.unlink()
    else:
        state.write_text({"garbage": "garbage {{{", "empty": "", "names none": 'all_model_checkpoint_paths: ""'}[damage])
    checkpointer, weights = _counter_checkpointer(tmp_path)
    assert checkpointer.restore() == 2 and np.all(weights.numpy() == 2.0)
    assert checkpointer.on_disk() == [str(tmp_path / "checkpoints" / f"ckpt-{s}") for s in (1, 2)]
    said = [str(w.message) for w in recwarn if issubclass(w.category, RuntimeWarning)]
    if damage == "deleted":
        assert said == []
    else:
        assert len(said) == 1 and "checkpoint is damaged" in said[0] and "set aside as checkpoint.damaged" in said[0]
        assert (tmp_path / "checkpoints" / "checkpoint.damaged").is_file()
    checkpointer.step.assign(3)
    checkpointer.save()  # and the list is written afresh
    assert _counter_checkpointer(tmp_path)[0].latest.endswith("ckpt-3")


def test_empty_run_dir_starts_at_zero(tmp_path):
    checkpointer, _ = _counter_checkpointer(tmp_path / "new")
    assert checkpointer.restore() == 0 and checkpointer.latest is None


def test_mismatched_model_is_a_checkpoint_error(tmp_path):
    import keras

    from artlib.errors import CheckpointError
    from artlib.training import Checkpointer

    model = tiny_model(0)
    Checkpointer(tmp_path, model=model).save()

    wider = keras.Sequential([keras.Input((4,)), keras.layers.Dense(9), keras.layers.Dense(4)])
    with pytest.raises(CheckpointError, match="different model"):
        Checkpointer(tmp_path, model=wider).restore()
    deeper = keras.Sequential([keras.Input((4,)), *[keras.layers.Dense(8) for _ in range(3)],
                               keras.layers.Dense(4)])
    with pytest.raises(CheckpointError, match="different model"):
        Checkpointer(tmp_path, model=deeper).restore()
    smaller = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8)])
    checkpointer = Checkpointer(tmp_path, model=smaller)
    checkpointer.restore()  # its one layer fits; the left-over values show up here:
    with pytest.raises(CheckpointError, match="different model"):
        checkpointer.assert_restored()


def _kill_while_writing(child: subprocess.Popen, directory: Path) -> int:
    """SIGKILL the saver while TensorFlow's temporary files for a checkpoint exist; return its number."""
    for line in child.stdout:
        if not line.startswith("saving "):
            continue
        step = int(line.split()[1])
        if step < 3:  # keep two good checkpoints first
            continue
        temp, done = directory / f"ckpt-{step}_temp", directory / f"ckpt-{step}.index"
        while not done.exists():  # the save takes a while: 100 MB
            if temp.exists():
                child.send_signal(signal.SIGKILL)
                return step
            time.sleep(0.0005)
        if step > 30:
            break
    raise AssertionError("never caught the saver in the middle of a save")


def test_kill_during_save_keeps_last_good_checkpoint(tmp_path):
    child = subprocess.Popen([sys.executable, str(HERE), "saver", str(tmp_path)], env=subprocess_env(QUIET_TF),
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        killed_at = _kill_while_writing(child, tmp_path / "checkpoints")
        child.wait(timeout=HANG_TIMEOUT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert (tmp_path / "checkpoints" / f"ckpt-{killed_at}_temp").exists()  # really mid-save

    import tensorflow as tf

    from artlib.training import Checkpointer

    big, small = tf.Variable(tf.zeros([BIG])), tf.Variable(tf.zeros([3]))
    checkpointer = Checkpointer(tmp_path, big=big, small=small)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the newest checkpoint must be whole: no fallback
        step = checkpointer.restore()
    assert step == killed_at - 1 and checkpointer.restored_path == checkpointer.latest
    assert np.all(big.numpy() == step) and np.all(small.numpy() == step)
    # The left-over temporary files do not get in the way of the next save, which clears them away.
    (tmp_path / "checkpoints" / "ckpt-0_temp").mkdir(exist_ok=True)  # an older killed save's folder
    checkpointer.step.assign(killed_at)
    assert checkpointer.save().endswith(f"ckpt-{killed_at}")
    assert not list((tmp_path / "checkpoints").glob("*_temp"))
    assert checkpointer.restore() == killed_at


# ----------------------------------------------------------------------------- NaN guard
def test_nan_guard_stops_loop_and_keeps_last_good_checkpoint(tmp_path):
    import tensorflow as tf

    from artlib.errors import NonFiniteLossError
    from artlib.training import Checkpointer, shuffled_batches, train_loop

    model, optimizer, noise, _ = tiny_training(0)
    calls = tf.Variable(0)

    @tf.function
    def step(batch):
        calls.assign_add(1)
        poison = tf.where(calls == 5, float("nan"), 1.0)  # the 5th step goes wrong
        with tf.GradientTape() as tape:
            loss = poison * tf.reduce_mean((model(batch) - batch) ** 2)
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return {"loss": loss}

    data = tiny_data()
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at step 5\..*ckpt-4") as info:
        train_loop(step, lambda epoch: shuffled_batches(data, 8, seed=epoch), num_steps=10,
                   run_dir=tmp_path, state={"model": model, "optimizer": optimizer},
                   save_every=2, quiet=True)
    assert "kept" in str(info.value)
    assert np.isnan(model.weights[0].numpy()).any()  # the bad state existed in memory ...

    fresh = tiny_model(1)
    checkpointer = Checkpointer(tmp_path, model=fresh)
    assert Path(checkpointer.latest).name == "ckpt-4"  # ... but was never saved
    assert checkpointer.restore() == 4
    assert all(np.isfinite(w.numpy()).all() for w in fresh.weights)


def test_save_refuses_non_finite_weights(tmp_path):
    from artlib.errors import NonFiniteLossError

    checkpointer, weights = _counter_checkpointer(tmp_path, value=1.0)
    good = checkpointer.save()
    weights.assign(weights * np.inf)
    checkpointer.step.assign(1)
    with pytest.raises(NonFiniteLossError, match="NaN or Inf at step 1.*ckpt-0"):
        checkpointer.save()
    assert checkpointer.latest == good and checkpointer.checkpoints == [good]


def test_nan_guard_callback_stops_fit(tmp_path):
    import keras

    from artlib.errors import NonFiniteLossError
    from artlib.training import BackupAndRestore, NaNGuard, callbacks

    x = tiny_data(32)
    y = x.copy()
    y[20] = np.nan  # in the third batch of 8
    model = tiny_model(0)
    model.compile(optimizer="adam", loss="mse")
    chosen = callbacks(tmp_path)
    assert [type(c) for c in chosen] == [NaNGuard, keras.callbacks.TensorBoard, BackupAndRestore]
    with pytest.raises(NonFiniteLossError, match="loss became nan in epoch 1, batch 3") as stopped:
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0, callbacks=chosen)
    # The error's traceback holds Keras's epoch iterator, a tf.data iterator with autotuning on, in a reference
    # cycle. Freed later by the garbage collector, TensorFlow first waits out its tuning thread's current period
    # (doubling up to a minute): 16 s for one freed 25 s after a stopped fit, which stalled a test of another file
    # on the same worker. Freed now, while young, it goes at once.
    del stopped
    gc.collect()


def test_train_loop_rejects_epochs_shorter_than_steps_per_epoch(tmp_path):
    from artlib.training import shuffled_batches, train_loop

    model, optimizer, _, step = tiny_training(0)
    data = tiny_data(24)  # 3 batches, not 5
    with pytest.raises(ValueError, match="gave 3 batches, but steps_per_epoch is 5"):
        train_loop(step, lambda epoch: shuffled_batches(data, 8, seed=epoch), num_steps=10,
                   run_dir=tmp_path, state={"model": model, "optimizer": optimizer},
                   steps_per_epoch=5, quiet=True)


# ----------------------------------------------------------------------------- fit resume, strategy
@pytest.mark.slow
def test_backup_and_restore_resumes_fit_exactly(tmp_path):
    run_scenario("fit_backup", tmp_path)
    info = json.loads((tmp_path / "info.json").read_text())
    assert info == {"backup_existed": True, "epochs_after_resume": [2, 3]}  # epochs 3 and 4, after the backup
    with np.load(tmp_path / "results.npz") as npz:
        keys = sorted({k.split("/")[1] for k in npz.files}, key=int)
        run = {name: [npz[f"{name}/{k}"] for k in keys]
               for name in ("straight", "resumed", "before", "keras_only")}
    assert len(keys) == 5  # two Dense layers and Dropout's RNG state
    assert _all_equal(run["straight"], run["resumed"])
    assert not _all_equal(run["before"], run["resumed"])  # the resumed model started elsewhere
    # Keras's own BackupAndRestore loses Dropout's RNG state, so its resume is not exact:
    assert not np.array_equal(run["keras_only"][2], run["straight"][2])
    assert not _all_equal(run["keras_only"], run["straight"])
    assert (tmp_path / "resumed" / "backup" / "backup.json").is_file()  # kept when fit completed


@pytest.mark.slow
def test_mirrored_strategy_on_two_cpus_matches_one_device(tmp_path):
    run_scenario("mirrored", tmp_path)
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["strategy"] == "MirroredStrategy" and info["replicas"] == 2
    # Two replicas of 4 examples, summed and divided by 8, are the one-device mean over 8:
    np.testing.assert_allclose(info["loss"], info["single_loss"], rtol=1e-5)
    assert info["loss"][1] < info["loss"][0]  # the first step helped
    assert info["optimizer_steps"] == 2  # one update per step, not one per replica
    with np.load(tmp_path / "weights.npz") as npz:
        for i in range(4):
            np.testing.assert_allclose(npz[f"mirrored/{i}"], npz[f"single/{i}"], rtol=1e-5, atol=1e-6)
    assert (tmp_path / "run" / "checkpoints" / "ckpt-2.index").exists()


@pytest.mark.slow
def test_fit_resumes_exactly_from_its_own_backup(tmp_path):
    run_scenario("fit_entry", tmp_path)
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["backup_files"] == ["backup.json", "epoch-1.weights.h5", "epoch-2.weights.h5"]  # no Keras files
    assert info["straight_epochs"] == [1, 2, 3, 4]
    assert info["resumed_epochs"] == [3, 4] and info["final_step"] == 4  # it went on after epoch 2
    assert info["run_history_epochs"] == [1, 2, 3, 4]  # history.json: both calls merged
    assert info["run_history_loss"] == info["straight_loss"]  # ... with the same values as one run
    assert info["scratch_epochs"] == [1, 2, 3, 4]  # without backup.json it started again
    assert info["backup_left"]  # kept when fit completed: the finished run
    assert info["again_epochs"] == [] and info["again_final_step"] == 2  # called again: nothing trained ...
    assert info["extended_epochs"] == [3, 4]  # ... and with more epochs it went on
    with np.load(tmp_path / "results.npz") as npz:
        keys = sorted({k.split("/")[1] for k in npz.files}, key=int)
        run = {name: [npz[f"{name}/{k}"] for k in keys]
               for name in ("straight", "resumed", "scratch", "finished", "again", "extended")}
    assert _all_equal(run["again"], run["finished"])  # the finished weights, loaded over other initial ones
    assert _all_equal(run["extended"], run["straight"])  # a finished run extended ends as one run of 4 epochs
    assert len(keys) == 5  # two Dense layers and Dropout's RNG state
    assert _all_equal(run["straight"], run["resumed"])
    assert not _all_equal(run["straight"], run["scratch"])  # so the equality came from the backup


def test_get_strategy_default_on_one_device():
    import tensorflow as tf

    from artlib.training import get_strategy

    strategy = get_strategy()
    assert strategy.num_replicas_in_sync == 1
    if not tf.config.list_logical_devices("GPU"):
        assert strategy is tf.distribute.get_strategy()


# ----------------------------------------------------------------------------- TensorBoard, helpers
def _events(log_dir: Path) -> list:
    import tensorflow as tf

    files = sorted(log_dir.rglob("events.out.tfevents.*"))
    assert files, f"no event files under {log_dir}"
    return [e for f in files for e in tf.compat.v1.train.summary_iterator(str(f))]


def test_run_logger_writes_scalars_and_image_grid(tmp_path):
    import tensorflow as tf

    from artlib.training import RunLogger

    images = np.random.default_rng(0).random((6, 5, 7, 3))
    with RunLogger(tmp_path) as logger:
        logger.scalars({"d_loss": 0.5, "g_loss": 2.0}, step=3)
        logger.images("samples", images, step=3)
    values = [(e.step, v) for e in _events(tmp_path / "tensorboard") for v in e.summary.value]
    scalars = {v.tag: float(tf.make_ndarray(v.tensor)) for _, v in values
               if v.metadata.plugin_data.plugin_name == "scalars"}
    assert scalars == {"d_loss": 0.5, "g_loss": 2.0}
    [(step, image)] = [(s, v) for s, v in values if v.metadata.plugin_data.plugin_name == "images"]
    assert step == 3 and image.tag == "samples"
    width, height, png = tf.make_ndarray(image.tensor)  # one grid: 2 rows x 3 columns, 1 px lines
    assert (int(width), int(height)) == (3 * 8 + 1, 2 * 6 + 1)
    assert tf.io.decode_png(png).shape == (13, 25, 3)


def test_train_loop_writes_the_run_directory_and_returns_a_result(tmp_path):
    from PIL import Image

    from artlib.training import TrainResult, shuffled_batches, train_loop

    model, optimizer, noise, step = tiny_training(0)
    data = tiny_data()
    state = {"model": model, "optimizer": optimizer, "noise": noise}
    started = time.perf_counter()
    result = train_loop(step, lambda epoch: shuffled_batches(data, 8, seed=epoch), num_steps=4,
                        run_dir=tmp_path, state=state, save_every=2, log_every=2, sample_every=1,
                        sample_fn=lambda: data[:4].reshape(4, 2, 2), quiet=True)
    elapsed = time.perf_counter() - started
    assert isinstance(result, TrainResult) and (result.final_step, result.stopped) == (4, "done")
    assert result.run_dir == tmp_path and 0 < result.seconds <= elapsed  # this call's wall time
    assert result["step"] == [1, 2, 3, 4] and len(result["loss"]) == 4  # the history, as a mapping
    assert dict(result) == result.history
    tags = {(e.step, v.tag) for e in _events(tmp_path / "tensorboard") for v in e.summary.value}
    assert {(2, "loss"), (4, "loss"), (1, "samples"), (3, "samples"), (4, "samples")} <= tags
    assert json.loads((tmp_path / "history.json").read_text()) == result.history
    pngs = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert pngs == [f"step-00000{s}.png" for s in (1, 2, 3, 4)]
    grid = np.asarray(Image.open(tmp_path / "samples" / "step-000004.png"))
    assert grid.shape[:2] == (2 * 3 + 1, 2 * 3 + 1)  # 2 x 2 images of 2 x 2 px, 1 px lines
    with Image.open(tmp_path / "samples.gif") as gif:
        assert gif.n_frames == 1  # the four grids are the same picture: merged into one frame
    assert Image.open(tmp_path / "losses.png").size[0] > 100
    again = train_loop(step, lambda epoch: shuffled_batches(data, 8, seed=epoch), num_steps=4,
                       run_dir=tmp_path, state=state, quiet=True)
    assert again["step"] == [] and again.final_step == 4  # already finished: nothing to do


def test_history_is_merged_across_resumes_and_redone_steps_replace_old_ones(tmp_path, capsys):
    from artlib.training import RunDir, shuffled_batches, train_loop

    data = tiny_data()

    def train(num_steps, seed, resume_from=None, order=0, quiet=True):
        model, optimizer, noise, step = tiny_training(seed)
        return train_loop(step, lambda epoch: shuffled_batches(data, 8, seed=order + epoch),
                          num_steps=num_steps, run_dir=tmp_path,
                          state={"model": model, "optimizer": optimizer, "noise": noise},
                          save_every=3, max_to_keep=5, resume_from=resume_from, summary=False, quiet=quiet)

    first = train(7, seed=0)
    assert first["step"] == list(range(1, 8))
    capsys.readouterr()
    again = train(5, seed=1, quiet=None)  # fewer steps than the run has: nothing trained, and said so
    assert again.final_step == 7 and again["step"] == [] and RunDir(tmp_path).read_history()["step"][-1] == 7
    assert f"{tmp_path} is at step 7, past the 5 asked for: nothing to train (its checkpoint stays at step 7).\n" \
        in capsys.readouterr().out
    # Go back to ckpt-3 (fresh objects, another seed) and train to 9 on another data order:
    # steps 4..7 are redone, with other values.
    second = train(9, seed=1, resume_from=str(tmp_path / "checkpoints" / "ckpt-3"), order=100)
    assert second["step"] == list(range(4, 10))
    merged = RunDir(tmp_path).read_history()
    assert merged["step"] == list(range(1, 10))
    assert merged["loss"] == first["loss"][:3] + second["loss"]
    assert merged["loss"][3:7] != first["loss"][3:7]  # the redone steps replaced the old ones


def test_settings_mismatch_is_a_checkpoint_error(tmp_path):
    from artlib.errors import CheckpointError
    from artlib.training import RunDir, shuffled_batches, train_loop

    model, optimizer, _, step = tiny_training(0)
    data = tiny_data()

    def train(num_steps, settings):
        return train_loop(step, lambda epoch: shuffled_batches(data, 8, seed=epoch), num_steps=num_steps,
                          run_dir=tmp_path, state={"model": model, "optimizer": optimizer},
                          settings=settings, summary=False, quiet=True)

    train(2, {"learning_rate": 0.01, "layers": (8, 4), "num_steps": 2})
    assert RunDir(tmp_path).read_settings() == {"learning_rate": 0.01, "layers": [8, 4], "num_steps": 2}
    assert train(3, {"learning_rate": 0.01, "layers": (8, 4), "num_steps": 3})["step"] == [3]  # longer is fine
    with pytest.raises(CheckpointError, match=r"other settings \(learning_rate: 0.01 -> 0.02\)"):
        train(4, {"learning_rate": 0.02, "layers": (8, 4), "num_steps": 4})
    assert not (tmp_path / "checkpoints" / "ckpt-4.index").exists()  # refused before training
    with pytest.raises(CheckpointError, match="layers"):
        train(4, {"learning_rate": 0.01, "num_steps": 4})  # a setting left out is a change too


def test_a_run_stopped_before_it_saved_anything_takes_other_settings(tmp_path, capsys):
    """Ctrl-C in the first seconds, then another --batch-size: nothing is lost, so nothing is refused."""
    from artlib.errors import CheckpointError
    from artlib.training import RunDir, shuffled_batches, train_loop

    model, optimizer, _, step = tiny_training(0)
    data = tiny_data()

    def stopped_at_once(*batch):
        raise KeyboardInterrupt

    def train(step_fn, learning_rate):
        return train_loop(step_fn, lambda epoch: shuffled_batches(data, 8, seed=epoch), num_steps=2,
                          run_dir=tmp_path, state={"model": model, "optimizer": optimizer},
                          settings={"learning_rate": learning_rate}, summary=False, quiet=True)

    with pytest.raises(KeyboardInterrupt):
        train(stopped_at_once, 0.01)
    run = RunDir(tmp_path)
    assert run.read_settings() == {"learning_rate": 0.01} and not run.has_progress()
    capsys.readouterr()
    assert train(step, 0.02)["step"] == [1, 2] and run.has_progress()
    assert f"{tmp_path} held the settings of a run stopped before it saved anything; starting afresh with these " \
           "(learning_rate: 0.01 -> 0.02)." in capsys.readouterr().out
    with pytest.raises(CheckpointError, match=r"other settings \(learning_rate: 0.02 -> 0.03\)"):
        train(step, 0.03)  # once something is saved, refused as before


@pytest.mark.parametrize("text, words", [
    ('{"step": ["a", "b"], "loss": [1, 2]}', "holds step values that are not whole numbers"),
    ('{"epoch": [1.5], "loss": [1]}', "holds epoch values that are not whole numbers"),
    ('{"step": [1, 2, 3], "loss": [1]}', r"holds lists of different lengths \(step 3, loss 1\)"),
])
def test_a_history_that_is_json_but_not_a_history_is_a_checkpoint_error(tmp_path, text, words):
    """Had been a TypeError or IndexError from the merge, after the settings were checked."""
    from artlib.errors import CheckpointError
    from artlib.training import RunDir

    (tmp_path / "history.json").write_text(text)
    with pytest.raises(CheckpointError, match=f"history.json {words}; delete it to start the history afresh"):
        RunDir(tmp_path).read_history()


@pytest.mark.parametrize("text, words", [('{"num_steps": ', "is not valid JSON"), ("[1, 2]", "holds a JSON array"),
                                         ('"run"', "holds a JSON string"), ("null", "holds a JSON null"),
                                         ("\xff", "is not valid JSON")])
def test_a_damaged_or_misshapen_json_file_in_a_run_is_a_checkpoint_error_naming_it(tmp_path, text, words):
    from artlib import fast_style
    from artlib.errors import CheckpointError, DataError
    from artlib.training import RunDir, shuffled_batches, train_loop

    (tmp_path / "settings.json").write_text(text, encoding="latin-1")
    (tmp_path / "history.json").write_text(text, encoding="latin-1")
    with pytest.raises(CheckpointError, match=f"settings.json {words}.*use a new run directory"):
        RunDir(tmp_path).read_settings()
    with pytest.raises(CheckpointError, match=f"history.json {words}.*delete it"):
        RunDir(tmp_path).read_history()
    model, optimizer, _, step = tiny_training(0)  # a training into the folder: refused before it begins
    with pytest.raises(CheckpointError, match=f"settings.json {words}"):  # [1, 2] was an AttributeError
        train_loop(step, lambda epoch: shuffled_batches(tiny_data(), 8, seed=epoch), num_steps=2, run_dir=tmp_path,
                   state={"model": model, "optimizer": optimizer}, settings={"num_steps": 2}, quiet=True)
    (tmp_path / "net.keras").write_bytes(b"")
    (tmp_path / "net.json").write_text(text, encoding="latin-1")  # a saved network's recipe
    with pytest.raises(DataError, match=f"net.json {words}"):  # damaged text was a JSONDecodeError
        fast_style.load_recipe(tmp_path / "net.keras")
    (tmp_path / "history.json").write_text('{"step": 3}')
    with pytest.raises(CheckpointError, match="not lists"):
        RunDir(tmp_path).read_history()


@pytest.mark.parametrize("bad", [{"num_steps": 0}, {"save_every": 0}, {"log_every": -1},
                                 {"sample_every": 0}, {"max_seconds": 0}, {"steps_per_epoch": 0},
                                 {"num_steps": 2.5}, {"save_every": 1.5}, {"max_seconds": "60"}])
def test_train_loop_rejects_values_that_are_not_above_zero(tmp_path, bad):
    from artlib.errors import ArtlibError
    from artlib.training import shuffled_batches, train_loop

    model, optimizer, _, step = tiny_training(0)
    data = tiny_data()
    kwargs = {"num_steps": 2, **bad}
    name, value = next(iter(bad.items()))
    wanted = "must be above 0" if name == "max_seconds" else "must be a positive integer"  # counts are whole
    with pytest.raises(ArtlibError, match=f"{name} {wanted}; got {re.escape(repr(value))}"):
        train_loop(step, lambda epoch: shuffled_batches(data, 8, seed=epoch), run_dir=tmp_path,
                   state={"model": model, "optimizer": optimizer}, quiet=True, **kwargs)
    assert not (tmp_path / "checkpoints").exists()


def test_the_loops_iterate_their_datasets_untuned():
    """An epoch's batches from its position, without autotuning (an epoch's iterator waited, idle, for its
    threads at the epoch's end on a busy machine); a plain iterable sliced as before; fit's epochs untuned too."""
    from artlib.training import epoch_dataset, loop, shuffled_batches

    data = tiny_data()
    epoch = shuffled_batches(data, 8, seed=5)
    assert epoch.options().autotune.enabled is not False  # tf.data's default: tuned
    rest = loop._skip(epoch, 2)
    assert rest.options().autotune.enabled is False
    assert [b.numpy().tolist() for b in rest] == [b.numpy().tolist() for b in list(epoch)[2:]]
    assert list(loop._skip(iter(range(5)), 3)) == [3, 4]
    assert epoch_dataset(data, 8, seed=5, num_epochs=1, steps_per_epoch=2).options().autotune.enabled is False


def test_epoch_dataset_is_keyed_by_epoch_like_shuffled_batches():
    from artlib.errors import ArtlibError
    from artlib.training import epoch_dataset, epoch_order, shuffled_batches

    data = (tiny_data(), np.arange(40))
    whole = list(epoch_dataset(data, 8, seed=3, num_epochs=3, steps_per_epoch=4))
    assert len(whole) == 12
    for k, (x, y) in enumerate(whole):
        want_x, want_y = list(shuffled_batches(data, 8, seed=3 + k // 4))[k % 4]
        assert np.array_equal(x, want_x) and np.array_equal(y, want_y)
        assert np.array_equal(y, epoch_order(40, seed=3, epoch=k // 4)[8 * (k % 4): 8 * (k % 4 + 1)])
    resumed = list(epoch_dataset(data, 8, seed=3, num_epochs=3, steps_per_epoch=4, first_epoch=2))
    assert len(resumed) == 4 and all(np.array_equal(a[1], b[1]) for a, b in zip(resumed, whole[8:]))
    seeds = [s.numpy().tolist() for _, s in epoch_dataset(
        tiny_data(), 8, seed=3, num_epochs=2, steps_per_epoch=5, first_epoch=1, map_fn=lambda b, s: (b, s))]
    assert seeds == [[3, step] for step in range(5, 10)]  # (seed, step over the whole run)
    with pytest.raises(ArtlibError, match="needs 48 examples; data holds 40"):
        epoch_dataset(data, 8, seed=0, num_epochs=1, steps_per_epoch=6)
    with pytest.raises(ArtlibError, match="batch_size must be a positive integer; got 0"):
        epoch_dataset(data, 0, seed=0, num_epochs=1, steps_per_epoch=1)
    for size in (0, "8"):  # text: not a TypeError from the comparison
        with pytest.raises(ArtlibError, match=f"batch_size must be a positive integer; got {size!r}"):
            shuffled_batches(data, size, seed=0)
    with pytest.raises(ArtlibError, match="differ in length"):
        epoch_dataset((tiny_data(), np.arange(39)), 8, seed=0, num_epochs=1, steps_per_epoch=1)


def test_fit_nan_guard_stops_and_keeps_the_last_good_backup(tmp_path):
    import keras
    import tensorflow as tf

    from artlib.errors import NonFiniteLossError
    from artlib.training import BackupAndRestore, fit

    def poison_from_step_7(clean, seed):  # step 7 (from 0) is epoch 2, batch 3
        # The target, not the input: oneDNN's fused Dense + ReLU turns a NaN input into 0.
        return clean, tf.where(seed[1] >= 7, float("nan"), clean)

    model = tiny_model(0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    with pytest.raises(NonFiniteLossError, match="loss became nan in epoch 2, batch 3"):
        fit(model, tiny_data(), num_epochs=3, batch_size=8, run_dir=tmp_path, map_fn=poison_from_step_7,
            verbose=0)
    state = json.loads((tmp_path / "backup" / "backup.json").read_text())
    assert [entry["epoch"] for entry in state["backups"]] == [1]  # the bad epoch was never backed up
    fresh = tiny_model(1)
    fresh.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    assert BackupAndRestore(tmp_path / "backup").restore(fresh) == 1
    assert all(np.isfinite(w).all() for w in fresh.get_weights())
    assert int(fresh.optimizer.iterations.numpy()) == 5  # epoch 1's five steps, restored


def test_an_unreadable_backup_falls_back_to_the_older_one_and_none_readable_is_one_error(tmp_path):
    import keras

    from artlib.errors import CheckpointError
    from artlib.training import BackupAndRestore, fit

    class StopAfterTwoEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    model = tiny_model(0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    with pytest.raises(KeyboardInterrupt):
        fit(model, tiny_data(), num_epochs=3, batch_size=8, run_dir=tmp_path, verbose=0,
            map_fn=lambda clean, seed: (clean, clean), extra_callbacks=[StopAfterTwoEpochs()])
    backup = tmp_path / "backup"
    (backup / "epoch-2.weights.h5").write_bytes(b"truncated")
    fresh = tiny_model(1)
    fresh.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    with pytest.warns(RuntimeWarning, match=r"^backup .*epoch-2.weights.h5 \(.*\) cannot be read; resuming from "
                                            r"the older .*epoch-1.weights.h5$"):
        assert BackupAndRestore(backup).restore(fresh) == 1
    (backup / "epoch-1.weights.h5").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"^no backup in .*backup could be read \(.*epoch-2.weights.h5 \(.*\); "
                                              r".*epoch-1.weights.h5 \(.*\)\); delete .*backup to start over$"):
        BackupAndRestore(backup).restore(fresh)  # one line, for the command line's one-line error


def test_fit_checks_its_arguments(tmp_path):
    import keras

    from artlib.errors import ArtlibError
    from artlib.training import fit

    model = tiny_model(0)
    with pytest.raises(ArtlibError, match="compile"):
        fit(model, tiny_data(), num_epochs=1, batch_size=8)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    with pytest.raises(ArtlibError, match="num_epochs must be a positive integer; got 0"):
        fit(model, tiny_data(), num_epochs=0, batch_size=8)
    with pytest.raises(ArtlibError, match="fewer than one batch of 64"):
        fit(model, tiny_data(), num_epochs=1, batch_size=64)
    with pytest.raises(ArtlibError, match="fit sets epochs"):
        fit(model, tiny_data(), num_epochs=1, batch_size=8, epochs=3)
    result = fit(model, (tiny_data(), tiny_data()), num_epochs=2, batch_size=8, verbose=0)
    assert result["epoch"] == [1, 2] and result.final_step == 2 and result.run_dir is None
    assert result["loss"][1] < result["loss"][0]  # it learns the identity


def test_check_finite_names_the_value_step_and_checkpoint():
    from artlib.errors import NonFiniteLossError
    from artlib.training import check_finite

    check_finite({"loss": 0.5, "kl": 1e30}, step=3)  # finite: nothing happens
    with pytest.raises(NonFiniteLossError, match=r"^kl became inf at step 3\. The last good checkpoint, "
                                                 r"runs/x/ckpt-2, is kept"):
        check_finite({"loss": 0.5, "kl": float("inf")}, step=3, last_checkpoint="runs/x/ckpt-2")
    with pytest.raises(NonFiniteLossError) as info:
        check_finite({"the style-transfer loss": float("nan")}, step=7, checkpoints=False,
                     hint="Lower the learning rate or the style weight.")
    assert str(info.value) == ("the style-transfer loss became nan at step 7. "
                               "Lower the learning rate or the style weight.")


def test_train_result_is_a_mapping_over_its_history():
    from artlib.training import TrainResult

    result = TrainResult(history={"step": [1, 2], "loss": [0.5, 0.25]}, final_step=2, seconds=0.1)
    assert result["loss"] == [0.5, 0.25] and list(result) == ["step", "loss"] and len(result) == 2
    assert result.get("missing") is None and "step" in result and result.stopped == "done"
    with pytest.raises(ValueError, match="stopped must be one of"):
        TrainResult(history={}, final_step=0, seconds=0.0, stopped="tired")


def test_progress_bar_quiet_prints_nothing(capsys):
    from artlib.training import progress_bar

    bar = progress_bar(3, quiet=True)
    for step in (1, 2, 3):
        bar.update(step, [("loss", 0.1)])
    assert capsys.readouterr().out == ""
    loud = progress_bar(3, quiet=False)
    loud.update(3, [("loss", 0.125)])
    assert "loss: 0.125" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the step's tracing
def test_a_step_is_traced_without_autograph_python_conditions_on_settings_only():
    """distribute_step traces the replica step as plain TensorFlow calls (its docstring): a branch on a
    setting works; one on a tensor is refused at the first call, where AutoGraph would have rewritten it."""
    import tensorflow as tf

    from artlib import training

    def on_settings(scale):
        def replica_step(batch):
            return {"loss": tf.reduce_mean(batch) * (2.0 if scale else 1.0)}
        return replica_step

    batch = tf.ones([4, 3])
    assert float(training.distribute_step(on_settings(True))(batch)["loss"]) == 2.0
    assert float(training.distribute_step(on_settings(False))(batch)["loss"]) == 1.0

    def on_a_tensor(batch):
        mean = tf.reduce_mean(batch)
        return {"loss": mean if mean > 0 else -mean}

    with pytest.raises(TypeError, match="not allowed"):
        training.distribute_step(on_a_tensor)(batch)


# ----------------------------------------------------------------------------- script entry
if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    scenario, directory = sys.argv[1], Path(sys.argv[2])
    globals()[f"scenario_{scenario}"](directory)
