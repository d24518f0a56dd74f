"""Arbitrary style transfer: one network, trained once, paints any photo in any style image (AdaIN).

Notebook 06 optimizes each picture (minutes); notebook 07 trains one network per style
(milliseconds, but one style). Huang & Belongie ("Arbitrary Style Transfer in Real-time with
Adaptive Instance Normalization", ICCV 2017) observed that a style lives largely in the mean
and standard deviation of each feature channel, so::

    photo  ──encoder──▶ x ─┐
                           AdaIN: t = σ(y)·(x − μ(x))/σ(x) + μ(y) ──decoder──▶ painted
    style  ──encoder──▶ y ─┘

The encoder is a frozen trained VGG up to ``block4_conv1`` (offline: HED's VGG16, ``hed-vgg16``;
ImageNet VGG19 where it is cached); only the decoder is trained, to invert the encoder, with a
content loss against ``t`` and a style loss on the channel means and standard deviations of
``block1–4_conv1``. An optional patch discriminator adds an adversarial term.

Which file does what:

* ``adain.py`` — :func:`channel_moments`, :func:`adain`, :func:`blend_moments`, :func:`stylize_features`
  (α), :func:`check_alpha`;
* ``encoder.py`` — :class:`Encoder` (the weights policy's VGG, up to :data:`DEFAULT_DEPTH`);
* ``decoder.py`` — :func:`build_decoder` (the encoder mirrored; :data:`DEFAULT_WIDTH`), :func:`decoder_plan`;
* ``losses.py`` — :func:`content_loss`, :func:`moment_loss`, the patch discriminator and its LSGAN losses;
* ``styles.py`` — the training data: :func:`style_bank` (every pattern × seeds × sizes, recoloured),
  :func:`jitter_colors`, :class:`PairBatches` (seeded, for exact resume);
* ``train.py`` — :func:`make_train_step` and :func:`train` on :func:`artlib.training.train_loop`;
* ``optimum.py`` — :func:`optimize_objective`: AdaIN's objective minimized over one image's pixels
  (L-BFGS), what a perfect decoder would paint, to measure a trained one against;
* ``model.py`` — :class:`ArbitraryStyle` (``stylize`` with α, blends, colour preservation, a mask, ``refine``),
  :func:`load` (the shipped decoder), :func:`save_decoder`, :func:`load_decoder`;
* ``export.py`` — :func:`export_model`: the whole pipeline (encoder, AdaIN, α, decoder) to ONNX or LiteRT
  (TFLite) with inputs ``content``, ``style``, ``alpha``, and :func:`load_exported` to run one
  (onnxruntime, LiteRT; the ``export`` extra).

Use::

    model = load()                                   # the shipped decoder and its hed-vgg16 encoder
    painted = model.stylize(photo, "pattern:mosaic", alpha=0.8)
    painted = model.stylize(photo, ["pattern:swirls", "style.jpg"], style_weights=[0.7, 0.3])
    painted = model.stylize(photo, "style.jpg", refine=40)   # then 40 L-BFGS evaluations of its objective

or ``python -m artlib arbitrary-style apply photo.jpg --style pattern:mosaic -o out.png``; for deployment,
``export_model(None, "adain.onnx")`` and ``load_exported("adain.onnx")(photo, style_image, alpha=0.8)``.
"""

from __future__ import annotations

from artlib.arbitrary_style.adain import EPSILON, adain, blend_moments, channel_moments, check_alpha, stylize_features
from artlib.arbitrary_style.decoder import DEFAULT_WIDTH, FULL_WIDTH, build_decoder, decoder_plan
from artlib.arbitrary_style.encoder import DEFAULT_DEPTH, ENCODER_LAYERS, STYLE_LAYERS, Encoder
from artlib.arbitrary_style.export import INPUT_NAMES, build_pipeline, export_model, load_exported
from artlib.arbitrary_style.losses import (
    adversarial_loss,
    build_patch_discriminator,
    content_loss,
    discriminator_loss,
    moment_loss,
)
from artlib.arbitrary_style.model import (
    MIN_SIDE,
    SHIPPED_DECODER,
    ArbitraryStyle,
    decoder_file,
    load,
    load_decoder,
    load_recipe,
    save_decoder,
)
from artlib.arbitrary_style.optimum import ObjectiveOptimum, optimize_objective
from artlib.arbitrary_style.styles import STYLE_BANK_SIZES, PairBatches, jitter_colors, recolor, style_bank
from artlib.arbitrary_style.train import STYLE_WEIGHT, TRAIN_DEFAULTS, ArbitraryStyleResult, make_train_step, train

__all__ = [
    "EPSILON", "channel_moments", "adain", "blend_moments", "stylize_features", "check_alpha",    # adain
    "DEFAULT_DEPTH", "ENCODER_LAYERS", "STYLE_LAYERS", "Encoder",                                # encoder
    "DEFAULT_WIDTH", "FULL_WIDTH", "decoder_plan", "build_decoder",                              # decoder
    "content_loss", "moment_loss", "build_patch_discriminator", "discriminator_loss", "adversarial_loss",
    "STYLE_BANK_SIZES", "recolor", "style_bank", "jitter_colors", "PairBatches",                 # styles
    "STYLE_WEIGHT", "TRAIN_DEFAULTS", "make_train_step", "ArbitraryStyleResult", "train",                          # train
    "MIN_SIDE", "SHIPPED_DECODER", "save_decoder", "decoder_file", "load_recipe", "load_decoder", "ArbitraryStyle",
    "load",
    "INPUT_NAMES", "build_pipeline", "export_model", "load_exported",                          # export
    "ObjectiveOptimum", "optimize_objective",                                                  # optimum
]
