"""Tests for artlib.studio: clean-then-paint, blends, the fixed grid, the widget panel (and its plain fallback),
and the stylized latent walk. A random-weight encoder and 8-channel decoders keep it small."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from artlib.errors import ArtlibError


@pytest.fixture(scope="module")
def painter():
    from artlib import arbitrary_style

    encoder = arbitrary_style.Encoder("random", seed=0, verbose=False)
    decoder = arbitrary_style.build_decoder(width=8, seed=1)
    rng = np.random.default_rng(1)
    decoder.set_weights([w + rng.normal(0, 0.05, w.shape).astype(np.float32) for w in decoder.get_weights()])
    return arbitrary_style.ArbitraryStyle(decoder, encoder, encoder.describe())


@pytest.fixture(scope="module")
def photo():
    return np.random.default_rng(0).uniform(0, 1, (40, 52, 3)).astype(np.float32)


def test_clean_and_paint_denoises_then_paints_at_the_photos_size(painter, photo):
    from artlib import autoencoder as ae
    from artlib import studio

    denoiser = ae.build_photo_denoiser(filters=4)
    seen = []
    out = studio.clean_and_paint(photo, lambda p: seen.append(p) or painter.stylize(p, "pattern:mosaic", style_size=48),
                                 denoiser=denoiser, sigma=0.1)
    assert out["denoised"].shape == photo.shape and out["painted"].shape == photo.shape
    np.testing.assert_allclose(out["denoised"], ae.denoise_photo(denoiser, photo, 0.1), atol=1e-6)
    np.testing.assert_array_equal(seen[0], out["denoised"])  # the painter got the cleaned photo
    np.testing.assert_allclose(out["painted"], painter.stylize(out["denoised"], "pattern:mosaic", style_size=48),
                               atol=1e-5)


def test_slips_in_the_studio_are_artlib_errors(painter, photo):
    from artlib import autoencoder as ae
    from artlib import studio

    denoiser = ae.build_photo_denoiser(filters=4)
    with pytest.raises(ArtlibError, match="paint must be a function of the picture"):  # was "str is not callable"
        studio.clean_and_paint(photo, "waves", denoiser=denoiser, sigma=0.1)
    with pytest.raises(ArtlibError, match=r"paint must return one H×W×3 picture; it returned object of shape \(\)"):
        studio.clean_and_paint(photo, lambda p: None, denoiser=denoiser, sigma=0.1)
    with pytest.raises(ArtlibError, match="painter must be an arbitrary_style.ArbitraryStyle.*got NoneType"):
        studio.paint_blend(None, photo, "pattern:waves", "pattern:mosaic")
    with pytest.raises(ArtlibError, match="at least one blend and one alpha; got 0 and 2"):  # was an IndexError
        studio.blend_grid(painter, photo, "pattern:waves", "pattern:mosaic", blends=())


def test_blend_ends_are_the_single_styles_and_the_middle_differs(painter, photo):
    from artlib import studio

    a, b = "pattern:mosaic", "pattern:swirls"
    only_a = studio.paint_blend(painter, photo, a, b, blend=0.0, max_dim=52)
    only_b = studio.paint_blend(painter, photo, a, b, blend=1.0, max_dim=52)
    middle = studio.paint_blend(painter, photo, a, b, blend=0.5, max_dim=52)
    np.testing.assert_allclose(only_a, painter.stylize(photo, a, max_dim=52, style_size=52), atol=1e-5)
    np.testing.assert_allclose(only_b, painter.stylize(photo, b, max_dim=52, style_size=52), atol=1e-5)
    assert middle.shape == photo.shape and middle.min() >= 0 and middle.max() <= 1
    assert np.abs(middle - only_a).mean() > 1e-4 and np.abs(middle - only_b).mean() > 1e-4
    with pytest.raises(ArtlibError, match="blend must be in \\[0, 1\\]; got 1.5"):
        studio.paint_blend(painter, photo, a, b, blend=1.5)


def test_blend_grid_has_one_painting_per_alpha_and_blend(painter, photo):
    from artlib import studio

    images, titles = studio.blend_grid(painter, photo, "pattern:mosaic", "pattern:waves", blends=(0, 1),
                                       alphas=(0.0, 1.0), max_dim=48)
    assert images.shape == (4, 37, 48, 3) and titles == ["α 0, blend 0", "α 0, blend 1", "α 1, blend 0",
                                                          "α 1, blend 1"]
    np.testing.assert_allclose(images[0], images[1], atol=1e-5)  # α 0: the photo's own statistics, any style


def test_the_panel_renders_what_its_controls_say(painter, photo):
    pytest.importorskip("ipywidgets")
    from artlib import studio

    shown = []
    panel = studio.style_panel(photo, painter, max_dim=48, show=shown.append)
    c = panel.controls
    assert panel.widget is not None and panel.image is None
    assert list(c["style_a"].options) == ["swirls", "mosaic", "waves", "brushstrokes", "shards", "starry_night"]
    c["style_a"].value, c["style_b"].value, c["blend"].value, c["alpha"].value = "mosaic", "waves", 1.0, 0.5
    c["render"].click()
    expected = studio.paint_blend(painter, photo, "pattern:mosaic", "pattern:waves", blend=1.0, alpha=0.5,
                                  max_dim=48)
    np.testing.assert_allclose(panel.image, expected, atol=1e-5)
    assert len(shown) == 1 and shown[0] is panel.image
    for colours, option in (("photo", "preserve_color"), ("style", "style_colours")):  # the colours choice
        c["colours"].value = colours
        c["render"].click()
        expected = studio.paint_blend(painter, photo, "pattern:mosaic", "pattern:waves", blend=1.0, alpha=0.5,
                                      max_dim=48, **{option: True})
        np.testing.assert_allclose(panel.image, expected, atol=1e-5)
        assert np.abs(panel.image - shown[0]).mean() > 1e-3, colours  # not the decoder's own colours


def test_without_ipywidgets_the_panel_says_so_and_still_paints(painter, photo, monkeypatch, capsys):
    from artlib import studio

    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails as if not installed
    panel = studio.style_panel(photo, painter, {"m": "pattern:mosaic", "w": "pattern:waves"}, max_dim=48)
    assert panel.widget is None and "ipywidgets is not installed" in capsys.readouterr().out
    image = panel.render()
    np.testing.assert_allclose(image, studio.paint_blend(painter, photo, "pattern:mosaic", "pattern:waves",
                                                         blend=0.5, max_dim=48), atol=1e-5)
    with pytest.raises(ArtlibError, match="at least one style"):
        studio.style_panel(photo, painter, {})


def test_stylized_walk_paints_every_frame_of_a_latent_walk(painter):
    from artlib import gan, studio

    generator = gan.build_generator()
    moments = painter.style_moments("pattern:swirls", max_dim=48)
    frames = studio.stylized_walk(generator, lambda f: painter.paint(f, moments), frames=3, size=32, seed=0)
    assert frames.shape == (3, 32, 32, 3) and frames.dtype == np.float32
    assert frames.min() >= 0 and frames.max() <= 1
    assert np.abs(frames[0] - frames[-1]).mean() > 1e-4  # the two ends are different garments
    plain = studio.stylized_walk(generator, lambda f: f, frames=3, size=32, seed=0)  # the unpainted walk
    walk = np.asarray(gan.interpolate(generator, num_rows=1, num_steps=3, seed=0))[0]
    from artlib import imageio

    back = np.stack([np.asarray(imageio.resize(f, (28, 28)))[..., 0] for f in plain])  # enlarged, then shrunk back
    assert np.abs(back - walk).mean() < 0.05 and np.allclose(plain[..., 0], plain[..., 2])  # grey garments
    with pytest.raises(ArtlibError, match="frames"):
        studio.stylized_walk(generator, lambda f: f, frames=1)
