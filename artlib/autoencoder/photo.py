"""Denoising colour photos of any size: training patches, training, σ estimate, denoising, evaluation.

The photo denoiser (:func:`~artlib.autoencoder.models.build_photo_denoiser`) is told the noise
level σ as a second input; the shipped one is ``photo_denoiser.keras`` in
:data:`artlib.config.PRETRAINED_DIR`, trained by ``scripts/make_photo_denoiser.py`` on every bundled
photo except :data:`artlib.data.HELD_OUT_PHOTOS`, on which it is evaluated against tuned non-local means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib import data, imageio, metrics
from artlib.checks import positive_float, positive_int, seed_value
from artlib.autoencoder.damage import gaussian_noise, sigma_per_image, split_seed
from artlib.autoencoder.models import PRETRAINED_DIR, build_photo_denoiser, load_model
from artlib.autoencoder.train import as_images, train
from artlib.data import HELD_OUT_PHOTOS
from artlib.errors import ArtlibError, ImageError
from artlib.training import TrainResult

__all__ = ["PHOTO_DENOISER_PATH", "HELD_OUT_PHOTOS", "photo_patches", "noise_with_level", "train_photo_denoiser",
           "estimate_sigma", "check_photo_denoiser", "denoise_photo", "evaluate_photo_denoiser", "load_photo_denoiser"]

#: The shipped photo denoiser.
PHOTO_DENOISER_PATH = PRETRAINED_DIR / "photo_denoiser.keras"


def photo_patches(names: Sequence[str], *, patch_size: int = 48, count: int = 4096, max_dim: int = 512,
                  seed: int = 0) -> np.ndarray:
    """Random crops (with flips) of scikit-image's bundled photos, for training the photo denoiser.

    Args:
        names: Photos from :data:`artlib.data.SAMPLE_PHOTOS` (keep the test photos out).
        patch_size: Side of each square crop.
        count: How many crops, spread evenly over the photos.
        max_dim: Shrink each photo to this long side first.
        seed: Fixes the crops.

    Returns:
        uint8 ``(count, patch_size, patch_size, 3)``.

    Raises:
        ArtlibError: No photo names, or ``patch_size``, ``count`` or ``max_dim`` is 0 or below,
            or ``patch_size`` is larger than a shrunk photo.
    """
    seed = seed_value(seed)
    if not names:
        raise ArtlibError("photo_patches needs at least one photo name")
    for name, value in (("patch_size", patch_size), ("count", count), ("max_dim", max_dim)):
        positive_int(value, name)
    rng = np.random.default_rng(seed)
    photos = [np.rint(data.load_sample_photo(name, max_dim=max_dim) * 255).astype(np.uint8) for name in names]
    smallest = min(photos, key=lambda photo: min(photo.shape[:2]))
    if min(smallest.shape[:2]) < patch_size:
        raise ArtlibError(f"patch_size {patch_size} is larger than a photo shrunk to max_dim {max_dim} "
                          f"({smallest.shape[1]}×{smallest.shape[0]}); lower patch_size or raise max_dim")
    patches = np.empty((count, patch_size, patch_size, 3), np.uint8)
    for i in range(count):
        photo = photos[i % len(photos)]
        top = rng.integers(0, photo.shape[0] - patch_size + 1)
        left = rng.integers(0, photo.shape[1] - patch_size + 1)
        patch = photo[top : top + patch_size, left : left + patch_size]
        patches[i] = patch[:, ::-1] if rng.random() < 0.5 else patch
    return patches


def noise_with_level(sigma: float | tuple[float, float]) -> Callable[[Any, Any], Any]:
    """Gaussian noise that also hands over its level: the photo denoiser's damage model.

    Args:
        sigma: σ, or a ``(low, high)`` range drawn per image (as :func:`gaussian_noise`).

    Returns:
        ``noise_fn(images, seed) -> (noisy, σ map)``: the same noisy batch as
        ``gaussian_noise(images, seed, sigma)`` and its σ as ``(N, H, W, 1)``.
    """

    def noise_fn(images: Any, seed: Any) -> tuple[tf.Tensor, tf.Tensor]:
        images = tf.convert_to_tensor(images, tf.float32)
        level = sigma_per_image(sigma, images, split_seed(seed)[0])  # the σ gaussian_noise draws
        return gaussian_noise(images, seed, sigma), tf.ones_like(images[..., :1]) * level  # σ map: (N, H, W, 1)

    noise_fn.__name__ = f"gaussian_with_level(sigma={sigma})"  # as settings.json names it
    return noise_fn


def train_photo_denoiser(model: keras.Model | None = None, *, photos: Sequence[str] | None = None,
                         sigma: tuple[float, float] = (0.0, 0.2), patch_size: int = 48, count: int = 8192,
                         num_epochs: int = 10, batch_size: int = 32, run_dir: str | Path | None = None,
                         seed: int = 0, **train_kwargs: Any) -> tuple[keras.Model, TrainResult]:
    """Train :func:`build_photo_denoiser` on patches of the bundled photos with synthetic noise.

    The patches go through :func:`train` (so :func:`artlib.training.fit`: the shared epoch
    order, fresh noise per batch with its σ map, exact resume from ``run_dir``).

    Args:
        model: The model to train (default: a new :func:`build_photo_denoiser`).
        photos: Training photos (default: every sample photo except :data:`HELD_OUT_PHOTOS`).
        sigma: Range of σ drawn per patch.
        patch_size: Crop side (divisible by 4).
        count: Number of crops.
        num_epochs, batch_size, run_dir, seed, **train_kwargs: As in :func:`train`.

    Returns:
        ``(model, result)``: ``result`` is :func:`train`'s :class:`~artlib.training.TrainResult`
        (``result["loss"]`` per epoch).

    Raises:
        ArtlibError: A size or count of 0 or below (see :func:`photo_patches` and :func:`train`).
    """
    seed = seed_value(seed)
    model = build_photo_denoiser() if model is None else model
    photos = photos or [name for name in data.SAMPLE_PHOTOS if name not in HELD_OUT_PHOTOS]
    patches = photo_patches(photos, patch_size=patch_size, count=count, seed=seed)
    result = train(model, patches, noise=noise_with_level(sigma), num_epochs=num_epochs,
                   batch_size=batch_size, run_dir=run_dir, seed=seed, **train_kwargs)
    return model, result


def estimate_sigma(image: np.ndarray) -> float:
    """The Gaussian noise σ of a photo (``skimage.restoration.estimate_sigma``, averaged over channels).

    Args:
        image: ``H×W×3`` (or ``H×W``) float in [0, 1] or uint8 (a PIL image too), at least 8×8.

    Returns:
        σ on [0, 1] pixels; 0 for a flat picture (one colour: no detail to measure noise in).

    Raises:
        ImageError: Not an image, or smaller than 8×8.
    """
    import warnings

    from skimage.restoration import estimate_sigma as skimage_estimate_sigma

    image = imageio.as_array(image, "the image to measure")  # a PIL image too
    image = image[..., np.newaxis] if image.ndim == 2 else image
    if image.ndim != 3 or min(image.shape[:2]) < 8:
        raise ImageError(f"estimate_sigma needs an H×W×C picture of at least 8×8 pixels; got shape {image.shape}")
    image = as_images(image[np.newaxis], "the image to measure")[0]  # uint8 to [0, 1]: σ on [0, 1] pixels
    with warnings.catch_warnings():  # a flat picture: the median of no wavelet details (NumPy warns, gives NaN)
        warnings.simplefilter("ignore", RuntimeWarning)
        sigma = float(skimage_estimate_sigma(image, channel_axis=-1, average_sigmas=True))
    return sigma if np.isfinite(sigma) else 0.0


def check_photo_denoiser(model: keras.Model) -> None:
    """Refuse a model that is not a photo denoiser: its inputs must be ``N×H×W×3`` photos and ``N×H×W×1`` noise maps.

    Raises:
        ArtlibError: Other inputs (e.g. the Fashion-MNIST denoiser's one ``28×28×1`` image).
    """
    shapes = [tuple(tensor.shape) for tensor in getattr(model, "inputs", None) or []]
    if len(shapes) != 2 or [s[1:] for s in shapes] != [(None, None, 3), (None, None, 1)]:
        raise ArtlibError(f"model '{getattr(model, 'name', model)}' is not a photo denoiser: it takes "
                          f"{' and '.join(str(s) for s in shapes) or 'no known inputs'}, not a photo of any size "
                          "(N×H×W×3) and a noise map (N×H×W×1); use load_photo_denoiser() or a model built by "
                          "build_photo_denoiser (the command line's default)")


def denoise_photo(model: keras.Model, image: Any, sigma: float | None = None, *,
                  ensemble: bool = False) -> np.ndarray:
    """Denoise one photo of any size with :func:`build_photo_denoiser`'s model.

    The photo is padded by reflection to a multiple of 4 and cropped back.

    Args:
        model: A photo denoiser (e.g. :func:`load_photo_denoiser`).
        image: ``H×W×3`` (or ``H×W``, converted) float in [0, 1] or uint8, at least 8×8.
        sigma: The noise level; None: estimated with :func:`estimate_sigma`.
        ensemble: Denoise the 8 rotations and mirror images of the photo and average the
            results turned back ("self-ensemble", Timofte et al. 2016): 8× the time, and the
            errors that depend on orientation partly cancel.

    Returns:
        float32 ``H×W×3`` in [0, 1].

    Raises:
        ImageError: Not an image, or smaller than 8×8.
        ArtlibError: ``sigma`` is below 0 or above 1, or ``model`` is not a photo denoiser (it does not take a photo
            of any size and a noise-level map, as :func:`build_photo_denoiser`'s do).
    """
    if sigma is not None:
        sigma = positive_float(sigma, "sigma (the noise level on [0, 1] pixels)", zero=True)
        if sigma > 1:
            raise ArtlibError(f"sigma is the noise level on [0, 1] pixels, at most 1; got {sigma:g} (a level on "
                              f"0-255 pixels? pass {sigma:g} / 255)")
    image = imageio.as_array(image, "the image to denoise")
    if image.ndim == 2:
        image = image[..., np.newaxis]  # H×W -> H×W×1
    if image.ndim == 3 and image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)  # grayscale -> H×W×3
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ImageError(f"the image to denoise must be H×W×3 (or H×W grayscale); got shape {image.shape}")
    if min(image.shape[:2]) < 8:
        raise ImageError(f"the image to denoise is {image.shape[1]}×{image.shape[0]} pixels; the denoiser needs "
                         "at least 8×8")
    image = as_images(image[np.newaxis], "image")[0]
    check_photo_denoiser(model)  # after the image's checks: a bad picture is named first
    if sigma is None:
        sigma = estimate_sigma(image)
    height, width = image.shape[:2]
    padded = np.pad(image, ((0, -height % 4), (0, -width % 4), (0, 0)), mode="reflect")

    def run(x: np.ndarray) -> np.ndarray:
        sigma_map = np.full(x.shape[:2] + (1,), sigma, np.float32)
        return np.asarray(model([x[np.newaxis], sigma_map[np.newaxis]], training=False))[0]

    if ensemble:  # 4 rotations, each with and without a mirror; each result turned back, then averaged
        out = np.zeros_like(padded)
        for flip in (False, True):
            view = padded[:, ::-1] if flip else padded
            for k in range(4):
                restored = np.rot90(run(np.ascontiguousarray(np.rot90(view, k))), -k)
                out += restored[:, ::-1] if flip else restored
        out /= 8
    else:
        out = run(padded)
    return np.clip(out[:height, :width], 0.0, 1.0).astype(np.float32)


def evaluate_photo_denoiser(model: keras.Model, *, photos: Sequence[str] = HELD_OUT_PHOTOS, sigma: float = 0.1,
                            max_dim: int = 512, tuning_photo: str = "astronaut", seed: int = 0,
                            ensemble: bool = False) -> list[dict[str, Any]]:
    """PSNR of the photo denoiser against tuned non-local means on photos it never trained on.

    Non-local means (scikit-image, ``fast_mode``, 5×5 patches, told σ) is tuned on
    ``tuning_photo`` (a training photo), then run on the held-out photos.

    Args:
        model: The photo denoiser.
        photos: Held-out photo names.
        sigma: Gaussian noise σ.
        max_dim: Long side of the test photos.
        tuning_photo: Photo to tune non-local means's ``h`` on.
        seed: Fixes the noise.
        ensemble: Also report ``"artlib, self-ensemble"`` (:func:`denoise_photo`'s ``ensemble``).

    Returns:
        Rows ``{"photo", "noisy", "non-local means", "artlib", "nlm_h"}`` (PSNR in dB; with
        ``ensemble`` also ``"artlib, self-ensemble"``); ``nlm_h`` is the chosen ``h / σ``.

    Raises:
        ArtlibError: ``sigma`` or ``max_dim`` is 0 or below.
    """
    seed = seed_value(seed)
    positive_float(sigma, "sigma")
    positive_int(max_dim, "max_dim")
    from skimage.restoration import denoise_nl_means

    def nlm(image: np.ndarray, factor: float) -> np.ndarray:
        """Non-local means with ``h = factor · σ``, clipped to [0, 1]."""
        return np.clip(denoise_nl_means(image, h=factor * sigma, sigma=sigma, patch_size=5, patch_distance=6,
                                        fast_mode=True, channel_axis=-1), 0, 1)

    tune = data.load_sample_photo(tuning_photo, max_dim=min(max_dim, 256))
    tune_noisy = gaussian_noise(tune[np.newaxis], (seed, 99), sigma).numpy()[0]
    factor = max((metrics.psnr(tune, nlm(tune_noisy, f)), f) for f in (0.4, 0.6, 0.8, 1.0))[1]
    rows = []
    for i, name in enumerate(photos):
        clean = data.load_sample_photo(name, max_dim=max_dim)
        noisy = gaussian_noise(clean[np.newaxis], (seed, i), sigma).numpy()[0]
        rows.append({"photo": name, "noisy": metrics.psnr(clean, noisy),
                     "non-local means": metrics.psnr(clean, nlm(noisy, factor)),
                     "artlib": metrics.psnr(clean, denoise_photo(model, noisy, sigma)), "nlm_h": factor})
        if ensemble:
            rows[-1]["artlib, self-ensemble"] = metrics.psnr(clean, denoise_photo(model, noisy, sigma, ensemble=True))
    return rows


def load_photo_denoiser(path: str | Path | None = None) -> keras.Model:
    """The shipped photo denoiser (:data:`PHOTO_DENOISER_PATH`) or the one at ``path``.

    Args:
        path: A ``.keras`` file; None: the shipped one.

    Returns:
        The model.

    Raises:
        DataError: The file is missing or corrupt.
    """
    return load_model(path or PHOTO_DENOISER_PATH)
