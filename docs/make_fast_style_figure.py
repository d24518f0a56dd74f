"""Render docs/fast_style.png, the README's real-time style figure: every shipped network on the held-out photos.

    python docs/make_fast_style_figure.py [--size 256]

Each row: the style image the network learned (its recipe's pattern and size), then the network's
output on each held-out photo (``fast_style.EVAL_PHOTOS``, never seen in training).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib.cli.common import positive_int  # noqa: E402  (no TensorFlow)

from artlib import config, data, fast_style, plotting, style  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=positive_int, default=256, help="long side of the photos (default 256)")
    parser.add_argument("-o", "--out", default=str(Path(__file__).with_name("fast_style.png")))
    args = parser.parse_args()
    print("machine:", config.describe_machine())
    photos = [data.load_sample_photo(name, max_dim=args.size) for name in fast_style.EVAL_PHOTOS]
    rows = {"photos": [np.ones((args.size, args.size, 3), np.float32)] + photos}  # a blank above the styles
    for name in fast_style.shipped_styles():
        recipe = fast_style.load_recipe(name) or {}
        painting = style.load_style_image(recipe.get("style", f"pattern:{name}"), max_dim=args.size,
                                          seed=recipe.get("seed", 0))
        network = fast_style.load_network(name)
        rows[f"{name}\n({recipe.get('features', '?')})"] = [painting] + [fast_style.stylize_image(network, p)
                                                                         for p in photos]
    plotting.compare_rows(rows, path=args.out)
    print("figure:", args.out)


if __name__ == "__main__":
    main()
