"""``python -m artlib fast-style train|apply|export``: a feed-forward network for one style, applied in real time."""

from __future__ import annotations

import argparse

from artlib.cli.common import (MAX_SIDE, MAX_WIDTH, STYLE_SOURCES, between, check_folder, check_output, existing_inputs,
                               force_option, library_default, mode_defaults, out_option, positive_float, positive_int,
                               seed_option)
from artlib.errors import ArtlibError

__all__ = ["register"]

#: ``fast_style.STYLE_TERMS``, written out: that module imports TensorFlow (``tests/test_cli.py`` checks them).
STYLE_TERMS = ("squared", "distance")


def cmd_train(args: argparse.Namespace) -> int:
    out = check_output(args.out, args.force, (".keras",))
    check_folder(args.run_dir, "fast-style")
    existing_inputs(args.style)  # --content may also name bundled photos
    from artlib import fast_style

    options = {"width": args.width, "num_blocks": args.blocks, "edge_kernel": args.edge_kernel,
               "style_size": args.style_size, "style_weight": args.style_weight}
    result = fast_style.train(args.style, num_steps=args.steps, run_dir=args.run_dir, image_size=args.size,
                              batch_size=args.batch_size, content=args.content or None, weights=args.weights,
                              seed=args.seed, match_colours=args.match_colours, style_term=args.style_term,
                              **{k: v for k, v in options.items() if v is not None})
    fast_style.save_network(result.network, out, force=True, recipe=result.settings)
    print(f"saved {out} ({out.stat().st_size / 1e6:.2f} MB); try: python -m artlib fast-style apply {out} "
          "photo.jpg -o out/")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    inputs = list(args.inputs)
    model = args.model
    if model is None:
        if len(inputs) < 2:
            raise ArtlibError("fast-style apply: give a network (a .keras file or a shipped style name) and at "
                              "least one input, or --model NETWORK and the inputs")
        model = inputs.pop(0)
    if str(model).endswith(".keras"):
        existing_inputs(model)
    existing_inputs(*inputs)
    check_folder(args.out)
    from artlib import fast_style

    written = fast_style.apply(model, inputs, args.out, max_dim=args.size, force=args.force, verbose=True)
    print(f"{len(written)} file(s) in {args.out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    out = check_output(args.out, args.force, (".onnx", ".tflite"))
    if str(args.model).endswith(".keras"):
        existing_inputs(args.model)
    from artlib import fast_style

    fast_style.export_network(args.model, out, force=True)
    print(f"saved {out} ({out.stat().st_size / 1e6:.2f} MB); input 'images' N×H×W×3 float32 in [0, 1], any size")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("fast-style", help="train a feed-forward style network; apply it in real time; export it")
    fs_sub = parser.add_subparsers(dest="fast_style_command", required=True, metavar="FAST_STYLE_COMMAND")
    train = fs_sub.add_parser("train", help="train (or resume) a network for one style; save it as .keras")
    train.add_argument("style", help=f"style image: {STYLE_SOURCES}")
    out_option(train, "the trained network, NAME.keras")
    train.add_argument("--steps", type=positive_int, default=None,
                       help=f"training steps ({mode_defaults('fast_style.TRAIN_DEFAULTS', 'num_steps')})")
    train.add_argument("--size", type=between(8, MAX_SIDE), default=None,
                       help="side of the square training crops, at least 8 (the loss's features pool 3 times; "
                            f"{mode_defaults('fast_style.TRAIN_DEFAULTS', 'image_size')})")
    train.add_argument("--batch-size", type=positive_int, default=None,
                       help=f"crops per step ({mode_defaults('fast_style.TRAIN_DEFAULTS', 'batch_size')})")
    train.add_argument("--width", type=between(1, MAX_WIDTH), default=None,
                       help=f"network width (default: {library_default('fast_style.DEFAULT_WIDTH')})")
    train.add_argument("--blocks", type=between(0, 64), default=None,
                       help=f"residual blocks, 0 to 64 (default: {library_default('fast_style.DEFAULT_BLOCKS')})")
    train.add_argument("--edge-kernel", type=between(1, 31), default=None, help="kernel of the first and last "
                       f"convolutions, odd, up to 31 (default: {library_default('fast_style.DEFAULT_EDGE_KERNEL')})")
    train.add_argument("--content", nargs="*", default=None, help="content photos: sample names, opencv-doc (the "
                       "colour photos of Debian's opencv-doc), files, folders or URLs (default: scikit-image's "
                       "photos, and opencv-doc's where installed)")
    train.add_argument("--style-size", type=between(8, MAX_SIDE), default=None, help="long side of the style image: "
                       "the scale of the texture the network paints (default: --size)")
    train.add_argument("--style-weight", type=positive_float, default=None,
                       help="weight of the style term "
                            f"(default: {library_default('fast_style.FAST_STYLE_WEIGHTS.style_weight')})")
    train.add_argument("--style-term", choices=STYLE_TERMS, default="squared", help="how the style term "
                       "measures a crop against the style: squared (Johnson et al.'s squared Gram differences) or "
                       "distance (the style distance the quality ratio judges; the shipped waves network's) "
                       "(default: %(default)s)")
    train.add_argument("--match-colours", action="store_true", help="end the network with a layer that gives "
                       "every output the style's colour statistics (fast_style.MatchColours); try --style-weight 10")
    train.add_argument("--weights", default="auto", help="features of the loss: auto, imagenet, hed-vgg16, "
                       "random or a weights file (default: %(default)s)")
    train.add_argument("--run-dir", default="runs/fast_style", help="checkpoints and TensorBoard logs; "
                       "training resumes if it holds a run (default: %(default)s)")
    seed_option(train)
    force_option(train)
    train.set_defaults(func=cmd_train)
    apply = fs_sub.add_parser("apply", help="stylize images, folders, animated GIFs or videos",
                              usage="%(prog)s [-h] [options] -o OUT [MODEL] INPUT [INPUT ...]")
    apply.add_argument("inputs", nargs="+", metavar="[MODEL] INPUT",
                       help="the network (a .keras file or a shipped style name such as swirls) unless "
                            "--model is given, then images, folders, .gif files or videos")
    apply.add_argument("--model", default=None, help="the network: a .keras file or a shipped style name")
    out_option(apply, "output folder")
    apply.add_argument("--size", type=between(1, MAX_SIDE), default=None, help="resize inputs to this long side first")
    force_option(apply)
    apply.set_defaults(func=cmd_apply)
    export = fs_sub.add_parser("export", help="export a network to ONNX or LiteRT (TFLite) for deployment")
    export.add_argument("model", metavar="MODEL",
                        help="the network: a .keras file or a shipped style name such as swirls")
    out_option(export, "the exported file, NAME.onnx (onnxruntime) or NAME.tflite (LiteRT)")
    force_option(export)
    export.set_defaults(func=cmd_export)
