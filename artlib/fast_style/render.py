"""Painting with a trained network: batches, images, folders, animated GIFs, videos, frame rate, ``apply``."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib import imageio, plotting, style
from artlib.errors import ArtlibError, DataError, ImageError, first_line
from artlib.checks import positive_int, size_pair
from artlib.fast_style.content import image_files
from artlib.fast_style.io import as_network
from artlib.atomic import plan_outputs, refuse_overwrite
from artlib.net import is_url

__all__ = ["VIDEO_SUFFIXES", "FORWARD_CACHE", "compiled_forward", "stylize_batch", "stylize_image",
           "stylize_folder", "stylize_gif", "stylize_video", "measure_fps", "apply"]

#: File name endings read as videos by :func:`apply`.
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
#: The compiled forward passes, ``{network: {jit_compile: tf.function}}`` (see :func:`compiled_forward`).
#: An entry goes with its network: the cache and the functions hold it weakly.
FORWARD_CACHE: weakref.WeakKeyDictionary[keras.Model, dict[bool, Callable]] = weakref.WeakKeyDictionary()


def compiled_forward(network: keras.Model, *, jit_compile: bool = False) -> Callable:
    """The network's inference pass as a ``tf.function`` for any batch and image size, from :data:`FORWARD_CACHE`.

    Args:
        network: The transformation network.
        jit_compile: Compile with XLA (once per new image size).

    Returns:
        ``forward(images) -> tf.Tensor``, traced once per input shape and kept while ``network`` lives.
    """
    per_network = FORWARD_CACHE.setdefault(network, {})
    if jit_compile not in per_network:
        network_ref = weakref.ref(network)  # the cache must not keep the network alive

        def forward(images):
            return network_ref()(images, training=False)

        per_network[jit_compile] = tf.function(forward, reduce_retracing=True, autograph=False,
                                               jit_compile=jit_compile)
    return per_network[jit_compile]


def stylize_batch(network: keras.Model, images: Any, *, batch_size: int = 8,
                  jit_compile: bool = False) -> np.ndarray:
    """Stylize a batch ``N×H×W×3`` in [0, 1] (same size), ``batch_size`` at a time.

    Args:
        network: The transformation network, a ``.keras`` path or a shipped style name (loaded on each
            call: load it once with :func:`~artlib.fast_style.load_network` to paint many batches).
        images: ``N×H×W×3`` pixels in [0, 1] (or uint8), H and W ≥ 4.
        batch_size: Images per forward pass.
        jit_compile: Compile the network with XLA: faster frames (about 1.3× on a CPU), at the
            cost of a compilation per new image size; worth it for videos and GIFs.

    Returns:
        float32 ``N×H×W×3`` in [0, 1].

    Raises:
        ArtlibError: ``batch_size`` is not a positive integer, or ``network`` is not a network, path or name.
        ImageError: ``images`` is not such a batch. DataError: a bad network file or name.
    """
    batch_size = positive_int(batch_size, "batch_size")
    images = imageio.as_batch(images, name="images", channels=3)
    if min(images.shape[1:3]) < 4:
        raise ImageError(f"images must be at least 4×4 pixels; got shape {images.shape}")
    network = as_network(network)
    forward = compiled_forward(network, jit_compile=jit_compile)
    return np.concatenate([forward(tf.constant(images[i:i + batch_size])).numpy()
                           for i in range(0, len(images), batch_size)])


def stylize_image(network: keras.Model, image: Any, *, max_dim: int | None = None) -> np.ndarray:
    """Stylize one image (array, path, URL or bytes), optionally resized to long side ``max_dim``.

    Args:
        network: The transformation network, a ``.keras`` path or a shipped style name.
        image: An ``H×W×C`` array (grayscale and uint8 are converted), a PIL image, a path, a URL or bytes.
        max_dim: Resize to this long side first (default: keep the size).

    Returns:
        float32 ``H×W×3`` in [0, 1].

    Raises:
        ArtlibError: ``max_dim`` is not a positive integer, or ``network`` is not a network, path or name.
        ImageError: the image cannot be read. DataError: a bad network file or name.
    """
    max_dim = None if max_dim is None else positive_int(max_dim, "max_dim")
    if type(image).__module__.startswith("PIL."):  # a PIL image, as the other painters take
        image = imageio.as_array(image, "the image")
    if isinstance(image, np.ndarray):
        image = style.load_style_image(image, max_dim=max_dim)
    else:
        image = imageio.load_image(image, max_dim=max_dim)
    return stylize_batch(network, image[np.newaxis])[0]


def _output(out_dir: Path, name: str, force: bool) -> Path:
    return refuse_overwrite(out_dir / name, force)


def stylize_folder(network: keras.Model, folder: str | Path, out_dir: str | Path, *, max_dim: int | None = None,
                   force: bool = False) -> list[Path]:
    """Stylize every image in ``folder`` into ``out_dir`` (PNG files of the same names).

    Args:
        network: The transformation network, a ``.keras`` path or a shipped style name.
        folder: The images (read non-recursively).
        out_dir: Where the PNG files go.
        max_dim: Resize each image to this long side first.
        force: Overwrite existing outputs.

    Returns:
        The files written.

    Raises:
        DataError: ``folder`` is not a folder or holds no images. ImageError: an image in it is unreadable.
            ArtlibError: an output exists and ``force`` is False. Each is found before anything is painted.
    """
    if not Path(folder).is_dir():
        raise DataError(f"folder '{folder}' {'is a file' if Path(folder).exists() else 'does not exist'}; "
                        "give a folder of images")
    return apply(network, [folder], out_dir, max_dim=max_dim, force=force)  # every image checked before any is painted


def _read_gif(path: str | Path) -> tuple[list[np.ndarray], list[int], int]:
    """The frames of a GIF (float32 ``H×W×3`` in [0, 1]), each frame's duration in ms and the loop count.

    Raises:
        ImageError: the file is not a readable GIF.
    """
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            frames, durations = [], []
            for frame in ImageSequence.Iterator(im):
                durations.append(int(frame.info.get("duration", im.info.get("duration", 100)) or 100))
                frames.append(np.asarray(frame.convert("RGB"), np.float32) / 255.0)
            return frames, durations, im.info.get("loop", 0)
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise ImageError(f"'{path}' is not a readable GIF ({err})") from err


def _check_gif(path: Path) -> None:
    """Raise :class:`ImageError` unless ``path`` opens as a GIF (its header only: the frames are read once)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path, formats=["GIF"]):
            pass
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise ImageError(f"'{path}' is not a readable GIF ({err})") from err


def stylize_gif(network: keras.Model, path: str | Path, out_path: str | Path, *, max_dim: int | None = None,
                force: bool = False) -> Path:
    """Stylize every frame of an animated GIF, keeping each frame's duration and the loop count.

    Written by :func:`artlib.plotting.save_gif` (with the source's ``durations``), atomically.

    Args:
        network: The transformation network, a ``.keras`` path or a shipped style name.
        path: The GIF to read.
        out_path: The GIF to write.
        max_dim: Resize the frames to this long side first.
        force: Overwrite ``out_path`` if it exists.

    Returns:
        ``out_path``.

    Raises:
        ImageError: the file is not a readable GIF. ArtlibError: ``out_path`` exists and
            ``force`` is False.
    """
    out_path = _output(Path(out_path).parent, Path(out_path).name, force)
    frames, durations, loop = _read_gif(path)
    if max_dim is not None:
        max_dim = positive_int(max_dim, "max_dim")
        frames = [np.asarray(imageio.resize_max_dim(f, max_dim)) for f in frames]
    painted = stylize_batch(network, np.stack(frames))  # N×H×W×3
    return plotting.save_gif(painted, out_path, loop=loop, durations=durations)


def stylize_video(network: keras.Model, path: str | Path, out_dir: str | Path, *, max_dim: int | None = None,
                  force: bool = False) -> list[Path]:
    """Stylize a video's frames into ``out_dir/<name>_00000.png …`` (needs a video reader).

    Args:
        network: The transformation network, a ``.keras`` path or a shipped style name.
        path: The video file.
        out_dir: Where the frames go.
        max_dim: Resize the frames to this long side first.
        force: Overwrite existing frames.

    Returns:
        The frame files written.

    Raises:
        ArtlibError: no video reader is installed (``pip install imageio[ffmpeg]`` or ``av``), the
            video cannot be read, or a frame exists and ``force`` is False.
    """
    try:
        import imageio.v3 as iio
    except ImportError as err:
        raise ArtlibError("reading videos needs imageio with a video plugin: "
                          "pip install 'imageio[ffmpeg]' (or av)") from err
    network = as_network(network)  # once, not per frame
    out_dir = Path(out_dir)
    written = []
    try:
        for i, frame in enumerate(iio.imiter(path)):
            image = imageio.to_float(np.asarray(frame)[..., :3])
            painted = stylize_image(network, np.asarray(image, np.float32), max_dim=max_dim)
            target = _output(out_dir, f"{Path(path).stem}_{i:05d}.png", force)
            written.append(imageio.save_image(target, painted))
    except (ImportError, ValueError, OSError, RuntimeError) as err:
        if isinstance(err, ArtlibError):
            raise
        raise ArtlibError(f"cannot read video '{path}' ({type(err).__name__}: {first_line(err)}); "
                          "install a video reader: pip install 'imageio[ffmpeg]' (or av)") from err
    return written


def measure_fps(network: keras.Model, size: int | Sequence[int] = 256, *, batch_size: int = 1,
                frames: int = 30, warmup: int = 3, jit_compile: bool = False) -> float:
    """Steady-state frames per second at ``size``, warm-up (and XLA compilation) excluded.

    Args:
        network: The transformation network, a ``.keras`` path or a shipped style name.
        size: Image side (an int: square) or ``(height, width)``, each ≥ 4.
        batch_size: Images per forward pass.
        frames: Forward passes timed.
        warmup: Forward passes run first, untimed.
        jit_compile: Time the XLA-compiled network.

    Returns:
        Images stylized per second (``frames × batch_size`` images timed).

    Raises:
        ArtlibError: a size below 4, or a count that is not a positive integer (``warmup`` may be 0).
    """
    h, w = size_pair(size, "size")
    h, w = positive_int(h, "size", minimum=4), positive_int(w, "size", minimum=4)
    batch_size, frames = positive_int(batch_size, "batch_size"), positive_int(frames, "frames")
    warmup = positive_int(warmup, "warmup", minimum=0)
    network = as_network(network)
    x = tf.constant(np.random.default_rng(0).uniform(0, 1, (batch_size, h, w, 3)).astype(np.float32))
    forward = compiled_forward(network, jit_compile=jit_compile)
    for _ in range(warmup):
        forward(x).numpy()
    start = time.perf_counter()
    for _ in range(frames):
        forward(x).numpy()
    return frames * batch_size / (time.perf_counter() - start)


def _plan_outputs(inputs: Sequence[str | Path], out_dir: Path, force: bool,
                  max_dim: int | None) -> dict[Path, str | Path]:
    """``{output: input}``, in order, for every file :func:`apply` will paint (a video: its first frame's name).

    Every still image is then read once (and again when painted), so that an unreadable one stops the
    command before anything is written: a folder with one broken file otherwise left half its outputs
    painted, and the same command, run again once the file was fixed, refused them as existing.

    Raises:
        ImageError: An input is missing or unreadable. DataError: A folder without images. ArtlibError: Two
            inputs share an output, or an output exists and ``force`` is False. WriteError: Nothing can be
            written in ``out_dir``.
    """
    pairs: list[tuple[Path, str | Path]] = []
    for source in inputs:
        if not isinstance(source, (str, Path)):
            raise ArtlibError(f"apply's inputs are image files, folders, GIFs, videos or http(s) URLs, not "
                              f"{type(source).__name__}; paint an array with stylize_image")
        if is_url(source):  # read when painted: a download is not made twice
            pairs.append((out_dir / (_url_stem(source) + ".png"), source))
            continue
        source = Path(source)
        if source.is_dir():
            files = image_files(source)
            if not files:
                raise DataError(f"folder '{source}' holds no images (.png, .jpg, …)")
        elif not source.is_file():
            raise ImageError(f"input '{source}' does not exist")
        else:
            files = [source]
        for file in files:
            suffix = file.suffix.lower()
            if suffix in VIDEO_SUFFIXES:
                name = f"{file.stem}_{0:05d}.png"  # its first frame's
            else:
                name = file.stem + (".gif" if suffix == ".gif" else ".png")
            pairs.append((out_dir / name, file))
    planned = plan_outputs(pairs, force=force)
    for source in planned.values():
        if is_url(source):
            continue
        suffix = Path(source).suffix.lower()
        if suffix == ".gif":
            _check_gif(source)
        elif suffix not in VIDEO_SUFFIXES:
            imageio.load_image(source, max_dim=max_dim)  # as stylize_image reads it
    return planned


def _url_stem(url: str) -> str:
    """The name a URL's picture is written under: its path's last part without the extension."""
    from urllib.parse import urlparse

    return Path(urlparse(url).path).stem or "image"


def apply(network: keras.Model | str | Path, inputs: Iterable[str | Path], out_dir: str | Path, *,
          max_dim: int | None = None, force: bool = False, verbose: bool = False) -> list[Path]:
    """Stylize images, folders, animated GIFs and videos into ``out_dir`` (what the CLI's ``apply`` does).

    Args:
        network: A network, a ``.keras`` path, or a shipped style name.
        inputs: Image files, folders, ``.gif`` files, video files, http(s) URLs (or one of them, not in a list).
        out_dir: Output folder (``<name>.png``, ``<name>.gif``, ``<name>_NNNNN.png`` for video frames).
        max_dim: Resize each input to this long side first.
        force: Overwrite existing outputs.
        verbose: Print each output and the time it took.

    Returns:
        The files written.

    Raises:
        ArtlibError: ``max_dim`` is not a positive integer, an output exists and ``force`` is False, or
            two inputs would be written to one file (``a.png`` and ``a.jpg``: both ``a.png``). Both are
            found before anything is painted, so that no result is written and then overwritten.
        ImageError: an input is missing or unreadable (every image is read, and every GIF's header, before
            anything is painted). WriteError: nothing can be written in ``out_dir``. DataError: a bad network file, or a folder
            without images.
    """
    max_dim = None if max_dim is None else positive_int(max_dim, "max_dim")
    inputs = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)  # one file, not its letters
    out_dir = Path(out_dir)
    planned = _plan_outputs(inputs, out_dir, force, max_dim)
    network = as_network(network)
    written: list[Path] = []
    for target, source in planned.items():
        start, before = time.perf_counter(), len(written)
        suffix = "" if is_url(source) else Path(source).suffix.lower()
        if suffix == ".gif":
            written.append(stylize_gif(network, source, target, max_dim=max_dim, force=True))
        elif suffix in VIDEO_SUFFIXES:
            written += stylize_video(network, source, out_dir, max_dim=max_dim, force=force)
        else:  # a URL is read (or refused offline) by imageio, as every command reads one
            written.append(imageio.save_image(target, stylize_image(network, source, max_dim=max_dim)))
        if verbose:
            shown = written[-1] if len(written) == before + 1 else out_dir
            print(f"{source} -> {shown} ({time.perf_counter() - start:.2f} s)")
    return written
