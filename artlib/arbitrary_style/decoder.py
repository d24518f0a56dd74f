"""The decoder artlib trains: the encoder mirrored, nearest-neighbour upsampling, reflection padding, no norms."""

from __future__ import annotations

import keras

from artlib.checks import positive_int, seed_value
from artlib.errors import ArtlibError
from artlib.fast_style.network import ReflectionPadding2D
from artlib.arbitrary_style.encoder import DEFAULT_DEPTH, STYLE_LAYERS

__all__ = ["DEFAULT_WIDTH", "FULL_WIDTH", "decoder_plan", "build_decoder"]

#: Channels of the decoder's first level. The paper's decoder (``FULL_WIDTH``, 3.5 M weights at block4)
#: costs more than the encoder itself on a CPU; 128 keeps the ¼ of its weights that matter most for speed.
DEFAULT_WIDTH = 128
FULL_WIDTH = 256


def decoder_plan(depth: str = DEFAULT_DEPTH, width: int = DEFAULT_WIDTH) -> list[int | str]:
    """The decoder's layers in order: a number is a 3×3 convolution's channels, ``"up"`` a ×2 upsampling.

    At ``block4_conv1`` and width 256 it is the paper's: 256, up, 256, 256, 256, 128, up, 128, 64,
    up, 64, 3.

    Raises:
        ArtlibError: An unknown depth, or a width below 4.
    """
    if depth not in STYLE_LAYERS:
        raise ArtlibError(f"unknown encoder depth {depth!r}; choose one of {', '.join(STYLE_LAYERS)}")
    w = positive_int(width, "width", minimum=4)
    block3 = ["up", w // 2, w // 4, "up", w // 4, 3]      # from H/4 to H
    if depth == "block3_conv1":
        return [w // 2, *block3]
    return [w, "up", w, w, w, w // 2, "up", w // 2, w // 4, "up", w // 4, 3]


def build_decoder(depth: str = DEFAULT_DEPTH, width: int = DEFAULT_WIDTH, *, channels: int | None = None,
                  seed: int = 0, name: str = "adain_decoder") -> keras.Model:
    """Features at ``depth`` -> pixels: ``N×h×w×C`` -> ``N×(s·h)×(s·w)×3`` (s = 8 at block4, 4 at block3).

    Every convolution is 3×3 on a reflection-padded input with ReLU, except the last, which is linear
    (pixels in about [0, 1]; clipped when a picture is made) and starts at zero with bias 0.5, so the
    untrained decoder paints flat grey instead of pixels far outside [0, 1], whose huge features would
    spend the first hundreds of steps (measured). No normalization layers: they would wash out the
    statistics AdaIN has just set.

    Args:
        depth: The encoder layer it inverts (see :data:`~artlib.arbitrary_style.STYLE_LAYERS`).
        width: Channels of the first level (:data:`DEFAULT_WIDTH`; the paper's: :data:`FULL_WIDTH`).
        channels: Input channels (default: VGG's at ``depth``: 512 or 256).
        seed: Seed of the initial weights (each layer its own, derived from it).
        name: The model's name.

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        ArtlibError: An unknown depth, a width below 4, channels below 1.
    """
    seed = seed_value(seed)
    plan = decoder_plan(depth, width)
    channels = positive_int(channels if channels is not None else (512 if depth == "block4_conv1" else 256),
                            "channels")
    features = keras.Input((None, None, channels), name="features")
    x, conv = features, 0
    for i, item in enumerate(plan):
        if item == "up":
            x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"up{i}")(x)
            continue
        last = i == len(plan) - 1
        x = ReflectionPadding2D(1, name=f"conv{conv}_pad")(x)
        x = keras.layers.Conv2D(item, 3, padding="valid", activation=None if last else "relu",
                                kernel_initializer="zeros" if last else
                                keras.initializers.HeNormal(seed=seed * 1000 + conv),
                                bias_initializer=keras.initializers.Constant(0.5 if last else 0.0),
                                name="to_pixels" if last else f"conv{conv}")(x)
        conv += 1
    return keras.Model(features, x, name=name)
