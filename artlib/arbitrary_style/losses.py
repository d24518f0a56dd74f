"""AdaIN's training losses, and the optional adversarial term with its patch discriminator."""

from __future__ import annotations

from collections.abc import Mapping

import keras
import tensorflow as tf

from artlib.checks import positive_int, seed_value
from artlib.arbitrary_style.adain import channel_moments
from artlib.fast_style.network import ReflectionPadding2D

__all__ = ["content_loss", "moment_loss", "build_patch_discriminator", "discriminator_loss", "adversarial_loss"]


def content_loss(output_features: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Mean square between the output's features at the AdaIN layer and AdaIN's target ``t`` (not the content's)."""
    return tf.reduce_mean(tf.square(output_features - target))


def moment_loss(output_features: Mapping[str, tf.Tensor], style_moments: Mapping[str, tuple[tf.Tensor, tf.Tensor]],
                layers: tuple[str, ...]) -> tf.Tensor:
    """Σ over layers of the mean square gaps between the output's and the style's channel means and stds."""
    total = 0.0
    for name in layers:
        mean, std = channel_moments(output_features[name])
        target_mean, target_std = style_moments[name]
        total += tf.reduce_mean(tf.square(mean - target_mean)) + tf.reduce_mean(tf.square(std - target_std))
    return total


def build_patch_discriminator(width: int = 32, *, seed: int = 0, name: str = "patch_discriminator") -> keras.Model:
    """A PatchGAN critic (Isola et al. 2017): pixels ``N×H×W×3`` in [0, 1] -> one score per 38-pixel patch (its receptive field).

    Three stride-2 4×4 convolutions (``width``, 2×, 4× channels) with leaky ReLU, then a 3×3 convolution to
    one channel. No normalization, as in the decoder.

    Raises:
        ArtlibError: ``width`` not a positive integer, or ``seed`` not a seed.
    """
    seed = seed_value(seed)
    width = positive_int(width, "width")
    images = keras.Input((None, None, 3), name="images")
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_minus_one_one")(images)
    for i, filters in enumerate((width, 2 * width, 4 * width)):
        x = keras.layers.Conv2D(filters, 4, strides=2, padding="same", name=f"conv{i}",
                                kernel_initializer=keras.initializers.HeNormal(seed=seed * 100 + i))(x)
        x = keras.layers.LeakyReLU(0.2, name=f"lrelu{i}")(x)
    x = ReflectionPadding2D(1, name="score_pad")(x)
    scores = keras.layers.Conv2D(1, 3, padding="valid", name="score",
                                 kernel_initializer=keras.initializers.HeNormal(seed=seed * 100 + 9))(x)
    return keras.Model(images, scores, name=name)


def discriminator_loss(real_scores: tf.Tensor, fake_scores: tf.Tensor) -> tf.Tensor:
    """Least-squares GAN (Mao et al. 2017): real patches towards 1, stylized ones towards 0."""
    return 0.5 * (tf.reduce_mean(tf.square(real_scores - 1.0)) + tf.reduce_mean(tf.square(fake_scores)))


def adversarial_loss(fake_scores: tf.Tensor) -> tf.Tensor:
    """The decoder's side: stylized patches scored as real (towards 1)."""
    return tf.reduce_mean(tf.square(fake_scores - 1.0))
