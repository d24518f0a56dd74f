"""Training the decoder: the ``tf.function`` step (AdaIN losses, optional adversarial term) and ``train``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib import config, imageio, training
from artlib.arbitrary_style.adain import adain, channel_moments
from artlib.arbitrary_style.decoder import DEFAULT_WIDTH, build_decoder
from artlib.arbitrary_style.encoder import DEFAULT_DEPTH, Encoder
from artlib.arbitrary_style.losses import (
    adversarial_loss,
    build_patch_discriminator,
    content_loss,
    discriminator_loss,
    moment_loss,
)
from artlib.arbitrary_style.styles import PairBatches, style_bank
from artlib.checks import positive_float, positive_int, seed_value, unit_float
from artlib.fast_style.content import load_content_photos

__all__ = ["STYLE_WEIGHT", "TRAIN_DEFAULTS", "make_train_step", "ArbitraryStyleResult", "train"]

#: Weight of the moment (style) loss against the content loss: the paper's λ = 10.
STYLE_WEIGHT = 10.0
#: :func:`train`'s steps, crop side, pairs per step and style-bank seeds when not given, per mode
#: (:func:`artlib.config.choose`; lesson mode takes full's). ``--help`` shows both.
TRAIN_DEFAULTS = {"full": {"num_steps": 2000, "image_size": 96, "batch_size": 4, "bank_seeds": 8},
                  "fast": {"num_steps": 3, "image_size": 32, "batch_size": 2, "bank_seeds": 1}}


def make_train_step(encoder: Encoder, decoder: keras.Model, optimizer: keras.optimizers.Optimizer, *,
                    style_weight: float = STYLE_WEIGHT, discriminator: keras.Model | None = None,
                    d_optimizer: keras.optimizers.Optimizer | None = None,
                    adversarial_weight: float = 0.0) -> Callable[[Any], dict[str, tf.Tensor]]:
    """One ``@tf.function`` step: ``step((content, styles)) -> {"total", "content", "style", …}``.

    ``t = AdaIN(f(content), f(style))``; the decoder makes ``g(t)``; the losses are
    ``‖f(g(t)) − t‖²`` at the AdaIN layer and ``style_weight`` × the moment gaps at every style layer.
    With a discriminator, it first learns to tell style crops from ``g(t)`` (LSGAN), and the decoder's
    loss adds ``adversarial_weight`` × its "looks real" term. Only the decoder (and discriminator) learn.
    The reported ``total`` is NaN when ``g(t)`` holds a NaN pixel, which the losses alone may not show.
    The step runs over the replicas of the strategy in scope (:func:`artlib.training.distribute_step`):
    the pairs split over them.
    """
    layers, depth = encoder.layers, encoder.depth
    adversarial = discriminator is not None and adversarial_weight > 0

    def replica_step(batch):
        content, styles = (tf.convert_to_tensor(x, tf.float32) for x in batch)
        style_features = encoder(styles)
        style_moments = {n: channel_moments(style_features[n]) for n in layers}
        target = adain(encoder(content)[depth], *style_moments[depth])
        terms = {}
        if adversarial:
            fake = decoder(target, training=False)
            with tf.GradientTape() as d_tape:
                d_loss = discriminator_loss(discriminator(styles, training=True),
                                            discriminator(tf.clip_by_value(fake, 0.0, 1.0), training=True))
                d_scaled = training.scale_loss(d_loss)  # the replicas' gradients are summed
            d_optimizer.apply(d_tape.gradient(d_scaled, discriminator.trainable_variables),
                              discriminator.trainable_variables)
            terms["discriminator"] = d_loss
        with tf.GradientTape() as tape:
            output = decoder(target, training=True)
            output_features = encoder(output)
            terms["content"] = content_loss(output_features[depth], target)
            terms["style"] = style_weight * moment_loss(output_features, style_moments, layers)
            total = terms["content"] + terms["style"]
            if adversarial:
                terms["adversarial"] = adversarial_weight * adversarial_loss(
                    discriminator(tf.clip_by_value(output, 0.0, 1.0), training=False))
                total += terms["adversarial"]
            terms["total"] = total
            scaled = training.scale_loss(total)
        optimizer.apply(tape.gradient(scaled, decoder.trainable_variables), decoder.trainable_variables)
        # No loss here sees the pixels themselves, and the encoder's fused convolution + ReLU (oneDNN, in a
        # graph) turns NaN pixels into 0: a decoder painting NaN would report finite losses. Its total is NaN
        # then, so that the loop's NaN guard stops at this step.
        terms["total"] = tf.where(tf.reduce_all(tf.math.is_finite(output)), terms["total"], float("nan"))
        return terms

    return training.distribute_step(replica_step, reduce_retracing=True)


@dataclass(kw_only=True, eq=False)
class ArbitraryStyleResult(training.TrainResult):
    """A :class:`~artlib.training.TrainResult` with the trained decoder, its encoder and the run's settings."""

    decoder: keras.Model
    encoder: Encoder
    settings: dict[str, Any]


def _grid_pairs(photos: Sequence[np.ndarray], styles: Sequence[np.ndarray], size: int) -> tuple[np.ndarray, ...]:
    """Four fixed (content, style) pairs for the progress grid, as ``4×S×S×3`` arrays."""
    def square(image: np.ndarray) -> np.ndarray:
        return np.asarray(imageio.resize(imageio.center_crop(image, min(image.shape[:2])), (size, size)))

    picks = np.linspace(0, len(styles) - 1, 4).astype(int)
    return (np.stack([square(photos[i % len(photos)]) for i in range(4)]),
            np.stack([square(styles[i]) for i in picks]))


def _weights_to_start_from(path: str | Path, encoder: Encoder, decoder: keras.Model) -> list[np.ndarray]:
    """The weights of the decoder file ``path``, checked to fit ``encoder`` and ``decoder``'s shapes."""
    from artlib.arbitrary_style.model import load_decoder
    from artlib.errors import DataError

    loaded, _ = load_decoder(path, encoder=encoder)  # DataError: missing, damaged, or another encoder's
    theirs, mine = [w.shape for w in loaded.get_weights()], [tuple(w.shape) for w in decoder.weights]
    if theirs != mine:
        raise DataError(f"decoder {path} has other shapes than this run's decoder (another width?): "
                        f"{len(theirs)} weights, first {theirs[:1]}; this run's: {len(mine)}, first {mine[:1]}")
    return loaded.get_weights()


def train(*, num_steps: int | None = None, run_dir: str | Path = "runs/arbitrary_style", image_size: int | None = None,
          batch_size: int | None = None, width: int = DEFAULT_WIDTH, depth: str = DEFAULT_DEPTH,
          weights: str | Path = "auto", learning_rate: float = 5e-4, style_weight: float = STYLE_WEIGHT,
          adversarial_weight: float = 0.0, content: Sequence | None = None, style_folders: Sequence = (),
          bank_seeds: int | None = None, recolor_share: float = 0.0, seed: int = 0, steps_per_epoch: int = 100,
          save_every: int | None = None, max_seconds: float | None = None, encoder: Encoder | None = None,
          start_from: str | Path | None = None, quiet: bool | None = None,
          verbose: bool = True) -> ArbitraryStyleResult:
    """Train an AdaIN decoder, resuming exactly from ``run_dir`` if it holds a run.

    Args:
        num_steps: Steps to train up to, a total (default 2000; 3 in fast mode).
        run_dir: Checkpoints, TensorBoard logs, ``settings.json``, ``history.json``, sample grids.
        image_size: Side of the square crops (default 96; 32 in fast mode): a 96-px step costs about half a
            128-px one, so a CPU budget buys twice the steps.
        batch_size: Pairs per step (default 4; 2 in fast mode; the paper: 8).
        width, depth: The decoder (see :func:`build_decoder`) and the encoder layer it inverts.
        weights: The encoder's features (weights policy; offline: ``hed-vgg16``).
        learning_rate: Adam's (decoder and discriminator).
        style_weight: Weight of the moment loss (the paper's λ = 10).
        adversarial_weight: Weight of the adversarial term; 0 (default) trains no discriminator.
        content: Content photos (see :func:`artlib.fast_style.load_content_photos`; default its
            ``TRAIN_PHOTOS``, the bundled photos but the held-out ones).
        style_folders: Folders of style images added to the procedural bank.
        bank_seeds: Compositions per pattern in the bank (default 8; 1 in fast mode).
        recolor_share: The share of each batch's style crops given a fresh random palette (0: the bank's
            own colours only); see :class:`~artlib.arbitrary_style.PairBatches`.
        seed: Fixes the decoder's initialization, the bank and every crop.
        steps_per_epoch: Batches per (generated) epoch.
        save_every: Checkpoint every this many steps (default ``num_steps // 10``).
        max_seconds: Stop (with a checkpoint) after this long; call again to go on.
        encoder: Reuse this encoder instead of building one.
        start_from: A decoder ``.keras`` saved by :func:`~artlib.arbitrary_style.save_decoder` (the shipped
            one: :data:`~artlib.arbitrary_style.SHIPPED_DECODER`) whose weights a new run starts from,
            instead of ``seed``'s initialization: to train a decoder on for longer. It must fit the encoder
            and ``width``; a run directory that holds a run resumes from its own checkpoint, as always.
        quiet: Hide the progress bar. verbose: Print which features and a summary.

    Returns:
        An :class:`ArbitraryStyleResult`.

    Raises:
        ArtlibError: A count or size that is not a positive integer, a weight or rate out of range, or
            a ``batch_size`` that does not split evenly over the strategy's replicas.
        CheckpointError: ``run_dir`` holds another run (other settings). NonFiniteLossError: divergence.
        DataError: ``start_from`` is missing or damaged, or made for another encoder or width.
    """
    seed = seed_value(seed)
    start = time.perf_counter()
    defaults = config.choose(**TRAIN_DEFAULTS)
    num_steps = positive_int(defaults["num_steps"] if num_steps is None else num_steps, "num_steps")
    image_size = positive_int(defaults["image_size"] if image_size is None else image_size, "image_size", minimum=16)
    batch_size = positive_int(defaults["batch_size"] if batch_size is None else batch_size, "batch_size")
    bank_seeds = positive_int(defaults["bank_seeds"] if bank_seeds is None else bank_seeds, "bank_seeds")
    learning_rate = positive_float(learning_rate, "learning_rate")
    style_weight = positive_float(style_weight, "style_weight")
    adversarial_weight = positive_float(adversarial_weight, "adversarial_weight", zero=True)
    steps_per_epoch = positive_int(steps_per_epoch, "steps_per_epoch")
    recolor_share = unit_float(recolor_share, "recolor_share")
    save_every = max(1, num_steps // 10) if save_every is None else positive_int(save_every, "save_every")
    training.check_batch_size(batch_size)  # it splits over the replicas of the strategy in scope
    if encoder is None:
        with training.get_strategy().scope():  # every network a step calls, the frozen encoder too
            encoder = Encoder(weights, depth, seed=seed, verbose=verbose)
    photos = load_content_photos(content, max_dim=max(2 * image_size, 128))
    styles = style_bank(bank_seeds, seed=seed, sizes=(2 * image_size, int(3.5 * image_size)), folders=style_folders,
                        max_dim=4 * image_size)
    with training.get_strategy().scope():
        decoder = build_decoder(encoder.depth, width, channels=encoder.channels, seed=seed)
        if start_from is not None:
            decoder.set_weights(_weights_to_start_from(start_from, encoder, decoder))
        optimizer = keras.optimizers.Adam(learning_rate)
        optimizer.build(decoder.trainable_variables)
        state: dict[str, Any] = {"decoder": decoder, "optimizer": optimizer}
        discriminator = d_optimizer = None
        if adversarial_weight > 0:
            discriminator = build_patch_discriminator(seed=seed)
            d_optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.5)
            d_optimizer.build(discriminator.trainable_variables)
            state.update(discriminator=discriminator, d_optimizer=d_optimizer)
    step = make_train_step(encoder, decoder, optimizer, style_weight=style_weight, discriminator=discriminator,
                           d_optimizer=d_optimizer, adversarial_weight=adversarial_weight)
    grid_content, grid_styles = _grid_pairs(photos, styles, image_size)
    grid_target = adain(encoder(grid_content)[encoder.depth],
                        *channel_moments(encoder(grid_styles)[encoder.depth]))

    def sample_fn() -> np.ndarray:
        painted = np.clip(decoder(grid_target, training=False).numpy(), 0.0, 1.0)
        return np.concatenate([grid_content, grid_styles, painted])

    settings = dict(
        kind="arbitrary-style decoder", num_steps=num_steps, image_size=image_size, batch_size=batch_size,
        width=width, **encoder.describe(), learning_rate=learning_rate, style_weight=style_weight,
        adversarial_weight=adversarial_weight, content=[str(c) for c in content] if content else "TRAIN_PHOTOS",
        style_folders=[str(f) for f in style_folders], bank_seeds=bank_seeds, bank_size=len(styles),
        **({"recolor_share": recolor_share} if recolor_share else {}), seed=seed,
        steps_per_epoch=steps_per_epoch, **({"start_from": str(start_from)} if start_from is not None else {}))
    result = training.train_loop(
        step, lambda epoch: PairBatches(photos, styles, image_size, batch_size, steps_per_epoch=steps_per_epoch,
                                        seed=seed, epoch=epoch, recolor_share=recolor_share),
        num_steps=num_steps, run_dir=run_dir, state=state, steps_per_epoch=steps_per_epoch, save_every=save_every,
        log_every=min(10, num_steps), sample_fn=sample_fn, max_seconds=max_seconds, settings=settings, quiet=quiet)
    if verbose:
        last = {k: v[-1] for k, v in result.history.items() if k != "step" and v}
        print(f"arbitrary-style: step {result.final_step} of {num_steps} ({result.stopped}) in "
              f"{time.perf_counter() - start:.0f} s on {encoder.source}; "
              + ", ".join(f"{k} {v:.3g}" for k, v in last.items()))
    return ArbitraryStyleResult(history=result.history, final_step=result.final_step,
                                seconds=time.perf_counter() - start, stopped=result.stopped, run_dir=result.run_dir,
                                decoder=decoder, encoder=encoder, settings=settings)
