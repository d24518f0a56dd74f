"""Pixels in and out of a GAN ([0, 1] ↔ [-1, 1]), and drawing from a generator: samples and latent walks."""

from __future__ import annotations

from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from artlib.errors import ArtlibError  # noqa: E402
from artlib.checks import fits_in_memory, positive_int, seed_value  # noqa: E402
from artlib.classes import class_index  # noqa: E402
from artlib.gan.models import IMAGE_SHAPE, NUM_CLASSES, is_conditional  # noqa: E402
from artlib.imageio import as_batch  # noqa: E402
from artlib.latent import latents as draw_latents, slerp  # noqa: E402

__all__ = ["to_unit", "to_minus_one_one", "check_label", "sample", "interpolate"]


def to_unit(images: Any) -> np.ndarray:
    """Generator output in [-1, 1] → float32 images in [0, 1], shape (N, 28, 28).

    Args:
        images: (N, 28, 28, 1) or (N, 28, 28) in [-1, 1] (values outside are clipped).

    Returns:
        float32 (N, 28, 28) in [0, 1].
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]  # (N, 28, 28, 1) -> (N, 28, 28)
    return np.clip(images * 0.5 + 0.5, 0.0, 1.0)


def to_minus_one_one(images: Any, *, name: str = "images") -> np.ndarray:
    """Training images for a GAN: uint8 (N, 28, 28) or floats in [0, 1] → float32 (N, 28, 28, 1) in [-1, 1].

    Args:
        images: uint8 (0–255) or float pixels in [0, 1], shaped (N, 28, 28) or (N, 28, 28, 1).
        name: What to call them in an error message.

    Returns:
        float32 (N, 28, 28, 1) in [-1, 1], the range of the generators' ``tanh``.

    Raises:
        ImageError: Not a non-empty batch of 28×28 one-channel images with pixels in [0, 1] or uint8.
    """
    return as_batch(images, name=name, shape=IMAGE_SHAPE[:2], channels=IMAGE_SHAPE[2]) * 2.0 - 1.0


def check_label(label: int | str | None, conditional: bool, where: str) -> int | None:
    """The class number ``label`` names, if it suits a generator: None, or a class for a conditional one.

    Args:
        label: The class asked for, by number 0–9 or by name (``"sneaker"``), or None.
        conditional: Whether the generator takes labels.
        where: What holds the generator, for the message (a model name or a run directory).

    Returns:
        The class number, or None.

    Raises:
        ArtlibError: A label for an unconditional generator, or no Fashion-MNIST class of that number or name.
    """
    if label is not None and not conditional:
        raise ArtlibError(f"{where} holds an unconditional GAN, which cannot take a label; "
                          "train one with `gan train --conditional`, or leave out --label")
    return None if label is None else class_index(label)


def _check_generator(generator: Any) -> keras.Model:
    if not isinstance(generator, keras.Model):
        raise ArtlibError(f"generator must be a Keras model: load a run's with gan.load_generator(run_dir) (no "
                          f"argument: the shipped one); got {type(generator).__name__}")
    return generator


def _check_memory(count: int, latent_dim: int, what: str) -> None:
    """Refuse ``count`` images that would not fit in memory: the images (twice, while they are joined) and latents."""
    fits_in_memory(count * (2 * 28 * 28 * 4 + 2 * 8 * latent_dim), what,
                   "ask for fewer, or sample in several calls with other seeds and save each")


def sample(generator: keras.Model, n: int = 64, *, seed: int = 0, label: int | None = None,
           latents: np.ndarray | None = None, batch_size: int = 256) -> np.ndarray:
    """Generate images in [0, 1].

    Args:
        generator: A generator from this package (:func:`~artlib.gan.load_generator` loads a run's).
        n: How many images (ignored when ``latents`` are given).
        seed: Seeds the latents (the same seed gives the same images).
        label: Class 0–9 or its name for a conditional generator; None gives classes 0, 1, …, 9, 0, … in turn.
        latents: Use these latents (m, latent_dim) instead of drawing them.
        batch_size: Images per generator call.

    Returns:
        float32 array (n, 28, 28) in [0, 1] (m images with ``latents``).

    Raises:
        ArtlibError: ``generator`` is not a Keras model, ``n`` or ``batch_size`` below 1, more images than
            half of this machine's memory holds, latents of the wrong shape, a label for an unconditional
            generator, or one that names no class.
    """
    seed = seed_value(seed)
    conditional = is_conditional(_check_generator(generator))
    label = check_label(label, conditional, f"generator {generator.name!r}")
    batch_size = positive_int(batch_size, "batch_size")
    latent_dim = int(generator.inputs[0].shape[-1])
    if latents is None:
        n = positive_int(n, "n")
        _check_memory(n, latent_dim, f"gan.sample(n={n:,})")
        z = draw_latents(n, latent_dim, seed)
    else:
        z = np.asarray(latents, np.float32)
        if z.ndim != 2 or z.shape[1] != latent_dim or len(z) == 0:
            raise ArtlibError(f"latents must have shape (m, {latent_dim}) with m ≥ 1; got {np.shape(latents)}")
    labels = np.full(len(z), label, np.int32) if label is not None else np.arange(len(z), dtype=np.int32) % NUM_CLASSES
    out = []
    for start in range(0, len(z), batch_size):
        inputs = z[start:start + batch_size]
        if conditional:
            inputs = [inputs, labels[start:start + batch_size]]
        out.append(to_unit(generator(inputs, training=False)))
    return np.concatenate(out)


def interpolate(generator: keras.Model, *, num_rows: int = 4, num_steps: int = 10, seed: int = 0,
                label: int | None = None) -> np.ndarray:
    """Walk the latent space: each row moves along a great circle (slerp) between two latents.

    The end points are ``artlib.latent.latents(2 * num_rows, latent_dim, seed)``: row r goes
    from draw 2r to draw 2r + 1.

    Args:
        generator: A generator from this package (:func:`~artlib.gan.load_generator` loads a run's).
        num_rows: Independent walks.
        num_steps: Images per walk, end points included.
        seed: Seeds the end points.
        label: Class for a conditional generator (None: row r shows class r mod 10).

    Returns:
        float32 array (num_rows, num_steps, 28, 28) in [0, 1].

    Raises:
        ArtlibError: ``generator`` is not a Keras model, ``num_rows`` or ``num_steps`` below 1, more images
            than half of this machine's memory holds, or a label the generator cannot take.
    """
    seed = seed_value(seed)
    num_rows, num_steps = positive_int(num_rows, "num_rows"), positive_int(num_steps, "num_steps")
    _check_generator(generator)
    latent_dim = int(generator.inputs[0].shape[-1])
    _check_memory(num_rows * num_steps, latent_dim, f"gan.interpolate(num_rows={num_rows:,}, num_steps={num_steps:,})")
    ends = draw_latents(2 * num_rows, latent_dim, seed).reshape(num_rows, 2, latent_dim)
    t = np.linspace(0.0, 1.0, num_steps, dtype=np.float32)
    rows = [slerp(a, b, t).astype(np.float32) for a, b in ends]  # each (num_steps, latent_dim)
    if is_conditional(generator) and label is None:
        images = np.concatenate([sample(generator, latents=row, label=r % NUM_CLASSES) for r, row in enumerate(rows)])
    else:
        images = sample(generator, latents=np.concatenate(rows), label=label)
    return images.reshape(num_rows, num_steps, 28, 28)  # (rows·steps, 28, 28) -> (rows, steps, 28, 28)
