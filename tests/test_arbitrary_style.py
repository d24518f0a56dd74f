"""Tests for artlib.arbitrary_style: AdaIN against NumPy, the decoder's shapes, stylizing any size with
α, blends and masks, the training data, a loss that falls, the adversarial term, exact resume, safe
save/load, ONNX/LiteRT export against Keras, and the CLI on good and bad input.

The encoder is VGG19 with random weights (nothing here needs trained features) and the decoders are
8 channels wide, on 32–64 px images. Exact resume needs op determinism, which is process-wide, so that
scenario runs this file as a script in a subprocess (as tests/test_fast_style.py does)::

    python tests/test_arbitrary_style.py resume <directory>
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_python

HERE = Path(__file__).resolve()
ODD = (37, 45, 3)  # neither side a multiple of 8: the model pads and crops inside


def perturbed_decoder(depth: str = "block4_conv1", seed: int = 1, amount: float = 0.05):
    """A tiny decoder with every weight moved, so it paints more than the flat grey it starts as."""
    from artlib import arbitrary_style

    decoder = arbitrary_style.build_decoder(depth, width=8, seed=seed)
    rng = np.random.default_rng(seed)
    decoder.set_weights([w + rng.normal(0, amount, w.shape).astype(np.float32) for w in decoder.get_weights()])
    return decoder


@pytest.fixture(scope="module")
def encoder():
    from artlib import arbitrary_style

    return arbitrary_style.Encoder("random", seed=0, verbose=False)


@pytest.fixture(scope="module")
def model(encoder):
    from artlib import arbitrary_style

    return arbitrary_style.ArbitraryStyle(perturbed_decoder(), encoder, encoder.describe())


@pytest.fixture(scope="module")
def styles():
    """Two different small style images."""
    from artlib import patterns

    return patterns.make_pattern("mosaic", 40, seed=0), patterns.make_pattern("swirls", 48, seed=1)


@pytest.fixture(scope="module")
def photo():
    return np.random.default_rng(1).uniform(0, 1, ODD).astype(np.float32)


@pytest.fixture(scope="module")
def photos():
    from artlib import fast_style

    return fast_style.load_content_photos(["astronaut"], max_dim=96)


def train_args(run_dir, encoder, **overrides):
    args = dict(num_steps=15, image_size=32, batch_size=2, width=8, bank_seeds=1, weights="random",
                learning_rate=1e-3, run_dir=run_dir, content=["astronaut"], encoder=encoder, quiet=True,
                verbose=False)
    return {**args, **overrides}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, encoder):
    from artlib import arbitrary_style

    run_dir = tmp_path_factory.mktemp("trained") / "run"
    return arbitrary_style.train(**train_args(run_dir, encoder))


def test_a_new_run_starts_from_a_saved_decoder_and_refuses_one_that_does_not_fit(trained, encoder, tmp_path):
    from artlib import arbitrary_style
    from artlib.errors import DataError

    saved = arbitrary_style.save_decoder(trained.decoder, tmp_path / "d.keras", recipe=trained.settings)
    fresh = arbitrary_style.build_decoder(encoder.depth, 8, channels=encoder.channels, seed=0).get_weights()
    assert max(np.abs(a - b).max() for a, b in zip(fresh, trained.decoder.get_weights())) > 1e-3  # it trained
    # One step at a learning rate too small to move anything: the weights are the saved decoder's.
    on = arbitrary_style.train(**train_args(tmp_path / "on", encoder, num_steps=1, learning_rate=1e-12,
                                            start_from=saved))
    for theirs, mine in zip(trained.decoder.get_weights(), on.decoder.get_weights()):
        np.testing.assert_allclose(mine, theirs, atol=1e-7)
    assert on.settings["start_from"] == str(saved)
    with pytest.raises(DataError, match="d.keras has other shapes"):
        arbitrary_style.train(**train_args(tmp_path / "wide", encoder, num_steps=1, width=4, start_from=saved))
    with pytest.raises(DataError, match="nowhere.keras"):
        arbitrary_style.train(**train_args(tmp_path / "none", encoder, num_steps=1, start_from=tmp_path / "nowhere.keras"))


# ----------------------------------------------------------------------------- AdaIN
def test_channel_moments_match_numpy():
    from artlib import arbitrary_style

    x = np.random.default_rng(0).normal(2.0, 3.0, (2, 5, 6, 4)).astype(np.float32)
    mean, std = (t.numpy() for t in arbitrary_style.channel_moments(x))
    assert mean.shape == std.shape == (2, 1, 1, 4)
    np.testing.assert_allclose(mean, x.mean(axis=(1, 2), keepdims=True), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(std, np.sqrt(x.var(axis=(1, 2), keepdims=True) + arbitrary_style.EPSILON),
                               rtol=1e-5)
    _, flat = arbitrary_style.channel_moments(np.ones((1, 3, 3, 2), np.float32))
    np.testing.assert_allclose(flat.numpy(), np.sqrt(arbitrary_style.EPSILON))  # σ of a flat channel is √ε


def test_adain_gives_the_content_the_style_moments():
    from artlib import arbitrary_style

    rng = np.random.default_rng(0)
    content = rng.normal(1.0, 3.0, (2, 6, 7, 5)).astype(np.float32)
    style = (rng.gamma(2.0, 1.5, (2, 4, 9, 5)) * rng.uniform(0.2, 4, 5)).astype(np.float32)
    mean, std = arbitrary_style.channel_moments(style)
    out = arbitrary_style.adain(content, mean, std).numpy()
    assert out.shape == content.shape
    np.testing.assert_allclose(out.mean(axis=(1, 2)), style.mean(axis=(1, 2)), atol=1e-3)
    np.testing.assert_allclose(out.std(axis=(1, 2)), style.std(axis=(1, 2)), atol=1e-3, rtol=1e-3)
    eps = arbitrary_style.EPSILON
    reference = ((content - content.mean(axis=(1, 2), keepdims=True))
                 / np.sqrt(content.var(axis=(1, 2), keepdims=True) + eps)
                 * np.sqrt(style.var(axis=(1, 2), keepdims=True) + eps) + style.mean(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(out, reference, atol=1e-4, rtol=1e-4)
    # α = 0 is the content itself, α = 1 AdaIN, in between the straight line.
    np.testing.assert_array_equal(arbitrary_style.stylize_features(content, mean, std, 0.0).numpy(), content)
    np.testing.assert_allclose(arbitrary_style.stylize_features(content, mean, std, 1.0).numpy(), out, atol=1e-6)
    np.testing.assert_allclose(arbitrary_style.stylize_features(content, mean, std, 0.25).numpy(),
                               0.25 * out + 0.75 * content, atol=1e-5)


def test_blend_moments_normalises_the_weights_and_rejects_bad_ones():
    import tensorflow as tf

    from artlib import arbitrary_style
    from artlib.errors import ArtlibError

    a = (tf.fill((1, 1, 1, 3), 1.0), tf.fill((1, 1, 1, 3), 2.0))
    b = (tf.fill((1, 1, 1, 3), 5.0), tf.fill((1, 1, 1, 3), 10.0))
    mean, std = arbitrary_style.blend_moments([a, b], [3, 1])  # shares 0.75 and 0.25
    np.testing.assert_allclose(mean.numpy(), 2.0)
    np.testing.assert_allclose(std.numpy(), 4.0)
    for same in ([2, 2], [0.1, 0.1], None):
        mean, std = arbitrary_style.blend_moments([a, b], same)
        np.testing.assert_allclose(mean.numpy(), 3.0, rtol=1e-6)
        np.testing.assert_allclose(std.numpy(), 6.0, rtol=1e-6)
    mean, _ = arbitrary_style.blend_moments([a, b], [0, 1])
    np.testing.assert_allclose(mean.numpy(), 5.0)
    for weights, message in (([1.0], r"one number per style \(2\); got \[1.0\]"),
                             ([1, 2, 3], r"one number per style \(2\); got \[1, 2, 3\]"),
                             ([-1, 2], "≥ 0"), ([0, 0], "sum to more than 0"), ([1, float("nan")], "≥ 0"),
                             ([1, float("inf")], "≥ 0")):
        with pytest.raises(ArtlibError, match=message):
            arbitrary_style.blend_moments([a, b], weights)
    with pytest.raises(ArtlibError, match="at least one style"):
        arbitrary_style.blend_moments([], None)


def test_check_alpha_accepts_zero_to_one_only():
    from artlib import arbitrary_style
    from artlib.errors import ArtlibError

    assert arbitrary_style.check_alpha(0) == 0.0 and arbitrary_style.check_alpha(1) == 1.0
    assert arbitrary_style.check_alpha(np.float32(0.5)) == 0.5
    for bad in (-0.1, 1.5, "x", "0.5", float("nan"), None, float("inf"), True, [0.5]):  # text too: a number is asked
        with pytest.raises(ArtlibError, match=r"alpha \(style strength\) must be in \[0, 1\]; got "):
            arbitrary_style.check_alpha(bad)


# ----------------------------------------------------------------------------- the decoder and the model
def test_a_decoder_is_found_in_its_run_directory_and_a_missing_one_is_named(trained, tmp_path):
    """``--decoder RUN_DIR`` had looked for RUN_DIR.json beside the folder; a missing file was a missing recipe."""
    from artlib import arbitrary_style
    from artlib.errors import DataError

    folder = tmp_path / "run"
    arbitrary_style.save_decoder(trained.decoder, folder / "decoder.keras", recipe=trained.settings)
    assert arbitrary_style.decoder_file(folder) == folder / "decoder.keras"
    decoder, _ = arbitrary_style.load_decoder(folder)
    for mine, theirs in zip(decoder.get_weights(), trained.decoder.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    for missing in (tmp_path / "nowhere.keras", tmp_path):  # tmp_path holds no decoder.keras of its own
        with pytest.raises(DataError, match="arbitrary-style decoder file .* not found"):
            arbitrary_style.load(missing)


def test_decoder_shapes_follow_the_encoder_depth():
    from artlib import arbitrary_style
    from artlib.errors import ArtlibError

    assert arbitrary_style.decoder_plan(width=256) == [256, "up", 256, 256, 256, 128, "up", 128, 64, "up", 64, 3]
    assert arbitrary_style.decoder_plan("block3_conv1", 256) == [128, "up", 128, 64, "up", 64, 3]
    block4 = arbitrary_style.build_decoder(width=8)
    out = block4(np.random.default_rng(0).normal(size=(2, 5, 7, 512)).astype(np.float32)).numpy()
    assert out.shape == (2, 40, 56, 3)
    np.testing.assert_allclose(out, 0.5, atol=1e-6)  # the zero last layer and its 0.5 bias: flat grey at first
    block3 = arbitrary_style.build_decoder("block3_conv1", width=8)
    assert block3.input_shape[-1] == 256
    assert block3(np.zeros((1, 5, 7, 256), np.float32)).shape == (1, 20, 28, 3)
    assert arbitrary_style.build_decoder(width=4, channels=3)(np.zeros((1, 2, 3, 3), np.float32)).shape == \
        (1, 16, 24, 3)
    for bad, message in ((dict(width=3), "width.*3"), (dict(width=0), "width.*0"),
                         (dict(depth="block5_conv1"), "block5_conv1"), (dict(channels=0), "channels.*0")):
        with pytest.raises(ArtlibError, match=message):
            arbitrary_style.build_decoder(**{"width": 8, **bad})


def test_stylize_keeps_any_size_and_stays_in_range(model, styles):
    from artlib.errors import ImageError

    for shape in ((37, 53, 3), (9, 11, 3), (8, 8, 3)):
        photo = np.random.default_rng(sum(shape)).uniform(0, 1, shape).astype(np.float32)
        out = model.stylize(photo, styles[0], style_size=None)
        assert out.shape == shape and out.dtype == np.float32, shape
        assert 0.0 <= out.min() and out.max() <= 1.0, shape
    assert np.ptp(out) > 0.01  # the perturbed decoder paints something, not flat grey
    uint8 = model.stylize((photo * 255).astype(np.uint8), styles[0], style_size=None)
    assert uint8.shape == (8, 8, 3)
    with pytest.raises(ImageError, match="4×4"):
        model.stylize(np.zeros((4, 4, 3), np.float32), styles[0])
    with pytest.raises(ImageError, match="too small"):
        model.stylize(np.zeros((32, 32, 3), np.float32), np.zeros((5, 30, 3), np.float32), style_size=None)


def test_alpha_blends_and_masks(model, styles, photo):
    from artlib.errors import ArtlibError

    one, two = (model.stylize(photo, s, style_size=None) for s in styles)
    assert np.abs(one - two).mean() > 1e-3  # the two styles paint differently at α = 1
    # α = 0: AdaIN is not used at all, so the style cannot matter.
    np.testing.assert_array_equal(model.stylize(photo, styles[0], alpha=0.0, style_size=None),
                                  model.stylize(photo, styles[1], alpha=0.0, style_size=None))
    half = model.stylize(photo, styles[0], alpha=0.5, style_size=None)
    assert np.abs(half - one).mean() > 1e-4
    # A blend with all the weight on one style is that style; a mask of ones paints only the first.
    np.testing.assert_allclose(model.stylize(photo, list(styles), style_weights=[1, 0], style_size=None), one,
                               atol=1e-5)
    np.testing.assert_allclose(model.stylize(photo, list(styles), style_weights=[0, 2], style_size=None), two,
                               atol=1e-5)
    ones, zeros = np.ones(photo.shape[:2], np.float32), np.zeros(photo.shape[:2], np.float32)
    np.testing.assert_allclose(model.stylize(photo, list(styles), mask=ones, style_size=None), one, atol=1e-5)
    np.testing.assert_allclose(model.stylize(photo, list(styles), mask=zeros, style_size=None), two, atol=1e-5)
    kept = model.stylize(photo, styles[0], preserve_color=True, style_size=None)
    assert kept.shape == ODD and not np.allclose(kept, one, atol=1e-3)
    for bad, message in ((dict(styles=[styles[0]], mask=ones), "two styles"),
                         (dict(styles=list(styles), mask=ones[:-1]), "mask"),
                         (dict(styles=list(styles), style_weights=[1]), r"one number per style \(2\); got \[1\]"),
                         (dict(styles=styles[0], alpha=1.5), "alpha.*1.5"),
                         (dict(styles=[]), "at least one style")):
        with pytest.raises(ArtlibError, match=message):
            model.stylize(photo, **{"style_size": None, **bad})


def test_style_colours_give_the_painting_the_styles_colour_moments(model, styles, photo):
    from artlib import style
    from artlib.errors import ArtlibError

    def moments(image, weights=None):
        return style.colour_moments([image] if not isinstance(image, list) else image, weights)

    plain = model.stylize(photo, styles[0], style_size=None)
    coloured = model.stylize(photo, styles[0], style_colours=True, style_size=None)
    (mean, cov), (target_mean, target_cov) = moments(coloured), moments(styles[0])
    before = np.abs(moments(plain)[0] - target_mean).max()
    # Clipping to [0, 1] moves the moments a little; the decoder's own painting was much further away.
    assert np.abs(mean - target_mean).max() < 0.02 < before
    np.testing.assert_allclose(cov, target_cov, atol=0.01)
    # A blend: the styles' pixels pooled by the weights; α scales the recolouring; α = 0 is the plain painting.
    blend = model.stylize(photo, list(styles), style_weights=[3, 1], style_colours=True, style_size=None)
    assert np.abs(moments(blend)[0] - moments(list(styles), [3, 1])[0]).max() < 0.02
    np.testing.assert_array_equal(model.stylize(photo, styles[0], alpha=0.0, style_colours=True, style_size=None),
                                  model.stylize(photo, styles[0], alpha=0.0, style_size=None))
    ones = np.ones(photo.shape[:2], np.float32)
    for bad in (dict(styles=styles[0], preserve_color=True), dict(styles=list(styles), mask=ones)):
        with pytest.raises(ArtlibError, match="style_colours .* not with preserve_color"):
            model.stylize(photo, style_colours=True, style_size=None, **bad)


def test_paint_with_cached_moments_equals_stylize(model, styles, photo):
    from artlib.errors import ArtlibError

    moments = model.style_moments(styles[0], max_dim=None)
    np.testing.assert_array_equal(model.paint(photo, moments), model.stylize(photo, styles[0], style_size=None))
    assert not np.allclose(model.paint(photo, moments, alpha=0.3), model.paint(photo, moments), atol=1e-4)
    with pytest.raises(ArtlibError, match="alpha"):
        model.paint(photo, moments, alpha=-0.1)


# ----------------------------------------------------------------------------- the training data
def test_style_bank_is_seeded_and_recoloured():
    from artlib import arbitrary_style, patterns

    bank = arbitrary_style.style_bank(2, seed=0, sizes=(32, 40))
    assert len(bank) == len(patterns.PATTERNS) * 2 * 2
    assert {b.shape for b in bank} == {(32, 32, 3), (40, 40, 3)}
    assert all(b.dtype == np.float32 and 0 <= b.min() and b.max() <= 1 for b in bank)
    again = arbitrary_style.style_bank(2, seed=0, sizes=(32, 40))
    assert all(np.array_equal(a, b) for a, b in zip(bank, again))
    other = arbitrary_style.style_bank(2, seed=1, sizes=(32, 40))
    assert not np.array_equal(bank[0], other[0])
    first = arbitrary_style.style_bank(1, seed=0, sizes=(32,), names=["mosaic"])
    np.testing.assert_array_equal(first[0], patterns.make_pattern("mosaic", 32, seed=0))  # k = 0: not recoloured


def test_recolor_and_jitter_are_deterministic_and_in_range():
    from artlib import arbitrary_style, patterns
    from artlib.style.color import YIQ_FROM_RGB

    image = patterns.make_pattern("swirls", 32, seed=0)
    out = arbitrary_style.recolor(image, np.random.default_rng(3))
    assert out.shape == image.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    np.testing.assert_array_equal(out, arbitrary_style.recolor(image, np.random.default_rng(3)))
    assert not np.array_equal(out, arbitrary_style.recolor(image, np.random.default_rng(4)))
    assert np.abs(out - image).mean() > 0.01
    unclipped = (out > 0.001).all(-1) & (out < 0.999).all(-1)
    np.testing.assert_allclose((out @ YIQ_FROM_RGB[0])[unclipped], (image @ YIQ_FROM_RGB[0])[unclipped],
                               atol=1e-4)  # a new palette, the same brightness

    batch = np.random.default_rng(0).uniform(0, 1, (3, 16, 16, 3)).astype(np.float32)
    jittered = arbitrary_style.jitter_colors(batch, np.random.default_rng(5))
    assert jittered.shape == batch.shape and jittered.dtype == np.float32
    assert 0 <= jittered.min() and jittered.max() <= 1 and not np.allclose(jittered, batch, atol=1e-3)
    np.testing.assert_array_equal(jittered, arbitrary_style.jitter_colors(batch, np.random.default_rng(5)))
    assert not np.array_equal(jittered, arbitrary_style.jitter_colors(batch, np.random.default_rng(6)))
    np.testing.assert_allclose(arbitrary_style.jitter_colors(batch, np.random.default_rng(5), amount=0.0), batch,
                               atol=1e-6)  # factors of exactly 1: unchanged


def test_pair_batches_depend_only_on_seed_epoch_and_index(photos):
    from artlib import arbitrary_style
    from artlib.errors import DataError

    bank = arbitrary_style.style_bank(1, seed=0, sizes=(64,))
    batches = arbitrary_style.PairBatches(photos, bank, 32, 2, steps_per_epoch=3, seed=0, epoch=0)
    assert len(batches) == 3
    content, style = batches[1]
    assert content.shape == style.shape == (2, 32, 32, 3)
    assert content.dtype == style.dtype == np.float32
    assert all(0 <= x.min() and x.max() <= 1 for x in (content, style))
    again = arbitrary_style.PairBatches(photos, bank, 32, 2, steps_per_epoch=3, seed=0, epoch=0)[1]
    assert np.array_equal(content, again[0]) and np.array_equal(style, again[1])
    for other in (batches[2], arbitrary_style.PairBatches(photos, bank, 32, 2, steps_per_epoch=3, seed=0, epoch=1)[1],
                  arbitrary_style.PairBatches(photos, bank, 32, 2, steps_per_epoch=3, seed=1, epoch=0)[1]):
        assert not np.array_equal(content, other[0]) and not np.array_equal(style, other[1])
    with pytest.raises(DataError, match="no style images"):
        arbitrary_style.PairBatches(photos, [], 32, 2)


def test_recolor_share_gives_style_crops_fresh_palettes_and_leaves_the_content(photos):
    from artlib import arbitrary_style
    from artlib.errors import ArtlibError

    bank = arbitrary_style.style_bank(1, seed=0, sizes=(64,))

    def batch(share, index=1):
        return arbitrary_style.PairBatches(photos, bank, 32, 8, steps_per_epoch=3, seed=0, recolor_share=share)[index]

    plain, none, every, half = batch(0.0), batch(0.0), batch(1.0), batch(0.5)
    assert np.array_equal(plain[1], none[1])
    for content, styles in (every, half):
        assert np.array_equal(content, plain[0])  # the photos' crops and jitter do not change
        assert styles.shape == plain[1].shape and styles.dtype == np.float32
        assert 0 <= styles.min() and styles.max() <= 1
    changed = [not np.array_equal(a, b) for a, b in zip(every[1], plain[1])]
    assert all(changed)
    some = [not np.array_equal(a, b) for a, b in zip(half[1], plain[1])]
    assert 0 < sum(some) < 8, some  # seed 0, index 1: a share of the eight, not none or all
    for a, b in zip(every[1], plain[1]):  # a new palette on the same picture: brightness (YIQ's Y) mostly kept
        assert abs(float((a @ [0.299, 0.587, 0.114]).mean() - (b @ [0.299, 0.587, 0.114]).mean())) < 0.1
    np.testing.assert_array_equal(batch(0.5)[1], half[1])  # deterministic per (seed, epoch, index)
    assert not np.array_equal(batch(1.0, 2)[1], every[1])
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ArtlibError, match="recolor_share"):
            batch(bad)


# ----------------------------------------------------------------------------- training
@pytest.mark.slow
def test_training_lowers_the_loss(trained):
    totals = np.array(trained.history["total"])
    assert len(totals) == 15 and np.isfinite(totals).all()
    assert set(trained.history) == {"step", "total", "content", "style"}
    # Measured (random VGG19, seed 0): the first five steps average 45, the last five 10.
    assert totals[-5:].mean() < 0.6 * totals[:5].mean(), totals
    assert trained.final_step == 15 and trained.stopped == "done"
    assert trained.settings["features"] == "random" and trained.settings["width"] == 8
    run_dir = Path(trained.run_dir)
    assert (run_dir / "settings.json").is_file() and (run_dir / "checkpoints").is_dir()
    assert trained.decoder(np.zeros((1, 2, 2, 512), np.float32)).shape == (1, 16, 16, 3)


@pytest.mark.slow
def test_a_run_dir_with_other_settings_is_refused(trained, encoder):
    from artlib import arbitrary_style
    from artlib.errors import CheckpointError

    before = Path(trained.run_dir, "settings.json").read_text()
    for other in (dict(seed=1), dict(width=4), dict(adversarial_weight=0.1)):
        with pytest.raises(CheckpointError, match="settings"):
            arbitrary_style.train(**train_args(trained.run_dir, encoder, num_steps=16, **other))
    assert Path(trained.run_dir, "settings.json").read_text() == before


def test_bad_training_values_raise_before_any_work(tmp_path, encoder):
    from artlib import arbitrary_style
    from artlib.errors import ArtlibError

    for bad, message in ((dict(num_steps=0), "num_steps.*0"), (dict(image_size=8), "image_size.*8"),
                         (dict(batch_size=0), "batch_size.*0"), (dict(learning_rate=0), "learning_rate.*0"),
                         (dict(adversarial_weight=-1), "adversarial_weight.*-1"), (dict(bank_seeds=0), "bank_seeds"),
                         (dict(recolor_share=1.5), "recolor_share.*1.5")):
        with pytest.raises(ArtlibError, match=message):
            arbitrary_style.train(**train_args(tmp_path / "run", encoder, **bad))
    assert not (tmp_path / "run").exists()


def scenario_resume(out: Path) -> None:
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    from artlib import arbitrary_style

    encoder = arbitrary_style.Encoder("random", "block3_conv1", seed=0, verbose=False)  # frozen: shared

    def run(run_dir: str, num_steps: int):
        # A fresh decoder, optimizer and discriminator every call; only the run directory carries over.
        return arbitrary_style.train(**train_args(out / run_dir, encoder, num_steps=num_steps, steps_per_epoch=4,
                                                  save_every=3, adversarial_weight=0.05, batch_size=1))

    straight = run("straight", 6)
    first = run("resumed", 3)  # stops mid-epoch (4 steps each) at ckpt-3
    first_weights = [v.numpy() for v in first.decoder.variables]
    resumed = run("resumed", 6)
    np.savez(out / "weights.npz", *[v.numpy() for r in (straight, resumed) for v in r.decoder.variables])
    np.savez(out / "first.npz", *first_weights)
    (out / "histories.json").write_text(json.dumps([straight.history, first.history, resumed.history]))


@pytest.fixture(scope="module")
def resume_run(tmp_path_factory) -> Path:
    """The resume scenario's directory, run once in a fresh process (op determinism is process-wide)."""
    out = tmp_path_factory.mktemp("resume")
    run_python(HERE, "resume", out, check=True)
    return out


@pytest.mark.slow
def test_resume_is_bitwise_exact(resume_run):
    arrays = list(np.load(resume_run / "weights.npz").values())
    straight, resumed = arrays[: len(arrays) // 2], arrays[len(arrays) // 2:]
    assert len(straight) >= 10
    for i, (a, b) in enumerate(zip(straight, resumed)):
        assert np.array_equal(a, b), f"variable {i} differs after resume"
    # It really resumed: the second call trained steps 4-6 only, from weights that a fresh 3-step run does
    # not have (a call that ignored the checkpoint would train 1-6 and repeat the first three steps).
    first = list(np.load(resume_run / "first.npz").values())
    assert any(not np.array_equal(a, b) for a, b in zip(first, resumed))
    whole, part1, part2 = json.loads((resume_run / "histories.json").read_text())
    assert whole["step"] == [1, 2, 3, 4, 5, 6] and part1["step"] == [1, 2, 3] and part2["step"] == [4, 5, 6]
    for name in ("total", "discriminator", "adversarial"):
        assert whole[name] == part1[name] + part2[name], name  # the same losses, step for step
    settings = json.loads((resume_run / "resumed" / "settings.json").read_text())
    assert settings["depth"] == "block3_conv1" and settings["steps_per_epoch"] == 4


@pytest.mark.slow
def test_adversarial_term_is_trained_and_logged(resume_run):
    history = json.loads((resume_run / "histories.json").read_text())[0]  # the straight run, adversarial_weight 0.05
    assert {"adversarial", "discriminator", "content", "style", "total"} <= set(history)
    for name in ("adversarial", "discriminator", "total"):
        assert len(history[name]) == 6 and np.isfinite(history[name]).all(), name
    assert min(history["adversarial"]) > 0 and min(history["discriminator"]) > 0
    assert len(set(history["discriminator"])) > 1  # the critic's loss moves: it is being trained
    for step in range(6):
        np.testing.assert_allclose(history["total"][step], history["content"][step] + history["style"][step]
                                   + history["adversarial"][step], rtol=1e-4)
    settings = json.loads((resume_run / "straight" / "settings.json").read_text())
    assert settings["adversarial_weight"] == 0.05
    assert (resume_run / "straight" / "checkpoints").is_dir()


# ----------------------------------------------------------------------------- save and load
def test_save_and_load_in_safe_mode(tmp_path, encoder, model, photo, styles):
    from artlib import arbitrary_style
    from artlib.errors import DataError

    path = arbitrary_style.save_decoder(model.decoder, tmp_path / "decoder.keras", recipe=encoder.describe())
    assert path.with_suffix(".json").is_file()
    assert arbitrary_style.load_recipe(path) == json.loads(json.dumps(encoder.describe()))
    decoder, recipe = arbitrary_style.load_decoder(path, encoder=encoder)
    features = np.random.default_rng(0).normal(size=(1, 3, 4, 512)).astype(np.float32)
    np.testing.assert_array_equal(decoder(features).numpy(), model.decoder(features).numpy())
    loaded = arbitrary_style.load(path, verbose=False)  # the encoder rebuilt from the recipe
    assert loaded.encoder.describe() == encoder.describe()
    expected = model.stylize(photo, styles[0], style_size=None)
    np.testing.assert_array_equal(loaded.stylize(photo, styles[0], style_size=None), expected)
    np.testing.assert_array_equal(
        arbitrary_style.ArbitraryStyle(decoder, encoder, recipe).stylize(photo, styles[0], style_size=None), expected)

    # A decoder made for another encoder (block3 features) is refused by name.
    other = tmp_path / "block3.keras"
    arbitrary_style.save_decoder(perturbed_decoder("block3_conv1"), other,
                                 recipe={**encoder.describe(), "depth": "block3_conv1", "channels": 256})
    with pytest.raises(DataError, match="another encoder.*depth"):
        arbitrary_style.load_decoder(other, encoder=encoder)
    with pytest.raises(DataError, match="256"):
        arbitrary_style.ArbitraryStyle(arbitrary_style.load_decoder(other)[0], encoder)
    (tmp_path / "decoder.json").unlink()
    with pytest.raises(DataError, match="recipe.*missing"):
        arbitrary_style.load_decoder(path, encoder=encoder)
    (tmp_path / "decoder.json").write_text('{"features": "random"}')
    with pytest.raises(DataError, match="which encoder"):
        arbitrary_style.load_decoder(path)
    for text, words in (("[1, 2]", "holds a JSON array"), ('{"features": ', "is not valid JSON")):
        (tmp_path / "decoder.json").write_text(text)  # a list was "which encoder" by luck; damaged text: DataError too
        with pytest.raises(DataError, match=f"decoder.json {words}"):
            arbitrary_style.load_decoder(path)
    (tmp_path / "bad.keras").write_bytes(b"not a zip file")
    (tmp_path / "bad.json").write_text(json.dumps(encoder.describe()))
    with pytest.raises(DataError, match="bad.keras"):
        arbitrary_style.load_decoder(tmp_path / "bad.keras", encoder=encoder)


def test_shipped_decoder_paints_when_present():
    from artlib import arbitrary_style, data

    if not arbitrary_style.SHIPPED_DECODER.is_file():
        pytest.skip(f"no shipped decoder at {arbitrary_style.SHIPPED_DECODER} yet")
    recipe = arbitrary_style.load_recipe()
    model = arbitrary_style.load(verbose=False)
    assert model.encoder.family == recipe["features"]
    photo = data.load_sample_photo("chelsea", max_dim=64)  # held out from training
    out = model.stylize(photo, "pattern:mosaic", style_size=128)
    assert out.shape == photo.shape and 0 <= out.min() and out.max() <= 1
    assert np.abs(out - photo).mean() > 0.02


# ----------------------------------------------------------------------------- export
@pytest.mark.slow
@pytest.mark.parametrize("suffix, runtime", [(".onnx", "onnxruntime"), (".tflite", "ai_edge_litert")])
def test_exported_file_matches_stylize_on_an_odd_size(tmp_path, model, photo, styles, suffix, runtime):
    pytest.importorskip(runtime, reason=f"the export extra's {runtime} is not installed")
    if suffix == ".onnx":
        pytest.importorskip("tf2onnx", reason="the export extra's tf2onnx is not installed")
    from artlib import arbitrary_style

    path = arbitrary_style.export_model(model, tmp_path / f"adain{suffix}")
    assert [p.name for p in tmp_path.iterdir()] == [f"adain{suffix}"]  # no temporary file left
    run = arbitrary_style.load_exported(path)
    expected = model.stylize(photo, styles[0], alpha=0.7, style_size=None)
    painted = run(photo, styles[0], alpha=0.7)
    assert painted.shape == ODD and painted.dtype == np.float32
    assert np.abs(painted - expected).max() < 1e-3
    # Another batch size, style size and α through the same file.
    batch = np.stack([photo, photo[::-1]])
    expected = np.stack([model.stylize(p, styles[1], style_size=None) for p in batch])
    assert np.abs(run(batch, styles[1][None]) - expected).max() < 1e-3
    small = photo[:8, :11]  # padded to 16×16 inside, as stylize pads it
    assert np.abs(run(small, styles[1], 0.3) - model.stylize(small, styles[1], alpha=0.3, style_size=None)).max() < 1e-3
    from artlib.errors import ArtlibError

    with pytest.raises(ArtlibError, match="exists"):
        arbitrary_style.export_model(model, path)
    with pytest.raises(ArtlibError, match="alpha"):
        run(photo, styles[0], alpha=2)


def test_export_refuses_bad_names_and_missing_files(tmp_path, model):
    from artlib import arbitrary_style
    from artlib.errors import ArtlibError

    for name in ("adain.keras", "adain"):
        with pytest.raises(ArtlibError, match="onnx"):
            arbitrary_style.export_model(model, tmp_path / name)
    with pytest.raises(ArtlibError, match="does not exist"):
        arbitrary_style.load_exported(tmp_path / "missing.onnx")
    assert not any(tmp_path.iterdir())


# ----------------------------------------------------------------------------- the CLI
def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    return err


def test_cli_bad_values_are_one_line(tmp_path, capsys):
    from artlib import imageio
    from artlib.cli import main

    photo = tmp_path / "photo.png"
    imageio.save_image(photo, np.full((16, 16, 3), 0.5, np.float32))
    apply = ["arbitrary-style", "apply", str(photo), "--style", "pattern:mosaic", "-o", str(tmp_path / "o.png")]
    for argv, needle in (([*apply, "--alpha", "1.5"], "--alpha: 1.5 must be in [0, 1]"),
                         ([*apply, "--alpha", "nan"], "--alpha: nan"),
                         ([*apply, "--max-dim", "0"], "--max-dim: 0"),
                         (["arbitrary-style", "train", "--steps", "0"], "--steps: 0"),
                         (["arbitrary-style", "train", "--width", "2"], "--width: 2"),
                         (["arbitrary-style", "train", "--batch-size", "0"], "--batch-size: 0"),
                         (["arbitrary-style", "train", "--adversarial-weight", "-1"], "--adversarial-weight"),
                         (["arbitrary-style", "train", "--style-weight", "0"], "--style-weight: 0"),
                         (["arbitrary-style", "train", "--learning-rate", "0"], "--learning-rate: 0"),
                         (["arbitrary-style", "train", "--learning-rate", "inf"], "--learning-rate: inf"),
                         (["arbitrary-style", "train", "--recolor-share", "1.5"], "--recolor-share: 1.5"),
                         (["arbitrary-style", "train", "--bank-seeds", "0"], "--bank-seeds: 0")):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2, argv
        assert needle in _one_line(capsys), argv
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (tmp_path / "taken.png").write_bytes(b"keep me")
    style2 = ["--style", "pattern:waves"]
    for argv, needle in (([*apply, *style2, "--style-weights", "0.5"], "1 weight(s) for 2 style(s)"),
                         ([*apply, "--mask", str(photo)], "--mask needs exactly two"),
                         ([*apply, *style2, "--mask", str(tmp_path / "none.png")], "none.png: no such file"),
                         ([*apply, "--decoder", str(tmp_path / "none.keras")], "none.keras: no such file"),
                         ([*apply[:2], str(tmp_path / "nowhere.jpg"), *apply[3:]], "nowhere.jpg: no such file"),
                         ([*apply[:2], str(tmp_path / "broken.png"), *apply[3:]], "broken.png"),
                         ([*apply[:2], str(photo), str(photo), *apply[3:]], "give a folder"),
                         ([*apply[:-1], str(tmp_path / "taken.png")], "--force"),
                         (["arbitrary-style", "export", "-o", str(tmp_path / "x.png")], ".onnx")):
        assert main(argv) == 2, argv
        assert needle in _one_line(capsys), argv
    assert (tmp_path / "taken.png").read_bytes() == b"keep me"


HELP_CHECK = """
import contextlib, io, sys
from artlib.cli import build_parser
for argv, needle in ((["-h"], "arbitrary-style"), (["arbitrary-style", "-h"], "export"),
                     (["arbitrary-style", "apply", "-h"], "--preserve-color")):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        build_parser().parse_args(argv)
    assert needle in out.getvalue(), (argv, out.getvalue())
assert "tensorflow" not in sys.modules, "TensorFlow imported for --help"
"""


def test_cli_help_lists_the_topic_without_tensorflow():
    run_python("-c", HELP_CHECK, check=True)


def test_cli_train_passes_its_recipe_on(tmp_path, capsys):
    import json

    from artlib.cli import main

    out = tmp_path / "d.keras"
    argv = ["arbitrary-style", "train", "--steps", "1", "--run-dir", str(tmp_path / "run"), "--size", "16",
            "--batch-size", "2", "--width", "4", "--weights", "random", "--style-weight", "30",
            "--learning-rate", "1e-4", "--bank-seeds", "2", "--recolor-share", "0.5", "-o", str(out)]
    assert main(argv) == 0
    assert f"saved {out} at step 1" in capsys.readouterr().out
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert (recipe["style_weight"], recipe["learning_rate"], recipe["width"]) == (30.0, 1e-4, 4)
    assert (recipe["bank_seeds"], recipe["recolor_share"]) == (2, 0.5)


def test_cli_apply_writes_files(tmp_path, encoder, model, capsys):
    from artlib import arbitrary_style, imageio
    from artlib.cli import main

    decoder = arbitrary_style.save_decoder(model.decoder, tmp_path / "d.keras", recipe=encoder.describe())
    photo = tmp_path / "photo.png"
    imageio.save_image(photo, np.random.default_rng(0).uniform(0, 1, (20, 27, 3)))
    out = tmp_path / "painted.png"
    argv = ["arbitrary-style", "apply", str(photo), "--style", "pattern:mosaic", "--decoder", str(decoder),
            "--alpha", "0.8", "--style-size", "32", "-o", str(out)]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0] and "random VGG19" in lines[0], lines
    assert imageio.load_image(out).shape == (20, 27, 3)
    assert main(argv) == 2 and "--force" in _one_line(capsys)  # never replaced unasked
    mask = tmp_path / "mask.png"
    imageio.save_image(mask, np.tile(np.linspace(0, 1, 10, dtype=np.float32), (7, 1)))  # resized to the photo
    second = tmp_path / "second.png"
    imageio.save_image(second, np.full((16, 24, 3), 0.3, np.float32))
    folder = tmp_path / "out"
    assert main(["arbitrary-style", "apply", str(photo), str(second), "--style", "pattern:mosaic", "--style",
                 "pattern:waves", "--mask", str(mask), "--decoder", str(decoder), "--max-dim", "20",
                 "--style-size", "32", "-o", str(folder)]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
    assert imageio.load_image(folder / "photo.png", min_dim=1).shape == (15, 20, 3)
    assert imageio.load_image(folder / "second.png", min_dim=1).shape == (13, 20, 3)
    imageio.save_image(tmp_path / "photo.jpg", np.full((16, 24, 3), 0.3, np.float32))
    clash = ["arbitrary-style", "apply", str(photo), str(tmp_path / "photo.jpg"), "--style", "pattern:mosaic",
             "--decoder", str(decoder), "-o", str(tmp_path / "clash")]
    assert main(clash) == 2  # both would be clash/photo.png: the first result lost
    assert "photo.png' and '" in (err := _one_line(capsys)) and "photo.jpg' would both be written to" in err, err
    assert not (tmp_path / "clash").exists()


# ----------------------------------------------------------------------------- the objective's optimum
def adain_objective(encoder, photo, style_image, image):
    """AdaIN's training loss for one picture, written out again from its parts."""
    from artlib import arbitrary_style

    features = encoder(image[None])
    targets = {n: arbitrary_style.channel_moments(f) for n, f in encoder(style_image[None]).items()}
    target = arbitrary_style.adain(encoder(photo[None])[encoder.depth], *targets[encoder.depth])
    return float(arbitrary_style.content_loss(features[encoder.depth], target)
                 + arbitrary_style.STYLE_WEIGHT * arbitrary_style.moment_loss(features, targets, encoder.layers))


def test_optimize_objective_lowers_adain_loss_from_the_decoders_painting(encoder, model, photo, styles):
    from artlib import arbitrary_style

    start = model.stylize(photo, styles[0], style_size=40)
    found = arbitrary_style.optimize_objective(encoder, photo, styles[0], start=start, evaluations=12)
    assert found.image.shape == ODD and found.image.dtype == np.float32
    assert 0 <= found.image.min() and found.image.max() <= 1
    assert 1 < found.evaluations <= 13  # L-BFGS-B may pass its budget by one evaluation in a line search

    def objective(image):
        return adain_objective(encoder, photo, styles[0], image)

    assert found.start_loss == pytest.approx(objective(start), rel=1e-4)
    assert found.loss == pytest.approx(objective(found.image), rel=1e-3)
    assert found.loss < 0.7 * found.start_loss, (found.start_loss, found.loss)
    again = arbitrary_style.optimize_objective(encoder, photo, styles[0], start=start, evaluations=12)
    np.testing.assert_array_equal(again.image, found.image)  # deterministic


def test_optimize_objective_refuses_bad_values(encoder, photo, styles):
    from artlib import arbitrary_style
    from artlib.errors import ArtlibError

    for kwargs, message in ((dict(evaluations=0), "evaluations"), (dict(style_weight=0), "style_weight"),
                            (dict(start=np.zeros((8, 8, 3), np.float32)), "start image must be the photo's shape")):
        with pytest.raises(ArtlibError, match=message):
            arbitrary_style.optimize_objective(encoder, photo, styles[0], **kwargs)



def test_stylize_refine_takes_the_painting_towards_the_objectives_minimum(encoder, model, photo, styles):
    from artlib.errors import ArtlibError

    plain = model.stylize(photo, styles[0], style_size=40)
    np.testing.assert_array_equal(model.stylize(photo, styles[0], style_size=40, refine=0), plain)
    refined = model.stylize(photo, styles[0], style_size=40, refine=6)
    assert refined.shape == plain.shape == ODD and refined.dtype == np.float32
    assert 0 <= refined.min() and refined.max() <= 1
    before, after = (adain_objective(encoder, photo, styles[0], x) for x in (plain, refined))
    assert after < 0.8 * before, (before, after)
    for kwargs, message in ((dict(refine=-1), "refine must be an integer ≥ 0"),
                            (dict(refine=1.5), "refine must be an integer ≥ 0"),
                            (dict(refine=2, styles=list(styles)), "refine works on one style.*2 style"),
                            (dict(refine=2, alpha=0.5), "refine works on one style.*alpha 0.5")):
        with pytest.raises(ArtlibError, match=message):
            model.stylize(photo, kwargs.pop("styles", styles[0]), style_size=40, **kwargs)


def test_cli_refine_needs_one_style_at_full_strength(tmp_path, capsys):
    from artlib import imageio
    from artlib.cli import main

    photo = tmp_path / "photo.png"
    imageio.save_image(photo, np.full((16, 16, 3), 0.5, np.float32))
    apply = ["arbitrary-style", "apply", str(photo), "--style", "pattern:mosaic", "-o", str(tmp_path / "o.png")]
    with pytest.raises(SystemExit) as exit_info:
        main([*apply, "--refine", "-1"])
    assert exit_info.value.code == 2 and "--refine: -1" in _one_line(capsys)
    for extra in (["--style", "pattern:waves"], ["--alpha", "0.5"]):
        assert main([*apply, "--refine", "3", *extra]) == 2, extra
        assert "--refine works on one --style at --alpha 1 without --mask" in _one_line(capsys), extra
    assert main([*apply, "--style-colours", "--preserve-color"]) == 2
    assert "--style-colours gives the painting the style's colours: not with --preserve-color" in _one_line(capsys)
    assert main([*apply, "--style", "pattern:waves", "--mask", str(photo), "--style-colours"]) == 2
    assert "--style-colours gives the painting the style's colours: not with --preserve-color or --mask" \
        in _one_line(capsys)
    assert not (tmp_path / "o.png").exists()


if __name__ == "__main__":
    {"resume": scenario_resume}[sys.argv[1]](Path(sys.argv[2]))
