"""Training a translation into a run directory: the unpaired data of the two classes and :func:`train`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import modelio, training  # noqa: E402
from artlib.checks import positive_float, positive_int  # noqa: E402
from artlib.errors import DataError  # noqa: E402
from artlib.imageio import as_batch, from_minus_one_one, to_minus_one_one  # noqa: E402
from artlib.translate.apply import GENERATOR_FILES  # noqa: E402
from artlib.classes import class_name  # noqa: E402
from artlib.translate.measure import translation_rows  # noqa: E402
from artlib.translate.models import IMAGE_SHAPE, CycleModels, build_cycle_models  # noqa: E402
from artlib.translate.settings import TranslateSettings, check_run_dir  # noqa: E402
from artlib.translate.step import make_train_step  # noqa: E402

__all__ = ["class_images", "train"]

#: B's batches are shuffled with ``seed + B_SEED_OFFSET + epoch``: an order independent of A's.
B_SEED_OFFSET = 1_000_003
#: The sample grid shows the training images that ``seed + GRID_SEED_OFFSET`` picks.
GRID_SEED_OFFSET = 777


def class_images(classes: Any, images: Any = None, labels: Any = None, *,
                 batch_size: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The training images of the two classes, in [-1, 1] (N, 28, 28, 1) float32: unpaired, each in its own array.

    Args:
        classes: ``(a, b)`` as class numbers.
        images: Images ``(N, 28, 28[, 1])``, uint8 or [0, 1]; default Fashion-MNIST's training set.
        labels: ``(N,)`` class numbers of ``images`` (needed with ``images``).
        batch_size: Each class needs at least this many images.

    Returns:
        ``(images_a, images_b)``.

    Raises:
        DataError: Labels missing or of another length, or a class with fewer images than one batch.
        ImageError: ``images`` are not 28×28 one-channel pixels in [0, 1] (or uint8).
    """
    if images is None:
        from artlib import data

        (images, labels), _ = data.load_fashion_mnist()
    if labels is None:
        raise DataError("translation training needs a class label per image to split the two classes; pass labels=…")
    labels = np.asarray(labels).ravel()
    if len(labels) != len(images):
        raise DataError(f"{len(labels)} labels for {len(images)} training images; pass one label per image")
    chosen = []
    for index in classes:
        x = np.asarray(images)[labels == index]
        if len(x) < batch_size:
            raise DataError(f"class {index} ({class_name(index)}) has {len(x)} training images, fewer than one batch "
                            f"of {batch_size}; pass more images of it or a smaller batch_size")
        chosen.append(to_minus_one_one(as_batch(x, shape=IMAGE_SHAPE[:2], channels=1, name=f"images of class {index}")))
    return chosen[0], chosen[1]


def _optimizers(models: CycleModels, settings: Mapping[str, Any]) -> tuple[keras.optimizers.Optimizer, ...]:
    """Adam for both generators and Adam for both discriminators, built (their variables exist) under the strategy."""
    with training.get_strategy().scope():
        g_optimizer, d_optimizer = (keras.optimizers.Adam(settings["learning_rate"], beta_1=settings["beta_1"])
                                    for _ in range(2))
        g_optimizer.build(models.a_to_b.trainable_variables + models.b_to_a.trainable_variables)
        d_optimizer.build(models.disc_a.trainable_variables + models.disc_b.trainable_variables)
    return g_optimizer, d_optimizer


def train(run_dir: str | Path, settings: Mapping[str, Any] | None = None, *, num_steps: int | None = None,
          max_seconds: float | None = None, quiet: bool | None = None, images: Any = None, labels: Any = None,
          grid_size: int = 8) -> training.TrainResult:
    """Train a CycleGAN between two classes into ``run_dir``, resuming exactly where an earlier call stopped.

    Each step takes a batch of class A and an independent batch of class B (unpaired): epoch e
    shuffles A with ``seed + e`` and B with another seed, so the batches of a step depend on the
    step alone and a resumed run sees what an uninterrupted one saw. The run directory is
    :class:`artlib.training.RunDir`'s (``settings.json``, checkpoints of the four networks, both
    optimizers and the step; TensorBoard; ``history.json``; ``losses.png``) with the sample grid
    ``samples/step-XXXXXX.png``: ``grid_size`` fixed training images of each class, inputs →
    translations → reconstructions, A above B, and, at the end of every call, ``a_to_b.keras``
    and ``b_to_a.keras`` (what :func:`~artlib.translate.load_translator` reads).

    Args:
        run_dir: The run directory (created; an existing one must hold a translation run with the same settings).
        settings: The recipe (:class:`TranslateSettings`; default: sneaker ↔ ankle boot, artlib's recipe).
        num_steps: Train up to this step instead of ``settings["num_steps"]``.
        max_seconds: Also stop at the first step after this much time in this call; calling again goes on.
        quiet: Hide the progress bar.
        images: Training images ``(N, 28, 28[, 1])``, uint8 or [0, 1]; default Fashion-MNIST's training set.
        labels: ``(N,)`` class numbers (needed with ``images``).
        grid_size: Images of each class in the sample grid.

    Returns:
        This call's :class:`~artlib.training.TrainResult` (``g_loss``, ``d_loss``, ``adversarial``,
        ``cycle``, ``identity`` per step).

    Raises:
        ArtlibError: Bad settings, ``num_steps``, ``max_seconds`` or ``grid_size`` not above 0, or
            a ``batch_size`` that does not split evenly over the strategy's replicas.
        CheckpointError: ``run_dir`` holds another kind of run (a GAN's …) or one with other settings.
        DataError: Labels missing, or a class with fewer images than one batch.
        NonFiniteLossError: A loss became NaN/Inf (the last good checkpoint is kept).
    """
    settings = TranslateSettings(**(settings or {}))
    if num_steps is not None:
        settings["num_steps"] = positive_int(num_steps, "num_steps")
    if max_seconds is not None:
        max_seconds = positive_float(max_seconds, "max_seconds")
    grid_size = positive_int(grid_size, "grid_size")
    check_run_dir(run_dir)  # CheckpointError naming the folder if it holds another kind of run
    seed, batch_size = settings["seed"], training.check_batch_size(settings["batch_size"])  # splits over replicas
    run_dir = training.worker_run_dir(run_dir)  # a non-chief worker of a multi-worker run writes a copy
    images_a, images_b = class_images(settings["classes"], images, labels, batch_size=batch_size)
    models = build_cycle_models(settings["width"], settings["num_blocks"], settings["disc_width"], seed=seed)
    g_optimizer, d_optimizer = _optimizers(models, settings)
    step = make_train_step(models, g_optimizer, d_optimizer, cycle_weight=settings["cycle_weight"],
                           identity_weight=settings["identity_weight"])
    steps_per_epoch = min(len(images_a), len(images_b)) // batch_size
    every = training.save_interval(steps_per_epoch)

    def make_dataset(epoch: int) -> tf.data.Dataset:
        batches_a = training.shuffled_batches(images_a, batch_size, seed=seed + epoch)
        batches_b = training.shuffled_batches(images_b, batch_size, seed=seed + B_SEED_OFFSET + epoch)
        return tf.data.Dataset.zip((batches_a, batches_b)).take(steps_per_epoch)

    grid_a, grid_b = (from_minus_one_one(x[training.epoch_order(len(x), seed=seed + GRID_SEED_OFFSET,
                                                                epoch=0)[:grid_size]])
                      for x in (images_a, images_b))  # fixed images in [0, 1]

    def sample_fn() -> np.ndarray:
        from artlib.plotting import grid_array

        rows = translation_rows(grid_a, grid_b, models, count=grid_size, classes=settings["classes"])
        return grid_array(np.concatenate(list(rows.values()))[..., np.newaxis], ncols=grid_size)[np.newaxis]

    result = training.train_loop(
        step, make_dataset, num_steps=settings["num_steps"], run_dir=run_dir,
        state={**models._asdict(), "g_optimizer": g_optimizer, "d_optimizer": d_optimizer},
        steps_per_epoch=steps_per_epoch, save_every=every, sample_every=every, sample_fn=sample_fn,
        max_seconds=max_seconds, settings=settings, quiet=quiet)
    for direction, name in GENERATOR_FILES.items():  # the run's product, for load_translator
        modelio.save_model(getattr(models, direction), Path(run_dir) / name)
    return result
