"""The whole style-transfer run: loading styles, the coarse-to-fine schedule, the numbers and the result."""

from __future__ import annotations

import difflib
import inspect
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artlib import config  # first: selects the TensorFlow backend

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import checks, data, imageio, metrics, patterns  # noqa: E402
from artlib.errors import ArtlibError, ImageError  # noqa: E402
from artlib.style.color import match_colors, preserve_luminance  # noqa: E402
from artlib.style.features import FeatureExtractor  # noqa: E402
from artlib.checks import fits_in_memory, positive_float, positive_int, seed_value  # noqa: E402
from artlib.style.inputs import as_image_batch  # noqa: E402
from artlib.style.objective import LayerWeights, Objective, blend_weights, gram_matrix  # noqa: E402
from artlib.style.optimizers import Callback, run_adam, run_lbfgs, run_pyramid_adam  # noqa: E402

#: Van Gogh, "The Starry Night" (1889), public domain, via Wikimedia Commons: a larger copy (1280 px) than
#: the one artlib ships for offline use, ``"painting:starry_night"`` (752×600).
STARRY_NIGHT_URL = ("https://upload.wikimedia.org/wikipedia/commons/thumb/e/ea/"
                    "Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg/"
                    "1280px-Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg")

#: A coarse L-BFGS stage ends once its best value fell by less than this fraction over the last
#: :data:`STAGE_PATIENCE` evaluations (or after twice the final stage's steps; :func:`stage_schedule`):
#: measured at 512 px (benchmarks/style_benchmark.py), longer coarse stages cost time and the final
#: stage does not need them.
STAGE_TOLERANCE = 0.01
STAGE_PATIENCE = 10
#: Long side of a result in pixels, by default.
DEFAULT_MAX_DIM = 512
#: Memory a stage takes per pixel of a square picture at its size (bytes): the feature network's activations,
#: forward and back, and L-BFGS's workspace. Measured as peak RSS above TensorFlow's and the feature network's
#: own 0.7 GiB (``python benchmarks/style_benchmark.py --skip-race --square --weights hed-vgg16 --memory 256 512
#: 1024 1448``, chelsea's centre square × swirls, 10 evaluations a stage): 4.5, 4.3, 3.7 and 3.7 kB a pixel (at
#: small sizes a fixed part weighs more; 8.0 GiB in all at 1,448 px); random-weight VGG19 needs about a quarter
#: less. A photo that is not square needs less (1,024×681 px: 3.6 GiB in all).
BYTES_PER_PIXEL = 3.8e3
#: The first coarse-to-fine stage is at least this long: measured on hed-vgg16 features (chelsea ×
#: mosaic), a 128-px first stage paints over the subject (its content layer is 16×10 there) and the
#: finer stages cannot bring it back; from 256 px the subject stays and 512 px gains bold strokes.
DEFAULT_MIN_DIM = 256
#: Optimizer steps at the final size, by default (full mode): L-BFGS evaluations; the tutorial's Adam steps.
DEFAULT_STEPS = 100
DEFAULT_ADAM_STEPS = 1000
#: Steps of :func:`~artlib.style.optimizers.run_pyramid_adam` by default (full mode).
DEFAULT_PYRAMID_STEPS = 120
#: The optimizers :func:`style_transfer` takes: SciPy's L-BFGS-B, the tutorial's Adam, Adam on an image pyramid.
OPTIMIZERS = ("lbfgs", "adam", "pyramid")


def load_style_image(source: Any, max_dim: int | None = 512, *, seed: int = 0) -> np.ndarray:
    """A style (or content) image: an array, a path, an http(s) URL (cached), ``"pattern:NAME"`` or ``"painting:NAME"``.

    Args:
        source: ``H×W×3``, ``H×W×1`` or ``H×W`` array (floats in [0, 1] or uint8), a path, an
            http(s) URL, file bytes, ``"pattern:NAME"`` (a procedural pattern, :mod:`artlib.patterns`)
            or ``"painting:NAME"`` (a shipped public-domain painting, :data:`artlib.data.PAINTINGS`).
        max_dim: Most pixels on the long side (None: no limit; patterns: 512).
        seed: Seed of a procedural pattern.

    Returns:
        float32 ``H×W×3`` in [0, 1], long side at most ``max_dim`` (patterns: exactly ``max_dim``).

    Raises:
        ArtlibError: ``max_dim`` below 1.
        ImageError: A bad file or array, or an unknown pattern or painting name.
        OfflineError: A URL that is not cached while offline.
    """
    seed = seed_value(seed)
    if max_dim is not None:
        max_dim = positive_int(max_dim, "max_dim")
    if isinstance(source, str) and source.startswith("pattern:"):
        try:
            return patterns.make_pattern(source.split(":", 1)[1], max_dim or 512, seed=seed)
        except ValueError as err:
            raise ImageError(f"style '{source}': {err}") from err
    if isinstance(source, str) and source.startswith("painting:"):
        try:
            return data.load_painting(source.split(":", 1)[1], max_dim=max_dim)
        except ArtlibError as err:
            raise ImageError(f"style '{source}': {err}") from err
    if isinstance(source, (str, Path, bytes)):
        return imageio.load_image(source, max_dim=max_dim)
    array = imageio.as_array(source, "the image")
    if array.ndim not in (2, 3):
        raise ImageError(f"the image must be H×W (grayscale), H×W×1 or H×W×3 in [0, 1]; got shape {array.shape}")
    image = as_image_batch(array, name="the image").numpy()[0]
    if max_dim is not None and max(image.shape[:2]) > max_dim:
        image = np.asarray(imageio.resize_max_dim(image, max_dim))
    return image


def evaluate(image: Any, content_image: Any, style_images: Sequence[Any], extractor: FeatureExtractor, *,
             blend: Sequence[float] | None = None) -> dict[str, float]:
    """How stylized, how faithful: numbers to compare settings with.

    Args:
        image: The result, ``H×W×3`` in [0, 1].
        content_image: ``h×w×3`` in [0, 1]; resized to the result's size.
        style_images: The style images (any size).
        extractor: The features to measure with (whose weights the caller reports).
        blend: Weight of each style image, as in :class:`~artlib.style.objective.Objective`.

    Returns:
        ``style_distance``: Σ_l ‖G_l − A_l‖ / ‖A_l‖ averaged over style layers (blended over the
        style images; 0 = the style's feature statistics exactly). ``content_distance``:
        ‖F − P‖ / ‖P‖ at the content layers (0 = the content's features exactly).
        ``ssim``: SSIM to the content image (1 = identical). All at the image's size.

    Raises:
        ArtlibError: Bad blend weights.
        ImageError: An image that is not RGB pixels in [0, 1].
    """
    x = as_image_batch(image, name="image")
    content = as_image_batch(imageio.resize(np.asarray(content_image), x.shape[1:3]), name="content image")
    shares = blend_weights(blend, len(style_images))
    f_x, f_c = extractor(x), extractor(content)

    def relative_distance(a: tf.Tensor, b: tf.Tensor) -> float:
        return float(tf.norm(a - b) / (tf.norm(b) + 1e-12))

    style_distance = 0.0
    for share, s in zip(shares, style_images):
        f_s = extractor(as_image_batch(s, name="style image"))
        style_distance += share * np.mean([relative_distance(gram_matrix(f_x[n]), gram_matrix(f_s[n]))
                                           for n in extractor.style_layers])
    content_distance = np.mean([relative_distance(f_x[n], f_c[n]) for n in extractor.content_layers]) \
        if extractor.content_layers else float("nan")
    return {"style_distance": float(style_distance), "content_distance": float(content_distance),
            "ssim": float(metrics.ssim(content[0].numpy(), x[0].numpy()))}


def stage_schedule(steps: int, num_stages: int, stage_tolerance: float | None = None) -> list[tuple[int, float]]:
    """Each coarse-to-fine stage's ``(most evaluations, tolerance)`` for :func:`~artlib.style.optimizers.run_lbfgs`.

    Coarse stages are cheap (¼ of the pixels per halving) and their work is only the start of the
    next stage: up to twice ``steps``, ending once settled (``stage_tolerance``, default
    :data:`STAGE_TOLERANCE`). The final stage runs all ``steps`` (tolerance 0).

    Args:
        steps: Evaluations at the final stage (≥ 1).
        num_stages: How many stages (≥ 1).
        stage_tolerance: The coarse stages' tolerance (≥ 0; 0 runs all their evaluations).

    Returns:
        One ``(evaluations, tolerance)`` per stage, coarse first.

    Raises:
        ArtlibError: ``steps`` or ``num_stages`` below 1, or a negative tolerance.
    """
    steps, num_stages = positive_int(steps, "steps"), positive_int(num_stages, "num_stages")
    tolerance = STAGE_TOLERANCE if stage_tolerance is None else positive_float(stage_tolerance, "stage_tolerance",
                                                                               zero=True)
    return [(2 * steps, tolerance)] * (num_stages - 1) + [(steps, 0.0)]


def coarse_to_fine_sizes(max_dim: int, min_dim: int = DEFAULT_MIN_DIM) -> list[int]:
    """Long sides of the stages: halving from ``max_dim`` while at least ``min_dim``.

    Args:
        max_dim: The final long side in pixels (≥ 1).
        min_dim: The smallest stage allowed (≥ 1).

    Returns:
        The sizes, smallest first, e.g. ``[256, 512]`` for 512 (``[128, 256, 512]`` with ``min_dim=128``).

    Raises:
        ArtlibError: A size below 1.
    """
    sizes = [positive_int(max_dim, "max_dim")]
    min_dim = positive_int(min_dim, "min_dim")
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
        """One line: size, time, which features, and the three numbers of :func:`evaluate`."""
        m = self.metrics
        return (f"{self.image.shape[1]}×{self.image.shape[0]} px in {self.seconds:.0f} s with {self.weights}: "
                f"style distance {m['style_distance']:.3f}, content distance {m['content_distance']:.3f}, "
                f"SSIM to content {m['ssim']:.3f}")


def check_max_dim(max_dim: Any) -> int:
    """``max_dim`` if style transfer at that size fits in half of this machine's memory (see :data:`BYTES_PER_PIXEL`).

    Raises:
        ArtlibError: ``max_dim`` is not a positive integer, or too large for this machine (naming what fits).
    """
    max_dim = positive_int(max_dim, "max_dim")
    largest = int(((checks.memory_budget() or 0) / BYTES_PER_PIXEL) ** 0.5)  # the side that fits
    fits_in_memory(BYTES_PER_PIXEL * max_dim**2, f"style transfer at max_dim={max_dim:,} px",
                   f"ask for a smaller max_dim (--size on the command line): about {largest:,} px fits here")
    return max_dim


def style_transfer(content_image: Any, style_images: Any, *, max_dim: int = DEFAULT_MAX_DIM, steps: int | None = None,
                   optimizer: str = "lbfgs", weights: str | Path = "auto", style_weight: float | None = None,
                   content_weight: float | None = None, tv_weight: float | None = None,
                   blend: Sequence[float] | None = None, preserve_color: str | None = None,
                   content_layers: Sequence[str] | None = None, style_layers: Sequence[str] | None = None,
                   style_layer_weights: LayerWeights = None, coarse_to_fine: bool = True, min_dim: int = DEFAULT_MIN_DIM,
                   stage_tolerance: float | None = None, init: str = "content", seed: int = 0,
                   extractor: FeatureExtractor | None = None, objective: dict | None = None,
                   callback: Callback | None = None, verbose: bool = True) -> StyleResult:
    """Stylize ``content_image`` like ``style_images``, coarse to fine; see :func:`stylize` for the arguments.

    Returns:
        A :class:`StyleResult` (image, metrics, which weights, seconds, history, settings).

    Raises:
        ArtlibError: A bad option (its name and value in the message).
        ImageError: An unusable image. DataError: A missing weights file.
    """
    seed = seed_value(seed)
    start = time.perf_counter()
    max_dim = check_max_dim(max_dim)
    if preserve_color not in (None, "luminance", "match"):
        raise ArtlibError(f"preserve_color must be None, 'luminance' or 'match', not {preserve_color!r}")
    if optimizer not in OPTIMIZERS:
        raise ArtlibError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}, not {optimizer!r}")
    if init not in ("content", "noise"):
        raise ArtlibError(f"init must be 'content' or 'noise', not {init!r}")
    sizes = coarse_to_fine_sizes(max_dim, min_dim) if coarse_to_fine else [max_dim]
    full_steps = {"lbfgs": DEFAULT_STEPS, "adam": DEFAULT_ADAM_STEPS, "pyramid": DEFAULT_PYRAMID_STEPS}[optimizer]
    steps = steps if steps is not None else config.choose(full=full_steps, fast=10)
    schedule = stage_schedule(steps, len(sizes), stage_tolerance)
    styles = style_images if isinstance(style_images, (list, tuple)) else [style_images]
    content = np.asarray(imageio.resize_max_dim(load_style_image(content_image, max_dim=None), max_dim))
    styles = [load_style_image(s, max_dim=max(max_dim, 256), seed=seed) for s in styles]
    if preserve_color == "match":
        styles = [match_colors(s, content) for s in styles]
    if extractor is None:
        extractor = FeatureExtractor(weights, content_layers, style_layers, seed=seed, verbose=verbose)
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

        def report(i: int, t: dict, _stage: int = stage, _size: int = size) -> None:
            record = dict(t, stage=_stage, size=_size, step=i, seconds=time.perf_counter() - start)
            history.append(record)
            if callback is not None:
                callback(len(history) - 1, record)

        if optimizer == "lbfgs":
            image, _ = run_lbfgs(objective_at_size, image, stage_steps, callback=report, tolerance=tolerance,
                                 patience=STAGE_PATIENCE)
        elif optimizer == "pyramid":
            image, _ = run_pyramid_adam(objective_at_size, image, stage_steps, callback=report)
        else:
            image, _ = run_adam(objective_at_size, image, stage_steps, callback=report)
    if preserve_color == "luminance":
        image = preserve_luminance(image, content)
    result = StyleResult(image=image.astype(np.float32),
                         metrics=evaluate(image, content, styles, extractor, blend=blend),
                         weights=extractor.source, seconds=time.perf_counter() - start, history=history,
                         settings=settings)
    if verbose:
        print("style:", result.summary())
    return result


def stylize(content_image: Any, style_images: Any, *, max_dim: int = DEFAULT_MAX_DIM, steps: int | None = None,
            optimizer: str = "lbfgs", weights: str | Path = "auto", **options: Any) -> np.ndarray:
    """Paint ``content_image`` in the style of ``style_images``.

    Args:
        content_image: Array ``H×W×3`` in [0, 1], path, URL or file bytes.
        style_images: One style or a list: arrays, paths, URLs, ``"pattern:NAME"`` or ``"painting:NAME"``
            (see :mod:`artlib.patterns`).
        max_dim: Long side of the output in pixels (default :data:`DEFAULT_MAX_DIM`, 512).
        steps: Optimizer steps at the final size (coarse stages up to twice as many); default
            :data:`DEFAULT_STEPS` (100) for L-BFGS, :data:`DEFAULT_ADAM_STEPS` (1000) for Adam,
            :data:`DEFAULT_PYRAMID_STEPS` (120) for the pyramid (10 in fast mode).
        optimizer: ``"lbfgs"`` (default), ``"adam"`` (the tutorial's settings) or ``"pyramid"``
            (:func:`~artlib.style.optimizers.run_pyramid_adam`: Adam on an image pyramid, the quickest
            on objectives that a total-variation term dominates, such as ``TUTORIAL_WEIGHTS``; with
            ``coarse_to_fine`` each stage is one pyramid run). Not for artlib's own objective: there its
            120 steps leave a recoloured photo (style distance 0.58 against L-BFGS's 0.23 in the same
            time, chelsea × swirls at 256 px), which is why the CLI does not offer it.
        weights: The features (:func:`~artlib.style.weights.resolve_weights`): ``"auto"``,
            ``"imagenet"``, ``"hed-vgg16"``, ``"random"`` or a weights file.
        **options: ``style_weight``, ``content_weight``, ``tv_weight`` (default
            :func:`~artlib.style.objective.default_weights`), ``blend`` (one weight per style image),
            ``preserve_color`` (``"luminance"``: transfer only brightness; ``"match"``: recolour the
            styles like the content first), ``content_layers``, ``style_layers`` (default: the features'
            family's), ``style_layer_weights``,
            ``coarse_to_fine`` (default True), ``min_dim`` (first stage, default :data:`DEFAULT_MIN_DIM`), ``stage_tolerance``
            (a coarse L-BFGS stage ends once it improves less than this fraction in :data:`STAGE_PATIENCE`
            evaluations; default :data:`STAGE_TOLERANCE`, 0 runs every step), ``init`` (``"content"``
            or ``"noise"``), ``seed``, ``extractor`` (reuse one), ``objective`` (e.g.
            ``TUTORIAL_WEIGHTS``), ``callback(step, record)``, ``verbose``.

    Returns:
        float32 ``H×W×3`` pixels in [0, 1].

    Raises:
        ArtlibError: A bad option. ImageError: An unusable image. DataError: A missing weights file.

    Example:
        >>> out = stylize(data.load_sample_photo("chelsea"), "pattern:swirls", max_dim=256)  # doctest: +SKIP
    """
    takes = sorted(set(inspect.signature(style_transfer).parameters) - {"content_image", "style_images"})
    unknown = sorted(set(options) - set(takes))
    if unknown:  # named here, not as a TypeError from style_transfer, which the caller never called
        near = difflib.get_close_matches(unknown[0], takes, n=1)
        raise ArtlibError(f"stylize has no option {unknown[0]!r}" + (f"; did you mean {near[0]!r}?" if near else
                          f"; it takes {', '.join(takes)}"))
    return style_transfer(content_image, style_images, max_dim=max_dim, steps=steps, optimizer=optimizer,
                          weights=weights, **options).image
