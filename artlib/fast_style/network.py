"""The image transformation network: its custom layers (registered serializable) and ``build_transformer``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib.errors import ArtlibError
from artlib.checks import positive_int, seed_value

__all__ = ["DEFAULT_WIDTH", "DEFAULT_BLOCKS", "DEFAULT_EDGE_KERNEL", "ReflectionPadding2D", "PadToMultiple",
           "CropLike", "MatchColours", "colour_statistics", "append_match_colours", "check_architecture",
           "build_transformer"]

#: Width 8, 3 residual blocks and 5×5 convolutions at full resolution: real time at 256×256 on
#: 2 CPU cores. Convolutions with few channels at full resolution run far below the CPU's peak
#: (a 9×9 one from 8 channels to 3 took 35 ms at 256², a 5×5 one 14 ms), so the paper's 9×9 ends
#: and width 32 (2 frames/s on the same CPU) are not what a CPU needs; see
#: benchmarks/fast_style_benchmark.py.
DEFAULT_WIDTH = 8
DEFAULT_BLOCKS = 3
DEFAULT_EDGE_KERNEL = 5


@keras.saving.register_keras_serializable(package="artlib")
class ReflectionPadding2D(keras.layers.Layer):
    """Pad height and width by mirroring the border (no dark frame, unlike zero padding).

    Input ``N×H×W×C`` -> output ``N×(H+2p)×(W+2p)×C``.

    Args:
        padding: Pixels added on each side (``p``).
    """

    def __init__(self, padding: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        return tf.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        grow = lambda d: None if d is None else d + 2 * self.padding  # noqa: E731
        return (n, grow(h), grow(w), c)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="artlib")
class PadToMultiple(keras.layers.Layer):
    """Reflect-pad the bottom and right so height and width are multiples of ``multiple``.

    Input ``N×H×W×C`` -> ``N×⌈H/m⌉m×⌈W/m⌉m×C``; :class:`CropLike` undoes it.

    Args:
        multiple: ``m``, the factor both sides must divide by.
    """

    def __init__(self, multiple: int = 4, **kwargs: Any):
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, inputs):
        # (m - H mod m) mod m, not (-H) mod m: the same numbers without the modulo of a negative
        # number, which tf2onnx 1.17 converts as a truncating one (37 px would lose a row).
        shape, m = tf.shape(inputs), self.multiple
        pad_h, pad_w = (m - shape[1] % m) % m, (m - shape[2] % m) % m
        return tf.pad(inputs, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None, None, input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="artlib")
class CropLike(keras.layers.Layer):
    """``CropLike()([x, reference])``: the top-left ``H×W`` of ``x``, where ``reference`` is ``N×H×W×·``."""

    def call(self, inputs):
        x, reference = inputs
        shape = tf.shape(reference)
        return x[:, :shape[1], :shape[2], :]

    def compute_output_shape(self, input_shapes):
        x_shape, reference_shape = input_shapes
        return (x_shape[0], reference_shape[1], reference_shape[2], x_shape[3])


def colour_statistics(image: Any) -> tuple[list[float], list[float]]:
    """An image's colours in six numbers: the mean and standard deviation of each of R, G, B.

    Args:
        image: ``H×W×3`` in [0, 1] (a style image).

    Returns:
        ``(means, stds)``, three floats each: what :class:`MatchColours` gives every output.

    Raises:
        ArtlibError: not an ``H×W×3`` array of finite numbers.
    """
    pixels = np.asarray(image, dtype=np.float64)
    if pixels.ndim != 3 or pixels.shape[-1] != 3 or not np.isfinite(pixels).all():
        raise ArtlibError(f"colour statistics need an H×W×3 image of finite numbers; got shape {pixels.shape}")
    pixels = pixels.reshape(-1, 3)
    return [float(v) for v in pixels.mean(0)], [float(v) for v in pixels.std(0)]


@keras.saving.register_keras_serializable(package="artlib")
class MatchColours(keras.layers.Layer):
    """Give each image the style's colours: per channel, the style's mean and standard deviation.

    ``y' = clip((y − mean_y) / std_y · std_s + mean_s, 0, 1)``, with ``mean_y``, ``std_y`` each
    image's own over its pixels (Reinhard et al.'s colour transfer, 2001, here in RGB). The
    style's palette is then there from the first step, and the network learns its textures
    rather than spending its few weights turning an orange cup blue. With ``spread=False`` only
    the mean moves, ``y' = clip(y − mean_y + mean_s, 0, 1)``: each image keeps its own contrast,
    which a style with a dark, narrow palette would otherwise squeeze. Input and output ``N×H×W×3``.

    Args:
        mean, std: The style's per-channel statistics (see :func:`colour_statistics`).
        epsilon: Added to each image's variance: a flat image becomes the style's mean colour.
        spread: Match the standard deviations too (else only the means).
    """

    def __init__(self, mean: Sequence[float] = (0.5, 0.5, 0.5), std: Sequence[float] = (0.25, 0.25, 0.25), *,
                 epsilon: float = 1e-4, spread: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.spread = bool(spread)
        self.mean, self.std = [float(v) for v in mean], [float(v) for v in std]
        values = np.array(self.mean + self.std)
        if len(self.mean) != 3 or len(self.std) != 3 or not np.isfinite(values).all() or min(self.std) < 0:
            raise ArtlibError(f"MatchColours needs three finite means and three standard deviations ≥ 0; "
                              f"got {self.mean}, {self.std}")
        self.epsilon = float(epsilon)

    def call(self, inputs):
        style_std, style_mean = tf.constant(self.std, inputs.dtype), tf.constant(self.mean, inputs.dtype)
        if not self.spread:
            return tf.clip_by_value(inputs - tf.reduce_mean(inputs, axis=[1, 2], keepdims=True) + style_mean, 0.0, 1.0)
        mean, variance = tf.nn.moments(inputs, axes=[1, 2], keepdims=True)  # N×1×1×3 each
        normalized = (inputs - mean) * tf.math.rsqrt(variance + self.epsilon)
        return tf.clip_by_value(normalized * style_std + style_mean, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "std": self.std, "epsilon": self.epsilon,
                "spread": self.spread}


def append_match_colours(network: keras.Model, style_image: Any, *, spread: bool = True) -> keras.Model:
    """A trained network with :class:`MatchColours` for ``style_image`` appended after its output.

    Args:
        network: An image-to-image network (``N×H×W×3`` in [0, 1] both ways).
        style_image: ``H×W×3`` in [0, 1]: whose colour statistics the outputs get.
        spread: Match the standard deviations too (else only the means; see :class:`MatchColours`).

    Returns:
        A new ``keras.Model`` sharing ``network``'s layers and weights, ending in ``match_colours``.

    Raises:
        ArtlibError: a bad style image, or ``network`` ends in ``MatchColours`` already.
    """
    if isinstance(network.layers[-1], MatchColours):
        raise ArtlibError(f"network {network.name!r} already ends in MatchColours")
    means, stds = colour_statistics(style_image)
    out = MatchColours(means, stds, spread=spread, name="match_colours")(network.output)
    return keras.Model(network.input, out, name=network.name)


@keras.saving.register_keras_serializable(package="artlib")
def _unit_clip(x):
    return keras.ops.clip(x, 0.01, 0.99)


@keras.saving.register_keras_serializable(package="artlib")
def _logit(x):
    return keras.ops.log(x / (1.0 - x))


def _conv(x, filters: int, kernel: int, *, strides: int = 1, name: str, seed: int, norm_relu: bool = True,
          zero: bool = False):
    init = "zeros" if zero else keras.initializers.GlorotUniform(seed=seed)
    x = ReflectionPadding2D(kernel // 2, name=f"{name}_pad")(x)
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="valid", name=f"{name}_conv",
                            kernel_initializer=init)(x)
    if norm_relu:
        x = keras.layers.GroupNormalization(groups=filters, name=f"{name}_in")(x)  # instance norm
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x


def check_architecture(width: int, num_blocks: int, edge_kernel: int) -> tuple[int, int, int]:
    """Check the numbers that shape a network (see :func:`build_transformer`).

    Args:
        width: At least 1.
        num_blocks: At least 0.
        edge_kernel: Odd, at least 1.

    Returns:
        ``(width, num_blocks, edge_kernel)`` as ints.

    Raises:
        ArtlibError: a value out of range (the message names it).
    """
    width = positive_int(width, "width")
    num_blocks = positive_int(num_blocks, "num_blocks", minimum=0)
    if positive_int(edge_kernel, "edge_kernel") % 2 == 0:
        raise ArtlibError(f"edge_kernel must be odd (the paper: 9); got {edge_kernel!r}")
    return width, num_blocks, int(edge_kernel)


def build_transformer(width: int = DEFAULT_WIDTH, num_blocks: int = DEFAULT_BLOCKS, *,
                      edge_kernel: int = DEFAULT_EDGE_KERNEL, style_colours: tuple[Sequence[float], Sequence[float]]
                      | None = None, seed: int = 0, name: str = "fast_style") -> keras.Model:
    """The image transformation network (Johnson et al. 2016 with instance normalization).

    Args:
        width: Channels of the first layer (the paper: 32); the middle runs at 4× this.
            Cost grows with its square: choose it for the frame rate you need.
        num_blocks: Residual blocks (the paper: 5; 0 is allowed).
        edge_kernel: Kernel size of the first and last convolutions, the two at full resolution
            (the paper: 9; odd).
        style_colours: ``(means, stds)`` of a style image (:func:`colour_statistics`): a last
            :class:`MatchColours` layer gives every output those colour statistics. None: no such layer.
        seed: Seed of the initial weights (each layer its own, derived from it).
        name: The model's name.

    Returns:
        A ``keras.Model``: images ``N×H×W×3`` in [0, 1] (any H, W ≥ 4) -> ``N×H×W×3`` in [0, 1].
        Untrained, it returns its input (up to clipping to [0.01, 0.99]), recoloured to
        ``style_colours`` if given.

    Raises:
        ArtlibError: ``width`` or ``edge_kernel`` below 1, ``edge_kernel`` even, ``num_blocks``
            negative, or ``style_colours`` not three finite means and three stds ≥ 0.

    Example:
        >>> build_transformer(8, 1)(np.zeros((1, 37, 53, 3), "float32")).shape  # doctest: +SKIP
        TensorShape([1, 37, 53, 3])
    """
    seed = seed_value(seed)
    width, num_blocks, edge_kernel = check_architecture(width, num_blocks, edge_kernel)
    images = keras.Input((None, None, 3), name="images")
    x = PadToMultiple(4, name="pad_to_4")(images)
    clipped = keras.layers.Activation(_unit_clip, name="clip")(x)
    seeds = iter(range(seed * 1000, seed * 1000 + 1000))  # one initializer seed per layer
    y = _conv(x, width, edge_kernel, name="down0", seed=next(seeds))
    y = _conv(y, 2 * width, 3, strides=2, name="down1", seed=next(seeds))  # N×H/2×W/2×2w
    y = _conv(y, 4 * width, 3, strides=2, name="down2", seed=next(seeds))  # N×H/4×W/4×4w
    for b in range(num_blocks):
        r = _conv(y, 4 * width, 3, name=f"res{b}_a", seed=next(seeds))
        r = _conv(r, 4 * width, 3, name=f"res{b}_b", seed=next(seeds), norm_relu=False)
        r = keras.layers.GroupNormalization(groups=4 * width, name=f"res{b}_b_in")(r)
        y = keras.layers.Add(name=f"res{b}_add")([y, r])
    for i, filters in enumerate((2 * width, width)):
        y = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"up{i}_resize")(y)
        y = _conv(y, filters, 3, name=f"up{i}", seed=next(seeds))     # resize-convolution
    delta = _conv(y, 3, edge_kernel, name="out", seed=0, norm_relu=False, zero=True)  # N×H'×W'×3, starts at 0
    logit = keras.layers.Activation(_logit, name="logit")(clipped)
    out = keras.layers.Activation("sigmoid", name="to_pixels")(keras.layers.Add(name="add_delta")([logit, delta]))
    out = CropLike(name="crop")([out, images])                        # back to N×H×W×3
    if style_colours is not None:
        if len(style_colours) != 2:
            raise ArtlibError(f"style_colours must be (means, stds), three of each; got {style_colours!r}")
        out = MatchColours(*style_colours, name="match_colours")(out)  # the style's palette
    return keras.Model(images, out, name=name)
