"""Training a VAE with :func:`artlib.training.fit` (exact resume, run directory), the input check, and the β sweep."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib.checks import positive_float, positive_int, seed_value
from artlib import training
from artlib.errors import ArtlibError
from artlib.imageio import as_batch
from artlib.vae.model import VAE, build_vae

__all__ = ["NUM_EPOCHS", "as_images", "train", "beta_sweep"]

#: Epochs of a full-length training run (``python -m artlib vae train`` without ``--epochs``).
NUM_EPOCHS = 30


def as_images(images: Any, name: str = "images", *, keep_uint8: bool = False) -> np.ndarray:
    """Fashion-MNIST-like images as the VAE wants them: float32 ``(N, 28, 28, 1)`` in [0, 1].

    Args:
        images: uint8 (0–255) or float in [0, 1], shaped ``(N, 28, 28)`` or ``(N, 28, 28, 1)``.
        name: What to call the input in an error message.
        keep_uint8: Return uint8 input as uint8 (a compact training set; :func:`train`
            scales each batch).

    Returns:
        float32 ``(N, 28, 28, 1)`` in [0, 1] (uint8 0–255 with ``keep_uint8`` and uint8 input).

    Raises:
        ImageError: Another shape, an empty batch, or floats outside [0, 1] (or NaN).
    """
    return as_batch(images, name=name, shape=(28, 28), channels=1, keep_uint8=keep_uint8)


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
) -> training.TrainResult:
    """Train with :func:`artlib.training.fit`: the shared data order, NaN guard, backup and run directory.

    Interrupted (Ctrl-C, a killed kernel), call it again with a freshly built model and
    the same arguments: it resumes after the last finished epoch and ends with the
    same weights as a run that never stopped. Epoch e sees the images in the order
    :func:`artlib.training.epoch_order` ``(seed, e)``; each epoch drops the few
    batches that do not fill a ``steps_per_execution`` group. ``run_dir`` gets
    ``settings.json`` (the recipe: a resumed call with another one is refused),
    ``history.json``, ``tensorboard/`` and ``backup/``, kept when the run completes: called again,
    ``train`` loads the finished run and trains nothing; with more epochs it goes on from there.

    Args:
        vae: From :func:`~artlib.vae.build_vae`; compiled here with Adam unless already compiled.
        images: Training images (see :func:`as_images`); uint8 stays compact in memory.
        num_epochs: Total epochs (a resumed run trains only the missing ones).
        run_dir: The run directory (see above).
        batch_size: Images per step.
        learning_rate: Adam's step size (when this function compiles).
        validation_images: Evaluated after each epoch (``val_neg_elbo`` …).
        seed: Fixes the order of the examples in each epoch.
        steps_per_execution: Steps per call into TensorFlow (fewer Python round trips).
        verbose: Passed to ``fit`` (2: one line per epoch).
        extra_callbacks: More callbacks, run after the shared ones.

    Returns:
        A :class:`~artlib.training.TrainResult`: this call's history per epoch
        (``result["epoch"]``, ``result["neg_elbo"]``, ``result["val_neg_elbo"]`` …);
        ``final_step`` is the epoch reached.

    Raises:
        ArtlibError: ``num_epochs``, ``batch_size``, ``steps_per_execution`` or
            ``learning_rate`` is not positive.
        ImageError: Images of the wrong shape or range.
        DataError: Fewer images than one batch.
        CheckpointError: ``run_dir`` holds a run with other settings, or an unreadable backup.
        NonFiniteLossError: A loss became NaN or infinite.
    """
    seed = seed_value(seed)
    for value, name in ((num_epochs, "num_epochs"), (batch_size, "batch_size"),
                        (steps_per_execution, "steps_per_execution")):
        positive_int(value, name)
    positive_float(learning_rate, "learning_rate")
    images = as_images(images, keep_uint8=True)
    validation = None if validation_images is None else (as_images(validation_images, "validation_images"),)
    steps_per_epoch, steps_per_execution = training.whole_executions(len(images), batch_size, None,
                                                                    int(steps_per_execution))
    if not vae.compiled:
        with vae.distribute_strategy.scope():
            vae.compile(optimizer=keras.optimizers.Adam(learning_rate), steps_per_execution=steps_per_execution)
    scale = 1.0 / 255.0 if images.dtype == np.uint8 else 1.0

    def pixels(batch: tf.Tensor, _seed: tf.Tensor) -> tf.Tensor:  # float32 in [0, 1], batch by batch
        return tf.cast(batch, tf.float32) * scale

    settings = {"latent_dim": vae.latent_dim, "beta": vae.beta, "num_images": len(images), "batch_size": batch_size,
                "steps_per_epoch": steps_per_epoch, "learning_rate": learning_rate, "seed": seed,
                "num_epochs": num_epochs}
    return training.fit(vae, images, num_epochs=num_epochs, batch_size=batch_size, seed=seed, run_dir=run_dir,
                        steps_per_epoch=steps_per_epoch, map_fn=pixels, settings=settings,
                        extra_callbacks=extra_callbacks, verbose=verbose, validation_data=validation,
                        validation_batch_size=500)


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
    seed = seed_value(seed)
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
