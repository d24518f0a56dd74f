"""Tests for artlib.imageio: a catalogue of odd and malformed images, saving, batches, preprocessing.

Every test image is made here with Pillow/NumPy; nothing is shipped and nothing is
downloaded (the URL test serves files from a local thread on 127.0.0.1).
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import socket
import struct
import textwrap
import threading
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_python
from PIL import Image, ImageFile, ImageOps

from artlib import imageio
from artlib.errors import ArtlibError, OfflineError
from artlib.imageio import ImageError, as_batch, load_image, save_image

HANG_LIMIT_S = 1.0  # a hang catcher, not a speed target: each call takes milliseconds
PNG_SIG = b"\x89PNG\r\n\x1a\n"

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# ----------------------------------------------------------------------------- makers

def encode(im: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def noise_rgb(h: int = 32, w: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming width×height, with one tiny IDAT: no big allocation."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return PNG_SIG + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16)) \
        + png_chunk(b"IEND", b"")


def gif_header_only(width: int, height: int) -> bytes:
    """A GIF whose screen and image descriptor claim width×height."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00" * 6  # 2-colour table
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return screen + descriptor + b"\x02\x02\x44\x01\x00\x3b"


def bmp_header_only(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 14 + 40) + info + b"\x00" * 16


def corrupt_png_idat(data: bytes, offset_in_payload: int, fix_crc: bool) -> bytes:
    """Flip a byte of the first IDAT payload (optionally with a recomputed, valid CRC)."""
    i = data.index(b"IDAT")
    length = struct.unpack(">I", data[i - 4:i])[0]
    out = bytearray(data)
    out[i + 4 + offset_in_payload] ^= 0xFF
    if fix_crc:
        out[i + 4 + length:i + 8 + length] = struct.pack(">I", zlib.crc32(bytes(out[i:i + 4 + length])))
    return bytes(out)


def corrupt_png_idat_crc(data: bytes) -> bytes:
    """Damage only the first IDAT's CRC: the pixel data itself is intact."""
    i = data.index(b"IDAT")
    crc_at = i + 4 + struct.unpack(">I", data[i - 4:i])[0]
    return data[:crc_at] + bytes([data[crc_at] ^ 0xFF]) + data[crc_at + 1:]


def jpeg_with_exif_orientation(orientation: int) -> bytes:
    """A 48×32 (w×h) JPEG: red 8×8 block at stored top-left, green at stored top-right."""
    pixels = np.full((32, 48, 3), 128, np.uint8)
    pixels[:8, :8] = RED
    pixels[:8, -8:] = GREEN
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(Image.fromarray(pixels), "JPEG", quality=95, exif=exif)


def animated(fmt: str, colours=(RED, GREEN, BLUE)) -> bytes:
    frames = [Image.new("RGB", (24, 24), c) for c in colours]
    options = {"lossless": True} if fmt == "WEBP" else {}
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0,
                  **options)


def uint16_image(values: list[int], fmt: str, dtype: str = "<u2") -> tuple[bytes, np.ndarray]:
    """A 16×16 16-bit grayscale image holding ``values`` in its first row."""
    array = np.zeros((16, 16), dtype=dtype)
    array[0, : len(values)] = values
    return encode(Image.fromarray(array), fmt), array


# ----------------------------------------------------------------------------- the catalogue

@dataclass
class Case:
    """One odd input: ``make(tmp_path)`` returns a source; ``check`` is None when an error is due."""

    make: Callable[[Path], object]
    check: Callable[[np.ndarray], None] | None = None
    kwargs: dict | None = None
    reason: str = ""  # words the error message must contain (lower case)


def as_file(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path
    return make


def as_bytes(data: bytes) -> Callable[[Path], bytes]:
    return lambda tmp_path: data


def close(expected, atol: float) -> Callable[[np.ndarray], None]:
    def check(image: np.ndarray) -> None:
        np.testing.assert_allclose(image, np.broadcast_to(expected, image.shape), atol=atol)
    return check


_NOISE = noise_rgb()
_NOISE_PNG = encode(Image.fromarray(_NOISE), "PNG")
_JPEG = encode(Image.fromarray(noise_rgb(64, 64)), "JPEG")
_FIFO_OK = hasattr(os, "mkfifo")


def _exact(image: np.ndarray) -> None:
    np.testing.assert_allclose(image, _NOISE / 255.0, atol=1e-6)


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.png"
    os.mkfifo(path)  # opening it for reading would block forever
    return path


def _check_la(image):  # LA: left half opaque gray 100, right half transparent
    np.testing.assert_allclose(image[:, :8], 100 / 255, atol=1e-6)
    np.testing.assert_allclose(image[:, 8:], 1.0, atol=1e-6)


def _make_la(tmp_path):
    array = np.zeros((16, 16, 2), np.uint8)
    array[..., 0] = 100
    array[:, :8, 1] = 255
    return encode(Image.fromarray(array, "LA"), "PNG")


def _make_rgba(tmp_path):
    array = np.zeros((16, 16, 4), np.uint8)
    array[:8] = (0, 0, 255, 255)  # top: opaque blue
    array[8:, :8] = (255, 0, 0, 0)  # bottom-left: fully transparent red
    array[8:, 8:] = (255, 0, 0, 128)  # bottom-right: half-transparent red
    return encode(Image.fromarray(array, "RGBA"), "PNG")


def _check_rgba(image):
    np.testing.assert_allclose(image[0, 0], (0, 0, 1), atol=1e-6)
    np.testing.assert_allclose(image[-1, 0], (1, 1, 1), atol=1e-6)  # transparent -> white
    a = 128 / 255
    np.testing.assert_allclose(image[-1, -1], (1, 1 - a, 1 - a), atol=1e-6)


_PALETTE = [RED, GREEN, BLUE, (10, 20, 30)]


def _make_palette(transparent_index: int | None, fmt: str = "PNG"):
    def make(tmp_path):
        im = Image.new("P", (16, 16))
        im.putpalette([v for colour in _PALETTE for v in colour])
        im.putdata([(x // 4) % 4 for x in range(16)] * 16)  # columns 0-3: index 0, 4-7: 1, ...
        options = {} if transparent_index is None else {"transparency": transparent_index}
        return encode(im, fmt, **options)
    return make


def _check_palette(transparent_index: int | None):
    def check(image):
        for index, colour in enumerate(_PALETTE):
            expected = (1, 1, 1) if index == transparent_index else np.array(colour) / 255
            np.testing.assert_allclose(image[5, index * 4], expected, atol=1e-6)
    return check


def _make_rgb_colour_key(tmp_path):  # PNG tRNS for RGB: one colour means "transparent"
    array = np.zeros((16, 16, 3), np.uint8)
    array[:, 8:] = GREEN
    return encode(Image.fromarray(array), "PNG", transparency=GREEN)


def _make_gray_colour_key(tmp_path):
    array = np.full((16, 16), 50, np.uint8)
    array[:, 8:] = 200
    return encode(Image.fromarray(array), "PNG", transparency=200)


def _check_half(left, right, atol: float = 1e-6):
    def check(image):
        np.testing.assert_allclose(image[:, :8], np.broadcast_to(left, image[:, :8].shape), atol=atol)
        np.testing.assert_allclose(image[:, 8:], np.broadcast_to(right, image[:, 8:].shape), atol=atol)
    return check


def _make_uint16(fmt: str, dtype: str = "<u2"):
    return lambda tmp_path: uint16_image([65535, 32768, 32769, 300, 0], fmt, dtype)[0]


def _check_uint16(image):
    row = image[0, :5, 0]
    np.testing.assert_allclose(row, np.array([65535, 32768, 32769, 300, 0]) / 65535, atol=1e-7)
    assert row[2] > row[1]  # finer than 8 bits: 32768 and 32769 stay different
    np.testing.assert_array_equal(image[..., 0], image[..., 2])  # gray in all three channels


def _make_int32_tiff(tmp_path):
    array = np.zeros((16, 16), np.int32)
    array[0, :3] = (2**31 - 1, 2**30, -5)
    return encode(Image.fromarray(array, "I"), "TIFF")


def _make_float_tiff(values):
    def make(tmp_path):
        array = np.zeros((16, 16), np.float32)
        array[0, : len(values)] = values
        return encode(Image.fromarray(array, "F"), "TIFF")
    return make


def _check_float_tiff(image):
    np.testing.assert_allclose(image[0, :4, 1], (0.25, 1.0, 0.0, 0.123456), atol=1e-6)


def _make_mode(mode: str, colour, fmt: str = "TIFF"):
    return lambda tmp_path: encode(Image.new(mode, (16, 16), colour), fmt)


def _make_1bit(tmp_path):
    im = Image.new("1", (16, 16), 0)
    im.paste(1, (0, 0, 8, 16))
    return encode(im, "PNG")


def _make_bogus_exif_jpeg(tmp_path):
    exif_block = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xffgarbage garbage"
    return encode(Image.new("RGB", (16, 16), (10, 200, 30)), "JPEG", quality=95, exif=exif_block)


def _check_first_frame(image):
    np.testing.assert_allclose(image, np.broadcast_to((1, 0, 0), image.shape), atol=0.02)


def png_raw(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    """A PNG from raw scanlines (each starting with filter byte 0), compressed in one IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return PNG_SIG + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b"")


@functools.lru_cache(maxsize=None)
def png_real_bomb(side: int) -> bytes:
    """A valid, all-black 1-bit side×side PNG (side a multiple of 1000): 30,000² is 110 kB on disk."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 1000) for _ in range(side // 1000)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit grayscale
    return PNG_SIG + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def _make_rgb16_png(alpha: bool):
    """16-bit RGB(A) PNG: left half (65535, 32768, 0[, 65535]), right half (0, 0, 65535[, 0])."""
    def make(tmp_path):
        pixels = np.zeros((16, 16, 4 if alpha else 3), ">u2")
        pixels[:, :8, :3] = (65535, 32768, 0)
        pixels[:, 8:, :3] = (0, 0, 65535)
        if alpha:
            pixels[:, :8, 3] = 65535  # the right half stays fully transparent
        rows = b"".join(b"\x00" + row.tobytes() for row in pixels)
        return png_raw(16, 16, 16, 6 if alpha else 2, rows)
    return make


def _make_mode_array(mode: str, fmt: str, half, other, **options):
    """A 16×16 image in ``mode``: left half ``half``, right half ``other``."""
    def make(tmp_path):
        im = Image.new(mode, (16, 16), other)
        im.paste(half, (0, 0, 8, 16))
        return encode(im, fmt, **options)
    return make


def _with_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """A JPEG whose SOF0 header claims width×height (the scan data is unchanged)."""
    i = data.index(b"\xff\xc0")
    return data[:i + 5] + struct.pack(">HH", height, width) + data[i + 9:]


def _zip_of(name: str, data: bytes) -> bytes:
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(name, data)
    return buf.getvalue()


_SVG = b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">' \
       b'<rect width="64" height="64" fill="red"/></svg>\n'
_HTML = b"\n\n  <!doctype html>\n<html><head><title>Access denied</title></head><body>403</body></html>\n"
_PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
_RGB_HALVES = _check_half((1, 0, 0), (0, 0, 1))


CASES: dict[str, Case] = {
    # --- missing, empty, not a file --------------------------------------------------------
    "missing-path": Case(lambda p: p / "no-such-image.png", reason="no such file"),
    "directory": Case(lambda p: p, reason="directory"),
    "empty-file": Case(as_file("empty.png", b""), reason="empty"),
    "empty-bytes": Case(as_bytes(b""), reason="empty"),
    "fifo": Case(_fifo, reason="not a regular file"),
    "dev-zero": Case(lambda p: Path("/dev/zero"), reason="not a regular file"),
    "too-many-bytes": Case(as_bytes(_NOISE_PNG), kwargs={"max_bytes": 1000}, reason="max_bytes"),
    "too-many-bytes-file": Case(as_file("big.png", _NOISE_PNG), kwargs={"max_bytes": 1000},
                                reason="max_bytes"),
    # --- not an image / unsupported --------------------------------------------------------
    "random-garbage": Case(as_bytes(np.random.default_rng(1).bytes(2000)), reason="not an image"),
    "text-named-png": Case(as_file("notes.png", b"just some notes\n" * 20), reason="text file"),
    "html-error-page": Case(as_file("photo.jpg", b"<!DOCTYPE html><html><body>404 Not Found"
                                                 b"</body></html>"), reason="html"),
    "svg": Case(as_bytes(b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"/>'),
                reason="svg"),
    "pdf": Case(as_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"), reason="pdf"),
    "tga-unsupported": Case(as_bytes(encode(Image.new("RGB", (20, 20)), "TGA")),
                            reason="which load_image does not read"),
    "eps-unsupported": Case(as_bytes(encode(Image.new("RGB", (20, 20)), "EPS")),
                            reason="which load_image does not read"),
    # --- truncated and corrupt -------------------------------------------------------------
    "png-signature-only": Case(as_bytes(_NOISE_PNG[:8]), reason="corrupt or truncated"),
    "png-cut-in-ihdr": Case(as_bytes(_NOISE_PNG[:20]), reason="corrupt or truncated"),
    "png-header-no-data": Case(as_bytes(_NOISE_PNG[:33]), reason="corrupt or truncated"),
    "png-cut-early-idat": Case(as_bytes(_NOISE_PNG[:200]), reason="truncated"),
    "png-cut-half": Case(as_bytes(_NOISE_PNG[: len(_NOISE_PNG) // 2]), reason="truncated"),
    "png-no-iend": Case(as_bytes(_NOISE_PNG[:-12]), check=_exact),  # all pixels present: fine
    "png-bad-ihdr-crc": Case(as_bytes(_NOISE_PNG[:29] + bytes([_NOISE_PNG[29] ^ 0xFF])
                                      + _NOISE_PNG[30:]), reason="corrupt"),
    "png-bad-zlib-header": Case(as_bytes(corrupt_png_idat(_NOISE_PNG, 0, fix_crc=True)),
                                reason="corrupt"),
    "png-bad-deflate-data": Case(as_bytes(corrupt_png_idat(_NOISE_PNG, 300, fix_crc=True)),
                                 reason="corrupt"),
    "png-bad-idat-crc-only": Case(as_bytes(corrupt_png_idat_crc(_NOISE_PNG)), check=_exact),
    "jpeg-cut-half": Case(as_bytes(_JPEG[: len(_JPEG) // 2]), reason="truncated"),
    "jpeg-header-only": Case(as_bytes(_JPEG[:120]), reason="corrupt or truncated"),
    "gif-cut": Case(as_bytes(animated("GIF")[:40]), reason="corrupt or truncated"),
    "bmp-cut": Case(as_bytes(encode(Image.fromarray(_NOISE), "BMP")[:500]), reason="truncated"),
    "webp-cut": Case(as_bytes(encode(Image.fromarray(_NOISE), "WEBP")[:60]),
                     reason="corrupt or truncated"),
    "tiff-cut": Case(as_bytes(encode(Image.fromarray(_NOISE), "TIFF")[:300]),
                     reason="corrupt or truncated"),
    # --- absurd sizes ----------------------------------------------------------------------
    "png-bomb-100000x100000": Case(as_bytes(png_header_only(100_000, 100_000)), reason="bomb"),
    "png-bomb-8000x8000": Case(as_bytes(png_header_only(8000, 8000)), reason="max_pixels"),
    "png-bomb-custom-limit": Case(as_bytes(_NOISE_PNG), kwargs={"max_pixels": 1000},
                                  reason="max_pixels"),
    "gif-bomb-65535x65535": Case(as_bytes(gif_header_only(65535, 65535)), reason="bomb"),
    "bmp-bomb": Case(as_bytes(bmp_header_only(60000, 60000)), reason="bomb"),
    "1x1": Case(as_bytes(encode(Image.new("RGB", (1, 1), RED), "PNG")), reason="min_dim"),
    "4x4": Case(as_bytes(encode(Image.new("RGB", (4, 4), RED), "PNG")), reason="min_dim"),
    "1x2000-strip": Case(as_bytes(encode(Image.new("L", (1, 2000)), "PNG")), reason="absurd"),
    "2000x20-strip": Case(as_bytes(encode(Image.new("L", (2000, 20)), "PNG")), reason="absurd"),
    "zero-width-png": Case(as_bytes(png_header_only(0, 32)), reason="corrupt or truncated"),
    "float-nan": Case(_make_float_tiff([0.5, np.nan]), reason="nan"),
    # --- odd but valid: converted correctly ------------------------------------------------
    "1x1-allowed": Case(as_bytes(encode(Image.new("RGB", (1, 1), (0, 51, 255)), "PNG")),
                        check=close((0, 0.2, 1), 1e-6), kwargs={"min_dim": 1}),
    "grayscale-L": Case(_make_mode("L", 128, "PNG"), check=close(128 / 255, 1e-6)),
    "1-bit": Case(_make_1bit, check=_check_half(1.0, 0.0)),
    "LA": Case(_make_la, check=_check_la),
    "RGBA": Case(_make_rgba, check=_check_rgba),
    "palette": Case(_make_palette(None), check=_check_palette(None)),
    "palette-transparent": Case(_make_palette(2), check=_check_palette(2)),
    "rgb-colour-key": Case(_make_rgb_colour_key, check=_check_half((0, 0, 0), (1, 1, 1))),
    "gray-colour-key": Case(_make_gray_colour_key, check=_check_half(50 / 255, 1.0)),
    "cmyk-jpeg-cyan": Case(_make_mode("CMYK", (255, 0, 0, 0), "JPEG"), check=close((0, 1, 1), 0.02)),
    "cmyk-tiff-magenta": Case(_make_mode("CMYK", (0, 255, 0, 0)), check=close((1, 0, 1), 1e-6)),
    "ycbcr-tiff": Case(_make_mode("YCbCr", (76, 85, 255)), check=close((1, 0, 0), 0.02)),  # red
    "lab-tiff": Case(_make_mode("LAB", (138, 209, 198)), check=close((1, 0, 0), 0.05)),  # red
    "uint16-png": Case(_make_uint16("PNG"), check=_check_uint16),
    "uint16-tiff": Case(_make_uint16("TIFF"), check=_check_uint16),
    "uint16-bigendian-tiff": Case(_make_uint16("TIFF", ">u2"), check=_check_uint16),
    "int32-tiff": Case(_make_int32_tiff, check=lambda im: np.testing.assert_allclose(
        im[0, :3, 0], (1.0, 2**30 / (2**31 - 1), 0.0), atol=1e-6)),
    "float32-tiff": Case(_make_float_tiff([0.25, 1.2, -0.2, 0.123456]), check=_check_float_tiff),
    "float32-tiff-0-255": Case(_make_float_tiff([0.0, 128.0, 255.0]), reason="32-bit float file must hold pixels in [0, 1] (up to 0.5 past is clipped) or uint8 0–255; got values from 0 to 255. re-save it"),
    "float32-tiff-minus-one-one": Case(_make_float_tiff([-1.0, 1.0]), reason="got values from -1 to 1"),
    "animated-gif": Case(lambda p: animated("GIF"), check=_check_first_frame),
    "animated-webp": Case(lambda p: animated("WEBP"), check=_check_first_frame),
    "apng": Case(lambda p: animated("PNG"), check=_check_first_frame),
    "gif-transparent": Case(lambda p: encode(Image.new("P", (16, 16), 0), "GIF", transparency=0),
                            check=close(1.0, 1e-6)),
    "webp-lossless": Case(lambda p: encode(Image.fromarray(_NOISE), "WEBP", lossless=True), check=_exact),
    "bmp": Case(lambda p: encode(Image.fromarray(_NOISE), "BMP"), check=_exact),
    "tiff": Case(lambda p: encode(Image.fromarray(_NOISE), "TIFF"), check=_exact),
    "tiff-lzw": Case(lambda p: encode(Image.fromarray(_NOISE), "TIFF", compression="tiff_lzw"),
                     check=_exact),
    "ppm": Case(lambda p: encode(Image.fromarray(_NOISE), "PPM"), check=_exact),
    "ico": Case(lambda p: encode(Image.fromarray(_NOISE), "ICO", sizes=[(32, 32)]), check=_exact),
    "progressive-jpeg": Case(lambda p: encode(Image.new("RGB", (32, 32), (0, 255, 0)), "JPEG",
                                              progressive=True, quality=95),
                             check=close((0, 1, 0), 0.02)),
    "jpeg-bogus-exif": Case(_make_bogus_exif_jpeg, check=close((10 / 255, 200 / 255, 30 / 255), 0.02)),
    # --- other documents and containers named as images ------------------------------------
    "svg-named-png": Case(as_file("drawing.png", _SVG), reason="svg"),
    "svg-named-jpg": Case(as_file("logo.jpg", _SVG.split(b"\n", 1)[1]), reason="svg"),
    "html-named-png": Case(as_file("image.png", _HTML), reason="html"),
    "html-bytes": Case(as_bytes(_HTML), reason="html"),
    "pdf-named-png": Case(as_file("page.png", _PDF), reason="pdf"),
    "pdf-named-jpg": Case(as_file("scan.jpg", _PDF), reason="pdf"),
    "zip-named-png": Case(as_file("photos.png", _zip_of("a.png", _NOISE_PNG)), reason="not an image"),
    "gzip-of-png": Case(as_file("photo.png.png", __import__("gzip").compress(_NOISE_PNG)), reason="not an image"),
    "json-named-png": Case(as_file("data.png", b'{"image": "photo.png", "width": 64}'), reason="text file"),
    "text-named-jpg": Case(as_file("readme.jpg", b"Download the photo from the course page.\n"), reason="text file"),
    "empty-file-jpg": Case(as_file("empty.jpg", b""), reason="empty"),
    "nul-bytes": Case(as_file("zeros.png", b"\x00" * 4096), reason="not an image"),
    # --- wrong magic bytes ------------------------------------------------------------------
    "png-first-byte-wrong": Case(as_bytes(b"\x88" + _NOISE_PNG[1:]), reason="not an image"),
    "png-signature-then-garbage": Case(as_bytes(PNG_SIG + b"garbage!" * 50), reason="corrupt or truncated"),
    "jpeg-magic-then-garbage": Case(as_bytes(b"\xff\xd8\xff" + b"\x17" * 500), reason="corrupt or truncated"),
    "gif-magic-then-garbage": Case(as_bytes(b"GIF89a" + b"\x00" * 3), reason="corrupt or truncated"),
    "bmp-magic-then-garbage": Case(as_file("x.bmp", b"BM" + b"\x01" * 100), reason="corrupt or truncated"),
    "tiff-magic-then-garbage": Case(as_bytes(b"II*\x00" + b"\xff" * 100), reason="corrupt or truncated"),
    # --- truncated, each format -------------------------------------------------------------
    "ico-cut": Case(as_bytes(encode(Image.fromarray(_NOISE), "ICO", sizes=[(32, 32)])[:100]),
                    reason="corrupt or truncated"),
    "ppm-cut": Case(as_bytes(encode(Image.fromarray(_NOISE), "PPM")[:400]), reason="corrupt or truncated"),
    "apng-cut": Case(as_bytes(animated("PNG")[:90]), reason="corrupt or truncated"),
    "jpeg2000-cut": Case(as_bytes(encode(Image.fromarray(_NOISE), "JPEG2000")[:80]),
                         reason="corrupt or truncated"),
    # --- huge but valid: refused on the header, before any pixel is decoded ------------------
    "png-real-30000x30000": Case(lambda p: png_real_bomb(30_000), reason="bomb"),
    "png-real-30000x30000-limit-raised": Case(lambda p: png_real_bomb(30_000), kwargs={"max_pixels": 10**10},
                                              reason="decompression bomb guard"),
    "png-real-8000x8000": Case(lambda p: png_real_bomb(8000), reason="max_pixels"),  # under Pillow's limit
    "png-real-10000x10000-limit-raised": Case(lambda p: png_real_bomb(10_000), kwargs={"max_pixels": 10**10},
                                              reason="decompression bomb guard"),  # Pillow's warning
    "jpeg-header-65000x65000": Case(as_bytes(_with_jpeg_size(_JPEG, 65000, 65000)), reason="bomb"),
    "jpeg-header-9000x9000": Case(as_bytes(_with_jpeg_size(_JPEG, 9000, 9000)), reason="max_pixels"),
    "float-inf": Case(_make_float_tiff([0.5, np.inf]), reason="infinite"),
    "float-minus-inf": Case(_make_float_tiff([-np.inf]), reason="infinite"),
    # --- valid, 1 to 4 channels and odd modes: converted correctly ---------------------------
    "jpeg-named-png": Case(as_file("photo.png", encode(Image.new("RGB", (16, 16), (0, 255, 0)), "JPEG", quality=95)),
                           check=close((0, 1, 0), 0.02)),
    "png-named-jpg": Case(as_file("photo.jpg", _NOISE_PNG), check=_exact),
    "grayscale-jpeg": Case(_make_mode("L", 200, "JPEG"), check=close(200 / 255, 0.01)),
    "grayscale-bmp": Case(_make_mode_array("L", "BMP", 10, 250), check=_check_half(10 / 255, 250 / 255)),
    "1-bit-tiff": Case(_make_mode_array("1", "TIFF", 1, 0), check=_check_half(1.0, 0.0)),
    "1-bit-bmp": Case(_make_mode_array("1", "BMP", 0, 1), check=_check_half(0.0, 1.0)),
    "LA-tiff": Case(_make_mode_array("LA", "TIFF", (100, 255), (30, 0)), check=_check_half(100 / 255, 1.0)),
    "RGBA-tiff": Case(_make_mode_array("RGBA", "TIFF", (255, 0, 0, 255), (0, 0, 255, 0)),
                      check=_check_half((1, 0, 0), (1, 1, 1))),
    "RGBA-webp": Case(_make_mode_array("RGBA", "WEBP", (255, 0, 0, 255), (0, 0, 255, 0), lossless=True),
                      check=_check_half((1, 0, 0), (1, 1, 1))),
    "RGBA-bmp": Case(_make_mode_array("RGBA", "BMP", (255, 0, 0, 255), (0, 0, 255, 255)), check=_RGB_HALVES),
    "CMYK-jpeg-halves": Case(_make_mode_array("CMYK", "JPEG", (0, 255, 255, 0), (255, 255, 0, 0)),
                             check=_check_half((1, 0, 0), (0, 0, 1), atol=0.06)),
    "rgb16-png": Case(_make_rgb16_png(alpha=False), check=_check_half((1, 128 / 255, 0), (0, 0, 1))),
    "rgba16-png": Case(_make_rgb16_png(alpha=True), check=_check_half((1, 128 / 255, 0), (1, 1, 1))),
    "palette-bmp": Case(_make_palette(None, "BMP"), check=_check_palette(None)),
    "palette-transparent-gif": Case(_make_palette(1, "GIF"), check=_check_palette(1)),
    "palette-gif-halves": Case(lambda p: encode(Image.new("RGB", (16, 16), (0, 0, 255)).convert("P"), "GIF"),
                               check=close((0, 0, 1), 1e-6)),
    "float32-tiff-gray-ramp": Case(lambda p: encode(Image.fromarray(
        np.tile(np.linspace(0, 1, 16, dtype=np.float32), (16, 1)), "F"), "TIFF"),
        check=lambda im: np.testing.assert_allclose(im[3, :, 2], np.linspace(0, 1, 16), atol=1e-6)),
}


@pytest.mark.parametrize("case_id", list(CASES))
def test_catalogue(case_id, tmp_path):
    """Each odd input gives an ImageError naming it, or a correct conversion, in under a second."""
    case = CASES[case_id]
    if case_id == "fifo" and not _FIFO_OK or case_id == "dev-zero" and not Path("/dev/zero").exists():
        pytest.skip("needs a POSIX file system")
    source = case.make(tmp_path)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about e.g. corrupt EXIF; not under test here
        try:
            image = load_image(source, **(case.kwargs or {}))
            error = None
        except ImageError as err:
            error = err
    elapsed = time.perf_counter() - start
    assert elapsed < HANG_LIMIT_S, f"{case_id} took {elapsed:.2f} s"
    if case.check is None:
        assert error is not None, f"{case_id}: expected ImageError, got an image"
        message = str(error)
        name = f"<bytes, {len(source)} bytes>" if isinstance(source, bytes) else str(source)
        assert name in message
        assert case.reason in message.lower(), message
    else:
        assert error is None, f"{case_id}: {error}"
        assert image.dtype == np.float32 and image.ndim == 3 and image.shape[2] == 3
        assert 0.0 <= image.min() and image.max() <= 1.0
        case.check(image)


def test_catalogue_is_big_enough():
    assert len(CASES) >= 80 and sum(case.check is None for case in CASES.values()) >= 30


def test_image_error_is_a_value_error_and_reexported():
    assert imageio.ImageError is ImageError
    assert issubclass(ImageError, ArtlibError) and issubclass(ImageError, ValueError)
    assert set(imageio.__all__) >= {"load_image", "save_image", "ImageError", "augment"}


# The stored image's first row and first column end up, per the EXIF standard:
# orientation -> (where stored top-left lands, where stored top-right lands), displayed.
EXIF_CORNERS = {
    1: ("top-left", "top-right"), 2: ("top-right", "top-left"),
    3: ("bottom-right", "bottom-left"), 4: ("bottom-left", "bottom-right"),
    5: ("top-left", "bottom-left"), 6: ("top-right", "bottom-right"),
    7: ("bottom-right", "top-right"), 8: ("bottom-left", "top-left"),
}


def corner(image: np.ndarray, where: str) -> np.ndarray:
    rows = slice(0, 4) if where.startswith("top") else slice(-4, None)
    cols = slice(0, 4) if where.endswith("left") else slice(-4, None)
    return image[rows, cols].reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation(orientation):
    data = jpeg_with_exif_orientation(orientation)
    start = time.perf_counter()
    image = load_image(data)
    assert time.perf_counter() - start < HANG_LIMIT_S
    assert image.shape == ((32, 48, 3) if orientation <= 4 else (48, 32, 3))
    red_at, green_at = EXIF_CORNERS[orientation]
    np.testing.assert_allclose(corner(image, red_at), (1, 0, 0), atol=0.1)
    np.testing.assert_allclose(corner(image, green_at), (0, 1, 0), atol=0.1)


def test_exif_orientation_on_16_bit_png():
    array = np.zeros((16, 40), np.uint16)
    array[0, 0] = 65535
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise for display: top-left -> top-right
    image = load_image(encode(Image.fromarray(array), "PNG", exif=exif))
    assert image.shape == (40, 16, 3)
    assert image[0, -1, 0] == pytest.approx(1.0) and image[0, 0, 0] == 0.0


# ----------------------------------------------------------------------------- sources

def test_sources_path_str_bytes_file_object(tmp_path):
    path = tmp_path / "noise.png"
    path.write_bytes(_NOISE_PNG)
    for source in (path, str(path), _NOISE_PNG, bytearray(_NOISE_PNG), memoryview(_NOISE_PNG),
                   io.BytesIO(_NOISE_PNG)):
        _exact(load_image(source))
    with open(path, "rb") as f:
        _exact(load_image(f))


def test_file_object_error_names_the_file(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with open(path, "rb") as f, pytest.raises(ImageError, match="notes.png"):
        load_image(f)


def test_wrong_python_types_raise_type_error(tmp_path):
    with pytest.raises(TypeError, match="int"):
        load_image(42)
    with pytest.raises(TypeError, match="list"):
        load_image([1, 2, 3])
    path = tmp_path / "x.png"
    path.write_bytes(_NOISE_PNG)
    with open(path, encoding="latin-1") as text_file, pytest.raises(TypeError, match="binary"):
        load_image(text_file)


@pytest.mark.parametrize("kwargs, words", [
    ({"max_dim": 0}, "max_dim"), ({"max_dim": -5}, "max_dim"), ({"max_dim": 2.5}, "max_dim"),
    ({"min_dim": 0}, "min_dim"), ({"max_pixels": 0}, "max_pixels"), ({"max_bytes": -1}, "max_bytes"),
    ({"max_aspect": 0.0}, "max_aspect"), ({"max_bytes": 1.5e6 + 0.5}, "max_bytes"), ({"max_pixels": True}, "max_pixels"),
])
def test_bad_arguments_raise_an_artlib_error_naming_them(kwargs, words):
    with pytest.raises(ArtlibError, match=words) as info:
        load_image(_NOISE_PNG, **kwargs)
    assert repr(next(iter(kwargs.values()))) in str(info.value) and "\n" not in str(info.value)


def test_limits_written_as_floats_are_taken_as_whole_numbers(tmp_path):
    """``max_bytes=50e6`` (a float, whole) is 50,000,000 bytes: a file or a file object is read up to it."""
    path = tmp_path / "noise.png"
    path.write_bytes(_NOISE_PNG)
    for source in (path, io.BytesIO(_NOISE_PNG)):
        _exact(load_image(source, max_bytes=50e6, max_pixels=1e6, max_dim=64.0))


def test_pillow_global_state_is_untouched():
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters))
    for data in (png_header_only(100_000, 100_000), _NOISE_PNG[:300], png_header_only(8000, 8000)):
        with pytest.raises(ImageError):
            load_image(data)
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters)) == before


def test_pillow_bomb_warning_is_an_error_even_above_max_pixels():
    """Between Pillow's warning and error limits, raising max_pixels does not switch the guard off."""
    data = png_header_only(10_000, 10_000)  # 100 MP: over MAX_IMAGE_PIXELS (89 MP), under 2×
    assert Image.MAX_IMAGE_PIXELS < 10_000 * 10_000 < 2 * Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageError, match="decompression bomb guard"):
        load_image(data, max_pixels=10**9)


def test_a_real_bomb_is_refused_before_decoding_with_memory_bounded():
    """A valid 30,000² PNG (110 kB) would take 900 MB as 1-bit pixels and 10.8 GB as float RGB."""
    import resource

    data = png_real_bomb(30_000)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    for max_pixels in (imageio.DEFAULT_MAX_PIXELS, 10**10):  # artlib's limit, then Pillow's
        with pytest.raises(ImageError, match="30000×30000|900000000 pixels"):
            load_image(data, max_pixels=max_pixels)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 200, f"the peak memory grew by {grown_mib:.0f} MiB"


def test_a_large_valid_image_is_shrunk_by_max_dim():
    """4000×4000 (16 MP, under max_pixels) read with max_dim=256: the right size and pixels."""
    image = load_image(png_real_bomb(4000), max_dim=256)
    assert image.shape == (256, 256, 3) and image.dtype == np.float32
    np.testing.assert_array_equal(image, 0.0)


def test_unreadable_exif_keeps_the_picture(monkeypatch):
    def broken(*args, **kwargs):
        raise SyntaxError("bad EXIF IFD")

    monkeypatch.setattr(ImageOps, "exif_transpose", broken)
    with pytest.warns(UserWarning, match="EXIF"):
        image = load_image(_NOISE_PNG)
    _exact(image)


@pytest.fixture()
def http_root(tmp_path, monkeypatch):
    """Serve a folder on 127.0.0.1 from a thread; artlib online with its cache in tmp_path."""
    root = tmp_path / "www"
    root.mkdir()
    monkeypatch.setenv("ARTLIB_OFFLINE", "0")
    monkeypatch.setenv("ARTLIB_CACHE_DIR", str(tmp_path / "cache"))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_url_is_downloaded_once_and_cached(http_root, tmp_path):
    root, base = http_root
    (root / "noise.png").write_bytes(_NOISE_PNG)
    _exact(load_image(f"{base}/noise.png"))
    (root / "noise.png").unlink()  # the second load must come from the cache
    _exact(load_image(f"{base}/noise.png"))
    assert list((tmp_path / "cache" / "artlib" / "images").glob("*noise.png"))


def test_url_serving_html_names_the_url(http_root):
    root, base = http_root
    (root / "cat.jpg").write_bytes(b"<html><body>Sorry, hotlinking is not allowed</body></html>")
    with pytest.raises(ImageError, match=r"cat\.jpg.*html"):
        load_image(f"{base}/cat.jpg")


def test_url_larger_than_max_bytes(http_root):
    root, base = http_root
    (root / "noise.png").write_bytes(_NOISE_PNG)
    with pytest.raises(ImageError, match=r"noise\.png: .*(larger than|more than) the limit of 100\b.*Use a smaller image"):
        load_image(f"{base}/noise.png", max_bytes=100)


def test_a_full_cache_disk_is_its_own_error_not_a_bad_image(monkeypatch):
    """Only the size cap becomes an ImageError ("use a smaller image"); a disk that cannot take the download says so."""
    from artlib import net
    from artlib.errors import DiskFullError

    def full(*args, **kwargs):
        raise DiskFullError("no space left on device writing ~/.keras/artlib/images/cat.png")

    monkeypatch.setattr(net, "download", full)
    with pytest.raises(DiskFullError, match="no space left"):
        load_image("https://example.org/cat.png")


def test_url_offline_raises_without_opening_a_socket(monkeypatch):
    monkeypatch.setenv("ARTLIB_OFFLINE", "1")

    def no_socket(*args, **kwargs):
        raise AssertionError("a socket was opened in offline mode")

    monkeypatch.setattr(socket, "socket", no_socket)
    monkeypatch.setattr(socket, "create_connection", no_socket)
    with pytest.raises(OfflineError, match="ARTLIB_OFFLINE"):
        load_image("http://127.0.0.1:9/photo.png")


# ----------------------------------------------------------------------------- max_dim

def test_max_dim_shrinks_keeping_aspect():
    quadrants = np.zeros((300, 400, 3), np.uint8)
    quadrants[:150, :200] = RED
    quadrants[150:, 200:] = BLUE
    for fmt in ("PNG", "JPEG"):  # JPEG takes the draft (reduced DCT) route
        image = load_image(encode(Image.fromarray(quadrants), fmt, quality=95), max_dim=100)
        assert image.shape == (75, 100, 3)
        np.testing.assert_allclose(image[10, 10], (1, 0, 0), atol=0.05)
        np.testing.assert_allclose(image[-10, -10], (0, 0, 1), atol=0.05)
        np.testing.assert_allclose(image[10, -10], (0, 0, 0), atol=0.05)


def test_max_dim_never_enlarges_and_portrait_uses_height():
    assert load_image(_NOISE_PNG, max_dim=100).shape == (32, 32, 3)
    tall = encode(Image.new("RGB", (60, 240), GREEN), "PNG")
    assert load_image(tall, max_dim=120).shape == (120, 30, 3)


def test_max_dim_is_antialiased_and_keeps_16_bit_precision():
    checker = (np.indices((200, 200)).sum(axis=0) % 2 * 255).astype(np.uint8)  # 1-pixel checkerboard
    image = load_image(encode(Image.fromarray(checker), "PNG"), max_dim=50)
    assert image.shape == (50, 50, 3)
    np.testing.assert_allclose(image, 0.5, atol=0.02)  # aliasing would give stripes of 0 and 1
    flat = encode(Image.fromarray(np.full((64, 64), 32769, np.uint16)), "PNG")
    np.testing.assert_allclose(load_image(flat, max_dim=16), 32769 / 65535, atol=1e-6)


# ----------------------------------------------------------------------------- save_image

def test_save_png_round_trip_float_and_uint8(tmp_path):
    image = np.random.default_rng(2).random((20, 30, 3)).astype(np.float32)
    path = save_image(tmp_path / "a" / "b" / "out.png", image)  # parent folders are created
    assert path == tmp_path / "a" / "b" / "out.png"
    np.testing.assert_allclose(load_image(path), image, atol=0.5 / 255 + 1e-6)
    save_image(tmp_path / "u8.png", _NOISE)
    _exact(load_image(tmp_path / "u8.png"))


@pytest.mark.parametrize("ext, atol", [(".jpg", 0.05), (".jpeg", 0.05), (".webp", 0.05),
                                       (".bmp", 1e-6), (".tif", 1e-6), (".TIFF", 1e-6)])
def test_save_formats(tmp_path, ext, atol):
    image = np.zeros((32, 32, 3), np.float32)
    image[:, 16:] = (0.2, 0.6, 1.0)
    path = save_image(tmp_path / f"out{ext}", image, quality=95)
    expected = np.round(image * 255) / 255
    loaded = load_image(path)
    assert loaded.shape == (32, 32, 3)
    away_from_edge = np.r_[0:8, 24:32]  # lossy codecs ring at the colour edge
    np.testing.assert_allclose(loaded[:, away_from_edge], expected[:, away_from_edge], atol=atol)


def test_save_accepts_gray_batch_of_one_tensor_and_clips(tmp_path):
    gray = np.linspace(0, 1, 16 * 16).reshape(16, 16)
    for i, image in enumerate([gray, gray[..., None], gray[None, ..., None],
                               tf.constant(gray, tf.float32)]):
        loaded = load_image(save_image(tmp_path / f"g{i}.png", image))
        np.testing.assert_allclose(loaded[..., 0], gray, atol=0.5 / 255 + 1e-6)
    clipped = load_image(save_image(tmp_path / "c.png", np.full((16, 16, 3), [-0.5, 0.5, 1.5])))
    np.testing.assert_allclose(clipped[0, 0], (0, 128 / 255, 1), atol=1e-6)


@pytest.mark.parametrize("bad, words", [
    (np.zeros((2, 16, 16, 3)), "batch"),
    (np.zeros((16, 16, 2)), "shape"),
    (np.zeros((3, 16, 16)), "channels-first (c×h×w), as pytorch keeps images: pass np.moveaxis(image, -3, -1)"),
    (np.zeros((16, 16, 4)), "shape"),
    (np.zeros(16), "shape"),
    (np.zeros((0, 16, 3)), "shape"),
    (np.full((16, 16, 3), np.nan), "nan"),
    (np.full((16, 16), np.inf), "infinite"),
    (np.zeros((16, 16, 3), np.int32), "int32"),
    (np.full((16, 16, 3), 200.0), "(0–255 floats: divide by 255)"),  # was saved all white
    (np.linspace(-1, 1, 16 * 16).reshape(16, 16), "[-1, 1] pixels: pass (images + 1) / 2"),  # half of it clipped
])
def test_save_rejects_bad_images(tmp_path, bad, words):
    target = tmp_path / "out.png"
    with pytest.raises(ImageError, match="out.png") as info:
        save_image(target, bad)
    assert words in str(info.value).lower()
    assert not list(tmp_path.iterdir())  # nothing written


def test_save_rejects_unknown_extension(tmp_path):
    with pytest.raises(ImageError, match=r"\.xyz"):
        save_image(tmp_path / "out.xyz", np.zeros((16, 16, 3)))
    assert not list(tmp_path.iterdir())


def test_save_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "keep.png"
    save_image(target, _NOISE)
    original = target.read_bytes()
    real_save = Image.Image.save

    def failing_save(self, fp, *args, **kwargs):
        real_save(self, fp, *args, **kwargs)  # write a whole file, then die before the rename
        with open(fp, "ab") as f:
            f.write(b"partial")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="simulated"):
        save_image(target, np.zeros((16, 16, 3)))
    with pytest.raises(OSError, match="simulated"):
        save_image(tmp_path / "new.png", np.zeros((16, 16, 3)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]  # no temp, no partial file
    assert target.read_bytes() == original


def test_save_leaves_no_temp_files(tmp_path):
    for i in range(3):
        save_image(tmp_path / "same.png", np.full((16, 16, 3), i / 3))
    assert [p.name for p in tmp_path.iterdir()] == ["same.png"]


def test_save_rejects_a_quality_outside_1_to_100(tmp_path):
    for quality in (0, -10, 101, 9.5):
        with pytest.raises(ArtlibError, match=f"quality.*{quality}"):
            save_image(tmp_path / "out.jpg", np.zeros((16, 16, 3)), quality=quality)
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------- without TensorFlow

def test_loading_saving_and_batches_do_not_import_tensorflow(tmp_path):
    """The command line checks a user's images before it pays for TensorFlow's start-up."""
    source = tmp_path / "in.png"
    source.write_bytes(_NOISE_PNG)
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        import artlib.imageio
        image = artlib.imageio.load_image({str(source)!r})
        artlib.imageio.save_image({str(tmp_path / "out.png")!r}, image)
        assert artlib.imageio.as_batch(image[None]).shape == (1, 32, 32, 3)
        try:
            artlib.imageio.load_image(b"not an image")
        except artlib.imageio.ImageError:
            pass
        assert "tensorflow" not in sys.modules, "tensorflow was imported"
        assert "keras" not in sys.modules, "keras was imported"
        artlib.imageio.resize(image, (8, 8))  # the preprocessing helpers bring it in on first use
        assert "tensorflow" in sys.modules
    """)
    run_python("-c", code, check=True)
    np.testing.assert_array_equal(load_image(tmp_path / "out.png"), _NOISE / np.float32(255.0))


def test_every_public_name_resolves_and_the_helpers_stay_functions():
    import inspect

    assert all(getattr(imageio, name) is not None for name in imageio.__all__)
    assert set(dir(imageio)) >= set(imageio.__all__)
    assert inspect.getsource(imageio.augment).startswith("def augment(")  # notebook 01 shows it
    assert imageio.resize.__module__ == "artlib.imageio.preprocess"
    with pytest.raises(AttributeError, match="no_such_helper"):
        imageio.no_such_helper  # noqa: B018


# ----------------------------------------------------------------------------- as_batch

def test_as_batch_scales_uint8_and_adds_a_channel_axis():
    u8 = np.array([0, 51, 255], np.uint8).reshape(1, 1, 3)  # (N, H, W) = (1, 1, 3)
    batch = as_batch(u8)
    assert batch.shape == (1, 1, 3, 1) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[0, 0, :, 0], np.array([0, 51, 255], np.float32) / 255)
    kept = as_batch(u8, keep_uint8=True)
    assert kept.dtype == np.uint8 and kept.shape == (1, 1, 3, 1)
    np.testing.assert_array_equal(kept[..., 0], u8)
    floats = np.random.default_rng(8).random((2, 4, 4, 3))  # float64 in [0, 1]
    out = as_batch(floats, keep_uint8=True)  # keep_uint8 changes nothing for floats
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, floats.astype(np.float32))
    assert tf.is_tensor(tf.constant(floats)) and as_batch(tf.constant(floats)).shape == (2, 4, 4, 3)


def test_one_colour_image_is_not_taken_for_a_batch_of_gray_ones():
    from artlib import data

    photo = np.random.default_rng(9).random((16, 20, 3)).astype(np.float32)
    for call in (lambda x: as_batch(x), lambda x: as_batch(x, name="photo", shape=(20, 3)),
                 lambda x: data.make_dataset(x)):
        for one in (photo, np.concatenate([photo, photo[..., :1]], -1)):  # RGB, RGBA
            with pytest.raises(ImageError, match=r"of shape \(16, 20, \d\) looks like one colour image, not a "
                                                 r"batch of gray ones \d pixels wide: pass image\[None\]"):
                call(one)
    assert as_batch(photo[None]).shape == (1, 16, 20, 3)
    assert as_batch(np.zeros((2, 4, 4), np.float32)).shape == (2, 4, 4, 1)  # tiny gray images are still gray


def test_as_batch_tolerance_clips_only_what_it_allows():
    images = np.array([-0.01, 0.5, 1.02], np.float32).reshape(1, 1, 3, 1)
    with pytest.raises(ImageError, match="from -0.01 to 1.02"):
        as_batch(images)
    np.testing.assert_array_equal(as_batch(images, tolerance=0.05)[0, 0, :, 0], [0.0, 0.5, 1.0])
    with pytest.raises(ImageError, match="1.02"):
        as_batch(images, tolerance=0.01)
    exact = np.array([0.0, 1.0], np.float32).reshape(1, 1, 2, 1)
    assert as_batch(exact, tolerance=0.1).tolist() == exact.tolist()


@pytest.mark.parametrize("images, kwargs, words", [
    (np.zeros((0, 28, 28)), {}, "non-empty batch"),
    (np.zeros((28, 28)), {}, "shape (28, 28)"),
    (np.zeros((1, 2, 28, 28, 1)), {}, "shape (N, H, W, C); got shape (1, 2, 28, 28, 1). "
                                      "A grayscale batch (N, H, W) is accepted too."),
    (np.zeros((2, 32, 32)), {"shape": (28, 28)}, "28×28 images, shape (N, 28, 28, C); got shape (2, 32, 32). "
                                                 "A grayscale batch (N, 28, 28) is accepted too."),
    (np.zeros((2, 28, 28, 3)), {"shape": (28, 28), "channels": 1}, "shape (N, 28, 28, 1); got shape (2, 28, 28, 3). "
                                                                   "A grayscale batch (N, 28, 28) is accepted too."),
    (np.zeros((2, 3, 32, 32)), {"channels": 3}, "got shape (2, 3, 32, 32). It looks channels-first (N, C, H, W), "
                                                "as PyTorch keeps images: pass np.moveaxis(images, 1, -1)."),
    (np.zeros((2, 1, 28, 28)), {"shape": (28, 28)}, "is accepted too. It looks channels-first"),
    (np.zeros((2, 8, 8), bool), {}, "dtype bool"),
    (np.zeros((2, 8, 8), np.complex64), {}, "dtype complex64"),
    (np.array([[["a"]]]), {}, "dtype <U1"),
    (np.full((2, 8, 8), np.nan), {}, "NaN or infinite"),
    (np.full((2, 8, 8), -np.inf), {}, "NaN or infinite"),
    (np.full((2, 8, 8), -0.5), {}, "(images + 1) / 2"),
    (np.full((2, 8, 8), 255.0), {}, "Pass uint8 images"),
])
def test_as_batch_errors_name_the_input_and_the_fix(images, kwargs, words):
    with pytest.raises(ImageError) as info:
        as_batch(images, name="training images", **kwargs)
    message = str(info.value)
    assert message.startswith("training images ") and words in message and "\n" not in message


def test_as_batch_offers_grayscale_only_where_it_accepts_it():
    with pytest.raises(ImageError) as info:
        as_batch(np.zeros((2, 8, 8, 1)), channels=3)
    assert str(info.value) == "images must be a non-empty batch of images, shape (N, H, W, 3); got shape (2, 8, 8, 1)"
    with pytest.raises(ImageError, match=r"got shape \(2, 8, 8\)$"):
        as_batch(np.zeros((2, 8, 8)), channels=3)  # gray gets one channel, not three
    for channels in (None, 1):  # what the message offers is accepted
        assert as_batch(np.zeros((2, 8, 8)), channels=channels).shape == (2, 8, 8, 1)


@pytest.mark.parametrize("kwargs, words", [
    ({"shape": (28,)}, "shape"), ({"shape": (0, 28)}, "shape"), ({"channels": 0}, "channels"),
    ({"tolerance": -0.1}, "tolerance"),
    ({"shape": 28}, "shape must be two positive sizes \\(H, W\\); got 28"),  # not a TypeError from tuple()
    ({"shape": "ab"}, "shape must be two positive sizes"), ({"shape": (28.5, 28)}, "shape must be a positive integer"),
    ({"channels": "3"}, "channels must be a positive integer; got '3'"), ({"channels": 1.5}, "channels.*1.5"),
    ({"tolerance": "x"}, "tolerance must be a number ≥ 0; got 'x'"), ({"tolerance": float("nan")}, "tolerance"),
])
def test_as_batch_rejects_bad_arguments(kwargs, words):
    with pytest.raises(ArtlibError, match=words):
        as_batch(np.zeros((1, 28, 28)), **kwargs)


# ----------------------------------------------------------------------------- preprocessing

def test_to_float_and_to_uint8():
    u8 = np.array([[0, 128, 255]], np.uint8)
    np.testing.assert_allclose(imageio.to_float(u8), [[0, 128 / 255, 1]], atol=1e-7)
    assert imageio.to_float(u8).dtype == np.float32
    floats = np.array([0.25, 0.5], np.float64)
    np.testing.assert_array_equal(imageio.to_float(floats), floats)  # floats pass through
    np.testing.assert_allclose(imageio.to_float(np.array([65535], np.uint16)), [1.0])
    np.testing.assert_array_equal(imageio.to_uint8(np.array([-1.0, 0.0, 0.5, 1.0, 2.0])),
                                  [0, 0, 128, 255, 255])
    np.testing.assert_array_equal(imageio.to_uint8(u8), u8)
    assert imageio.to_uint8(imageio.to_float(_NOISE)).tolist() == _NOISE.tolist()
    with pytest.raises(ImageError, match="int64"):
        imageio.to_float(np.array([1, 2], np.int64))
    with pytest.raises(ImageError, match="NaN"):
        imageio.to_uint8(np.array([np.nan]))


def test_numpy_in_numpy_out_tensor_in_tensor_out():
    assert isinstance(imageio.to_float(_NOISE), np.ndarray)
    assert tf.is_tensor(imageio.to_float(tf.constant(_NOISE)))
    assert tf.is_tensor(imageio.center_crop(tf.constant(_NOISE), 8))
    assert isinstance(imageio.augment(_NOISE, seed=1), np.ndarray)


def test_minus_one_one_round_trip():
    images = np.random.default_rng(3).random((2, 8, 8, 3)).astype(np.float32)
    scaled = imageio.to_minus_one_one(images)
    assert scaled.min() >= -1 and scaled.max() <= 1
    np.testing.assert_allclose(scaled, images * 2 - 1, atol=1e-6)
    np.testing.assert_allclose(imageio.from_minus_one_one(scaled), images, atol=1e-6)
    np.testing.assert_array_equal(imageio.from_minus_one_one(np.array([-3.0, 3.0])), [0.0, 1.0])
    np.testing.assert_allclose(imageio.to_minus_one_one(np.array([0, 255], np.uint8)), [-1, 1])


def test_resize_and_resize_max_dim():
    image = np.random.default_rng(4).random((30, 40, 3)).astype(np.float32)
    assert imageio.resize(image, (10, 20)).shape == (10, 20, 3)
    assert imageio.resize_max_dim(image, 20).shape == (15, 20, 3)  # aspect kept
    assert imageio.resize_max_dim(image, 80).shape == (60, 80, 3)  # enlarges too
    assert imageio.resize_max_dim(image.transpose(1, 0, 2), 20).shape == (20, 15, 3)
    assert imageio.resize_max_dim(np.stack([image] * 2), 20).shape == (2, 15, 20, 3)  # batch
    u8 = (image * 255).astype(np.uint8)
    out = imageio.resize_max_dim(u8, 20)  # uint8 in, float32 in [0, 1] out, like the float route
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, imageio.resize_max_dim(u8 / np.float32(255), 20), atol=1e-6)
    flat = imageio.resize(np.full((30, 40, 3), 0.7, np.float32), (7, 9))
    np.testing.assert_allclose(flat, 0.7, atol=1e-6)


def test_resize_max_dim_inside_tf_function():
    @tf.function(input_signature=[tf.TensorSpec((None, None, 3), tf.float32)])
    def shrink(image):
        return imageio.resize_max_dim(image, 16)

    assert shrink(tf.zeros((20, 40, 3))).shape == (8, 16, 3)
    assert shrink(tf.zeros((41, 7, 3))).shape == (16, 3, 3)  # 7 × 16/41 = 2.7 -> 3


def test_center_crop():
    image = np.arange(6 * 8).reshape(6, 8, 1)
    crop = imageio.center_crop(image, (2, 4))
    np.testing.assert_array_equal(crop[..., 0], [[18, 19, 20, 21], [26, 27, 28, 29]])
    assert imageio.center_crop(image, 4).shape == (4, 4, 1)
    assert imageio.center_crop(np.stack([image] * 3), 4).shape == (3, 4, 4, 1)
    with pytest.raises(ImageError, match="6×8"):
        imageio.center_crop(image, (7, 4))


@pytest.mark.parametrize("call", [
    lambda x: imageio.resize(x, (0, 8)),
    lambda x: imageio.resize_max_dim(x, 0),
    lambda x: imageio.resize_max_dim(x, "16"),  # not a TypeError from the comparison
    lambda x: imageio.resize_max_dim(x, float("inf")),
    lambda x: imageio.center_crop(x, -1),
    lambda x: imageio.random_crop(x, 0, seed=1),
    lambda x: imageio.augment(x, seed=1, crop_fraction=0.0),
    lambda x: imageio.augment(x, seed=1, crop_fraction=1.5),
    lambda x: imageio.resize(x, 8.5),
    lambda x: imageio.resize(x, (8,)),
    lambda x: imageio.resize(x, "8"),
    lambda x: imageio.center_crop(x, (8, None)),
])
def test_preprocessing_rejects_sizes_of_zero_or_below(call):
    with pytest.raises(ArtlibError, match=r"must be|must be in"):
        call(np.zeros((16, 16, 3), np.float32))


@pytest.mark.parametrize("call", [imageio.to_float, imageio.to_uint8, imageio.to_minus_one_one,
                                  lambda x: imageio.resize(x, 8), lambda x: imageio.center_crop(x, 8)])
@pytest.mark.parametrize("not_pixels", [None, "photo.png", [[1, 2], [3]]])
def test_what_holds_no_pixels_is_an_image_error_naming_its_type(call, not_pixels):
    with pytest.raises(ImageError, match="expected pixels .*got (NoneType|str|list)"):
        call(not_pixels)
    assert imageio.resize(np.zeros((16, 16, 3)), 8.0).shape == (8, 8, 3)  # a whole float is a side


def test_random_crop_is_deterministic_per_seed():
    image = np.random.default_rng(5).random((32, 32, 3)).astype(np.float32)
    a = imageio.random_crop(image, (16, 12), seed=1)
    assert a.shape == (16, 12, 3)
    np.testing.assert_array_equal(a, imageio.random_crop(image, (16, 12), seed=1))
    np.testing.assert_array_equal(a, imageio.random_crop(image, (16, 12), seed=(1, 0)))
    crops = [imageio.random_crop(image, 16, seed=s) for s in range(5)]
    assert any(not np.array_equal(crops[0], c) for c in crops[1:])
    assert any(np.array_equal(a, image[i:i + 16, j:j + 12]) for i in range(17) for j in range(21))
    with pytest.raises(ImageError):
        imageio.random_crop(image, 40, seed=1)
    for bad in ((1, 2, 3), None, 1.5, "1"):  # the damage models' seed check: one shared stateless_seed
        with pytest.raises(ValueError, match="seed must be an integer or two integers"):
            imageio.random_crop(image, 8, seed=bad)
    with pytest.raises(ValueError, match="seed must be an integer or two integers"):
        imageio.augment(image, seed=None)


def test_augment_is_deterministic_and_stays_in_range():
    image = np.random.default_rng(6).random((32, 32, 3)).astype(np.float32)
    a = imageio.augment(image, seed=(3, 4))
    assert a.shape == image.shape and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, imageio.augment(image, seed=(3, 4)))
    outputs = [imageio.augment(image, seed=s) for s in range(6)]
    assert all(not np.array_equal(image, o) for o in outputs)  # always shifted/zoomed
    assert any(not np.array_equal(outputs[0], o) for o in outputs[1:])
    flips_only = [imageio.augment(image, seed=s, crop_fraction=1.0) for s in range(8)]
    flipped = [np.allclose(o, image[:, ::-1], atol=1e-6) for o in flips_only]
    kept = [np.allclose(o, image, atol=1e-6) for o in flips_only]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    gray = imageio.augment(np.full((32, 32, 3), 0.3, np.float32), seed=9)
    np.testing.assert_allclose(gray, 0.3, atol=1e-6)
    assert imageio.augment(np.stack([image] * 2), seed=1).shape == (2, 32, 32, 3)


def test_helpers_in_a_tf_data_pipeline():
    """Inside tf.data the shapes are unknown until run time: the helpers still work."""
    images = np.random.default_rng(7).random((3, 24, 20, 3)).astype(np.float32)
    seeds = np.array([[0, 1], [0, 2], [0, 3]], np.int64)

    def prepare(image, seed):
        image = imageio.augment(image, seed)  # H×W×3
        return imageio.center_crop(imageio.random_crop(image, 16, seed), (8, 12))  # 8×12×3

    dataset = tf.data.Dataset.from_tensor_slices((images, seeds)).map(prepare)
    first = [x.numpy() for x in dataset]
    second = [x.numpy() for x in dataset]
    assert [x.shape for x in first] == [(8, 12, 3)] * 3
    np.testing.assert_array_equal(first, second)  # stateless: the same every epoch

    # Static shapes: caught while tracing (autograph re-wraps the ImageError as a StagingError).
    with pytest.raises(Exception, match="cannot center-crop 30×30.*24×20"):
        tf.data.Dataset.from_tensor_slices(images).map(lambda x: imageio.center_crop(x, 30))
    unknown = tf.data.Dataset.from_generator(lambda: iter(images),
                                             output_signature=tf.TensorSpec((None, None, 3)))
    assert list(unknown.map(lambda x: imageio.center_crop(x, 8)))[0].shape == (8, 8, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="smaller"):
        list(unknown.map(lambda x: imageio.center_crop(x, 30)))  # caught when it runs
