"""The GAN loss family as one argument (minimax, BCE, LSGAN, hinge, WGAN-GP), WGAN-GP's gradient penalty,
and the two class terms of a creative adversarial network (the discriminator's class loss, the generator's
style-ambiguity loss)."""

from __future__ import annotations

from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.errors import ArtlibError  # noqa: E402

__all__ = ["LOSSES", "check_loss", "discriminator_loss", "generator_loss", "gradient_penalty", "class_loss",
           "style_ambiguity_loss"]

#: The losses a step accepts; ``"non_saturating"`` is another name for ``"bce"``.
LOSSES = ("minimax", "bce", "non_saturating", "lsgan", "hinge", "wgan-gp")


def check_loss(loss: str) -> str:
    """The canonical name of a loss (``"non_saturating"`` -> ``"bce"``).

    Args:
        loss: One of :data:`LOSSES`.

    Returns:
        The name the code below branches on.

    Raises:
        ArtlibError: An unknown loss name.
    """
    if loss not in LOSSES:
        raise ArtlibError(f"unknown GAN loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return "bce" if loss == "non_saturating" else loss


def discriminator_loss(loss: str, real_logits: Any, fake_logits: Any) -> tf.Tensor:
    """The discriminator's loss on a batch of real and a batch of generated images.

    With σ the sigmoid, r and f the logits of real and generated images:

    * ``minimax``, ``bce``: −mean log σ(r) − mean log(1 − σ(f)) (binary cross-entropy);
    * ``lsgan``: ½·mean (r − 1)² + ½·mean f² (Mao et al. 2017, a = 0, b = c = 1);
    * ``hinge``: mean max(0, 1 − r) + mean max(0, 1 + f);
    * ``wgan-gp``: mean f − mean r (add :func:`gradient_penalty`).

    Args:
        loss: One of :data:`LOSSES`.
        real_logits: Discriminator outputs on real images, (N, 1).
        fake_logits: Discriminator outputs on generated images, (N, 1).

    Returns:
        A scalar tensor.

    Raises:
        ArtlibError: An unknown loss name.
    """
    loss = check_loss(loss)
    r, f = tf.convert_to_tensor(real_logits, tf.float32), tf.convert_to_tensor(fake_logits, tf.float32)
    if loss in ("minimax", "bce"):
        return tf.reduce_mean(tf.nn.softplus(-r)) + tf.reduce_mean(tf.nn.softplus(f))
    if loss == "lsgan":
        return 0.5 * tf.reduce_mean(tf.square(r - 1.0)) + 0.5 * tf.reduce_mean(tf.square(f))
    if loss == "hinge":
        return tf.reduce_mean(tf.nn.relu(1.0 - r)) + tf.reduce_mean(tf.nn.relu(1.0 + f))
    return tf.reduce_mean(f) - tf.reduce_mean(r)  # wgan-gp


def generator_loss(loss: str, fake_logits: Any) -> tf.Tensor:
    """The generator's loss on the discriminator's logits f for generated images.

    * ``minimax``: mean log(1 − σ(f)) — the original game; its gradient vanishes
      when the discriminator wins (σ(f) ≈ 0), which is why it "saturates";
    * ``bce`` (non-saturating): −mean log σ(f);
    * ``lsgan``: ½·mean (f − 1)²;
    * ``hinge`` and ``wgan-gp``: −mean f.

    Args:
        loss: One of :data:`LOSSES`.
        fake_logits: Discriminator outputs on generated images, (N, 1).

    Returns:
        A scalar tensor.

    Raises:
        ArtlibError: An unknown loss name.
    """
    loss = check_loss(loss)
    f = tf.convert_to_tensor(fake_logits, tf.float32)
    if loss == "minimax":
        return -tf.reduce_mean(tf.nn.softplus(f))  # log(1 - σ(f)) = -softplus(f)
    if loss == "bce":
        return tf.reduce_mean(tf.nn.softplus(-f))  # -log σ(f) = softplus(-f)
    if loss == "lsgan":
        return 0.5 * tf.reduce_mean(tf.square(f - 1.0))
    return -tf.reduce_mean(f)


def gradient_penalty(discriminator: keras.Model, real_images: Any, fake_images: Any, epsilon: Any,
                     labels: Any = None) -> tf.Tensor:
    """WGAN-GP's penalty (Gulrajani et al. 2017): mean (‖∇D(x̂)‖₂ − 1)² at x̂ = ε·real + (1 − ε)·fake.

    Args:
        discriminator: The critic.
        real_images: (N, 28, 28, 1).
        fake_images: (N, 28, 28, 1).
        epsilon: (N, 1, 1, 1) mixing weights in [0, 1].
        labels: (N,) class labels for a conditional critic, else None.

    Returns:
        A scalar tensor.
    """
    real_images, fake_images = tf.convert_to_tensor(real_images), tf.convert_to_tensor(fake_images)
    mixed = epsilon * real_images + (1.0 - epsilon) * fake_images
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        scores = discriminator(mixed if labels is None else [mixed, labels], training=True)
        if isinstance(scores, (list, tuple)):
            scores = scores[0]  # a creative discriminator's real/fake logit, not its class logits
    grads = tape.gradient(scores, mixed)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


def class_loss(class_logits: Any, labels: Any) -> tf.Tensor:
    """The discriminator's class loss on real images: mean cross-entropy −log softmax(c)[label].

    Args:
        class_logits: (N, K) class logits of real images.
        labels: (N,) their classes.

    Returns:
        A scalar tensor.
    """
    logits = tf.convert_to_tensor(class_logits, tf.float32)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(labels, tf.int32), logits))


def style_ambiguity_loss(class_logits: Any) -> tf.Tensor:
    """The generator's style-ambiguity loss (Elgammal et al. 2017): cross-entropy from the uniform distribution.

    −mean over images of (1/K) Σ_k log softmax(c)_k, the cross-entropy between the uniform
    distribution over the K classes and the discriminator's class posterior for a generated
    image. It is smallest, ln K (2.303 for ten classes), when the discriminator cannot tell
    which class the image belongs to; a generator that draws one clear class pays more.

    Args:
        class_logits: (N, K) class logits of generated images.

    Returns:
        A scalar tensor ≥ ln K.
    """
    logits = tf.convert_to_tensor(class_logits, tf.float32)
    return -tf.reduce_mean(tf.nn.log_softmax(logits, axis=-1))  # mean over N and K = mean_N (1/K) Σ_k
