"""``python -m artlib vae train|sample``: a variational autoencoder on Fashion-MNIST, and its samples."""

from __future__ import annotations

import argparse
import sys

from artlib import config
from artlib.cli.common import (MAX_IMAGES, between, check_folder, check_output, force_option, library_default,
                               model_option, mosaic_pixels, nonnegative_float, out_option, picture_zoom, positive_float,
                               positive_int, seed_option, zoom_option)

__all__ = ["register"]

#: The options' defaults in fast mode (``ARTLIB_MODE=fast``: seconds-long runs for CI), read by the handler
#: and shown by ``--help``.
FAST = {"epochs": 1}


def cmd_train(args: argparse.Namespace) -> int:
    out = check_output(args.out, args.force, (".keras",))
    check_folder(args.run_dir, "VAE")
    from artlib import data, vae

    (x_train, _), (x_test, _) = data.load_fashion_mnist()
    model = vae.build_vae(args.latent_dim, beta=args.beta, seed=args.seed)
    epochs = args.epochs if args.epochs is not None else config.choose(full=vae.NUM_EPOCHS, fast=FAST["epochs"])
    progress = 1 if sys.stdout.isatty() else 2  # a bar in a terminal (an epoch takes a minute), else a line an epoch
    result = vae.train(model, x_train, num_epochs=epochs, run_dir=args.run_dir, batch_size=args.batch_size,
                       seed=args.seed, validation_images=x_test, verbose=progress)
    scores = vae.evaluate(model, x_test, num_samples=args.iw_samples, seed=args.seed)
    vae.save_vae(model, out)
    print(f"trained {len(result['epoch'])} epoch(s) in {result.seconds:.0f} s (this call; {result.final_step} "
          f"in all); test set, {vae.LIKELIHOOD}:")
    print(f"  -ELBO {scores['neg_elbo']:.2f} nats/image (reconstruction {scores['reconstruction']:.2f} + "
          f"KL {scores['kl']:.2f}); {args.iw_samples}-sample bound on -log p(x) {scores['nll_bound']:.2f}; "
          f"reconstruction PSNR {scores['psnr']:.2f} dB; active units {scores['active_units']}/{args.latent_dim}")
    print(f"saved {out}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from artlib import imageio

    out = check_output(args.out, args.force, imageio.SAVE_FORMATS)
    from artlib.plotting.grid import square_columns

    count, ncols = (args.grid**2, args.grid) if args.map else (args.n, square_columns(args.n))
    zoom, note = picture_zoom(args.zoom, mosaic_pixels(count, ncols, pad=0 if args.map else 1))
    from artlib import plotting, vae

    model = vae.load_vae(args.model) if args.model else vae.load_pretrained(latent_dim=2)
    if args.map:
        images = vae.latent_map(model, args.grid)
    else:
        images = vae.sample(model, args.n, seed=args.seed, temperature=args.temperature)
    imageio.save_image(out, plotting.grid_array(images, ncols=ncols, pad=0 if args.map else 1, zoom=zoom))
    print(f"{len(images)} {'latent-map' if args.map else 'sampled'} images -> {out}{note}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("vae", help="train a variational autoencoder on Fashion-MNIST and sample it")
    vae_sub = parser.add_subparsers(dest="vae_command", required=True, metavar="VAE_COMMAND")
    train = vae_sub.add_parser("train", help="train (or resume) a VAE and save it as .keras")
    out_option(train, "the trained model, NAME.keras")
    train.add_argument("--latent-dim", type=positive_int, default=2, help="size of z (default: %(default)s)")
    train.add_argument("--beta", type=nonnegative_float, default=1.0,
                       help="weight of the KL term; 0 is a plain autoencoder (default: %(default)s)")
    train.add_argument("--epochs", type=positive_int, default=None,
                       help=f"epochs (default: {library_default('vae.NUM_EPOCHS')}; fast mode: {FAST['epochs']})")
    train.add_argument("--batch-size", type=positive_int, default=128, help="images per step (default: %(default)s)")
    train.add_argument("--iw-samples", type=between(1, 10_000), default=10,
                       help="samples per test image for the bound on -log p(x) (default: %(default)s)")
    train.add_argument("--run-dir", default="runs/vae", help="settings, history, TensorBoard logs and the resume "
                       "backup; another recipe needs another folder (default: %(default)s)")
    seed_option(train)
    force_option(train)
    train.set_defaults(func=cmd_train)
    sample = vae_sub.add_parser("sample", help="a PNG grid of samples, or of the 2-D latent map (--map)")
    out_option(sample, "output image (.png, .jpg ...)")
    model_option(sample, "a .keras VAE (default: the shipped 2-D one)")
    sample.add_argument("-n", type=between(1, MAX_IMAGES), default=64, help="how many samples (default: %(default)s)")
    sample.add_argument("--temperature", type=positive_float, default=1.0, help="scale of z (default: %(default)s)")
    sample.add_argument("--map", action="store_true", help="draw the decoder over the 2-D latent plane instead")
    sample.add_argument("--grid", type=between(2, 200), default=20,
                        help="points per axis of --map (default: %(default)s)")
    zoom_option(sample)
    seed_option(sample)
    force_option(sample)
    sample.set_defaults(func=cmd_sample)
