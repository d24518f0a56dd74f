"""``python -m artlib diffusion train|sample|denoise-path``: a small DDPM/DDIM on Fashion-MNIST."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from artlib.cli.common import (LIBRARY_DEFAULTS, MAX_IMAGES, MAX_WIDTH, between, check_folder, check_output,
                               class_label, force_option, library_default, max_seconds_option, model_option,
                               mosaic_pixels, nonnegative_float, one_of, out_option, picture_zoom, positive_int,
                               sample_grid, save_samples, seed_option, unit_closed, zoom_option)
from artlib.errors import ArtlibError

__all__ = ["register"]

#: The options' defaults in fast mode (``ARTLIB_MODE=fast``: seconds-long runs for CI), read by the handler
#: and shown by ``--help``.
FAST = {"steps": 3}


def cmd_train(args: argparse.Namespace) -> int:
    check_folder(args.run_dir, "diffusion")
    from artlib import config, diffusion

    settings = diffusion.DiffusionSettings(seed=args.seed)
    for key in ("width", "batch_size"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    steps = args.steps if args.steps is not None else config.choose(full=settings["num_steps"], fast=FAST["steps"])
    start = time.perf_counter()
    result = diffusion.train(args.run_dir, settings, num_steps=steps, max_seconds=args.max_seconds)
    print(f"trained to step {result.final_step} ({result.stopped}) in {time.perf_counter() - start:.0f} s; "
          f"model: {Path(args.run_dir) / diffusion.MODEL_FILE}, samples: {Path(args.run_dir) / 'samples.gif'}")
    return 0


def _sampling(args: argparse.Namespace) -> tuple:
    """The model, and the arguments every sampler takes: the schedule, a class per image, guidance, seed."""
    from artlib import diffusion

    model, schedule = diffusion.load_model(args.model)  # None: the shipped model
    labels = args.label if args.label is not None else diffusion.drawn_classes(args.n, args.seed)
    return model, dict(schedule=schedule, labels=labels, guidance=args.guidance, seed=args.seed)


#: DDIM's steps, η and order when ``--steps``, ``--eta`` and ``--order`` are not given: the library's
#: ``diffusion.SHOWN_SAMPLER``, written out (``tests/test_cli.py`` checks them) as ``--help`` must not load it.
#: A schedule with fewer levels than the steps: all of them.
DEFAULT_DDIM_STEPS = LIBRARY_DEFAULTS["diffusion.SHOWN_SAMPLER.steps"]
DEFAULT_ETA = LIBRARY_DEFAULTS["diffusion.SHOWN_SAMPLER.eta"]
DEFAULT_ORDER = LIBRARY_DEFAULTS["diffusion.SHOWN_SAMPLER.order"]


def _ddim_options(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with DDIM's ``--eta`` and ``--order`` filled in; with ``--ddpm`` (no DDIM), none of them may be given.

    Raises:
        ArtlibError: ``--ddpm`` with ``--steps``, ``--eta`` or ``--order`` (which it would ignore).
    """
    if getattr(args, "ddpm", False):
        given = [flag for flag, value in (("--steps", args.steps), ("--eta", args.eta), ("--order", args.order))
                 if value is not None]
        if given:
            one = len(given) == 1
            raise ArtlibError(f"--ddpm takes all the schedule's levels with fresh noise at each: {', '.join(given)} "
                              f"{'is' if one else 'are'} DDIM's; drop {'it' if one else 'them'}")
    args.eta = DEFAULT_ETA if args.eta is None else args.eta
    args.order = DEFAULT_ORDER if args.order is None else args.order
    return args


def _steps(args: argparse.Namespace, schedule) -> int:
    """``--steps``, which must fit the schedule (ddim_sample says so in one line); unset, the default that fits."""
    return args.steps if args.steps is not None else min(DEFAULT_DDIM_STEPS, schedule.num_timesteps)


def _sample(args: argparse.Namespace):
    from artlib import diffusion

    model, common = _sampling(args)
    if args.ddpm:
        return diffusion.ddpm_sample(model, args.n, **common), common["schedule"].num_timesteps
    steps = _steps(args, common["schedule"])
    return diffusion.ddim_sample(model, args.n, steps=steps, eta=args.eta, order=args.order, **common), steps


def cmd_sample(args: argparse.Namespace) -> int:
    out = check_output(args.out, args.force, (".png", ".npz"))
    args = _ddim_options(args)
    ncols, zoom, note = sample_grid(out, args.n, args.zoom)
    from artlib.classes import class_name

    start = time.perf_counter()
    images, steps = _sample(args)
    save_samples(out, images[..., 0], ncols, zoom)  # (n, 28, 28) in [0, 1]
    how = f"{steps:,}-step DDPM" if args.ddpm else f"{steps}-step DDIM, eta {args.eta:g}, order {args.order}"
    what = "of every class" if args.label is None else f"of class {args.label} ({class_name(args.label)})"
    print(f"{args.n} samples {what} ({how}) in {time.perf_counter() - start:.1f} s -> {out}{note}")
    return 0


def cmd_denoise_path(args: argparse.Namespace) -> int:
    out = check_output(args.out, args.force, (".gif", ".png"))
    args = _ddim_options(args)
    from artlib import diffusion, plotting
    from artlib.imageio import save_image

    model, common = _sampling(args)
    steps, gif = _steps(args, common["schedule"]), out.suffix.lower() == ".gif"
    zoom, note = picture_zoom(args.zoom, steps * mosaic_pixels(args.n, args.n) if gif else mosaic_pixels(steps, steps))
    _, path = diffusion.ddim_sample(model, args.n, steps=steps, eta=args.eta, order=args.order, return_path=True,
                                    **common)
    # path: (steps, n, 28, 28, 1), noise -> image
    if gif:
        frames = [plotting.grid_array(step, ncols=args.n, zoom=zoom) for step in path]
        plotting.save_gif(frames + [frames[-1]] * 8, out, fps=8)  # linger on the finished image
    else:
        save_image(out, plotting.grid_array(path[:, 0], ncols=len(path), zoom=zoom))
    print(f"the path from noise to {args.n} image(s) in {len(path)} DDIM steps -> {out}{note}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("diffusion", help="train a diffusion model on Fashion-MNIST, sample it, show its path")
    d_sub = parser.add_subparsers(dest="diffusion_command", required=True, metavar="DIFFUSION_COMMAND")
    train = d_sub.add_parser("train", help="train (or resume) a class-conditional DDPM into a run directory")
    train.add_argument("--steps", type=positive_int, default=None,
                       help="train up to this step (default: the recipe's, "
                            f"{library_default('diffusion.DiffusionSettings.DEFAULTS.num_steps')}, as shipped; "
                            f"fast mode: {FAST['steps']})")
    train.add_argument("--width", type=between(1, MAX_WIDTH), default=None,
                       help="U-Net channels at 28×28 "
                            f"(default: {library_default('diffusion.DiffusionSettings.DEFAULTS.width')})")
    train.add_argument("--batch-size", type=positive_int, default=None, help="images per step "
                       f"(default: {library_default('diffusion.DiffusionSettings.DEFAULTS.batch_size')})")
    max_seconds_option(train)
    train.add_argument("--run-dir", default="runs/diffusion", help="where checkpoints and samples go; training "
                       "resumes if it holds a run (default: %(default)s)")
    seed_option(train)
    train.set_defaults(func=cmd_train)
    for name, func, kinds, helptext in (
            ("sample", cmd_sample, "PNG grid or .npz array `images` (N×28×28, [0, 1])", "generate images"),
            ("denoise-path", cmd_denoise_path, "animated GIF (or a PNG strip)", "show noise turning into images")):
        cmd = d_sub.add_parser(name, help=helptext)
        model_option(cmd, "a trained run directory (default: the shipped model)", "--run-dir")
        out_option(cmd, f"output file: {kinds}")
        cmd.add_argument("-n", type=between(1, MAX_IMAGES), default=64 if name == "sample" else 4,
                         help="how many images (default: %(default)s)")
        cmd.add_argument("--steps", type=positive_int, default=None,
                         help=f"DDIM steps, at most the schedule's levels (1,000 for the shipped model; default: "
                              f"{DEFAULT_DDIM_STEPS}, or all of a shorter schedule's)")
        if name == "sample":
            cmd.add_argument("--ddpm", action="store_true", help="ancestral DDPM with all 1,000 steps instead (slow)")
        cmd.add_argument("--eta", type=unit_closed, default=None,
                         help="DDIM's share of fresh noise per step: 0 deterministic (smoother), 1 as much as "
                              f"DDPM (default: {DEFAULT_ETA:g}; sharper with this model, see data/README.md)")
        cmd.add_argument("--order", type=one_of(1, 2), default=None,
                         help="DDIM's order, 1 or 2: 1 as published; 2: each step also uses the last step's "
                              "estimate of the image (DPM-Solver++ 2M), closer to 1,000 DDPM steps in 50 "
                              f"(default: {DEFAULT_ORDER}; README)")
        cmd.add_argument("--class", dest="label", type=class_label, default=None,
                         help="a class, 0-9 or a name such as sneaker (default: one drawn for each image)")
        cmd.add_argument("--guidance", type=nonnegative_float, default=1.0,
                         help="classifier-free guidance weight: 0 unconditional, 1 conditional, >1 stronger "
                              "(default: %(default)s)")
        zoom_option(cmd)
        seed_option(cmd)
        force_option(cmd)
        cmd.set_defaults(func=func)
