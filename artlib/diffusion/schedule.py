"""The forward process: a cosine noise schedule and noising in closed form, q(x_t | x_0)."""

from __future__ import annotations

from dataclasses import dataclass

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.checks import positive_float, positive_int, unit_float  # noqa: E402

__all__ = ["NUM_TIMESTEPS", "cosine_alpha_bars", "NoiseSchedule", "q_sample"]

#: The number of noise levels T (Ho et al. 2020 and Nichol & Dhariwal 2021 use 1,000).
NUM_TIMESTEPS = 1000


def cosine_alpha_bars(num_timesteps: int = NUM_TIMESTEPS, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """ᾱ_t for t = 1 … T of the cosine schedule (Nichol & Dhariwal 2021, eq. 17), float64.

    ``ᾱ(t) = f(t) / f(0)`` with ``f(t) = cos²((t/T + s) / (1 + s) · π/2)``; each step's β_t = 1 − ᾱ_t/ᾱ_{t−1}
    is clipped at ``max_beta`` so the last steps do not divide by zero.

    Returns:
        ``(T,)`` decreasing from just below 1 to about 0.

    Raises:
        ArtlibError: ``num_timesteps`` not a positive integer, ``s`` negative, ``max_beta`` outside (0, 1].
    """
    num_timesteps = positive_int(num_timesteps, "num_timesteps")
    s = positive_float(s, "s (the schedule's offset)", zero=True)
    max_beta = unit_float(max_beta, "max_beta", zero=False)
    t = np.arange(num_timesteps + 1, dtype=np.float64) / num_timesteps
    f = np.cos((t + s) / (1 + s) * np.pi / 2) ** 2
    betas = np.clip(1 - f[1:] / f[:-1], 0.0, max_beta)
    return np.cumprod(1 - betas)


@dataclass(frozen=True)
class NoiseSchedule:
    """β_t, α_t = 1 − β_t and ᾱ_t = ∏ α_s for t = 1 … T (index ``t − 1``), as float64 NumPy arrays.

    Attributes:
        alpha_bars: ``(T,)`` ᾱ_t. betas, alphas: derived from it.
    """

    alpha_bars: np.ndarray

    @classmethod
    def cosine(cls, num_timesteps: int = NUM_TIMESTEPS) -> NoiseSchedule:
        """The cosine schedule with ``num_timesteps`` levels."""
        return cls(cosine_alpha_bars(num_timesteps))

    @property
    def num_timesteps(self) -> int:
        return len(self.alpha_bars)

    @property
    def alphas(self) -> np.ndarray:
        return self.alpha_bars / np.concatenate([[1.0], self.alpha_bars[:-1]])

    @property
    def betas(self) -> np.ndarray:
        return 1.0 - self.alphas

    def tensor(self) -> tf.Tensor:
        """ᾱ as a float32 tensor, for indexing inside a ``tf.function``."""
        return tf.constant(self.alpha_bars, tf.float32)


def q_sample(x0: tf.Tensor, t: tf.Tensor, noise: tf.Tensor, alpha_bars: tf.Tensor) -> tf.Tensor:
    """x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε: a clean batch noised to level t in one step.

    Args:
        x0: ``N×H×W×C`` clean images in [-1, 1].
        t: ``(N,)`` int levels in 1 … T.
        noise: ε, the shape of ``x0``, standard normal.
        alpha_bars: ᾱ (:meth:`NoiseSchedule.tensor`).

    Returns:
        x_t, the shape of ``x0``.
    """
    a = tf.reshape(tf.gather(alpha_bars, tf.cast(t, tf.int32) - 1), (-1, 1, 1, 1))
    return tf.sqrt(a) * x0 + tf.sqrt(1.0 - a) * noise
