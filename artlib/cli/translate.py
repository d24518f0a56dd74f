"""``python -m artlib translate train|apply``: unpaired translation between two Fashion-MNIST classes (CycleGAN)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from artlib.atomic import plan_outputs
from artlib.cli.common import (MAX_WIDTH, between, check_folder, class_label, existing_inputs, force_option,
                               library_default, max_seconds_option, out_option, positive_int, seed_option)
from artlib.errors import ArtlibError

__all__ = ["register"]

#: The options' defaults in fast mode (``ARTLIB_MODE=fast``: seconds-long runs for CI), read by the handler
#: and shown by ``--help``.
FAST = {"steps": 3}

PHOTOS = ("Fashion-MNIST shows a light garment, centred, on a black background: photos should look like that "
          "(use --invert for a dark garment on a light background). Each is made grayscale, padded to a square "
          "and shrunk to 28×28.")


def cmd_train(args: argparse.Namespace) -> int:
    check_folder(args.run_dir, "translation")
    from artlib import config
    from artlib.translate.settings import TranslateSettings, check_run_dir

    values = {"seed": args.seed, "classes": args.classes or TranslateSettings.DEFAULTS["classes"]}
    for key in ("width", "batch_size"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    settings = TranslateSettings(**values)  # the same class twice: one line, before TensorFlow
    check_run_dir(args.run_dir)  # a GAN's or a diffusion model's run directory: likewise
    steps = args.steps if args.steps is not None else config.choose(full=None, fast=FAST["steps"])
    from artlib import translate

    start = time.perf_counter()
    result = translate.train(args.run_dir, settings, num_steps=steps, max_seconds=args.max_seconds)
    run = Path(args.run_dir)
    print(f"trained to step {result.final_step} ({result.stopped}) in {time.perf_counter() - start:.0f} s; "
          f"generators: {run / 'a_to_b.keras'}, {run / 'b_to_a.keras'}; grids: {run / 'samples'}")
    return 0


def _outputs(out: Path, names: list[str], sources: list[str], force: bool) -> list[Path]:
    """The files to write: ``out`` itself (a ``.png`` for one image, an ``.npz``) or one PNG per image in a folder."""
    if out.suffix.lower() == ".npz":
        pairs = [(out, "the images")]
    elif out.suffix.lower() == ".png":
        if len(names) != 1:
            raise ArtlibError(f"-o {out}: {len(names)} images do not fit in one .png; give a folder or an .npz")
        pairs = [(out, sources[0])]
    elif out.suffix and not out.is_dir():
        raise ArtlibError(f"-o {out}: give a folder, a .png (one image) or an .npz")
    else:  # a.png and b/a.png would both be OUT/a.png: refused, as every command refuses it
        pairs = [(out / f"{name}.png", source) for name, source in zip(names, sources)]
    return list(plan_outputs(pairs, force=force))


def cmd_apply(args: argparse.Namespace) -> int:
    existing_inputs(*args.inputs)
    if args.run_dir is not None:
        existing_inputs(args.run_dir)
    from artlib.translate.inputs import read_inputs
    from artlib.translate.settings import load_settings

    classes = load_settings(args.run_dir)["classes"]  # another kind of run: one line, before TensorFlow
    import numpy as np

    batches, names, sources = [], [], []
    for path in args.inputs:  # one at a time, so that each output can name its input
        batch, batch_names = read_inputs(path, invert=args.invert)  # (n, 28, 28) in [0, 1]
        batches.append(batch)
        names += batch_names
        sources += [f"{path}[{i}]" for i in range(len(batch))] if path.lower().endswith(".npz") else [path]
    images = np.concatenate(batches)
    out = Path(args.out)
    targets = _outputs(out, names, sources, args.force)
    from artlib import translate
    from artlib.atomic import atomic_path
    from artlib.imageio import save_image

    direction = args.direction.replace("-", "_")
    translated = translate.translate(images, args.run_dir, direction)  # (N, 28, 28) in [0, 1]
    if out.suffix.lower() == ".npz":
        with atomic_path(out) as tmp:
            np.savez_compressed(tmp, images=translated, inputs=images)
    else:
        for target, image in zip(targets, translated):
            save_image(target, image)
    source, target_class = classes if direction == "a_to_b" else classes[::-1]
    where = out if len(targets) == 1 else f"{len(targets)} PNG files in {out}"
    print(f"{len(images)} image(s) of class {source} ({translate.class_name(source)}) translated to class "
          f"{target_class} ({translate.class_name(target_class)}) -> {where}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("translate", help="unpaired translation between two Fashion-MNIST classes (CycleGAN)")
    t_sub = parser.add_subparsers(dest="translate_command", required=True, metavar="TRANSLATE_COMMAND")
    train = t_sub.add_parser("train", help="train (or resume) a CycleGAN between two classes into a run directory")
    train.add_argument("--classes", nargs=2, type=class_label, metavar=("A", "B"), default=None,
                       help="the two classes, by number 0-9 or name, e.g. sneaker ankle-boot or t-shirt dress "
                            "(default: 7 9, sneaker and ankle boot)")
    train.add_argument("--steps", type=positive_int, default=None,
                       help="train up to this step "
                            f"(default: {library_default('translate.TranslateSettings.DEFAULTS.num_steps')}; "
                            f"fast mode: {FAST['steps']})")
    max_seconds_option(train)
    train.add_argument("--width", type=between(1, MAX_WIDTH), default=None,
                       help="channels of the generators' first layer "
                            f"(default: {library_default('translate.TranslateSettings.DEFAULTS.width')})")
    train.add_argument("--batch-size", type=positive_int, default=None,
                       help="images of each class per step "
                            f"(default: {library_default('translate.TranslateSettings.DEFAULTS.batch_size')})")
    train.add_argument("--run-dir", default="runs/translate", help="where checkpoints and grids go; training "
                       "resumes if it holds a run (default: %(default)s)")
    seed_option(train)
    train.set_defaults(func=cmd_train)
    apply = t_sub.add_parser("apply", help="translate images of one class into the other",
                             description="Translate images with a trained pair. " + PHOTOS)
    apply.add_argument("inputs", nargs="+", metavar="IMAGES",
                       help="image files (PNG, JPEG, …) or .npz files with an array `images` (N×28×28)")
    apply.add_argument("--run-dir", default=None,
                       help="a trained run directory (default: the shipped sneaker <-> ankle boot pair)")
    out_option(apply, "a folder (one PNG per image), a .png (one image) or an .npz (`images` and `inputs`)")
    apply.add_argument("--direction", choices=("a-to-b", "b-to-a"), default="a-to-b",
                       help="from the run's first class to its second, or back (default: %(default)s)")
    apply.add_argument("--invert", action="store_true", help="invert the image files first (a dark garment "
                       "on a light background)")
    force_option(apply)
    apply.set_defaults(func=cmd_apply)
