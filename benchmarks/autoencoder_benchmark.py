"""Training throughput: artlib's denoiser training against a `fit` loop written like the TF tutorial.

The reference is the recipe of the TensorFlow tutorial "Intro to Autoencoders": one fixed noisy copy
of the training images made up front with ``tf.random.normal``, then
``model.compile(optimizer="adam", loss=losses.MeanSquaredError())`` and
``model.fit(x_noisy, x_clean, epochs=…, shuffle=True)`` on NumPy arrays (batch size 32, Keras's
default). artlib's loop is :func:`artlib.autoencoder.train`, i.e. :func:`artlib.training.fit`: the
shared epoch order gathering whole batches from one tensor, fresh noise drawn per batch on the way in,
``steps_per_execution=32``, and its default batch size (64); it is also timed at the tutorial's batch
size, so the gain from the loop alone is visible.

Both train the same model (artlib's denoiser at 16 filters, and the tutorial's own model), in this process,
alternating rounds so that a busy machine slows both alike; the first epoch of each run (tracing)
is excluded, and the median over rounds is reported.

    python benchmarks/autoencoder_benchmark.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib.cli.common import positive_int  # noqa: E402  (no TensorFlow)


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, read before TensorFlow loads: ``--help`` and a bad value answer at once."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--images", type=positive_int, default=None, help="training images per epoch")
    parser.add_argument("--rounds", type=positive_int, default=None, help="alternating rounds")
    return parser.parse_args(argv)


OPTIONS = parse_options() if __name__ == "__main__" else None

from artlib import autoencoder as ae  # noqa: E402
from artlib import config, data  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def tutorial_fit(model: keras.Model, x_clean: np.ndarray, num_epochs: int) -> float:
    """Images per second of the tutorial's recipe (warm-up epoch excluded)."""
    x_noisy = tf.clip_by_value(x_clean + 0.2 * tf.random.normal(shape=x_clean.shape), 0.0, 1.0).numpy()
    model.compile(optimizer="adam", loss=keras.losses.MeanSquaredError())
    timer = EpochTimer()
    model.fit(x_noisy, x_clean, epochs=num_epochs, shuffle=True, verbose=0, callbacks=[timer])
    return len(x_clean) // 32 * 32 / statistics.median(timer.seconds[1:])


def artlib_fit(model: keras.Model, x_clean: np.ndarray, num_epochs: int, batch_size: int) -> float:
    """Images per second of artlib.autoencoder.train (warm-up epoch excluded)."""
    timer = EpochTimer()
    ae.train(model, x_clean, num_epochs=num_epochs, batch_size=batch_size, verbose=0, extra_callbacks=[timer])
    return len(x_clean) // batch_size * batch_size / statistics.median(timer.seconds[1:])


def main() -> None:
    args = OPTIONS or parse_options()
    images = args.images or (512 if args.quick else 8192)
    rounds = args.rounds or (1 if args.quick else 3)
    num_epochs = 2 if args.quick else 3
    print(f"machine: {config.describe_machine()}")
    print(f"settings: {images} images per epoch, {num_epochs} epochs per run (first excluded), {rounds} "
          f"round(s); TensorFlow {tf.__version__}, Keras {keras.__version__}")
    (x_train, _), _ = data.load_fashion_mnist(verbose=False)
    x_clean = x_train[:images, :, :, None].astype("float32") / 255.0  # (N, 28, 28, 1)
    builders = {"artlib denoiser": lambda: ae.build_denoiser(filters=16),
                "tutorial model": ae.build_tutorial_autoencoder}
    for name, build in builders.items():
        results = {"tutorial loop, batch 32": [], "artlib loop, batch 32": [], "artlib loop, batch 64": []}
        for _ in range(rounds):
            config.set_seed(0)
            results["tutorial loop, batch 32"].append(tutorial_fit(build(), x_clean, num_epochs))
            config.set_seed(0)
            results["artlib loop, batch 32"].append(artlib_fit(build(), x_clean, num_epochs, 32))
            config.set_seed(0)
            results["artlib loop, batch 64"].append(artlib_fit(build(), x_clean, num_epochs, 64))
        reference = statistics.median(results["tutorial loop, batch 32"])
        print(f"\n{name} ({build().count_params():,} parameters)")
        for label, values in results.items():
            value = statistics.median(values)
            print(f"  {label:<26} {value:9.0f} images/s   ratio {value / reference:5.2f}×   "
                  f"(rounds: {', '.join(f'{v:.0f}' for v in values)})")


if __name__ == "__main__":
    main()
