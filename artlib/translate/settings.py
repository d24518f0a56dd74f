"""A translation run's recipe (:class:`TranslateSettings`, its ``settings.json``) and reading it back (no TF)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from artlib import config
from artlib.checks import positive_float, positive_int, seed_value, unit_float
from artlib.errors import ArtlibError, CheckpointError, DataError
from artlib.modelio import check_run_kind
from artlib.classes import class_pair

__all__ = ["PRETRAINED_DIR", "TranslateSettings", "load_settings", "check_run_dir"]

#: The shipped pair of generators (``a_to_b.keras``, ``b_to_a.keras``, ``settings.json``; see data/README.md).
PRETRAINED_DIR = config.PRETRAINED_DIR / "translate"


class TranslateSettings(dict):
    """What a run directory's ``settings.json`` holds: the two classes and the recipe.

    Args:
        **values: Any of :attr:`DEFAULTS`' keys; the rest keep their defaults. ``classes`` are two
            different Fashion-MNIST classes by number or name (stored as numbers: ``[7, 9]``);
            ``disc_width`` None means ``width``; ``identity_weight`` None means ½·``cycle_weight``,
            the paper's λ_id. The defaults are the shipped pair's recipe: width 12 (0.27 s a step on
            2 busy CPU cores), 3 residual blocks, Adam(2e-4,
            β1 0.5), batch 32 of each class, 3,000 steps (16 epochs of each class).

    Raises:
        ArtlibError: An unknown key or class, the same class twice, or a size, rate or weight
            that makes no sense (a count below 1, a negative weight, ``beta_1`` outside [0, 1)).

    Example::

        TranslateSettings(classes=("sneaker", "ankle boot"))["classes"]   # [7, 9]
    """

    DEFAULTS = {"classes": [7, 9], "width": 12, "num_blocks": 3, "disc_width": None, "batch_size": 32,
                "learning_rate": 2e-4, "beta_1": 0.5, "cycle_weight": 10.0, "identity_weight": None,
                "num_steps": 3000, "seed": 0}

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(self.DEFAULTS)
        if unknown:
            raise ArtlibError(f"unknown translation settings {sorted(unknown)}; known: {sorted(self.DEFAULTS)}")
        super().__init__({**self.DEFAULTS, **values})
        self["classes"] = list(class_pair(self["classes"]))
        if self["disc_width"] is None:
            self["disc_width"] = self["width"]
        for name in ("width", "disc_width", "batch_size", "num_steps"):
            self[name] = positive_int(self[name], name)
        self["num_blocks"] = positive_int(self["num_blocks"], "num_blocks", minimum=0)
        self["seed"] = seed_value(self["seed"])
        self["learning_rate"] = positive_float(self["learning_rate"], "learning_rate")
        self["cycle_weight"] = positive_float(self["cycle_weight"], "cycle_weight", zero=True)
        if self["identity_weight"] is None:
            self["identity_weight"] = 0.5 * self["cycle_weight"]
        self["identity_weight"] = positive_float(self["identity_weight"], "identity_weight", zero=True)
        self["beta_1"] = unit_float(self["beta_1"], "beta_1", one=False)


def load_settings(run_dir: str | Path | None = None) -> TranslateSettings:
    """A translation run's recipe (default: the shipped pair's).

    Args:
        run_dir: A run directory written by :func:`artlib.translate.train`; None for :data:`PRETRAINED_DIR`.

    Returns:
        The settings it was trained with.

    Raises:
        CheckpointError: No ``settings.json`` there, or one of another kind of run (a GAN's, a
            diffusion model's …) or an invalid one; the message names the folder.
        DataError: ``run_dir`` is None and the shipped pair is missing.
    """
    folder = Path(PRETRAINED_DIR if run_dir is None else run_dir)
    path = folder / "settings.json"
    fix = f"train one with `python -m artlib translate train --classes A B --run-dir {folder}`"
    if run_dir is None and not path.is_file():
        raise DataError(f"the shipped translation pair ({folder}) is missing in this copy of artlib; reinstall "
                        "artlib, or train a pair with `python -m artlib translate train --classes A B --run-dir DIR` "
                        "and pass --run-dir DIR")
    if not path.is_file():
        raise CheckpointError(f"{folder} is not a translation run directory (no settings.json); {fix}")
    check_run_kind(folder, "translation")  # a GAN's, a diffusion model's …: said in those words
    try:
        values = json.loads(path.read_text())
        if not isinstance(values, dict) or "classes" not in values:
            raise ArtlibError(f"it holds no 'classes' but {sorted(values) if isinstance(values, dict) else values!r}")
        return TranslateSettings(**values)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, ArtlibError) as err:
        raise CheckpointError(f"{folder} is not a translation run directory: its settings.json belongs to another "
                              f"kind of run or is damaged ({err}); use another folder, or {fix}") from err


def check_run_dir(run_dir: str | Path) -> None:
    """Refuse a folder that holds another kind of run; a new folder, or a translation run's, passes.

    Args:
        run_dir: Where a translation run is to be trained.

    Raises:
        CheckpointError: ``run_dir`` has a ``settings.json`` that is not a translation run's (a GAN's,
            a diffusion model's …) or is damaged; the message names the folder.
    """
    if (Path(run_dir) / "settings.json").exists():
        load_settings(run_dir)
