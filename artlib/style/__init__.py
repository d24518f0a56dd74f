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

Which file does what:

* ``features.py`` — VGG19 preprocessing, the weights policy (:func:`resolve_weights`),
  :func:`build_vgg19`, :class:`FeatureExtractor`, the layer names.
* ``objective.py`` — :func:`gram_matrix`, the content, style and TV losses, layer and blend
  weights, :func:`default_weights`, :class:`Objective`, the weight presets
  (``ARTLIB_WEIGHTS``, ``RANDOM_WEIGHTS``, ``TUTORIAL_WEIGHTS``).
* ``optimizers.py`` — :func:`run_adam`, :func:`run_lbfgs` and L-BFGS's memory helpers.
* ``color.py`` — :func:`preserve_luminance`, :func:`match_colors`.
* ``transfer.py`` — :func:`load_style_image`, :func:`evaluate`, the coarse-to-fine schedule
  (:func:`stage_schedule`, :func:`coarse_to_fine_sizes`), :class:`StyleResult`,
  :func:`style_transfer`, :func:`stylize`.
* ``inputs.py`` — the checks of what callers pass (an image batch, a positive whole number).
"""

from artlib.style.color import match_colors, preserve_luminance
from artlib.style.features import (
    CONTENT_LAYERS,
    RANDOM_STYLE_LAYERS,
    STYLE_LAYERS,
    VGG19_LAYERS,
    FeatureExtractor,
    build_vgg19,
    preprocess,
    resolve_weights,
)
from artlib.style.objective import (
    ARTLIB_WEIGHTS,
    RANDOM_WEIGHTS,
    TUTORIAL_WEIGHTS,
    Objective,
    content_loss,
    default_weights,
    gram_matrix,
    style_loss,
    total_variation_loss,
)
from artlib.style.optimizers import LBFGS_MEMORY_BUDGET, run_adam, run_lbfgs
from artlib.style.transfer import (
    DEFAULT_ADAM_STEPS,
    DEFAULT_MAX_DIM,
    DEFAULT_STEPS,
    STAGE_PATIENCE,
    STAGE_TOLERANCE,
    STARRY_NIGHT_URL,
    StyleResult,
    coarse_to_fine_sizes,
    evaluate,
    load_style_image,
    stage_schedule,
    style_transfer,
    stylize,
)

__all__ = [
    "CONTENT_LAYERS", "STYLE_LAYERS", "RANDOM_STYLE_LAYERS", "VGG19_LAYERS", "ARTLIB_WEIGHTS",
    "RANDOM_WEIGHTS", "TUTORIAL_WEIGHTS",
    "STARRY_NIGHT_URL", "preprocess", "resolve_weights", "build_vgg19", "FeatureExtractor",
    "gram_matrix", "content_loss", "style_loss", "total_variation_loss", "Objective",
    "run_adam", "run_lbfgs", "LBFGS_MEMORY_BUDGET", "DEFAULT_MAX_DIM", "DEFAULT_STEPS", "DEFAULT_ADAM_STEPS",
    "STAGE_TOLERANCE", "STAGE_PATIENCE", "stage_schedule",
    "coarse_to_fine_sizes", "load_style_image",
    "match_colors", "preserve_luminance", "evaluate", "default_weights", "StyleResult", "style_transfer", "stylize",
]
