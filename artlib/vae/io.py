"""Saving and loading finished VAEs as ``.keras`` files, and the one shipped with artlib."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artlib.checks import positive_int
from artlib import config, modelio
from artlib.vae.model import VAE

__all__ = ["PRETRAINED_DIR", "save_vae", "load_vae", "load_pretrained"]

#: Shipped checkpoints (``vae_<latent_dim>d.keras``; see ``data/README.md``).
PRETRAINED_DIR = config.PRETRAINED_DIR


def save_vae(vae: VAE, path: str | Path) -> Path:
    """Save a VAE for use (architecture + weights, no optimizer state), atomically, as ``.keras``.

    Load it with :func:`load_vae` (``safe_mode=True``). To resume *training*, use the
    run directory of :func:`~artlib.vae.train` instead.

    Args:
        vae: A :class:`~artlib.vae.VAE`, compiled or not.
        path: The file to write, ``NAME.keras`` (replaced if it exists).

    Returns:
        ``path``.

    Raises:
        ArtlibError: ``path`` does not end in ``.keras``.
    """
    return modelio.save_model(vae, path)


def _is_vae(model: Any) -> str | None:
    return None if isinstance(model, VAE) else f"it holds a {type(model).__name__}, not an artlib VAE"


def load_vae(path: str | Path) -> VAE:
    """Load a VAE saved with :func:`save_vae` (or ``vae.save("name.keras")``), with ``safe_mode=True``.

    Args:
        path: The ``.keras`` file.

    Returns:
        The :class:`~artlib.vae.VAE`, uncompiled (:func:`~artlib.vae.train` compiles it).

    Raises:
        DataError: The file is missing, not a ``.keras`` archive, or holds no VAE (the message names it).
    """
    return modelio.load_model(path, what="VAE", check=_is_vae,
                              fix="save one with artlib.vae.save_vae, or train a new one")


def load_pretrained(latent_dim: int = 2) -> VAE:
    """The VAE shipped as ``PRETRAINED_DIR / f"vae_{latent_dim}d.keras"`` (see ``data/README.md``).

    Args:
        latent_dim: Which shipped model (only 2 is shipped).

    Returns:
        The :class:`~artlib.vae.VAE`.

    Raises:
        ArtlibError: ``latent_dim`` is not a positive integer.
        DataError: The file is missing or corrupt (its name is in the message).
    """
    positive_int(latent_dim, "latent_dim")
    return modelio.load_model(PRETRAINED_DIR / f"vae_{int(latent_dim)}d.keras", what="shipped VAE", check=_is_vae,
                              fix="restore it from the repository, or train one with artlib.vae.train "
                                  "(USE_PRETRAINED = False in the notebook)")
