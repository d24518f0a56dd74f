"""Tests for artlib.checks: the argument checks every topic's Python API uses."""

from __future__ import annotations

import numpy as np
import pytest

from artlib import checks
from artlib.errors import ArtlibError


def test_positive_int_takes_whole_numbers_and_names_what_it_refuses():
    assert checks.positive_int(3, "n") == 3 and checks.positive_int(3.0, "n") == 3
    assert checks.positive_int(np.int64(2), "n") == 2 and checks.positive_int(16, "size", minimum=16) == 16
    for bad in (0, -1, 2.5, float("nan"), float("inf"), True, "3", None):
        with pytest.raises(ArtlibError, match="n must be a positive integer"):
            checks.positive_int(bad, "n")
    with pytest.raises(ArtlibError, match="size must be an integer ≥ 16; got 8"):
        checks.positive_int(8, "size", minimum=16)


def test_positive_float_refuses_zero_unless_allowed():
    assert checks.positive_float(0.5, "rate") == 0.5 and checks.positive_float(0, "w", zero=True) == 0.0
    for bad in (0, -0.1, float("nan"), float("inf"), False, "1"):
        with pytest.raises(ArtlibError, match="rate must be a positive number"):
            checks.positive_float(bad, "rate")
    with pytest.raises(ArtlibError, match="w must be a number ≥ 0; got -1"):
        checks.positive_float(-1, "w", zero=True)


def test_unit_float_takes_the_closed_interval():
    for good in (0, 0.0, 0.25, 1, np.float32(1.0)):
        assert checks.unit_float(good, "share") == float(good)
    assert isinstance(checks.unit_float(1, "share"), float)
    for bad in (-0.01, 1.01, float("nan"), float("inf"), True, "0.5", None):
        with pytest.raises(ArtlibError, match=r"share must be in \[0, 1\]"):
            checks.unit_float(bad, "share")
    with pytest.raises(ArtlibError, match=r"share must be in \[0, 1\]; got '0.5'"):  # text shows as text
        checks.unit_float("0.5", "share")


def test_unit_float_names_an_open_end_in_its_message():
    assert checks.unit_float(1, "crop", zero=False) == 1.0 and checks.unit_float(0, "dropout", one=False) == 0.0
    for value, name, kwargs, interval in ((0, "crop", dict(zero=False), r"\(0, 1\]"),
                                          (1, "dropout", dict(one=False), r"\[0, 1\)"),
                                          ("x", "dropout", dict(one=False), r"\[0, 1\)"),
                                          (1, "q", dict(zero=False, one=False), r"\(0, 1\)")):
        with pytest.raises(ArtlibError, match=f"{name} must be in {interval}; got {value!r}"):
            checks.unit_float(value, name, **kwargs)


def test_sequence_takes_a_length_of_anything_but_text():
    assert checks.sequence([1, "a", None], "s", "three things", 3) == (1, "a", None)
    for bad in (3, "abc", [1, 2], None):
        with pytest.raises(ArtlibError, match="s must be three things; got"):
            checks.sequence(bad, "s", "three things", 3)


def test_pair_takes_two_of_anything_but_text():
    assert checks.pair((1, "a"), "p", "two things") == (1, "a")
    assert checks.pair(np.array([2.0, 3.0]), "p", "two things") == (2.0, 3.0)
    for bad in (5, None, "ab", b"ab", (1,), [1, 2, 3], np.array(4.0)):  # a 0-d array has no length either
        with pytest.raises(ArtlibError, match=r"p must be two things; got"):
            checks.pair(bad, "p", "two things")


# Entry points that took a number with a bare comparison, float() or int() and so answered text, NaN or a
# list with a TypeError, a ValueError or an OverflowError from inside — or let 1.5 through as 1.
ODD_VALUES = ("0.5", float("nan"), float("inf"), [1, 2])


def _entry_points():
    from artlib import (arbitrary_style, data, diffusion, fast_style, gan, imageio, metrics, plotting, studio, style,
                        training, vae)
    from artlib.diffusion import sampling
    from artlib.style import objective
    from artlib.style.objective import _term_weight
    from artlib.training.loop import _positive

    image = np.full((16, 16, 3), 0.5, np.float32)
    return {
        "guidance": lambda v: sampling._prepare(2, None, v, 0, "ddim_sample", 0, 256),
        "batch_size @ the diffusion samplers": lambda v: sampling._prepare(2, None, None, 0, "ddim_sample", 0, v),
        "max_seconds": lambda v: _positive(max_seconds=v),  # an infinite budget is no budget: allowed
        "dropout": lambda v: gan.build_tutorial_discriminator(dropout=v),
        "max_dim @ load_sample_photo": lambda v: data.load_sample_photo("chelsea", max_dim=v),
        "style_weight": lambda v: _term_weight("style_weight", v, 1.0),
        "final_learning_rate": lambda v: style.run_pyramid_adam(None, image, 2, final_learning_rate=v),
        "size (inches)": lambda v: plotting.image_grid(np.zeros((2, 8, 8)), size=v),
        "ncols": lambda v: plotting.grid_array(np.zeros((2, 8, 8)), ncols=v),
        "pad": lambda v: plotting.grid_array(np.zeros((2, 8, 8)), pad=v),
        "crop_fraction": lambda v: imageio.augment(image, seed=1, crop_fraction=v),
        "blend": lambda v: studio.paint_blend(None, image, image, image, blend=v),
        "num_epochs": lambda v: training.epoch_dataset(np.zeros((8, 2)), 2, seed=0, num_epochs=v, steps_per_epoch=1),
        "warm_up": lambda v: metrics.timed_report(lambda n: np.zeros((n, 8, 8)), 1, np.zeros((2, 8, 8)), warm_up=v),
        "the layer weight of a": lambda v: objective.per_layer_weights(["a", "b"], [v, 1.0]),
        "each blend weight": lambda v: objective.blend_weights([v, 1.0], 2),
        "each style weight": lambda v: arbitrary_style.blend_moments([(0.0, 1.0), (1.0, 1.0)], [v, 1.0]),
        "data_range": lambda v: metrics.psnr(image, image, data_range=v),
        "width": lambda v: arbitrary_style.build_patch_discriminator(width=v),
        "max_dim @ style_bank": lambda v: arbitrary_style.style_bank(max_dim=v),
        "s (the schedule's offset)": lambda v: diffusion.cosine_alpha_bars(s=v),
        "max_beta": lambda v: diffusion.cosine_alpha_bars(max_beta=v),
        "pad_value": lambda v: plotting.grid_array(np.zeros((2, 8, 8)), pad_value=v),
        "grid_size": lambda v: vae.latent_map(vae.build_vae(), grid_size=v),
        "quantile": lambda v: vae.latent_map(vae.build_vae(), quantile=v),
        "size @ measure_fps": lambda v: fast_style.measure_fps(fast_style.build_transformer(4, 1), v),
    }


def test_a_weight_list_of_the_wrong_kind_is_refused_by_name():
    from artlib import arbitrary_style
    from artlib.style import objective

    for weights in (0.5, "ab", [1.0]):  # a number had no len(): a TypeError
        with pytest.raises(ArtlibError, match="layer weights must be one number per layer \\(2\\)"):
            objective.per_layer_weights(["a", "b"], weights)
        with pytest.raises(ArtlibError, match="style weights must be one number per style \\(2\\)"):
            arbitrary_style.blend_moments([(0.0, 1.0), (1.0, 1.0)], weights)


@pytest.mark.parametrize("name", list(_entry_points()))
def test_a_number_argument_refuses_text_nan_inf_and_lists_by_name(name):
    call = _entry_points()[name]
    argument = name.split(" @ ")[0].replace("(", ".").replace(")", ".")  # "NAME @ where" where one name recurs
    values = ("0.5", float("nan"), [1, 2]) if name == "max_seconds" else ODD_VALUES  # inf: no budget, allowed
    if name.startswith("size"):
        values = ("0.5", float("nan"), float("inf"), [1, 2, 3])  # a pair is a size
    for value in values:
        with pytest.raises(ArtlibError, match=f"{argument} must"):
            call(value)
    if name in ("ncols", "pad"):
        with pytest.raises(ArtlibError, match=f"{name} must be"):
            call(1.5)  # not rounded down


def test_seed_value_takes_whole_numbers_from_zero_to_int32():
    assert checks.seed_value(0) == 0 and checks.seed_value(7.0) == 7 and checks.seed_value(np.int64(3)) == 3
    assert checks.seed_value(checks.MAX_SEED) == 2**31 - 1
    for bad in (-1, 0.5, "42", None, float("nan"), [1, 2], 2**31, 2**40):  # 2**31 failed in TensorFlow's int32
        with pytest.raises(ArtlibError, match="seed must be an integer ≥ 0"):
            checks.seed_value(bad)


def _seeded_entry_points():
    """Where a seed enters: each is refused before any work (the models and images here are never used)."""
    from artlib import (arbitrary_style, autoencoder, config, data, diffusion, fast_style, gan, metrics, style,
                        training, translate, vae)

    image = np.full((16, 16, 3), 0.5, np.float32)
    return {
        "config.set_seed": lambda s: config.set_seed(s),
        "autoencoder.build_autoencoder": lambda s: autoencoder.build_autoencoder(seed=s),
        "autoencoder.train": lambda s: autoencoder.train(None, None, seed=s),
        "vae.build_vae": lambda s: vae.build_vae(seed=s),
        "vae.sample": lambda s: vae.sample(None, 4, seed=s),
        "gan.sample": lambda s: gan.sample(None, 4, seed=s),
        "gan.interpolate": lambda s: gan.interpolate(None, seed=s),
        "gan.train_progressive": lambda s: gan.train_progressive(None, seed=s),
        "style.build_network": lambda s: style.build_network("random", seed=s),
        "style.load_style_image": lambda s: style.load_style_image("pattern:waves", seed=s),
        "style.style_transfer": lambda s: style.style_transfer(image, image, seed=s),
        "fast_style.build_transformer": lambda s: fast_style.build_transformer(seed=s),
        "fast_style.train": lambda s: fast_style.train("pattern:waves", seed=s),
        "arbitrary_style.build_decoder": lambda s: arbitrary_style.build_decoder(seed=s),
        "arbitrary_style.style_bank": lambda s: arbitrary_style.style_bank(seed=s),
        "arbitrary_style.train": lambda s: arbitrary_style.train(seed=s),
        "translate.build_cycle_models": lambda s: translate.build_cycle_models(seed=s),
        "diffusion.build_unet": lambda s: diffusion.build_unet(seed=s),
        "diffusion.ddim_sample": lambda s: diffusion.ddim_sample(None, 2, schedule=None, seed=s),
        "metrics.sample_report": lambda s: metrics.sample_report(None, None, seed=s),
        "data.make_dataset": lambda s: data.make_dataset(np.zeros((4, 8, 8)), seed=s),
        "training.shuffled_batches": lambda s: training.shuffled_batches(np.zeros((4, 2)), 2, seed=s),
        "training.epoch_order": lambda s: training.epoch_order(4, seed=s, epoch=0),
        "gan.GANSettings": lambda s: gan.GANSettings(seed=s),
        "diffusion.DiffusionSettings": lambda s: diffusion.DiffusionSettings(seed=s),
        "translate.TranslateSettings": lambda s: translate.TranslateSettings(seed=s),
    }


@pytest.mark.parametrize("entry", list(_seeded_entry_points()))
def test_every_seed_is_checked_where_it_enters(entry):
    call = _seeded_entry_points()[entry]
    for bad in ("42", 0.5, -1, 2**31):  # text failed inside NumPy or Keras; 0.5 was truncated or refused there
        with pytest.raises(ArtlibError, match="seed must be an integer ≥ 0"):
            call(bad)
