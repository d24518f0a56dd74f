"""Real-time style transfer: frames per second, speed-up over optimization, and quality ratio.

    python benchmarks/fast_style_benchmark.py [--quick] [--model swirls] [--stylize-steps N]

Prints, for the feed-forward network (the shipped one for ``--model``, else an untrained one of
the default size: speed does not depend on the weights):

* frames per second at 256×256 and 512×512, batch 1, steady state (warm-up excluded), as a plain
  ``tf.function`` and compiled with XLA (``jit_compile=True``), and the same for the paper's
  network (width 32, 5 residual blocks, 9×9 convolutions at both ends) as the reference;
* the speed-up per image over optimization-based ``artlib.style.style_transfer`` (L-BFGS, coarse
  to fine, notebook 06) at the same size, timed in the same process;
* the quality ratio: style distance (``style.evaluate``) of the network's outputs / of the
  optimized images (``style.style_transfer`` with its defaults), both measured on the features and
  layers the network was trained with (its recipe, ``fast_style.load_recipe``), on the held-out
  photos ``fast_style.EVAL_PHOTOS`` (target ≤ 1.25).

``--quick`` is a seconds-long smoke run at small sizes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib.cli.common import positive_int  # noqa: E402  (no TensorFlow)

from artlib import config  # noqa: E402  (selects the TensorFlow backend)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--model", default="swirls", help="a shipped style name or a .keras file")
    parser.add_argument("--stylize-steps", type=positive_int, default=None,
                        help="L-BFGS steps per stage of the optimization (default: style's own, 100)")
    parser.add_argument("--frames", type=positive_int, default=None, help="frames timed per size (default 30)")
    parser.add_argument("--figure", default=None, help="also save photo / optimized / network rows as a PNG")
    args = parser.parse_args(argv)

    import numpy as np

    from artlib import data, fast_style, style

    quick = args.quick
    sizes = (64, 128) if quick else (256, 512)
    frames = args.frames or (3 if quick else 30)
    eval_size = 64 if quick else 256
    stylize_steps = 3 if quick else args.stylize_steps
    print(f"machine: {config.describe_machine()}; {'quick smoke run' if quick else 'full run'}")

    try:
        network, which = fast_style.load_network(args.model), f"'{args.model}' (trained)"
    except Exception as err:  # noqa: BLE001 - no shipped network: time an untrained one
        network, which = fast_style.build_transformer(), f"untrained ({type(err).__name__})"
    reference = fast_style.build_transformer(32, 5, edge_kernel=9)
    print(f"network: {network.count_params():,} parameters, {which}; reference: the paper's width 32, "
          f"5 blocks, 9×9 ends ({reference.count_params():,} parameters)")

    fps, fps_xla = {}, {}
    for size in sizes:
        fps[size] = fast_style.measure_fps(network, size, frames=frames)
        fps_xla[size] = fast_style.measure_fps(network, size, frames=frames, jit_compile=True)
        ref = fast_style.measure_fps(reference, size, frames=max(3, frames // 3))
        print(f"  {size}×{size}, batch 1: {fps[size]:6.1f} frames/s, with XLA {fps_xla[size]:6.1f}  "
              f"(paper's network {ref:5.1f}; {fps[size] / ref:.1f}×)")

    recipe = fast_style.load_recipe(args.model) or {}
    style_source = recipe.get("style", f"pattern:{args.model}" if not args.model.endswith(".keras")
                              else "pattern:swirls")
    judge, style_image = fast_style.judge_for(recipe, style_source=style_source,  # the network's loss features
                                              style_size=48 if quick else None)
    print(f"style: {style_source}; measured on the network's loss features: {judge.source}, "
          f"style layers {', '.join(judge.style_layers)}")
    optimizer_features = style.FeatureExtractor(recipe.get("features", "auto"), verbose=False)  # stylize's layers
    photos = {name: data.load_sample_photo(name, max_dim=eval_size) for name in fast_style.EVAL_PHOTOS}
    rows = fast_style.compare_with_optimization(network, photos, style_image, judge, extractor=optimizer_features,
                                                max_dim=eval_size, steps=stylize_steps, timed=True)
    speedups = [row["seconds_optimized"] / row["seconds_network"] for row in rows]
    for row, speedup in zip(rows, speedups):
        photo = row["photo"]
        print(f"  {row['name']} {photo.shape[1]}×{photo.shape[0]}: optimization {row['seconds_optimized']:.1f} s "
              f"({row['settings']['steps']} steps/stage, sizes {row['settings']['sizes']}), network "
              f"{1000 * row['seconds_network']:.1f} ms -> {speedup:.0f}× faster; style distance photo "
              f"{row['distance_photo']:.3f}, optimized {row['distance_optimized']:.3f}, network "
              f"{row['distance_network']:.3f} (ratio {row['ratio']:.2f}); SSIM to photo optimized "
              f"{row['ssim_optimized']:.3f}, network {row['ssim_network']:.3f}")
    quality = fast_style.summarize(rows)
    print(f"summary: {fps[sizes[0]]:.1f} frames/s at {sizes[0]}² ({fps_xla[sizes[0]]:.1f} with XLA; target "
          f"≥ 30), {fps[sizes[1]]:.1f} at {sizes[1]}² ({fps_xla[sizes[1]]:.1f}); "
          f"speed-up {np.mean(speedups):.0f}× (target ≥ 100×); quality ratio {quality['ratio']:.2f} "
          f"(worst {quality['ratio_worst']:.2f}; target ≤ {fast_style.QUALITY_TARGET:g}); features: {judge.source}")
    if args.figure:
        from artlib import plotting

        plotting.compare_rows(fast_style.picture_rows(rows), path=args.figure)
        print(f"figure: {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
