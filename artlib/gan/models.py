"""The GAN networks: the TF tutorial's and artlib's generators and discriminators, optionally conditional."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402

from artlib import training  # noqa: E402  (batch_norm: synchronized over a strategy's replicas)
from artlib.errors import ArtlibError  # noqa: E402
from artlib.checks import positive_int, unit_float  # noqa: E402

__all__ = [
    "NUM_CLASSES",
    "IMAGE_SHAPE",
    "is_conditional",
    "has_class_head",
    "build_tutorial_generator",
    "build_tutorial_discriminator",
    "build_generator",
    "build_discriminator",
    "UPSAMPLING",
    "check_upsample",
]

#: Fashion-MNIST's classes, the labels a conditional GAN takes.
NUM_CLASSES = 10
#: What every generator here draws and every discriminator scores: (height, width, channels).
IMAGE_SHAPE = (28, 28, 1)


def is_conditional(model: keras.Model) -> bool:
    """Whether a generator or discriminator from this package also takes class labels (a second input).

    Args:
        model: A model from one of the builders below.

    Returns:
        True for ``[z, labels]`` or ``[images, labels]`` inputs.
    """
    return len(model.inputs) == 2


def has_class_head(discriminator: keras.Model) -> bool:
    """Whether a discriminator also outputs class logits (that of a creative adversarial network).

    Args:
        discriminator: A model from :func:`build_discriminator` or :func:`build_tutorial_discriminator`.

    Returns:
        True for ``images -> [logits, class_logits]``.
    """
    return len(discriminator.outputs) == 2


def _latent_inputs(latent_dim: int, conditional: bool, label_dim: int) -> tuple[list, Any]:
    """The generator's inputs, and z with the label embedding concatenated when conditional."""
    z = keras.Input((latent_dim,), name="z")
    if not conditional:
        return [z], z
    labels = keras.Input((), dtype="int32", name="labels")
    embedded = keras.layers.Embedding(NUM_CLASSES, label_dim, name="label_embedding")(labels)
    return [z, labels], keras.layers.Concatenate()([z, embedded])  # (N, latent_dim + label_dim)


def _generator_model(inputs: list, outputs: Any, name: str) -> keras.Model:
    """A functional model that takes z alone, or ``[z, labels]``."""
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=name)


def build_tutorial_generator(latent_dim: int = 100, *, conditional: bool = False) -> keras.Model:
    """The generator of the TensorFlow DCGAN tutorial (2.3 M parameters), as a baseline.

    Dense → 7×7×256 → ConvTranspose 128 (5×5) → 64 (5×5, stride 2) → 1 (5×5, stride 2, tanh),
    batch normalization and LeakyReLU between.

    Args:
        latent_dim: Length of z (the tutorial uses 100).
        conditional: Also take class labels (embedded and concatenated to z).

    Returns:
        A model ``z (N, latent_dim)[, labels (N,)] -> images (N, 28, 28, 1)`` in [-1, 1].

    Raises:
        ArtlibError: ``latent_dim`` is not a positive integer.
    """
    inputs, x = _latent_inputs(positive_int(latent_dim, "latent_dim"), conditional, 50)
    x = keras.layers.Dense(7 * 7 * 256, use_bias=False)(x)
    x = training.batch_norm()(x)
    x = keras.layers.LeakyReLU()(x)
    x = keras.layers.Reshape((7, 7, 256))(x)  # (N, 12544) -> (N, 7, 7, 256)
    for filters, strides in ((128, 1), (64, 2)):
        x = keras.layers.Conv2DTranspose(filters, 5, strides=strides, padding="same", use_bias=False)(x)
        x = training.batch_norm()(x)
        x = keras.layers.LeakyReLU()(x)
    x = keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")(x)
    return _generator_model(inputs, x, "tutorial_generator")


def _projection(features: Any, labels: Any, logits: Any) -> Any:
    """Projection discriminator (Miyato & Koyama 2018): logit + <embed(label), features>."""
    embedded = keras.layers.Embedding(NUM_CLASSES, features.shape[-1], name="label_projection")(labels)
    projected = keras.layers.Dot(axes=1)([embedded, features])  # (N, 1)
    return keras.layers.Add()([logits, projected])


def _discriminator_model(body: Callable[[Any], Any], conditional: bool, name: str,
                         class_head: bool = False) -> keras.Model:
    """``body`` (images -> features) with a logit head, a label projection when conditional, a class head if asked."""
    images = keras.Input(IMAGE_SHAPE, name="images")
    features = body(images)  # (N, F)
    logits = keras.layers.Dense(1, name="logit")(features)
    if class_head:  # a creative adversarial network's discriminator also names the class: [(N, 1), (N, 10)]
        return keras.Model(images, [logits, keras.layers.Dense(NUM_CLASSES, name="class_logits")(features)],
                           name=name)
    if not conditional:
        return keras.Model(images, logits, name=name)
    labels = keras.Input((), dtype="int32", name="labels")
    return keras.Model([images, labels], _projection(features, labels, logits), name=name)


def build_tutorial_discriminator(*, conditional: bool = False, dropout: float = 0.3) -> keras.Model:
    """The discriminator of the TensorFlow DCGAN tutorial (212 k parameters), as a baseline.

    Conv 64 (5×5, stride 2) → Conv 128 (5×5, stride 2), LeakyReLU and dropout, → one logit.

    Args:
        conditional: Also take class labels (projection discriminator).
        dropout: Dropout rate after each convolution (the tutorial's 0.3).

    Returns:
        A model ``images (N, 28, 28, 1)[, labels (N,)] -> logits (N, 1)``.

    Raises:
        ArtlibError: ``dropout`` is outside [0, 1).
    """
    unit_float(dropout, "dropout", one=False)

    def body(x):
        for filters in (64, 128):
            x = keras.layers.Conv2D(filters, 5, strides=2, padding="same")(x)
            x = keras.layers.LeakyReLU()(x)
            x = keras.layers.Dropout(dropout)(x)
        return keras.layers.Flatten()(x)  # (N, 7, 7, 128) -> (N, 6272)

    return _discriminator_model(body, conditional, "tutorial_discriminator")


#: How artlib's generator doubles its feature maps: ``"resize"`` (nearest-neighbour ×2, then a 3×3 convolution;
#: the default) or ``"transpose"`` (a 4×4 transposed convolution with stride 2; runs made before the choice).
UPSAMPLING = ("resize", "transpose")


def build_generator(latent_dim: int = 64, *, conditional: bool = False, width: int = 64,
                    upsample: str = "resize") -> keras.Model:
    """artlib's default DCGAN generator: small and fast on a CPU (≈ 29 M multiply-adds per image at width 64).

    Dense → 7×7×(2·width) → ×2 → width → ×2 → width/2 → Conv 1 (3×3, tanh); batch normalization
    and ReLU between. Each ×2 is, by default, a **resize-convolution** (Odena et al. 2016):
    nearest-neighbour upsampling, then a 3×3 convolution: one kernel for every output pixel, with no
    built-in checkerboard bias. ``upsample="transpose"`` uses the classic DCGAN
    transposed convolution (4×4, stride 2; ≈ 13 M multiply-adds): kernels of 4 with stride 2
    avoid the strong checkerboard of 5×5 or 3×3 ones, but a checkerboard texture can still be
    learnt, and with it the course's GANs drew hatched garments. Same recipe, 3,000 steps at width 32:
    Fréchet distance 3.8 and 4.5 resized against 9.3 and 5.8 transposed, seeds 0 and 1 (README).

    Args:
        latent_dim: Length of z.
        conditional: Also take class labels (embedded and concatenated to z).
        width: Channels of the 14×14 layer; the others scale with it.
        upsample: ``"resize"`` or ``"transpose"`` (:data:`UPSAMPLING`).

    Returns:
        A model ``z (N, latent_dim)[, labels (N,)] -> images (N, 28, 28, 1)`` in [-1, 1].

    Raises:
        ArtlibError: ``latent_dim`` is not a positive integer, ``width`` is below 2, or another ``upsample``.
    """
    width = positive_int(width, "width", minimum=2)
    upsample = check_upsample(upsample)
    inputs, x = _latent_inputs(positive_int(latent_dim, "latent_dim"), conditional, 16)
    x = keras.layers.Dense(7 * 7 * 2 * width, use_bias=False)(x)
    x = training.batch_norm()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Reshape((7, 7, 2 * width))(x)  # (N, 49·2w) -> (N, 7, 7, 2w)
    for filters in (width, width // 2):  # 7 -> 14 -> 28
        if upsample == "resize":
            x = keras.layers.UpSampling2D(2, interpolation="nearest")(x)
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        else:
            x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)
        x = training.batch_norm()(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(x)
    return _generator_model(inputs, x, "generator")


def check_upsample(upsample: Any) -> str:
    """``upsample`` if it is one of :data:`UPSAMPLING`, else an ArtlibError naming them."""
    if upsample not in UPSAMPLING:
        raise ArtlibError(f"upsample must be one of {', '.join(map(repr, UPSAMPLING))}; got {upsample!r}")
    return upsample


def build_discriminator(*, conditional: bool = False, width: int = 64, class_head: bool = False) -> keras.Model:
    """artlib's default discriminator: Conv width (4×4, stride 2) → Conv 2·width (4×4, stride 2) → logit.

    LeakyReLU(0.2), no batch normalization (so every loss, WGAN-GP included, may use
    it) and no dropout.

    Args:
        conditional: Also take class labels (projection discriminator).
        width: Channels of the first convolution.
        class_head: Also classify the image into the ten classes (a second output of
            class logits), as the discriminator of a creative adversarial network does
            (:func:`artlib.gan.step.gan_step`); not with ``conditional``.

    Returns:
        A model ``images (N, 28, 28, 1)[, labels (N,)] -> logits (N, 1)``, or with ``class_head``
        ``images -> [logits (N, 1), class_logits (N, 10)]``.

    Raises:
        ArtlibError: ``width`` is not a positive integer, or ``class_head`` with ``conditional``.
    """
    width = positive_int(width, "width")
    if class_head and conditional:
        raise ArtlibError("a discriminator with a class head is unconditional: pass conditional=False")

    def body(x):
        for filters in (width, 2 * width):
            x = keras.layers.Conv2D(filters, 4, strides=2, padding="same")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
        return keras.layers.Flatten()(x)  # (N, 7, 7, 2w) -> (N, 98w)

    return _discriminator_model(body, conditional, "discriminator", class_head)
