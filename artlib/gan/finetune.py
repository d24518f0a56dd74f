"""Transfer learning for a GAN: adapt a trained run to a new class from a few images (:func:`finetune`).

A GAN trained on nine classes already draws edges, soles, sleeves and shading; a
tenth class from 100 images needs much less than learning all that again. Fine-tuning
starts both networks from the trained run's newest checkpoint and trains on the few
images. With so few images the discriminator soon memorises them, and the generator
follows it into copies: FreezeD (Mo et al. 2020, "Freeze the Discriminator") keeps
the discriminator's first convolutions — its general low-level features — as they
were, and trains only the layers above.

The result is an ordinary GAN run directory (:func:`artlib.gan.train` did the work,
with ``classes``, ``num_images``, ``init_from`` and ``freeze_d`` in its settings), so
it resumes exactly, samples with :func:`artlib.gan.load_generator`, and
``python -m artlib gan sample --run-dir`` reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from artlib.checks import positive_int, seed_value

__all__ = ["FINETUNE_IMAGES", "FINETUNE_STEPS", "finetune", "new_class_settings"]

#: How many images of the new class fine-tuning learns from, by default.
FINETUNE_IMAGES = 100
#: How many steps it trains, by default.
FINETUNE_STEPS = 600


def finetune(run_dir: str | Path, from_run_dir: str | Path, target_class: int, *,
             num_images: int = FINETUNE_IMAGES, freeze_d: int = 0, num_steps: int = FINETUNE_STEPS,
             batch_size: int | None = None, seed: int | None = None, images: np.ndarray | None = None,
             labels: np.ndarray | None = None, quiet: bool | None = None, max_seconds: float | None = None) -> Any:
    """Adapt the GAN in ``from_run_dir`` to ``target_class`` from its first ``num_images`` training images.

    Args:
        run_dir: The new run directory (resumes if it holds this fine-tuning already).
        from_run_dir: A GAN run directory with a checkpoint (e.g. trained on the other nine classes).
        target_class: The Fashion-MNIST class 0–9 to learn.
        num_images: How many images of that class to learn from (the first ones of the training set).
        freeze_d: How many of the discriminator's convolutions to keep frozen (0: none; FreezeD).
        num_steps: Steps to train up to.
        batch_size: Images per step (default: the source run's, at most ``num_images``).
        seed: The run's seed (default: the source run's).
        images, labels: Training images and labels (default: Fashion-MNIST's training set).
        quiet: Hide the progress bar.
        max_seconds: Stop after this much time in this call; calling again goes on.

    Returns:
        The :class:`artlib.training.TrainResult` of :func:`artlib.gan.train`.

    Raises:
        ArtlibError: A bad class, count or ``freeze_d``.
        CheckpointError: ``from_run_dir`` is not a GAN run directory or has no checkpoint; ``run_dir``
            holds another run.
        DataError: Fewer than ``num_images`` images of the class, or fewer than one batch.
    """
    seed = None if seed is None else seed_value(seed)
    from artlib.gan.run import train

    settings = new_class_settings(from_run_dir, target_class, num_images=num_images, freeze_d=freeze_d,
                                  batch_size=batch_size, seed=seed)
    return train(run_dir, settings, images=images, labels=labels, num_steps=positive_int(num_steps, "num_steps"),
                 quiet=quiet, max_seconds=max_seconds)


def new_class_settings(from_run_dir: str | Path, target_class: int, *, num_images: int = FINETUNE_IMAGES,
                       freeze_d: int = 0, batch_size: int | None = None, seed: int | None = None,
                       from_scratch: bool = False) -> Any:
    """The recipe of ``from_run_dir`` for learning ``target_class`` from its first ``num_images`` images.

    Args:
        from_run_dir: A GAN run directory.
        target_class, num_images, freeze_d, batch_size, seed: As in :func:`finetune`.
        from_scratch: Start from the recipe's initial weights instead of the run's (no ``init_from``),
            the baseline fine-tuning is compared with.

    Returns:
        A :class:`artlib.gan.GANSettings`.
    """
    seed = None if seed is None else seed_value(seed)
    from artlib.gan.run import GANSettings, load_settings

    num_images = positive_int(num_images, "num_images")
    source = load_settings(from_run_dir)
    return GANSettings(**{
        **source, "classes": [target_class], "num_images": num_images, "freeze_d": freeze_d,
        "init_from": None if from_scratch else str(Path(from_run_dir).resolve()),
        "batch_size": batch_size if batch_size is not None else min(source["batch_size"], num_images),
        "seed": source["seed"] if seed is None else seed})
