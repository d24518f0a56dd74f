"""Saving and loading trained networks through :mod:`artlib.modelio`, and the shipped ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras

from artlib import config, modelio
from artlib.errors import ArtlibError, DataError
from artlib.training.rundir import read_json_object
from artlib.data import style_name
from artlib.atomic import atomic_write_text

__all__ = ["SHIPPED_DIR", "save_network", "shipped_styles", "load_network", "as_network", "load_recipe"]

#: Shipped networks: ``fast_style_<style>.keras`` in :data:`artlib.config.PRETRAINED_DIR`.
SHIPPED_DIR = config.PRETRAINED_DIR


def save_network(network: keras.Model, path: str | Path, *, force: bool = False,
                 recipe: dict[str, Any] | None = None) -> Path:
    """Save ``network`` as a ``.keras`` file, atomically, with its recipe beside it.

    Args:
        network: A transformation network (see :func:`artlib.fast_style.build_transformer`).
        path: The file to write; it must end in ``.keras``.
        force: Replace an existing file.
        recipe: How it was trained (``FastStyleResult.settings``: the style, the features and layers
            of the loss …), written to the same name with ``.json`` (see :func:`load_recipe`).

    Returns:
        The path written.

    Raises:
        ArtlibError: ``path`` does not end in ``.keras``, or exists and ``force`` is False.
    """
    path = modelio.save_model(network, path, force=force)  # missing folders are created
    if recipe is not None:
        atomic_write_text(path.with_suffix(".json"), json.dumps(recipe, indent=1, default=str) + "\n")
    return path


def load_recipe(source: str | Path) -> dict[str, Any] | None:
    """How a saved or shipped network was trained (the ``.json`` beside it), or None if it has none.

    Raises:
        DataError: The ``.json`` is damaged or not the object ``save_network`` writes.
    """
    path = shipped_styles().get(style_name(source), Path(source)).with_suffix(".json")
    return read_json_object(path, "delete it, or save the network again", error=DataError) if path.is_file() else None


def shipped_styles() -> dict[str, Path]:
    """The shipped networks by style name.

    Returns:
        ``{"swirls": SHIPPED_DIR / "fast_style_swirls.keras", …}``, sorted by name.
    """
    return {p.stem.removeprefix("fast_style_"): p for p in sorted(SHIPPED_DIR.glob("fast_style_*.keras"))}


def _image_to_image(model: keras.Model) -> str | None:
    if model.input_shape[-1] != 3 or model.output_shape[-1] != 3:
        return f"it maps {model.input_shape} to {model.output_shape}, not images N×H×W×3 to N×H×W×3"
    return None


def load_network(source: str | Path) -> keras.Model:
    """Load a trained network with ``safe_mode=True`` (no code from the file is run).

    Args:
        source: A ``.keras`` path, or the name of a shipped style (``"swirls"``, ``"pattern:swirls"``,
            ``"painting:starry_night"``).

    Returns:
        The network, uncompiled.

    Raises:
        ArtlibError: ``source`` is neither a path nor a name.
        DataError: the file is missing, unreadable, or not an image-to-image network.
    """
    if not isinstance(source, (str, Path)):
        raise ArtlibError(f"network must be a Keras model, a .keras path or a shipped style name "
                          f"({', '.join(shipped_styles()) or 'none shipped'}); got {type(source).__name__}")
    shipped = shipped_styles()
    path = shipped.get(style_name(source), Path(source))
    fix = ("give a .keras file made by 'python -m artlib fast-style train', or a shipped style "
           f"({', '.join(shipped) or 'none'})")
    return modelio.load_model(path, what="fast-style network", fix=fix, check=_image_to_image)


def as_network(network: keras.Model | str | Path) -> keras.Model:
    """``network`` itself, or the network a ``.keras`` path or shipped style name names (see :func:`load_network`).

    Raises:
        ArtlibError: ``network`` is neither a Keras model nor a path or name.
        DataError: as :func:`load_network`.
    """
    return network if isinstance(network, keras.Model) else load_network(network)
