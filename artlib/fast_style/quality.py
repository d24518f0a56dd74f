"""How good a style network is: its style distance against an optimization's, on photos it never saw.

The quality number of notebook 07's section 5 and of ``benchmarks/fast_style_benchmark.py``, measured
in one place. Each photo is painted twice towards the same style image: by the network (one forward
pass) and by optimization-based style transfer (:func:`artlib.style.style_transfer`: L-BFGS, coarse to
fine, notebook 06). Both results are judged by the same features and layers — those the network was
trained with (:func:`judge_for` reads them from its recipe), since a network cannot be asked to match
statistics of layers its loss never saw — as the style distance of :func:`artlib.style.evaluate`
(relative Gram-matrix distance to the style; 0 = the style's statistics exactly). The ratio
network ÷ optimization is the number; its target is :data:`QUALITY_TARGET` on every photo, so
:func:`summarize` reports the worst photo beside the mean.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from artlib import style
from artlib.errors import ArtlibError
from artlib.fast_style.render import stylize_image
from artlib.fast_style.train import loss_extractor

__all__ = ["QUALITY_TARGET", "judge_for", "compare_with_optimization", "summarize", "format_table", "picture_rows"]

#: The quality target: the network's style distance at most 25 % above a full optimization's.
QUALITY_TARGET = 1.25


def judge_for(recipe: Mapping[str, Any], *, style_source: str | None = None,
              style_size: int | None = None) -> tuple[style.FeatureExtractor, np.ndarray]:
    """The features and style image a network is judged by: those of its training loss.

    Args:
        recipe: How the network was trained (:func:`~artlib.fast_style.load_recipe`, or a
            ``FastStyleResult.settings``): its ``features``, ``content_layers``, ``style_layers``,
            ``style``, ``style_size`` and ``seed``; a missing entry takes the training default.
        style_source: The style when the recipe names none (a network saved without one).
        style_size: The style image's long side instead of the recipe's (a quick smoke run).

    Returns:
        ``(judge, style_image)``: the loss's feature extractor and the style image at the size it learned.

    Raises:
        ArtlibError: Neither the recipe nor ``style_source`` names a style.
    """
    source = recipe.get("style", style_source)
    if not source:
        raise ArtlibError("the recipe names no style: pass style_source (e.g. 'pattern:waves')")
    judge = loss_extractor(recipe.get("features", "auto"), recipe.get("content_layers"),
                           recipe.get("style_layers"), seed=recipe.get("seed", 0), verbose=False)
    style_image = style.load_style_image(source, max_dim=style_size or recipe.get("style_size", 256),
                                         seed=recipe.get("seed", 0))
    return judge, style_image


def compare_with_optimization(network: Any, photos: Mapping[str, Any], style_image: Any,
                              judge: style.FeatureExtractor, *, extractor: style.FeatureExtractor,
                              max_dim: int = 256, steps: int | None = None,
                              timed: bool = False) -> list[dict[str, Any]]:
    """Paint each photo with ``network`` and with optimization, and judge both alike.

    Args:
        network: A transformation network (``keras.Model``).
        photos: ``{name: photo}``, ``H×W×3`` in [0, 1] (e.g. the held-out :data:`EVAL_PHOTOS`).
        style_image: The style the network learned, and the optimization's target.
        judge: The features both results are measured with (:func:`judge_for`).
        extractor: The optimization's own features and layers (``style.FeatureExtractor(weights)``: its
            recipe, block 1 to 5, not the network's loss layers).
        max_dim: Long side of the optimization's result (the network paints the photo at its size:
            pass photos of this size to compare like with like).
        steps: L-BFGS steps per stage of the optimization (default: its own, 100).
        timed: Also time both per photo, each after an untimed call at that size (tracing excluded).

    Returns:
        One dict per photo, in order: ``name``; the images ``photo``, ``optimized``, ``painted``; the
        style distances ``distance_photo`` (the unpainted photo's, for scale), ``distance_optimized``,
        ``distance_network``; ``ratio`` (network ÷ optimized); SSIM to the photo ``ssim_optimized``,
        ``ssim_network``; ``seconds_optimized`` and ``seconds_network`` (None unless ``timed``);
        ``settings`` (the optimization's: steps and sizes).

    Raises:
        ArtlibError: No photos.
    """
    if not photos:
        raise ArtlibError("compare_with_optimization needs at least one photo")
    rows = []
    for name, photo in photos.items():
        photo = np.asarray(photo, np.float32)
        seconds_optimized = seconds_network = None
        if timed:  # trace the objective and the forward pass at these sizes first
            style.style_transfer(photo, style_image, max_dim=max_dim, steps=1, extractor=extractor, verbose=False)
            stylize_image(network, photo)
        start = time.perf_counter()
        optimized = style.style_transfer(photo, style_image, max_dim=max_dim, steps=steps, extractor=extractor,
                                         verbose=False)
        middle = time.perf_counter()
        painted = stylize_image(network, photo)
        if timed:
            seconds_optimized, seconds_network = middle - start, time.perf_counter() - middle
        m_photo, m_optimized, m_network = (style.evaluate(image, photo, [style_image], judge)
                                           for image in (photo, optimized.image, painted))
        rows.append({"name": name, "photo": photo, "optimized": optimized.image, "painted": painted,
                     "distance_photo": m_photo["style_distance"],
                     "distance_optimized": m_optimized["style_distance"],
                     "distance_network": m_network["style_distance"],
                     "ratio": m_network["style_distance"] / m_optimized["style_distance"],
                     "ssim_optimized": m_optimized["ssim"], "ssim_network": m_network["ssim"],
                     "seconds_optimized": seconds_optimized, "seconds_network": seconds_network,
                     "settings": optimized.settings})
    return rows


def summarize(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The means over photos of :func:`compare_with_optimization`'s numbers, and the worst ratio.

    Returns:
        ``distance_photo``, ``distance_optimized``, ``distance_network``, ``ratio``, ``ssim_optimized``,
        ``ssim_network`` (means), ``ratio_worst`` (the largest ratio) and ``target_met`` (every
        photo's ratio ≤ :data:`QUALITY_TARGET`).
    """
    if not rows:
        raise ArtlibError("summarize needs at least one photo's row")
    keys = ("distance_photo", "distance_optimized", "distance_network", "ratio", "ssim_optimized", "ssim_network")
    summary: dict[str, Any] = {key: float(np.mean([row[key] for row in rows])) for key in keys}
    summary["ratio_worst"] = float(max(row["ratio"] for row in rows))
    summary["target_met"] = summary["ratio_worst"] <= QUALITY_TARGET
    return summary


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of the rows and a last line with the mean and worst ratio against the target."""
    summary = summarize(rows)
    lines = [f"{'photo':10s} {'style d. photo':>14s} {'optimized':>10s} {'network':>8s} {'ratio':>6s} "
             f"{'SSIM opt':>9s} {'SSIM net':>9s}"]
    lines += [f"{row['name']:10s} {row['distance_photo']:14.3f} {row['distance_optimized']:10.3f} "
              f"{row['distance_network']:8.3f} {row['ratio']:6.2f} {row['ssim_optimized']:9.3f} "
              f"{row['ssim_network']:9.3f}" for row in rows]
    lines.append(f"quality ratio network / optimized: {summary['ratio']:.2f} (worst {summary['ratio_worst']:.2f}; "
                 f"target ≤ {QUALITY_TARGET:g})")
    return "\n".join(lines)


def picture_rows(rows: list[dict[str, Any]], columns: str = "photo · optimized · network") -> dict[str, list[Any]]:
    """``{"<photo>: <columns>": [photo, optimized, painted]}`` for :func:`artlib.plotting.compare_rows`."""
    return {f"{row['name']}: {columns}": [row["photo"], row["optimized"], row["painted"]] for row in rows}
