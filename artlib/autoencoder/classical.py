"""Classical denoisers (scikit-image) tuned per noise level, and the table that ranks them against the networks.

Measures as everywhere in the course: PSNR with data range 1, SSIM as ``tf.image.ssim``
(both from :mod:`artlib.metrics`), noisy inputs clipped to [0, 1], classical
denoisers tuned per noise level on a validation split, never on the test set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from artlib import config, metrics
from artlib.autoencoder.damage import gaussian_noise
from artlib.autoencoder.train import as_images, restore
from artlib.checks import positive_float, positive_int, seed_value
from artlib.errors import ArtlibError

__all__ = ["SIGMAS", "CLASSICAL_DENOISERS", "classical_denoise", "tune_classical", "evaluate_denoisers",
           "format_table"]

#: The noise levels of the evaluation table (Gaussian σ on [0, 1] pixels).
SIGMAS = (0.1, 0.2, 0.3, 0.5)
#: The scikit-image denoisers of the evaluation table, with the settings each is tuned over.
CLASSICAL_DENOISERS: dict[str, dict[str, list[Any]]] = {
    # name: {"full": grid, "fast": grid}; the grids hold the one parameter each method is tuned on
    "gaussian filter": {"full": [0.5, 0.7, 1.0, 1.4, 2.0], "fast": [0.7, 1.4]},  # σ of the filter
    "median": {"full": [2, 3, 5], "fast": [3]},  # window side
    "total variation": {"full": [0.03, 0.06, 0.1, 0.15, 0.25, 0.4], "fast": [0.1, 0.25]},  # weight
    "non-local means": {"full": [0.5, 0.7, 0.9, 1.2], "fast": [0.7, 1.0]},  # h / σ
    "wavelet": {"full": [("BayesShrink", 1.0), ("VisuShrink", 0.5), ("VisuShrink", 1.0)],
                "fast": [("BayesShrink", 1.0), ("VisuShrink", 0.5)]},  # method, σ scale
}


def _stack_channels(images: np.ndarray) -> np.ndarray:
    """``(N, H, W, C)`` → ``(H, W, N·C)``, so per-channel scikit-image filters treat each image alone."""
    n, h, w, c = images.shape
    return images.transpose(1, 2, 0, 3).reshape(h, w, n * c)  # (H, W, N·C)


def _unstack_channels(stacked: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of :func:`_stack_channels`: ``(H, W, N·C)`` → ``shape`` ``(N, H, W, C)``."""
    n, h, w, c = shape
    return stacked.reshape(h, w, n, c).transpose(2, 0, 1, 3)  # (N, H, W, C)


def _check_method(method: str) -> None:
    """Raise :class:`ArtlibError` unless ``method`` is a key of :data:`CLASSICAL_DENOISERS`."""
    if method not in CLASSICAL_DENOISERS:
        raise ArtlibError(f"unknown classical denoiser {method!r}; choose one of {', '.join(CLASSICAL_DENOISERS)}")


def _check_param(method: str, param: Any) -> Any:
    """``param`` checked for ``method`` (a known one): a window side, a positive number, or a wavelet pair."""
    if method == "median":
        return positive_int(param, "the median's window side")
    if method == "wavelet":
        if not (isinstance(param, (tuple, list)) and len(param) == 2 and param[0] in ("BayesShrink", "VisuShrink")):
            raise ArtlibError(f"the wavelet denoiser takes (\"BayesShrink\" or \"VisuShrink\", σ scale); got {param!r}")
        return param[0], positive_float(param[1], "the wavelet's σ scale")
    return positive_float(param, f"the {method}'s parameter")


def classical_denoise(method: str, noisy: Any, sigma: float, param: Any) -> np.ndarray:
    """Denoise a batch with one of :data:`CLASSICAL_DENOISERS` (scikit-image), told the noise σ.

    Args:
        method: ``"gaussian filter"``, ``"median"``, ``"total variation"``,
            ``"non-local means"`` or ``"wavelet"``.
        noisy: Float batch ``(N, H, W, C)`` in [0, 1].
        sigma: The noise level (used by non-local means and wavelet).
        param: The method's tuned parameter (see :data:`CLASSICAL_DENOISERS`).

    Returns:
        The denoised batch, float32 ``(N, H, W, C)`` in [0, 1].

    Raises:
        ArtlibError: An unknown method, a parameter that does not fit it (see :data:`CLASSICAL_DENOISERS`),
            or a negative σ.
        ImageError: ``noisy`` is not a batch of images.
    """
    import skimage.filters
    import skimage.restoration as restoration

    _check_method(method)
    param = _check_param(method, param)
    sigma = positive_float(sigma, "sigma", zero=True)
    noisy = as_images(noisy, "noisy")
    if method == "gaussian filter":
        out = skimage.filters.gaussian(noisy, sigma=(0, param, param, 0), preserve_range=True)
    elif method == "median":
        out = skimage.filters.median(noisy, footprint=np.ones((1, param, param, 1), bool))
    elif method == "total variation":
        out = _unstack_channels(restoration.denoise_tv_chambolle(
            _stack_channels(noisy), weight=param, channel_axis=-1), noisy.shape)
    elif method == "non-local means":
        out = np.stack([restoration.denoise_nl_means(
            image, h=param * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True,
            channel_axis=-1) for image in noisy]).reshape(noisy.shape)
    else:  # wavelet
        kind, scale = param
        out = _unstack_channels(restoration.denoise_wavelet(
            _stack_channels(noisy), sigma=scale * sigma, method=kind, mode="soft", channel_axis=-1,
            rescale_sigma=True), noisy.shape)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def tune_classical(noisy: Any, clean: Any, sigma: float, *,
                   methods: Sequence[str] = tuple(CLASSICAL_DENOISERS)) -> dict[str, tuple[Any, float]]:
    """Pick each classical denoiser's parameter that gives the best mean PSNR on these (validation) images.

    Args:
        noisy: Noisy validation batch ``(N, H, W, C)`` in [0, 1]: never the test set.
        clean: The clean validation batch.
        sigma: The noise level.
        methods: Which denoisers to tune.

    Returns:
        ``{method: (best parameter, its mean validation PSNR)}``; the grid is
        ``CLASSICAL_DENOISERS[method]["fast" or "full"]``.

    Raises:
        ArtlibError: An unknown method.
    """
    grid_name = "fast" if config.is_fast() else "full"
    best = {}
    for method in methods:
        _check_method(method)
        scores = [(float(np.mean(metrics.psnr(clean, classical_denoise(method, noisy, sigma, p)))), i)
                  for i, p in enumerate(CLASSICAL_DENOISERS[method][grid_name])]
        score, index = max(scores)
        best[method] = (CLASSICAL_DENOISERS[method][grid_name][index], score)
    return best


def evaluate_denoisers(models: Mapping[str, keras.Model], test_images: Any, *, validation_images: Any,
                       sigmas: Sequence[float] = SIGMAS, methods: Sequence[str] = tuple(CLASSICAL_DENOISERS),
                       seed: int = 0) -> list[dict[str, Any]]:
    """The denoising table: PSNR and SSIM of every method at every Gaussian noise level.

    For each σ the test images get one fixed draw of clipped Gaussian noise; the
    classical denoisers are first tuned on the validation images (their own
    noise draw), then run on the test images with the chosen setting.

    Args:
        models: Trained restorers by name, e.g. ``{"tutorial": ..., "artlib": ...}``.
        test_images: Clean test images ``(N, H, W[, C])``, uint8 or [0, 1].
        validation_images: Clean images for tuning the classical denoisers (not the test set).
        sigmas: Noise levels.
        methods: Classical denoisers to include.
        seed: Fixes the noise.

    Returns:
        Rows ``{"sigma", "method", "psnr", "ssim", "setting", "seconds"}`` (mean PSNR in dB
        and mean SSIM over the test images; ``setting`` is the tuned parameter or None);
        the first method at each σ is ``"noisy input"``. Show with :func:`format_table`.

    Raises:
        ImageError: ``test_images`` or ``validation_images`` is not a batch of images.
        ArtlibError: An unknown method.
    """
    seed = seed_value(seed)
    clean = as_images(test_images, "test_images")
    validation = as_images(validation_images, "validation_images")
    rows = []
    for i, sigma in enumerate(sigmas):
        noisy = gaussian_noise(clean, (seed, 2 * i), sigma).numpy()
        noisy_val = gaussian_noise(validation, (seed, 2 * i + 1), sigma).numpy()
        tuned = tune_classical(noisy_val, validation, sigma, methods=methods)
        candidates: list[tuple[str, Callable[[], np.ndarray], Any]] = [("noisy input", lambda: noisy, None)]
        candidates += [(name, lambda m=model: restore(m, noisy), None) for name, model in models.items()]
        candidates += [(method, lambda m=method: classical_denoise(m, noisy, sigma, tuned[m][0]), tuned[method][0])
                       for method in methods]
        for name, run, setting in candidates:
            start = time.perf_counter()
            restored = run()
            seconds = time.perf_counter() - start
            rows.append({"sigma": float(sigma), "method": name, "setting": setting, "seconds": seconds,
                         "psnr": float(np.mean(metrics.psnr(clean, restored))),
                         "ssim": float(np.mean(metrics.ssim(clean, restored)))})
    return rows


def format_table(rows: Sequence[Mapping[str, Any]], *, value: str = "psnr") -> str:
    """A Markdown table of :func:`evaluate_denoisers`'s rows: one line per method, one column per σ.

    Args:
        rows: The rows.
        value: ``"psnr"``, ``"ssim"`` or ``"both"`` (``PSNR / SSIM`` in each cell).

    Returns:
        Markdown text; the best non-input value in each column is in bold.

    Raises:
        ArtlibError: ``value`` is not one of the three.
    """
    units = {"psnr": "PSNR (dB)", "ssim": "SSIM", "both": "PSNR (dB) / SSIM"}
    if value not in units:
        raise ArtlibError(f"value must be one of {', '.join(units)}; got {value!r}")
    sigmas = sorted({row["sigma"] for row in rows})
    methods = list(dict.fromkeys(row["method"] for row in rows))
    cell = {(row["method"], row["sigma"]): row for row in rows}
    best = {s: max((r for r in rows if r["sigma"] == s and r["method"] != "noisy input"),
                   key=lambda r: r["psnr" if value == "both" else value])["method"] for s in sigmas}
    lines = [f"| method — {units[value]} | " + " | ".join(f"σ = {s:g}" for s in sigmas) + " |",
             "|---|" + "---:|" * len(sigmas)]
    for method in methods:
        cells = []
        for s in sigmas:
            row = cell.get((method, s))
            if row is None:
                cells.append("")
                continue
            text = (f"{row['psnr']:.2f} / {row['ssim']:.3f}" if value == "both"
                    else f"{row[value]:.2f}" if value == "psnr" else f"{row[value]:.3f}")
            cells.append(f"**{text}**" if best[s] == method else text)
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
