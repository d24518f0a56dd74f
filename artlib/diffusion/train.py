"""Training the noise predictor: the recipe, the ``tf.function`` step (with EMA weights) and :func:`train`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import modelio, training  # noqa: E402
from artlib.checks import positive_float, positive_int, seed_value, unit_float  # noqa: E402
from artlib.diffusion.schedule import NUM_TIMESTEPS, NoiseSchedule, q_sample  # noqa: E402
from artlib.diffusion.unet import IMAGE_SHAPE, NULL_CLASS, NUM_CLASSES, build_unet  # noqa: E402
from artlib.errors import ArtlibError, CheckpointError, DataError  # noqa: E402

__all__ = ["PRETRAINED_DIR", "MODEL_FILE", "DiffusionSettings", "diffusion_loss", "make_train_step", "train",
           "load_settings", "load_model"]

#: The shipped model's run folder (``model.keras`` and ``settings.json``; see data/README.md).
PRETRAINED_DIR = config.PRETRAINED_DIR / "diffusion"
#: A run's product: the EMA weights' model, which sampling uses.
MODEL_FILE = "model.keras"


class DiffusionSettings(dict):
    """A run's recipe (``settings.json``): enough to rebuild the model and its schedule.

    Raises:
        ArtlibError: An unknown key, or a size, rate or share out of range.
    """

    DEFAULTS = {"width": 32, "batch_size": 64, "learning_rate": 1e-3, "ema_decay": 0.999, "class_dropout": 0.1,
                "num_timesteps": NUM_TIMESTEPS, "num_steps": 9000, "seed": 0, "num_images": None}

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(self.DEFAULTS)
        if unknown:
            raise ArtlibError(f"unknown diffusion settings {sorted(unknown)}; known: {sorted(self.DEFAULTS)}")
        super().__init__({**self.DEFAULTS, **values})
        for name in ("width", "batch_size", "num_timesteps", "num_steps"):
            self[name] = positive_int(self[name], name)  # stored as Python numbers: JSON-able
        self["seed"] = seed_value(self["seed"])
        if self["num_images"] is not None:
            self["num_images"] = positive_int(self["num_images"], "num_images")
        self["learning_rate"] = positive_float(self["learning_rate"], "learning_rate")
        for name in ("ema_decay", "class_dropout"):
            self[name] = unit_float(self[name], name, one=False)


def diffusion_loss(noise: tf.Tensor, predicted: tf.Tensor) -> tf.Tensor:
    """Ho et al.'s simple objective: the mean square between the true noise ε and the predicted ε_θ(x_t, t)."""
    return tf.reduce_mean(tf.square(tf.cast(noise, tf.float32) - tf.cast(predicted, tf.float32)))


def make_train_step(model: keras.Model, ema_model: keras.Model, optimizer: keras.optimizers.Optimizer,
                    seeds: keras.random.SeedGenerator, schedule: NoiseSchedule, *, ema_decay: float = 0.999,
                    class_dropout: float = 0.1):
    """One ``@tf.function`` step: ``step((images, labels)) -> {"loss"}``.

    For each image: a level t uniform in 1 … T, noise ε, x_t in closed form; with probability ``class_dropout``
    the label becomes :data:`NULL_CLASS` (so one model learns both the conditional and the unconditional
    noise: classifier-free guidance). One Adam step on the noise MSE, then the EMA weights move towards
    the new ones: ``ema ← decay · ema + (1 − decay) · weights``.

    The step runs over the replicas of the strategy in scope (:func:`artlib.training.distribute_step`):
    each draws its rows of the global batch's levels, noise and label drops; make ``seeds`` under its scope.
    """
    alpha_bars, T = schedule.tensor(), schedule.num_timesteps

    def replica_step(batch):
        images, labels = batch
        images = tf.convert_to_tensor(images, tf.float32)
        n = tf.shape(images)[0]
        t = training.draw_for_replica(keras.random.randint, (n,), minval=1, maxval=T + 1, seed=seeds, dtype="int32")
        noise = training.draw_for_replica(keras.random.normal, tf.shape(images), seed=seeds)
        dropped = training.draw_for_replica(keras.random.uniform, (n,), seed=seeds) < class_dropout
        labels = tf.where(dropped, NULL_CLASS, tf.cast(labels, tf.int32))
        noisy = q_sample(images, t, noise, alpha_bars)
        with tf.GradientTape() as tape:
            loss = diffusion_loss(noise, model([noisy, t, labels], training=True))
            scaled = training.scale_loss(loss)  # the replicas' gradients are summed
        optimizer.apply(tape.gradient(scaled, model.trainable_variables), model.trainable_variables)
        for average, weight in zip(ema_model.weights, model.weights):
            average.assign(ema_decay * average + (1.0 - ema_decay) * weight)
        return {"loss": loss}

    return training.distribute_step(replica_step)


def _training_data(images: Any, labels: Any, num_images: int | None, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Images in [-1, 1] ``N×28×28×1`` float32 and int32 labels (Fashion-MNIST's training set by default)."""
    from artlib.imageio import as_batch, to_minus_one_one

    if images is None:
        from artlib import data

        (images, labels), _ = data.load_fashion_mnist()
    if labels is None:
        raise DataError("diffusion training needs a class label per image (use labels=…, one per image)")
    y = np.asarray(labels).astype(np.int32).ravel()
    if num_images:  # cut first: converting 60,000 images to keep a few thousand wastes seconds and memory
        if len(y) < num_images:  # as the GAN says: a run asked for more images than there are is refused
            raise DataError(f"num_images is {num_images} but only {len(y)} training images are there")
        images, y = (images[:num_images] if hasattr(images, "__len__") else images), y[:num_images]
    x = np.asarray(as_batch(images, shape=IMAGE_SHAPE[:2], channels=1, name="training images"), np.float32)
    if len(y) != len(x):
        raise DataError(f"{len(y)} labels for {len(x)} training images; pass one label per image")
    if ((y < 0) | (y >= NUM_CLASSES)).any():
        raise DataError(f"labels must be 0 … {NUM_CLASSES - 1}; got values from {y.min()} to {y.max()}")
    if len(x) < batch_size:
        raise DataError(f"{len(x)} training images are fewer than one batch of {batch_size}")
    return to_minus_one_one(x), y


def train(run_dir: str | Path, settings: Mapping[str, Any] | None = None, *, images: Any = None,
          labels: Any = None, num_steps: int | None = None, max_seconds: float | None = None,
          quiet: bool | None = None) -> training.TrainResult:
    """Train a class-conditional DDPM noise predictor into ``run_dir``, resuming exactly where a call stopped.

    The run directory is :class:`artlib.training.RunDir`'s (checkpoints with the model, its EMA copy, the
    optimizer and the noise generator; TensorBoard; ``history.json``; a sample grid per checkpoint: 20 DDIM
    steps from fixed noise, one row per class) plus ``model.keras``, the EMA model, written at the end of
    every call (what :func:`load_model` and the sampler read).

    Args:
        run_dir: The run directory (an existing one must hold the same settings).
        settings: The recipe (:class:`DiffusionSettings`; default artlib's).
        images: Training images ``N×28×28`` uint8 or float in [0, 1]; default Fashion-MNIST's training set.
        labels: ``(N,)`` class labels 0 … 9 (needed with ``images``).
        num_steps: Train up to this step instead of ``settings["num_steps"]``.
        max_seconds: Stop at the first step after this long (a time budget); calling again goes on.
        quiet: Hide the progress bar.

    Returns:
        This call's :class:`~artlib.training.TrainResult`.

    Raises:
        ArtlibError: Bad settings or counts, or a ``batch_size`` that does not split evenly over the strategy's
            replicas. DataError: Bad images or labels.
        CheckpointError: ``run_dir`` holds another run. NonFiniteLossError: divergence (last good checkpoint kept).
    """
    from artlib.diffusion.sampling import SHOWN_SAMPLER, ddim_sample

    settings = DiffusionSettings(**(settings or {}))
    if num_steps is not None:
        settings["num_steps"] = positive_int(num_steps, "num_steps")
    if max_seconds is not None:
        max_seconds = positive_float(max_seconds, "max_seconds")
    training.check_batch_size(settings["batch_size"])  # it splits over the replicas of the strategy in scope
    x, y = _training_data(images, labels, settings["num_images"], settings["batch_size"])
    schedule = NoiseSchedule.cosine(settings["num_timesteps"])
    seed, batch_size = int(settings["seed"]), int(settings["batch_size"])
    with training.get_strategy().scope():
        model = build_unet(settings["width"], seed=seed)
        ema_model = build_unet(settings["width"], seed=seed, name="diffusion_unet_ema")
        ema_model.set_weights(model.get_weights())
        optimizer = keras.optimizers.Adam(settings["learning_rate"])
        optimizer.build(model.trainable_variables)
        seeds = keras.random.SeedGenerator(seed)  # one state for all replicas
    step = make_train_step(model, ema_model, optimizer, seeds, schedule, ema_decay=settings["ema_decay"],
                           class_dropout=settings["class_dropout"])
    steps_per_epoch = len(x) // batch_size
    every = training.save_interval(steps_per_epoch)
    grid_labels = np.repeat(np.arange(NUM_CLASSES), 4)

    def sample_fn() -> np.ndarray:
        return ddim_sample(ema_model, len(grid_labels), steps=20, labels=grid_labels, seed=seed + 777,
                           schedule=schedule, eta=SHOWN_SAMPLER["eta"], order=SHOWN_SAMPLER["order"])

    run_dir = training.worker_run_dir(run_dir)  # a non-chief worker of a multi-worker run writes a copy
    result = training.train_loop(
        step, lambda epoch: training.shuffled_batches((x, y), batch_size, seed=seed + epoch),
        num_steps=int(settings["num_steps"]), run_dir=run_dir,
        state={"model": model, "ema_model": ema_model, "optimizer": optimizer, "seeds": seeds},
        steps_per_epoch=steps_per_epoch, save_every=every, sample_every=every, sample_fn=sample_fn,
        max_seconds=max_seconds, settings=settings, quiet=quiet)
    modelio.save_model(ema_model, Path(run_dir) / MODEL_FILE)  # the run's product, for load_model
    return result


def load_settings(run_dir: str | Path | None = None) -> DiffusionSettings:
    """A diffusion run's recipe (default: the shipped model's).

    Raises:
        CheckpointError: No diffusion ``settings.json`` there.
    """
    path = training.RunDir(PRETRAINED_DIR if run_dir is None else run_dir).settings_file
    try:
        return DiffusionSettings(**training.read_json_object(path, "it is damaged"))
    except (TypeError, ArtlibError) as err:
        raise CheckpointError(f"{path.parent} is not a diffusion run directory ({type(err).__name__}: {err}); "
                              "train one with `python -m artlib diffusion train --run-dir DIR`") from err


def _model_problem(model: Any) -> str | None:
    names = [i.name for i in getattr(model, "inputs", None) or []]
    if names != ["images", "timesteps", "labels"]:
        return f"its inputs are {names}, not a diffusion U-Net's (images, timesteps, labels)"
    return None


def load_model(run_dir: str | Path | None = None) -> tuple[keras.Model, NoiseSchedule]:
    """A trained noise predictor (its EMA weights, safe mode) and its schedule; default: the shipped model.

    Raises:
        DataError: The shipped model is missing or damaged. CheckpointError: ``run_dir`` has no finished model.
    """
    folder, error, fix = modelio.run_source(run_dir, PRETRAINED_DIR, what="diffusion model", kind="diffusion",
                                            train="python -m artlib diffusion train")
    model = modelio.load_model(folder / MODEL_FILE, what="diffusion model", fix=fix, check=_model_problem,
                               error=error)
    try:
        settings = load_settings(folder)
    except CheckpointError as err:
        raise error(str(err)) from err
    return model, NoiseSchedule.cosine(settings["num_timesteps"])
