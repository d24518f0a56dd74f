"""``python -m artlib gan train|finetune|sample|interpolate``: a GAN on Fashion-MNIST, its samples and latent walks.

``gan train`` also trains the variants of notebook 09: a creative adversarial network
(``--creative-weight``) and a GAN on some classes only (``--classes``); ``gan finetune``
adapts a trained run to a new class from a few images (``--freeze-d`` for FreezeD).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from artlib import config
from artlib.cli.common import (MAX_IMAGES, MAX_WIDTH, between, check_folder, check_output, class_label,
                               force_option, library_default, model_option, nonnegative_float, nonnegative_int,
                               mosaic_pixels, out_option, picture_zoom, positive_int, sample_grid, save_samples,
                               seed_option, zoom_option)
from artlib.errors import ArtlibError

__all__ = ["register"]

#: The options' defaults in fast mode (``ARTLIB_MODE=fast``: seconds-long runs for CI), read by the handler
#: and shown by ``--help``.
FAST = {"epochs": 1, "finetune_steps": 3}

LOSSES = "minimax, bce (= non_saturating), lsgan, hinge, wgan-gp"


def _upsample_of(run_dir: str) -> str:
    """The upsampling a run directory trained with (so that running `gan train` again resumes it), else the default."""
    from artlib import gan
    from artlib.errors import CheckpointError

    try:
        return gan.load_settings(run_dir)["upsample"]
    except CheckpointError:  # no run there yet (or not a GAN run: train refuses it with its own message)
        return gan.GANSettings.DEFAULTS["upsample"]


def cmd_train(args: argparse.Namespace) -> int:
    check_folder(args.run_dir, "GAN")
    from artlib import gan

    overrides = {"loss": args.loss, "conditional": args.conditional, "seed": args.seed, "classes": args.classes,
                 "creative_weight": args.creative_weight, "creative_warmup": args.creative_warmup,
                 "creative_start": args.creative_start,
                 "num_images": args.images, "upsample": args.upsample or _upsample_of(args.run_dir)}
    if args.width is not None:
        overrides["width"] = args.width
    settings = gan.tutorial_settings(**overrides) if args.arch == "tutorial" else gan.GANSettings(**overrides)
    epochs = args.epochs if args.epochs is not None else config.choose(full=None, fast=FAST["epochs"])
    if epochs is not None:
        settings["num_epochs"] = epochs
    if args.batch_size is not None:
        settings["batch_size"] = args.batch_size
    start = time.perf_counter()
    result = gan.train(args.run_dir, settings, num_steps=args.steps)
    print(f"trained to step {result.final_step} in {time.perf_counter() - start:.0f} s; generator: "
          f"{Path(args.run_dir) / 'generator.keras'}, samples: {Path(args.run_dir) / 'samples.gif'}")
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    check_folder(args.run_dir, "GAN")
    from artlib import gan

    steps = args.steps
    if steps is None:
        steps = config.choose(full=gan.FINETUNE_STEPS, fast=FAST["finetune_steps"])
    start = time.perf_counter()
    result = gan.finetune(args.run_dir, args.from_run_dir, args.target_class, num_images=args.images,
                          freeze_d=args.freeze_d, num_steps=steps, batch_size=args.batch_size)
    print(f"fine-tuned to step {result.final_step} in {time.perf_counter() - start:.0f} s; generator: "
          f"{Path(args.run_dir) / 'generator.keras'}, samples: {Path(args.run_dir) / 'samples.gif'}")
    return 0


def _generator(args: argparse.Namespace):
    from artlib import gan

    return gan.load_generator(args.model)  # None: the shipped generator


def cmd_sample(args: argparse.Namespace) -> int:
    out = check_output(args.out, args.force, (".png", ".npz"))
    ncols, zoom, note = sample_grid(out, args.n, args.zoom)
    from artlib import gan

    images = gan.sample(_generator(args), args.n, seed=args.seed, label=args.label)  # (n, 28, 28) in [0, 1]
    save_samples(out, images, ncols, zoom)
    print(f"{args.n} samples -> {out}{note}")
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    out = check_output(args.out, args.force, (".png", ".gif"))
    if args.rows * args.frames > MAX_IMAGES:
        raise ArtlibError(f"--rows {args.rows} × --frames {args.frames} is {args.rows * args.frames:,} images, more "
                          f"than the {MAX_IMAGES:,} a command makes at once; ask for fewer")
    gif = out.suffix.lower() == ".gif"
    pixels = (2 * args.frames - 2) * mosaic_pixels(args.rows, args.rows) if gif else \
        mosaic_pixels(args.rows * args.frames, args.frames)  # a GIF: every frame of the walk there and back
    zoom, note = picture_zoom(args.zoom, pixels)
    import numpy as np

    from artlib import gan, plotting
    from artlib.imageio import save_image

    walks = gan.interpolate(_generator(args), num_rows=args.rows, num_steps=args.frames, seed=args.seed,
                            label=args.label)  # (rows, frames, 28, 28)
    if gif:
        frames = [plotting.grid_array(walks[:, t, :, :, np.newaxis], ncols=args.rows, zoom=zoom)
                  for t in range(args.frames)]
        plotting.save_gif(frames + frames[-2:0:-1], out, fps=8)  # there and back, looping
    else:
        save_image(out, plotting.grid_array(walks.reshape(-1, 28, 28, 1), ncols=args.frames, zoom=zoom))
    print(f"{args.rows} latent walks of {args.frames} images -> {out}{note}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("gan", help="train a GAN on Fashion-MNIST, sample it, walk its latent space")
    gan_sub = parser.add_subparsers(dest="gan_command", required=True, metavar="GAN_COMMAND")
    train = gan_sub.add_parser("train", help="train (or resume) a GAN into a run directory")
    train.add_argument("--loss", default="bce", help=f"the game's loss: {LOSSES} (default: %(default)s)")
    train.add_argument("--conditional", action="store_true", help="condition on the ten class labels")
    train.add_argument("--arch", choices=("artlib", "tutorial"), default="artlib",
                       help="artlib's recipe or the TF DCGAN tutorial's (default: %(default)s)")
    train.add_argument("--upsample", choices=("resize", "transpose"), default=None,
                       help="how artlib's generator doubles its size: nearest-neighbour and a convolution, or a "
                            "transposed convolution (default: the run directory's, for a new run resize)")
    train.add_argument("--epochs", type=positive_int, default=None,
                       help=f"epochs (default: {library_default('gan.GANSettings.DEFAULTS.num_epochs')}; "
                            f"fast mode: {FAST['epochs']})")
    train.add_argument("--steps", type=positive_int, default=None, help="train up to this step instead of --epochs")
    train.add_argument("--batch-size", type=positive_int, default=None,
                       help=f"images per step (default: {library_default('gan.GANSettings.DEFAULTS.batch_size')})")
    train.add_argument("--width", type=between(2, MAX_WIDTH), default=None,
                       help="channels of the networks' middle layers "
                            f"(default: {library_default('gan.GANSettings.DEFAULTS.width')})")
    train.add_argument("--classes", type=class_label, nargs="+", default=None, metavar="CLASS",
                       help="train on these classes only, by number 0-9 or name (default: all ten)")
    train.add_argument("--images", type=positive_int, default=None, metavar="N",
                       help="train on the first N training images (of those classes) only (default: all)")
    train.add_argument("--creative-weight", type=nonnegative_float, default=0.0, metavar="W",
                       help="a creative adversarial network: weight of the style-ambiguity loss "
                            "(0, the default: the plain GAN)")
    train.add_argument("--creative-warmup", type=nonnegative_int, default=0, metavar="STEPS",
                       help="raise the creative weight linearly from 0 over this many steps (default: 0, at once)")
    train.add_argument("--creative-start", type=nonnegative_int, default=0, metavar="STEPS",
                       help="train this many steps as a plain GAN (the class head learning) before the creative "
                       "weight starts to rise (default: 0)")
    train.add_argument("--run-dir", default="runs/gan", help="where checkpoints and samples go; training "
                       "resumes if it holds a run (default: %(default)s)")
    seed_option(train)
    train.set_defaults(func=cmd_train)
    tune = gan_sub.add_parser("finetune", help="adapt a trained GAN run to a new class from a few images")
    tune.add_argument("--from-run-dir", required=True, help="the trained GAN run directory to start from")
    tune.add_argument("--target-class", type=class_label, required=True,
                      help="the class to learn, 0-9 or a name such as sneaker")
    tune.add_argument("--images", type=positive_int, default=100,
                      help="how many training images of that class to learn from (default: %(default)s)")
    tune.add_argument("--freeze-d", type=nonnegative_int, default=0, metavar="N",
                      help="keep the discriminator's first N convolutions frozen (FreezeD; default: 0)")
    tune.add_argument("--steps", type=positive_int, default=None,
                      help=f"steps to train up to (default: {library_default('gan.FINETUNE_STEPS')}; "
                           f"fast mode: {FAST['finetune_steps']})")
    tune.add_argument("--batch-size", type=positive_int, default=None,
                      help="images per step (default: the source run's, at most --images)")
    tune.add_argument("--run-dir", required=True, help="the new run directory (resumes if it holds this run)")
    tune.set_defaults(func=cmd_finetune)
    for name, func, kinds, helptext in (
            ("sample", cmd_sample, "PNG grid or .npz array `images` (N×28×28, [0, 1])", "generate images"),
            ("interpolate", cmd_interpolate, "PNG rows or animated GIF", "walk between latents")):
        cmd = gan_sub.add_parser(name, help=helptext)
        model_option(cmd, "a trained run directory (default: the shipped generator)", "--run-dir")
        out_option(cmd, f"output file: {kinds}")
        if name == "sample":
            cmd.add_argument("-n", type=between(1, MAX_IMAGES), default=64,
                             help="how many images (default: %(default)s)")
        else:
            cmd.add_argument("--rows", type=between(1, 1000), default=4, help="how many walks (default: %(default)s)")
            cmd.add_argument("--frames", "--steps", dest="frames", type=between(2, 1000), default=10,
                             help="images per walk, both ends included (default: %(default)s)")
        cmd.add_argument("--label", type=class_label, default=None,
                         help="a class, 0-9 or a name (conditional runs only)")
        zoom_option(cmd)
        seed_option(cmd)
        force_option(cmd)
        cmd.set_defaults(func=func)
