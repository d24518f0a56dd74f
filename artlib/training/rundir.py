"""The run directory, the same for every topic: settings, history, sample grids, curves.

::

    run_dir/
        settings.json            the recipe; a later call with other settings is refused (unless nothing was saved)
        history.json             every step's (or epoch's) values, merged across resumed calls
        checkpoints/             explicit loops: ckpt-<step>.index, ckpt-<step>.data-*, checkpoint
        backup/                  fit: the BackupAndRestore state (kept when fit completes)
        tensorboard/             event files: ``tensorboard --logdir run_dir``
        samples/step-XXXXXX.png  the sample grid every ``sample_every`` steps
        samples.gif              those grids as an animation
        losses.png               the curves of history.json
        .lock                    while a training runs: who holds the folder (see lock.py)

Everything is written atomically, so a kill never leaves half a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from artlib.atomic import atomic_write_text
from artlib.errors import CheckpointError
from artlib.modelio import settings_kind

__all__ = ["RunDir", "MAY_CHANGE", "read_json_object"]

#: Settings a resumed call may change: training longer is not another run.
MAY_CHANGE = ("num_epochs", "num_steps")


_JSON_NAMES = {list: "array", str: "string", int: "number", float: "number", bool: "true/false", type(None): "null"}


def read_json_object(path: str | Path, fix: str, *, error: type[Exception] = CheckpointError) -> dict[str, Any]:
    """The JSON object (a ``{…}``) in ``path``: the settings, history and recipe files artlib writes.

    Args:
        path: The file.
        fix: What to do about a bad file, for the message: ``"use a new run directory"``.
        error: The error class to raise.

    Returns:
        The object as a dict.

    Raises:
        ``error`` (CheckpointError by default): The file cannot be read, is not valid JSON, or holds JSON of
            another shape (an array, a string, …); the message names the file and says ``fix``.
    """
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise error(f"cannot read {path} ({type(err).__name__}: {err.strerror or err}); {fix}") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise error(f"{path} is not valid JSON ({err}); {fix}") from err
    if not isinstance(value, dict):
        kind = _JSON_NAMES.get(type(value), type(value).__name__)
        raise error(f"{path} holds a JSON {kind}, not the object ({{…}}) artlib writes; {fix}")
    return value


def _jsonable(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as JSON would give them back (tuples as lists, paths as strings)."""
    return json.loads(json.dumps(dict(settings), default=str))


class RunDir:
    """One run directory and the files every topic keeps in it (see the module docstring).

    Args:
        path: The folder (created when something is written).

    Example::

        run = RunDir("runs/gan")
        run.write_settings({"latent_dim": 64, "num_epochs": 20})   # CheckpointError if it differs
        run.save_samples(generator(fixed_latents), step=500)        # samples/step-000500.png
        history = run.merge_history({"step": [501, 502], "loss": [0.3, 0.2]})
        run.finish(history)                                         # samples.gif, losses.png
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.settings_file = self.path / "settings.json"
        self.history_file = self.path / "history.json"
        self.samples = self.path / "samples"
        self.gif = self.path / "samples.gif"
        self.curves = self.path / "losses.png"

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # ------------------------------------------------------------------ settings
    def read_settings(self) -> dict[str, Any]:
        """The settings in ``settings.json``.

        Raises:
            CheckpointError: The file is missing, not valid JSON, or not a JSON object.
        """
        if not self.settings_file.is_file():
            raise CheckpointError(f"{self.path} is not a run directory (no settings.json)")
        return read_json_object(self.settings_file, "use a new run directory")

    def write_settings(self, settings: Mapping[str, Any], *, may_change: Sequence[str] = MAY_CHANGE) -> dict[str, Any]:
        """Write ``settings.json``, after checking that a run already here used the same settings.

        Args:
            settings: The recipe (JSON-serializable; paths and other objects are stored as text).
            may_change: Keys a resumed call may change (default: how long to train).

        Returns:
            The settings as written.

        Raises:
            CheckpointError: The folder holds a run with other settings; the message names them.
        """
        new = _jsonable(settings)
        if self.settings_file.exists():
            old = self.read_settings()
            kinds = settings_kind(old), settings_kind(new)
            if None not in kinds and kinds[0] != kinds[1]:
                raise CheckpointError(f"{self.path} holds a {kinds[0]} run, not a {kinds[1]} run; use another run "
                                      "directory")
            if changes := self.settings_changes(new, may_change=may_change):
                if self.has_progress():
                    raise self.other_settings(changes)
                print(f"{self.path} held the settings of a run stopped before it saved anything; starting afresh "
                      f"with these ({changes}).")
        atomic_write_text(self.settings_file, json.dumps(new, indent=1))
        return new

    def settings_changes(self, settings: Mapping[str, Any], *, may_change: Sequence[str] = MAY_CHANGE,
                         known_only: bool = False, before: Mapping[str, Any] | None = None) -> str:
        """How ``settings`` differ from ``settings.json``: ``"key: old -> new, …"``, or ``""`` where they agree.

        Args:
            settings: The settings a call asks for.
            may_change: Keys left out of the comparison (default: how long to train).
            known_only: Compare only the keys the file holds (a run from before a setting existed).
            before: What a file without a key trained with, where that is known (a setting added later whose
                value then was fixed): compared as if the file held it.
        """
        old, new = {**_jsonable(before or {}), **self.read_settings()}, _jsonable(settings)
        keys = [k for k in new if k in old] if known_only else set(old) | set(new)
        differ = sorted(k for k in keys if k not in may_change and old.get(k) != new.get(k))
        return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in differ)

    def other_settings(self, changes: str) -> CheckpointError:
        """The error for a call that asks this run for other settings (``changes`` from :meth:`settings_changes`)."""
        return CheckpointError(f"{self.path} holds a run with other settings ({changes}); use a new run directory, "
                               "or delete this one to start over")

    def has_progress(self) -> bool:
        """Whether a training here saved anything to go on from or to keep: a checkpoint, a backup or a history.

        A run stopped (Ctrl-C, a crash) before its first save has none: its ``settings.json`` may be replaced
        by other settings, where a run with progress refuses them.
        """
        return (self.history_file.exists() or (self.path / "backup" / "backup.json").exists()
                or (self.path / "checkpoints" / "checkpoint").exists()
                or any((self.path / "checkpoints").glob("ckpt-*")))

    # ------------------------------------------------------------------ history
    def read_history(self) -> dict[str, list]:
        """The whole run's history from ``history.json`` (empty when there is none).

        Raises:
            CheckpointError: The file is not valid JSON, not an object of lists of one length, or its
                counter (``step`` or ``epoch``) holds something other than whole numbers.
        """
        if not self.history_file.is_file():
            return {}
        fix = "delete it to start the history afresh"
        history = read_json_object(self.history_file, fix)
        if not all(isinstance(values, list) for values in history.values()):
            raise CheckpointError(f"{self.history_file} holds values that are not lists; {fix}")
        if len({len(values) for values in history.values()}) > 1:
            lengths = ", ".join(f"{name} {len(values)}" for name, values in history.items())
            raise CheckpointError(f"{self.history_file} holds lists of different lengths ({lengths}); {fix}")
        for counter in ("step", "epoch"):
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in history.get(counter, [])):
                raise CheckpointError(f"{self.history_file} holds {counter} values that are not whole numbers; {fix}")
        return history

    def merge_history(self, new: Mapping[str, Sequence[float]], *, key: str = "step") -> dict[str, list]:
        """Add this call's history to ``history.json`` and return the whole run's.

        Entries of the old history at or after the first new ``key`` value are
        dropped: steps redone after a resume replace the ones they redo.

        Args:
            new: ``{key: [...], "<value>": [...]}``, one entry per step (or epoch).
            key: The counter: ``"step"`` (explicit loops) or ``"epoch"`` (``fit``).

        Returns:
            The merged history, sorted by ``key``; a value a step did not log is None.
        """
        old = self.read_history()
        new_keys = list(new.get(key, []))
        first = new_keys[0] if new_keys else None
        keep = [i for i, s in enumerate(old.get(key, [])) if first is None or s < first]
        names = [key, *dict.fromkeys(k for k in [*old, *new] if k != key)]

        def column(history: Mapping[str, Sequence[Any]], name: str, rows: Iterable[int], count: int) -> list:
            values = list(history.get(name, [None] * count))
            return [values[i] for i in rows]

        merged = {name: column(old, name, keep, len(old.get(key, [])))
                  + column(new, name, range(len(new_keys)), len(new_keys)) for name in names}
        atomic_write_text(self.history_file, json.dumps(merged))
        return merged

    # ------------------------------------------------------------------ pictures
    def sample_path(self, step: int) -> Path:
        """Where the sample grid of ``step`` goes: ``samples/step-XXXXXX.png``."""
        return self.samples / f"step-{int(step):06d}.png"

    def save_samples(self, images: Any, step: int, *, columns: int | None = None) -> Path:
        """Save a batch of images in [0, 1] as one grid, ``samples/step-XXXXXX.png``.

        Args:
            images: ``(N, H, W)`` or ``(N, H, W, C)``, float in [0, 1] or uint8.
            step: The step they show.
            columns: Images per row (default: about square).

        Returns:
            The PNG's path.
        """
        from artlib.imageio import save_image
        from artlib.training.logger import as_grid

        return save_image(self.sample_path(step), as_grid(images, columns=columns))

    def finish(self, history: Mapping[str, Sequence[Any]] | None = None, *, key: str = "step",
               title: str | None = None, fps: float = 4.0) -> list[Path]:
        """Write ``samples.gif`` from the sample grids and ``losses.png`` from the history.

        Args:
            history: The whole run's history (default: ``history.json``).
            key: Its counter, ``"step"`` or ``"epoch"`` (the x axis).
            title: The plot's title (default: the folder's name).
            fps: Frames per second of the GIF.

        Returns:
            The files written (none when there are no grids and no history).
        """
        from PIL import Image

        from artlib import plotting

        written = []
        frames = [np.asarray(Image.open(p)) for p in sorted(self.samples.glob("step-*.png"))]
        if frames:
            written.append(plotting.save_gif(frames, self.gif, fps=fps))
        history = self.read_history() if history is None else history
        curves = {name: [v for v in values if v is not None] for name, values in history.items() if name != key}
        curves = {name: values for name, values in curves.items() if values}
        if curves:
            count = len(history.get(key, []))
            plotting.loss_curves(curves, path=self.curves, smooth=min(50, max(1, count // 10)),
                                 title=title or self.path.name, xlabel=key)  # a pyplot-free figure: nothing to close
            written.append(self.curves)
        return written
