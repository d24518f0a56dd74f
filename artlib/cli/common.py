"""What every command shares: the parser class, shared options, value checks, input and output checks.

Nothing here imports TensorFlow: ``--help``, a bad value and a missing input file are
answered in well under a second.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from artlib.errors import ArtlibError

__all__ = ["STYLE_SOURCES", "Parser", "positive_int", "nonnegative_int", "positive_float", "nonnegative_float",
           "unit_interval", "unit_closed", "between", "MAX_IMAGES", "MAX_SIDE", "MAX_WIDTH",
           "LIBRARY_DEFAULTS", "library_default", "MAX_PICTURE_PIXELS", "DEFAULT_ZOOM", "zoom_option", "mosaic_pixels",
           "picture_zoom", "out_option",
           "force_option", "seed_option", "model_option", "max_seconds_option", "check_output", "check_folder",
           "existing_inputs"]


#: What a ``--style`` argument may be, for the commands' help (the names are those of artlib.patterns and
#: artlib.data.PAINTINGS, written out so that ``--help`` imports neither).
STYLE_SOURCES = ("a path, an http(s) URL, pattern:NAME (swirls, brushstrokes, mosaic, waves, shards) "
                 "or painting:starry_night")


class Parser(argparse.ArgumentParser):
    """``argparse`` whose usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse's hook
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _number(kind: type, test: Callable[[float], bool], wanted: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}")
        if not test(value):
            raise argparse.ArgumentTypeError(f"{text} must be {wanted}")
        return value

    parse.__name__ = wanted  # argparse names the type in its messages
    return parse


positive_int = _number(int, lambda v: v >= 1, "a whole number of at least 1")
nonnegative_int = _number(int, lambda v: v >= 0, "a whole number of at least 0")
positive_float = _number(float, lambda v: v > 0 and v != float("inf"), "a positive number")
nonnegative_float = _number(float, lambda v: 0 <= v < float("inf"), "a number of at least 0")
unit_interval = _number(float, lambda v: 0 < v <= 1, "in (0, 1]")
unit_closed = _number(float, lambda v: 0 <= v <= 1, "in [0, 1]")  # NaN fails the test too


def between(minimum: int, maximum: int) -> Callable[[str], int]:
    """An integer option from ``minimum`` to ``maximum``: a count or size beyond any sensible use is an error
    before any work, not an out-of-memory crash (or hours of work) later."""
    return _number(int, lambda v: minimum <= v <= maximum, f"a whole number from {minimum} to {maximum:,}")


#: The most images one command makes (``-n``, a latent map's cells, walks × frames): 50,000 Fashion-MNIST
#: images are 39 megapixels, within the 50-megapixel limit on every image artlib reads.
MAX_IMAGES = 50_000
#: The longest side a command resizes a picture to (its input, a style image, a training crop).
MAX_SIDE = 8192
#: The widest network a command builds (channels of the first layer; the shipped ones use 8 to 64).
MAX_WIDTH = 1024

#: Library defaults that ``--help`` shows, written out here because their modules import TensorFlow and
#: ``--help`` must not; ``tests/test_cli.py`` checks each against the library (a dotted path into
#: ``artlib``, through attributes and dict keys; ``function(argument)`` for an argument's default).
LIBRARY_DEFAULTS = {
    "style.DEFAULT_MAX_DIM": 512, "style.DEFAULT_STEPS": 100, "vae.NUM_EPOCHS": 30,
    "fast_style.DEFAULT_WIDTH": 8, "fast_style.DEFAULT_BLOCKS": 3, "fast_style.DEFAULT_EDGE_KERNEL": 5,
    "fast_style.FAST_STYLE_WEIGHTS.style_weight": 20, "arbitrary_style.DEFAULT_WIDTH": 128,
    "arbitrary_style.STYLE_WEIGHT": 10,
    "fast_style.TRAIN_DEFAULTS.full.num_steps": 2000, "fast_style.TRAIN_DEFAULTS.fast.num_steps": 4,
    "fast_style.TRAIN_DEFAULTS.full.image_size": 256, "fast_style.TRAIN_DEFAULTS.fast.image_size": 64,
    "fast_style.TRAIN_DEFAULTS.full.batch_size": 4, "fast_style.TRAIN_DEFAULTS.fast.batch_size": 2,
    "arbitrary_style.TRAIN_DEFAULTS.full.num_steps": 2000, "arbitrary_style.TRAIN_DEFAULTS.fast.num_steps": 3,
    "arbitrary_style.TRAIN_DEFAULTS.full.image_size": 96, "arbitrary_style.TRAIN_DEFAULTS.fast.image_size": 32,
    "arbitrary_style.TRAIN_DEFAULTS.full.batch_size": 4, "arbitrary_style.TRAIN_DEFAULTS.fast.batch_size": 2,
    "arbitrary_style.TRAIN_DEFAULTS.full.bank_seeds": 8, "arbitrary_style.TRAIN_DEFAULTS.fast.bank_seeds": 1,
    "arbitrary_style.train(learning_rate)": 0.0005,
    "gan.GANSettings.DEFAULTS.num_epochs": 20, "gan.GANSettings.DEFAULTS.batch_size": 64,
    "gan.GANSettings.DEFAULTS.width": 64, "gan.FINETUNE_STEPS": 600,
    "diffusion.DiffusionSettings.DEFAULTS.num_steps": 9000, "diffusion.DiffusionSettings.DEFAULTS.width": 32,
    "diffusion.DiffusionSettings.DEFAULTS.batch_size": 64,
    "diffusion.SHOWN_SAMPLER.steps": 50, "diffusion.SHOWN_SAMPLER.eta": 1.0, "diffusion.SHOWN_SAMPLER.order": 2,
    "translate.TranslateSettings.DEFAULTS.num_steps": 3000, "translate.TranslateSettings.DEFAULTS.width": 12,
    "translate.TranslateSettings.DEFAULTS.batch_size": 32,
}


def library_default(name: str) -> str:
    """A library default for ``--help``: ``library_default("style.DEFAULT_MAX_DIM")`` is ``"512"``."""
    return f"{LIBRARY_DEFAULTS[name]:,g}"


def mode_defaults(table: str, key: str) -> str:
    """``--help``'s "default: 2,000; fast mode: 4" from a library table of defaults per mode:
    ``mode_defaults("fast_style.TRAIN_DEFAULTS", "num_steps")`` shows its ``full`` and ``fast`` entries."""
    return f"default: {library_default(f'{table}.full.{key}')}; fast mode: {library_default(f'{table}.fast.{key}')}"


def one_of(*choices: int) -> Callable[[str], int]:
    """An integer option that must be one of ``choices`` (argparse's ``choices=`` words its errors otherwise)."""
    return _number(int, lambda v: v in choices, " or ".join(map(str, choices)))


def class_label(text: str) -> int:
    """An argparse type: a Fashion-MNIST class by number 0-9 or by name (``7``, ``sneaker``, ``"ankle boot"``).

    Checked by :func:`artlib.classes.class_index`, before TensorFlow is imported.
    """
    from artlib.classes import class_index

    try:
        return class_index(text)
    except ArtlibError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def out_option(parser: argparse.ArgumentParser, what: str, *, required: bool = True,
               default: str | None = None) -> None:
    """``-o/--out``: where the command writes (``what`` says which kind of file or folder)."""
    parser.add_argument("-o", "--out", required=required, default=default,
                        help=what + (" (default: %(default)s)" if default else ""))


def force_option(parser: argparse.ArgumentParser) -> None:
    """``--force``: replace an existing output (never done unasked)."""
    parser.add_argument("--force", action="store_true", help="overwrite an existing output")


#: The most pixels a command draws into one PNG, or into all the frames of one GIF together.
MAX_PICTURE_PIXELS = 50_000_000
#: How many times larger a command draws its 28-pixel images in a PNG or GIF, unless told (``--zoom``).
DEFAULT_ZOOM = 3


def zoom_option(parser: argparse.ArgumentParser) -> None:
    """``--zoom N``: each pixel of a PNG or GIF drawn N×N, so that 28-pixel images can be seen."""
    parser.add_argument("--zoom", type=between(1, 16), default=None, metavar="N",
                        help=f"draw each pixel N×N in a PNG or GIF (default: {DEFAULT_ZOOM}, less where the picture "
                             f"would pass {MAX_PICTURE_PIXELS // 1_000_000} megapixels; .npz keeps the images' pixels)")


def mosaic_pixels(count: int, ncols: int, *, side: int = 28, pad: int = 1) -> int:
    """Pixels of ``plotting.grid_array`` of ``count`` images of ``side`` pixels, ``ncols`` a row, at zoom 1."""
    ncols = min(ncols, count)
    return (math.ceil(count / ncols) * (side + pad) + pad) * (ncols * (side + pad) + pad)


def picture_zoom(zoom: int | None, pixels: int) -> tuple[int, str]:
    """The zoom for a picture of ``pixels`` pixels at zoom 1, and a note for the command's last line.

    Args:
        zoom: ``--zoom`` (None: :data:`DEFAULT_ZOOM`, or less where the picture would pass
            :data:`MAX_PICTURE_PIXELS`, which the note then says).
        pixels: The picture's pixels at zoom 1 (all of a GIF's frames together).

    Raises:
        ArtlibError: ``zoom`` above 1 makes more than :data:`MAX_PICTURE_PIXELS` pixels.
    """
    limit = f"{MAX_PICTURE_PIXELS // 1_000_000} megapixels"
    if zoom is None:
        zoom = max(1, min(DEFAULT_ZOOM, math.isqrt(MAX_PICTURE_PIXELS // max(pixels, 1))))
        return zoom, "" if zoom == DEFAULT_ZOOM else f" (drawn at --zoom {zoom}: a larger one would pass {limit})"
    if zoom > 1 and pixels * zoom**2 > MAX_PICTURE_PIXELS:  # at 1 the picture is as small as it gets
        raise ArtlibError(f"--zoom {zoom}: the picture would have {pixels * zoom**2 / 1e6:,.0f} megapixels, more than "
                          f"{limit}; ask for a smaller --zoom or fewer images")
    return zoom, ""


def sample_grid(out: Path, count: int, zoom: int | None) -> tuple[int, int, str]:
    """How a sampling command draws ``count`` 28-pixel images into ``out``: ``(ncols, zoom, note)``.

    A square grid in a PNG (its zoom from :func:`picture_zoom`); a ``.npz`` keeps the images' own pixels.
    Called before sampling, so that a picture too large is refused at once. See :func:`save_samples`.
    """
    from artlib.plotting.grid import square_columns  # NumPy only, before any work

    ncols = square_columns(count)
    if out.suffix.lower() == ".npz":
        return ncols, 1, ""
    return (ncols, *picture_zoom(zoom, mosaic_pixels(count, ncols)))


def save_samples(out: Path, images, ncols: int, zoom: int) -> None:
    """Write ``images`` (N×28×28 in [0, 1]) to ``out``: a ``.npz`` array ``images`` or a PNG grid, atomically."""
    import numpy as np

    from artlib import plotting
    from artlib.atomic import atomic_path
    from artlib.imageio import save_image

    if out.suffix.lower() == ".npz":
        with atomic_path(out) as tmp:
            np.savez_compressed(tmp, images=images)
    else:
        save_image(out, plotting.grid_array(images[..., np.newaxis], ncols=ncols, zoom=zoom))


def seed_option(parser: argparse.ArgumentParser) -> None:
    """``--seed``: the one random seed of the command."""
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default: %(default)s)")


def max_seconds_option(parser: argparse.ArgumentParser) -> None:
    """``--max-seconds``: a training's time budget for this call (a positive number; the run resumes later)."""
    parser.add_argument("--max-seconds", type=positive_float, default=None,
                        help="stop (with a checkpoint) after this long; run again to go on")


def model_option(parser: argparse.ArgumentParser, what: str, *aliases: str) -> None:
    """``--model``: a ``.keras`` file or a run directory (``what`` says which, and the default)."""
    parser.add_argument("--model", *aliases, dest="model", default=None, help=what)


def check_output(path: str, force: bool, suffixes: Iterable[str] | None = None) -> Path:
    """The ``-o`` path, once it has an accepted suffix, would not replace a file unasked and can be written.

    Checked before any work is done, so that nothing made is lost at the end for want of a place to put it.

    Raises:
        ArtlibError: Another suffix, or an existing file without ``--force``.
        WriteError: Nothing can be written there (see :func:`artlib.atomic.check_writable`).
    """
    from artlib.atomic import check_writable, refuse_overwrite

    out = Path(path)
    suffixes = sorted(suffixes) if suffixes is not None else None
    if suffixes is not None and out.suffix.lower() not in suffixes:
        raise ArtlibError(f"-o {out}: end the name with {' or '.join(suffixes)}")
    return check_writable(refuse_overwrite(out, force))


def check_folder(path: str | Path, kind: str | None = None) -> Path:
    """An output folder or run directory, once files can be made in it (it need not exist yet).

    Args:
        path: The folder.
        kind: For a run directory, the kind of run to be trained there (a key of
            :data:`artlib.modelio.RUN_KINDS`): a folder holding another kind is refused.

    Raises:
        WriteError: It is a file, or nothing can be written there (see :func:`artlib.atomic.check_writable`).
        CheckpointError: It holds a run of another kind.
    """
    from artlib.atomic import check_writable
    from artlib.modelio import check_run_kind

    if kind is not None:
        check_run_kind(path, kind)
    return check_writable(path, folder=True)


def existing_inputs(*sources: str) -> None:
    """Fail fast, before TensorFlow loads, on an input file that is not there.

    URLs and ``pattern:NAME`` and ``painting:NAME`` styles are checked where they are read.

    Raises:
        ArtlibError: A path that does not exist.
    """
    for source in sources:
        if "://" in source or source.startswith(("pattern:", "painting:")):
            continue
        if not Path(source).exists():
            raise ArtlibError(f"{source}: no such file or folder")
