"""Sampling: ancestral DDPM steps, DDIM in fewer steps (deterministic or with fresh noise), classifier-free guidance."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.checks import fits_in_memory, positive_float, positive_int, seed_value, unit_float  # noqa: E402
from artlib.classes import class_index  # noqa: E402
from artlib.diffusion.schedule import NoiseSchedule  # noqa: E402
from artlib.diffusion.unet import IMAGE_SHAPE, NULL_CLASS, NUM_CLASSES  # noqa: E402
from artlib.imageio import from_minus_one_one  # noqa: E402
from artlib.errors import ArtlibError  # noqa: E402

__all__ = ["ddim_timesteps", "drawn_classes", "guided_noise", "ddpm_sample", "ddim_sample", "SAMPLE_BATCH",
           "SHOWN_SAMPLER"]

#: Images per model call in the samplers (``batch_size``): the U-Net's activations take about 1.6 MB an image
#: (3.2 MB with guidance), so any number of images samples in a few hundred MB, and a call with no more
#: images than this runs them all at once.
SAMPLE_BATCH = 256
#: The DDIM settings artlib draws with unless told (the command line, the demo; a run's progress grids take 20
#: steps): η = 1 and the second-order update, sharper with the shipped model than :func:`ddim_sample`'s own
#: defaults, the published deterministic first-order sampler that notebook 10 starts from (data/README.md).
SHOWN_SAMPLER = {"steps": 50, "eta": 1.0, "order": 2}


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
    seed = seed_value(seed)
    return np.random.default_rng(int(seed)).integers(0, NUM_CLASSES, positive_int(n, "n")).astype(np.int32)


def _labels(labels: Any, n: int) -> np.ndarray:
    """``n`` class numbers: None (all :data:`NULL_CLASS`), one class for all, or one per image; numbers or names."""
    if labels is None:
        return np.full(n, NULL_CLASS, np.int32)
    items = [labels] if isinstance(labels, str) or np.ndim(labels) == 0 else list(labels)
    values = [NULL_CLASS if isinstance(v, numbers.Integral) and not isinstance(v, bool) and v == NULL_CLASS
              else class_index(v) for v in items]  # an unknown class: an ArtlibError listing the classes
    if len(values) not in (1, n):
        raise ArtlibError(f"labels must be one class for all {n} images or one per image; got {len(values)}")
    return np.broadcast_to(np.asarray(values, np.int32), (n,)).copy()


def guided_noise(model: keras.Model, x: tf.Tensor, t: tf.Tensor, labels: tf.Tensor, guidance: Any) -> tf.Tensor:
    """Classifier-free guidance (Ho & Salimans 2021): ε̃ = ε(x, ∅) + w · (ε(x, c) − ε(x, ∅)).

    w = 0 is the unconditional model, w = 1 the conditional one, w > 1 pushes further towards the class.
    Both predictions come from one batched call.
    """
    n = tf.shape(x)[0]
    both = model([tf.concat([x, x], 0), tf.concat([t, t], 0),
                  tf.concat([labels, tf.fill([n], NULL_CLASS)], 0)], training=False)
    conditional, unconditional = both[:n], both[n:]
    return unconditional + guidance * (conditional - unconditional)


def _check_schedule(schedule: Any) -> NoiseSchedule:
    if not isinstance(schedule, NoiseSchedule):
        raise ArtlibError(f"schedule must be the model's NoiseSchedule (diffusion.load_model returns both); got "
                          f"{type(schedule).__name__}")
    return schedule


def _path_levels(return_path: Any, num_timesteps: int) -> list[int] | None:
    """``ddpm_sample``'s ``return_path``: None, or the levels 1…T to keep (``True``: a mistake for ddim's flag)."""
    if return_path is None:
        return None
    if isinstance(return_path, bool) or not isinstance(return_path, Sequence | np.ndarray):
        raise ArtlibError(f"return_path is a list of levels from 1 to {num_timesteps} (the images to keep), not "
                          f"{return_path!r}; ddim_sample's return_path is the one that takes True")
    levels = [positive_int(t, "a return_path level") for t in return_path]
    if any(t > num_timesteps for t in levels):
        raise ArtlibError(f"return_path levels must be from 1 to {num_timesteps}; got {max(levels)}")
    return levels


def _prepare(n, labels, guidance, seed, sampler: str, kept: int, batch_size):
    """The checked labels and guidance, and the start noise; refuses ``n`` images that would not fit in memory."""
    n = positive_int(n, "n")
    batch_size = positive_int(batch_size, "batch_size")
    image = 28 * 28 * 4
    # about ten image-sized arrays per image in the loop, and the kept path; the model's activations per call
    fix = "ask for fewer, or sample in several calls with other seeds" + (", keeping a shorter path" if kept else "")
    fits_in_memory(n * image * (10 + kept) + min(n, batch_size) * 3.2e6, f"diffusion.{sampler}(n={n:,})", fix)
    labels = _labels(labels, n)
    if guidance is not None:
        guidance = positive_float(guidance, "guidance", zero=True)
        if (labels == NULL_CLASS).all() or guidance == 1.0:
            guidance = None  # nothing to guide towards, or exactly the conditional model: one call, not two
    noise = tf.random.stateless_normal((n, *IMAGE_SHAPE), seed=(int(seed), 0))
    return labels, guidance, noise


def _to_unit(x: tf.Tensor) -> np.ndarray:
    return from_minus_one_one(x.numpy())


# ----------------------------------------------------------------------------- the two updates, one level to the next
def _predicted_x0(x: tf.Tensor, eps: tf.Tensor, a_bar: tf.Tensor) -> tf.Tensor:
    """x̂_0 = (x_t − √(1−ᾱ_t) ε̂) / √ᾱ_t, the clean image the predicted noise implies, clipped to [−1, 1]."""
    return tf.clip_by_value((x - tf.sqrt(1 - a_bar) * eps) / tf.sqrt(a_bar), -1.0, 1.0)


def _ddpm_update(x, x0, a_bar, a_prev, noise, eta):  # eta unused: the ancestral step always adds β̃_t
    """x_{t−1} ~ q(x_{t−1} | x_t, x̂_0): the posterior mean from x̂_0, plus β̃_t of noise."""
    beta = 1.0 - a_bar / a_prev
    mean = (tf.sqrt(a_prev) * beta / (1 - a_bar)) * x0 + (tf.sqrt(1 - beta) * (1 - a_prev) / (1 - a_bar)) * x
    return mean if noise is None else mean + tf.sqrt(beta * (1 - a_prev) / (1 - a_bar)) * noise


def _ddim_update(x, x0, a_bar, a_prev, noise, eta):
    """x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ + σ z, with ε̂ = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t) the noise x̂_0 implies.

    ``x0`` is the clipped estimate, or at order 2 the extrapolated one (not clipped).
    """
    eps = (x - tf.sqrt(a_bar) * x0) / tf.sqrt(1 - a_bar)
    if noise is None:  # η = 0: the deterministic graph draws no noise at all
        return tf.sqrt(a_prev) * x0 + tf.sqrt(1 - a_prev) * eps
    sigma = eta * tf.sqrt((1 - a_prev) / (1 - a_bar) * (1 - a_bar / a_prev))
    return tf.sqrt(a_prev) * x0 + tf.sqrt(tf.maximum(1 - a_prev - sigma**2, 0.0)) * eps + sigma * noise


def _half_log_snr(a_bar: tf.Tensor) -> tf.Tensor:
    """λ = log(√ᾱ / √(1 − ᾱ)), half the log signal-to-noise ratio of a level (DPM-Solver's λ; +∞ at the image)."""
    return 0.5 * (tf.math.log(a_bar) - tf.math.log(1.0 - a_bar))


_UPDATES = {"ddpm": _ddpm_update, "ddim": _ddim_update}
_SIGNATURE = [tf.TensorSpec((None, *IMAGE_SHAPE), tf.float32, name="x"),  # the start noise
              tf.TensorSpec((None,), tf.int32, name="levels"),  # t from T down to 0 (the clean image)
              tf.TensorSpec((None,), tf.int32, name="labels"),
              tf.TensorSpec((None,), tf.bool, name="keep"),  # per step: keep the image it made (for a path)
              tf.TensorSpec((None,), tf.float32, name="alpha_bars"),  # ᾱ_0 = 1, ᾱ_1 … ᾱ_T
              tf.TensorSpec((), tf.int32, name="seed"),
              tf.TensorSpec((), tf.float32, name="guidance"),
              tf.TensorSpec((), tf.float32, name="eta"),
              tf.TensorSpec((), tf.int32, name="batch")]  # images per model call


def _predicted_noise(model, x, ts, labels, guidance, guided: bool, batch):
    """The model's ε̂ for ``x``, ``batch`` images per call (inside the sampling graph)."""
    n = tf.shape(x)[0]
    parts = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=False,
                           element_shape=(None, *IMAGE_SHAPE))
    for j in tf.range((n + batch - 1) // batch):
        part = slice(j * batch, tf.minimum((j + 1) * batch, n))
        eps = (guided_noise(model, x[part], ts[part], labels[part], guidance) if guided
               else model([x[part], ts[part], labels[part]], training=False))
        parts = parts.write(j, eps)
    return parts.concat()


def _sampler(model: keras.Model, kind: str, guided: bool, noisy: bool, with_path: bool, order: int = 1):
    """The whole sampling loop as one graph, traced once per model and variant, and kept with the model.

    The loop runs inside TensorFlow (a ``tf.while_loop``), so 1,000 DDPM steps cost one call, and
    a second call with other images, levels, classes, seed, guidance or η reuses the graph. A variant is
    (kind, guided, noisy, with_path, order); ``order`` 2 uses the second-order x̂_0 of :func:`ddim_sample`.
    """
    graphs = model.__dict__.get("_artlib_samplers")
    if graphs is None:  # kept outside Keras's attribute tracking: not a layer, not saved
        graphs = {}
        object.__setattr__(model, "_artlib_samplers", graphs)
    key = (kind, guided, noisy, with_path, order)
    if key not in graphs:
        update = _UPDATES[kind]

        @tf.function(input_signature=_SIGNATURE)
        def run(x, levels, labels, keep, alpha_bars, seed, guidance, eta, batch):
            n = tf.shape(x)[0]
            path = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=(None, *IMAGE_SHAPE))
            kept = 0
            x0_last, lam_last = tf.zeros_like(x), tf.constant(0.0)  # order 2: the last jump's x̂_0 and its level's λ
            for i in tf.range(tf.shape(levels)[0] - 1):
                t, s = levels[i], levels[i + 1]
                ts = tf.fill([n], t)
                eps = _predicted_noise(model, x, ts, labels, guidance, guided, batch)
                x0 = _predicted_x0(x, eps, alpha_bars[t])
                if order == 2:  # x̂_0 extrapolated linearly in λ to the middle of the jump (DPM-Solver++ 2M)
                    lam_t = _half_log_snr(alpha_bars[t])
                    # Not on the first jump (no last x̂_0) nor on the last (to the image, where λ = ∞: x̂_0 itself).
                    weight = tf.where((i > 0) & (s > 0),
                                      (_half_log_snr(alpha_bars[s]) - lam_t) / (2.0 * (lam_t - lam_last)), 0.0)
                    x0, x0_last, lam_last = x0 + weight * (x0 - x0_last), x0, lam_t
                # Fresh noise for the step; on the last jump (s = 0, ᾱ_0 = 1) both updates scale it by 0.
                noise = tf.random.stateless_normal(tf.shape(x), seed=tf.stack([seed, t])) if noisy else None
                x = update(x, x0, alpha_bars[t], alpha_bars[s], noise, eta)
                if with_path:
                    if keep[i]:
                        path = path.write(kept, x)
                        kept += 1
            return x, (path.stack() if with_path else tf.zeros([0, n, *IMAGE_SHAPE]))

        graphs[key] = run
    return graphs[key]


def _sample(model, kind, levels, labels, guidance, noise, seed, eta, schedule, keep=None, order=1,
            batch_size=SAMPLE_BATCH):
    """Run the loop from ``noise`` down ``levels`` (T … 0); returns the images and the kept steps' images."""
    run = _sampler(model, kind, guided=guidance is not None, noisy=kind == "ddpm" or eta > 0,
                   with_path=keep is not None, order=order)
    steps = len(levels) - 1
    x, path = run(noise, tf.constant(levels, tf.int32), tf.constant(labels),
                  tf.constant(np.zeros(steps, bool) if keep is None else keep),
                  tf.constant(np.concatenate([[1.0], schedule.alpha_bars]), tf.float32),
                  tf.constant(int(seed), tf.int32), tf.constant(1.0 if guidance is None else guidance, tf.float32),
                  tf.constant(eta, tf.float32), tf.constant(batch_size, tf.int32))
    return _to_unit(x), path


def ddpm_sample(model: keras.Model, n: int, *, schedule: NoiseSchedule, labels: Any = None,
                guidance: float | None = None, seed: int = 0, return_path: Sequence[int] | None = None,
                batch_size: int = SAMPLE_BATCH):
    """Ancestral sampling (Ho et al. 2020): T steps from pure noise, each x_{t−1} ~ q(x_{t−1} | x_t, x̂_0).

    x̂_0 = (x_t − √(1−ᾱ_t) ε̂) / √ᾱ_t is clipped to [−1, 1] and the posterior mean and variance β̃_t are used.

    Args:
        model: A noise predictor (:func:`~artlib.diffusion.load_model`).
        n: How many images.
        schedule: The model's :class:`~artlib.diffusion.NoiseSchedule`.
        labels: A class for all images, one per image (numbers 0 … 9 or names such as ``"sneaker"``;
            10 is no class), or None (unconditional).
        guidance: Classifier-free guidance weight w ≥ 0 (None: the conditional model as it is).
        seed: Fixes the start noise and every step's noise.
        return_path: Also return the images at these levels t (e.g. for a trajectory GIF): the image
            the step at level t made.
        batch_size: Images per model call (:data:`SAMPLE_BATCH`); lower it if memory is short. The images
            do not depend on it beyond floating-point rounding.

    Returns:
        ``n×28×28×1`` float32 in [0, 1]; with ``return_path``, ``(images, {t: images})``.

    Raises:
        ArtlibError: ``n`` or ``batch_size`` below 1, more images than half of this machine's memory holds, a
            label that names no class, labels neither one nor ``n``, a guidance weight below 0, no
            :class:`NoiseSchedule`, or ``return_path`` not a list of levels 1…T.
    """
    seed = seed_value(seed)
    schedule = _check_schedule(schedule)
    return_path = _path_levels(return_path, schedule.num_timesteps)
    labels, guidance, noise = _prepare(n, labels, guidance, seed, "ddpm_sample", len(return_path or ()), batch_size)
    levels = np.arange(schedule.num_timesteps, -1, -1, dtype=np.int32)
    keep = None if return_path is None else np.isin(levels[:-1], return_path)
    images, path = _sample(model, "ddpm", levels, labels, guidance, noise, seed, 1.0, schedule, keep,
                           batch_size=batch_size)
    if return_path is None:
        return images
    kept = levels[:-1][keep]
    return images, {int(t): from_minus_one_one(step) for t, step in zip(kept, path.numpy())}


def ddim_sample(model: keras.Model, n: int, *, schedule: NoiseSchedule, steps: int = 50, labels: Any = None,
                guidance: float | None = None, seed: int = 0, eta: float = 0.0, order: int = 1,
                return_path: bool = False, batch_size: int = SAMPLE_BATCH):
    """DDIM sampling (Song et al. 2021) in ``steps`` model calls: deterministic at η = 0, the default.

    Each jump from level t to the next level s of the sub-sequence τ is
    x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ + σ z with
    σ = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s): η = 0 follows the deterministic path (no z),
    η = 1 adds as much fresh noise as an ancestral DDPM step over the same jump. The seed fixes the
    start noise and every z, so the same seed always gives the same images; fewer steps trade detail for time.

    A jump holds x̂_0 fixed over a long stretch of levels, although x̂_0 keeps changing along the way.
    ``order=2`` corrects that at no extra model call (the multistep DPM-Solver++ 2M of Lu et al. 2022,
    its SDE form at η = 1; between, DDIM's σ with the corrected x̂_0): with λ = log(√ᾱ/√(1 − ᾱ)), half the
    log signal-to-noise ratio, h this jump's rise in λ and h_last the last one's, a jump uses
    x̂_0 + h / (2 h_last) · (x̂_0 − x̂_0,last) in place of x̂_0 — x̂_0 extrapolated along the line through the last
    jump's x̂_0 to the middle of this jump (not on the first jump, which has no last x̂_0, nor on the last, to
    the image), and not clipped. On the shipped model, with η = 1, 50 calls score like the 1,000-step DDPM
    (README). On the deterministic path (η = 0) with 25 steps or fewer it overshoots on the jump into level 1,
    where λ rises fastest, and does worse than order 1 (a Gaussian test case whose exact path is known).

    Args:
        model, n, schedule, labels, guidance, seed, batch_size: As :func:`ddpm_sample`.
        steps: Model calls (levels of the sub-sequence τ, at most T).
        eta: η in [0, 1], the share of ancestral noise.
        order: 1, DDIM as published, or 2, with the multistep correction above.
        return_path: Also return x̂ after every step (``steps×n×28×28×1``), noise to image.

    Returns:
        ``n×28×28×1`` float32 in [0, 1]; with ``return_path``, ``(images, path)``.

    Raises:
        ArtlibError: As :func:`ddpm_sample`, or ``steps``, ``eta`` or ``order`` out of range.
    """
    seed = seed_value(seed)
    schedule = _check_schedule(schedule)
    eta = unit_float(eta, "eta")
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order not in (1, 2):
        raise ArtlibError(f"order must be 1 (DDIM) or 2 (with the multistep correction); got {order!r}")
    levels = np.append(ddim_timesteps(schedule.num_timesteps, steps), 0).astype(np.int32)
    labels, guidance, noise = _prepare(n, labels, guidance, seed, "ddim_sample", (len(levels) - 1) * bool(return_path),
                                       batch_size)
    keep = np.ones(len(levels) - 1, bool) if return_path else None
    images, path = _sample(model, "ddim", levels, labels, guidance, noise, seed, eta, schedule, keep, int(order),
                           batch_size)
    return (images, from_minus_one_one(path.numpy())) if return_path else images
