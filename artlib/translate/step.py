"""One CycleGAN training step (:func:`cycle_step`) and its ``tf.function`` (:func:`make_train_step`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import training  # noqa: E402
from artlib.checks import positive_float  # noqa: E402
from artlib.translate.losses import (cycle_loss, discriminator_loss, generator_adversarial_loss,  # noqa: E402
                                     identity_loss)
from artlib.translate.models import CycleModels  # noqa: E402

__all__ = ["cycle_step", "make_train_step"]


def cycle_step(models: CycleModels, g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer,
               batch: Any, *, cycle_weight: float = 10.0, identity_weight: float = 5.0) -> dict[str, tf.Tensor]:
    """One simultaneous update of both generators (joint loss) and both discriminators.

    With a batch of A images and an independent batch of B images (unpaired), the generators
    translate each to the other class and back; the generators take one Adam step on

        LSGAN(G) + LSGAN(F) + λ_cycle·(|F(G(a)) − a| + |G(F(b)) − b|) + λ_id·(|G(b) − b| + |F(a) − a|)

    and the discriminators one on their halved LSGAN losses, both on the same generated batch.
    One optimizer holds both generators (Adam is per parameter, so this equals one each).

    The discriminators see the current step's translations only: there is no history buffer of
    earlier fakes (the paper's pool of 50). A pool would be more state for the checkpoint to
    carry and for exact resume to restore; on 28×28 images training is stable without it.

    In a replica of a ``tf.distribute`` strategy, ``batch`` is its rows and the gradients are of
    the losses over the replicas' count (:func:`artlib.training.scale_loss`).

    Args:
        models: ``(a_to_b, b_to_a, disc_a, disc_b)`` from :func:`~artlib.translate.build_cycle_models`.
        g_optimizer: The generators' optimizer.
        d_optimizer: The discriminators' optimizer.
        batch: ``(images_a, images_b)``, each (N, 28, 28, 1) in [-1, 1] (the two N may differ).
        cycle_weight: λ_cycle.
        identity_weight: λ_id (0 skips the identity passes).

    Returns:
        ``{"g_loss", "d_loss", "adversarial", "cycle", "identity"}``: the generators' total, the two
        discriminators' sum, and the generators' adversarial, cycle (L1, both directions summed) and
        identity terms before weighting.
    """
    a_to_b, b_to_a, disc_a, disc_b = models
    real_a, real_b = (tf.cast(images, tf.float32) for images in batch)
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake_b, fake_a = a_to_b(real_a, training=True), b_to_a(real_b, training=True)
        cycled_a, cycled_b = b_to_a(fake_b, training=True), a_to_b(fake_a, training=True)
        if identity_weight:
            identity = (identity_loss(real_b, a_to_b(real_b, training=True))
                        + identity_loss(real_a, b_to_a(real_a, training=True)))
        else:
            identity = tf.constant(0.0)
        fake_b_logits, fake_a_logits = disc_b(fake_b, training=True), disc_a(fake_a, training=True)
        adversarial = generator_adversarial_loss(fake_b_logits) + generator_adversarial_loss(fake_a_logits)
        cycle = cycle_loss(real_a, cycled_a) + cycle_loss(real_b, cycled_b)
        g_loss = adversarial + cycle_weight * cycle + identity_weight * identity
        d_loss = (discriminator_loss(disc_a(real_a, training=True), fake_a_logits)
                  + discriminator_loss(disc_b(real_b, training=True), fake_b_logits))
        g_scaled, d_scaled = training.scale_loss(g_loss), training.scale_loss(d_loss)  # summed over replicas
    g_vars = a_to_b.trainable_variables + b_to_a.trainable_variables
    d_vars = disc_a.trainable_variables + disc_b.trainable_variables
    g_optimizer.apply(g_tape.gradient(g_scaled, g_vars), g_vars)
    d_optimizer.apply(d_tape.gradient(d_scaled, d_vars), d_vars)
    return {"g_loss": g_loss, "d_loss": d_loss, "adversarial": adversarial, "cycle": cycle, "identity": identity}


def make_train_step(models: CycleModels, g_optimizer: keras.optimizers.Optimizer,
                    d_optimizer: keras.optimizers.Optimizer, *, cycle_weight: float = 10.0,
                    identity_weight: float = 5.0, jit_compile: bool = False) -> Callable[[Any], dict[str, tf.Tensor]]:
    """:func:`cycle_step` as an explicit ``@tf.function`` ``step((images_a, images_b)) -> losses``.

    It runs over the replicas of the strategy in scope (:func:`artlib.training.distribute_step`);
    both batches split over them.

    Args:
        models: The four networks.
        g_optimizer: The generators' optimizer.
        d_optimizer: The discriminators' optimizer.
        cycle_weight: λ_cycle (≥ 0).
        identity_weight: λ_id (≥ 0).
        jit_compile: Compile with XLA (off by default: slower on the CPUs measured).

    Returns:
        ``step((images_a, images_b)) -> {"g_loss", "d_loss", "adversarial", "cycle", "identity"}``.

    Raises:
        ArtlibError: A negative or non-finite weight.

    Example::

        step = make_train_step(build_cycle_models(), keras.optimizers.Adam(2e-4, beta_1=0.5),
                               keras.optimizers.Adam(2e-4, beta_1=0.5))
        losses = step((images_a, images_b))
    """
    cycle_weight = positive_float(cycle_weight, "cycle_weight", zero=True)
    identity_weight = positive_float(identity_weight, "identity_weight", zero=True)
    models = CycleModels(*models)
    for optimizer, pair in ((g_optimizer, models[:2]), (d_optimizer, models[2:])):
        if not optimizer.built:  # variables made now, not in the first call: it then traces once, not twice
            optimizer.build([v for model in pair for v in model.trainable_variables])

    def replica_step(batch):
        return cycle_step(models, g_optimizer, d_optimizer, batch, cycle_weight=cycle_weight,
                          identity_weight=identity_weight)

    return training.distribute_step(replica_step, jit_compile=jit_compile)
