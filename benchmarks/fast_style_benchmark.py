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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib import config  # noqa: E402  (selects the TensorFlow backend)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--model", default="swirls", help="a shipped style name or a .keras file")
    parser.add_argument("--stylize-steps", type=int, default=None,
                        help="L-BFGS steps per stage of the optimization (default: style's own, 100)")
    parser.add_argument("--frames", type=int, default=None, help="frames timed per size (default 30)")
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
    extractor = fast_style.loss_extractor(recipe.get("features", "auto"), recipe.get("content_layers"),
                                          recipe.get("style_layers"), verbose=False)  # the network's loss
    style_source = recipe.get("style", f"pattern:{args.model}" if not args.model.endswith(".keras")
                              else "pattern:swirls")
    style_image = style.load_style_image(style_source, max_dim=48 if quick else recipe.get("style_size", 256),
                                         seed=recipe.get("seed", 0))
    print(f"style: {style_source}; measured on the network's loss features: {extractor.source}, "
          f"style layers {', '.join(extractor.style_layers)}")
    optimizer_features = style.FeatureExtractor(recipe.get("features", "auto"), verbose=False)  # stylize's layers
    speedups, ratios, rows = [], [], {}
    for name in fast_style.EVAL_PHOTOS:
        photo = data.load_sample_photo(name, max_dim=eval_size)
        style.style_transfer(photo, style_image, max_dim=eval_size, steps=1, extractor=optimizer_features,
                             verbose=False)  # warm-up: trace the objective at these sizes (not timed)
        start = time.perf_counter()
        optimized = style.style_transfer(photo, style_image, max_dim=eval_size, steps=stylize_steps,
                                         extractor=optimizer_features, verbose=False)
        seconds_opt = time.perf_counter() - start
        fast_style.stylize_image(network, photo)  # warm-up: trace this size
        start = time.perf_counter()
        painted = fast_style.stylize_image(network, photo)
        seconds_fast = time.perf_counter() - start
        m_fast = style.evaluate(painted, photo, [style_image], extractor)
        m_opt = style.evaluate(optimized.image, photo, [style_image], extractor)
        m_photo = style.evaluate(photo, photo, [style_image], extractor)
        rows[f"{name}: photo · optimized · network"] = [photo, optimized.image, painted]
        speedups.append(seconds_opt / seconds_fast)
        ratios.append(m_fast["style_distance"] / m_opt["style_distance"])
        print(f"  {name} {photo.shape[1]}×{photo.shape[0]}: optimization {seconds_opt:.1f} s "
              f"({optimized.settings['steps']} steps/stage, sizes {optimized.settings['sizes']}), network "
              f"{1000 * seconds_fast:.1f} ms -> {speedups[-1]:.0f}× faster; style distance photo "
              f"{m_photo['style_distance']:.3f}, optimized {m_opt['style_distance']:.3f}, network "
              f"{m_fast['style_distance']:.3f} (ratio {ratios[-1]:.2f}); SSIM to photo optimized "
              f"{m_opt['ssim']:.3f}, network {m_fast['ssim']:.3f}")
    print(f"summary: {fps[sizes[0]]:.1f} frames/s at {sizes[0]}² ({fps_xla[sizes[0]]:.1f} with XLA; target "
          f"≥ 30), {fps[sizes[1]]:.1f} at {sizes[1]}² ({fps_xla[sizes[1]]:.1f}); "
          f"speed-up {np.mean(speedups):.0f}× (target ≥ 100×); quality ratio {np.mean(ratios):.2f} "
          f"(worst {max(ratios):.2f}; target ≤ 1.25); features: {extractor.source}")
    if args.figure:
        from artlib import plotting

        plotting.compare_rows(rows, path=args.figure)
        print(f"figure: {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
