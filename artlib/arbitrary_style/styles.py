"""The training data: content crops (photos, jittered) paired with style crops from a procedural style bank."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from artlib import imageio, patterns
from artlib.checks import positive_int, seed_value, unit_float
from artlib.errors import DataError
from artlib.fast_style.content import ContentBatches, image_files
from artlib.style.color import YIQ_FROM_RGB

__all__ = ["STYLE_BANK_SIZES", "recolor", "style_bank", "jitter_colors", "PairBatches"]

#: Sides the patterns of the bank are drawn at: the same compositions at two scales, so crops of one
#: size see strokes and tiles at several sizes.
STYLE_BANK_SIZES = (256, 448)


def recolor(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A new palette for the same picture: the chroma rotated by a random hue angle and rescaled.

    Args:
        image: ``H×W×3`` in [0, 1].
        rng: Draws the angle (any) and the saturation factor (0.6–1.4).

    Returns:
        float32 ``H×W×3`` in [0, 1].
    """
    yiq = image @ YIQ_FROM_RGB.T
    angle, saturation = rng.uniform(0, 2 * np.pi), rng.uniform(0.6, 1.4)
    c, s = np.cos(angle), np.sin(angle)
    iq = yiq[..., 1:] @ (saturation * np.array([[c, -s], [s, c]], np.float32)).T
    rgb = np.concatenate([yiq[..., :1], iq], -1) @ np.linalg.inv(YIQ_FROM_RGB).T
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


def style_bank(seeds: int = 8, *, seed: int = 0, names: Sequence[str] | None = None,
               sizes: Sequence[int] = STYLE_BANK_SIZES, folders: Sequence[str | Path] = (),
               max_dim: int = 512) -> list[np.ndarray]:
    """Style images to train on: every pattern × ``seeds`` compositions × each size, half of them recoloured.

    Args:
        seeds: Compositions per pattern (each drawn at every size in ``sizes``).
        seed: Fixes the compositions and palettes.
        names: Patterns to use (default: all of :data:`artlib.patterns.PATTERNS`).
        sizes: Sides to draw at.
        folders: Folders of the user's own style images (read non-recursively), added as they are.
        max_dim: Long side of a folder's images after loading.

    Returns:
        float32 ``H×W×3`` images in [0, 1].

    Raises:
        ArtlibError: ``seeds`` or ``max_dim`` not a positive integer, or ``seed`` not a seed.
        DataError: a folder without images.
        ImageError: a bad image in a folder.
    """
    seed = seed_value(seed)
    seeds = positive_int(seeds, "seeds")
    max_dim = None if max_dim is None else positive_int(max_dim, "max_dim")
    rng = np.random.default_rng([seed, 17])
    bank = []
    for name in (patterns.PATTERNS if names is None else names):
        for k in range(seeds):
            for size in sizes:
                image = patterns.make_pattern(name, size, seed=seed * 1000 + k)
                bank.append(recolor(image, rng) if k % 2 else image)
    for folder in folders:
        files = image_files(Path(folder))
        if not files:
            raise DataError(f"style folder '{folder}' holds no images (.png, .jpg, …)")
        bank += [imageio.load_image(f, max_dim=max_dim) for f in files]
    return bank


def jitter_colors(images: np.ndarray, rng: np.random.Generator, amount: float = 0.2) -> np.ndarray:
    """Random brightness, contrast and saturation per image (each factor in 1 ± ``amount``).

    Args:
        images: ``N×H×W×3`` in [0, 1].
        rng: The random source.
        amount: How far the factors go.

    Returns:
        float32 ``N×H×W×3`` in [0, 1].
    """
    n = len(images)
    brightness, contrast, saturation = (rng.uniform(1 - amount, 1 + amount, (3, n, 1, 1, 1))).astype(np.float32)
    gray = images @ YIQ_FROM_RGB[0]
    x = gray[..., None] + saturation * (images - gray[..., None])
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    x = mean + contrast * (x - mean)
    return np.clip(brightness * x, 0.0, 1.0).astype(np.float32)


class PairBatches(Sequence):
    """One epoch of ``(content, style)`` batches; batch ``i`` of epoch ``e`` depends only on ``(seed, e, i)``.

    Content: random zoomed, flipped crops of the photos, colour-jittered. Style: the same of the
    style bank, not jittered (its colours are the style), but a share of them given a fresh palette
    (:func:`recolor`), so that the decoder meets new colours at every step, not the bank's few.

    Args:
        photos, styles: ``H×W×3`` images in [0, 1].
        image_size: Side of the square crops. batch_size: Pairs per batch.
        steps_per_epoch: Batches per epoch. seed: Fixes everything. epoch: Which epoch.
        recolor_share: The share of style crops recoloured, each with its own random palette (0: none).

    Items are ``(content, style)``, each float32 ``batch_size×image_size×image_size×3`` in [0, 1].
    """

    def __init__(self, photos: Sequence[np.ndarray], styles: Sequence[np.ndarray], image_size: int,
                 batch_size: int, *, steps_per_epoch: int = 100, seed: int = 0, epoch: int = 0,
                 recolor_share: float = 0.0):
        seed = seed_value(seed)
        if not styles:
            raise DataError("no style images to train on")
        self.recolor_share = unit_float(recolor_share, "recolor_share")
        self.content = ContentBatches(photos, image_size, batch_size, steps_per_epoch=steps_per_epoch,
                                      seed=seed, epoch=epoch)
        self.styles = ContentBatches(styles, image_size, batch_size, steps_per_epoch=steps_per_epoch,
                                     seed=seed + 7919, epoch=epoch)
        self.seed, self.epoch = seed, epoch

    def __len__(self) -> int:
        return len(self.content)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        content = self.content[index]
        rng = np.random.default_rng([self.seed, self.epoch, index, 3])
        styles = self.styles[index]
        if self.recolor_share > 0:
            palette_rng = np.random.default_rng([self.seed, self.epoch, index, 5])
            picked = palette_rng.uniform(size=len(styles)) < self.recolor_share
            styles = np.stack([recolor(s, palette_rng) if p else s for s, p in zip(styles, picked)])
        return jitter_colors(content, rng), styles
