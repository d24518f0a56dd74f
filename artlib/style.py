"""Neural style transfer (Gatys, Ecker & Bethge 2016) with VGG19 features: right, fast, offline, large.

An image is optimized so that its deep features match a content image (content
loss) and the correlations between its features — Gram matrices — match one or
more style images (style loss), with total variation (TV) for smoothness.

What artlib does beyond the TensorFlow tutorial (1,000 Adam steps at 512 px):

* **L-BFGS** (SciPy's ``L-BFGS-B``, gradients from TensorFlow, pixels kept in [0, 1]
  by its bounds) instead of Adam: the same objective value in a fraction of the time.
* **Coarse to fine**: optimize at 128 px, upsample, continue at 256, 512, 1024 …
  Large shapes settle where steps are cheap; big outputs fit in memory.
* **Offline**: ``weights="random"`` is a seeded random VGG19 with per-layer feature
  normalization (He, Wang & Hopcroft, NeurIPS 2016); ``"auto"`` uses ImageNet
  weights when they are cached or downloadable and says so when it falls back.
* **Relative terms** (artlib's objective): each layer's content and style term is
  divided by the size of its target, so the weights mean the same for any
  network, layer or resolution. ``TUTORIAL_WEIGHTS`` gives the tutorial's objective.
* Every result reports its style distance, content distance and SSIM to the content.

Steps, as the notebook 06 teaches them::

    extractor = FeatureExtractor("auto")                    # VGG19, the weights policy
    objective = Objective(extractor, content, [style])      # losses at one resolution
    image, history = run_lbfgs(objective, content, steps=50)
    evaluate(image, content, [style], extractor)            # the numbers

or all of it, coarse to fine: ``stylize(content, [style], max_dim=512)``.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artlib import config  # first: selects the TensorFlow backend

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import data, imageio, metrics, net, patterns  # noqa: E402
from artlib.errors import ArtlibError, DataError, ImageError, OfflineError  # noqa: E402

__all__ = [
    "CONTENT_LAYERS", "STYLE_LAYERS", "RANDOM_STYLE_LAYERS", "VGG19_LAYERS", "ARTLIB_WEIGHTS",
    "RANDOM_WEIGHTS", "TUTORIAL_WEIGHTS",
    "STARRY_NIGHT_URL", "preprocess", "resolve_weights", "build_vgg19", "FeatureExtractor",
    "gram_matrix", "content_loss", "style_loss", "total_variation_loss", "Objective",
    "run_adam", "run_lbfgs", "STAGE_TOLERANCE", "STAGE_PATIENCE", "stage_schedule", "coarse_to_fine_sizes",
    "load_style_image",
    "match_colors", "preserve_luminance", "evaluate", "default_weights", "StyleResult", "style_transfer", "stylize",
]

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
#: Van Gogh, "The Starry Night" (1889), public domain, via Wikimedia Commons (online route only).
STARRY_NIGHT_URL = ("https://upload.wikimedia.org/wikipedia/commons/thumb/e/ea/"
                    "Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg/"
                    "1280px-Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg")
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

#: artlib's objective: relative terms (each divided by its target's size), squared-difference TV.
ARTLIB_WEIGHTS = dict(content_weight=1.0, style_weight=50.0, tv_weight=10.0, relative=True, tv="l2")
#: The TensorFlow tutorial's objective: raw terms, TV = tf.image.total_variation (a sum).
#: artlib's objective with random features (and :data:`RANDOM_STYLE_LAYERS`): a lighter style term.
RANDOM_WEIGHTS = dict(ARTLIB_WEIGHTS, style_weight=20.0)
TUTORIAL_WEIGHTS = dict(content_weight=1e4, style_weight=1e-2, tv_weight=30.0, relative=False, tv="l1_sum")


# ----------------------------------------------------------------------------- the network

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

    Args:
        weights: ``"imagenet"`` (the Keras cache, else a download), ``"random"``, a path to
            a weights file (Keras's ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`` or
            a ``.weights.h5`` saved by :meth:`FeatureExtractor.save_weights`), or ``"auto"``:
            ImageNet if cached, else downloaded when online, else random, with a notice.

    Returns:
        ``("imagenet" | "file" | "random", path or None)``.

    Raises:
        DataError: a weights file that does not exist.
        OfflineError: ``"imagenet"`` is not cached and cannot be downloaded.
    """
    if isinstance(weights, (str, Path)) and str(weights) not in ("auto", "imagenet", "random"):
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

    Returns:
        ``(model, description)``; the model maps preprocessed ``N×H×W×3`` to block5 features.

    Raises:
        DataError: a weights file that is missing or not VGG19 weights (see :func:`resolve_weights`).
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

    Only the network up to the deepest layer asked for is computed.
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
        """Features before normalization."""
        outputs = self.model(preprocess(images))
        return dict(zip(self.layers, outputs if isinstance(outputs, list) else [outputs]))

    def calibrate(self, image: Any) -> dict[str, float]:
        """Set each layer's scale to 1 / (std of its features on ``image``), if normalizing."""
        if self.normalize:
            for name, f in self.raw(_batch(image)).items():
                self.scales[name].assign(1.0 / (float(tf.math.reduce_std(f)) + 1e-8))
        self.calibrated = True
        return {n: float(v) for n, v in self.scales.items()}

    def __call__(self, images: Any) -> dict[str, tf.Tensor]:
        return {n: f * self.scales[n] for n, f in self.raw(images).items()}

    def save_weights(self, path: str | Path) -> Path:
        """Save the VGG19 weights (a ``.weights.h5`` file that ``weights=path`` loads again)."""
        path = Path(path)
        if not path.name.endswith(".weights.h5"):
            raise ArtlibError(f"the file name must end in .weights.h5; got {path.name}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.vgg.save_weights(str(path))
        return path


# ----------------------------------------------------------------------------- the losses

def gram_matrix(features: tf.Tensor) -> tf.Tensor:
    """Feature correlations: ``N×H×W×C`` -> ``N×C×C``, divided by the number of positions H·W."""
    shape = tf.shape(features)
    positions = tf.cast(shape[1] * shape[2], tf.float32)
    return tf.einsum("bijc,bijd->bcd", features, features) / positions


def _layer_weights(layers: Sequence[str], weights: Sequence[float] | dict | None) -> dict[str, float]:
    if weights is None:
        return {n: 1.0 / len(layers) for n in layers}
    if isinstance(weights, dict):
        return {n: float(weights.get(n, 0.0)) for n in layers}
    if len(weights) != len(layers):
        raise ArtlibError(f"{len(weights)} layer weights for {len(layers)} layers")
    return dict(zip(layers, map(float, weights)))


def _weighted_mse(values: dict, targets: dict, layer_weights: dict, relative: bool) -> tf.Tensor:
    """Σ_l w_l · mean((V_l − T_l)²), each term divided by mean(T_l²) when ``relative``."""
    terms = []
    for name, w in layer_weights.items():
        term = tf.reduce_mean(tf.square(values[name] - targets[name]))
        terms.append(w * (term / (tf.reduce_mean(tf.square(targets[name])) + 1e-12) if relative else term))
    return tf.add_n(terms)


def content_loss(features: dict, targets: dict, layer_weights: dict, *, relative: bool = True) -> tf.Tensor:
    """Σ_l w_l · mean((F_l − P_l)²), each term divided by mean(P_l²) when ``relative``."""
    return _weighted_mse(features, targets, layer_weights, relative)


def style_loss(grams: dict, target_grams: dict, layer_weights: dict, *, relative: bool = True) -> tf.Tensor:
    """Σ_l w_l · mean((G_l − A_l)²), each term divided by mean(A_l²) when ``relative``."""
    return _weighted_mse(grams, target_grams, layer_weights, relative)


def total_variation_loss(images: tf.Tensor, kind: str = "l2") -> tf.Tensor:
    """Roughness: ``"l2"`` mean squared difference of neighbours (artlib, any size);
    ``"l1_sum"`` sum of absolute differences (``tf.image.total_variation``, the tutorial)."""
    images = tf.convert_to_tensor(images, tf.float32)
    dy = images[:, 1:, :, :] - images[:, :-1, :, :]
    dx = images[:, :, 1:, :] - images[:, :, :-1, :]
    if kind == "l2":
        return tf.reduce_mean(tf.square(dy)) + tf.reduce_mean(tf.square(dx))
    if kind == "l1_sum":
        return tf.reduce_sum(tf.image.total_variation(images))
    raise ArtlibError(f"kind must be 'l2' or 'l1_sum', not {kind!r}")


def _batch(image: Any) -> tf.Tensor:
    x = tf.convert_to_tensor(image, tf.float32)
    return x[tf.newaxis] if x.shape.rank == 3 else x  # H×W×3 -> 1×H×W×3


def default_weights(extractor: FeatureExtractor) -> dict[str, Any]:
    """artlib's term weights for ``extractor``: :data:`RANDOM_WEIGHTS` if its weights are random,
    else :data:`ARTLIB_WEIGHTS`."""
    return dict(RANDOM_WEIGHTS if extractor.is_random else ARTLIB_WEIGHTS)


class Objective:
    """The style-transfer objective at one resolution: ``objective(image) -> {"total", "content", "style", "tv"}``.

    Args:
        extractor: A :class:`FeatureExtractor`.
        content_image: ``H×W×3`` in [0, 1]; the output has its size.
        style_images: One or more ``h×w×3`` style images in [0, 1] (any size).
        blend: Weight of each style image (normalized to sum to 1); default equal.
        content_weight, style_weight, tv_weight: Term weights (default :data:`ARTLIB_WEIGHTS`, or
            :data:`RANDOM_WEIGHTS` when the extractor's weights are random).
        relative: Divide each layer's term by the size of its target (artlib) or not (tutorial).
        tv: ``"l2"`` or ``"l1_sum"`` (see :func:`total_variation_loss`).
        content_layer_weights, style_layer_weights: Per layer (list or dict); default equal, summing to 1.
    """

    def __init__(self, extractor: FeatureExtractor, content_image: Any, style_images: Sequence[Any], *,
                 blend: Sequence[float] | None = None, content_weight: float | None = None,
                 style_weight: float | None = None, tv_weight: float | None = None, relative: bool | None = None,
                 tv: str | None = None, content_layer_weights=None, style_layer_weights=None):
        d = default_weights(extractor)
        self.content_weight = d["content_weight"] if content_weight is None else float(content_weight)
        self.style_weight = d["style_weight"] if style_weight is None else float(style_weight)
        self.tv_weight = d["tv_weight"] if tv_weight is None else float(tv_weight)
        self.relative = d["relative"] if relative is None else relative
        self.tv = d["tv"] if tv is None else tv
        self.extractor = extractor
        self.content_image = _batch(content_image)
        if not extractor.calibrated:
            extractor.calibrate(self.content_image)
        style_images = [_batch(s) for s in style_images]
        blend = np.ones(len(style_images)) if blend is None else np.asarray(blend, np.float64)
        if len(blend) != len(style_images) or not len(style_images) or (blend < 0).any() or blend.sum() <= 0:
            raise ArtlibError(f"need one non-negative blend weight per style image; got {list(blend)}")
        self.blend = [float(b) for b in blend / blend.sum()]
        self.content_layer_weights = _layer_weights(extractor.content_layers, content_layer_weights)
        self.style_layer_weights = _layer_weights(extractor.style_layers, style_layer_weights)
        content_features = extractor(self.content_image)
        self.content_targets = {n: content_features[n] for n in extractor.content_layers}
        self.style_targets = []
        for s in style_images:
            features = extractor(s)
            self.style_targets.append({n: gram_matrix(features[n]) for n in extractor.style_layers})
        self.size = tuple(self.content_image.shape[1:3])

    def _terms(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        features = self.extractor(images)
        grams = {n: gram_matrix(features[n]) for n in self.extractor.style_layers}
        style = tf.add_n([b * style_loss(grams, t, self.style_layer_weights, relative=self.relative)
                          for b, t in zip(self.blend, self.style_targets)])
        content = (content_loss(features, self.content_targets, self.content_layer_weights, relative=self.relative)
                   if self.content_layer_weights else tf.constant(0.0))
        tv = total_variation_loss(images, self.tv)
        terms = {"content": self.content_weight * content, "style": self.style_weight * style,
                 "tv": self.tv_weight * tv}
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return terms

    def __call__(self, image: Any) -> dict[str, float]:
        return {k: float(v) for k, v in self._terms(_batch(image)).items()}

    @tf.function(reduce_retracing=True)
    def value_and_grad(self, images: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
        """The terms and the gradient of the total with respect to the pixels."""
        with tf.GradientTape() as tape:
            tape.watch(images)
            terms = self._terms(images)
        return terms, tape.gradient(terms["total"], images)


# ----------------------------------------------------------------------------- the optimizers

Callback = Callable[[int, dict[str, float]], Any]


def run_adam(objective: Objective, image: Any, steps: int, *, learning_rate: float = 0.02, beta_1: float = 0.99,
             epsilon: float = 0.1, callback: Callback | None = None) -> tuple[np.ndarray, list[dict]]:
    """The tutorial's optimizer: Adam(0.02, β1 0.99, ε 0.1) on [0, 1] pixels, clipped after each step.

    Returns:
        ``(image, history)``: the final ``H×W×3`` image and the terms before each step.
    """
    variable = tf.Variable(_batch(image))
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, epsilon=epsilon)

    @tf.function
    def step():
        terms, grad = objective.value_and_grad(tf.convert_to_tensor(variable))
        optimizer.apply([grad], [variable])
        variable.assign(tf.clip_by_value(variable, 0.0, 1.0))
        return terms

    history = []
    for i in range(steps):
        terms = {k: float(v) for k, v in step().items()}
        _check_finite(terms, i)
        history.append(terms)
        if callback is not None:
            callback(i, terms)
    return variable.numpy()[0], history


#: Most memory L-BFGS-B's workspace may take (bytes); above it the history shrinks (see run_lbfgs).
LBFGS_MEMORY_BUDGET = 260e6


def _lbfgs_history(pixels: int, history_size: int | None) -> int:
    """Gradient pairs to keep: ``history_size``, or up to 10 within :data:`LBFGS_MEMORY_BUDGET`.

    SciPy's L-BFGS-B workspace holds about (2m + 5)·n float64 numbers for m pairs and n pixel
    values: at 1024×683 px, m = 10 takes 420 MB; the budget gives m = 5 there (and 10 up to ~500 px).
    """
    if history_size is not None:
        return int(history_size)
    return int(np.clip((LBFGS_MEMORY_BUDGET / (8 * pixels) - 5) // 2, 3, 10))


def _release_free_memory() -> None:
    """Hand freed heap memory back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    TensorFlow frees a VGG19 pass's activations (≈ 2 GB at 1024 px) after every evaluation, but
    glibc keeps much of it in its arenas, so the resident size creeps up step after step.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)  # dlopen of a loaded library: a lookup, no I/O
        except (AttributeError, OSError):  # a libc without malloc_trim (musl): nothing to do
            pass


class _Stalled(Exception):
    """Raised inside L-BFGS's objective to end a run that stopped improving."""


def run_lbfgs(objective: Objective, image: Any, steps: int, *, history_size: int | None = None,
              tolerance: float = 0.0, patience: int = 10,
              callback: Callback | None = None) -> tuple[np.ndarray, list[dict]]:
    """L-BFGS (SciPy's ``L-BFGS-B``; pixels bounded to [0, 1]) with gradients from TensorFlow.

    Args:
        steps: Most function evaluations (each one forward and backward pass, like one Adam step).
        history_size: Gradient pairs L-BFGS remembers; default 10, fewer on images so large that
            its workspace would pass :data:`LBFGS_MEMORY_BUDGET` (5 at 1024 px).
        tolerance: Stop early once the best value has fallen by less than this fraction over the
            last ``patience`` evaluations (0, the default: always run all ``steps``).
            :func:`style_transfer` uses it to end coarse stages that have settled.

    Returns:
        ``(image, history)``: the best image seen and the terms at each evaluation.
    """
    from scipy.optimize import Bounds, minimize

    x0 = _batch(image).numpy()
    shape = x0.shape
    history: list[dict] = []
    best = {"value": np.inf, "x": x0.ravel().astype(np.float64)}
    best_so_far: list[float] = []  # the best value after each evaluation

    def fun(x: np.ndarray):
        terms, grad = objective.value_and_grad(tf.constant(x.reshape(shape), tf.float32))
        terms, grad = {k: float(v) for k, v in terms.items()}, grad.numpy().ravel().astype(np.float64)
        _release_free_memory()
        _check_finite(terms, len(history))
        history.append(terms)
        if terms["total"] < best["value"]:
            best.update(value=terms["total"], x=x.copy())
        if callback is not None:
            callback(len(history) - 1, terms)
        best_so_far.append(best["value"])
        if tolerance > 0 and len(best_so_far) > patience and \
                best["value"] > (1 - tolerance) * best_so_far[-1 - patience]:
            raise _Stalled
        return terms["total"], grad

    if steps > 0:
        try:
            minimize(fun, x0.ravel().astype(np.float64), jac=True, method="L-BFGS-B",
                     bounds=Bounds(np.zeros(x0.size), np.ones(x0.size)),
                     options=dict(maxfun=steps, maxiter=steps, maxcor=_lbfgs_history(x0.size, history_size),
                                  ftol=0.0, gtol=0.0))
        except _Stalled:
            pass
    return best["x"].reshape(shape)[0].astype(np.float32), history


def _check_finite(terms: dict[str, float], step: int) -> None:
    if not np.isfinite(terms["total"]):
        from artlib.errors import NonFiniteLossError

        raise NonFiniteLossError(f"the style-transfer loss became {terms['total']} at step {step}; "
                                 "lower the learning rate or the style weight.")


# ----------------------------------------------------------------------------- images and colour

def load_style_image(source: Any, max_dim: int | None = 512, *, seed: int = 0) -> np.ndarray:
    """A style (or content) image from an array, a path, an http(s) URL (cached) or ``"pattern:NAME"``.

    Returns:
        float32 ``H×W×3`` in [0, 1], long side at most ``max_dim`` (patterns: exactly ``max_dim``).

    Raises:
        ImageError: a bad file or an unknown pattern name.
        OfflineError: a URL that is not cached while offline.
    """
    if isinstance(source, str) and source.startswith("pattern:"):
        try:
            return patterns.make_pattern(source.split(":", 1)[1], max_dim or 512, seed=seed)
        except ValueError as err:
            raise ImageError(f"style '{source}': {err}") from err
    if isinstance(source, (str, Path, bytes)):
        return imageio.load_image(source, max_dim=max_dim)
    image = np.asarray(source, np.float32)
    if image.ndim != 3 or image.shape[-1] != 3 or not np.isfinite(image).all():
        raise ImageError(f"expected an H×W×3 image in [0, 1]; got shape {image.shape}")
    if max_dim is not None and max(image.shape[:2]) > max_dim:
        image = np.asarray(imageio.resize_max_dim(image, max_dim))
    return np.clip(image, 0.0, 1.0)


_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32)


def preserve_luminance(image: np.ndarray, content_image: np.ndarray) -> np.ndarray:
    """Keep the content's colours: the luminance (Y of YIQ) of ``image``, the chroma (IQ) of the content."""
    content = np.asarray(imageio.resize(content_image, image.shape[:2])) if content_image.shape != image.shape \
        else content_image
    yiq_image, yiq_content = image @ _YIQ.T, content @ _YIQ.T
    mixed = np.concatenate([yiq_image[..., :1], yiq_content[..., 1:]], axis=-1)
    return np.clip(mixed @ np.linalg.inv(_YIQ).T, 0.0, 1.0).astype(np.float32)


def match_colors(style_image: np.ndarray, content_image: np.ndarray) -> np.ndarray:
    """Recolour the style image so its colour mean and covariance equal the content's."""
    def stats(x):
        flat = x.reshape(-1, 3).astype(np.float64)
        return flat, flat.mean(0), np.cov(flat, rowvar=False) + 1e-5 * np.eye(3)

    flat, mu_s, cov_s = stats(style_image)
    _, mu_c, cov_c = stats(content_image)

    def sqrt(c, inverse=False):
        values, vectors = np.linalg.eigh(c)
        return vectors @ np.diag(values ** (-0.5 if inverse else 0.5)) @ vectors.T

    out = (flat - mu_s) @ (sqrt(cov_c) @ sqrt(cov_s, inverse=True)).T + mu_c
    return np.clip(out.reshape(style_image.shape), 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------- evaluation

def evaluate(image: Any, content_image: Any, style_images: Sequence[Any], extractor: FeatureExtractor, *,
             blend: Sequence[float] | None = None) -> dict[str, float]:
    """How stylized, how faithful: numbers to compare settings with.

    Returns:
        ``style_distance``: Σ_l ‖G_l − A_l‖ / ‖A_l‖ averaged over style layers (blended over the
        style images; 0 = the style's feature statistics exactly). ``content_distance``:
        ‖F − P‖ / ‖P‖ at the content layers (0 = the content's features exactly).
        ``ssim``: SSIM to the content image (1 = identical). All at the image's size, measured
        with ``extractor`` (whose weights the caller reports).
    """
    x = _batch(image)
    content = _batch(np.asarray(imageio.resize(np.asarray(content_image), x.shape[1:3])))
    blend = np.ones(len(style_images)) if blend is None else np.asarray(blend, np.float64)
    blend = blend / blend.sum()
    f_x, f_c = extractor(x), extractor(content)
    rel = lambda a, b: float(tf.norm(a - b) / (tf.norm(b) + 1e-12))  # noqa: E731
    style_distance = 0.0
    for b, s in zip(blend, style_images):
        f_s = extractor(_batch(s))
        style_distance += b * np.mean([rel(gram_matrix(f_x[n]), gram_matrix(f_s[n])) for n in extractor.style_layers])
    content_distance = np.mean([rel(f_x[n], f_c[n]) for n in extractor.content_layers]) \
        if extractor.content_layers else float("nan")
    return {"style_distance": float(style_distance), "content_distance": float(content_distance),
            "ssim": float(metrics.ssim(content[0].numpy(), x[0].numpy()))}


# ----------------------------------------------------------------------------- the whole run

#: A coarse L-BFGS stage ends once its best value fell by less than this fraction over the last
#: :data:`STAGE_PATIENCE` evaluations (or after twice the final stage's steps; :func:`stage_schedule`):
#: measured at 512 px (benchmarks/style_benchmark.py), longer coarse stages cost time and the final
#: stage does not need them.
STAGE_TOLERANCE = 0.01
STAGE_PATIENCE = 10


def stage_schedule(steps: int, num_stages: int, stage_tolerance: float | None = None) -> list[tuple[int, float]]:
    """Each coarse-to-fine stage's ``(most evaluations, tolerance)`` for :func:`run_lbfgs`.

    Coarse stages are cheap (¼ of the pixels per halving) and their work is only the start of the
    next stage: up to twice ``steps``, ending once settled (``stage_tolerance``, default
    :data:`STAGE_TOLERANCE`). The final stage runs all ``steps`` (tolerance 0).
    """
    tolerance = STAGE_TOLERANCE if stage_tolerance is None else stage_tolerance
    return [(2 * steps, tolerance)] * (num_stages - 1) + [(steps, 0.0)]


def coarse_to_fine_sizes(max_dim: int, min_dim: int = 128) -> list[int]:
    """Long sides of the stages: halving from ``max_dim`` while at least ``min_dim`` (e.g. 128, 256, 512)."""
    sizes = [int(max_dim)]
    while sizes[0] // 2 >= min_dim:
        sizes.insert(0, sizes[0] // 2)
    return sizes


@dataclass
class StyleResult:
    """What a style-transfer run made, and how: image, numbers, history and settings."""

    image: np.ndarray
    metrics: dict[str, float]
    weights: str
    seconds: float
    history: list[dict] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        m = self.metrics
        return (f"{self.image.shape[1]}×{self.image.shape[0]} px in {self.seconds:.0f} s with {self.weights}: "
                f"style distance {m['style_distance']:.3f}, content distance {m['content_distance']:.3f}, "
                f"SSIM to content {m['ssim']:.3f}")


def style_transfer(content_image: Any, style_images: Any, *, max_dim: int = 512, steps: int | None = None,
                   optimizer: str = "lbfgs", weights: str | Path = "auto", style_weight: float | None = None,
                   content_weight: float | None = None, tv_weight: float | None = None,
                   blend: Sequence[float] | None = None, preserve_color: str | None = None,
                   content_layers: Sequence[str] = CONTENT_LAYERS, style_layers: Sequence[str] | None = None,
                   style_layer_weights=None, coarse_to_fine: bool = True, min_dim: int = 128,
                   stage_tolerance: float | None = None, init: str = "content", seed: int = 0,
                   extractor: FeatureExtractor | None = None, objective: dict | None = None,
                   callback: Callback | None = None, verbose: bool = True) -> StyleResult:
    """Stylize ``content_image`` like ``style_images``, coarse to fine; see :func:`stylize` for the arguments.

    Returns:
        A :class:`StyleResult` (image, metrics, which weights, seconds, history, settings).
    """
    start = time.perf_counter()
    styles = style_images if isinstance(style_images, (list, tuple)) else [style_images]
    content = load_style_image(content_image, max_dim=None)
    content = np.asarray(imageio.resize_max_dim(content, max_dim))
    styles = [load_style_image(s, max_dim=max(max_dim, 256), seed=seed) for s in styles]
    if preserve_color == "match":
        styles = [match_colors(s, content) for s in styles]
    elif preserve_color not in (None, "luminance"):
        raise ArtlibError(f"preserve_color must be None, 'luminance' or 'match', not {preserve_color!r}")
    if optimizer not in ("lbfgs", "adam"):
        raise ArtlibError(f"optimizer must be 'lbfgs' or 'adam', not {optimizer!r}")
    if extractor is None:
        extractor = FeatureExtractor(weights, content_layers, style_layers, seed=seed, verbose=verbose)
    sizes = coarse_to_fine_sizes(max_dim, min_dim) if coarse_to_fine else [max_dim]
    steps = steps if steps is not None else config.choose(full=100 if optimizer == "lbfgs" else 1000, fast=10)
    schedule = stage_schedule(steps, len(sizes), stage_tolerance)
    settings = dict(max_dim=max_dim, steps=steps, optimizer=optimizer, sizes=sizes, schedule=schedule,
                    preserve_color=preserve_color, blend=blend, init=init, seed=seed, **(objective or {}))
    terms = dict(objective or {})
    terms.update({k: v for k, v in dict(style_weight=style_weight, content_weight=content_weight,
                                       tv_weight=tv_weight).items() if v is not None})
    image = None
    history: list[dict] = []
    for stage, size in enumerate(sizes):
        target = np.asarray(imageio.resize_max_dim(content, size))
        stage_styles = [np.asarray(imageio.resize_max_dim(s, max(size, 64))) for s in styles]
        objective_at_size = Objective(extractor, target, stage_styles, blend=blend,
                                      style_layer_weights=style_layer_weights, **terms)
        if image is None:
            rng = np.random.default_rng(seed)
            image = target if init == "content" else rng.uniform(0, 1, target.shape).astype(np.float32)
        else:
            image = np.asarray(imageio.resize(image, target.shape[:2]))
        stage_steps, tolerance = schedule[stage]

        def report(i: int, t: dict, _stage=stage, _size=size) -> None:
            record = dict(t, stage=_stage, size=_size, step=i, seconds=time.perf_counter() - start)
            history.append(record)
            if callback is not None:
                callback(len(history) - 1, record)

        if optimizer == "lbfgs":
            image, _ = run_lbfgs(objective_at_size, image, stage_steps, callback=report, tolerance=tolerance,
                                 patience=STAGE_PATIENCE)
        else:
            image, _ = run_adam(objective_at_size, image, stage_steps, callback=report)
    if preserve_color == "luminance":
        image = preserve_luminance(image, content)
    result = StyleResult(image=image.astype(np.float32), metrics=evaluate(image, content, styles, extractor,
                                                                          blend=blend),
                         weights=extractor.source, seconds=time.perf_counter() - start, history=history,
                         settings=settings)
    if verbose:
        print("style:", result.summary())
    return result


def stylize(content_image: Any, style_images: Any, *, max_dim: int = 512, steps: int | None = None,
            optimizer: str = "lbfgs", weights: str | Path = "auto", **options: Any) -> np.ndarray:
    """Paint ``content_image`` in the style of ``style_images``.

    Args:
        content_image: Array ``H×W×3`` in [0, 1], path, URL or file bytes.
        style_images: One style or a list: arrays, paths, URLs or ``"pattern:NAME"``
            (see :mod:`artlib.patterns`).
        max_dim: Long side of the output in pixels.
        steps: Optimizer steps at the final size (coarse stages up to twice as many);
            default 100 for L-BFGS, 1000 for Adam (10 in fast mode).
        optimizer: ``"lbfgs"`` (default) or ``"adam"`` (the tutorial's settings).
        weights: VGG19 weights policy: ``"auto"``, ``"imagenet"``, ``"random"`` or a file path.
        **options: ``style_weight``, ``content_weight``, ``tv_weight`` (default :func:`default_weights`),
            ``blend`` (one weight per style image), ``preserve_color`` (``"luminance"``:
            transfer only brightness; ``"match"``: recolour the styles like the content first),
            ``content_layers``, ``style_layers``, ``style_layer_weights``, ``coarse_to_fine``
            (default True), ``min_dim`` (first stage, default 128), ``stage_tolerance`` (a coarse
            L-BFGS stage ends once it improves less than this fraction in :data:`STAGE_PATIENCE`
            evaluations; default :data:`STAGE_TOLERANCE`, 0 runs every step), ``init`` (``"content"``
            or ``"noise"``), ``seed``, ``extractor`` (reuse one), ``objective`` (e.g.
            :data:`TUTORIAL_WEIGHTS`), ``callback(step, record)``, ``verbose``.

    Returns:
        float32 ``H×W×3`` pixels in [0, 1].

    Raises:
        ImageError: an unusable image. DataError: a missing weights file.

    Example:
        >>> out = stylize(data.load_sample_photo("chelsea"), "pattern:swirls", max_dim=256)  # doctest: +SKIP
    """
    return style_transfer(content_image, style_images, max_dim=max_dim, steps=steps, optimizer=optimizer,
                          weights=weights, **options).image
