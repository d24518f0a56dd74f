"""Datasets and where they come from: Fashion-MNIST, sample photos, ``tf.data`` pipelines.

Fashion-MNIST (Xiao, Rasul & Vollgraf 2017; 28×28 grayscale, 10 classes, MIT
licence) is looked for in this order, and the first complete copy wins:

1. ``path=`` given by the caller, else the folder in ``ARTLIB_DATA_DIR`` (either must hold the files);
2. the Keras cache, ``~/.keras/datasets/fashion-mnist`` (what ``keras.datasets`` downloaded before);
3. the Debian package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``);
4. a download of the four files ``keras.datasets`` fetches, from the same address, into the Keras
   cache (so 2. finds them next time): each capped in size and checked against the sha256 of its
   contents before it is kept; skipped when ``ARTLIB_OFFLINE=1``;
5. the subset shipped with artlib (``artlib.config.SHIPPED_DIR / "fashion-mnist-subset"``: the
   repository's ``data/`` folder, installed as package data; 6,000 training and 1,000 test images,
   balanced over the classes).

Every source holds the four original idx files (``train-images-idx3-ubyte.gz`` …).
A folder that holds some of them but not all, or a file that is truncated or
corrupt, raises :class:`~artlib.errors.DataError` naming the file: never a silent
fallback to a smaller dataset.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artlib import config, imageio, net
from artlib.checks import positive_int, seed_value
from artlib.errors import ArtlibError, DataError

__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "Source",
    "FashionMNIST",
    "default_sources",
    "load_fashion_mnist",
    "describe_fashion_mnist_source",
    "SAMPLE_PHOTOS",
    "HELD_OUT_PHOTOS",
    "load_sample_photo",
    "OPENCV_DOC_DIR",
    "OPENCV_DOC_PHOTOS",
    "opencv_doc_photo_paths",
    "has_opencv_doc_photos",
    "PAINTINGS",
    "PAINTINGS_DIR",
    "painting_path",
    "load_painting",
    "style_name",
    "make_dataset",
    "find_vgg19_weights",
]

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
#: Where ``keras.datasets.fashion_mnist`` downloads the four files from.
FASHION_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
#: The sha256 of each file's contents, ungzipped (copies differ in their gzip headers, not in their contents).
FASHION_MNIST_SHA256 = {
    "x_train": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "y_train": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "x_test": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "y_test": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
#: The largest download accepted per file (the training images are 26.4 MB).
FASHION_MNIST_MAX_BYTES = 40_000_000
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
#: The shipped subset: in the checkout's ``data/`` folder, or the installed package's own copy.
SHIPPED_DIR = config.SHIPPED_DIR / "fashion-mnist-subset"


@dataclass(frozen=True)
class Source:
    """One place Fashion-MNIST may come from.

    Attributes:
        name: ``"path"``, ``"ARTLIB_DATA_DIR"``, ``"keras-cache"``, ``"debian"``,
            ``"download"`` or ``"shipped-subset"``.
        folder: Folder holding the four idx ``.gz`` files (None for ``"download"``).
    """

    name: str
    folder: Path | None = None

    def __str__(self) -> str:
        labels = {
            "path": "the folder given",
            "ARTLIB_DATA_DIR": "ARTLIB_DATA_DIR",
            "keras-cache": "the Keras cache",
            "debian": "the Debian package dataset-fashion-mnist",
            "download": "a download (the files keras.datasets fetches, checked)",
            "shipped-subset": "the subset shipped with artlib",
        }
        where = f" ({self.folder})" if self.folder else ""
        return labels.get(self.name, self.name) + where


class FashionMNIST(tuple):
    """``((x_train, y_train), (x_test, y_test))`` like ``keras.datasets``, plus where it came from.

    Unpacks exactly like the Keras tuple; ``.source`` is the :class:`Source` used.
    Images are uint8 ``N×28×28``, labels uint8 ``N`` in 0..9.
    """

    source: Source

    def __new__(cls, train, test, source: Source):
        obj = super().__new__(cls, (train, test))
        obj.source = source
        return obj

    def __repr__(self) -> str:
        (x_train, _), (x_test, _) = self
        return f"FashionMNIST({len(x_train)} train, {len(x_test)} test, from {self.source})"


def default_sources(path: str | Path | None = None) -> list[Source]:
    """The search order described in the module docstring, for this machine and settings."""
    sources = []
    if path is not None:
        sources.append(Source("path", Path(path).expanduser()))
    elif config.data_dir() is not None:
        sources.append(Source("ARTLIB_DATA_DIR", config.data_dir()))
    sources.append(Source("keras-cache", config.cache_dir() / "datasets" / "fashion-mnist"))
    sources.append(Source("debian", DEBIAN_DIR))
    if not config.is_offline():
        sources.append(Source("download"))
    sources.append(Source("shipped-subset", SHIPPED_DIR))
    return sources


#: The sources a user names: one that holds no Fashion-MNIST is an error (a typo), not a reason to look elsewhere.
_NAMED_BY_THE_USER = ("path", "ARTLIB_DATA_DIR")


def _complete(source: Source) -> bool:
    """True if the source holds all four files; DataError if it holds only some of them."""
    if source.folder is None:
        return True
    try:
        present = [name for name in FASHION_MNIST_FILES.values() if (source.folder / name).is_file()]
    except OSError as err:  # a folder that cannot be searched (no permission)
        raise DataError(f"{source} cannot be read ({err.strerror or err}); check its permissions") from err
    if present and len(present) < len(FASHION_MNIST_FILES):
        missing = sorted(set(FASHION_MNIST_FILES.values()) - set(present))
        raise DataError(
            f"{source} holds only part of Fashion-MNIST: missing {', '.join(missing)}. "
            "Add the missing files or remove the folder."
        )
    return bool(present)


def _read_idx(path: Path, *, ndim: int) -> np.ndarray:
    """Read one gzipped idx file (magic number, sizes, then uint8 data) and check it."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except PermissionError as err:  # the file is sound, its permissions are not: fetching it again is no fix
        raise DataError(f"{path} cannot be read ({err.strerror}); check its permissions.") from err
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        raise DataError(f"{path} is not a readable gzip file ({err}); delete it and fetch it again.") from err
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(f"{path} is too short to be an idx file ({len(raw)} bytes).")
    zero, dtype_code, dims = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08 or dims != ndim:
        raise DataError(f"{path} has a wrong idx magic number: expected uint8 with {ndim} dimensions.")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    expected = header_size + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(f"{path} is truncated or padded: {len(raw)} bytes, header says {expected}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def _read_folder(folder: Path):
    arrays = {
        key: _read_idx(folder / name, ndim=3 if key.startswith("x") else 1)
        for key, name in FASHION_MNIST_FILES.items()
    }
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape[1:] != (28, 28):
            raise DataError(f"{folder / FASHION_MNIST_FILES['x_' + split]}: images are {x.shape[1:]}, not 28×28.")
        if len(x) != len(y):
            raise DataError(f"{folder}: {len(x)} {split} images but {len(y)} labels.")
        if y.size and y.max() > 9:
            raise DataError(f"{folder / FASHION_MNIST_FILES['y_' + split]}: labels outside 0..9.")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _contents_sha256(path: Path) -> str:
    """The sha256 of a gzip file's contents; DataError if it is not a readable gzip file."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path} is not a readable gzip file ({err}).") from err
    return digest.hexdigest()


def _download():
    """Fetch the four files from :data:`FASHION_MNIST_URL` into the Keras cache, each checked, and read them.

    Each file is downloaded (http(s) only, a timeout, at most :data:`FASHION_MNIST_MAX_BYTES`) into
    a staging folder and kept only if its contents' sha256 is :data:`FASHION_MNIST_SHA256`'s; when
    all four are good they move into ``datasets/fashion-mnist`` of the cache, where the Keras-cache
    source finds them from then on. A file that differs is deleted and named in a DataError.
    """
    staging, folder = "datasets/fashion-mnist-download", config.cache_dir() / "datasets" / "fashion-mnist"
    fetched = {}
    for key, name in FASHION_MNIST_FILES.items():
        path = net.download(FASHION_MNIST_URL + name, cache_subdir=staging, name=name,
                            max_bytes=FASHION_MNIST_MAX_BYTES)
        try:
            found = _contents_sha256(path)
        except DataError:
            path.unlink(missing_ok=True)
            raise
        if found != FASHION_MNIST_SHA256[key]:
            path.unlink(missing_ok=True)
            raise DataError(f"{FASHION_MNIST_URL + name}: the contents' sha256 is {found}, not Fashion-MNIST's "
                            f"{FASHION_MNIST_SHA256[key]}; the download was discarded")
        fetched[name] = path
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in fetched.items():
        path.replace(folder / name)
    return _read_folder(folder)


def load_fashion_mnist(
    path: str | Path | None = None, *, sources: list[Source] | None = None, verbose: bool = True
) -> FashionMNIST:
    """Load Fashion-MNIST from the first source that has it, and say which.

    Args:
        path: A folder with the four idx ``.gz`` files; overrides ``ARTLIB_DATA_DIR``. A folder given
            here (or in ``ARTLIB_DATA_DIR``) that holds none of them is an error, not a reason to look
            elsewhere.
        sources: Replace the whole search order (tests point this at fixture folders).
        verbose: Print one line naming the source and the sizes.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` as uint8 arrays, exactly like
        ``keras.datasets.fashion_mnist.load_data()``; the result's ``.source``
        says where they came from.

    Raises:
        DataError: a source is partial or corrupt (the message names the file), ``path`` or
            ``ARTLIB_DATA_DIR`` holds no Fashion-MNIST, or no source has the data.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_fashion_mnist()  # doctest: +SKIP
        Fashion-MNIST: 60000 train + 10000 test images from the Debian package ...
    """
    tried = []
    for source in sources if sources is not None else default_sources(path):
        if source.name == "download":
            try:
                train, test = _download()
            except (ArtlibError, OSError) as err:  # offline, timeout, HTTP error, a wrong file: say so, try the next
                tried.append(f"{source}: {err}")
                if verbose:
                    print(f"Fashion-MNIST: download failed ({err}); falling back to the next source.")
                continue
        elif _complete(source):
            train, test = _read_folder(source.folder)
        elif source.name in _NAMED_BY_THE_USER:  # named by the caller: a typo must not load another copy
            fix = ("give the folder that does, or no path to search the usual places" if source.name == "path"
                   else "point ARTLIB_DATA_DIR at the folder that does, or unset it to search the usual places")
            where = source.folder if source.name == "path" else source  # "ARTLIB_DATA_DIR (/its/folder)"
            raise DataError(f"{where} holds no Fashion-MNIST (the files "
                            f"{', '.join(FASHION_MNIST_FILES.values())}); {fix}")
        else:
            tried.append(f"{source}: not there")
            continue
        data = FashionMNIST(train, test, source)
        if verbose:
            subset = " (a balanced subset, not the full dataset)" if source.name == "shipped-subset" else ""
            print(f"Fashion-MNIST: {len(train[0])} train + {len(test[0])} test images from {source}{subset}")
        return data
    raise DataError("Fashion-MNIST was not found anywhere (" + "; ".join(tried) + ")")


def describe_fashion_mnist_source(path: str | Path | None = None) -> str:
    """Say which source ``load_fashion_mnist`` would use now, without reading the files."""
    for source in default_sources(path):
        try:
            if source.name == "download" or _complete(source):
                return str(source) + (" — a balanced subset" if source.name == "shipped-subset" else "")
        except DataError as err:
            return f"problem: {err}"
        if source.name in _NAMED_BY_THE_USER:  # as load_fashion_mnist refuses it
            return f"problem: {source} holds no Fashion-MNIST"
    return "none found"


# ---------------------------------------------------------------- sample photos

#: Photos bundled with scikit-image (public domain or CC0): content images that need no network.
SAMPLE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry",
                 "hubble_deep_field", "coins", "moon", "brick", "grass", "gravel")
#: The sample photos no model trains on: the evaluation set of the photo denoiser and of fast style
#: transfer (``autoencoder.HELD_OUT_PHOTOS``, ``fast_style.EVAL_PHOTOS``).
HELD_OUT_PHOTOS = ("chelsea", "coffee")


def load_sample_photo(name: str, max_dim: int | None = None) -> np.ndarray:
    """One of scikit-image's bundled photos as float32 ``H×W×3`` in [0, 1].

    Args:
        name: One of :data:`SAMPLE_PHOTOS`.
        max_dim: Downscale so the long side is at most this many pixels.

    Returns:
        float32 ``H×W×3`` pixels in [0, 1] (grayscale photos repeated into three channels).

    Raises:
        ArtlibError: an unknown name (the message lists the known ones), or ``max_dim`` below 1.
    """
    if name not in SAMPLE_PHOTOS:
        raise ArtlibError(f"unknown sample photo {name!r}; choose one of {', '.join(SAMPLE_PHOTOS)}")
    if max_dim is not None:
        max_dim = positive_int(max_dim, "max_dim")
    import skimage.data

    pixels = np.asarray(getattr(skimage.data, name)())
    image = imageio.to_float(pixels)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)  # H×W → H×W×3
    if max_dim is not None:
        image = np.asarray(imageio.resize_max_dim(image, max_dim)) if max(image.shape[:2]) > max_dim else image
    return image.astype(np.float32)


# ---------------------------------------------------------------- photos of Debian's opencv-doc

#: Where Debian's package ``opencv-doc`` (``apt install opencv-doc``) puts OpenCV's sample images; the
#: package is in Debian's ``main``, so its repack kept only images it could license.
OPENCV_DOC_DIR = Path("/usr/share/doc/opencv-doc/examples/data")
#: Its colour photographs, chosen by eye: fruit, animals, people, streets, rooms, a landscape. Left out:
#: its grey images, calibration boards, logos, drawings, text and the painting (a style, not a subject).
#: With scikit-image's, content photos for training fast-style networks (``fast_style.default_content``).
OPENCV_DOC_PHOTOS = ("HappyFish.jpg", "aero1.jpg", "aero3.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg",
                     "board.jpg", "building.jpg", "butterfly.jpg", "ela_original.jpg", "fruits.jpg", "graf1.png",
                     "home.jpg", "left.jpg", "leuvenA.jpg", "licenseplate_motion.jpg", "messi5.jpg", "orange.jpg",
                     "pca_test1.jpg", "rubberwhale1.png", "smarties.png", "squirrel_cls.jpg", "stuff.jpg")


def opencv_doc_photo_paths(folder: str | Path | None = None) -> list[Path]:
    """The files of :data:`OPENCV_DOC_PHOTOS` in ``folder`` (default :data:`OPENCV_DOC_DIR`).

    Raises:
        DataError: the folder or one of the photos is missing (the message says how to install them).
    """
    folder = Path(OPENCV_DOC_DIR if folder is None else folder)
    missing = [name for name in OPENCV_DOC_PHOTOS if not (folder / name).is_file()]
    if missing:
        what = f"'{folder}' is missing" if len(missing) == len(OPENCV_DOC_PHOTOS) else \
            f"{len(missing)} of its photos are missing from '{folder}' (first: {missing[0]})"
        raise DataError(f"the photos of Debian's opencv-doc package: {what}; install them with "
                        "`sudo apt install opencv-doc`, or train on scikit-image's photos (fast_style.TRAIN_PHOTOS)")
    return [folder / name for name in OPENCV_DOC_PHOTOS]


def has_opencv_doc_photos(folder: str | Path | None = None) -> bool:
    """Whether every photo of :data:`OPENCV_DOC_PHOTOS` is there (see :func:`opencv_doc_photo_paths`)."""
    try:
        opencv_doc_photo_paths(folder)
    except DataError:
        return False
    return True


# ---------------------------------------------------------------- paintings

#: Public-domain paintings shipped with artlib (``data/paintings/``; source, licence and sha256 in
#: ``data/README.md``): style images that need no network. Name -> what it is.
PAINTINGS = {"starry_night": "Vincent van Gogh, The Starry Night (1889)"}
#: Where they are: the package's own copy once installed, else the checkout's ``data/paintings``.
PAINTINGS_DIR = config.SHIPPED_DIR / "paintings"


def painting_path(name: str) -> Path:
    """Where the shipped painting ``name`` (one of :data:`PAINTINGS`) lies; the file may be missing.

    Raises:
        ArtlibError: An unknown name (the message lists the known ones).
    """
    if name not in PAINTINGS:
        raise ArtlibError(f"unknown painting {name!r}; choose one of {', '.join(PAINTINGS)}")
    return PAINTINGS_DIR / f"{name}.jpg"


def load_painting(name: str, max_dim: int | None = None) -> np.ndarray:
    """A shipped public-domain painting (:data:`PAINTINGS`) as float32 ``H×W×3`` in [0, 1].

    ``style.load_style_image("painting:starry_night")`` and every command's ``--style`` reach it the same way.

    Args:
        name: One of :data:`PAINTINGS`.
        max_dim: Downscale so the long side is at most this many pixels (None: as shipped, 752×600).

    Returns:
        float32 ``H×W×3`` pixels in [0, 1].

    Raises:
        ArtlibError: An unknown name (the message lists the known ones), or ``max_dim`` below 1.
        ImageError: The shipped file is missing or damaged (reinstall artlib).
    """
    return imageio.load_image(painting_path(name), max_dim=max_dim)


def style_name(source: Any) -> str:
    """The short name of a style source: ``"pattern:swirls"`` → ``swirls``, ``"painting:starry_night"`` →
    ``starry_night``; anything else (a path, a URL) as text. Shipped networks and menus go by these names.

    Raises:
        ArtlibError: ``source`` is not text or a path (an image array has no name: label it yourself, e.g. in
            the dict ``studio.style_panel`` takes).
    """
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str):
        raise ArtlibError(f"a style's name comes from its source's text (pattern:NAME, painting:NAME, a path or a "
                          f"URL); got {type(source).__name__}")
    return source.removeprefix("pattern:").removeprefix("painting:")


# ---------------------------------------------------------------- tf.data

def make_dataset(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = False,
    map_fn: Any = None,
):
    """A batched ``tf.data.Dataset`` of float32 images in [0, 1] (and labels, if given).

    uint8 images are scaled to [0, 1]; ``N×H×W`` grayscale gets a channel axis
    (``N×H×W×1``), the shape Keras convolution layers expect.

    Args:
        images: ``N×H×W`` or ``N×H×W×C``, uint8 or float in [0, 1].
        labels: Optional ``N`` labels, yielded as ``(images, labels)`` pairs.
        batch_size: Images per batch.
        shuffle: Shuffle with ``seed`` (the same order every epoch for a fixed
            seed; pass ``seed + epoch`` for a new, reproducible order per epoch).
        seed: Explicit shuffle seed.
        drop_remainder: Drop the last, smaller batch.
        map_fn: Optional per-batch function (e.g. adding noise), run in the pipeline.

    Returns:
        A prefetched ``tf.data.Dataset``.

    Raises:
        ImageError: ``images`` is not a batch of uint8 or [0, 1] float pixels (see
            :func:`artlib.imageio.as_batch`).
        ArtlibError: ``labels`` of another length, or ``batch_size`` below 1.
    """
    seed = seed_value(seed)
    import tensorflow as tf

    if labels is not None and len(labels) != len(images):
        raise ArtlibError(f"{len(images)} images but {len(labels)} labels; give one label per image")
    images = imageio.as_batch(images, name="images", keep_uint8=True)  # N×H×W → N×H×W×1; uint8 stays uint8
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ArtlibError(f"batch_size must be a positive integer, not {batch_size!r}")
    scale = 1 / 255 if images.dtype == np.uint8 else 1.0
    ds = tf.data.Dataset.from_tensor_slices(images if labels is None else (images, np.asarray(labels)))
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=False)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def to_float(x, *rest):
        x = tf.cast(x, tf.float32) * scale
        return (x, *rest) if rest else x

    ds = ds.map(to_float, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if map_fn is not None:
        ds = ds.map(map_fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------- VGG19 weights

VGG19_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"


def find_vgg19_weights() -> Path | None:
    """The ImageNet VGG19 (no top) weights file in the Keras cache, or None."""
    path = config.cache_dir() / "models" / VGG19_WEIGHTS_FILE
    return path if path.is_file() else None
