"""Read an image file, bytes, file object or URL into float32 H×W×3 pixels in [0, 1] (NumPy + Pillow, no TensorFlow).

``load_image`` converts every mode Pillow decodes (grayscale, 1-bit, palette, transparency composited on
white, CMYK, YCbCr, LAB, 16-bit and 32-bit float), applies the EXIF rotation and takes the first frame of
an animation. Sizes are checked on the header before any pixel is decoded, so a bad file fails fast;
anything it cannot use raises ``ImageError`` naming the input, the reason and what to do.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from artlib import net
from artlib.checks import positive_float, positive_int
from artlib.errors import ArtlibError, ImageError, OfflineError, WriteError
from artlib.imageio.batch import float_pixels

__all__ = ["ImageSource", "DEFAULT_MAX_PIXELS", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_ASPECT", "READ_FORMATS",
           "load_image", "fit_size"]

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]

DEFAULT_MAX_PIXELS = 50_000_000  # 50 megapixels: more than any phone photo
DEFAULT_MAX_BYTES = 100 * 1024 * 1024  # 100 MiB
DEFAULT_MAX_ASPECT = 50.0  # long side / short side
#: Formats load_image reads. Not TGA (no signature: random bytes can pass as one) nor
#: EPS/PDF (Ghostscript); anything else Pillow knows is reported as unsupported.
READ_FORMATS = ("PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "TIFF", "ICO", "PPM", "JPEG2000", "AVIF")
_SIGNATURES = [(b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"),
               (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
               (b"%PDF", "PDF")]
_HIGH_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}


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
    (mode ``F``) are taken as already in [0, 1] and clipped (NaN, Inf and values
    beyond −0.5 or 1.5, another scale, rejected, as :func:`save_image` rejects them).
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
        ArtlibError: ``max_dim``, ``min_dim``, ``max_pixels`` or ``max_bytes`` is not a positive whole
            number (``50e6`` is one), or ``max_aspect`` is not positive (a ``ValueError`` like every artlib error).

    Example:
        >>> image = load_image("photo.jpg", max_dim=512)  # doctest: +SKIP
        >>> image.shape, image.dtype                      # doctest: +SKIP
        ((384, 512, 3), dtype('float32'))
    """
    max_dim = None if max_dim is None else positive_int(max_dim, "max_dim")
    min_dim, max_pixels = positive_int(min_dim, "min_dim"), positive_int(max_pixels, "max_pixels")
    max_bytes, max_aspect = positive_int(max_bytes, "max_bytes"), positive_float(max_aspect, "max_aspect")
    data, name = _read_source(source, max_bytes)  # max_bytes an int: file.read(max_bytes + 1) needs one
    return _decode(data, name, max_dim, min_dim=min_dim, max_pixels=max_pixels, max_aspect=max_aspect)


def _read_source(source: ImageSource, max_bytes: int) -> tuple[bytes, str]:
    """Return the raw bytes of ``source`` (at most ``max_bytes``) and a name for messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = f"<bytes, {len(data)} bytes>"
    elif net.is_url(source):
        try:
            path = net.download(source, cache_subdir="artlib/images", max_bytes=max_bytes)
        except (OfflineError, WriteError):  # the network, or the cache's disk: their own messages say what to do
            raise
        except ArtlibError as err:  # larger than max_bytes
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
                    im.draft(None, fit_size(im.size, max_dim))  # JPEG: decode at 1/2, 1/4, 1/8 size
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
        canonical = canonical.resize(fit_size(canonical.size, max_dim), Image.Resampling.LANCZOS)
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


def fit_size(size: tuple[int, int], max_dim: int) -> tuple[int, int]:
    """Scale a pair of sides so that the longer one is ``max_dim``, keeping the aspect ratio.

    Args:
        size: Two sides in pixels, e.g. Pillow's (width, height) or an array's (height, width).
        max_dim: The new long side in pixels.

    Returns:
        The two new sides in the same order, each rounded and at least 1.
    """
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
    if im.mode == "F":  # the check of every float image artlib takes: of another scale, clipping would paint it
        array = float_pixels(array, f"{fail} the 32-bit float file", tolerance=0.5,  # black and white
                             fix="Re-save it scaled to [0, 1], or as 8- or 16-bit.")
        array = np.repeat(array[:, :, None], 3, axis=2)  # H×W -> H×W×3
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
