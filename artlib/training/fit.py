"""Keras ``fit`` with the services of :func:`~artlib.training.train_loop`: NaN guard, backup, resume.

:func:`fit` is the one entry point for every ``fit``-trained model: it builds
the epoch-keyed dataset (:func:`~artlib.training.epoch_dataset`), restores the
backup in ``run_dir/backup`` and starts the data at the epoch it resumes at,
so an interrupted run called again ends with exactly the weights of one that
never stopped (at epoch boundaries, where :class:`BackupAndRestore` saves).

The backup is artlib's own, not Keras's ``BackupAndRestore``: a weights file
per epoch (model and optimizer, ``epoch-<n>.weights.h5``) and ``backup.json``,
written atomically after it, which names the newest two backups with their
epoch and the random-number state of the seed generators inside the model
(``Dropout``, ``GaussianNoise`` …), which Keras's weights file leaves out.
Nothing reads Keras's private ``training_metadata.json``.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from artlib import config  # sets KERAS_BACKEND before Keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from artlib.atomic import atomic_write_text  # noqa: E402
from artlib.checks import positive_int, seed_value  # noqa: E402
from artlib.errors import ArtlibError, CheckpointError, NonFiniteLossError, first_line  # noqa: E402
from artlib.training.checkpoint import seed_states  # noqa: E402
from artlib.training.finite import DEFAULT_HINT  # noqa: E402
from artlib.training.lock import run_lock  # noqa: E402
from artlib.training.order import count_examples, epoch_dataset  # noqa: E402
from artlib.training.replicas import check_batch_size  # noqa: E402
from artlib.training.result import TrainResult  # noqa: E402
from artlib.training.rundir import RunDir  # noqa: E402
from artlib.training.strategy import worker_run_dir  # noqa: E402

__all__ = ["NaNGuard", "BackupAndRestore", "callbacks", "fit"]


class NaNGuard(keras.callbacks.Callback):
    """Stop ``fit`` with a :class:`NonFiniteLossError` when a logged value (or, at an epoch's end, a weight) is not finite.

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
                                         f"{where}. The last backup (if any) is kept. {DEFAULT_HINT}")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._check(logs, f"batch {batch + 1}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._check(logs, "at its end")
        for variable in self.model.weights:  # NaN weights can hide behind finite losses (a fused conv + ReLU)
            value = np.asarray(variable.numpy() if hasattr(variable, "numpy") else variable)
            if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
                self.model.stop_training = True
                raise NonFiniteLossError(f"weight {variable.path} became NaN or Inf in epoch {epoch + 1} (its losses "
                                         f"were finite); that epoch is not backed up: the last backup (if any) is "
                                         f"kept. {DEFAULT_HINT}")


class BackupAndRestore(keras.callbacks.Callback):
    """Back up model, optimizer, epoch and the model's random-number state after every epoch.

    A ``fit`` called again after an interruption (Ctrl-C, a killed kernel, a
    NaN) restores the newest readable backup and continues at the epoch after
    it. The backup stays when ``fit`` completes (Keras's own callback deletes
    it): called again with as many epochs, ``fit`` loads the finished model and
    trains nothing — a notebook run a second time does not train again (a plain
    ``model.fit`` with this callback trains no epoch either, silently) — and with
    more it goes on from there: exactly as one longer run where nothing depends on
    the number of epochs (not a learning-rate schedule that spans them). Every file is written atomically and
    ``backup.json`` last, so a kill mid-save leaves the previous backup whole;
    an unreadable newest backup is skipped with a warning.

    Args:
        backup_dir: The folder for the backup (used by nothing else).

    Example::

        backup = BackupAndRestore("runs/ae/backup")
        first_epoch = backup.restore(model)    # 0 for a new run; fit then starts there
    """

    STATE_FILE = "backup.json"

    def __init__(self, backup_dir: str | Path) -> None:
        super().__init__()
        self.backup_dir = Path(backup_dir)
        self.restored_epoch: int | None = None

    def _entries(self) -> list[dict[str, Any]]:
        """The backups ``backup.json`` names, newest first (none without the file)."""
        path = self.backup_dir / self.STATE_FILE
        if not path.is_file():
            return []
        try:
            return list(json.loads(path.read_text())["backups"])
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
            raise CheckpointError(f"{path} is damaged ({err}); delete {self.backup_dir} to start over") from err

    def restore(self, model: keras.Model) -> int:
        """Load the newest readable backup into ``model`` (weights, optimizer, RNG state).

        Args:
            model: The compiled model ``fit`` will train, built (called once or made with an ``Input``).

        Returns:
            The epochs the backup had finished: where ``fit`` goes on (0 with no backup).

        Raises:
            CheckpointError: The model is not built, or no backup could be read.
        """
        entries, problems = self._entries(), []
        orphans = sorted(p.name for p in self.backup_dir.glob("epoch-*.weights.h5"))
        if not entries and set(orphans) - {"epoch-1.weights.h5"}:  # epoch 1's alone: a kill inside the first save
            raise CheckpointError(f"{self.backup_dir} holds {', '.join(orphans)} but not {self.STATE_FILE}, which "
                                  "names them with their random-number state (deleted?), so the run cannot go on "
                                  f"exactly; delete {self.backup_dir} to start over")
        self.restored_epoch = 0
        if entries and not model.built:
            raise CheckpointError(f"{self.backup_dir} holds a backup, but the model is not built: call it "
                                  "on a batch (or give it an Input) before training so it can be restored")
        for entry in entries:
            weights = self.backup_dir / entry["weights"]
            try:
                if model.optimizer is not None and not model.optimizer.built:
                    with model.distribute_strategy.scope():
                        model.optimizer.build(model.trainable_variables)
                model.load_weights(weights)
            except (OSError, ValueError) as err:
                problems.append(f"{weights} ({type(err).__name__}: {first_line(err)})")
                continue
            for variable, value in zip(seed_states(model), entry["seed_states"]):
                variable.assign(np.asarray(value, dtype=variable.dtype))
            if problems:  # said once it is known that an older one did the job (else the error says it all)
                warnings.warn(f"backup {' and '.join(problems)} cannot be read; resuming from the older {weights}",
                              RuntimeWarning, stacklevel=2)
            self.restored_epoch = int(entry["epoch"])
            return self.restored_epoch
        if problems:
            raise CheckpointError(f"no backup in {self.backup_dir} could be read ({'; '.join(problems)}); delete "
                                  f"{self.backup_dir} to start over")
        return 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.restored_epoch is None:  # a plain model.fit; artlib's fit restored before building the data
            self.restore(self.model)
        if self.restored_epoch:
            self.model._initial_epoch = self.restored_epoch  # how fit learns where to start (Keras's own hook)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch + 1}.weights.h5"
        tmp = self.backup_dir / f".tmp-{name}"  # Keras wants the name to end in .weights.h5
        self.model.save_weights(tmp, overwrite=True)
        os.replace(tmp, self.backup_dir / name)
        entries = [{"epoch": epoch + 1, "weights": name,
                    "seed_states": [v.numpy().tolist() for v in seed_states(self.model)]},
                   *[e for e in self._entries() if e["weights"] != name]][:2]
        atomic_write_text(self.backup_dir / self.STATE_FILE, json.dumps({"backups": entries}))
        kept = {e["weights"] for e in entries}
        for old in self.backup_dir.glob("epoch-*.weights.h5"):
            if old.name not in kept:
                old.unlink()

    def on_train_end(self, logs: dict | None = None) -> None:
        self.restored_epoch = None  # the backup stays: the finished run, to load or to go on from


class _HistoryFile(keras.callbacks.Callback):
    """Merge each finished epoch's logs into ``history.json`` (before the backup, so a redone epoch replaces it)."""

    def __init__(self, run: RunDir) -> None:
        super().__init__()
        self.run = run
        self.history: dict[str, list[float]] = {"epoch": []}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.history["epoch"].append(epoch + 1)
        for name, value in (logs or {}).items():
            if np.ndim(value) == 0:
                self.history.setdefault(name, [None] * (len(self.history["epoch"]) - 1)).append(float(value))
        self.run.merge_history(self.history, key="epoch")


def callbacks(run_dir: str | Path, *, tensorboard: bool = True, backup: bool = True,
              nan_guard: bool = True) -> list[keras.callbacks.Callback]:
    """The callbacks that give ``model.fit`` the same services as :func:`~artlib.training.train_loop`.

    :class:`BackupAndRestore` saves weights, optimizer, epoch and the model's
    random-number state at the end of each epoch in ``run_dir/backup``
    (keeping the previous one too); calling ``fit`` again after an
    interruption continues from the last finished epoch (the backup stays when
    ``fit`` completes, as the finished run: the same ``model.fit`` again loads it and trains no epoch).
    It does not save the shuffle order, so with
    a plain ``model.fit`` resume is bitwise exact only for data whose order does
    not depend on how many epochs ran in this process (``shuffle=False`` on
    arrays, or :func:`~artlib.training.epoch_dataset`); :func:`fit` sees to that.

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


_OWN = ("x", "y", "epochs", "initial_epoch", "steps_per_epoch", "batch_size", "shuffle", "callbacks")


def fit(model: keras.Model, data: Any, *, num_epochs: int, batch_size: int, seed: int = 0,
        run_dir: str | Path | None = None, steps_per_epoch: int | None = None,
        map_fn: Callable[[Any, tf.Tensor], Any] | None = None, settings: dict[str, Any] | None = None,
        extra_callbacks: Sequence[keras.callbacks.Callback] = (), verbose: int | str = "auto",
        **fit_kwargs: Any) -> TrainResult:
    """Train a compiled model with ``fit`` on arrays, resuming exactly from the backup in ``run_dir``.

    Epoch e sees the examples in the order :func:`~artlib.training.epoch_order` ``(seed, e)``,
    mapped by ``map_fn``; called again after an interruption, it restores the
    newest backup and starts the data at the next epoch, so it ends with exactly
    the weights of an uninterrupted run (given the same arguments).

    Args:
        model: A compiled ``keras.Model`` (built and compiled under
            :func:`~artlib.training.get_strategy`'s scope); trained in place, under its strategy
            (Keras splits each batch over the replicas and sums the gradients: a custom
            ``train_step`` scales its loss with :func:`~artlib.training.scale_loss`).
        data: An array, or a tuple/dict of arrays, with the examples along axis 0.
        num_epochs: Epochs in all (a resumed call trains only the missing ones).
        batch_size: Examples per step.
        seed: Fixes each epoch's order (and the ``seed`` given to ``map_fn``).
        run_dir: The run directory: ``backup/``, ``tensorboard/``, ``history.json``
            (per epoch, written as each ends, merged across calls), ``settings.json``. None: keep nothing,
            only the NaN guard.
        steps_per_epoch: Batches per epoch; default ``len(data) // batch_size``.
        map_fn: ``map_fn(batch, seed) -> x or (x, y)`` (see :func:`~artlib.training.epoch_dataset`),
            e.g. ``lambda clean, s: (add_noise(clean, s), clean)`` for a denoiser.
        settings: The recipe, checked against and written to ``settings.json``.
        extra_callbacks: More callbacks, after the shared ones.
        verbose: ``fit``'s verbosity (``"auto"``: one line per epoch; 0 under CI).
        **fit_kwargs: More ``model.fit`` arguments (``validation_data``, ``validation_batch_size`` …).

    Returns:
        A :class:`~artlib.training.TrainResult`: this call's history per epoch
        (``{"epoch": [...], "loss": [...], ...}``), ``final_step`` = the epoch reached (``num_epochs``
        unless a callback stopped it early; a run already past ``num_epochs`` trains nothing and
        reports the epoch its backup holds).

    Raises:
        ArtlibError: An uncompiled model, a size below 1, fewer examples than one batch, a
            ``batch_size`` that does not split evenly over the replicas of the model's strategy,
            or a ``fit`` argument that this function sets itself.
        CheckpointError: ``run_dir`` holds other settings or an unreadable backup, or another
            training (another process) is using it: refused at once, naming its pid and host
            (the lock is held for the whole call; see :func:`~artlib.training.run_lock`).
        NonFiniteLossError: A loss became NaN or Inf (the last backup is kept).
    """
    seed = seed_value(seed)
    started = time.perf_counter()
    if clash := sorted(set(fit_kwargs) & set(_OWN)):
        raise ArtlibError(f"fit sets {', '.join(clash)} itself; use num_epochs, batch_size and steps_per_epoch")
    if not model.compiled:
        raise ArtlibError(f"compile {model.name} (optimizer and loss) before training it with fit")
    for name, value in (("num_epochs", num_epochs), ("batch_size", batch_size)):
        positive_int(value, name)
    # Keras splits each batch over the replicas of the strategy the model was built in.
    check_batch_size(batch_size, replicas=model.distribute_strategy.num_replicas_in_sync)
    if steps_per_epoch is None:
        steps_per_epoch = count_examples(data) // batch_size
        if steps_per_epoch == 0:
            raise ArtlibError(f"data holds {count_examples(data)} examples, fewer than one batch of {batch_size}")
    if run_dir is not None:
        run_dir = worker_run_dir(run_dir)  # a non-chief worker of a multi-worker run writes its own copy
    lock = run_lock(run_dir) if run_dir is not None else nullcontext()
    with lock:  # one training at a time in a folder (CheckpointError for a second)
        run = RunDir(run_dir) if run_dir is not None else None
        if run is not None and settings is not None:
            run.write_settings(settings)
        chosen = callbacks(run.path) if run is not None else [NaNGuard()]
        if run is not None:
            chosen.insert(len(chosen) - 1, _HistoryFile(run))  # before BackupAndRestore
        backups = [c for c in chosen if isinstance(c, BackupAndRestore)]
        first_epoch = backups[0].restore(model) if backups else 0
        if verbose == "auto":
            verbose = 0 if config.is_ci() else 2
        if first_epoch >= num_epochs:  # a finished run (or one past what is asked): its weights are loaded
            if verbose and first_epoch == num_epochs:
                print(f"{run.path} has finished its {num_epochs} epoch{'s' if num_epochs > 1 else ''}: loaded from "
                      "its backup, nothing to train (ask for more epochs to go on).")
            elif verbose:
                print(f"{run.path} is at epoch {first_epoch}, past the {num_epochs} asked for: nothing to train "
                      f"(its backup stays at epoch {first_epoch}).")
            backups[0].restored_epoch = None
            empty = {name: [] for name in run.read_history()} | {"epoch": []}  # result["loss"] == [], as the run logs
            return TrainResult(history=empty, final_step=first_epoch, seconds=time.perf_counter() - started,
                               run_dir=run.path)
        dataset = epoch_dataset(data, batch_size, seed=seed, num_epochs=num_epochs, steps_per_epoch=steps_per_epoch,
                                first_epoch=first_epoch, map_fn=map_fn)
        if verbose and first_epoch:  # as train_loop says it (fit's own lines start at "Epoch N/M", unexplained)
            print(f"Resuming from {backups[0].backup_dir} (epoch {first_epoch} of {num_epochs}).")
        elif verbose and run is not None and run.read_history().get("epoch"):
            print(f"{run.path} holds a history but no backup to resume from (deleted by hand, or by an older "
                  "artlib when the run finished): training from the first epoch again.")
        keras_history = model.fit(dataset, epochs=num_epochs, initial_epoch=first_epoch,
                                  steps_per_epoch=steps_per_epoch, shuffle=False, verbose=verbose,
                                  callbacks=[*chosen, *extra_callbacks], **fit_kwargs)
        values = {name: [float(v) for v in series] for name, series in keras_history.history.items()}
        done = len(next(iter(values.values()), []))  # epochs this call trained
        history = {"epoch": list(range(first_epoch + 1, first_epoch + 1 + done)), **values}
        return TrainResult(history=history, final_step=first_epoch + done,
                           seconds=time.perf_counter() - started, run_dir=None if run is None else run.path)
