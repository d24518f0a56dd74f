"""Real-time style transfer: a feed-forward network trained with the perceptual loss.

Optimization-based style transfer (:mod:`artlib.style`) runs an optimizer for every
picture: seconds to minutes each. Johnson, Alahi & Fei-Fei ("Perceptual Losses for
Real-Time Style Transfer and Super-Resolution", ECCV 2016) train an *image
transformation network* once per style, with the same content, style and total-variation
losses, on many content photos; afterwards one forward pass stylizes any photo in
milliseconds. Instance normalization (Ulyanov, Vedaldi & Lempitsky 2016) makes it work.

The network (:func:`build_transformer`)::

    images in [0, 1]        N×H×W×3   (any H, W: padded by reflection to a multiple of 4)
    9×9 conv, width         N×H×W×w
    3×3 conv stride 2       N×H/2×W/2×2w         strided-conv downsampling
    3×3 conv stride 2       N×H/4×W/4×4w
    residual blocks ×B      N×H/4×W/4×4w
    ×2 nearest + 3×3 conv   N×H/2×W/2×2w         resize-convolution: no checkerboard
    ×2 nearest + 3×3 conv   N×H×W×w
    9×9 conv -> Δ, output = sigmoid(logit(image) + Δ), cropped back to N×H×W×3

Every convolution has reflection padding and is followed by instance normalization and
ReLU (but the last). One deviation from the paper, for CPU budgets: the last convolution
starts at zero and adds to the input's logits, so the untrained network is the identity
and training only has to learn the *change* a style makes.

Use::

    result = train("pattern:swirls", num_steps=2000, run_dir="runs/fast_swirls")
    network = result.network                          # keras.Model; .save("swirls.keras")
    painted = stylize_image(network, photo)           # H×W×3 in [0, 1], milliseconds
    measure_fps(network, 256)                         # frames per second, batch 1

or ``python -m artlib fast-style train pattern:swirls -o swirls.keras`` and
``python -m artlib fast-style apply swirls photo.jpg -o out/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artlib import config  # first: selects the TensorFlow backend

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import data, imageio, net, style, training  # noqa: E402
from artlib.atomic import atomic_path  # noqa: E402
from artlib.errors import ArtlibError, DataError, ImageError  # noqa: E402

__all__ = [
    "DEFAULT_WIDTH", "DEFAULT_BLOCKS", "DEFAULT_EDGE_KERNEL", "TRAIN_PHOTOS", "EVAL_PHOTOS", "SHIPPED_DIR",
    "FAST_STYLE_WEIGHTS", "FAST_CONTENT_LAYERS", "FAST_STYLE_LAYERS", "FAST_RANDOM_STYLE_LAYERS", "loss_extractor",
    "ReflectionPadding2D", "PadToMultiple", "CropLike", "build_transformer",
    "load_content_photos", "ContentBatches", "perceptual_loss", "make_train_step", "TrainResult", "train",
    "save_network", "load_network", "shipped_styles", "stylize_batch", "stylize_image", "stylize_folder",
    "stylize_gif", "stylize_video", "measure_fps", "apply",
]

#: Width 8, 3 residual blocks and 5×5 convolutions at full resolution: real time at 256×256 on
#: 2 CPU cores. Convolutions with few channels at full resolution run far below the CPU's peak
#: (a 9×9 one from 8 channels to 3 took 35 ms at 256², a 5×5 one 14 ms), so the paper's 9×9 ends
#: and width 32 (2 frames/s on the same CPU) are not what a CPU needs; see
#: benchmarks/fast_style_benchmark.py.
DEFAULT_WIDTH = 8
DEFAULT_BLOCKS = 3
DEFAULT_EDGE_KERNEL = 5
#: Content photos for training (scikit-image, offline) and the ones held out for evaluation.
EVAL_PHOTOS = ("chelsea", "coffee")
TRAIN_PHOTOS = tuple(p for p in data.SAMPLE_PHOTOS if p not in EVAL_PHOTOS)
#: Shipped networks: ``data/pretrained/fast_style_<style>.keras``.
SHIPPED_DIR = config.REPO_ROOT / "data" / "pretrained"
#: VGG19 layers of the training loss with trained (ImageNet) weights: up to block3_conv1, 3.5×
#: cheaper per step than the full stack (block5) that optimization uses.
FAST_CONTENT_LAYERS = ("block3_conv1",)
FAST_STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1")
#: Style layers with random weights: optimization's (:data:`artlib.style.RANDOM_STYLE_LAYERS`), since
#: the Gram matrices of random block1/block2 features are matched by coloured speckle, not strokes.
FAST_RANDOM_STYLE_LAYERS = style.RANDOM_STYLE_LAYERS
#: Term weights of the perceptual loss (artlib's relative terms, as in :data:`style.ARTLIB_WEIGHTS`).
FAST_STYLE_WEIGHTS = dict(content_weight=1.0, style_weight=50.0, tv_weight=10.0)
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")


# ----------------------------------------------------------------------------- the network

@keras.saving.register_keras_serializable(package="artlib")
class ReflectionPadding2D(keras.layers.Layer):
    """Pad height and width by mirroring the border (no dark frame, unlike zero padding).

    Input ``N×H×W×C`` -> output ``N×(H+2p)×(W+2p)×C``.
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
    """

    def __init__(self, multiple: int = 4, **kwargs: Any):
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, inputs):
        shape = tf.shape(inputs)
        pad_h = (-shape[1]) % self.multiple
        pad_w = (-shape[2]) % self.multiple
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


def build_transformer(width: int = DEFAULT_WIDTH, num_blocks: int = DEFAULT_BLOCKS, *,
                      edge_kernel: int = DEFAULT_EDGE_KERNEL, seed: int = 0, name: str = "fast_style") -> keras.Model:
    """The image transformation network (Johnson et al. 2016 with instance normalization).

    Args:
        width: Channels of the first layer (the paper: 32); the middle runs at 4× this.
            Cost grows with its square: choose it for the frame rate you need.
        num_blocks: Residual blocks (the paper: 5).
        edge_kernel: Kernel size of the first and last convolutions, the two at full resolution
            (the paper: 9; odd).
        seed: Seed of the initial weights (each layer its own, derived from it).
        name: The model's name.

    Returns:
        A ``keras.Model``: images ``N×H×W×3`` in [0, 1] (any H, W ≥ 4) -> ``N×H×W×3`` in [0, 1].
        Untrained, it returns its input (up to clipping to [0.01, 0.99]).

    Example:
        >>> build_transformer(8, 1)(np.zeros((1, 37, 53, 3), "float32")).shape  # doctest: +SKIP
        TensorShape([1, 37, 53, 3])
    """
    if width < 1 or num_blocks < 0 or edge_kernel < 1 or edge_kernel % 2 == 0:
        raise ValueError(f"width must be ≥ 1, num_blocks ≥ 0 and edge_kernel odd; "
                         f"got {width}, {num_blocks}, {edge_kernel}")
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
    return keras.Model(images, out, name=name)


@keras.saving.register_keras_serializable(package="artlib")
def _unit_clip(x):
    return keras.ops.clip(x, 0.01, 0.99)


@keras.saving.register_keras_serializable(package="artlib")
def _logit(x):
    return keras.ops.log(x / (1.0 - x))


# ----------------------------------------------------------------------------- the content set

def load_content_photos(sources: Sequence[str | Path] | None = None, *, max_dim: int = 512) -> list[np.ndarray]:
    """Content photos to train on: scikit-image sample names, files, folders or http(s) URLs.

    Args:
        sources: Each a name in :data:`artlib.data.SAMPLE_PHOTOS`, an image file, a folder of
            images (read non-recursively), or a URL (downloaded once through :mod:`artlib.net`;
            online only). Default: :data:`TRAIN_PHOTOS`, which need no network.
        max_dim: Long side of each photo after loading.

    Returns:
        float32 ``H×W×3`` photos in [0, 1].

    Raises:
        ImageError: a bad image file. DataError: a folder without images, or no photos at all.
        OfflineError: a URL while offline.
    """
    photos: list[np.ndarray] = []
    for source in (TRAIN_PHOTOS if sources is None else sources):
        if isinstance(source, str) and source in data.SAMPLE_PHOTOS:
            photos.append(data.load_sample_photo(source, max_dim=max_dim))
        elif net.is_url(source):
            photos.append(imageio.load_image(net.download(str(source)), max_dim=max_dim))
        elif Path(source).is_dir():
            files = _image_files(Path(source))
            if not files:
                raise DataError(f"content folder '{source}' holds no images (.png, .jpg, …)")
            photos += [imageio.load_image(f, max_dim=max_dim) for f in files]
        else:
            photos.append(imageio.load_image(source, max_dim=max_dim))
    if not photos:
        raise DataError("no content photos to train on; give sample names, files, folders or URLs")
    return photos


def _image_files(folder: Path) -> list[Path]:
    suffixes = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


class ContentBatches(Sequence):
    """One epoch of content batches: random crops of random photos, zoomed and flipped.

    Batch ``i`` of epoch ``e`` depends only on ``(seed, e, i)``, so an epoch is the same
    every time it is built (what :func:`artlib.training.train_loop` needs to resume exactly).

    Args:
        photos: ``H×W×3`` photos in [0, 1] (see :func:`load_content_photos`).
        image_size: Side of the square crops.
        batch_size: Crops per batch.
        steps_per_epoch: Batches per epoch.
        seed: Fixes everything.
        epoch: Which epoch.

    Items are float32 ``batch_size×image_size×image_size×3`` arrays in [0, 1].
    """

    def __init__(self, photos: Sequence[np.ndarray], image_size: int, batch_size: int, *,
                 steps_per_epoch: int = 100, seed: int = 0, epoch: int = 0):
        self.photos, self.image_size, self.batch_size = list(photos), int(image_size), int(batch_size)
        self.steps_per_epoch, self.seed, self.epoch = int(steps_per_epoch), int(seed), int(epoch)
        small = [p.shape[:2] for p in self.photos if min(p.shape[:2]) < self.image_size // 2]
        if small:
            raise ImageError(f"content photos of sizes {small} are too small for {image_size}-pixel crops")

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, self.epoch, index])
        crops = []
        for _ in range(self.batch_size):
            photo = self.photos[rng.integers(len(self.photos))]
            side = int(min(photo.shape[:2]) * rng.uniform(0.5, 1.0))  # zoom: half to all of the short side
            crop = imageio.random_crop(photo, side, seed=tuple(int(s) for s in rng.integers(0, 2**31, 2)))
            crop = np.asarray(imageio.resize(crop, (self.image_size, self.image_size)))
            crops.append(crop[:, ::-1] if rng.random() < 0.5 else crop)  # random horizontal flip
        return np.stack(crops).astype(np.float32)  # batch_size×S×S×3


# ----------------------------------------------------------------------------- the loss and the step

def perceptual_loss(extractor: style.FeatureExtractor, outputs: tf.Tensor, content_images: tf.Tensor,
                    style_grams: dict[str, tf.Tensor], *, content_weight: float, style_weight: float,
                    tv_weight: float) -> dict[str, tf.Tensor]:
    """Johnson et al.'s perceptual loss with :mod:`artlib.style`'s terms, for a batch.

    Args:
        extractor: A frozen :class:`artlib.style.FeatureExtractor`.
        outputs: The network's ``N×H×W×3`` outputs in [0, 1].
        content_images: The ``N×H×W×3`` inputs: each output should keep its content.
        style_grams: ``{layer: 1×C×C}`` Gram matrices of the style image.
        content_weight, style_weight, tv_weight: Term weights.

    Returns:
        ``{"total", "content", "style", "tv"}`` scalars (weighted).
    """
    features = extractor(outputs)
    targets = extractor(content_images)
    content_layers = {n: 1.0 / len(extractor.content_layers) for n in extractor.content_layers}
    style_layers = {n: 1.0 / len(extractor.style_layers) for n in extractor.style_layers}
    grams = {n: style.gram_matrix(features[n]) for n in extractor.style_layers}  # N×C×C each
    terms = {
        "content": content_weight * style.content_loss(features, targets, content_layers),
        "style": style_weight * style.style_loss(grams, style_grams, style_layers),
        "tv": tv_weight * style.total_variation_loss(outputs, "l2"),
    }
    terms["total"] = terms["content"] + terms["style"] + terms["tv"]
    return terms


def make_train_step(network: keras.Model, optimizer: keras.optimizers.Optimizer,
                    extractor: style.FeatureExtractor, style_image: np.ndarray,
                    **weights: float) -> Callable[[Any], dict[str, tf.Tensor]]:
    """One ``@tf.function`` training step: ``step(content_images) -> {"total", "content", "style", "tv"}``.

    Only ``network`` learns; the VGG19 extractor is frozen. ``weights`` override
    :data:`FAST_STYLE_WEIGHTS`.
    """
    weights = {**FAST_STYLE_WEIGHTS, **weights}
    style_features = extractor(style_image[np.newaxis])
    style_grams = {n: tf.constant(style.gram_matrix(style_features[n])) for n in extractor.style_layers}

    @tf.function(reduce_retracing=True)
    def step(content_images):
        content_images = tf.convert_to_tensor(content_images, tf.float32)
        with tf.GradientTape() as tape:
            outputs = network(content_images, training=True)
            terms = perceptual_loss(extractor, outputs, content_images, style_grams, **weights)
        gradients = tape.gradient(terms["total"], network.trainable_variables)
        optimizer.apply(gradients, network.trainable_variables)
        return terms

    return step


# ----------------------------------------------------------------------------- training

@dataclass
class TrainResult:
    """A trained network and how it was made."""

    network: keras.Model
    history: dict[str, list[float]]
    style_image: np.ndarray
    weights: str
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)


def loss_extractor(weights: str | Path = "auto", content_layers: Sequence[str] = FAST_CONTENT_LAYERS,
                   style_layers: Sequence[str] | None = None, *, seed: int = 0,
                   verbose: bool = True) -> style.FeatureExtractor:
    """The VGG19 features of the training loss, under the weights policy.

    Style layers default to :data:`FAST_STYLE_LAYERS` (up to block3_conv1) with trained weights and
    to :data:`FAST_RANDOM_STYLE_LAYERS` (block3–5, like optimization) with random ones.
    """
    if style_layers is None:
        kind, _ = style.resolve_weights(weights, verbose=False)
        style_layers = FAST_RANDOM_STYLE_LAYERS if kind == "random" else FAST_STYLE_LAYERS
    return style.FeatureExtractor(weights, content_layers, style_layers, seed=seed, verbose=verbose)


def train(style_source: Any, *, num_steps: int | None = None, run_dir: str | Path = "runs/fast_style",
          image_size: int | None = None, batch_size: int | None = None, width: int = DEFAULT_WIDTH,
          num_blocks: int = DEFAULT_BLOCKS, edge_kernel: int = DEFAULT_EDGE_KERNEL, learning_rate: float = 1e-3,
          content: Sequence | None = None, style_size: int | None = None, weights: str | Path = "auto", seed: int = 0,
          content_layers: Sequence[str] = FAST_CONTENT_LAYERS, style_layers: Sequence[str] | None = None,
          steps_per_epoch: int = 100, save_every: int | None = None, extractor: style.FeatureExtractor | None = None,
          network: keras.Model | None = None, quiet: bool | None = None, verbose: bool = True,
          **loss_weights: float) -> TrainResult:
    """Train a transformation network for one style (resuming from ``run_dir`` if it holds a run).

    Args:
        style_source: The style: an array, a path, an http(s) URL or ``"pattern:NAME"``.
        num_steps: Steps to train up to (default 2000; 4 in fast mode).
        run_dir: Checkpoints and TensorBoard logs (``tensorboard --logdir run_dir``).
        image_size: Side of the square training crops (default 256; 64 in fast mode).
        batch_size: Crops per step (default 4; 2 in fast mode).
        width, num_blocks, edge_kernel: The network (see :func:`build_transformer`).
        learning_rate: Adam's learning rate.
        content: Content photos (see :func:`load_content_photos`); default :data:`TRAIN_PHOTOS`.
        style_size: Long side of the style image (default ``image_size``): sets the scale of
            the texture the network paints.
        weights: VGG19 weights policy (see :func:`artlib.style.resolve_weights`).
        content_layers, style_layers: VGG19 layers of the loss (default: see :func:`loss_extractor`).
        seed: Fixes the network's initialization, the crops and random VGG weights.
        steps_per_epoch: Batches per (generated) epoch.
        save_every: Checkpoint every this many steps (default: ``num_steps // 10``).
        extractor, network: Reuse these instead of building new ones.
        quiet: Hide the progress bar. verbose: Print the VGG19 notice and a summary.
        **loss_weights: ``content_weight``, ``style_weight``, ``tv_weight``.

    Returns:
        A :class:`TrainResult`.

    Raises:
        ImageError: a bad style or content image. DataError: a missing weights file.
        NonFiniteLossError: the loss diverged (the last good checkpoint is kept).
    """
    start = time.perf_counter()
    num_steps = config.choose(full=2000, fast=4) if num_steps is None else int(num_steps)
    image_size = config.choose(full=256, fast=64) if image_size is None else int(image_size)
    batch_size = config.choose(full=4, fast=2) if batch_size is None else int(batch_size)
    style_image = style.load_style_image(style_source, max_dim=style_size or image_size, seed=seed)
    photos = load_content_photos(content, max_dim=max(2 * image_size, 128))
    if extractor is None:
        extractor = loss_extractor(weights, content_layers, style_layers, seed=seed, verbose=verbose)
    if not extractor.calibrated:  # random weights: per-layer scales from a content photo
        extractor.calibrate(np.asarray(imageio.resize_max_dim(photos[0], image_size)))
    strategy = training.get_strategy()
    with strategy.scope():
        if network is None:
            network = build_transformer(width, num_blocks, edge_kernel=edge_kernel, seed=seed)
        optimizer = keras.optimizers.Adam(learning_rate)
        optimizer.build(network.trainable_variables)
    step = make_train_step(network, optimizer, extractor, style_image, **loss_weights)
    fixed = np.stack([np.asarray(imageio.resize(imageio.center_crop(p, min(p.shape[:2])), (image_size,) * 2))
                      for p in photos[:4]])

    def make_dataset(epoch: int) -> ContentBatches:
        return ContentBatches(photos, image_size, batch_size, steps_per_epoch=steps_per_epoch, seed=seed,
                              epoch=epoch)

    history = training.train_loop(
        step, make_dataset, num_steps=num_steps, run_dir=run_dir,
        state={"network": network, "optimizer": optimizer}, steps_per_epoch=steps_per_epoch,
        save_every=save_every or max(1, num_steps // 10), log_every=min(10, num_steps),
        sample_fn=lambda: np.concatenate([fixed, network(fixed, training=False).numpy()]), quiet=quiet)
    settings = dict(style=str(style_source) if not isinstance(style_source, np.ndarray) else "array",
                    num_steps=num_steps, image_size=image_size, batch_size=batch_size, width=width,
                    num_blocks=num_blocks, edge_kernel=edge_kernel, learning_rate=learning_rate, seed=seed,
                    **{**FAST_STYLE_WEIGHTS, **loss_weights})
    result = TrainResult(network, history, style_image, extractor.source, time.perf_counter() - start, settings)
    if verbose:
        last = {k: v[-1] for k, v in history.items() if k != "step" and v}
        print(f"fast-style: trained to step {num_steps} in {result.seconds:.0f} s with {extractor.source}; "
              + ", ".join(f"{k} {v:.3g}" for k, v in last.items()))
    return result


# ----------------------------------------------------------------------------- saving and loading

def save_network(network: keras.Model, path: str | Path, *, force: bool = False) -> Path:
    """Save ``network`` as a ``.keras`` file (atomically; an existing file only with ``force``)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ArtlibError(f"the network file must end in .keras; got '{path}'")
    if path.exists() and not force:
        raise ArtlibError(f"'{path}' exists; pass --force (force=True) to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        network.save(tmp)
    return path


def shipped_styles() -> dict[str, Path]:
    """The shipped networks by style name: ``{"swirls": data/pretrained/fast_style_swirls.keras, …}``."""
    return {p.stem.removeprefix("fast_style_"): p for p in sorted(SHIPPED_DIR.glob("fast_style_*.keras"))}


def load_network(source: str | Path) -> keras.Model:
    """Load a trained network: a ``.keras`` path, or the name of a shipped style (``"swirls"``).

    Loads with ``safe_mode=True`` (no code from the file is run).

    Raises:
        DataError: the file is missing, or is not a network saved by :func:`save_network`.
    """
    shipped = shipped_styles()
    path = shipped.get(str(source).removeprefix("pattern:"), Path(source))
    if not path.is_file():
        known = ", ".join(shipped) or "none"
        raise DataError(f"network '{source}' not found: give a .keras file made by "
                        f"'python -m artlib fast-style train', or a shipped style ({known})")
    try:
        network = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # noqa: BLE001 - zip, JSON, h5 and Keras errors all mean "not a network"
        raise DataError(f"'{path}' is not a readable fast-style network ({type(err).__name__}: "
                        f"{str(err).splitlines()[0] if str(err) else ''}); train one again") from err
    if network.output_shape[-1] != 3 or network.input_shape[-1] != 3:
        raise DataError(f"'{path}' is a Keras model but not an image-to-image network")
    return network


# ----------------------------------------------------------------------------- rendering

_COMPILED: dict[tuple[int, bool], Callable] = {}


def _forward(network: keras.Model, jit_compile: bool = False) -> Callable:
    """The network as a ``tf.function`` for any batch and image size (traced once per shape)."""
    key = (id(network), bool(jit_compile))
    if key not in _COMPILED:
        if any(k[0] != id(network) for k in _COMPILED):
            _COMPILED.clear()  # one network at a time: a forgotten one is not kept alive

        def forward(images):
            return network(images, training=False)

        _COMPILED[key] = tf.function(forward, reduce_retracing=True, autograph=False, jit_compile=jit_compile)
    return _COMPILED[key]


def stylize_batch(network: keras.Model, images: Any, *, batch_size: int = 8,
                  jit_compile: bool = False) -> np.ndarray:
    """Stylize a batch ``N×H×W×3`` in [0, 1] (same size), ``batch_size`` at a time.

    Args:
        jit_compile: Compile the network with XLA: faster frames (about 1.3× on a CPU), at the
            cost of a compilation per new image size; worth it for videos and GIFs.

    Returns:
        float32 ``N×H×W×3`` in [0, 1].
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] != 3 or min(images.shape[1:3]) < 4:
        raise ImageError(f"expected a batch N×H×W×3 with H, W ≥ 4; got shape {images.shape}")
    forward = _forward(network, jit_compile)
    return np.concatenate([forward(tf.constant(images[i:i + batch_size])).numpy()
                           for i in range(0, len(images), batch_size)])


def stylize_image(network: keras.Model, image: Any, *, max_dim: int | None = None) -> np.ndarray:
    """Stylize one image (array, path, URL or bytes), optionally resized to long side ``max_dim``.

    Returns:
        float32 ``H×W×3`` in [0, 1].
    """
    if isinstance(image, np.ndarray):
        image = style.load_style_image(image, max_dim=max_dim)
    else:
        image = imageio.load_image(image, max_dim=max_dim)
    return stylize_batch(network, image[np.newaxis])[0]


def _output(out_dir: Path, name: str, force: bool) -> Path:
    path = out_dir / name
    if path.exists() and not force:
        raise ArtlibError(f"'{path}' exists; pass --force to overwrite it")
    return path


def stylize_folder(network: keras.Model, folder: str | Path, out_dir: str | Path, *, max_dim: int | None = None,
                   force: bool = False) -> list[Path]:
    """Stylize every image in ``folder`` into ``out_dir`` (PNG files of the same names)."""
    files = _image_files(Path(folder))
    if not files:
        raise DataError(f"folder '{folder}' holds no images (.png, .jpg, …)")
    return [p for f in files for p in apply(network, [f], out_dir, max_dim=max_dim, force=force)]


def stylize_gif(network: keras.Model, path: str | Path, out_path: str | Path, *, max_dim: int | None = None,
                force: bool = False) -> Path:
    """Stylize every frame of an animated GIF, keeping each frame's duration and the loop count.

    Raises:
        ImageError: the file is not a readable GIF.
    """
    from PIL import Image, ImageSequence, UnidentifiedImageError

    out_path = Path(out_path)
    if out_path.exists() and not force:
        raise ArtlibError(f"'{out_path}' exists; pass --force to overwrite it")
    try:
        with Image.open(path) as im:
            frames, durations = [], []
            for frame in ImageSequence.Iterator(im):
                durations.append(int(frame.info.get("duration", im.info.get("duration", 100)) or 100))
                frames.append(np.asarray(frame.convert("RGB"), np.float32) / 255.0)
            loop = im.info.get("loop", 0)
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise ImageError(f"'{path}' is not a readable GIF ({err})") from err
    if max_dim is not None:
        frames = [np.asarray(imageio.resize_max_dim(f, max_dim)) for f in frames]
    painted = stylize_batch(network, np.stack(frames))  # N×H×W×3
    pictures = [Image.fromarray(np.round(f * 255).astype(np.uint8)) for f in painted]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_path) as tmp:
        pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:], duration=durations,
                         loop=loop)
    return out_path


def stylize_video(network: keras.Model, path: str | Path, out_dir: str | Path, *, max_dim: int | None = None,
                  force: bool = False) -> list[Path]:
    """Stylize a video's frames into ``out_dir/<name>_00000.png …`` (needs a video reader).

    Raises:
        ArtlibError: no video reader is installed (``pip install imageio[ffmpeg]`` or ``av``).
        ImageError: the video cannot be read.
    """
    try:
        import imageio.v3 as iio
    except ImportError as err:
        raise ArtlibError("reading videos needs imageio with a video plugin: "
                          "pip install 'imageio[ffmpeg]' (or av)") from err
    out_dir = Path(out_dir)
    written = []
    try:
        for i, frame in enumerate(iio.imiter(path)):
            image = imageio.to_float(np.asarray(frame)[..., :3])
            painted = stylize_image(network, np.asarray(image, np.float32), max_dim=max_dim)
            target = _output(out_dir, f"{Path(path).stem}_{i:05d}.png", force)
            written.append(imageio.save_image(target, painted))
    except (ImportError, ValueError, OSError, RuntimeError) as err:
        if isinstance(err, ArtlibError):
            raise
        raise ArtlibError(f"cannot read video '{path}' ({type(err).__name__}: {str(err).splitlines()[0]}); "
                          "install a video reader: pip install 'imageio[ffmpeg]' (or av)") from err
    return written


def measure_fps(network: keras.Model, size: int | Sequence[int] = 256, *, batch_size: int = 1,
                frames: int = 30, warmup: int = 3, jit_compile: bool = False) -> float:
    """Steady-state frames per second at ``size`` (an int: square), warm-up (and XLA compilation) excluded.

    Returns:
        Images stylized per second (``frames × batch_size`` images timed).
    """
    h, w = (size, size) if isinstance(size, int) else size
    x = tf.constant(np.random.default_rng(0).uniform(0, 1, (batch_size, h, w, 3)).astype(np.float32))
    forward = _forward(network, jit_compile)
    for _ in range(warmup):
        forward(x).numpy()
    start = time.perf_counter()
    for _ in range(frames):
        forward(x).numpy()
    return frames * batch_size / (time.perf_counter() - start)


def apply(network: keras.Model | str | Path, inputs: Iterable[str | Path], out_dir: str | Path, *,
          max_dim: int | None = None, force: bool = False, verbose: bool = False) -> list[Path]:
    """Stylize images, folders, animated GIFs and videos into ``out_dir`` (what the CLI's ``apply`` does).

    Args:
        network: A network, a ``.keras`` path, or a shipped style name.
        inputs: Image files, folders, ``.gif`` files, video files.
        out_dir: Output folder (``<name>.png``, ``<name>.gif``, ``<name>_NNNNN.png`` for video frames).
        max_dim: Resize each input to this long side first.
        force: Overwrite existing outputs.
        verbose: Print each output and the frame rate.

    Returns:
        The files written.
    """
    if not isinstance(network, keras.Model):
        network = load_network(network)
    out_dir = Path(out_dir)
    written: list[Path] = []
    for source in inputs:
        source = Path(source)
        start, before = time.perf_counter(), len(written)
        if source.is_dir():
            written += stylize_folder(network, source, out_dir, max_dim=max_dim, force=force)
        elif not source.is_file():
            raise ImageError(f"input '{source}' does not exist")
        elif source.suffix.lower() == ".gif":
            written.append(stylize_gif(network, source, _output(out_dir, source.stem + ".gif", force),
                                       max_dim=max_dim, force=True))
        elif source.suffix.lower() in VIDEO_SUFFIXES:
            written += stylize_video(network, source, out_dir, max_dim=max_dim, force=force)
        else:
            target = _output(out_dir, source.stem + ".png", force)
            written.append(imageio.save_image(target, stylize_image(network, source, max_dim=max_dim)))
        if verbose and not source.is_dir():
            print(f"{source} -> {written[-1] if len(written) == before + 1 else out_dir} "
                  f"({time.perf_counter() - start:.2f} s)")
    return written
