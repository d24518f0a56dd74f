"""VGG19 features for style transfer: preprocessing, the weights policy and the feature extractor."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from artlib import config  # first: selects the TensorFlow backend

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import data, net  # noqa: E402
from artlib.errors import ArtlibError, DataError, OfflineError  # noqa: E402
from artlib.style.inputs import as_image_batch  # noqa: E402

CONTENT_LAYERS = ("block5_conv2",)
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
#: Style layers when the weights are random (the default offline). Matching the Gram matrices of
#: random block1/block2 features paints coloured speckle over the whole picture and the content is
#: lost (measured on chelsea × swirls at 256 and 384 px, for style weights from 1 to 50 and TV
#: weights from 10 to 1000); from block3 on the cat stays recognisable under the style's colours.
RANDOM_STYLE_LAYERS = ("block3_conv1", "block4_conv1", "block5_conv1")
VGG19_LAYERS = tuple(f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
                     for c in range(1, n + 1))
VGG19_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                     + data.VGG19_WEIGHTS_FILE)
VGG19_WEIGHTS_MD5 = "253f8cb515780f3b799900260a226db6"  # what keras.applications checks
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def preprocess(images: Any) -> tf.Tensor:
    """VGG19's own input preprocessing, for pixels in [0, 1] (``vgg19.preprocess_input`` on ×255).

    RGB becomes BGR and the ImageNet mean pixel is subtracted ("caffe" mode).

    Args:
        images: ``N×H×W×3`` (or ``H×W×3``) RGB pixels in [0, 1].

    Returns:
        float32 tensor of the same shape, BGR, in about [-124, 152].
    """
    x = tf.convert_to_tensor(images, tf.float32) * 255.0
    return x[..., ::-1] - tf.constant(_CAFFE_MEAN_BGR, tf.float32)  # RGB -> BGR, centred


def resolve_weights(weights: str | Path = "auto", *, verbose: bool = True) -> tuple[str, Path | None]:
    """Apply the weights policy: which VGG19 weights to use, and from where.

    In order: a path is a weights file; ``"random"`` is random; ImageNet weights in the Keras
    cache are used for ``"auto"`` and ``"imagenet"``; offline, ``"auto"`` falls back to random
    without opening a socket; otherwise the ImageNet weights are downloaded (with a timeout),
    and a failed download is an error for ``"imagenet"`` and a fallback to random for ``"auto"``.

    Args:
        weights: ``"imagenet"`` (the Keras cache, else a download), ``"random"``, a path to
            a weights file (Keras's ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`` or
            a ``.weights.h5`` saved by :meth:`FeatureExtractor.save_weights`), or ``"auto"``:
            ImageNet if cached, else downloaded when online, else random, with a notice.
        verbose: Print one line when ``"auto"`` falls back to random weights.

    Returns:
        ``("imagenet" | "file" | "random", path or None)``.

    Raises:
        ArtlibError: ``weights`` that is neither a name nor a path.
        DataError: A weights file that does not exist.
        OfflineError: ``"imagenet"`` is not cached and cannot be downloaded.
    """
    if not isinstance(weights, (str, Path)):
        raise ArtlibError(f"weights must be 'auto', 'imagenet', 'random' or a file path; got {weights!r}")
    if str(weights) not in ("auto", "imagenet", "random"):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise DataError(f"VGG19 weights file '{path}' not found; give the path of "
                            f"{data.VGG19_WEIGHTS_FILE} or a .weights.h5 file, or use weights='random'.")
        return "file", path
    if weights == "random":
        return "random", None
    cached = data.find_vgg19_weights()
    if cached is not None:
        return "imagenet", cached
    if weights == "auto" and config.is_offline():
        _notice("ImageNet VGG19 weights are not cached and ARTLIB_OFFLINE=1: using random weights.", verbose)
        return "random", None
    try:
        with net.socket_timeout():
            path = keras.utils.get_file(data.VGG19_WEIGHTS_FILE, VGG19_WEIGHTS_URL, cache_subdir="models",
                                        file_hash=VGG19_WEIGHTS_MD5, cache_dir=str(config.cache_dir()))
        return "imagenet", Path(path)
    except Exception as err:  # noqa: BLE001 - offline, timeout, HTTP error: say so
        if weights == "imagenet":
            raise OfflineError(f"could not get the ImageNet VGG19 weights ({err}); copy "
                               f"{data.VGG19_WEIGHTS_FILE} into {config.cache_dir() / 'models'}.") from err
        _notice(f"could not download the ImageNet VGG19 weights ({err}): using random weights.", verbose)
        return "random", None


def _notice(message: str, verbose: bool) -> None:
    if verbose:
        print(f"style: {message}")


def build_vgg19(weights: str | Path = "auto", *, seed: int = 0, verbose: bool = True) -> tuple[keras.Model, str]:
    """VGG19 without its classifier, for inputs of any size, with weights chosen by the policy.

    Random weights are He-normal (std √(2/fan-in)) from ``seed`` and zero biases, so the
    same seed gives the same network with no global random state involved.

    Args:
        weights: The weights policy (see :func:`resolve_weights`).
        seed: Seed of random weights.
        verbose: Print the notice when ``"auto"`` falls back to random weights.

    Returns:
        ``(model, description)``; the model maps preprocessed ``N×H×W×3`` to block5 features.

    Raises:
        DataError: A weights file that is missing or not VGG19 weights (see :func:`resolve_weights`).
    """
    kind, path = resolve_weights(weights, verbose=verbose)
    model = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    model.trainable = False
    if kind == "random":
        rng = np.random.default_rng(seed)
        for name in VGG19_LAYERS:
            layer = model.get_layer(name)
            kernel, bias = layer.get_weights()
            fan_in = np.prod(kernel.shape[:3])
            layer.set_weights([rng.normal(0, np.sqrt(2 / fan_in), kernel.shape).astype(np.float32),
                               np.zeros_like(bias)])
        return model, f"random VGG19 weights (seed {seed}, He init, per-layer feature normalization; not ImageNet)"
    try:
        model.load_weights(str(path))
    except Exception as err:  # noqa: BLE001 - h5py, Keras and ValueError all mean "not these weights"
        raise DataError(f"'{path}' is not a usable VGG19 weights file ({type(err).__name__}: {err}).") from err
    return model, ("ImageNet VGG19 weights" if kind == "imagenet" else "VGG19 weights from a file") + f" ({path})"


class FeatureExtractor:
    """VGG19 features of images in [0, 1]: ``extractor(images) -> {layer: N×h×w×C}``.

    Only the network up to the deepest layer asked for is computed.

    Args:
        weights: The weights policy (see :func:`resolve_weights`).
        content_layers: Layers whose features the content term matches.
        style_layers: Layers whose Gram matrices the style term matches; default
            :data:`STYLE_LAYERS`, or :data:`RANDOM_STYLE_LAYERS` when the weights are random.
        seed: Seed of random weights.
        normalize: Divide each layer's features by their standard deviation on a reference
            image (:meth:`calibrate`; the first content image otherwise). Default: on for
            random weights, whose layers differ in scale by orders of magnitude; off otherwise.
        verbose: Print the notice when ``"auto"`` falls back to random weights.

    Raises:
        ArtlibError: An unknown layer name, or an empty ``style_layers``.
        DataError: A missing or unusable weights file.

    Example:
        >>> extractor = FeatureExtractor("random", verbose=False)  # doctest: +SKIP
        >>> extractor(np.zeros((1, 64, 64, 3)))["block5_conv2"].shape  # doctest: +SKIP
        TensorShape([1, 4, 4, 512])
    """

    def __init__(self, weights: str | Path = "auto", content_layers: Sequence[str] = CONTENT_LAYERS,
                 style_layers: Sequence[str] | None = None, *, seed: int = 0, normalize: bool | None = None,
                 verbose: bool = True):
        unknown = [n for n in (*content_layers, *(style_layers or ())) if n not in VGG19_LAYERS]
        if unknown or (style_layers is not None and not style_layers):
            raise ArtlibError(f"unknown or missing layers {unknown}; choose among {', '.join(VGG19_LAYERS)}")
        self.vgg, self.source = build_vgg19(weights, seed=seed, verbose=verbose)
        self.is_random = self.source.startswith("random")
        if style_layers is None:
            style_layers = RANDOM_STYLE_LAYERS if self.is_random else STYLE_LAYERS
        self.content_layers, self.style_layers = tuple(content_layers), tuple(style_layers)
        self.layers = tuple(dict.fromkeys((*self.content_layers, *self.style_layers)))
        outputs = [self.vgg.get_layer(n).output for n in self.layers]
        self.model = keras.Model(self.vgg.input, outputs)  # computes only up to the deepest layer
        self.normalize = self.is_random if normalize is None else normalize
        self.calibrated = False
        self.scales = {n: tf.Variable(1.0, trainable=False, name=f"scale_{n}") for n in self.layers}

    def raw(self, images: Any) -> dict[str, tf.Tensor]:
        """Features before normalization.

        Args:
            images: ``N×H×W×3`` pixels in [0, 1] (a tensor inside a ``tf.function`` is fine).

        Returns:
            ``{layer: N×h×w×C}`` for every layer in :attr:`layers`.
        """
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
        return {n: float(v) for n, v in self.scales.items()}

    def __call__(self, images: Any) -> dict[str, tf.Tensor]:
        """Normalized features: :meth:`raw` times each layer's scale."""
        return {n: f * self.scales[n] for n, f in self.raw(images).items()}

    def save_weights(self, path: str | Path) -> Path:
        """Save the VGG19 weights (a ``.weights.h5`` file that ``weights=path`` loads again).

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
        path.parent.mkdir(parents=True, exist_ok=True)
        self.vgg.save_weights(str(path))
        return path
