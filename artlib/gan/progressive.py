"""Progressive growing (7 → 14 → 28 with fade-in), the idea behind ProGAN, as a small demo."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import training  # noqa: E402
from artlib.errors import ArtlibError  # noqa: E402
from artlib.checks import positive_int, seed_value  # noqa: E402
from artlib.gan.losses import discriminator_loss, generator_loss  # noqa: E402
from artlib.gan.models import build_discriminator  # noqa: E402
from artlib.gan.sampling import to_minus_one_one, to_unit  # noqa: E402
from artlib.latent import latents  # noqa: E402

__all__ = ["PROGRESSIVE_SIZES", "build_progressive_generator", "progressive_images", "progressive_real",
           "fade_in_alpha", "train_progressive"]

#: The side of the generator's picture at each level.
PROGRESSIVE_SIZES = (7, 14, 28)


def build_progressive_generator(latent_dim: int = 64, *, width: int = 64) -> keras.Model:
    """artlib's generator with an image head at each resolution, for the progressive-growing demo.

    The trunk of :func:`build_generator` with ``upsample="transpose"`` (transposed convolutions, as
    the progressive demo was made); a 1×1 ``tanh`` convolution turns the 7×7 and 14×14 feature
    maps into images too ("toRGB" in ProGAN).

    Args:
        latent_dim: Length of z.
        width: Channels of the 14×14 layer (at least 2).

    Returns:
        A model ``z (N, latent_dim) -> [images 7×7×1, 14×14×1, 28×28×1]`` in [-1, 1].

    Raises:
        ArtlibError: ``latent_dim`` is not a positive integer, or ``width`` is below 2.
    """
    latent_dim, width = positive_int(latent_dim, "latent_dim"), positive_int(width, "width", minimum=2)
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(7 * 7 * 2 * width, use_bias=False)(z)
    x = keras.layers.ReLU()(training.batch_norm()(x))
    x = keras.layers.Reshape((7, 7, 2 * width))(x)  # (N, 49·2w) -> (N, 7, 7, 2w)
    outputs = [keras.layers.Conv2D(1, 1, activation="tanh", name="to_image_7")(x)]
    for filters, size in ((width, 14), (width // 2, 28)):
        x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)
        x = keras.layers.ReLU()(training.batch_norm()(x))
        outputs.append(keras.layers.Conv2D(1, 1 if size < 28 else 3, padding="same", activation="tanh",
                                           name=f"to_image_{size}")(x))
    return keras.Model(z, outputs, name="progressive_generator")


def _upscale(images: tf.Tensor, factor: int) -> tf.Tensor:
    """Nearest-neighbour upscaling: (N, H, W, C) -> (N, f·H, f·W, C)."""
    return tf.repeat(tf.repeat(images, factor, axis=1), factor, axis=2)


def _check_level(level: int) -> int:
    """``level`` if it is 0, 1 or 2."""
    if isinstance(level, bool) or level not in range(len(PROGRESSIVE_SIZES)):
        raise ArtlibError(f"level must be 0, 1 or 2 (7×7, 14×14, 28×28); got {level!r}")
    return int(level)


def progressive_images(outputs: list, level: int, alpha: Any) -> tf.Tensor:
    """The generator's picture at ``level`` (0: 7×7, 1: 14×14, 2: 28×28), faded in, shown at 28×28.

    While a new level fades in, its image is ``alpha`` · new head + (1 − alpha) ·
    the previous level's image upscaled: at alpha 0 the grown network draws
    exactly what the smaller one did, so growing never throws training back.

    Args:
        outputs: The three outputs of :func:`build_progressive_generator`.
        level: 0, 1 or 2.
        alpha: The fade-in weight of the new level in [0, 1] (ignored at level 0).

    Returns:
        (N, 28, 28, 1) in [-1, 1].

    Raises:
        ArtlibError: A level other than 0, 1 or 2.
    """
    level = _check_level(level)
    image = outputs[level]
    if level > 0:
        image = alpha * image + (1.0 - alpha) * _upscale(outputs[level - 1], 2)
    return _upscale(image, 28 // PROGRESSIVE_SIZES[level]) if level < 2 else image


def progressive_real(images: Any, level: int, alpha: Any = 1.0) -> tf.Tensor:
    """Real images blurred to ``level``'s resolution (mean-pooled), shown at 28×28, faded like the generator's.

    Args:
        images: (N, 28, 28, 1), in the generator's range.
        level: 0, 1 or 2.
        alpha: The fade-in weight of ``level`` against the level below.

    Returns:
        float32 (N, 28, 28, 1).

    Raises:
        ArtlibError: A level other than 0, 1 or 2.
    """
    level = _check_level(level)
    images = tf.convert_to_tensor(images, tf.float32)

    def at(lvl: int) -> tf.Tensor:
        factor = 28 // PROGRESSIVE_SIZES[lvl]
        return _upscale(tf.nn.avg_pool2d(images, factor, factor, "VALID"), factor) if factor > 1 else images

    return at(level) if level == 0 else alpha * at(level) + (1.0 - alpha) * at(level - 1)


def fade_in_alpha(level: int, step: int, steps_per_level: int, fade_in_steps: int | None = None) -> float:
    """The new level's weight at ``step`` (0-based) of a level: 0 → 1 over its first ``fade_in_steps`` steps.

    Args:
        level: 0, 1 or 2; level 0 has nothing to fade from, so it is always 1.
        step: The step within the level, from 0.
        steps_per_level: Steps each level trains.
        fade_in_steps: Steps the fade takes (default: half the level, ``steps_per_level // 2``);
            0 adds the new level at once (alpha 1 from its first step).

    Returns:
        alpha in [0, 1].

    Raises:
        ArtlibError: A level other than 0, 1 or 2, or a negative ``fade_in_steps``.
    """
    level = _check_level(level)
    fade = _fade_steps(steps_per_level, fade_in_steps)
    return 1.0 if level == 0 or fade == 0 else min(1.0, step / fade)


def _fade_steps(steps_per_level: int, fade_in_steps: int | None) -> int:
    """``fade_in_steps`` checked (an int ≥ 0), or its default, half a level (at least 1 step)."""
    if fade_in_steps is None:
        return max(1, steps_per_level // 2)
    if isinstance(fade_in_steps, bool) or not isinstance(fade_in_steps, (int, np.integer)) or fade_in_steps < 0:
        raise ArtlibError(f"fade_in_steps must be an integer ≥ 0 (0: no fade-in); got {fade_in_steps!r}")
    return int(fade_in_steps)


def _level_step(level: int, generator: keras.Model, discriminator: keras.Model,
                g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer,
                noise: keras.random.SeedGenerator) -> Callable[[Any], dict[str, tf.Tensor]]:
    """One BCE step at ``level`` as a ``@tf.function`` ``step((images, alpha)) -> {"d_loss", "g_loss"}``.

    It runs over the strategy's replicas (:func:`artlib.training.distribute_step`; ``alpha`` goes to each whole).
    """
    latent_dim = generator.inputs[0].shape[-1]

    def replica_step(batch):
        images, alpha = batch
        n = tf.shape(images)[0]
        z = training.draw_for_replica(keras.random.normal, (n, latent_dim), seed=noise)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = progressive_images(generator(z, training=True), level, alpha)
            logits = discriminator(tf.concat([progressive_real(images, level, alpha), fake], 0), training=True)
            d_loss = discriminator_loss("bce", logits[:n], logits[n:])
            g_loss = generator_loss("bce", logits[n:])
            d_scaled, g_scaled = training.scale_loss(d_loss), training.scale_loss(g_loss)  # summed over replicas
        d_vars = discriminator.trainable_variables
        d_optimizer.apply(d_tape.gradient(d_scaled, d_vars), d_vars)
        pairs = [(g, v) for g, v in zip(g_tape.gradient(g_scaled, generator.trainable_variables),
                                        generator.trainable_variables) if g is not None]
        g_optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])
        return {"d_loss": d_loss, "g_loss": g_loss}

    return training.distribute_step(replica_step)


def _level_batches(real: np.ndarray, level: int, steps_per_level: int, batch_size: int,
                   seed: int, fade_in_steps: int) -> Iterator[tuple[np.ndarray, tf.Tensor]]:
    """A level's ``(images, alpha)`` for each of its steps, the same every call (a level is one epoch)."""
    picks = np.random.default_rng([seed, level]).integers(0, len(real), (steps_per_level, batch_size))
    for i, pick in enumerate(picks):
        yield real[pick], tf.constant(fade_in_alpha(level, i, steps_per_level, fade_in_steps), tf.float32)


def train_progressive(images: np.ndarray, *, steps_per_level: int = 600, batch_size: int = 64,
                      latent_dim: int = 64, seed: int = 0, num_samples: int = 16, run_dir: str | Path | None = None,
                      quiet: bool | None = None, fade_in_steps: int | None = None
                      ) -> tuple[keras.Model, list[np.ndarray]]:
    """A small progressive-growing demo (7 → 14 → 28 with fade-in), the idea behind ProGAN.

    Each level trains for ``steps_per_level`` steps; at levels 1 and 2 the first
    ``fade_in_steps`` of them (default: half) fade the new resolution in (:func:`fade_in_alpha`);
    ``fade_in_steps=0`` adds each new level at once, to see what the fade-in is for.
    Simplification, said plainly: the discriminator does not grow; it always sees 28×28
    images, with the real ones blurred to the current level's resolution in the same way.

    Each level is one ``training.train_loop`` into its own run directory, ``run_dir/7x7``,
    ``14x14`` and ``28x28`` (progress bar, NaN guard, checkpoints, ``history.json`` with
    ``d_loss`` and ``g_loss``, ``losses.png``), so calling again with the same ``run_dir``
    and arguments after an interruption goes on exactly where it stopped.

    Args:
        images: uint8 (N, 28, 28) or float in [0, 1].
        steps_per_level: Steps at each of the three levels.
        batch_size: Images per step.
        latent_dim: Length of z.
        seed: Seeds weights, data order and latents.
        num_samples: Images in each level's snapshot.
        run_dir: Where the three run directories go; None: a temporary folder, deleted at the end.
        quiet: Hide the progress bars.
        fade_in_steps: Steps of fade-in at levels 1 and 2 (default ``steps_per_level // 2``;
            0: none). More than ``steps_per_level`` means the level ends before alpha reaches 1.

    Returns:
        The generator and one snapshot per level: float32 (num_samples, 28, 28) in [0, 1],
        from the same latents.

    Raises:
        ArtlibError: A count that is 0 or below, a negative ``fade_in_steps``, or
            a ``batch_size`` that does not split evenly over the strategy's replicas.
        CheckpointError: ``run_dir`` holds a run with other arguments.
        ImageError: ``images`` are not 28×28 one-channel pixels in [0, 1] (or uint8).
    """
    seed = seed_value(seed)
    steps_per_level = positive_int(steps_per_level, "steps_per_level")
    batch_size, num_samples = positive_int(batch_size, "batch_size"), positive_int(num_samples, "num_samples")
    training.check_batch_size(batch_size)  # it splits over the replicas of the strategy in scope
    fade = _fade_steps(steps_per_level, fade_in_steps)
    real = to_minus_one_one(images)
    with training.get_strategy().scope():
        keras.utils.set_random_seed(seed)
        generator, discriminator = build_progressive_generator(latent_dim), build_discriminator()
        g_optimizer, d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
        g_optimizer.build(generator.trainable_variables)  # heads not used at a level get no gradient
        d_optimizer.build(discriminator.trainable_variables)  # in the scope, as a MirroredStrategy needs
        noise = keras.random.SeedGenerator(seed)  # one state for all replicas
    state = {"generator": generator, "discriminator": discriminator, "g_optimizer": g_optimizer,
             "d_optimizer": d_optimizer, "noise": noise}
    settings = {"steps_per_level": steps_per_level, "batch_size": batch_size, "latent_dim": latent_dim,
                "seed": seed, "num_images": len(real)}
    if fade_in_steps is not None:  # runs made before the argument existed keep their settings
        settings["fade_in_steps"] = fade
    fixed = latents(num_samples, latent_dim, seed + 1)
    snapshots = []
    folder = tempfile.TemporaryDirectory(prefix="artlib-progressive-") if run_dir is None else nullcontext(run_dir)
    with folder as path:
        for level, size in enumerate(PROGRESSIVE_SIZES):
            training.train_loop(
                _level_step(level, generator, discriminator, g_optimizer, d_optimizer, noise),
                lambda epoch, level=level: _level_batches(real, level, steps_per_level, batch_size, seed, fade),
                num_steps=steps_per_level, steps_per_epoch=steps_per_level, run_dir=Path(path) / f"{size}x{size}",
                state=state, settings={**settings, "level": level}, summary=run_dir is not None, quiet=quiet)
            snapshots.append(to_unit(progressive_images(generator(fixed, training=False), level, 1.0)))
    return generator, snapshots
