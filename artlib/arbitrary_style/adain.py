"""Adaptive instance normalization: a picture's style as each feature channel's mean and standard deviation.

Huang & Belongie (ICCV 2017)::

    AdaIN(x, y) = σ(y) · (x − μ(x)) / σ(x) + μ(y)

per image and channel, over the spatial positions: the content features ``x`` keep their
layout (where things are), and take the first two moments of the style features ``y``
(what each channel's response looks like on average, and how much it varies).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from artlib.checks import positive_float, sequence, unit_float
from artlib.errors import ArtlibError

__all__ = ["EPSILON", "channel_moments", "adain", "check_alpha", "blend_moments", "stylize_features"]

#: Added to the variance before the square root: a flat channel has σ = √ε, not 0.
EPSILON = 1e-5


def channel_moments(features: Any, epsilon: float = EPSILON) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-image, per-channel mean and standard deviation over the spatial positions.

    Args:
        features: ``N×h×w×C``.
        epsilon: Added to the variance.

    Returns:
        ``(mean, std)``, each ``N×1×1×C``.
    """
    mean, variance = tf.nn.moments(tf.convert_to_tensor(features, tf.float32), axes=[1, 2], keepdims=True)
    return mean, tf.sqrt(variance + epsilon)


def check_alpha(alpha: Any) -> float:
    """``alpha`` as a float in [0, 1] (a number, not text: :func:`artlib.checks.unit_float`), else an ArtlibError."""
    return unit_float(alpha, "alpha (style strength)")


def adain(content: Any, style_mean: Any, style_std: Any, epsilon: float = EPSILON) -> tf.Tensor:
    """The content features renormalised to the style's per-channel moments.

    Args:
        content: ``N×h×w×C`` content features.
        style_mean, style_std: ``N×1×1×C`` (or ``1×1×1×C``) target moments (see :func:`channel_moments`).
        epsilon: Added to the content's variance.

    Returns:
        ``N×h×w×C``: each channel has the style's mean and (up to ε) standard deviation.
    """
    mean, std = channel_moments(content, epsilon)
    return style_std * (content - mean) / std + style_mean


def blend_moments(moments: Sequence[tuple[tf.Tensor, tf.Tensor]], weights: Sequence[float] | None) -> \
        tuple[tf.Tensor, tf.Tensor]:
    """Several styles' moments mixed with weights (the paper's style interpolation).

    Args:
        moments: ``[(mean, std), …]``, one pair per style, each ``1×1×1×C``.
        weights: One weight ≥ 0 per style, summing to more than 0 (normalised to sum 1); None: equal.

    Returns:
        ``(mean, std)``: the weighted sums.

    Raises:
        ArtlibError: No styles, or weights that do not match them (count, sign, sum).
    """
    if not moments:
        raise ArtlibError("give at least one style")
    if weights is None:
        weights = [1.0] * len(moments)
    weights = [positive_float(w, "each style weight", zero=True)
               for w in sequence(weights, "style weights", f"one number per style ({len(moments)})", len(moments))]
    if sum(weights) <= 0:
        raise ArtlibError(f"style weights must be ≥ 0 and sum to more than 0; got {weights}")
    shares = [w / sum(weights) for w in weights]
    mean = sum(s * m for s, (m, _) in zip(shares, moments))
    std = sum(s * d for s, (_, d) in zip(shares, moments))
    return mean, std


def stylize_features(content: Any, style_mean: Any, style_std: Any, alpha: float = 1.0) -> tf.Tensor:
    """The decoder's input: AdaIN's target, interpolated with the content features by ``alpha``.

    ``t = α · AdaIN(x, y) + (1 − α) · x`` — the paper's content–style trade-off at test time
    (α = 0 gives back the content features, α = 1 the full style).

    Args:
        content: ``N×h×w×C`` content features.
        style_mean, style_std: Target moments.
        alpha: Style strength in [0, 1].

    Returns:
        ``N×h×w×C``.
    """
    target = adain(content, style_mean, style_std)
    return alpha * target + (1.0 - alpha) * tf.convert_to_tensor(content, tf.float32)
