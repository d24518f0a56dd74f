"""Render docs/style_chelsea_swirls.jpg, the README's style-transfer figure, and print its numbers.

    python docs/make_style_figure.py [--size 256] [--steps 30]

Offline this uses random VGG19 weights (the ``auto`` policy says so when it falls back). The figure
shows the photo, the style, artlib's result with the defaults for those weights (style layers
block3–5, style weight 20) and, for comparison, the five style layers and weight of the ImageNet
defaults applied to the same random features.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib import config, data, plotting, style  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="long side in pixels (default 256)")
    parser.add_argument("--steps", type=int, default=30, help="L-BFGS evaluations at the final size (default 30)")
    parser.add_argument("-o", "--out", default=str(Path(__file__).with_name("style_chelsea_swirls.jpg")))
    args = parser.parse_args()
    print("machine:", config.describe_machine())
    photo = data.load_sample_photo("chelsea", max_dim=args.size)
    swirls = style.load_style_image("pattern:swirls", max_dim=args.size, seed=0)
    extractor = style.FeatureExtractor("auto", seed=0)
    runs = {"artlib's defaults": dict(extractor=extractor)}
    if extractor.is_random:  # what the ImageNet defaults do to random features
        five = style.FeatureExtractor("random", style_layers=style.STYLE_LAYERS, seed=0, verbose=False)
        runs["five layers, weight 50"] = dict(extractor=five, style_weight=style.ARTLIB_WEIGHTS["style_weight"])
    images = [photo, swirls]
    for name, options in runs.items():
        result = style.style_transfer(photo, [swirls], max_dim=args.size, steps=args.steps, seed=0, verbose=False,
                                      **options)
        common = style.evaluate(result.image, photo, [swirls], extractor)  # one yardstick for both
        print(f"{name}: {result.summary()}; on the default layers: style distance "
              f"{common['style_distance']:.3f}, content distance {common['content_distance']:.3f}")
        images.append(result.image)
    plotting.compare_rows({"chelsea × swirls": images}, path=args.out)
    print("figure:", args.out)


if __name__ == "__main__":
    main()
