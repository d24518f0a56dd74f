"""Generative adversarial networks on 28×28 Fashion-MNIST: DCGAN, the loss family, conditional GANs.

A GAN is two networks in a game. The *generator* maps a latent vector ``z``
to an image; the *discriminator* scores images as real or generated. The
discriminator learns to tell them apart, the generator learns to fool it.
Generators here output pixels in [-1, 1] (``tanh``); images elsewhere in
artlib are in [0, 1], so :func:`sample` converts back. Notebooks 04 and 05 teach it.

Which file does what:

* ``models.py``: the builders — the TF DCGAN tutorial's models (:func:`build_tutorial_generator`,
  :func:`build_tutorial_discriminator`) as the named baseline, and artlib's default
  (:func:`build_generator`, :func:`build_discriminator`): a fifth of the tutorial generator's weights and
  about half its multiply-adds, upsampling by resize-convolution (``upsample="transpose"``: the classic
  transposed convolution), trained with Adam(2e-4, β1=0.5) at batch 64; both optionally conditional on the
  ten class labels (label embedding in the generator, projection in the discriminator);
* ``losses.py``: the losses as one argument (:data:`LOSSES`): ``"minimax"``, ``"bce"``
  (= ``"non_saturating"``), ``"lsgan"``, ``"hinge"``, ``"wgan-gp"``, and :func:`gradient_penalty`;
  the creative adversarial network's two class terms (:func:`class_loss`, :func:`style_ambiguity_loss`);
* ``step.py``: one training step, written once (:func:`gan_step`) and used both by the explicit
  ``@tf.function`` (:func:`make_train_step`, for ``training.train_loop`` with exact resume) and by
  :class:`GAN`, a ``keras.Model`` for ``fit``. Both networks see the same generated batch in one
  step (the "simultaneous" update of the TF tutorial);
* ``sampling.py``: :func:`sample`, :func:`interpolate` (slerp walks) and :func:`to_unit`;
* ``run.py``: the recipe (:class:`GANSettings`, :func:`tutorial_settings`, :func:`build_models`; its
  ``classes``, ``creative_weight``, ``init_from`` and ``freeze_d`` name the variants of notebook 09),
  :func:`train` into the run directory the CLI uses (checkpoints, a fixed-latent grid as
  PNG/GIF/TensorBoard, loss curves, the final ``generator.keras``), :func:`load_settings`,
  :func:`load_generator` and the shipped generator's folder :data:`PRETRAINED_DIR`;
* ``innovation.py``: the experiments of notebook 09 — :func:`creative_sweep`, :func:`finetune_variants`
  and :func:`measure_runs` (every run sampled and measured the same way); the shipped runs
  (:data:`INNOVATION_DIR`, :func:`shipped_creative_runs`);
* ``finetune.py``: transfer learning, :func:`finetune` a trained run to a new class from a few
  images, optionally with the discriminator's first layers frozen (FreezeD);
* ``progressive.py``: progressive growing 7 → 14 → 28 with fade-in (:func:`train_progressive`,
  one ``training.train_loop`` a level, so it resumes exactly).
"""

from __future__ import annotations

from artlib.gan.finetune import FINETUNE_IMAGES, FINETUNE_STEPS, finetune
from artlib.gan.innovation import (FINETUNE_VARIANTS, INNOVATION_DIR, creative_sweep, finetune_variants,
                                  measure_runs, shipped_creative_runs)
from artlib.gan.losses import (LOSSES, class_loss, discriminator_loss, generator_loss, gradient_penalty,
                               style_ambiguity_loss)
from artlib.gan.models import (
    NUM_CLASSES,
    build_discriminator,
    build_generator,
    build_tutorial_discriminator,
    build_tutorial_generator,
    has_class_head,
)
from artlib.gan.progressive import (
    PROGRESSIVE_SIZES,
    build_progressive_generator,
    fade_in_alpha,
    progressive_images,
    progressive_real,
    train_progressive,
)
from artlib.gan.run import (
    PRETRAINED_DIR,
    GANSettings,
    build_models,
    check_classes,
    load_generator,
    load_settings,
    train,
    tutorial_settings,
)
from artlib.gan.sampling import interpolate, sample, to_unit
from artlib.gan.step import GAN, gan_step, make_train_step

__all__ = [
    "LOSSES",
    "NUM_CLASSES",
    "PRETRAINED_DIR",
    "PROGRESSIVE_SIZES",
    "build_tutorial_generator",
    "build_tutorial_discriminator",
    "build_generator",
    "build_discriminator",
    "discriminator_loss",
    "generator_loss",
    "gradient_penalty",
    "class_loss",
    "style_ambiguity_loss",
    "has_class_head",
    "check_classes",
    "finetune",
    "FINETUNE_IMAGES",
    "FINETUNE_STEPS",
    "FINETUNE_VARIANTS",
    "creative_sweep",
    "finetune_variants",
    "measure_runs",
    "shipped_creative_runs",
    "INNOVATION_DIR",
    "gan_step",
    "make_train_step",
    "GAN",
    "GANSettings",
    "tutorial_settings",
    "build_models",
    "train",
    "load_generator",
    "load_settings",
    "sample",
    "interpolate",
    "to_unit",
    "build_progressive_generator",
    "progressive_images",
    "progressive_real",
    "fade_in_alpha",
    "train_progressive",
]
