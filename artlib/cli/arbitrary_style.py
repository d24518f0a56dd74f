"""``python -m artlib arbitrary-style apply|train|export``: any photo in any style image, one network (AdaIN)."""

from __future__ import annotations

import argparse
from pathlib import Path

from artlib.atomic import plan_outputs
from artlib.cli.common import (MAX_SIDE, MAX_WIDTH, STYLE_SOURCES, between, check_folder, check_output,
                               existing_inputs, force_option, library_default, max_seconds_option, mode_defaults,
                               nonnegative_float, nonnegative_int, out_option, positive_float, positive_int,
                               seed_option, unit_closed)
from artlib.errors import ArtlibError

__all__ = ["register"]


def _image_suffixes() -> set[str]:
    from artlib import imageio  # NumPy and Pillow only

    return set(imageio.SAVE_FORMATS)


def _photo_sources(inputs: list[str]) -> list[str]:
    """The photos: files and URLs as given, folders as the images directly inside them (sorted)."""
    suffixes, sources = _image_suffixes(), []
    for source in inputs:
        path = Path(source)
        if "://" not in source and path.is_dir():
            found = sorted(str(p) for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
            if not found:
                raise ArtlibError(f"{source}: the folder holds no images ({', '.join(sorted(suffixes))})")
            sources += found
        else:
            sources.append(source)
    return sources


def _targets(inputs: list[str], sources: list[str], out: str, force: bool) -> list[Path]:
    """One output per photo: ``-o`` itself for a single photo and an image name, else ``OUT/<stem>.png``."""
    suffixes = _image_suffixes()
    single = len(inputs) == 1 and len(sources) == 1 and sources[0] == inputs[0]
    if Path(out).suffix.lower() in suffixes:
        if not single:
            raise ArtlibError(f"-o {out}: give a folder for {len(sources)} photos (one output each)")
        return [check_output(out, force, suffixes)]
    return list(plan_outputs(((Path(out) / (Path(s.split("?", 1)[0]).stem + ".png"), s) for s in sources),
                             force=force))


def cmd_apply(args: argparse.Namespace) -> int:
    styles = list(args.style)
    if args.style_weights is not None and len(args.style_weights) != len(styles):
        raise ArtlibError(f"--style-weights: {len(args.style_weights)} weight(s) for {len(styles)} style(s); "
                          "give one per --style")
    if args.mask is not None and len(styles) != 2:
        raise ArtlibError(f"--mask needs exactly two --style images (the first paints where the mask is white); "
                          f"got {len(styles)}")
    if args.mask is not None and args.style_weights is not None:
        raise ArtlibError("--mask and --style-weights do not go together: the mask decides which style paints where")
    if args.refine and (len(styles) != 1 or args.mask is not None or args.alpha != 1.0):
        raise ArtlibError("--refine works on one --style at --alpha 1 without --mask")
    if args.style_colours and (args.preserve_color or args.mask is not None):
        raise ArtlibError("--style-colours gives the painting the style's colours: not with --preserve-color "
                          "or --mask")
    existing_inputs(*args.photos, *styles, *[p for p in (args.mask, args.decoder) if p is not None])
    sources = _photo_sources(list(args.photos))
    targets = _targets(list(args.photos), sources, args.out, args.force)
    from artlib import imageio  # a bad photo or mask is reported before TensorFlow loads

    photos = [imageio.load_image(source, max_dim=args.max_dim, min_dim=8) for source in sources]  # MIN_SIDE
    mask = None if args.mask is None else imageio.load_image(args.mask, min_dim=1)  # resized to each photo
    from artlib import arbitrary_style

    model = arbitrary_style.load(args.decoder)
    for source, target, photo in zip(sources, targets, photos):
        region = None
        if mask is not None:
            region = imageio.resize(mask, photo.shape[:2]).mean(axis=-1) if mask.shape[:2] != photo.shape[:2] \
                else mask.mean(axis=-1)
        painted = model.stylize(photo, styles, style_weights=args.style_weights, alpha=args.alpha,
                                preserve_color=args.preserve_color, style_colours=args.style_colours,
                                mask=region, style_size=args.style_size, seed=args.seed, refine=args.refine)
        imageio.save_image(target, painted)
        refined = f", refined by {args.refine} L-BFGS evaluations" if args.refine else ""
        refined += ", in the style's colours" if args.style_colours else ""
        print(f"{source} -> {target} ({' + '.join(styles)}, alpha {args.alpha:g}{refined}; {model.source})")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    check_folder(args.run_dir, "arbitrary-style")
    out = check_output(args.out or str(Path(args.run_dir) / "decoder.keras"), args.force, (".keras",))
    existing_inputs(*args.style_folder, *([args.start_from] if args.start_from else []))  # --content may name photos
    from artlib import arbitrary_style

    options = {"image_size": args.size, "batch_size": args.batch_size, "width": args.width,
               "max_seconds": args.max_seconds, "style_weight": args.style_weight,
               "learning_rate": args.learning_rate, "bank_seeds": args.bank_seeds}
    result = arbitrary_style.train(num_steps=args.steps, run_dir=args.run_dir, weights=args.weights,
                                   adversarial_weight=args.adversarial_weight, content=args.content or None,
                                   style_folders=args.style_folder, recolor_share=args.recolor_share,
                                   seed=args.seed, start_from=args.start_from,
                                   **{k: v for k, v in options.items() if v is not None})
    arbitrary_style.save_decoder(result.decoder, out, recipe=result.settings, force=True)
    more = "" if result.stopped == "done" else f" (stopped: {result.stopped}; run the same command to go on)"
    print(f"saved {out} at step {result.final_step}{more}; try: python -m artlib arbitrary-style apply photo.jpg "
          f"--style pattern:mosaic --decoder {out} -o out.png")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    out = check_output(args.out, args.force, (".onnx", ".tflite"))
    if args.decoder is not None:
        existing_inputs(args.decoder)
    from artlib import arbitrary_style

    arbitrary_style.export_model(args.decoder, out, force=True)
    print(f"saved {out} ({out.stat().st_size / 1e6:.2f} MB); inputs 'content' N×H×W×3, 'style' 1×h×w×3 "
          "float32 in [0, 1] and 'alpha' (1,) in [0, 1]")
    return 0


def _decoder_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--decoder", default=None, metavar="D.keras",
                        help="a decoder saved by `arbitrary-style train` (default: the shipped one)")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("arbitrary-style", help="any photo in any style image with one network (AdaIN); "
                            "train the decoder; export it")
    as_sub = parser.add_subparsers(dest="arbitrary_style_command", required=True, metavar="ARBITRARY_STYLE_COMMAND")

    apply = as_sub.add_parser("apply", help="paint photos in one style, a blend of several, or two split by a mask")
    apply.add_argument("photos", nargs="+", metavar="PHOTO", help="photos: paths, folders or http(s) URLs")
    apply.add_argument("--style", action="append", required=True, metavar="STYLE",
                       help=f"a style image: {STYLE_SOURCES}; repeat to blend")
    apply.add_argument("--style-weights", type=nonnegative_float, nargs="+", default=None, metavar="W",
                       help="blend weights, one per --style (normalised; default: equal)")
    apply.add_argument("--alpha", type=unit_closed, default=1.0,
                       help="style strength in [0, 1]: 0 keeps the photo, 1 the full style (default: %(default)s)")
    apply.add_argument("--preserve-color", action="store_true", help="keep the photo's colours")
    apply.add_argument("--style-colours", action="store_true", help="recolour the painting in the style's colours "
                       "(their mean and covariance; a blend's pooled): a painting's own palette, which the decoder, "
                       "trained on procedural styles, does not always give")
    apply.add_argument("--refine", type=nonnegative_int, default=0, metavar="N",
                       help="after the decoder, N L-BFGS evaluations of AdaIN's objective on the painting: closer "
                       "to the style, seconds instead of milliseconds (one style, alpha 1, no mask; default: 0)")
    apply.add_argument("--mask", default=None, metavar="MASK.png", help="with two styles: the first paints "
                       "where the mask is white, the second where it is black (resized to each photo)")
    _decoder_option(apply)
    apply.add_argument("--max-dim", type=between(1, MAX_SIDE), default=None, metavar="N",
                       help="resize each photo to this long side first")
    apply.add_argument("--style-size", type=between(8, MAX_SIDE), default=512, metavar="N", help="long side the styles "
                       "are read at: the scale of their strokes against the photo's (default: %(default)s)")
    out_option(apply, "the output image (one photo) or folder (several: OUT/<name>.png)")
    seed_option(apply)
    force_option(apply)
    apply.set_defaults(func=cmd_apply)

    train = as_sub.add_parser("train", help="train (or resume) a decoder; save it as .keras with its recipe")
    train.add_argument("--steps", type=positive_int, default=None,
                       help=f"steps to train up to ({mode_defaults('arbitrary_style.TRAIN_DEFAULTS', 'num_steps')})")
    train.add_argument("--run-dir", default="runs/arbitrary_style", help="checkpoints and TensorBoard logs; "
                       "training resumes if it holds a run (default: %(default)s)")
    out_option(train, "the trained decoder, NAME.keras (default: RUN_DIR/decoder.keras)", required=False)
    train.add_argument("--size", type=between(16, MAX_SIDE), default=None,
                       help="side of the square training crops "
                            f"({mode_defaults('arbitrary_style.TRAIN_DEFAULTS', 'image_size')})")
    train.add_argument("--batch-size", type=positive_int, default=None,
                       help=f"pairs per step ({mode_defaults('arbitrary_style.TRAIN_DEFAULTS', 'batch_size')})")
    train.add_argument("--width", type=between(4, MAX_WIDTH), default=None,
                       help="channels of the decoder's first level "
                            f"(default: {library_default('arbitrary_style.DEFAULT_WIDTH')})")
    train.add_argument("--style-weight", type=positive_float, default=None,
                       help="weight of the moment (style) loss against the content loss (default: "
                       f"{library_default('arbitrary_style.STYLE_WEIGHT')}, the paper's)")
    train.add_argument("--learning-rate", type=positive_float, default=None,
                       help="Adam's learning rate "
                            f"(default: {library_default('arbitrary_style.train(learning_rate)')})")
    train.add_argument("--adversarial-weight", type=nonnegative_float, default=0.0,
                       help="weight of the patch discriminator's term; 0 trains none (default: %(default)s)")
    train.add_argument("--content", nargs="*", default=None, help="content photos: sample names, files, "
                       "folders or URLs (default: scikit-image's photos, offline)")
    train.add_argument("--style-folder", action="append", default=[], metavar="FOLDER",
                       help="a folder of your own style images, added to the procedural bank (repeatable)")
    train.add_argument("--bank-seeds", type=positive_int, default=None, metavar="N",
                       help="compositions per pattern in the procedural style bank "
                            f"({mode_defaults('arbitrary_style.TRAIN_DEFAULTS', 'bank_seeds')})")
    train.add_argument("--recolor-share", type=unit_closed, default=0.0, metavar="P",
                       help="share of each batch's style crops given a fresh random palette, in [0, 1] "
                       "(default: %(default)s)")
    max_seconds_option(train)
    train.add_argument("--weights", default="auto", help="the encoder's features: auto, imagenet, hed-vgg16, "
                       "random or a weights file (default: %(default)s)")
    train.add_argument("--start-from", default=None, metavar="D.keras",
                       help="a new run starts from this decoder's weights (e.g. the shipped one, "
                       "data/pretrained/arbitrary_style_decoder.keras) instead of a fresh initialization")
    seed_option(train)
    force_option(train)
    train.set_defaults(func=cmd_train)

    export = as_sub.add_parser("export", help="export encoder, AdaIN and decoder to ONNX or LiteRT (TFLite)")
    _decoder_option(export)
    out_option(export, "the exported file, NAME.onnx (onnxruntime) or NAME.tflite (LiteRT)")
    force_option(export)
    export.set_defaults(func=cmd_export)
