"""A user's images as Fashion-MNIST-like 28×28 grayscale arrays: image files or ``.npz`` arrays (no TensorFlow).

Fashion-MNIST shows a light garment, centred, on a black background. A photo is made to
look like that: read by :func:`artlib.imageio.load_image` (any format it reads), turned to
grayscale (ITU-R 601 luma), padded to a square with the median of its border (so the
background continues), shrunk to 28×28, and inverted on request (a dark garment on a light
background). An ``.npz`` file holds an array ``images``, ``(N, 28, 28[, 1])``, uint8 or in [0, 1].
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from artlib.errors import ArtlibError, ImageError
from artlib.imageio import as_batch, load_image

__all__ = ["SIDE", "fashion_like", "read_inputs"]

#: Fashion-MNIST's side in pixels.
SIDE = 28
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def fashion_like(image: np.ndarray, *, invert: bool = False) -> np.ndarray:
    """One image as a Fashion-MNIST-sized grayscale image.

    Args:
        image: H×W×3 (as ``load_image`` returns), H×W×1 or H×W; float pixels in [0, 1] or uint8 (0–255).
        invert: Swap dark and light (for a dark garment on a light background).

    Returns:
        float32 ``(28, 28)`` in [0, 1].

    Raises:
        ImageError: Not such an image (another shape or channel count, another dtype, pixels outside [0, 1]).
    """
    array = np.asarray(image)
    pixels = as_batch(array[np.newaxis], name="image")[0]  # (H, W, C) float32 in [0, 1]; uint8 scaled
    if pixels.shape[-1] not in (1, 3):
        raise ImageError(f"image must be H×W×3, H×W×1 or H×W (grayscale); got shape {array.shape}")
    gray = pixels[..., 0] if pixels.shape[-1] == 1 else pixels @ _LUMA  # (H, W)
    height, width = gray.shape
    side = max(height, width)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    square = np.full((side, side), np.median(border), np.float32)
    top, left = (side - height) // 2, (side - width) // 2
    square[top:top + height, left:left + width] = gray
    small = np.asarray(Image.fromarray(square).resize((SIDE, SIDE), Image.Resampling.BOX), np.float32)
    small = np.clip(small, 0.0, 1.0)
    return 1.0 - small if invert else small


def read_inputs(paths: Sequence[str | Path], *, invert: bool = False) -> tuple[np.ndarray, list[str]]:
    """Read image files and ``.npz`` arrays into one batch, and a name for each image.

    Args:
        paths: Image files (any format ``artlib.imageio`` reads) or ``.npz`` files with ``images``
            (or one such file, not in a list).
        invert: Invert the image files (not the ``.npz`` arrays, which are taken as they are).

    Returns:
        ``(images, names)``: float32 ``(N, 28, 28)`` in [0, 1], and the file's stem for each image
        (``stem-000``, ``stem-001`` … for the images of an ``.npz``).

    Raises:
        ArtlibError: No paths.
        ImageError: An unreadable file, an ``.npz`` without ``images`` or with images that are not
            28×28 grayscale pixels in [0, 1] (or uint8); the message names the file.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)  # one file, not its letters
    if not paths:
        raise ArtlibError("no inputs: give image files or .npz files with an array 'images'")
    images, names = [], []
    for path in map(Path, paths):
        if path.suffix.lower() == ".npz":
            if path.is_file() and not zipfile.is_zipfile(path):  # else NumPy takes it for a pickle and says so
                raise ImageError(f"{path} is not a .npz file: it is not a zip archive, as np.savez writes")
            try:
                with np.load(path, allow_pickle=False) as archive:
                    array = archive["images"]
            except KeyError:
                raise ImageError(f"{path} holds no array named 'images'; save one with "
                                 "np.savez(path, images=images)") from None
            except (OSError, ValueError) as err:
                raise ImageError(f"{path} is not a readable .npz file ({err})") from err
            batch = as_batch(array, name=f"{path}'s images", shape=(SIDE, SIDE), channels=1)[..., 0]  # (N, 28, 28)
            images.extend(batch)
            names.extend(f"{path.stem}-{i:03d}" for i in range(len(batch)))
        else:
            images.append(fashion_like(load_image(path), invert=invert))
            names.append(path.stem)
    return np.stack(images).astype(np.float32), names
