"""Unpaired image-to-image translation between two Fashion-MNIST classes: CycleGAN (Zhu et al., ICCV 2017).

Two generators map class A to class B and back (G: A → B, F: B → A); two discriminators
(PatchGAN) tell real images of each class from translated ones. Trained on *unpaired* images
of the two classes — no sneaker is ever shown with "its" ankle boot — the generators learn
from three pressures: look like the other class (LSGAN), come back to the input after a
round trip (cycle consistency, λ_cycle = 10), and leave an image of the target class alone
(identity, λ_id = 5). Pixels are in [-1, 1] inside the networks and in [0, 1] outside.
Notebook 09 teaches it; ``python -m artlib translate train|apply`` runs it.

Which file does what:

* ``settings.py``: the recipe (:class:`TranslateSettings`, a run's ``settings.json``), :func:`load_settings`,
  :func:`check_run_dir` (refuses another kind of run) and the shipped pair's folder :data:`PRETRAINED_DIR`;
* ``inputs.py``: a user's photos or ``.npz`` arrays as Fashion-MNIST-like 28×28 images (:func:`read_inputs`);
* ``models.py``: the builders (:func:`build_generator`, a small ResNet-style generator with instance
  normalization; :func:`build_discriminator`, a PatchGAN; :func:`build_cycle_models`, all four as
  :class:`CycleModels`);
* ``losses.py``: the loss terms, each checked against NumPy in the tests;
* ``step.py``: one training step of all four networks (:func:`cycle_step`) and its ``tf.function``
  (:func:`make_train_step`);
* ``run.py``: :func:`train` into a run directory through ``training.train_loop`` (exact resume, a
  grid of inputs → translations → reconstructions) and :func:`class_images`, the unpaired data;
* ``apply.py``: a trained pair (:class:`Translator`, :func:`load_translator`) and :func:`translate`;
* ``measure.py``: :func:`translation_report` (the share the shipped classifier assigns to the target
  class, the cycle PSNR) and :func:`translation_rows` (the grid, for ``plotting.compare_rows``).

The two classes are named by number or name through :mod:`artlib.classes` (re-exported here:
:func:`class_index`, :func:`class_pair`, :func:`class_name`). ``import artlib.translate`` does not
import TensorFlow; the names from the other files load it on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from artlib.classes import class_index, class_name, class_pair, known_classes
from artlib.translate.inputs import SIDE, fashion_like, read_inputs
from artlib.translate.settings import PRETRAINED_DIR, TranslateSettings, check_run_dir, load_settings

#: Name -> the file that defines it, for the names that need TensorFlow (loaded on first use, PEP 562).
_LAZY = {
    "IMAGE_SHAPE": "models", "CycleModels": "models", "build_generator": "models",
    "build_discriminator": "models", "build_cycle_models": "models",
    "CYCLE_WEIGHT": "losses", "IDENTITY_SHARE": "losses", "generator_adversarial_loss": "losses",
    "discriminator_loss": "losses", "cycle_loss": "losses", "identity_loss": "losses",
    "cycle_step": "step", "make_train_step": "step",
    "class_images": "run", "train": "run",
    "DIRECTIONS": "apply", "GENERATOR_FILES": "apply", "Translator": "apply", "load_translator": "apply",
    "translate": "apply",
    "translation_report": "measure", "translation_rows": "measure",
}

__all__ = ["class_index", "class_name", "class_pair", "known_classes", "PRETRAINED_DIR", "TranslateSettings",
           "load_settings", "check_run_dir", "SIDE", "fashion_like", "read_inputs", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"artlib.translate.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'artlib.translate' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
