"""Training a VAE with ``fit``: the input check, the epoch-keyed data order, resume, and the β sweep."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib.checks import positive_float, positive_int
from artlib import training
from artlib.errors import ArtlibError, ImageError
from artlib.imageio import as_batch
from artlib.vae.model import VAE, build_vae

__all__ = ["NUM_EPOCHS", "as_images", "epoch_batches", "train", "beta_sweep"]

#: Epochs of a full-length training run (``python -m artlib vae train`` without ``--epochs``).
NUM_EPOCHS = 30


def as_images(images: Any, name: str = "images", *, keep_uint8: bool = False) -> np.ndarray:
    """Fashion-MNIST-like images as the VAE wants them: float32 ``(N, 28, 28, 1)`` in [0, 1].

    Args:
        images: uint8 (0–255) or float in [0, 1], shaped ``(N, 28, 28)`` or ``(N, 28, 28, 1)``.
        name: What to call the input in an error message.
        keep_uint8: Return uint8 input as uint8 (a compact training set; :func:`epoch_batches`
            scales each batch).

    Returns:
        float32 ``(N, 28, 28, 1)`` in [0, 1] (uint8 0–255 with ``keep_uint8`` and uint8 input).

    Raises:
        ImageError: Another shape, an empty batch, or floats outside [0, 1] (or NaN).
    """
    return as_batch(images, name=name, shape=(28, 28), channels=1, keep_uint8=keep_uint8)


def epoch_batches(images: Any, batch_size: int, *, seed: int, num_epochs: int, steps_per_epoch: int,
                  first_epoch: tf.Variable) -> tf.data.Dataset:
    """Epochs ``first_epoch … num_epochs - 1`` back to back, epoch e in an order fixed by ``seed + e``.

    The order of epoch e is ``np.random.default_rng(seed + e).permutation``, as in
    :func:`artlib.training.shuffled_batches`, so it does not depend on how many
    epochs ran before in this process. ``first_epoch`` is read when ``fit`` starts
    reading, after ``BackupAndRestore`` has chosen the epoch to resume at
    (:func:`train` sets it), so a resumed run sees exactly the batches the
    uninterrupted one would have seen.

    Args:
        images: ``(N, 28, 28, 1)``, uint8 (kept compact in memory) or float32 in [0, 1].
        batch_size: Images per batch.
        seed: With the epoch number, fixes each epoch's order.
        num_epochs: Epochs in all.
        steps_per_epoch: Batches per epoch (the rest of each shuffled epoch is dropped).
        first_epoch: A scalar int64 variable: the epoch to start at.

    Returns:
        A dataset of float32 batches ``(batch_size, 28, 28, 1)`` in [0, 1].
    """
    pixels = tf.constant(np.asarray(images))
    scale = 1.0 / 255.0 if pixels.dtype == tf.uint8 else 1.0
    orders = np.stack([np.random.default_rng(seed + e).permutation(len(pixels))[: steps_per_epoch * batch_size]
                       for e in range(num_epochs)])  # (epochs, steps·batch)
    orders = orders.reshape(num_epochs, steps_per_epoch, batch_size)  # -> (epochs, steps, batch)
    return (tf.data.Dataset.range(num_epochs)
            .filter(lambda epoch: epoch >= first_epoch)
            .flat_map(lambda epoch: tf.data.Dataset.from_tensor_slices(tf.gather(orders, epoch)))
            .map(lambda index: tf.cast(tf.gather(pixels, index), tf.float32) * scale,
                 num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


class _FirstEpoch(keras.callbacks.Callback):
    """Tell :func:`epoch_batches` at which epoch ``fit`` starts (0, or where the backup says)."""

    def __init__(self) -> None:
        super().__init__()
        self.value = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._set = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if not self._set:
            self.value.assign(epoch)
            self._set = True


def train(
    vae: VAE,
    images: Any,
    *,
    num_epochs: int,
    run_dir: str | Path,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    validation_images: Any = None,
    seed: int = 0,
    steps_per_execution: int = 8,
    verbose: int | str = 2,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
) -> keras.callbacks.History:
    """Train with ``fit`` and the shared callbacks (TensorBoard, NaN guard, BackupAndRestore).

    Interrupted (Ctrl-C, a killed kernel), call it again with a freshly built model and
    the same arguments: it resumes after the last finished epoch and ends with the
    same weights as a run that never stopped. The epoch order comes from ``seed + epoch``;
    each epoch drops the few batches that do not fill a ``steps_per_execution`` group.

    Args:
        vae: From :func:`~artlib.vae.build_vae`; compiled here with Adam unless already compiled.
        images: Training images (see :func:`as_images`).
        num_epochs: Total epochs (a resumed run trains only the missing ones).
        run_dir: Where ``tensorboard/`` and ``backup/`` go.
        batch_size: Images per step.
        learning_rate: Adam's step size (when this function compiles).
        validation_images: Evaluated after each epoch (``val_neg_elbo`` …).
        seed: Fixes the order of the examples in each epoch.
        steps_per_execution: Steps per call into TensorFlow (fewer Python round trips).
        verbose: Passed to ``fit`` (2: one line per epoch).
        extra_callbacks: More callbacks, run after the shared ones.

    Returns:
        The ``keras.callbacks.History`` of this call.

    Raises:
        ArtlibError: ``num_epochs``, ``batch_size``, ``steps_per_execution`` or
            ``learning_rate`` is not positive.
        ImageError: Images of the wrong shape or range, or fewer than one batch of them.
        NonFiniteLossError: A loss became NaN or infinite.
    """
    for value, name in ((num_epochs, "num_epochs"), (batch_size, "batch_size"),
                        (steps_per_execution, "steps_per_execution")):
        positive_int(value, name)
    positive_float(learning_rate, "learning_rate")
    images = as_images(images, keep_uint8=True)
    if validation_images is not None:
        validation_images = as_images(validation_images, "validation_images")
    steps_per_execution = int(steps_per_execution)
    steps_per_epoch = len(images) // batch_size // steps_per_execution * steps_per_execution
    if steps_per_epoch == 0:
        steps_per_execution = 1
        steps_per_epoch = len(images) // batch_size
    if steps_per_epoch == 0:
        raise ImageError(f"images holds {len(images)} images, fewer than one batch of {batch_size}")
    if not vae.compiled:
        vae.compile(optimizer=keras.optimizers.Adam(learning_rate), steps_per_execution=steps_per_execution)
    first_epoch = _FirstEpoch()
    batches = epoch_batches(images, batch_size, seed=seed, num_epochs=num_epochs,
                            steps_per_epoch=steps_per_epoch, first_epoch=first_epoch.value)
    chosen = training.callbacks(run_dir) + [first_epoch, *extra_callbacks]
    validation = (validation_images,) if validation_images is not None else None
    return vae.fit(batches, epochs=num_epochs, steps_per_epoch=steps_per_epoch, validation_data=validation,
                   validation_batch_size=500, shuffle=False, callbacks=chosen, verbose=verbose)  # shuffled above


def beta_sweep(images: Any, test_images: Any, betas: Sequence[float], *, latent_dim: int, num_epochs: int,
               run_dir: str | Path, batch_size: int = 128, seed: int = 0,
               verbose: int | str = 0) -> list[dict[str, Any]]:
    """Train one VAE per β and score each on the test images: the β experiment as a table.

    Args:
        images: Training images.
        test_images: Held-out images for :func:`~artlib.vae.evaluate`.
        betas: KL weights to try, e.g. ``(0.5, 1, 4)``.
        latent_dim: Size of z for every model.
        num_epochs: Epochs per model.
        run_dir: Each model trains in ``run_dir/beta_<β>`` (and resumes there).
        batch_size: Images per step.
        seed: Same initial weights and data order for every β.
        verbose: Passed to ``fit``.

    Returns:
        One dict per β: ``{"beta", "vae", **evaluate(...)}`` (nats per image,
        :data:`~artlib.vae.LIKELIHOOD`).

    Raises:
        ArtlibError: No β given, or a bad β or training argument.
    """
    from artlib.vae.measure import evaluate

    if not len(betas):
        raise ArtlibError(f"betas must name at least one KL weight, e.g. (0.5, 1, 4); got {betas!r}")
    rows = []
    for beta in betas:
        vae = build_vae(latent_dim, beta=beta, seed=seed)
        train(vae, images, num_epochs=num_epochs, run_dir=Path(run_dir) / f"beta_{beta:g}",
              batch_size=batch_size, seed=seed, verbose=verbose)
        rows.append({"beta": float(beta), "vae": vae, **evaluate(vae, test_images, seed=seed)})
    return rows
