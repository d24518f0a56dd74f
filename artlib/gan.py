"""Generative adversarial networks on 28×28 Fashion-MNIST: DCGAN, the loss family, conditional GANs.

A GAN is two networks in a game. The *generator* maps a latent vector ``z``
to an image; the *discriminator* scores images as real or generated. The
discriminator learns to tell them apart, the generator learns to fool it.
Generators here output pixels in [-1, 1] (``tanh``); images elsewhere in
artlib are in [0, 1], so :func:`sample` converts back.

What this module gives (notebooks 04 and 05 teach it):

* builders: the TF DCGAN tutorial's models (:func:`build_tutorial_generator`,
  :func:`build_tutorial_discriminator`) as the named baseline, and artlib's
  default (:func:`build_generator`, :func:`build_discriminator`): about 4× fewer
  multiply-adds in the generator, trained with Adam(2e-4, β1=0.5) at batch 64;
  both optionally conditional on the ten class labels;
* the losses as one argument (:data:`LOSSES`): ``"minimax"``, ``"bce"``
  (= ``"non_saturating"``), ``"lsgan"``, ``"hinge"``, ``"wgan-gp"``;
* one training step, written once (:func:`gan_step`) and used both by the
  explicit ``@tf.function`` (:func:`make_train_step`, for ``training.train_loop``
  with exact resume) and by :class:`GAN`, a ``keras.Model`` for ``fit``;
* :func:`train`, the run directory the CLI uses (checkpoints, a fixed-latent
  grid per epoch as PNG/GIF/TensorBoard, loss curves, the final ``generator.keras``);
* :func:`sample`, :func:`interpolate`, :func:`load_generator`.

Both networks see the same generated batch in one step (the "simultaneous"
update of the TF tutorial): one generator forward pass feeds both gradients.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from artlib import config  # sets KERAS_BACKEND before Keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import plotting, training  # noqa: E402
from artlib.atomic import atomic_write_text  # noqa: E402
from artlib.imageio import save_image  # noqa: E402
from artlib.errors import ArtlibError, CheckpointError, DataError  # noqa: E402

__all__ = [
    "LOSSES",
    "NUM_CLASSES",
    "PRETRAINED_DIR",
    "build_tutorial_generator",
    "build_tutorial_discriminator",
    "build_generator",
    "build_discriminator",
    "discriminator_loss",
    "generator_loss",
    "gradient_penalty",
    "gan_step",
    "make_train_step",
    "GAN",
    "GANSettings",
    "tutorial_settings",
    "build_models",
    "train",
    "load_generator",
    "load_settings",
    "sample",
    "interpolate",
    "to_unit",
    "build_progressive_generator",
    "progressive_images",
    "progressive_real",
    "train_progressive",
]

#: The losses a step accepts; ``"non_saturating"`` is another name for ``"bce"``.
LOSSES = ("minimax", "bce", "non_saturating", "lsgan", "hinge", "wgan-gp")
NUM_CLASSES = 10
#: The shipped generator (made by ``python -m artlib gan train``; see data/README.md).
PRETRAINED_DIR = config.REPO_ROOT / "data" / "pretrained" / "gan"
IMAGE_SHAPE = (28, 28, 1)


def _check_loss(loss: str) -> str:
    if loss not in LOSSES:
        raise ArtlibError(f"unknown GAN loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return "bce" if loss == "non_saturating" else loss


# ----------------------------------------------------------------------------- builders
def _latent_inputs(latent_dim: int, conditional: bool, label_dim: int) -> tuple[list, Any]:
    """The generator's inputs, and z with the label embedding concatenated when conditional."""
    z = keras.Input((latent_dim,), name="z")
    if not conditional:
        return [z], z
    labels = keras.Input((), dtype="int32", name="labels")
    embedded = keras.layers.Embedding(NUM_CLASSES, label_dim, name="label_embedding")(labels)
    return [z, labels], keras.layers.Concatenate()([z, embedded])  # (N, latent_dim + label_dim)


def _generator_model(inputs: list, outputs: Any, name: str) -> keras.Model:
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=name)


def build_tutorial_generator(latent_dim: int = 100, *, conditional: bool = False) -> keras.Model:
    """The generator of the TensorFlow DCGAN tutorial (2.3 M parameters), as a baseline.

    Dense → 7×7×256 → ConvTranspose 128 (5×5) → 64 (5×5, stride 2) → 1 (5×5, stride 2, tanh),
    batch normalization and LeakyReLU between.

    Args:
        latent_dim: Length of z (the tutorial uses 100).
        conditional: Also take class labels (embedded and concatenated to z).

    Returns:
        A model ``z (N, latent_dim)[, labels (N,)] -> images (N, 28, 28, 1)`` in [-1, 1].
    """
    inputs, x = _latent_inputs(latent_dim, conditional, 50)
    x = keras.layers.Dense(7 * 7 * 256, use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU()(x)
    x = keras.layers.Reshape((7, 7, 256))(x)  # (N, 12544) -> (N, 7, 7, 256)
    for filters, strides in ((128, 1), (64, 2)):
        x = keras.layers.Conv2DTranspose(filters, 5, strides=strides, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.LeakyReLU()(x)
    x = keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")(x)
    return _generator_model(inputs, x, "tutorial_generator")


def _projection(features: Any, labels: Any, logits: Any) -> Any:
    """Projection discriminator (Miyato & Koyama 2018): logit + <embed(label), features>."""
    embedded = keras.layers.Embedding(NUM_CLASSES, features.shape[-1], name="label_projection")(labels)
    projected = keras.layers.Dot(axes=1)([embedded, features])  # (N, 1)
    return keras.layers.Add()([logits, projected])


def _discriminator_model(body: Callable[[Any], Any], conditional: bool, name: str) -> keras.Model:
    images = keras.Input(IMAGE_SHAPE, name="images")
    features = body(images)  # (N, F)
    logits = keras.layers.Dense(1, name="logit")(features)
    if not conditional:
        return keras.Model(images, logits, name=name)
    labels = keras.Input((), dtype="int32", name="labels")
    return keras.Model([images, labels], _projection(features, labels, logits), name=name)


def build_tutorial_discriminator(*, conditional: bool = False, dropout: float = 0.3) -> keras.Model:
    """The discriminator of the TensorFlow DCGAN tutorial (212 k parameters), as a baseline.

    Conv 64 (5×5, stride 2) → Conv 128 (5×5, stride 2), LeakyReLU and dropout, → one logit.

    Args:
        conditional: Also take class labels (projection discriminator).
        dropout: Dropout rate after each convolution (the tutorial's 0.3).

    Returns:
        A model ``images (N, 28, 28, 1)[, labels (N,)] -> logits (N, 1)``.
    """
    def body(x):
        for filters in (64, 128):
            x = keras.layers.Conv2D(filters, 5, strides=2, padding="same")(x)
            x = keras.layers.LeakyReLU()(x)
            x = keras.layers.Dropout(dropout)(x)
        return keras.layers.Flatten()(x)  # (N, 7, 7, 128) -> (N, 6272)

    return _discriminator_model(body, conditional, "tutorial_discriminator")


def build_generator(latent_dim: int = 64, *, conditional: bool = False, width: int = 64) -> keras.Model:
    """artlib's default DCGAN generator: small and fast on a CPU (≈ 13 M multiply-adds per image).

    Dense → 7×7×(2·width) → ConvTranspose width (4×4, stride 2) → width/2 (4×4, stride 2)
    → Conv 1 (3×3, tanh); batch normalization and ReLU between. Kernels of 4 with
    stride 2 avoid the checkerboard that 5×5 or 3×3 kernels leave (each output pixel
    gets the same number of contributions).

    Args:
        latent_dim: Length of z.
        conditional: Also take class labels (embedded and concatenated to z).
        width: Channels of the 14×14 layer; the others scale with it.

    Returns:
        A model ``z (N, latent_dim)[, labels (N,)] -> images (N, 28, 28, 1)`` in [-1, 1].
    """
    inputs, x = _latent_inputs(latent_dim, conditional, 16)
    x = keras.layers.Dense(7 * 7 * 2 * width, use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Reshape((7, 7, 2 * width))(x)  # (N, 49·2w) -> (N, 7, 7, 2w)
    for filters in (width, width // 2):
        x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(x)
    return _generator_model(inputs, x, "generator")


def build_discriminator(*, conditional: bool = False, width: int = 64) -> keras.Model:
    """artlib's default discriminator: Conv width (4×4, stride 2) → Conv 2·width (4×4, stride 2) → logit.

    LeakyReLU(0.2), no batch normalization (so every loss, WGAN-GP included, may use
    it) and no dropout.

    Args:
        conditional: Also take class labels (projection discriminator).
        width: Channels of the first convolution.

    Returns:
        A model ``images (N, 28, 28, 1)[, labels (N,)] -> logits (N, 1)``.
    """
    def body(x):
        for filters in (width, 2 * width):
            x = keras.layers.Conv2D(filters, 4, strides=2, padding="same")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
        return keras.layers.Flatten()(x)  # (N, 7, 7, 2w) -> (N, 98w)

    return _discriminator_model(body, conditional, "discriminator")


# ----------------------------------------------------------------------------- losses
def discriminator_loss(loss: str, real_logits: Any, fake_logits: Any) -> tf.Tensor:
    """The discriminator's loss on a batch of real and a batch of generated images.

    With σ the sigmoid, r and f the logits of real and generated images:

    * ``minimax``, ``bce``: −mean log σ(r) − mean log(1 − σ(f)) (binary cross-entropy);
    * ``lsgan``: ½·mean (r − 1)² + ½·mean f² (Mao et al. 2017, a = 0, b = c = 1);
    * ``hinge``: mean max(0, 1 − r) + mean max(0, 1 + f);
    * ``wgan-gp``: mean f − mean r (add :func:`gradient_penalty`).

    Args:
        loss: One of :data:`LOSSES`.
        real_logits: Discriminator outputs on real images, (N, 1).
        fake_logits: Discriminator outputs on generated images, (N, 1).

    Returns:
        A scalar tensor.

    Raises:
        ArtlibError: An unknown loss name.
    """
    loss = _check_loss(loss)
    r, f = tf.convert_to_tensor(real_logits, tf.float32), tf.convert_to_tensor(fake_logits, tf.float32)
    if loss in ("minimax", "bce"):
        return tf.reduce_mean(tf.nn.softplus(-r)) + tf.reduce_mean(tf.nn.softplus(f))
    if loss == "lsgan":
        return 0.5 * tf.reduce_mean(tf.square(r - 1.0)) + 0.5 * tf.reduce_mean(tf.square(f))
    if loss == "hinge":
        return tf.reduce_mean(tf.nn.relu(1.0 - r)) + tf.reduce_mean(tf.nn.relu(1.0 + f))
    return tf.reduce_mean(f) - tf.reduce_mean(r)  # wgan-gp


def generator_loss(loss: str, fake_logits: Any) -> tf.Tensor:
    """The generator's loss on the discriminator's logits f for generated images.

    * ``minimax``: mean log(1 − σ(f)) — the original game; its gradient vanishes
      when the discriminator wins (σ(f) ≈ 0), which is why it "saturates";
    * ``bce`` (non-saturating): −mean log σ(f);
    * ``lsgan``: ½·mean (f − 1)²;
    * ``hinge`` and ``wgan-gp``: −mean f.

    Args:
        loss: One of :data:`LOSSES`.
        fake_logits: Discriminator outputs on generated images, (N, 1).

    Returns:
        A scalar tensor.

    Raises:
        ArtlibError: An unknown loss name.
    """
    loss = _check_loss(loss)
    f = tf.convert_to_tensor(fake_logits, tf.float32)
    if loss == "minimax":
        return -tf.reduce_mean(tf.nn.softplus(f))  # log(1 - σ(f)) = -softplus(f)
    if loss == "bce":
        return tf.reduce_mean(tf.nn.softplus(-f))  # -log σ(f) = softplus(-f)
    if loss == "lsgan":
        return 0.5 * tf.reduce_mean(tf.square(f - 1.0))
    return -tf.reduce_mean(f)


def gradient_penalty(discriminator: keras.Model, real_images: Any, fake_images: Any, epsilon: Any,
                     labels: Any = None) -> tf.Tensor:
    """WGAN-GP's penalty (Gulrajani et al. 2017): mean (‖∇D(x̂)‖₂ − 1)² at x̂ = ε·real + (1 − ε)·fake.

    Args:
        discriminator: The critic.
        real_images: (N, 28, 28, 1).
        fake_images: (N, 28, 28, 1).
        epsilon: (N, 1, 1, 1) mixing weights in [0, 1].
        labels: (N,) class labels for a conditional critic, else None.

    Returns:
        A scalar tensor.
    """
    real_images, fake_images = tf.convert_to_tensor(real_images), tf.convert_to_tensor(fake_images)
    mixed = epsilon * real_images + (1.0 - epsilon) * fake_images
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        scores = discriminator(mixed if labels is None else [mixed, labels], training=True)
    grads = tape.gradient(scores, mixed)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


# ----------------------------------------------------------------------------- the step
def _split_batch(batch: Any) -> tuple[tf.Tensor, tf.Tensor | None]:
    if isinstance(batch, (tuple, list)):
        images, labels = batch
        return tf.convert_to_tensor(images), tf.cast(labels, tf.int32)
    if isinstance(batch, dict):
        return tf.convert_to_tensor(batch["images"]), tf.cast(batch["labels"], tf.int32)
    return tf.convert_to_tensor(batch), None


def _is_conditional(model: keras.Model) -> bool:
    return len(model.inputs) == 2


def gan_step(generator: keras.Model, discriminator: keras.Model, g_optimizer: keras.optimizers.Optimizer,
             d_optimizer: keras.optimizers.Optimizer, batch: Any, seed_generator: keras.random.SeedGenerator,
             *, loss: str = "bce", gp_weight: float = 10.0) -> dict[str, tf.Tensor]:
    """One simultaneous update of both networks (call it inside a ``tf.function``).

    The generator turns fresh latents into a batch; the discriminator scores the
    real and the generated batches in two calls (on a CPU about 6 % faster than one
    call on the two concatenated, and the same numbers for a discriminator without
    batch statistics, as all of artlib's are); each network takes one optimizer step
    on its own loss.

    Args:
        generator, discriminator: The two models (both conditional, or neither).
        g_optimizer, d_optimizer: Their optimizers.
        batch: Real images (N, 28, 28, 1) in [-1, 1], or ``(images, labels)`` for a conditional GAN.
        seed_generator: Draws the latents (and WGAN-GP's mixing weights).
        loss: One of :data:`LOSSES`.
        gp_weight: λ of the gradient penalty (``wgan-gp`` only).

    Returns:
        ``{"d_loss", "g_loss", "d_real", "d_fake"}``: the losses, and the mean
        discriminator output on real and generated images — σ(logit), the
        probability of "real", for ``minimax``/``bce``; the raw score otherwise.
    """
    loss = _check_loss(loss)
    images, labels = _split_batch(batch)
    if not _is_conditional(generator):
        labels = None  # an unconditional GAN ignores labels that come with the data
    n = tf.shape(images)[0]
    latent_dim = generator.inputs[0].shape[-1]
    z = keras.random.normal((n, latent_dim), seed=seed_generator)
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(z if labels is None else [z, labels], training=True)
        real_logits = discriminator(images if labels is None else [images, labels], training=True)
        fake_logits = discriminator(fake if labels is None else [fake, labels], training=True)
        d_loss = discriminator_loss(loss, real_logits, fake_logits)
        if loss == "wgan-gp":
            epsilon = keras.random.uniform((n, 1, 1, 1), seed=seed_generator)
            d_loss += gp_weight * gradient_penalty(discriminator, images, fake, epsilon, labels)
        g_loss = generator_loss(loss, fake_logits)
    d_vars, g_vars = discriminator.trainable_variables, generator.trainable_variables
    d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
    g_optimizer.apply(g_tape.gradient(g_loss, g_vars), g_vars)
    squash = tf.sigmoid if loss in ("minimax", "bce") else tf.identity
    return {"d_loss": d_loss, "g_loss": g_loss,
            "d_real": tf.reduce_mean(squash(real_logits)), "d_fake": tf.reduce_mean(squash(fake_logits))}


def make_train_step(generator: keras.Model, discriminator: keras.Model, g_optimizer: keras.optimizers.Optimizer,
                    d_optimizer: keras.optimizers.Optimizer, seed_generator: keras.random.SeedGenerator,
                    *, loss: str = "bce", gp_weight: float = 10.0, jit_compile: bool = False
                    ) -> Callable[[Any], dict[str, tf.Tensor]]:
    """:func:`gan_step` as an explicit ``@tf.function`` ``step(batch) -> losses``, for ``training.train_loop``.

    Example::

        step = make_train_step(generator, discriminator, g_opt, d_opt, keras.random.SeedGenerator(0))
        losses = step(images)   # {"d_loss": ..., "g_loss": ..., "d_real": ..., "d_fake": ...}
    """
    _check_loss(loss)

    @tf.function(jit_compile=jit_compile)
    def step(batch):
        return gan_step(generator, discriminator, g_optimizer, d_optimizer, batch, seed_generator,
                        loss=loss, gp_weight=gp_weight)

    return step


@keras.saving.register_keras_serializable(package="artlib")
class GAN(keras.Model):
    """Generator and discriminator as one ``keras.Model`` whose ``fit`` plays the game.

    ``fit`` takes images in [-1, 1] (N, 28, 28, 1), or ``(images, labels)``
    for a conditional GAN, and reports ``d_loss``, ``g_loss``, ``d_real`` and
    ``d_fake`` (see :func:`gan_step`). Calling the model generates images from latents.

    Args:
        generator, discriminator: From the builders above.
        loss: One of :data:`LOSSES`.
        gp_weight: λ of the WGAN-GP penalty.
        seed: Seeds the latent noise (a ``keras.random.SeedGenerator``).

    Example::

        gan = GAN(build_generator(), build_discriminator())
        gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                    g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
        gan.fit(images * 2 - 1, batch_size=64, epochs=5)
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, loss: str = "bce",
                 gp_weight: float = 10.0, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if _is_conditional(generator) != _is_conditional(discriminator):
            raise ArtlibError("generator and discriminator must both be conditional (take labels) or neither")
        self.generator, self.discriminator = generator, discriminator
        self.loss_name, self.gp_weight, self.seed = _check_loss(loss), float(gp_weight), int(seed)
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.conditional = _is_conditional(generator)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("d_loss", "g_loss", "d_real", "d_fake")}

    def compile(self, d_optimizer: keras.optimizers.Optimizer, g_optimizer: keras.optimizers.Optimizer,
                **kwargs: Any) -> None:
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers.values())  # reset by fit at each epoch

    def call(self, inputs: Any, training: bool = False) -> tf.Tensor:
        return self.generator(inputs, training=training)

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        losses = gan_step(self.generator, self.discriminator, self.g_optimizer, self.d_optimizer, data,
                          self.seed_generator, loss=self.loss_name, gp_weight=self.gp_weight)
        for name, value in losses.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def get_config(self) -> dict[str, Any]:
        return {"generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "loss": self.loss_name, "gp_weight": self.gp_weight, "seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> GAN:
        config = dict(config)
        generator = keras.saving.deserialize_keras_object(config.pop("generator"))
        discriminator = keras.saving.deserialize_keras_object(config.pop("discriminator"))
        return cls(generator, discriminator, **config)


# ----------------------------------------------------------------------------- helpers
def to_unit(images: Any) -> np.ndarray:
    """Generator output in [-1, 1] → float32 images in [0, 1], shape (N, 28, 28)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]  # (N, 28, 28, 1) -> (N, 28, 28)
    return np.clip(images * 0.5 + 0.5, 0.0, 1.0)


def _to_minus_one_one(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) or float in [0, 1] → float32 (N, 28, 28, 1) in [-1, 1]."""
    images = np.asarray(images)
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    images = images.astype(np.float32) / scale * 2.0 - 1.0
    return images[..., np.newaxis] if images.ndim == 3 else images  # (N, 28, 28) -> (N, 28, 28, 1)


def _latents(n: int, latent_dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def _check_label(label: int | None, conditional: bool, where: str) -> None:
    if label is not None and not conditional:
        raise ArtlibError(f"{where} holds an unconditional GAN, which cannot take a label; "
                          "train one with `gan train --conditional`, or leave out --label")
    if label is not None and not 0 <= label < NUM_CLASSES:
        raise ArtlibError(f"label {label} is not a Fashion-MNIST class; use 0–{NUM_CLASSES - 1}")


def sample(generator: keras.Model, n: int = 64, *, seed: int = 0, label: int | None = None,
           latents: np.ndarray | None = None, batch_size: int = 256) -> np.ndarray:
    """Generate images in [0, 1].

    Args:
        generator: A generator from this module.
        n: How many images.
        seed: Seeds the latents (the same seed gives the same images).
        label: Class 0–9 for a conditional generator; None gives classes 0, 1, …, 9, 0, … in turn.
        latents: Use these latents (n, latent_dim) instead of drawing them.
        batch_size: Images per generator call.

    Returns:
        float32 array (n, 28, 28) in [0, 1].

    Raises:
        ArtlibError: A label for an unconditional generator, or a label outside 0–9.
    """
    conditional = _is_conditional(generator)
    _check_label(label, conditional, f"generator {generator.name!r}")
    latent_dim = int(generator.inputs[0].shape[-1])
    z = _latents(n, latent_dim, seed) if latents is None else np.asarray(latents, np.float32)
    labels = np.full(len(z), label, np.int32) if label is not None else np.arange(len(z), dtype=np.int32) % NUM_CLASSES
    out = []
    for start in range(0, len(z), batch_size):
        inputs = z[start:start + batch_size]
        if conditional:
            inputs = [inputs, labels[start:start + batch_size]]
        out.append(to_unit(generator(inputs, training=False)))
    return np.concatenate(out) if out else np.zeros((0, 28, 28), np.float32)


def interpolate(generator: keras.Model, *, num_rows: int = 4, num_steps: int = 10, seed: int = 0,
                label: int | None = None) -> np.ndarray:
    """Walk the latent space: each row moves along a great circle (slerp) between two latents.

    Args:
        generator: A generator from this module.
        num_rows: Independent walks.
        num_steps: Images per walk, end points included.
        seed: Seeds the end points.
        label: Class for a conditional generator (None: row r shows class r mod 10).

    Returns:
        float32 array (num_rows, num_steps, 28, 28) in [0, 1].
    """
    latent_dim = int(generator.inputs[0].shape[-1])
    ends = _latents(2 * num_rows, latent_dim, seed).reshape(num_rows, 2, latent_dim)
    t = np.linspace(0.0, 1.0, num_steps, dtype=np.float32)[:, None]
    rows = []
    for a, b in ends:
        omega = np.arccos(np.clip(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b)), -1.0, 1.0))
        walk = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)  # (num_steps, latent_dim)
        rows.append(walk)
    z = np.concatenate(rows).astype(np.float32)  # (num_rows·num_steps, latent_dim)
    if _is_conditional(generator) and label is None:
        images = np.concatenate([sample(generator, num_steps, latents=row.astype(np.float32), label=r % NUM_CLASSES)
                                 for r, row in enumerate(rows)])
    else:
        images = sample(generator, len(z), latents=z, label=label)
    return images.reshape(num_rows, num_steps, 28, 28)  # (rows·steps, 28, 28) -> (rows, steps, 28, 28)


# ----------------------------------------------------------------------------- runs
class GANSettings(dict):
    """What a run directory's ``gan.json`` holds: the recipe, enough to rebuild the models."""

    DEFAULTS = {"arch": "artlib", "loss": "bce", "conditional": False, "latent_dim": 64, "batch_size": 64,
                "learning_rate": 2e-4, "beta_1": 0.5, "num_epochs": 20, "seed": 0, "gp_weight": 10.0,
                "num_images": None, "width": 64}

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(self.DEFAULTS)
        if unknown:
            raise ArtlibError(f"unknown GAN settings {sorted(unknown)}; known: {sorted(self.DEFAULTS)}")
        super().__init__({**self.DEFAULTS, **values})
        _check_loss(self["loss"])
        if self["arch"] not in ("artlib", "tutorial"):
            raise ArtlibError(f"arch must be 'artlib' or 'tutorial', not {self['arch']!r}")


def tutorial_settings(**overrides: Any) -> GANSettings:
    """The TF DCGAN tutorial's recipe: its models, latent 100, Adam(1e-4), batch 256."""
    return GANSettings(**{"arch": "tutorial", "latent_dim": 100, "learning_rate": 1e-4, "beta_1": 0.9,
                          "batch_size": 256, **overrides})


def build_models(settings: Mapping[str, Any]) -> tuple[keras.Model, keras.Model]:
    """The generator and discriminator a :class:`GANSettings` names, built under the strategy's scope."""
    with training.get_strategy().scope():
        keras.utils.set_random_seed(int(settings["seed"]))  # the initial weights
        if settings["arch"] == "tutorial":
            return (build_tutorial_generator(settings["latent_dim"], conditional=settings["conditional"]),
                    build_tutorial_discriminator(conditional=settings["conditional"]))
        return (build_generator(settings["latent_dim"], conditional=settings["conditional"], width=settings["width"]),
                build_discriminator(conditional=settings["conditional"], width=settings["width"]))


def load_settings(run_dir: str | Path) -> GANSettings:
    """Read ``run_dir/gan.json``.

    Raises:
        CheckpointError: The folder is not a GAN run directory.
    """
    path = Path(run_dir) / "gan.json"
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a GAN run directory (no gan.json); train one with "
                              f"`python -m artlib gan train --run-dir {run_dir}`")
    try:
        return GANSettings(**json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError) as err:
        raise CheckpointError(f"{path} is not a valid GAN settings file ({err}); retrain into a new --run-dir") from err


def load_generator(run_dir: str | Path | None = None) -> keras.Model:
    """Load ``generator.keras`` from a run directory (default: the shipped one), with ``safe_mode=True``.

    Raises:
        CheckpointError: No finished generator in ``run_dir``.
        DataError: The shipped generator is missing or corrupt.
    """
    run_dir = Path(PRETRAINED_DIR if run_dir is None else run_dir)
    shipped = run_dir.resolve() == PRETRAINED_DIR.resolve()
    path = run_dir / "generator.keras"
    error = DataError if shipped else CheckpointError
    if not path.is_file():
        raise error(f"{path} not found: " + ("the shipped GAN checkpoint is missing from this copy of artlib; "
                                             "reinstall it or train one with `python -m artlib gan train`"
                                             if shipped else "train into this folder with "
                                             f"`python -m artlib gan train --run-dir {run_dir}` first"))
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # noqa: BLE001  (zip, JSON and HDF5 errors all mean "corrupt")
        raise error(f"{path} cannot be loaded ({type(err).__name__}: {str(err)[:200]}); "
                    "it is damaged: retrain or restore it") from err


def _real_images(settings: Mapping[str, Any], images: np.ndarray | None, labels: np.ndarray | None):
    if images is None:
        from artlib import data

        (images, labels), _ = data.load_fashion_mnist()
    if settings["num_images"]:
        images, labels = images[: settings["num_images"]], None if labels is None else labels[: settings["num_images"]]
    if settings["conditional"] and labels is None:
        raise DataError("a conditional GAN needs labels for its training images")
    if len(images) < settings["batch_size"]:
        raise DataError(f"{len(images)} training images are fewer than one batch of {settings['batch_size']}")
    return _to_minus_one_one(images), labels


def train(run_dir: str | Path, settings: GANSettings | None = None, *, images: np.ndarray | None = None,
          labels: np.ndarray | None = None, num_steps: int | None = None, grid_size: int = 64,
          quiet: bool | None = None, max_seconds: float | None = None) -> dict[str, list]:
    """Train a GAN into ``run_dir``, resuming exactly where an earlier call stopped.

    Writes ``gan.json`` (the settings), ``checkpoints/`` (as often as the grids; exact
    resume via ``training.train_loop``), ``tensorboard/`` (losses and the grid),
    ``samples/step-XXXXXX.png`` (the same fixed latents every epoch, or every 250 steps if sooner),
    ``samples.gif``, ``history.json`` (losses per step), ``losses.png`` and,
    at the end, ``generator.keras``.

    Args:
        run_dir: The run directory (created; an existing one must hold the same settings).
        settings: The recipe (default: artlib's, :class:`GANSettings`).
        images: Training images, uint8 (N, 28, 28) or float in [0, 1]; default Fashion-MNIST's training set.
        labels: (N,) class labels (needed for a conditional GAN).
        num_steps: Train up to this step instead of ``num_epochs`` epochs.
        grid_size: Images in the fixed-latent grid.
        quiet: Hide the progress bar.
        max_seconds: Also stop (at a multiple of 50 steps) once this much time has passed: an
            equal time budget for comparing recipes.

    Returns:
        The whole run's history ``{"step": [...], "d_loss": [...], ...}``.

    Raises:
        CheckpointError: ``run_dir`` holds a run with other settings.
        DataError: Too few images, or labels missing for a conditional GAN.
    """
    settings = GANSettings(**(settings or {}))
    run_dir = Path(run_dir)
    if (run_dir / "gan.json").exists():
        old = load_settings(run_dir)
        if {k: v for k, v in old.items() if k != "num_epochs"} != {k: v for k, v in settings.items() if k != "num_epochs"}:
            raise CheckpointError(f"{run_dir} holds a run with other settings ({dict(old)}); "
                                  "use a new --run-dir, or delete this one to start over")
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "gan.json", json.dumps(dict(settings), indent=1))
    real, real_labels = _real_images(settings, images, labels)
    batch_size, seed = int(settings["batch_size"]), int(settings["seed"])
    steps_per_epoch = len(real) // batch_size
    num_steps = num_steps or int(settings["num_epochs"]) * steps_per_epoch

    generator, discriminator = build_models(settings)
    with training.get_strategy().scope():
        g_optimizer = keras.optimizers.Adam(settings["learning_rate"], beta_1=settings["beta_1"])
        d_optimizer = keras.optimizers.Adam(settings["learning_rate"], beta_1=settings["beta_1"])
    noise = keras.random.SeedGenerator(seed)
    step_fn = make_train_step(generator, discriminator, g_optimizer, d_optimizer, noise,
                              loss=settings["loss"], gp_weight=settings["gp_weight"])
    data = (real, real_labels.astype(np.int32)) if settings["conditional"] else real

    def make_dataset(epoch: int) -> tf.data.Dataset:
        return training.shuffled_batches(data, batch_size, seed=seed + epoch)

    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    fixed_latents = _latents(grid_size, int(settings["latent_dim"]), seed + 12345)
    (run_dir / "samples").mkdir(exist_ok=True)

    def sample_fn() -> np.ndarray:
        grid = sample(generator, grid_size, latents=fixed_latents)
        save_image(run_dir / "samples" / f"step-{int(step.numpy()):06d}.png",
                   plotting.grid_array(grid[..., np.newaxis], ncols=int(np.ceil(np.sqrt(grid_size)))))
        return grid

    state = {"step": step, "generator": generator, "discriminator": discriminator,
             "g_optimizer": g_optimizer, "d_optimizer": d_optimizer, "noise": noise}
    target = num_steps if max_seconds is None else 0
    deadline = time.perf_counter() + (max_seconds or 0.0)
    while True:  # one call, or chunks of 50 steps until the time budget is spent (each resumes exactly)
        if max_seconds is not None:
            target = min(num_steps, max(target, int(step.numpy())) + 50)
        chunk = training.train_loop(step_fn, make_dataset, num_steps=target, run_dir=run_dir, state=state,
                                    steps_per_epoch=steps_per_epoch, save_every=min(steps_per_epoch, 250, target),
                                    log_every=min(10, target), sample_fn=sample_fn,
                                    quiet=quiet if max_seconds is None else True)
        history = _append_history(run_dir, chunk)
        if target >= num_steps or time.perf_counter() >= deadline:
            break
    _finish_run(run_dir, generator, history)
    return history


def _append_history(run_dir: Path, new: dict[str, list]) -> dict[str, list]:
    path = run_dir / "history.json"
    old = json.loads(path.read_text()) if path.exists() else {"step": []}
    first = new["step"][0] if new["step"] else None
    keep = [i for i, s in enumerate(old["step"]) if first is None or s < first]  # drop steps redone
    merged = {k: [old[k][i] for i in keep] + list(new.get(k, [])) for k in set(old) | set(new)}
    atomic_write_text(path, json.dumps(merged))
    return merged


def _finish_run(run_dir: Path, generator: keras.Model, history: dict[str, list]) -> None:
    from PIL import Image

    frames = [np.asarray(Image.open(p)) for p in sorted((run_dir / "samples").glob("step-*.png"))]
    if frames:
        plotting.save_gif(frames, run_dir / "samples.gif", fps=4)
    if history.get("step"):
        curves = {k: history[k] for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in history}
        fig = plotting.loss_curves(curves, smooth=min(50, max(1, len(history["step"]) // 10)),
                                   title="GAN training", path=run_dir / "losses.png")
        import matplotlib.pyplot as plt

        plt.close(fig)
    tmp = run_dir / "generator.tmp.keras"
    generator.save(tmp)
    tmp.replace(run_dir / "generator.keras")  # atomic: a complete file or the old one


# ----------------------------------------------------------------------------- progressive growing
PROGRESSIVE_SIZES = (7, 14, 28)


def build_progressive_generator(latent_dim: int = 64, *, width: int = 64) -> keras.Model:
    """artlib's generator with an image head at each resolution, for the progressive-growing demo.

    The same trunk as :func:`build_generator`; a 1×1 ``tanh`` convolution turns the
    7×7 and 14×14 feature maps into images too ("toRGB" in ProGAN).

    Args:
        latent_dim: Length of z.
        width: Channels of the 14×14 layer.

    Returns:
        A model ``z (N, latent_dim) -> [images 7×7×1, 14×14×1, 28×28×1]`` in [-1, 1].
    """
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(7 * 7 * 2 * width, use_bias=False)(z)
    x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
    x = keras.layers.Reshape((7, 7, 2 * width))(x)  # (N, 49·2w) -> (N, 7, 7, 2w)
    outputs = [keras.layers.Conv2D(1, 1, activation="tanh", name="to_image_7")(x)]
    for filters, size in ((width, 14), (width // 2, 28)):
        x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)
        x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
        outputs.append(keras.layers.Conv2D(1, 1 if size < 28 else 3, padding="same", activation="tanh",
                                           name=f"to_image_{size}")(x))
    return keras.Model(z, outputs, name="progressive_generator")


def _upscale(images: tf.Tensor, factor: int) -> tf.Tensor:
    return tf.repeat(tf.repeat(images, factor, axis=1), factor, axis=2)  # nearest neighbour, (N, f·H, f·W, C)


def progressive_images(outputs: list, level: int, alpha: Any) -> tf.Tensor:
    """The generator's picture at ``level`` (0: 7×7, 1: 14×14, 2: 28×28), faded in, shown at 28×28.

    While a new level fades in, its image is ``alpha`` · new head + (1 − alpha) ·
    the previous level's image upscaled: at alpha 0 the grown network draws
    exactly what the smaller one did, so growing never throws training back.
    """
    image = outputs[level]
    if level > 0:
        image = alpha * image + (1.0 - alpha) * _upscale(outputs[level - 1], 2)
    return _upscale(image, 28 // PROGRESSIVE_SIZES[level]) if level < 2 else image


def progressive_real(images: Any, level: int, alpha: Any = 1.0) -> tf.Tensor:
    """Real images (N, 28, 28, 1) blurred to ``level``'s resolution (mean-pooled), shown at 28×28, faded like the generator's."""
    images = tf.convert_to_tensor(images, tf.float32)

    def at(lvl: int) -> tf.Tensor:
        factor = 28 // PROGRESSIVE_SIZES[lvl]
        return _upscale(tf.nn.avg_pool2d(images, factor, factor, "VALID"), factor) if factor > 1 else images

    return at(level) if level == 0 else alpha * at(level) + (1.0 - alpha) * at(level - 1)


def train_progressive(images: np.ndarray, *, steps_per_level: int = 600, batch_size: int = 64,
                      latent_dim: int = 64, seed: int = 0, num_samples: int = 16) -> tuple[keras.Model, list[np.ndarray]]:
    """A small progressive-growing demo (7 → 14 → 28 with fade-in), the idea behind ProGAN.

    Each level trains for ``steps_per_level`` steps; at levels 1 and 2 the first half of
    them fades the new resolution in (alpha 0 → 1). Simplification, said plainly: the
    discriminator does not grow; it always sees 28×28 images, with the real ones
    blurred to the current level's resolution in the same way.

    Args:
        images: uint8 (N, 28, 28) or float in [0, 1].
        steps_per_level: Steps at each of the three levels.
        batch_size: Images per step.
        latent_dim: Length of z.
        seed: Seeds weights, data order and latents.
        num_samples: Images in each level's snapshot.

    Returns:
        The generator and one snapshot per level: float32 (num_samples, 28, 28) in [0, 1],
        from the same latents.
    """
    real = _to_minus_one_one(images)
    with training.get_strategy().scope():
        keras.utils.set_random_seed(seed)
        generator, discriminator = build_progressive_generator(latent_dim), build_discriminator()
        g_optimizer, d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
        g_optimizer.build(generator.trainable_variables)  # heads not used at a level get no gradient
    noise = keras.random.SeedGenerator(seed)

    def make_step(level: int) -> Callable:
        @tf.function
        def step(batch, alpha):
            z = keras.random.normal((tf.shape(batch)[0], latent_dim), seed=noise)
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = progressive_images(generator(z, training=True), level, alpha)
                logits = discriminator(tf.concat([progressive_real(batch, level, alpha), fake], 0), training=True)
                n = tf.shape(batch)[0]
                d_loss = discriminator_loss("bce", logits[:n], logits[n:])
                g_loss = generator_loss("bce", logits[n:])
            d_vars = discriminator.trainable_variables
            d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
            pairs = [(g, v) for g, v in zip(g_tape.gradient(g_loss, generator.trainable_variables),
                                            generator.trainable_variables) if g is not None]
            g_optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])
            return d_loss, g_loss
        return step

    latents = _latents(num_samples, latent_dim, seed + 1)
    rng = np.random.default_rng(seed)
    snapshots = []
    for level in range(len(PROGRESSIVE_SIZES)):
        step = make_step(level)
        for i in range(steps_per_level):
            alpha = 1.0 if level == 0 else min(1.0, i / max(1, steps_per_level // 2))
            batch = real[rng.integers(0, len(real), batch_size)]
            step(batch, tf.constant(alpha, tf.float32))
        snapshots.append(to_unit(progressive_images(generator(latents, training=False), level, 1.0)))
    return generator, snapshots
