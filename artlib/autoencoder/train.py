"""Training and running the restorers: :func:`train` (``fit`` through :func:`artlib.training.fit`), :func:`restore`.

:func:`train` hands the clean images to the shared machinery: epoch e sees them
in the order :func:`artlib.training.epoch_order` ``(seed, e)``, and each batch is
damaged on the way in by ``noise_fn(clean, (seed, step))`` (the step counted over
the whole run), so the noise too depends only on where the batch sits in the run.
An interrupted run called again restores the backup
(:class:`artlib.training.BackupAndRestore`) and starts the data at the next epoch,
ending bitwise where an uninterrupted run ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib import training
from artlib.checks import positive_float, positive_int, seed_value
from artlib.errors import ArtlibError, ImageError
from artlib.autoencoder.damage import make_noise
from artlib.imageio import as_batch

__all__ = ["as_images", "damaged_batch", "train", "restore"]


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


def damaged_batch(noise_fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], tuple[Any, tf.Tensor]]:
    """The ``map_fn`` :func:`train` gives :func:`artlib.training.fit`: a batch of pixels -> ``(damaged, clean)``.

    Args:
        noise_fn: ``noise_fn(clean, seed) -> damaged`` (e.g. :func:`make_noise`'s result).

    Returns:
        ``map_fn(batch, seed)``: ``clean`` is the batch as float32 in [0, 1] (uint8 is
        divided by 255), ``damaged`` is ``noise_fn(clean, seed)``; ``fit`` passes
        ``seed = (run seed, step)``.

    Example (what batch 0 of a run with seed 0 trains on)::

        order = training.epoch_order(len(x), seed=0, epoch=0)
        noisy, clean = damaged_batch(noise)(as_images(x[order[:64]]), (0, 0))
    """

    def map_fn(batch: Any, seed: Any) -> tuple[Any, tf.Tensor]:
        batch = tf.convert_to_tensor(batch)
        clean = tf.cast(batch, tf.float32) * (1 / 255 if batch.dtype == tf.uint8 else 1.0)
        return noise_fn(clean, seed), clean

    return map_fn


def _name(noise_fn: Callable[..., Any]) -> str:
    """What ``settings.json`` calls a damage function (:func:`make_noise` names its functions)."""
    return getattr(noise_fn, "__name__", type(noise_fn).__name__)


def train(model: keras.Model, images: Any, *, noise: Callable[[Any, Any], Any] | None = None,
          num_epochs: int = 10, batch_size: int = 64, learning_rate: float = 2e-3,
          steps_per_epoch: int | None = None, steps_per_execution: int = 32,
          run_dir: str | Path | None = None, seed: int = 0, verbose: int | str = "auto",
          extra_callbacks: Sequence[keras.callbacks.Callback] = ()) -> training.TrainResult:
    """Train a restorer with :func:`artlib.training.fit`: damaged images in, clean images out, mean squared error.

    Adam with a cosine-decayed learning rate; ``steps_per_execution`` steps run
    in one call into TensorFlow. Epoch e sees the images in the order
    :func:`artlib.training.epoch_order` ``(seed, e)``, each batch damaged by
    ``noise(clean, (seed, step))`` (:func:`damaged_batch`): fresh noise every
    batch, the same in every run. With ``run_dir``, the shared machinery adds
    TensorBoard logs, ``history.json``, ``settings.json`` (the recipe: another
    one in the same folder is refused) and a backup at the end of every epoch:
    calling ``train`` again with a freshly built model after an interruption
    continues after the last finished epoch and ends with exactly the weights of
    an uninterrupted run; called again after the run completed, it loads it and
    trains nothing. (The learning-rate schedule spans ``num_epochs``: resume with
    the same number to get that run.) Every run has a NaN guard.

    Args:
        model: A restorer (e.g. :func:`build_denoiser`); it is compiled here.
        images: Clean training images ``(N, H, W[, C])``, uint8 (kept compact in memory) or float in [0, 1].
        noise: ``noise_fn(images, seed)``; default Gaussian with σ drawn from [0, 0.55] per image.
        num_epochs: Epochs in all (a resumed call trains only the missing ones).
        batch_size: Images per step.
        learning_rate: Adam's initial learning rate.
        steps_per_epoch: Batches per epoch, at most ``len(images) // batch_size``; default: that,
            rounded down to whole groups of ``steps_per_execution``.
        steps_per_execution: Steps per call into TensorFlow (fewer Python round trips); with a
            ``steps_per_epoch`` that is no multiple of it, the largest divisor of ``steps_per_epoch`` below it.
        run_dir: The run directory (None: keep nothing on disk, no resume).
        seed: Fixes the order and the noise.
        verbose: ``fit``'s verbosity (``"auto"``: one line per epoch; 0 under CI).
        extra_callbacks: More ``fit`` callbacks.

    Returns:
        A :class:`~artlib.training.TrainResult`: this call's history per epoch
        (``result["loss"]``, ``result["epoch"]``); ``final_step`` is the epoch reached.

    Raises:
        ArtlibError: ``num_epochs``, ``batch_size``, ``learning_rate``, ``steps_per_epoch`` or
            ``steps_per_execution`` is 0 or below.
        ImageError: ``images`` is not a batch of images.
        DataError: Fewer images than one batch, or than ``steps_per_epoch`` batches.
        CheckpointError: ``run_dir`` holds a run with other settings, or an unreadable backup.
        NonFiniteLossError: The loss became NaN or Inf (the last backup is kept).
    """
    seed = seed_value(seed)
    for name, value in (("num_epochs", num_epochs), ("batch_size", batch_size),
                        ("steps_per_execution", steps_per_execution)):
        positive_int(value, name)
    positive_float(learning_rate, "learning_rate")
    if steps_per_epoch is not None:
        positive_int(steps_per_epoch, "steps_per_epoch")
    noise = noise or make_noise("gaussian", sigma=(0.0, 0.55))
    pixels = as_batch(images, name="images", keep_uint8=True)
    steps_per_epoch, steps_per_execution = training.whole_executions(len(pixels), batch_size, steps_per_epoch,
                                                                    steps_per_execution)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, num_epochs * steps_per_epoch, alpha=0.05)
    with training.get_strategy().scope():
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse",
                      steps_per_execution=steps_per_execution, jit_compile=False)
    settings = {"model": model.name, "image_shape": list(pixels.shape[1:]), "num_images": len(pixels),
                "noise": _name(noise), "batch_size": batch_size, "steps_per_epoch": steps_per_epoch,
                "learning_rate": learning_rate, "seed": seed, "num_epochs": num_epochs}
    return training.fit(model, pixels, num_epochs=num_epochs, batch_size=batch_size, seed=seed, run_dir=run_dir,
                        steps_per_epoch=steps_per_epoch, map_fn=damaged_batch(noise), settings=settings,
                        extra_callbacks=extra_callbacks, verbose=verbose)


def restore(model: keras.Model, images: Any, *, batch_size: int = 256) -> np.ndarray:
    """Run a restorer over a batch.

    Args:
        model: A restorer.
        images: ``(N, H, W[, C])`` uint8 or float in [0, 1].
        batch_size: Images per forward pass.

    Returns:
        float32 ``(N, H, W, C)`` in [0, 1].

    Raises:
        ImageError: ``images`` is not a batch of images, or not of the size and channels ``model`` takes.
        ArtlibError: ``model`` is not a Keras model, or ``batch_size`` is 0 or below.
    """
    if not isinstance(model, keras.Model):
        raise ArtlibError(f"model must be a Keras model, e.g. autoencoder.load_model(path); got {type(model).__name__}")
    positive_int(batch_size, "batch_size")
    images = as_images(images)
    takes = tuple(model.input_shape[1:])
    if any(want is not None and want != got for want, got in zip(takes, images.shape[1:])):
        size = "×".join("any" if side is None else str(side) for side in takes)
        raise ImageError(f"this model takes images of {size} (height×width×channels); got "
                         f"{'×'.join(map(str, images.shape[1:]))}")
    return np.clip(model.predict(images, batch_size=batch_size, verbose=0), 0.0, 1.0).astype(np.float32)
