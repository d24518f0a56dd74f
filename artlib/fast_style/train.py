"""Training a network for one style: the perceptual loss, the ``tf.function`` step and ``train`` on ``train_loop``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib import config, imageio, modelio, style, training
from artlib.atomic import atomic_write_text
from artlib.errors import ArtlibError, CheckpointError
from artlib.checks import positive_float, positive_int, seed_value
from artlib.fast_style.content import ContentBatches, default_content, load_content_photos
from artlib.fast_style.network import (
    DEFAULT_BLOCKS,
    DEFAULT_EDGE_KERNEL,
    DEFAULT_WIDTH,
    build_transformer,
    MatchColours,
    check_architecture,
    colour_statistics,
)

__all__ = ["FAST_CONTENT_LAYERS", "FAST_STYLE_LAYERS", "FAST_RANDOM_CONTENT_LAYERS", "FAST_RANDOM_STYLE_LAYERS",
           "FAST_STYLE_WEIGHTS", "STYLE_TERMS", "TRAIN_DEFAULTS",
           "SETTINGS_FILE", "RUN_SETTINGS", "loss_extractor", "perceptual_loss", "make_train_step", "FastStyleResult",
           "train"]

#: Layers of the training loss with trained features (hed-vgg16 or ImageNet VGG19): the style layers of
#: Johnson, Alahi & Fei-Fei (relu1_2, relu2_2, relu3_3, relu4_3) and the content layer of their released
#: code (relu3_3; the paper's style-transfer runs used relu2_2), up to block4 — cheaper per step than
#: the block5 stack optimization uses. Both VGGs have these layers.
FAST_CONTENT_LAYERS = ("block3_conv3",)
FAST_STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")
#: Content layer with random weights.
FAST_RANDOM_CONTENT_LAYERS = ("block3_conv1",)
#: Style layers with random weights: optimization's (:data:`artlib.style.RANDOM_STYLE_LAYERS`), since
#: the Gram matrices of random block1/block2 features are matched by coloured speckle, not strokes.
FAST_RANDOM_STYLE_LAYERS = style.RANDOM_STYLE_LAYERS
#: Term weights of the perceptual loss (artlib's relative terms). Style 20, not 50: measured on hed-vgg16
#: features (swirls, mosaic; data/README.md), at 50 the default network covers the photo with a repeated
#: texture and loses the subject; at 20 the subject stays. With ``match_colours=True`` the palette comes
#: free and the style term goes into textures: 10 kept the subject there (waves), 20 did not.
FAST_STYLE_WEIGHTS = dict(content_weight=1.0, style_weight=20.0, tv_weight=10.0)
#: How the style term measures a crop's distance to the style: ``"squared"``, Johnson et al.'s squared Gram
#: differences (:func:`artlib.style.style_loss`, relative), or ``"distance"``, the style distance the
#: quality ratio judges (:func:`artlib.style.style_distance_loss`: every layer pulls alike). The first is
#: the default; the shipped waves network is trained with the second (``data/README.md``).
STYLE_TERMS = ("squared", "distance")
#: :func:`train`'s steps, crop side and crops per step when not given, per mode (:func:`artlib.config.choose`;
#: lesson mode takes full's): the recipe's sizes, and a seconds-long run for CI. ``--help`` shows both.
TRAIN_DEFAULTS = {"full": {"num_steps": 2000, "image_size": 256, "batch_size": 4},
                  "fast": {"num_steps": 4, "image_size": 64, "batch_size": 2}}
#: The settings of a run, written to ``run_dir/settings.json`` when it starts.
SETTINGS_FILE = "settings.json"
#: The settings that fix a run's initial weights, style pattern, data order and network's last layer: a
#: resumed run keeps the ones it started with, whatever the call says (it prints which it kept).
RUN_SETTINGS = ("seed", "image_size", "batch_size", "steps_per_epoch", "match_colours")


def perceptual_loss(extractor: style.FeatureExtractor, outputs: tf.Tensor, content_images: tf.Tensor,
                    style_grams: dict[str, tf.Tensor], *, content_weight: float, style_weight: float,
                    tv_weight: float, style_term: str = "squared") -> dict[str, tf.Tensor]:
    """Johnson et al.'s perceptual loss with :mod:`artlib.style`'s terms, for a batch.

    Args:
        extractor: A frozen :class:`artlib.style.FeatureExtractor`.
        outputs: The network's ``N×H×W×3`` outputs in [0, 1].
        content_images: The ``N×H×W×3`` inputs: each output should keep its content.
        style_grams: ``{layer: 1×C×C}`` Gram matrices of the style image.
        content_weight, style_weight, tv_weight: Term weights.
        style_term: One of :data:`STYLE_TERMS`.

    Returns:
        ``{"total", "content", "style", "tv"}`` scalars (weighted).

    Raises:
        ArtlibError: Another ``style_term``.
    """
    style_term = check_style_term(style_term)
    features = extractor(outputs)
    targets = extractor(content_images)
    content_layers = {n: 1.0 / len(extractor.content_layers) for n in extractor.content_layers}
    style_layers = {n: 1.0 / len(extractor.style_layers) for n in extractor.style_layers}
    grams = {n: style.gram_matrix(features[n]) for n in extractor.style_layers}  # N×C×C each
    terms = {
        "content": content_weight * style.content_loss(features, targets, content_layers),
        "style": style_weight * (style.style_loss if style_term == "squared" else style.style_distance_loss)(
            grams, style_grams, style_layers),
        "tv": tv_weight * style.total_variation_loss(outputs, "l2"),
    }
    terms["total"] = terms["content"] + terms["style"] + terms["tv"]
    return terms


def make_train_step(network: keras.Model, optimizer: keras.optimizers.Optimizer,
                    extractor: style.FeatureExtractor, style_image: np.ndarray, *, style_term: str = "squared",
                    **weights: float) -> Callable[[Any], dict[str, tf.Tensor]]:
    """One ``@tf.function`` training step: ``step(content_images) -> {"total", "content", "style", "tv"}``.

    Only ``network`` learns; the feature extractor (VGG19 or hed-vgg16) is frozen. The step runs over the
    replicas of the strategy in scope (:func:`artlib.training.distribute_step`): the crops split over them.

    Args:
        network: The transformation network to train.
        optimizer: Its optimizer (built on ``network.trainable_variables``, or built on first use).
        extractor: The loss's frozen features (see :func:`loss_extractor`).
        style_image: ``H×W×3`` in [0, 1]: its Gram matrices are the style target.
        style_term: How the style term measures (one of :data:`STYLE_TERMS`).
        **weights: ``content_weight``, ``style_weight``, ``tv_weight``; override
            :data:`FAST_STYLE_WEIGHTS`.

    Returns:
        The step function.

    Raises:
        ArtlibError: Another ``style_term``.
    """
    weights = {**FAST_STYLE_WEIGHTS, **weights, "style_term": check_style_term(style_term)}
    style_features = extractor(style_image[np.newaxis])
    style_grams = {n: tf.constant(style.gram_matrix(style_features[n])) for n in extractor.style_layers}

    def replica_step(content_images):
        content_images = tf.convert_to_tensor(content_images, tf.float32)
        with tf.GradientTape() as tape:
            outputs = network(content_images, training=True)
            terms = perceptual_loss(extractor, outputs, content_images, style_grams, **weights)
            scaled = training.scale_loss(terms["total"])  # the replicas' gradients are summed
        gradients = tape.gradient(scaled, network.trainable_variables)
        optimizer.apply(gradients, network.trainable_variables)
        return terms

    return training.distribute_step(replica_step, reduce_retracing=True)


@dataclass(kw_only=True, eq=False)
class FastStyleResult(training.TrainResult):
    """A :class:`~artlib.training.TrainResult` (``history``: this call's ``{"step": [...], "total": [...],
    "content": …}``; ``final_step``, ``seconds``, ``stopped``, ``run_dir``) with what the run made.

    Attributes:
        network: The trained ``keras.Model``.
        style_image: The style image the network learned, ``H×W×3`` in [0, 1].
        weights: Which features made the loss (the extractor's ``source``).
        settings: The run's settings (as in ``run_dir/settings.json``).
    """

    network: keras.Model
    style_image: np.ndarray
    weights: str
    settings: dict[str, Any] = field(default_factory=dict)


def check_style_term(style_term: Any) -> str:
    """``style_term`` if it is one of :data:`STYLE_TERMS`.

    Raises:
        ArtlibError: Anything else (the message lists the choices).
    """
    if style_term not in STYLE_TERMS:
        raise ArtlibError(f"style_term must be one of {', '.join(map(repr, STYLE_TERMS))}; got {style_term!r}")
    return str(style_term)


def loss_extractor(weights: str | Path = "auto", content_layers: Sequence[str] | None = None,
                   style_layers: Sequence[str] | None = None, *, seed: int = 0,
                   verbose: bool = True) -> style.FeatureExtractor:
    """The features of the training loss, under the weights policy.

    Args:
        weights: The features (see :func:`artlib.style.resolve_weights`).
        content_layers: Layers whose features each output keeps. Default: :data:`FAST_CONTENT_LAYERS`
            with trained features, :data:`FAST_RANDOM_CONTENT_LAYERS` with random ones.
        style_layers: Layers whose Gram matrices carry the style. Default: :data:`FAST_STYLE_LAYERS`
            (Johnson et al.'s style layers, up to block4) with trained features, :data:`FAST_RANDOM_STYLE_LAYERS`
            (block3–5, like optimization) with random ones.
        seed: Seed of random weights.
        verbose: Print which features were chosen.

    Returns:
        A frozen :class:`artlib.style.FeatureExtractor`.
    """
    seed = seed_value(seed)
    random = style.resolve_weights(weights, verbose=False).family == "random"
    if content_layers is None:
        content_layers = FAST_RANDOM_CONTENT_LAYERS if random else FAST_CONTENT_LAYERS
    if style_layers is None:
        style_layers = FAST_RANDOM_STYLE_LAYERS if random else FAST_STYLE_LAYERS
    return style.FeatureExtractor(weights, content_layers, style_layers, seed=seed, verbose=verbose)


def _resumed_settings(run_dir: Path, given: dict[str, Any], *, quiet: bool | None) -> dict[str, Any]:
    """``given`` with :data:`RUN_SETTINGS` replaced by the run's own when ``run_dir`` holds a run to resume."""
    modelio.check_run_kind(run_dir, "fast-style")  # a GAN's or a diffusion model's run directory: refused
    path = run_dir / SETTINGS_FILE
    if not (path.is_file() and training.RunDir(run_dir).has_progress()):
        return given
    saved = training.read_json_object(path, f"delete {run_dir} to start over")
    saved.setdefault("match_colours", False)  # a run from before the setting: its network had no such layer
    kept = {k: saved[k] for k in RUN_SETTINGS if k in saved and saved[k] != given[k]}
    if kept and quiet is not True:
        print(f"fast-style: resuming {run_dir} with its own " +
              ", ".join(f"{k} {v} (not {given[k]})" for k, v in kept.items()))
    return {**given, **kept}


def _check_the_rest(run_dir: Path, settings: dict[str, Any]) -> None:
    """Refuse to resume a run with another style, features, network or loss than it was trained with.

    :data:`RUN_SETTINGS` are the run's own already; a setting its ``settings.json`` does not hold (a run from
    before it) is taken as it is asked for, but ``style_term``: such a run trained with the squared term.

    Raises:
        CheckpointError: A setting differs (the message names each, as a run directory of another topic does).
    """
    run = training.RunDir(run_dir)
    if changes := run.settings_changes(settings, known_only=True, before={"style_term": "squared"}):
        raise run.other_settings(changes)


def train(style_source: Any, *, num_steps: int | None = None, run_dir: str | Path = "runs/fast_style",
          image_size: int | None = None, batch_size: int | None = None, width: int = DEFAULT_WIDTH,
          num_blocks: int = DEFAULT_BLOCKS, edge_kernel: int = DEFAULT_EDGE_KERNEL, learning_rate: float = 1e-3,
          content: Sequence | None = None, style_size: int | None = None, weights: str | Path = "auto", seed: int = 0,
          content_layers: Sequence[str] | None = None, style_layers: Sequence[str] | None = None,
          steps_per_epoch: int = 100, save_every: int | None = None, match_colours: bool = False,
          style_term: str = "squared", extractor: style.FeatureExtractor | None = None,
          network: keras.Model | None = None, quiet: bool | None = None, verbose: bool = True,
          **loss_weights: float) -> FastStyleResult:
    """Train a transformation network for one style, resuming from ``run_dir`` if it holds a run.

    A resumed run continues exactly where it stopped, with the :data:`RUN_SETTINGS` (seed, crop
    size, batch size, steps per epoch, ``match_colours``) it started with; another style, feature
    network, network size, content or loss weight than it was trained with is refused (only
    ``num_steps`` may change). The run's settings are in ``run_dir/settings.json``.

    Args:
        style_source: The style: an array, a path, an http(s) URL, ``"pattern:NAME"`` or ``"painting:NAME"``.
        num_steps: Steps to train up to, a total (default 2000; 4 in fast mode).
        run_dir: Checkpoints and TensorBoard logs (``tensorboard --logdir run_dir``).
        image_size: Side of the square training crops (default 256; 64 in fast mode).
        batch_size: Crops per step (default 4; 2 in fast mode).
        width, num_blocks, edge_kernel: The network (see :func:`build_transformer`).
        learning_rate: Adam's learning rate.
        content: Content photos (see :func:`load_content_photos`); default :func:`default_content`'s
            (scikit-image's, and Debian opencv-doc's where installed, with a line saying which).
        style_size: Long side of the style image (default ``image_size``): sets the scale of
            the texture the network paints.
        weights: The loss's features (see :func:`artlib.style.resolve_weights`).
        content_layers, style_layers: The feature network's layers of the loss (default: see :func:`loss_extractor`).
        seed: Fixes the network's initialization, the crops, a pattern style and random VGG weights.
        steps_per_epoch: Batches per (generated) epoch.
        save_every: Checkpoint every this many steps (default: ``num_steps // 10``).
        match_colours: End the network with :class:`~artlib.fast_style.MatchColours` set to the
            style image's colour statistics, so every output has the style's palette and training
            goes into its textures. Measured (``data/README.md``): closer to the style in seven of
            eight style × photo pairs of the shipped styles, but on a style with a narrow, dark palette
            (swirls) it squeezes the photo's contrast into the style's and the subject fades, so it is
            an option, not the default. One of :data:`RUN_SETTINGS`.
        style_term: How the style term measures a crop against the style (:data:`STYLE_TERMS`):
            ``"squared"`` (Johnson et al.'s) or ``"distance"`` (the judged style distance itself).
        extractor, network: Reuse these instead of building new ones. A given ``network`` is used as
            it is, and a new run records whether it ends in ``MatchColours``.
        quiet: Hide the progress bar. verbose: Print which features were chosen, and a summary.
        **loss_weights: ``content_weight``, ``style_weight``, ``tv_weight``.

    Returns:
        A :class:`FastStyleResult`.

    Raises:
        ArtlibError: a count or size that is not a positive integer, a learning rate ≤ 0, an unknown
            ``style_term``, or a ``batch_size`` that does not split evenly over the strategy's replicas.
        ImageError: a bad style or content image. DataError: a missing weights file.
        CheckpointError: ``run_dir`` holds another network's checkpoints, or a run with other settings.
        NonFiniteLossError: the loss diverged (the last good checkpoint is kept).
    """
    start = time.perf_counter()
    run_dir = Path(run_dir)
    defaults = config.choose(**TRAIN_DEFAULTS)
    num_steps = positive_int(defaults["num_steps"] if num_steps is None else num_steps, "num_steps")
    image_size = defaults["image_size"] if image_size is None else image_size
    batch_size = defaults["batch_size"] if batch_size is None else batch_size
    given = dict(
        seed=seed_value(seed), steps_per_epoch=positive_int(steps_per_epoch, "steps_per_epoch"),
        image_size=positive_int(image_size, "image_size"), batch_size=positive_int(batch_size, "batch_size"),
        match_colours=bool(match_colours))
    width, num_blocks, edge_kernel = check_architecture(width, num_blocks, edge_kernel)
    learning_rate = positive_float(learning_rate, "learning_rate")
    style_term = check_style_term(style_term)
    save_every = max(1, num_steps // 10) if save_every is None else positive_int(save_every, "save_every")
    run = _resumed_settings(run_dir, given, quiet=quiet)
    seed, image_size = run["seed"], run["image_size"]
    style_size = image_size if style_size is None else positive_int(style_size, "style_size")

    training.check_batch_size(run["batch_size"])  # it splits over the replicas of the strategy in scope
    style_image = style.load_style_image(style_source, max_dim=style_size, seed=seed)
    content = default_content(verbose=verbose) if content is None else content
    photos = load_content_photos(content, max_dim=max(2 * image_size, 128))
    with training.get_strategy().scope():  # every network a step calls, the frozen extractor too
        if extractor is None:
            extractor = loss_extractor(weights, content_layers, style_layers, seed=seed, verbose=verbose)
        if not extractor.calibrated:  # random weights: per-layer scales from a content photo
            extractor.calibrate(np.asarray(imageio.resize_max_dim(photos[0], image_size)))
        if network is None:
            palette = colour_statistics(style_image) if run["match_colours"] else None
            network = build_transformer(width, num_blocks, edge_kernel=edge_kernel, style_colours=palette, seed=seed)
        optimizer = keras.optimizers.Adam(learning_rate)
        optimizer.build(network.trainable_variables)
    has_palette = any(isinstance(layer, MatchColours) for layer in network.layers)
    if has_palette != run["match_colours"]:  # a given network: it decides a new run's setting
        if run is not given:
            raise CheckpointError(f"the run in {run_dir} was trained with match_colours={run['match_colours']}, "
                                  f"but the network given {'ends' if has_palette else 'does not end'} in "
                                  "MatchColours; give a network that fits the run, or none")
        given["match_colours"] = has_palette
    step = make_train_step(network, optimizer, extractor, style_image, style_term=style_term, **loss_weights)
    fixed = np.stack([np.asarray(imageio.resize(imageio.center_crop(p, min(p.shape[:2])), (image_size,) * 2))
                      for p in photos[:4]])  # the progress grid's photos, N×S×S×3

    def make_dataset(epoch: int) -> ContentBatches:
        return ContentBatches(photos, image_size, run["batch_size"], steps_per_epoch=run["steps_per_epoch"],
                              seed=seed, epoch=epoch)

    settings = dict(style=str(style_source) if not isinstance(style_source, np.ndarray) else "array",
                    num_steps=num_steps, **run, width=width, num_blocks=num_blocks, edge_kernel=edge_kernel,
                    learning_rate=learning_rate, **{**FAST_STYLE_WEIGHTS, **loss_weights}, style_term=style_term,
                    style_size=style_size,
                    features=extractor.family.name, content_layers=list(extractor.content_layers),
                    style_layers=list(extractor.style_layers),
                    content=[source if isinstance(source, str) else "array" if isinstance(source, np.ndarray)
                             else str(source) for source in content])
    run_dir = training.worker_run_dir(run_dir)  # a non-chief worker of a multi-worker run writes a copy
    with training.run_lock(run_dir):  # from the settings file on: a second training here is refused
        if run is given:  # a new run: record how it starts
            atomic_write_text(run_dir / SETTINGS_FILE, json.dumps(settings, indent=1, default=str))
        else:
            _check_the_rest(run_dir, settings)
        loop = training.train_loop(
            step, make_dataset, num_steps=num_steps, run_dir=run_dir,
            state={"network": network, "optimizer": optimizer}, steps_per_epoch=run["steps_per_epoch"],
            save_every=save_every, log_every=min(10, num_steps),
            sample_fn=lambda: np.concatenate([fixed, network(fixed, training=False).numpy()]), quiet=quiet)
    result = FastStyleResult(history=loop.history, final_step=loop.final_step, seconds=time.perf_counter() - start,
                             stopped=loop.stopped, run_dir=loop.run_dir, network=network, style_image=style_image,
                             weights=extractor.source, settings=settings)
    if verbose:
        last = {k: v[-1] for k, v in result.history.items() if k != "step" and v}
        print(f"fast-style: trained to step {num_steps} in {result.seconds:.0f} s with {extractor.source}; "
              + ", ".join(f"{k} {v:.3g}" for k, v in last.items()))
    return result
