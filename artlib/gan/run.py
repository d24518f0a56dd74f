"""GAN runs: the recipe (:class:`GANSettings`), building and loading its models, and :func:`train` into a run directory.

One :func:`train` serves every variant a recipe can name: the plain GAN, a conditional
one, a creative adversarial network (``creative_weight`` > 0), a GAN on some classes only
(``classes``) and a GAN that starts from another run's weights (``init_from``, with the
discriminator's first ``freeze_d`` convolutions frozen: :func:`artlib.gan.finetune`).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from artlib import config  # sets KERAS_BACKEND before Keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402

from artlib import modelio, training  # noqa: E402
from artlib.atomic import atomic_write_text  # noqa: E402
from artlib.classes import class_list  # noqa: E402
from artlib.errors import ArtlibError, CheckpointError, DataError  # noqa: E402
from artlib.checks import positive_float, positive_int, seed_value, unit_float  # noqa: E402
from artlib.gan.losses import check_loss  # noqa: E402
from artlib.gan.models import (IMAGE_SHAPE, build_discriminator, build_generator,  # noqa: E402
                               build_tutorial_discriminator, build_tutorial_generator, check_upsample)
from artlib.gan.sampling import sample, to_minus_one_one  # noqa: E402
from artlib.gan.step import make_train_step  # noqa: E402
from artlib.latent import latents  # noqa: E402

__all__ = ["PRETRAINED_DIR", "GANSettings", "tutorial_settings", "build_models", "load_settings",
           "load_generator", "train", "check_classes", "D_CONVOLUTIONS"]

#: The shipped generator (made by ``python -m artlib gan train``; see data/README.md).
PRETRAINED_DIR = config.PRETRAINED_DIR / "gan"

#: The name of a run directory's settings file before every topic called it ``settings.json``.
OLD_SETTINGS_NAME = "gan.json"


# ----------------------------------------------------------------------------- the recipe
class GANSettings(dict):
    """What a run directory's ``settings.json`` holds: the recipe, enough to rebuild the models.

    Args:
        **values: Any of :attr:`DEFAULTS`' keys; the rest keep their defaults.

    Raises:
        ArtlibError: An unknown key, an unknown loss or architecture, or a size, rate or
            count that makes no sense (0 or below, a ``beta_1`` outside [0, 1)).
    """

    DEFAULTS = {"arch": "artlib", "loss": "bce", "conditional": False, "latent_dim": 64, "batch_size": 64,
                "learning_rate": 2e-4, "beta_1": 0.5, "num_epochs": 20, "seed": 0, "gp_weight": 10.0,
                "num_images": None, "width": 64, "classes": None, "creative_weight": 0.0, "creative_warmup": 0,
                "init_from": None, "freeze_d": 0, "creative_start": 0, "upsample": "resize"}
    #: What a run written before a key existed trained with, where that is not the key's default now.
    BEFORE = {"upsample": "transpose"}
    #: What the keys added after the first runs mean; a run directory written before them is read with these.
    #: ``classes``: train on these Fashion-MNIST classes only (None: all ten); ``num_images`` then counts
    #: images of those classes. ``creative_weight``: the style-ambiguity weight of a creative adversarial
    #: network (0: the plain GAN; above 0 the discriminator gets a class head); ``creative_warmup``: steps
    #: over which that weight rises linearly from 0 (0: at once); ``creative_start``: steps of the plain game
    #: (the class head learning, no ambiguity term) before that (0: none). ``init_from``: a GAN run
    #: directory whose newest checkpoint gives the starting weights (fine-tuning). ``freeze_d``: how many of
    #: the discriminator's convolutions, counted from the image, are not trained (FreezeD). ``upsample``: how
    #: artlib's generator doubles its feature maps (:func:`~artlib.gan.build_generator`; runs written before
    #: the key used transposed convolutions, and are read so).

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(self.DEFAULTS)
        if unknown:
            raise ArtlibError(f"unknown GAN settings {sorted(unknown)}; known: {sorted(self.DEFAULTS)}")
        super().__init__({**self.DEFAULTS, **values})
        check_loss(self["loss"])
        if self["arch"] not in ("artlib", "tutorial"):
            raise ArtlibError(f"arch must be 'artlib' or 'tutorial', not {self['arch']!r}")
        for name in ("latent_dim", "batch_size", "num_epochs", "width"):  # stored as Python numbers: JSON-able
            self[name] = positive_int(self[name], name)
        self["seed"] = seed_value(self["seed"])
        if self["num_images"] is not None:
            self["num_images"] = positive_int(self["num_images"], "num_images")
        self["learning_rate"] = positive_float(self["learning_rate"], "learning_rate")
        self["gp_weight"] = positive_float(self["gp_weight"], "gp_weight", zero=True)
        self["beta_1"] = unit_float(self["beta_1"], "beta_1", one=False)
        if self["classes"] is not None:
            self["classes"] = check_classes(self["classes"])
        self["creative_weight"] = positive_float(self["creative_weight"], "creative_weight", zero=True)
        for name in ("creative_warmup", "creative_start"):
            if isinstance(self[name], bool) or not isinstance(self[name], numbers.Integral) or self[name] < 0:
                raise ArtlibError(f"{name} must be a whole number of steps ≥ 0; got {self[name]!r}")
            self[name] = int(self[name])
        if not self["creative_weight"]:
            self["creative_warmup"] = self["creative_start"] = 0  # the plain GAN, whatever the sweep around it says
        if self["creative_weight"] and (self["conditional"] or self["arch"] != "artlib"):
            raise ArtlibError("a creative GAN (creative_weight > 0) is unconditional and uses arch 'artlib'")
        freeze_d = self["freeze_d"]
        if isinstance(freeze_d, bool) or not isinstance(freeze_d, numbers.Integral) or \
                not 0 <= freeze_d <= D_CONVOLUTIONS:
            raise ArtlibError(f"freeze_d must be a whole number from 0 to {D_CONVOLUTIONS} (the discriminator's "
                              f"convolutions); got {freeze_d!r}")
        self["freeze_d"] = int(freeze_d)
        if freeze_d and not self["init_from"]:
            raise ArtlibError("freeze_d freezes layers of a trained discriminator: also give init_from")
        if self["init_from"] is not None:
            self["init_from"] = str(self["init_from"])
        check_upsample(self["upsample"])
        if self["arch"] == "tutorial":
            self["upsample"] = "transpose"  # the tutorial's generator has transposed convolutions, whatever was asked

    @classmethod
    def from_file(cls, values: Mapping[str, Any]) -> GANSettings:
        """Settings as a run directory wrote them: a key it does not have means what it meant then (:attr:`BEFORE`)."""
        return cls(**{**cls.BEFORE, **values})


#: Convolutions in artlib's discriminator (:func:`build_discriminator`), the most ``freeze_d`` can freeze.
D_CONVOLUTIONS = 2


def check_classes(classes: Any) -> list[int]:
    """Fashion-MNIST classes by number or name, checked: a non-empty list of different classes, as sorted numbers.

    Args:
        classes: A list, tuple or array of class numbers 0–9 or names (see :mod:`artlib.classes`).

    Returns:
        The sorted list of numbers.

    Raises:
        ArtlibError: Empty, repeated, or not Fashion-MNIST classes.
    """
    return class_list(classes)


def tutorial_settings(**overrides: Any) -> GANSettings:
    """The TF DCGAN tutorial's recipe: its models, latent 100, Adam(1e-4), batch 256.

    Args:
        **overrides: Settings to change (e.g. ``loss``, ``conditional``, ``seed``).

    Returns:
        The settings.
    """
    return GANSettings(**{"arch": "tutorial", "latent_dim": 100, "learning_rate": 1e-4, "beta_1": 0.9,
                          "batch_size": 256, **overrides})


def build_models(settings: Mapping[str, Any]) -> tuple[keras.Model, keras.Model]:
    """The generator and discriminator a :class:`GANSettings` names, built under the strategy's scope.

    Args:
        settings: The recipe; its ``seed`` seeds the initial weights.

    Returns:
        ``(generator, discriminator)``.
    """
    with training.get_strategy().scope():
        keras.utils.set_random_seed(int(settings["seed"]))  # the initial weights
        if settings["arch"] == "tutorial":
            return (build_tutorial_generator(settings["latent_dim"], conditional=settings["conditional"]),
                    build_tutorial_discriminator(conditional=settings["conditional"]))
        return (build_generator(settings["latent_dim"], conditional=settings["conditional"], width=settings["width"],
                                upsample=settings["upsample"]),
                build_discriminator(conditional=settings["conditional"], width=settings["width"],
                                    class_head=bool(settings.get("creative_weight"))))


# ----------------------------------------------------------------------------- loading a run
def load_settings(run_dir: str | Path) -> GANSettings:
    """Read ``run_dir/settings.json`` (or the ``gan.json`` of a run directory from before it was so named).

    Args:
        run_dir: A run directory written by :func:`train`.

    Returns:
        The settings it was trained with.

    Raises:
        CheckpointError: The folder is not a GAN run directory, or its settings file is invalid.
    """
    path = training.RunDir(run_dir).settings_file
    if not path.is_file() and (Path(run_dir) / OLD_SETTINGS_NAME).is_file():
        path = Path(run_dir) / OLD_SETTINGS_NAME
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a GAN run directory (no settings.json); train one with "
                              f"`python -m artlib gan train --run-dir {run_dir}`")
    try:
        return GANSettings.from_file(training.read_json_object(path, "retrain into a new --run-dir"))
    except (TypeError, ArtlibError) as err:
        raise CheckpointError(f"{path} is not a valid GAN settings file ({err}); retrain into a new --run-dir") from err


def _generator_problem(model: Any) -> str | None:
    """None if ``model`` draws 28×28×1 images from z (and labels), else what is wrong with it."""
    inputs, outputs = getattr(model, "inputs", None) or [], getattr(model, "outputs", None) or []
    shapes = [tuple(o.shape[1:]) for o in outputs]
    if len(inputs) not in (1, 2) or shapes != [IMAGE_SHAPE]:
        return f"it maps {[tuple(i.shape) for i in inputs]} to {shapes}, not z to one batch of 28×28×1 images"
    return None


def load_generator(run_dir: str | Path | None = None) -> keras.Model:
    """Load ``generator.keras`` from a run directory (default: the shipped one), with ``safe_mode=True``.

    Args:
        run_dir: A run directory written by :func:`train`; None for :data:`PRETRAINED_DIR`.

    Returns:
        The generator, ``z (N, latent_dim)[, labels (N,)] -> images (N, 28, 28, 1)`` in [-1, 1].

    Raises:
        CheckpointError: No finished generator in ``run_dir``, or a corrupt one, or another kind of model.
        DataError: The shipped generator is missing or corrupt.
    """
    run_dir, error, fix = modelio.run_source(run_dir, PRETRAINED_DIR, what="GAN generator", kind="GAN",
                                             train="python -m artlib gan train")
    return modelio.load_model(run_dir / "generator.keras", what="GAN generator", fix=fix,
                              check=_generator_problem, error=error)


def _real_images(settings: Mapping[str, Any], images: np.ndarray | None,
                 labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The training set in [-1, 1] (N, 28, 28, 1) and its labels: ``images`` or Fashion-MNIST's, cut to ``num_images``."""
    if images is None:
        from artlib import data

        (images, labels), _ = data.load_fashion_mnist()
    needs_labels = settings["conditional"] or settings["creative_weight"] or settings["classes"] is not None
    if needs_labels and labels is None:
        raise DataError("a conditional or creative GAN, or one on some classes, needs labels for its training images")
    if labels is not None and len(labels) != len(images):
        raise DataError(f"{len(labels)} labels for {len(images)} training images; pass one label per image")
    if settings["classes"] is not None:
        chosen = np.isin(np.asarray(labels), settings["classes"])
        images, labels = images[chosen], np.asarray(labels)[chosen]
    if settings["num_images"]:
        if len(images) < settings["num_images"]:
            raise DataError(f"num_images is {settings['num_images']} but only {len(images)} training images "
                            f"{'of classes ' + str(settings['classes']) + ' ' if settings['classes'] else ''}are there")
        images, labels = images[: settings["num_images"]], None if labels is None else labels[: settings["num_images"]]
    if len(images) < settings["batch_size"]:
        raise DataError(f"{len(images)} training images are fewer than one batch of {settings['batch_size']}")
    return to_minus_one_one(images), labels


# ----------------------------------------------------------------------------- the run directory
def train(run_dir: str | Path, settings: GANSettings | None = None, *, images: np.ndarray | None = None,
          labels: np.ndarray | None = None, num_steps: int | None = None, grid_size: int = 64,
          quiet: bool | None = None, max_seconds: float | None = None) -> training.TrainResult:
    """Train a GAN into ``run_dir`` with ``training.train_loop``, resuming exactly where an earlier call stopped.

    Writes the run directory of :class:`training.RunDir`: ``settings.json`` (the recipe),
    ``checkpoints/`` (every epoch, or every 250 steps if sooner; every 50 steps when an epoch is one
    batch, as for fine-tuning on 100 images), ``tensorboard/`` (losses and the
    grid), ``samples/step-XXXXXX.png`` (the same fixed latents at each checkpoint), ``samples.gif``,
    ``history.json`` (losses per step, the whole run), ``losses.png`` and, at the end of every
    call, ``generator.keras`` (what :func:`load_generator` reads).

    Called under a ``tf.distribute`` strategy's scope (or on a machine with several GPUs or a
    TPU: :func:`artlib.training.get_strategy`), each step splits the batch over the replicas
    (``docs/scaling.md``); under ``MultiWorkerMirroredStrategy`` the chief writes ``run_dir``.

    Args:
        run_dir: The run directory (created; an existing one must hold the same settings).
        settings: The recipe (default: artlib's, :class:`GANSettings`).
        images: Training images, uint8 (N, 28, 28) or float in [0, 1]; default Fashion-MNIST's training set.
        labels: (N,) class labels (needed for a conditional GAN).
        num_steps: Train up to this step instead of ``num_epochs`` epochs.
        grid_size: Images in the fixed-latent grid.
        quiet: Hide the progress bar.
        max_seconds: Also stop at the first step after this much time in this call (an equal
            time budget for comparing recipes); calling again goes on from there.

    Returns:
        The :class:`training.TrainResult` of this call: ``result["d_loss"]`` … one entry per step
        it ran, ``result.final_step``, ``result.stopped`` (``"done"`` or ``"max_seconds"``). The
        whole run's history is ``training.RunDir(run_dir).read_history()``.

    Raises:
        ArtlibError: ``num_steps``, ``grid_size`` or ``max_seconds`` is 0 or below, bad settings, or a
            ``batch_size`` that does not split evenly over the strategy's replicas.
        CheckpointError: ``run_dir`` holds a run with other settings.
        DataError: Too few images, or labels missing for a conditional GAN.
        ImageError: ``images`` are not 28×28 one-channel pixels in [0, 1] (or uint8).
    """
    settings = GANSettings(**(settings or {}))
    training.check_batch_size(settings["batch_size"])  # it splits over the replicas of the strategy in scope
    grid_size = positive_int(grid_size, "grid_size")
    if num_steps is not None:
        num_steps = positive_int(num_steps, "num_steps")
    if max_seconds is not None:
        max_seconds = positive_float(max_seconds, "max_seconds")
    real, real_labels = _real_images(settings, images, labels)
    generator, discriminator = build_models(settings)
    if settings["init_from"]:
        _start_from(settings["init_from"], settings, generator, discriminator)  # refused before anything is written
    _freeze(discriminator, settings["freeze_d"])
    run_dir = training.worker_run_dir(run_dir)  # a non-chief worker of a multi-worker run writes a copy
    with training.run_lock(run_dir):  # the settings, the loop and the files after it: one training at a time
        _adopt_old_settings(Path(run_dir))
        batch_size, seed = int(settings["batch_size"]), int(settings["seed"])
        steps_per_epoch = len(real) // batch_size
        every = training.save_interval(steps_per_epoch)

        with training.get_strategy().scope():
            g_optimizer = keras.optimizers.Adam(settings["learning_rate"], beta_1=settings["beta_1"])
            d_optimizer = keras.optimizers.Adam(settings["learning_rate"], beta_1=settings["beta_1"])
            g_optimizer.build(generator.trainable_variables)  # here, not in the step: a replica cannot make them
            d_optimizer.build(discriminator.trainable_variables)  # (after _freeze: frozen layers get no slots)
            noise = keras.random.SeedGenerator(seed)  # one state for all replicas
        step_fn = make_train_step(generator, discriminator, g_optimizer, d_optimizer, noise,
                                  loss=settings["loss"], gp_weight=settings["gp_weight"],
                                  creative_weight=settings["creative_weight"],
                                  creative_warmup=settings["creative_warmup"],
                                  creative_start=settings["creative_start"])
        labelled = settings["conditional"] or settings["creative_weight"]
        data = (real, real_labels.astype(np.int32)) if labelled else real
        fixed_latents = latents(grid_size, int(settings["latent_dim"]), seed + 12345)
        result = training.train_loop(
            step_fn, lambda epoch: training.shuffled_batches(data, batch_size, seed=seed + epoch),
            num_steps=num_steps or int(settings["num_epochs"]) * steps_per_epoch, run_dir=run_dir,
            state={"generator": generator, "discriminator": discriminator, "g_optimizer": g_optimizer,
                   "d_optimizer": d_optimizer, "noise": noise},
            steps_per_epoch=steps_per_epoch, save_every=every, sample_every=every,
            sample_fn=lambda: sample(generator, grid_size, latents=fixed_latents),
            max_seconds=max_seconds, settings=settings, summary=True, quiet=quiet)
        modelio.save_model(generator, Path(run_dir) / "generator.keras")  # the run's product, for load_generator
        modelio.save_model(discriminator, Path(run_dir) / "discriminator.keras")  # what fine-tuning starts from
        return result


def _adopt_old_settings(run_dir: Path) -> None:
    """Bring an earlier run directory's settings up to date, so that the loop can check a resume against them.

    Copies ``gan.json`` to ``settings.json``, and fills in the keys added since with what such a run
    trained with (:meth:`GANSettings.from_file`: the defaults, except :attr:`GANSettings.BEFORE`).
    """
    run = training.RunDir(run_dir)
    if not run.settings_file.exists() and (run_dir / OLD_SETTINGS_NAME).is_file():
        run.write_settings(load_settings(run_dir))
    elif run.settings_file.is_file():
        old = run.read_settings()
        if set(old) < set(GANSettings.DEFAULTS):  # written before the newer keys
            atomic_write_text(run.settings_file, json.dumps(GANSettings.from_file(old), indent=1))


def _start_from(source: str, settings: Mapping[str, Any], generator: keras.Model,
                discriminator: keras.Model) -> None:
    """Load both networks' weights from the GAN run directory ``source``.

    From its newest checkpoint, or, in a folder without checkpoints (a shipped one), from
    its ``generator.keras`` and ``discriminator.keras``.

    Raises:
        CheckpointError: ``source`` is not a GAN run directory, has neither, or trained
            networks of another shape (architecture, width, latent size, conditioning, class head).
    """
    import tensorflow as tf

    theirs = load_settings(source)
    differ = [k for k in ("arch", "width", "latent_dim", "conditional", "upsample") if theirs[k] != settings[k]]
    if differ:
        raise CheckpointError(f"{source} trained other networks ({', '.join(f'{k}: {theirs[k]!r}' for k in differ)}); "
                              "fine-tune with the same " + ", ".join(differ))
    latest = tf.train.latest_checkpoint(str(Path(source) / "checkpoints"))
    files = [Path(source) / f"{name}.keras" for name in ("generator", "discriminator")]
    if latest is None and all(f.is_file() for f in files):
        for model, path in zip((generator, discriminator), files):
            trained = modelio.load_model(path, what="GAN network", error=CheckpointError,
                                         fix=f"train the run again with `python -m artlib gan train --run-dir {source}`")
            try:
                model.set_weights(trained.get_weights())
            except ValueError as err:
                raise CheckpointError(f"{path} holds another network than these settings build ({err})") from err
        return
    if latest is None:
        raise CheckpointError(f"{source} holds no checkpoint to start from; train it first with "
                              f"`python -m artlib gan train --run-dir {source}`")
    status = tf.train.Checkpoint(generator=generator, discriminator=discriminator).restore(latest).expect_partial()
    status.assert_existing_objects_matched()  # every weight of both networks came from the checkpoint


def _freeze(discriminator: keras.Model, count: int) -> None:
    """Stop training the first ``count`` convolutions of a discriminator (FreezeD; Mo et al. 2020)."""
    convolutions = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.Conv2D)]
    for layer in convolutions[:count]:
        layer.trainable = False
