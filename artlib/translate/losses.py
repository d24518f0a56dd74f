"""CycleGAN's loss terms (Zhu et al. 2017): LSGAN for both directions, cycle consistency and identity.

With G: A → B, F: B → A and the discriminators D_A, D_B (patch maps of logits):

* adversarial (LSGAN, Mao et al. 2017): G minimises mean (D_B(G(a)) − 1)²; D_B minimises
  ½·[mean (D_B(b) − 1)² + mean D_B(G(a))²] (the paper halves the discriminator's objective);
  the same for F and D_A;
* cycle consistency: mean |F(G(a)) − a| + mean |G(F(b)) − b| (L1), weighted by λ_cycle = 10;
* identity: mean |G(b) − b| + mean |F(a) − a|, weighted by λ_id = 0.5·λ_cycle (the paper's
  choice for photo ↔ painting; it keeps a generator from changing an image that is already
  of its target class).

Every function returns a scalar float32 tensor (a mean over the batch and every pixel or patch).
"""

from __future__ import annotations

from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before TensorFlow is imported)

import tensorflow as tf  # noqa: E402

__all__ = ["CYCLE_WEIGHT", "IDENTITY_SHARE", "generator_adversarial_loss", "discriminator_loss", "cycle_loss",
           "identity_loss"]

#: λ_cycle of the paper.
CYCLE_WEIGHT = 10.0
#: λ_id = IDENTITY_SHARE · λ_cycle, as in the paper.
IDENTITY_SHARE = 0.5


def _float(x: Any) -> tf.Tensor:
    return tf.cast(tf.convert_to_tensor(x), tf.float32)


def _l1(a: Any, b: Any) -> tf.Tensor:
    """mean |a − b| over every element."""
    return tf.reduce_mean(tf.abs(_float(a) - _float(b)))


def generator_adversarial_loss(fake_logits: Any) -> tf.Tensor:
    """LSGAN's generator term: mean (D(G(x)) − 1)² over the batch and the patch map.

    Args:
        fake_logits: The discriminator's patch map on generated images, e.g. (N, 7, 7, 1).

    Returns:
        A scalar: 0 when every patch is scored "real" (1).
    """
    return tf.reduce_mean(tf.square(_float(fake_logits) - 1.0))


def discriminator_loss(real_logits: Any, fake_logits: Any) -> tf.Tensor:
    """LSGAN's discriminator term, halved as in the paper: ½·[mean (D(y) − 1)² + mean D(G(x))²].

    Args:
        real_logits: The patch map on real images of the discriminator's class.
        fake_logits: The patch map on generated images of that class.

    Returns:
        A scalar: 0 when real patches score 1 and generated ones 0.
    """
    return 0.5 * (tf.reduce_mean(tf.square(_float(real_logits) - 1.0)) + tf.reduce_mean(tf.square(_float(fake_logits))))


def cycle_loss(images: Any, reconstructed: Any) -> tf.Tensor:
    """Cycle consistency for one direction: mean |F(G(x)) − x| (L1, pixels in [-1, 1]).

    Args:
        images: The inputs x, (N, 28, 28, 1).
        reconstructed: After the round trip, the same shape.

    Returns:
        A scalar (multiply by λ_cycle).
    """
    return _l1(reconstructed, images)


def identity_loss(images: Any, mapped: Any) -> tf.Tensor:
    """The identity term for one generator: mean |G(y) − y| for y already of G's target class.

    Args:
        images: Images y of the generator's target class.
        mapped: The generator's output on them.

    Returns:
        A scalar (multiply by λ_id).
    """
    return _l1(mapped, images)
