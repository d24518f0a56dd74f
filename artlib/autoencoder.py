"""Autoencoders that restore images: denoising, compression, inpainting, super-resolution.

An autoencoder is an *encoder* that squeezes an image into a smaller code and a
*decoder* that rebuilds the image from it, trained so that the rebuilt image is
close to the original (mean squared error). Feed it a *damaged* image and ask
for the clean one and it learns to restore: that is the denoising autoencoder.

The pieces, each usable on its own::

    denoiser = build_denoiser()                             # artlib's default (a small U-Net)
    baseline = build_tutorial_autoencoder()                 # the TF tutorial's model, for comparison
    history = train(denoiser, x_train, noise=make_noise("gaussian", sigma=(0.0, 0.55)),
                    num_epochs=10, run_dir="runs/denoiser")
    table = evaluate_denoisers({"artlib": denoiser, "tutorial": baseline}, x_test,
                               validation_images=x_val)     # PSNR/SSIM vs scikit-image
    print(format_table(table))

**Damage models** (``NOISE_MODELS``) are ``tf.data``-friendly functions
``noise_fn(images, seed) -> damaged`` of a float batch ``(N, H, W, C)`` in [0, 1]
and a stateless seed (two integers); the result is clipped to [0, 1]. The
training pipeline calls them with ``seed = (seed, step)``, so every batch gets
fresh noise that is nevertheless reproducible (and the same after a resume).

**Models** (inputs and outputs ``(N, H, W, C)`` in [0, 1]):

* :func:`build_tutorial_autoencoder`: the convolutional autoencoder of the
  TensorFlow tutorial "Intro to Autoencoders" (two strided convolutions down to
  7×7×8, two transposed convolutions up), 28×28×1, ~3 k parameters;
* :func:`build_denoiser`: artlib's default, a small U-Net whose skip connections
  carry the fine detail past the bottleneck, and which predicts the *correction*
  to its input (residual learning); any size divisible by 4, any channel count;
* :func:`build_autoencoder`: an autoencoder with a ``latent_dim``-number
  bottleneck squeezed into [0, 1] and quantized to ``bits`` bits per number, for
  the compression experiments (:func:`rate_distortion`);
* :func:`build_photo_denoiser`: a fully convolutional denoiser for colour photos
  of any size that also takes the noise level σ (as FFDNet does); the shipped
  one is ``data/pretrained/photo_denoiser.keras`` (:func:`load_photo_denoiser`).

Measures follow ``DESIGN.md``: PSNR with data range 1, SSIM as ``tf.image.ssim``
(both from :mod:`artlib.metrics`), noisy inputs clipped to [0, 1], classical
denoisers tuned per noise level on a validation split, never on the test set.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from artlib import config  # sets KERAS_BACKEND before Keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import metrics, training  # noqa: E402
from artlib.errors import ArtlibError, DataError, ImageError  # noqa: E402

__all__ = [
    "NOISE_MODELS",
    "SIGMAS",
    "CLASSICAL_DENOISERS",
    "PRETRAINED_DIR",
    "PHOTO_DENOISER_PATH",
    "HELD_OUT_PHOTOS",
    "gaussian_noise",
    "salt_and_pepper_noise",
    "speckle_noise",
    "box_mask",
    "low_resolution",
    "make_noise",
    "QuantizedLatent",
    "build_tutorial_autoencoder",
    "build_denoiser",
    "build_autoencoder",
    "build_photo_denoiser",
    "as_images",
    "restoration_dataset",
    "train",
    "restore",
    "classical_denoise",
    "tune_classical",
    "evaluate_denoisers",
    "format_table",
    "latent_bits",
    "jpeg_round_trip",
    "jpeg_rate_distortion",
    "rate_distortion",
    "plot_rate_distortion",
    "photo_patches",
    "train_photo_denoiser",
    "estimate_sigma",
    "denoise_photo",
    "evaluate_photo_denoiser",
    "save_model",
    "load_model",
    "load_photo_denoiser",
]

#: The noise levels of the evaluation table (Gaussian σ on [0, 1] pixels).
SIGMAS = (0.1, 0.2, 0.3, 0.5)
PRETRAINED_DIR = config.REPO_ROOT / "data" / "pretrained"
PHOTO_DENOISER_PATH = PRETRAINED_DIR / "photo_denoiser.keras"
#: Photos the photo denoiser never trains on: its evaluation set.
HELD_OUT_PHOTOS = ("chelsea", "coffee")


# ----------------------------------------------------------------------------- damage models
def _sigma_per_image(sigma: float | tuple[float, float], images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """σ as a ``(N, 1, 1, 1)`` tensor: a constant, or drawn uniformly per image from a range."""
    if isinstance(sigma, (tuple, list)):
        low, high = sigma
        batch = tf.shape(images)[0]
        return tf.random.stateless_uniform([batch, 1, 1, 1], seed, low, high)
    return tf.constant(float(sigma), tf.float32)


def _seeds(seed: Any) -> tuple[tf.Tensor, tf.Tensor]:
    """Two independent stateless seeds derived from one (two integers)."""
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    pair = tf.random.experimental.stateless_split(seed, num=2)
    return pair[0], pair[1]


def gaussian_noise(images: Any, seed: Any, sigma: float | tuple[float, float] = 0.2) -> tf.Tensor:
    """Add Gaussian noise of standard deviation σ and clip to [0, 1].

    Args:
        images: Float batch ``(N, H, W, C)`` in [0, 1].
        seed: Stateless seed, two integers (same seed, same noise).
        sigma: σ on [0, 1] pixels, or a ``(low, high)`` range to draw σ per image.

    Returns:
        The noisy batch, same shape, float32 in [0, 1].
    """
    images = tf.convert_to_tensor(images, tf.float32)
    seed_sigma, seed_noise = _seeds(seed)
    noise = tf.random.stateless_normal(tf.shape(images), seed_noise)
    return tf.clip_by_value(images + _sigma_per_image(sigma, images, seed_sigma) * noise, 0.0, 1.0)


def salt_and_pepper_noise(images: Any, seed: Any, amount: float = 0.1) -> tf.Tensor:
    """Set a share ``amount`` of the pixels to 0 or 1 (half each), as ``skimage.util.random_noise``.

    Args:
        images: Float batch ``(N, H, W, C)`` in [0, 1].
        seed: Stateless seed, two integers.
        amount: Share of pixels replaced, in [0, 1].

    Returns:
        The damaged batch, same shape, float32 in [0, 1].
    """
    images = tf.convert_to_tensor(images, tf.float32)
    seed_where, seed_which = _seeds(seed)
    hit = tf.random.stateless_uniform(tf.shape(images), seed_where) < amount
    salt = tf.cast(tf.random.stateless_uniform(tf.shape(images), seed_which) < 0.5, tf.float32)
    return tf.where(hit, salt, images)


def speckle_noise(images: Any, seed: Any, sigma: float | tuple[float, float] = 0.2) -> tf.Tensor:
    """Multiplicative noise ``x + x·σ·n`` with n ~ N(0, 1), clipped (``skimage``'s "speckle").

    Args:
        images: Float batch ``(N, H, W, C)`` in [0, 1].
        seed: Stateless seed, two integers.
        sigma: σ, or a ``(low, high)`` range drawn per image.

    Returns:
        The noisy batch, same shape, float32 in [0, 1].
    """
    images = tf.convert_to_tensor(images, tf.float32)
    seed_sigma, seed_noise = _seeds(seed)
    noise = tf.random.stateless_normal(tf.shape(images), seed_noise)
    return tf.clip_by_value(images * (1.0 + _sigma_per_image(sigma, images, seed_sigma) * noise), 0.0, 1.0)


def box_mask(images: Any, seed: Any, num_boxes: int = 1, max_fraction: float = 0.5,
             fill: float = 0.5) -> tf.Tensor:
    """Hide ``num_boxes`` random rectangles per image under a flat ``fill`` (for inpainting).

    Each box's sides are drawn uniformly between 1/4 and ``max_fraction`` of the
    image's sides, its position uniformly inside the image.

    Args:
        images: Float batch ``(N, H, W, C)`` in [0, 1].
        seed: Stateless seed, two integers.
        num_boxes: Boxes per image.
        max_fraction: Largest box side as a fraction of the image side.
        fill: The gray level of the hidden pixels.

    Returns:
        The masked batch, same shape, float32 in [0, 1].
    """
    images = tf.convert_to_tensor(images, tf.float32)
    shape = tf.shape(images)
    height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    u = tf.random.stateless_uniform([shape[0], num_boxes, 4], seed)  # (N, boxes, 4) in [0, 1)
    box_h = height * (0.25 + (max_fraction - 0.25) * u[..., 0])
    box_w = width * (0.25 + (max_fraction - 0.25) * u[..., 1])
    top = (height - box_h) * u[..., 2]
    left = (width - box_w) * u[..., 3]
    rows = tf.range(height)[None, None, :, None]  # (1, 1, H, 1)
    cols = tf.range(width)[None, None, None, :]  # (1, 1, 1, W)
    inside = ((rows >= top[..., None, None]) & (rows < (top + box_h)[..., None, None])
              & (cols >= left[..., None, None]) & (cols < (left + box_w)[..., None, None]))  # (N, boxes, H, W)
    hidden = tf.reduce_any(inside, axis=1)[..., None]  # (N, H, W, 1)
    return tf.where(hidden, tf.constant(fill, tf.float32), images)


def low_resolution(images: Any, seed: Any = None, factor: int = 2) -> tf.Tensor:
    """Shrink by ``factor`` (area average) and enlarge back with bicubic interpolation.

    The result is the *bicubic baseline* of super-resolution (e.g. 14→28 for
    Fashion-MNIST); a model trained to restore it does better than bicubic.

    Args:
        images: Float batch ``(N, H, W, C)`` in [0, 1], H and W divisible by ``factor``.
        seed: Ignored (the damage is deterministic); there so that every damage
            model has the same signature.
        factor: The down-scaling factor.

    Returns:
        The blurred batch, same shape, float32 in [0, 1].
    """
    del seed
    images = tf.convert_to_tensor(images, tf.float32)
    size = tf.shape(images)[1:3]
    small = tf.image.resize(images, size // factor, method="area")
    return tf.clip_by_value(tf.image.resize(small, size, method="bicubic"), 0.0, 1.0)


#: Damage name -> function ``(images, seed, **params) -> damaged``.
NOISE_MODELS: dict[str, Callable[..., tf.Tensor]] = {
    "gaussian": gaussian_noise,
    "salt_and_pepper": salt_and_pepper_noise,
    "speckle": speckle_noise,
    "boxes": box_mask,
    "low_resolution": low_resolution,
}


def make_noise(kind: str, **params: Any) -> Callable[[Any, Any], tf.Tensor]:
    """A damage function ``noise_fn(images, seed)`` with its parameters fixed.

    Args:
        kind: A key of :data:`NOISE_MODELS` (``"gaussian"``, ``"salt_and_pepper"``,
            ``"speckle"``, ``"boxes"``, ``"low_resolution"``).
        **params: That function's parameters, e.g. ``sigma=0.2`` or ``sigma=(0.0, 0.5)``.

    Raises:
        ArtlibError: An unknown kind.

    Example:
        >>> noisy = make_noise("gaussian", sigma=0.3)(np.zeros((2, 28, 28, 1)), seed=(0, 1))
    """
    if kind not in NOISE_MODELS:
        raise ArtlibError(f"unknown noise kind {kind!r}; choose one of {', '.join(NOISE_MODELS)}")
    function = NOISE_MODELS[kind]

    def noise_fn(images: Any, seed: Any) -> tf.Tensor:
        return function(images, seed, **params)

    noise_fn.__name__ = f"{kind}({', '.join(f'{k}={v}' for k, v in params.items())})"
    return noise_fn


# ----------------------------------------------------------------------------- models
@keras.saving.register_keras_serializable(package="artlib")
class QuantizedLatent(keras.layers.Layer):
    """Round numbers in [0, 1] to ``bits`` bits; in training, add the rounding error as noise instead.

    Rounding has no useful gradient, so during training the layer adds uniform
    noise of one quantization step (the standard stand-in, Ballé et al. 2017);
    at inference it rounds for real, so the decoder sees exactly what a file
    with ``bits`` bits per number would hold.

    Input/output: ``(N, latent_dim)`` in [0, 1].
    """

    def __init__(self, bits: int = 8, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bits = int(bits)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        levels = float(2**self.bits - 1)
        if training:
            noise = keras.random.uniform(keras.ops.shape(inputs), -0.5, 0.5, seed=self.seed_generator)
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
    for i in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{i}")(x)
    return x


def _unet(images: Any, filters: int, depth: int) -> Any:
    """U-Net body: ``depth`` halvings, skip connections, output = clip(input + correction)."""
    layers = keras.layers
    skips, x = [], images
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
    """
    with training.get_strategy().scope():
        images = keras.Input(tuple(input_shape), name="images")
        return keras.Model(images, _unet(images, filters, depth), name="denoiser")


def build_autoencoder(latent_dim: int = 32, *, bits: int = 8, input_shape: Sequence[int] = (28, 28, 1),
                      filters: int = 32, seed: int | None = None) -> keras.Model:
    """A convolutional autoencoder with a ``latent_dim``-number bottleneck, quantized to ``bits`` bits.

    Encoder: two strided convolutions → Dense(latent_dim, sigmoid) → quantization.
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
    """
    layers = keras.layers
    height, width, channels = input_shape
    with training.get_strategy().scope():
        images = keras.Input(tuple(input_shape), name="images")
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(images)  # H/2
        x = layers.Conv2D(2 * filters, 3, strides=2, padding="same", activation="relu")(x)  # H/4
        x = layers.Flatten()(x)  # (N, H/4 · W/4 · 2·filters)
        code = layers.Dense(latent_dim, activation="sigmoid", name="code")(x)
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
    U-Net (:func:`build_denoiser`'s body) sees both and corrects the photo.

    Args:
        filters: Filters of the first level.
        depth: Number of halvings; H and W must be divisible by ``2**depth``
            (:func:`denoise_photo` pads any photo for you).

    Returns:
        ``keras.Model`` named ``photo_denoiser``:
        ``[(N, H, W, 3) in [0, 1], (N, H, W, 1) σ]`` → ``(N, H, W, 3)`` in [0, 1].
    """
    layers = keras.layers
    with training.get_strategy().scope():
        images = keras.Input((None, None, 3), name="images")
        sigma_map = keras.Input((None, None, 1), name="sigma")
        x = layers.Concatenate(name="with_sigma")([images, sigma_map])  # (N, H, W, 4)
        skips = []
        for level in range(depth):
            x = _conv_block(x, filters * 2**level, f"down{level}")
            skips.append(x)
            x = layers.MaxPooling2D(name=f"pool{level}")(x)
        x = _conv_block(x, filters * 2**depth, "bottleneck")
        for level in reversed(range(depth)):
            x = layers.Conv2DTranspose(filters * 2**level, 2, strides=2, name=f"up{level}")(x)
            x = layers.Concatenate(name=f"skip{level}")([x, skips[level]])
            x = _conv_block(x, filters * 2**level, f"decode{level}")
        correction = layers.Conv2D(3, 1, name="correction")(x)
        restored = layers.ReLU(max_value=1.0, name="clip_0_1")(layers.Add(name="residual")([images, correction]))
        return keras.Model([images, sigma_map], restored, name="photo_denoiser")


# ----------------------------------------------------------------------------- data and training
def as_images(images: Any, name: str = "images") -> np.ndarray:
    """A batch as float32 ``(N, H, W, C)`` in [0, 1]: uint8 is scaled, ``(N, H, W)`` gets a channel.

    Raises:
        ImageError: Not a batch of images (wrong rank, empty, non-finite or outside [0, 1]).
    """
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[..., np.newaxis]  # (N, H, W) -> (N, H, W, 1)
    if array.ndim != 4 or array.size == 0:
        raise ImageError(f"{name}: expected a batch (N, H, W) or (N, H, W, C), got shape {array.shape}")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
        raise ImageError(f"{name}: pixels must be finite and in [0, 1] (or uint8); got "
                         f"{np.nanmin(array):.3g}…{np.nanmax(array):.3g}")
    return array


def restoration_dataset(images: Any, noise_fn: Callable[[Any, Any], Any], *, batch_size: int,
                        seed: int = 0, start_epoch: int = 0) -> tf.data.Dataset:
    """An endless ``tf.data`` stream of ``(damaged, clean)`` batches, fresh noise every batch.

    Epoch ``e``'s order is a stateless shuffle keyed on ``(seed, e)``; batch
    ``s`` (counted over all epochs) gets its noise from ``noise_fn(clean, (seed, s))``.
    Everything is a function of the step, so ``start_epoch=k`` gives exactly what
    an uninterrupted stream gives from epoch ``k`` on (how :func:`train` resumes).
    Batches are gathered whole from one tensor rather than built image by image.

    Args:
        images: ``(N, H, W[, C])`` uint8 or float in [0, 1]; kept as uint8 in memory when uint8.
        noise_fn: ``noise_fn(images, seed) -> damaged``, e.g. :func:`make_noise`'s result.
        batch_size: Images per batch (the last partial batch of an epoch is dropped).
        seed: Fixes the order and the noise.
        start_epoch: The epoch to start at.

    Returns:
        A ``tf.data.Dataset`` of ``(damaged, clean)`` float32 ``(batch_size, H, W, C)`` pairs.
    """
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[..., np.newaxis]  # (N, H, W) -> (N, H, W, 1)
    if array.dtype != np.uint8:
        array = as_images(array)
    count = len(array)
    steps_per_epoch = count // batch_size
    if steps_per_epoch < 1:
        raise DataError(f"{count} images are fewer than one batch of {batch_size}")
    pixels = tf.constant(array)
    scale = 1 / 255 if array.dtype == np.uint8 else 1.0

    def epoch_batches(epoch: tf.Tensor) -> tf.data.Dataset:
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=tf.stack([seed, -1 - epoch]))
        batches = tf.reshape(order[: steps_per_epoch * batch_size], [steps_per_epoch, batch_size])
        return tf.data.Dataset.from_tensor_slices(batches).enumerate(start=epoch * steps_per_epoch)

    def damage(step: tf.Tensor, indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        clean = tf.cast(tf.gather(pixels, indices), tf.float32) * scale  # (batch, H, W, C)
        return noise_fn(clean, tf.stack([tf.constant(seed, tf.int64), step])), clean

    stream = tf.data.Dataset.range(start_epoch, 2**40).flat_map(epoch_batches)
    return stream.map(damage, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


def _completed_epochs(run_dir: Path | None) -> int:
    """Epochs a previous, interrupted ``fit`` in ``run_dir`` finished (from its backup), else 0."""
    if run_dir is None:
        return 0
    metadata = run_dir / "backup" / "training_metadata.json"
    try:
        return int(json.loads(metadata.read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


def train(model: keras.Model, images: Any, *, noise: Callable[[Any, Any], Any] | None = None,
          num_epochs: int = 10, batch_size: int = 64, learning_rate: float = 2e-3,
          steps_per_epoch: int | None = None, steps_per_execution: int = 32,
          run_dir: str | Path | None = None, seed: int = 0, verbose: int | str = "auto",
          extra_callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict[str, list[float]]:
    """Train a restorer with ``fit``: damaged images in, clean images out, mean squared error.

    Adam with a cosine-decayed learning rate; ``steps_per_execution`` steps run
    in one call into TensorFlow. With ``run_dir``, the shared callbacks of
    :func:`artlib.training.callbacks` add TensorBoard logs, a NaN guard and a
    backup at the end of every epoch: calling ``train`` again after an
    interruption continues from the last finished epoch and ends with exactly
    the weights of an uninterrupted run (the data stream restarts at that epoch).

    Args:
        model: A restorer (e.g. :func:`build_denoiser`); it is compiled here.
        images: Clean training images ``(N, H, W[, C])``, uint8 or float in [0, 1].
        noise: ``noise_fn(images, seed)``; default Gaussian with σ drawn from [0, 0.55] per image.
        num_epochs: Passes over ``images`` (or of ``steps_per_epoch`` batches).
        batch_size: Images per step.
        learning_rate: Adam's initial learning rate.
        steps_per_epoch: Batches per epoch; default ``len(images) // batch_size``.
        steps_per_execution: Steps per call into TensorFlow (fewer Python round trips).
        run_dir: Where TensorBoard logs and the resume backup go (None: neither).
        seed: Fixes the order and the noise.
        verbose: ``fit``'s verbosity (``"auto"``: a progress bar; 0 under CI).
        extra_callbacks: More ``fit`` callbacks.

    Returns:
        ``fit``'s history: ``{"loss": [...]}``, one value per epoch of this call.

    Raises:
        NonFiniteLossError: The loss became NaN or Inf.
    """
    noise = noise or make_noise("gaussian", sigma=(0.0, 0.55))
    steps_per_epoch = steps_per_epoch or len(images) // batch_size
    run_dir = Path(run_dir) if run_dir is not None else None
    start_epoch = _completed_epochs(run_dir)
    dataset = restoration_dataset(images, noise, batch_size=batch_size, seed=seed, start_epoch=start_epoch)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, num_epochs * steps_per_epoch, alpha=0.05)
    with training.get_strategy().scope():
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse",
                      steps_per_execution=min(steps_per_execution, steps_per_epoch), jit_compile=False)
    chosen = training.callbacks(run_dir) if run_dir is not None else [training.NaNGuard()]
    if verbose == "auto":
        verbose = 0 if config.is_ci() else 2
    history = model.fit(dataset, epochs=num_epochs, steps_per_epoch=steps_per_epoch, verbose=verbose,
                        shuffle=False, callbacks=chosen + list(extra_callbacks))  # the stream shuffles
    return {name: [float(v) for v in values] for name, values in history.history.items()}


def restore(model: keras.Model, images: Any, *, batch_size: int = 256) -> np.ndarray:
    """Run a restorer over a batch: float32 ``(N, H, W, C)`` in [0, 1] in, the same out."""
    images = as_images(images)
    return np.clip(model.predict(images, batch_size=batch_size, verbose=0), 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------- classical denoisers
#: The scikit-image denoisers of the evaluation table, with the settings each is tuned over.
CLASSICAL_DENOISERS: dict[str, dict[str, list[Any]]] = {
    # name: {"full": grid, "fast": grid}; the grids hold the one parameter each method is tuned on
    "gaussian filter": {"full": [0.5, 0.7, 1.0, 1.4, 2.0], "fast": [0.7, 1.4]},  # σ of the filter
    "median": {"full": [2, 3, 5], "fast": [3]},  # window side
    "total variation": {"full": [0.03, 0.06, 0.1, 0.15, 0.25, 0.4], "fast": [0.1, 0.25]},  # weight
    "non-local means": {"full": [0.5, 0.7, 0.9, 1.2], "fast": [0.7, 1.0]},  # h / σ
    "wavelet": {"full": [("BayesShrink", 1.0), ("VisuShrink", 0.5), ("VisuShrink", 1.0)],
                "fast": [("BayesShrink", 1.0), ("VisuShrink", 0.5)]},  # method, σ scale
}


def _stack_channels(images: np.ndarray) -> np.ndarray:
    """``(N, H, W, C)`` → ``(H, W, N·C)``, so per-channel scikit-image filters treat each image alone."""
    n, h, w, c = images.shape
    return images.transpose(1, 2, 0, 3).reshape(h, w, n * c)  # (H, W, N·C)


def _unstack_channels(stacked: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    n, h, w, c = shape
    return stacked.reshape(h, w, n, c).transpose(2, 0, 1, 3)  # (N, H, W, C)


def classical_denoise(method: str, noisy: Any, sigma: float, param: Any) -> np.ndarray:
    """Denoise a batch with one of :data:`CLASSICAL_DENOISERS` (scikit-image), told the noise σ.

    Args:
        method: ``"gaussian filter"``, ``"median"``, ``"total variation"``,
            ``"non-local means"`` or ``"wavelet"``.
        noisy: Float batch ``(N, H, W, C)`` in [0, 1].
        sigma: The noise level (used by non-local means and wavelet).
        param: The method's tuned parameter (see :data:`CLASSICAL_DENOISERS`).

    Returns:
        The denoised batch, float32 ``(N, H, W, C)`` in [0, 1].
    """
    import skimage.filters
    import skimage.restoration as restoration

    noisy = as_images(noisy, "noisy")
    if method == "gaussian filter":
        out = skimage.filters.gaussian(noisy, sigma=(0, param, param, 0), preserve_range=True)
    elif method == "median":
        out = skimage.filters.median(noisy, footprint=np.ones((1, param, param, 1), bool))
    elif method == "total variation":
        out = _unstack_channels(restoration.denoise_tv_chambolle(
            _stack_channels(noisy), weight=param, channel_axis=-1), noisy.shape)
    elif method == "non-local means":
        out = np.stack([restoration.denoise_nl_means(
            image, h=param * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True,
            channel_axis=-1) for image in noisy]).reshape(noisy.shape)
    elif method == "wavelet":
        kind, scale = param
        out = _unstack_channels(restoration.denoise_wavelet(
            _stack_channels(noisy), sigma=scale * sigma, method=kind, mode="soft", channel_axis=-1,
            rescale_sigma=True), noisy.shape)
    else:
        raise ArtlibError(f"unknown classical denoiser {method!r}; choose one of {', '.join(CLASSICAL_DENOISERS)}")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def tune_classical(noisy: Any, clean: Any, sigma: float, *,
                   methods: Sequence[str] = tuple(CLASSICAL_DENOISERS)) -> dict[str, tuple[Any, float]]:
    """Pick each classical denoiser's parameter that gives the best mean PSNR on these (validation) images.

    Args:
        noisy: Noisy validation batch ``(N, H, W, C)`` in [0, 1]: never the test set.
        clean: The clean validation batch.
        sigma: The noise level.
        methods: Which denoisers to tune.

    Returns:
        ``{method: (best parameter, its mean validation PSNR)}``; the grid is
        ``CLASSICAL_DENOISERS[method]["fast" or "full"]``.
    """
    grid_name = "fast" if config.is_fast() else "full"
    best = {}
    for method in methods:
        scores = [(float(np.mean(metrics.psnr(clean, classical_denoise(method, noisy, sigma, p)))), i)
                  for i, p in enumerate(CLASSICAL_DENOISERS[method][grid_name])]
        score, index = max(scores)
        best[method] = (CLASSICAL_DENOISERS[method][grid_name][index], score)
    return best


def evaluate_denoisers(models: Mapping[str, keras.Model], test_images: Any, *, validation_images: Any,
                       sigmas: Sequence[float] = SIGMAS, methods: Sequence[str] = tuple(CLASSICAL_DENOISERS),
                       seed: int = 0) -> list[dict[str, Any]]:
    """The denoising table: PSNR and SSIM of every method at every Gaussian noise level.

    For each σ the test images get one fixed draw of clipped Gaussian noise; the
    classical denoisers are first tuned on the validation images (their own
    noise draw), then run on the test images with the chosen setting.

    Args:
        models: Trained restorers by name, e.g. ``{"tutorial": ..., "artlib": ...}``.
        test_images: Clean test images ``(N, H, W[, C])``, uint8 or [0, 1].
        validation_images: Clean images for tuning the classical denoisers (not the test set).
        sigmas: Noise levels.
        methods: Classical denoisers to include.
        seed: Fixes the noise.

    Returns:
        Rows ``{"sigma", "method", "psnr", "ssim", "setting", "seconds"}`` (mean PSNR in dB
        and mean SSIM over the test images; ``setting`` is the tuned parameter or None);
        the first method at each σ is ``"noisy input"``. Show with :func:`format_table`.
    """
    clean = as_images(test_images, "test_images")
    validation = as_images(validation_images, "validation_images")
    rows = []
    for i, sigma in enumerate(sigmas):
        noisy = gaussian_noise(clean, (seed, 2 * i), sigma).numpy()
        noisy_val = gaussian_noise(validation, (seed, 2 * i + 1), sigma).numpy()
        tuned = tune_classical(noisy_val, validation, sigma, methods=methods)
        candidates: list[tuple[str, Callable[[], np.ndarray], Any]] = [("noisy input", lambda: noisy, None)]
        candidates += [(name, lambda m=model: restore(m, noisy), None) for name, model in models.items()]
        candidates += [(method, lambda m=method: classical_denoise(m, noisy, sigma, tuned[m][0]), tuned[method][0])
                       for method in methods]
        for name, run, setting in candidates:
            start = time.perf_counter()
            restored = run()
            seconds = time.perf_counter() - start
            rows.append({"sigma": float(sigma), "method": name, "setting": setting, "seconds": seconds,
                         "psnr": float(np.mean(metrics.psnr(clean, restored))),
                         "ssim": float(np.mean(metrics.ssim(clean, restored)))})
    return rows


def format_table(rows: Sequence[Mapping[str, Any]], *, value: str = "psnr") -> str:
    """A Markdown table of :func:`evaluate_denoisers`'s rows: one line per method, one column per σ.

    Args:
        rows: The rows.
        value: ``"psnr"``, ``"ssim"`` or ``"both"`` (``PSNR / SSIM`` in each cell).

    Returns:
        Markdown text; the best non-input value in each column is in bold.
    """
    sigmas = sorted({row["sigma"] for row in rows})
    methods = list(dict.fromkeys(row["method"] for row in rows))
    cell = {(row["method"], row["sigma"]): row for row in rows}
    best = {s: max((r for r in rows if r["sigma"] == s and r["method"] != "noisy input"),
                   key=lambda r: r["psnr" if value == "both" else value])["method"] for s in sigmas}
    unit = {"psnr": "PSNR (dB)", "ssim": "SSIM", "both": "PSNR (dB) / SSIM"}[value]
    lines = [f"| method — {unit} | " + " | ".join(f"σ = {s:g}" for s in sigmas) + " |",
             "|---|" + "---:|" * len(sigmas)]
    for method in methods:
        cells = []
        for s in sigmas:
            row = cell.get((method, s))
            if row is None:
                cells.append("")
                continue
            text = (f"{row['psnr']:.2f} / {row['ssim']:.3f}" if value == "both"
                    else f"{row[value]:.2f}" if value == "psnr" else f"{row[value]:.3f}")
            cells.append(f"**{text}**" if best[s] == method else text)
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- compression
def latent_bits(model: keras.Model, images: Any) -> dict[str, float]:
    """How many bits one image costs in a quantized autoencoder's code, counted two ways.

    * ``fixed``: ``latent_dim × bits`` — every number stored with its full ``bits``
      (a file format anyone can decode with the decoder).
    * ``entropy``: the sum over latent numbers of the empirical entropy of its
      quantized values on ``images`` — what an ideal entropy coder with a fixed
      per-number table would need (the table itself is not counted).

    Args:
        model: A :func:`build_autoencoder` model.
        images: Images to encode ``(N, H, W[, C])``.

    Returns:
        ``{"fixed": bits, "entropy": bits}`` per image.
    """
    quantize = model.get_layer("encoder").get_layer("quantize")
    levels = 2**quantize.bits - 1
    codes = model.get_layer("encoder").predict(as_images(images), batch_size=512, verbose=0)  # (N, latent_dim)
    symbols = np.rint(codes * levels).astype(np.int64)
    entropy = 0.0
    for column in symbols.T:
        counts = np.bincount(column, minlength=levels + 1)
        p = counts[counts > 0] / len(column)
        entropy += float(-(p * np.log2(p)).sum())
    return {"fixed": float(symbols.shape[1] * quantize.bits), "entropy": entropy}


def _jpeg_header_bytes(data: bytes) -> int:
    """Bytes of a JPEG file that are not entropy-coded scan data: markers, tables, the SOS header, EOI."""
    position = 2  # SOI
    while position < len(data):
        marker = data[position + 1]
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        position += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows, then EOI (2 bytes)
            return position + 2
    raise ValueError("not a baseline JPEG")


def jpeg_round_trip(images: Any, quality: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each image alone through Pillow's baseline JPEG at ``quality`` and back.

    Args:
        images: ``(N, H, W[, C])`` in [0, 1] with C = 1 (saved as grayscale) or 3 (RGB).
        quality: Pillow JPEG quality, 1–95.

    Returns:
        ``(decoded, file_bytes, header_bytes)``: float32 ``(N, H, W, C)`` in [0, 1], and per image
        the file's size and its header (markers, quantization and Huffman tables: the bytes that
        are not entropy-coded scan data), int arrays of length N.
    """
    from PIL import Image

    pixels = np.rint(as_images(images) * 255).astype(np.uint8)
    decoded, sizes, headers = [], [], []
    for image in pixels:
        buffer = io.BytesIO()
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, "JPEG", quality=quality)
        data = buffer.getvalue()
        sizes.append(len(data))
        headers.append(_jpeg_header_bytes(data))
        decoded.append((np.asarray(Image.open(io.BytesIO(data)), np.float32) / 255.0).reshape(image.shape))
    return np.stack(decoded), np.array(sizes), np.array(headers)


def jpeg_rate_distortion(images: Any, qualities: Sequence[int] = (5, 10, 20, 30, 50, 70, 90)) -> list[dict[str, float]]:
    """Pillow JPEG at several qualities: mean size and PSNR/SSIM per image, the classical reference.

    Each image is saved alone (:func:`jpeg_round_trip`). Two sizes are reported per image:
    ``file_bits`` (the whole file) and ``payload_bits`` (the entropy-coded scan only: the file
    minus the header — markers, quantization and Huffman tables, ~300 bytes that are the same
    for every image of a quality, measured per file, not estimated).

    Args:
        images: ``(N, H, W[, C])`` with C = 1 or 3.
        qualities: Pillow JPEG qualities.

    Returns:
        Rows ``{"quality", "file_bits", "payload_bits", "header_bytes", "psnr", "ssim"}``, means over images.
    """
    clean = as_images(images)
    rows = []
    for quality in qualities:
        decoded, sizes, headers = jpeg_round_trip(clean, quality)
        rows.append({"quality": quality, "file_bits": 8 * float(np.mean(sizes)),
                     "payload_bits": 8 * float(np.mean(sizes) - np.mean(headers)),
                     "header_bytes": float(np.mean(headers)),
                     "psnr": float(np.mean(metrics.psnr(clean, decoded))),
                     "ssim": float(np.mean(metrics.ssim(clean, decoded)))})
    return rows


def rate_distortion(models: Mapping[int, keras.Model], images: Any) -> list[dict[str, float]]:
    """Bits per image against quality for a sweep of quantized autoencoders (:func:`build_autoencoder`).

    Args:
        models: Trained autoencoders by ``latent_dim``.
        images: Test images.

    Returns:
        Rows ``{"latent_dim", "fixed_bits", "entropy_bits", "psnr", "ssim"}`` (means over images).
    """
    clean = as_images(images)
    rows = []
    for latent_dim, model in sorted(models.items()):
        restored = restore(model, clean)
        bits = latent_bits(model, clean)
        rows.append({"latent_dim": latent_dim, "fixed_bits": bits["fixed"], "entropy_bits": bits["entropy"],
                     "psnr": float(np.mean(metrics.psnr(clean, restored))),
                     "ssim": float(np.mean(metrics.ssim(clean, restored)))})
    return rows


def plot_rate_distortion(autoencoder_rows: Sequence[Mapping[str, float]], jpeg_rows: Sequence[Mapping[str, float]],
                         *, path: str | Path | None = None) -> Any:
    """Bits per image against PSNR: the autoencoder sweep (fixed and entropy-coded) beside JPEG.

    Args:
        autoencoder_rows: :func:`rate_distortion`'s rows.
        jpeg_rows: :func:`jpeg_rate_distortion`'s rows.
        path: Also save the figure there as PNG.

    Returns:
        The matplotlib ``Figure``.
    """
    from artlib import plotting

    fig = plotting.figure((6.5, 4))
    ax = fig.subplots()
    curves = [(autoencoder_rows, "fixed_bits", "autoencoder, 8 bits × latent_dim", "o-"),
              (autoencoder_rows, "entropy_bits", "autoencoder, entropy-coded (estimate)", "o--"),
              (jpeg_rows, "payload_bits", "JPEG scan data (header not counted)", "s-"),
              (jpeg_rows, "file_bits", "JPEG whole file", "s:")]
    for rows, key, label, style in curves:
        ax.plot([r[key] for r in rows], [r["psnr"] for r in rows], style, label=label)
    for row in autoencoder_rows:
        ax.annotate(str(row["latent_dim"]), (row["fixed_bits"], row["psnr"]), textcoords="offset points",
                    xytext=(4, -10), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("bits per 28×28 image (log scale)")
    ax.set_ylabel("PSNR (dB)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if path is not None:
        plotting.save_figure(fig, path)
    return fig


# ----------------------------------------------------------------------------- photos
def photo_patches(names: Sequence[str], *, patch_size: int = 48, count: int = 4096, max_dim: int = 512,
                  seed: int = 0) -> np.ndarray:
    """Random crops (with flips) of scikit-image's bundled photos, for training the photo denoiser.

    Args:
        names: Photos from :data:`artlib.data.SAMPLE_PHOTOS` (keep the test photos out).
        patch_size: Side of each square crop.
        count: How many crops, spread evenly over the photos.
        max_dim: Shrink each photo to this long side first.
        seed: Fixes the crops.

    Returns:
        uint8 ``(count, patch_size, patch_size, 3)``.
    """
    from artlib import data

    rng = np.random.default_rng(seed)
    photos = [np.rint(data.load_sample_photo(name, max_dim=max_dim) * 255).astype(np.uint8) for name in names]
    patches = np.empty((count, patch_size, patch_size, 3), np.uint8)
    for i in range(count):
        photo = photos[i % len(photos)]
        top = rng.integers(0, photo.shape[0] - patch_size + 1)
        left = rng.integers(0, photo.shape[1] - patch_size + 1)
        patch = photo[top : top + patch_size, left : left + patch_size]
        patches[i] = patch[:, ::-1] if rng.random() < 0.5 else patch
    return patches


def _noise_with_level(sigma: tuple[float, float]) -> Callable[[Any, Any], Any]:
    """Gaussian noise with σ drawn per image, returning ``((noisy, σ map), …)`` for the photo denoiser."""

    def noise_fn(images: Any, seed: Any) -> tuple[tf.Tensor, tf.Tensor]:
        seed_sigma, seed_noise = _seeds(seed)
        images = tf.convert_to_tensor(images, tf.float32)
        level = tf.random.stateless_uniform([tf.shape(images)[0], 1, 1, 1], seed_sigma, *sigma)
        noisy = tf.clip_by_value(images + level * tf.random.stateless_normal(tf.shape(images), seed_noise), 0.0, 1.0)
        return noisy, tf.ones_like(images[..., :1]) * level  # σ map: (N, H, W, 1)

    return noise_fn


def train_photo_denoiser(model: keras.Model | None = None, *, photos: Sequence[str] | None = None,
                         sigma: tuple[float, float] = (0.0, 0.2), patch_size: int = 48, count: int = 8192,
                         num_epochs: int = 10, batch_size: int = 32, run_dir: str | Path | None = None,
                         seed: int = 0, **train_kwargs: Any) -> tuple[keras.Model, dict[str, list[float]]]:
    """Train :func:`build_photo_denoiser` on patches of the bundled photos with synthetic noise.

    Args:
        model: The model to train (default: a new :func:`build_photo_denoiser`).
        photos: Training photos (default: every sample photo except :data:`HELD_OUT_PHOTOS`).
        sigma: Range of σ drawn per patch.
        patch_size: Crop side (divisible by 4).
        count: Number of crops.
        num_epochs, batch_size, run_dir, seed, **train_kwargs: As in :func:`train`.

    Returns:
        ``(model, history)``.
    """
    from artlib import data

    model = model or build_photo_denoiser()
    photos = photos or [name for name in data.SAMPLE_PHOTOS if name not in HELD_OUT_PHOTOS]
    patches = photo_patches(photos, patch_size=patch_size, count=count, seed=seed)
    history = train(model, patches, noise=_noise_with_level(sigma), num_epochs=num_epochs,
                    batch_size=batch_size, run_dir=run_dir, seed=seed, **train_kwargs)
    return model, history


def estimate_sigma(image: np.ndarray) -> float:
    """The Gaussian noise σ of an ``H×W×3`` image in [0, 1] (``skimage.restoration.estimate_sigma``)."""
    from skimage.restoration import estimate_sigma as skimage_estimate_sigma

    return float(skimage_estimate_sigma(image, channel_axis=-1, average_sigmas=True))


def denoise_photo(model: keras.Model, image: Any, sigma: float | None = None, *,
                  ensemble: bool = False) -> np.ndarray:
    """Denoise one photo of any size with :func:`build_photo_denoiser`'s model.

    The photo is padded by reflection to a multiple of 4 and cropped back.

    Args:
        model: A photo denoiser (e.g. :func:`load_photo_denoiser`).
        image: ``H×W×3`` (or ``H×W``, converted) float in [0, 1] or uint8, at least 8×8.
        sigma: The noise level; None: estimated with :func:`estimate_sigma`.
        ensemble: Denoise the 8 rotations and mirror images of the photo and average the
            results turned back ("self-ensemble", Timofte et al. 2016): 8× the time, and the
            errors that depend on orientation partly cancel.

    Returns:
        float32 ``H×W×3`` in [0, 1].

    Raises:
        ImageError: Not an image, or smaller than 8×8.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., np.newaxis], 3, axis=-1)  # H×W -> H×W×3
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ImageError(f"expected an H×W×3 image, got shape {image.shape}")
    if min(image.shape[:2]) < 8:
        raise ImageError(f"the image is {image.shape[1]}×{image.shape[0]} pixels; the denoiser needs at least 8×8")
    image = as_images(image[np.newaxis])[0]
    if sigma is None:
        sigma = estimate_sigma(image)
    height, width = image.shape[:2]
    padded = np.pad(image, ((0, -height % 4), (0, -width % 4), (0, 0)), mode="reflect")

    def run(x: np.ndarray) -> np.ndarray:
        sigma_map = np.full(x.shape[:2] + (1,), sigma, np.float32)
        return np.asarray(model([x[np.newaxis], sigma_map[np.newaxis]], training=False))[0]

    if ensemble:  # 4 rotations, each with and without a mirror; each result turned back, then averaged
        out = np.zeros_like(padded)
        for flip in (False, True):
            view = padded[:, ::-1] if flip else padded
            for k in range(4):
                restored = np.rot90(run(np.ascontiguousarray(np.rot90(view, k))), -k)
                out += restored[:, ::-1] if flip else restored
        out /= 8
    else:
        out = run(padded)
    return np.clip(out[:height, :width], 0.0, 1.0).astype(np.float32)


def evaluate_photo_denoiser(model: keras.Model, *, photos: Sequence[str] = HELD_OUT_PHOTOS, sigma: float = 0.1,
                            max_dim: int = 512, tuning_photo: str = "astronaut", seed: int = 0,
                            ensemble: bool = False) -> list[dict[str, Any]]:
    """PSNR of the photo denoiser against tuned non-local means on photos it never trained on.

    Non-local means (scikit-image, ``fast_mode``, 5×5 patches, told σ) is tuned on
    ``tuning_photo`` (a training photo), then run on the held-out photos.

    Args:
        model: The photo denoiser.
        photos: Held-out photo names.
        sigma: Gaussian noise σ.
        max_dim: Long side of the test photos.
        tuning_photo: Photo to tune non-local means's ``h`` on.
        seed: Fixes the noise.
        ensemble: Also report ``"artlib, self-ensemble"`` (:func:`denoise_photo`'s ``ensemble``).

    Returns:
        Rows ``{"photo", "noisy", "non-local means", "artlib", "nlm_h"}`` (PSNR in dB).
    """
    from skimage.restoration import denoise_nl_means

    from artlib import data

    def nlm(image: np.ndarray, factor: float) -> np.ndarray:
        return np.clip(denoise_nl_means(image, h=factor * sigma, sigma=sigma, patch_size=5, patch_distance=6,
                                        fast_mode=True, channel_axis=-1), 0, 1)

    tune = data.load_sample_photo(tuning_photo, max_dim=min(max_dim, 256))
    tune_noisy = gaussian_noise(tune[np.newaxis], (seed, 99), sigma).numpy()[0]
    factor = max((metrics.psnr(tune, nlm(tune_noisy, f)), f) for f in (0.4, 0.6, 0.8, 1.0))[1]
    rows = []
    for i, name in enumerate(photos):
        clean = data.load_sample_photo(name, max_dim=max_dim)
        noisy = gaussian_noise(clean[np.newaxis], (seed, i), sigma).numpy()[0]
        rows.append({"photo": name, "noisy": metrics.psnr(clean, noisy),
                     "non-local means": metrics.psnr(clean, nlm(noisy, factor)),
                     "artlib": metrics.psnr(clean, denoise_photo(model, noisy, sigma)), "nlm_h": factor})
        if ensemble:
            rows[-1]["artlib, self-ensemble"] = metrics.psnr(clean, denoise_photo(model, noisy, sigma, ensemble=True))
    return rows


# ----------------------------------------------------------------------------- loading
def load_model(path: str | Path) -> keras.Model:
    """Load a saved restorer (``.keras``) with ``safe_mode=True``.

    Raises:
        DataError: The file is missing or cannot be read as a Keras model (the message names it).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"model file {path} does not exist")
    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # noqa: BLE001 - a zip, JSON or HDF5 error: say which file
        raise DataError(f"model file {path} is corrupt or not a Keras model ({type(err).__name__}: "
                        f"{str(err).splitlines()[0] if str(err) else ''}); delete it and train or fetch it again") from err


def save_model(model: keras.Model, path: str | Path) -> Path:
    """Save a restorer as ``.keras`` without its optimizer state (a third of the size, for shipping).

    Returns:
        The path written.
    """
    path = Path(path)
    bare = model.__class__.from_config(model.get_config())  # same architecture, not compiled: no optimizer
    bare.set_weights(model.get_weights())
    path.parent.mkdir(parents=True, exist_ok=True)
    bare.save(path)
    return path


def load_photo_denoiser(path: str | Path | None = None) -> keras.Model:
    """The shipped photo denoiser (``data/pretrained/photo_denoiser.keras``) or the one at ``path``.

    Raises:
        DataError: The file is missing or corrupt.
    """
    return load_model(path or PHOTO_DENOISER_PATH)
