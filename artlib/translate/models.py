"""The CycleGAN networks for 28×28 Fashion-MNIST: a small ResNet-style generator and a PatchGAN discriminator.

Both follow Zhu et al. (ICCV 2017) and their code, shrunk to 28×28 grayscale: instance
normalization without a learned scale and offset (their default; in Keras
``LayerNormalization(axis=(1, 2), center=False, scale=False)``: each image's each channel to
mean 0 and variance 1 over its pixels), ``'same'`` zero padding instead of reflection padding,
stride-2 convolutions down and transposed convolutions up (4×4 kernels, which the stride
divides, so no checkerboard). Pixels are in [-1, 1] in and out (``tanh``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402

from artlib import training  # noqa: E402
from artlib.checks import positive_int, seed_value  # noqa: E402

__all__ = ["IMAGE_SHAPE", "CycleModels", "build_generator", "build_discriminator", "build_cycle_models"]

#: What every network here reads and every generator writes: (height, width, channels), pixels in [-1, 1].
IMAGE_SHAPE = (28, 28, 1)


class CycleModels(NamedTuple):
    """The four networks of one CycleGAN between classes A and B.

    Attributes:
        a_to_b: Generator G: A → B.
        b_to_a: Generator F: B → A.
        disc_a: Discriminator D_A: real A images against F(b).
        disc_b: Discriminator D_B: real B images against G(a).
    """

    a_to_b: keras.Model
    b_to_a: keras.Model
    disc_a: keras.Model
    disc_b: keras.Model


def _instance_norm(x: Any, name: str) -> Any:
    """Instance normalization: each image's channels to mean 0, variance 1 over height and width."""
    return keras.layers.LayerNormalization(axis=(1, 2), epsilon=1e-5, center=False, scale=False, name=name)(x)


def _norm_act(x: Any, name: str, *, leaky: bool = False) -> Any:
    """Instance normalization, then ReLU (or LeakyReLU 0.2)."""
    x = _instance_norm(x, f"{name}_norm")
    return keras.layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x) if leaky else keras.layers.ReLU(name=f"{name}_relu")(x)


def build_generator(width: int = 12, num_blocks: int = 3, *, name: str = "generator") -> keras.Model:
    """A ResNet-style image-to-image generator for 28×28×1 images in [-1, 1].

    7×7 conv (``width``) at 28×28 → 3×3 stride-2 convs to 14×14 (2·width) and 7×7 (4·width) →
    ``num_blocks`` residual blocks at 7×7 → 4×4 stride-2 transposed convs back to 14×14 and
    28×28 → 7×7 conv to one channel, ``tanh``. Every conv but the last is followed by
    instance normalization and ReLU (the residual blocks' second conv by normalization alone).
    Width 12, 3 blocks (the shipped pair's): 162,001 parameters.

    Args:
        width: Channels at 28×28 (doubled at each halving).
        num_blocks: Residual blocks at 7×7 (0 or more).
        name: The model's name (``"a_to_b"``, ``"b_to_a"`` in a run).

    Returns:
        ``images (N, 28, 28, 1) -> images (N, 28, 28, 1)``, both in [-1, 1].

    Raises:
        ArtlibError: ``width`` below 1 or ``num_blocks`` below 0.

    Example::

        g = build_generator()
        g(np.zeros((2, 28, 28, 1))).shape   # (2, 28, 28, 1)
    """
    width = positive_int(width, "width")
    num_blocks = positive_int(num_blocks, "num_blocks", minimum=0)
    inputs = keras.Input(IMAGE_SHAPE, name="images")
    x = keras.layers.Conv2D(width, 7, padding="same", name="stem")(inputs)
    x = _norm_act(x, "stem")
    for level, channels in enumerate((2 * width, 4 * width), start=1):  # 28 -> 14 -> 7
        x = keras.layers.Conv2D(channels, 3, strides=2, padding="same", name=f"down{level}")(x)
        x = _norm_act(x, f"down{level}")
    for block in range(num_blocks):
        skip = x
        x = keras.layers.Conv2D(4 * width, 3, padding="same", name=f"res{block}_conv1")(x)
        x = _norm_act(x, f"res{block}_1")
        x = keras.layers.Conv2D(4 * width, 3, padding="same", name=f"res{block}_conv2")(x)
        x = _instance_norm(x, f"res{block}_2_norm")
        x = keras.layers.Add(name=f"res{block}_add")([skip, x])
    for level, channels in enumerate((2 * width, width), start=1):  # 7 -> 14 -> 28
        x = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", name=f"up{level}")(x)
        x = _norm_act(x, f"up{level}")
    outputs = keras.layers.Conv2D(1, 7, padding="same", activation="tanh", name="to_image")(x)
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(width: int = 12, *, name: str = "discriminator") -> keras.Model:
    """A PatchGAN discriminator: one real/fake logit per overlapping patch of a 28×28×1 image.

    4×4 stride-2 convs to 14×14 (``width``) and 7×7 (2·width), a 3×3 conv (4·width), LeakyReLU 0.2
    after each (instance normalization after all but the first, as in the paper), and a 3×3 conv to
    one logit per position: a 7×7 map whose cells each see a 26×26 patch.

    Args:
        width: Channels of the first conv.
        name: The model's name (``"disc_a"``, ``"disc_b"`` in a run).

    Returns:
        ``images (N, 28, 28, 1) -> logits (N, 7, 7, 1)`` (LSGAN: real ≈ 1, generated ≈ 0).

    Raises:
        ArtlibError: ``width`` below 1.
    """
    width = positive_int(width, "width")
    inputs = keras.Input(IMAGE_SHAPE, name="images")
    x = keras.layers.Conv2D(width, 4, strides=2, padding="same", name="conv1")(inputs)  # 14×14
    x = keras.layers.LeakyReLU(0.2, name="conv1_lrelu")(x)
    x = keras.layers.Conv2D(2 * width, 4, strides=2, padding="same", name="conv2")(x)  # 7×7
    x = _norm_act(x, "conv2", leaky=True)
    x = keras.layers.Conv2D(4 * width, 3, padding="same", name="conv3")(x)
    x = _norm_act(x, "conv3", leaky=True)
    outputs = keras.layers.Conv2D(1, 3, padding="same", name="patch_logits")(x)
    return keras.Model(inputs, outputs, name=name)


def build_cycle_models(width: int = 12, num_blocks: int = 3, disc_width: int | None = None, *,
                       seed: int = 0) -> CycleModels:
    """The two generators and two discriminators of a CycleGAN, built under the strategy's scope.

    Args:
        width: The generators' width (:func:`build_generator`).
        num_blocks: The generators' residual blocks.
        disc_width: The discriminators' width (default: ``width``).
        seed: Seeds the initial weights.

    Returns:
        A :class:`CycleModels` ``(a_to_b, b_to_a, disc_a, disc_b)``.
    """
    seed = seed_value(seed)
    with training.get_strategy().scope():
        keras.utils.set_random_seed(int(seed))  # the initial weights
        return CycleModels(build_generator(width, num_blocks, name="a_to_b"),
                           build_generator(width, num_blocks, name="b_to_a"),
                           build_discriminator(disc_width or width, name="disc_a"),
                           build_discriminator(disc_width or width, name="disc_b"))
