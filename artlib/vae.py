"""The variational autoencoder (VAE): an autoencoder whose latent space you can sample from.

An encoder maps an image x to a Gaussian q(z|x) = N(z_mean, exp(z_log_var)) over
``latent_dim`` numbers; a decoder maps a latent z back to pixel probabilities
p(x|z). Training maximizes the evidence lower bound (ELBO)::

    log p(x) >= ELBO = E_q[log p(x|z)] - KL(q(z|x) || N(0, I))

so the loss per image is *reconstruction + KL*, both in nats. The β-VAE weights
the KL term by β; the reported ``neg_elbo`` is always the β = 1 value, so models
trained with different β compare on the same scale.

**The likelihood.** p(x|z) is a Bernoulli per pixel on intensities in [0, 1]
(the classic choice for (Fashion-)MNIST; see :data:`LIKELIHOOD`). Fashion-MNIST
is *not* binarized here, so the reconstruction term is a cross-entropy whose
minimum is above zero: compare numbers only with others computed the same way.

The pieces, each usable on its own::

    vae = build_vae(latent_dim=2)                           # encoder + Sampling + decoder
    history = train(vae, x_train, num_epochs=10, run_dir="runs/vae")
    scores = evaluate(vae, x_test)                          # nats per image, PSNR, active units
    grid = sample(vae, 64, seed=0)                          # new images from z ~ N(0, I)
    fig = plotting.image_grid(latent_map(vae, 15), ncols=15)  # the decoder over the 2-D plane

Model shapes: images ``(N, 28, 28, 1)`` float32 in [0, 1] → encoder →
``z_mean, z_log_var`` each ``(N, latent_dim)`` → z ``(N, latent_dim)`` → decoder →
logits ``(N, 28, 28, 1)``; ``sigmoid(logits)`` are the pixel probabilities.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from artlib import config  # sets KERAS_BACKEND before Keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from artlib import metrics, training  # noqa: E402
from artlib.errors import ArtlibError, DataError, ImageError  # noqa: E402

__all__ = [
    "LIKELIHOOD",
    "IMAGE_SHAPE",
    "PRETRAINED_DIR",
    "reconstruction_loss",
    "kl_divergence",
    "Sampling",
    "VAE",
    "build_encoder",
    "build_decoder",
    "build_vae",
    "as_images",
    "epoch_batches",
    "train",
    "evaluate",
    "reconstruct",
    "sample",
    "interpolate",
    "latent_map",
    "latent_scatter",
    "beta_sweep",
    "save_vae",
    "load_vae",
    "load_pretrained",
]

#: What p(x|z) is; printed next to every ELBO.
LIKELIHOOD = "Bernoulli likelihood on pixel intensities in [0, 1] (not binarized)"
#: One Fashion-MNIST image as the models see it.
IMAGE_SHAPE = (28, 28, 1)
#: Shipped checkpoints (``data/pretrained/vae_<latent_dim>d.keras``).
PRETRAINED_DIR = config.REPO_ROOT / "data" / "pretrained"


# ----------------------------------------------------------------------------- the two loss terms
def reconstruction_loss(images: Any, logits: Any) -> tf.Tensor:
    """-log p(x|z) per image for a Bernoulli decoder, in nats: binary cross-entropy summed over pixels.

    Computed from logits (``max(l, 0) - l·x + log(1 + exp(-|l|))``), which stays finite
    where ``log(sigmoid(l))`` would not.

    Args:
        images: Targets ``(N, 28, 28, 1)`` in [0, 1].
        logits: Decoder outputs, the same shape.

    Returns:
        ``(N,)`` float32, nats per image.
    """
    images = ops.cast(images, "float32")
    per_pixel = ops.relu(logits) - logits * images + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=1)  # (N, H·W·C) -> (N,)


def kl_divergence(z_mean: Any, z_log_var: Any) -> tf.Tensor:
    """KL(N(z_mean, exp(z_log_var)) || N(0, I)) per image, in nats (closed form).

    ``-½ Σ (1 + log σ² - μ² - σ²)`` over the latent dimensions.

    Args:
        z_mean: ``(N, latent_dim)``.
        z_log_var: ``(N, latent_dim)``, log of the variance.

    Returns:
        ``(N,)`` float32, nats per image.
    """
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)


# ----------------------------------------------------------------------------- the model
@keras.saving.register_keras_serializable(package="artlib")
class Sampling(keras.layers.Layer):
    """The reparameterization trick: ``z = z_mean + exp(z_log_var / 2) · ε`` with ε ~ N(0, I).

    The randomness sits in ε, drawn from the layer's own ``keras.random.SeedGenerator``,
    so gradients flow through ``z_mean`` and ``z_log_var``.

    Input shapes: ``z_mean, z_log_var`` each ``(N, latent_dim)``. Output: ``(N, latent_dim)``.

    Args:
        seed: Seeds the generator; the same seed gives the same sequence of ε.

    Example:
        >>> z = Sampling(seed=0)(np.zeros((4, 2)), np.zeros((4, 2)))  # ε itself  # doctest: +SKIP
    """

    def __init__(self, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, z_mean: Any, z_log_var: Any) -> Any:
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


def build_encoder(latent_dim: int = 2, *, filters: Sequence[int] = (32, 64)) -> keras.Model:
    """Convolutional encoder: image → the mean and log-variance of q(z|x).

    Two stride-2 convolutions (28 → 14 → 7), flatten, and two linear heads.

    Args:
        latent_dim: Size of z.
        filters: Channels of the two convolutions.

    Returns:
        ``keras.Model`` from ``(N, 28, 28, 1)`` to ``[z_mean, z_log_var]``, each ``(N, latent_dim)``.
    """
    _check_latent_dim(latent_dim)
    images = keras.Input(IMAGE_SHAPE, name="images")
    x = keras.layers.Conv2D(filters[0], 3, strides=2, padding="same", activation="relu")(images)  # 14×14
    x = keras.layers.Conv2D(filters[1], 3, strides=2, padding="same", activation="relu")(x)  # 7×7
    x = keras.layers.Flatten()(x)  # (N, 7·7·filters[1])
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = keras.layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(images, [z_mean, z_log_var], name="encoder")


def build_decoder(latent_dim: int = 2, *, filters: Sequence[int] = (32, 64)) -> keras.Model:
    """Convolutional decoder: latent z → pixel logits (the mirror image of the encoder).

    Args:
        latent_dim: Size of z.
        filters: Channels, as in :func:`build_encoder` (used in reverse order).

    Returns:
        ``keras.Model`` from ``(N, latent_dim)`` to logits ``(N, 28, 28, 1)``; apply a
        sigmoid for pixel probabilities in [0, 1].
    """
    _check_latent_dim(latent_dim)
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(7 * 7 * filters[1], activation="relu")(z)
    x = keras.layers.Reshape((7, 7, filters[1]))(x)  # (N, 7·7·C) -> (N, 7, 7, C)
    x = keras.layers.Conv2DTranspose(filters[1], 3, strides=2, padding="same", activation="relu")(x)  # 14×14
    x = keras.layers.Conv2DTranspose(filters[0], 3, strides=2, padding="same", activation="relu")(x)  # 28×28
    logits = keras.layers.Conv2D(1, 3, padding="same", name="logits")(x)
    return keras.Model(z, logits, name="decoder")


@keras.saving.register_keras_serializable(package="artlib")
class VAE(keras.Model):
    """A variational autoencoder trained by ``fit``: its ``train_step`` minimizes reconstruction + β·KL.

    Calling the model reconstructs deterministically through ``z_mean``;
    training samples z with :class:`Sampling`. The metrics ``fit`` reports, all
    means over images in nats per image (likelihood: :data:`LIKELIHOOD`):

    * ``loss`` — reconstruction + β·KL, what the optimizer minimizes;
    * ``reconstruction`` — -log p(x|z) for one sampled z;
    * ``kl`` — KL(q(z|x) || N(0, I));
    * ``neg_elbo`` — reconstruction + KL (β = 1), an upper bound on -log p(x).

    Input shape ``(N, 28, 28, 1)`` in [0, 1]; output (``vae(images)``) the same shape,
    the reconstructed pixel probabilities.

    Args:
        encoder: From :func:`build_encoder`.
        decoder: From :func:`build_decoder`, with the same ``latent_dim``.
        beta: Weight of the KL term (1.0: the plain VAE).
        seed: Seeds the sampling of z.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, *, beta: float = 1.0, seed: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not beta >= 0:
            raise ArtlibError(f"beta weights the KL term and must be >= 0; got {beta!r}")
        self.encoder, self.decoder = encoder, decoder
        self.latent_dim = int(decoder.input_shape[-1])
        self.beta, self.seed = float(beta), int(seed)
        self.sampling = Sampling(self.seed, name="sampling")
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("loss", "reconstruction", "kl", "neg_elbo")}
        self.build((None, *IMAGE_SHAPE))

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers.values())  # listed here so that fit resets them each epoch

    def build(self, input_shape: Any = None) -> None:
        self.built = True  # the encoder and decoder arrive built; nothing else has weights

    def call(self, images: Any, training: bool = False) -> Any:
        z_mean, _ = self.encoder(images, training=training)
        return ops.sigmoid(self.decoder(z_mean, training=training))

    def encode(self, images: Any) -> tuple[Any, Any]:
        """``(z_mean, z_log_var)``, each ``(N, latent_dim)``, for images ``(N, 28, 28, 1)``."""
        return self.encoder(images, training=False)

    def decode(self, z: Any) -> Any:
        """Pixel probabilities ``(N, 28, 28, 1)`` in [0, 1] for latents ``(N, latent_dim)``."""
        return ops.sigmoid(self.decoder(z, training=False))

    def loss_terms(self, images: Any, training: bool = False) -> tuple[Any, Any]:
        """Mean reconstruction and KL (nats per image) for one batch, with one sampled z per image."""
        z_mean, z_log_var = self.encoder(images, training=training)
        z = self.sampling(z_mean, z_log_var)
        logits = self.decoder(z, training=training)
        return ops.mean(reconstruction_loss(images, logits)), ops.mean(kl_divergence(z_mean, z_log_var))

    def _report(self, reconstruction: Any, kl: Any) -> dict[str, Any]:
        values = {"loss": reconstruction + self.beta * kl, "reconstruction": reconstruction, "kl": kl,
                  "neg_elbo": reconstruction + kl}
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data: Any) -> dict[str, Any]:
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)  # labels, if given, are ignored
        with tf.GradientTape() as tape:
            reconstruction, kl = self.loss_terms(images, training=True)
            loss = reconstruction + self.beta * kl
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._report(reconstruction, kl)

    def test_step(self, data: Any) -> dict[str, Any]:
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._report(*self.loss_terms(images, training=False))

    def get_config(self) -> dict:
        return {"name": self.name, "beta": self.beta, "seed": self.seed,
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder)}

    @classmethod
    def from_config(cls, config: dict) -> VAE:
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)


def _check_latent_dim(latent_dim: int) -> None:
    if isinstance(latent_dim, bool) or int(latent_dim) != latent_dim or latent_dim < 1:
        raise ArtlibError(f"latent_dim must be a positive integer; got {latent_dim!r}")


def build_vae(latent_dim: int = 2, *, beta: float = 1.0, filters: Sequence[int] = (32, 64), seed: int = 0,
              strategy: tf.distribute.Strategy | None = None) -> VAE:
    """A fresh convolutional VAE, built under the ``tf.distribute`` strategy's scope.

    Args:
        latent_dim: Size of z (2 gives a map you can draw; 8–32 gives sharper samples).
        beta: Weight of the KL term.
        filters: Channels of the encoder's two convolutions (mirrored in the decoder).
        seed: Seeds the initial weights and the sampling of z.
        strategy: Default: :func:`artlib.training.get_strategy`.

    Returns:
        A :class:`VAE`; ``vae.encoder`` and ``vae.decoder`` are plain ``keras.Model`` s.

    Example:
        >>> vae = build_vae(latent_dim=2)  # doctest: +SKIP
        >>> vae(np.zeros((1, 28, 28, 1))).shape  # doctest: +SKIP
        TensorShape([1, 28, 28, 1])
    """
    strategy = strategy or training.get_strategy()
    with strategy.scope():
        keras.utils.set_random_seed(seed)  # the initial weights
        return VAE(build_encoder(latent_dim, filters=filters), build_decoder(latent_dim, filters=filters),
                   beta=beta, seed=seed, name="vae")


# ----------------------------------------------------------------------------- data and training
def _checked(images: Any, name: str) -> np.ndarray:
    """``(N, 28, 28, 1)`` uint8 or float32 in [0, 1], still in the dtype given (uint8 stays compact)."""
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[..., np.newaxis]  # (N, 28, 28) -> (N, 28, 28, 1)
    if array.ndim != 4 or array.shape[1:] != IMAGE_SHAPE or len(array) == 0:
        raise ImageError(f"{name} must be a batch of 28×28 grayscale images, (N, 28, 28) or (N, 28, 28, 1); "
                         f"got shape {np.shape(images)}")
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise ImageError(f"{name} must be uint8 or float pixels; got dtype {array.dtype}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ImageError(f"{name} holds NaN or infinite pixels; pixels must be in [0, 1] (or uint8 0–255)")
    if array.min() < 0.0 or array.max() > 1.0:
        raise ImageError(f"{name} must hold pixels in [0, 1] (or uint8 0–255); got values from "
                         f"{array.min():.3g} to {array.max():.3g}")
    return array


def as_images(images: Any, name: str = "images") -> np.ndarray:
    """Fashion-MNIST-like images as the VAE wants them: float32 ``(N, 28, 28, 1)`` in [0, 1].

    Args:
        images: uint8 (0–255) or float in [0, 1], shaped ``(N, 28, 28)`` or ``(N, 28, 28, 1)``.
        name: What to call the input in an error message.

    Returns:
        float32 ``(N, 28, 28, 1)`` in [0, 1].

    Raises:
        ImageError: Another shape, an empty batch, or floats outside [0, 1] (or NaN).
    """
    array = _checked(images, name)
    return array.astype(np.float32) / 255.0 if array.dtype == np.uint8 else array


def epoch_batches(images: Any, batch_size: int, *, seed: int, num_epochs: int, steps_per_epoch: int,
                  first_epoch: tf.Variable) -> tf.data.Dataset:
    """Epochs ``first_epoch … num_epochs - 1`` back to back, epoch e in an order fixed by ``seed + e``.

    The order of epoch e is ``np.random.default_rng(seed + e).permutation``, as in
    :func:`artlib.training.shuffled_batches`, so it does not depend on how many
    epochs ran before in this process. ``first_epoch`` is read when ``fit`` starts
    reading, after ``BackupAndRestore`` has chosen the epoch to resume at
    (:func:`train` sets it), so a resumed run sees exactly the batches the
    uninterrupted one would have seen.

    Args:
        images: ``(N, 28, 28, 1)``, uint8 (kept compact in memory) or float32 in [0, 1].
        batch_size: Images per batch.
        seed: With the epoch number, fixes each epoch's order.
        num_epochs: Epochs in all.
        steps_per_epoch: Batches per epoch (the rest of each shuffled epoch is dropped).
        first_epoch: A scalar int64 variable: the epoch to start at.

    Returns:
        A dataset of float32 batches ``(batch_size, 28, 28, 1)`` in [0, 1].
    """
    pixels = tf.constant(np.asarray(images))
    scale = 1.0 / 255.0 if pixels.dtype == tf.uint8 else 1.0
    orders = np.stack([np.random.default_rng(seed + e).permutation(len(pixels))[: steps_per_epoch * batch_size]
                       for e in range(num_epochs)])  # (epochs, steps·batch)
    orders = orders.reshape(num_epochs, steps_per_epoch, batch_size)  # -> (epochs, steps, batch)
    return (tf.data.Dataset.range(num_epochs)
            .filter(lambda epoch: epoch >= first_epoch)
            .flat_map(lambda epoch: tf.data.Dataset.from_tensor_slices(tf.gather(orders, epoch)))
            .map(lambda index: tf.cast(tf.gather(pixels, index), tf.float32) * scale, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


class _FirstEpoch(keras.callbacks.Callback):
    """Tell :func:`epoch_batches` at which epoch ``fit`` starts (0, or where the backup says)."""

    def __init__(self) -> None:
        super().__init__()
        self.value = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._set = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if not self._set:
            self.value.assign(epoch)
            self._set = True


def train(
    vae: VAE,
    images: Any,
    *,
    num_epochs: int,
    run_dir: str | Path,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    validation_images: Any = None,
    seed: int = 0,
    steps_per_execution: int = 8,
    verbose: int | str = 2,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
) -> keras.callbacks.History:
    """Train with ``fit`` and the shared callbacks (TensorBoard, NaN guard, BackupAndRestore).

    Interrupted (Ctrl-C, a killed kernel), call it again with a freshly built model and
    the same arguments: it resumes after the last finished epoch and ends with the
    same weights as a run that never stopped. The epoch order comes from ``seed + epoch``;
    each epoch drops the few batches that do not fill a ``steps_per_execution`` group.

    Args:
        vae: From :func:`build_vae`; compiled here with Adam unless already compiled.
        images: Training images (see :func:`as_images`).
        num_epochs: Total epochs (a resumed run trains only the missing ones).
        run_dir: Where ``tensorboard/`` and ``backup/`` go.
        batch_size: Images per step.
        learning_rate: Adam's step size (when this function compiles).
        validation_images: Evaluated after each epoch (``val_neg_elbo`` …).
        seed: Fixes the order of the examples in each epoch.
        steps_per_execution: Steps per call into TensorFlow (fewer Python round trips).
        verbose: Passed to ``fit`` (2: one line per epoch).
        extra_callbacks: More callbacks, run after the shared ones.

    Returns:
        The ``keras.callbacks.History`` of this call.

    Raises:
        ImageError: Images of the wrong shape or range.
        NonFiniteLossError: A loss became NaN or infinite.
    """
    images = _checked(images, "images")
    if validation_images is not None:
        validation_images = as_images(validation_images, "validation_images")
    steps_per_execution = max(1, int(steps_per_execution))
    steps_per_epoch = len(images) // batch_size // steps_per_execution * steps_per_execution
    if steps_per_epoch == 0:
        steps_per_execution = 1
        steps_per_epoch = len(images) // batch_size
    if steps_per_epoch == 0:
        raise ImageError(f"images holds {len(images)} images, fewer than one batch of {batch_size}")
    if not vae.compiled:
        vae.compile(optimizer=keras.optimizers.Adam(learning_rate), steps_per_execution=steps_per_execution)
    first_epoch = _FirstEpoch()
    batches = epoch_batches(images, batch_size, seed=seed, num_epochs=num_epochs,
                            steps_per_epoch=steps_per_epoch, first_epoch=first_epoch.value)
    chosen = training.callbacks(run_dir) + [first_epoch, *extra_callbacks]
    validation = (validation_images,) if validation_images is not None else None
    return vae.fit(batches, epochs=num_epochs, steps_per_epoch=steps_per_epoch, validation_data=validation,
                   validation_batch_size=500, shuffle=False, callbacks=chosen, verbose=verbose)  # shuffled above



# ----------------------------------------------------------------------------- measuring
def evaluate(vae: VAE, images: Any, *, num_samples: int = 1, batch_size: int | None = None,
             seed: int = 0) -> dict[str, float]:
    """Score a VAE on held-out images: nats per image, reconstruction PSNR, active latent units.

    Deterministic for a given ``seed`` (its own seed generator; the model's is untouched).

    Args:
        vae: A trained :class:`VAE`.
        images: Held-out images (see :func:`as_images`).
        num_samples: K latent samples per image for the importance-weighted bound
            (Burda et al. 2016); K = 1 gives a one-sample ELBO estimate, larger K a tighter bound.
        batch_size: Images per forward pass (default: about 2,000 decoded images per pass).
        seed: Fixes the sampled z.

    Returns:
        ``{"neg_elbo", "reconstruction", "kl"}`` (means, nats per image, one sampled z,
        closed-form KL, as in training), ``"nll_bound"`` (the K-sample upper bound on
        -log p(x), nats per image), ``"psnr"`` (dB, mean over images, of the
        deterministic reconstruction through ``z_mean``) and ``"active_units"`` (latent
        dimensions whose ``z_mean`` varies across images by more than 0.01 in variance).
        The likelihood is :data:`LIKELIHOOD`.
    """
    images = as_images(images)
    k = int(num_samples)
    if k < 1:
        raise ArtlibError(f"num_samples must be at least 1; got {num_samples!r}")
    batch_size = batch_size or max(1, 2000 // k)
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
    """Deterministic reconstructions through ``z_mean``: float32 ``(N, 28, 28, 1)`` in [0, 1]."""
    images = as_images(images)
    return np.concatenate([np.asarray(vae(images[i : i + batch_size])) for i in range(0, len(images), batch_size)])


def sample(vae: VAE, num_images: int, *, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    """New images: decode z ~ N(0, temperature² · I).

    Args:
        vae: A trained :class:`VAE`.
        num_images: How many.
        seed: Fixes z (the same seed gives the same images).
        temperature: Scale of z; below 1 trades variety for typical-looking images.

    Returns:
        float32 ``(num_images, 28, 28, 1)``: the decoder's pixel probabilities (the
        Bernoulli means), which is what VAE samples are usually shown as.
    """
    if int(num_images) < 1:
        raise ArtlibError(f"num_images must be at least 1; got {num_images!r}")
    z = temperature * keras.random.normal((int(num_images), vae.latent_dim), seed=int(seed))
    return np.asarray(vae.decode(z))


def _slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation between rows a and b at fractions t (linear where they are parallel)."""
    cos = np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t)[:, None] * a + t[:, None] * b
    return (np.sin((1 - t) * omega)[:, None] * a + np.sin(t * omega)[:, None] * b) / np.sin(omega)


def interpolate(vae: VAE, image_a: Any, image_b: Any, *, num_steps: int = 8,
                method: str = "linear") -> np.ndarray:
    """Walk through the latent space from one image to another and decode each stop.

    Args:
        vae: A trained :class:`VAE`.
        image_a: The start image, ``(28, 28)`` or ``(28, 28, 1)``.
        image_b: The end image.
        num_steps: Images in the walk, both ends included (at least 2).
        method: ``"linear"`` (a straight line between the two ``z_mean`` s) or
            ``"spherical"`` (slerp: keeps the norm typical of Gaussian samples).

    Returns:
        float32 ``(num_steps, 28, 28, 1)``.
    """
    if method not in ("linear", "spherical"):
        raise ArtlibError(f"method must be 'linear' or 'spherical'; got {method!r}")
    if int(num_steps) < 2:
        raise ArtlibError(f"num_steps must be at least 2 (both ends); got {num_steps!r}")
    ends = [np.asarray(image) for image in (image_a, image_b)]
    if any(image.shape not in ((28, 28), IMAGE_SHAPE) for image in ends):
        raise ImageError(f"image_a and image_b must each be one 28×28 image; got shapes {[e.shape for e in ends]}")
    pair = as_images(np.stack([image.reshape(IMAGE_SHAPE) for image in ends]), "image_a/image_b")  # (2, 28, 28, 1)
    z_mean, _ = vae.encode(pair)
    a, b = np.asarray(z_mean, dtype=np.float64)
    t = np.linspace(0.0, 1.0, int(num_steps))
    path = _slerp(a, b, t) if method == "spherical" else (1 - t)[:, None] * a + t[:, None] * b  # (steps, latent)
    return np.asarray(vae.decode(path.astype(np.float32)))


def latent_map(vae: VAE, grid_size: int = 15, *, quantile: float = 0.95) -> np.ndarray:
    """The decoder over the 2-D latent plane: one image per grid point (``latent_dim == 2`` only).

    The grid points are quantiles of N(0, 1) from ``1 - quantile`` to ``quantile`` along each
    axis, so they cover the prior evenly by probability, not by distance.
    Row 0 is the top of the map (largest z₂), column 0 its left (smallest z₁).

    Args:
        vae: A trained :class:`VAE` with ``latent_dim == 2``.
        grid_size: Points per axis.
        quantile: The outermost quantile (0.5 < quantile < 1).

    Returns:
        float32 ``(grid_size · grid_size, 28, 28, 1)``, row by row; show it with
        ``plotting.image_grid(images, ncols=grid_size)`` or ``plotting.grid_array``.

    Raises:
        ArtlibError: ``latent_dim`` is not 2, or a bad ``grid_size``/``quantile``.
    """
    if vae.latent_dim != 2:
        raise ArtlibError(f"latent_map draws a 2-D latent space; this VAE has latent_dim={vae.latent_dim}. "
                          "Build one with build_vae(latent_dim=2), or use latent_scatter.")
    if int(grid_size) < 2 or not 0.5 < quantile < 1:
        raise ArtlibError(f"need grid_size >= 2 and 0.5 < quantile < 1; got {grid_size!r}, {quantile!r}")
    normal = statistics.NormalDist()
    values = np.array([normal.inv_cdf(p) for p in np.linspace(1 - quantile, quantile, int(grid_size))])
    z1, z2 = np.meshgrid(values, values[::-1])  # rows run from large z2 (top) to small
    z = np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)  # (grid², 2)
    return np.asarray(vae.decode(z))


def latent_scatter(vae: VAE, images: Any, labels: Any, *, class_names: Sequence[str] | None = None,
                   path: str | Path | None = None, size: float = 6.0) -> Any:
    """Scatter plot of the encoded images (``z_mean``), one colour per class.

    With ``latent_dim > 2`` it shows the first two principal components of ``z_mean``.

    Args:
        vae: A trained :class:`VAE`.
        images: Images to encode (see :func:`as_images`).
        labels: ``(N,)`` integer classes.
        class_names: Legend names (default: Fashion-MNIST's ten classes).
        path: Also save the figure there as PNG.
        size: Figure width in inches.

    Returns:
        A matplotlib ``Figure`` (shows itself as the last line of a notebook cell).
    """
    from artlib import data, plotting

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


def beta_sweep(images: Any, test_images: Any, betas: Sequence[float], *, latent_dim: int, num_epochs: int,
               run_dir: str | Path, batch_size: int = 128, seed: int = 0,
               verbose: int | str = 0) -> list[dict[str, Any]]:
    """Train one VAE per β and score each on the test images: the β experiment as a table.

    Args:
        images: Training images.
        test_images: Held-out images for :func:`evaluate`.
        betas: KL weights to try, e.g. ``(0.5, 1, 4)``.
        latent_dim: Size of z for every model.
        num_epochs: Epochs per model.
        run_dir: Each model trains in ``run_dir/beta_<β>`` (and resumes there).
        batch_size: Images per step.
        seed: Same initial weights and data order for every β.
        verbose: Passed to ``fit``.

    Returns:
        One dict per β: ``{"beta", "vae", **evaluate(...)}`` (nats per image, :data:`LIKELIHOOD`).
    """
    rows = []
    for beta in betas:
        vae = build_vae(latent_dim, beta=beta, seed=seed)
        train(vae, images, num_epochs=num_epochs, run_dir=Path(run_dir) / f"beta_{beta:g}",
              batch_size=batch_size, seed=seed, verbose=verbose)
        rows.append({"beta": float(beta), "vae": vae, **evaluate(vae, test_images, seed=seed)})
    return rows


# ----------------------------------------------------------------------------- saved models
def save_vae(vae: VAE, path: str | Path) -> Path:
    """Save a VAE for use (architecture + weights, no optimizer state), atomically, as ``.keras``.

    Load it with :func:`load_vae` (``safe_mode=True``). To resume *training*, use the
    run directory of :func:`train` instead.

    Raises:
        ArtlibError: ``path`` does not end in ``.keras``.
    """
    from artlib.atomic import atomic_path

    path = Path(path)
    if path.suffix != ".keras":
        raise ArtlibError(f"{path}: a VAE file name must end in .keras")
    bare = VAE.from_config(vae.get_config())  # uncompiled: no optimizer variables in the file
    bare.set_weights(vae.get_weights())
    with atomic_path(path) as tmp:
        bare.save(tmp)
    return path


def load_vae(path: str | Path) -> VAE:
    """Load a VAE saved with ``vae.save("name.keras")``, with ``safe_mode=True``.

    Raises:
        DataError: The file is missing, not a ``.keras`` archive, or holds no VAE.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no VAE file at {path}; save one with vae.save('{path.name}') or train a new one")
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as err:  # noqa: BLE001 - zip, JSON, HDF5 errors: all mean "not a usable model file"
        raise DataError(f"{path} is not a usable .keras VAE file ({type(err).__name__}: {str(err)[:200]}); "
                        "re-save or re-train it") from err
    if not isinstance(model, VAE):
        raise DataError(f"{path} holds a {type(model).__name__}, not an artlib VAE")
    return model


def load_pretrained(latent_dim: int = 2) -> VAE:
    """The VAE shipped in ``data/pretrained/vae_<latent_dim>d.keras`` (see ``data/README.md``).

    Raises:
        DataError: The file is missing or corrupt (its name is in the message).
    """
    path = PRETRAINED_DIR / f"vae_{int(latent_dim)}d.keras"
    if not path.is_file():
        raise DataError(f"the shipped VAE {path} is missing; restore it from the repository, or train one "
                        f"with artlib.vae.train (USE_PRETRAINED = False in the notebook)")
    return load_vae(path)
