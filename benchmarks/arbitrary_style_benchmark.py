"""Arbitrary style transfer (AdaIN): time per image, and quality on styles the decoder never saw.

    python benchmarks/arbitrary_style_benchmark.py [--quick] [--decoder D.keras ...] [--figure F.png] [--optimum N]
        [--style-colours]

Prints, in one process on this machine:

* seconds per image at 256² and 512², batch 1, steady state (warm-up excluded): with the style's
  statistics computed once (one style, many photos) and with a new style image every call (the
  style encoded too, as a peer that takes "a photo and any style image" does), plain and with XLA;
* the trade-off of encoder depth and decoder width: time per 256² image for each variant (speed
  does not depend on the weights);
* quality on **held-out styles** — three generators written here, not in ``artlib.patterns``, so no
  decoder trained on the pattern bank has seen them: for each held-out photo
  (``fast_style.EVAL_PHOTOS``) × style, the style distance (``style.evaluate``, optimization's layers
  on the decoder's features) of the AdaIN result / that of ``style.style_transfer``'s result with its
  defaults (target ≤ 1.5), the content distance and SSIM of both, for every ``--decoder`` given
  (default: the shipped one); with ``--style-colours`` each decoder also with ``stylize(..., style_colours=True)``
  (its painting recoloured in the style's colour mean and covariance);
* with ``--optimum N``, the same measures for AdaIN's own objective minimized over the image's pixels
  (``arbitrary_style.optimize_objective``, N L-BFGS evaluations from the first decoder's painting):
  what a perfect decoder would paint, so that the gap to 1.5 can be put on the decoder or on the objective.

``--quick`` is a seconds-long smoke run at small sizes with an untrained decoder.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib.cli.common import nonnegative_int, positive_int  # noqa: E402  (no TensorFlow)

from artlib import config  # noqa: E402  (selects the TensorFlow backend)

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402


#: The row name of ``--optimum``: AdaIN's objective minimized over the pixels of each pair's image.
OPTIMUM = "AdaIN objective's optimum"


def plaid(size: int, seed: int = 0) -> np.ndarray:
    """Tartan: crossing bands of three colours with a twill grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    colors = rng.uniform(0.1, 0.9, (3, 3))
    bands = lambda t: (np.sin(2 * np.pi * (6 * t + rng.uniform())) > 0.3).astype(float)  # noqa: E731
    h, v = bands(y), bands(x)
    fine = ((np.floor(x * size / 3) + np.floor(y * size / 3)) % 2) * 0.08
    image = colors[0] * (1 - h[..., None]) * (1 - v[..., None]) + colors[1] * h[..., None] + \
        colors[2] * v[..., None] * 0.8
    return np.clip(image + fine[..., None], 0, 1).astype(np.float32)


def pointillism(size: int, seed: int = 0) -> np.ndarray:
    """Seurat-like: thousands of small dots of a warm and a cool palette over a pale ground."""
    rng = np.random.default_rng(seed)
    canvas = Image.new("RGB", (size, size), (235, 228, 210))
    draw = ImageDraw.Draw(canvas)
    palette = np.array([[214, 92, 60], [242, 190, 70], [70, 120, 200], [60, 160, 110], [150, 80, 160]])
    for _ in range(int(size * size / 30)):
        cx, cy = rng.uniform(0, size, 2)
        r = size / 120 * rng.uniform(0.7, 1.4)
        tone = palette[int((np.sin(cx / size * 5) + np.cos(cy / size * 4) + 2) / 4 * len(palette) +
                           rng.integers(-1, 2)) % len(palette)]
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(int(c) for c in tone))
    return np.asarray(canvas, np.float32) / 255.0


def marble(size: int, seed: int = 0) -> np.ndarray:
    """Marbled paper: veins of sin(x + turbulence) in ink colours."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.normal(size=(size, size)), size / 16)
    noise /= noise.std() + 1e-8
    y, x = np.mgrid[0:size, 0:size] / size
    t = (np.sin(2 * np.pi * (4 * x + 3 * y + 1.2 * noise)) + 1) / 2
    dark, light = np.array([0.12, 0.10, 0.35]), np.array([0.95, 0.85, 0.65])
    return np.clip(dark + (light - dark) * t[..., None] ** 1.5, 0, 1).astype(np.float32)


HELD_OUT_STYLES = {"plaid": plaid, "pointillism": pointillism, "marble": marble}


def seconds_per_image(fn, repeats: int) -> float:
    fn()  # warm-up: trace this size
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--decoder", nargs="*", default=None, help="decoder files to judge (default: the shipped one)")
    parser.add_argument("--repeats", type=positive_int, default=None, help="images timed per size (default 10)")
    parser.add_argument("--stylize-steps", type=positive_int, default=None, help="optimization's L-BFGS steps (default its own)")
    parser.add_argument("--figure", default=None, help="save photo / optimized / AdaIN rows as a PNG")
    parser.add_argument("--no-timing", action="store_true", help="quality only")
    parser.add_argument("--optimum", type=nonnegative_int, default=0, metavar="N",
                        help="also optimize AdaIN's own objective for each pair (N L-BFGS evaluations, from the "
                        "first decoder's painting): what a perfect decoder would paint")
    parser.add_argument("--style-colours", action="store_true",
                        help="also judge each decoder with stylize(..., style_colours=True)")
    args = parser.parse_args(argv)

    from artlib import arbitrary_style as A
    from artlib import data, fast_style, style

    quick = args.quick
    repeats = args.repeats or (2 if quick else 10)
    sizes = (64, 96) if quick else (256, 512)
    eval_size = 64 if quick else 256
    print(f"machine: {config.describe_machine()}; {'quick smoke run' if quick else 'full run'}")
    if quick:
        encoder = A.Encoder("auto", verbose=False)
        models = {"untrained": A.ArbitraryStyle(A.build_decoder(width=16), encoder)}
    else:
        paths = args.decoder or [str(A.SHIPPED_DECODER)]
        models = {Path(p).stem: A.load(p, verbose=False) for p in paths}
        encoder = next(iter(models.values())).encoder
    print(f"encoder: {encoder.source}, to {encoder.depth}")
    photo_rng = np.random.default_rng(0)

    if not args.no_timing:
        model = next(iter(models.values()))
        for size in sizes:
            photo = photo_rng.uniform(0, 1, (size, size, 3)).astype(np.float32)
            styles = [np.asarray(s) for s in (A.style_bank(1, sizes=(size,), names=["mosaic", "waves"]))]
            moments = model.style_moments(styles[0], max_dim=size)
            def cached():
                return model.paint(photo, moments)

            counter = iter(range(10**6))

            def fresh():
                return model.stylize(photo, styles[next(counter) % 2], style_size=size)

            xla = A.ArbitraryStyle(model.decoder, model.encoder, jit_compile=True)
            t_cached, t_fresh = seconds_per_image(cached, repeats), seconds_per_image(fresh, repeats)
            t_xla = seconds_per_image(lambda: xla.stylize(photo, styles[0], style_size=size), repeats)
            print(f"  {size}×{size}, batch 1: {t_cached:.3f} s/image with the style's statistics cached, "
                  f"{t_fresh:.3f} s with a new {size}-px style image each call; XLA, same style: {t_xla:.3f} s "
                  f"(targets: ≤ {0.3 if size == 256 else 1.2} s)")
        print("  trade-off, depth × width, s per 256² image (style cached, untrained weights):")
        for depth, width in (("block3_conv1", 64), ("block3_conv1", 128), ("block4_conv1", 64),
                             ("block4_conv1", 128), ("block4_conv1", 256)):
            enc = A.Encoder(encoder.family if not quick else "auto", depth, verbose=False)
            dec = A.build_decoder(depth, width, channels=enc.channels)
            variant = A.ArbitraryStyle(dec, enc)
            photo = photo_rng.uniform(0, 1, (sizes[0], sizes[0], 3)).astype(np.float32)
            moments = variant.style_moments("pattern:mosaic", max_dim=sizes[0])
            t = seconds_per_image(lambda: variant.paint(photo, moments), repeats)
            print(f"    {depth}, width {width:3d} ({dec.count_params():>9,} weights): {t:.3f} s")

    judge = style.FeatureExtractor(encoder.family, verbose=False)  # optimization's layers, the same features
    print(f"quality on held-out styles ({', '.join(HELD_OUT_STYLES)}), measured on {judge.source}, "
          f"style layers {', '.join(judge.style_layers)}")
    variants = [(name, model, False) for name, model in models.items()]
    if args.style_colours:
        variants += [(f"{name} + style colours", model, True) for name, model in models.items()]
    rows, ratios = {}, {name: [] for name, _, _ in variants}
    if args.optimum:
        ratios[OPTIMUM] = []
    for photo_name in fast_style.EVAL_PHOTOS:
        photo = data.load_sample_photo(photo_name, max_dim=eval_size)
        for style_name, make in HELD_OUT_STYLES.items():
            style_image = make(eval_size if not quick else 48, seed=1)
            start = time.perf_counter()
            optimized = style.style_transfer(photo, style_image, max_dim=eval_size,
                                             steps=3 if quick else args.stylize_steps, extractor=judge,
                                             verbose=False)
            t_opt = time.perf_counter() - start
            m_opt = style.evaluate(optimized.image, photo, [style_image], judge)
            m_photo = style.evaluate(photo, photo, [style_image], judge)
            row = [photo, style_image, optimized.image]
            line = (f"  {photo_name} × {style_name}: photo {m_photo['style_distance']:.3f}; optimized "
                    f"{m_opt['style_distance']:.3f} (content {m_opt['content_distance']:.3f}, SSIM "
                    f"{m_opt['ssim']:.3f}, {t_opt:.0f} s)")
            for name, model, colours in variants:
                painted = model.stylize(photo, style_image, style_size=eval_size, style_colours=colours)
                m = style.evaluate(painted, photo, [style_image], judge)
                ratios[name].append(m["style_distance"] / m_opt["style_distance"])
                line += (f"; {name} {m['style_distance']:.3f} (ratio {ratios[name][-1]:.2f}, content "
                         f"{m['content_distance']:.3f}, SSIM {m['ssim']:.3f})")
                row.append(painted)
            if args.optimum:
                model = next(iter(models.values()))
                start = time.perf_counter()
                found = A.optimize_objective(model.encoder, photo, style_image, start=row[3],
                                             evaluations=3 if quick else args.optimum)
                m = style.evaluate(found.image, photo, [style_image], judge)
                ratios[OPTIMUM].append(m["style_distance"] / m_opt["style_distance"])
                line += (f"; {OPTIMUM} {m['style_distance']:.3f} (ratio {ratios[OPTIMUM][-1]:.2f}, content "
                         f"{m['content_distance']:.3f}, SSIM {m['ssim']:.3f}; objective "
                         f"{found.start_loss:.2f} at the decoder's painting -> {found.loss:.2f}, "
                         f"{time.perf_counter() - start:.0f} s)")
                row.append(found.image)
            print(line)
            rows[f"{photo_name} × {style_name}: photo · style · optimized · "
                 + " · ".join(n for n, _, _ in variants)
                 + (f" · {OPTIMUM}" if args.optimum else "")] = row
    for name, values in ratios.items():
        print(f"summary {name}: style-distance ratio to optimization, mean {np.mean(values):.2f}, worst "
              f"{max(values):.2f} (target ≤ 1.5)")
    if args.figure:
        from artlib import plotting

        plotting.compare_rows(rows, path=args.figure)
        print(f"figure: {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
