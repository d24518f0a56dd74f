"""Diffusion models on 28×28 Fashion-MNIST: a small DDPM/DDIM with classifier-free guidance (notebook 10).

A diffusion model learns to undo noise. The *forward process* noises a clean image x_0 step by step until
only noise is left; in closed form x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε. A network ε_θ(x_t, t, c) learns to
predict the noise ε that was added — a denoiser trained at every noise level at once (notebook 02's
denoising autoencoder, generalised). Sampling starts from pure noise and removes it step by step.

Which file does what:

* ``schedule.py``: the cosine noise schedule (Nichol & Dhariwal 2021), :class:`NoiseSchedule`, :func:`q_sample`;
* ``unet.py``: :func:`build_unet`, a small U-Net (28², 14², 7²) with a sinusoidal time embedding and a
  class embedding (label 10 = no class);
* ``train.py``: :class:`DiffusionSettings`, the noise-prediction loss, the ``tf.function`` step with EMA
  weights and class dropout (for guidance), :func:`train` on ``training.train_loop`` (exact resume, NaN
  guard, TensorBoard, sample grids), :func:`load_model` and the shipped model's folder;
* ``sampling.py``: ancestral DDPM (:func:`ddpm_sample`), DDIM in any number of steps, deterministic or
  with fresh noise (:func:`ddim_sample`, η), classifier-free guidance (:func:`guided_noise`), and a class
  drawn for each image (:func:`drawn_classes`).
"""

from __future__ import annotations

from artlib.diffusion.sampling import (SAMPLE_BATCH, SHOWN_SAMPLER, ddim_sample, ddim_timesteps, ddpm_sample,
                                      drawn_classes, guided_noise)
from artlib.diffusion.schedule import NUM_TIMESTEPS, NoiseSchedule, cosine_alpha_bars, q_sample
from artlib.diffusion.train import (
    MODEL_FILE,
    PRETRAINED_DIR,
    DiffusionSettings,
    diffusion_loss,
    load_model,
    load_settings,
    make_train_step,
    train,
)
from artlib.diffusion.unet import DEFAULT_WIDTH, IMAGE_SHAPE, NULL_CLASS, NUM_CLASSES, SinusoidalEmbedding, build_unet

__all__ = [
    "NUM_TIMESTEPS", "NoiseSchedule", "cosine_alpha_bars", "q_sample",
    "NUM_CLASSES", "NULL_CLASS", "IMAGE_SHAPE", "DEFAULT_WIDTH", "SinusoidalEmbedding", "build_unet",
    "PRETRAINED_DIR", "MODEL_FILE", "DiffusionSettings", "diffusion_loss", "make_train_step", "train",
    "load_settings", "load_model",
    "ddim_timesteps", "drawn_classes", "guided_noise", "ddpm_sample", "ddim_sample", "SAMPLE_BATCH", "SHOWN_SAMPLER",
]
