"""Training and running the restorers: batches checked, a (damaged, clean) stream, ``fit`` with resume.

:func:`train` resumes an interrupted run from its last finished epoch through
:class:`artlib.training.BackupAndRestore` (in :func:`artlib.training.callbacks`), and the data
stream restarts at that epoch (:func:`restoration_dataset`'s ``start_epoch``), so the result is
bitwise that of an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib import config, training
from artlib.checks import positive_float, positive_int
from artlib.autoencoder.damage import make_noise
from artlib.errors import ArtlibError, DataError
from artlib.imageio import as_batch

__all__ = ["as_images", "restoration_dataset", "train", "restore"]


def as_images(images: Any, name: str = "images") -> np.ndarray:
    """A batch as float32 ``(N, H, W, C)`` in [0, 1]: uint8 is scaled, ``(N, H, W)`` gets a channel.

    Args:
        images: uint8 (0–255) or float pixels in [0, 1], ``(N, H, W)`` or ``(N, H, W, C)``.
        name: What to call the input in an error message.

    Returns:
        float32 ``(N, H, W, C)`` in [0, 1].

    Raises:
        ImageError: Not a batch of images (wrong rank, empty, non-finite or outside [0, 1]).
    """
    return as_batch(images, name=name)


def _check_one_batch(count: int, batch_size: int) -> None:
    """Raise :class:`DataError` if ``count`` images do not fill one batch of ``batch_size``."""
    if count < batch_size:
        raise DataError(f"{count} images are fewer than one batch of {batch_size}")


def restoration_dataset(images: Any, noise_fn: Callable[[Any, Any], Any], *, batch_size: int,
                        seed: int = 0, start_epoch: int = 0) -> tf.data.Dataset:
    """An endless ``tf.data`` stream of ``(damaged, clean)`` batches, fresh noise every batch.

    Epoch ``e``'s order is a stateless shuffle keyed on ``(seed, e)``; batch
    ``s`` (counted over all epochs) gets its noise from ``noise_fn(clean, (seed, s))``.
    Everything is a function of the step, so ``start_epoch=k`` gives exactly what
    an uninterrupted stream gives from epoch ``k`` on (how :func:`train` resumes).
    Batches are gathered whole from one tensor rather than built image by image.

    Args:
        images: ``(N, H, W[, C])`` uint8 or float in [0, 1]; kept as uint8 in memory when uint8.
        noise_fn: ``noise_fn(images, seed) -> damaged``, e.g. :func:`make_noise`'s result.
        batch_size: Images per batch (the last partial batch of an epoch is dropped).
        seed: Fixes the order and the noise.
        start_epoch: The epoch to start at.

    Returns:
        A ``tf.data.Dataset`` of ``(damaged, clean)`` float32 ``(batch_size, H, W, C)`` pairs.

    Raises:
        ImageError: ``images`` is not a batch of images.
        ArtlibError: ``batch_size`` is 0 or below, or ``start_epoch`` below 0.
        DataError: Fewer images than one batch.
    """
    positive_int(batch_size, "batch_size")
    if start_epoch < 0:
        raise ArtlibError(f"start_epoch must be 0 or more; got {start_epoch}")
    array = as_batch(images, name="images", keep_uint8=True)
    count = len(array)
    _check_one_batch(count, batch_size)
    steps_per_epoch = count // batch_size
    pixels = tf.constant(array)
    scale = 1 / 255 if array.dtype == np.uint8 else 1.0

    def epoch_batches(epoch: tf.Tensor) -> tf.data.Dataset:
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=tf.stack([seed, -1 - epoch]))
        batches = tf.reshape(order[: steps_per_epoch * batch_size], [steps_per_epoch, batch_size])
        return tf.data.Dataset.from_tensor_slices(batches).enumerate(start=epoch * steps_per_epoch)

    def damage(step: tf.Tensor, indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        clean = tf.cast(tf.gather(pixels, indices), tf.float32) * scale  # (batch, H, W, C)
        return noise_fn(clean, tf.stack([tf.constant(seed, tf.int64), step])), clean

    stream = tf.data.Dataset.range(start_epoch, 2**40).flat_map(epoch_batches)
    return stream.map(damage, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


def train(model: keras.Model, images: Any, *, noise: Callable[[Any, Any], Any] | None = None,
          num_epochs: int = 10, batch_size: int = 64, learning_rate: float = 2e-3,
          steps_per_epoch: int | None = None, steps_per_execution: int = 32,
          run_dir: str | Path | None = None, seed: int = 0, verbose: int | str = "auto",
          extra_callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict[str, list[float]]:
    """Train a restorer with ``fit``: damaged images in, clean images out, mean squared error.

    Adam with a cosine-decayed learning rate; ``steps_per_execution`` steps run
    in one call into TensorFlow. With ``run_dir``, the shared callbacks of
    :func:`artlib.training.callbacks` add TensorBoard logs, a NaN guard and a
    backup at the end of every epoch: calling ``train`` again after an
    interruption restores the backup (:class:`artlib.training.BackupAndRestore`)
    before the data stream is built, continues from the last finished epoch and
    ends with exactly the weights of an uninterrupted run (the stream restarts at
    that epoch).

    Args:
        model: A restorer (e.g. :func:`build_denoiser`); it is compiled here.
        images: Clean training images ``(N, H, W[, C])``, uint8 or float in [0, 1].
        noise: ``noise_fn(images, seed)``; default Gaussian with σ drawn from [0, 0.55] per image.
        num_epochs: Passes over ``images`` (or of ``steps_per_epoch`` batches).
        batch_size: Images per step.
        learning_rate: Adam's initial learning rate.
        steps_per_epoch: Batches per epoch; default ``len(images) // batch_size``.
        steps_per_execution: Steps per call into TensorFlow (fewer Python round trips).
        run_dir: Where TensorBoard logs and the resume backup go (None: neither).
        seed: Fixes the order and the noise.
        verbose: ``fit``'s verbosity (``"auto"``: a progress bar; 0 under CI).
        extra_callbacks: More ``fit`` callbacks.

    Returns:
        ``fit``'s history: ``{"loss": [...]}``, one value per epoch of this call.

    Raises:
        ArtlibError: ``num_epochs``, ``batch_size``, ``learning_rate``, ``steps_per_epoch`` or
            ``steps_per_execution`` is 0 or below.
        DataError: Fewer images than one batch.
        NonFiniteLossError: The loss became NaN or Inf.
    """
    for name, value in (("num_epochs", num_epochs), ("batch_size", batch_size),
                        ("steps_per_execution", steps_per_execution)):
        positive_int(value, name)
    positive_float(learning_rate, "learning_rate")
    if steps_per_epoch is not None:
        positive_int(steps_per_epoch, "steps_per_epoch")
    noise = noise or make_noise("gaussian", sigma=(0.0, 0.55))
    _check_one_batch(len(images), batch_size)
    steps_per_epoch = steps_per_epoch or len(images) // batch_size
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, num_epochs * steps_per_epoch, alpha=0.05)
    with training.get_strategy().scope():
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse",
                      steps_per_execution=min(steps_per_execution, steps_per_epoch), jit_compile=False)
    chosen = training.callbacks(Path(run_dir)) if run_dir is not None else [training.NaNGuard()]
    backups = [c for c in chosen if isinstance(c, training.BackupAndRestore)]
    start_epoch = backups[0].restore(model) if backups else 0  # epochs an interrupted run finished
    dataset = restoration_dataset(images, noise, batch_size=batch_size, seed=seed, start_epoch=start_epoch)
    if verbose == "auto":
        verbose = 0 if config.is_ci() else 2
    history = model.fit(dataset, epochs=num_epochs, steps_per_epoch=steps_per_epoch, verbose=verbose,
                        shuffle=False, callbacks=chosen + list(extra_callbacks))  # the stream shuffles
    return {name: [float(v) for v in values] for name, values in history.history.items()}


def restore(model: keras.Model, images: Any, *, batch_size: int = 256) -> np.ndarray:
    """Run a restorer over a batch.

    Args:
        model: A restorer.
        images: ``(N, H, W[, C])`` uint8 or float in [0, 1].
        batch_size: Images per forward pass.

    Returns:
        float32 ``(N, H, W, C)`` in [0, 1].

    Raises:
        ImageError: ``images`` is not a batch of images.
        ArtlibError: ``batch_size`` is 0 or below.
    """
    positive_int(batch_size, "batch_size")
    images = as_images(images)
    return np.clip(model.predict(images, batch_size=batch_size, verbose=0), 0.0, 1.0).astype(np.float32)
