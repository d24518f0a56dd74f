"""Autoencoders that restore images: denoising, compression, inpainting, super-resolution.

An autoencoder is an *encoder* that squeezes an image into a smaller code and a
*decoder* that rebuilds the image from it, trained so that the rebuilt image is
close to the original (mean squared error). Feed it a *damaged* image and ask
for the clean one and it learns to restore: that is the denoising autoencoder.

The pieces, each usable on its own::

    denoiser = build_denoiser()                             # artlib's default (a small U-Net)
    baseline = build_tutorial_autoencoder()                 # the TF tutorial's model, for comparison
    result = train(denoiser, x_train, noise=make_noise("gaussian", sigma=(0.0, 0.55)),
                   num_epochs=10, run_dir="runs/denoiser")  # result["loss"]: one value per epoch
    table = evaluate_denoisers({"artlib": denoiser, "tutorial": baseline}, x_test,
                               validation_images=x_val)     # PSNR/SSIM vs scikit-image
    print(format_table(table))

Which file does what:

* ``damage.py`` — the damage models (:data:`NOISE_MODELS`: Gaussian, salt and pepper,
  speckle, box masks, low resolution) as ``noise_fn(images, seed)`` of a float batch
  ``(N, H, W, C)`` in [0, 1] and a stateless seed, and :func:`make_noise`;
* ``models.py`` — the networks, inputs and outputs ``(N, H, W, C)`` in [0, 1]:
  :func:`build_tutorial_autoencoder` (the TF tutorial "Intro to Autoencoders", ~3 k
  parameters), :func:`build_denoiser` (a small U-Net, :func:`unet`, that predicts the
  correction to its input), :func:`build_autoencoder` (a ``latent_dim``-number code
  quantized by :class:`QuantizedLatent`), :func:`build_photo_denoiser` (told σ, like
  FFDNet); :func:`save_model` / :func:`load_model` (through :mod:`artlib.modelio`);
* ``train.py`` — :func:`as_images`, :func:`train` (through :func:`artlib.training.fit`: the
  shared epoch order, each batch damaged on the way in by :func:`damaged_batch`, exact resume
  from ``run_dir``) and :func:`restore`;
* ``classical.py`` — scikit-image's denoisers (:data:`CLASSICAL_DENOISERS`) tuned per noise
  level on a validation split, :func:`evaluate_denoisers` and :func:`format_table`;
* ``compression.py`` — :func:`latent_bits`, JPEG as the reference (:func:`jpeg_round_trip`,
  :func:`jpeg_rate_distortion`), :func:`rate_distortion` and its plot;
* ``photo.py`` — the photo denoiser's patches, training, :func:`estimate_sigma`,
  :func:`denoise_photo`, :func:`evaluate_photo_denoiser` against non-local means on
  :data:`HELD_OUT_PHOTOS` (from :mod:`artlib.data`), and the shipped model (:func:`load_photo_denoiser`).

Measures as everywhere in the course: PSNR with data range 1, SSIM as ``tf.image.ssim``
(both from :mod:`artlib.metrics`), noisy inputs clipped to [0, 1], classical
denoisers tuned per noise level on a validation split, never on the test set.
"""

from artlib.autoencoder.classical import (
    CLASSICAL_DENOISERS,
    SIGMAS,
    classical_denoise,
    evaluate_denoisers,
    format_table,
    tune_classical,
)
from artlib.autoencoder.compression import (
    jpeg_rate_distortion,
    jpeg_round_trip,
    latent_bits,
    plot_rate_distortion,
    rate_distortion,
)
from artlib.autoencoder.damage import (
    NOISE_MODELS,
    box_mask,
    gaussian_noise,
    low_resolution,
    make_noise,
    salt_and_pepper_noise,
    speckle_noise,
)
from artlib.autoencoder.models import (
    PRETRAINED_DIR,
    QuantizedLatent,
    build_autoencoder,
    build_denoiser,
    build_photo_denoiser,
    build_tutorial_autoencoder,
    load_model,
    save_model,
    unet,
)
from artlib.autoencoder.photo import (
    HELD_OUT_PHOTOS,
    PHOTO_DENOISER_PATH,
    check_photo_denoiser,
    denoise_photo,
    estimate_sigma,
    evaluate_photo_denoiser,
    load_photo_denoiser,
    photo_patches,
    train_photo_denoiser,
)
from artlib.autoencoder.train import as_images, damaged_batch, restore, train

__all__ = [
    "NOISE_MODELS",
    "SIGMAS",
    "CLASSICAL_DENOISERS",
    "PRETRAINED_DIR",
    "PHOTO_DENOISER_PATH",
    "HELD_OUT_PHOTOS",
    "gaussian_noise",
    "salt_and_pepper_noise",
    "speckle_noise",
    "box_mask",
    "low_resolution",
    "make_noise",
    "QuantizedLatent",
    "build_tutorial_autoencoder",
    "unet",
    "build_denoiser",
    "build_autoencoder",
    "build_photo_denoiser",
    "as_images",
    "damaged_batch",
    "train",
    "restore",
    "classical_denoise",
    "tune_classical",
    "evaluate_denoisers",
    "format_table",
    "latent_bits",
    "jpeg_round_trip",
    "jpeg_rate_distortion",
    "rate_distortion",
    "plot_rate_distortion",
    "photo_patches",
    "train_photo_denoiser",
    "estimate_sigma",
    "check_photo_denoiser",
    "denoise_photo",
    "evaluate_photo_denoiser",
    "save_model",
    "load_model",
    "load_photo_denoiser",
]
