"""One GAN training step, written once: :func:`gan_step`, as a ``tf.function`` and as a ``keras.Model``'s ``train_step``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import training  # noqa: E402
from artlib.errors import ArtlibError  # noqa: E402
from artlib.checks import positive_float, seed_value  # noqa: E402
from artlib.gan.losses import (check_loss, class_loss, discriminator_loss, generator_loss,  # noqa: E402
                               gradient_penalty, style_ambiguity_loss)
from artlib.gan.models import has_class_head, is_conditional  # noqa: E402

__all__ = ["gan_step", "make_train_step", "GAN"]


def _split_batch(batch: Any) -> tuple[tf.Tensor, tf.Tensor | None]:
    """``images``, ``(images, labels)`` or ``{"images", "labels"}`` -> (images, labels or None)."""
    if isinstance(batch, (tuple, list)):
        images, labels = batch
        return tf.convert_to_tensor(images), tf.cast(labels, tf.int32)
    if isinstance(batch, dict):
        return tf.convert_to_tensor(batch["images"]), tf.cast(batch["labels"], tf.int32)
    return tf.convert_to_tensor(batch), None


def gan_step(generator: keras.Model, discriminator: keras.Model, g_optimizer: keras.optimizers.Optimizer,
             d_optimizer: keras.optimizers.Optimizer, batch: Any, seed_generator: keras.random.SeedGenerator,
             *, loss: str = "bce", gp_weight: float = 10.0, creative_weight: float = 0.0,
             creative_warmup: int = 0, creative_start: int = 0) -> dict[str, tf.Tensor]:
    """One simultaneous update of both networks (call it inside a ``tf.function``, or in a replica of a strategy).

    The generator turns fresh latents into a batch; the discriminator scores the
    real and the generated batches in two calls (on a CPU about 6 % faster than one
    call on the two concatenated, and the same numbers for a discriminator without
    batch statistics, as all of artlib's are); each network takes one optimizer step
    on its own loss.

    A discriminator with a class head (a creative adversarial network, Elgammal et al.
    2017) also learns to name the class of real images (:func:`~artlib.gan.losses.class_loss`,
    added to its loss), and the generator adds ``creative_weight`` times the
    style-ambiguity loss (:func:`~artlib.gan.losses.style_ambiguity_loss`): it is rewarded
    for images the discriminator takes for real but cannot put in any one class. With
    ``creative_warmup`` the weight rises linearly from 0 over that many generator steps (counted
    by ``g_optimizer.iterations``, so it resumes exactly): the generator first learns garments,
    then is pushed away from the classes. With ``creative_start`` the weight is 0 for that many
    steps first (a plain GAN with a class head), then warms up.

    Under a ``tf.distribute`` strategy with several replicas it is one replica's part of the
    step (see :mod:`artlib.training.replicas`): ``batch`` is its rows, its latents are its rows of
    the global batch's, and the gradients are of the losses over the replicas' count, so that the
    summed update is the global batch's; the returned means are its rows'.

    Args:
        generator, discriminator: The two models (both conditional, or neither).
        g_optimizer, d_optimizer: Their optimizers.
        batch: Real images (N, 28, 28, 1) in [-1, 1], or ``(images, labels)`` for a conditional GAN.
        seed_generator: Draws the latents (and WGAN-GP's mixing weights).
        loss: One of :data:`LOSSES`.
        gp_weight: λ of the gradient penalty (``wgan-gp`` only).
        creative_weight: Weight of the style-ambiguity loss (a discriminator with a class head only).
        creative_warmup: Generator steps over which that weight rises from 0 (0: full weight at once).
        creative_start: Generator steps before it starts to rise (0: from the first step).

    Returns:
        ``{"d_loss", "g_loss", "d_real", "d_fake"}``: the losses, and the mean
        discriminator output on real and generated images — σ(logit), the
        probability of "real", for ``minimax``/``bce``; the raw score otherwise.
        With a class head also ``"d_class"`` (the class loss on real images) and
        ``"ambiguity"`` (the style-ambiguity loss of the generated ones, ≥ ln 10) and
        ``"creative_weight"`` (its weight at this step).

    Raises:
        ArtlibError: A discriminator with a class head and a batch without labels.
    """
    loss = check_loss(loss)
    images, labels = _split_batch(batch)
    creative, class_labels = has_class_head(discriminator), labels
    if creative and class_labels is None:
        raise ArtlibError("a discriminator with a class head learns from labelled images: pass (images, labels)")
    if not is_conditional(generator):
        labels = None  # an unconditional GAN ignores labels that come with the data
    n = tf.shape(images)[0]
    latent_dim = generator.inputs[0].shape[-1]
    z = training.draw_for_replica(keras.random.normal, (n, latent_dim), seed=seed_generator)
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(z if labels is None else [z, labels], training=True)
        real_logits = discriminator(images if labels is None else [images, labels], training=True)
        fake_logits = discriminator(fake if labels is None else [fake, labels], training=True)
        if creative:
            (real_logits, real_classes), (fake_logits, fake_classes) = real_logits, fake_logits
        d_loss = discriminator_loss(loss, real_logits, fake_logits)
        if loss == "wgan-gp":
            epsilon = training.draw_for_replica(keras.random.uniform, (n, 1, 1, 1), seed=seed_generator)
            d_loss += gp_weight * gradient_penalty(discriminator, images, fake, epsilon, labels)
        g_loss = generator_loss(loss, fake_logits)
        if creative:
            d_class, ambiguity = class_loss(real_classes, class_labels), style_ambiguity_loss(fake_classes)
            weight = tf.constant(creative_weight, tf.float32)
            if creative_warmup or creative_start:
                since = tf.cast(g_optimizer.iterations, tf.float32) - float(creative_start)  # steps since the start
                weight *= (tf.clip_by_value(since / float(creative_warmup), 0.0, 1.0) if creative_warmup
                           else tf.cast(since >= 0, tf.float32))
            d_loss += d_class
            g_loss += weight * ambiguity
        d_scaled, g_scaled = training.scale_loss(d_loss), training.scale_loss(g_loss)  # summed over replicas
    d_vars, g_vars = discriminator.trainable_variables, generator.trainable_variables
    d_optimizer.apply(d_tape.gradient(d_scaled, d_vars), d_vars)
    g_optimizer.apply(g_tape.gradient(g_scaled, g_vars), g_vars)
    squash = tf.sigmoid if loss in ("minimax", "bce") else tf.identity
    losses = {"d_loss": d_loss, "g_loss": g_loss,
              "d_real": tf.reduce_mean(squash(real_logits)), "d_fake": tf.reduce_mean(squash(fake_logits))}
    if creative:
        losses.update(d_class=d_class, ambiguity=ambiguity, creative_weight=weight)
    return losses


def make_train_step(generator: keras.Model, discriminator: keras.Model, g_optimizer: keras.optimizers.Optimizer,
                    d_optimizer: keras.optimizers.Optimizer, seed_generator: keras.random.SeedGenerator,
                    *, loss: str = "bce", gp_weight: float = 10.0, creative_weight: float = 0.0,
                    creative_warmup: int = 0, creative_start: int = 0,
                    jit_compile: bool = False) -> Callable[[Any], dict[str, tf.Tensor]]:
    """:func:`gan_step` as an explicit ``@tf.function`` ``step(batch) -> losses``, for ``training.train_loop``.

    The step runs over the replicas of the strategy in scope (:func:`artlib.training.distribute_step`:
    the global batch split, the losses averaged); make the models, the optimizers and
    ``seed_generator`` under that strategy's scope.

    Args:
        generator, discriminator: The two models (both conditional, or neither).
        g_optimizer, d_optimizer: Their optimizers.
        seed_generator: Draws the latents (and WGAN-GP's mixing weights).
        loss: One of :data:`LOSSES`.
        gp_weight: λ of the gradient penalty (``wgan-gp`` only; 0 switches it off).
        creative_weight: Weight of the style-ambiguity loss (a discriminator with a class head only).
        creative_warmup: Generator steps over which that weight rises from 0.
        creative_start: Generator steps before it starts to rise.
        jit_compile: Compile with XLA (1.6–1.8× slower on the CPUs measured, so off by default).

    Returns:
        ``step(batch) -> {"d_loss", "g_loss", "d_real", "d_fake"}``.

    Raises:
        ArtlibError: An unknown loss, a negative ``gp_weight`` or ``creative_weight``, or a
            conditional and an unconditional model together.

    Example::

        step = make_train_step(generator, discriminator, g_opt, d_opt, keras.random.SeedGenerator(0))
        losses = step(images)   # {"d_loss": ..., "g_loss": ..., "d_real": ..., "d_fake": ...}
    """
    check_loss(loss)
    gp_weight = positive_float(gp_weight, "gp_weight", zero=True)
    creative_weight = positive_float(creative_weight, "creative_weight", zero=True)
    _check_pair(generator, discriminator)

    def replica_step(batch):
        return gan_step(generator, discriminator, g_optimizer, d_optimizer, batch, seed_generator,
                        loss=loss, gp_weight=gp_weight, creative_weight=creative_weight,
                        creative_warmup=creative_warmup, creative_start=creative_start)

    return training.distribute_step(replica_step, jit_compile=jit_compile)


def _check_pair(generator: keras.Model, discriminator: keras.Model) -> None:
    """Raise unless both models take labels, or neither does."""
    if is_conditional(generator) != is_conditional(discriminator):
        raise ArtlibError("generator and discriminator must both be conditional (take labels) or neither")


@keras.saving.register_keras_serializable(package="artlib")
class GAN(keras.Model):
    """Generator and discriminator as one ``keras.Model`` whose ``fit`` plays the game.

    ``fit`` takes images in [-1, 1] (N, 28, 28, 1), or ``(images, labels)``
    for a conditional GAN, and reports ``d_loss``, ``g_loss``, ``d_real`` and
    ``d_fake`` (see :func:`gan_step`). Calling the model generates images from latents.

    Args:
        generator, discriminator: From the builders in :mod:`artlib.gan.models`.
        loss: One of :data:`LOSSES`.
        gp_weight: λ of the WGAN-GP penalty.
        creative_weight: Weight of the style-ambiguity loss (a discriminator with a class head only).
        seed: Seeds the latent noise (a ``keras.random.SeedGenerator``).

    Raises:
        ArtlibError: An unknown loss, a negative ``gp_weight``, or a conditional and an
            unconditional model together.

    Example::

        gan = GAN(build_generator(), build_discriminator())
        gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                    g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
        gan.fit(images * 2 - 1, batch_size=64, epochs=5)
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, loss: str = "bce",
                 gp_weight: float = 10.0, creative_weight: float = 0.0, seed: int = 0, **kwargs: Any) -> None:
        seed = seed_value(seed)
        super().__init__(**kwargs)
        _check_pair(generator, discriminator)
        self.generator, self.discriminator = generator, discriminator
        self.loss_name, self.seed = check_loss(loss), int(seed)
        self.gp_weight = positive_float(gp_weight, "gp_weight", zero=True)
        self.creative_weight = positive_float(creative_weight, "creative_weight", zero=True)
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.conditional = is_conditional(generator)
        self.seed_generator = keras.random.SeedGenerator(seed)
        names = ("d_loss", "g_loss", "d_real", "d_fake") + (
            ("d_class", "ambiguity", "creative_weight") if has_class_head(discriminator) else ())
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    def compile(self, d_optimizer: keras.optimizers.Optimizer, g_optimizer: keras.optimizers.Optimizer,
                **kwargs: Any) -> None:
        """Set the two optimizers (``fit`` needs them; ``loss`` is the constructor's).

        Args:
            d_optimizer, g_optimizer: The discriminator's and the generator's optimizer.
            **kwargs: Passed to ``keras.Model.compile`` (e.g. ``steps_per_execution``).
        """
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        """The loss trackers (four, six with a class head), which ``fit`` resets at each epoch."""
        return list(self.trackers.values())

    def call(self, inputs: Any, training: bool = False) -> tf.Tensor:
        """Generate: ``z (N, latent_dim)[, labels (N,)] -> images (N, 28, 28, 1)`` in [-1, 1]."""
        return self.generator(inputs, training=training)

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """One :func:`gan_step` on ``data``; returns the running means of its numbers."""
        losses = gan_step(self.generator, self.discriminator, self.g_optimizer, self.d_optimizer, data,
                          self.seed_generator, loss=self.loss_name, gp_weight=self.gp_weight,
                          creative_weight=self.creative_weight)
        for name, value in losses.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def get_config(self) -> dict[str, Any]:
        """Both networks and the game's settings, for ``.keras`` files."""
        return {"generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "loss": self.loss_name, "gp_weight": self.gp_weight, "creative_weight": self.creative_weight,
                "seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> GAN:
        """Rebuild from :meth:`get_config` (as ``keras.saving.load_model`` does)."""
        config = dict(config)
        generator = keras.saving.deserialize_keras_object(config.pop("generator"))
        discriminator = keras.saving.deserialize_keras_object(config.pop("discriminator"))
        return cls(generator, discriminator, **config)
