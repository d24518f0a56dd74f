"""The restorers' networks: the tutorial autoencoder, the U-Net denoiser, the compression
autoencoder with its quantized code, the photo denoiser; saving and loading them.

Inputs and outputs are ``(N, H, W, C)`` in [0, 1]; every builder works under
:func:`artlib.training.get_strategy`'s scope, so it runs unchanged on several devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras

from artlib import config, modelio, training
from artlib.checks import positive_int, seed_value
from artlib.training.replicas import draw_for_replica  # not training.…: call() has a training argument

__all__ = ["PRETRAINED_DIR", "QuantizedLatent", "build_tutorial_autoencoder", "unet", "build_denoiser",
           "build_autoencoder", "build_photo_denoiser", "save_model", "load_model"]

#: The shipped trained models (``fashion_denoiser.keras``, ``photo_denoiser.keras`` …).
PRETRAINED_DIR = config.PRETRAINED_DIR


@keras.saving.register_keras_serializable(package="artlib")
class QuantizedLatent(keras.layers.Layer):
    """Round numbers in [0, 1] to ``bits`` bits; in training, add the rounding error as noise instead.

    Rounding has no useful gradient, so during training the layer adds uniform
    noise of one quantization step (the standard stand-in, Ballé et al. 2017);
    at inference it rounds for real, so the decoder sees exactly what a file
    with ``bits`` bits per number would hold.

    Input/output: ``(N, latent_dim)`` in [0, 1].

    Args:
        bits: Bits per number (1 or more).
        seed: Seed of the training noise.
        **kwargs: ``keras.layers.Layer``'s arguments (``name`` …).

    Raises:
        ArtlibError: ``bits`` is 0 or below.

    Example:
        >>> QuantizedLatent(bits=1)(np.array([[0.2, 0.7]])).numpy()
        array([[0., 1.]], dtype=float32)
    """

    def __init__(self, bits: int = 8, seed: int | None = None, **kwargs: Any) -> None:
        seed = None if seed is None else seed_value(seed)
        positive_int(bits, "bits")
        super().__init__(**kwargs)
        self.bits = int(bits)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        levels = float(2**self.bits - 1)
        if training:
            noise = draw_for_replica(keras.random.uniform, keras.ops.shape(inputs), minval=-0.5, maxval=0.5,
                                     seed=self.seed_generator)  # a replica's rows of the global batch's noise
            return inputs + noise / levels
        return keras.ops.round(inputs * levels) / levels

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bits": self.bits, "seed": self.seed}


def build_tutorial_autoencoder(input_shape: Sequence[int] = (28, 28, 1)) -> keras.Model:
    """The convolutional autoencoder of the TF tutorial "Intro to Autoencoders" (the baseline).

    Encoder: Conv2D(16, 3, stride 2) → Conv2D(8, 3, stride 2), ReLU; decoder:
    Conv2DTranspose(8) → Conv2DTranspose(16), stride 2, ReLU → Conv2D(1, 3), sigmoid.

    Args:
        input_shape: ``(H, W, C)``, H and W divisible by 4.

    Returns:
        ``keras.Model`` named ``tutorial_autoencoder``: ``(N, H, W, C)`` → ``(N, H, W, C)``.
    """
    layers = keras.layers
    with training.get_strategy().scope():
        images = keras.Input(tuple(input_shape), name="images")
        x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(images)  # H/2
        x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)  # H/4 × W/4 × 8
        x = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(x)
        x = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(x)
        outputs = layers.Conv2D(input_shape[-1], 3, padding="same", activation="sigmoid")(x)
        return keras.Model(images, outputs, name="tutorial_autoencoder")


def _conv_block(x: Any, filters: int, name: str) -> Any:
    """Two 3×3 convolutions with ReLU, named ``{name}_conv1`` and ``{name}_conv2``."""
    for i in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{i}")(x)
    return x


def unet(images: Any, filters: int, depth: int, *, features: Any = None) -> Any:
    """U-Net body: ``depth`` halvings, skip connections, output = clip(input + correction).

    Args:
        images: The symbolic input ``(N, H, W, C)`` in [0, 1] that the correction is added to.
        filters: Filters of the first level (doubling at each level).
        depth: Number of halvings.
        features: What the convolutions see, if not ``images`` (e.g. the images with a σ map).

    Returns:
        The restored images, symbolic ``(N, H, W, C)`` clipped to [0, 1].
    """
    layers = keras.layers
    skips, x = [], images if features is None else features
    for level in range(depth):
        x = _conv_block(x, filters * 2**level, f"down{level}")
        skips.append(x)
        x = layers.MaxPooling2D(name=f"pool{level}")(x)  # H, W halve
    x = _conv_block(x, filters * 2**depth, "bottleneck")
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(filters * 2**level, 2, strides=2, name=f"up{level}")(x)  # H, W double
        x = layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = _conv_block(x, filters * 2**level, f"decode{level}")
    correction = layers.Conv2D(images.shape[-1], 1, name="correction")(x)
    restored = layers.Add(name="residual")([images, correction])
    return layers.ReLU(max_value=1.0, name="clip_0_1")(restored)  # clip to [0, 1]


def build_denoiser(input_shape: Sequence[int | None] = (28, 28, 1), *, filters: int = 32,
                   depth: int = 2) -> keras.Model:
    """artlib's default restorer: a small U-Net with skip connections and a residual output.

    The encoder halves the image ``depth`` times (doubling the filters), the
    decoder doubles it back, and skip connections hand each decoder level the
    encoder's features at the same size, so fine detail does not have to squeeze
    through the bottleneck. The network predicts a correction that is added to
    its input and the sum is clipped to [0, 1].

    Args:
        input_shape: ``(H, W, C)``; H and W divisible by ``2**depth`` (or None for any size).
        filters: Filters of the first level (doubling at each level).
        depth: Number of halvings.

    Returns:
        ``keras.Model`` named ``denoiser``: ``(N, H, W, C)`` → ``(N, H, W, C)`` in [0, 1].

    Example:
        >>> build_denoiser(filters=8)(np.zeros((2, 28, 28, 1))).shape
        TensorShape([2, 28, 28, 1])

    Raises:
        ArtlibError: ``filters`` or ``depth`` is 0 or below.
    """
    positive_int(filters, "filters")
    positive_int(depth, "depth")
    with training.get_strategy().scope():
        images = keras.Input(tuple(input_shape), name="images")
        return keras.Model(images, unet(images, filters, depth), name="denoiser")


def build_autoencoder(latent_dim: int = 32, *, bits: int = 8, input_shape: Sequence[int] = (28, 28, 1),
                      filters: int = 32, seed: int | None = None) -> keras.Model:
    """A convolutional autoencoder with a ``latent_dim``-number bottleneck, quantized to ``bits`` bits.

    Encoder: two strided convolutions → Dense(latent_dim) → batch norm → sigmoid → quantization
    (without the batch norm a small code collapsed to one value for every image in training).
    Decoder: Dense → reshape to ``H/4 × W/4`` → two transposed convolutions → sigmoid.
    The image is stored as ``latent_dim × bits`` bits (see :func:`latent_bits`).

    Args:
        latent_dim: Numbers in the code (the bottleneck).
        bits: Bits per number after quantization (:class:`QuantizedLatent`).
        input_shape: ``(H, W, C)``, H and W divisible by 4.
        filters: Filters of the first convolution (doubled in the second).
        seed: Seed of the quantization noise used in training.

    Returns:
        ``keras.Model`` named ``autoencoder``: ``(N, H, W, C)`` → ``(N, H, W, C)`` in [0, 1];
        its parts are ``model.get_layer("encoder")`` (→ ``(N, latent_dim)`` in [0, 1],
        quantized) and ``model.get_layer("decoder")``.

    Raises:
        ArtlibError: ``latent_dim``, ``bits`` or ``filters`` is 0 or below.
    """
    seed = None if seed is None else seed_value(seed)
    positive_int(latent_dim, "latent_dim")
    positive_int(filters, "filters")
    layers = keras.layers
    height, width, channels = input_shape
    with training.get_strategy().scope():
        images = keras.Input(tuple(input_shape), name="images")
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(images)  # H/2
        x = layers.Conv2D(2 * filters, 3, strides=2, padding="same", activation="relu")(x)  # H/4
        x = layers.Flatten()(x)  # (N, H/4 · W/4 · 2·filters)
        # Batch-normalized before the sigmoid. Measured without it: a small code (latent_dim 4 or 8) became
        # the same for every image within the first hundred steps (0 bits; the decoder drew the mean image),
        # at learning rate 2e-3 and 5e-4 alike; with it, the code keeps describing the image.
        code = layers.Dense(latent_dim, name="code")(x)
        code = training.batch_norm(name="code_norm")(code)  # synchronized over several replicas
        code = layers.Activation("sigmoid", name="code_sigmoid")(code)
        code = QuantizedLatent(bits, seed=seed, name="quantize")(code)
        encoder = keras.Model(images, code, name="encoder")

        latent = keras.Input((latent_dim,), name="latent")
        x = layers.Dense(height // 4 * width // 4 * 2 * filters, activation="relu")(latent)
        x = layers.Reshape((height // 4, width // 4, 2 * filters))(x)  # (N, H/4, W/4, 2·filters)
        x = layers.Conv2DTranspose(2 * filters, 3, strides=2, padding="same", activation="relu")(x)
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
        outputs = layers.Conv2D(channels, 3, padding="same", activation="sigmoid")(x)
        decoder = keras.Model(latent, outputs, name="decoder")
        return keras.Model(images, decoder(encoder(images)), name="autoencoder")


def build_photo_denoiser(*, filters: int = 24, depth: int = 2) -> keras.Model:
    """A fully convolutional colour-photo denoiser told the noise level (like FFDNet).

    Inputs are the noisy photo and σ as a one-channel map of the same size; the
    U-Net (:func:`unet`, :func:`build_denoiser`'s body) sees both and corrects the photo.

    Args:
        filters: Filters of the first level.
        depth: Number of halvings; H and W must be divisible by ``2**depth``
            (:func:`denoise_photo` pads any photo for you).

    Returns:
        ``keras.Model`` named ``photo_denoiser``:
        ``[(N, H, W, 3) in [0, 1], (N, H, W, 1) σ]`` → ``(N, H, W, 3)`` in [0, 1].

    Raises:
        ArtlibError: ``filters`` or ``depth`` is 0 or below.
    """
    positive_int(filters, "filters")
    positive_int(depth, "depth")
    with training.get_strategy().scope():
        images = keras.Input((None, None, 3), name="images")
        sigma_map = keras.Input((None, None, 1), name="sigma")
        with_sigma = keras.layers.Concatenate(name="with_sigma")([images, sigma_map])  # (N, H, W, 4)
        restored = unet(images, filters, depth, features=with_sigma)
        return keras.Model([images, sigma_map], restored, name="photo_denoiser")


def save_model(model: keras.Model, path: str | Path) -> Path:
    """Save a restorer as ``.keras`` without its optimizer state (a third of the size, for shipping).

    Args:
        model: A restorer.
        path: The ``.keras`` file to write (replaced atomically if it exists).

    Returns:
        The path written.

    Raises:
        ArtlibError: ``path`` does not end in ``.keras``.
    """
    return modelio.save_model(model, path)


def load_model(path: str | Path) -> keras.Model:
    """Load a saved restorer (``.keras``) with ``safe_mode=True``, uncompiled.

    Args:
        path: The ``.keras`` file.

    Returns:
        The model.

    Raises:
        DataError: The file is missing or cannot be read as a Keras model (the message names it).
    """
    return modelio.load_model(path, what="model", fix="delete it and train or fetch it again")
