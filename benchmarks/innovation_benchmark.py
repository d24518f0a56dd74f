"""From imitation to innovation, measured: fine-tuning from 100 images, and a sweep of the creative weight.

    python benchmarks/innovation_benchmark.py --root runs/innovation [--quick] [--samples 1000]
        [--steps 3000] [--finetune-steps 600] [--weights 0 0.01 0.03 0.1 1] [--warmup 1500] [--width 32] [--target-class 9]
        [--upsample resize|transpose]

Trains what ``--root`` does not hold yet (each run resumes or is skipped when done) with artlib's own
functions, then measures every run with ``metrics.sample_report`` on the same number of samples:

1. **Transfer learning.** A GAN on the nine other classes (``root/nine``), then the target class from its
   first 100 training images three ways for the same number of steps: from scratch, fine-tuned, and
   fine-tuned with the discriminator's first convolution frozen (FreezeD). Measured against the
   target class's test images; near-copies and nearest images are searched among the 100.
   Target: fine-tuning's Fréchet distance at least 2× lower than from scratch, with fewer near-copies.
2. **A creative adversarial network.** The same recipe and steps at each creative weight (0 is the plain
   GAN), the weight rising from 0 over the first ``--warmup`` steps (default: half of them). Measured against the whole test set; class entropy under the shipped classifier, the distance to
   the nearest training image and the near-copy share say how far from the training images it went.
   Target: a weight with clearly higher entropy and distance at a Fréchet distance ≤ 2× the plain GAN's.

``--quick`` is a seconds-long smoke run (tiny runs under a temporary folder).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib.cli.common import class_label, nonnegative_float, nonnegative_int, positive_int  # noqa: E402  (no TensorFlow)

from artlib import config  # noqa: E402  (selects the TensorFlow backend)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=None, help="folder of the runs (default: a temporary one)")
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--samples", type=positive_int, default=1000, help="samples per run (default: %(default)s)")
    parser.add_argument("--steps", type=positive_int, default=3000, help="steps of the nine-class and creative runs")
    parser.add_argument("--finetune-steps", type=positive_int, default=600, help="steps of each transfer variant")
    parser.add_argument("--weights", type=nonnegative_float, nargs="+", default=[0, 0.01, 0.03, 0.1, 1], help="creative weights")
    parser.add_argument("--warmup", type=nonnegative_int, default=None, help="creative warm-up steps (default: --steps / 2)")
    parser.add_argument("--width", type=positive_int, default=32, help="the networks' width (default: %(default)s)")
    parser.add_argument("--upsample", choices=("resize", "transpose"), default="resize",
                        help="the generator's upsampling (the shipped runs: transpose; default: %(default)s)")
    parser.add_argument("--target-class", type=class_label, default=9, help="the class learnt from 100 images")
    args = parser.parse_args(argv)

    import numpy as np

    from artlib import data, gan, metrics

    quick = args.quick
    root = Path(args.root or tempfile.mkdtemp(prefix="innovation-"))
    steps, ft_steps, n = (3, 3, 40) if quick else (args.steps, args.finetune_steps, args.samples)
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    recipe = gan.GANSettings(width=8 if quick else args.width, batch_size=16 if quick else 64, upsample=args.upsample)
    memo = metrics.SampleMemo()
    print(f"{config.describe_mode()}; runs in {root}; {n} samples per run")

    target = args.target_class
    others = [c for c in range(10) if c != target]
    start = time.perf_counter()
    gan.train(root / "nine", gan.GANSettings(**{**recipe, "classes": others}), images=x_train, labels=y_train,
              num_steps=steps, quiet=True)
    runs = gan.finetune_variants(root / "transfer", root / "nine", target, num_steps=ft_steps, images=x_train,
                                 labels=y_train, quiet=True)
    few = x_train[y_train == target][:100]
    print(f"\n1. {data.FASHION_MNIST_CLASSES[target]} from its first 100 training images, {ft_steps} steps each "
          f"(trained in {time.perf_counter() - start:.0f} s; measured against its {np.sum(y_test == target)} test "
          f"images; near-copies among the 100):")
    reports = gan.measure_runs(runs, few, reference_images=x_test[y_test == target], num_samples=n, memo=memo)
    print(metrics.report_table(reports))
    scratch = reports["from scratch"]["frechet"]
    for name in ("fine-tuned", "fine-tuned, FreezeD"):
        print(f"   {name}: Fréchet {scratch / reports[name]['frechet']:.1f}× lower than from scratch")

    start = time.perf_counter()
    warmup = steps // 2 if args.warmup is None else args.warmup
    sweep = gan.creative_sweep(root / "creative", args.weights, settings={**recipe, "creative_warmup": warmup},
                               num_steps=steps, images=x_train, labels=y_train, quiet=True)
    print(f"\n2. A creative adversarial network, {steps} steps at each weight, warmed up over {warmup} (trained in "
          f"{time.perf_counter() - start:.0f} s; measured against the test set):")
    reports = gan.measure_runs({f"creative weight {w:g}": d for w, d in sweep.items()}, x_train, num_samples=n,
                               memo=memo)
    print(metrics.report_table(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
