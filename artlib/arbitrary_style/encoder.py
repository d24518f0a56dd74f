"""The frozen encoder: a trained VGG's layers up to ``block4_conv1``, under artlib's weights policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tensorflow as tf

from artlib import data, style
from artlib.checks import seed_value
from artlib.errors import ArtlibError

__all__ = ["CALIBRATION_PHOTO", "CALIBRATION_SIZE", "ENCODER_LAYERS", "DEFAULT_DEPTH", "STYLE_LAYERS", "Encoder"]

#: The depths an encoder can stop at, and the style-loss layers each one has (the paper's relu1_1…relu4_1;
#: Keras's VGG convolutions include their ReLU).
STYLE_LAYERS = {
    "block3_conv1": ("block1_conv1", "block2_conv1", "block3_conv1"),
    "block4_conv1": ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1"),
}
ENCODER_LAYERS = tuple(STYLE_LAYERS)
#: Each layer's features are divided by their standard deviation on this photo at this size, so every
#: layer speaks in units of about 1 — what the paper's "normalised VGG" (mean activation 1 per layer) gives.
#: Raw, block1's moments are tens of times block4's and the style term buries the content (measured: the
#: content loss was 1/60 of the style loss and 500 steps painted no subject).
CALIBRATION_PHOTO, CALIBRATION_SIZE = "astronaut", 256
#: The paper's depth (relu4_1): deep enough for strokes and tiles, not only colour and grain.
DEFAULT_DEPTH = "block4_conv1"


class Encoder:
    """``encoder(images) -> {layer: N×h×w×C}`` for the style layers, the deepest one being the AdaIN layer.

    Args:
        weights: The weights policy (:func:`artlib.style.resolve_weights`): offline ``"hed-vgg16"``,
            ``"imagenet"`` (VGG19) where it is cached, ``"random"`` only for tests.
        depth: The AdaIN layer, one of :data:`ENCODER_LAYERS`.
        seed: Seed of random weights.
        verbose: Print the policy's line when ``"auto"`` falls back.

    Attributes:
        depth: The AdaIN layer. layers: The style-loss layers, ending with ``depth``.
        family: The features' family name (``"hed-vgg16"``, ``"imagenet"`` or ``"random"``).
        source: The features in words. channels: Channels at ``depth``. scale: Downsampling at ``depth``.

    Raises:
        ArtlibError: An unknown depth. DataError: A missing or damaged weights file.
    """

    def __init__(self, weights: str | Path = "auto", depth: str = DEFAULT_DEPTH, *, seed: int = 0,
                 verbose: bool = True):
        seed = seed_value(seed)
        if depth not in STYLE_LAYERS:
            raise ArtlibError(f"unknown encoder depth {depth!r}; choose one of {', '.join(ENCODER_LAYERS)}")
        self.depth, self.layers = depth, STYLE_LAYERS[depth]
        self.extractor = style.FeatureExtractor(weights, content_layers=(depth,), style_layers=self.layers,
                                                seed=seed, normalize=True, verbose=verbose)
        self.extractor.calibrate(data.load_sample_photo(CALIBRATION_PHOTO, max_dim=CALIBRATION_SIZE))
        self.family, self.source = self.extractor.family.name, self.extractor.source
        self.channels = int(self.extractor.vgg.get_layer(depth).output.shape[-1])
        self.scale = 2 ** (int(depth[5]) - 1)  # one 2×2 max-pool before each block after the first

    def __call__(self, images: Any) -> dict[str, tf.Tensor]:
        """Features of ``N×H×W×3`` pixels in [0, 1], each layer divided by its spread on the calibration photo."""
        return self.extractor(images)

    def describe(self) -> dict[str, Any]:
        """What a decoder trained on this encoder records (and :func:`load_decoder` checks)."""
        return {"features": self.family, "depth": self.depth, "channels": self.channels,
                "calibration": f"{CALIBRATION_PHOTO}@{CALIBRATION_SIZE}"}
