"""The content set: training photos (samples, files, folders, URLs, arrays) and seeded ``ContentBatches`` of crops."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from artlib import data, imageio, net
from artlib.errors import ArtlibError, DataError, ImageError
from artlib.checks import positive_int, seed_value
from artlib.style.inputs import as_image

__all__ = ["TRAIN_PHOTOS", "EVAL_PHOTOS", "OPENCV_DOC", "IMAGE_SUFFIXES", "image_files", "default_content",
           "load_content_photos", "ContentBatches"]

#: Content photos for training (scikit-image, offline); the held-out ones, :data:`artlib.data.HELD_OUT_PHOTOS`,
#: are for evaluation.
EVAL_PHOTOS = data.HELD_OUT_PHOTOS
TRAIN_PHOTOS = tuple(p for p in data.SAMPLE_PHOTOS if p not in EVAL_PHOTOS)
#: The content source that names the colour photos of Debian's ``opencv-doc`` (:data:`artlib.data.OPENCV_DOC_PHOTOS`).
OPENCV_DOC = "opencv-doc"
#: The file name endings read as images in a folder.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def image_files(folder: Path) -> list[Path]:
    """The image files directly inside ``folder`` (by :data:`IMAGE_SUFFIXES`), sorted by name.

    Args:
        folder: The folder to list (not recursively).

    Returns:
        The paths, sorted.
    """
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def default_content(*, verbose: bool = True) -> tuple[str, ...]:
    """The content photos a training uses when given none: scikit-image's, and opencv-doc's where installed.

    scikit-image's ten training photos are few, and six of them are grey; the 23 colour photos of
    Debian's ``opencv-doc`` (fruit, animals, people, streets) teach a network more of the colours and
    subjects it will meet. Measured on the held-out photos (``data/README.md``): the waves network's
    style-distance ratio to optimization went from 1.14 / 2.00 to 0.97 / 1.69 on chelsea / coffee with them.

    Args:
        verbose: Print one line saying which photos, and how to add opencv-doc's where they are missing.

    Returns:
        :data:`TRAIN_PHOTOS`, followed by :data:`OPENCV_DOC` if its photos are installed.
    """
    found = data.has_opencv_doc_photos()
    if verbose:
        print(f"fast-style: content photos: scikit-image's {len(TRAIN_PHOTOS)}"
              + (f" and Debian opencv-doc's {len(data.OPENCV_DOC_PHOTOS)} ({data.OPENCV_DOC_DIR})" if found else
                 f" only (Debian's opencv-doc is not installed; `sudo apt install opencv-doc` adds "
                 f"{len(data.OPENCV_DOC_PHOTOS)} colour photos, which the shipped waves network trained on)"))
    return TRAIN_PHOTOS + ((OPENCV_DOC,) if found else ())


def load_content_photos(sources: Sequence[str | Path | np.ndarray] | None = None, *,
                        max_dim: int = 512) -> list[np.ndarray]:
    """Content photos to train on: scikit-image sample names, files, folders, http(s) URLs or arrays.

    Args:
        sources: Each a name in :data:`artlib.data.SAMPLE_PHOTOS`, :data:`OPENCV_DOC` (the colour
            photos of Debian's ``opencv-doc``), an image file, a folder of images (read
            non-recursively), a URL (downloaded once through :mod:`artlib.net`; online only), or an
            ``H×W×3`` or gray array (uint8, or floats in [0, 1]). Default: :data:`TRAIN_PHOTOS`, which need no network.
        max_dim: Long side of each photo after loading (a larger one is shrunk, a smaller one kept, as
            :func:`artlib.imageio.load_image` does).

    Returns:
        float32 ``H×W×3`` photos in [0, 1].

    Raises:
        ArtlibError: ``max_dim`` is not a positive integer, or a source of another type.
        ImageError: a bad image file or array (the message names which photo).
        DataError: a folder without images, opencv-doc's photos missing, or no photos at all.
        OfflineError: a URL while offline.
    """
    max_dim = positive_int(max_dim, "max_dim")
    photos: list[np.ndarray] = []
    for index, source in enumerate(TRAIN_PHOTOS if sources is None else sources):
        if isinstance(source, np.ndarray):
            photo = as_image(source, name=f"content photo {index}")  # gray and uint8 converted, as files are
            photos.append(photo if max(photo.shape[:2]) <= max_dim else imageio.resize_max_dim(photo, max_dim))
        elif not isinstance(source, (str, os.PathLike)):
            raise ArtlibError(f"content photo {index} must be a sample name, a path, a URL or an H×W×3 array, "
                              f"not {type(source).__name__}")
        elif isinstance(source, str) and source in data.SAMPLE_PHOTOS:
            photos.append(data.load_sample_photo(source, max_dim=max_dim))
        elif isinstance(source, str) and source == OPENCV_DOC:
            photos += [imageio.load_image(f, max_dim=max_dim) for f in data.opencv_doc_photo_paths()]
        elif net.is_url(source):
            photos.append(imageio.load_image(net.download(str(source)), max_dim=max_dim))
        elif Path(source).is_dir():
            files = image_files(Path(source))
            if not files:
                raise DataError(f"content folder '{source}' holds no images (.png, .jpg, …)")
            photos += [imageio.load_image(f, max_dim=max_dim) for f in files]
        else:
            photos.append(imageio.load_image(source, max_dim=max_dim))
    if not photos:
        raise DataError("no content photos to train on; give sample names, files, folders or URLs")
    return photos


class ContentBatches(Sequence):
    """One epoch of content batches: random crops of random photos, zoomed and flipped.

    Batch ``i`` of epoch ``e`` depends only on ``(seed, e, i)``, so an epoch is the same
    every time it is built (what :func:`artlib.training.train_loop` needs to resume exactly).

    Args:
        photos: ``H×W×3`` photos in [0, 1] (see :func:`load_content_photos`).
        image_size: Side of the square crops.
        batch_size: Crops per batch.
        steps_per_epoch: Batches per epoch.
        seed: Fixes everything.
        epoch: Which epoch.

    Items are float32 ``batch_size×image_size×image_size×3`` arrays in [0, 1].

    Raises:
        ArtlibError: ``image_size``, ``batch_size`` or ``steps_per_epoch`` is not a positive integer.
        ImageError: no photos, or a photo shorter than half of ``image_size``.
    """

    def __init__(self, photos: Sequence[np.ndarray], image_size: int, batch_size: int, *,
                 steps_per_epoch: int = 100, seed: int = 0, epoch: int = 0):
        seed = seed_value(seed)
        self.image_size = positive_int(image_size, "image_size")
        self.batch_size = positive_int(batch_size, "batch_size")
        self.steps_per_epoch = positive_int(steps_per_epoch, "steps_per_epoch")
        self.photos, self.seed, self.epoch = list(photos), int(seed), int(epoch)
        if not self.photos:
            raise ImageError("ContentBatches needs at least one content photo; got none")
        small = [p.shape[:2] for p in self.photos if min(p.shape[:2]) < self.image_size // 2]
        if small:
            raise ImageError(f"content photos of sizes {small} are too small for {image_size}-pixel crops")

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, self.epoch, index])
        crops = []
        for _ in range(self.batch_size):
            photo = self.photos[rng.integers(len(self.photos))]
            side = int(min(photo.shape[:2]) * rng.uniform(0.5, 1.0))  # zoom: half to all of the short side
            crop = imageio.random_crop(photo, side, seed=tuple(int(s) for s in rng.integers(0, 2**31, 2)))
            crop = np.asarray(imageio.resize(crop, (self.image_size, self.image_size)))
            crops.append(crop[:, ::-1] if rng.random() < 0.5 else crop)  # random horizontal flip
        return np.stack(crops).astype(np.float32)  # batch_size×S×S×3
