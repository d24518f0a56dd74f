"""The feature families and the recipe that goes with each: layers, term weights, normalization.

A style-transfer result depends on the network whose features it matches as much as on the
optimizer. Each family of feature networks therefore carries its own layers and term weights,
and every result names the family that made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from artlib.errors import ArtlibError

#: Convolution layers of each architecture, in order (Keras's names).
VGG19_LAYERS = tuple(f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
                     for c in range(1, n + 1))
VGG16_LAYERS = tuple(f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3))
                     for c in range(1, n + 1))
ARCHITECTURE_LAYERS = {"vgg19": VGG19_LAYERS, "vgg16": VGG16_LAYERS}

#: Gatys et al.'s style layers: the first convolution of each block.
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
#: The TensorFlow tutorial's content layer, kept for ImageNet VGG19.
CONTENT_LAYERS = ("block5_conv2",)
#: Gatys et al.'s content layer (conv4_2).
GATYS_CONTENT_LAYERS = ("block4_conv2",)
#: Style layers when the weights are random. Matching the Gram matrices of random block1/block2
#: features paints coloured speckle over the whole picture and the content is lost (measured on
#: chelsea × swirls at 256 and 384 px, for style weights from 1 to 50 and TV weights from 10 to
#: 1000); from block3 on the cat stays recognisable under the style's colours.
RANDOM_STYLE_LAYERS = ("block3_conv1", "block4_conv1", "block5_conv1")

#: artlib's objective: relative terms (each divided by its target's mean square), squared-difference TV.
ARTLIB_WEIGHTS = MappingProxyType(dict(content_weight=1.0, style_weight=50.0, tv_weight=10.0, relative=True,
                                       tv="l2"))
#: artlib's objective on hed-vgg16 features: tuned here by eye (chelsea and astronaut × mosaic, swirls,
#: brushstrokes; style weights 10 and 30, deep-weighted layers); the race is ``benchmarks/style_benchmark.py``.
HED_WEIGHTS = MappingProxyType(dict(ARTLIB_WEIGHTS, style_weight=10.0, tv_weight=0.0))
#: artlib's objective with random features (and :data:`RANDOM_STYLE_LAYERS`): a lighter style term.
RANDOM_WEIGHTS = MappingProxyType(dict(ARTLIB_WEIGHTS, style_weight=20.0))
#: The TensorFlow tutorial's objective: raw terms, TV = tf.image.total_variation (a sum).
TUTORIAL_WEIGHTS = MappingProxyType(dict(content_weight=1e4, style_weight=1e-2, tv_weight=30.0, relative=False,
                                         tv="l1_sum"))


@dataclass(frozen=True)
class Family:
    """A family of feature networks and its recipe.

    Attributes:
        name: ``"imagenet"``, ``"hed-vgg16"`` or ``"random"``.
        architecture: ``"vgg19"`` or ``"vgg16"``.
        content_layers: Default layers of the content term.
        style_layers: Default layers of the style term.
        weights: Default term weights (see :class:`~artlib.style.Objective`).
        normalize: Divide each layer's features by their spread on the content image.
        tuned: Where the recipe comes from.
    """

    name: str
    architecture: str
    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    weights: Mapping[str, object]
    normalize: bool
    tuned: str

    @property
    def layers(self) -> tuple[str, ...]:
        """Every convolution layer of the architecture."""
        return ARCHITECTURE_LAYERS[self.architecture]


FAMILIES = {
    "imagenet": Family(
        "imagenet", "vgg19", CONTENT_LAYERS, STYLE_LAYERS, ARTLIB_WEIGHTS, False,
        "Gatys et al.'s style layers, the TensorFlow tutorial's content layer; not tuned here, since no "
        "machine here can fetch the ImageNet weights"),
    "hed-vgg16": Family(
        "hed-vgg16", "vgg16", GATYS_CONTENT_LAYERS, STYLE_LAYERS, HED_WEIGHTS, False,
        "tuned here by eye on chelsea and astronaut × mosaic, swirls and brushstrokes"),
    "random": Family(
        "random", "vgg19", CONTENT_LAYERS, RANDOM_STYLE_LAYERS, RANDOM_WEIGHTS, True,
        "measured here to keep the content; random features carry colour, not style"),
}


def family(name: str) -> Family:
    """The :class:`Family` called ``name``.

    Raises:
        ArtlibError: An unknown name.
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise ArtlibError(f"unknown feature family {name!r}; choose among {', '.join(FAMILIES)}") from None
