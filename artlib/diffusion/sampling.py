"""Sampling: ancestral DDPM steps, DDIM in fewer steps (deterministic or with fresh noise), classifier-free guidance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.checks import positive_int  # noqa: E402
from artlib.diffusion.schedule import NoiseSchedule  # noqa: E402
from artlib.diffusion.unet import IMAGE_SHAPE, NULL_CLASS, NUM_CLASSES  # noqa: E402
from artlib.errors import ArtlibError  # noqa: E402

__all__ = ["ddim_timesteps", "drawn_classes", "guided_noise", "ddpm_sample", "ddim_sample"]


def ddim_timesteps(num_timesteps: int, steps: int) -> np.ndarray:
    """``steps`` levels from T down to 1, evenly spaced (the DDIM sub-sequence τ), as int32."""
    steps = positive_int(steps, "steps")
    if steps > num_timesteps:
        raise ArtlibError(f"steps must be at most the schedule's {num_timesteps} levels; got {steps}")
    return np.unique(np.linspace(1, num_timesteps, steps).round().astype(np.int32))[::-1].copy()


def drawn_classes(n: int, seed: int = 0) -> np.ndarray:
    """A class for each of ``n`` images, drawn from the data's prior (uniform over the ten), seeded.

    Sampling the conditional model with these labels samples p(x) = Σ_c p(c) p(x | c): images
    of every class in the data's proportions, sharper than the unconditional model's.

    Returns:
        ``(n,)`` int32 class numbers 0 … 9.
    """
    return np.random.default_rng(int(seed)).integers(0, NUM_CLASSES, positive_int(n, "n")).astype(np.int32)


def _labels(labels: Any, n: int) -> np.ndarray:
    if labels is None:
        return np.full(n, NULL_CLASS, np.int32)
    values = np.broadcast_to(np.asarray(labels, np.int32), (n,)).copy()
    if ((values < 0) | (values > NULL_CLASS)).any():
        raise ArtlibError(f"class labels must be 0 … {NUM_CLASSES - 1} (or {NULL_CLASS}, none); got {labels}")
    return values


def guided_noise(model: keras.Model, x: tf.Tensor, t: tf.Tensor, labels: tf.Tensor, guidance: float) -> tf.Tensor:
    """Classifier-free guidance (Ho & Salimans 2021): ε̃ = ε(x, ∅) + w · (ε(x, c) − ε(x, ∅)).

    w = 0 is the unconditional model, w = 1 the conditional one, w > 1 pushes further towards the class.
    Both predictions come from one batched call.
    """
    n = tf.shape(x)[0]
    both = model([tf.concat([x, x], 0), tf.concat([t, t], 0),
                  tf.concat([labels, tf.fill([n], NULL_CLASS)], 0)], training=False)
    conditional, unconditional = both[:n], both[n:]
    return unconditional + guidance * (conditional - unconditional)


def _predict(model, x, t, labels, guidance: float | None):  # inside a tf.function
    if guidance is None:
        return model([x, t, labels], training=False)
    return guided_noise(model, x, t, labels, guidance)


def _prepare(model, n, labels, guidance, seed):
    n = positive_int(n, "n")
    labels = _labels(labels, n)
    if guidance is not None:
        guidance = float(guidance)
        if not np.isfinite(guidance) or guidance < 0:
            raise ArtlibError(f"guidance must be a number ≥ 0; got {guidance}")
        if (labels == NULL_CLASS).all() or guidance == 1.0:
            guidance = None  # nothing to guide towards, or exactly the conditional model: one call, not two
    noise = tf.random.stateless_normal((n, *IMAGE_SHAPE), seed=(int(seed), 0))
    return n, tf.constant(labels), guidance, noise


def _to_unit(x: tf.Tensor) -> np.ndarray:
    return np.clip((x.numpy() + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)


def ddpm_sample(model: keras.Model, n: int, *, schedule: NoiseSchedule, labels: Any = None,
                guidance: float | None = None, seed: int = 0, return_path: Sequence[int] | None = None):
    """Ancestral sampling (Ho et al. 2020): T steps from pure noise, each x_{t−1} ~ q(x_{t−1} | x_t, x̂_0).

    x̂_0 = (x_t − √(1−ᾱ_t) ε̂) / √ᾱ_t is clipped to [−1, 1] and the posterior mean and variance β̃_t are used.

    Args:
        model: A noise predictor (:func:`~artlib.diffusion.load_model`).
        n: How many images.
        schedule: The model's :class:`~artlib.diffusion.NoiseSchedule`.
        labels: A class 0 … 9 for all, one per image, or None (unconditional).
        guidance: Classifier-free guidance weight w ≥ 0 (None: the conditional model as it is).
        seed: Fixes the start noise and every step's noise.
        return_path: Also return the images at these levels t (e.g. for a trajectory GIF).

    Returns:
        ``n×28×28×1`` float32 in [0, 1]; with ``return_path``, ``(images, {t: images})``.
    """
    n, labels, guidance, x = _prepare(model, n, labels, guidance, seed)
    ab = tf.constant(schedule.alpha_bars, tf.float32)
    ab_prev = tf.constant(np.concatenate([[1.0], schedule.alpha_bars[:-1]]), tf.float32)
    wanted = set(return_path or ())
    path = {}

    @tf.function(reduce_retracing=True)
    def step(x, t):  # one ancestral step, t a scalar int32 tensor: the whole update in one graph
        a_bar, a_prev = ab[t - 1], ab_prev[t - 1]
        beta = 1.0 - a_bar / a_prev
        eps = _predict(model, x, tf.fill([n], t), labels, guidance)
        x0 = tf.clip_by_value((x - tf.sqrt(1 - a_bar) * eps) / tf.sqrt(a_bar), -1.0, 1.0)
        mean = (tf.sqrt(a_prev) * beta / (1 - a_bar)) * x0 + (tf.sqrt(1 - beta) * (1 - a_prev) / (1 - a_bar)) * x
        noise = tf.random.stateless_normal(tf.shape(x), seed=tf.stack([tf.constant(int(seed)), t]))
        return tf.where(t > 1, mean + tf.sqrt(beta * (1 - a_prev) / (1 - a_bar)) * noise, mean)

    for t in range(schedule.num_timesteps, 0, -1):
        x = step(x, tf.constant(t, tf.int32))
        if t in wanted:
            path[t] = _to_unit(x)
    images = _to_unit(x)
    return (images, path) if return_path is not None else images


def ddim_sample(model: keras.Model, n: int, *, schedule: NoiseSchedule, steps: int = 50, labels: Any = None,
                guidance: float | None = None, seed: int = 0, eta: float = 0.0, return_path: bool = False):
    """DDIM sampling (Song et al. 2021) in ``steps`` model calls: deterministic at η = 0, the default.

    Each jump from level t to the next level s of the sub-sequence τ is
    x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ + σ z with
    σ = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s): η = 0 follows the deterministic path (no z),
    η = 1 adds as much fresh noise as an ancestral DDPM step over the same jump. The seed fixes the
    start noise and every z, so the same seed always gives the same images; fewer steps trade detail for time.

    Args:
        model, n, schedule, labels, guidance, seed: As :func:`ddpm_sample`.
        steps: Model calls (levels of the sub-sequence τ, at most T).
        eta: η in [0, 1], the share of ancestral noise.
        return_path: Also return x̂ after every step (``steps×n×28×28×1``), noise to image.

    Returns:
        ``n×28×28×1`` float32 in [0, 1]; with ``return_path``, ``(images, path)``.
    """
    eta = float(eta)
    if not 0.0 <= eta <= 1.0:  # also refuses NaN
        raise ArtlibError(f"eta must be in [0, 1]; got {eta}")
    n, labels, guidance, x = _prepare(model, n, labels, guidance, seed)
    taus = ddim_timesteps(schedule.num_timesteps, steps)
    ab = tf.constant(np.concatenate([[1.0], schedule.alpha_bars]), tf.float32)  # ab[t] = ᾱ_t, ab[0] = 1

    @tf.function(reduce_retracing=True)
    def step(x, t, t_prev):  # one DDIM jump from level t to t_prev (0: the clean image)
        a_bar, a_prev = ab[t], ab[t_prev]
        eps = _predict(model, x, tf.fill([n], t), labels, guidance)
        x0 = tf.clip_by_value((x - tf.sqrt(1 - a_bar) * eps) / tf.sqrt(a_bar), -1.0, 1.0)
        eps = (x - tf.sqrt(a_bar) * x0) / tf.sqrt(1 - a_bar)  # the noise consistent with the clipped x̂_0
        if eta == 0.0:  # a Python branch: the deterministic graph draws no noise at all
            return tf.sqrt(a_prev) * x0 + tf.sqrt(1 - a_prev) * eps
        sigma = eta * tf.sqrt((1 - a_prev) / (1 - a_bar) * (1 - a_bar / a_prev))
        noise = tf.random.stateless_normal(tf.shape(x), seed=tf.stack([tf.constant(int(seed)), t]))
        return tf.sqrt(a_prev) * x0 + tf.sqrt(tf.maximum(1 - a_prev - sigma**2, 0.0)) * eps + sigma * noise

    path = []
    for i, t in enumerate(taus):
        t_prev = int(taus[i + 1]) if i + 1 < len(taus) else 0
        x = step(x, tf.constant(int(t), tf.int32), tf.constant(t_prev, tf.int32))
        if return_path:
            path.append(_to_unit(x))
    images = _to_unit(x)
    return (images, np.stack(path)) if return_path else images
