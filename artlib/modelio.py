"""Saving and loading finished models: one way for every topic.

A model is saved as a ``.keras`` file, atomically (a kill mid-save leaves the
previous file intact), by default without its optimizer state (a third of the size,
for shipping). It is loaded with ``safe_mode=True``, so no code from the file runs;
a missing, corrupt or wrong kind of file is a :class:`~artlib.errors.DataError`
that names the file and says what to do.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from artlib.errors import ArtlibError, CheckpointError, DataError, first_line

__all__ = ["save_model", "load_model", "RUN_KINDS", "settings_kind", "run_kind", "check_run_kind", "RunSource",
           "run_source"]

#: The kinds of run directory, each told apart by keys of its ``settings.json`` that only it writes.
RUN_KINDS = {
    "arbitrary-style": ("kind",),  # {"kind": "arbitrary-style decoder", …}
    "translation": ("cycle_weight", "disc_width"),
    "diffusion": ("num_timesteps", "ema_decay"),
    "GAN": ("latent_dim", "loss"),
    "VAE": ("latent_dim", "beta"),
    "fast-style": ("style_layers", "match_colours"),
}


def save_model(model: Any, path: str | Path, *, force: bool = True, optimizer: bool = False) -> Path:
    """Save ``model`` as ``path`` (``.keras``), atomically.

    Args:
        model: A ``keras.Model`` (functional, sequential, or subclassed with ``get_config``).
        path: The file to write; it must end in ``.keras``.
        force: Replace an existing file (default); with False an existing file is an error.
        optimizer: Keep the optimizer state (only useful to go on training from the file).

    Returns:
        The path written.

    Raises:
        ArtlibError: ``path`` does not end in ``.keras``, or exists and ``force`` is False.
    """
    from artlib.atomic import atomic_path, refuse_overwrite

    path = Path(path)
    if path.suffix != ".keras":
        raise ArtlibError(f"{path}: a model file name must end in .keras")
    refuse_overwrite(path, force)
    if not optimizer and getattr(model, "optimizer", None) is not None:
        bare = model.__class__.from_config(model.get_config())  # same architecture, no optimizer
        bare.set_weights(model.get_weights())
        model = bare
    with atomic_path(path) as tmp:
        model.save(tmp)
    return path


def load_model(path: str | Path, *, what: str = "model", fix: str = "train or restore it again",
               check: Callable[[Any], str | None] | None = None, error: type[ArtlibError] = DataError) -> Any:
    """Load a ``.keras`` model with ``safe_mode=True`` (uncompiled).

    Args:
        path: The ``.keras`` file.
        what: What the file should hold, for messages (``"VAE"``, ``"fast-style network"`` …).
        fix: What the user can do about a missing or broken file, for messages.
        check: Called with the loaded model; returns None if it is the right kind, else the reason.
        error: The exception class to raise (``DataError``; ``CheckpointError`` for a run directory).

    Returns:
        The loaded ``keras.Model``.

    Raises:
        DataError: (or ``error``) the file is missing, unreadable, or fails ``check``.
    """
    import keras

    path = Path(path).expanduser()
    if path.is_dir():
        raise error(f"{path} is a folder, not a {what} file (.keras)")
    if not path.is_file():
        raise error(f"{what} file {path} not found: {fix}")
    if not zipfile.is_zipfile(path):  # Keras would say "File not found" of a file that is there
        size = path.stat().st_size
        raise error(f"{what} file {path} is {'empty' if size == 0 else 'corrupt or not a .keras file'} (a .keras "
                    f"file is a zip archive{'' if size == 0 else '; this one is not'}); {fix}")
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # noqa: BLE001 - zip, JSON, HDF5 and Keras errors all mean "not usable"
        first = first_line(err)
        held = _held_model(path)
        if held:  # a sound .keras file: another kind of model (or one safe mode refuses), not a broken one
            raise error(f"{path} cannot be loaded as a {what}: it holds {held} ({type(err).__name__}: {first}); "
                        f"give a {what} file") from err
        raise error(f"{what} file {path} is corrupt or not a Keras model ({type(err).__name__}: {first}); "
                    f"{fix}") from err
    reason = check(model) if check is not None else None
    if reason:
        raise error(f"{path} is not a {what}: {reason}; {fix}")
    return model


def _held_model(path: Path) -> str | None:
    """What a readable ``.keras`` archive says it holds (``"a Functional model named 'vae'"``), else None."""
    import json
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
        return f"a {config['class_name']} model named '{config['config']['name']}'"
    except Exception:  # noqa: BLE001 - not a zip, no config, not JSON, another layout: not a sound archive
        return None


def settings_kind(settings: Any) -> str | None:
    """Which kind of run wrote ``settings`` (a key of :data:`RUN_KINDS`), or None if none is known."""
    if not isinstance(settings, dict):
        return None
    return next((kind for kind, keys in RUN_KINDS.items() if all(key in settings for key in keys)), None)


def run_kind(folder: str | Path) -> str | None:
    """Which kind of run ``folder`` holds (a key of :data:`RUN_KINDS`), from its ``settings.json``.

    Returns:
        The kind; None when there is no readable ``settings.json`` or it is of no known kind.
    """
    import json

    try:
        return settings_kind(json.loads((Path(folder) / "settings.json").read_text()))
    except (OSError, ValueError):
        return None


def check_run_kind(folder: str | Path, kind: str) -> None:
    """Refuse a run directory that holds another kind of run (a new or empty folder passes).

    Raises:
        CheckpointError: ``folder`` holds a run of another kind than ``kind`` (a key of :data:`RUN_KINDS`).
    """
    found = run_kind(folder)
    if found is not None and found != kind:
        raise CheckpointError(f"{folder} holds a {found} run, not a {kind} run; use another run directory")


class RunSource(NamedTuple):
    """Where a trained model is read from (see :func:`run_source`)."""

    folder: Path  #: The folder to read.
    error: type[ArtlibError]  #: DataError for the shipped folder, CheckpointError for a run.
    fix: str  #: What the user can do about a missing or broken file.


def run_source(run_dir: str | Path | None, shipped_dir: Path, *, what: str, train: str,
               kind: str | None = None) -> RunSource:
    """A run directory or the shipped folder, with the error and the advice that fit each.

    A missing or damaged shipped model is a broken installation (:class:`DataError`: reinstall, or
    train your own); a missing or damaged model in a user's run directory is a run to (re)train
    (:class:`CheckpointError`).

    Args:
        run_dir: The user's folder, or None for ``shipped_dir``.
        shipped_dir: The folder of the shipped model.
        what: What ships there, for messages (``"GAN generator"``).
        train: The command that trains one, without ``--run-dir`` (``"python -m artlib gan train"``).
        kind: The run's kind (a key of :data:`RUN_KINDS`): a folder of another kind is refused at once.

    Returns:
        ``RunSource(folder, error, fix)``.

    Raises:
        CheckpointError: ``run_dir`` holds a run of another kind than ``kind``.
    """
    if run_dir is not None and kind is not None:
        check_run_kind(run_dir, kind)
    folder = Path(shipped_dir if run_dir is None else run_dir)
    if folder.resolve() == Path(shipped_dir).resolve():
        return RunSource(folder, DataError, f"the shipped {what} is missing or damaged in this copy of artlib; "
                                            f"reinstall artlib or train your own with `{train} --run-dir DIR`")
    return RunSource(folder, CheckpointError, f"train one into this folder with `{train} --run-dir {folder}`")
