"""``python -m artlib autoencoder denoise`` (alias ``denoise``): remove noise from a photo."""

from __future__ import annotations

import argparse

from artlib.cli.common import (MAX_SIDE, between, check_output, existing_inputs, force_option, model_option,
                               out_option, unit_interval)

__all__ = ["register"]


def cmd_denoise(args: argparse.Namespace) -> int:
    from artlib import imageio

    out = check_output(args.out, args.force, imageio.SAVE_FORMATS)
    existing_inputs(args.input)
    image = imageio.load_image(args.input, max_dim=args.size)  # grayscale/RGBA/... become H×W×3
    from artlib import autoencoder as ae

    model = ae.load_model(args.model) if args.model else ae.load_photo_denoiser()
    if args.noise == "salt-and-pepper":  # impulses first: a 3×3 median, then the network
        from scipy.ndimage import median_filter

        image = median_filter(image, size=(3, 3, 1))
    sigma = args.sigma if args.sigma is not None else ae.estimate_sigma(image)
    denoised = ae.denoise_photo(model, image, sigma, ensemble=args.ensemble)
    imageio.save_image(out, denoised)
    how = "given" if args.sigma is not None else "estimated"
    print(f"{args.input} -> {out} ({image.shape[1]}×{image.shape[0]}, noise σ = {sigma:.3f} {how}"
          f"{', self-ensemble of 8 views' if args.ensemble else ''})")
    return 0


def _add_denoise(sub: argparse._SubParsersAction, name: str, helptext: str) -> None:
    cmd = sub.add_parser(name, help=helptext)
    cmd.add_argument("input", help="an image file (any format; grayscale is converted)")
    out_option(cmd, "output image (.png, .jpg, …)")
    level = cmd.add_mutually_exclusive_group()
    level.add_argument("--sigma", type=unit_interval, default=None,
                       help="the Gaussian noise level on [0, 1] pixels, in (0, 1] (default: estimated)")
    level.add_argument("--noise", choices=("gaussian", "speckle", "salt-and-pepper"), default="gaussian",
                       help="the kind of noise, its level estimated; salt-and-pepper gets a 3×3 median "
                            "filter first (default: %(default)s)")
    model_option(cmd, "a photo denoiser .keras file (default: the shipped one)")
    cmd.add_argument("--size", type=between(8, MAX_SIDE), default=None,
                     help="shrink the input to this long side first (at least 8: the denoiser's smallest picture)")
    cmd.add_argument("--ensemble", action=argparse.BooleanOptionalAction, default=True,
                     help="denoise the 8 rotations and mirror images and average them: about 0.2–0.3 dB better, "
                          "8× the time (default: on; --no-ensemble for one pass)")
    force_option(cmd)
    cmd.set_defaults(func=cmd_denoise)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("autoencoder", help="autoencoders: denoise a photo")
    ae_sub = parser.add_subparsers(dest="autoencoder_command", required=True, metavar="AUTOENCODER_COMMAND")
    _add_denoise(ae_sub, "denoise", "remove noise from a photo with the shipped photo denoiser")
    _add_denoise(sub, "denoise", "alias of `autoencoder denoise`")
