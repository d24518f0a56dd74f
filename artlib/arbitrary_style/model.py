"""``ArbitraryStyle``: an encoder and its trained decoder — any photo in any style, in one forward pass."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from artlib import config, modelio, style
from artlib.arbitrary_style.adain import EPSILON, adain, blend_moments, channel_moments, check_alpha
from artlib.arbitrary_style.encoder import Encoder
from artlib.arbitrary_style.optimum import optimize_objective
from artlib.atomic import atomic_write_text
from artlib.checks import positive_int, seed_value
from artlib.errors import ArtlibError, DataError, ImageError
from artlib.style.inputs import as_image_batch
from artlib.training.rundir import read_json_object

__all__ = ["SHIPPED_DECODER", "MIN_SIDE", "save_decoder", "decoder_file", "load_recipe", "load_decoder",
           "ArbitraryStyle", "load"]

#: The decoder artlib ships (``.keras``; its recipe in the ``.json`` beside it).
SHIPPED_DECODER = config.PRETRAINED_DIR / "arbitrary_style_decoder.keras"
#: Smallest photo side: the encoder halves it three times.
MIN_SIDE = 8


def save_decoder(decoder: keras.Model, path: str | Path, *, recipe: dict[str, Any], force: bool = False) -> Path:
    """Save a decoder as ``.keras``, atomically, with its recipe (encoder, depth, training) as ``.json`` beside it."""
    path = modelio.save_model(decoder, path, force=force)
    atomic_write_text(path.with_suffix(".json"), json.dumps(recipe, indent=1, default=str) + "\n")
    return path


def decoder_file(path: str | Path | None = None) -> Path:
    """The decoder file ``path`` names: itself, ``decoder.keras`` in a run directory (what training writes
    there), or the shipped decoder for None.

    Raises:
        DataError: There is no such file (named before its recipe beside it).
    """
    path = Path(path or SHIPPED_DECODER)
    if path.is_dir():
        path = path / "decoder.keras"
    if not path.is_file():
        raise DataError(f"arbitrary-style decoder file {path} not found: give a .keras file saved by "
                        "arbitrary_style.save_decoder, or the run directory of `arbitrary-style train`")
    return path


def load_recipe(path: str | Path | None = None) -> dict[str, Any]:
    """The recipe beside a decoder file (default: the shipped one).

    Raises:
        DataError: The recipe is missing or unreadable (the decoder cannot be paired with its encoder).
    """
    recipe_path = decoder_file(path).with_suffix(".json")
    fix = "save decoders with arbitrary_style.save_decoder, which writes it"
    if not recipe_path.is_file():
        raise DataError(f"decoder recipe {recipe_path} is missing (the decoder cannot be paired with its encoder); "
                        f"{fix}")
    recipe = read_json_object(recipe_path, fix, error=DataError)
    if not all(k in recipe for k in ("features", "depth", "channels")):
        raise DataError(f"decoder recipe {recipe_path} does not say which encoder it belongs to")
    return recipe


def load_decoder(path: str | Path | None = None, *, encoder: Encoder | None = None) -> tuple[keras.Model, dict]:
    """Load a decoder in safe mode (no code from the file runs) and check it fits ``encoder``.

    Args:
        path: A ``.keras`` file saved by :func:`save_decoder` (default: the shipped decoder).
        encoder: The encoder it will decode; checked against the recipe (features, depth, channels).

    Returns:
        ``(decoder, recipe)``.

    Raises:
        DataError: A missing or corrupt file, or a decoder made for another encoder.
    """
    path = decoder_file(path)  # the decoder itself, named before its recipe beside it
    fix = "give a decoder made by 'python -m artlib arbitrary-style train'"
    recipe = load_recipe(path)
    decoder = modelio.load_model(path, what="arbitrary-style decoder", fix=fix,
                                 check=lambda m: None if m.input_shape[-1] == recipe["channels"] and
                                 m.output_shape[-1] == 3 else f"it maps {m.input_shape} to {m.output_shape}")
    if encoder is not None:
        mine = encoder.describe()
        wrong = {k: recipe[k] for k in mine if recipe[k] != mine[k]}
        if wrong:
            raise DataError(f"decoder {path} was trained for another encoder ({wrong}; this one is {mine}); "
                            f"load it with weights={recipe['features']!r}")
    return decoder, recipe


def _reflect_to_multiple(images: tf.Tensor, multiple: int) -> tf.Tensor:
    """Pad the bottom and right edges by symmetric reflection to a multiple of ``multiple``, at least twice it.

    At least ``2 × multiple``: the decoder's first reflection pad needs 2×2 features (an 8-px side at block4
    would give 1). Every side of at least :data:`MIN_SIDE` can be padded so (symmetric padding adds at most
    the side itself).
    """
    h, w = tf.shape(images)[1], tf.shape(images)[2]
    pad_h = tf.maximum((multiple - h % multiple) % multiple, 2 * multiple - h)
    pad_w = tf.maximum((multiple - w % multiple) % multiple, 2 * multiple - w)
    return tf.pad(images, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="SYMMETRIC")


class ArbitraryStyle:
    """Any photo in any style image: ``painted = model.stylize(photo, style_image)``.

    Args:
        decoder: A trained decoder (see :func:`load_decoder`).
        encoder: Its encoder (built from the decoder's recipe when omitted).
        recipe: The decoder's recipe.
        jit_compile: Compile the forward passes with XLA.

    Raises:
        DataError: The decoder does not fit the encoder, or the encoder's weights are missing.
    """

    def __init__(self, decoder: keras.Model, encoder: Encoder | None = None, recipe: dict | None = None, *,
                 jit_compile: bool = False):
        self.recipe = dict(recipe or {})
        if encoder is None:
            encoder = Encoder(self.recipe.get("features", "auto"), self.recipe.get("depth", "block4_conv1"))
        if decoder.input_shape[-1] != encoder.channels:
            raise DataError(f"the decoder takes {decoder.input_shape[-1]} channels, but the encoder "
                            f"({encoder.depth}) gives {encoder.channels}")
        self.decoder, self.encoder = decoder, encoder
        self.source = encoder.source
        depth, multiple = encoder.depth, encoder.scale

        @tf.function(jit_compile=jit_compile, reduce_retracing=True)
        def moments(images):
            return channel_moments(encoder(_reflect_to_multiple(images, multiple))[depth])

        @tf.function(jit_compile=jit_compile, reduce_retracing=True)
        def paint(images, means, stds, alpha, mask):
            h, w = tf.shape(images)[1], tf.shape(images)[2]
            content = encoder(_reflect_to_multiple(images, multiple))[depth]
            masked = tf.image.resize(mask, tf.shape(content)[1:3], method="bilinear")  # N×h×w×1 (XLA has no area)
            # the first style where the mask is 1, the last where it is 0 (one style: the same twice)
            target = masked * adain(content, means[:1], stds[:1], EPSILON) + \
                (1.0 - masked) * adain(content, means[-1:], stds[-1:], EPSILON)
            target = alpha * target + (1.0 - alpha) * content
            return tf.clip_by_value(self.decoder(target, training=False)[:, :h, :w], 0.0, 1.0)

        self._moments, self._paint = moments, paint

    def style_moments(self, style_image: Any, *, max_dim: int | None = 512, seed: int = 0) -> tuple[tf.Tensor, ...]:
        """One style's ``(mean, std)`` at the AdaIN layer (compute once, reuse for many photos).

        Args:
            style_image: An array, path, URL, ``"pattern:NAME"`` or ``"painting:NAME"``
                (see :func:`artlib.style.load_style_image`).
            max_dim: Long side the style is read at (its scale of strokes relative to the photo's).
            seed: Seed of a pattern.
        """
        seed = seed_value(seed)
        image = style.load_style_image(style_image, max_dim=max_dim, seed=seed)
        if min(image.shape[:2]) < MIN_SIDE:
            raise ImageError(f"style image of {image.shape[1]}×{image.shape[0]} px is too small (at least "
                             f"{MIN_SIDE} px a side)")
        return self._moments(tf.constant(image[None]))

    def paint(self, photo: Any, moments: tuple[tf.Tensor, tf.Tensor], *, alpha: float = 1.0) -> np.ndarray:
        """Paint ``photo`` with a style's cached :meth:`style_moments` (one style, many photos or frames).

        Args:
            photo: ``H×W×3`` in [0, 1], at least :data:`MIN_SIDE` px a side.
            moments: ``(mean, std)`` from :meth:`style_moments`.
            alpha: Style strength in [0, 1].

        Returns:
            float32 ``H×W×3`` in [0, 1].

        Raises:
            ArtlibError: ``alpha`` outside [0, 1]. ImageError: a bad or tiny photo.
        """
        alpha = check_alpha(alpha)
        image = as_image_batch(photo, name="photo").numpy()[0]
        if min(image.shape[:2]) < MIN_SIDE:
            raise ImageError(f"photo of {image.shape[1]}×{image.shape[0]} px is too small (at least {MIN_SIDE} px "
                             "a side)")
        mean, std = moments
        region = tf.ones((1, *image.shape[:2], 1), tf.float32)
        return self._paint(tf.constant(image[None]), mean, std, tf.constant(alpha, tf.float32), region).numpy()[0]

    def stylize(self, photo: Any, styles: Any | Sequence[Any], *, style_weights: Sequence[float] | None = None,
                alpha: float = 1.0, preserve_color: bool = False, style_colours: bool = False, mask: Any = None,
                max_dim: int | None = None, style_size: int | None = 512, seed: int = 0,
                refine: int = 0) -> np.ndarray:
        """Paint ``photo`` in one style, a blend of several, or two styles split by a mask.

        Args:
            photo: ``H×W×3`` in [0, 1] (or a path, URL, uint8 array); any size of at least 8 px a side.
            styles: One style (array, path, URL, ``"pattern:NAME"``, ``"painting:NAME"``) or a list of them.
            style_weights: Blend weights, one per style (≥ 0; normalised). Default: equal.
            alpha: Style strength in [0, 1] (0 gives back the photo as the decoder sees it).
            preserve_color: Keep the photo's colours: each style is first recoloured to the photo's
                colour mean and covariance (the paper's colour control).
            style_colours: The opposite: recolour the painting so that its colour mean and covariance are
                the style's (a blend's: the styles' pixels pooled by their weights), by an affine colour map
                (Reinhard et al. 2001) after the decoder, in proportion to ``alpha``. The decoder learnt
                its palettes from artlib's procedural styles; on a painting it never saw (``painting:NAME``)
                this puts back the painting's own colours. Not with ``preserve_color`` or a mask.
            mask: ``H×W`` in [0, 1] (or ``None``): with two styles, the first paints where the mask is 1,
                the second where it is 0 (``style_weights`` is then not used).
            max_dim: Downscale the photo to this long side first.
            style_size: Long side the styles are read at.
            seed: Seed of pattern styles.
            refine: After the decoder, this many L-BFGS evaluations of AdaIN's own objective on the
                painting's pixels (:func:`~artlib.arbitrary_style.optimize_objective`): closer to the style,
                seconds instead of milliseconds (one style, α = 1, no mask; 0: none).

        Returns:
            float32 ``H×W×3`` in [0, 1], the photo's size.

        Raises:
            ArtlibError: ``alpha`` outside [0, 1], style weights that do not match the styles, a mask that
                does not match the photo or with other than two styles, ``refine`` not a whole number ≥ 0 or
                with several styles, a mask or α < 1, ``style_colours`` with ``preserve_color`` or a mask.
            ImageError: A bad photo or style image (corrupt, tiny, the wrong kind).
        """
        seed = seed_value(seed)
        alpha = check_alpha(alpha)
        image = style.load_style_image(photo, max_dim=max_dim) if not isinstance(photo, np.ndarray) or \
            max_dim is not None else as_image_batch(photo, name="photo").numpy()[0]
        if min(image.shape[:2]) < MIN_SIDE:
            raise ImageError(f"photo of {image.shape[1]}×{image.shape[0]} px is too small (at least {MIN_SIDE} px "
                             "a side)")
        styles = list(styles) if isinstance(styles, (list, tuple)) else [styles]
        if not styles:
            raise ArtlibError("give at least one style")
        refine = positive_int(refine, "refine", minimum=0)
        if style_colours and (preserve_color or mask is not None):
            raise ArtlibError("style_colours gives the painting the style's colours: not with preserve_color (the "
                              "photo's colours) or a mask (two styles' colours in two regions)")
        if refine and (len(styles) != 1 or mask is not None or alpha != 1.0):
            raise ArtlibError("refine works on one style at alpha 1 without a mask (the objective it optimizes "
                              f"has one style's statistics); got {len(styles)} style(s), alpha {alpha:g}"
                              + (", a mask" if mask is not None else ""))
        loaded = [style.load_style_image(s, max_dim=style_size, seed=seed) for s in styles]
        for s in loaded:
            if min(s.shape[:2]) < MIN_SIDE:
                raise ImageError(f"style image of {s.shape[1]}×{s.shape[0]} px is too small (at least {MIN_SIDE} px "
                                 "a side)")
        if preserve_color:
            loaded = [style.match_colors(s, image) for s in loaded]
        moments = [self._moments(tf.constant(s[None])) for s in loaded]
        if mask is None:
            means, stds = blend_moments(moments, style_weights)
            region = np.ones((1, *image.shape[:2], 1), np.float32)
        else:
            region = np.asarray(mask, np.float32)
            if region.shape != image.shape[:2] or len(styles) != 2 or not np.all(np.isfinite(region)):
                raise ArtlibError(f"a mask needs two styles and the photo's shape {image.shape[:2]} with finite "
                                  f"values; got {len(styles)} styles and a mask of shape {region.shape}")
            means = tf.concat([m for m, _ in moments], 0)
            stds = tf.concat([s for _, s in moments], 0)
            region = np.clip(region, 0.0, 1.0)[None, ..., None]
        painted = self._paint(tf.constant(image[None]), means, stds, tf.constant(alpha, tf.float32),
                              tf.constant(region)).numpy()[0]
        if refine:
            painted = optimize_objective(self.encoder, image, loaded[0], start=painted, evaluations=refine).image
        if style_colours:
            shares = None if style_weights is None else [float(w) for w in style_weights]  # checked by blend_moments
            recoloured = style.recolour(painted, *style.colour_moments(loaded, shares))
            painted = (alpha * recoloured + (1.0 - alpha) * painted).astype(np.float32)
        return painted


def load(path: str | Path | None = None, *, weights: str | Path | None = None, jit_compile: bool = False,
         verbose: bool = True) -> ArbitraryStyle:
    """The shipped decoder (or ``path``) with the encoder its recipe names.

    Args:
        path: A decoder saved by :func:`save_decoder` (default: :data:`SHIPPED_DECODER`).
        weights: Where the encoder's weights come from (default: the recipe's family, e.g. ``"hed-vgg16"``).
        jit_compile: Compile with XLA. verbose: Print the weights policy's notice.

    Raises:
        DataError: A missing or corrupt decoder, its encoder's weights missing, or another encoder's decoder.
    """
    path = decoder_file(path)
    recipe = load_recipe(path)
    encoder = Encoder(weights or recipe["features"], recipe["depth"], verbose=verbose)
    decoder, recipe = load_decoder(path, encoder=encoder)
    return ArbitraryStyle(decoder, encoder, recipe, jit_compile=jit_compile)
