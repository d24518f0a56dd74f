"""Compression: the bits in a quantized autoencoder's code, JPEG as the reference, the rate–distortion plot."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from artlib import metrics
from artlib.autoencoder.train import as_images, restore
from artlib.errors import ArtlibError

__all__ = ["latent_bits", "jpeg_round_trip", "jpeg_rate_distortion", "rate_distortion", "plot_rate_distortion"]


def latent_bits(model: keras.Model, images: Any) -> dict[str, float]:
    """How many bits one image costs in a quantized autoencoder's code, counted two ways.

    * ``fixed``: ``latent_dim × bits`` — every number stored with its full ``bits``
      (a file format anyone can decode with the decoder).
    * ``entropy``: the sum over latent numbers of the empirical entropy of its
      quantized values on ``images`` — what an ideal entropy coder with a fixed
      per-number table would need (the table itself is not counted).

    Args:
        model: A :func:`build_autoencoder` model.
        images: Images to encode ``(N, H, W[, C])``.

    Returns:
        ``{"fixed": bits, "entropy": bits}`` per image.

    Raises:
        ImageError: ``images`` is not a batch of images.
    """
    quantize = model.get_layer("encoder").get_layer("quantize")
    levels = 2**quantize.bits - 1
    codes = model.get_layer("encoder").predict(as_images(images), batch_size=512, verbose=0)  # (N, latent_dim)
    symbols = np.rint(codes * levels).astype(np.int64)
    entropy = 0.0
    for column in symbols.T:
        counts = np.bincount(column, minlength=levels + 1)
        p = counts[counts > 0] / len(column)
        entropy += float(-(p * np.log2(p)).sum())
    return {"fixed": float(symbols.shape[1] * quantize.bits), "entropy": entropy}


def _jpeg_header_bytes(data: bytes) -> int:
    """Bytes of a JPEG file that are not entropy-coded scan data: markers, tables, the SOS header, EOI.

    Args:
        data: A baseline JPEG file (one scan), as Pillow writes it.

    Returns:
        The header's size in bytes.

    Raises:
        ValueError: No start-of-scan marker (not a baseline JPEG).
    """
    position = 2  # SOI
    while position < len(data):
        marker = data[position + 1]
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        position += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows, then EOI (2 bytes)
            return position + 2
    raise ValueError("not a baseline JPEG")


def _check_quality(quality: int) -> None:
    """Raise :class:`ArtlibError` unless ``quality`` is a Pillow JPEG quality, 1–95."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 95:
        raise ArtlibError(f"JPEG quality must be an integer from 1 to 95; got {quality!r}")


def jpeg_round_trip(images: Any, quality: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each image alone through Pillow's baseline JPEG at ``quality`` and back.

    Args:
        images: ``(N, H, W[, C])`` in [0, 1] with C = 1 (saved as grayscale) or 3 (RGB).
        quality: Pillow JPEG quality, 1–95.

    Returns:
        ``(decoded, file_bytes, header_bytes)``: float32 ``(N, H, W, C)`` in [0, 1], and per image
        the file's size and its header (markers, quantization and Huffman tables: the bytes that
        are not entropy-coded scan data), int arrays of length N.

    Raises:
        ArtlibError: ``quality`` is not in 1–95.
        ImageError: ``images`` is not a batch of images.
    """
    from PIL import Image

    _check_quality(quality)
    pixels = np.rint(as_images(images) * 255).astype(np.uint8)
    decoded, sizes, headers = [], [], []
    for image in pixels:
        buffer = io.BytesIO()
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, "JPEG", quality=quality)
        data = buffer.getvalue()
        sizes.append(len(data))
        headers.append(_jpeg_header_bytes(data))
        decoded.append((np.asarray(Image.open(io.BytesIO(data)), np.float32) / 255.0).reshape(image.shape))
    return np.stack(decoded), np.array(sizes), np.array(headers)


def jpeg_rate_distortion(images: Any, qualities: Sequence[int] = (5, 10, 20, 30, 50, 70, 90)) -> list[dict[str, float]]:
    """Pillow JPEG at several qualities: mean size and PSNR/SSIM per image, the classical reference.

    Each image is saved alone (:func:`jpeg_round_trip`). Two sizes are reported per image:
    ``file_bits`` (the whole file) and ``payload_bits`` (the entropy-coded scan only: the file
    minus the header — markers, quantization and Huffman tables, ~300 bytes that are the same
    for every image of a quality, measured per file, not estimated).

    Args:
        images: ``(N, H, W[, C])`` with C = 1 or 3.
        qualities: Pillow JPEG qualities.

    Returns:
        Rows ``{"quality", "file_bits", "payload_bits", "header_bytes", "psnr", "ssim"}``, means over images.

    Raises:
        ArtlibError: A quality not in 1–95.
        ImageError: ``images`` is not a batch of images.
    """
    for quality in qualities:
        _check_quality(quality)
    clean = as_images(images)
    rows = []
    for quality in qualities:
        decoded, sizes, headers = jpeg_round_trip(clean, quality)
        rows.append({"quality": quality, "file_bits": 8 * float(np.mean(sizes)),
                     "payload_bits": 8 * float(np.mean(sizes) - np.mean(headers)),
                     "header_bytes": float(np.mean(headers)),
                     "psnr": float(np.mean(metrics.psnr(clean, decoded))),
                     "ssim": float(np.mean(metrics.ssim(clean, decoded)))})
    return rows


def rate_distortion(models: Mapping[int, keras.Model], images: Any) -> list[dict[str, float]]:
    """Bits per image against quality for a sweep of quantized autoencoders (:func:`build_autoencoder`).

    Args:
        models: Trained autoencoders by ``latent_dim``.
        images: Test images.

    Returns:
        Rows ``{"latent_dim", "fixed_bits", "entropy_bits", "psnr", "ssim"}`` (means over images).

    Raises:
        ImageError: ``images`` is not a batch of images.
    """
    clean = as_images(images)
    rows = []
    for latent_dim, model in sorted(models.items()):
        restored = restore(model, clean)
        bits = latent_bits(model, clean)
        rows.append({"latent_dim": latent_dim, "fixed_bits": bits["fixed"], "entropy_bits": bits["entropy"],
                     "psnr": float(np.mean(metrics.psnr(clean, restored))),
                     "ssim": float(np.mean(metrics.ssim(clean, restored)))})
    return rows


def plot_rate_distortion(autoencoder_rows: Sequence[Mapping[str, float]], jpeg_rows: Sequence[Mapping[str, float]],
                         *, path: str | Path | None = None) -> Any:
    """Bits per image against PSNR: the autoencoder sweep (fixed and entropy-coded) beside JPEG.

    Args:
        autoencoder_rows: :func:`rate_distortion`'s rows.
        jpeg_rows: :func:`jpeg_rate_distortion`'s rows.
        path: Also save the figure there as PNG.

    Returns:
        The matplotlib ``Figure``.
    """
    from artlib import plotting

    fig = plotting.figure((6.5, 4))
    ax = fig.subplots()
    curves = [(autoencoder_rows, "fixed_bits", "autoencoder, fixed-length code (bits × latent_dim)", "o-"),
              (autoencoder_rows, "entropy_bits", "autoencoder, entropy-coded (estimate)", "o--"),
              (jpeg_rows, "payload_bits", "JPEG scan data (header not counted)", "s-"),
              (jpeg_rows, "file_bits", "JPEG whole file", "s:")]
    for rows, key, label, style in curves:
        ax.plot([r[key] for r in rows], [r["psnr"] for r in rows], style, label=label)
    for row in autoencoder_rows:
        ax.annotate(str(row["latent_dim"]), (row["fixed_bits"], row["psnr"]), textcoords="offset points",
                    xytext=(4, -10), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("bits per 28×28 image (log scale)")
    ax.set_ylabel("PSNR (dB)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if path is not None:
        plotting.save_figure(fig, path)
    return fig
