"""Numerical faults: every training loop stops on a NaN or Inf loss, naming the step, and keeps its last
good checkpoint; style transfer paints flat, black and white pictures with finite pixels.

Each loop is first trained normally for a few steps, so that a checkpoint (or, for the
``fit``-trained VAE and autoencoder, a backup) exists; then it is called again from that run
directory with a fault, and must raise :class:`~artlib.errors.NonFiniteLossError` naming the
step, keep the newest checkpoint as it was (same step, same tensors) and write nothing else: no
checkpoint, finished model, history or sample grid from the bad weights. The faults:

* ``nan``: a weight becomes NaN just before the first step of the second call (what one bad
  update leaves behind), so that step's loss is NaN: the message names exactly that step;
* ``lr``: the optimizers' learning rate becomes 1e30 at that step (a huge learning rate): the
  weights blow up, and a loss becomes NaN or Inf a step or two later;
* ``hidden``: a weight becomes NaN *after* a step whose loss was finite, the step at which the
  loop saves. It happens: in graph mode TensorFlow's fused convolution + ReLU (oneDNN) turns NaN
  into 0, so NaN weights under a ReLU can leave every loss finite (measured here: a NaN first
  kernel left the VAE's loss finite for whole epochs; a learning rate of 1e30 gave the AdaIN
  decoder NaN weights at a finite loss). Only a check of the weights themselves can stop it.
  Both machineries check for it: ``train_loop`` saves (which refuses NaN weights) before it
  writes the sample grid, and ``fit``'s NaN guard checks the weights at each epoch's end, before
  the epoch is backed up.

The same graph-mode effect hid a decoder that paints NaN pixels from every arbitrary-style loss
(the encoder's first convolution + ReLU zeroes them): its step now reports the total as NaN then.

Training images with NaN pixels cannot be the fault: every loader refuses them (checked below).
Nor can a learning rate changed in the settings: a resumed run with other settings is refused.
So the fault goes in through the topic's ``make_train_step`` (wrapped with ``monkeypatch``) or,
for ``fit``, through a Keras callback (``extra_callbacks``).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

FIRST, EVERY, LAST = 3, 3, 9  # the first call trains to step FIRST (a checkpoint); the second aims at LAST


# ----------------------------------------------------------------------------- what a run directory holds
def snapshot(run_dir: Path) -> dict[str, str]:
    """sha256 of every file in a run directory by relative path, TensorBoard's logs and the lock left out.

    ``settings.json`` counts without the keys a resumed call may change (``num_steps`` …).
    """
    from artlib.training import MAY_CHANGE

    hashes = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        name = str(path.relative_to(run_dir))
        if name.startswith("tensorboard") or name == ".lock":
            continue
        content = path.read_bytes()
        if name == "settings.json":
            content = json.dumps({k: v for k, v in json.loads(content).items() if k not in MAY_CHANGE}).encode()
        hashes[name] = hashlib.sha256(content).hexdigest()
    return hashes


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The files written, rewritten or deleted between two snapshots."""
    return sorted(name for name in {*before, *after} if before.get(name) != after.get(name))


def newest_checkpoint(run_dir: Path) -> tuple[str, dict[str, np.ndarray]]:
    """The newest checkpoint's name (``ckpt-3``) and every tensor in it, read with ``tf.train.load_checkpoint``."""
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    reader = tf.train.load_checkpoint(latest)
    return Path(latest).name, {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


# ----------------------------------------------------------------------------- the faults
def poison(models, optimizers) -> None:
    """A weight becomes NaN: the last trainable one of the first model (its output layer), so the output is NaN."""
    import tensorflow as tf

    weight = next(m for m in models if m.trainable_variables).trainable_variables[-1]
    weight.assign(tf.fill(weight.shape, float("nan")))


def huge_learning_rate(models, optimizers) -> None:
    """Every optimizer's learning rate becomes 1e30."""
    for optimizer in optimizers:
        optimizer.learning_rate = 1e30


#: fault: (what it does, before or after which step of the second call: 1 = step FIRST + 1)
FAULTS = {"nan": (poison, "before", 1), "lr": (huge_learning_rate, "before", 1), "hidden": (poison, "after", EVERY)}


def faulty(make_train_step, fault: str):
    """``make_train_step`` whose step has ``fault`` at its place in the call."""
    import keras

    action, when, at = FAULTS[fault]

    def make(*args, **kwargs):
        step = make_train_step(*args, **kwargs)
        given = [*args, *kwargs.values()]
        models = [m for g in given for m in (g if isinstance(g, tuple) else (g,)) if isinstance(m, keras.Model)]
        optimizers = [g for g in given if isinstance(g, keras.optimizers.Optimizer)]
        calls = []

        def step_with_fault(batch):
            calls.append(None)
            if (when, len(calls)) == ("before", at):
                action(models, optimizers)
            losses = step(batch)
            if (when, len(calls)) == ("after", at):
                action(models, optimizers)
            return losses

        return step_with_fault

    return make


def fit_fault(fault: str):
    """The same fault as a ``fit`` callback in epoch 2, the second call's first: before its batch ``at``
    (``"before"``), or after its last batch, where ``fit`` backs up (``"after"``)."""
    import keras

    action, when, at = FAULTS[fault]

    class Fault(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == 1 and (when, batch + 1) == ("before", at):
                action([self.model], [self.model.optimizer])

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and when == "after" and batch + 1 == self.params["steps"]:
                action([self.model], [self.model.optimizer])

    return Fault()


# ----------------------------------------------------------------------------- the train_loop loops
def run_gan(run_dir, num_steps):
    from test_gan import tiny_train

    tiny_train(run_dir, num_steps)  # 48 images, batches of 16: a checkpoint every 3 steps


def run_translate(run_dir, num_steps):
    from test_translate import tiny_train

    tiny_train(run_dir, num_steps)  # 12 images of each class, batches of 4: a checkpoint every 3 steps


def run_diffusion(run_dir, num_steps):
    from test_diffusion import tiny_train

    tiny_train(run_dir, num_steps)  # 24 images, batches of 8: a checkpoint every 3 steps


def run_fast_style(run_dir, num_steps):
    from artlib import fast_style, patterns
    from test_fast_style import tiny_extractor

    fast_style.train(patterns.make_pattern("swirls", 32, seed=0), num_steps=num_steps, run_dir=run_dir,
                     image_size=32, batch_size=1, width=2, num_blocks=1, content=["astronaut"],
                     extractor=tiny_extractor(), save_every=EVERY, quiet=True, verbose=False)


def run_arbitrary_style(run_dir, num_steps):
    from artlib import arbitrary_style
    from test_arbitrary_style import train_args

    encoder = arbitrary_style.Encoder("random", seed=0, verbose=False)
    arbitrary_style.train(**train_args(run_dir, encoder, num_steps=num_steps, image_size=16, batch_size=1, width=4,
                                       save_every=EVERY))


#: loop: (the module whose make_train_step the loop calls, how to run it)
LOOPS = {
    "gan": ("artlib.gan.run", run_gan),
    "translate": ("artlib.translate.run", run_translate),
    "diffusion": ("artlib.diffusion.train", run_diffusion),
    "fast_style": ("artlib.fast_style.train", run_fast_style),
    "arbitrary_style": ("artlib.arbitrary_style.train", run_arbitrary_style),
}

#: The faults each loop is tried with: a NaN weight in every one; a huge learning rate in the GAN (Adam's step
#: is about the learning rate, so 1e30 blows the weights up) and in the cheapest loop.
LOOP_FAULTS = {"gan": ("nan", "lr"), "translate": ("nan",), "diffusion": ("nan",), "fast_style": ("nan", "lr"),
               "arbitrary_style": ("nan",)}
SLOW = ("translate", "diffusion", "arbitrary_style")  # their first runs (sample grids, saved models) take longest

def diverge(loop: str, fault: str, first_run: Path, run_dir: Path, monkeypatch) -> None:
    """Run ``loop`` on from a copy of ``first_run`` with ``fault``; check the error, the checkpoint and the files."""
    from artlib.errors import NonFiniteLossError

    shutil.copytree(first_run, run_dir)
    before, (name, tensors) = snapshot(run_dir), newest_checkpoint(run_dir)
    assert name == f"ckpt-{FIRST}"
    module_name, run = LOOPS[loop]
    module = importlib.import_module(module_name)
    with monkeypatch.context() as patch:
        patch.setattr(module, "make_train_step", faulty(module.make_train_step, fault))
        with pytest.raises(NonFiniteLossError) as info:
            run(run_dir, LAST)
    message = str(info.value)
    step = int(re.search(r"at step (\d+)\b", message)[1])
    by_loss = re.match(r"\w+ became (nan|inf|-inf) at step \d+\.", message)  # names the loss and its value
    by_weight = re.match(r"variable \S+ holds NaN or Inf at step \d+; it was not saved", message)  # at a save
    assert {"nan": by_loss, "lr": by_loss or by_weight, "hidden": by_weight}[fault], message
    expected = {"nan": [FIRST + 1], "lr": [FIRST + 2, FIRST + 3], "hidden": [FIRST + EVERY]}[fault]
    assert step in expected, message  # with "lr", step FIRST + 1 still began from good weights
    assert f"ckpt-{FIRST}" in message, message  # the kept checkpoint, by name

    kept_name, kept = newest_checkpoint(run_dir)
    assert kept_name == name and kept.keys() == tensors.keys()
    assert all(np.array_equal(kept[k], v) for k, v in tensors.items())
    assert changed_files(before, snapshot(run_dir)) == [], message  # nothing written from the bad weights


@pytest.mark.parametrize("loop", [pytest.param(loop, marks=[pytest.mark.slow] if loop in SLOW else [])
                                  for loop in sorted(LOOPS)])
def test_a_diverging_loop_stops_naming_the_step_and_keeps_the_last_good_checkpoint(loop, tmp_path, monkeypatch):
    if loop == "diffusion":  # its sample grid, a grey stub: 20 DDIM steps traced per run cost half of the first run
        grey = lambda model, n, **options: np.full((n, 28, 28, 1), 0.5, np.float32)  # noqa: E731
        monkeypatch.setattr(importlib.import_module("artlib.diffusion.sampling"), "ddim_sample", grey)
    LOOPS[loop][1](tmp_path / "first", FIRST)  # trained normally: ckpt-FIRST
    for fault in LOOP_FAULTS[loop]:
        diverge(loop, fault, tmp_path / "first", tmp_path / fault, monkeypatch)


def test_nan_weights_behind_a_finite_loss_are_not_saved_and_nothing_is_written(tmp_path, monkeypatch):
    run_fast_style(tmp_path / "first", FIRST)
    diverge("fast_style", "hidden", tmp_path / "first", tmp_path / "hidden", monkeypatch)


# ----------------------------------------------------------------------------- the fit loops (VAE, autoencoder)
class Interrupted(Exception):
    """What stops the first call after its first epoch, as Ctrl-C would."""


def interrupt_after_first_epoch():
    """A callback that raises :class:`Interrupted` as epoch 2 begins, once epoch 1 is backed up."""
    import keras

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise Interrupted

    return Interrupt()


def fit_vae(run_dir, callback):
    from artlib import vae
    from test_vae import tiny_images

    vae.train(vae.build_vae(latent_dim=2, filters=(4, 8)), tiny_images(16), num_epochs=3, run_dir=run_dir,
              batch_size=8, steps_per_execution=1, verbose=0, extra_callbacks=[callback])


def fit_autoencoder(run_dir, callback):
    from artlib import autoencoder
    from test_autoencoder import shapes

    autoencoder.train(autoencoder.build_denoiser((16, 16, 1), filters=2, depth=1), shapes(16, size=16),
                      num_epochs=3, run_dir=run_dir, batch_size=8, steps_per_execution=1, verbose=0,
                      extra_callbacks=[callback])


FIT_LOOPS = {"vae": fit_vae, "autoencoder": fit_autoencoder}

@pytest.mark.parametrize("loop, fault", [
    ("vae", "nan"), ("autoencoder", "nan"), ("vae", "lr"),  # the autoencoder's rate is a schedule: not settable
    ("vae", "hidden"),
])
def test_a_diverging_fit_stops_naming_epoch_and_batch_and_keeps_the_last_good_backup(loop, fault, tmp_path):
    from artlib.errors import NonFiniteLossError

    run = FIT_LOOPS[loop]
    with pytest.raises(Interrupted):
        run(tmp_path, interrupt_after_first_epoch())
    before = snapshot(tmp_path)
    assert "backup/epoch-1.weights.h5" in before

    with pytest.raises(NonFiniteLossError) as info:
        run(tmp_path, fit_fault(fault))
    message = str(info.value)
    after = snapshot(tmp_path)
    if fault == "hidden":  # the claim is about the backup (the epoch's losses were finite: history may keep them)
        before, after = ({k: v for k, v in files.items() if k.startswith("backup/")} for files in (before, after))
    assert changed_files(before, after) == [], message  # the epoch-1 backup, as it was
    if fault == "hidden":  # whatever stops it, it must stop in epoch 2, before that epoch's backup
        assert "epoch 2" in message, message
    else:
        batch = {"nan": "1", "lr": "[12]"}[fault]
        assert re.match(rf"\w+ became (nan|inf|-inf) in epoch 2, batch {batch}\. The last backup", message), message


# ----------------------------------------------------------------------------- NaN pixels never get in
@pytest.mark.parametrize("loop", ["gan", "translate", "diffusion", "vae", "autoencoder", "fast_style"])
def test_images_with_nan_pixels_are_refused_before_training(loop, tmp_path):
    from artlib import autoencoder, diffusion, fast_style, gan, translate, vae
    from artlib.errors import ImageError

    images = np.full((48, 28, 28), 0.5, np.float32)
    images[7, 3, 3] = np.nan
    labels = np.repeat([7, 9], 24)
    calls = {
        "gan": lambda: gan.train(tmp_path, {"batch_size": 16}, images=images, num_steps=1),
        "translate": lambda: translate.train(tmp_path, {"batch_size": 4}, images=images, labels=labels, num_steps=1),
        "diffusion": lambda: diffusion.train(tmp_path, {"batch_size": 8}, images=images, labels=labels, num_steps=1),
        "vae": lambda: vae.train(vae.build_vae(latent_dim=2, filters=(4, 8)), images, num_epochs=1, run_dir=tmp_path),
        "autoencoder": lambda: autoencoder.train(autoencoder.build_denoiser((28, 28, 1), filters=2, depth=1), images,
                                                 run_dir=tmp_path),
        "fast_style": lambda: fast_style.train(np.dstack([images[7]] * 3), run_dir=tmp_path, num_steps=1),
    }
    with pytest.raises(ImageError, match="NaN"):
        calls[loop]()
    assert not list(tmp_path.iterdir())  # refused before anything was written


# ----------------------------------------------------------------------------- flat pictures stay finite
FLAT = {"grey": 0.5, "black": 0.0, "white": 1.0}


def flat(level: float, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    """A picture of one grey level, ``H×W×3`` float32."""
    return np.full((*size, 3), level, np.float32)


def assert_picture(image: np.ndarray, shape: tuple[int, ...]) -> None:
    """The shape asked for, every pixel finite and in [0, 1]."""
    assert image.shape == shape and np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1


@pytest.mark.parametrize("content", sorted(FLAT))
def test_style_transfer_of_a_flat_picture_is_finite(content):
    """Gatys transfer of a flat picture, with a flat style (zero-variance Gram targets) or a pattern,
    each colour control (luminance matching, colour matching of a flat style: a singular covariance)."""
    from artlib import style
    from test_style import LAYERS

    extractor = style.FeatureExtractor("random", seed=0, verbose=False, **LAYERS)  # calibrated on the flat picture
    for style_image, optimizer, preserve_color in [(flat(FLAT[content]), "adam", "match"),
                                                   ("pattern:mosaic", "lbfgs", "luminance")]:
        result = style.style_transfer(flat(FLAT[content]), style_image, max_dim=64, steps=5, optimizer=optimizer,
                                      preserve_color=preserve_color, extractor=extractor, verbose=False)
        assert_picture(result.image, (48, 64, 3))
        assert all(np.isfinite(v) for record in result.history for v in record.values())
        assert all(np.isfinite(v) for v in result.metrics.values()), result.metrics


def test_fast_and_arbitrary_style_paint_flat_pictures_finite():
    """The shipped fast-style network and a tiny AdaIN model (a flat style: σ = 0 in every channel)."""
    from artlib import arbitrary_style, fast_style
    from test_arbitrary_style import perturbed_decoder

    network = fast_style.load_network("swirls")
    model = arbitrary_style.ArbitraryStyle(perturbed_decoder(), arbitrary_style.Encoder("random", verbose=False))
    for level in FLAT.values():
        assert_picture(fast_style.stylize_image(network, flat(level)), (48, 64, 3))
        for style_level in FLAT.values():
            for preserve_color in (False, True):
                painted = model.stylize(flat(level), flat(style_level, (32, 32)), preserve_color=preserve_color)
                assert_picture(painted, (48, 64, 3))
