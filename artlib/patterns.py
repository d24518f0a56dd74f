"""Procedural style images: paintings made of code, for style transfer without the internet.

artlib ships one public-domain painting (``painting:starry_night``, :data:`artlib.data.PAINTINGS`) and draws
the rest of its offline styles.
Each generator is seeded and resolution-independent: the composition (where the
swirls, strokes and tiles are) is drawn in relative coordinates from the seed, so
``make_pattern("swirls", 256)`` and ``make_pattern("swirls", 1024)`` are the same
picture at two resolutions, only the fine grain differs. That is what
coarse-to-fine style transfer needs.

=================  ==============================================================
``swirls``         night-sky swirls in blues and yellows (a nod to "Starry Night"):
                   streaks along a swirling flow field (line-integral convolution)
``brushstrokes``   impressionist dabs of paint following a smooth direction field
``mosaic``         stained glass: Voronoi tiles in saturated colours with dark lead
``waves``          woodcut waves: wavy bands in Prussian blue, teal and cream
``shards``         a Kandinsky-like composition of flat polygons, circles and lines
=================  ==============================================================

Example:
    >>> image = make_pattern("mosaic", 64, seed=1)
    >>> image.shape, image.dtype
    ((64, 64, 3), dtype('float32'))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from artlib.checks import seed_value, size_pair
from artlib.errors import ArtlibError

__all__ = ["PATTERNS", "make_pattern"]


def _size_pair(size: int | Sequence[int]) -> tuple[int, int]:
    height, width = size_pair(size, "pattern size")
    if height < 8 or width < 8 or height * width > 50_000_000:
        raise ArtlibError(f"pattern size must be at least 8×8 and at most 50 megapixels; got {height}×{width}")
    return height, width


def _hex(colors: str) -> np.ndarray:
    """'#0b1d51 #1f4e9c' -> float32 (n, 3) in [0, 1]."""
    return np.array([[int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)] for c in colors.split()], np.float32)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Smooth noise with about ``cells`` bumps across the short side, unit std, any resolution.

    Drawn on a small grid fixed by the seed and the aspect ratio, then upsampled:
    the same seed gives the same field at every resolution.
    """
    height, width = shape
    gh, gw = (max(4, round(cells * s / min(shape))) for s in (height, width))
    grid = ndimage.gaussian_filter(rng.standard_normal((gh + 4, gw + 4)), 1.0, mode="wrap")[2:-2, 2:-2]
    field = ndimage.zoom(grid, (height / gh, width / gw), order=3, mode="nearest", grid_mode=True)
    field = field[:height, :width]
    return ((field - field.mean()) / (field.std() + 1e-8)).astype(np.float32)


def _palette_lookup(values: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] onto a piecewise-linear colour ramp through ``palette``."""
    stops = np.linspace(0.0, 1.0, len(palette))
    v = np.clip(values, 0.0, 1.0)
    return np.stack([np.interp(v, stops, palette[:, c]) for c in range(3)], axis=-1).astype(np.float32)


def _grain(rng: np.random.Generator, shape: tuple[int, int], amount: float) -> np.ndarray:
    return (amount * rng.standard_normal((*shape, 1))).astype(np.float32)


def _rank(field: np.ndarray) -> np.ndarray:
    """Values -> their quantiles in [0, 1] (an even spread of every palette colour)."""
    order = field.ravel().argsort().argsort()
    return (order / max(1, order.size - 1)).reshape(field.shape).astype(np.float32)


# ----------------------------------------------------------------------------- swirls

def _swirls(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    height, width = shape
    short = min(shape)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) / short  # relative coordinates
    # Stream function: a few vortices plus smooth noise. Its rotated gradient is a swirling,
    # divergence-free flow, along which the paint is smeared.
    psi = 0.6 * _smooth_noise(rng, shape, 3)
    centers = rng.uniform([0.1, 0.1], [height / short - 0.1, width / short - 0.1], (7, 2))
    radii = rng.uniform(0.08, 0.22, 7)
    spins = rng.choice([-1.0, 1.0], 7) * rng.uniform(1.0, 2.0, 7)
    for (cy, cx), r, s in zip(centers, radii, spins):
        psi += s * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    gy, gx = np.gradient(psi)
    vy, vx = gx, -gy
    norm = np.sqrt(vx * vx + vy * vy) + 1e-8
    vy, vx = vy / norm, vx / norm
    # Line-integral convolution: average a streaky noise along the flow lines.
    grain = max(1.0, short / 300)
    noise = ndimage.zoom(rng.random((int(height / grain) + 1, int(width / grain) + 1)),
                         grain, order=1)[:height, :width]
    step = short / 220
    total = noise.copy()
    for direction in (1.0, -1.0):
        py, px = np.mgrid[0:height, 0:width].astype(np.float32)
        for _ in range(18):
            sy = ndimage.map_coordinates(vy, [py, px], order=1, mode="nearest")
            sx = ndimage.map_coordinates(vx, [py, px], order=1, mode="nearest")
            py = np.clip(py + direction * step * sy, 0, height - 1)
            px = np.clip(px + direction * step * sx, 0, width - 1)
            total += ndimage.map_coordinates(noise, [py, px], order=1, mode="mirror")
    lic = total / 37.0
    lic = (lic - lic.mean()) / (lic.std() + 1e-8)
    base = _rank(psi + 0.25 * _smooth_noise(rng, shape, 6))
    palette = _hex("#081633 #0e2a6b #1d4fa3 #3b7bd4 #7fb0e8 #2a5aa8 #12306e")
    image = _palette_lookup(base, palette) * (1.0 + 0.22 * lic[..., None])
    # Glowing yellow stars with halo rings at some vortex centres.
    star = np.zeros(shape, np.float32)
    for (cy, cx), r in zip(centers[:4], radii[:4]):
        d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) / (0.45 * r)
        star = np.maximum(star, np.exp(-d ** 2) * (0.75 + 0.25 * np.cos(14 * d + lic)))
    yellow = _hex("#f5d548")[0] * (1.0 + 0.15 * lic[..., None])
    image = image * (1 - star[..., None]) + yellow * star[..., None]
    return image


# ----------------------------------------------------------------------------- brush strokes

def _draw_strokes(canvas: Image.Image, rng: np.random.Generator, angle: np.ndarray, color_at: Callable,
                  count: int, length: float, width: float) -> None:
    draw = ImageDraw.Draw(canvas)
    height, width_px = angle.shape
    ys = rng.uniform(0, height, count)
    xs = rng.uniform(0, width_px, count)
    jitter = rng.normal(0.0, 0.06, (count, 3))
    lengths = length * rng.uniform(0.6, 1.4, count)
    for y, x, j, ell in zip(ys, xs, jitter, lengths):
        a = angle[int(y), int(x)]
        dy, dx = np.sin(a) * ell / 2, np.cos(a) * ell / 2
        color = np.clip(color_at(int(y), int(x)) + j, 0, 1)
        rgb = tuple(int(255 * c) for c in color)
        light = tuple(int(255 * min(1.0, c * 1.25 + 0.08)) for c in color)
        w = max(1, int(width))
        draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=rgb, width=w)
        draw.line([(x - dx * 0.8 - 0.2 * w * np.sin(a), y - dy * 0.8 + 0.2 * w * np.cos(a)),
                   (x + dx * 0.8 - 0.2 * w * np.sin(a), y + dy * 0.8 + 0.2 * w * np.cos(a))],
                  fill=light, width=max(1, w // 4))


def _brushstrokes(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    height, width = shape
    short = min(shape)
    palette = _hex("#1b3a4b #3f6e5a #8bb174 #e9c46a #f4a261 #e76f51 #f1e3c2 #6d9dc5")
    field = _palette_lookup(_rank(_smooth_noise(rng, shape, 3)), palette)
    angle = (np.pi * 0.8 * _smooth_noise(rng, shape, 2) + rng.uniform(0, np.pi)).astype(np.float32)
    canvas = Image.fromarray((255 * ndimage.gaussian_filter(field, (short / 40, short / 40, 0))).astype(np.uint8))
    layers = [(short / 9, short / 28, 1.6), (short / 16, short / 50, 2.2)]
    for length, stroke, coverage in layers:
        count = int(coverage * height * width / (length * stroke))
        _draw_strokes(canvas, rng, angle, lambda y, x: field[y, x], count, length, stroke)
    return np.asarray(canvas, np.float32) / 255 + _grain(rng, shape, 0.02)


# ----------------------------------------------------------------------------- mosaic

def _mosaic(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    from scipy.spatial import cKDTree

    height, width = shape
    short = min(shape)
    n = int(260 * height * width / short ** 2)
    seeds = rng.random((n, 2)) * [height / short, width / short]  # relative coordinates
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) / short
    dist, label = cKDTree(seeds).query(np.stack([yy.ravel(), xx.ravel()], axis=1), k=2)
    label = label[:, 0].reshape(shape)
    edge = (dist[:, 1] - dist[:, 0]).reshape(shape) * short  # pixels to the nearest border
    palette = _hex("#b8232f #e0a526 #1f5fa8 #2f8f5b #6a2c8e #e86a1c #0f7c8c #f2d8a7")
    tone = _rank(_smooth_noise(rng, shape, 2))
    cell_tone = tone[np.clip((seeds[:, 0] * short).astype(int), 0, height - 1),
                     np.clip((seeds[:, 1] * short).astype(int), 0, width - 1)]
    choice = (np.round(cell_tone * (len(palette) - 1)).astype(int) + rng.integers(0, 3, n)) % len(palette)
    colors = palette[choice] * rng.uniform(0.8, 1.15, (n, 1))
    image = colors[label]
    shade = 1.0 - 0.25 * np.clip(edge / (short / 25), 0, 1) * rng.uniform(0, 1, n)[label]  # glass
    image = image * shade[..., None]
    lead = np.clip(edge / max(1.0, short / 180) - 1.0, 0, 1)[..., None]  # dark lines between tiles
    image = image * lead + _hex("#1c1a17")[0] * (1 - lead)
    return image + _grain(rng, shape, 0.025)


# ----------------------------------------------------------------------------- waves

def _waves(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    height, width = shape
    short = min(shape)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) / short
    warp = _smooth_noise(rng, shape, 3)
    phase = (yy * 9.0 + 0.9 * np.sin(xx * 7.0 + 2.0 * warp) + 0.6 * warp
             + 0.3 * np.sin(xx * 23.0 + yy * 5.0))
    band = np.floor(phase)
    frac = phase - band
    palette = _hex("#0d2240 #1c4b82 #2f7ea6 #9cc9d9 #f3ead3 #1c4b82")
    index = (band.astype(int) + (warp > 1.2)) % len(palette)
    image = palette[index]
    # Foam: a cream crest with a thin dark outline at the top of each band, like a woodcut.
    crest = np.clip((frac - 0.78) / 0.08, 0, 1) * np.clip((0.97 - frac) / 0.03, 0, 1)
    outline = np.clip(1 - np.abs(frac - 0.99) / 0.02, 0, 1)
    cream, ink = _hex("#f3ead3 #0a1424")
    image = image * (1 - crest[..., None]) + cream * crest[..., None]
    image = image * (1 - outline[..., None]) + ink * outline[..., None]
    hatching = 0.06 * np.sin((xx + yy) * short * 0.8)[..., None]  # engraved fine lines
    return image + hatching + _grain(rng, shape, 0.02)


# ----------------------------------------------------------------------------- shards

def _shards(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    height, width = shape
    scale = 2  # draw large, shrink: smooth edges
    canvas = Image.new("RGB", (width * scale, height * scale))
    draw = ImageDraw.Draw(canvas)
    background = _palette_lookup(_rank(_smooth_noise(rng, shape, 2)), _hex("#f1e6c8 #e8d3a2 #c9d6d0 #efe0b9"))
    canvas.paste(Image.fromarray((255 * background).astype(np.uint8)).resize(canvas.size))
    palette = _hex("#d7263d #f46036 #2e294e #1b998b #c5d86d #fcd23c #3a86ff #111111")
    hw = np.array([width * scale, height * scale], np.float32)
    unit = min(hw)

    def rgb() -> tuple[int, int, int]:
        return tuple(int(255 * c) for c in palette[rng.integers(len(palette))])

    for _ in range(int(40 * height * width / min(shape) ** 2)):
        kind = rng.choice(["polygon", "circle", "line"], p=[0.5, 0.25, 0.25])
        center = rng.random(2) * hw
        size = unit * rng.uniform(0.04, 0.22)
        if kind == "polygon":
            k = rng.integers(3, 6)
            angles = np.sort(rng.uniform(0, 2 * np.pi, k))
            radius = size * rng.uniform(0.5, 1.0, k)
            points = [tuple(center + r * np.array([np.cos(a), np.sin(a)])) for a, r in zip(angles, radius)]
            draw.polygon(points, fill=rgb(), outline=(17, 17, 17), width=max(1, int(unit / 250)))
        elif kind == "circle":
            r = size * 0.6
            draw.ellipse([*(center - r), *(center + r)], fill=rgb(), outline=(17, 17, 17),
                         width=max(1, int(unit / 200)))
            if rng.random() < 0.5:
                r2 = r * 0.5
                draw.ellipse([*(center - r2), *(center + r2)], fill=rgb())
        else:
            a = rng.uniform(0, np.pi)
            d = np.array([np.cos(a), np.sin(a)]) * size * 1.5
            draw.line([tuple(center - d), tuple(center + d)], fill=rgb(), width=max(1, int(unit / 90)))
    image = np.asarray(canvas.resize((width, height), Image.LANCZOS), np.float32) / 255
    return image + _grain(rng, shape, 0.02)


PATTERNS: dict[str, Callable[[tuple[int, int], np.random.Generator], np.ndarray]] = {
    "swirls": _swirls,
    "brushstrokes": _brushstrokes,
    "mosaic": _mosaic,
    "waves": _waves,
    "shards": _shards,
}


def make_pattern(name: str, size: int | Sequence[int] = 512, seed: int = 0) -> np.ndarray:
    """Draw one procedural style image.

    Args:
        name: One of :data:`PATTERNS` (``"swirls"``, ``"brushstrokes"``, ``"mosaic"``,
            ``"waves"``, ``"shards"``).
        size: Side in pixels (square), or ``(height, width)``.
        seed: The same seed gives the same composition at every size.

    Returns:
        float32 ``height×width×3`` pixels in [0, 1].

    Raises:
        ArtlibError: an unknown name (the message lists the known ones), a size that is not one or two
            whole numbers or is absurd, or a seed that is not a whole number ≥ 0. (An ``ArtlibError`` is a
            ``ValueError``.)
    """
    if name not in PATTERNS:
        raise ArtlibError(f"unknown pattern {name!r}; choose one of {', '.join(PATTERNS)}")
    shape = _size_pair(size)
    seed = seed_value(seed)
    image = PATTERNS[name](shape, np.random.default_rng([seed, sorted(PATTERNS).index(name)]))
    return np.clip(image, 0.0, 1.0).astype(np.float32)
