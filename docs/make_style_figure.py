"""Render docs/style_transfer.jpg, the README's style-transfer figure, and print its numbers.

    python docs/make_style_figure.py [--size 256] [--steps 100]

Each row (left to right): the photo, the style (a procedural pattern, or the shipped painting),
``style.style_transfer`` with its defaults on random VGG19 features, and the same on trained features
(``weights="auto"``: offline, hed-vgg16). Both results are judged by the trained extractor (style distance,
SSIM to the photo), beside the photo's own distance to the style.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib.cli.common import positive_int  # noqa: E402  (no TensorFlow)

from artlib import config, data, plotting, style  # noqa: E402

PAIRS = (("chelsea", "pattern:mosaic"), ("astronaut", "pattern:swirls"), ("coffee", "painting:starry_night"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=positive_int, default=256, help="long side in pixels (default 256)")
    parser.add_argument("--steps", type=positive_int, default=style.DEFAULT_STEPS,
                        help="L-BFGS evaluations at the final size (default: style.DEFAULT_STEPS)")
    parser.add_argument("-o", "--out", default=str(Path(__file__).with_name("style_transfer.jpg")))
    args = parser.parse_args()
    print("machine:", config.describe_machine())
    trained = style.FeatureExtractor("auto", seed=0)
    random = style.FeatureExtractor("random", seed=0, verbose=False)
    rows = {}
    for photo_name, source in PAIRS:
        photo = data.load_sample_photo(photo_name, max_dim=args.size)
        painting = style.load_style_image(source, max_dim=args.size, seed=0)
        judge = style.evaluate(photo, photo, [painting], trained)
        print(f"{photo_name} × {source}: the photo itself: style distance {judge['style_distance']:.3f}")
        images = [photo, painting]
        for extractor in (random, trained):
            result = style.style_transfer(photo, [painting], max_dim=args.size, steps=args.steps, seed=0,
                                          extractor=extractor, verbose=False)
            judged = style.evaluate(result.image, photo, [painting], trained)
            print(f"  {result.summary()}; judged on {trained.family.name}: style distance "
                  f"{judged['style_distance']:.3f}, SSIM {judged['ssim']:.3f}")
            images.append(result.image)
        rows[f"{photo_name} ×\n{data.style_name(source)}"] = images
    plotting.compare_rows(rows, path=args.out)
    print("figure:", args.out)


if __name__ == "__main__":
    main()
