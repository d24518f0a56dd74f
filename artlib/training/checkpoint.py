"""``Checkpointer``: named training state saved and restored through ``tf.train.CheckpointManager``.

Exact resume needs everything a step reads or changes in the checkpoint: the
models, the optimizers, the random-number state and the data position (the step
counter). Facts about Keras 3 and ``tf.train.Checkpoint`` this file relies on
(checked in ``tests/test_training.py``):

* a ``keras.random.SeedGenerator`` is *not* a TensorFlow trackable, but its
  ``.state`` variable is, so that is what gets saved;
* the seed generators *inside* a model (``Dropout``, ``GaussianNoise`` ...) are
  not saved with the model by ``tf.train.Checkpoint``, so they are saved
  alongside it as ``<name>_seed_states`` (:func:`seed_states`);
* a Keras optimizer creates its variables on its first ``apply``; restoring
  before that is fine: TensorFlow keeps the values and assigns them when the
  variables appear (even inside a ``tf.function``). Whether everything found
  its place can therefore only be checked after the first step
  (:meth:`Checkpointer.assert_restored`). Under a ``MirroredStrategy`` the
  optimizer must be built before the first step
  (``optimizer.build(model.trainable_variables)`` inside ``strategy.scope()``).
"""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from artlib import config  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.checks import positive_int  # noqa: E402
from artlib.errors import CheckpointError, NonFiniteLossError, first_line  # noqa: E402

__all__ = ["Checkpointer", "seed_states"]


def seed_states(layer: keras.layers.Layer) -> list[keras.Variable]:
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
            if seeds := seed_states(obj):
                out[f"{name}_seed_states"] = seeds  # not saved with the model by tf.train.Checkpoint
        elif isinstance(obj, tf.__internal__.tracking.Trackable):
            out[name] = obj  # optimizers, tf.Variable, tf.random.Generator, tf.Module ...
        else:
            raise TypeError(f"cannot checkpoint {name}={type(obj).__name__}: pass a model, an "
                            "optimizer, a variable, a keras.random.SeedGenerator or a tf.random.Generator")
    return out


def _variables(obj: Any) -> list[Any]:
    """Every variable in a trackable, a variable, or a (nested) list of them."""
    if isinstance(obj, (list, tuple)):
        return [v for item in obj for v in _variables(item)]
    if isinstance(obj, (tf.Variable, keras.Variable)):
        return [obj]
    return list(getattr(obj, "variables", []))


def _step_of(path: str) -> int:
    """The step in a checkpoint's name, ``…/ckpt-300`` → 300."""
    return int(path.rsplit("-", 1)[1])


def _set_aside_a_damaged_state_file(directory: Path) -> None:
    """Rename TensorFlow's ``checkpoint`` file to ``checkpoint.damaged`` if it cannot be parsed, with a warning.

    The file only names the checkpoints (:meth:`Checkpointer.on_disk` finds them without it); damaged,
    TensorFlow's manager would fail to start (an empty file) or forget every checkpoint with two lines of
    its own on stderr (garbage), and the run would start over.
    """
    state = directory / "checkpoint"
    if not state.is_file():
        return
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # TensorFlow logs a parse error as a warning of its own and ignores the file
    try:
        parsed = tf.train.get_checkpoint_state(str(directory))
        damaged = None if parsed is not None and parsed.model_checkpoint_path else "it cannot be parsed"
    except (ValueError, OSError) as err:  # an empty file: "Invalid checkpoint state loaded from …"
        damaged = first_line(err)
    finally:
        logger.setLevel(level)
    if damaged:
        state.replace(state.with_name("checkpoint.damaged"))
        warnings.warn(f"{state} is damaged ({damaged}); set aside as checkpoint.damaged, and the checkpoints "
                      "are found by their file names", RuntimeWarning, stacklevel=3)


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
        max_to_keep: How many recent checkpoints to keep (1 keeps 2, so that
            there is one to fall back to).
        **state: Models, optimizers, ``tf.Variable``s, ``keras.random.SeedGenerator``s,
            ``tf.random.Generator``s, by name. Pass ``step=`` to use your own counter.

    Raises:
        ArtlibError: ``max_to_keep`` below 1.
        TypeError: Something in ``state`` that cannot be checkpointed.

    Example::

        ckpt = Checkpointer("runs/vae", model=vae, optimizer=opt, noise=seed_gen)
        step = ckpt.restore()          # 0 when the run is new
        ...; ckpt.step.assign(step); ckpt.save()
    """

    def __init__(self, run_dir: str | Path, *, max_to_keep: int = 3, **state: Any) -> None:
        max_to_keep = positive_int(max_to_keep, "max_to_keep")
        self.directory = Path(run_dir) / "checkpoints"
        self.step = state.pop("step", None)
        if self.step is None:
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.names = sorted(state)
        trackables = _trackables(state)
        self._variables = _variables(list(trackables.values()))
        self._checkpoint = tf.train.Checkpoint(step=self.step, **trackables)
        _set_aside_a_damaged_state_file(self.directory)
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

    def on_disk(self) -> list[str]:
        """Paths of every ``ckpt-<step>`` whose ``.index`` file is in the folder, by step, oldest first.

        The same as :attr:`checkpoints` unless TensorFlow's ``checkpoint`` file, which names them, was
        deleted or damaged: the checkpoints themselves are still found.
        """
        steps = [int(m.group(1)) for index in self.directory.glob("ckpt-*.index")
                 if (m := re.fullmatch(r"ckpt-(\d+)\.index", index.name))]
        return [str(self.directory / f"ckpt-{step}") for step in sorted(steps)]

    def save(self) -> str:
        """Write checkpoint ``ckpt-<step>`` after checking that every variable is finite.

        TensorFlow writes a checkpoint into ``ckpt-<step>_temp/`` and renames it when whole; the
        folders a killed save left behind are removed first (the run lock admits one writer).

        Returns:
            The checkpoint's path (a prefix; the files add ``.index`` and ``.data-*``).

        Raises:
            NonFiniteLossError: If a variable holds NaN or Inf (nothing is written).
        """
        for stale in Path(self._manager.directory).glob("ckpt-*_temp"):
            shutil.rmtree(stale, ignore_errors=True)  # a killed save's leftovers: never a checkpoint
        for variable in self._variables:
            if tf.as_dtype(variable.dtype).is_floating and not tf.reduce_all(tf.math.is_finite(variable)):
                name = getattr(variable, "path", variable.name)
                raise NonFiniteLossError(
                    f"variable {name} holds NaN or Inf at step {int(self.step.numpy())}; it was not saved. "
                    f"The last good checkpoint is {self.latest}.")
        return self._manager.save(checkpoint_number=int(self.step.numpy()))

    def restore(self, path: str | None = None) -> int:
        """Load a checkpoint: the newest readable one, or the one at ``path``.

        An unreadable newest checkpoint (truncated, garbled, missing files) is
        skipped and the one before it is tried (a warning says so when an older one is read).

        Args:
            path: A checkpoint path such as ``run_dir/checkpoints/ckpt-300``;
                None for the newest one in the run directory.

        Returns:
            The restored step (0 when there is nothing to restore).

        Raises:
            CheckpointError: If no checkpoint can be read, or they were written
                for different models (other layers or shapes).
        """
        newest_first = sorted(set(self.checkpoints) | set(self.on_disk()), key=_step_of, reverse=True)
        candidates = [str(path)] if path else newest_first
        problems = []
        for candidate in candidates:
            problem = _unreadable(candidate)
            if problem:
                problems.append(f"{candidate} ({problem})")
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
                    f"for a different model ({first_line(err)}). Use a new run directory, "
                    f"or delete {self.directory} to start over.") from err
            status.expect_partial()  # optimizer variables may appear later; checked by assert_restored
            if problems:  # said once it is known that an older one did the job (else the error says it all)
                warnings.warn(f"checkpoint {' and '.join(problems)} cannot be read; resuming from the older "
                              f"{candidate}", RuntimeWarning, stacklevel=2)
            self._status, self.restored_path = status, candidate
            return int(self.step.numpy())
        if problems:
            raise CheckpointError(f"no checkpoint in {self.directory} could be read ({'; '.join(problems)}); "
                                  f"delete {self.directory} to start over")
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
