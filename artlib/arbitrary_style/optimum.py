"""AdaIN's own objective, optimized for one image: where a decoder's loss points, and how far the decoder got.

The decoder is trained so that, for every (photo, style) pair, its one forward pass lands near the
minimum of ``‖f(g) − t‖² + λ Σ_l (‖μ_l(g) − μ_l(s)‖² + ‖σ_l(g) − σ_l(s)‖²)``. Optimizing the pixels g
of one image for that same objective (L-BFGS, as notebook 06 does for Gatys's) shows what a perfect
decoder would paint, and the gap between the two is the decoder's, not the objective's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from artlib import style
from artlib.arbitrary_style.adain import adain, channel_moments
from artlib.arbitrary_style.encoder import Encoder
from artlib.arbitrary_style.losses import content_loss, moment_loss
from artlib.arbitrary_style.train import STYLE_WEIGHT
from artlib.checks import positive_float, positive_int
from artlib.errors import ArtlibError
from artlib.style.inputs import as_image_batch

__all__ = ["ObjectiveOptimum", "optimize_objective"]


@dataclass(frozen=True)
class ObjectiveOptimum:
    """The image that minimizes AdaIN's objective for one pair, found from ``start``.

    Attributes:
        image: float32 ``H×W×3`` in [0, 1], the photo's size.
        start_loss: The objective at the start image (e.g. the decoder's output).
        loss: The objective at ``image``.
        evaluations: Objective and gradient evaluations spent.
    """

    image: np.ndarray
    start_loss: float
    loss: float
    evaluations: int


def optimize_objective(encoder: Encoder, photo: Any, style_image: Any, *, start: Any = None,
                       evaluations: int = 150, style_weight: float = STYLE_WEIGHT) -> ObjectiveOptimum:
    """Minimize AdaIN's training objective over the pixels of one image (L-BFGS-B, pixels kept in [0, 1]).

    Args:
        encoder: The decoder's :class:`Encoder` (its layers and AdaIN depth define the objective).
        photo: ``H×W×3`` in [0, 1]: the content, whose features AdaIN renormalises.
        style_image: ``h×w×3`` in [0, 1] (or a path, URL, ``"pattern:NAME"``, ``"painting:NAME"``).
        start: Where to start (``H×W×3``, e.g. a decoder's painting of the pair); default: the photo.
        evaluations: At most this many objective and gradient evaluations.
        style_weight: λ, as in training (:data:`~artlib.arbitrary_style.STYLE_WEIGHT`).

    Returns:
        An :class:`ObjectiveOptimum`.

    Raises:
        ArtlibError: ``evaluations`` not a positive integer, ``style_weight`` not positive, or a start
            image that is not the photo's shape. ImageError: a bad photo or style image.
    """
    import scipy.optimize  # here, not at import: only this function needs it

    evaluations = positive_int(evaluations, "evaluations")
    style_weight = positive_float(style_weight, "style_weight")
    content = as_image_batch(photo, name="photo")
    style_batch = tf.constant(style.load_style_image(style_image, max_dim=None)[None])
    first = content if start is None else as_image_batch(start, name="start")
    if first.shape != content.shape:
        raise ArtlibError(f"the start image must be the photo's shape {tuple(content.shape[1:])}; "
                          f"got {tuple(first.shape[1:])}")
    layers, depth = encoder.layers, encoder.depth
    targets = {name: channel_moments(feature) for name, feature in encoder(style_batch).items()}
    target = adain(encoder(content)[depth], *targets[depth])

    @tf.function(reduce_retracing=True)
    def value_and_grad(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            features = encoder(image)
            loss = content_loss(features[depth], target) + style_weight * moment_loss(features, targets, layers)
        return loss, tape.gradient(loss, image)

    shape = tuple(content.shape)

    def fun(flat):
        loss, grad = value_and_grad(tf.constant(flat.reshape(shape), tf.float32))
        return float(loss), grad.numpy().ravel().astype(np.float64)

    x0 = first.numpy().ravel().astype(np.float64)
    start_loss = fun(x0)[0]
    found = scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=scipy.optimize.Bounds(0.0, 1.0),
                                    options={"maxfun": evaluations, "maxiter": evaluations})
    image = np.clip(found.x.reshape(shape[1:]), 0.0, 1.0).astype(np.float32)
    return ObjectiveOptimum(image=image, start_loss=start_loss, loss=float(found.fun), evaluations=int(found.nfev))
