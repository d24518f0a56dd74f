"""The VAE itself: the two loss terms, the sampling layer, the encoder and decoder, and the model that trains them.

An encoder maps an image x to a Gaussian q(z|x) = N(z_mean, exp(z_log_var)) over
``latent_dim`` numbers; a decoder maps a latent z back to pixel probabilities
p(x|z). Training maximizes the evidence lower bound (ELBO)::

    log p(x) >= ELBO = E_q[log p(x|z)] - KL(q(z|x) || N(0, I))

so the loss per image is *reconstruction + KL*, both in nats. The β-VAE weights
the KL term by β; the reported ``neg_elbo`` is always the β = 1 value, so models
trained with different β compare on the same scale.

Model shapes: images ``(N, 28, 28, 1)`` float32 in [0, 1] → encoder →
``z_mean, z_log_var`` each ``(N, latent_dim)`` → z ``(N, latent_dim)`` → decoder →
logits ``(N, 28, 28, 1)``; ``sigmoid(logits)`` are the pixel probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from artlib.checks import pair, positive_float, positive_int, seed_value
from artlib import config  # noqa: F401 - sets KERAS_BACKEND before Keras is imported

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from artlib import training  # noqa: E402

__all__ = ["LIKELIHOOD", "IMAGE_SHAPE", "reconstruction_loss", "kl_divergence", "Sampling", "VAE",
           "build_encoder", "build_decoder", "build_vae"]

#: What p(x|z) is; printed next to every ELBO. Fashion-MNIST is *not* binarized, so the
#: reconstruction term is a cross-entropy whose minimum is above zero.
LIKELIHOOD = "Bernoulli likelihood on pixel intensities in [0, 1] (not binarized)"
#: One Fashion-MNIST image as the models see it.
IMAGE_SHAPE = (28, 28, 1)


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


# ----------------------------------------------------------------------------- the layers and networks
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
        seed = seed_value(seed)
        super().__init__(**kwargs)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, z_mean: Any, z_log_var: Any) -> Any:
        epsilon = training.draw_for_replica(keras.random.normal, ops.shape(z_mean),
                                            seed=self.seed_generator)  # a replica's rows of the global batch's ε
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


def _check_architecture(latent_dim: int, filters: Sequence[int]) -> None:
    positive_int(latent_dim, "latent_dim")
    for count in pair(filters, "filters", "the channels of the two convolutions, e.g. (32, 64)"):
        positive_int(count, "each of filters")


def build_encoder(latent_dim: int = 2, *, filters: Sequence[int] = (32, 64)) -> keras.Model:
    """Convolutional encoder: image → the mean and log-variance of q(z|x).

    Two stride-2 convolutions (28 → 14 → 7), flatten, and two linear heads.

    Args:
        latent_dim: Size of z.
        filters: Channels of the two convolutions.

    Returns:
        ``keras.Model`` from ``(N, 28, 28, 1)`` to ``[z_mean, z_log_var]``, each ``(N, latent_dim)``.

    Raises:
        ArtlibError: ``latent_dim`` or a filter count is not a positive integer.
    """
    _check_architecture(latent_dim, filters)
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

    Raises:
        ArtlibError: ``latent_dim`` or a filter count is not a positive integer.
    """
    _check_architecture(latent_dim, filters)
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(7 * 7 * filters[1], activation="relu")(z)
    x = keras.layers.Reshape((7, 7, filters[1]))(x)  # (N, 7·7·C) -> (N, 7, 7, C)
    x = keras.layers.Conv2DTranspose(filters[1], 3, strides=2, padding="same", activation="relu")(x)  # 14×14
    x = keras.layers.Conv2DTranspose(filters[0], 3, strides=2, padding="same", activation="relu")(x)  # 28×28
    logits = keras.layers.Conv2D(1, 3, padding="same", name="logits")(x)
    return keras.Model(z, logits, name="decoder")


# ----------------------------------------------------------------------------- the model
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

    Raises:
        ArtlibError: ``beta`` is negative (or NaN).
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, *, beta: float = 1.0, seed: int = 0,
                 **kwargs: Any) -> None:
        seed = seed_value(seed)
        super().__init__(**kwargs)
        beta = positive_float(beta, "beta (the KL term's weight)", zero=True)
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
            loss = training.scale_loss(reconstruction + self.beta * kl)  # Keras sums the replicas' gradients
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

    Raises:
        ArtlibError: A bad ``latent_dim``, ``filters`` or ``beta``.

    Example:
        >>> vae = build_vae(latent_dim=2)  # doctest: +SKIP
        >>> vae(np.zeros((1, 28, 28, 1))).shape  # doctest: +SKIP
        TensorShape([1, 28, 28, 1])
    """
    seed = seed_value(seed)
    strategy = strategy or training.get_strategy()
    with strategy.scope():
        keras.utils.set_random_seed(seed)  # the initial weights
        return VAE(build_encoder(latent_dim, filters=filters), build_decoder(latent_dim, filters=filters),
                   beta=beta, seed=seed, name="vae")
