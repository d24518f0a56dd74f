"""The noise predictor: a small U-Net with a sinusoidal time embedding and a class embedding."""

from __future__ import annotations

import math

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.checks import positive_int, seed_value  # noqa: E402

__all__ = ["NUM_CLASSES", "NULL_CLASS", "IMAGE_SHAPE", "DEFAULT_WIDTH", "SinusoidalEmbedding", "build_unet"]

#: Fashion-MNIST's classes; label :data:`NULL_CLASS` (= 10) means "no class" (classifier-free guidance).
NUM_CLASSES = 10
NULL_CLASS = NUM_CLASSES
IMAGE_SHAPE = (28, 28, 1)
#: Channels at full resolution (14×14 and 7×7 have twice as many).
DEFAULT_WIDTH = 32


@keras.saving.register_keras_serializable(package="artlib")
class SinusoidalEmbedding(keras.layers.Layer):
    """Integer timesteps ``(N,)`` -> ``(N, dim)`` sines and cosines of geometric frequencies (Vaswani et al. 2017).

    As in Ho et al. (2020): ``[sin(t·ω_k), cos(t·ω_k)]`` with ``ω_k = 10000^(−k/(dim/2 − 1))``. No weights.
    """

    def __init__(self, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.dim = positive_int(dim, "dim", minimum=4)

    def call(self, timesteps):
        half = self.dim // 2
        frequencies = tf.exp(-math.log(10000.0) * tf.range(half, dtype=tf.float32) / (half - 1))
        angles = tf.cast(tf.reshape(timesteps, (-1, 1)), tf.float32) * frequencies[None, :]
        return tf.concat([tf.sin(angles), tf.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


def _res_block(x, embedding, channels: int, name: str):
    """GroupNorm → swish → 3×3 conv, plus the (time + class) embedding, GroupNorm → swish → 3×3 conv, plus a skip."""
    skip = x if x.shape[-1] == channels else keras.layers.Conv2D(channels, 1, name=f"{name}_skip")(x)
    h = keras.layers.GroupNormalization(8, name=f"{name}_norm1")(x)
    h = keras.layers.Activation("swish", name=f"{name}_act1")(h)
    h = keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv1")(h)
    e = keras.layers.Dense(channels, name=f"{name}_emb")(embedding)
    h = keras.layers.Add(name=f"{name}_add_emb")([h, keras.layers.Reshape((1, 1, channels), name=f"{name}_emb_hw")(e)])
    h = keras.layers.GroupNormalization(8, name=f"{name}_norm2")(h)
    h = keras.layers.Activation("swish", name=f"{name}_act2")(h)
    h = keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv2")(h)
    return keras.layers.Add(name=f"{name}_out")([skip, h])


def build_unet(width: int = DEFAULT_WIDTH, *, seed: int = 0, name: str = "diffusion_unet") -> keras.Model:
    """ε_θ(x_t, t, c): ``[images N×28×28×1, timesteps (N,), labels (N,)]`` -> predicted noise ``N×28×28×1``.

    Three levels (28², 14², 7²) with ``width``, 2·``width`` and 2·``width`` channels, one residual block per level
    on the way down and one on the way up (with the skip concatenated), each told the noise level and the class
    through a learned embedding of the sinusoidal time features plus a class embedding (label
    :data:`NULL_CLASS` = no class, for classifier-free guidance). The last convolution starts at zero, so an
    untrained model predicts no noise. Width 32: about 0.5 M weights.

    Args:
        width: Channels at 28×28 (≥ 8, a multiple of 8 for the group norms).
        seed: Seeds the initial weights.
        name: The model's name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ArtlibError: A width below 8 or not a multiple of 8.
    """
    seed = seed_value(seed)
    width = positive_int(width, "width", minimum=8)
    if width % 8:
        from artlib.errors import ArtlibError

        raise ArtlibError(f"width must be a multiple of 8 (the group norms use 8 groups); got {width}")
    keras.utils.set_random_seed(seed)
    images = keras.Input(IMAGE_SHAPE, name="images")
    timesteps = keras.Input((), dtype="int32", name="timesteps")
    labels = keras.Input((), dtype="int32", name="labels")
    dim = 4 * width
    t = SinusoidalEmbedding(width, name="time_features")(timesteps)
    t = keras.layers.Dense(dim, activation="swish", name="time_dense1")(t)
    t = keras.layers.Dense(dim, name="time_dense2")(t)
    c = keras.layers.Embedding(NUM_CLASSES + 1, dim, name="class_embedding")(labels)
    embedding = keras.layers.Activation("swish", name="embedding")(keras.layers.Add(name="time_plus_class")([t, c]))

    x = keras.layers.Conv2D(width, 3, padding="same", name="stem")(images)                 # 28×28×w
    d1 = _res_block(x, embedding, width, "down1")                                           # 28×28×w
    x = keras.layers.Conv2D(2 * width, 3, strides=2, padding="same", name="downsample1")(d1)  # 14×14×2w
    d2 = _res_block(x, embedding, 2 * width, "down2")
    x = keras.layers.Conv2D(2 * width, 3, strides=2, padding="same", name="downsample2")(d2)  # 7×7×2w
    x = _res_block(x, embedding, 2 * width, "middle")
    x = keras.layers.UpSampling2D(2, name="upsample2")(x)                                     # 14×14×2w
    x = _res_block(keras.layers.Concatenate(name="skip2")([x, d2]), embedding, 2 * width, "up2")
    x = keras.layers.UpSampling2D(2, name="upsample1")(x)                                     # 28×28×2w
    x = _res_block(keras.layers.Concatenate(name="skip1")([x, d1]), embedding, width, "up1")
    x = keras.layers.GroupNormalization(8, name="out_norm")(x)
    x = keras.layers.Activation("swish", name="out_act")(x)
    noise = keras.layers.Conv2D(1, 3, padding="same", kernel_initializer="zeros", name="noise")(x)
    return keras.Model([images, timesteps, labels], noise, name=name)
