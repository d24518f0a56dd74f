"""A count that would not fit in memory is refused before anything is allocated (a notebook's kernel would die).

The samplers a learner calls with a count (``gan.sample``, ``gan.interpolate``, ``vae.sample``,
``vae.interpolate``, ``vae.latent_map``, ``diffusion.ddim_sample``, ``diffusion.ddpm_sample``) and style
transfer with its size check what their arrays would need against :func:`artlib.checks.memory_bytes`; the
tests pretend the machine is small.
"""

from __future__ import annotations

import numpy as np
import pytest

MIB = 2**20


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 16 MiB of memory: 8 MiB of arrays at most."""
    from artlib import checks

    monkeypatch.setattr(checks, "memory_bytes", lambda: 16 * MIB)


def test_memory_bytes_is_this_machines_memory_or_its_containers_limit():
    import os

    from artlib import checks

    total = checks.memory_bytes()
    assert total is not None and 256 * MIB < total <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_fits_in_memory_refuses_more_than_half_naming_the_work_sizes_and_fix(small_machine):
    from artlib import ArtlibError, checks

    checks.fits_in_memory(8 * MIB, "eight", "fine")  # exactly half: allowed
    with pytest.raises(ArtlibError, match=r"^work\(n=9\) would need about 9 MiB of memory, more than half of this "
                                          r"machine's 16 MiB; ask for less$"):
        checks.fits_in_memory(9 * MIB, "work(n=9)", "ask for less")
    with pytest.raises(ArtlibError, match=r"about 1\.5 GiB"):
        checks.fits_in_memory(1.5 * 2**30, "work", "fix")


def test_an_unknown_memory_size_refuses_nothing(monkeypatch):
    from artlib import checks

    monkeypatch.setattr(checks, "memory_bytes", lambda: None)
    checks.fits_in_memory(10**15, "a petabyte", "never said")


def test_gan_samplers_refuse_a_count_that_would_not_fit(small_machine):
    from artlib import ArtlibError, gan

    generator = gan.build_generator(width=8)
    assert gan.sample(generator, 100).shape == (100, 28, 28)  # 0.6 MiB: fine
    with pytest.raises(ArtlibError, match=r"gan\.sample\(n=2,000\) would need about 14 MiB .* with other seeds"):
        gan.sample(generator, 2000)
    with pytest.raises(ArtlibError, match=r"gan\.interpolate\(num_rows=40, num_steps=50\) would need"):
        gan.interpolate(generator, num_rows=40, num_steps=50)


def test_vae_samplers_refuse_a_count_that_would_not_fit_and_decode_in_batches(small_machine, monkeypatch):
    from artlib import ArtlibError, vae
    from artlib.vae import measure

    model = vae.build_vae(2, filters=(4, 8))
    calls = []
    decode = type(model).decode
    monkeypatch.setattr(type(model), "decode", lambda self, z: calls.append(len(z)) or decode(self, z))
    images = vae.sample(model, 600, seed=1)
    assert images.shape == (600, 28, 28, 1) and calls == [256, 256, 88]  # DECODE_BATCH at a time
    monkeypatch.setattr(measure, "DECODE_BATCH", 600)
    np.testing.assert_allclose(vae.sample(model, 600, seed=1), images, atol=1e-6)  # in one call: the same images
    for call, said in ((lambda: vae.sample(model, 2000), r"vae\.sample\(num_images=2,000\)"),
                       (lambda: vae.latent_map(model, grid_size=45), r"vae\.latent_map\(grid_size=45\)"),
                       (lambda: vae.interpolate(model, np.zeros((28, 28)), np.ones((28, 28)), num_steps=2000),
                        r"vae\.interpolate\(num_steps=2,000\)")):
        with pytest.raises(ArtlibError, match=said + " would need about"):
            call()


def test_diffusion_samplers_refuse_a_count_or_path_that_would_not_fit(small_machine):
    from artlib import ArtlibError, diffusion

    schedule = diffusion.NoiseSchedule.cosine(50)
    # The count is checked first: no model is needed to be refused.
    with pytest.raises(ArtlibError, match=r"diffusion\.ddim_sample\(n=1,000\) would need .* other seeds$"):
        diffusion.ddim_sample(None, 1000, schedule=schedule, steps=5)
    with pytest.raises(ArtlibError, match=r"diffusion\.ddpm_sample\(n=1,000\) would need"):
        diffusion.ddpm_sample(None, 1000, schedule=schedule)
    # 100 images fit, but not with a path of 50 steps kept for each
    with pytest.raises(ArtlibError, match=r"ddim_sample\(n=100\) would need .*, keeping a shorter path$"):
        diffusion.ddim_sample(None, 100, schedule=schedule, steps=50, return_path=True)
    with pytest.raises(ArtlibError, match="batch_size must be a positive integer; got 0"):
        diffusion.ddim_sample(None, 1, schedule=schedule, steps=5, batch_size=0)


def test_style_transfer_refuses_a_size_beyond_memory_before_loading_anything(small_machine, monkeypatch):
    from artlib import ArtlibError, style
    from artlib.style import transfer

    def never(*args, **kwargs):
        raise AssertionError("a picture was loaded or made before the size was checked")

    monkeypatch.setattr(transfer, "load_style_image", never)  # every picture, content and style, comes through it
    with pytest.raises(ArtlibError, match=r"^style transfer at max_dim=64 px would need about 15 MiB of memory, "
                                          r"more than half of this machine's 16 MiB; ask for a smaller max_dim "
                                          r"\(--size on the command line\): about 46 px fits here$"):
        style.style_transfer(np.zeros((48, 64, 3), np.float32), "pattern:swirls", max_dim=64)
    with pytest.raises(AssertionError, match="loaded or made"):  # 46 px passes the check
        style.style_transfer(np.zeros((48, 64, 3), np.float32), "pattern:swirls", max_dim=46)


def test_stylize_on_the_command_line_checks_the_size_before_loading(small_machine, monkeypatch, tmp_path, capsys):
    from PIL import Image

    from artlib import style
    from artlib.cli import main

    Image.new("RGB", (64, 48)).save(tmp_path / "photo.png")

    def never(*args, **kwargs):
        raise AssertionError("a picture was loaded or made before the size was checked")

    monkeypatch.setattr(style, "load_style_image", never)  # what the command loads its pictures with
    assert main(["stylize", str(tmp_path / "photo.png"), "pattern:swirls", "--size", "64",
                 "-o", str(tmp_path / "out.png")]) == 2
    assert capsys.readouterr().err == ("error: style transfer at max_dim=64 px would need about 15 MiB of memory, "
                                       "more than half of this machine's 16 MiB; ask for a smaller max_dim (--size "
                                       "on the command line): about 46 px fits here\n")
