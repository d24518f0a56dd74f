"""Using and measuring a trained VAE: scores in nats, reconstructions, samples, latent walks and maps."""

from __future__ import annotations

import math
import numbers
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from artlib.checks import fits_in_memory, positive_float, positive_int, seed_value
from artlib import metrics
from artlib.errors import ArtlibError, ImageError
from artlib.latent import slerp
from artlib.vae.model import IMAGE_SHAPE, VAE, kl_divergence, reconstruction_loss
from artlib.vae.train import as_images

__all__ = ["evaluate", "reconstruct", "sample", "interpolate", "latent_map", "latent_scatter"]


def evaluate(vae: VAE, images: Any, *, num_samples: int = 1, batch_size: int | None = None,
             seed: int = 0) -> dict[str, float]:
    """Score a VAE on held-out images: nats per image, reconstruction PSNR, active latent units.

    Deterministic for a given ``seed`` (its own seed generator; the model's is untouched).

    Args:
        vae: A trained :class:`~artlib.vae.VAE`.
        images: Held-out images (see :func:`~artlib.vae.as_images`).
        num_samples: K latent samples per image for the importance-weighted bound
            (Burda et al. 2016); K = 1 gives a one-sample ELBO estimate, larger K a tighter bound.
        batch_size: Images per forward pass (None: about 2,000 decoded images per pass).
        seed: Fixes the sampled z.

    Returns:
        ``{"neg_elbo", "reconstruction", "kl"}`` (means, nats per image, one sampled z,
        closed-form KL, as in training), ``"nll_bound"`` (the K-sample upper bound on
        -log p(x), nats per image), ``"psnr"`` (dB, mean over images, of the
        deterministic reconstruction through ``z_mean``) and ``"active_units"`` (latent
        dimensions whose ``z_mean`` varies across images by more than 0.01 in variance).
        The likelihood is :data:`~artlib.vae.LIKELIHOOD`.

    Raises:
        ArtlibError: ``num_samples`` or ``batch_size`` is not a positive integer.
        ImageError: Images of the wrong shape or range.
    """
    seed = seed_value(seed)
    positive_int(num_samples, "num_samples")
    if batch_size is not None:
        positive_int(batch_size, "batch_size")
    images = as_images(images)
    k = int(num_samples)
    batch_size = int(batch_size or max(1, 2000 // k))
    generator = keras.random.SeedGenerator(seed)

    @tf.function(input_signature=[tf.TensorSpec((None, *IMAGE_SHAPE), tf.float32)])
    def score(batch):
        z_mean, z_log_var = vae.encoder(batch, training=False)
        epsilon = keras.random.normal((k, *ops.shape(z_mean)), seed=generator)  # (K, N, latent_dim)
        z = z_mean + ops.exp(0.5 * z_log_var) * epsilon
        logits = vae.decoder(ops.reshape(z, (-1, vae.latent_dim)), training=False)  # (K·N, latent) -> images
        nll = ops.reshape(reconstruction_loss(ops.tile(batch, (k, 1, 1, 1)), logits), (k, -1))  # -> (K, N)
        # log w = log p(x|z) + log p(z) - log q(z|x); the log(2π) terms cancel.
        log_weights = -nll - 0.5 * ops.sum(ops.square(z) - ops.square(epsilon) - z_log_var, axis=-1)  # (K, N)
        bound = ops.logsumexp(log_weights, axis=0) - math.log(k)  # (N,)
        return nll[0], kl_divergence(z_mean, z_log_var), -bound, z_mean, ops.sigmoid(vae.decoder(z_mean))

    parts: dict[str, list[np.ndarray]] = {"reconstruction": [], "kl": [], "nll_bound": [], "z_mean": [], "psnr": []}
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        *values, decoded = (np.asarray(t) for t in score(batch))
        for name, value in zip(("reconstruction", "kl", "nll_bound", "z_mean"), values):
            parts[name].append(value)
        parts["psnr"].append(np.atleast_1d(metrics.psnr(batch, decoded)))
    scores = {name: float(np.mean(np.concatenate(parts[name]))) for name in ("reconstruction", "kl", "nll_bound")}
    return {"neg_elbo": scores["reconstruction"] + scores["kl"], **scores,
            "psnr": float(np.mean(np.concatenate(parts["psnr"]))),
            "active_units": int(np.sum(np.var(np.concatenate(parts["z_mean"]), axis=0) > 0.01))}


def reconstruct(vae: VAE, images: Any, *, batch_size: int = 500) -> np.ndarray:
    """Deterministic reconstructions through ``z_mean``.

    Args:
        vae: A trained :class:`~artlib.vae.VAE`.
        images: Images to reconstruct (see :func:`~artlib.vae.as_images`).
        batch_size: Images per forward pass.

    Returns:
        float32 ``(N, 28, 28, 1)`` in [0, 1].

    Raises:
        ArtlibError: ``batch_size`` is not a positive integer.
        ImageError: Images of the wrong shape or range.
    """
    positive_int(batch_size, "batch_size")
    images = as_images(images)
    return np.concatenate([np.asarray(vae(images[i : i + batch_size])) for i in range(0, len(images), batch_size)])


def sample(vae: VAE, num_images: int, *, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    """New images: decode z ~ N(0, temperature² · I).

    Args:
        vae: A trained :class:`~artlib.vae.VAE`.
        num_images: How many.
        seed: Fixes z (the same seed gives the same images).
        temperature: Scale of z; below 1 trades variety for typical-looking images.

    Returns:
        float32 ``(num_images, 28, 28, 1)``: the decoder's pixel probabilities (the
        Bernoulli means), which is what VAE samples are usually shown as.

    Raises:
        ArtlibError: ``num_images`` is not a positive integer or more than half of this machine's memory
            holds, or ``temperature`` is not positive.
    """
    seed = seed_value(seed)
    num_images = positive_int(num_images, "num_images")
    positive_float(temperature, "temperature")
    _check_memory(vae, num_images, f"vae.sample(num_images={num_images:,})")
    z = temperature * keras.random.normal((num_images, vae.latent_dim), seed=int(seed))
    return _decode(vae, z)


#: Latents per decoder call in :func:`sample`, :func:`interpolate` and :func:`latent_map`: the decoder's
#: activations for a few hundred images at a time, whatever the count asked for.
DECODE_BATCH = 256


def _check_memory(vae: VAE, count: int, what: str) -> None:
    """Refuse ``count`` decoded images that would not fit: the images (twice, while joined) and their latents."""
    fits_in_memory(count * (2 * 28 * 28 * 4 + 4 * vae.latent_dim), what,
                   "ask for fewer, or in several calls with other seeds")


def _decode(vae: VAE, z: Any) -> np.ndarray:
    """``vae.decode`` of the latents ``z``, :data:`DECODE_BATCH` at a time."""
    return np.concatenate([np.asarray(vae.decode(z[i : i + DECODE_BATCH])) for i in range(0, len(z), DECODE_BATCH)])


def interpolate(vae: VAE, image_a: Any, image_b: Any, *, num_steps: int = 8,
                method: str = "linear") -> np.ndarray:
    """Walk through the latent space from one image to another and decode each stop.

    Args:
        vae: A trained :class:`~artlib.vae.VAE`.
        image_a: The start image, ``(28, 28)`` or ``(28, 28, 1)``.
        image_b: The end image.
        num_steps: Images in the walk, both ends included (at least 2).
        method: ``"linear"`` (a straight line between the two ``z_mean`` s) or
            ``"spherical"`` (:func:`artlib.latent.slerp`: keeps the norm typical of Gaussian samples).

    Returns:
        float32 ``(num_steps, 28, 28, 1)``.

    Raises:
        ArtlibError: An unknown ``method``, fewer than 2 steps, or more than half of this machine's memory holds.
        ImageError: ``image_a`` or ``image_b`` is not one 28×28 grayscale image.
    """
    if method not in ("linear", "spherical"):
        raise ArtlibError(f"method must be 'linear' or 'spherical'; got {method!r}")
    if isinstance(num_steps, bool) or int(num_steps) != num_steps or num_steps < 2:
        raise ArtlibError(f"num_steps must be an integer of at least 2 (both ends); got {num_steps!r}")
    ends = [np.asarray(image) for image in (image_a, image_b)]
    if any(image.shape not in ((28, 28), IMAGE_SHAPE) for image in ends):
        raise ImageError(f"image_a and image_b must each be one 28×28 image; got shapes {[e.shape for e in ends]}")
    pair = as_images(np.stack([image.reshape(IMAGE_SHAPE) for image in ends]), "image_a/image_b")  # (2, 28, 28, 1)
    z_mean, _ = vae.encode(pair)
    a, b = np.asarray(z_mean, dtype=np.float64)
    _check_memory(vae, int(num_steps), f"vae.interpolate(num_steps={int(num_steps):,})")
    t = np.linspace(0.0, 1.0, int(num_steps))
    path = slerp(a, b, t) if method == "spherical" else (1 - t)[:, None] * a + t[:, None] * b  # (steps, latent)
    return _decode(vae, path.astype(np.float32))


def latent_map(vae: VAE, grid_size: int = 15, *, quantile: float = 0.95) -> np.ndarray:
    """The decoder over the 2-D latent plane: one image per grid point (``latent_dim == 2`` only).

    The grid points are quantiles of N(0, 1) from ``1 - quantile`` to ``quantile`` along each
    axis, so they cover the prior evenly by probability, not by distance.
    Row 0 is the top of the map (largest z₂), column 0 its left (smallest z₁).

    Args:
        vae: A trained :class:`~artlib.vae.VAE` with ``latent_dim == 2``.
        grid_size: Points per axis.
        quantile: The outermost quantile (0.5 < quantile < 1).

    Returns:
        float32 ``(grid_size · grid_size, 28, 28, 1)``, row by row; show it with
        ``plotting.image_grid(images, ncols=grid_size)`` or ``plotting.grid_array``.

    Raises:
        ArtlibError: ``latent_dim`` is not 2, a bad ``grid_size``/``quantile``, or more images than half of
            this machine's memory holds.
    """
    if vae.latent_dim != 2:
        raise ArtlibError(f"latent_map draws a 2-D latent space; this VAE has latent_dim={vae.latent_dim}. "
                          "Build one with build_vae(latent_dim=2), or use latent_scatter.")
    grid_size = positive_int(grid_size, "grid_size", minimum=2)
    if isinstance(quantile, bool) or not isinstance(quantile, numbers.Real) or not 0.5 < quantile < 1:  # NaN too
        raise ArtlibError(f"quantile must be between 0.5 and 1 (the outermost quantile); got {quantile!r}")
    _check_memory(vae, grid_size**2, f"vae.latent_map(grid_size={grid_size:,})")
    normal = statistics.NormalDist()
    values = np.array([normal.inv_cdf(p) for p in np.linspace(1 - quantile, quantile, int(grid_size))])
    z1, z2 = np.meshgrid(values, values[::-1])  # rows run from large z2 (top) to small
    z = np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)  # (grid², 2)
    return _decode(vae, z)


def latent_scatter(vae: VAE, images: Any, labels: Any, *, class_names: Sequence[str] | None = None,
                   path: str | Path | None = None, size: float = 6.0) -> Any:
    """Scatter plot of the encoded images (``z_mean``), one colour per class.

    With ``latent_dim > 2`` it shows the first two principal components of ``z_mean``.

    Args:
        vae: A trained :class:`~artlib.vae.VAE`.
        images: Images to encode (see :func:`~artlib.vae.as_images`).
        labels: ``(N,)`` integer classes.
        class_names: Legend names (default: Fashion-MNIST's ten classes).
        path: Also save the figure there as PNG.
        size: Figure width in inches.

    Returns:
        A matplotlib ``Figure`` (shows itself as the last line of a notebook cell).

    Raises:
        ArtlibError: Not one label per image, or ``size`` is not positive.
        ImageError: Images of the wrong shape or range.
    """
    from artlib import data, plotting

    positive_float(size, "size")
    images, labels = as_images(images), np.asarray(labels).astype(int).ravel()
    if len(labels) != len(images):
        raise ArtlibError(f"{len(images)} images but {len(labels)} labels; give one label per image")
    z = np.concatenate([np.asarray(vae.encode(images[i : i + 500])[0]) for i in range(0, len(images), 500)])
    axes_names = ("z₁", "z₂")
    if z.shape[1] > 2:
        centered = z - z.mean(axis=0)
        _, _, components = np.linalg.svd(centered, full_matrices=False)
        z = centered @ components[:2].T  # (N, latent_dim) -> (N, 2)
        axes_names = ("principal component 1 of z", "principal component 2 of z")
    names = list(class_names or data.FASHION_MNIST_CLASSES)
    fig = plotting.figure((size, size * 0.8))
    ax = fig.subplots()
    for k in np.unique(labels):
        chosen = labels == k
        ax.scatter(z[chosen, 0], z[chosen, 1], s=4, alpha=0.6, color=f"C{k % 10}",
                   label=names[k] if k < len(names) else str(k))
    ax.set_xlabel(axes_names[0])
    ax.set_ylabel(axes_names[1])
    ax.legend(markerscale=3, frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.spines[["top", "right"]].set_visible(False)
    if path is not None:
        plotting.save_figure(fig, path)
    return fig
