"""Style transfer: the tutorial's Adam against artlib's L-BFGS + coarse-to-fine and pyramid Adam; peak memory by size.

Same content and style images, same feature extractor, same objective, same process:

* **Reference** (the TensorFlow tutorial's optimizer): Adam(lr 0.02, β1 0.99, ε 0.1) on [0, 1] pixels,
  clipped after each step, started from the content image, ``--adam-steps`` (1,000) steps at ``--size`` (512).
* **artlib**: L-BFGS (SciPy, TensorFlow gradients), coarse to fine from ``style.DEFAULT_MIN_DIM`` to ``--size`` with
  ``style.style_transfer``'s schedule (a coarse stage ends once it settles: ``style.STAGE_TOLERANCE``); then
  ``style.run_pyramid_adam`` (Adam on an image pyramid, ``--pyramid-steps`` steps at ``--size``), the quicker of the
  two where a total-variation term dominates the objective, as on the tutorial's.

Printed: the time each of artlib's takes to reach the objective value Adam has after its last step (measured on
the very same objective at ``--size``), and the ratio. Each objective's graph is traced before the clock
starts (warm-up excluded). Both races run on trained features (offline here: ``hed-vgg16``): first on
artlib's objective (the family's layers and relative terms), then on the tutorial's own (content
block5_conv2, raw terms, style 1e-2, content 1e4, TV 30). Racing on the tutorial's weights with random
features is refused: there TV dominates by ~10⁴ and the value says nothing about the picture.

Peak memory (the process's peak RSS, TensorFlow included) is measured in a fresh subprocess per size
running ``style.style_transfer`` on chelsea (``--square``: its centre square), and per pixel of the result above
TensorFlow and the feature network: what ``style.BYTES_PER_PIXEL`` estimates (``--skip-race`` measures only that).

Usage: ``python benchmarks/style_benchmark.py [--quick] [--size 512] [--adam-steps 1000] [--pyramid-steps 120]
[--memory 512 1024] [--square] [--skip-race]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib.cli.common import nonnegative_int, positive_int  # noqa: E402  (no TensorFlow)

from artlib import config  # noqa: E402  (selects the TensorFlow backend)


class _Reached(Exception):
    pass


def step_clock(stamps: list) -> Callable[[int, dict], None]:
    """An optimizer callback that appends ``(seconds since the first step ended, objective)`` after each step.

    The first step holds the trace of the step's graph, so the clock starts when it ends.
    """
    began = [0.0]

    def clock(i: int, terms: dict) -> None:
        if i == 0:
            began[0] = time.perf_counter()
        stamps.append((time.perf_counter() - began[0], terms["total"]))

    return clock


def run_seconds(stamps: list) -> float:
    """A whole run's time from :func:`step_clock`'s stamps: the timed steps, plus one more for the traced first."""
    return stamps[-1][0] * len(stamps) / max(1, len(stamps) - 1)


def race(size: int, adam_steps: int, lbfgs_steps: int, weights: str, objective_name: str, seed: int,
         pyramid_steps: int = 120) -> dict:
    import numpy as np

    from artlib import data, imageio, style

    terms = style.TUTORIAL_WEIGHTS if objective_name == "tutorial" else {}
    layers = dict(content_layers=style.CONTENT_LAYERS) if objective_name == "tutorial" else {}  # its block5_conv2
    extractor = style.FeatureExtractor(weights, seed=seed, **layers)
    if objective_name == "tutorial" and extractor.is_random:
        raise SystemExit("refusing to race on the tutorial's weights with random features (see the docstring)")
    content = data.load_sample_photo("chelsea", max_dim=size)
    style_image = style.load_style_image("pattern:swirls", max_dim=max(size, 256), seed=seed)
    final = style.Objective(extractor, content, [style_image], **terms)
    final.value_and_grad(tf_constant(content))  # warm-up: trace once

    stamps: list[tuple[float, float]] = []
    image, history = style.run_adam(final, content, adam_steps, callback=step_clock(stamps))
    adam_value = final(image)["total"]
    adam_seconds = run_seconds(stamps)
    print(f"Adam: {adam_steps} steps at {size} px in {adam_seconds:.1f} s "
          f"({adam_seconds / adam_steps:.3f} s/step), objective {history[0]['total']:.4f} -> {adam_value:.4f}")

    sizes = style.coarse_to_fine_sizes(size, style.DEFAULT_MIN_DIM)
    objectives = [style.Objective(extractor, np.asarray(imageio.resize_max_dim(content, s)),
                                  [np.asarray(imageio.resize_max_dim(style_image, max(s, 64)))], **terms)
                  for s in sizes[:-1]] + [final]
    for o in objectives:  # warm-up: trace every stage's graph before the clock starts
        o.value_and_grad(tf_constant(np.zeros((*o.size, 3), np.float32)))
    reached: dict[str, float] = {}
    evaluations = [0]
    t0 = time.perf_counter()

    def lbfgs_clock(i, t, last=False):
        evaluations[0] += 1
        if last and t["total"] <= adam_value:
            reached.update(seconds=time.perf_counter() - t0, value=t["total"], final_evaluations=i + 1)
            raise _Reached

    image = content
    schedule = style.stage_schedule(lbfgs_steps, len(sizes))  # style_transfer's own
    for stage, (o, (steps, tolerance)) in enumerate(zip(objectives, schedule)):
        last = stage == len(sizes) - 1
        image = np.asarray(imageio.resize(image, o.size))
        try:
            image, _ = style.run_lbfgs(o, image, steps, tolerance=tolerance, patience=style.STAGE_PATIENCE,
                                       callback=lambda i, t, _l=last: lbfgs_clock(i, t, _l))
        except _Reached:
            break
    total = time.perf_counter() - t0
    result = dict(size=size, sizes=sizes, adam_steps=adam_steps, adam_seconds=adam_seconds, adam_value=adam_value,
                  lbfgs_seconds=reached.get("seconds"), lbfgs_evaluations=evaluations[0],
                  features=extractor.source, objective=objective_name)
    if reached:
        result["speedup"] = adam_seconds / reached["seconds"]
        print(f"artlib: L-BFGS {' → '.join(map(str, sizes))} px reached {reached['value']:.4f} ≤ {adam_value:.4f} "
              f"in {reached['seconds']:.1f} s ({evaluations[0]} evaluations in all)")
        print(f"speed-up: {result['speedup']:.1f}× sooner than the tutorial's Adam (target ≥ 5×)")
    else:
        print(f"artlib: did not reach {adam_value:.4f} within {evaluations[0]} evaluations ({total:.1f} s)")

    # artlib's Adam on an image pyramid, at the final size (its coarse levels are its coarse to fine)
    pyramid_stamps: list[tuple[float, float]] = []
    image, _ = style.run_pyramid_adam(final, content, pyramid_steps, callback=step_clock(pyramid_stamps))
    step_seconds = pyramid_stamps[-1][0] / max(1, pyramid_steps - 1)
    pyramid_value = final(image)["total"]
    first = next((i for i, (_, v) in enumerate(pyramid_stamps) if v <= adam_value), None)
    result.update(pyramid_steps=pyramid_steps, pyramid_value=pyramid_value, pyramid_seconds=run_seconds(pyramid_stamps))
    if first is None and pyramid_value <= adam_value:  # reached by the last step's update
        first = pyramid_steps
    if first is not None:  # counted with the step whose forward pass measured the value (the final image: the run)
        result.update(pyramid_reached_seconds=result["pyramid_seconds"] if first == pyramid_steps
                      else pyramid_stamps[first][0] + step_seconds, pyramid_reached_step=first)
        result["pyramid_speedup"] = adam_seconds / result["pyramid_reached_seconds"]
        print(f"artlib: Adam on an image pyramid ({len(style.pyramid_levels(final.size))} levels, "
              f"{pyramid_steps} steps, {step_seconds:.3f} s/step) reached {adam_value:.4f} after {first} steps, "
              f"in {result['pyramid_reached_seconds']:.1f} s (final {pyramid_value:.4f})")
        print(f"speed-up: {result['pyramid_speedup']:.1f}× sooner than the tutorial's Adam (target ≥ 5×)")
    else:
        print(f"artlib: Adam on an image pyramid did not reach {adam_value:.4f} in {pyramid_steps} steps "
              f"({result['pyramid_seconds']:.1f} s; final {pyramid_value:.4f})")
    return result


def tf_constant(image):
    import tensorflow as tf

    return tf.constant(image[None], tf.float32)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB -> MiB


def memory_child(size: int, steps: int, weights: str, square: bool) -> None:
    from artlib import data, style

    photo = data.load_sample_photo("chelsea")
    if square:  # the centre square: how style.BYTES_PER_PIXEL is calibrated
        side = min(photo.shape[:2])
        top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
        photo = photo[top:top + side, left:left + side]
    extractor = style.FeatureExtractor(weights, verbose=False)
    network_mb = peak_rss_mb()  # TensorFlow and the feature network: what BYTES_PER_PIXEL leaves out
    start = time.perf_counter()
    pattern = style.load_style_image("pattern:swirls", max_dim=max(size, 256), seed=0)
    out = style.style_transfer(photo, [pattern], max_dim=size, steps=steps, extractor=extractor, verbose=False).image
    print(json.dumps(dict(size=size, shape=list(out.shape), peak_rss_mb=peak_rss_mb(), network_mb=network_mb,
                          bytes_per_pixel_estimate=style.BYTES_PER_PIXEL, seconds=time.perf_counter() - start)))


def memory(size: int, steps: int, weights: str, square: bool) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--memory-child", str(size), "--lbfgs-steps", str(steps),
                           "--weights", weights] + ["--square"] * square, capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    height, width = result["shape"][:2]
    result["bytes_per_pixel"] = (result["peak_rss_mb"] - result["network_mb"]) * 2**20 / (height * width)
    print(f"peak RSS at {width}×{height} px (coarse to fine, {steps} steps per stage): "
          f"{result['peak_rss_mb']:.0f} MiB ({result['peak_rss_mb'] / 1024:.2f} GiB; target at 1024 px ≤ 4 GiB), "
          f"{result['seconds']:.0f} s; above TensorFlow and the feature network's {result['network_mb']:.0f} MiB, "
          f"{result['bytes_per_pixel']:,.0f} bytes a pixel (style.BYTES_PER_PIXEL: "
          f"{result['bytes_per_pixel_estimate']:,.0f})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run (tiny sizes)")
    parser.add_argument("--size", type=positive_int, default=512, help="race at this long side (default: %(default)s)")
    parser.add_argument("--adam-steps", type=positive_int, default=1000, help="the tutorial's steps (default: %(default)s)")
    parser.add_argument("--lbfgs-steps", type=positive_int, default=100,
                        help="most L-BFGS evaluations at the final size (default: stylize's, %(default)s)")
    parser.add_argument("--pyramid-steps", type=positive_int, default=120,
                        help="steps of artlib's Adam on an image pyramid (default: %(default)s)")
    parser.add_argument("--memory", type=positive_int, nargs="*", default=[512, 1024], help="sizes for peak RSS")
    parser.add_argument("--square", action="store_true",
                        help="measure memory on the photo's centre square, as style.BYTES_PER_PIXEL was calibrated "
                        "(python benchmarks/style_benchmark.py --skip-race --square --memory 256 512 1024 1448)")
    parser.add_argument("--skip-race", action="store_true", help="measure memory only")
    parser.add_argument("--weights", default="auto", help="features, as style.resolve_weights takes them "
                        "(default: %(default)s; offline here: hed-vgg16)")
    parser.add_argument("--objective", choices=("artlib", "tutorial", "both"), default="both",
                        help="race on artlib's objective, the tutorial's, or each in turn (default: %(default)s)")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.lbfgs_steps, args.weights, args.square)
        return
    if args.quick:
        args.size, args.adam_steps, args.lbfgs_steps, args.memory, args.pyramid_steps = 64, 5, 20, [64], 5
    if min(args.adam_steps, args.pyramid_steps) < 2:
        parser.error("--adam-steps and --pyramid-steps must be at least 2 (the first step, which traces, is not timed)")
    print(f"machine: {config.describe_machine()}")
    print(f"settings: race at {args.size} px, Adam {args.adam_steps} steps, weights={args.weights}, "
          f"objective={args.objective}, memory at {args.memory} px, fast mode {config.is_fast()}")
    objectives = ("artlib", "tutorial") if args.objective == "both" else (args.objective,)
    results = {"race": [] if args.skip_race else [race(args.size, args.adam_steps, args.lbfgs_steps, args.weights, o,
                                                       args.seed, args.pyramid_steps) for o in objectives],
               "memory": [memory(s, 3 if args.quick else 10, args.weights, args.square) for s in args.memory]}
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
