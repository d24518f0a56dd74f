"""Three families on one scale: the shipped GAN, VAE and diffusion model, measured the same way.

    python benchmarks/generative_benchmark.py [--quick] [--samples 2000] [--ddpm-samples 400] [--ddim-steps 10 25 50]
                                              [--seeds 1]

For each model, in one process on this machine: seconds per image to sample (batch of all samples, warm-up
excluded), and ``metrics.sample_report`` on the same number of samples against the same real test images
(Fréchet distance and KID on the shipped classifier's features, class coverage, near-copy share, mean
distance to the nearest training image). Diffusion is measured with DDIM at each ``--ddim-steps``:
deterministic (η = 0), with fresh noise (η = 1), and with fresh noise and the second-order step (η = 1,
order 2, the command line's default); and with ancestral DDPM (all 1,000 steps) and 1,000-step
deterministic DDIM on ``--ddpm-samples`` samples, beside the longest DDIM on the same count — the Fréchet
distance depends on the count, so only equal counts compare (target: DDIM ≤ 50 steps within 1.2× of the
1,000-step samplers'). That distance varies from seed to seed by more than the target's margin, so
``--seeds S`` repeats DDPM and the short DDIM rows with S seeds (the start noise and the drawn classes) and
compares their means. A few hundred samples also understate the gap (a bias both samplers share):
``--ddpm-samples 2000`` judges on the first target's count, at about 50 minutes of DDPM a seed on 2 cores
(README: first-order DDIM 1.71× there, order 2 0.98× and 1.05× on seeds 0 and 1).

The diffusion model is class-conditional: it is sampled both unconditionally (label "none", which it
learned on 10 % of its steps) and with each sample's class drawn uniformly from the ten
(``diffusion.drawn_classes``: the data's own class prior, so the samples still come from
p(x) = Σ_c p(c) p(x | c)); the 1,000-step comparison uses the latter. Training times are the shipped
models' own, from data/README.md.

``--quick`` is a seconds-long smoke run (few samples, few steps).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlib.cli.common import positive_int  # noqa: E402  (no TensorFlow)

import numpy as np  # noqa: E402

from artlib import config  # noqa: E402  (selects the TensorFlow backend)

#: Each shipped model's training, as data/README.md records it.
TRAINING = {
    "GAN (DCGAN)": "5,750 steps, 23 min of 2 cores, shared",
    "VAE (2-D latent)": "3 epochs, 42 min on 2 cores shared with five other jobs",
    "diffusion": "see data/README.md (pretrained/diffusion)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--samples", type=positive_int, default=2000, help="samples per model (default: %(default)s)")
    parser.add_argument("--ddpm-samples", type=positive_int, default=400,
                        help="samples for the 1,000-step rows (default: %(default)s)")
    parser.add_argument("--ddim-steps", type=positive_int, nargs="+", default=[10, 25, 50], help="DDIM step counts")
    parser.add_argument("--seeds", type=positive_int, default=1,
                        help="seeds (start noise and drawn classes) of the 1,000-step comparison; the Fréchet "
                        "distance of 400 samples varies by about ±15 %% from seed to seed (default: %(default)s)")
    parser.add_argument("--diffusion", default=None, help="a diffusion run directory (default: the shipped model)")
    args = parser.parse_args(argv)

    from artlib import data, diffusion, gan, metrics, vae

    n = 16 if args.quick else args.samples
    n_ddpm = 4 if args.quick else args.ddpm_samples
    ddim_steps = [2] if args.quick else args.ddim_steps
    print(f"machine: {config.describe_machine()}; {'quick smoke run' if args.quick else 'full run'}")
    (x_train, _), (x_test, _) = data.load_fashion_mnist()
    reference = x_test[:n]
    memo = metrics.SampleMemo()
    generator, vae_model = gan.load_generator(), vae.load_pretrained(2)
    model, schedule = diffusion.load_model(args.diffusion)
    rows = []

    def measure(name, draw, count, reference_images):
        _, seconds, report = metrics.timed_report(draw, count, x_train, warm_up=2, reference_images=reference_images,
                                                  seed=0, memo=memo)  # the warm-up traces the graphs
        rows.append((name, count, seconds, report))
        print(f"  {name}: {count} samples, {seconds:.4f} s/image, Fréchet {report['frechet']:.2f}, "
              f"KID {report['kid']:.3f}, coverage {report['class_coverage']:.1f}, near-copies "
              f"{report['near_copy_share']:.3f}, nearest-image distance {report['pixel_nn_distance']:.2f}", flush=True)

    measure("GAN (DCGAN)", lambda k: gan.sample(generator, k, seed=0), n, reference)
    measure("VAE (2-D latent)", lambda k: vae.sample(vae_model, k, seed=0), n, reference)

    def classes(k):  # each sample's class drawn from the data's prior (uniform over the ten), seeded
        return diffusion.drawn_classes(k, 0)

    for steps in ddim_steps:
        measure(f"diffusion, DDIM {steps} steps, no class",
                lambda k, s=steps: diffusion.ddim_sample(model, k, schedule=schedule, steps=s, seed=0), n, reference)
        for eta, order in ((0.0, 1), (1.0, 1), (1.0, 2)):
            measure(f"diffusion, DDIM {steps} steps, η {eta:g}{', order 2' if order == 2 else ''}, classes drawn",
                    lambda k, s=steps, e=eta, o=order: diffusion.ddim_sample(
                        model, k, schedule=schedule, steps=s, eta=e, order=o, labels=classes(k), seed=0), n, reference)
    n_long = n_ddpm  # the 1,000-step samplers cost 20× a 50-step one: fewer samples, compared at equal counts
    long_reference = x_test[:n_long]
    short = max(ddim_steps)
    long_rows = {}  # {sampler: [Fréchet distance per seed]}

    def ddim(steps, eta=0.0, order=1):  # a sampler of (count, seed): that seed's start noise and drawn classes
        return lambda k, sd: diffusion.ddim_sample(model, k, schedule=schedule, steps=steps, eta=eta, order=order,
                                                   labels=diffusion.drawn_classes(k, sd), seed=sd)

    def ddpm(k, sd):
        return diffusion.ddpm_sample(model, k, schedule=schedule, labels=diffusion.drawn_classes(k, sd), seed=sd)

    for name, draw, seeds in (("DDPM 1000 steps", ddpm, args.seeds),
                              # deterministic DDIM has converged long before 1,000 steps: one seed
                              ("DDIM 1000 steps, η 0", ddim(schedule.num_timesteps), 1),
                              (f"DDIM {short} steps, η 0", ddim(short), args.seeds),
                              (f"DDIM {short} steps, η 1", ddim(short, 1.0), args.seeds),
                              (f"DDIM {short} steps, η 1, order 2", ddim(short, 1.0, 2), args.seeds)):
        long_rows[name] = []
        for sd in range(seeds):
            label = f"diffusion, {name}, classes drawn ({n_long})" + (f", seed {sd}" if sd else "")
            measure(label, lambda k, sd=sd, draw=draw: draw(k, sd), n_long, long_reference)
            long_rows[name].append(rows[-1][3]["frechet"])

    print("\n| model | samples | s per image | Fréchet | KID | coverage | near-copies | nearest-image distance | training |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, count, seconds, r in rows:
        training = TRAINING["diffusion" if name.startswith("diffusion") else name]
        print(f"| {name} | {count} | {seconds:.4f} | {r['frechet']:.2f} | {r['kid']:.3f} | {r['class_coverage']:.1f} | "
              f"{r['near_copy_share']:.3f} | {r['pixel_nn_distance']:.2f} | {training} |")
    for name, values in long_rows.items():
        if len(values) > 1:
            print(f"{name}, Fréchet on {n_long} samples, seeds 0-{len(values) - 1}: "
                  + ", ".join(f"{v:.2f}" for v in values) + f"; mean {np.mean(values):.2f}")
    for long_name in ("DDPM 1000 steps", "DDIM 1000 steps, η 0"):
        for short_name in (f"DDIM {short} steps, η {e}" for e in ("0", "1", "1, order 2")):
            ratio = np.mean(long_rows[short_name]) / np.mean(long_rows[long_name])
            print(f"{short_name} / {long_name}, Fréchet on {n_long} samples each"
                  + (" (means over the seeds measured)" if args.seeds > 1 else "") + f": {ratio:.2f} (target ≤ 1.2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
