"""The style-transfer objective: Gram matrices, the content, style and TV terms, and their weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from artlib import config  # noqa: F401  (first: selects the TensorFlow backend)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.checks import positive_float, sequence  # noqa: E402
from artlib.errors import ArtlibError  # noqa: E402
from artlib.style.features import FeatureExtractor  # noqa: E402
from artlib.style.inputs import as_image_batch  # noqa: E402

LayerWeights = Sequence[float] | Mapping[str, float] | None


def gram_matrix(features: tf.Tensor) -> tf.Tensor:
    """Feature correlations: ``N×H×W×C`` -> ``N×C×C``, divided by the number of positions H·W.

    Args:
        features: ``N×H×W×C`` activations of one layer.

    Returns:
        ``N×C×C`` float32 tensor.

    Raises:
        ArtlibError: ``features`` is not of rank 4 (one layer's ``H×W×C`` needs a batch axis: ``x[None]``).
    """
    rank = features.shape.rank if tf.is_tensor(features) else np.ndim(features)
    if rank is not None and rank != 4:
        raise ArtlibError(f"gram_matrix takes N×H×W×C features (rank 4); got rank {rank}"
                          + (" — add a batch axis: features[None]" if rank == 3 else ""))
    shape = tf.shape(features)
    positions = tf.cast(shape[1] * shape[2], tf.float32)
    return tf.einsum("bijc,bijd->bcd", features, features) / positions


def per_layer_weights(layers: Sequence[str], weights: LayerWeights) -> dict[str, float]:
    """Each layer's weight in a term: equal (summing to 1) by default, else from a list or a dict.

    Args:
        layers: The layer names.
        weights: None (equal), one weight per layer, or ``{layer: weight}`` (missing layers get 0).

    Returns:
        ``{layer: weight}``.

    Raises:
        ArtlibError: A list of another length, or a negative weight.
    """
    if weights is None:
        return {n: 1.0 / len(layers) for n in layers}
    if isinstance(weights, Mapping):
        given = [weights.get(n, 0.0) for n in layers]
    else:
        given = sequence(weights, "layer weights", f"one number per layer ({len(layers)}) or {{layer: weight}}",
                         len(layers))
    return {n: positive_float(w, f"the layer weight of {n}", zero=True) for n, w in zip(layers, given)}


def blend_weights(blend: Sequence[float] | None, count: int) -> list[float]:
    """Each style image's share of the style term: equal by default, else ``blend`` normalized to sum to 1.

    Args:
        blend: One non-negative weight per style image, not all 0; or None.
        count: How many style images.

    Returns:
        ``count`` weights summing to 1.

    Raises:
        ArtlibError: No style images, a weight count that differs, a negative weight or all zeros.
    """
    if blend is None:
        blend = [1.0] * count
    values = [positive_float(b, "each blend weight", zero=True)
              for b in sequence(blend, "blend", f"one non-negative weight per style image ({count})", count)]
    if not count or sum(values) <= 0:
        raise ArtlibError(f"need one non-negative blend weight per style image ({count}), not all 0; got {values}")
    return [b / sum(values) for b in values]


def _weighted_mse(values: Mapping[str, tf.Tensor], targets: Mapping[str, tf.Tensor],
                  weights: Mapping[str, float], relative: bool) -> tf.Tensor:
    """Σ_l w_l · mean((V_l − T_l)²), each term divided by mean(T_l²) when ``relative``."""
    terms = []
    for name, w in weights.items():
        term = tf.reduce_mean(tf.square(values[name] - targets[name]))
        terms.append(w * (term / (tf.reduce_mean(tf.square(targets[name])) + 1e-12) if relative else term))
    return tf.add_n(terms)


def content_loss(features: Mapping[str, tf.Tensor], targets: Mapping[str, tf.Tensor],
                 layer_weights: Mapping[str, float], *, relative: bool = True) -> tf.Tensor:
    """Σ_l w_l · mean((F_l − P_l)²), each term divided by mean(P_l²) when ``relative``.

    Args:
        features: ``{layer: N×h×w×C}`` of the image being optimized.
        targets: The content image's features, same layers and shapes.
        layer_weights: ``{layer: w_l}``; only these layers count.
        relative: Divide each layer's term by its target's mean square (artlib) or not (the tutorial).

    Returns:
        Scalar tensor.
    """
    return _weighted_mse(features, targets, layer_weights, relative)


def style_loss(grams: Mapping[str, tf.Tensor], target_grams: Mapping[str, tf.Tensor],
               layer_weights: Mapping[str, float], *, relative: bool = True) -> tf.Tensor:
    """Σ_l w_l · mean((G_l − A_l)²), each term divided by mean(A_l²) when ``relative``.

    Args:
        grams: ``{layer: N×C×C}`` Gram matrices of the image being optimized.
        target_grams: The style image's Gram matrices.
        layer_weights: ``{layer: w_l}``; only these layers count.
        relative: Divide each layer's term by its target's mean square (artlib) or not (the tutorial).

    Returns:
        Scalar tensor.
    """
    return _weighted_mse(grams, target_grams, layer_weights, relative)


def style_distance_loss(grams: Mapping[str, tf.Tensor], target_grams: Mapping[str, tf.Tensor],
                        layer_weights: Mapping[str, float]) -> tf.Tensor:
    """Σ_l w_l · mean over images of ‖G_l − A_l‖ / ‖A_l‖: the style distance :func:`evaluate` reports, as a loss.

    :func:`style_loss` (relative) is the square of each image's per-layer distance, averaged; this is the
    distance itself. A square weighs the layers an image is furthest from by that distance, so the deep
    layers (whose Gram matrices hold the style's large forms) pull hardest; the distance gives every layer
    the same pull, the measure's own weighting — measured on a style network's training (``data/README.md``):
    the fine texture and colour of the first layers, where a network lagged optimization the most, came closer.

    Args:
        grams: ``{layer: N×C×C}`` Gram matrices of the images being painted.
        target_grams: The style image's Gram matrices (``1×C×C`` or ``C×C``).
        layer_weights: ``{layer: w_l}``; only these layers count.

    Returns:
        Scalar tensor.
    """
    terms = []
    for name, w in layer_weights.items():
        target = tf.convert_to_tensor(target_grams[name], tf.float32)
        squared = tf.reduce_sum(tf.square(grams[name] - target), axis=[-2, -1])  # per image, ‖G − A‖²
        # a floor under the square root: its gradient at 0 (an image exactly the style) stays finite
        distance = tf.sqrt(squared + 1e-12) / (tf.norm(target) + 1e-12)
        terms.append(w * tf.reduce_mean(distance))
    return tf.add_n(terms)


def total_variation_loss(images: tf.Tensor, kind: str = "l2") -> tf.Tensor:
    """Roughness of ``N×H×W×C`` images.

    Args:
        images: ``N×H×W×C`` pixels.
        kind: ``"l2"``, the mean squared difference of neighbours (artlib, the same for any size);
            ``"l1_sum"``, the sum of absolute differences (``tf.image.total_variation``, the tutorial).

    Returns:
        Scalar tensor.

    Raises:
        ArtlibError: Another ``kind``.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    dy = images[:, 1:, :, :] - images[:, :-1, :, :]
    dx = images[:, :, 1:, :] - images[:, :, :-1, :]
    if kind == "l2":
        return tf.reduce_mean(tf.square(dy)) + tf.reduce_mean(tf.square(dx))
    if kind == "l1_sum":
        return tf.reduce_sum(tf.image.total_variation(images))
    raise ArtlibError(f"kind must be 'l2' or 'l1_sum', not {kind!r}")


def default_weights(extractor: FeatureExtractor) -> dict[str, Any]:
    """artlib's term weights for ``extractor``: its feature family's (:data:`~artlib.style.recipes.FAMILIES`).

    Args:
        extractor: A :class:`~artlib.style.features.FeatureExtractor`.

    Returns:
        A copy of the family's weights (e.g. :data:`~artlib.style.recipes.HED_WEIGHTS`).
    """
    return dict(extractor.family.weights)


def _term_weight(name: str, value: float | None, default: float) -> float:
    if value is None:
        return float(default)
    return positive_float(value, name, zero=True)


class Objective:
    """The style-transfer objective at one resolution: ``objective(image) -> {"total", "content", "style", "tv"}``.

    Args:
        extractor: A :class:`~artlib.style.features.FeatureExtractor` (calibrated on the
            content image here if it was not yet).
        content_image: ``H×W×3`` in [0, 1]; the output has its size.
        style_images: One or more ``h×w×3`` style images in [0, 1] (any size).
        blend: Weight of each style image (normalized to sum to 1); default equal.
        content_weight: Weight of the content term (default: the features' family's,
            :func:`default_weights`); likewise ``style_weight`` and ``tv_weight``. 0 switches a term off.
        relative: Divide each layer's term by its target's mean square (artlib) or not (tutorial).
        tv: ``"l2"`` or ``"l1_sum"`` (see :func:`total_variation_loss`).
        content_layer_weights: Per layer (list or dict); default equal, summing to 1; likewise
            ``style_layer_weights``.

    Raises:
        ArtlibError: A negative term weight, bad blend or layer weights, or an unknown ``tv``.
        ImageError: An image that is not RGB pixels in [0, 1].

    Example:
        >>> objective = Objective(extractor, content, [painting])  # doctest: +SKIP
        >>> objective(content)["content"]  # doctest: +SKIP
        0.0
    """

    def __init__(self, extractor: FeatureExtractor, content_image: Any, style_images: Sequence[Any], *,
                 blend: Sequence[float] | None = None, content_weight: float | None = None,
                 style_weight: float | None = None, tv_weight: float | None = None, relative: bool | None = None,
                 tv: str | None = None, content_layer_weights: LayerWeights = None,
                 style_layer_weights: LayerWeights = None):
        d = default_weights(extractor)
        self.content_weight = _term_weight("content_weight", content_weight, d["content_weight"])
        self.style_weight = _term_weight("style_weight", style_weight, d["style_weight"])
        self.tv_weight = _term_weight("tv_weight", tv_weight, d["tv_weight"])
        self.relative = d["relative"] if relative is None else relative
        self.tv = d["tv"] if tv is None else tv
        if self.tv not in ("l2", "l1_sum"):
            raise ArtlibError(f"tv must be 'l2' or 'l1_sum', not {self.tv!r}")
        self.extractor = extractor
        self.content_image = as_image_batch(content_image, name="content image")
        if not extractor.calibrated:
            extractor.calibrate(self.content_image)
        style_images = [as_image_batch(s, name="style image") for s in style_images]
        self.blend = blend_weights(blend, len(style_images))
        self.content_layer_weights = per_layer_weights(extractor.content_layers, content_layer_weights)
        self.style_layer_weights = per_layer_weights(extractor.style_layers, style_layer_weights)
        content_features = extractor(self.content_image)
        self.content_targets = {n: content_features[n] for n in extractor.content_layers}
        self.style_targets = []
        for s in style_images:
            features = extractor(s)
            self.style_targets.append({n: gram_matrix(features[n]) for n in extractor.style_layers})
        self.size = tuple(self.content_image.shape[1:3])

    def _arguments(self) -> dict[str, Any]:
        """Everything but the image, as tensors: one traced graph serves every objective of an extractor."""
        return dict(content_targets=self.content_targets, style_targets=self.style_targets,
                    blend=tf.constant(self.blend, tf.float32),
                    content_layer_weights={n: tf.constant(w, tf.float32) for n, w in self.content_layer_weights.items()},
                    style_layer_weights={n: tf.constant(w, tf.float32) for n, w in self.style_layer_weights.items()},
                    term_weights=tf.constant([self.content_weight, self.style_weight, self.tv_weight], tf.float32),
                    relative=self.relative, tv=self.tv)

    def _terms(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        return _objective_terms(self.extractor, images, **self._arguments())

    def __call__(self, image: Any) -> dict[str, float]:
        """The weighted terms and their total at ``image`` (``H×W×3`` or ``1×H×W×3`` in [0, 1])."""
        return {k: float(v) for k, v in self._terms(as_image_batch(image)).items()}

    def value_and_grad(self, images: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
        """The terms and the gradient of the total with respect to the pixels.

        The graph is traced once per extractor (and once more for the first other image size),
        not once per objective: a coarse-to-fine run, or a notebook's twenty runs, reuse it.

        Args:
            images: ``1×H×W×3`` float32 tensor in [0, 1].

        Returns:
            ``(terms, gradient)``; the gradient has the shape of ``images``.
        """
        return _value_and_grad(self.extractor)(images, **self._arguments())


def _objective_terms(extractor: FeatureExtractor, images: tf.Tensor, *, content_targets, style_targets, blend,
                     content_layer_weights, style_layer_weights, term_weights, relative: bool,
                     tv: str) -> dict[str, tf.Tensor]:
    """The weighted content, style and TV terms of ``images`` and their total (eager or inside a graph)."""
    features = extractor(images)
    grams = {n: gram_matrix(features[n]) for n in extractor.style_layers}
    style = tf.add_n([blend[i] * style_loss(grams, t, style_layer_weights, relative=relative)
                      for i, t in enumerate(style_targets)])
    content = (content_loss(features, content_targets, content_layer_weights, relative=relative)
               if content_layer_weights else tf.constant(0.0))
    terms = {"content": term_weights[0] * content, "style": term_weights[1] * style,
             "tv": term_weights[2] * total_variation_loss(images, tv)}
    terms["total"] = terms["content"] + terms["style"] + terms["tv"]
    return terms


def _value_and_grad(extractor: FeatureExtractor):
    """The extractor's traced ``(images, **arguments) -> (terms, gradient)``, made on first use and kept with it."""
    traced = getattr(extractor, "_objective_graph", None)
    if traced is None:
        @tf.function(reduce_retracing=True)
        def traced(images, **arguments):
            with tf.GradientTape() as tape:
                tape.watch(images)
                terms = _objective_terms(extractor, images, **arguments)
            return terms, tape.gradient(terms["total"], images)

        extractor._objective_graph = traced
    return traced
