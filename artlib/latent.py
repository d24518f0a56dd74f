"""Latent vectors for the generative models: seeded draws and walks between them."""

from __future__ import annotations

import numpy as np

__all__ = ["latents", "slerp"]


def latents(n: int, latent_dim: int, seed: int) -> np.ndarray:
    """``n`` draws of z ~ N(0, I) as float32 ``(n, latent_dim)``, the same for the same seed."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation between vectors ``a`` and ``b`` at fractions ``t``.

    Moves along the great circle between them, which keeps the norm typical of
    Gaussian samples (a straight line passes through unlikely, short vectors);
    where ``a`` and ``b`` are parallel it is the straight line.

    Args:
        a, b: ``(latent_dim,)`` end points.
        t: ``(steps,)`` fractions; 0 gives ``a``, 1 gives ``b``.

    Returns:
        float ``(steps, latent_dim)``.
    """
    a, b, t = np.asarray(a), np.asarray(b), np.asarray(t)
    cos = np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t)[:, None] * a + t[:, None] * b
    return (np.sin((1 - t) * omega)[:, None] * a + np.sin(t * omega)[:, None] * b) / np.sin(omega)
