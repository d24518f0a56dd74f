"""Colour controls for style transfer: keep the content's colours, recolour the style like the content, or recolour
a painting in the style's colours."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from artlib import imageio
from artlib.errors import ArtlibError
from artlib.style.inputs import as_image

#: RGB -> YIQ: Y is the luminance, I and Q the chroma (``yiq = rgb @ YIQ_FROM_RGB.T``).
YIQ_FROM_RGB = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32)


def preserve_luminance(image: np.ndarray, content_image: np.ndarray) -> np.ndarray:
    """Keep the content's colours: the luminance (Y of YIQ) of ``image``, the chroma (IQ) of the content.

    Args:
        image: The stylized ``H×W×3`` image in [0, 1].
        content_image: ``h×w×3`` in [0, 1]; resized to ``image``'s size if it differs.

    Returns:
        float32 ``H×W×3`` in [0, 1].
    """
    content = content_image if content_image.shape == image.shape else \
        np.asarray(imageio.resize(content_image, image.shape[:2]))
    yiq_image, yiq_content = image @ YIQ_FROM_RGB.T, content @ YIQ_FROM_RGB.T
    mixed = np.concatenate([yiq_image[..., :1], yiq_content[..., 1:]], axis=-1)
    return np.clip(mixed @ np.linalg.inv(YIQ_FROM_RGB).T, 0.0, 1.0).astype(np.float32)


def _colour_stats(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels as ``(H·W)×3`` float64, their mean colour and their (regularized) colour covariance."""
    flat = image.reshape(-1, 3).astype(np.float64)
    return flat, flat.mean(0), np.cov(flat, rowvar=False) + 1e-5 * np.eye(3)


def _matrix_power(matrix: np.ndarray, power: float) -> np.ndarray:
    """``matrix ** power`` of a symmetric positive-definite 3×3 matrix (through its eigenvalues)."""
    values, vectors = np.linalg.eigh(matrix)
    return vectors @ np.diag(values ** power) @ vectors.T


def match_colors(style_image: np.ndarray, content_image: np.ndarray) -> np.ndarray:
    """Recolour the style image so its colour mean and covariance equal the content's.

    Args:
        style_image: ``H×W×3`` in [0, 1] (uint8, gray ``H×W`` or ``H×W×1`` are converted).
        content_image: ``h×w×3`` in [0, 1] (any size; converted alike).

    Returns:
        float32 ``H×W×3`` in [0, 1]: the style's pixels under an affine colour map.

    Raises:
        ImageError: Either is not such an image (the message names which).
    """
    _, mean, cov = _colour_stats(as_image(content_image, name="content_image"))
    return recolour(as_image(style_image, name="style_image"), mean, cov)


def colour_moments(images: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> \
        tuple[np.ndarray, np.ndarray]:
    """The colour mean and covariance of one image, or of several mixed with weights (their pixels pooled).

    Args:
        images: ``H×W×3`` images in [0, 1] (any sizes).
        weights: One weight per image, normalised to sum 1 (None: equal): each image's share of the pool.

    Returns:
        ``(mean, covariance)``: float64 ``(3,)`` and ``(3, 3)``, the mixture's first two moments.

    Raises:
        ArtlibError: No images, or weights that do not fit them (count, negative or non-finite, sum 0).
    """
    if not len(images):
        raise ArtlibError("colour_moments needs at least one image")
    weights = np.ones(len(images)) if weights is None else np.asarray(weights, np.float64).reshape(-1)
    if len(weights) != len(images) or not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ArtlibError(f"colour_moments: weights {weights.tolist()} for {len(images)} image(s); give one finite "
                          "weight ≥ 0 per image, not all 0")
    weights = weights / weights.sum()
    stats = [_colour_stats(image)[1:] for image in images]
    mean = sum(w * m for w, (m, _) in zip(weights, stats))
    second = sum(w * (c + np.outer(m, m)) for w, (m, c) in zip(weights, stats))  # E[x xᵀ] of the mixture
    return mean, second - np.outer(mean, mean)


def recolour(image: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Map ``image``'s colours affinely so that their mean and covariance become ``mean`` and ``cov``.

    Args:
        image: ``H×W×3`` in [0, 1].
        mean, cov: The target colour mean ``(3,)`` and covariance ``(3, 3)`` (:func:`colour_moments`).

    Returns:
        float32 ``H×W×3`` in [0, 1] (clipped).
    """
    flat, mu, sigma = _colour_stats(image)
    out = (flat - mu) @ (_matrix_power(cov, 0.5) @ _matrix_power(sigma, -0.5)).T + mean
    return np.clip(out.reshape(image.shape), 0.0, 1.0).astype(np.float32)
