"""``python -m artlib style transfer`` (alias ``stylize``): paint a photo in the style of other images."""

from __future__ import annotations

import argparse

from artlib.cli.common import (MAX_SIDE, STYLE_SOURCES, between, check_output, existing_inputs, force_option,
                               library_default, out_option, positive_float, positive_int, seed_option)
from artlib.errors import ArtlibError

__all__ = ["register"]

#: The options' defaults in fast mode (``ARTLIB_MODE=fast``: seconds-long runs for CI), read by the handler
#: and shown by ``--help``.
FAST = {"size": 64, "steps": 5}


def cmd_transfer(args: argparse.Namespace) -> int:
    from artlib import imageio

    out = check_output(args.out, args.force, imageio.SAVE_FORMATS)
    if args.style_weights is not None and len(args.style_weights) != len(args.styles):
        raise ArtlibError(f"--style-weights: {len(args.style_weights)} weights for {len(args.styles)} styles")
    existing_inputs(args.content, *args.styles)
    from artlib import config, style, training

    size = args.size if args.size is not None else config.choose(full=style.DEFAULT_MAX_DIM, fast=FAST["size"])
    size = style.check_max_dim(size)  # memory first
    content = style.load_style_image(args.content, max_dim=None)
    styles = [style.load_style_image(s, max_dim=max(size, 256), seed=args.seed) for s in args.styles]
    steps = args.steps if args.steps is not None else config.choose(full=style.DEFAULT_STEPS, fast=FAST["steps"])
    stages = len(style.coarse_to_fine_sizes(size)) if args.optimizer == "lbfgs" else 1
    budgets = [n for n, _ in style.stage_schedule(steps, stages)]  # a stage that settles sooner skips ahead
    starts = [sum(budgets[:k]) for k in range(stages)]
    bar = training.progress_bar(sum(budgets))

    def report(i: int, record: dict) -> None:
        done = starts[record["stage"]] + record["step"] + 1
        if bar.target is not None and done > bar.target:  # L-BFGS's line search may take an evaluation or two
            bar.target = done                              # more than its budget: the bar shows them, not "2/1"
        bar.update(done, [("loss", record["total"])])

    extractor = style.FeatureExtractor(args.weights, seed=args.seed)  # says so if "auto" falls back, and why
    result = style.style_transfer(
        content, styles, max_dim=size, steps=steps, optimizer=args.optimizer, extractor=extractor,
        style_weight=args.style_weight, blend=args.style_weights, seed=args.seed,
        preserve_color="luminance" if args.preserve_color else None, coarse_to_fine=args.optimizer == "lbfgs",
        callback=report, verbose=False)
    imageio.save_image(out, result.image)
    print(f"\n{result.summary()}\n-> {out}")
    return 0


def _add_transfer(sub: argparse._SubParsersAction, name: str, helptext: str) -> None:
    cmd = sub.add_parser(name, help=helptext)
    cmd.add_argument("content", help="content image: a path or an http(s) URL")
    cmd.add_argument("styles", nargs="+", metavar="STYLE",
                     help=f"style image(s): {STYLE_SOURCES}")
    out_option(cmd, "output image (.png, .jpg ...)")
    cmd.add_argument("--size", type=between(1, MAX_SIDE), default=None,
                     help=f"long side of the output (default: {library_default('style.DEFAULT_MAX_DIM')}; "
                          f"fast mode: {FAST['size']})")
    cmd.add_argument("--steps", type=positive_int, default=None,
                     help="steps at the final size, up to twice that at each coarser one "
                          f"(default: {library_default('style.DEFAULT_STEPS')}; fast mode: {FAST['steps']})")
    cmd.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs",
                     help="L-BFGS coarse to fine, or the tutorial's Adam (default: %(default)s)")
    cmd.add_argument("--weights", default="auto", help="features: auto, imagenet, hed-vgg16, random or a "
                     "weights file (default: %(default)s: ImageNet VGG19 if cached or downloadable, else hed-vgg16)")
    cmd.add_argument("--style-weight", type=positive_float, default=None, help="weight of the style term "
                     "(default: artlib's for the features, style.default_weights)")
    cmd.add_argument("--style-weights", type=positive_float, nargs="+", default=None, metavar="W",
                     help="blend several styles: one weight per style image")
    cmd.add_argument("--preserve-color", action="store_true", help="keep the content's colours "
                     "(transfer brightness only)")
    seed_option(cmd)
    force_option(cmd)
    cmd.set_defaults(func=cmd_transfer)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("style", help="neural style transfer (VGG features, L-BFGS coarse to fine)")
    style_sub = parser.add_subparsers(dest="style_command", required=True, metavar="STYLE_COMMAND")
    _add_transfer(style_sub, "transfer", "paint a photo in the style of one or more images")
    _add_transfer(sub, "stylize", "alias of `style transfer`")
