"""The variational autoencoder (VAE): an autoencoder whose latent space you can sample from.

An encoder maps an image to a Gaussian q(z|x) over ``latent_dim`` numbers, a decoder
maps z back to pixel probabilities p(x|z), and training maximizes the evidence lower
bound (ELBO = E_q[log p(x|z)] - KL(q(z|x) || N(0, I))), in nats per image.
**The likelihood** p(x|z) is a Bernoulli per pixel on intensities in [0, 1], not
binarized (:data:`LIKELIHOOD`); it is stated wherever an ELBO is printed.

Which file does what:

* ``model.py`` — the loss terms (:func:`reconstruction_loss`, :func:`kl_divergence`),
  :class:`Sampling` (the reparameterization trick), :func:`build_encoder`,
  :func:`build_decoder`, the :class:`VAE` ``keras.Model`` (``train_step``/``test_step``)
  and :func:`build_vae`; :data:`LIKELIHOOD`, :data:`IMAGE_SHAPE`.
* ``train.py`` — :data:`NUM_EPOCHS` (a full-length run), :func:`as_images` (the input check),
  :func:`train` (:func:`artlib.training.fit`: the shared epoch order, NaN guard and run
  directory, resumed exactly; returns a :class:`~artlib.training.TrainResult`) and
  :func:`beta_sweep` (one model per β).
* ``measure.py`` — :func:`evaluate` (nats per image, importance-weighted bound, PSNR,
  active units), :func:`reconstruct`, :func:`sample`, :func:`interpolate`,
  :func:`latent_map`, :func:`latent_scatter`.
* ``io.py`` — :func:`save_vae`, :func:`load_vae` (``safe_mode``, through
  :mod:`artlib.modelio`), :func:`load_pretrained` and :data:`PRETRAINED_DIR`.

The pieces, each usable on its own::

    vae = build_vae(latent_dim=2)                           # encoder + Sampling + decoder
    result = train(vae, x_train, num_epochs=10, run_dir="runs/vae")  # result["neg_elbo"]: per epoch
    scores = evaluate(vae, x_test)                          # nats per image, PSNR, active units
    grid = sample(vae, 64, seed=0)                          # new images from z ~ N(0, I)
    fig = plotting.image_grid(latent_map(vae, 15), ncols=15)  # the decoder over the 2-D plane

Note: ``artlib.vae.train`` is the function; the file ``train.py`` is the module
``sys.modules["artlib.vae.train"]``.
"""

from __future__ import annotations

from artlib.vae.model import (
    IMAGE_SHAPE,
    LIKELIHOOD,
    VAE,
    Sampling,
    build_decoder,
    build_encoder,
    build_vae,
    kl_divergence,
    reconstruction_loss,
)
from artlib.vae.train import NUM_EPOCHS, as_images, beta_sweep, train
from artlib.vae.measure import evaluate, interpolate, latent_map, latent_scatter, reconstruct, sample
from artlib.vae.io import PRETRAINED_DIR, load_pretrained, load_vae, save_vae

__all__ = [
    "LIKELIHOOD",
    "IMAGE_SHAPE",
    "PRETRAINED_DIR",
    "NUM_EPOCHS",
    "reconstruction_loss",
    "kl_divergence",
    "Sampling",
    "VAE",
    "build_encoder",
    "build_decoder",
    "build_vae",
    "as_images",
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
