"""GAN benchmark: artlib's step vs the TF DCGAN tutorial's, and time to the tutorial's quality.

    python benchmarks/gan_benchmark.py            # throughput + time-to-quality (≈ 45 min on 2 CPU cores)
    python benchmarks/gan_benchmark.py --quick    # a seconds-long smoke run

1. **Throughput.** The tutorial's models at batch 256, stepped (a) by a ``train_step``
   written the way https://www.tensorflow.org/tutorials/generative/dcgan writes it and
   (b) by ``artlib.gan.make_train_step``; same process, interleaved rounds, warm-up
   excluded. Also the FLOPs of one step (counted by TensorFlow's profiler on the traced
   graph) against this CPU's measured matmul and convolution peak.
2. **Time to quality.** The tutorial recipe (its models, Adam 1e-4, batch 256) trains for
   ``--budget`` seconds; its Fréchet distance on classifier features (2,000 samples vs the
   test set) is the target. artlib's recipe (its models, Adam 2e-4 β1 0.5, batch 64) then
   trains until it reaches that distance, evaluated every ``--eval-every`` seconds of
   training (evaluation time not counted). Printed: the two times and their ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib.cli.common import positive_float  # noqa: E402  (no TensorFlow)


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, read before TensorFlow loads: ``--help`` and a bad value answer at once."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--budget", type=positive_float, default=1200,
                        help="tutorial recipe's training seconds (default: %(default)s)")
    parser.add_argument("--eval-every", type=positive_float, default=60, help="seconds of training between evaluations")
    parser.add_argument("--classifier", default=None, help="classifier .keras (default: the shipped one)")
    parser.add_argument("--skip-quality", action="store_true", help="only the throughput part")
    return parser.parse_args(argv)


OPTIONS = parse_options() if __name__ == "__main__" else None

from artlib import config  # noqa: E402  (selects the TensorFlow backend)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib import data, gan, metrics  # noqa: E402

BATCH = 256
NOISE_DIM = 100


# ----------------------------------------------------------------------------- the tutorial, as written there
def tutorial_train_step_factory(generator, discriminator):
    """The TF DCGAN tutorial's losses, optimizers and train_step, kept as the tutorial writes them."""
    cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)

    def discriminator_loss(real_output, fake_output):
        real_loss = cross_entropy(tf.ones_like(real_output), real_output)
        fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
        return real_loss + fake_loss

    def generator_loss(fake_output):
        return cross_entropy(tf.ones_like(fake_output), fake_output)

    generator_optimizer = tf.keras.optimizers.Adam(1e-4)
    discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([BATCH, NOISE_DIM])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))
        return gen_loss, disc_loss

    return train_step


# ----------------------------------------------------------------------------- helpers
def best_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure_peak(quick: bool) -> dict[str, float]:
    """GFLOP/s of a large matmul and of a DCGAN-sized convolution on this CPU."""
    n = 512 if quick else 2048
    a = tf.random.normal((n, n))
    matmul = tf.function(lambda: tf.reduce_sum(tf.matmul(a, a)))
    x, k = tf.random.normal((256, 14, 14, 128)), tf.random.normal((5, 5, 128, 128))
    conv = tf.function(lambda: tf.reduce_sum(tf.nn.conv2d(x, k, 1, "SAME")))
    return {"matmul": 2 * n ** 3 / best_time(matmul, 3) / 1e9,
            "conv": 2 * 256 * 14 * 14 * 128 * 128 * 25 / best_time(conv, 3) / 1e9}


def step_flops(step, batch) -> float | None:
    """FLOPs of one traced step, counted by TensorFlow's profiler (None if it cannot)."""
    try:
        graph = step.get_concrete_function(batch).graph
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        return float(tf.compat.v1.profiler.profile(graph, options=options).total_float_ops)
    except Exception as err:  # noqa: BLE001
        print("  (FLOP count unavailable:", type(err).__name__, str(err)[:100], ")")
        return None


def throughput(quick: bool) -> None:
    print("\n== 1. Step throughput: the tutorial's models, batch 256 ==")
    rng = np.random.default_rng(0)
    real = tf.constant(rng.uniform(-1, 1, (BATCH, 28, 28, 1)).astype(np.float32))
    keras.utils.set_random_seed(0)
    tutorial_step = tutorial_train_step_factory(gan.build_tutorial_generator(), gan.build_tutorial_discriminator())
    keras.utils.set_random_seed(0)
    g, d = gan.build_tutorial_generator(), gan.build_tutorial_discriminator()
    artlib_step = gan.make_train_step(g, d, keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4),
                                      keras.random.SeedGenerator(0))
    g2, d2 = gan.build_generator(), gan.build_discriminator()
    small = real[:64]
    default_step = gan.make_train_step(g2, d2, keras.optimizers.Adam(2e-4, beta_1=0.5),
                                       keras.optimizers.Adam(2e-4, beta_1=0.5), keras.random.SeedGenerator(0))
    flops = step_flops(artlib_step, real)
    peak = measure_peak(quick)
    print(f"  measured peak: matmul {peak['matmul']:.0f} GFLOP/s, conv {peak['conv']:.0f} GFLOP/s")
    rounds, per_round = (2, 2) if quick else (5, 5)
    times = {"tutorial": [], "artlib": [], "default": []}
    for fn in (lambda: tutorial_step(real), lambda: artlib_step(real), lambda: default_step(small)):
        fn(), fn()  # trace and warm up
    for _ in range(rounds):  # interleaved, so that load from other work hits both alike
        for name, fn, in (("tutorial", lambda: tutorial_step(real)), ("artlib", lambda: artlib_step(real)),
                          ("default", lambda: default_step(small))):
            start = time.perf_counter()
            for _ in range(per_round):
                out = fn()
            float(tf.nest.flatten(out)[0])
            times[name].append((time.perf_counter() - start) / per_round)
    best = {k: min(v) for k, v in times.items()}
    print(f"  tutorial-style step:        {best['tutorial'] * 1000:7.0f} ms  = {BATCH / best['tutorial']:7.0f} images/s")
    print(f"  artlib gan_step (same model):{best['artlib'] * 1000:6.0f} ms  = {BATCH / best['artlib']:7.0f} images/s")
    print(f"  ratio artlib / tutorial:     {best['tutorial'] / best['artlib']:.2f}x images/s")
    if flops:
        achieved = flops / best["artlib"] / 1e9
        print(f"  one step = {flops / 1e9:.1f} GFLOP -> {achieved:.0f} GFLOP/s achieved = "
              f"{100 * achieved / max(peak.values()):.0f} % of the measured peak")
    print(f"  artlib default recipe (its models, batch 64): {best['default'] * 1000:.0f} ms/step = "
          f"{64 / best['default']:.0f} images/s")


# ----------------------------------------------------------------------------- time to quality
def time_to_quality(budget: float, eval_every: float, num_samples: int, classifier_path: str | None) -> None:
    print(f"\n== 2. Time to quality: tutorial recipe for {budget:.0f} s, then artlib's until it matches ==")
    (x_train, _), (x_test, _) = data.load_fashion_mnist()
    classifier = metrics.load_fashion_classifier(classifier_path)
    reference = metrics.classifier_features(classifier, x_test)
    real = x_train.astype(np.float32)[..., None] / 127.5 - 1.0  # (N, 28, 28, 1) in [-1, 1]

    def frechet(generator) -> float:
        return metrics.frechet_distance(metrics.classifier_features(classifier, gan.sample(generator, num_samples)),
                                        reference)

    def run(settings, stop):
        generator, discriminator = gan.build_models(settings)
        opt = lambda: keras.optimizers.Adam(settings["learning_rate"], beta_1=settings["beta_1"])  # noqa: E731
        step = gan.make_train_step(generator, discriminator, opt(), opt(), keras.random.SeedGenerator(0))
        batch_size, rng = settings["batch_size"], np.random.default_rng(0)
        step(real[:batch_size])  # trace (not timed)
        trained, steps, next_eval, curve = 0.0, 1, eval_every, []
        while True:
            order = rng.permutation(len(real))
            for i in range(0, len(real) - batch_size + 1, batch_size):
                start = time.perf_counter()
                float(step(real[order[i:i + batch_size]])["d_loss"])
                trained += time.perf_counter() - start
                steps += 1
                if trained >= next_eval:
                    next_eval += eval_every
                    curve.append((trained, steps, frechet(generator)))
                    print(f"    {settings['arch']:<8} {trained:7.0f} s  step {steps:6d}  Fréchet {curve[-1][2]:8.2f}")
                    if stop(trained, curve[-1][2]):
                        return trained, curve

    _, tutorial_curve = run(gan.tutorial_settings(), lambda t, f: t >= budget)
    target = tutorial_curve[-1][2]
    seconds, curve = run(gan.GANSettings(), lambda t, f: f <= target or t >= budget)
    reached = curve[-1][2] <= target
    print(f"  tutorial recipe after {tutorial_curve[-1][0]:.0f} s: Fréchet {target:.2f}")
    print(f"  artlib recipe {'reached it' if reached else 'did NOT reach it'} after {seconds:.0f} s "
          f"(Fréchet {curve[-1][2]:.2f}): {tutorial_curve[-1][0] / seconds:.1f}x faster"
          + ("" if reached else " (lower bound not met)"))


def main() -> None:
    args = OPTIONS or parse_options()
    print("machine:", config.describe_machine())
    print("versions:", ", ".join(f"{k} {v}" for k, v in config.versions().items()))
    throughput(args.quick)
    if not args.skip_quality:
        budget, every, samples = (6, 3, 200) if args.quick else (args.budget, args.eval_every, 2000)
        time_to_quality(budget, every, samples, args.classifier)


if __name__ == "__main__":
    main()
