"""Real-time style transfer: a feed-forward network trained with the perceptual loss.

Optimization-based style transfer (:mod:`artlib.style`) runs an optimizer for every
picture: seconds to minutes each. Johnson, Alahi & Fei-Fei ("Perceptual Losses for
Real-Time Style Transfer and Super-Resolution", ECCV 2016) train an *image
transformation network* once per style, with the same content, style and total-variation
losses, on many content photos; afterwards one forward pass stylizes any photo in
milliseconds. Instance normalization (Ulyanov, Vedaldi & Lempitsky 2016) makes it work.

The network (:func:`build_transformer`)::

    images in [0, 1]        N×H×W×3   (any H, W: padded by reflection to a multiple of 4)
    k×k conv, width         N×H×W×w              k = edge_kernel (5; the paper: 9)
    3×3 conv stride 2       N×H/2×W/2×2w         strided-conv downsampling
    3×3 conv stride 2       N×H/4×W/4×4w
    residual blocks ×B      N×H/4×W/4×4w
    ×2 nearest + 3×3 conv   N×H/2×W/2×2w         resize-convolution: no checkerboard
    ×2 nearest + 3×3 conv   N×H×W×w
    k×k conv -> Δ, output = sigmoid(logit(image) + Δ), cropped back to N×H×W×3
    [MatchColours]          N×H×W×3              optional: the style's colour mean and spread

Every convolution has reflection padding and is followed by instance normalization and
ReLU (but the last). Two deviations from the paper, for CPU budgets: the last convolution
starts at zero and adds to the input's logits, so the untrained network is the identity
(up to the colours) and training only has to learn the *change* a style makes; and,
optionally (``train(..., match_colours=True)``), a last layer (:class:`MatchColours`) that gives
every output the style image's per-channel colour statistics, so the network's few weights go
into the style's textures rather than into turning an orange cup blue.

Which file does what:

* ``network.py`` — the custom layers (:class:`ReflectionPadding2D`, :class:`PadToMultiple`,
  :class:`CropLike`, :class:`MatchColours`, registered serializable), :func:`colour_statistics`,
  :func:`append_match_colours` and :func:`build_transformer`;
* ``content.py`` — the content photos (:data:`TRAIN_PHOTOS`, with Debian opencv-doc's where installed:
  :func:`default_content`; :data:`EVAL_PHOTOS`, which is
  :data:`artlib.data.HELD_OUT_PHOTOS`; :func:`load_content_photos`) and the seeded crops of an
  epoch (:class:`ContentBatches`);
* ``train.py`` — the loss's layers (:func:`loss_extractor`), :func:`perceptual_loss`,
  :func:`make_train_step` and :func:`train` on :func:`artlib.training.train_loop` (exact resume,
  the run's settings in ``run_dir/settings.json``), :class:`FastStyleResult`;
* ``io.py`` — :func:`save_network`, :func:`load_network` (through :mod:`artlib.modelio`) and
  :func:`shipped_styles` (in :data:`SHIPPED_DIR`, i.e. :data:`artlib.config.PRETRAINED_DIR`);
* ``render.py`` — :func:`stylize_batch`, :func:`stylize_image`, :func:`stylize_folder`,
  :func:`stylize_gif`, :func:`stylize_video`, :func:`measure_fps` and :func:`apply`; the compiled
  forward passes live in the explicit, weakly keyed :data:`FORWARD_CACHE`;
* ``quality.py`` — the quality number: :func:`compare_with_optimization` paints held-out photos with the
  network and with optimization and judges both on the network's loss features (:func:`judge_for`);
  :func:`summarize` and :func:`format_table` give the mean and the worst ratio against :data:`QUALITY_TARGET`,
  :func:`picture_rows` the figure's rows;
* ``export.py`` — :func:`export_network` to ONNX or LiteRT (TFLite) files for deployment, with dynamic
  height and width, and :func:`load_exported` to run one (onnxruntime, LiteRT; the ``export`` extra).

Use::

    result = train("pattern:swirls", num_steps=2000, run_dir="runs/fast_swirls")
    network = result.network                          # keras.Model; save_network(network, "swirls.keras")
    painted = stylize_image(network, photo)           # H×W×3 in [0, 1], milliseconds
    measure_fps(network, 256)                         # frames per second, batch 1

or ``python -m artlib fast-style train pattern:swirls -o swirls.keras`` and
``python -m artlib fast-style apply swirls photo.jpg -o out/``.
"""

from __future__ import annotations

from artlib.fast_style.content import (EVAL_PHOTOS, OPENCV_DOC, TRAIN_PHOTOS, ContentBatches, default_content,
                                      load_content_photos)
from artlib.fast_style.export import EXPORT_EXTRA, EXPORT_FORMATS, export_format, export_network, load_exported
from artlib.fast_style.io import SHIPPED_DIR, as_network, load_network, load_recipe, save_network, shipped_styles
from artlib.fast_style.network import (
    DEFAULT_BLOCKS,
    DEFAULT_EDGE_KERNEL,
    DEFAULT_WIDTH,
    CropLike,
    MatchColours,
    PadToMultiple,
    ReflectionPadding2D,
    append_match_colours,
    build_transformer,
    colour_statistics,
)
from artlib.fast_style.quality import (QUALITY_TARGET, compare_with_optimization, format_table, judge_for,
                                      picture_rows, summarize)
from artlib.fast_style.render import (
    FORWARD_CACHE,
    VIDEO_SUFFIXES,
    apply,
    measure_fps,
    stylize_batch,
    stylize_folder,
    stylize_gif,
    stylize_image,
    stylize_video,
)
from artlib.fast_style.train import (
    FAST_CONTENT_LAYERS,
    FAST_RANDOM_CONTENT_LAYERS,
    FAST_RANDOM_STYLE_LAYERS,
    FAST_STYLE_LAYERS,
    FAST_STYLE_WEIGHTS,
    SETTINGS_FILE,
    STYLE_TERMS,
    TRAIN_DEFAULTS,
    FastStyleResult,
    loss_extractor,
    make_train_step,
    perceptual_loss,
    train,
)

__all__ = [
    "DEFAULT_WIDTH", "DEFAULT_BLOCKS", "DEFAULT_EDGE_KERNEL", "ReflectionPadding2D", "PadToMultiple", "CropLike",
    "MatchColours", "colour_statistics", "append_match_colours", "build_transformer",          # network
    "TRAIN_PHOTOS", "EVAL_PHOTOS", "OPENCV_DOC", "default_content", "load_content_photos",       # content
    "ContentBatches",
    "FAST_CONTENT_LAYERS", "FAST_STYLE_LAYERS", "FAST_RANDOM_CONTENT_LAYERS", "FAST_RANDOM_STYLE_LAYERS",
    "FAST_STYLE_WEIGHTS", "STYLE_TERMS", "TRAIN_DEFAULTS",
    "SETTINGS_FILE", "loss_extractor", "perceptual_loss", "make_train_step", "FastStyleResult", "train",  # train
    "SHIPPED_DIR", "save_network", "load_network", "as_network", "load_recipe", "shipped_styles",              # io
    "VIDEO_SUFFIXES", "FORWARD_CACHE", "stylize_batch", "stylize_image", "stylize_folder", "stylize_gif",
    "stylize_video", "measure_fps", "apply",                                                    # render
    "EXPORT_FORMATS", "EXPORT_EXTRA", "export_format", "export_network", "load_exported",       # export
    "QUALITY_TARGET", "judge_for", "compare_with_optimization", "summarize", "format_table",    # quality
    "picture_rows",
]
