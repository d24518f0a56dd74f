"""Deployment files: the whole AdaIN pipeline (encoder, AdaIN, α, decoder) exported to ONNX or LiteRT.

The exported model is one forward pass with three inputs and no artlib or TensorFlow needed to run it:

* ``content``: ``N×H×W×3`` float32 photos in [0, 1], any N, H and W (H, W ≥ 8);
* ``style``: ``1×h×w×3`` float32 style image in [0, 1], any h and w (≥ 8);
* ``alpha``: shape ``(1,)`` float32, the style strength in [0, 1];

output ``N×H×W×3`` in [0, 1], what :meth:`ArbitraryStyle.stylize` gives for one style (no blends,
masks or colour preservation: those are a few lines around the file, with two exported runs or a
recoloured style). Inside, each picture is padded to a multiple of the encoder's downsampling
exactly as ``stylize`` pads it, and the painted photo is cropped back. The conversion reuses
:mod:`artlib.fast_style.export` (format from the suffix, optional packages, built-in TFLite operators).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib.arbitrary_style.adain import EPSILON, adain, channel_moments, check_alpha
from artlib.arbitrary_style.model import ArbitraryStyle, _reflect_to_multiple, load
from artlib.errors import ArtlibError
from artlib.fast_style.export import _exportable, open_exported, prepare_export, write_export
from artlib.fast_style.network import CropLike, PadToMultiple
from artlib.style.features import preprocess

__all__ = ["INPUT_NAMES", "build_pipeline", "export_model", "load_exported"]

#: The exported model's inputs, in order.
INPUT_NAMES = ("content", "style", "alpha")


class _PadSymmetricToMultiple(PadToMultiple):
    """:class:`~artlib.fast_style.network.PadToMultiple` as ``stylize`` pads: the edge row repeated ("SYMMETRIC"),
    to at least twice the multiple.

    Reflection without the edge ("REFLECT") would give other features near the bottom and right borders,
    and the exported model would no longer match :meth:`ArbitraryStyle.stylize` there.
    """

    def call(self, inputs):
        return _reflect_to_multiple(inputs, self.multiple)  # stylize's own padding, so the two cannot drift


class _Preprocess(keras.layers.Layer):
    """VGG's input preprocessing (:func:`artlib.style.features.preprocess`) as a layer."""

    def call(self, images):
        return preprocess(images)


class _AdaIN(keras.layers.Layer):
    """``[content_features, style_features, alpha] -> α · AdaIN(x, y) + (1 − α) · x``."""

    def call(self, inputs):
        content, style, alpha = inputs
        mean, std = channel_moments(style)
        alpha = tf.reshape(alpha, [-1, 1, 1, 1])
        return alpha * adain(content, mean, std, EPSILON) + (1.0 - alpha) * content

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


class _UnitClip(keras.layers.Layer):
    """Pixels clipped to [0, 1]."""

    def call(self, x):
        return tf.clip_by_value(x, 0.0, 1.0)


def _as_model(model_or_path: ArbitraryStyle | str | Path | None) -> ArbitraryStyle:
    if isinstance(model_or_path, ArbitraryStyle):
        return model_or_path
    if model_or_path is not None and not isinstance(model_or_path, (str, Path)):
        raise ArtlibError(f"export an ArbitraryStyle, a decoder .keras path or None (the shipped decoder); "
                          f"got {type(model_or_path).__name__}")
    return load(model_or_path, verbose=False)


def build_pipeline(model: ArbitraryStyle) -> keras.Model:
    """The forward pass of ``model`` for one style as a functional ``keras.Model`` (shared weights).

    Inputs ``content`` (``N×H×W×3``), ``style`` (``1×h×w×3``) and ``alpha`` (``(1,)``); output the
    painted ``N×H×W×3`` in [0, 1]. Every convolution's input has its channels made static (see
    :func:`artlib.fast_style.export._exportable`) so both converters translate it with built-in operators.
    """
    encoder = model.encoder
    vgg = encoder.extractor.vgg
    features = _exportable(keras.Model(vgg.input, vgg.get_layer(encoder.depth).output, name="encoder"))
    decoder = _exportable(model.decoder)
    scale = float(encoder.extractor.scales[encoder.depth].numpy())  # the encoder's calibration at its depth
    content = keras.Input(batch_shape=(None, None, None, 3), name="content")
    style = keras.Input(batch_shape=(1, None, None, 3), name="style")
    alpha = keras.Input(batch_shape=(1,), name="alpha")
    pad, prepare = _PadSymmetricToMultiple(encoder.scale, name="pad"), _Preprocess(name="preprocess")
    rescale = keras.layers.Rescaling(scale, name="calibration")
    x = rescale(features(prepare(pad(content))))
    y = rescale(features(prepare(pad(style))))
    target = _AdaIN(name="adain")([x, y, alpha])
    painted = CropLike(name="crop")([_UnitClip(name="clip")(decoder(target)), content])
    return keras.Model([content, style, alpha], painted, name="arbitrary_style")


def export_model(model_or_path: ArbitraryStyle | str | Path | None, out_path: str | Path, *,
                 format: str | None = None, force: bool = False) -> Path:
    """Export an arbitrary-style model (encoder, AdaIN, α, decoder) for deployment, atomically.

    Args:
        model_or_path: An :class:`ArbitraryStyle`, a decoder ``.keras`` path (its encoder from its recipe,
            see :func:`~artlib.arbitrary_style.load`), or None: the shipped decoder.
        out_path: ``NAME.onnx`` (ONNX) or ``NAME.tflite`` (LiteRT, built-in operators only, float32).
        format: See :func:`artlib.fast_style.export_format`; ``None`` reads it from the suffix.
        force: Replace an existing file.

    Returns:
        The path written; inputs ``content`` ``N×H×W×3``, ``style`` ``1×h×w×3``, ``alpha`` ``(1,)``.

    Raises:
        ArtlibError: A bad suffix or format, an existing file and ``force`` False, a missing optional
            package (the message says what to install). DataError: a bad decoder or recipe.
    """
    out_path, chosen = prepare_export(out_path, format, force)
    pipeline = build_pipeline(_as_model(model_or_path))
    signature = [[keras.InputSpec(shape=(None, None, None, 3), dtype="float32", name="content"),
                  keras.InputSpec(shape=(1, None, None, 3), dtype="float32", name="style"),
                  keras.InputSpec(shape=(1,), dtype="float32", name="alpha")]]
    return write_export(pipeline, out_path, chosen, signature)


def _input_order(names: list[str]) -> list[int]:
    """Positions of ``content``, ``style``, ``alpha`` among a runtime's input names (``serving_default_style:0``…)."""
    order = []
    for wanted in INPUT_NAMES:
        found = [i for i, n in enumerate(names) if wanted in n]
        if len(found) != 1:
            raise ArtlibError(f"the exported model's inputs {names} are not {', '.join(INPUT_NAMES)}; "
                              "export it with arbitrary_style.export_model")
        order.append(found[0])
    return order


def _pixels(images: Any, what: str) -> np.ndarray:
    array = np.asarray(images, np.float32)
    if array.ndim not in (3, 4) or array.shape[-1] != 3:
        raise ArtlibError(f"{what} must be H×W×3 (or N×H×W×3) pixels in [0, 1]; got shape {array.shape}")
    return array


def load_exported(path: str | Path) -> Callable[..., np.ndarray]:
    """A function that runs a file written by :func:`export_model` (onnxruntime or LiteRT).

    Args:
        path: An ``.onnx`` or ``.tflite`` file.

    Returns:
        ``run(content, style, alpha=1.0)``: ``content`` ``H×W×3`` or ``N×H×W×3`` in [0, 1], ``style``
        ``h×w×3`` (or ``1×h×w×3``) -> the painted pixels, the content's shape, float32. The model is loaded
        once; call it for every frame.

    Raises:
        ArtlibError: Another suffix, a missing file, a missing optional package, ``alpha`` outside [0, 1].
    """
    forward = open_exported(path, _input_order)

    def run(content, style, alpha: float = 1.0) -> np.ndarray:
        content, style = _pixels(content, "content"), _pixels(style, "style")
        if style.ndim == 4 and len(style) != 1:
            raise ArtlibError(f"give one style image (1×h×w×3); got {len(style)}")
        batch = content if content.ndim == 4 else content[None]
        out = forward(np.ascontiguousarray(batch), np.ascontiguousarray(style.reshape((1, *style.shape[-3:]))),
                      np.array([check_alpha(alpha)], np.float32))
        return out if content.ndim == 4 else out[0]

    return run
