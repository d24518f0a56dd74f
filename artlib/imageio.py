"""Load and save images safely, and the preprocessing steps the course teaches.

Pixels are float32 in [0, 1] unless a name says [-1, 1] (``to_minus_one_one``).

* ``load_image`` reads a path, bytes, a binary file object or an http(s) URL
  and always returns an H×W×3 float32 array in [0, 1]: grayscale, 1-bit,
  palette, transparency (composited on white), CMYK, YCbCr, LAB, 16-bit and
  32-bit float images are converted, EXIF rotation is applied, and animations
  give their first frame. Anything it cannot use raises ``ImageError`` with a
  message that names the input, the reason and what to do. Sizes are checked
  on the header before any pixel is decoded, so a bad file fails fast.
* ``save_image`` writes atomically: the file appears complete or not at all.
* The helpers (``resize``, ``center_crop``, ``random_crop``, ``augment`` …)
  take a NumPy array or a ``tf.Tensor`` (also inside ``tf.data`` pipelines)
  and give back the same kind: NumPy in, NumPy out; tensor in, tensor out.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from artlib import config, net  # noqa: F401  config first: it sets KERAS_BACKEND, quiets TF
from artlib.atomic import atomic_path
from artlib.errors import ImageError, OfflineError

import tensorflow as tf  # noqa: E402  (after artlib.config, which sets TF's log level)

__all__ = [
    "ImageError",
    "load_image",
    "as_batch",
    "save_image",
    "resize_max_dim",
    "resize",
    "center_crop",
    "random_crop",
    "to_float",
    "to_uint8",
    "to_minus_one_one",
    "from_minus_one_one",
    "augment",
]

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]

DEFAULT_MAX_PIXELS = 50_000_000  # 50 megapixels: more than any phone photo
DEFAULT_MAX_BYTES = 100 * 1024 * 1024  # 100 MiB
DEFAULT_MAX_ASPECT = 50.0  # long side / short side
#: Formats load_image reads. Not TGA (no signature: random bytes can pass as one) nor
#: EPS/PDF (Ghostscript); anything else Pillow knows is reported as unsupported.
READ_FORMATS = ("PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "TIFF", "ICO", "PPM", "JPEG2000", "AVIF")
#: File extension -> Pillow format for save_image.
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP",
                ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}
_SIGNATURES = [(b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"),
               (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
               (b"%PDF", "PDF")]
_HIGH_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}


# ----------------------------------------------------------------------------- loading

def load_image(
    source: ImageSource,
    max_dim: int | None = None,
    *,
    min_dim: int = 16,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_aspect: float = DEFAULT_MAX_ASPECT,
) -> np.ndarray:
    """Read an image into an H×W×3 float32 array with pixels in [0, 1].

    Conversions: grayscale and 1-bit are repeated into three channels;
    transparency (RGBA, LA, PA, palette or colour-key transparency) is
    composited on white; palette, CMYK, YCbCr, LAB and HSV become RGB; 16-bit
    grayscale is divided by 65535 without passing through 8 bits (32-bit
    integer data above 65535 is divided by 2**31 - 1); 32-bit float images
    (mode ``F``) are taken as already in [0, 1] and clipped, NaN/Inf rejected.
    The EXIF orientation is applied (all 8 values) and an animated GIF, WebP or
    APNG gives its first frame. Pillow reads 16-bit colour PNGs as 8-bit RGB, and
    embedded ICC colour profiles are not applied.

    Args:
        source: A path (``str`` or ``os.PathLike``), the file's ``bytes``, a binary
            file object, or an ``http(s)://`` URL (downloaded once through
            ``artlib.net.download`` into the cache folder ``artlib/images``).
        max_dim: If given, shrink (never enlarge) so the long side is at most
            ``max_dim`` pixels, keeping the aspect ratio, with antialiasing.
        min_dim: Smallest short side accepted, in pixels (before ``max_dim``).
        max_pixels: Largest width × height accepted, checked on the header before
            decoding (a "decompression bomb" guard). Pillow's own limit
            (``PIL.Image.MAX_IMAGE_PIXELS``, read but never changed) also applies.
        max_bytes: Largest file accepted, in bytes.
        max_aspect: Largest ratio of long side to short side accepted.

    Returns:
        ``np.ndarray`` of shape (height, width, 3), dtype float32, values in [0, 1].

    Raises:
        ImageError: The input is missing, empty, not an image, in an unsupported
            format, corrupt, truncated, too large, too small or absurdly shaped.
            The message names the input (path, URL or ``<bytes, N bytes>``).
        OfflineError: ``source`` is a URL and ``ARTLIB_OFFLINE=1`` (or the server is
            unreachable).
        TypeError: ``source`` is not one of the kinds above (e.g. an ``int``, or a
            file opened in text mode): a programming mistake, not a bad image.
        ValueError: ``max_dim`` or ``min_dim`` is not a positive integer.

    Example:
        >>> image = load_image("photo.jpg", max_dim=512)  # doctest: +SKIP
        >>> image.shape, image.dtype                      # doctest: +SKIP
        ((384, 512, 3), dtype('float32'))
    """
    if max_dim is not None and (not isinstance(max_dim, (int, np.integer)) or max_dim < 1):
        raise ValueError(f"max_dim must be a positive integer or None, not {max_dim!r}")
    if not isinstance(min_dim, (int, np.integer)) or min_dim < 1:
        raise ValueError(f"min_dim must be a positive integer, not {min_dim!r}")
    data, name = _read_source(source, max_bytes)
    return _decode(data, name, None if max_dim is None else int(max_dim), min_dim=int(min_dim),
                   max_pixels=max_pixels, max_aspect=max_aspect)


def _read_source(source: ImageSource, max_bytes: int) -> tuple[bytes, str]:
    """Return the raw bytes of ``source`` (at most ``max_bytes``) and a name for messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = f"<bytes, {len(data)} bytes>"
    elif net.is_url(source):
        try:
            path = net.download(source, cache_subdir="artlib/images", max_bytes=max_bytes)
        except OfflineError:
            raise
        except ValueError as err:  # larger than max_bytes
            raise ImageError(f"Cannot load image {source}: {err}. Use a smaller image.") from err
        data, _ = _read_path(path, max_bytes)
        name = f"{source} (cached as {path}; delete that file to download it again)"
    elif isinstance(source, (str, os.PathLike)):
        return _read_path(Path(source).expanduser(), max_bytes)
    elif hasattr(source, "read"):
        name = f"<file {getattr(source, 'name', 'object')!r}>"
        data = source.read(max_bytes + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"load_image needs a file opened in binary mode ('rb'); {name} gave "
                            f"{type(data).__name__}")
        data = bytes(data)
    else:
        raise TypeError(f"load_image takes a path, bytes, a binary file object or an http(s) "
                        f"URL, not {type(source).__name__} ({source!r:.60})")
    if len(data) > max_bytes:
        raise ImageError(f"Cannot load image {name}: it is larger than max_bytes={max_bytes:,}. "
                         "Use a smaller file or raise max_bytes.")
    if not data:
        raise ImageError(f"Cannot load image {name}: it is empty (0 bytes). "
                         "Check that it was saved or downloaded completely.")
    return data, name


def _read_path(path: Path, max_bytes: int) -> tuple[bytes, str]:
    name = f"'{path}'"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageError(f"Cannot load image {name}: no such file. Check the path "
                         f"(the current folder is '{Path.cwd()}').") from None
    except OSError as err:
        raise ImageError(f"Cannot load image {name}: {err.strerror or err}.") from err
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"Cannot load image {name}: it is a directory; give the path of an "
                         "image file inside it.")
    if not stat.S_ISREG(info.st_mode):  # a pipe or a device could block or never end
        raise ImageError(f"Cannot load image {name}: not a regular file.")
    if info.st_size > max_bytes:
        raise ImageError(f"Cannot load image {name}: it is {info.st_size:,} bytes, more than "
                         f"max_bytes={max_bytes:,}. Use a smaller file or raise max_bytes.")
    if info.st_size == 0:
        raise ImageError(f"Cannot load image {name}: the file is empty (0 bytes). "
                         "Check that it was saved or downloaded completely.")
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)  # + 1: notice a file that grew since stat()
    except OSError as err:
        raise ImageError(f"Cannot load image {name}: {err.strerror or err}.") from err
    if len(data) > max_bytes:
        raise ImageError(f"Cannot load image {name}: it is larger than max_bytes={max_bytes:,}.")
    return data, name


def _decode(data: bytes, name: str, max_dim: int | None, *, min_dim: int, max_pixels: int,
            max_aspect: float) -> np.ndarray:
    """Check the header, decode the first frame, convert to H×W×3 float32 in [0, 1]."""
    fail = f"Cannot load image {name}:"
    Image.init()  # register Pillow's plugins so READ_FORMATS can be filtered
    formats = [f for f in READ_FORMATS if f in Image.OPEN]
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; treat both as errors,
    # locally: catch_warnings restores the warning filters on exit.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=formats) as im:
                _check_size(im.size, fail, min_dim, max_pixels, max_aspect)
                if max_dim is not None and max(im.size) > max_dim:
                    im.draft(None, _fit(im.size, max_dim))  # JPEG: decode at 1/2, 1/4, 1/8 size
                im.load()
                _apply_exif_orientation(im, name)
                canonical, scale = _canonical(im, fail)
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            raise ImageError(f"{fail} it is too large to decode safely (Pillow's decompression "
                             f"bomb guard: {err}). "
                             "Use a smaller image.") from None
        except UnidentifiedImageError:
            raise ImageError(f"{fail} {_what_is_it(data)}") from None
        except MemoryError:
            raise ImageError(f"{fail} not enough memory to decode it. Use a smaller image.") from None
        except Exception as err:  # noqa: BLE001  Pillow's decoders raise many kinds
            raise ImageError(f"{fail} the file is corrupt or truncated ({type(err).__name__}: "
                             f"{err}). Re-download or re-export it.") from err
    if max_dim is not None and max(canonical.size) > max_dim:
        # LANCZOS in Pillow widens its kernel when shrinking: antialiased.
        canonical = canonical.resize(_fit(canonical.size, max_dim), Image.Resampling.LANCZOS)
    return _to_float_rgb(canonical, scale, fail)


def _check_size(size: tuple[int, int], fail: str, min_dim: int, max_pixels: int,
                max_aspect: float) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageError(f"{fail} its header says {width}×{height} = {width * height:,} pixels, "
                         f"more than max_pixels={max_pixels:,} (a decompression bomb?). "
                         "Use a smaller image or raise max_pixels.")
    if min(size) < 1 or max(size) / min(size) > max_aspect:
        raise ImageError(f"{fail} its shape {width}×{height} is absurd (aspect ratio over "
                         f"{max_aspect:g}:1). Crop it, or raise max_aspect.")
    if min(size) < min_dim:
        raise ImageError(f"{fail} it is {width}×{height}, smaller than min_dim={min_dim} pixels "
                         "on the short side. Use a larger image.")


def _fit(size: tuple[int, int], max_dim: int) -> tuple[int, int]:
    """(width, height) scaled so the long side is ``max_dim``."""
    scale = max_dim / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _apply_exif_orientation(im: Image.Image, name: str) -> None:
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except Exception as err:  # noqa: BLE001  unreadable EXIF must not lose a good picture
        warnings.warn(f"{name}: ignoring unreadable EXIF data ({err}); orientation not applied.",
                      stacklevel=4)


def _canonical(im: Image.Image, fail: str) -> tuple[Image.Image, float]:
    """Convert to RGB, RGBA or F (one high-precision gray channel) and the divisor for F."""
    if im.mode in _HIGH_BIT_MODES:
        gray = im.convert("F")  # a copy even for F; integers below 2**24 stay exact
        scale = 1.0
        if im.mode != "F":
            high = gray.getextrema()[1]
            scale = 65535.0 if high <= 65535 else float(2**31 - 1)
        return gray, scale
    # Alpha channel, palette with alpha, or a "transparency" colour key in im.info.
    try:
        return im.convert("RGBA" if im.has_transparency_data else "RGB"), 255.0
    except ValueError as err:
        raise ImageError(f"{fail} its colour mode {im.mode!r} is not supported ({err}). "
                         "Re-save it as RGB PNG or JPEG.") from err


def _to_float_rgb(im: Image.Image, scale: float, fail: str) -> np.ndarray:
    array = np.asarray(im, dtype=np.float32) / np.float32(scale)
    if im.mode == "F":
        if not np.isfinite(array).all():
            raise ImageError(f"{fail} it holds NaN or infinite values. Fix the data that made it.")
        array = np.repeat(np.clip(array, 0.0, 1.0)[:, :, None], 3, axis=2)  # H×W -> H×W×3
    elif im.mode == "RGBA":
        rgb, alpha = array[..., :3], array[..., 3:]
        array = rgb * alpha + (1.0 - alpha)  # composite on white
    return np.ascontiguousarray(np.clip(array, 0.0, 1.0), dtype=np.float32)


def _what_is_it(data: bytes) -> str:
    """Why Pillow could not identify ``data``, for the error message."""
    signature = next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        signature = "WebP"
    if signature == "PDF":
        return "it is a PDF document, not an image. Export the page as PNG."
    if signature:
        return (f"it starts like a {signature} file but its header cannot be read: the file is "
                "corrupt or truncated. Re-download or re-export it.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:  # header only: nothing is decoded
                found = im.format
    except Exception:  # noqa: BLE001
        found = None
    if found:
        return (f"it is in {found} format, which load_image does not read "
                f"(it reads {', '.join(READ_FORMATS)}). Convert it to PNG or JPEG.")
    head = data[:512].lstrip().lower()
    if head.startswith(b"<"):
        hint = "it is text (HTML or XML: an error page instead of an image? an SVG?), not an image"
    elif all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        hint = "it is a text file, not an image"
    else:
        hint = "it is not an image file Pillow can read (unknown format or garbage)"
    return f"{hint}. Check that the path or URL points at a PNG, JPEG, GIF, WebP, BMP or TIFF."


# ----------------------------------------------------------------------------- batches of images
def as_batch(images: Any, *, name: str = "images", shape: Sequence[int] | None = None,
             channels: int | None = None, keep_uint8: bool = False, tolerance: float = 0.0) -> np.ndarray:
    """The one check for a batch of images passed to the Python API: float32 ``(N, H, W, C)`` in [0, 1].

    ``(N, H, W)`` gets a channel axis; uint8 is scaled from 0–255 (or kept as uint8 with
    ``keep_uint8``, which saves memory for a large training set).

    Args:
        images: uint8 (0–255) or float pixels in [0, 1], shaped ``(N, H, W)`` or ``(N, H, W, C)``.
        name: What to call the input in an error message.
        shape: The required ``(H, W)``, e.g. ``(28, 28)`` for Fashion-MNIST models.
        channels: The required ``C``.
        keep_uint8: Return uint8 input as uint8 (still ``(N, H, W, C)``).
        tolerance: Floats may overshoot [0, 1] by this much (then they are clipped).

    Returns:
        float32 ``(N, H, W, C)`` in [0, 1] (uint8 with ``keep_uint8`` and uint8 input).

    Raises:
        ImageError: An empty batch, another rank, shape or channel count, a dtype that is not
            uint8 or float, NaN or infinite pixels, or floats outside [0, 1] (the message names
            the input and says what to pass instead).
    """
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[..., np.newaxis]  # (N, H, W) -> (N, H, W, 1)
    wanted = f"{tuple(shape)[0]}×{tuple(shape)[1]} " if shape is not None else ""
    if array.ndim != 4 or len(array) == 0 or (shape is not None and array.shape[1:3] != tuple(shape)) or (
            channels is not None and array.shape[-1] != channels):
        form = f"(N, {', '.join(map(str, shape))}{', ' + str(channels) if channels else ''})" if shape else \
            "(N, H, W) or (N, H, W, C)"
        raise ImageError(f"{name} must be a non-empty batch of {wanted}images, shape {form}; "
                         f"got shape {np.shape(images)}")
    if array.dtype == np.uint8:
        return array if keep_uint8 else array.astype(np.float32) / 255.0
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype,
                                                                                         np.complexfloating):
        raise ImageError(f"{name} must hold uint8 (0–255) or float pixels in [0, 1]; got dtype {array.dtype}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ImageError(f"{name} holds NaN or infinite pixels; pixels must be in [0, 1] (or uint8 0–255)")
    low, high = float(array.min()), float(array.max())
    if low < -tolerance or high > 1 + tolerance:
        hint = (" They look like [-1, 1] pixels: pass (images + 1) / 2." if low < 0 and high <= 1 + tolerance
                else " Pass uint8 images, or floats scaled to [0, 1].")
        raise ImageError(f"{name} must hold pixels in [0, 1] (or uint8 0–255); got values from {low:.3g} to "
                         f"{high:.3g}.{hint}")
    return np.clip(array, 0.0, 1.0) if tolerance else array


# ----------------------------------------------------------------------------- saving

def save_image(path: str | os.PathLike, image: Any, *, quality: int = 95) -> Path:
    """Write an image file atomically; the format comes from the extension.

    Args:
        path: Where to write; ``.png``, ``.jpg``/``.jpeg``, ``.webp``, ``.bmp`` or
            ``.tif``/``.tiff``. Missing parent folders are created. An existing file
            is replaced only once the new one is complete.
        image: Float pixels in [0, 1] (clipped) or uint8 pixels, shaped H×W, H×W×1 or
            H×W×3, or a batch of one (1×H×W×C); NumPy array or ``tf.Tensor``.
        quality: JPEG/WebP quality, 1..100.

    Returns:
        The ``Path`` written.

    Raises:
        ImageError: Unknown extension, wrong shape or dtype, or NaN/Inf pixels.

    Example:
        >>> save_image("out/gray.png", np.full((32, 32), 0.5))  # doctest: +SKIP
        PosixPath('out/gray.png')
    """
    path = Path(path).expanduser()
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"Cannot save image '{path}': unknown extension {path.suffix!r}; "
                         f"use one of {', '.join(sorted(SAVE_FORMATS))}.")
    pixels = _to_uint8_pixels(image, f"Cannot save image '{path}':")
    pil = Image.fromarray(pixels)  # H×W -> "L", H×W×3 -> "RGB"
    options = {"JPEG": {"quality": quality}, "WEBP": {"quality": quality}}.get(fmt, {})
    with atomic_path(path) as tmp:  # a temp file beside it, renamed onto it when complete
        pil.save(tmp, format=fmt, **options)
    return path


def _to_uint8_pixels(image: Any, fail: str) -> np.ndarray:
    """Validate and convert to a uint8 H×W or H×W×3 array."""
    if hasattr(image, "numpy"):  # tf.Tensor, without needing TF to be imported first
        image = image.numpy()
    array = np.asarray(image)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]  # 1×H×W×C -> H×W×C
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]  # H×W×1 -> H×W
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] != 3) or array.size == 0:
        raise ImageError(f"{fail} shape {array.shape} is not an image; expected H×W, H×W×1, "
                         "H×W×3 or a batch of one (1×H×W×C). Save a batch one image at a time.")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if not (np.issubdtype(array.dtype, np.floating) or array.dtype == bool):
        raise ImageError(f"{fail} dtype {array.dtype} is ambiguous; give floats in [0, 1] or "
                         "uint8 in 0..255 (see to_float / to_uint8).")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        bad = int(np.size(array) - np.isfinite(array).sum())
        raise ImageError(f"{fail} {bad} pixel value(s) are NaN or infinite. Check the model output.")
    return np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)


# ----------------------------------------------------------------------------- preprocessing

def _like(result: tf.Tensor, original: Any) -> Any:
    """NumPy in, NumPy out; tensor in, tensor out."""
    return result if tf.is_tensor(original) else result.numpy()


def _float_tensor(images: Any) -> tf.Tensor:
    images = images if tf.is_tensor(images) else tf.convert_to_tensor(np.asarray(images))
    dtype = images.dtype
    if dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    if dtype == tf.uint16:
        return tf.cast(images, tf.float32) / 65535.0
    if dtype.is_floating or dtype == tf.bool:
        return tf.cast(images, tf.float32)
    raise ImageError(f"pixels of dtype {dtype.name} are ambiguous; use floats in [0, 1] or "
                     "uint8 in 0..255.")


def _height_width(images: tf.Tensor) -> tuple[Any, Any]:
    """Static (height, width) where known, else scalar tensors (inside tf.function)."""
    if images.shape.rank is not None and images.shape.rank < 3:
        raise ImageError(f"expected an H×W×C image or an N×H×W×C batch, got shape {images.shape}")
    dynamic = tf.shape(images)
    h, w = images.shape[-3], images.shape[-2]
    return (dynamic[-3] if h is None else h), (dynamic[-2] if w is None else w)


def _size_pair(size: int | Sequence[int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, not {size!r}")
    return int(h), int(w)


def _check_crop(images: tf.Tensor, h: int, w: int, what: str) -> None:
    height, width = _height_width(images)
    if isinstance(height, int) and isinstance(width, int):
        if h > height or w > width:
            raise ImageError(f"cannot {what} {h}×{w} (height×width) from an image of "
                             f"{height}×{width}; use a smaller size or resize first.")
    else:  # shapes known only when the graph runs (tf.function, tf.data)
        tf.debugging.assert_less_equal(tf.constant([h, w]), tf.stack([height, width]),
                                       message=f"cannot {what} {h}×{w}: the image is smaller")


def _seed_pair(seed: int | Sequence[int]) -> tf.Tensor:
    """An int, or a pair of ints, as the shape-(2,) seed the stateless ops take."""
    if isinstance(seed, (int, np.integer)):
        seed = [int(seed), 0]
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    if seed.shape != (2,):
        raise ValueError(f"seed must be an int or a pair of ints, not shape {seed.shape}")
    return seed


def to_float(images: Any) -> Any:
    """uint8 pixels 0..255 -> float32 in [0, 1]; floats pass through (as float32).

    Also: uint16 is divided by 65535, bool becomes 0.0/1.0.

    Raises:
        ImageError: other integer dtypes (is ``255`` white or out of range?).

    Example:
        >>> to_float(np.array([0, 255], np.uint8))
        array([0., 1.], dtype=float32)
    """
    return _like(_float_tensor(images), images)


def to_uint8(images: Any) -> Any:
    """Float pixels in [0, 1] -> uint8 0..255 (clipped, rounded); uint8 passes through.

    Raises:
        ImageError: NaN or infinite values (checked when running eagerly).

    Example:
        >>> to_uint8(np.array([0.0, 0.5, 1.2]))
        array([  0, 128, 255], dtype=uint8)
    """
    x = _float_tensor(images)
    if tf.executing_eagerly() and not bool(tf.reduce_all(tf.math.is_finite(x))):
        raise ImageError("cannot convert to uint8: the pixels hold NaN or infinite values")
    return _like(tf.cast(tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0), tf.uint8), images)


def to_minus_one_one(images: Any) -> Any:
    """Pixels in [0, 1] (or uint8) -> float32 in [-1, 1], the range a tanh output has.

    Example:
        >>> to_minus_one_one(np.array([0.0, 0.5, 1.0]))
        array([-1.,  0.,  1.], dtype=float32)
    """
    return _like(_float_tensor(images) * 2.0 - 1.0, images)


def from_minus_one_one(images: Any) -> Any:
    """Pixels in [-1, 1] -> float32 in [0, 1], clipped (undoes ``to_minus_one_one``).

    Example:
        >>> from_minus_one_one(np.array([-1.5, 0.0, 1.0]))
        array([0. , 0.5, 1. ], dtype=float32)
    """
    x = (_float_tensor(images) + 1.0) / 2.0
    return _like(tf.clip_by_value(x, 0.0, 1.0), images)


def resize(image: Any, size: Sequence[int]) -> Any:
    """Resize to exactly (height, width), antialiased (the aspect ratio may change).

    Args:
        image: H×W×C image or N×H×W×C batch; uint8 or float pixels.
        size: (height, width) in pixels.

    Returns:
        float32 pixels in [0, 1], shape (height, width, C) (or N×height×width×C).

    Example:
        >>> resize(np.zeros((40, 60, 3)), (20, 20)).shape
        (20, 20, 3)
    """
    height, width = _size_pair(size)
    x = _float_tensor(image)
    _height_width(x)  # rank check
    x = tf.image.resize(x, (height, width), method="bilinear", antialias=True)
    return _like(tf.clip_by_value(x, 0.0, 1.0), image)


def resize_max_dim(image: Any, max_dim: int) -> Any:
    """Resize so the long side is exactly ``max_dim``, keeping the aspect ratio.

    Unlike ``load_image(..., max_dim=)``, this also enlarges a smaller image.

    Args:
        image: H×W×C image or N×H×W×C batch; uint8 or float pixels.
        max_dim: Long side of the result in pixels.

    Returns:
        float32 pixels in [0, 1]; e.g. 300×400×3 with max_dim=200 -> 150×200×3.

    Example:
        >>> resize_max_dim(np.zeros((300, 400, 3)), 200).shape
        (150, 200, 3)
    """
    if max_dim < 1:
        raise ValueError(f"max_dim must be positive, not {max_dim!r}")
    x = _float_tensor(image)
    height, width = _height_width(x)
    if isinstance(height, int) and isinstance(width, int):  # static shape: static result shape
        new_hw = _fit((height, width), max_dim)
    else:
        scale = tf.cast(max_dim, tf.float64) / tf.cast(tf.maximum(height, width), tf.float64)
        new_hw = tf.maximum(tf.cast(tf.round(tf.cast([height, width], tf.float64) * scale),
                                    tf.int32), 1)
    x = tf.image.resize(x, new_hw, method="bilinear", antialias=True)
    return _like(tf.clip_by_value(x, 0.0, 1.0), image)


def center_crop(image: Any, size: int | Sequence[int]) -> Any:
    """Cut the central ``size`` window out of an image (or every image of a batch).

    Args:
        image: H×W×C image or N×H×W×C batch (dtype kept).
        size: An int for a square, or (height, width).

    Returns:
        Shape (height, width, C) (or N×height×width×C).

    Raises:
        ImageError: ``size`` is larger than the image.

    Example:
        >>> center_crop(np.zeros((40, 60, 3)), 32).shape
        (32, 32, 3)
    """
    h, w = _size_pair(size)
    x = image if tf.is_tensor(image) else tf.convert_to_tensor(np.asarray(image))
    _check_crop(x, h, w, "center-crop")
    height, width = _height_width(x)
    top, left = (height - h) // 2, (width - w) // 2
    return _like(x[..., top:top + h, left:left + w, :], image)  # ...×h×w×C


def random_crop(image: Any, size: int | Sequence[int], seed: int | Sequence[int]) -> Any:
    """Cut a random ``size`` window; the same seed always gives the same window.

    Args:
        image: H×W×C image (a batch N×H×W×C gets the same window for all images).
        size: An int for a square, or (height, width).
        seed: An int or a pair of ints (``tf.image.stateless_random_crop``'s seed).

    Returns:
        Shape (height, width, C) (or N×height×width×C), dtype kept.

    Raises:
        ImageError: ``size`` is larger than the image.

    Example:
        >>> random_crop(np.zeros((40, 60, 3)), (20, 30), seed=7).shape
        (20, 30, 3)
    """
    h, w = _size_pair(size)
    x = image if tf.is_tensor(image) else tf.convert_to_tensor(np.asarray(image))
    _check_crop(x, h, w, "random-crop")
    shape = tf.shape(x)
    crop_shape = tf.concat([shape[:-3], [h, w], shape[-1:]], axis=0)  # [N,] h, w, C
    return _like(tf.image.stateless_random_crop(x, crop_shape, seed=_seed_pair(seed)), image)


def augment(image: Any, seed: int | Sequence[int], *, crop_fraction: float = 0.9) -> Any:
    """Random horizontal flip plus a small random crop resized back: a shifted, zoomed view.

    Stateless: the same image and seed always give the same result; pass a new
    seed (e.g. ``(epoch, step)``) for a new variation.

    Args:
        image: H×W×C image (an N×H×W×C batch flips per image, crops all alike).
        seed: An int or a pair of ints.
        crop_fraction: Side of the crop as a fraction of the image side (0, 1].

    Returns:
        float32 pixels in [0, 1], same shape as ``image``.

    Example:
        >>> augment(np.zeros((32, 32, 3)), seed=(1, 2)).shape
        (32, 32, 3)
    """
    if not 0.0 < crop_fraction <= 1.0:
        raise ValueError(f"crop_fraction must be in (0, 1], not {crop_fraction!r}")
    x = _float_tensor(image)
    height, width = _height_width(x)
    flip_seed, crop_seed = tf.unstack(tf.random.experimental.stateless_split(_seed_pair(seed), 2))
    x = tf.image.stateless_random_flip_left_right(x, seed=flip_seed)
    hw = tf.cast([height, width], tf.float32)
    crop_hw = tf.maximum(tf.cast(tf.round(hw * crop_fraction), tf.int32), 1)
    shape = tf.shape(x)
    x = tf.image.stateless_random_crop(x, tf.concat([shape[:-3], crop_hw, shape[-1:]], 0),
                                       seed=crop_seed)  # [N,] ch×cw×C
    x = tf.image.resize(x, tf.stack([height, width]), method="bilinear", antialias=True)
    return _like(tf.clip_by_value(x, 0.0, 1.0), image)  # back to [N,] H×W×C
