"""Every training loop under ``tf.distribute``: two replicas take the step one device takes; several workers resume.

Logical devices are process-wide, so the scenarios run this file as a script in a
fresh process (conftest's :func:`run_python`)::

    python tests/test_distribute.py <scenario> <directory> [<group>]

* ``loops``: each loop of a group (GAN and its variants, progressive GAN; diffusion, translation;
  autoencoder, compressing autoencoder, VAE, fast style, arbitrary style) trains one
  step through its public ``train`` function, once on the default strategy (one device) and
  once under ``MirroredStrategy`` over two logical CPUs, from the same seeds and batch;
  everything the run saved (weights, optimizer moments, seed-generator states) and every
  logged loss is compared.
* ``api``: :func:`artlib.training.get_strategy` and the checks that refuse what would not split.
* ``worker``: one worker of a ``MultiWorkerMirroredStrategy`` (its ``TF_CONFIG`` comes from
  the test) training a few GAN steps into a shared run directory; ``resume``: one ordinary
  process going on from there.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import REPO, run_python, subprocess_env

HERE = Path(__file__).resolve()
QUIET_TF = {"TF_CPP_MIN_LOG_LEVEL": "2"}

#: How far one step on two replicas may land from one device's, relative to a tensor's largest entry
#: (at least 1). Sums over a batch split in two round differently in float32 (~1e-7 of a value,
#: more where terms cancel, as after an instance norm); Adam then divides a gradient by its own size,
#: so a gradient that is only rounding (a bias before a normalization) moves its weight by a fraction
#: of the learning rate either way. Measured: see :func:`test_two_replicas_take_the_one_device_step`.
#: Over two steps, such differences grow (a CycleGAN's Adam moments by 1e-2 on the second step, the
#: same from a one-device run whose state differs by 5e-6), so one step is compared.
WEIGHT_TOL = 1e-4
#: The same for the logged losses, and what they may differ by in all: a loss that is itself rounding
#: (the content loss of fast style's first step, whose network starts as the identity: 1e-4) differs by 6e-6.
LOSS_RTOL = 1e-4
LOSS_ATOL = 1e-5


# ----------------------------------------------------------------------------- tiny data and loops
def tiny_images(n: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (n, 28, 28): a bright square or a bar per image, and a label 0-3 from its kind and place."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    labels = np.arange(n) % 4
    for i, (y, x) in enumerate(rng.integers(2, 16, size=(n, 2))):
        if labels[i] % 2:
            images[i, y:y + 4, 2:26] = 200
        else:
            images[i, y:y + 10, x:x + 10] = 255
    return images, labels.astype(np.int32)


def _checkpoint(run_dir: Path) -> dict[str, np.ndarray]:
    """Every value in the newest checkpoint of a run (models, optimizers, seed states, step)."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(run_dir / "checkpoints"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if not name.startswith("_CHECKPOINTABLE_OBJECT_GRAPH")}


def _model_state(model) -> dict[str, np.ndarray]:
    """A fit-trained model's variables (its seed generators' states too) and its optimizer's, in order.

    By position: the names of a second model in one process carry other numbers (``adam_1``).
    """
    values = {f"model/{i:03d}": np.asarray(v.numpy()) for i, v in enumerate(model.variables)}
    values.update({f"optimizer/{i:03d}": np.asarray(v.numpy()) for i, v in enumerate(model.optimizer.variables)})
    return values


def _gan(run_dir: Path, **settings):
    from artlib import gan

    images, labels = tiny_images()
    result = gan.train(run_dir, gan.GANSettings(**{"latent_dim": 8, "batch_size": 8, "width": 8, **settings}),
                       images=images, labels=labels, num_steps=1, grid_size=4, quiet=True)
    return result.history, _checkpoint(run_dir)


def loop_autoencoder(run_dir: Path):
    import keras

    from artlib import autoencoder

    keras.utils.set_random_seed(0)  # the builder takes no seed: the same initial weights in both runs
    model = autoencoder.build_denoiser(filters=4, depth=1)
    result = autoencoder.train(model, tiny_images()[0], num_epochs=1, batch_size=8, steps_per_epoch=1,
                               steps_per_execution=1, run_dir=run_dir, verbose=0)
    return result.history, _model_state(model)


def loop_compressing_autoencoder(run_dir: Path):
    """Batch normalization and quantization noise inside the model."""
    import keras

    from artlib import autoencoder

    keras.utils.set_random_seed(0)  # the initial weights (its seed is the quantization noise's)
    model = autoencoder.build_autoencoder(4, bits=4, filters=4, seed=0)
    result = autoencoder.train(model, tiny_images()[0], noise=lambda clean, seed: clean, num_epochs=1, batch_size=8,
                               steps_per_epoch=1, steps_per_execution=1, run_dir=run_dir, verbose=0)
    return result.history, _model_state(model)


def loop_vae(run_dir: Path):
    from artlib import vae

    model = vae.build_vae(2, filters=(4, 8), seed=0)
    result = vae.train(model, tiny_images(8)[0], num_epochs=1, run_dir=run_dir, batch_size=8,
                       steps_per_execution=1, verbose=0)
    return result.history, _model_state(model)


def loop_gan(run_dir: Path):
    return _gan(run_dir)


def loop_gan_conditional_wgan_gp(run_dir: Path):
    return _gan(run_dir, conditional=True, loss="wgan-gp")


def loop_gan_creative_on_classes(run_dir: Path):
    return _gan(run_dir, creative_weight=1.0, creative_warmup=1, classes=[0, 1, 2, 3])


def loop_gan_finetune(run_dir: Path):
    """Fine-tuning (FreezeD) from the default strategy's GAN run, as a learner would from a shipped run."""
    from artlib import gan

    images, labels = tiny_images()
    gan.finetune(run_dir, run_dir.parent.parent / "single" / "gan", 1, num_images=8, freeze_d=1, num_steps=1,
                 images=images, labels=labels, quiet=True)
    return training_history(run_dir), _checkpoint(run_dir)


def loop_progressive_gan(run_dir: Path):
    from artlib import gan

    gan.train_progressive(tiny_images()[0], steps_per_level=1, batch_size=8, latent_dim=8, num_samples=4,
                          run_dir=run_dir, quiet=True)
    return training_history(run_dir / "28x28"), _checkpoint(run_dir / "28x28")


def loop_fast_style(run_dir: Path):
    from artlib import fast_style, patterns

    result = fast_style.train(patterns.make_pattern("mosaic", 32, seed=0), num_steps=1, run_dir=run_dir,
                              image_size=32, batch_size=2, width=4, num_blocks=1, content=["astronaut"],
                              weights="random", content_layers=("block2_conv1",),
                              style_layers=("block1_conv1", "block2_conv1"), steps_per_epoch=2, quiet=True,
                              verbose=False)
    return result.history, _checkpoint(run_dir)


def loop_arbitrary_style(run_dir: Path):
    """With the adversarial term: a discriminator and its optimizer too.

    64-pixel crops, not 32: at 32 (8×8 features) the decoder's last kernel's gradient is a sum that
    cancels almost to nothing, and oneDNN's AVX2 kernels (``ONEDNN_MAX_CPU_ISA=AVX2``, as on a CPU
    without AVX-512) split in two rounded it 9e-4 away (an Adam first moment of about 0.15); at 64 the
    largest difference is 9.5e-7 there, 2.4e-7 with AVX-512 and 5.7e-6 with oneDNN off.
    """
    from artlib import arbitrary_style

    result = arbitrary_style.train(num_steps=1, run_dir=run_dir, image_size=64, batch_size=2, width=4,
                                   depth="block3_conv1", weights="random", adversarial_weight=0.1, bank_seeds=1,
                                   content=["astronaut"], steps_per_epoch=2, quiet=True, verbose=False)
    return result.history, _checkpoint(run_dir)


def loop_diffusion(run_dir: Path):
    from artlib import diffusion

    images, labels = tiny_images()
    result = diffusion.train(run_dir, {"width": 8, "batch_size": 8, "num_timesteps": 50}, images=images,
                             labels=labels, num_steps=1, quiet=True)
    return result.history, _checkpoint(run_dir)


def loop_translate(run_dir: Path):
    from artlib import translate

    images, labels = tiny_images()
    result = translate.train(run_dir, {"classes": [0, 1], "width": 4, "num_blocks": 1, "disc_width": 4,
                                       "batch_size": 4}, images=images, labels=labels, num_steps=1, quiet=True,
                             grid_size=2)
    return result.history, _checkpoint(run_dir)


LOOPS = {name[len("loop_"):]: function for name, function in globals().items() if name.startswith("loop_")}
#: The loops in three fresh processes of about the same cost (30-40 s of one core here), which
#: ``pytest -n`` runs side by side.
GROUPS = {"gan": ("gan", "gan_conditional_wgan_gp", "gan_creative_on_classes", "gan_finetune", "progressive_gan"),
          "diffusion_translate": ("diffusion", "translate"),
          "fit_style": ("autoencoder", "compressing_autoencoder", "vae", "fast_style", "arbitrary_style")}
assert sorted(sum(GROUPS.values(), ())) == sorted(LOOPS)


def training_history(run_dir: Path) -> dict[str, list]:
    """A run's ``history.json`` (for the loops whose call returns no history of its own)."""
    return json.loads((run_dir / "history.json").read_text())


def differences(single: dict[str, np.ndarray], two: dict[str, np.ndarray]) -> dict[str, Any]:
    """How two saved states differ: the largest |difference|, the largest relative to its tensor, what is too far.

    Integers (steps, optimizer iterations, seed-generator states) must be equal; a float tensor may
    differ by ``WEIGHT_TOL`` times its scale (its largest entry, at least 1).
    """
    if single.keys() != two.keys():
        return {"largest": None, "relative": None,
                "problems": [f"saved different variables: {sorted(set(single) ^ set(two))[:5]}"]}
    largest, relative, problems = 0.0, 0.0, []
    for key, value in single.items():
        gap = float(np.max(np.abs(two[key].astype(np.float64) - value.astype(np.float64)), initial=0.0))
        scale = max(1.0, float(np.max(np.abs(value), initial=0)))
        if value.dtype.kind == "f":
            largest, relative = max(largest, gap), max(relative, gap / scale)
        if gap > (WEIGHT_TOL * scale if value.dtype.kind == "f" else 0.0):
            problems.append(f"{key}: differs by {gap:.3g} (scale {scale:.3g})")
    return {"largest": largest, "relative": relative, "problems": problems}


# ----------------------------------------------------------------------------- scenarios (fresh processes)
def two_cpus():
    """Split the CPU into two logical devices (before anything else touches TensorFlow's devices)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    tf.config.experimental.enable_op_determinism()  # no run-to-run noise: what differs is the split alone
    return tf


def scenario_loops(out: Path, group: str) -> None:
    """One step of each loop of ``group`` on one device and on two replicas; their differences in ``info.json``."""
    tf = two_cpus()
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    info = {}
    for name in GROUPS[group]:
        started, cpu = time.perf_counter(), time.process_time()
        single_history, single = LOOPS[name](out / "single" / name)
        single_cpu = time.process_time() - cpu
        with mirrored.scope():
            mirrored_history, two = LOOPS[name](out / "mirrored" / name)
        info[name] = {"single": dict(single_history), "mirrored": dict(mirrored_history), **differences(single, two),
                      "compared": len(single), "seconds": time.perf_counter() - started,
                      "cpu": [single_cpu, time.process_time() - cpu - single_cpu]}
    (out / "info.json").write_text(json.dumps(info))


def scenario_api(out: Path) -> None:
    """The strategy in scope or set for the program; batch norm; what does not split is refused."""
    tf = two_cpus()
    import keras

    from artlib import training
    from artlib.errors import ArtlibError

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    info = {"default": type(training.get_strategy()).__name__,
            "default_batch_norm_synchronized": training.batch_norm().synchronized}
    with mirrored.scope():  # the strategy in scope is the one every builder and step gets
        info["in_scope"] = training.get_strategy() is mirrored and training.num_replicas() == 2
        info["batch_norm_synchronized"] = training.batch_norm().synchronized
        try:
            training.check_batch_size(7)
        except ArtlibError as err:
            info["odd_batch"] = str(err)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
    try:  # fit checks the replicas of the strategy the model was built in, whatever is in scope now
        training.fit(model, (np.zeros((14, 2), np.float32), np.zeros((14, 1), np.float32)), num_epochs=1,
                     batch_size=7, seed=0, verbose=0)
    except ArtlibError as err:
        info["fit_odd_batch"] = str(err)
    outside = keras.random.SeedGenerator(0)  # made outside the strategy's scope
    try:
        with mirrored.scope():
            training.distribute_step(lambda batch: {"z": tf.reduce_mean(training.draw_for_replica(
                keras.random.normal, (tf.shape(batch)[0], 2), seed=outside))})(np.zeros((4, 1), np.float32))
    except Exception as err:  # noqa: BLE001  (the ArtlibError, as tf.function's tracing passes it on)
        info["outside_seed"] = str(err)
    tf.distribute.experimental_set_strategy(mirrored)  # a strategy set for the whole program is found too
    info["set_for_program"] = training.get_strategy() is mirrored
    tf.distribute.experimental_set_strategy(None)
    (out / "info.json").write_text(json.dumps(info))


def scenario_worker(out: Path) -> None:
    """One worker (TF_CONFIG from the test): GAN steps into the shared run directory ``out/run``."""
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # first, before any other TensorFlow op
    from artlib import gan, training

    images, labels = tiny_images()
    with strategy.scope():
        result = gan.train(out / "run", gan.GANSettings(latent_dim=8, batch_size=8, width=8), images=images,
                           labels=labels, num_steps=3, grid_size=4, quiet=True)
        wrote = str(training.worker_run_dir(out / "run"))
    (out / f"worker-{strategy.cluster_resolver.task_id}.json").write_text(json.dumps({
        "replicas": strategy.num_replicas_in_sync, "history": result.history, "final_step": result.final_step,
        "wrote": wrote, "is_chief": strategy.extended.should_checkpoint}))


def scenario_resume(out: Path) -> None:
    """A single ordinary process goes on from the multi-worker run's checkpoint."""
    from artlib import gan

    images, labels = tiny_images()
    result = gan.train(out / "run", gan.GANSettings(latent_dim=8, batch_size=8, width=8), images=images,
                       labels=labels, num_steps=5, grid_size=4, quiet=True)
    (out / "resumed.json").write_text(json.dumps({"history": result.history, "final_step": result.final_step}))


# ----------------------------------------------------------------------------- tests
@pytest.mark.slow
@pytest.mark.parametrize("group", list(GROUPS))
def test_two_replicas_take_the_one_device_step(tmp_path, group):
    """One step under MirroredStrategy (two CPUs) ends where one device ends: losses, weights, optimizer, RNG state.

    Each loop trains one step through its own ``train`` from the same seeds and batch, on one
    device and on two replicas, and everything its run saved is compared. Largest differences
    measured here (absolute, over weights and optimizer moments; with op determinism, so the same
    every run), with oneDNN's AVX-512 kernels / its AVX2 ones (``ONEDNN_MAX_CPU_ISA=AVX2``, what a CPU
    without AVX-512 runs): autoencoder 1.5e-8 / 1.5e-8, compressing autoencoder 3e-8 / 1.5e-8, VAE
    5.1e-5 / 5.1e-5 (an Adam second moment of about 30: 1.7e-6 of it), GAN 8.7e-8 / 8.9e-8,
    conditional WGAN-GP 1.6e-7 / 1.5e-7, creative GAN on classes 1.0e-7 / 9.7e-8, fine-tuned GAN
    3.1e-7 / 2.9e-7, progressive GAN 2.6e-7 / 4.5e-7, fast style 1.3e-6 / 1.9e-6, arbitrary style
    2.4e-7 / 9.5e-7, diffusion 1.2e-8 / 1.2e-8, translation 9.7e-6 / 9.7e-6: float32 rounding of sums
    split in two, against ``WEIGHT_TOL`` (1e-4 of the tensor's scale) allowed.
    """
    run_python(HERE, "loops", tmp_path, group, env=QUIET_TF, check=True)
    info = json.loads((tmp_path / "info.json").read_text())
    failures = []
    for name in GROUPS[group]:
        result = info[name]
        single, mirrored = result["single"], result["mirrored"]
        if single.keys() != mirrored.keys() or not single.get("step", single.get("epoch")):
            failures.append(f"{name}: logged {sorted(mirrored)} against {sorted(single)}")
        for key, values in single.items():
            if not np.allclose(mirrored[key], values, rtol=LOSS_RTOL, atol=LOSS_ATOL):
                failures.append(f"{name}: {key} {mirrored[key]} on two replicas, {values} on one device")
        failures += [f"{name}: {problem}" for problem in result["problems"]]
        assert result["compared"] > 10  # weights, optimizer moments and more were saved and compared
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_strategy_is_the_one_in_scope_and_refuses_what_would_not_split(tmp_path):
    run_python(HERE, "api", tmp_path, env=QUIET_TF, check=True)
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["in_scope"] and info["set_for_program"]
    assert info["default"] == "_DefaultDistributionStrategy"
    assert info["batch_norm_synchronized"] and not info["default_batch_norm_synchronized"]
    assert "batch_size 7 does not split evenly over 2 replicas" in info["odd_batch"]
    assert "batch_size 7 does not split evenly over 2 replicas" in info["fit_odd_batch"]
    assert "outside the strategy's scope" in info["outside_seed"]


def _free_ports(count: int) -> list[int]:
    """Ports the system says are free now (bound to port 0, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_a_gan_that_one_process_resumes(tmp_path):
    """MultiWorkerMirroredStrategy, two worker processes on 127.0.0.1: 3 GAN steps; then one process goes on to 5."""
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = subprocess_env({**QUIET_TF, "TF_CONFIG": json.dumps(tf_config), "TMPDIR": str(tmp_path)})  # worker copies
        processes.append(subprocess.Popen([sys.executable, str(HERE), "worker", str(tmp_path)], env=env, cwd=REPO,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=180)[0])  # catches a hang, not a speed check
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]
    chief, other = (json.loads((tmp_path / f"worker-{i}.json").read_text()) for i in range(2))
    assert chief["replicas"] == other["replicas"] == 2
    assert chief["is_chief"] and not other["is_chief"]
    assert chief["final_step"] == other["final_step"] == 3
    assert chief["history"] == other["history"]  # the same global losses on both workers
    assert chief["wrote"] == str(tmp_path / "run")
    assert Path(other["wrote"]).parent.parent == tmp_path / "artlib-workers"  # the other worker wrote a copy
    run = tmp_path / "run"
    assert (run / "checkpoints" / "ckpt-3.index").is_file() and (run / "generator.keras").is_file()

    run_python(HERE, "resume", tmp_path, env=QUIET_TF, check=True)
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    assert resumed["final_step"] == 5 and resumed["history"]["step"] == [4, 5]
    assert (run / "checkpoints" / "ckpt-5.index").is_file()
    assert json.loads((run / "history.json").read_text())["step"] == [1, 2, 3, 4, 5]


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    sys.path.insert(0, str(REPO))
    globals()[f"scenario_{sys.argv[1]}"](Path(sys.argv[2]), *sys.argv[3:])
