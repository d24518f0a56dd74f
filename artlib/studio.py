"""The studio (notebook 11): the course's pieces combined, with controls where ipywidgets is installed.

Everything here calls the topic packages; it adds only the glue a learner would otherwise write in a
notebook cell: a photo cleaned and then painted (by any painter: optimization, a fast network, AdaIN), a
style panel with sliders, and a painted animation of a walk through the GAN's latent space.

Example:
    >>> painter = arbitrary_style.load()                     # doctest: +SKIP
    >>> panel = studio.style_panel(photo, painter)           # doctest: +SKIP
    >>> panel.widget                                          # doctest: +SKIP (shows the controls)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from artlib.checks import positive_int, seed_value, unit_float
from artlib.errors import ArtlibError

__all__ = ["STUDIO_STYLES", "clean_and_paint", "paint_blend", "blend_grid", "StylePanel", "style_panel",
           "stylized_walk"]

#: The style choices the panel offers by default: every procedural pattern (``pattern:NAME``) and the shipped painting.
STUDIO_STYLES = ("pattern:swirls", "pattern:mosaic", "pattern:waves", "pattern:brushstrokes", "pattern:shards",
                 "painting:starry_night")


def clean_and_paint(photo: Any, paint: Callable[[np.ndarray], Any], *, denoiser: Any,
                    sigma: float | None = None) -> dict[str, np.ndarray]:
    """Denoise a noisy photo with the photo denoiser, then paint the clean photo.

    Args:
        photo: A noisy ``H×W×3`` photo in [0, 1] (any size the denoiser takes).
        paint: Any painter, ``paint(image) -> painting``: ``lambda p: style.stylize(p, "pattern:swirls")``
            (optimization, notebook 06: the best pictures), a shipped fast-style network
            (``lambda p: fast_style.stylize_image(net, p)``, notebook 07), or AdaIN
            (``lambda p: painter.stylize(p, style)``, notebook 08).
        denoiser: A photo denoiser (``autoencoder.load_photo_denoiser()``).
        sigma: The photo's noise level, or None to estimate it.

    Returns:
        ``{"denoised": …, "painted": …}``, each ``H×W×3`` in [0, 1].

    Raises:
        ArtlibError: ``paint`` is not a function, or what it returns is not one ``H×W×3`` picture.
    """
    from artlib import autoencoder

    if not callable(paint):  # a style's name, say: the painter is a function of the picture
        raise ArtlibError(f"paint must be a function of the picture, e.g. lambda p: fast_style.stylize_image("
                          f"'waves', p); got {type(paint).__name__} {paint!r}"[:300])
    denoised = np.asarray(autoencoder.denoise_photo(denoiser, photo, sigma))
    painted = np.asarray(paint(denoised))
    if painted.ndim != 3 or painted.shape[-1] != 3 or painted.dtype == object:
        raise ArtlibError(f"paint must return one H×W×3 picture; it returned {painted.dtype} of shape "
                          f"{painted.shape}")
    return {"denoised": denoised, "painted": painted}


def paint_blend(painter: Any, photo: Any, style_a: Any, style_b: Any, *, blend: float = 0.0, alpha: float = 1.0,
                preserve_color: bool = False, style_colours: bool = False, max_dim: int | None = 256) -> np.ndarray:
    """Paint ``photo`` in a blend of two styles: ``blend`` 0 is all ``style_a``, 1 all ``style_b``.

    ``preserve_color`` keeps the photo's colours, ``style_colours`` gives the painting the styles' (see
    ``ArbitraryStyle.stylize``); neither: the decoder's own.

    Raises:
        ArtlibError: ``blend`` outside [0, 1] (``alpha`` is checked by the painter), or ``painter`` is not one.
    """
    blend = unit_float(blend, "blend")
    if not callable(getattr(painter, "stylize", None)):
        raise ArtlibError(f"painter must be an arbitrary_style.ArbitraryStyle (arbitrary_style.load() gives the "
                          f"shipped one); got {type(painter).__name__}")
    if blend == 0.0 or style_a == style_b:
        styles, weights = [style_a], None
    elif blend == 1.0:
        styles, weights = [style_b], None
    else:
        styles, weights = [style_a, style_b], [1.0 - float(blend), float(blend)]
    return np.asarray(painter.stylize(photo, styles, style_weights=weights, alpha=alpha,
                                      preserve_color=preserve_color, style_colours=style_colours, max_dim=max_dim,
                                      style_size=max_dim))


def blend_grid(painter: Any, photo: Any, style_a: Any, style_b: Any, *, blends: Sequence[float] = (0.0, 0.5, 1.0),
               alphas: Sequence[float] = (0.5, 1.0), max_dim: int | None = 192) -> tuple[np.ndarray, list[str]]:
    """Every (α, blend) pair painted: the fixed picture the panel's sliders explore (the plain fallback).

    Returns:
        ``(images, titles)``: ``len(alphas)·len(blends)`` paintings, row by row (one row per α).

    Raises:
        ArtlibError: No blends or no alphas (or a bad value among them, as :func:`paint_blend` says).
    """
    blends, alphas = list(blends), list(alphas)
    if not blends or not alphas:
        raise ArtlibError(f"blend_grid needs at least one blend and one alpha; got {len(blends)} and {len(alphas)}")
    images, titles = [], []
    for alpha in alphas:
        for blend in blends:
            images.append(paint_blend(painter, photo, style_a, style_b, blend=blend, alpha=alpha, max_dim=max_dim))
            titles.append(f"α {alpha:g}, blend {blend:g}")
    shape = images[0].shape
    return np.stack([np.asarray(_fit(i, shape[:2])) for i in images]), titles


def _fit(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from artlib import imageio

    return image if image.shape[:2] == tuple(size) else np.asarray(imageio.resize(image, size))


@dataclass
class StylePanel:
    """The controls of :func:`style_panel` and the last picture they rendered.

    Attributes:
        widget: The ``ipywidgets.VBox`` to display, or None where ipywidgets is missing.
        controls: The named controls (``style_a``, ``style_b``, ``blend``, ``alpha``, ``colours``,
            ``render``, ``output``).
        image: The last painting (``H×W×3`` in [0, 1]), or None before the first render.
    """

    widget: Any
    controls: dict[str, Any] = field(default_factory=dict)
    image: np.ndarray | None = None
    render: Callable[[], np.ndarray] | None = None


def style_panel(photo: Any, painter: Any, styles: Sequence[str] | Mapping[str, Any] = STUDIO_STYLES, *,
                max_dim: int = 256, show: Callable[[np.ndarray], Any] | None = None) -> StylePanel:
    """Sliders for style strength and blend, two style dropdowns, whose colours, and a Render button.

    Each press of Render paints ``photo`` with :func:`paint_blend` and shows it in the panel's output area.
    Where ipywidgets is not installed, nothing is built: the returned panel's ``widget`` is None, a line says
    so, and ``panel.render()`` still paints with the default choices (use :func:`blend_grid` to show them all).

    Args:
        photo: The ``H×W×3`` photo in [0, 1].
        painter: An :class:`artlib.arbitrary_style.ArbitraryStyle`.
        styles: Style sources (``pattern:NAME``, ``painting:NAME``, paths, URLs), or ``{label: source}``.
        max_dim: Long side of the paintings (the panel stays responsive at 256 on a CPU).
        show: How to display a painting in the output area (default: a Matplotlib figure).

    Returns:
        A :class:`StylePanel`.

    Raises:
        ArtlibError: Fewer than one style, a style in a list that is not text or a path (an image array
            needs a label: give ``{label: image}``), or ``max_dim`` below 1.
    """
    from artlib.data import style_name

    choices = dict(styles) if isinstance(styles, Mapping) else {style_name(s): s for s in styles}
    if not choices:
        raise ArtlibError("style_panel needs at least one style")
    max_dim = positive_int(max_dim, "max_dim")
    labels = list(choices)
    try:
        import ipywidgets as widgets
    except ImportError:
        widgets = None
    panel = StylePanel(widget=None)
    values = {"style_a": labels[0], "style_b": labels[min(1, len(labels) - 1)], "blend": 0.5, "alpha": 1.0,
              "colours": "painting"}

    def current() -> dict[str, Any]:
        if widgets is None:
            return values
        return {k: panel.controls[k].value for k in values}

    def render(*_: Any) -> np.ndarray:
        v = current()
        panel.image = paint_blend(painter, photo, choices[v["style_a"]], choices[v["style_b"]], blend=v["blend"],
                                  alpha=v["alpha"], preserve_color=v["colours"] == "photo",
                                  style_colours=v["colours"] == "style", max_dim=max_dim)
        if widgets is not None:
            out = panel.controls["output"]
            out.clear_output(wait=True)
            with out:
                (show or _show)(panel.image)
        return panel.image

    panel.render = render
    if widgets is None:
        print("ipywidgets is not installed (pip install ipywidgets): no controls; panel.render() paints the "
              "defaults and studio.blend_grid shows every choice")
        return panel
    c = panel.controls
    c["style_a"] = widgets.Dropdown(options=labels, value=values["style_a"], description="style A")
    c["style_b"] = widgets.Dropdown(options=labels, value=values["style_b"], description="style B")
    c["blend"] = widgets.FloatSlider(value=values["blend"], min=0.0, max=1.0, step=0.05, description="blend → B")
    c["alpha"] = widgets.FloatSlider(value=values["alpha"], min=0.0, max=1.0, step=0.05, description="strength α")
    c["colours"] = widgets.Dropdown(options=[("as painted", "painting"), ("the photo's", "photo"),
                                             ("the style's", "style")], value=values["colours"],
                                    description="colours")
    c["render"] = widgets.Button(description="Render", button_style="primary")
    c["output"] = widgets.Output()
    c["render"].on_click(render)
    panel.widget = widgets.VBox([widgets.HBox([c["style_a"], c["style_b"]]), c["blend"], c["alpha"],
                                 c["colours"], c["render"], c["output"]])
    return panel


def _show(image: np.ndarray) -> None:
    from IPython.display import display

    from artlib import plotting

    display(plotting.image_grid(image[None], ncols=1))


def stylized_walk(generator: Any, paint: Callable[[np.ndarray], Any], *, frames: int = 24, size: int = 160,
                  seed: int = 0) -> np.ndarray:
    """A walk through the GAN's latent space (slerp between two garments), each frame enlarged and painted.

    Args:
        generator: A Fashion-MNIST generator (``gan.load_generator()``).
        paint: ``paint(frame) -> painting`` for one ``size×size×3`` frame in [0, 1]: a shipped fast-style
            network (``lambda f: fast_style.stylize_image(net, f)``: one forward pass a frame) or AdaIN with
            the style's statistics computed once (``lambda f: painter.paint(f, moments)``).
        frames: Frames in the walk (≥ 2).
        size: Side of each frame (the 28-px garments are enlarged to it first; ≥ 16).
        seed: Picks the two garments.

    Returns:
        ``frames×size×size×3`` in [0, 1]; save them with ``plotting.save_gif``.

    Raises:
        ArtlibError: ``frames`` below 2 or ``size`` below 16.
    """
    seed = seed_value(seed)
    from artlib import gan, imageio

    frames = positive_int(frames, "frames", minimum=2)
    size = positive_int(size, "size", minimum=16)
    walk = np.asarray(gan.interpolate(generator, num_rows=1, num_steps=frames, seed=seed))[0]  # frames×28×28
    painted = []
    for frame in walk:
        rgb = np.repeat(frame[..., None], 3, axis=-1)                                  # 28×28 -> 28×28×3
        big = np.asarray(imageio.resize(rgb, (size, size)))
        painted.append(_fit(np.clip(np.asarray(paint(big), np.float32), 0.0, 1.0), (size, size)))
    return np.stack(painted).astype(np.float32)
