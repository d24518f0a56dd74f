"""Exported fast-style networks: frames per second in Keras, ONNX Runtime and LiteRT, side by side.

    python benchmarks/fast_style_export_benchmark.py [--quick] [--model swirls] [--size 256] [--frames 30]

Exports the network (the shipped one for ``--model``, else an untrained one of the default size:
speed does not depend on the weights) with ``fast_style.export_network`` to ``.onnx`` and ``.tflite``
in a temporary folder, then times, in this one process, batch 1 at ``--size``² and steady state
(warm-up excluded), each on the same random image:

* Keras: ``fast_style.measure_fps``, the plain ``tf.function`` that benchmarks/fast_style_benchmark.py
  times;
* the ONNX file under onnxruntime and the ``.tflite`` file under the LiteRT interpreter, through
  ``fast_style.load_exported`` (the model loaded once, each frame one call returning NumPy pixels);

and prints each rate, its ratio to Keras and the largest pixel difference from Keras's output.
Needs the ``export`` extra. ``--quick`` is a seconds-long smoke run at 64².
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib.cli.common import positive_int  # noqa: E402  (no TensorFlow)

from artlib import config  # noqa: E402  (selects the TensorFlow backend)


def frames_per_second(run: Callable, image, *, frames: int, warmup: int = 3) -> float:
    """Steady-state calls per second of ``run(image)``, ``warmup`` calls untimed first."""
    for _ in range(warmup):
        run(image)
    start = time.perf_counter()
    for _ in range(frames):
        run(image)
    return frames / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--model", default="swirls", help="a shipped style name or a .keras file")
    parser.add_argument("--size", type=positive_int, default=256, help="image side, square (default: %(default)s)")
    parser.add_argument("--frames", type=positive_int, default=None, help="frames timed per runtime (default 30)")
    args = parser.parse_args(argv)

    import numpy as np

    from artlib import fast_style

    size = 64 if args.quick else args.size
    frames = args.frames or (3 if args.quick else 30)
    print(f"machine: {config.describe_machine()}; {'quick smoke run' if args.quick else 'full run'}")
    try:
        network, which = fast_style.load_network(args.model), f"'{args.model}' (trained)"
    except Exception as err:  # noqa: BLE001 - no shipped network: time an untrained one
        network, which = fast_style.build_transformer(), f"untrained ({type(err).__name__})"
    print(f"network: {network.count_params():,} parameters, {which}; {size}×{size}, batch 1, {frames} frames")

    image = np.random.default_rng(0).uniform(0, 1, (1, size, size, 3)).astype(np.float32)
    expected = network(image, training=False).numpy()
    keras_fps = fast_style.measure_fps(network, size, frames=frames)
    print(f"  Keras (tf.function)   {keras_fps:7.1f} frames/s")
    with tempfile.TemporaryDirectory() as folder:
        for suffix, runtime in ((".onnx", "ONNX Runtime"), (".tflite", "LiteRT")):
            start = time.perf_counter()
            path = fast_style.export_network(network, Path(folder) / f"{Path(args.model).stem}{suffix}")
            seconds = time.perf_counter() - start
            run = fast_style.load_exported(path)
            fps = frames_per_second(run, image, frames=frames)
            error = np.abs(run(image) - expected).max()
            print(f"  {runtime + ' (' + suffix + ')':21} {fps:7.1f} frames/s = {fps / keras_fps:.2f}× Keras; "
                  f"max |Δ| from Keras {error:.1e}; export {seconds:.1f} s, {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
