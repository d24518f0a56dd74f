"""The command line: ``python -m artlib <command> [options]`` (``artlib`` once installed).

Commands:
    info   versions, devices, fast/offline mode, and where data and weights would come from
    demo   render a small version of every topic into a gallery (PNG files + index.html)

Bad input ends with exit code 2 and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import html
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from artlib import config  # first: sets KERAS_BACKEND before Keras is imported
from artlib.atomic import atomic_write_text
from artlib.errors import ArtlibError


def cmd_info(args: argparse.Namespace) -> int:
    print(config.report())
    return 0


def _demo_data(out: Path, seed: int) -> list[tuple[str, str, str]]:
    """Fashion-MNIST as the course sees it: one row of examples per class."""
    import numpy as np

    from artlib import data, plotting

    dataset = data.load_fashion_mnist()
    (x_train, y_train), _ = dataset
    per_class = 8
    rng = np.random.default_rng(seed)
    picks = np.concatenate([rng.choice(np.flatnonzero(y_train == c), per_class, replace=False) for c in range(10)])
    titles = [data.FASHION_MNIST_CLASSES[c] if i % per_class == 0 else "" for i, c in enumerate(y_train[picks])]
    plotting.image_grid(x_train[picks], ncols=per_class, titles=titles, path=out / "fashion_mnist.png")
    return [("fashion_mnist.png", "Fashion-MNIST",
             f"Eight training images of each of the ten classes, from {dataset.source}.")]


def _demo_preprocessing(out: Path, seed: int) -> list[tuple[str, str, str]]:
    """One photo through the preprocessing helpers the course teaches."""
    from artlib import data, imageio, plotting

    size = config.choose(full=256, fast=96)
    photo = data.load_sample_photo("chelsea", max_dim=size)
    square = imageio.resize(imageio.center_crop(photo, min(photo.shape[:2])), (size, size))
    rows = {
        "center crop + resize": [square],
        "random crops": [imageio.resize(imageio.random_crop(photo, size // 2, seed=(seed, i)), (size, size))
                         for i in range(4)],
        "augmented": [imageio.augment(square, seed=(seed, i)) for i in range(4)],
    }
    plotting.compare_rows(rows, path=out / "preprocessing.png")
    return [("preprocessing.png", "Preprocessing",
             "scikit-image's 'chelsea' photo: a centre crop resized to a square, random crops "
             "(explicit seeds), and random flips and shifts for augmentation.")]


def write_index(out: Path, items: list[tuple[str, str, str]], seconds: float) -> Path:
    """Write ``index.html`` showing every gallery image with its title and caption."""
    from artlib import data

    cards = "\n".join(
        f'<figure><img src="{html.escape(f)}" alt="{html.escape(t)}"><figcaption><b>{html.escape(t)}</b>'
        f" — {html.escape(c)}</figcaption></figure>"
        for f, t, c in items
    )
    mode = "fast mode (ARTLIB_FAST=1): small sizes" if config.is_fast() else "full mode"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>artlib gallery</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}}
figure{{margin:2em 0}}img{{max-width:100%;border:1px solid #ddd}}figcaption{{margin-top:.5em}}</style>
</head><body>
<h1>artlib gallery</h1>
<p>Made by <code>python -m artlib demo</code> in {seconds:.0f} s, {html.escape(mode)}.
Fashion-MNIST: {html.escape(data.describe_fashion_mnist_source())}.</p>
{cards}
</body></html>
"""
    return atomic_write_text(out / "index.html", page)


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if (out / "index.html").exists() and not args.force:
        raise ArtlibError(f"{out} already holds a gallery; pass --force to overwrite it, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    items = []
    parts = (_demo_data, _demo_preprocessing, _demo_autoencoder, _demo_vae, _demo_gan, _demo_style,
             _demo_fast_style)
    for part in parts:
        items += part(out, args.seed)
    index = write_index(out, items, time.perf_counter() - start)
    print(f"gallery: {len(items)} pictures in {out.resolve()}; open {index.resolve()}")
    return 0


# ----------------------------------------------------------------------------- gan
def _demo_gan(out: Path, seed: int) -> list[tuple[str, str, str]]:
    """Garments from the shipped DCGAN generator, and walks through its latent space."""
    import numpy as np

    from artlib import gan, plotting
    from artlib.imageio import save_image

    if (gan.PRETRAINED_DIR / "generator.keras").exists():
        generator, made = gan.load_generator(), "the shipped generator (data/pretrained/gan)"
    else:  # a copy without the shipped file: a short run, so the demo still shows the pipeline
        steps = config.choose(full=300, fast=5)
        gan.train(out / "gan_run", gan.GANSettings(seed=seed), num_steps=steps, quiet=True)
        generator, made = gan.load_generator(out / "gan_run"), f"a {steps}-step run (no shipped generator found)"
    save_image(out / "gan_samples.png", plotting.grid_array(gan.sample(generator, 64, seed=seed)[..., np.newaxis],
                                                            ncols=8))
    walks = gan.interpolate(generator, num_rows=4, num_steps=10, seed=seed)  # (4, 10, 28, 28)
    save_image(out / "gan_interpolation.png", plotting.grid_array(walks.reshape(-1, 28, 28, 1), ncols=10))
    return [("gan_samples.png", "GAN samples", f"64 Fashion-MNIST-like images from {made}."),
            ("gan_interpolation.png", "GAN latent walks",
             "Each row moves along a great circle between two latent vectors.")]


def _check_output(path: str, force: bool, suffixes: Iterable[str] | None = None) -> Path:
    """The ``-o`` path, once it has an accepted suffix and would not replace a file unasked."""
    out = Path(path)
    if suffixes is not None and out.suffix.lower() not in suffixes:
        raise ArtlibError(f"-o {out}: end the name with {' or '.join(suffixes)}")
    if out.exists() and not force:
        raise ArtlibError(f"{out} exists; pass --force to overwrite it")
    return out


def cmd_gan_train(args: argparse.Namespace) -> int:
    from artlib import gan

    overrides = {"loss": args.loss, "conditional": args.conditional, "seed": args.seed}
    settings = gan.tutorial_settings(**overrides) if args.arch == "tutorial" else gan.GANSettings(**overrides)
    settings["num_epochs"] = args.epochs
    if args.batch_size is not None:
        settings["batch_size"] = args.batch_size
    start = time.perf_counter()
    history = gan.train(args.run_dir, settings, num_steps=args.steps)
    print(f"trained to step {history['step'][-1] if history['step'] else args.steps or 'the end'} in "
          f"{time.perf_counter() - start:.0f} s; generator: {Path(args.run_dir) / 'generator.keras'}, "
          f"samples: {Path(args.run_dir) / 'samples.gif'}")
    return 0


def cmd_gan_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from artlib import gan, plotting
    from artlib.imageio import save_image

    out = _check_output(args.out, args.force, (".png", ".npz"))
    if args.n < 1:
        raise ArtlibError(f"-n {args.n}: ask for at least one image")
    images = gan.sample(gan.load_generator(args.run_dir), args.n, seed=args.seed, label=args.label)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npz":
        np.savez_compressed(out, images=images)  # (n, 28, 28) float32 in [0, 1]
    else:
        save_image(out, plotting.grid_array(images[..., np.newaxis], ncols=int(np.ceil(np.sqrt(args.n)))))
    print(f"{args.n} samples -> {out}")
    return 0


def cmd_gan_interpolate(args: argparse.Namespace) -> int:
    import numpy as np

    from artlib import gan, plotting
    from artlib.imageio import save_image

    out = _check_output(args.out, args.force, (".png", ".gif"))
    walks = gan.interpolate(gan.load_generator(args.run_dir), num_rows=args.rows, num_steps=args.steps,
                            seed=args.seed, label=args.label)  # (rows, steps, 28, 28)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        frames = [plotting.grid_array(walks[:, t, :, :, np.newaxis], ncols=args.rows) for t in range(args.steps)]
        plotting.save_gif(frames + frames[::-1], out, fps=8)
    else:
        save_image(out, plotting.grid_array(walks.reshape(-1, 28, 28, 1), ncols=args.steps))
    print(f"{args.rows} latent walks of {args.steps} steps -> {out}")
    return 0


def _add_gan_commands(sub: argparse._SubParsersAction) -> None:
    losses = "minimax, bce (= non_saturating), lsgan, hinge, wgan-gp"
    pretrained = config.REPO_ROOT / "data" / "pretrained" / "gan"  # gan.PRETRAINED_DIR, without importing Keras
    gan = sub.add_parser("gan", help="train a GAN on Fashion-MNIST, sample it, walk its latent space")
    gan_sub = gan.add_subparsers(dest="gan_command", required=True, metavar="GAN_COMMAND")
    train = gan_sub.add_parser("train", help="train (or resume) a GAN into a run directory")
    train.add_argument("--loss", default="bce", help=f"the game's loss: {losses} (default: %(default)s)")
    train.add_argument("--conditional", action="store_true", help="condition on the ten class labels")
    train.add_argument("--arch", choices=("artlib", "tutorial"), default="artlib",
                       help="artlib's recipe or the TF DCGAN tutorial's (default: %(default)s)")
    train.add_argument("--epochs", type=int, default=config.choose(full=20, fast=1),
                       help="epochs (default: 20; fast mode: 1)")
    train.add_argument("--steps", type=int, default=None, help="train up to this step instead of --epochs")
    train.add_argument("--batch-size", type=int, default=None, help="images per step (default: the recipe's)")
    train.add_argument("--run-dir", default="runs/gan", help="where checkpoints and samples go; training "
                       "resumes if it holds a run (default: %(default)s)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    train.set_defaults(func=cmd_gan_train)
    for name, func, suffixes, helptext in (
            ("sample", cmd_gan_sample, "PNG grid or .npz array `images` (N×28×28, [0, 1])", "generate images"),
            ("interpolate", cmd_gan_interpolate, "PNG rows or animated GIF", "walk between latents")):
        cmd = gan_sub.add_parser(name, help=helptext)
        cmd.add_argument("--run-dir", default=str(pretrained),
                         help="a trained run directory (default: the shipped generator)")
        cmd.add_argument("-o", "--out", required=True, help=f"output file: {suffixes}")
        if name == "sample":
            cmd.add_argument("-n", type=int, default=64, help="how many images (default: %(default)s)")
        else:
            cmd.add_argument("--rows", type=int, default=4, help="how many walks (default: %(default)s)")
            cmd.add_argument("--steps", type=int, default=10, help="images per walk (default: %(default)s)")
        cmd.add_argument("--label", type=int, default=None, help="class 0-9 (conditional runs only)")
        cmd.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
        cmd.add_argument("--force", action="store_true", help="overwrite an existing output")
        cmd.set_defaults(func=func)


# ----------------------------------------------------------------------------- vae
def _demo_vae(out: Path, seed: int) -> list[tuple[str, str, str]]:
    """The VAE: samples from its prior and the decoder drawn over its 2-D latent plane."""
    from artlib import data, plotting, vae
    from artlib.imageio import save_image

    try:
        model, how = vae.load_pretrained(latent_dim=2), "the shipped 2-D VAE (data/pretrained/vae_2d.keras)"
    except ArtlibError:  # no shipped file: a short fit instead
        (x_train, _), _ = data.load_fashion_mnist(verbose=False)
        model = vae.build_vae(latent_dim=2, seed=seed)
        num_epochs = config.choose(full=2, fast=1)
        vae.train(model, x_train[: config.choose(full=12000, fast=2000)], num_epochs=num_epochs,
                  run_dir=out / ".vae_run", seed=seed, verbose=0)
        how = f"a 2-D VAE trained for {num_epochs} epoch(s) just now"
    def enlarged(mosaic, factor=3):  # nearest-neighbour, so that the 28-pixel images stay crisp
        return mosaic.repeat(factor, axis=0).repeat(factor, axis=1)

    save_image(out / "vae_samples.png", enlarged(plotting.grid_array(vae.sample(model, 64, seed=seed), ncols=8)))
    grid = config.choose(full=20, fast=12)
    save_image(out / "vae_latent_map.png",
               enlarged(plotting.grid_array(vae.latent_map(model, grid), ncols=grid, pad=0), 2))
    return [("vae_samples.png", "VAE samples", f"64 images decoded from z ~ N(0, I) by {how}."),
            ("vae_latent_map.png", "VAE latent map",
             f"The decoder over a {grid}×{grid} grid of quantiles (5 %–95 %) of the 2-D prior: similar garments "
             "sit next to each other and blend smoothly.")]


def cmd_vae_train(args: argparse.Namespace) -> int:
    from artlib import data, vae

    out = _check_output(args.out, args.force, (".keras",))
    (x_train, _), (x_test, _) = data.load_fashion_mnist()
    model = vae.build_vae(args.latent_dim, beta=args.beta, seed=args.seed)
    start = time.perf_counter()
    vae.train(model, x_train, num_epochs=args.epochs, run_dir=args.run_dir, batch_size=args.batch_size,
              seed=args.seed, validation_images=x_test)
    seconds = time.perf_counter() - start
    scores = vae.evaluate(model, x_test, num_samples=args.iw_samples, seed=args.seed)
    vae.save_vae(model, out)
    print(f"trained {args.epochs} epochs in {seconds:.0f} s (this call); test set, {vae.LIKELIHOOD}:")
    print(f"  -ELBO {scores['neg_elbo']:.2f} nats/image (reconstruction {scores['reconstruction']:.2f} + "
          f"KL {scores['kl']:.2f}); {args.iw_samples}-sample bound on -log p(x) {scores['nll_bound']:.2f}; "
          f"reconstruction PSNR {scores['psnr']:.2f} dB; active units {scores['active_units']}/{args.latent_dim}")
    print(f"saved {out}")
    return 0


def cmd_vae_sample(args: argparse.Namespace) -> int:
    import math

    from artlib import plotting, vae
    from artlib.imageio import save_image

    out = _check_output(args.out, args.force)
    if args.n < 1 or args.grid < 2:
        raise ArtlibError("ask for -n >= 1 images and a --grid of at least 2")
    model = vae.load_vae(args.model) if args.model else vae.load_pretrained(latent_dim=2)
    if args.map:
        images, ncols = vae.latent_map(model, args.grid), args.grid
    else:
        images, ncols = vae.sample(model, args.n, seed=args.seed, temperature=args.temperature), None
    ncols = ncols or int(math.ceil(math.sqrt(len(images))))
    save_image(out, plotting.grid_array(images, ncols=ncols, pad=0 if args.map else 1))  # ImageError: bad suffix
    print(f"{len(images)} {'latent-map' if args.map else 'sampled'} images -> {out}")
    return 0


def _add_vae_commands(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("vae", help="train a variational autoencoder on Fashion-MNIST and sample it")
    vae_sub = parser.add_subparsers(dest="vae_command", required=True, metavar="VAE_COMMAND")
    train = vae_sub.add_parser("train", help="train (or resume) a VAE and save it as .keras")
    train.add_argument("-o", "--out", required=True, help="the trained model, NAME.keras")
    train.add_argument("--latent-dim", type=int, default=2, help="size of z (default: %(default)s)")
    train.add_argument("--beta", type=float, default=1.0, help="weight of the KL term (default: %(default)s)")
    train.add_argument("--epochs", type=int, default=config.choose(full=30, fast=1),
                       help="epochs (default: 30; fast mode: 1)")
    train.add_argument("--batch-size", type=int, default=128, help="images per step (default: %(default)s)")
    train.add_argument("--iw-samples", type=int, default=10,
                       help="samples per test image for the bound on -log p(x) (default: %(default)s)")
    train.add_argument("--run-dir", default="runs/vae", help="TensorBoard logs and the resume backup "
                       "(default: %(default)s)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    train.add_argument("--force", action="store_true", help="overwrite an existing model file")
    train.set_defaults(func=cmd_vae_train)
    sample = vae_sub.add_parser("sample", help="a PNG grid of samples, or of the 2-D latent map (--map)")
    sample.add_argument("-o", "--out", required=True, help="output image (.png, .jpg ...)")
    sample.add_argument("--model", default=None, help="a .keras VAE (default: the shipped 2-D one)")
    sample.add_argument("-n", type=int, default=64, help="how many samples (default: %(default)s)")
    sample.add_argument("--temperature", type=float, default=1.0, help="scale of z (default: %(default)s)")
    sample.add_argument("--map", action="store_true", help="draw the decoder over the 2-D latent plane instead")
    sample.add_argument("--grid", type=int, default=20, help="points per axis of --map (default: %(default)s)")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    sample.add_argument("--force", action="store_true", help="overwrite an existing output")
    sample.set_defaults(func=cmd_vae_sample)


# ----------------------------------------------------------------------------- fast style
def _demo_fast_style(out: Path, seed: int) -> list[tuple[str, str, str]]:
    """A shipped feed-forward style network on the held-out photos, with its frame rate."""
    from artlib import data, fast_style, plotting

    styles = fast_style.shipped_styles()
    if not styles:
        return []
    name = next(iter(styles))
    network = fast_style.load_network(name)
    size = config.choose(full=384, fast=128)
    photos = [data.load_sample_photo(p, max_dim=size) for p in fast_style.EVAL_PHOTOS]
    rows = {"photo": photos, f"fast style '{name}'": [fast_style.stylize_image(network, p) for p in photos]}
    plotting.compare_rows(rows, path=out / "fast_style.png")
    fps = fast_style.measure_fps(network, 256, frames=config.choose(full=20, fast=3))
    return [("fast_style.png", "Real-time style transfer",
             f"The shipped '{name}' network (data/pretrained/fast_style_{name}.keras, random VGG19 features) "
             f"on photos it never saw in training: one forward pass each, {fps:.1f} frames/s at 256×256 here.")]


def cmd_fast_style_train(args: argparse.Namespace) -> int:
    from artlib import fast_style

    out = _check_output(args.out, args.force, (".keras",))
    result = fast_style.train(args.style, num_steps=args.steps, run_dir=args.run_dir, image_size=args.size,
                              batch_size=args.batch_size, width=args.width, num_blocks=args.blocks,
                              edge_kernel=args.edge_kernel, content=args.content or None, weights=args.weights,
                              seed=args.seed)
    fast_style.save_network(result.network, out, force=True)
    print(f"saved {out} ({out.stat().st_size / 1e6:.2f} MB); try: python -m artlib fast-style apply {out} "
          "photo.jpg -o out/")
    return 0


def cmd_fast_style_apply(args: argparse.Namespace) -> int:
    from artlib import fast_style

    written = fast_style.apply(args.model, args.inputs, args.out, max_dim=args.size, force=args.force,
                               verbose=True)
    print(f"{len(written)} file(s) in {args.out}")
    return 0


def _add_fast_style_commands(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("fast-style", help="train a feed-forward style network; apply it in real time")
    fs_sub = parser.add_subparsers(dest="fast_style_command", required=True, metavar="FAST_STYLE_COMMAND")
    train = fs_sub.add_parser("train", help="train (or resume) a network for one style; save it as .keras")
    train.add_argument("style", help="style image: a path, an http(s) URL or pattern:NAME")
    train.add_argument("-o", "--out", required=True, help="the trained network, NAME.keras")
    train.add_argument("--steps", type=int, default=None, help="training steps (default: 2000; fast mode: 4)")
    train.add_argument("--size", type=int, default=None, help="side of the training crops and the style "
                       "image (default: 256; fast mode: 64)")
    train.add_argument("--batch-size", type=int, default=None, help="crops per step (default: 4; fast: 2)")
    train.add_argument("--width", type=int, default=8, help="network width (default: %(default)s)")
    train.add_argument("--blocks", type=int, default=3, help="residual blocks (default: %(default)s)")
    train.add_argument("--edge-kernel", type=int, default=5, help="kernel of the first and last "
                       "convolutions (default: %(default)s)")
    train.add_argument("--content", nargs="*", default=None, help="content photos: sample names, files, "
                       "folders or URLs (default: scikit-image's photos, offline)")
    train.add_argument("--weights", default="auto", help="VGG19 weights: auto, imagenet, random or a file "
                       "(default: %(default)s)")
    train.add_argument("--run-dir", default="runs/fast_style", help="checkpoints and TensorBoard logs; "
                       "training resumes if it holds a run (default: %(default)s)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    train.add_argument("--force", action="store_true", help="overwrite an existing network file")
    train.set_defaults(func=cmd_fast_style_train)
    apply = fs_sub.add_parser("apply", help="stylize images, folders, animated GIFs or videos")
    apply.add_argument("model", help="a .keras network, or a shipped style name (e.g. swirls)")
    apply.add_argument("inputs", nargs="+", help="images, folders, .gif files or videos")
    apply.add_argument("-o", "--out", required=True, help="output folder")
    apply.add_argument("--size", type=int, default=None, help="resize inputs to this long side first")
    apply.add_argument("--force", action="store_true", help="overwrite existing outputs")
    apply.set_defaults(func=cmd_fast_style_apply)


# ----------------------------------------------------------------------------- autoencoder
def _demo_autoencoder(out: Path, seed: int) -> list[tuple[str, str, str]]:
    """Denoising before/after: Fashion-MNIST at σ = 0.3, and a held-out photo at σ = 0.1."""
    import numpy as np

    from artlib import autoencoder as ae
    from artlib import data, metrics, plotting

    _, (x_test, _) = data.load_fashion_mnist(verbose=False)
    clean = ae.as_images(x_test[:: len(x_test) // 8][:8])
    noisy = ae.gaussian_noise(clean, (seed, 0), 0.3).numpy()
    shipped = ae.PRETRAINED_DIR / "fashion_denoiser.keras"
    if shipped.is_file():
        model, how = ae.load_model(shipped), "the shipped denoiser (data/pretrained/fashion_denoiser.keras)"
    else:
        (x_train, _), _ = data.load_fashion_mnist(verbose=False)
        model = ae.build_denoiser(filters=16)
        ae.train(model, x_train[:2048], num_epochs=config.choose(full=3, fast=1), seed=seed, verbose=0)
        how = "a denoiser trained here for a few seconds"
    restored = ae.restore(model, noisy)
    plotting.compare_rows({"clean": clean, f"noisy {np.mean(metrics.psnr(clean, noisy)):.1f} dB": noisy,
                           f"denoised {np.mean(metrics.psnr(clean, restored)):.1f} dB": restored},
                          path=out / "denoising.png")
    items = [("denoising.png", "Denoising autoencoder",
              f"Fashion-MNIST test images with Gaussian noise σ = 0.3 and {how}; mean PSNR in the row labels.")]
    if ae.PHOTO_DENOISER_PATH.is_file():
        photo = data.load_sample_photo(ae.HELD_OUT_PHOTOS[0], max_dim=config.choose(full=384, fast=128))
        noisy_photo = ae.gaussian_noise(photo[np.newaxis], (seed, 1), 0.1).numpy()[0]
        denoised = ae.denoise_photo(ae.load_photo_denoiser(), noisy_photo)
        plotting.compare_rows({"noisy / denoised": [noisy_photo, denoised]}, path=out / "photo_denoising.png",
                              size=4.0)
        items.append(("photo_denoising.png", "Photo denoiser",
                      f"A photo the denoiser never trained on, σ = 0.1: {metrics.psnr(photo, noisy_photo):.1f} dB "
                      f"noisy, {metrics.psnr(photo, denoised):.1f} dB denoised (σ estimated from the photo)."))
    return items


def cmd_denoise(args: argparse.Namespace) -> int:
    from artlib import autoencoder as ae
    from artlib import imageio

    out = _check_output(args.out, args.force, sorted(imageio.SAVE_FORMATS))
    if args.sigma is not None and not 0 <= args.sigma <= 1:
        raise ArtlibError(f"--sigma {args.sigma}: give the noise level on [0, 1] pixels, e.g. 0.1")
    image = imageio.load_image(args.input, max_dim=args.size)  # grayscale/RGBA/... become H×W×3
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


def _add_denoise_commands(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("denoise", help="remove noise from a photo with the shipped photo denoiser")
    cmd.add_argument("input", help="an image file (any format; grayscale is converted)")
    cmd.add_argument("-o", "--out", required=True, help="output image (.png, .jpg, …)")
    level = cmd.add_mutually_exclusive_group()
    level.add_argument("--sigma", type=float, default=None,
                       help="the Gaussian noise level on [0, 1] pixels (default: estimated from the image)")
    level.add_argument("--noise", choices=("gaussian", "speckle", "salt-and-pepper"), default="gaussian",
                       help="the kind of noise, its level estimated; salt-and-pepper gets a 3×3 median "
                            "filter first (default: %(default)s)")
    cmd.add_argument("--model", default=None, help="a photo denoiser .keras file (default: the shipped one)")
    cmd.add_argument("--size", type=int, default=None, help="shrink the input to this long side first")
    cmd.add_argument("--ensemble", action=argparse.BooleanOptionalAction, default=True,
                     help="denoise the 8 rotations and mirror images and average them: about 0.2–0.3 dB better, "
                          "8× the time (default: on; --no-ensemble for one pass)")
    cmd.add_argument("--force", action="store_true", help="overwrite an existing output")
    cmd.set_defaults(func=cmd_denoise)


# ----------------------------------------------------------------------------- style
def _demo_style(out: Path, seed: int) -> list[tuple[str, str, str]]:
    """Neural style transfer (random VGG19 features, offline): two photos, two procedural styles."""
    from artlib import data, plotting, style

    size = config.choose(full=256, fast=48)
    extractor = style.FeatureExtractor("auto", seed=seed, verbose=False)
    rows: dict[str, list] = {"photo": [], "style": [], "stylized": []}
    notes = []
    for photo_name, pattern in (("chelsea", "swirls"), ("astronaut", "mosaic")):
        photo = data.load_sample_photo(photo_name, max_dim=size)
        style_image = style.load_style_image(f"pattern:{pattern}", max_dim=size, seed=seed)
        result = style.style_transfer(photo, [style_image], max_dim=size, steps=config.choose(full=30, fast=2),
                                      extractor=extractor, seed=seed, min_dim=config.choose(full=128, fast=32),
                                      verbose=False)
        rows["photo"].append(photo)
        rows["style"].append(style_image)
        rows["stylized"].append(result.image)
        notes.append(f"{photo_name} × pattern:{pattern}: {result.summary()}")
    plotting.compare_rows(rows, path=out / "style_transfer.png")
    return [("style_transfer.png", "Neural style transfer",
             "L-BFGS, coarse to fine, offline procedural styles. " + "; ".join(notes))]


def cmd_stylize(args: argparse.Namespace) -> int:
    from artlib import imageio, style, training

    out = _check_output(args.out, args.force)
    if args.style_weights is not None and len(args.style_weights) != len(args.styles):
        raise ArtlibError(f"--style-weights: {len(args.style_weights)} weights for {len(args.styles)} styles")
    size = args.size or config.choose(full=512, fast=64)
    content = style.load_style_image(args.content, max_dim=None)
    styles = [style.load_style_image(s, max_dim=max(size, 256), seed=args.seed) for s in args.styles]
    steps = args.steps if args.steps is not None else config.choose(full=100, fast=5)
    stages = len(style.coarse_to_fine_sizes(size)) if args.optimizer == "lbfgs" else 1
    budgets = [n for n, _ in style.stage_schedule(steps, stages)]  # a stage that settles sooner skips ahead
    starts = [sum(budgets[:k]) for k in range(stages)]
    bar = training.progress_bar(sum(budgets))
    result = style.style_transfer(
        content, styles, max_dim=size, steps=steps, optimizer=args.optimizer, weights=args.weights,
        style_weight=args.style_weight, blend=args.style_weights, seed=args.seed,
        preserve_color="luminance" if args.preserve_color else None, coarse_to_fine=args.optimizer == "lbfgs",
        callback=lambda i, r: bar.update(starts[r["stage"]] + r["step"] + 1, [("loss", r["total"])]),
        verbose=False)
    imageio.save_image(out, result.image)
    print(f"\n{result.summary()}\n-> {out}")
    return 0


def _add_style_commands(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("stylize", help="paint a photo in the style of one or more images (VGG19, L-BFGS)")
    cmd.add_argument("content", help="content image: a path or an http(s) URL")
    cmd.add_argument("styles", nargs="+", metavar="STYLE",
                     help="style image(s): a path, an http(s) URL or pattern:NAME (swirls, brushstrokes, "
                          "mosaic, waves, shards)")
    cmd.add_argument("-o", "--out", required=True, help="output image (.png, .jpg ...)")
    cmd.add_argument("--size", type=int, default=None, help="long side of the output (default: 512; fast: 64)")
    cmd.add_argument("--steps", type=int, default=None, help="steps at the final size, up to twice that at "
                     "each coarser one (default: 100; fast mode: 5)")
    cmd.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs",
                     help="L-BFGS coarse to fine, or the tutorial's Adam (default: %(default)s)")
    cmd.add_argument("--weights", default="auto", help="VGG19 weights: auto, imagenet, random or a file "
                     "(default: %(default)s)")
    cmd.add_argument("--style-weight", type=float, default=None, help="weight of the style term (default: "
                     "artlib's, style.default_weights: 50 with ImageNet features, 20 with random ones)")
    cmd.add_argument("--style-weights", type=float, nargs="+", default=None, metavar="W",
                     help="blend several styles: one weight per style image")
    cmd.add_argument("--preserve-color", action="store_true", help="keep the content's colours "
                     "(transfer brightness only)")
    cmd.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    cmd.add_argument("--force", action="store_true", help="overwrite an existing output")
    cmd.set_defaults(func=cmd_stylize)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m artlib", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = sub.add_parser("info", help="versions, devices, modes, data and weights sources")
    info.set_defaults(func=cmd_info)

    demo = sub.add_parser("demo", help="render every topic into a gallery (PNG + index.html)")
    demo.add_argument("-o", "--out", default="gallery", help="output folder (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    demo.add_argument("--force", action="store_true", help="overwrite an existing gallery")
    demo.set_defaults(func=cmd_demo)
    _add_gan_commands(sub)
    _add_vae_commands(sub)
    _add_fast_style_commands(sub)
    _add_denoise_commands(sub)
    _add_style_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ArtlibError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
