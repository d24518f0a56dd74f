"""Using a trained pair: :class:`Translator`, :func:`load_translator` (default: the shipped one), :func:`translate`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from artlib import modelio  # noqa: E402
from artlib.checks import positive_int  # noqa: E402
from artlib.errors import ArtlibError, CheckpointError  # noqa: E402
from artlib.imageio import from_minus_one_one, to_minus_one_one  # noqa: E402
from artlib.metrics import fashion_batch  # noqa: E402
from artlib.classes import class_name  # noqa: E402
from artlib.translate.models import IMAGE_SHAPE  # noqa: E402
from artlib.translate.settings import PRETRAINED_DIR, load_settings  # noqa: E402

__all__ = ["GENERATOR_FILES", "DIRECTIONS", "Translator", "load_translator", "as_translator", "translate",
           "check_direction"]

#: A run's products, written at the end of every :func:`~artlib.translate.train` call.
GENERATOR_FILES = {"a_to_b": "a_to_b.keras", "b_to_a": "b_to_a.keras"}
#: The directions :func:`translate` takes (``"a-to-b"`` and ``"b-to-a"`` are accepted too).
DIRECTIONS = tuple(GENERATOR_FILES)


class Translator(NamedTuple):
    """A trained pair of generators and the classes they map between.

    Attributes:
        a_to_b: ``images (N, 28, 28, 1) -> images`` of class ``classes[1]``, pixels in [-1, 1].
        b_to_a: The way back, to class ``classes[0]``.
        classes: ``(a, b)``: the Fashion-MNIST class numbers.
    """

    a_to_b: keras.Model
    b_to_a: keras.Model
    classes: tuple[int, int]

    def describe(self) -> str:
        """``"7 Sneaker <-> 9 Ankle boot"``."""
        a, b = self.classes
        return f"{a} {class_name(a)} <-> {b} {class_name(b)}"


def check_direction(direction: str) -> str:
    """``"a_to_b"`` or ``"b_to_a"`` (hyphens accepted).

    Raises:
        ArtlibError: Another direction.
    """
    canonical = str(direction).replace("-", "_").lower()
    if canonical not in DIRECTIONS:
        raise ArtlibError(f"direction must be 'a_to_b' or 'b_to_a' (or a-to-b, b-to-a); got {direction!r}")
    return canonical


def _generator_problem(model: Any) -> str | None:
    """None if ``model`` maps one 28×28×1 batch to another, else what is wrong with it."""
    inputs, outputs = getattr(model, "inputs", None) or [], getattr(model, "outputs", None) or []
    shapes = [tuple(t.shape[1:]) for t in [*inputs, *outputs]]
    if shapes != [IMAGE_SHAPE, IMAGE_SHAPE]:
        return f"it maps {shapes[:len(inputs)]} to {shapes[len(inputs):]}, not 28×28×1 images to 28×28×1 images"
    return None


def load_translator(run_dir: str | Path | None = None) -> Translator:
    """Load a run's two generators (``safe_mode=True``) and its classes; default: the shipped pair.

    Args:
        run_dir: A run directory written by :func:`~artlib.translate.train`; None for :data:`PRETRAINED_DIR`.

    Returns:
        A :class:`Translator`.

    Raises:
        CheckpointError: ``run_dir`` is not a translation run (no or another kind of ``settings.json``),
            or holds no finished generators (train it first), or damaged ones.
        DataError: The shipped pair is missing or damaged.
    """
    folder, error, fix = modelio.run_source(run_dir, PRETRAINED_DIR, what="translation pair", kind="translation",
                                            train="python -m artlib translate train --classes A B")
    try:
        classes = tuple(load_settings(folder)["classes"])
    except CheckpointError as err:
        raise error(str(err)) from err
    a_to_b, b_to_a = (modelio.load_model(folder / GENERATOR_FILES[d], what=f"translation generator ({d})", fix=fix,
                                         check=_generator_problem, error=error) for d in DIRECTIONS)
    return Translator(a_to_b, b_to_a, classes)


def as_translator(run_dir_or_models: Any) -> Any:
    """A :class:`Translator` (or anything with ``a_to_b`` and ``b_to_a``) as given, or one loaded from a folder.

    Args:
        run_dir_or_models: A run directory, None (the shipped pair), a :class:`Translator` or ``CycleModels``.

    Returns:
        Something with ``a_to_b`` and ``b_to_a`` generators.

    Raises:
        ArtlibError: Anything else. CheckpointError, DataError: As :func:`load_translator`.
    """
    if run_dir_or_models is None or isinstance(run_dir_or_models, (str, Path)):
        return load_translator(run_dir_or_models)
    if not all(hasattr(run_dir_or_models, d) for d in DIRECTIONS):
        raise ArtlibError("pass a run directory, a Translator (load_translator) or the CycleModels of a run; "
                          f"got {type(run_dir_or_models).__name__}")
    return run_dir_or_models


def translate(images: Any, run_dir_or_models: Any = None, direction: str = "a_to_b", *,
              batch_size: int = 256) -> np.ndarray:
    """Translate images of one class into the other.

    Args:
        images: uint8 (0–255) or float pixels in [0, 1], ``(N, 28, 28)`` or ``(N, 28, 28, 1)``:
            Fashion-MNIST-like (a light garment on a black background).
        run_dir_or_models: A run directory, a :class:`Translator`, a ``CycleModels`` (during
            training), or None for the shipped pair.
        direction: ``"a_to_b"`` (class ``classes[0]`` to ``classes[1]``) or ``"b_to_a"``.
        batch_size: Images per forward pass (memory, not results).

    Returns:
        float32 pixels in [0, 1], the shape of ``images``.

    Raises:
        ImageError: Not a batch of 28×28 one-channel images in [0, 1] (or uint8).
        ArtlibError: An unknown direction or a bad ``batch_size``.
        CheckpointError, DataError: As :func:`load_translator`.

    Example::

        boots = translate(sneakers)                      # the shipped pair: sneaker -> ankle boot
        back = translate(boots, direction="b_to_a")      # and back
    """
    shape = np.shape(images)
    x = to_minus_one_one(fashion_batch(images))  # (N, 28, 28, 1) in [-1, 1]
    direction = check_direction(direction)
    batch_size = positive_int(batch_size, "batch_size")
    generator = getattr(as_translator(run_dir_or_models), direction)
    out = np.concatenate([np.asarray(generator(x[i:i + batch_size], training=False))
                          for i in range(0, len(x), batch_size)])
    return from_minus_one_one(out).reshape(shape)
