"""The experiments of notebook 09 as functions: from imitation to innovation, trained and measured one way.

* :func:`creative_sweep` trains a creative adversarial network at several ``creative_weight``
  values with the same recipe and the same number of steps (weight 0 is the plain GAN);
* :func:`finetune_variants` adapts a trained GAN to a new class from a few images, with and
  without FreezeD, beside the same recipe trained from scratch on the same images;
* :func:`measure_runs` samples each run's generator and measures the samples with
  :func:`artlib.metrics.sample_report` against the same real images, so that one
  :func:`artlib.metrics.report_table` puts them side by side.

Each run is an ordinary GAN run directory under ``root``: a second call resumes or skips
what is done, and ``python -m artlib gan sample --run-dir`` reads any of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from artlib import config
from artlib.checks import positive_int, seed_value
from artlib.errors import ArtlibError, DataError

__all__ = ["INNOVATION_DIR", "creative_sweep", "finetune_variants", "measure_runs", "shipped_creative_runs",
           "FINETUNE_VARIANTS"]

#: The shipped runs of notebook 09 (made by benchmarks/innovation_benchmark.py; see data/README.md):
#: ``nine/`` (a GAN on every class but the ankle boot, with its discriminator, for fine-tuning) and
#: ``creative-<weight>/`` (the generators of the creative-weight sweep).
INNOVATION_DIR = config.PRETRAINED_DIR / "innovation"

#: The fine-tuning variants :func:`finetune_variants` trains: name -> frozen convolutions (None: from scratch).
FINETUNE_VARIANTS = {"from scratch": None, "fine-tuned": 0, "fine-tuned, FreezeD": 1}


def creative_sweep(root: str | Path, weights: Iterable[float], *, settings: Mapping[str, Any] | None = None,
                   num_steps: int, images: np.ndarray | None = None, labels: np.ndarray | None = None,
                   quiet: bool | None = None) -> dict[float, Path]:
    """Train one GAN per creative weight, each ``num_steps`` steps of the same recipe.

    Args:
        root: Folder of the runs; weight w trains into ``root/creative-<w>``.
        weights: The style-ambiguity weights (0: the plain GAN, the point of comparison).
        settings: The recipe the runs share (default artlib's, :class:`artlib.gan.GANSettings`).
        num_steps: Steps per run: the same training for every weight.
        images, labels: Training images and labels (default: Fashion-MNIST's training set).
        quiet: Hide the progress bars.

    Returns:
        ``{weight: run directory}``, in the order given.

    Raises:
        ArtlibError: No weights, or a weight below 0.
    """
    from artlib.gan.run import GANSettings, train

    weights = [float(w) for w in weights]
    if not weights:
        raise ArtlibError("creative_sweep needs at least one weight")
    runs = {}
    for weight in weights:
        run_dir = Path(root) / f"creative-{weight:g}"
        recipe = GANSettings(**{**(settings or {}), "creative_weight": weight})
        train(run_dir, recipe, images=images, labels=labels, num_steps=positive_int(num_steps, "num_steps"),
              quiet=quiet)
        runs[weight] = run_dir
    return runs


def finetune_variants(root: str | Path, source: str | Path, target_class: int, *, num_images: int = 100,
                      num_steps: int, variants: Mapping[str, int | None] = FINETUNE_VARIANTS,
                      images: np.ndarray | None = None, labels: np.ndarray | None = None,
                      quiet: bool | None = None) -> dict[str, Path]:
    """Learn ``target_class`` from its first ``num_images`` training images, several ways, the same number of steps.

    Args:
        root: Folder of the runs (one sub-folder a variant).
        source: A trained GAN run directory (e.g. on the other nine classes) to fine-tune.
        target_class: The class 0–9 to learn.
        num_images: How many of its training images every variant sees.
        num_steps: Steps per variant.
        variants: ``{name: frozen convolutions}``: None trains the source's recipe from scratch
            on the same images; 0 fine-tunes everything; 1 freezes the discriminator's first
            convolution (FreezeD).
        images, labels: Training images and labels (default: Fashion-MNIST's training set).
        quiet: Hide the progress bars.

    Returns:
        ``{variant name: run directory}``.
    """
    from artlib.gan.finetune import finetune, new_class_settings
    from artlib.gan.run import train

    runs = {}
    for name, freeze_d in variants.items():
        run_dir = Path(root) / name.replace(", ", "-").replace(" ", "-").lower()
        if freeze_d is None:  # the source's recipe, from its initial weights, on the same few images
            recipe = new_class_settings(source, target_class, num_images=num_images, from_scratch=True)
            train(run_dir, recipe, images=images, labels=labels, num_steps=num_steps, quiet=quiet)
        else:
            finetune(run_dir, source, target_class, num_images=num_images, freeze_d=freeze_d,
                     num_steps=num_steps, images=images, labels=labels, quiet=quiet)
        runs[name] = run_dir
    return runs


def measure_runs(runs: Mapping[Any, str | Path], train_images: Any, *, reference_images: Any = None,
                 num_samples: int = 1000, seed: int = 0, memo: Any = None) -> dict[Any, dict[str, Any]]:
    """Sample every run's generator and measure the samples the same way.

    Args:
        runs: ``{name: GAN run directory}`` (or a folder with a ``generator.keras``).
        train_images: What the runs learnt from (near-copies and nearest images are searched there).
        reference_images: Real images none of them saw (default: the Fashion-MNIST test set).
        num_samples: Samples per run (the Fréchet distance depends on it: compare equal counts).
        seed: Seeds the latents (the same for every run) and the report.
        memo: A :class:`artlib.metrics.SampleMemo` shared by the reports (default: a new one).

    Returns:
        ``{name: report}``: :func:`artlib.metrics.sample_report`'s dict, plus ``"samples"``
        (the images, float32 (N, 28, 28) in [0, 1]).
    """
    seed = seed_value(seed)
    from artlib import metrics
    from artlib.gan.run import load_generator
    from artlib.gan.sampling import sample

    memo = memo if memo is not None else metrics.SampleMemo()
    reports = {}
    for name, run_dir in runs.items():
        samples = sample(load_generator(run_dir), positive_int(num_samples, "num_samples"), seed=seed)
        reports[name] = {**metrics.sample_report(samples, train_images, reference_images=reference_images,
                                                 seed=seed, memo=memo), "samples": samples}
    return reports


def shipped_creative_runs(folder: str | Path = INNOVATION_DIR) -> dict[float, Path]:
    """The shipped creative-weight sweep: ``{weight: folder with generator.keras}``, by weight.

    Args:
        folder: Where the ``creative-<weight>`` folders are (default: :data:`INNOVATION_DIR`).

    Returns:
        The runs, smallest weight (the plain GAN, 0) first.

    Raises:
        DataError: No ``creative-<weight>`` folder with a generator there.
    """
    runs = {}
    for run_dir in Path(folder).glob("creative-*"):
        try:
            weight = float(run_dir.name.split("-", 1)[1])
        except ValueError:
            continue
        if (run_dir / "generator.keras").is_file():
            runs[weight] = run_dir
    if not runs:
        raise DataError(f"no creative-<weight> runs in {folder}: reinstall artlib, or train them with "
                        "gan.creative_sweep (python benchmarks/innovation_benchmark.py)")
    return dict(sorted(runs.items()))
