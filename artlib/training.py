"""The machinery every training loop in the course shares.

One *run directory* holds everything a run writes::

    run_dir/
        checkpoints/   ckpt-<step>.index, ckpt-<step>.data-*, and `checkpoint` (which is newest)
        tensorboard/   event files: `tensorboard --logdir run_dir`
        backup/        Keras `fit` only: the BackupAndRestore state

Explicit ``@tf.function`` loops (GAN, VAE, fast style transfer) call
:func:`train_loop`, which gives them a progress bar, TensorBoard scalars and
image grids, checkpoints that resume *exactly* (bitwise the same weights as a
run that was never stopped) and a NaN guard. Models trained with ``fit`` get
the same services from :func:`callbacks`.

Exact resume needs everything a step reads or changes in the checkpoint: the
models, the optimizers, the random-number state and the data position. The data
position is the step counter itself: step ``s`` is batch ``s % steps_per_epoch``
of epoch ``s // steps_per_epoch``, and ``make_dataset(epoch)`` must give the
same batches every time it is called for that epoch (shuffle with
``seed + epoch``, as :func:`shuffled_batches` does).

Facts about Keras 3 and ``tf.train.Checkpoint`` this module relies on (checked
in ``tests/test_training.py``):

* a ``keras.random.SeedGenerator`` is *not* a TensorFlow trackable, but its
  ``.state`` variable is, so that is what gets saved;
* the seed generators *inside* a model (``Dropout``, ``GaussianNoise``...) are
  not saved with the model by ``tf.train.Checkpoint``, so they are saved
  alongside it as ``<name>_seed_states``;
* a Keras optimizer creates its variables on its first ``apply``; restoring
  before that is fine: TensorFlow keeps the values and assigns them when the
  variables appear (even inside a ``tf.function``). Whether everything found
  its place can therefore only be checked after the first step. Under a
  ``MirroredStrategy`` the optimizer must be built before the first step
  (``optimizer.build(model.trainable_variables)`` inside ``strategy.scope()``);
* ``keras.callbacks.BackupAndRestore`` saves weights, optimizer and epoch but
  not those inner seed generators either; :class:`BackupAndRestore` adds them;
* ``Dataset.shuffle(seed=s)`` also depends on TensorFlow's global seed, so
  :func:`shuffled_batches` draws its order from NumPy instead.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from artlib import config  # sets KERAS_BACKEND before Keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.atomic import atomic_write_text  # noqa: E402
from artlib.plotting import grid_array  # noqa: E402
from artlib.errors import CheckpointError, NonFiniteLossError  # noqa: E402

__all__ = [
    "progress_bar",
    "RunLogger",
    "Checkpointer",
    "shuffled_batches",
    "check_finite",
    "train_loop",
    "NaNGuard",
    "BackupAndRestore",
    "callbacks",
    "get_strategy",
]


# ----------------------------------------------------------------------------- progress
def progress_bar(num_steps: int | None, *, quiet: bool | None = None) -> keras.utils.Progbar:
    """A Keras progress bar that shows the latest value of each loss (not a running mean).

    Args:
        num_steps: The step the bar ends at (None: unknown).
        quiet: Print nothing. Default: quiet under CI (``CI`` set), chatty otherwise.

    Returns:
        A ``keras.utils.Progbar``; call ``bar.update(step, [("loss", 0.3)])``.
    """
    if quiet is None:
        quiet = config.is_ci()
    return keras.utils.Progbar(num_steps, verbose=0 if quiet else 1, stateless_metrics=())


# ----------------------------------------------------------------------------- TensorBoard
class RunLogger:
    """Write scalars and image grids for TensorBoard under ``run_dir/tensorboard``.

    Example::

        with RunLogger("runs/gan") as logger:
            logger.scalars({"d_loss": 0.7, "g_loss": 1.2}, step=100)
            logger.images("samples", generated_images, step=100)   # one grid
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.log_dir = Path(run_dir) / "tensorboard"
        self._writer = tf.summary.create_file_writer(str(self.log_dir))

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        """Log one value per name at ``step``."""
        with self._writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(name, float(value), step=step)

    def images(self, name: str, images: Any, step: int, *, columns: int | None = None) -> None:
        """Log a batch of images in [0, 1] as a single grid picture (``plotting.grid_array``)."""
        images = np.asarray(images, dtype=np.float32)
        if images.ndim == 3:
            images = images[..., np.newaxis]  # a batch of grayscale (n, h, w) -> (n, h, w, 1)
        grid = grid_array(images, ncols=columns)
        with self._writer.as_default():
            tf.summary.image(name, grid[np.newaxis], step=step)

    def flush(self) -> None:
        """Push everything written so far to disk."""
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------------- checkpoints
def _seed_states(layer: keras.layers.Layer) -> list[keras.Variable]:
    """The RNG state variables of the seed generators inside a layer or model (e.g. Dropout's)."""
    weight_ids = {id(w) for w in layer.weights}
    return [v for v in layer.variables if id(v) not in weight_ids]


def _trackables(state: Mapping[str, Any]) -> dict[str, Any]:
    """Turn what a user names into what ``tf.train.Checkpoint`` can save."""
    out: dict[str, Any] = {}
    for name, obj in state.items():
        if isinstance(obj, keras.random.SeedGenerator):
            out[name] = obj.state  # the generator is not trackable, its state variable is
        elif isinstance(obj, keras.layers.Layer):
            out[name] = obj
            if seeds := _seed_states(obj):
                out[f"{name}_seed_states"] = seeds  # not saved with the model by tf.train.Checkpoint
        elif isinstance(obj, tf.__internal__.tracking.Trackable):
            out[name] = obj  # optimizers, tf.Variable, tf.random.Generator, tf.Module ...
        else:
            raise TypeError(f"cannot checkpoint {name}={type(obj).__name__}: pass a model, an "
                            "optimizer, a variable, a keras.random.SeedGenerator or a tf.random.Generator")
    return out


def _variables(obj: Any) -> list[Any]:
    if isinstance(obj, (list, tuple)):
        return [v for item in obj for v in _variables(item)]
    if isinstance(obj, (tf.Variable, keras.Variable)):
        return [obj]
    return list(getattr(obj, "variables", []))


def _unreadable(path: str) -> str | None:
    """Why a checkpoint cannot be read (every tensor, checksums included), or None if it can."""
    try:
        reader = tf.train.load_checkpoint(path)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as err:  # noqa: BLE001  (a truncated file raises IndexError, others OpError)
        return f"{type(err).__name__}: {getattr(err, 'message', err)}".splitlines()[0]
    return None


class Checkpointer:
    """Save and restore named training state in ``run_dir/checkpoints``.

    Holds a step counter (``checkpointer.step``, an int64 variable; also the
    data position) and everything passed by name. Checkpoint ``ckpt-<s>`` holds
    the state after ``s`` steps. TensorFlow writes each checkpoint to temporary
    files, renames them into place, and only then atomically rewrites the
    ``checkpoint`` file that names the newest one, so a kill mid-save leaves
    the last good checkpoint untouched.

    Args:
        run_dir: The run directory.
        max_to_keep: How many recent checkpoints to keep (at least 2, so that
            there is one to fall back to).
        **state: Models, optimizers, ``tf.Variable``s, ``keras.random.SeedGenerator``s,
            ``tf.random.Generator``s, by name. Pass ``step=`` to use your own counter.

    Example::

        ckpt = Checkpointer("runs/vae", model=vae, optimizer=opt, noise=seed_gen)
        step = ckpt.restore()          # 0 when the run is new
        ...; ckpt.step.assign(step); ckpt.save()
    """

    def __init__(self, run_dir: str | Path, *, max_to_keep: int = 3, **state: Any) -> None:
        self.directory = Path(run_dir) / "checkpoints"
        self.step = state.pop("step", None)
        if self.step is None:
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.names = sorted(state)
        trackables = _trackables(state)
        self._variables = _variables(list(trackables.values()))
        self._checkpoint = tf.train.Checkpoint(step=self.step, **trackables)
        self._manager = tf.train.CheckpointManager(
            self._checkpoint, str(self.directory), max_to_keep=max(2, max_to_keep), checkpoint_name="ckpt")
        self._status: Any = None
        self.restored_path: str | None = None

    @property
    def latest(self) -> str | None:
        """Path of the newest checkpoint in the run directory, or None."""
        return self._manager.latest_checkpoint

    @property
    def checkpoints(self) -> list[str]:
        """Paths of the kept checkpoints, oldest first."""
        return list(self._manager.checkpoints)

    def save(self) -> str:
        """Write checkpoint ``ckpt-<step>`` after checking that every variable is finite.

        Returns:
            The checkpoint's path (a prefix; the files add ``.index`` and ``.data-*``).

        Raises:
            NonFiniteLossError: If a variable holds NaN or Inf (nothing is written).
        """
        for variable in self._variables:
            if tf.as_dtype(variable.dtype).is_floating and not tf.reduce_all(tf.math.is_finite(variable)):
                name = getattr(variable, "path", variable.name)
                raise NonFiniteLossError(
                    f"variable {name} holds NaN or Inf at step {int(self.step)}; it was not saved. "
                    f"The last good checkpoint is {self.latest}.")
        return self._manager.save(checkpoint_number=int(self.step))

    def restore(self, path: str | None = None) -> int:
        """Load a checkpoint: the newest readable one, or the one at ``path``.

        An unreadable newest checkpoint (truncated, garbled, missing files) is
        skipped with a warning and the one before it is tried.

        Args:
            path: A checkpoint path such as ``run_dir/checkpoints/ckpt-300``;
                None for the newest one in the run directory.

        Returns:
            The restored step (0 when there is nothing to restore).

        Raises:
            CheckpointError: If no checkpoint can be read, or they were written
                for different models (other layers or shapes).
        """
        candidates = [str(path)] if path else self.checkpoints[::-1]
        problems = []
        for candidate in candidates:
            problem = _unreadable(candidate)
            if problem:
                problems.append(f"{candidate}: {problem}")
                if not path:
                    warnings.warn(f"checkpoint {candidate} cannot be read ({problem}); trying an "
                                  "older one", RuntimeWarning, stacklevel=2)
                continue
            status = None
            try:
                status = self._checkpoint.restore(candidate)
                status.assert_existing_objects_matched()
            except (ValueError, AssertionError) as err:
                if status is not None:
                    status.expect_partial()  # no warnings about it on exit: we raise instead
                raise CheckpointError(
                    f"checkpoint {candidate} does not fit {', '.join(self.names)}: it was written "
                    f"for a different model ({str(err).splitlines()[0]}). Use a new run directory, "
                    f"or delete {self.directory} to start over.") from err
            status.expect_partial()  # optimizer variables may appear later; checked by assert_restored
            self._status, self.restored_path = status, candidate
            return int(self.step.numpy())
        if problems:
            raise CheckpointError("no checkpoint could be read:\n  " + "\n  ".join(problems))
        return 0

    def assert_restored(self) -> None:
        """Check that every value in the restored checkpoint found its variable.

        Call it after the first training step, when the optimizers have created
        their variables. Does nothing when nothing was restored.

        Raises:
            CheckpointError: If the checkpoint holds values nothing here used.
        """
        if self._status is None:
            return
        try:
            self._status.assert_consumed()
        except AssertionError as err:
            raise CheckpointError(
                f"checkpoint {self.restored_path} holds values that {', '.join(self.names)} do not "
                f"use, so it was written for a different model: {str(err)[:300]}") from err
        self._status = None


# ----------------------------------------------------------------------------- the loop
def shuffled_batches(data: Any, batch_size: int, *, seed: int) -> tf.data.Dataset:
    """One epoch of full batches in an order fixed by ``seed`` alone: the same every time.

    The order comes from a NumPy generator seeded with ``seed``, so it does not
    depend on TensorFlow's global seed or on what ran before. Use
    ``seed=SEED + epoch`` in a ``make_dataset(epoch)`` for :func:`train_loop`.

    Args:
        data: An array (or a tuple/dict of arrays) with the examples along axis 0.
        batch_size: Examples per batch; a last, partial batch is dropped.
        seed: Fixes the order.

    Returns:
        A ``tf.data.Dataset`` of batches.
    """
    arrays = tf.nest.map_structure(np.asarray, data)
    order = np.random.default_rng(seed).permutation(len(tf.nest.flatten(arrays)[0]))
    shuffled = tf.nest.map_structure(lambda array: array[order], arrays)
    return tf.data.Dataset.from_tensor_slices(shuffled).batch(batch_size, drop_remainder=True)


def check_finite(losses: Mapping[str, float], *, step: int, last_checkpoint: str | None) -> None:
    """Raise if any loss is NaN or infinite.

    Args:
        losses: Loss values by name.
        step: The step that produced them (counted from 1).
        last_checkpoint: The last good checkpoint, named in the message.

    Raises:
        NonFiniteLossError: Naming the loss, its value, the step and the checkpoint.
    """
    for name, value in losses.items():
        if not math.isfinite(value):
            kept = (f"The last good checkpoint, {last_checkpoint}, is kept; training resumes from it."
                    if last_checkpoint else "No checkpoint had been saved yet.")
            raise NonFiniteLossError(f"{name} became {value} at step {step}. {kept} A lower learning "
                                     "rate or gradient clipping often helps.")


def _count_batches(batches: Iterable[Any]) -> int:
    if isinstance(batches, tf.data.Dataset) and int(batches.cardinality()) >= 0:
        return int(batches.cardinality())
    if isinstance(batches, Sequence):
        return len(batches)
    raise ValueError("cannot tell how many batches make an epoch; pass steps_per_epoch")


def _skip(batches: Iterable[Any], count: int) -> Iterable[Any]:
    if isinstance(batches, tf.data.Dataset):
        return batches.skip(count)
    return itertools.islice(batches, count, None)


def train_loop(
    step_fn: Callable[[Any], Mapping[str, Any]],
    make_dataset: Callable[[int], Iterable[Any]],
    *,
    num_steps: int,
    run_dir: str | Path,
    state: Mapping[str, Any],
    steps_per_epoch: int | None = None,
    save_every: int = 100,
    log_every: int = 10,
    sample_fn: Callable[[], Any] | None = None,
    resume_from: str | None = None,
    max_to_keep: int = 3,
    quiet: bool | None = None,
) -> dict[str, list[float]]:
    """Train until step ``num_steps``, resuming exactly from the newest checkpoint in ``run_dir``.

    Steps are counted from 1: after step ``s`` the counter is ``s`` and
    ``ckpt-<s>`` holds that state. Stopping (or being killed) and calling
    again with fresh objects gives bitwise the same result as never stopping,
    provided ``state`` holds everything the step changes and ``make_dataset``
    is deterministic.

    Args:
        step_fn: ``step_fn(batch) -> {"loss_name": scalar, ...}``; usually a
            ``@tf.function`` that updates the models.
        make_dataset: ``make_dataset(epoch)`` -> that epoch's batches, the same
            every call (e.g. ``lambda epoch: shuffled_batches(x, 64, seed=SEED + epoch)``).
        num_steps: The step to train up to (a total, not "this many more").
        run_dir: Where checkpoints and TensorBoard logs go.
        state: Everything the step reads or changes, by name: models,
            optimizers, seed generators (see :class:`Checkpointer`).
        steps_per_epoch: Batches per epoch; default: counted from ``make_dataset(0)``.
        save_every: Save a checkpoint (and log ``sample_fn``'s images) every this many steps,
            and always at ``num_steps``.
        log_every: Log the mean losses of the last this-many steps to TensorBoard and the bar.
        sample_fn: Returns images in [0, 1] to show, e.g. the generator on a fixed latent
            batch. It must not draw from the training seed generators.
        resume_from: A checkpoint path to start from instead of the newest in ``run_dir``.
        max_to_keep: How many checkpoints to keep.
        quiet: Hide the progress bar (default: hidden under CI).

    Returns:
        History of this call: ``{"step": [...], "<loss>": [...]}``, one entry per step.

    Raises:
        NonFiniteLossError: A loss or weight became NaN/Inf; nothing bad was saved.
        CheckpointError: ``run_dir`` holds unreadable checkpoints or another model's.

    Example::

        state = {"generator": generator, "discriminator": discriminator,
                 "g_optimizer": g_optimizer, "d_optimizer": d_optimizer, "latent": latent_seeds}
        history = train_loop(gan_step, lambda epoch: shuffled_batches(images, 64, seed=SEED + epoch),
                             num_steps=2000, run_dir="runs/gan", state=state,
                             sample_fn=lambda: generator(fixed_latents) * 0.5 + 0.5)
    """
    checkpointer = Checkpointer(run_dir, max_to_keep=max_to_keep, **state)
    step = start = checkpointer.restore(resume_from)
    if checkpointer.restored_path and quiet is not True:
        print(f"Resuming from {checkpointer.restored_path} (step {step} of {num_steps}).")
    steps_per_epoch = steps_per_epoch or _count_batches(make_dataset(0))
    bar = progress_bar(num_steps, quiet=quiet)
    history: dict[str, list[float]] = {"step": []}
    with RunLogger(run_dir) as logger:
        while step < num_steps:
            epoch, position = divmod(step, steps_per_epoch)  # the data position is the step
            for batch in _skip(make_dataset(epoch), position):
                losses = {name: float(value) for name, value in step_fn(batch).items()}
                step += 1
                check_finite(losses, step=step, last_checkpoint=checkpointer.latest)
                if step == start + 1:
                    checkpointer.assert_restored()  # the optimizers exist now
                checkpointer.step.assign(step)
                history["step"].append(step)
                for name, value in losses.items():
                    history.setdefault(name, []).append(value)
                if step % log_every == 0 or step == num_steps:
                    recent = {name: float(np.mean(history[name][-log_every:])) for name in losses}
                    logger.scalars(recent, step)
                    bar.update(step, list(recent.items()))
                if step % save_every == 0 or step == num_steps:
                    checkpointer.save()
                    if sample_fn is not None:
                        logger.images("samples", sample_fn(), step)
                if step == num_steps or step % steps_per_epoch == 0:
                    break
            else:  # the epoch ran out of batches early: positions would not match on resume
                raise ValueError(f"make_dataset({epoch}) gave {step % steps_per_epoch} batches, "
                                 f"but steps_per_epoch is {steps_per_epoch}")
    return history


# ----------------------------------------------------------------------------- Keras fit
class NaNGuard(keras.callbacks.Callback):
    """Stop ``fit`` with a :class:`NonFiniteLossError` as soon as a logged value is NaN or Inf.

    Unlike ``keras.callbacks.TerminateOnNaN``, which stops quietly, it says
    which value, in which epoch and batch. Put it before ``BackupAndRestore``
    so that the bad epoch is never backed up.
    """

    def __init__(self) -> None:
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def _check(self, logs: dict | None, where: str) -> None:
        for name, value in (logs or {}).items():
            if np.ndim(value) == 0 and not math.isfinite(float(value)):
                self.model.stop_training = True
                raise NonFiniteLossError(f"{name} became {float(value)} in epoch {self._epoch + 1}, "
                                         f"{where}. The last backup (if any) is kept. A lower "
                                         "learning rate or gradient clipping often helps.")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._check(logs, f"batch {batch + 1}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._check(logs, "at its end")


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras's ``BackupAndRestore`` that also backs up the model's random-number state.

    Keras's backup (a weights file plus the epoch) leaves out the state of the
    seed generators inside the model (``Dropout``, ``GaussianNoise``, random
    augmentation layers), so a resumed ``fit`` would draw other random numbers
    than an uninterrupted one. This subclass writes those states to
    ``seed_states-<epoch>.json`` (atomically) at the end of each epoch and
    puts them back when ``fit`` resumes. It keeps the previous backup too.

    Args:
        backup_dir: The folder for the backup (used by nothing else).
    """

    def __init__(self, backup_dir: str | Path) -> None:
        super().__init__(str(backup_dir), double_checkpoint=True)
        self.backup_dir_path = Path(backup_dir)

    def _seeds_file(self, epoch: int) -> Path:
        return self.backup_dir_path / f"seed_states-{epoch}.json"

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)  # weights, optimizer and the epoch to start at
        metadata = self.backup_dir_path / "training_metadata.json"
        seeds = _seed_states(self.model)
        if not (seeds and metadata.exists()):
            return
        epoch = json.loads(metadata.read_text())["epoch"]
        if not self._seeds_file(epoch).exists():
            warnings.warn(f"no random-number state for epoch {epoch} in {self.backup_dir_path}; "
                          "the resumed run will not match an uninterrupted one", RuntimeWarning)
            return
        for variable, value in zip(seeds, json.loads(self._seeds_file(epoch).read_text())):
            variable.assign(np.asarray(value, dtype=variable.dtype))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        if seeds := _seed_states(self.model):
            atomic_write_text(self._seeds_file(epoch + 1), json.dumps([v.numpy().tolist() for v in seeds]))
            self._seeds_file(epoch - 1).unlink(missing_ok=True)  # keep this one and the previous


def callbacks(run_dir: str | Path, *, tensorboard: bool = True, backup: bool = True,
              nan_guard: bool = True) -> list[keras.callbacks.Callback]:
    """The callbacks that give ``model.fit`` the same services as :func:`train_loop`.

    :class:`BackupAndRestore` saves weights, optimizer, epoch and the model's
    random-number state at the end of each epoch in ``run_dir/backup``
    (keeping the previous one too); calling ``fit``
    again after an interruption continues from the last finished epoch, and
    the backup is deleted when ``fit`` completes. It does not save the shuffle
    order, so resume is bitwise exact only for data whose order does not depend
    on how many epochs ran (``shuffle=False``, or a dataset that shuffles the
    same way each epoch).

    Args:
        run_dir: The run directory.
        tensorboard: Log losses to ``run_dir/tensorboard``.
        backup: Back up each epoch for resuming.
        nan_guard: Raise :class:`NonFiniteLossError` on a NaN/Inf loss.

    Returns:
        A list to pass as ``model.fit(..., callbacks=callbacks(run_dir))``.
    """
    run_dir = Path(run_dir)
    chosen: list[keras.callbacks.Callback] = []
    if nan_guard:
        chosen.append(NaNGuard())
    if tensorboard:
        chosen.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard")))
    if backup:
        chosen.append(BackupAndRestore(run_dir / "backup"))
    return chosen


# ----------------------------------------------------------------------------- devices
def get_strategy(devices: Sequence[str] | None = None) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy for this machine: TPU, several GPUs, or the default.

    Build models and optimizers under its scope (and build the optimizer
    there too: a Keras optimizer cannot create its variables inside
    ``strategy.run``), then run steps with ``strategy.run``; on one device
    this changes nothing::

        strategy = get_strategy()
        with strategy.scope():
            model = build_model()
            optimizer = keras.optimizers.Adam()
            optimizer.build(model.trainable_variables)

        @tf.function
        def step(batch):
            per_replica = strategy.run(replica_step, args=(batch,))
            return {"loss": strategy.reduce("SUM", per_replica, axis=None)}

    Call it once per program (it connects to a TPU when there is one).

    Args:
        devices: Mirror over exactly these devices (e.g. ``["/cpu:0", "/cpu:1"]``).

    Returns:
        ``TPUStrategy`` on a TPU machine, ``MirroredStrategy`` with more than
        one GPU (or with ``devices``), else the default strategy.
    """
    if devices:
        return tf.distribute.MirroredStrategy(list(devices))
    if tf.config.list_physical_devices("TPU"):
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()
