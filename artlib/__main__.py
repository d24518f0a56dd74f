"""The command line: ``python -m artlib <command> [options]`` (``artlib`` once installed).

Commands:
    info   versions, devices, fast/offline mode, and where data and weights would come from
    demo   render a small version of every topic into a gallery (PNG files + index.html)

Bad input ends with exit code 2 and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import html
import sys
import time
from pathlib import Path

from artlib import config  # first: sets KERAS_BACKEND before Keras is imported
from artlib.atomic import atomic_write_text
from artlib.errors import ArtlibError


def cmd_info(args: argparse.Namespace) -> int:
    print(config.report())
    return 0


def _demo_data(out: Path, seed: int) -> list[tuple[str, str, str]]:
    """Fashion-MNIST as the course sees it: one row of examples per class."""
    import numpy as np

    from artlib import data, plotting

    dataset = data.load_fashion_mnist()
    (x_train, y_train), _ = dataset
    per_class = 8
    rng = np.random.default_rng(seed)
    picks = np.concatenate([rng.choice(np.flatnonzero(y_train == c), per_class, replace=False) for c in range(10)])
    titles = [data.FASHION_MNIST_CLASSES[c] if i % per_class == 0 else "" for i, c in enumerate(y_train[picks])]
    plotting.image_grid(x_train[picks], ncols=per_class, titles=titles, path=out / "fashion_mnist.png")
    return [("fashion_mnist.png", "Fashion-MNIST",
             f"Eight training images of each of the ten classes, from {dataset.source}.")]


def _demo_preprocessing(out: Path, seed: int) -> list[tuple[str, str, str]]:
    """One photo through the preprocessing helpers the course teaches."""
    from artlib import data, imageio, plotting

    size = config.choose(full=256, fast=96)
    photo = data.load_sample_photo("chelsea", max_dim=size)
    square = imageio.resize(imageio.center_crop(photo, min(photo.shape[:2])), (size, size))
    rows = {
        "center crop + resize": [square],
        "random crops": [imageio.resize(imageio.random_crop(photo, size // 2, seed=(seed, i)), (size, size))
                         for i in range(4)],
        "augmented": [imageio.augment(square, seed=(seed, i)) for i in range(4)],
    }
    plotting.compare_rows(rows, path=out / "preprocessing.png")
    return [("preprocessing.png", "Preprocessing",
             "scikit-image's 'chelsea' photo: a centre crop resized to a square, random crops "
             "(explicit seeds), and random flips and shifts for augmentation.")]


def write_index(out: Path, items: list[tuple[str, str, str]], seconds: float) -> Path:
    """Write ``index.html`` showing every gallery image with its title and caption."""
    from artlib import data

    cards = "\n".join(
        f'<figure><img src="{html.escape(f)}" alt="{html.escape(t)}"><figcaption><b>{html.escape(t)}</b>'
        f" — {html.escape(c)}</figcaption></figure>"
        for f, t, c in items
    )
    mode = "fast mode (ARTLIB_FAST=1): small sizes" if config.is_fast() else "full mode"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>artlib gallery</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}}
figure{{margin:2em 0}}img{{max-width:100%;border:1px solid #ddd}}figcaption{{margin-top:.5em}}</style>
</head><body>
<h1>artlib gallery</h1>
<p>Made by <code>python -m artlib demo</code> in {seconds:.0f} s, {html.escape(mode)}.
Fashion-MNIST: {html.escape(data.describe_fashion_mnist_source())}.</p>
{cards}
</body></html>
"""
    return atomic_write_text(out / "index.html", page)


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if (out / "index.html").exists() and not args.force:
        raise ArtlibError(f"{out} already holds a gallery; pass --force to overwrite it, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    items = []
    for part in (_demo_data, _demo_preprocessing):
        items += part(out, args.seed)
    index = write_index(out, items, time.perf_counter() - start)
    print(f"gallery: {len(items)} pictures in {out.resolve()}; open {index.resolve()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m artlib", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = sub.add_parser("info", help="versions, devices, modes, data and weights sources")
    info.set_defaults(func=cmd_info)

    demo = sub.add_parser("demo", help="render every topic into a gallery (PNG + index.html)")
    demo.add_argument("-o", "--out", default="gallery", help="output folder (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    demo.add_argument("--force", action="store_true", help="overwrite an existing gallery")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ArtlibError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
